package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host"
)

// serveKidEnv makes the test binary serve as "wasmpool kid".
const serveKidEnv = "WASMPOOL_TEST_SERVE_KID"

// remoteCache is the cache of the kids behind loopRemote (see TestMain).
var remoteCache string

// loopRemote is a Remote whose transport is env(1) on this machine: the
// wire, the module cache and the bridge as over ssh, without sshd.
func loopRemote(t *testing.T, kids int, cache string) host.Remote {
	return host.Remote{Name: "loop", Kids: kids, Command: []string{"env"}, Wasmpool: farEnd(t, cache)}
}

// farEnd is what runs this test binary as "wasmpool kid" at the far end,
// with the given cache, marked with the test's name (see remoteProcs).
func farEnd(t *testing.T, cache string) []string {
	return []string{serveKidEnv + "=1", "XDG_CACHE_HOME=" + cache, "WASMPOOL_TEST_TAG=" + testTag(t), os.Args[0]}
}

// testTag is t's name as one shell word.
func testTag(t *testing.T) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
}

// TestRemoteLoop runs pools whose kids are all or half behind the wire,
// in session and batch instances, and checks the replies are those of
// local kids.
func TestRemoteLoop(t *testing.T) {
	reqs := lines(5000, 7)
	for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
		for _, mode := range []host.Mode{host.Stream, host.Ordered} {
			for _, local := range []int{0, 1} {
				t.Run(inst.String()+"/"+mode.String()+"/"+map[int]string{0: "all-remote", 1: "half"}[local], func(t *testing.T) {
					p := newPool(t, host.Config{Kids: local, Remotes: []host.Remote{loopRemote(t, 2-local, remoteCache)},
						Mode: mode, Instances: inst, BatchSize: 8 << 10}, "echo")
					checkSameReplies(t, p, reqs, mode == host.Ordered)
				})
			}
		}
	}
}

// TestRemoteKidKilled kills, mid-run, the process that runs the guest
// behind the wire, and then the relay in front of it: every request
// still ends in exactly one reply (retried on another kid), and no
// process is left.
func TestRemoteKidKilled(t *testing.T) {
	for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
		for _, depth := range []int{2, 1} { // 2: the guest's process; 1: the relay
			t.Run(fmt.Sprintf("%s/depth%d", inst, depth), func(t *testing.T) {
				p := newPool(t, host.Config{Remotes: []host.Remote{loopRemote(t, 2, remoteCache)},
					Mode: host.Ordered, Instances: inst, BatchSize: 4 << 10, Retries: 3}, "echo")
				checkFaultLosesNothing(t, p, lines(20000, 3), func() bool { return killRemote(t, depth) })
			})
		}
	}
}

// checkFaultLosesNothing runs reqs through p, an Ordered pool of the
// echo guest, and calls fault once the first 5000 are taken (until it
// says it struck, for up to 20 s), while the kids hold some: every
// request must still get its reply, once and in order, and no process
// may be left behind the remote kids.
func checkFaultLosesNothing(t *testing.T, p *host.Pool, reqs [][]byte, fault func() bool) {
	t.Helper()
	struck := false
	src := func(yield func([]byte) bool) {
		for i, r := range reqs {
			for i == 5000 && !struck {
				deadline := time.Now().Add(20 * time.Second)
				for !struck && time.Now().Before(deadline) {
					if struck = fault(); !struck {
						time.Sleep(10 * time.Millisecond)
					}
				}
				if !struck {
					break
				}
			}
			if !yield(r) {
				return
			}
		}
	}
	var got []string
	for r, err := range p.Run(context.Background(), src) {
		var ke *host.KidError
		if errors.As(err, &ke) {
			t.Logf("reported: %v", err)
			continue // the fault; its requests run again
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.Data))
	}
	if !struck {
		t.Fatal("the fault never struck")
	}
	p.Close()
	checkNoRemoteKids(t)
	if len(got) != len(reqs) {
		t.Fatalf("%d replies, want %d", len(got), len(reqs))
	}
	for i := range got {
		if got[i] != string(reqs[i]) {
			t.Fatalf("reply %d is %q, want %q", i, got[i], reqs[i])
		}
	}
}

// killRemote kills one process behind a remote kid of test t: with
// depth 1 the relay ("wasmpool kid"), with depth 2 the process it runs
// the guest in.
func killRemote(t *testing.T, depth int) bool {
	for _, pid := range remoteProcs(t, depth == 2) {
		t.Logf("killing pid %d, %d below the bridge", pid, depth)
		return syscall.Kill(pid, syscall.SIGKILL) == nil
	}
	return false
}

// remoteProcs returns the relays behind test t's remote kids, or the
// processes they run the guests in. They are told by their environment:
// both have t's tag (see farEnd); a guest's process also has its kid
// spec, muxed.
func remoteProcs(t *testing.T, guests bool) []int {
	var pids []int
	for pid, env := range tagged(t) {
		if bytes.Contains(env, []byte(`"muxed":true`)) == guests {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tagged returns the processes with t's tag in their environment, and
// that environment.
func tagged(t *testing.T) map[int][]byte {
	mark := []byte("WASMPOOL_TEST_TAG=" + testTag(t) + "\x00")
	found := map[int][]byte{}
	envs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, f := range envs {
		if env, err := os.ReadFile(f); err == nil && bytes.Contains(env, mark) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			found[pid] = env
		}
	}
	return found
}

// TestRemoteSpinningGuests runs guests that loop forever on one request, on
// remote kids only: the culprit is reported timed out as with local
// kids, the remote kid is killed through its connection, and nothing is
// left running behind it.
func TestRemoteSpinningGuests(t *testing.T) {
	runRemoteCulprits(t, []remoteCulprit{
		{"infinite loop", host.Config{Mode: host.Ordered, Timeout: 300 * time.Millisecond}, []string{"loop"}, 20},
		{"batch infinite loop", host.Config{Mode: host.Ordered, Instances: host.BatchInstances, Timeout: 300 * time.Millisecond}, []string{"loop"}, 20},
	})
}

// TestRemoteGuestFailures: a remote guest that exits or runs out of
// memory on one request fails that request alone, as a local one does.
func TestRemoteGuestFailures(t *testing.T) {
	runRemoteCulprits(t, []remoteCulprit{
		{"exit 3 mid-stream", host.Config{Mode: host.Ordered}, []string{"exit", "3"}, 60},
		{"memory bomb", host.Config{Mode: host.Ordered, MemoryLimit: 64 << 20}, []string{"grow"}, 50},
	})
}

// remoteCulprit is a guest that fails on request culprit of 100.
type remoteCulprit struct {
	name    string
	cfg     host.Config
	args    []string
	culprit int
}

func runRemoteCulprits(t *testing.T, cases []remoteCulprit) {
	t.Cleanup(func() { checkNoKids(t) }) // after every parallel subtest
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parallel[t.Name()] = true
			t.Parallel()
			tc.cfg.Remotes = []host.Remote{loopRemote(t, 2, remoteCache)}
			p := newPool(t, tc.cfg, tc.args...)
			reqs := requests(100, tc.culprit)
			o := collect(t, p, reqs)
			if o.fatal != nil {
				t.Fatalf("the run failed: %v", o.fatal)
			}
			accounted(t, reqs, o, true, false)
			if got := failedIndices(o); fmt.Sprint(got) != fmt.Sprint([]int{tc.culprit}) {
				t.Errorf("failed requests %v, want [%d] (%v)", got, tc.culprit, o.reqErrs)
			}
			p.Close()
			checkNoRemoteKids(t)
		})
	}
}

// checkNoRemoteKids fails if a process behind test t's remote kids
// outlives its pool by more than a few seconds.
func checkNoRemoteKids(t *testing.T) {
	t.Helper()
	var left []string
	for range 100 {
		left = left[:0]
		for pid := range tagged(t) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			left = append(left, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("processes left behind the remote kids: %q", left)
}

// TestRemoteMismatch: a far end that is not the same wasmpool is a
// clear error naming both versions, or saying wasmpool is not there.
func TestRemoteMismatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wasmpool []string
		want     []string
	}{
		{"other protocol", []string{"sh", "-c", "echo 'wasmpool-kid 99 v9.9.9'; cat >/dev/null"}, []string{"kid protocol 99", "v9.9.9", fmt.Sprintf("speaks %d", abi.Version)}},
		{"no wasmpool", []string{"/nonexistent/wasmpool"}, []string{"exit status 127", "no wasmpool on that machine's PATH"}},
		{"not a kid", []string{"echo", "hello"}, []string{`"hello kid" is not a wasmpool kid's greeting`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
				var stderr bytes.Buffer
				p := newPool(t, host.Config{Remotes: []host.Remote{{Command: []string{"env"}, Wasmpool: tc.wasmpool}},
					Instances: inst, Stderr: &lockedWriter{w: &stderr}}, "echo")
				var msgs []string
				for _, err := range p.Run(context.Background(), slices.Values(lines(10, 1))) {
					if err != nil {
						msgs = append(msgs, err.Error())
					}
				}
				p.Close()
				all := strings.Join(msgs, "\n") + "\n" + stderr.String()
				for _, w := range tc.want {
					if !strings.Contains(all, w) {
						t.Errorf("%s: no %q in what the pool said:\n%s", inst, w, all)
					}
				}
			}
		})
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRemoteUnreachable: kids on a machine that cannot be reached die
// at start; after a couple in a row its slots are left out and the kids
// here do the work, with nothing lost.
func TestRemoteUnreachable(t *testing.T) {
	down := host.Remote{Name: "downhost", Kids: 2, Command: []string{"sh", "-c", "echo 'ssh: connect to host downhost port 22: Connection refused' >&2; exit 255", "ssh"}}
	for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
		t.Run(inst.String(), func(t *testing.T) {
			var stderr bytes.Buffer
			p := newPool(t, host.Config{Kids: 1, Remotes: []host.Remote{down}, Mode: host.Ordered, Instances: inst,
				BatchSize: 4 << 10, Stderr: &lockedWriter{w: &stderr}}, "echo")
			reqs := lines(20000, 5)
			o := collect(t, p, reqs)
			if o.fatal != nil || len(o.reqErrs) > 0 {
				t.Fatalf("fatal %v, %d request errors", o.fatal, len(o.reqErrs))
			}
			if len(o.replies) != len(reqs) {
				t.Fatalf("%d replies, want %d", len(o.replies), len(reqs))
			}
			if n := len(o.kidErrs); n > 4 {
				t.Errorf("%d kid errors, want at most 4 (2 slots, left out after 2 each)", n)
			}
			for _, note := range []string{"kid 2: 2 kids in a row on downhost died", "kid 3: 2 kids in a row on downhost died", "Connection refused"} {
				if !strings.Contains(stderr.String(), note) {
					t.Errorf("no %q in the pool's notes:\n%s", note, stderr.String())
				}
			}
		})
	}
	t.Run("all down", func(t *testing.T) {
		p := newPool(t, host.Config{Remotes: []host.Remote{down}, Stderr: io.Discard}, "echo")
		o := collect(t, p, lines(100, 5))
		if !errors.Is(o.fatal, host.ErrKidsFailing) {
			t.Fatalf("the run ended with %v, want ErrKidsFailing (%d replies, %d request errors, %d kid errors)", o.fatal, len(o.replies), len(o.reqErrs), len(o.kidErrs))
		}
	})
}

// TestRemoteForkJoin runs fork-join parts on kids behind the wire: each
// part's output comes back whole.
func TestRemoteForkJoin(t *testing.T) {
	var o outputs
	parts := host.NSplit(100, 5)
	res, err := forkJoin(t, context.Background(), host.Config{Remotes: []host.Remote{loopRemote(t, 2, remoteCache)}},
		parts, host.ForkJoinOptions{Stdout: o.stdout})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		want := fmt.Sprintf("part=%d lo=%d hi=%d parts=5\n", i, parts[i].Lo, parts[i].Hi)
		if got := o.get(i); got != want || r.Err != nil || r.ExitCode != 0 {
			t.Errorf("part %d: %+v, output %q, want %q", i, r, got, want)
		}
	}
	checkNoRemoteKids(t)
}

// TestRemoteFromFile: from a regular file, the kid on this machine reads
// its batches from the file, and the pool sends the remote kid its
// batches' bytes: the output is the input, in order.
func TestRemoteFromFile(t *testing.T) {
	p := newPool(t, host.Config{Kids: 1, Remotes: []host.Remote{loopRemote(t, 1, remoteCache)},
		Mode: host.Keep, Instances: host.BatchInstances, BatchSize: 4 << 10}, "echo")
	input := append(bytes.Join(lines(20000, 4), []byte("\n")), '\n')
	var out bytes.Buffer
	for err := range p.Filter(context.Background(), &out, tempFile(t, input)) {
		t.Error(err)
	}
	if !bytes.Equal(out.Bytes(), input) {
		t.Errorf("%d bytes of output, want the %d of the input", out.Len(), len(input))
	}
	if s := p.Stats(); s.FileBatches == 0 || s.FileBatches == s.Batches || s.PerKid[1] == 0 {
		t.Errorf("%d batches, %d read from the file by the kid here, %d records to the remote kid: want both kinds", s.Batches, s.FileBatches, s.PerKid[1])
	}
}
