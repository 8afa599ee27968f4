//go:build linux

package host

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// kidProc is a kid process as the parent sees it, whatever its instances
// do: its pipes, its stderr, and how it ended.
type kidProc struct {
	slot int // from 1
	proc *process
	pid  int

	inOpen bool // the request pipe is open
	broken bool // the kid stopped reading (EPIPE)

	outEOF, errEOF, ackEOF, exited bool

	report  [kidside.ReportSize]byte // a report read in part (see readReports)
	reportN int

	stderr  []byte // a partial stderr line
	tail    stderrTail
	fault   error // why the pool stopped this kid
	killed  bool  // the pool sent SIGKILL
	expired bool  // killed at the end of a cancelled run's grace period
}

func newKidProc(slot int, proc *process) kidProc {
	return kidProc{slot: slot, proc: proc, pid: proc.proc.Pid, inOpen: true}
}

// drained reports whether the kid has exited and all its pipes are read.
func (k *kidProc) drained() bool { return k.exited && k.outEOF && k.errEOF && k.ackEOF }

// kid is the parent's state for one kid process of a session.
type kid struct {
	kidProc

	// Requests: out holds the frames given to the kid from the first held
	// one on; out[:written] has gone into the pipe, and trimmed bytes of
	// the kid's request stream came before out[0].
	out     []byte
	written int
	trimmed int
	held    heldQueue
	framing frames.Framing // of requests
	seq0    uint64         // the kid's own number of the first held request, from 0
	given   int            // requests given over the kid's life
	solo    bool           // holds a retried request and gets nothing else meanwhile

	// Replies.
	in             []byte
	inStart, inEnd int

	// Progress reports (see feed).
	done, delivered uint64
	pipeRead        int  // bytes of the request stream the kid's feed has read
	final           bool // the kid's last report arrived
	up              bool // the kid's first report arrived: its guest runs
	native          bool // a Command kid: it sends no reports
	progress        time.Time
}

const (
	replyBuffer = 256 << 10
	tailLines   = 16
	maxLine     = 4 << 10
)

func newKid(slot int, proc *process, framing frames.Framing) *kid {
	return &kid{kidProc: newKidProc(slot, proc), in: make([]byte, replyBuffer), framing: framing}
}

// frame returns h's frame.
func (k *kid) frame(h held) []byte { return k.out[h.off-k.trimmed : h.end-k.trimmed] }

// inPipe reports whether h's frame went, at least in part, into the pipe.
func (k *kid) inPipe(h held) bool { return h.off-k.trimmed < k.written }

// eachHeld calls f with each held request in order, and its position in
// the queue, until f returns false.
func (k *kid) eachHeld(f func(i int, h held) bool) {
	i := 0
	for ri := range k.held.runs.len() {
		r := k.held.runs.at(ri)
		k.settle(r)
		off := r.off
		for j := range r.count {
			end := r.end
			if j < r.count-1 {
				end = frameEnd(k.framing, k.out, k.trimmed, off, r.end)
			}
			if !f(i, held{index: r.first + r.step*j, attempt: r.attempt, off: off, end: end}) {
				return
			}
			off = end
			i++
		}
	}
}

// heldWritten counts the held requests, from the first, whose frames went
// whole into the pipe; only a run written in part has its frames split.
func (k *kid) heldWritten() int {
	n := 0
	for ri := range k.held.runs.len() {
		r := k.held.runs.at(ri)
		if r.end-k.trimmed <= k.written {
			n += r.count
			continue
		}
		k.settle(r)
		for off, j := r.off, 0; j < r.count-1; j++ {
			end := frameEnd(k.framing, k.out, k.trimmed, off, r.end)
			if end-k.trimmed > k.written {
				break
			}
			n++
			off = end
		}
		break
	}
	return n
}

// settle moves r.off past the frames of the requests dropped from r's front.
func (k *kid) settle(r *heldRun) {
	for ; r.skip > 0; r.skip-- {
		r.off = frameEnd(k.framing, k.out, k.trimmed, r.off, r.end)
	}
}

// firstHeldOff is the stream position of the first held request's frame.
func (k *kid) firstHeldOff() int {
	r := k.held.runs.at(0)
	k.settle(r)
	return r.off
}

// busy reports whether the guest holds a request it has not finished, as
// of its last report (which k.progress dates).
func (k *kid) busy() bool { return k.up && k.delivered > k.done }

func (k *kid) unsent() int { return len(k.out) - k.written }

func (k *kidProc) live() bool { return k.proc != nil }

// writeRequests writes what it can of the queued frames without blocking.
func (k *kid) writeRequests() {
	for k.unsent() > 0 && k.inOpen {
		n, err := unix.Write(k.proc.stdin, k.out[k.written:])
		if n > 0 {
			k.written += n
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil: // EPIPE: the guest exited or closed stdin
			k.broken = true
			k.closeInput()
			return
		}
	}
}

func (k *kidProc) closeInput() {
	if k.inOpen {
		unix.Close(k.proc.stdin)
		k.inOpen = false
	}
}

// readReplies reads what the reply pipe holds and returns how many bytes
// came; frames are cut by the caller.
func (k *kid) readReplies(maxFrame, overhead int) int {
	if k.inStart > 0 && (k.inStart == k.inEnd || k.inEnd == len(k.in)) {
		k.inEnd = copy(k.in, k.in[k.inStart:k.inEnd])
		k.inStart = 0
	}
	if k.inEnd == len(k.in) { // a frame larger than the buffer: grow, up to the limit
		size := min(2*len(k.in), maxFrame+overhead+1)
		if size <= len(k.in) {
			size = len(k.in) + 1
		}
		k.in = append(k.in[:k.inEnd], make([]byte, size-k.inEnd)...)
	}
	for {
		n, err := unix.Read(k.proc.stdout, k.in[k.inEnd:])
		if err == unix.EINTR {
			continue
		}
		if n > 0 {
			k.inEnd += n
			return n
		}
		if err != unix.EAGAIN {
			k.outEOF = true
			unix.Close(k.proc.stdout)
		}
		return 0
	}
}

// readAcks reads the kid's progress reports and keeps the latest.
func (k *kid) readAcks() {
	k.readReports(kidside.ReportSize, func(r []byte) error {
		k.done = binary.LittleEndian.Uint64(r[:8])
		d := binary.LittleEndian.Uint64(r[8:16])
		k.final = d&kidside.FinalReport != 0
		k.delivered = d &^ kidside.FinalReport
		k.pipeRead = int(binary.LittleEndian.Uint64(r[16:]))
		k.progress = time.Now()
		k.up = true
		return nil
	})
}

// readReports reads what the kid's report pipe holds, reports of size
// bytes each, and hands each whole one to each, stopping at the first
// error it returns. A report cut by a read is kept until the rest comes.
func (k *kidProc) readReports(size int, each func(report []byte) error) error {
	var buf [64 * kidside.ReportSize]byte
	for {
		n, err := unix.Read(k.proc.ack, buf[:])
		if err == unix.EINTR {
			continue
		}
		if n <= 0 {
			if err != unix.EAGAIN {
				k.ackEOF = true
				unix.Close(k.proc.ack)
			}
			return nil
		}
		for b := buf[:n]; len(b) > 0; {
			c := copy(k.report[k.reportN:size], b)
			b = b[c:]
			if k.reportN += c; k.reportN < size {
				continue
			}
			k.reportN = 0
			if err := each(k.report[:size]); err != nil {
				return err
			}
		}
		if n < len(buf) {
			return nil
		}
	}
}

// readStderr forwards the kid's stderr lines to w with the kid's number in
// front, and keeps the last ones for error reports.
func (k *kidProc) readStderr(w io.Writer) {
	var buf [16 << 10]byte
	n, err := unix.Read(k.proc.stderr, buf[:])
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if n <= 0 {
		k.errEOF = true
		unix.Close(k.proc.stderr)
		if len(k.stderr) > 0 {
			k.line(w, k.stderr)
			k.stderr = k.stderr[:0]
		}
		return
	}
	data := buf[:n]
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			k.stderr = append(k.stderr, data...)
			if len(k.stderr) > maxLine {
				k.line(w, k.stderr)
				k.stderr = k.stderr[:0]
			}
			return
		}
		line := data[:i]
		if len(k.stderr) > 0 {
			line = append(k.stderr, line...)
		}
		k.line(w, line)
		k.stderr = k.stderr[:0]
		data = data[i+1:]
	}
}

func (k *kidProc) line(w io.Writer, line []byte) {
	fmt.Fprintf(w, "kid %d: %s\n", k.slot, line)
	k.tail.add(string(line))
}

// stderrTail keeps the last lines of a kid's stderr, each cut at 512
// bytes, and the trap message among them.
type stderrTail struct {
	lines []string
	trap  string
}

func (t *stderrTail) add(line string) {
	if trap, ok := strings.CutPrefix(line, abi.TrapPrefix); ok {
		t.trap = trap
	}
	if len(line) > 512 {
		line = line[:512] + "…"
	}
	if len(t.lines) == tailLines {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
}

// kill stops the kid for a reason the pool found.
func (k *kidProc) kill(why error) {
	if k.fault == nil {
		k.fault = why
	}
	if !k.killed && !k.exited {
		k.proc.proc.Signal(syscall.SIGKILL)
		k.killed = true
	}
	k.closeInput()
}

// reap collects the exited kid's status and releases its descriptors. It
// returns the kid's error, or nil if it ended cleanly: exit 0, after the
// pool closed its input, holding nothing.
func (k *kid) reap(oneToOne bool) *KidError {
	ke := k.wait()
	if ke == nil && k.held.len() == 0 {
		return nil
	}
	if ke == nil {
		ke = &KidError{Kid: k.slot, Pid: k.pid, Stderr: k.tail.lines}
		if oneToOne {
			ke.Err = fmt.Errorf("%w: exited with %d request(s) unanswered, but this mode needs exactly one reply per request", ErrProtocol, k.held.len())
		} else {
			ke.Err = fmt.Errorf("exited before it finished %d request(s)", k.held.len())
		}
	}
	return ke
}

// wait collects the exited kid's status and releases its descriptors. It
// returns the kid's error, or nil if it exited 0 of its own accord and
// took every request it was sent.
func (k *kidProc) wait() *KidError {
	k.closeInput()
	for _, fd := range []struct {
		open bool
		fd   int
	}{{!k.outEOF, k.proc.stdout}, {!k.errEOF, k.proc.stderr}, {!k.ackEOF, k.proc.ack}, {true, k.proc.pidfd}} {
		if fd.open {
			unix.Close(fd.fd)
		}
	}
	state, err := k.proc.proc.Wait()
	k.proc.release()
	k.proc = nil
	ke := &KidError{Kid: k.slot, Pid: k.pid, ExitCode: -1, Trap: k.tail.trap, Stderr: k.tail.lines, Err: k.fault}
	if err != nil {
		ke.Err = errors.Join(ke.Err, err)
		return ke
	}
	ws := state.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		ke.Signal = unix.SignalName(ws.Signal())
	default:
		ke.ExitCode = ws.ExitStatus()
	}
	if ke.ExitCode == 0 && ke.Err == nil && !k.broken {
		return nil
	}
	return ke
}
