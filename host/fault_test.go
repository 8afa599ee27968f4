package host_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

// requests makes n echo requests with a '!' (the test guest's trigger) at
// each position in bad.
func requests(n int, bad ...int) [][]byte {
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = fmt.Appendf(nil, "r%d", i)
	}
	for _, i := range bad {
		reqs[i] = []byte("!")
	}
	return reqs
}

// accounted checks that every request taken ended in exactly one reply or
// one error, and that the replies to good requests are right.
func accounted(t *testing.T, reqs [][]byte, o outcome, oneToOne, garbled bool) {
	t.Helper()
	if o.requests != len(reqs) {
		t.Errorf("the pool took %d requests of %d", o.requests, len(reqs))
	}
	if !oneToOne {
		if got := len(o.replies) + len(o.reqErrs); got != len(reqs) {
			t.Errorf("%d replies + %d request errors for %d requests", len(o.replies), len(o.reqErrs), len(reqs))
		}
		return
	}
	ends := make([]int, len(reqs))
	for _, r := range o.replies {
		ends[r.Index]++
		if !garbled && !bytes.Equal(r.Data, reqs[r.Index]) {
			t.Errorf("reply to %d is %q, want %q", r.Index, r.Data, reqs[r.Index])
		}
	}
	for _, e := range o.reqErrs {
		ends[e.Index]++
	}
	for i, n := range ends {
		if n != 1 {
			t.Errorf("request %d ended %d times", i, n)
		}
	}
}

func failedIndices(o outcome) []int {
	var idx []int
	for _, e := range o.reqErrs {
		idx = append(idx, e.Index)
	}
	return idx
}

// TestHostileGuests runs one misbehaving guest per case among good
// requests: the pool reports the culprit, answers every other request and
// leaves no process behind (newPool's cleanup checks that).
func TestHostileGuests(t *testing.T) {
	type check func(t *testing.T, o outcome)
	culprit := func(want ...int) check {
		return func(t *testing.T, o outcome) {
			if got := failedIndices(o); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("failed requests %v, want %v (%v)", got, want, o.reqErrs)
			}
		}
	}
	kidErr := func(match func(*host.KidError) bool, what string) check {
		return func(t *testing.T, o outcome) {
			if len(o.kidErrs) == 0 || !match(o.kidErrs[0]) {
				t.Errorf("kid errors %v, want %s", o.kidErrs, what)
			}
		}
	}
	exitCode := func(code int) check {
		return kidErr(func(e *host.KidError) bool { return e.ExitCode == code }, fmt.Sprintf("exit code %d", code))
	}
	isErr := func(target error) check {
		return kidErr(func(e *host.KidError) bool { return errors.Is(e, target) }, fmt.Sprint(target))
	}
	t.Cleanup(func() { checkNoKids(t) }) // after every parallel subtest
	for _, tc := range []struct {
		name   string
		cfg    host.Config
		args   []string
		reqs   [][]byte
		checks []check
	}{
		{"exit 3 mid-stream", host.Config{Mode: host.Ordered}, []string{"exit", "3"}, requests(120, 60),
			[]check{culprit(60), exitCode(3)}},
		{"panic on one request", host.Config{Mode: host.Tagged}, []string{"panic"}, requests(120, 7),
			[]check{culprit(7), exitCode(2)}},
		{"two poison requests", host.Config{Mode: host.Ordered}, []string{"exit", "9"}, requests(300, 10, 250),
			[]check{culprit(10, 250), exitCode(9)}},
		{"infinite loop", host.Config{Mode: host.Ordered, Timeout: 300 * time.Millisecond}, []string{"loop"}, requests(50, 20),
			[]check{culprit(20), isErr(host.ErrTimeout)}},
		{"sleeps forever", host.Config{Timeout: 300 * time.Millisecond}, []string{"sleep"}, requests(50, 5),
			[]check{culprit(5), isErr(host.ErrTimeout)}},
		{"memory bomb", host.Config{Mode: host.Ordered, MemoryLimit: 64 << 20}, []string{"grow"}, requests(100, 50),
			[]check{culprit(50), exitCode(2)}},
		{"output flood without terminator", host.Config{Mode: host.Ordered, MaxFrame: 1 << 20}, []string{"flood"}, requests(100, 30),
			[]check{culprit(30), isErr(frames.ErrTooLarge)}},
		{"1 GiB length prefix", host.Config{Mode: host.Ordered, Framing: frames.LenPfx, MaxFrame: 1 << 20}, []string{"bighdr"}, requests(100, 60),
			[]check{culprit(60), isErr(frames.ErrTooLarge)}},
		// A guest that breaks the one-reply contract cannot be told from a
		// correct one until the count is off: the replies in between are
		// reported but may be matched to the wrong requests.
		{"two replies to one request", host.Config{Mode: host.Ordered}, []string{"twice"}, requests(100, 40),
			[]check{isErr(host.ErrProtocol)}},
		{"no reply to one request", host.Config{Mode: host.Tagged}, []string{"none"}, requests(100, 40),
			[]check{isErr(host.ErrProtocol)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parallel[t.Name()] = true
			t.Parallel()
			p := newPool(t, tc.cfg, tc.args...)
			o := collect(t, p, tc.reqs)
			if o.fatal != nil {
				t.Fatalf("the run failed: %v", o.fatal)
			}
			t.Logf("%d requests sent: %d replies + %d request errors, %d kid errors", o.requests, len(o.replies), len(o.reqErrs), len(o.kidErrs))
			accounted(t, tc.reqs, o, p.Config().Mode != host.Stream, tc.args[0] == "twice" || tc.args[0] == "none")
			for _, c := range tc.checks {
				c(t, o)
			}
		})
	}
}

// TestNeverReadsWritesForever: a guest that ignores its input and floods
// replies breaks the one-reply contract and is stopped.
func TestNeverReadsWritesForever(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Ordered, Kids: 1, Retries: -1}, "start:noread")
	reqs := requests(10)
	o := collect(t, p, reqs)
	if len(o.kidErrs) == 0 || !errors.Is(o.kidErrs[0], host.ErrProtocol) {
		t.Fatalf("kid errors %v, want a protocol error", o.kidErrs)
	}
}

// TestCrashAtStartFailsFast: a guest that dies before reading ends the
// run quickly with its reason, instead of restarting kids forever, and
// every request taken is reported.
func TestCrashAtStartFailsFast(t *testing.T) {
	for _, args := range [][]string{{"start:exit", "3"}, {"start:exit", "0"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			p := newPool(t, host.Config{Mode: host.Ordered}, args...)
			start := time.Now()
			reqs := requests(1000)
			o := collect(t, p, reqs)
			if !errors.Is(o.fatal, host.ErrKidsFailing) {
				t.Fatalf("final error %v, want ErrKidsFailing; %d replies, %d kid errors (%v), %d request errors of %d", o.fatal, len(o.replies), len(o.kidErrs), o.kidErrs, len(o.reqErrs), o.requests)
			}
			if len(o.replies) != 0 || len(o.reqErrs) != o.requests {
				t.Errorf("%d replies and %d errors for %d requests taken", len(o.replies), len(o.reqErrs), o.requests)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("giving up took %v", d)
			}
		})
	}
}

// TestSandboxFiles: the guest sees only its grants, read-only ones stay
// unwritten, and no path or symlink leads out of a grant.
func TestSandboxFiles(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hi"), 0o644)
	os.Symlink("/etc", filepath.Join(root, "etc"))
	os.Symlink("/etc/passwd", filepath.Join(root, "passwd"))
	os.Symlink("hello.txt", filepath.Join(root, "inside"))
	os.Symlink("/nonexistent/new", filepath.Join(root, "dangling"))
	rw := t.TempDir()
	os.Symlink("/tmp", filepath.Join(rw, "tmp"))
	os.Symlink(filepath.Join(t.TempDir(), "outside-file"), filepath.Join(rw, "dangling"))

	read := newPool(t, host.Config{Mode: host.Ordered, Dirs: []host.Dir{{Host: root, Guest: "/data", ReadOnly: true}, {Host: rw, Guest: "/rw"}}}, "read")
	cases := map[string]string{
		"!/data/hello.txt":         `read: "hi"`,
		"!/data/inside":            `read: "hi"`,
		"!/etc/passwd":             "error:",
		"!/data/../etc/passwd":     "error:",
		"!/data/etc/passwd":        "error:",
		"!/data/passwd":            "error:",
		"!/data/etc/../etc/passwd": "error:",
		"!../etc/passwd":           "error:",
		"!/rw/tmp/x":               "error:",
	}
	var reqs [][]byte
	for r := range cases {
		reqs = append(reqs, []byte(r))
	}
	o := collect(t, read, reqs)
	for _, r := range o.replies {
		if want := cases[string(reqs[r.Index])]; !strings.HasPrefix(string(r.Data), want) {
			t.Errorf("%s: got %q, want %s…", reqs[r.Index], r.Data, want)
		}
	}
	accounted(t, reqs, outcome{replies: o.replies, requests: o.requests}, false, false)

	write := newPool(t, host.Config{Mode: host.Ordered, Dirs: []host.Dir{{Host: root, Guest: "/data", ReadOnly: true}, {Host: rw, Guest: "/rw"}}}, "write")
	wcases := map[string]string{
		"!/data/new.txt":  "error:",
		"!/data/dangling": "error:",
		"!/rw/new.txt":    "ok",
		"!/rw/tmp/evil":   "error:",
		"!/rw/dangling":   "error:",
		"!/tmp/evil":      "error:",
	}
	reqs = nil
	for r := range wcases {
		reqs = append(reqs, []byte(r))
	}
	o = collect(t, write, reqs)
	for _, r := range o.replies {
		if want := wcases[string(reqs[r.Index])]; !strings.HasPrefix(string(r.Data), want) {
			t.Errorf("%s: got %q, want %s…", reqs[r.Index], r.Data, want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "new.txt")); err == nil {
		t.Errorf("the guest wrote into a read-only grant")
	}
	if b, _ := os.ReadFile(filepath.Join(rw, "new.txt")); string(b) != "pwned" {
		t.Errorf("the guest could not write into its writable grant")
	}
	if _, err := os.Stat("/tmp/evil"); err == nil {
		os.Remove("/tmp/evil")
		t.Errorf("the guest wrote outside its grant through a symlink")
	}
}

// TestNoEnvironmentByDefault: the guest sees only what it is given.
func TestNoEnvironmentByDefault(t *testing.T) {
	t.Setenv("WASMPOOL_SECRET", "leak")
	p := newPool(t, host.Config{Mode: host.Ordered, Kids: 1, Env: []string{"GIVEN=yes"}}, "env")
	o := collect(t, p, [][]byte{[]byte("!")})
	if len(o.replies) != 1 {
		t.Fatalf("no reply: %v %v", o.kidErrs, o.reqErrs)
	}
	got := string(o.replies[0].Data)
	if strings.Contains(got, "leak") || !strings.Contains(got, "GIVEN=yes") {
		t.Errorf("guest environment and args: %s", got)
	}
}

// TestFailedRequestsCarryTheirPayload: a failed request can be written
// aside and run again.
func TestFailedRequestsCarryTheirPayload(t *testing.T) {
	for _, f := range []frames.Framing{frames.Lines, frames.LenPfx} {
		p := newPool(t, host.Config{Mode: host.Ordered, Framing: f, MaxFrame: 100}, "exit", "4")
		reqs := requests(50, 20)
		reqs[20] = []byte("!poison")
		reqs[30] = bytes.Repeat([]byte("x"), 101) // too large
		o := collect(t, p, reqs)
		got := map[int]string{}
		for _, e := range o.reqErrs {
			got[e.Index] = string(e.Request)
		}
		if len(got) != 2 || got[20] != "!poison" || got[30] != string(reqs[30]) {
			t.Errorf("%s: failed requests %v", f, got)
		}
	}
}

// TestMaxRequestsRecyclesKids: no kid handles more than MaxRequests, and
// recycling is not a failure.
func TestMaxRequestsRecyclesKids(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Ordered, MaxRequests: 7}, "count")
	o := collect(t, p, requests(100))
	if o.fatal != nil || len(o.kidErrs)+len(o.reqErrs) > 0 || len(o.replies) != 100 {
		t.Fatalf("%v %v %v, %d replies", o.fatal, o.kidErrs, o.reqErrs, len(o.replies))
	}
	for _, r := range o.replies {
		if n, _ := strconv.Atoi(string(r.Data)); n < 1 || n > 7 {
			t.Fatalf("a kid's request number %s, want 1..7", r.Data)
		}
	}
	if st := p.Stats(); st.Restarts != 0 {
		t.Errorf("%d restarts counted for recycled kids", st.Restarts)
	}
}
