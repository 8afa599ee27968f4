package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

var (
	testGuest string // host/testdata/testguest, built for wasip1
	cacheDir  string // shared by every pool of this test binary
)

func TestMain(m *testing.M) {
	if spec := os.Getenv("WASMPOOL_TEST_PARENT"); spec != "" {
		orphanParent(spec)
		return
	}
	if os.Getenv(serveKidEnv) != "" { // this binary is "wasmpool kid" (see remote_test.go)
		os.Exit(host.ServeKid())
	}
	dir, err := os.MkdirTemp("", "wasmpool-host-test-")
	if err != nil {
		panic(err)
	}
	cacheDir = filepath.Join(dir, "cache")
	remoteCache = filepath.Join(dir, "remote-cache")
	testGuest, err = guestbuild.Go(dir, "github.com/wasmpool/wasmpool/host/testdata/testguest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newPool starts a pool of the test guest; args follow the framing.
func newPool(t *testing.T, cfg host.Config, args ...string) *host.Pool {
	t.Helper()
	cfg.Module = testGuest
	cfg.CacheDir = cacheDir
	if cfg.Kids == 0 && cfg.Remotes == nil {
		cfg.Kids = 2
	}
	cfg.Args = append([]string{cfg.Framing.String()}, args...)
	if cfg.Stderr == nil {
		cfg.Stderr = &testWriter{t: t}
	}
	p, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	openPools.Lock()
	openPools.n[t]++
	openPools.Unlock()
	t.Cleanup(func() {
		p.Close()
		// Kids stay up between runs: check when the test's last pool closed.
		openPools.Lock()
		openPools.n[t]--
		last := openPools.n[t] == 0
		if last {
			delete(openPools.n, t)
		}
		openPools.Unlock()
		if last && !parallel[t.Name()] {
			checkNoKids(t)
		}
	})
	return p
}

// openPools counts each test's pools not closed yet (tests that run in
// parallel are checked by their parent, see parallel).
var openPools = struct {
	sync.Mutex
	n map[*testing.T]int
}{n: map[*testing.T]int{}}

// parallel names the tests that run beside others, whose children the
// check for left-over kids cannot tell apart: their parent test checks.
var parallel = map[string]bool{}

// testWriter logs guests' stderr lines through t.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// checkNoKids fails if this process has a child left, other than the
// servers of internal/remotetest that a test started.
func checkNoKids(t *testing.T) {
	t.Helper()
	for pid, exe := range children() {
		t.Errorf("child process left: %d %s", pid, exe)
	}
}

// children returns this process's child processes, pid to executable,
// but the servers of internal/remotetest.
func children() map[int]string {
	kids := map[int]string{}
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			exe, _ := os.Readlink("/proc/" + field + "/exe")
			switch name, _, _ := strings.Cut(filepath.Base(exe), "-"); name { // slurmd-wlm
			case "sshd", "munged", "slurmctld", "slurmd":
				continue
			}
			pid, _ := strconv.Atoi(field)
			kids[pid] = exe
		}
	}
	return kids
}

// outcome is what a run gave back.
type outcome struct {
	replies  []host.Reply // with Data copied
	kidErrs  []*host.KidError
	reqErrs  []*host.RequestError
	fatal    error
	requests int
}

func collect(t *testing.T, p *host.Pool, reqs [][]byte) outcome {
	t.Helper()
	return collectCtx(t, context.Background(), p, slices.Values(reqs))
}

func collectCtx(t *testing.T, ctx context.Context, p *host.Pool, reqs iter.Seq[[]byte]) outcome {
	t.Helper()
	var o outcome
	for r, err := range p.Run(ctx, reqs) {
		var ke *host.KidError
		var re *host.RequestError
		switch {
		case err == nil:
			r.Data = bytes.Clone(r.Data)
			o.replies = append(o.replies, r)
		case errors.As(err, &re):
			o.reqErrs = append(o.reqErrs, re)
		case errors.Is(err, host.ErrKidsFailing):
			o.fatal = err // it wraps the last KidError
		case errors.As(err, &ke):
			o.kidErrs = append(o.kidErrs, ke)
		default:
			if o.fatal != nil {
				t.Errorf("a second final error: %v", err)
			}
			o.fatal = err
		}
	}
	o.requests = p.Stats().Requests
	return o
}

func lines(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = fmt.Appendf(nil, "%d:%s", i, strings.Repeat("x", rng.IntN(60)))
	}
	return reqs
}

func sortedData(rs []host.Reply) []string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r.Data))
	}
	slices.Sort(s)
	return s
}

func TestStreamEchoesEveryRequest(t *testing.T) {
	p := newPool(t, host.Config{}, "echo")
	reqs := lines(50000, 1)
	o := collect(t, p, reqs)
	if o.fatal != nil || len(o.kidErrs)+len(o.reqErrs) > 0 {
		t.Fatalf("errors: %v %v %v", o.fatal, o.kidErrs, o.reqErrs)
	}
	want := sortedData(nil)
	for _, r := range reqs {
		want = append(want, string(r))
	}
	slices.Sort(want)
	if got := sortedData(o.replies); !slices.Equal(got, want) {
		t.Fatalf("got %d replies, want %d, or they differ", len(got), len(want))
	}
	st := p.Stats()
	if st.Requests != len(reqs) || st.Replies != len(reqs) || st.PerKid[0] == 0 || st.PerKid[1] == 0 {
		t.Errorf("stats %+v: want %d requests and replies, spread over both kids", st, len(reqs))
	}
}

func TestOrderedYieldsInInputOrder(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Ordered, Window: 100}, "echo")
	reqs := lines(30000, 2)
	o := collect(t, p, reqs)
	if o.fatal != nil || len(o.kidErrs)+len(o.reqErrs) > 0 {
		t.Fatalf("errors: %v %v %v", o.fatal, o.kidErrs, o.reqErrs)
	}
	if len(o.replies) != len(reqs) {
		t.Fatalf("%d replies for %d requests", len(o.replies), len(reqs))
	}
	for i, r := range o.replies {
		if r.Index != i || !bytes.Equal(r.Data, reqs[i]) {
			t.Fatalf("reply %d: index %d data %q, want %q", i, r.Index, r.Data, reqs[i])
		}
	}
}

func TestTaggedMatchesRepliesToRequests(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Tagged, Framing: frames.LenPfx}, "echo")
	rng := rand.New(rand.NewPCG(3, 3))
	reqs := make([][]byte, 5000)
	for i := range reqs {
		reqs[i] = make([]byte, rng.IntN(300))
		for j := range reqs[i] {
			reqs[i][j] = byte(rng.IntN(256)) // NUL and '\n' included
		}
	}
	o := collect(t, p, reqs)
	if o.fatal != nil || len(o.kidErrs)+len(o.reqErrs) > 0 {
		t.Fatalf("errors: %v %v %v", o.fatal, o.kidErrs, o.reqErrs)
	}
	seen := make([]bool, len(reqs))
	for _, r := range o.replies {
		if seen[r.Index] || !bytes.Equal(r.Data, reqs[r.Index]) {
			t.Fatalf("reply to %d duplicated or wrong", r.Index)
		}
		seen[r.Index] = true
	}
	if len(o.replies) != len(reqs) {
		t.Fatalf("%d replies for %d requests", len(o.replies), len(reqs))
	}
}

func TestFramings(t *testing.T) {
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(4)} {
		t.Run(f.String(), func(t *testing.T) {
			p := newPool(t, host.Config{Framing: f, Mode: host.Ordered, Kids: 2}, "echo")
			var reqs [][]byte
			for i := range 3000 {
				r := binaryLE(uint32(i * 7919))
				if f == frames.Lines || f == frames.Zero {
					r = []byte(strconv.Itoa(i))
				}
				if f == frames.LenPfx && i%10 == 0 {
					r = nil // empty frames
				}
				reqs = append(reqs, r)
			}
			o := collect(t, p, reqs)
			if o.fatal != nil || len(o.kidErrs)+len(o.reqErrs) > 0 || len(o.replies) != len(reqs) {
				t.Fatalf("errors: %v %v %v, %d replies", o.fatal, o.kidErrs, o.reqErrs, len(o.replies))
			}
			for i, r := range o.replies {
				if !bytes.Equal(r.Data, reqs[i]) {
					t.Fatalf("reply %d: %q, want %q", i, r.Data, reqs[i])
				}
			}
		})
	}
}

func binaryLE(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func TestZeroRequestsNoKidLeft(t *testing.T) {
	p := newPool(t, host.Config{}, "echo")
	o := collect(t, p, nil)
	if o.fatal != nil || len(o.replies) != 0 {
		t.Fatalf("got %v, %d replies", o.fatal, len(o.replies))
	}
}

func TestRunTwice(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Ordered}, "echo")
	for range 2 {
		o := collect(t, p, lines(100, 4))
		if o.fatal != nil || len(o.replies) != 100 {
			t.Fatalf("got %v, %d replies", o.fatal, len(o.replies))
		}
	}
}

func TestEarlyBreakReapsKids(t *testing.T) {
	p := newPool(t, host.Config{}, "echo")
	n := 0
	for _, err := range p.Run(context.Background(), slices.Values(lines(100000, 5))) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	checkNoKids(t)
}

func TestCancelStopsTheRun(t *testing.T) {
	p := newPool(t, host.Config{}, "slow", "1")
	ctx, cancel := context.WithCancel(context.Background())
	endless := func(yield func([]byte) bool) {
		for i := 0; yield([]byte(strconv.Itoa(i))); i++ {
		}
	}
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	o := collectCtx(t, ctx, p, endless)
	if !errors.Is(o.fatal, context.Canceled) {
		t.Fatalf("final error %v, want context.Canceled", o.fatal)
	}
	if len(o.replies) == 0 {
		t.Errorf("no reply before the cancel")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the cancelled run took %v", d)
	}
	checkNoKids(t)
}

func TestCloseIsIdempotentAndRefusesRuns(t *testing.T) {
	p := newPool(t, host.Config{}, "echo")
	p.Close()
	p.Close()
	o := collect(t, p, lines(3, 6))
	if o.fatal == nil || !strings.Contains(o.fatal.Error(), "closed") {
		t.Fatalf("Run after Close: %v", o.fatal)
	}
}

func TestBadConfigNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg  host.Config
		want string
	}{
		{host.Config{}, "Module"},
		{host.Config{Module: testGuest, Kids: -1}, "Kids"},
		{host.Config{Module: testGuest, Framing: frames.Fixed(0)}, "Framing"},
		{host.Config{Module: testGuest, Env: []string{"NOEQUALS"}}, "Env"},
		{host.Config{Module: testGuest, Dirs: []host.Dir{{Host: "/does/not/exist"}}}, "Dirs[0].Host"},
		{host.Config{Module: testGuest, MemoryLimit: -5}, "MemoryLimit"},
	} {
		_, err := host.New(context.Background(), tc.cfg)
		if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an ErrConfig naming %s", tc.cfg, err, tc.want)
		}
	}
}

func TestBadModules(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "x.wasm")
	os.WriteFile(notWasm, []byte("#!/bin/sh\necho hi\n"), 0o644)
	for _, tc := range []struct {
		name string
		cfg  host.Config
		want string
	}{
		{"missing", host.Config{Module: filepath.Join(dir, "nope.wasm")}, "no such file"},
		{"not wasm", host.Config{Module: notWasm}, "not a WebAssembly module"},
		{"garbage wasm", host.Config{ModuleBytes: []byte("\x00asm\x01\x00\x00\x00\x99")}, "module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.CacheDir = cacheDir
			_, err := host.New(context.Background(), tc.cfg)
			if !errors.Is(err, host.ErrModule) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an ErrModule saying %q", err, tc.want)
			}
		})
	}
}

func TestModuleBytes(t *testing.T) {
	code, err := os.ReadFile(testGuest)
	if err != nil {
		t.Fatal(err)
	}
	p, err := host.New(context.Background(), host.Config{ModuleBytes: code, CacheDir: cacheDir, Kids: 1, Args: []string{"lines", "echo"}, Mode: host.Ordered})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := collect(t, p, lines(10, 7))
	if o.fatal != nil || len(o.replies) != 10 {
		t.Fatalf("%v, %d replies", o.fatal, len(o.replies))
	}
}

// TestCheckedModuleStartsWithoutReload: the first pool of a module checks
// it and leaves a stamp; later pools trust the stamp, and still run when
// the compiled code has gone from the cache meanwhile (kids compile it).
// A module that fails its checks is never stamped.
func TestCheckedModuleStartsWithoutReload(t *testing.T) {
	cache := t.TempDir()
	stamps := func() []string {
		names, _ := filepath.Glob(filepath.Join(cache, "checked", "*"))
		return names
	}
	run := func() {
		t.Helper()
		p, err := host.New(context.Background(), host.Config{Module: testGuest, CacheDir: cache, Kids: 1, Args: []string{"lines", "echo"}, Mode: host.Ordered})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if o := collect(t, p, lines(20, 3)); o.fatal != nil || len(o.replies) != 20 {
			t.Fatalf("%v, %d replies", o.fatal, len(o.replies))
		}
	}
	run()
	if n := len(stamps()); n != 1 {
		t.Fatalf("%d stamps after the first pool, want 1", n)
	}
	if err := os.RemoveAll(filepath.Join(cache, "compiled")); err != nil {
		t.Fatal(err)
	}
	run()
	// A memory limit is part of what was checked: a new limit checks again,
	// and a limit below the module's minimum is refused, not stamped.
	_, err := host.New(context.Background(), host.Config{Module: testGuest, CacheDir: cache, MemoryLimit: 64 << 10})
	if !errors.Is(err, host.ErrModule) {
		t.Fatalf("a 1-page memory limit: got %v, want ErrModule", err)
	}
	if n := len(stamps()); n != 1 {
		t.Fatalf("%d stamps, want 1: a module that failed its check was stamped", n)
	}
}

// TestPanickingConsumerReapsKids: a loop body that panics on a kid's
// failure gets its own panic back, and no kid is left behind.
func TestPanickingConsumerReapsKids(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Tagged}, "exit")
	reqs := append(lines(50, 5), []byte("!3"))
	got := func() (r any) {
		defer func() { r = recover() }()
		for _, err := range p.Run(context.Background(), slices.Values(reqs)) {
			if err != nil {
				panic("consumer gives up")
			}
		}
		return nil
	}()
	if got != "consumer gives up" {
		t.Fatalf("recovered %v, want the consumer's own panic", got)
	}
	checkNoKids(t)
}
