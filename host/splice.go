//go:build linux

package host

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// spliceMin is the least output a batch must have to be spliced: less is
// read and written as cheaply.
const spliceMin = 16 << 10

// outPipe is Filter's output when it is a pipe that kids' outputs can be
// spliced into.
type outPipe struct {
	fd     int
	failed func(err *WriteError) // reports a failed splice as Filter a failed write
}

// spliceable reports whether the output of k's result, whose header is
// in, goes out now and whole: the batch succeeded, and it is its turn.
func (d *batchRun) spliceable(k *batchKid) bool {
	r, b := &k.result, k.queue[0]
	if d.outPipe == nil || d.stopped || r.Stdout < spliceMin {
		return false
	}
	switch failed, _ := d.failure(r, b); {
	case failed:
		return false
	case d.cfg.Mode.inOrder():
		return b.first == d.emitted
	}
	return r.Flags&kidside.Unterminated == 0 // else it goes last
}

// spliceOutput moves the output of k's result from the kid's pipe to the
// output pipe, if it is spliceable, without a copy in this process; it
// reports whether it did. The loop waits for it: the kid has the whole
// output in memory and writes it at once, and nothing else may go to the
// output in between. A kid that dies while its output goes out has left
// part of it in dst, as a failed write would: the run ends with a
// *WriteError that says so, and nothing more is written.
func (d *batchRun) spliceOutput(k *batchKid) (bool, error) {
	if !d.spliceable(k) {
		return false, nil
	}
	total := int(k.result.Stdout)
	for left := total; left > 0; {
		n, err := unix.Splice(k.proc.stdout, nil, d.outPipe.fd, nil, left, unix.SPLICE_F_MOVE)
		switch {
		case n > 0:
			left -= int(n)
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			waitSplice(k.proc.stdout, d.outPipe.fd)
		default:
			if err == nil {
				err = fmt.Errorf("kid %d died after %d of the %d bytes of a batch's output had gone out from its pipe: they are in the output", k.slot, total-left, total)
			}
			we := &WriteError{Err: err}
			d.outPipe.failed(we)
			d.stopped = true
			return false, we
		}
	}
	d.p.stats.SplicedBatches++
	return true, nil
}

// waitSplice waits until the kid's pipe has bytes for the output pipe and
// the output pipe has room for them: splice says EAGAIN for either.
func waitSplice(in, out int) {
	fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}, {Fd: int32(out), Events: unix.POLLOUT}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, 0); err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		inReady, outReady := fds[0].Revents != 0, fds[1].Revents != 0
		if inReady && outReady {
			return
		}
		wait := fds[:1]
		if inReady {
			wait = fds[1:]
		}
		unix.Poll(wait, 100)
	}
}
