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
	"strings"
	"sync"
	"testing"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/host/inspect"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// forkGuest builds host/testdata/forkguest once.
var forkGuest = sync.OnceValues(func() (string, error) {
	return guestbuild.Go(filepath.Dir(cacheDir), "github.com/wasmpool/wasmpool/host/testdata/forkguest")
})

// outputs collects each part's stdout, attempt by attempt: a retry
// starts a new buffer, as Stdout's contract asks.
type outputs struct {
	mu       sync.Mutex
	bufs     map[int]*bytes.Buffer
	attempts map[int]int
}

func (o *outputs) stdout(part int) (io.Writer, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.bufs == nil {
		o.bufs, o.attempts = map[int]*bytes.Buffer{}, map[int]int{}
	}
	o.bufs[part] = &bytes.Buffer{}
	o.attempts[part]++
	return o.bufs[part], nil
}

func (o *outputs) get(part int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b := o.bufs[part]; b != nil {
		return b.String()
	}
	return ""
}

// forkJoin runs the fork guest with args over parts; it checks that no
// kid is left when ForkJoin returns (not a moment later).
func forkJoin(t *testing.T, ctx context.Context, cfg host.Config, parts []host.Range, opts host.ForkJoinOptions, args ...string) ([]host.PartResult, error) {
	t.Helper()
	guest, err := forkGuest()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Module, cfg.CacheDir, cfg.Args = guest, cacheDir, args
	if cfg.Stderr == nil {
		cfg.Stderr = &testWriter{t: t}
	}
	res, err := host.ForkJoin(ctx, cfg, parts, opts)
	checkNoKids(t)
	return res, err
}

func TestForkJoin(t *testing.T) {
	var o outputs
	var mu sync.Mutex
	started, ended, most := 0, 0, 0
	var order []int
	opts := host.ForkJoinOptions{
		Stdout: func(part int) (io.Writer, error) {
			mu.Lock()
			started++
			most = max(most, started-ended)
			mu.Unlock()
			return o.stdout(part)
		},
		Done: func(part int, r host.PartResult) {
			mu.Lock()
			ended++
			order = append(order, part)
			mu.Unlock()
		},
	}
	parts := host.NSplit(100, 5)
	res, err := forkJoin(t, context.Background(), host.Config{Kids: 2}, parts, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		want := fmt.Sprintf("part=%d lo=%d hi=%d parts=5\n", i, parts[i].Lo, parts[i].Hi)
		if got := o.get(i); got != want || r.Err != nil || r.ExitCode != 0 || r.Attempts != 1 || r.Range != parts[i] || r.Output != int64(len(want)) {
			t.Errorf("part %d: %+v, output %q, want %q", i, r, got, want)
		}
	}
	if most > 2 {
		t.Errorf("%d parts ran at once with Kids 2", most)
	}
	if slices.Sort(order); !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
		t.Errorf("Done called for parts %v", order)
	}
}

// TestForkJoinStdio feeds each part its own input, larger than a pipe,
// and writes its output to a file.
func TestForkJoinStdio(t *testing.T) {
	dir := t.TempDir()
	inputs := make([][]byte, 3)
	for i := range inputs {
		inputs[i] = bytes.Repeat([]byte(fmt.Sprintf("part %d line\n", i)), 100_000+i)
	}
	var mu sync.Mutex
	var files []*os.File
	opts := host.ForkJoinOptions{
		Stdin: func(part int) io.Reader { return bytes.NewReader(inputs[part]) },
		Stdout: func(part int) (io.Writer, error) {
			f, err := os.Create(filepath.Join(dir, fmt.Sprint(part)))
			mu.Lock()
			files = append(files, f)
			mu.Unlock()
			return f, err
		},
	}
	_, err := forkJoin(t, context.Background(), host.Config{Kids: 2}, host.NSplit(3, 3), opts, "-cat")
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if got, _ := os.ReadFile(filepath.Join(dir, fmt.Sprint(i))); !bytes.Equal(got, in) {
			t.Errorf("part %d: %d bytes out, %d in", i, len(got), len(in))
		}
	}
	// no Stdin: an empty one
	var o outputs
	if _, err := forkJoin(t, context.Background(), host.Config{Kids: 1}, host.NSplit(1, 1), host.ForkJoinOptions{Stdout: o.stdout}, "-cat"); err != nil || o.get(0) != "" {
		t.Errorf("no Stdin: %v, output %q", err, o.get(0))
	}
}

func TestForkJoinGuestArgs(t *testing.T) {
	var o outputs
	_, err := forkJoin(t, context.Background(), host.Config{Kids: 1}, host.NSplit(10, 2), host.ForkJoinOptions{Stdout: o.stdout}, "-args", "x", "two words")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.get(1); got != "x two words\n" {
		t.Errorf("guest args: %q", got)
	}
}

func TestForkJoinFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		line string
	}{
		{"exit", []string{"-fail", "2:3"}, 3, "forkguest: part 2 fails with 3"},
		{"panic", []string{"-panic", "2"}, 2, "panic: part 2 panics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outputs
			var stderr bytes.Buffer
			res, err := forkJoin(t, context.Background(), host.Config{Kids: 2, Retries: -1, Stderr: &stderr}, host.NSplit(40, 4), host.ForkJoinOptions{Stdout: o.stdout}, tc.args...)
			var pe *host.PartError
			var ke *host.KidError
			if !errors.As(err, &pe) || pe.Part != 2 || !errors.As(err, &ke) || ke.ExitCode != tc.code {
				t.Fatalf("err = %v, want part 2's exit %d", err, tc.code)
			}
			for i, r := range res {
				if (i == 2) != (r.Err != nil) || r.Attempts != 1 {
					t.Errorf("part %d: %+v", i, r)
				}
			}
			if r := res[2]; r.ExitCode != tc.code || !slices.Contains(r.Stderr, tc.line) || ke.Stderr == nil {
				t.Errorf("part 2: exit %d, stderr %q", r.ExitCode, r.Stderr)
			}
			if !strings.Contains(stderr.String(), "part 2: "+tc.line+"\n") {
				t.Errorf("stderr lines not prefixed with the part:\n%s", stderr.String())
			}
		})
	}
}

// TestForkJoinRetry: every part fails on its first attempt, and succeeds
// on its retry; each attempt gets a fresh writer.
func TestForkJoinRetry(t *testing.T) {
	state := t.TempDir()
	var o outputs
	res, err := forkJoin(t, context.Background(), host.Config{Kids: 2, Dirs: []host.Dir{{Host: state, Guest: "/state"}}},
		host.NSplit(30, 3), host.ForkJoinOptions{Stdout: o.stdout}, "-flaky", "/state", "-seq")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Attempts != 2 || o.attempts[i] != 2 || r.Err != nil {
			t.Errorf("part %d: %+v, %d writers", i, r, o.attempts[i])
		}
		if got := strings.Count(o.get(i), "\n"); got != 10 {
			t.Errorf("part %d: %d lines, want 10", i, got)
		}
	}
	// with retries off, the first failure is the part's
	os.RemoveAll(state)
	os.Mkdir(state, 0o755)
	res, err = forkJoin(t, context.Background(), host.Config{Kids: 2, Retries: -1, Dirs: []host.Dir{{Host: state, Guest: "/state"}}},
		host.NSplit(30, 3), host.ForkJoinOptions{}, "-flaky", "/state")
	var ke *host.KidError
	if !errors.As(err, &ke) || ke.ExitCode != 3 || res[0].Attempts != 1 {
		t.Errorf("no retries: %v, %+v", err, res[0])
	}
}

// TestForkJoinTimeout: a part that sleeps forever is killed at the
// timeout and not retried.
func TestForkJoinTimeout(t *testing.T) {
	res, err := forkJoin(t, context.Background(), host.Config{Kids: 1, Timeout: 300e6, Retries: 3}, host.NSplit(1, 1), host.ForkJoinOptions{}, "-sleep", "0:forever")
	var ke *host.KidError
	if !errors.Is(err, host.ErrTimeout) || !errors.As(err, &ke) || ke.Signal != "SIGKILL" || res[0].Attempts != 1 {
		t.Errorf("err = %v, result %+v", err, res[0])
	}
}

// TestForkJoinFailFast: part 0 fails while part 1 sleeps forever; part 1
// is stopped and parts 2 and 3 never start.
func TestForkJoinFailFast(t *testing.T) {
	res, err := forkJoin(t, context.Background(), host.Config{Kids: 2, Retries: -1}, host.NSplit(4, 4), host.ForkJoinOptions{FailFast: true},
		"-fail", "0:5", "-sleep", "1:forever")
	var pe *host.PartError
	if !errors.As(err, &pe) || pe.Part != 0 {
		t.Fatalf("err = %v, want part 0's", err)
	}
	for i, r := range res[1:] {
		if !errors.Is(r.Err, host.ErrPartStopped) {
			t.Errorf("part %d: %v, want ErrPartStopped", i+1, r.Err)
		}
	}
	if res[1].Attempts != 1 || res[2].Attempts != 0 || res[3].Attempts != 0 {
		t.Errorf("attempts %d %d %d, want 1 0 0", res[1].Attempts, res[2].Attempts, res[3].Attempts)
	}
}

// TestForkJoinCancel cancels the context once part 0 is done, while part
// 1 sleeps: it is killed, part 2 never runs, every kid is reaped.
func TestForkJoinCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := host.ForkJoinOptions{Done: func(part int, r host.PartResult) {
		if part == 0 {
			cancel()
		}
	}}
	res, err := forkJoin(t, ctx, host.Config{Kids: 2}, host.NSplit(3, 3), opts, "-sleep", "1:forever")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res[0].Err != nil || !errors.Is(res[1].Err, context.Canceled) || !errors.Is(res[2].Err, context.Canceled) || res[2].Attempts != 0 {
		t.Errorf("results %+v", res)
	}
	// cancelled before it starts
	if _, err := forkJoin(t, ctx, host.Config{Kids: 2}, host.NSplit(3, 3), host.ForkJoinOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}
}

// TestForkJoinPanic: a Done that panics gets its panic back, with every
// kid reaped.
func TestForkJoinPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v", r)
		}
		checkNoKids(t)
	}()
	opts := host.ForkJoinOptions{Done: func(int, host.PartResult) { panic("boom") }}
	forkJoin(t, context.Background(), host.Config{Kids: 2}, host.NSplit(2, 2), opts, "-sleep", "1:forever")
}

func TestForkJoinOutputErrors(t *testing.T) {
	bad := errors.New("disk full")
	opts := host.ForkJoinOptions{Stdout: func(part int) (io.Writer, error) {
		if part == 1 {
			return nil, bad
		}
		return failWriter{bad}, nil
	}}
	res, err := forkJoin(t, context.Background(), host.Config{Kids: 2}, host.NSplit(2000, 2), opts, "-seq")
	if !errors.Is(err, bad) || !errors.Is(res[0].Err, bad) || !errors.Is(res[1].Err, bad) || res[0].Attempts != 1 || res[1].Attempts != 0 {
		t.Errorf("err = %v, results %+v", err, res)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestForkJoinConfig(t *testing.T) {
	for name, cfg := range map[string]host.Config{
		"env":     {Env: []string{"WASMPOOL_PART=3"}},
		"command": {Command: []string{"/bin/true"}},
		"kids":    {Kids: -1},
	} {
		if name == "command" {
			if _, err := host.ForkJoin(context.Background(), cfg, host.NSplit(1, 1), host.ForkJoinOptions{}); !errors.Is(err, host.ErrConfig) {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if _, err := forkJoin(t, context.Background(), cfg, host.NSplit(1, 1), host.ForkJoinOptions{}); !errors.Is(err, host.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := forkJoin(t, context.Background(), host.Config{}, []host.Range{{Lo: 2, Hi: 1}}, host.ForkJoinOptions{}); !errors.Is(err, host.ErrConfig) {
		t.Errorf("a reversed range: %v", err)
	}
	// the memory limit is the pool's: a Go guest needs more than 1 MiB
	if _, err := forkJoin(t, context.Background(), host.Config{MemoryLimit: 1 << 20}, host.NSplit(1, 1), host.ForkJoinOptions{}); !errors.Is(err, host.ErrModule) {
		t.Errorf("MemoryLimit 1 MiB: %v", err)
	}
	// no parts: nothing to do
	if res, err := forkJoin(t, context.Background(), host.Config{}, nil, host.ForkJoinOptions{}); err != nil || len(res) != 0 {
		t.Errorf("no parts: %v, %v", res, err)
	}
}

// TestForkJoinBesideRun runs a fork-join in the middle of a pool's run:
// the run's replies are all there, and the fork-join's too.
func TestForkJoinBesideRun(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Ordered}, "echo")
	reqs := lines(200, 7)
	i := 0
	for r, err := range p.Run(context.Background(), slices.Values(reqs)) {
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Data, reqs[i]) {
			t.Fatalf("reply %d: %q, want %q", i, r.Data, reqs[i])
		}
		if i == 100 {
			var o outputs
			guest, _ := forkGuest()
			if _, err := host.ForkJoin(context.Background(), host.Config{Module: guest, CacheDir: cacheDir, Kids: 2, Stderr: io.Discard}, host.NSplit(2, 2), host.ForkJoinOptions{Stdout: o.stdout}); err != nil {
				t.Fatal(err)
			}
			if o.get(1) != "part=1 lo=1 hi=2 parts=2\n" {
				t.Errorf("fork-join output %q", o.get(1))
			}
		}
		i++
	}
	if i != len(reqs) {
		t.Errorf("%d replies, want %d", i, len(reqs))
	}
}

// TestForkJoinSection: the grants a module's wasmpool section declares it
// needs are checked as New checks them.
func TestForkJoinSection(t *testing.T) {
	guest, err := forkGuest()
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(guest)
	if err != nil {
		t.Fatal(err)
	}
	described, err := inspect.SetModuleSection(code, []byte("dir /state rw\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := host.Config{ModuleBytes: described, CacheDir: cacheDir, Kids: 1, Stderr: io.Discard}
	var ge *host.GrantError
	if _, err := host.ForkJoin(context.Background(), cfg, host.NSplit(1, 1), host.ForkJoinOptions{}); !errors.As(err, &ge) {
		t.Errorf("no grant for the section's /state: %v", err)
	}
	cfg.Dirs = []host.Dir{{Host: t.TempDir(), Guest: "/state"}}
	if _, err := host.ForkJoin(context.Background(), cfg, host.NSplit(1, 1), host.ForkJoinOptions{}); err != nil {
		t.Errorf("granted: %v", err)
	}
	checkNoKids(t)
}
