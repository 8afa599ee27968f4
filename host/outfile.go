//go:build linux

package host

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// memoryMin is the least batch for which a kid is passed a memory file
// for its output: less is read through the pipe as cheaply.
// maxMemoryFiles bounds the memory files out (passed with batches or
// holding outputs that wait for their turn, under Keep), and so the
// descriptors they take; maxSpareMemoryFiles those kept to be used again.
const (
	memoryMin           = 16 << 10
	maxMemoryFiles      = 256
	maxSpareMemoryFiles = 16
)

// outFile is Filter's output when it is a regular file that the kernel
// can copy kids' outputs into from memory files (see copyOutput). It owns
// the memory files: a kid is passed one with a batch (giveMemory) and
// writes the batch's output into it; once the output is copied, or was
// not put there, the file is kept to be written over by the next batch,
// its pages used again rather than freed and allocated afresh (see
// host/RATIONALE.md, "Why a batch's output reaches a file in a memory
// file").
type outFile struct {
	fd     int
	failed func(err *WriteError) // reports a failed copy as Filter a failed write
	out    int                   // memory files taken and not put back
	spare  []*os.File            // memory files put back, to be taken again
}

// take returns a memory file for a batch's output, or nil if too many
// are out or none can be made.
func (o *outFile) take() *os.File {
	if o.out >= maxMemoryFiles {
		return nil
	}
	var f *os.File
	if n := len(o.spare); n > 0 {
		f, o.spare = o.spare[n-1], o.spare[:n-1]
	} else {
		fd, err := unix.MemfdCreate("wasmpool batch output", unix.MFD_CLOEXEC)
		if err != nil {
			return nil
		}
		f = os.NewFile(uintptr(fd), "batch output")
	}
	o.out++
	return f
}

// put takes back a memory file that no kid will write into any more: its
// kid has sent the batch's result, or has been reaped.
func (o *outFile) put(f *os.File) {
	o.out--
	if len(o.spare) < maxSpareMemoryFiles {
		o.spare = append(o.spare, f)
		return
	}
	f.Close()
}

// close closes the spare memory files, at the end of a run.
func (o *outFile) close() {
	for _, f := range o.spare {
		f.Close()
	}
	o.spare = nil
}

// outputFD returns the descriptor of dst and its type (unix.S_IFIFO or
// unix.S_IFREG) if the kids' outputs can bypass this process on their
// way into it; otherwise -1. dst must be an *os.File, and either a pipe
// in blocking mode (a shell's `| next`, not one of Go's own, which its
// poller runs in non-blocking mode), which outputs are spliced into (see
// spliceOutput) and which is asked for a 1 MiB buffer as the kids' pipes
// are; or a regular file open for writing without O_APPEND (which
// sendfile refuses), which outputs are copied into from memory files (see
// copyOutput).
func outputFD(dst io.Writer) (fd int, kind uint32) {
	f, ok := dst.(*os.File)
	if !ok {
		return -1, 0
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, 0
	}
	fd = -1
	rc.Control(func(raw uintptr) {
		var st unix.Stat_t
		fl, err := unix.FcntlInt(raw, unix.F_GETFL, 0)
		if err != nil || unix.Fstat(int(raw), &st) != nil || fl&unix.O_ACCMODE == unix.O_RDONLY {
			return
		}
		switch kind = st.Mode & unix.S_IFMT; {
		case kind == unix.S_IFIFO && fl&unix.O_NONBLOCK == 0:
			fd = int(raw)
			unix.FcntlInt(raw, unix.F_SETPIPE_SZ, batchPipeSize) // best effort
		case kind == unix.S_IFREG && fl&unix.O_APPEND == 0:
			fd = int(raw)
		}
	})
	return fd, kind
}

// giveMemory passes k a memory file for the output of b, if the output
// is a regular file, the kid is on this machine and the batch is large
// enough to be worth it, and returns the file; nil if none is passed.
func (d *batchRun) giveMemory(k *batchKid, b *batch) *os.File {
	if d.outFile == nil || k.proc.control < 0 || b.size < memoryMin {
		return nil
	}
	f := d.outFile.take()
	if f != nil && k.proc.passMemory(f, b.id) != nil {
		d.outFile.put(f)
		f = nil
	}
	return f
}

// releaseMemory puts back the memory file passed with b, whose kid is
// done with it.
func (d *batchRun) releaseMemory(b *batch) {
	if b.mem != nil {
		d.outFile.put(b.mem)
		b.mem = nil
	}
}

// copyOutput has the kernel copy f's output from its memory file into
// the output file, at the file's offset, and puts the memory file back. The
// copy is never read into this process. A failed copy (the disk full,
// say) ends the run with a *WriteError.
func (d *batchRun) copyOutput(f *finished) bool {
	defer d.discard(f)
	var off int64
	for off < f.memLen {
		n, err := unix.Sendfile(d.outFile.fd, int(f.mem.Fd()), &off, int(min(f.memLen-off, 1<<30)))
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
		case err != nil || n == 0:
			if err == nil {
				err = io.ErrShortWrite
			}
			we := &WriteError{Err: fmt.Errorf("copying a batch's output into the output file, after %d of its %d bytes: %w", off, f.memLen, err)}
			d.outFile.failed(we)
			return false
		}
	}
	d.p.stats.MemoryOutputs++
	return true
}

// discard puts f's memory file back, if it has one.
func (d *batchRun) discard(f *finished) {
	if f.mem != nil {
		d.outFile.put(f.mem)
		f.mem = nil
	}
}
