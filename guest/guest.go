package guest

import (
	"fmt"
	"io"
	"os"

	"wasmpool/frames"
)

// Handler handles one request. req is valid only during the call; replies
// written through w are copied.
type Handler func(req []byte, w *Replies) error

// Replies writes reply frames in the reply framing.
type Replies struct {
	f   frames.Framing
	buf []byte
	w   io.Writer
	err error
}

// flushAt is the buffered size at which replies are written even before the
// next read.
const flushAt = 64 << 10

// Reply writes one reply frame. It fails if p cannot be framed (a lines or
// zero payload containing its terminator, a fixed payload of the wrong size)
// or if writing to stdout failed.
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

// Flush writes the buffered replies.
func (w *Replies) Flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, w.err = w.w.Write(w.buf)
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

// Options tune [Run]. The zero value reads and replies in lines framing.
type Options struct {
	// Requests and Replies are the framings; Replies defaults to Requests
	// when it is nil.
	Requests frames.Framing
	Replies  *frames.Framing
	// MaxFrame bounds a request's size; 0 means abi.DefaultMaxFrame.
	MaxFrame int
}

// Run reads request frames from r until EOF, calls h for each and writes
// its replies to w. It returns nil at EOF, or the first error: a bad
// request frame, a handler error (wrapped with the request number, counting
// from 1) or a write error.
func Run(r io.Reader, w io.Writer, opt Options, h Handler) error {
	replyFraming := opt.Requests
	if opt.Replies != nil {
		replyFraming = *opt.Replies
	}
	if err := replyFraming.Validate(); err != nil {
		return err
	}
	out := &Replies{f: replyFraming, w: w, buf: make([]byte, 0, flushAt)}
	in := frames.NewReader(flushingReader{r: r, w: out}, opt.Requests)
	if opt.MaxFrame != 0 {
		in.SetMaxFrame(opt.MaxFrame)
	}
	for in.Scan() {
		if err := h(in.Bytes(), out); err != nil {
			out.Flush()
			return fmt.Errorf("request %d: %w", in.Count(), err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("writing replies: %w", err)
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
