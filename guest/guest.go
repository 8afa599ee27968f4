package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wasmpool/wasmpool/abi"
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
	// Strict says that the guest reads and writes only the framings above
	// (its records mean something only in them): when the pool passes other
	// framings in the environment, [ServeOptions] reports both and exits 1
	// instead of adopting them. Run ignores it; see [FromEnv].
	Strict bool
}

// FromEnv returns opt with the framings that the pool passes in the
// environment variables abi.FramesEnv (WASMPOOL_FRAMES, the request
// framing) and abi.ReplyFramesEnv (WASMPOOL_REPLY_FRAMES, the reply
// framing): the framings in opt are the defaults, used when the variables
// are unset or empty, as when the guest runs outside a pool or under an
// older host. A reply variable that is missing means the same as the
// request framing when that is set. With opt.Strict, a pool framing other
// than opt's is an error ("this guest reads fixed:4 requests; the pool
// sends lines"); so is a value that is not a framing name, strict or not.
// [ServeOptions] and [Serve] call it; a guest that calls [Run] itself may.
func FromEnv(opt Options) (Options, error) {
	req, reqSet, err := envFraming(abi.FramesEnv)
	if err != nil {
		return opt, err
	}
	rep, repSet, err := envFraming(abi.ReplyFramesEnv)
	if err != nil {
		return opt, err
	}
	if !reqSet && !repSet {
		return opt, nil
	}
	ownReq, ownRep := opt.Requests, opt.Requests
	if opt.Replies != nil {
		ownRep = *opt.Replies
	}
	if !reqSet {
		req = ownReq
	}
	if !repSet {
		rep = ownRep
		if reqSet {
			rep = req
		}
	}
	if opt.Strict {
		if req != ownReq {
			return opt, fmt.Errorf("this guest reads %v requests; the pool sends %v", ownReq, req)
		}
		if rep != ownRep {
			return opt, fmt.Errorf("this guest writes %v replies; the pool reads %v", ownRep, rep)
		}
	}
	opt.Requests, opt.Replies = req, nil
	if rep != req {
		opt.Replies = &rep
	}
	return opt, nil
}

// envFraming reads the framing named by the environment variable name; set
// is false when it is unset or empty.
func envFraming(name string) (f frames.Framing, set bool, err error) {
	v := os.Getenv(name)
	if v == "" {
		return f, false, nil
	}
	if f, err = frames.Parse(v); err != nil {
		return f, false, fmt.Errorf("%s: %w", name, err)
	}
	return f, true, nil
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
// replies, and returns at EOF. f is the default: when the pool passes its
// framings in the environment, Serve adopts them (see [FromEnv]). On an
// error it writes a line to stderr and exits with status 1.
func Serve(f frames.Framing, h Handler) {
	ServeOptions(Options{Requests: f}, h)
}

// ServeOptions is Serve with separate reply framing, limits and
// [Options.Strict].
func ServeOptions(opt Options, h Handler) {
	opt, err := FromEnv(opt)
	if err == nil {
		err = Run(os.Stdin, os.Stdout, opt, h)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "guest: %v\n", err)
		os.Exit(1)
	}
}
