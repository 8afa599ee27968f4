//go:build linux

package host

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// memoryMin is the least batch for which a kid is asked to hand its
// output over in a memory file: less is read through the pipe as cheaply.
// maxMemoryFiles bounds the memory files the parent holds (outputs that
// wait for their turn, under Keep), and so the descriptors they take.
const (
	memoryMin      = 16 << 10
	maxMemoryFiles = 256
)

// outFile is Filter's output when it is a regular file that the kernel
// can copy kids' outputs into from their memory files (see copyOutput).
type outFile struct {
	fd     int
	failed func(err *WriteError) // reports a failed copy as Filter a failed write
	held   int                   // memory files received and not yet closed
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

// inMemory reports whether k is to hand the output of b over in a memory
// file: the output is a regular file, the kid is on this machine, the
// batch is large enough to be worth it, and not too many are held.
func (d *batchRun) inMemory(k *batchKid, b *batch) bool {
	return d.outFile != nil && k.proc.control >= 0 && b.size >= memoryMin && d.outFile.held < maxMemoryFiles
}

// copyOutput has the kernel copy f's output from its memory file into
// the output file, at the file's offset, and closes the memory file. The
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

// discard closes f's memory file, if it has one.
func (d *batchRun) discard(f *finished) {
	if f.mem != nil {
		f.mem.Close()
		f.mem = nil
		d.outFile.held--
	}
}
