package conformance

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkLinelen runs every language's linelen over 200,000 lines of 1
// to 40 bytes in one process (in-process wazero, one big stdin buffer: the
// guest's own speed, not the pool's).
func BenchmarkLinelen(b *testing.B) {
	var in bytes.Buffer
	for i := range 200_000 {
		fmt.Fprintf(&in, "%s\n", bytes.Repeat([]byte("x"), 1+i%40))
	}
	for _, l := range langs {
		b.Run(l.name, func(b *testing.B) {
			mod := compiledGuest(b, l.name+"/linelen")
			b.SetBytes(int64(in.Len()))
			for b.Loop() {
				r := run(mod, nil, bytes.NewReader(in.Bytes()), nil)
				if r.code != 0 || r.err != nil {
					b.Fatal(r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200_000, "ns/line")
		})
	}
}
