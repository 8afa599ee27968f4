package conformance

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/abi"
)

// TestMaxFrame sends frames of exactly abi.DefaultMaxFrame bytes (accepted)
// and one byte more (refused) to the echo guests of the other languages
// (package frames tests the Go reference). It moves a few hundred MB
// through each guest: skipped with -short.
func TestMaxFrame(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 64 MiB frames")
	}
	big := bytes.Repeat([]byte("m"), abi.DefaultMaxFrame+1)
	cases := []struct {
		name    string
		framing string
		in      []byte
		ok      bool
	}{
		{"lines-max", "lines", append(big[:abi.DefaultMaxFrame:abi.DefaultMaxFrame], '\n'), true},
		{"lines-over", "lines", append(big[:len(big):len(big)], '\n'), false},
		{"lines-over-unterminated", "lines", big, false},
		{"lenpfx-max", "lenpfx", append(binary.LittleEndian.AppendUint64(nil, abi.DefaultMaxFrame), big[:abi.DefaultMaxFrame]...), true},
	}
	for _, l := range langs {
		if l.name == "go" {
			continue
		}
		t.Run(l.name, func(t *testing.T) {
			mod := compiledGuest(t, l.name+"/echo")
			for _, c := range cases {
				r := run(mod, []string{c.framing}, bytes.NewReader(c.in), nil)
				switch {
				case c.ok && (r.code != 0 || !bytes.Equal(r.stdout, c.in)):
					t.Errorf("%s: %v", c.name, r)
				case !c.ok && (r.code != 1 || !strings.Contains(string(r.stderr), "too large")):
					t.Errorf("%s: %v", c.name, r)
				}
			}
		})
	}
}
