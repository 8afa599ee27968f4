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
		data   []byte
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
		if uint64(cap(data)) < h.Length {
			// Batches grow by doubling and differ by a partial frame:
			// grow ahead, or each slightly larger one faults a new buffer in.
			data = make([]byte, h.Length, max(h.Length, 2*uint64(cap(data)), 64<<10))
		}
		data = data[:h.Length]
		if h.Source == 0 {
			if err := readFull(in, data); err != nil {
				return fail(abi.ExitSetup, "reading batch %d: %v", h.ID, err)
			}
		} else if err := file.readAt(h.Source, data, h.Offset); err != nil {
			// No instance runs: the parent says why the run ends.
			why := []byte(err.Error())
			r := ResultHeader{ID: h.ID, Status: abi.ExitSetup, Flags: InputUnreadable, Stderr: uint64(len(why))}
			if _, err := reports.Write(binary.LittleEndian.AppendUint64(nil, h.ID)); err != nil {
				return fail(abi.ExitSetup, "reporting batch %d: %v", h.ID, err)
			}
			if err := writeAll(results, r.Append(msg[:0]), why); err != nil {
				return fail(abi.ExitSetup, "sending the result of batch %d: %v", h.ID, err)
			}
			continue
		}
		if _, err := reports.Write(binary.LittleEndian.AppendUint64(nil, h.ID)); err != nil {
			return fail(abi.ExitSetup, "reporting batch %d: %v", h.ID, err)
		}
		out.Reset()
		errOut.Reset()
		stdin := &countingReader{r: bytes.NewReader(data), page: page}
		page.store(ReadsID, h.ID)
		page.store(ReadsConsumed, 0)
		page.store(ReadsLastStart, 0)
		// An instance that writes past the limit is ended at once, with
		// the kid: one that ignores the failed write could write forever.
		out.onOverflow = func() {
			r := ResultHeader{ID: h.ID, Consumed: uint64(stdin.n.Load()), Status: 0, Flags: OutputOverflow, Stderr: uint64(errOut.Len())}
			writeAll(results, r.Append(nil), errOut.Bytes())
			os.Exit(0)
		}
		err := g.run(ctx, stdin, out, errOut)
		errOut.limit = 0 // the trap's message always fits
		status := g.report(err, errOut)
		errOut.limit = stderrLimit
		if errors.Is(err, errSetup) {
			os.Stderr.Write(errOut.Bytes())
			return status
		}
		r := ResultHeader{ID: h.ID, Consumed: uint64(stdin.n.Load()), Status: int32(status),
			Stdout: uint64(out.Len()), Stderr: uint64(errOut.Len())}
		r.count(out.Bytes(), replies)
		if out.overflow {
			r.Flags |= OutputOverflow
		}
		output := out.Bytes()
		if h.Flags&OutputInMemory != 0 && len(output) > 0 && passInMemory(h.ID, output) == nil {
			r.Flags |= InMemoryFile
			output = nil
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

// readAt reads len(b) bytes at off from the file of generation gen,
// taking it from the control socket if it is not the one held.
func (f *inputFile) readAt(gen uint64, b []byte, off uint64) error {
	for f.gen != gen {
		if err := f.receive(); err != nil {
			return err
		}
	}
	for len(b) > 0 {
		n, err := unix.Pread(f.fd, b, int64(off))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("reading the input file at byte %d: %w", off, err)
		case n == 0:
			return CutShort(int64(off))
		}
		b, off = b[n:], off+uint64(n)
	}
	return nil
}

// receive takes the next file the parent passed, in place of the one held.
func (f *inputFile) receive() error {
	var gen [8]byte
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(ControlFD, gen[:], oob, unix.MSG_CMSG_CLOEXEC)
	for err == unix.EINTR {
		n, oobn, _, _, err = unix.Recvmsg(ControlFD, gen[:], oob, unix.MSG_CMSG_CLOEXEC)
	}
	if err != nil {
		return fmt.Errorf("receiving the input file: %w", err)
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
		fds, _ = unix.ParseUnixRights(&msgs[0])
	}
	if n != len(gen) || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return fmt.Errorf("receiving the input file: a message of %d bytes and %d descriptors, not a generation and a file", n, len(fds))
	}
	f.close()
	f.gen, f.fd = binary.LittleEndian.Uint64(gen[:]), fds[0]
	return nil
}

func (f *inputFile) close() {
	if f.gen != 0 {
		unix.Close(f.fd)
		f.gen = 0
	}
}

// passInMemory puts a batch's output in a new memory file and passes it
// to the parent on ControlFD, with the batch's id. If it cannot, the
// output goes on RepliesFD as usual.
func passInMemory(id uint64, output []byte) error {
	fd, err := unix.MemfdCreate("wasmpool batch output", unix.MFD_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for b := output; len(b) > 0; {
		n, err := unix.Write(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		}
		b = b[n:]
	}
	msg := binary.LittleEndian.AppendUint64(nil, id)
	for {
		err = unix.Sendmsg(ControlFD, msg, unix.UnixRights(fd), nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return err
		}
	}
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
