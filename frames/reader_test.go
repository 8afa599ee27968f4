package frames_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wasmpool/wasmpool/frames"
)

// readAll scans r to the end and returns copies of its frames and Err.
func readAll(r *frames.Reader) ([]string, error) {
	var got []string
	for r.Scan() {
		got = append(got, string(r.Bytes()))
		if r.Count() != len(got) {
			panic(fmt.Sprintf("Count() = %d after %d frames", r.Count(), len(got)))
		}
	}
	if r.Bytes() != nil {
		panic("Bytes() not nil after Scan returned false")
	}
	return got, r.Err()
}

// wrappers are the io.Readers every stream is read through.
var wrappers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"plain", func(r io.Reader) io.Reader { return r }},
	{"OneByte", iotest.OneByteReader},
	{"Half", iotest.HalfReader},
	{"DataErr", iotest.DataErrReader},
	{"OneByteDataErr", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) }},
	{"EmptyReads", func(r io.Reader) io.Reader { return &stutterReader{r: r} }},
}

// stutterReader returns (0, nil) before every real read, as io.Reader
// allows.
type stutterReader struct {
	r       io.Reader
	stutter bool
}

func (s *stutterReader) Read(p []byte) (int, error) {
	s.stutter = !s.stutter
	if s.stutter {
		return 0, nil
	}
	return s.r.Read(p)
}

func TestReader(t *testing.T) {
	tests := []struct {
		name     string
		f        frames.Framing
		in       string
		maxFrame int
		want     []string
		err      error
	}{
		{"lines/empty input", frames.Lines, "", 0, nil, nil},
		{"lines/one empty frame", frames.Lines, "\n", 0, []string{""}, nil},
		{"lines/empty frames", frames.Lines, "\n\n\n", 0, []string{"", "", ""}, nil},
		{"lines/basic", frames.Lines, "a\nbc\n\nd\n", 0, []string{"a", "bc", "", "d"}, nil},
		{"lines/last without newline", frames.Lines, "a\nbc", 0, []string{"a", "bc"}, nil},
		{"lines/only unterminated", frames.Lines, "abc", 0, []string{"abc"}, nil},
		{"lines/NUL is data", frames.Lines, "\x00\n\x00", 0, []string{"\x00", "\x00"}, nil},
		{"lines/at max", frames.Lines, "abcd\nabcd", 4, []string{"abcd", "abcd"}, nil},
		{"lines/over max", frames.Lines, "abcd\nabcde\nx\n", 4, []string{"abcd"}, frames.ErrTooLarge},
		{"lines/over max at EOF", frames.Lines, "ab\nabcde", 4, []string{"ab"}, frames.ErrTooLarge},
		{"lines/max 1", frames.Lines, "\na\n\nb", 1, []string{"", "a", "", "b"}, nil},
		{"zero/basic", frames.Zero, "a\nb\x00\x00c", 0, []string{"a\nb", "", "c"}, nil},
		{"zero/empty input", frames.Zero, "", 0, nil, nil},
		{"zero/over max", frames.Zero, "abc\x00", 2, nil, frames.ErrTooLarge},
		{"lenpfx/empty input", frames.LenPfx, "", 0, nil, nil},
		{"lenpfx/empty frame", frames.LenPfx, lenpfx(0), 0, []string{""}, nil},
		{"lenpfx/basic", frames.LenPfx, lenpfx(2) + "a\n" + lenpfx(0) + lenpfx(1) + "\x00", 0, []string{"a\n", "", "\x00"}, nil},
		{"lenpfx/truncated header", frames.LenPfx, lenpfx(1) + "x" + "\x01\x00", 0, []string{"x"}, frames.ErrTruncated},
		{"lenpfx/truncated payload", frames.LenPfx, lenpfx(1) + "x" + lenpfx(5) + "abc", 0, []string{"x"}, frames.ErrTruncated},
		{"lenpfx/at max", frames.LenPfx, lenpfx(3) + "abc", 3, []string{"abc"}, nil},
		{"lenpfx/over max", frames.LenPfx, lenpfx(3) + "abc" + lenpfx(4) + "abcd", 3, []string{"abc"}, frames.ErrTooLarge},
		{"fixed/empty input", frames.Fixed(2), "", 0, nil, nil},
		{"fixed/basic", frames.Fixed(2), "ab\n\x00cd", 0, []string{"ab", "\n\x00", "cd"}, nil},
		{"fixed/short last", frames.Fixed(2), "abcde", 0, []string{"ab", "cd"}, frames.ErrTruncated},
		{"fixed/1", frames.Fixed(1), "ab\n", 0, []string{"a", "b", "\n"}, nil},
		{"fixed/over max", frames.Fixed(3), "abc", 2, nil, frames.ErrTooLarge},
	}
	for _, tt := range tests {
		for _, w := range wrappers {
			t.Run(tt.name+"/"+w.name, func(t *testing.T) {
				r := frames.NewReader(w.wrap(strings.NewReader(tt.in)), tt.f)
				if tt.maxFrame != 0 {
					r.SetMaxFrame(tt.maxFrame)
				}
				got, err := readAll(r)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
					t.Errorf("frames %q, want %q", got, tt.want)
				}
				if tt.err == nil && err != nil || !errors.Is(err, tt.err) {
					t.Errorf("Err() = %v, want %v", err, tt.err)
				}
				if r.Count() != len(tt.want) {
					t.Errorf("Count() = %d, want %d", r.Count(), len(tt.want))
				}
				// Scan after the end stays false with the same error.
				if r.Scan() || !errors.Is(r.Err(), err) || r.Bytes() != nil {
					t.Errorf("Scan after the end: Err() = %v, Bytes() = %q", r.Err(), r.Bytes())
				}
			})
		}
	}
}

func TestReaderErrReader(t *testing.T) {
	boom := errors.New("boom")
	r := frames.NewReader(iotest.ErrReader(boom), frames.Lines)
	if r.Scan() {
		t.Fatal("Scan succeeded")
	}
	if !errors.Is(r.Err(), boom) {
		t.Fatalf("Err() = %v, want %v", r.Err(), boom)
	}
	if r.Scan() || !errors.Is(r.Err(), boom) {
		t.Fatalf("second Scan: Err() = %v", r.Err())
	}
}

// A read error that comes with data, or after it, does not lose the complete
// frames read before it; a partial frame before the error is not a frame.
func TestReaderErrorAfterData(t *testing.T) {
	boom := errors.New("boom")
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(3)} {
		var in []byte
		for _, p := range []string{"abc", "def"} {
			in, _ = f.Append(in, []byte(p))
		}
		partial := in[:len(in)-1]
		for _, tc := range []struct {
			name string
			r    io.Reader
			want []string
		}{
			{"with data", &errAfter{data: in, err: boom}, []string{"abc", "def"}},
			{"after data", io.MultiReader(bytes.NewReader(in), iotest.ErrReader(boom)), []string{"abc", "def"}},
			{"partial with data", &errAfter{data: partial, err: boom}, []string{"abc"}},
			{"partial after data", io.MultiReader(bytes.NewReader(partial), iotest.ErrReader(boom)), []string{"abc"}},
		} {
			t.Run(f.String()+"/"+tc.name, func(t *testing.T) {
				got, err := readAll(frames.NewReader(tc.r, f))
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("frames %q, want %q", got, tc.want)
				}
				if !errors.Is(err, boom) {
					t.Errorf("Err() = %v, want %v", err, boom)
				}
			})
		}
	}
}

// errAfter returns all its data and err in one Read.
type errAfter struct {
	data []byte
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n := copy(p, e.data)
	e.data = e.data[n:]
	if len(e.data) == 0 {
		return n, e.err
	}
	return n, nil
}

// zeroReader returns (0, nil) forever.
type zeroReader struct{ reads int }

func (z *zeroReader) Read([]byte) (int, error) { z.reads++; return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	for _, prefix := range []string{"", "ab\nc"} {
		z := &zeroReader{}
		r := frames.NewReader(io.MultiReader(strings.NewReader(prefix), z), frames.Lines)
		got, err := readAll(r)
		if !errors.Is(err, io.ErrNoProgress) {
			t.Fatalf("prefix %q: Err() = %v, want io.ErrNoProgress", prefix, err)
		}
		if prefix != "" && fmt.Sprint(got) != "[ab]" {
			t.Errorf("prefix %q: frames %q", prefix, got)
		}
		if z.reads > 1000 {
			t.Errorf("%d empty reads before giving up", z.reads)
		}
	}
}

// Bytes points into the reader's buffer: valid until the next Scan, which
// may overwrite it. The reader reuses its buffer rather than allocating per
// frame.
func TestReaderBytesReused(t *testing.T) {
	var in []byte
	for i := range 10000 {
		in = fmt.Appendf(in, "frame %05d\n", i)
	}
	r := frames.NewReader(iotest.HalfReader(bytes.NewReader(in)), frames.Lines)
	var first []byte
	var firstCopy string
	n := 0
	for r.Scan() {
		if want := fmt.Sprintf("frame %05d", n); string(r.Bytes()) != want {
			t.Fatalf("frame %d = %q, want %q", n, r.Bytes(), want)
		}
		if n == 0 {
			first, firstCopy = r.Bytes(), string(r.Bytes())
		}
		n++
	}
	if err := r.Err(); err != nil || n != 10000 {
		t.Fatalf("%d frames, %v", n, err)
	}
	if string(first) == firstCopy {
		t.Errorf("the first frame's bytes were never reused; is the buffer copied per frame?")
	}
}

func TestReaderAllocs(t *testing.T) {
	in := bytes.Repeat([]byte("some line of text\n"), 1000)
	allocs := testing.AllocsPerRun(20, func() {
		r := frames.NewReader(bytes.NewReader(in), frames.Lines)
		for r.Scan() {
		}
	})
	if allocs > 3 {
		t.Errorf("%v allocations to read 1000 lines, want a constant few", allocs)
	}
}

func TestReaderSetMaxFrame(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	// The default limit admits 100 KiB; a 1 KiB limit does not.
	r := frames.NewReader(strings.NewReader(big+"\n"), frames.Lines)
	if got, err := readAll(r); err != nil || len(got) != 1 || got[0] != big {
		t.Fatalf("default limit: %d frames, %v", len(got), err)
	}
	r = frames.NewReader(strings.NewReader(big+"\n"), frames.Lines)
	r.SetMaxFrame(1 << 10)
	if _, err := readAll(r); !errors.Is(err, frames.ErrTooLarge) {
		t.Fatalf("1 KiB limit: Err() = %v, want ErrTooLarge", err)
	}
	// No limit.
	for _, n := range []int{0, -1} {
		r = frames.NewReader(strings.NewReader(lenpfx(uint64(len(big)))+big), frames.LenPfx)
		r.SetMaxFrame(n)
		if got, err := readAll(r); err != nil || len(got) != 1 || got[0] != big {
			t.Fatalf("SetMaxFrame(%d): %d frames, %v", n, len(got), err)
		}
	}
}

// countingReader counts the bytes and calls of Read.
type countingReader struct {
	r            io.Reader
	calls, bytes int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.calls++
	n, err := c.r.Read(p)
	c.bytes += n
	return n, err
}

// A huge limit still grows the buffer geometrically, not byte by byte.
func TestReaderHugeMaxFrame(t *testing.T) {
	line := strings.Repeat("y", 4<<20)
	for _, max := range []int{math.MaxInt, math.MaxInt - 8, math.MaxInt - 9, 1 << 40} {
		c := &countingReader{r: strings.NewReader(line + "\n")}
		r := frames.NewReader(c, frames.Lines)
		r.SetMaxFrame(max)
		if got, err := readAll(r); err != nil || len(got) != 1 || got[0] != line {
			t.Fatalf("SetMaxFrame(%d): %d frames, %v", max, len(got), err)
		}
		if c.calls > 100 {
			t.Errorf("SetMaxFrame(%d): %d reads for a 4 MiB line", max, c.calls)
		}
	}
}

// A long line that arrives one byte at a time is scanned once, not once
// per read: reading it takes linear time.
func TestReaderSlowLongLine(t *testing.T) {
	line := strings.Repeat("q", 4<<20)
	for _, f := range []frames.Framing{frames.Lines, frames.Zero} {
		in, _ := f.Append(nil, []byte(line))
		in, _ = f.Append(in, []byte("next"))
		start := time.Now()
		got, err := readAll(frames.NewReader(iotest.OneByteReader(bytes.NewReader(in)), f))
		if err != nil || len(got) != 2 || got[0] != line || got[1] != "next" {
			t.Fatalf("%v: %d frames, %v", f, len(got), err)
		}
		// Quadratic rescanning takes minutes here; linear takes tens of ms.
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%v: %v to read a 4 MiB line one byte at a time", f, d)
		}
	}
}

// endless is a stream of one repeated byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// A 1 GiB length header with a 1 MiB limit fails as soon as the header is
// read, without reading or allocating the payload.
func TestReaderHugeHeader(t *testing.T) {
	c := &countingReader{r: io.MultiReader(strings.NewReader(lenpfx(1<<30)), endless('z'))}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := frames.NewReader(c, frames.LenPfx)
	r.SetMaxFrame(1 << 20)
	ok := r.Scan()
	runtime.ReadMemStats(&after)
	if ok || !errors.Is(r.Err(), frames.ErrTooLarge) {
		t.Fatalf("Scan = %v, Err() = %v; want ErrTooLarge", ok, r.Err())
	}
	if c.calls != 1 {
		t.Errorf("%d reads (%d bytes) before the error, want 1", c.calls, c.bytes)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 256<<10 {
		t.Errorf("allocated %d bytes", d)
	}
}

// The same with lines: a line longer than the limit fails once limit+1
// bytes are buffered, not at the end of the line.
func TestReaderHugeLine(t *testing.T) {
	for _, f := range []frames.Framing{frames.Lines, frames.Zero} {
		c := &countingReader{r: endless('z')}
		r := frames.NewReader(c, f)
		r.SetMaxFrame(1 << 20)
		if r.Scan() || !errors.Is(r.Err(), frames.ErrTooLarge) {
			t.Fatalf("%v: Err() = %v, want ErrTooLarge", f, r.Err())
		}
		if c.bytes > 2<<20 {
			t.Errorf("%v: read %d bytes before failing", f, c.bytes)
		}
	}
}

// Frames that straddle the buffer boundary, and frames larger than the
// initial buffer, read back intact in every framing.
func TestReaderLargeFrames(t *testing.T) {
	sizes := []int{0, 1, 100, 64<<10 - 9, 64<<10 - 8, 64<<10 - 1, 64 << 10, 64<<10 + 1, 200 << 10, 3, 1 << 20}
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx} {
		var in []byte
		var want []string
		for i, n := range sizes {
			p := bytes.Repeat([]byte{'a' + byte(i)}, n)
			in, _ = f.Append(in, p)
			want = append(want, string(p))
		}
		for _, w := range wrappers[:3] {
			got, err := readAll(frames.NewReader(w.wrap(bytes.NewReader(in)), f))
			if err != nil || len(got) != len(want) {
				t.Fatalf("%v/%s: %d frames, %v", f, w.name, len(got), err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v/%s: frame %d differs (len %d, want %d)", f, w.name, i, len(got[i]), len(want[i]))
				}
			}
		}
	}
	// A fixed record larger than the initial buffer.
	rec := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	in := bytes.Repeat(rec, 3)
	got, err := readAll(frames.NewReader(iotest.HalfReader(bytes.NewReader(in)), frames.Fixed(len(rec))))
	if err != nil || len(got) != 3 || got[2] != string(rec) {
		t.Fatalf("fixed:%d: %d frames, %v", len(rec), len(got), err)
	}
}

// TestSkipTooLarge checks that a reader told to skip oversize frames
// reports each one once, in its place, and goes on with the next.
func TestSkipTooLarge(t *testing.T) {
	lp := func(payloads ...string) string {
		var b []byte
		for _, p := range payloads {
			b, _ = frames.LenPfx.Append(b, []byte(p))
		}
		return string(b)
	}
	for _, tc := range []struct {
		name    string
		f       frames.Framing
		in      string
		want    []string // "!" marks a skipped frame
		wantErr error
	}{
		{"lines", frames.Lines, "ab\nabcdefgh\ncd\n", []string{"ab", "!", "cd"}, nil},
		{"lines, unterminated oversize last", frames.Lines, "ab\nabcdefgh", []string{"ab", "!"}, nil},
		{"lines, several", frames.Lines, "abcdefgh\nabcdefgh\nx", []string{"!", "!", "x"}, nil},
		{"zero", frames.Zero, "abcdefgh\x00a\x00", []string{"!", "a"}, nil},
		{"lenpfx", frames.LenPfx, lp("ab", "abcdefgh", "cd"), []string{"ab", "!", "cd"}, nil},
		{"lenpfx, truncated oversize", frames.LenPfx, lp("ab", "abcdefgh")[:20], []string{"ab", "!"}, nil},
		{"lenpfx, absurd length", frames.LenPfx, lp("ab") + "\xf8\xff\xff\xff\xff\xff\xff\xff" + lp("cd"), []string{"ab"}, frames.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := frames.NewReader(iotest.OneByteReader(strings.NewReader(tc.in)), tc.f)
			r.SetMaxFrame(4)
			r.SkipTooLarge()
			var got []string
			for r.Scan() {
				if r.Skipped() != nil {
					if !errors.Is(r.Skipped(), frames.ErrTooLarge) || r.Bytes() != nil {
						t.Fatalf("Skipped() = %v with Bytes %q", r.Skipped(), r.Bytes())
					}
					got = append(got, "!")
					continue
				}
				got = append(got, string(r.Bytes()))
			}
			if !slices.Equal(got, tc.want) || !errors.Is(r.Err(), tc.wantErr) || (tc.wantErr == nil && r.Err() != nil) {
				t.Errorf("got %q, err %v; want %q, err %v", got, r.Err(), tc.want, tc.wantErr)
			}
			if r.Count() != len(tc.want) {
				t.Errorf("Count = %d, want %d", r.Count(), len(tc.want))
			}
		})
	}
}
