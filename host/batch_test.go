package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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

// TestBatchKidsStayUpBetweenRuns: a batch pool's kids serve the next run
// without starting again, and a run while one goes on is ErrBusy.
func TestBatchKidsStayUpBetweenRuns(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances}, "echo")
	reqs := lines(2000, 3)
	kids := func() string {
		var pids []string
		tasks, _ := filepath.Glob("/proc/self/task/*/children")
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			pids = append(pids, strings.Fields(string(b))...)
		}
		slices.Sort(pids)
		return strings.Join(pids, " ")
	}
	var before string
	for run := range 3 {
		var got int
		for r, err := range p.Run(context.Background(), slices.Values(reqs)) {
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			if string(r.Data) != string(reqs[got]) {
				t.Fatalf("run %d: reply %d is %q, want %q", run, got, r.Data, reqs[got])
			}
			got++
			if run == 1 && got == 1 {
				for _, err := range p.Run(context.Background(), slices.Values(reqs)) {
					if !errors.Is(err, host.ErrBusy) {
						t.Errorf("a Run inside a Run: %v, want ErrBusy", err)
					}
				}
			}
		}
		if got != len(reqs) {
			t.Fatalf("run %d: %d replies", run, got)
		}
		if run == 0 {
			before = kids()
		} else if now := kids(); now != before || now == "" {
			t.Errorf("run %d: kids %q, after the first run %q", run, now, before)
		}
	}
}
