package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

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

// concat reads the inputs one after the other as one stream. A frame
// never spans two inputs: in lines and zero framing, an input whose last
// frame lacks its terminator gets one. It counts the bytes read and, for
// lines and zero framing, the frames before each input, so that a request
// can be named by its input and its number there.
type concat struct {
	ins    []input
	cur    int
	term   byte
	terms  bool // the framing has a terminator
	last   byte // the last byte read from the current input
	any    bool // the current input gave a byte
	frames int64
	starts []int64 // frames before input i, -1 until it is reached
	mu     sync.Mutex
	bytes  atomic.Int64
}

func newConcat(ins []input, f frames.Framing) *concat {
	c := &concat{ins: ins, starts: make([]int64, len(ins))}
	c.term, c.terms = f.Terminator()
	for i := range c.starts {
		c.starts[i] = -1
	}
	if len(ins) > 0 {
		c.starts[0] = 0
	}
	return c
}

func (c *concat) Read(p []byte) (int, error) {
	for c.cur < len(c.ins) {
		n, err := c.ins[c.cur].r.Read(p)
		if n > 0 {
			c.any, c.last = true, p[n-1]
			c.bytes.Add(int64(n))
			if c.terms {
				c.mu.Lock()
				c.frames += int64(bytes.Count(p[:n], []byte{c.term}))
				c.mu.Unlock()
			}
			return n, nil
		}
		if err == nil {
			continue
		}
		if err != io.EOF {
			return 0, fmt.Errorf("reading %s: %w", inputName(c.ins[c.cur].name), err)
		}
		added := c.terms && c.any && c.last != c.term && c.cur+1 < len(c.ins)
		c.cur++
		c.mu.Lock()
		if added {
			c.frames++
		}
		if c.cur < len(c.ins) {
			c.starts[c.cur] = c.frames
		}
		c.mu.Unlock()
		c.any = false
		if added && len(p) > 0 {
			p[0] = c.term
			c.bytes.Add(1)
			return 1, nil
		}
	}
	return 0, io.EOF
}

// where names request i (from 0) by its input and its number there, when
// the inputs are several and their frames were counted.
func (c *concat) where(i int) (name string, n int64, ok bool) {
	if len(c.ins) < 2 || !c.terms {
		return "", 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := 0
	for j, start := range c.starts {
		if start >= 0 && start <= int64(i) {
			f = j
		}
	}
	return inputName(c.ins[f].name), int64(i) - c.starts[f] + 1, true
}
