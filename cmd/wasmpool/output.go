package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// output writes replies to stdout through a buffer that is flushed when it
// fills, at the end, and at least every flushEvery, so replies show up
// while a long run goes on.
type output struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
}

const flushEvery = 200 * time.Millisecond

func newOutput(w io.Writer) *output {
	return &output{w: bufio.NewWriterSize(w, 256<<10)}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	var n int
	n, o.err = o.w.Write(p)
	return n, o.err
}

func (o *output) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil && o.w.Buffered() > 0 {
		o.err = o.w.Flush()
	}
	return o.err
}

// flushLoop flushes every flushEvery until stop is closed.
func (o *output) flushLoop(stop <-chan struct{}) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			o.flush()
		}
	}
}

// console is wasmpool's stderr: its own messages, the guests' stderr lines
// (which the pool prefixes with "kid N: ") and the progress line share it.
// On a terminal the progress line is redrawn in place and cleared before
// anything else is written.
type console struct {
	mu  sync.Mutex
	w   io.Writer
	tty bool
	bar bool // a progress line is on screen
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	return c.w.Write(p)
}

func (c *console) clearLocked() {
	if c.bar {
		io.WriteString(c.w, "\r\033[K")
		c.bar = false
	}
}

// printf writes one message line, prefixed "wasmpool: ".
func (c *console) printf(format string, args ...any) {
	fmt.Fprintf(c, "wasmpool: "+format+"\n", args...)
}

// status shows a progress line: redrawn in place on a terminal (cut to
// its width, so that it never wraps), a line of its own elsewhere.
func (c *console) status(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tty {
		io.WriteString(c.w, "\r"+fitWidth(line, termWidth(c.w))+"\033[K")
		c.bar = true
		return
	}
	io.WriteString(c.w, line+"\n")
}

// endStatus leaves the last progress line on screen and moves past it.
func (c *console) endStatus() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar {
		io.WriteString(c.w, "\n")
		c.bar = false
	}
}

// fitWidth cuts line to fewer than cols characters (cols 0: unknown, no
// cut): a line as wide as the terminal would wrap, and "\r" would then
// redraw only its last part.
func fitWidth(line string, cols int) string {
	if cols <= 1 || utf8.RuneCountInString(line) < cols {
		return line
	}
	n := 0
	for i := range line {
		if n == cols-1 {
			return line[:i]
		}
		n++
	}
	return line
}

// isPipeOrFile reports whether f is a pipe or a regular file.
func isPipeOrFile(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && (fi.Mode()&os.ModeNamedPipe != 0 || fi.Mode().IsRegular())
}
