package host_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// TestBatchEcho runs the echo guest in fresh instances per batch in each
// mode and checks every reply comes once, in order where the mode says:
// in small batches, and in the default ones, whose input and result
// buffers are used again for later batches.
func TestBatchEcho(t *testing.T) {
	for _, mode := range []host.Mode{host.Stream, host.Tagged, host.Ordered, host.Keep} {
		for _, size := range []int{4 << 10, 0} {
			t.Run(fmt.Sprintf("%v/batch=%d", mode, size), func(t *testing.T) {
				p := newPool(t, host.Config{Mode: mode, Instances: host.BatchInstances, BatchSize: size}, "echo")
				reqs := lines(40000, 9)
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
				if s, least := p.Stats(), fewestBatches(reqs, size); s.Batches < least {
					t.Errorf("%d batches, want at least %d", s.Batches, least)
				}
			})
		}
	}
}

// fewestBatches is how many batches Run cuts from reqs (lines framing)
// at least, when each batch fills up: size each (and one frame more at
// most), or with size 0 64 KiB first, doubling up to 4 MiB
// (Config.BatchSize). More come when the kids take batches faster than
// the requests arrive.
func fewestBatches(reqs [][]byte, size int) int {
	total, longest := 0, 0
	for _, r := range reqs {
		total += len(r) + 1
		longest = max(longest, len(r)+1)
	}
	grow := size == 0
	if grow {
		size = 64 << 10
	}
	n := 0
	for cut := 0; cut < total; n++ {
		cut += size + longest
		if grow {
			size = min(2*size, 4<<20)
		}
	}
	return n
}

// TestKidsStayUpBetweenRuns: a pool's kids serve the next run without
// starting again, batch kids and session kids of an SDK guest alike, in
// each mode, and a run while one goes on is ErrBusy.
func TestKidsStayUpBetweenRuns(t *testing.T) {
	for _, tc := range []struct {
		inst host.Instances
		mode host.Mode
	}{{host.BatchInstances, host.Keep}, {host.SessionInstances, host.Ordered}, {host.SessionInstances, host.Stream}, {host.SessionInstances, host.Tagged}} {
		t.Run(tc.inst.String()+"/"+tc.mode.String(), func(t *testing.T) {
			p := newPool(t, host.Config{Mode: tc.mode, Instances: tc.inst}, "echo")
			reqs := lines(2000, 3)
			var before string
			for run := range 3 {
				var got []string
				for r, err := range p.Run(context.Background(), slices.Values(reqs)) {
					if err != nil {
						t.Fatalf("run %d: %v", run, err)
					}
					got = append(got, string(r.Data))
					if run == 1 && len(got) == 1 {
						for _, err := range p.Run(context.Background(), slices.Values(reqs)) {
							if !errors.Is(err, host.ErrBusy) {
								t.Errorf("a Run inside a Run: %v, want ErrBusy", err)
							}
						}
					}
				}
				want := make([]string, len(reqs))
				for i, r := range reqs {
					want[i] = string(r)
				}
				if tc.mode != host.Ordered && tc.mode != host.Keep {
					slices.Sort(got)
					slices.Sort(want)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("run %d: %d replies, want the %d requests back", run, len(got), len(reqs))
				}
				if run == 0 {
					before = childPids()
				} else if now := childPids(); now != before || now == "" {
					t.Errorf("run %d: kids %q, after the first run %q", run, now, before)
				}
			}
		})
	}
}

// childPids lists this process's children, sorted.
func childPids() string {
	var pids []string
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		pids = append(pids, strings.Fields(string(b))...)
	}
	slices.Sort(pids)
	return strings.Join(pids, " ")
}

// TestSessionKidsRecycled: MaxRequests still replaces a warm session kid.
func TestSessionKidsRecycled(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Ordered, Kids: 1, MaxRequests: 150}, "echo")
	var pids []string
	for range 3 {
		o := collect(t, p, lines(100, 4))
		if o.fatal != nil || len(o.replies) != 100 || len(o.kidErrs) > 0 {
			t.Fatalf("got %v, %d replies, kid errors %v", o.fatal, len(o.replies), o.kidErrs)
		}
		pids = append(pids, childPids())
	}
	if pids[0] == pids[2] {
		t.Errorf("the kid after 300 requests with MaxRequests 150 is the first one: %v", pids)
	}
}

// TestBatchTimeout: a record that loops forever in a batch instance is
// the only one to fail, with ErrTimeout, and the split starts where the
// guest was reading, so it costs a few timeouts, not one per halving.
func TestBatchTimeout(t *testing.T) {
	t.Parallel()
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances, Timeout: 500 * time.Millisecond, Kids: 2}, "loop")
	reqs := lines(5000, 5)
	reqs[3456] = []byte("!loop")
	start := time.Now()
	o := collect(t, p, reqs)
	if len(o.reqErrs) != 1 || o.reqErrs[0].Index != 3456 || !errors.Is(o.reqErrs[0], host.ErrTimeout) || o.fatal != nil {
		t.Fatalf("request errors %v, fatal %v; want request 3456 timed out alone", o.reqErrs, o.fatal)
	}
	if len(o.replies) != len(reqs)-1 {
		t.Fatalf("%d replies, want %d", len(o.replies), len(reqs)-1)
	}
	for i, r := range o.replies {
		want := i
		if i >= 3456 {
			want++
		}
		if string(r.Data) != string(reqs[want]) {
			t.Fatalf("reply %d is %q, want %q", i, r.Data, reqs[want])
		}
	}
	t.Logf("%d timeouts' worth: %v, %d batches, %d restarts", int(time.Since(start)/time.Second), time.Since(start).Round(time.Millisecond), p.Stats().Batches, p.Stats().Restarts)
}

// TestConfigErrors: a Config that cannot be run is refused by New with an
// error that wraps ErrConfig and names the field.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   host.Config
		field string
	}{
		{"env without =", host.Config{Env: []string{"NOVALUE"}}, "Env"},
		{"the pool's framing variable", host.Config{Env: []string{"WASMPOOL_FRAMES=zero"}}, "WASMPOOL_FRAMES"},
		{"keep in a session", host.Config{Mode: host.Keep, Instances: host.SessionInstances}, "Keep needs batch instances"},
		{"negative batch size", host.Config{BatchSize: -1}, "BatchSize"},
		{"unknown instances", host.Config{Instances: 9}, "Instances"},
		{"batch instances of a command", host.Config{Command: []string{"/bin/cat"}, Instances: host.BatchInstances}, "batch instances are for modules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Command == nil {
				cfg.Module = testGuest
			}
			cfg.CacheDir = cacheDir
			p, err := host.New(context.Background(), cfg)
			if err == nil {
				p.Close()
				t.Fatal("New accepted it")
			}
			if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q, want one wrapping ErrConfig that names %s", err, tc.field)
			}
		})
	}
}

// TestBreakOnLastReplyOfWarmRun: a consumer that stops at the last reply
// of a run, which the pool may hand on while it checks that its session
// kids are idle, gets Run back at once, and the kids are reaped.
func TestBreakOnLastReplyOfWarmRun(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Stream, Instances: host.SessionInstances}, "echo")
	reqs := lines(500, 8)
	done := make(chan int)
	go func() {
		n := 0
		for _, err := range p.Run(context.Background(), slices.Values(reqs)) {
			if err != nil {
				t.Error(err)
			}
			if n++; n == len(reqs) {
				break
			}
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != len(reqs) {
			t.Errorf("%d replies, want %d", n, len(reqs))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the consumer stopped at its last reply")
	}
}
