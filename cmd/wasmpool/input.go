package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
)

// input is one source of requests: a file given with -i, or stdin.
type input struct {
	name string // as given; "-" for stdin
	r    io.Reader
	c    io.Closer // nil for stdin
	size int64     // bytes to read, -1 when unknown (a pipe)
}

// openInputs opens every input before the pool starts, so that a missing
// file is a set-up error. An empty list means stdin.
func openInputs(names []string, stdin io.Reader) ([]input, error) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	var ins []input
	for _, name := range names {
		if name == "-" {
			ins = append(ins, input{name: name, r: stdin, size: fileSize(stdin)})
			continue
		}
		f, err := os.Open(name)
		if err == nil {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil && st.IsDir() {
				f.Close()
				err = &os.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
			}
		}
		if err != nil {
			closeInputs(ins)
			return nil, err
		}
		ins = append(ins, input{name: name, r: f, c: f, size: fileSize(f)})
	}
	return ins, nil
}

func closeInputs(ins []input) {
	for _, in := range ins {
		if in.c != nil {
			in.c.Close()
		}
	}
}

// fileSize returns how many bytes are left to read from a regular file,
// or -1.
func fileSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	return max(0, st.Size()-off)
}

// chunk is a piece of an input read by the reading goroutine.
type chunk struct {
	data []byte
	buf  []byte // the pooled buffer data is in, nil for an end
	end  bool   // the input ends here (after data, if any)
	err  error  // why it ended early, with end
}

const chunkSize = 256 << 10

// reader reads the inputs in a goroutine of its own and hands their bytes
// to the request iterator as an io.Reader per input. Reading apart from
// the pool's loop keeps a slow or idle input (a terminal, tail -f) from
// holding up Ctrl-C; when the input has nothing ready, the reader calls
// idle (to flush the output) before it waits.
type reader struct {
	ctx   context.Context
	ch    chan chunk
	free  chan []byte
	cur   chunk
	off   int
	idle  func()
	bytes atomic.Int64 // bytes handed on so far
}

func startReader(ctx context.Context, ins []input, idle func()) *reader {
	rd := &reader{ctx: ctx, ch: make(chan chunk, 8), free: make(chan []byte, 10), idle: idle}
	go rd.loop(ins)
	return rd
}

func (rd *reader) loop(ins []input) {
	defer close(rd.ch)
	send := func(c chunk) bool {
		select {
		case rd.ch <- c:
			return true
		case <-rd.ctx.Done():
			return false
		}
	}
	for _, in := range ins {
		for {
			var buf []byte
			select {
			case buf = <-rd.free:
			default:
				buf = make([]byte, chunkSize)
			}
			n, err := in.r.Read(buf)
			if n > 0 && !send(chunk{data: buf[:n], buf: buf}) {
				return
			}
			if err == io.EOF {
				err = nil
			} else if err == nil {
				if n == 0 {
					rd.recycle(buf)
				}
				continue
			}
			if n == 0 {
				rd.recycle(buf)
			}
			if !send(chunk{end: true, err: err}) {
				return
			}
			break
		}
		if in.c != nil {
			in.c.Close()
		}
	}
}

func (rd *reader) recycle(buf []byte) {
	select {
	case rd.free <- buf:
	default:
	}
}

// Read reads the current input; it returns io.EOF at its end, after which
// the next Read reads the next input.
func (rd *reader) Read(p []byte) (int, error) {
	for rd.off == len(rd.cur.data) {
		if rd.cur.buf != nil {
			rd.recycle(rd.cur.buf)
			rd.cur.buf = nil
		}
		if rd.cur.end {
			err := rd.cur.err
			rd.cur = chunk{}
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		var c chunk
		var ok bool
		select {
		case c, ok = <-rd.ch:
		default:
			if rd.idle != nil {
				rd.idle()
			}
			select {
			case c, ok = <-rd.ch:
			case <-rd.ctx.Done():
				return 0, rd.ctx.Err()
			}
		}
		if !ok {
			if err := rd.ctx.Err(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		rd.cur, rd.off = c, 0
	}
	n := copy(p, rd.cur.data[rd.off:])
	rd.off += n
	rd.bytes.Add(int64(n))
	return n, nil
}

// scanner cuts one input into frames like frames.Reader, but a frame over
// the size limit is skipped and reported (TooLarge) rather than ending the
// input, so the requests after it still run.
type scanner struct {
	r        io.Reader
	f        frames.Framing
	maxFrame int

	buf        []byte
	start, end int
	eof        bool
	err        error
	frame      []byte
	tooLarge   int64 // the size of the frame Scan skipped, when it did
}

func newScanner(r io.Reader, f frames.Framing, maxFrame int) *scanner {
	return &scanner{r: r, f: f, maxFrame: maxFrame}
}

// Scan moves to the next frame: Bytes is its payload, or TooLarge is its
// size when it was over the limit and skipped. It returns false at the end
// of the input or on an error (Err).
func (s *scanner) Scan() bool {
	s.frame, s.tooLarge = nil, 0
	for s.err == nil {
		adv, frame, err := s.f.Split(s.buf[s.start:s.end], s.eof, s.maxFrame)
		if errors.Is(err, frames.ErrTooLarge) {
			return s.skip()
		}
		if err != nil {
			s.err = err
			return false
		}
		if adv > 0 {
			s.start += adv
			s.frame = frame
			return true
		}
		if s.eof {
			s.err = io.EOF
			return false
		}
		s.fill()
	}
	return false
}

func (s *scanner) Bytes() []byte   { return s.frame }
func (s *scanner) TooLarge() int64 { return s.tooLarge }

// Err returns the error that ended the input, nil at a clean end.
func (s *scanner) Err() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// skip discards the oversized frame at the start of the buffer.
func (s *scanner) skip() bool {
	if s.f == frames.LenPfx {
		n := binary.LittleEndian.Uint64(s.buf[s.start:])
		left := n + abi.LenPfxHeader
		for {
			avail := uint64(s.end - s.start)
			if avail >= left {
				s.start += int(left)
				s.tooLarge = int64(min(n, 1<<62))
				return true
			}
			left -= avail
			s.start, s.end = 0, 0
			if s.eof {
				s.err = fmt.Errorf("%w: %d of %d payload bytes", frames.ErrTruncated, n+abi.LenPfxHeader-left-abi.LenPfxHeader, n)
				return false
			}
			if s.fill(); s.err != nil {
				return false
			}
		}
	}
	term := byte('\n')
	if s.f == frames.Zero {
		term = 0
	}
	var size int64
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], term); i >= 0 {
			size += int64(i)
			s.start += i + 1
			s.tooLarge = size
			return true
		}
		size += int64(s.end - s.start)
		s.start, s.end = 0, 0
		if s.eof {
			s.tooLarge = size
			return true
		}
		if s.fill(); s.err != nil {
			s.tooLarge = size
			return true
		}
	}
}

// fill reads more, after moving unread bytes to the front or growing the
// buffer up to what the largest frame needs.
func (s *scanner) fill() {
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) {
		size := max(2*len(s.buf), 64<<10)
		if limit := s.maxFrame + abi.LenPfxHeader + 1; size > limit {
			size = max(limit, len(s.buf)+1)
		}
		buf := make([]byte, size)
		copy(buf, s.buf[:s.end])
		s.buf = buf
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if err == io.EOF {
		s.eof = true
	} else if err != nil {
		s.err = err
	}
}
