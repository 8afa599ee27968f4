//go:build linux

package host

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// batch is a run of whole request frames dealt to a kid as one unit, with
// batch instances: records first, first+1, …, first+count-1 of the input.
type batch struct {
	id    uint64
	first int
	count int
	size  int // bytes
	// data is the batch's bytes; nil for one of the input file (inFile)
	// until the pool needs them (see batchRun.load).
	data    []byte
	inFile  bool // the batch is bytes [off, off+size) of the run's input file
	off     int64
	attempt int  // times it failed as a batch of one record
	unread  int  // times an instance failed on it before reading any of it
	peeled  bool // split once already: its parts are halved
	owned   bool // data is a buffer of the batch's own, used again once the batch succeeds
	// mem is the memory file passed with the batch to the kid it is
	// given to, for its output (see batchRun.giveMemory); nil if none.
	mem *os.File
}

// batchKid is the parent's state for a kid that runs a fresh instance per
// batch. Its queue is the kid's outbox: the batches given to it, oldest
// first; queue[0] is the one its instance runs (or will run next), and
// the kid answers them in that order.
type batchKid struct {
	kidProc

	queue   []*batch
	written int // batches of queue written whole
	woff    int // bytes of queue[written] written, header included
	hdr     []byte
	given   int // records given over the kid's life
	// fileGen is the generation of the input file the kid was last given
	// (see process.passFile), 0 if none: batches of that file go to it as
	// places in the file, which it reads itself.
	fileGen uint64

	// started counts the batches of the queue whose start reports came
	// (reports can run ahead of results): queue[started-1] is the one
	// running, since startedAt.
	started   int
	startedAt time.Time
	ran       int // batches the kid finished

	// The result being read: its header, then its body (output, stderr).
	head     [kidside.ResultHeaderSize]byte
	headN    int
	result   kidside.ResultHeader
	body     []byte
	bodyN    int
	inResult bool
}

func newBatchKid(slot int, proc *process) *batchKid {
	return &batchKid{kidProc: newKidProc(slot, proc)}
}

// unsent reports whether some of the queue is still to be written.
func (k *batchKid) unsent() bool { return k.written < len(k.queue) }

// writeBatches writes what it can of the queued batches without blocking.
func (k *batchKid) writeBatches() {
	for k.unsent() && k.inOpen {
		b := k.queue[k.written]
		h := kidside.BatchHeader{ID: b.id, Length: uint64(b.size)}
		if b.mem != nil {
			h.Flags |= kidside.OutputInMemory
		}
		body := b.data
		if b.inFile && k.fileGen != 0 {
			h.Source, h.Offset, body = k.fileGen, uint64(b.off), nil
		}
		k.hdr = h.Append(k.hdr[:0])
		var iov [][]byte
		if k.woff < len(k.hdr) {
			iov = [][]byte{k.hdr[k.woff:], body}
		} else {
			iov = [][]byte{body[k.woff-len(k.hdr):]}
		}
		n, err := unix.Writev(k.proc.stdin, iov)
		if n > 0 {
			k.woff += n
			if k.woff == len(k.hdr)+len(body) {
				k.written++
				k.woff = 0
			}
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return
		case err != nil: // EPIPE: the kid is gone
			k.broken = true
			k.closeInput()
			return
		}
	}
}

// readStarts reads the kid's start reports: each says the instance for
// the next batch of the queue has started.
func (k *batchKid) readStarts() error {
	return k.readReports(kidside.StartReportSize, func(r []byte) error {
		id := binary.LittleEndian.Uint64(r)
		if k.started >= len(k.queue) || k.queue[k.started].id != id {
			return fmt.Errorf("%w: the kid started batch %d out of turn", ErrProtocol, id)
		}
		k.started++
		k.startedAt = time.Now()
		return nil
	})
}

// readResult reads what has come of the next result. It returns true
// when a whole result is in (k.result and k.body); the caller takes it
// with takeResult. maxBody bounds a result's size; round says the buffer
// will be used again, so its size is rounded up (see roundUp). Once the
// header is in, splice may send the output on from the pipe itself; then
// the body holds only the result's stderr.
func (k *batchKid) readResult(maxBody uint64, round bool, splice func() (bool, error)) (bool, error) {
	for {
		var n int
		var err error
		if !k.inResult {
			n, err = unix.Read(k.proc.stdout, k.head[k.headN:])
		} else {
			n, err = unix.Read(k.proc.stdout, k.body[k.bodyN:])
		}
		if err == unix.EINTR {
			continue
		}
		if n <= 0 {
			if err != unix.EAGAIN {
				k.outEOF = true
				unix.Close(k.proc.stdout)
				if k.inResult || k.headN > 0 {
					return false, fmt.Errorf("%w: the kid's result stream ended inside a result", ErrProtocol)
				}
			}
			return false, nil
		}
		if !k.inResult {
			if k.headN += n; k.headN < len(k.head) {
				continue
			}
			k.headN = 0
			k.result = kidside.ParseResultHeader(k.head[:])
			size := k.result.Stdout + k.result.Stderr
			switch {
			case k.started == 0 || k.result.ID != k.queue[0].id:
				return false, fmt.Errorf("%w: a result for batch %d out of turn", ErrProtocol, k.result.ID)
			case k.result.Stdout > maxBody || k.result.Stderr > maxBody || k.result.Consumed > uint64(k.queue[0].size):
				return false, fmt.Errorf("%w: a result header that cannot be (%d output bytes, %d stderr bytes, %d of %d input bytes read)",
					ErrProtocol, k.result.Stdout, k.result.Stderr, k.result.Consumed, k.queue[0].size)
			}
			k.inResult = true
			if k.result.Flags&kidside.InMemoryFile != 0 {
				if err := k.checkMemory(); err != nil {
					return false, err
				}
				size = k.result.Stderr // the output is in queue[0].mem
			} else if spliced, err := splice(); err != nil {
				return false, err
			} else if spliced {
				k.result.Stdout, size = 0, k.result.Stderr // the output is out
			}
			if uint64(cap(k.body)) < size {
				alloc := size
				if round {
					alloc = roundUp(size)
				}
				k.body = make([]byte, 0, alloc)
			}
			k.body, k.bodyN = k.body[:size], 0
		} else {
			k.bodyN += n
		}
		if k.inResult && k.bodyN == len(k.body) {
			return true, nil
		}
	}
}

// checkMemory checks that the result whose header is in has its output
// in the batch's memory file, as the header says.
func (k *batchKid) checkMemory() error {
	f := k.queue[0].mem
	if f == nil {
		return fmt.Errorf("%w: the output of batch %d in a memory file, which was not passed", ErrProtocol, k.result.ID)
	}
	if st, err := f.Stat(); err != nil || st.Size() != int64(k.result.Stdout) {
		return fmt.Errorf("%w: the memory file of batch %d's output does not hold the %d bytes its header says", ErrProtocol, k.result.ID, k.result.Stdout)
	}
	return nil
}

// roundUp rounds a result's size up to a size of buffer that will do for
// other results too, when buffers are used again (batchRun.reuse).
func roundUp(size uint64) uint64 {
	const step = 1 << 20
	if size <= 64<<10 {
		return size
	}
	return (size + step - 1) / step * step
}

// takeResult pops the batch whose result is in, with its body: its
// output, then its stderr, or only its stderr when the output is in the
// batch's memory file (kidside.InMemoryFile). They are handed over: the
// kid reads the next result into another buffer.
func (k *batchKid) takeResult() (b *batch, r kidside.ResultHeader, body []byte) {
	b, r = k.queue[0], k.result
	k.queue = k.queue[1:]
	k.written--
	k.started--
	k.inResult = false
	k.ran++
	body = k.body
	k.body = nil
	return b, r, body
}

// running reports whether an instance of the kid runs a batch.
func (k *batchKid) running() bool { return k.started > 0 }
