//go:build linux

package host

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wasmpool/wasmpool/frames"
)

// FuzzStreamInput drives the byte path that `wasmpool run` feeds (Filter
// with batch instances) with arbitrary input: it must end, hold memory
// bounded by the frame limit, and cut exactly the records that
// frames.Reader finds with SkipTooLarge — every frame once, in order,
// whole, each frame over the limit reported once in its place.
func FuzzStreamInput(f *testing.F) {
	f.Add(byte(0), []byte("a\nbb\n\nccccccccccccc\nd"), 4, 8)
	f.Add(byte(1), []byte("a\x00bbbbbbbbbbb\x00c"), 4, 3)
	f.Add(byte(2), []byte("\x02\x00\x00\x00\x00\x00\x00\x00ab\xf8\xff\xff\xff\xff\xff\xff\xffcd"), 4, 64)
	f.Add(byte(2), []byte("\x09\x00\x00\x00\x00\x00\x00\x00abc"), 4, 64)
	f.Add(byte(3), []byte("abcdefgh"), 5, 2)
	f.Add(byte(0), []byte("aaaaaaaaaaaaa\nbb\nc\ndddddddddddddddddddddddddd\n\ne"), 40, 8)
	f.Add(byte(2), []byte("\x02\x00\x00\x00\x00\x00\x00\x00ab\x03\x00\x00\x00\x00\x00\x00\x00cde\x00\x00\x00\x00\x00\x00\x00\x00"), 40, 8)
	f.Fuzz(func(t *testing.T, which byte, data []byte, maxFrame, size int) {
		fr := []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(3)}[which%4]
		maxFrame = 1 + abs(maxFrame)%64
		size = 1 + abs(size)%128
		if fr == frames.Fixed(3) && maxFrame < 3 {
			maxFrame = 3
		}
		got, err := cutAll(t, fr, data, maxFrame, size)
		if err != nil {
			t.Fatal(err)
		}
		want := readAll(fr, data, maxFrame)
		if got != want {
			t.Fatalf("%s, max %d, batches of %d:\n cut  %s\n read %s", fr, maxFrame, size, got, want)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// cutAll cuts data into batches as a run would and describes the records
// it finds, one a line: "=payload", "!too large" or "!truncated".
func cutAll(t *testing.T, f frames.Framing, data []byte, maxFrame, size int) (string, error) {
	var out bytes.Buffer
	d := &batchRun{p: &Pool{stats: Stats{PerKid: []int{0}}}, cfg: Config{Framing: f, ReplyFraming: &f, MaxFrame: maxFrame, Mode: Stream}, done: map[int]*finished{}}
	next := 0
	d.fail = func(err error) bool {
		var re *RequestError
		if !errors.As(err, &re) || re.Index != next {
			t.Fatalf("error %v, want one for record %d", err, next)
		}
		next++
		switch {
		case errors.Is(err, frames.ErrTooLarge):
			out.WriteString("!too large\n")
		case errors.Is(err, frames.ErrTruncated):
			out.WriteString("!truncated\n")
		default:
			t.Fatalf("record %d: %v", re.Index, err)
		}
		return true
	}
	// small chunks, so that frames run over their ends
	chunk := 1 + (size*7+maxFrame)%23
	src := newByteInbox(iotest.OneByteReader(bytes.NewReader(data)), f, -1, chunk)
	si := &streamInput{src: src, f: f, max: maxFrame}
	defer si.close()
	deadline := time.Now().Add(10 * time.Second)
	for !si.exhausted() {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no end after 10 s: %q so far", out.String())
		}
		if n := src.largest(); n > chunk+chunkSlack {
			return "", fmt.Errorf("an input chunk grew to %d bytes", n)
		}
		b, ok := si.cut(d, size)
		if !ok {
			time.Sleep(10 * time.Microsecond)
			continue
		}
		if b.first != next {
			return "", fmt.Errorf("a batch from record %d, want %d", b.first, next)
		}
		if n, count := f.Whole(b.data, true, 0); n != len(b.data) || count != b.count {
			return "", fmt.Errorf("batch of %d records, %d bytes holds %d whole frames in %d bytes", b.count, len(b.data), count, n)
		}
		for rest := b.data; len(rest) > 0; {
			adv, payload, _ := f.Split(rest, true, 0)
			fmt.Fprintf(&out, "=%q\n", payload)
			rest = rest[adv:]
		}
		next += b.count
	}
	return out.String(), nil
}

// largest is the size of in's largest chunk, slack included.
func (in *byteInbox) largest() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, c := range in.chunks {
		n = max(n, cap(c.buf))
	}
	return n
}

// readAll describes the records frames.Reader finds, as cutAll does.
func readAll(f frames.Framing, data []byte, maxFrame int) string {
	var out bytes.Buffer
	r := frames.NewReader(bytes.NewReader(data), f)
	r.SetMaxFrame(maxFrame)
	r.SkipTooLarge()
	for r.Scan() {
		if r.Skipped() != nil {
			out.WriteString("!too large\n")
		} else {
			fmt.Fprintf(&out, "=%q\n", r.Bytes())
		}
	}
	switch err := r.Err(); {
	case errors.Is(err, frames.ErrTooLarge):
		out.WriteString("!too large\n")
	case errors.Is(err, frames.ErrTruncated):
		out.WriteString("!truncated\n")
	}
	return out.String()
}
