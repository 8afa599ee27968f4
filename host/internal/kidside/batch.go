//go:build linux

package kidside

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
)

// batches runs a fresh instance of the module for each batch the parent
// sends, until the parent closes the stream, and returns the exit code.
// Instances fail alone: their status goes back with their output, and the
// kid goes on with the next batch.
func (g *guest) batches(ctx context.Context, in io.Reader, results, reports io.Writer, outputLimit int64, replies frames.Framing) int {
	page := mapReads()
	var (
		head   [BatchHeaderSize]byte
		out    = &cappedBuffer{limit: outputLimit}
		errOut = &cappedBuffer{limit: stderrLimit, note: "\n[stderr cut here]\n"}
		msg    []byte
		file   inputFile
	)
	defer file.close()
	for {
		if err := readFull(in, head[:]); err != nil {
			if err == io.EOF {
				return 0
			}
			return fail(abi.ExitSetup, "reading a batch: %v", err)
		}
		h := parseBatchHeader(head[:])
		if h.Length > maxBatch {
			return fail(abi.ExitSetup, "a batch of %d bytes, more than the %d a kid takes", h.Length, maxBatch)
		}
		// The guest reads its batch straight into its memory, as a native
		// program would: from the input file, or from the pipe.
		var stdin io.Reader
		var section *fileSection
		var piped *pipeSection
		if h.Source == 0 {
			piped = &pipeSection{r: in, left: int64(h.Length)}
			stdin = piped
		} else if err := file.get(h.Source); err != nil {
			if h.Flags&OutputInMemory != 0 {
				if fd, err := receiveMemory(h.ID); err == nil {
					unix.Close(fd)
				}
			}
			if _, err := reports.Write(binary.LittleEndian.AppendUint64(nil, h.ID)); err != nil {
				return fail(abi.ExitSetup, "reporting batch %d: %v", h.ID, err)
			}
			if err := sendUnreadable(results, h.ID, err); err != nil {
				return fail(abi.ExitSetup, "sending the result of batch %d: %v", h.ID, err)
			}
			continue
		} else {
			section = &fileSection{fd: file.fd, pos: int64(h.Offset), end: int64(h.Offset + h.Length)}
			stdin = section
		}
		memory := -1
		if h.Flags&OutputInMemory != 0 {
			fd, err := receiveMemory(h.ID)
			if err != nil {
				return fail(abi.ExitSetup, "%v", err)
			}
			memory = fd
		}
		if _, err := reports.Write(binary.LittleEndian.AppendUint64(nil, h.ID)); err != nil {
			return fail(abi.ExitSetup, "reporting batch %d: %v", h.ID, err)
		}
		out.Reset()
		errOut.Reset()
		counted := &countingReader{r: stdin, page: page}
		page.store(ReadsID, h.ID)
		page.store(ReadsConsumed, 0)
		page.store(ReadsLastStart, 0)
		// An instance that writes past the limit is ended at once, with
		// the kid: one that ignores the failed write could write forever.
		out.onOverflow = func() {
			r := ResultHeader{ID: h.ID, Consumed: uint64(counted.n.Load()), Status: 0, Flags: OutputOverflow, Stderr: uint64(errOut.Len())}
			writeAll(results, r.Append(nil), errOut.Bytes())
			os.Exit(0)
		}
		err := g.run(ctx, counted, out, errOut)
		errOut.limit = 0 // the trap's message always fits
		status := g.report(err, errOut)
		errOut.limit = stderrLimit
		if errors.Is(err, errSetup) {
			os.Stderr.Write(errOut.Bytes())
			return status
		}
		if piped != nil {
			if err := piped.drain(); err != nil {
				return fail(abi.ExitSetup, "reading batch %d: %v", h.ID, err)
			}
		}
		if section != nil && section.err != nil {
			// The file was cut short under the instance: its output is
			// not the batch's, and the parent says why the run ends.
			if memory >= 0 {
				unix.Close(memory)
			}
			if err := sendUnreadable(results, h.ID, section.err); err != nil {
				return fail(abi.ExitSetup, "sending the result of batch %d: %v", h.ID, err)
			}
			continue
		}
		r := ResultHeader{ID: h.ID, Consumed: uint64(counted.n.Load()), Status: int32(status),
			Stdout: uint64(out.Len()), Stderr: uint64(errOut.Len())}
		r.count(out.Bytes(), replies)
		if out.overflow {
			r.Flags |= OutputOverflow
		}
		output := out.Bytes()
		if memory >= 0 {
			if len(output) > 0 && writeMemory(memory, output) == nil {
				r.Flags |= InMemoryFile
				output = nil
			}
			unix.Close(memory)
		}
		msg = r.Append(msg[:0])
		if err := writeAll(results, msg, output, errOut.Bytes()); err != nil {
			return fail(abi.ExitSetup, "sending the result of batch %d: %v", h.ID, err)
		}
	}
}

// count counts the reply frames of output, and flags how it ends.
func (r *ResultHeader) count(output []byte, replies frames.Framing) {
	n, count := replies.Whole(output, true, 0)
	r.Replies = uint64(count)
	if n < len(output) {
		r.Flags |= PartialReply
	}
	if t, ok := replies.Terminator(); ok && len(output) > 0 && output[len(output)-1] != t {
		r.Flags |= Unterminated
	}
}

// CutShort is the error of a batch that ends past the end of the input
// file, at byte end: the kid's and the parent's, who both read batches.
func CutShort(end int64) error {
	return fmt.Errorf("the input file ends at byte %d, inside a batch: it was cut short while the pool read it", end)
}

// inputFile is the run's input file as the parent passed it on ControlFD,
// with the generation it came with.
type inputFile struct {
	gen uint64
	fd  int
}

// get makes the file of generation gen the one held, taking it from the
// control socket if it is not.
func (f *inputFile) get(gen uint64) error {
	for f.gen != gen {
		if err := f.receive(); err != nil {
			return err
		}
	}
	return nil
}

// fileSection reads bytes [pos, end) of the input file for an instance,
// with pread, into the guest's buffer. A file that ends before end is an
// error, which it keeps (err): the guest must not take a batch cut short
// for the whole of it.
type fileSection struct {
	fd       int
	pos, end int64
	err      error
}

func (s *fileSection) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.pos >= s.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.end-s.pos)]
	for {
		n, err := unix.Pread(s.fd, p, s.pos)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			s.err = fmt.Errorf("reading the input file at byte %d: %w", s.pos, err)
			return 0, s.err
		case n == 0 && len(p) > 0:
			s.err = CutShort(s.pos)
			return 0, s.err
		}
		s.pos += int64(n)
		return n, nil
	}
}

// pipeSection reads the next left bytes of the parent's stream, a batch,
// for an instance, into the guest's buffer. The stream ending first is an
// error, which it keeps (err): the kid cannot go on without its parent.
type pipeSection struct {
	r    io.Reader
	left int64
	err  error
}

func (s *pipeSection) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.left == 0 {
		return 0, io.EOF
	}
	n, err := s.r.Read(p[:min(int64(len(p)), s.left)])
	s.left -= int64(n)
	switch {
	case err == io.EOF && s.left > 0:
		s.err = fmt.Errorf("the parent's stream ended %d bytes before the end of the batch: %w", s.left, io.ErrUnexpectedEOF)
	case err != nil && err != io.EOF:
		s.err = err
	}
	if n > 0 {
		return n, nil
	}
	return 0, s.err
}

// drain reads what the instance left of the batch, to reach the next
// batch's header.
func (s *pipeSection) drain() error {
	if s.err == nil && s.left > 0 {
		io.Copy(io.Discard, s) // its error is s.err
	}
	return s.err
}

// receive takes the next file the parent passed, in place of the one held.
func (f *inputFile) receive() error {
	gen, fd, err := receiveControl(ControlInputFile)
	if err != nil {
		return fmt.Errorf("receiving the input file: %w", err)
	}
	f.close()
	f.gen, f.fd = gen, fd
	return nil
}

// receiveMemory takes the memory file the parent passed for the output of
// batch id.
func receiveMemory(id uint64) (int, error) {
	got, fd, err := receiveControl(ControlOutputMemory)
	if err == nil && got != id {
		unix.Close(fd)
		err = fmt.Errorf("the one of batch %d came", got)
	}
	if err != nil {
		return -1, fmt.Errorf("receiving the memory file for batch %d's output: %w", id, err)
	}
	return fd, nil
}

// receiveControl takes the next message on ControlFD, which must be of
// the kind given, and returns its value and descriptor.
func receiveControl(kind uint64) (value uint64, fd int, err error) {
	var msg [ControlMessageSize]byte
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(ControlFD, msg[:], oob, unix.MSG_CMSG_CLOEXEC)
	for err == unix.EINTR {
		n, oobn, _, _, err = unix.Recvmsg(ControlFD, msg[:], oob, unix.MSG_CMSG_CLOEXEC)
	}
	if err != nil {
		return 0, -1, err
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
		fds, _ = unix.ParseUnixRights(&msgs[0])
	}
	got := binary.LittleEndian.Uint64(msg[:])
	if n != len(msg) || len(fds) != 1 || got != kind {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return 0, -1, fmt.Errorf("a message of %d bytes, kind %d and %d descriptors, not one of kind %d and a file", n, got, len(fds), kind)
	}
	return binary.LittleEndian.Uint64(msg[8:]), fds[0], nil
}

func (f *inputFile) close() {
	if f.gen != 0 {
		unix.Close(f.fd)
		f.gen = 0
	}
}

// sendUnreadable sends the result of batch id that could not be read
// from the input file: no output, and why on its stderr.
func sendUnreadable(results io.Writer, id uint64, why error) error {
	msg := []byte(why.Error())
	r := ResultHeader{ID: id, Status: abi.ExitSetup, Flags: InputUnreadable, Stderr: uint64(len(msg))}
	return writeAll(results, r.Append(nil), msg)
}

// writeMemory writes a batch's output into the memory file the parent
// passed for it, over what an earlier batch left there (so that its pages
// are used again, not allocated afresh), and cuts the file to the
// output's length.
func writeMemory(fd int, output []byte) error {
	if err := unix.Ftruncate(fd, int64(len(output))); err != nil {
		return err
	}
	for off := 0; off < len(output); {
		n, err := unix.Pwrite(fd, output[off:], int64(off))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		}
		off += n
	}
	return nil
}

// maxBatch bounds a batch a kid accepts, against a corrupt header.
const maxBatch = 1 << 34

// stderrLimit bounds what a batch's instance may write to stderr; past it,
// its stderr is cut and says so.
const stderrLimit = 64 << 10

func writeAll(w io.Writer, parts ...[]byte) error {
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// countingReader counts the bytes the guest read, the frames past them
// are ones it never saw, and keeps the count on the shared page too.
type countingReader struct {
	r    io.Reader
	n    atomic.Int64
	page readsPage
}

func (c *countingReader) Read(p []byte) (int, error) {
	start := c.n.Load()
	n, err := c.r.Read(p)
	if n > 0 {
		c.page.store(ReadsLastStart, uint64(start))
		c.page.store(ReadsConsumed, uint64(start)+uint64(n))
	}
	c.n.Add(int64(n))
	return n, err
}

// readsPage is the ReadsFD page as the kid writes it; nil if the parent
// gave none.
type readsPage []uint64

func mapReads() readsPage {
	mem, err := unix.Mmap(ReadsFD, 0, ReadsPage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), 3)
}

func (p readsPage) store(word int, v uint64) {
	if p != nil {
		atomic.StoreUint64(&p[word], v)
	}
}

// cappedBuffer keeps what an instance writes, up to limit bytes (0: no
// limit); a write past it fails, and the buffer notes the overflow and
// appends note.
type cappedBuffer struct {
	bytes.Buffer
	limit      int64
	note       string
	overflow   bool
	onOverflow func() // called at the first write past the limit, if set
}

var errOverflow = errors.New("output limit reached")

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.limit > 0 && int64(b.Len()+len(p)) > b.limit {
		if b.onOverflow != nil {
			b.onOverflow()
		}
		room := max(0, int(b.limit)-b.Len())
		b.Buffer.Write(p[:room])
		if !b.overflow {
			b.Buffer.WriteString(b.note)
		}
		b.overflow = true
		return room, errOverflow
	}
	return b.Buffer.Write(p)
}

func (b *cappedBuffer) Reset() {
	b.Buffer.Reset()
	b.overflow = false
	if b.Cap() > 64<<20 { // one huge batch: do not keep its buffer
		b.Buffer = bytes.Buffer{}
	}
}
