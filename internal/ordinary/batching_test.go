package ordinary_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// TestStreamKeepsLastLineWhole: in Stream mode a batch's output goes out
// as soon as the batch is done, so the batch holding the input's last
// line (with no newline after it) may be done before another. Its output
// ends without a newline: whatever comes after it must not be glued to
// it. Here the first batch waits a second (faulty's SLOW line), so every
// other batch, the last among them, is done before it. (Filter writes a
// batch's output as it is, host/pool.go:262; a session's Filter frames
// each reply again, so its last line gets its newline.)
func TestStreamKeepsLastLineWhole(t *testing.T) {
	var in []byte
	in = append(in, "SLOW\n"...)
	for i := range 2000 {
		in = fmt.Appendf(in, "line %d\n", i)
	}
	in = append(in, "the last line, with no newline"...)
	pool := newPool(t, env.progs["faulty"], host.Config{Mode: host.Stream, BatchSize: 1 << 10})
	out, errs := filter(t, pool, in)
	noErrors(t, errs)
	got := splitLines(out)
	if !slices.Contains(got, "the last line, with no newline") {
		for _, l := range got {
			if strings.Contains(l, "the last line") {
				t.Errorf("the last line came out as %q: the output of the batch after it was glued to it", l)
			}
		}
	}
	sameLines(t, got, splitLines(in))
}

// TestBatchSizeBound checks that no batch is larger than BatchSize, with
// wcc, which writes how many bytes its instance read: over an input that
// is all there, and over one that comes in pieces larger than a batch
// but smaller than a batch for each kid. (When less is pending than a
// batch for each idle kid, the pool shares it out in batches of at least
// minBatch, 16 KiB, host/batches.go:177, whatever BatchSize says.)
func TestBatchSizeBound(t *testing.T) {
	p := env.progs["wcc"]
	check := func(t *testing.T, out []byte, size, total int) {
		t.Helper()
		sum, batches := 0, 0
		for _, l := range splitLines(out) {
			var nb, nl int
			if _, err := fmt.Sscan(l, &nb, &nl); err != nil {
				t.Fatalf("wcc wrote %q", l)
			}
			if nb > size && nl > 1 {
				t.Errorf("a batch of %d bytes (%d lines), more than BatchSize %d", nb, nl, size)
			}
			sum += nb
			batches++
		}
		if sum != total {
			t.Errorf("the batches hold %d bytes, the input %d", sum, total)
		}
		t.Logf("%d batches", batches)
	}
	t.Run("all-there", func(t *testing.T) {
		in := terminated(genInput(5, 64<<10))
		pool := newPool(t, p, host.Config{Mode: host.Stream, BatchSize: 300})
		out, errs := filter(t, pool, in)
		noErrors(t, errs)
		check(t, out, 300, len(in))
	})
	t.Run("in-pieces", func(t *testing.T) {
		// 150 bytes at a time, every 200 ms: each piece is pending alone,
		// more than one batch of 100 and less than one for each idle kid.
		piece := bytes.Repeat([]byte("1000\n"), 30)
		pool := newPool(t, p, host.Config{Mode: host.Stream, BatchSize: 100})
		out, errs := filterSlowly(t, pool, piece, 5)
		noErrors(t, errs)
		check(t, out, 100, 5*len(piece))
	})
}

// filterSlowly runs n copies of piece through pool.Filter, one every
// 200 ms.
func filterSlowly(t *testing.T, pool *host.Pool, piece []byte, n int) ([]byte, []error) {
	t.Helper()
	r, w := io.Pipe()
	go func() {
		for i := range n {
			if i > 0 {
				time.Sleep(200 * time.Millisecond)
			}
			if _, err := w.Write(piece); err != nil {
				return
			}
		}
		w.Close()
	}()
	defer r.Close()
	var out bytes.Buffer
	var errs []error
	for err := range pool.Filter(context.Background(), &out, r) {
		errs = append(errs, err)
	}
	return out.Bytes(), errs
}
