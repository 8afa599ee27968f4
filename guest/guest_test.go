package guest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func echo(req []byte, w *guest.Replies) error { return w.Reply(req) }

// encode frames payloads in f.
func encode(t testing.TB, f frames.Framing, payloads ...string) []byte {
	t.Helper()
	var b []byte
	for _, p := range payloads {
		var err error
		if b, err = f.Append(b, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// decode cuts b into frames of f.
func decode(t testing.TB, f frames.Framing, b []byte) []string {
	t.Helper()
	r := frames.NewReader(bytes.NewReader(b), f)
	r.SetMaxFrame(0)
	var out []string
	for r.Scan() {
		out = append(out, string(r.Bytes()))
	}
	if err := r.Err(); err != nil {
		t.Fatalf("decoding replies: %v", err)
	}
	return out
}

func TestRunEcho(t *testing.T) {
	payloads := map[frames.Framing][]string{
		frames.Lines:    {"", "a", "hello world", "", "x\x00y", strings.Repeat("z", 100<<10)},
		frames.Zero:     {"", "a\nb", "", "\n", strings.Repeat("z", 100<<10)},
		frames.LenPfx:   {"", "a\nb\x00c", "", strings.Repeat("\x00\n", 100<<10)},
		frames.Fixed(3): {"abc", "\x00\n\x00", "xyz"},
		frames.Fixed(1): {"\n", "\x00", "a"},
	}
	for f, want := range payloads {
		for _, wrap := range []struct {
			name string
			fn   func(io.Reader) io.Reader
		}{
			{"plain", func(r io.Reader) io.Reader { return r }},
			{"OneByte", iotest.OneByteReader},
			{"DataErr", iotest.DataErrReader},
		} {
			t.Run(f.String()+"/"+wrap.name, func(t *testing.T) {
				var out bytes.Buffer
				in := wrap.fn(bytes.NewReader(encode(t, f, want...)))
				if err := guest.Run(in, &out, guest.Options{Requests: f}, echo); err != nil {
					t.Fatal(err)
				}
				if got := decode(t, f, out.Bytes()); strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
					t.Fatalf("echoed %d frames %.60q, want %d %.60q", len(got), got, len(want), want)
				}
				if !bytes.Equal(out.Bytes(), encode(t, f, want...)) {
					t.Fatal("echo output differs from input")
				}
			})
		}
	}
}

// The last line without '\n' is a request; its reply is terminated.
func TestRunUnterminatedLastLine(t *testing.T) {
	var out bytes.Buffer
	if err := guest.Run(strings.NewReader("a\nb"), &out, guest.Options{}, echo); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nb\n" {
		t.Fatalf("output %q", out.String())
	}
}

func TestRunEmptyInput(t *testing.T) {
	called := false
	var out bytes.Buffer
	err := guest.Run(strings.NewReader(""), &out, guest.Options{Requests: frames.LenPfx}, func([]byte, *guest.Replies) error {
		called = true
		return nil
	})
	if err != nil || called || out.Len() != 0 {
		t.Fatalf("err %v, called %v, output %q", err, called, out.String())
	}
}

// A request "N" gets N replies "N.1" … "N.N": zero, one or many.
func TestRunRepliesPerRequest(t *testing.T) {
	var out bytes.Buffer
	in := "0\n1\n3\n0\n0\n2\n"
	err := guest.Run(strings.NewReader(in), &out, guest.Options{}, func(req []byte, w *guest.Replies) error {
		n, err := strconv.Atoi(string(req))
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			if err := w.Reply(fmt.Appendf(nil, "%d.%d", n, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "1.1\n3.1\n3.2\n3.3\n2.1\n2.2\n"; out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
}

func TestRunReplyFraming(t *testing.T) {
	lenpfx := frames.LenPfx
	var out bytes.Buffer
	err := guest.Run(strings.NewReader("ab\n\ncde\n"), &out, guest.Options{Requests: frames.Lines, Replies: &lenpfx}, func(req []byte, w *guest.Replies) error {
		return w.Reply(append(req, '\n'))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, frames.LenPfx, out.Bytes()); fmt.Sprint(got) != fmt.Sprint([]string{"ab\n", "\n", "cde\n"}) {
		t.Fatalf("replies %q", got)
	}
}

func TestRunHandlerError(t *testing.T) {
	boom := errors.New("boom")
	var out bytes.Buffer
	err := guest.Run(strings.NewReader("a\nb\nc\nd\n"), &out, guest.Options{}, func(req []byte, w *guest.Replies) error {
		if string(req) == "c" {
			return boom
		}
		return w.Reply(req)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
	if !strings.Contains(err.Error(), "request 3") {
		t.Errorf("error %q does not name request 3", err)
	}
	// The replies to the requests before the failing one are written.
	if out.String() != "a\nb\n" {
		t.Errorf("output %q, want the replies to requests 1 and 2", out.String())
	}
}

func TestRunHandlerErrorFirstRequest(t *testing.T) {
	err := guest.Run(strings.NewReader("a\n"), io.Discard, guest.Options{}, func([]byte, *guest.Replies) error {
		return errors.New("nope")
	})
	if err == nil || !strings.Contains(err.Error(), "request 1:") {
		t.Fatalf("Run = %v, want an error naming request 1", err)
	}
}

func TestRunBadRequestFrame(t *testing.T) {
	tests := []struct {
		name string
		opt  guest.Options
		in   string
		err  error
		req  string
		out  string
	}{
		{"truncated lenpfx", guest.Options{Requests: frames.LenPfx}, "\x01\x00\x00\x00\x00\x00\x00\x00a\x05\x00\x00\x00\x00\x00\x00\x00ab", frames.ErrTruncated, "request 2", "\x01\x00\x00\x00\x00\x00\x00\x00a"},
		{"short fixed record", guest.Options{Requests: frames.Fixed(4)}, "abcdefg", frames.ErrTruncated, "request 2", "abcd"},
		{"line over MaxFrame", guest.Options{MaxFrame: 4}, "abcd\nabcde\n", frames.ErrTooLarge, "request 2", "abcd\n"},
		{"lenpfx header over MaxFrame", guest.Options{Requests: frames.LenPfx, MaxFrame: 1 << 20}, "\x00\x00\x00\x40\x00\x00\x00\x00", frames.ErrTooLarge, "request 1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := guest.Run(strings.NewReader(tt.in), &out, tt.opt, echo)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Run = %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.req) {
				t.Errorf("error %q does not name %s", err, tt.req)
			}
			if out.String() != tt.out {
				t.Errorf("output %q, want %q", out.String(), tt.out)
			}
		})
	}
}

func TestRunInvalidOptions(t *testing.T) {
	fixed0 := frames.Fixed(0)
	for _, opt := range []guest.Options{
		{Requests: frames.Fixed(0)},
		{Requests: frames.Lines, Replies: &fixed0},
	} {
		called := false
		err := guest.Run(strings.NewReader("abc\n"), io.Discard, opt, func([]byte, *guest.Replies) error {
			called = true
			return nil
		})
		if !errors.Is(err, frames.ErrFraming) || called {
			t.Errorf("Run(%+v) = %v (handler called: %v), want ErrFraming", opt, err, called)
		}
		field := "Options.Requests"
		if opt.Replies != nil {
			field = "Options.Replies"
		}
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
	if err := guest.Run(strings.NewReader("a\n"), io.Discard, guest.Options{}, nil); err == nil {
		t.Errorf("Run with a nil Handler succeeded")
	}
}

func TestRunMaxFrame(t *testing.T) {
	big := strings.Repeat("m", 100)
	for _, tt := range []struct {
		max int
		ok  bool
	}{{0, true}, {-1, true}, {100, true}, {99, false}} {
		var out bytes.Buffer
		err := guest.Run(strings.NewReader(big+"\n"), &out, guest.Options{MaxFrame: tt.max}, echo)
		if tt.ok && (err != nil || out.String() != big+"\n") || !tt.ok && !errors.Is(err, frames.ErrTooLarge) {
			t.Errorf("MaxFrame %d: Run = %v, output %d bytes", tt.max, err, out.Len())
		}
	}
}

// A panicking handler still delivers the replies made before the panic,
// and the panic is not swallowed.
func TestRunPanicFlushes(t *testing.T) {
	var out bytes.Buffer
	func() {
		defer func() {
			if p := recover(); p != "bang" {
				t.Errorf("recovered %v, want the handler's panic", p)
			}
		}()
		guest.Run(strings.NewReader("a\nb\nc\nd\n"), &out, guest.Options{}, func(req []byte, w *guest.Replies) error {
			w.Reply(req)
			if string(req) == "c" {
				panic("bang")
			}
			return nil
		})
		t.Error("Run returned")
	}()
	if out.String() != "a\nb\nc\n" {
		t.Errorf("output %q, want the replies made before the panic", out.String())
	}
}

func TestReplyTerminator(t *testing.T) {
	tests := []struct {
		f       frames.Framing
		payload string
		err     error
	}{
		{frames.Lines, "a\nb", frames.ErrTerminator},
		{frames.Lines, "\n", frames.ErrTerminator},
		{frames.Zero, "a\x00", frames.ErrTerminator},
		{frames.Fixed(1), "ab", frames.ErrSize},
		{frames.Fixed(2), "", frames.ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.f.String(), func(t *testing.T) {
			var out bytes.Buffer
			in := encode(t, tt.f, strings.Repeat("q", max(tt.f.Size(), 1)))
			var replyErr error
			err := guest.Run(bytes.NewReader(in), &out, guest.Options{Requests: tt.f}, func(req []byte, w *guest.Replies) error {
				replyErr = w.Reply([]byte(tt.payload))
				if !errors.Is(replyErr, tt.err) {
					t.Errorf("Reply(%q) = %v, want %v", tt.payload, replyErr, tt.err)
				}
				// A refused reply does not spoil the writer.
				return w.Reply(req)
			})
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			if !bytes.Equal(out.Bytes(), in) {
				t.Errorf("output %q, want only the echo %q", out.Bytes(), in)
			}
		})
	}
	// A handler that returns the Reply error fails the run with it.
	err := guest.Run(strings.NewReader("x\n"), io.Discard, guest.Options{}, func(req []byte, w *guest.Replies) error {
		return w.Reply([]byte("two\nlines"))
	})
	if !errors.Is(err, frames.ErrTerminator) || !strings.Contains(err.Error(), "request 1") {
		t.Fatalf("Run = %v, want ErrTerminator for request 1", err)
	}
}

// stepReader returns its chunks one per Read. Before returning chunk i it
// checks that the writer already holds the replies to every complete
// request in chunks 0..i-1: the guest flushes before each read that may
// block, so a parent waiting for those replies before writing more
// requests cannot deadlock with it.
type stepReader struct {
	t      *testing.T
	f      frames.Framing
	chunks [][]byte
	out    *bytes.Buffer
	reply  func(string) string // the reply to a request (echo: identity)
	i      int
	checks int
}

func (s *stepReader) Read(p []byte) (int, error) {
	if s.i > 0 {
		var seen []byte
		for _, c := range s.chunks[:s.i] {
			seen = append(seen, c...)
		}
		var want []byte
		for {
			adv, frame, err := s.f.Split(seen, false, 0)
			if err != nil {
				s.t.Fatal(err)
			}
			if adv == 0 {
				break
			}
			want, _ = s.f.Append(want, []byte(s.reply(string(frame))))
			seen = seen[adv:]
		}
		if !bytes.Equal(s.out.Bytes(), want) {
			s.t.Errorf("read %d: the writer holds %q; want the replies to the requests read so far, %q", s.i+1, s.out.Bytes(), want)
		}
		s.checks++
	}
	if s.i == len(s.chunks) {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[s.i])
	if n < len(s.chunks[s.i]) {
		s.t.Fatalf("read buffer of %d bytes is smaller than chunk %d", len(p), s.i)
	}
	s.i++
	return n, nil
}

func TestRunFlushesBeforeRead(t *testing.T) {
	tests := []struct {
		f      frames.Framing
		chunks []string
	}{
		{frames.Lines, []string{"a\nb\n", "c\n", "d\ne", "f\n", "", "g\n"}},
		{frames.Zero, []string{"a\x00b\x00", "c\x00", "d\x00e", "f\x00"}},
		{frames.LenPfx, []string{"\x01\x00\x00\x00\x00\x00\x00\x00a\x02\x00\x00", "\x00\x00\x00\x00\x00bc", "\x00\x00\x00\x00\x00\x00\x00\x00"}},
		{frames.Fixed(2), []string{"abcd", "e", "f", "ghij"}},
	}
	for _, tt := range tests {
		t.Run(tt.f.String(), func(t *testing.T) {
			var out bytes.Buffer
			s := &stepReader{t: t, f: tt.f, out: &out, reply: strings.ToUpper}
			for _, c := range tt.chunks {
				s.chunks = append(s.chunks, []byte(c))
			}
			err := guest.Run(s, &out, guest.Options{Requests: tt.f}, func(req []byte, w *guest.Replies) error {
				return w.Reply(bytes.ToUpper(req))
			})
			if err != nil {
				t.Fatal(err)
			}
			if s.checks != len(tt.chunks) {
				t.Fatalf("checked %d reads, want %d", s.checks, len(tt.chunks))
			}
		})
	}
}

// writeLog records the size of every Write.
type writeLog struct {
	bytes.Buffer
	writes []int
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.Buffer.Write(p)
}

// Replies bigger than the 64 KiB flush threshold go out while the handler
// runs, in writes of about that size, not all at the end.
func TestRunLargeOutput(t *testing.T) {
	const flushAt = 64 << 10
	line := strings.Repeat("r", 1000)
	var out writeLog
	maxHeld := 0
	err := guest.Run(strings.NewReader("go\n"), &out, guest.Options{}, func(req []byte, w *guest.Replies) error {
		for i := range 1000 {
			if err := w.Reply([]byte(line)); err != nil {
				return err
			}
			held := (i+1)*(len(line)+1) - out.Len()
			maxHeld = max(maxHeld, held)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1000*(len(line)+1) {
		t.Fatalf("%d bytes written, want %d", out.Len(), 1000*(len(line)+1))
	}
	if maxHeld >= flushAt+len(line)+1 {
		t.Errorf("the guest held %d bytes of replies", maxHeld)
	}
	if len(out.writes) < 1000*(len(line)+1)/(flushAt+len(line)+1) {
		t.Errorf("%d writes for %d bytes: %v", len(out.writes), out.Len(), out.writes)
	}
	for _, n := range out.writes[:len(out.writes)-1] {
		if n < flushAt || n > flushAt+len(line)+1 {
			t.Errorf("a write of %d bytes, want about %d", n, flushAt)
		}
	}

	// One reply larger than the threshold, in each framing that allows it.
	big := strings.Repeat("b", 1<<20)
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(len(big))} {
		var out bytes.Buffer
		reqs := []string{"x", big, "y"}
		if f.Size() > 0 {
			reqs = []string{big, big}
		}
		in := encode(t, f, reqs...)
		err := guest.Run(bytes.NewReader(in), &out, guest.Options{Requests: f}, echo)
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("%v: %d bytes out, want %d", f, out.Len(), len(in))
		}
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	n   int
	err error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

func TestRunWriteError(t *testing.T) {
	broken := errors.New("broken pipe")
	in := strings.Repeat("some request\n", 50000)
	// The handler ignores Reply's error: Run still reports it.
	err := guest.Run(strings.NewReader(in), &failWriter{n: 100 << 10, err: broken}, guest.Options{}, func(req []byte, w *guest.Replies) error {
		w.Reply(req)
		return nil
	})
	if !errors.Is(err, broken) {
		t.Fatalf("Run = %v, want %v", err, broken)
	}
	// A write error at the final flush.
	err = guest.Run(strings.NewReader("a\n"), &failWriter{err: broken}, guest.Options{}, echo)
	if !errors.Is(err, broken) {
		t.Fatalf("Run = %v, want %v", err, broken)
	}
	// A writer that breaks the io.Writer contract: short write, no error.
	err = guest.Run(strings.NewReader("a\n"), shortWriter{}, guest.Options{}, echo)
	if !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("Run = %v, want io.ErrShortWrite", err)
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestRunReadError(t *testing.T) {
	bad := errors.New("bad read")
	var out bytes.Buffer
	err := guest.Run(io.MultiReader(strings.NewReader("a\nb\nc"), iotest.ErrReader(bad)), &out, guest.Options{}, echo)
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), "request 3") {
		t.Fatalf("Run = %v, want %v naming request 3", err, bad)
	}
	if out.String() != "a\nb\n" {
		t.Fatalf("output %q", out.String())
	}
}

// BenchmarkRunLines echoes 1M short lines per op; ns/frame is the cost of
// one request and its reply, framing and buffering included.
func BenchmarkRunLines(b *testing.B) {
	const frames1M = 1 << 20
	in := bytes.Repeat([]byte("a short line\n"), frames1M)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := guest.Run(bytes.NewReader(in), io.Discard, guest.Options{}, echo); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/frames1M, "ns/frame")
}

// TestSlowHandlerRepliesFlow checks that replies to slow requests reach the
// parent while the guest still works on the rest of its batch.
func TestSlowHandlerRepliesFlow(t *testing.T) {
	in := strings.NewReader(strings.Repeat("x\n", 30))
	w := &timedWriter{start: time.Now()}
	err := guest.Run(in, w, guest.Options{}, func(req []byte, r *guest.Replies) error {
		time.Sleep(2 * time.Millisecond)
		return r.Reply(req)
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.writes < 3 || w.first > 40*time.Millisecond {
		t.Fatalf("%d writes, the first after %v: replies waited for the whole batch", w.writes, w.first)
	}
}

type timedWriter struct {
	start  time.Time
	first  time.Duration
	writes int
}

func (w *timedWriter) Write(p []byte) (int, error) {
	if w.writes == 0 {
		w.first = time.Since(w.start)
	}
	w.writes++
	return len(p), nil
}
