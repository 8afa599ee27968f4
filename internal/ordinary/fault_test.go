package ordinary_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// A fault: an ordinary program that fails on one record of a few
// thousand, and how.
type fault struct {
	name    string
	prog    string
	trigger string // the line it fails on
	bad     int    // the index of that line
	cfg     host.Config
	flags   []string // the same limits for the wasmpool command
	// cause checks the failed record's error, given what the guests
	// wrote to stderr
	cause func(t *testing.T, err error, stderr string)
}

func exitCode(code int) func(*testing.T, error, string) {
	return func(t *testing.T, err error, _ string) {
		t.Helper()
		var ke *host.KidError
		if !errors.As(err, &ke) || ke.ExitCode != code || ke.Trap != "" {
			t.Errorf("the record failed with %v, want an exit with status %d", err, code)
		}
	}
}

func trapped(t *testing.T, err error, _ string) {
	t.Helper()
	var ke *host.KidError
	if !errors.As(err, &ke) || ke.Trap == "" {
		t.Errorf("the record failed with %v, want a trap", err)
	}
}

func timedOut(t *testing.T, err error, _ string) {
	t.Helper()
	if !errors.Is(err, host.ErrTimeout) {
		t.Errorf("the record failed with %v, want a timeout", err)
	}
}

// outOfMemory: the Go runtime's fatal error, exit status 2 (the stack
// dump after the message is longer than a KidError's stderr tail)
func outOfMemory(t *testing.T, err error, stderr string) {
	t.Helper()
	var ke *host.KidError
	if !errors.As(err, &ke) || ke.ExitCode != 2 || !strings.Contains(stderr, "fatal error: out of memory") {
		t.Errorf("the record failed with %v, want the Go runtime out of memory", err)
	}
}

// The timeout: a legitimate batch of faulty (256 bytes, a C program) runs
// in well under a millisecond, even on a loaded machine; the LOOP record
// alone spins until it. A timed-out instance says nothing of how far it
// read, so its whole batch is split: about log2(records per batch)
// rounds of the timeout.
var faults = []fault{
	{name: "c-exit", prog: "faulty", trigger: "EXIT", bad: 1700, cause: exitCode(3)},
	{name: "c-trap", prog: "faulty", trigger: "TRAP", bad: 0, cause: trapped},
	{name: "c-bomb", prog: "faulty", trigger: "BOMB", bad: 2999, cause: trapped,
		cfg: host.Config{MemoryLimit: 4 << 20}, flags: []string{"--mem", "4MiB"}},
	{name: "c-loop", prog: "faulty", trigger: "LOOP", bad: 1234, cause: timedOut,
		cfg: host.Config{Timeout: time.Second, BatchSize: 256}, flags: []string{"--timeout", "1s", "--block", "256"}},
	{name: "go-exit", prog: "gofault", trigger: "EXIT", bad: 2500, cause: exitCode(3)},
	{name: "go-panic", prog: "gofault", trigger: "PANIC", bad: 10, cause: exitCode(2)},
	{name: "go-bomb", prog: "gofault", trigger: "BOMB", bad: 1700, cause: outOfMemory,
		cfg: host.Config{MemoryLimit: 16 << 20}, flags: []string{"--mem", "16MiB"}},
}

const faultLines = 3000

// faultInput returns the lines of f's input, its trigger at f.bad, and
// the expected output: every other line, in order.
func faultInput(f fault) (lines []string, input, want []byte) {
	rng := rand.New(rand.NewPCG(uint64(f.bad), 3))
	for i := range faultLines {
		l := fmt.Sprintf("r%04d %s", i, strings.Repeat("abcdefgh", rng.IntN(8)))
		if i == f.bad {
			l = f.trigger
		} else {
			want = append(append(want, l...), '\n')
		}
		lines = append(lines, l)
		input = append(append(input, l...), '\n')
	}
	return lines, input, want
}

// oneFailure checks that errs is one *host.RequestError, for f's record.
func oneFailure(t *testing.T, f fault, errs []error, stderr string) {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("%d errors, want 1 (for record %d): %v", len(errs), f.bad, errs)
	}
	var re *host.RequestError
	if !errors.As(errs[0], &re) {
		t.Fatalf("the error is %v, want a *host.RequestError", errs[0])
	}
	if re.Index != f.bad || string(re.Request) != f.trigger {
		t.Errorf("record %d (%q) failed, want %d (%q): %v", re.Index, re.Request, f.bad, f.trigger, re)
	}
	f.cause(t, re.Err, stderr)
}

// TestFaults runs each fault through the library: Filter in Keep mode
// (every other record's output once, in order) and, for the faults of C
// that cost no timeout, Run in Stream mode too (every other record's
// reply once). Exactly the bad record fails, and no kid is left
// (newPool's cleanup checks). TestCLIFaults runs them all in both modes.
func TestFaults(t *testing.T) {
	for _, f := range faults {
		lines, input, want := faultInput(f)
		t.Run(f.name+"/keep-filter", func(t *testing.T) {
			pool, stderr := faultPool(t, f, host.Keep)
			out, errs := filter(t, pool, input)
			oneFailure(t, f, errs, stderr.String())
			sameBytes(t, out, want)
			if s := pool.Stats(); s.Errors != 1 {
				t.Errorf("stats: %d errors", s.Errors)
			}
		})
		if f.prog != "faulty" || f.cfg.Timeout > 0 {
			continue
		}
		t.Run(f.name+"/stream-run", func(t *testing.T) {
			pool, stderr := faultPool(t, f, host.Stream)
			replies, errs := run(t, pool, lines)
			oneFailure(t, f, errs, stderr.String())
			sameLines(t, data(replies), splitLines(want))
		})
	}
}

// faultPool starts a pool of f's program with f's limits in mode, and
// returns it with what its guests write to stderr.
func faultPool(t *testing.T, f fault, mode host.Mode) (*host.Pool, *stderrLog) {
	t.Helper()
	cfg := f.cfg
	cfg.Mode = mode
	stderr := &stderrLog{t: t}
	cfg.Stderr = stderr
	return newPool(t, env.progs[f.prog], cfg), stderr
}

// stderrLog keeps what guests write to stderr, and logs it.
type stderrLog struct {
	bytes.Buffer
	t *testing.T
}

func (w *stderrLog) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return w.Buffer.Write(p)
}

// TestGiveUp runs guests that fail on every record: the run ends with an
// error wrapping host.ErrKidsFailing, soon, without an instance per
// record. One exits before it reads anything; the other after it read
// its first line, so that each of its failures puts the records it read
// (stdio reads ahead) under suspicion, and the pool splits them.
func TestGiveUp(t *testing.T) {
	for _, c := range []struct {
		when       string
		lines      int
		maxBatches int
	}{
		{"start", 3000, 20},
		// A lone record fails twice (Retries) before it counts; the pool
		// gives up after Kids+3 of them. Splitting one batch down to one
		// record takes log2(records read ahead) instances: 5 × (10+2)
		// instances are evidence enough, for any size of input.
		{"each", 30000, 200},
	} {
		t.Run(c.when, func(t *testing.T) {
			var input []byte
			for i := range c.lines {
				input = fmt.Appendf(input, "line %d\n", i)
			}
			pool := newPool(t, env.progs["faulty"], host.Config{Mode: host.Keep, Args: []string{c.when}, Stderr: &bytes.Buffer{}})
			began := time.Now()
			out, errs := filter(t, pool, input)
			took := time.Since(began)
			if len(out) > 0 {
				t.Errorf("%d bytes of output", len(out))
			}
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			last := errs[len(errs)-1]
			var re *host.RequestError
			if !errors.Is(last, host.ErrKidsFailing) || errors.As(last, &re) {
				t.Errorf("the last error is %v, want one wrapping host.ErrKidsFailing", last)
			}
			for _, err := range errs[:len(errs)-1] {
				if !errors.As(err, &re) || !errors.Is(err, host.ErrKidsFailing) && !errors.As(err, new(*host.KidError)) {
					t.Errorf("error %v: want a record not run (ErrKidsFailing) or failed", err)
					break
				}
			}
			s := pool.Stats()
			t.Logf("%d records taken, %d errors, %d batches run, %v", s.Requests, len(errs), s.Batches, took)
			if s.Batches > c.maxBatches {
				t.Errorf("the pool ran %d instances of a guest that failed on every record before it gave up (%v, %d records taken), want at most %d",
					s.Batches, took.Round(time.Millisecond), s.Requests, c.maxBatches)
			}
		})
	}
}
