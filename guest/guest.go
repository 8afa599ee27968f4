package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wasmpool/wasmpool/frames"
)

// Handler handles one request. req is valid only during the call; replies
// written through w are copied.
type Handler func(req []byte, w *Replies) error

// Replies writes reply frames in the reply framing. Replies are buffered and
// written before the next read of requests, when the buffer passes 64 KiB,
// and when [Run] returns.
type Replies struct {
	f   frames.Framing
	buf []byte
	w   io.Writer
	err error

	flushed time.Time // when replies were last written
}

// maxDelay bounds how long a reply waits in the buffer while the guest
// works through the rest of a batch of requests: with slow requests, a
// batch can take seconds, and the parent should see replies as they come.
const maxDelay = 10 * time.Millisecond

// pacer tells when buffered replies have waited maxDelay. Reading the clock
// is a host call, so it reads it only every so many requests, about once a
// millisecond whatever a request costs.
type pacer struct {
	every, n  int
	lastCheck time.Time
}

// due reports whether replies buffered since the flush at flushed are due.
func (p *pacer) due(flushed time.Time) bool {
	if p.n++; p.n < p.every {
		return false
	}
	p.n = 0
	now := time.Now()
	if p.lastCheck.IsZero() {
		p.every = 1
	}
	switch gap := now.Sub(p.lastCheck); {
	case gap < time.Millisecond:
		p.every = min(2*p.every, 4096)
	case gap > 2*time.Millisecond:
		p.every = max(p.every/2, 1)
	}
	p.lastCheck = now
	return now.Sub(flushed) >= maxDelay
}

// flushAt is the buffered size at which replies are written even before the
// next read.
const flushAt = 64 << 10

// Reply writes one reply frame. It fails if p cannot be framed (a lines or
// zero payload containing its terminator, a fixed payload of the wrong size;
// nothing is written and later replies are not affected) or if writing the
// replies failed (then every later Reply fails too, and so does [Run]).
func (w *Replies) Reply(p []byte) error {
	if w.err != nil {
		return w.err
	}
	buf, err := w.f.Append(w.buf, p)
	if err != nil {
		return err
	}
	w.buf = buf
	if len(w.buf) >= flushAt {
		return w.Flush()
	}
	return nil
}

// Flush writes the buffered replies now. Handlers rarely need it: replies
// are flushed before every read of requests.
func (w *Replies) Flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	n, err := w.w.Write(w.buf)
	w.flushed = time.Now()
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("writing replies: %w", err)
	}
	if cap(w.buf) > 4*flushAt {
		// One large reply grew the buffer: do not hold on to it, a guest's
		// memory is capped.
		w.buf = make([]byte, 0, flushAt)
	}
	w.buf = w.buf[:0]
	return w.err
}

// flushingReader flushes the replies before every read of the requests.
type flushingReader struct {
	r io.Reader
	w *Replies
}

func (fr flushingReader) Read(p []byte) (int, error) {
	if err := fr.w.Flush(); err != nil {
		return 0, err
	}
	return fr.r.Read(p)
}

// Options tune [Run]. The zero value reads and replies in lines framing,
// with requests up to abi.DefaultMaxFrame bytes.
type Options struct {
	// Requests is the request framing.
	Requests frames.Framing
	// Replies is the reply framing; nil means the same as Requests.
	Replies *frames.Framing
	// MaxFrame bounds a request's size: 0 means abi.DefaultMaxFrame, a
	// negative value no limit.
	MaxFrame int
}

// Run reads request frames from r until EOF, calls h for each and writes
// its replies to w. Replies are buffered, and flushed before every read of
// r, so that a parent waiting for them never waits on the guest. Run
// returns nil at EOF, or the first error: a bad request frame or a read
// error (naming the request being read), a handler error (wrapped with the
// request number, counting from 1) or a write error. The replies written
// before an error, or before a panic in h, are flushed.
func Run(r io.Reader, w io.Writer, opt Options, h Handler) error {
	if h == nil {
		return errors.New("nil Handler")
	}
	if err := opt.Requests.Validate(); err != nil {
		return fmt.Errorf("Options.Requests: %w", err)
	}
	replyFraming := opt.Requests
	if opt.Replies != nil {
		replyFraming = *opt.Replies
		if err := replyFraming.Validate(); err != nil {
			return fmt.Errorf("Options.Replies: %w", err)
		}
	}
	out := &Replies{f: replyFraming, w: w, buf: make([]byte, 0, flushAt), flushed: time.Now()}
	in := frames.NewReader(flushingReader{r: r, w: out}, opt.Requests)
	if opt.MaxFrame != 0 {
		in.SetMaxFrame(opt.MaxFrame)
	}
	done := false
	defer func() {
		if !done {
			// h panicked: write the replies it and its predecessors made,
			// so the parent has every answer given before the crash. The
			// panic goes on, with its own stack trace.
			out.Flush()
		}
	}()
	var pace pacer
	for in.Scan() {
		if err := h(in.Bytes(), out); err != nil {
			done = true
			out.Flush()
			return fmt.Errorf("request %d: %w", in.Count(), err)
		}
		if len(out.buf) > 0 && pace.due(out.flushed) {
			if err := out.Flush(); err != nil {
				done = true
				return err
			}
		}
	}
	done = true
	if err := out.Flush(); err != nil {
		return err
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("reading request %d: %w", in.Count()+1, err)
	}
	return nil
}

// Serve runs h over stdin and stdout with the same framing for requests and
// replies, and returns at EOF. On an error it writes a line to stderr and
// exits with status 1.
func Serve(f frames.Framing, h Handler) {
	ServeOptions(Options{Requests: f}, h)
}

// ServeOptions is Serve with separate reply framing and limits.
func ServeOptions(opt Options, h Handler) {
	if err := Run(os.Stdin, os.Stdout, opt, h); err != nil {
		fmt.Fprintf(os.Stderr, "guest: %v\n", err)
		os.Exit(1)
	}
}
