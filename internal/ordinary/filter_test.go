package ordinary_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/host"
)

// The programs whose output is line by line: the output for a run of
// lines is the outputs of its lines, one after the other, so batches
// change nothing and the pool's output must be the native program's,
// byte for byte.
var perLine = []string{"upper", "dropdup", "gorev"}

// The programs that read all of their input before they write: their
// output for a batch is a function of the whole batch.
var readAll = map[string]func([]string) []string{
	"tac": func(l []string) []string {
		r := slices.Clone(l)
		slices.Reverse(r)
		return r
	},
	"gosort": func(l []string) []string {
		r := slices.Clone(l)
		slices.Sort(r)
		return r
	},
}

// sizes of the inputs: big for default batches, small for many tiny ones
// (a Go program's instance costs milliseconds to start)
func inputs(name string) (big, small []byte) {
	big = genInput(1, 2<<20)
	small = genInput(2, 256<<10)
	if strings.HasPrefix(name, "go") {
		small = genInput(2, 32<<10)
	}
	return big, small
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Errorf("error: %v", err)
	}
}

// sameBytes fails with where got and want first differ.
func sameBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("output differs from the native program's at byte %d of %d (want %d bytes): got %q, want %q",
		i, len(got), len(want), excerpt(got, i), excerpt(want, i))
}

func excerpt(b []byte, i int) []byte {
	return b[max(0, i-40):min(len(b), i+40)]
}

// sameLines fails unless got and want hold the same lines, in any order.
func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return
	}
	extra, missing := diffSorted(got, want)
	t.Fatalf("%d lines, want %d; %d not wanted (first %q), %d missing (first %q)",
		len(got), len(want), len(extra), first(extra), len(missing), first(missing))
}

// diffSorted returns the lines of sorted a not in sorted b and those of b
// not in a, counting repeats.
func diffSorted(a, b []string) (onlyA, onlyB []string) {
	for len(a) > 0 && len(b) > 0 {
		switch strings.Compare(a[0], b[0]) {
		case 0:
			a, b = a[1:], b[1:]
		case -1:
			onlyA, a = append(onlyA, a[0]), a[1:]
		default:
			onlyB, b = append(onlyB, b[0]), b[1:]
		}
	}
	return append(onlyA, a...), append(onlyB, b...)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestFilterPerLine runs the line-by-line programs through Pool.Filter
// in batch instances: in Keep mode the output is the native program's
// over the whole input, byte for byte, with default batches and with
// tiny ones; in Stream mode it has the same lines.
func TestFilterPerLine(t *testing.T) {
	for _, name := range perLine {
		p := env.progs[name]
		big, small := inputs(name)
		t.Run(name+"/keep", func(t *testing.T) {
			pool := newPool(t, p, host.Config{Mode: host.Keep})
			if got := pool.Instances(); got != host.BatchInstances {
				t.Fatalf("an ordinary module runs in %v instances, want batch", got)
			}
			out, errs := filter(t, pool, big)
			noErrors(t, errs)
			sameBytes(t, out, runNative(t, p, big))
			if s := pool.Stats(); s.Batches < 4 {
				t.Errorf("%d batches: the input was not cut", s.Batches)
			}
		})
		t.Run(name+"/keep-tiny", func(t *testing.T) {
			pool := newPool(t, p, host.Config{Mode: host.Keep, BatchSize: 300})
			out, errs := filter(t, pool, small)
			noErrors(t, errs)
			sameBytes(t, out, runNative(t, p, small))
			if s, min := pool.Stats(), len(small)/600; s.Batches < min {
				t.Errorf("%d batches of at most 300 bytes for %d bytes", s.Batches, len(small))
			}
		})
		t.Run(name+"/stream", func(t *testing.T) {
			// The input's last line ends with a newline here: see
			// TestStreamKeepsLastLineWhole.
			in := terminated(big)
			pool := newPool(t, p, host.Config{Mode: host.Stream, BatchSize: 64 << 10})
			out, errs := filter(t, pool, in)
			noErrors(t, errs)
			sameLines(t, splitLines(out), splitLines(runNative(t, p, in)))
		})
	}
}

// TestRunPerLine runs the line-by-line programs through Pool.Run over
// records (the lines of the input): the one-line-per-line programs in
// Ordered mode (each reply has its request's index), the others in Keep
// mode (the replies in input order), all in Stream mode (the same
// replies in any order).
func TestRunPerLine(t *testing.T) {
	for _, name := range perLine {
		p := env.progs[name]
		big, _ := inputs(name)
		records := splitLines(big)
		want := splitLines(runNative(t, p, terminated(big)))
		mode := host.Keep
		if name != "dropdup" {
			mode = host.Ordered
		}
		for _, mode := range []host.Mode{mode, host.Stream} {
			t.Run(name+"/"+mode.String(), func(t *testing.T) {
				pool := newPool(t, p, host.Config{Mode: mode, BatchSize: 256 << 10})
				got, errs := run(t, pool, records)
				noErrors(t, errs)
				if mode == host.Stream {
					sameLines(t, data(got), want)
					return
				}
				if len(got) != len(want) {
					t.Fatalf("%d replies, want %d", len(got), len(want))
				}
				for i, r := range got {
					if string(r.Data) != want[i] {
						t.Fatalf("reply %d is %q, want %q", i, r.Data, want[i])
					}
					if wantIndex := map[bool]int{true: i, false: -1}[mode == host.Ordered]; r.Index != wantIndex {
						t.Fatalf("reply %d has index %d, want %d", i, r.Index, wantIndex)
					}
				}
			})
		}
	}
}

// run runs records through pool.Run and returns the replies (data
// copied) and the errors.
func run(t *testing.T, pool *host.Pool, records []string) ([]host.Reply, []error) {
	t.Helper()
	var replies []host.Reply
	var errs []error
	seq := func(yield func([]byte) bool) {
		for _, r := range records {
			if !yield([]byte(r)) {
				return
			}
		}
	}
	for r, err := range pool.Run(context.Background(), seq) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Data = bytes.Clone(r.Data)
		replies = append(replies, r)
	}
	return replies, errs
}

func data(rs []host.Reply) []string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r.Data)
	}
	return s
}

// TestReadAll runs the programs that read all before they write: in Keep
// mode the output is the program applied to consecutive batches of the
// input, in order (checked by finding the batches); in Stream mode it has
// the input's lines; an input small enough to be one batch comes out as
// from the native program.
func TestReadAll(t *testing.T) {
	for _, name := range []string{"tac", "gosort"} {
		p, model := env.progs[name], readAll[name]
		in := genInput(3, 1<<20)
		t.Run(name+"/keep-filter", func(t *testing.T) {
			pool := newPool(t, p, host.Config{Mode: host.Keep, BatchSize: 64 << 10})
			out, errs := filter(t, pool, in)
			noErrors(t, errs)
			if n := batchwise(t, splitLines(in), outputLines(t, out), model, 64<<10); n < 4 {
				t.Errorf("the output is %d batch(es) of the input, want more", n)
			}
		})
		t.Run(name+"/keep-run", func(t *testing.T) {
			pool := newPool(t, p, host.Config{Mode: host.Keep, BatchSize: 64 << 10})
			got, errs := run(t, pool, splitLines(in))
			noErrors(t, errs)
			if n := batchwise(t, splitLines(in), data(got), model, 64<<10); n < 4 {
				t.Errorf("the replies are %d batch(es) of the input, want more", n)
			}
		})
		t.Run(name+"/stream", func(t *testing.T) {
			pool := newPool(t, p, host.Config{Mode: host.Stream, BatchSize: 64 << 10})
			out, errs := filter(t, pool, terminated(in))
			noErrors(t, errs)
			sameLines(t, outputLines(t, out), splitLines(in))
		})
		t.Run(name+"/one-batch", func(t *testing.T) {
			small := terminated(genInput(4, 8<<10))
			pool := newPool(t, p, host.Config{Kids: 1, Mode: host.Keep})
			out, errs := filter(t, pool, small)
			noErrors(t, errs)
			sameBytes(t, out, runNative(t, p, small))
		})
	}
}

// outputLines cuts the output of a program that ends every line it
// writes with a newline.
func outputLines(t *testing.T, out []byte) []string {
	t.Helper()
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Fatalf("the output ends without a newline: %q", excerpt(out, len(out)))
	}
	return splitLines(out)
}

// batchwise checks that out is model applied to consecutive runs of in
// (each of at most about maxBytes bytes, or one line), one after the
// other, as the output of a program that reads all its input is when it
// runs per batch in Keep mode, and returns the number of runs found.
func batchwise(t *testing.T, in, out []string, model func([]string) []string, maxBytes int) int {
	t.Helper()
	runs, err := findRuns(in, out, model, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the output is %d batches of the input", runs)
	return runs
}

// findRuns finds the runs of batchwise by dynamic programming over where
// a run may end: where the lines of in and out so far are the same
// multiset and the model agrees.
func findRuns(in, out []string, model func([]string) []string, maxBytes int) (int, error) {
	if len(in) != len(out) {
		return 0, fmt.Errorf("%d lines out for %d in", len(out), len(in))
	}
	n := len(in)
	from := make([]int, n+1) // from[q]-1 is where a run ending at q starts; 0: unreached
	from[0] = -1
	for p := 0; p < n; p++ {
		if from[p] == 0 {
			continue
		}
		count := map[string]int{}
		unequal, size := 0, 0
		for q := p + 1; q <= n; q++ {
			for _, c := range []struct {
				s string
				d int
			}{{in[q-1], 1}, {out[q-1], -1}} {
				before := count[c.s]
				count[c.s] += c.d
				switch {
				case before == 0:
					unequal++
				case count[c.s] == 0:
					unequal--
				}
			}
			if size += len(in[q-1]) + 1; size > 2*maxBytes+16<<10 && q-p > 1 {
				break // no batch is that large
			}
			if unequal == 0 && from[q] == 0 && slices.Equal(model(in[p:q]), out[p:q]) {
				from[q] = p + 1
			}
		}
	}
	if from[n] == 0 {
		reached := n
		for from[reached] == 0 {
			reached--
		}
		return 0, fmt.Errorf("the output is not the program run on consecutive batches of the input: it is up to line %d of %d, and line %d is %q",
			reached, n, reached, out[reached])
	}
	runs := 0
	for q := n; q > 0; q = from[q] - 1 {
		runs++
	}
	return runs, nil
}

// TestFindRuns checks the checker: it finds the runs of a made-up
// per-batch output of tac, and refuses one with a line changed, or (with
// sort) with two batches swapped. (Two batches of tac swapped are tac of
// the two as one batch: no check of tac's output can tell.)
func TestFindRuns(t *testing.T) {
	in := splitLines(genInput(6, 20<<10))
	n := len(in)
	bounds := []int{0, 7, n / 3, n/3 + 1, 2 * n / 3, n}
	perBatch := func(model func([]string) []string, order ...int) []string {
		var out []string
		for _, i := range order {
			out = append(out, model(in[bounds[i]:bounds[i+1]])...)
		}
		return out
	}
	tac, sort := readAll["tac"], readAll["gosort"]
	out := perBatch(tac, 0, 1, 2, 3, 4)
	if runs, err := findRuns(in, out, tac, 20<<10); err != nil || runs != 5 {
		t.Errorf("found %d runs (%v), want 5", runs, err)
	}
	changed := slices.Clone(out)
	changed[n/2] += "!"
	if _, err := findRuns(in, changed, tac, 20<<10); err == nil {
		t.Errorf("a line changed: no error")
	}
	if _, err := findRuns(in, perBatch(sort, 0, 1, 2, 3, 4), sort, 20<<10); err != nil {
		t.Error(err)
	}
	if _, err := findRuns(in, perBatch(sort, 0, 3, 2, 1, 4), sort, 20<<10); err == nil {
		t.Errorf("two batches swapped: no error")
	}
}
