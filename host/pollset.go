//go:build linux

package host

import "golang.org/x/sys/unix"

// pollSet is what one round of a dispatch loop polls: every descriptor,
// each with the kid it belongs to; the first is the loop's wake pipe, whose
// owner is the zero K (nil). Session and batch loops share it.
type pollSet[K comparable] struct {
	fds    []unix.PollFd
	owners []K
}

// reset starts a round with the wake pipe.
func (s *pollSet[K]) reset(wake int) {
	s.fds, s.owners = s.fds[:0], s.owners[:0]
	var none K
	s.add(none, wake, unix.POLLIN)
}

func (s *pollSet[K]) add(k K, fd int, events int16) {
	s.fds = append(s.fds, unix.PollFd{Fd: int32(fd), Events: events})
	s.owners = append(s.owners, k)
}

// addReads adds what kid k's process p may still send on: replies,
// stderr, reports, and its pidfd until it has exited.
func (s *pollSet[K]) addReads(k K, p *kidProc) {
	if !p.outEOF {
		s.add(k, p.proc.stdout, unix.POLLIN)
	}
	if !p.errEOF {
		s.add(k, p.proc.stderr, unix.POLLIN)
	}
	if !p.ackEOF {
		s.add(k, p.proc.ack, unix.POLLIN)
	}
	if !p.exited {
		s.add(k, p.proc.pidfd, unix.POLLIN)
	}
}

// drainWake empties the wake pipe: requests came, or the context is done.
func drainWake(fd int) {
	var buf [64]byte
	for n, _ := unix.Read(fd, buf[:]); n == len(buf); n, _ = unix.Read(fd, buf[:]) {
	}
}
