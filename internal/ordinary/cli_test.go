package ordinary_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests of the wasmpool command run it as a process of its own, so
// they run side by side (t.Parallel): after the tests of pools in this
// process, which check that this process has no child left.

// TestCLIMatchesNative runs the programs with wasmpool run: with
// --ordered (or -k) the output is the native program's, byte for byte,
// for the line-by-line programs, with default and tiny (--block 300)
// batches; it is consecutive batches of the program's output for the
// read-all programs, and one batch's is the native program's; without
// --ordered it has the same lines.
func TestCLIMatchesNative(t *testing.T) {
	t.Parallel()
	for _, name := range perLine {
		p := env.progs[name]
		big, small := inputs(name)
		t.Run(name+"/k", func(t *testing.T) {
			t.Parallel()
			r := succeed(t, big, "run", "-j", "2", "-k", p.wasm)
			sameBytes(t, r.stdout, runNative(t, p, big))
		})
		t.Run(name+"/ordered-block-300", func(t *testing.T) {
			t.Parallel()
			r := succeed(t, small, "run", "-j", "2", "--ordered", "--block", "300", p.wasm)
			sameBytes(t, r.stdout, runNative(t, p, small))
		})
		t.Run(name+"/stream", func(t *testing.T) {
			t.Parallel()
			in := terminated(big) // see TestStreamKeepsLastLineWhole
			r := succeed(t, in, "run", "-j", "2", "--block", "64KiB", p.wasm)
			sameLines(t, splitLines(r.stdout), splitLines(runNative(t, p, in)))
		})
	}
	for _, name := range []string{"tac", "gosort"} {
		p, model := env.progs[name], readAll[name]
		in := genInput(3, 1<<20)
		t.Run(name+"/ordered", func(t *testing.T) {
			t.Parallel()
			r := succeed(t, in, "run", "-j", "2", "--ordered", "--block", "64KiB", p.wasm)
			if n := batchwise(t, splitLines(in), outputLines(t, r.stdout), model, 64<<10); n < 4 {
				t.Errorf("the output is %d batch(es) of the input, want more", n)
			}
		})
		t.Run(name+"/stream", func(t *testing.T) {
			t.Parallel()
			r := succeed(t, terminated(in), "run", "-j", "2", "--block", "64KiB", p.wasm)
			sameLines(t, outputLines(t, r.stdout), splitLines(in))
		})
		t.Run(name+"/one-batch", func(t *testing.T) {
			t.Parallel()
			small := terminated(genInput(4, 8<<10))
			r := succeed(t, small, "run", "-j", "1", "--ordered", p.wasm)
			sameBytes(t, r.stdout, runNative(t, p, small))
		})
	}
}

// succeed runs wasmpool and checks that it exits 0 and says nothing.
func succeed(t *testing.T, input []byte, args ...string) cli {
	t.Helper()
	r := runCLI(t, input, args...)
	if r.code != 0 || len(r.stderr) > 0 {
		t.Fatalf("wasmpool %s: exit status %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// TestCLIFaults runs each fault with wasmpool run, with --ordered and
// without: exit status 1, one line of wasmpool's own on stderr, for the
// bad record (counted from 1); the --failed file holds that record
// alone; every other record's output comes once, in order with
// --ordered; no kid is left (runCLI checks).
func TestCLIFaults(t *testing.T) {
	t.Parallel()
	for _, f := range faults {
		_, input, want := faultInput(f)
		p := env.progs[f.prog]
		for _, ordered := range []bool{true, false} {
			mode := map[bool]string{true: "ordered", false: "stream"}[ordered]
			t.Run(f.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				failed := filepath.Join(t.TempDir(), "failed")
				args := []string{"run", "-j", "2", "--failed", failed}
				if ordered {
					args = append(args, "--ordered")
				}
				args = append(append(args, f.flags...), p.wasm)
				r := runCLI(t, input, args...)
				if r.code != 1 {
					t.Errorf("exit status %d, want 1", r.code)
				}
				var own []string
				for _, l := range splitLines(r.stderr) {
					if strings.HasPrefix(l, "wasmpool: ") {
						own = append(own, l)
					}
				}
				prefix := fmt.Sprintf("wasmpool: request %d: ", f.bad+1)
				if len(own) != 1 || !strings.HasPrefix(own[0], prefix) {
					t.Errorf("wasmpool said %q, want one line starting %q", own, prefix)
				}
				if b, err := os.ReadFile(failed); err != nil || string(b) != f.trigger+"\n" {
					t.Errorf("--failed holds %q (%v), want %q", b, err, f.trigger+"\n")
				}
				if ordered {
					sameBytes(t, r.stdout, want)
				} else {
					sameLines(t, splitLines(r.stdout), splitLines(want))
				}
			})
		}
	}
}

// TestCLIGiveUp runs a guest that exits at start on every record:
// wasmpool gives up soon, says so, and exits 1.
func TestCLIGiveUp(t *testing.T) {
	t.Parallel()
	var input []byte
	for i := range 3000 {
		input = fmt.Appendf(input, "line %d\n", i)
	}
	began := time.Now()
	r := runCLI(t, input, "run", "-j", "2", env.progs["faulty"].wasm, "--", "start")
	took := time.Since(began)
	if r.code != 1 {
		t.Errorf("exit status %d, want 1", r.code)
	}
	if !regexp.MustCompile(`(?m)^wasmpool: giving up: the kids keep failing; the last: kid \d+ \(pid \d+\) exited with status 1$`).Match(r.stderr) {
		t.Errorf("wasmpool did not say it gave up:\n%s", excerpt(r.stderr, len(r.stderr)))
	}
	if len(r.stdout) > 0 {
		t.Errorf("%d bytes of output", len(r.stdout))
	}
	if took > 10*time.Second {
		t.Errorf("it took %v to give up", took)
	}
}
