package host_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/host"
)

// TestBatchEcho runs the echo guest in fresh instances per batch in each
// mode and checks every reply comes once, in order where the mode says.
func TestBatchEcho(t *testing.T) {
	for _, mode := range []host.Mode{host.Stream, host.Tagged, host.Ordered, host.Keep} {
		t.Run(mode.String(), func(t *testing.T) {
			p := newPool(t, host.Config{Mode: mode, Instances: host.BatchInstances, BatchSize: 4 << 10}, "echo")
			reqs := lines(20000, 9)
			o := collect(t, p, reqs)
			if o.fatal != nil || len(o.reqErrs) > 0 || len(o.kidErrs) > 0 {
				t.Fatalf("fatal %v, %d request errors, %d kid errors", o.fatal, len(o.reqErrs), len(o.kidErrs))
			}
			var got []string
			for _, r := range o.replies {
				got = append(got, string(r.Data))
			}
			want := make([]string, len(reqs))
			for i, r := range reqs {
				want[i] = string(r)
			}
			if mode != host.Ordered && mode != host.Keep {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d replies, want %d; first %q", len(got), len(want), strings.Join(got[:min(3, len(got))], "|"))
			}
			if s := p.Stats(); s.Batches < 2 {
				t.Errorf("%d batches", s.Batches)
			}
		})
	}
}
