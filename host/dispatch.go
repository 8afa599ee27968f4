//go:build linux

package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/frames"
)

// request is a request waiting to be given to a kid.
type request struct {
	index   int
	attempt int
	frame   []byte // an already framed request (a retry), or nil
	payload []byte // a new request, valid until the next pull
}

// orderSlot holds a reply (or error) that arrived before its turn.
type orderSlot struct {
	full bool
	data []byte
	kid  int
	err  error
}

// dispatch is one run of the pool: the poll loop over every kid's pipes.
// All of it runs in the goroutine that iterates the replies.
type dispatch struct {
	p     *Pool
	cfg   Config
	ctx   context.Context
	yield func(Reply, error) bool

	kids  []*kid // by slot - 1; nil when the slot has no kid
	rr    int    // the kid the next feeding round starts with
	inbox *inbox
	eof   bool // the caller's requests are exhausted
	index int  // of the next new request
	retry []request

	emitted int // Ordered: requests before this one have been yielded
	order   []orderSlot

	failures  []time.Time
	barren    int  // kids in a row that failed before finishing a request
	keepWarm  bool // well kids wait for the next run at the end (see Pool.Run)
	lost      lostSlots
	fatal     error
	cancelled bool
	graceEnd  time.Time
	wake      [2]int // a pipe that wakes poll when ctx is done
	stopped   bool   // the consumer broke out of the loop

	polls   pollSet[*kid]
	dealing []*kid
	fed     []*kid
}

// batchBytes is how much is queued for one kid before it is written: many
// frames per write syscall is what makes small requests cheap.
const batchBytes = 64 << 10

func (d *dispatch) run() {
	stop := context.AfterFunc(d.ctx, func() { unix.Write(d.wake[1], []byte{0}) })
	defer stop()
	for !d.stopped {
		if !d.cancelled && d.ctx.Err() != nil {
			d.cancel()
		}
		if d.fatal == nil && !d.cancelled {
			d.startKids()
			d.feed()
			if d.stopped {
				return
			}
		}
		d.closeInputs()
		if d.finished() || d.stopped { // finished may hand on the last replies
			break
		}
		d.poll()
	}
	if d.stopped {
		return
	}
	switch {
	case d.fatal != nil:
		d.emit(Reply{Index: -1}, d.fatal)
	case d.cancelled:
		d.emit(Reply{Index: -1}, d.ctx.Err())
	}
}

// emit yields to the consumer and notes whether it wants more.
func (d *dispatch) emit(r Reply, err error) {
	if d.stopped {
		return
	}
	if !d.yield(r, err) {
		d.stopped = true
	}
}

func (d *dispatch) accepting(k *kid) bool {
	return k != nil && k.live() && k.inOpen && !k.broken && k.fault == nil && !(k.solo && k.held.len() > 0) &&
		k.held.len() < maxHeld && (d.cfg.MaxRequests == 0 || k.given < d.cfg.MaxRequests)
}

// maxHeld bounds the requests one kid holds unfinished. Pipes and buffers
// bound them in bytes, but tiny requests could reach hundreds of thousands
// per kid: the bookkeeping grew to megabytes in every run, and a kid sat on
// work its siblings could have done. A kid at the bound gets more when it
// reports or replies.
const maxHeld = 1 << 16

// retiring reports whether k is to get no more requests ever (a kid
// that holds a retry gets more once it is done with it).
func (d *dispatch) retiring(k *kid) bool {
	return k.broken || k.fault != nil || (d.cfg.MaxRequests > 0 && k.given >= d.cfg.MaxRequests)
}

// feed deals requests, one at a time round robin, to the kids whose last
// batch has gone out, until each batch is full or the requests run out,
// and writes each batch at once. It goes on until every kid that can take
// requests has a write pending (its pipe is full: poll says when it has
// room) or the requests are exhausted, so the loop never waits on a kid that
// waits for input. Dealing keeps kids evenly loaded when small requests
// carry much work; batching keeps syscalls few.
func (d *dispatch) feed() {
	for !d.stopped {
		ready := d.dealing[:0]
		n := len(d.kids)
		for i := range n {
			if k := d.kids[(d.rr+i)%n]; d.accepting(k) && k.unsent() == 0 {
				ready = append(ready, k)
			}
		}
		d.rr++
		fed := append(d.fed[:0], ready...)
		dealt := 0
		for len(ready) > 0 && !d.stopped {
			for i := 0; i < len(ready); {
				k := ready[i]
				r, ok := d.take(k)
				if !ok {
					ready = slices.Delete(ready, i, i+1)
					continue
				}
				d.give(k, r)
				dealt++
				if k.unsent() >= batchBytes || !d.accepting(k) {
					ready = slices.Delete(ready, i, i+1)
				} else {
					i++
				}
			}
		}
		for _, k := range fed {
			k.writeRequests()
			d.forgetWritten(k)
		}
		d.dealing, d.fed = ready[:0], fed[:0]
		if dealt == 0 {
			return
		}
	}
}

// forgetWritten drops, for a native kid in Stream mode, the requests that
// are in its pipe: it reports no progress, so holding them would only grow.
func (d *dispatch) forgetWritten(k *kid) {
	if !k.native || d.cfg.Mode.OneToOne() {
		return
	}
	d.finishedUpTo(k, k.seq0+uint64(k.heldWritten()))
}

// take returns the next request for k: a retry first, then a new one. A
// request that was with a kid when it died goes to a kid that holds nothing
// else, and that kid gets nothing more until it is done: if the request
// kills kids, it takes no other request down with it.
func (d *dispatch) take(k *kid) (request, bool) {
	for i, r := range d.retry {
		if r.attempt == 0 || k.held.len() == 0 {
			d.retry = slices.Delete(d.retry, i, i+1)
			k.solo = r.attempt > 0
			return r, true
		}
	}
	for !d.eof && !k.solo {
		if d.cfg.Mode == Ordered && d.index-d.emitted >= d.cfg.Window {
			return request{}, false
		}
		payload, failed, ok, eof := d.inbox.next()
		if !ok {
			d.eof = eof
			break
		}
		i := d.index
		d.index++
		d.p.stats.Requests++
		d.p.progress.taken.Add(1)
		if failed != nil {
			d.failed(request{index: i}, failed)
			if d.stopped {
				break
			}
			continue
		}
		if len(payload) > d.cfg.MaxFrame {
			d.failed(request{index: i, payload: payload}, fmt.Errorf("%w: %d bytes, the limit is %d", frames.ErrTooLarge, len(payload), d.cfg.MaxFrame))
			if d.stopped {
				break
			}
			continue
		}
		return request{index: i, payload: payload}, true
	}
	return request{}, false
}

// give queues r's frame for k.
func (d *dispatch) give(k *kid, r request) {
	off := k.trimmed + len(k.out)
	if r.frame != nil {
		k.out = append(k.out, r.frame...)
	} else {
		var err error
		if k.out, err = d.cfg.Framing.Append(k.out, r.payload); err != nil {
			d.failed(r, err)
			return
		}
	}
	k.held.push(held{index: r.index, attempt: r.attempt, off: off, end: k.trimmed + len(k.out)})
	k.given++
	d.p.stats.PerKid[k.slot-1]++
}

// failed reports a request that will get no reply.
func (d *dispatch) failed(r request, err error) {
	d.p.stats.Errors++
	d.p.progress.done.Add(1)
	payload := r.payload
	if r.frame != nil {
		_, payload, _ = d.cfg.Framing.Split(r.frame, true, 0)
	}
	index := r.index
	err = &RequestError{Index: index, Request: bytes.Clone(payload), Err: err}
	if d.cfg.Mode.OneToOne() {
		d.deliver(index, nil, 0, err)
		return
	}
	d.emit(Reply{Index: index}, err)
}

// deliver yields the reply to request index, in input order if asked.
func (d *dispatch) deliver(index int, data []byte, kid int, err error) {
	if d.cfg.Mode != Ordered {
		d.emit(Reply{Data: data, Index: index, Kid: kid}, err)
		return
	}
	if index != d.emitted {
		s := &d.order[index%len(d.order)]
		s.full, s.data, s.kid, s.err = true, append(s.data[:0], data...), kid, err
		return
	}
	d.emit(Reply{Data: data, Index: index, Kid: kid}, err)
	d.emitted++
	for !d.stopped {
		s := &d.order[d.emitted%len(d.order)]
		if !s.full {
			break
		}
		s.full = false
		d.emit(Reply{Data: s.data, Index: d.emitted, Kid: s.kid}, s.err)
		d.emitted++
	}
}

// startKids fills empty slots while there is work for them.
func (d *dispatch) startKids() {
	want := 0
	switch {
	case !d.eof:
		want = len(d.kids)
	case len(d.retry) > 0:
		want = min(len(d.retry), len(d.kids))
		for _, k := range d.kids {
			if d.accepting(k) {
				want--
			}
		}
	}
	up := 0
	for _, k := range d.kids {
		if k != nil {
			up++
		}
	}
	for slot, k := range d.kids {
		if want <= 0 {
			return
		}
		if k != nil || d.lost.isLost(slot+1) {
			continue
		}
		up++
		k, err := d.p.startKid(slot + 1)
		if err != nil {
			d.giveUp(err)
			return
		}
		d.kids[slot] = k
		want--
	}
	if up == 0 && want > 0 {
		d.giveUp(fmt.Errorf("%w: every kid's machine was left out (see the kid errors)", ErrKidsFailing))
	}
}

// closeInputs closes the request pipe of each kid that will get no more,
// so that it finishes and exits. At the clean end of a run whose kids
// stay warm, the well ones are left to finish what they hold and wait.
func (d *dispatch) closeInputs() {
	noMore := (d.eof && len(d.retry) == 0) || d.cancelled || d.fatal != nil
	for _, k := range d.kids {
		if k == nil || !k.inOpen || k.unsent() > 0 {
			continue
		}
		if d.retiring(k) || noMore && !(d.keepWarm && d.endedClean() && (k.held.len() > 0 || d.parkable(k))) {
			k.closeInput()
		}
	}
}

// endedClean reports whether the run's input is over, all of it dealt
// out, with no cancel and no fatal error.
func (d *dispatch) endedClean() bool {
	return d.eof && len(d.retry) == 0 && !d.cancelled && d.fatal == nil && !d.stopped
}

func (d *dispatch) finished() bool {
	over := (d.eof && len(d.retry) == 0) || d.cancelled || d.fatal != nil
	if !over {
		return false
	}
	for _, k := range d.kids {
		if k != nil && !(d.keepWarm && d.endedClean() && d.idle(k)) {
			return false
		}
	}
	return true
}

// parkable reports whether kid k could wait for the next run once done
// with what it holds; one that cannot is given EOF at the end instead (a
// partial reply, a kid not started yet, one to retire).
func (d *dispatch) parkable(k *kid) bool {
	return k.live() && !k.exited && k.inOpen && !k.native && k.up && !d.retiring(k) && !k.solo &&
		k.fault == nil && (k.held.len() > 0 || k.inStart == k.inEnd)
}

// idle reports whether kid k can wait for the next run as it is: up and
// well, done with all it was given, every reply read and handed on. The
// replies to the requests its last report says are done were written
// before that report (the guest flushes before it reads), so they are in
// the pipe: idle reads it dry first.
func (d *dispatch) idle(k *kid) bool {
	if !d.parkable(k) || k.unsent() > 0 || k.held.len() > 0 {
		return false
	}
	for !k.outEOF && k.fault == nil && !d.stopped {
		n := k.readReplies(d.cfg.MaxFrame, d.cfg.ReplyFraming.Overhead())
		d.cutReplies(k)
		if n == 0 {
			break
		}
	}
	return k.fault == nil && !k.outEOF && !d.stopped && k.inStart == k.inEnd
}

// cancel stops feeding: requests not yet written are dropped (a frame
// written in part is completed), and kids get a grace period to answer the
// ones they hold.
func (d *dispatch) cancel() {
	d.cancelled = true
	d.graceEnd = time.Now().Add(stopGrace)
	d.retry = nil
	for _, k := range d.kids {
		if k == nil {
			continue
		}
		k.eachHeld(func(i int, h held) bool {
			if k.inPipe(h) {
				return true
			}
			k.out = k.out[:h.off-k.trimmed]
			k.held.truncate(i, h.off)
			return false
		})
	}
}

// giveUp ends the run after a failure that more kids would not cure.
func (d *dispatch) giveUp(err error) {
	if d.fatal != nil {
		return
	}
	d.fatal = err
	for _, r := range d.retry {
		d.failed(r, err)
	}
	d.retry = nil
}

// poll waits for any kid's pipe to be ready and handles what is.
func (d *dispatch) poll() {
	d.polls.reset(d.wake[0])
	for _, k := range d.kids {
		if k == nil {
			continue
		}
		if k.inOpen && k.unsent() > 0 && d.wantsRoom(k) {
			d.polls.add(k, k.proc.stdin, unix.POLLOUT)
		}
		d.polls.addReads(k, &k.kidProc)
	}
	n, err := unix.Poll(d.polls.fds, d.pollTimeout())
	if err != nil && err != unix.EINTR {
		d.giveUp(fmt.Errorf("host: poll: %w", err))
		for _, k := range d.kids {
			if k != nil {
				k.kill(err)
			}
		}
	}
	if n > 0 {
		for i, fd := range d.polls.fds {
			if fd.Revents == 0 {
				continue
			}
			k := d.polls.owners[i]
			if k == nil {
				drainWake(d.wake[0])
				continue
			}
			d.ready(k, int(fd.Fd), fd.Revents)
			if d.stopped {
				return
			}
		}
	}
	d.checkTimes()
	for slot, k := range d.kids {
		if k != nil && k.drained() {
			d.ended(k)
			d.kids[slot] = nil
			if d.stopped {
				return
			}
		}
	}
}

// wantsRoom reports whether the loop should wake when k's request pipe has
// room for the frames still to write. A wasm kid reports progress before
// every read of its pipe, and the loop tops the pipe up then; while the
// pipe holds at least lowWater bytes that report will come before the kid
// could run dry, so waking for room as well would only add wake-ups
// (host/RATIONALE.md, "Why kids report progress").
func (d *dispatch) wantsRoom(k *kid) bool {
	return k.native || k.ackEOF || k.trimmed+k.written-k.pipeRead < lowWater
}

// lowWater is two reads of a kid's feed (see feed.buf).
const lowWater = 128 << 10

// ready handles one ready descriptor of kid k.
func (d *dispatch) ready(k *kid, fd int, ev int16) {
	switch {
	case !k.live():
	case fd == k.proc.stdin && k.inOpen:
		if ev&(unix.POLLERR|unix.POLLHUP) != 0 {
			k.broken = true
			k.closeInput()
			return
		}
		k.writeRequests()
		d.forgetWritten(k)
	case fd == k.proc.stdout && !k.outEOF:
		k.readReplies(d.cfg.MaxFrame, d.cfg.ReplyFraming.Overhead())
		d.cutReplies(k)
	case fd == k.proc.stderr && !k.errEOF:
		k.readStderr(d.cfg.Stderr)
	case fd == k.proc.ack && !k.ackEOF:
		k.readAcks()
		if k.inOpen && k.unsent() > 0 {
			k.writeRequests() // the kid is about to read its pipe: top it up
			d.forgetWritten(k)
		}
		if k.done > 0 {
			d.barren = 0
			d.lost.finished(k.slot)
		}
		if !d.cfg.Mode.OneToOne() {
			d.finishedUpTo(k, k.done)
			return
		}
		// The guest flushed its replies to the requests it reports done
		// before it asked for more: once the reply pipe is drained, they
		// must all be here.
		for !k.outEOF && !d.stopped && k.fault == nil {
			n := k.readReplies(d.cfg.MaxFrame, d.cfg.ReplyFraming.Overhead())
			d.cutReplies(k)
			if n == 0 {
				break
			}
		}
		if k.seq0 < k.done && k.fault == nil && !d.stopped {
			k.kill(fmt.Errorf("%w: the guest finished %d requests but replied to %d, and this mode needs exactly one reply per request", ErrProtocol, k.done, k.seq0))
		}
	case fd == k.proc.pidfd:
		k.exited = true
	}
}

// cutReplies cuts the reply frames k has sent and hands them on.
func (d *dispatch) cutReplies(k *kid) {
	if k.fault != nil {
		k.inStart = k.inEnd // the pool stopped this kid: what it still sends is not a reply
		return
	}
	for k.inStart < k.inEnd || k.outEOF {
		adv, frame, err := d.cfg.ReplyFraming.Split(k.in[k.inStart:k.inEnd], k.outEOF, d.cfg.MaxFrame)
		if err != nil {
			k.inStart = k.inEnd
			k.kill(fmt.Errorf("%w: reply %w", ErrProtocol, err))
			return
		}
		if adv == 0 {
			return
		}
		k.inStart += adv
		d.p.stats.Replies++
		d.barren = 0
		d.lost.finished(k.slot)
		if !d.cfg.Mode.OneToOne() {
			d.emit(Reply{Data: frame, Index: -1, Kid: k.slot}, nil)
		} else if k.held.len() == 0 {
			k.kill(fmt.Errorf("%w: more replies than requests, but this mode needs exactly one reply per request", ErrProtocol))
			return
		} else {
			index := k.held.firstIndex()
			d.finishedUpTo(k, k.seq0+1)
			d.deliver(index, frame, k.slot, nil)
		}
		if d.stopped {
			return
		}
	}
}

// finishedUpTo drops the requests k finished, those before its number seq,
// and trims their frames once they make up half the buffer.
func (d *dispatch) finishedUpTo(k *kid, seq uint64) {
	if seq <= k.seq0 {
		return
	}
	n := min(int(seq-k.seq0), k.held.len())
	k.held.dropFront(n)
	d.p.progress.done.Add(int64(n))
	k.seq0 += uint64(n)
	if k.held.len() == 0 {
		k.solo = false
	}
	trimmable := func(keep int) bool { return keep > batchBytes && keep >= len(k.out)/2 }
	keep := k.written
	if k.held.len() > 0 && trimmable(keep) {
		keep = min(keep, k.firstHeldOff()-k.trimmed)
	}
	if trimmable(keep) {
		k.out = k.out[:copy(k.out, k.out[keep:])]
		k.written -= keep
		k.trimmed += keep
	}
}

// ended deals with a kid whose process has exited and whose pipes are
// drained: it reports a failure and sends on the requests it held.
func (d *dispatch) ended(k *kid) {
	if k.final && !d.cfg.Mode.OneToOne() {
		d.finishedUpTo(k, k.done)
	}
	ke := k.reap(d.cfg.Mode.OneToOne())
	if ke == nil || k.expired {
		return
	}
	d.p.stats.Restarts++
	// Which held requests did the guest see? Without its final report, any
	// request that went into the pipe may have been, unless the kid hands
	// over one request at a time: it reports each before the guest sees it.
	// A kid whose first report never came ran no guest: it saw none.
	seen := k.delivered
	if !k.up && !k.native {
		seen = k.seq0
	} else if !k.final && !d.timed(k) {
		seen = k.seq0
		k.eachHeld(func(_ int, h held) bool {
			if k.inPipe(h) {
				seen++
			}
			return true
		})
	}
	var lost []request
	k.eachHeld(func(i int, h held) bool {
		r := request{index: h.index, attempt: h.attempt, frame: k.frame(h)}
		if k.seq0+uint64(i) < seen {
			ke.Lost = append(ke.Lost, h.index)
			r.attempt++
		}
		lost = append(lost, r)
		return true
	})
	d.emit(Reply{Index: -1, Kid: k.slot}, ke)
	for _, r := range lost {
		if d.stopped {
			return
		}
		switch {
		case r.attempt == 0 && !d.cancelled && d.fatal == nil:
			d.requeue(r) // never seen by the guest: just give it to another kid
		case d.cfg.Mode.OneToOne() && r.attempt <= d.cfg.Retries && !errors.Is(ke, ErrTimeout) && !d.cancelled && d.fatal == nil:
			d.requeue(r)
		default:
			d.failed(r, ke)
		}
	}
	d.countFailure(k, ke)
}

// countFailure gives the run up when kids fail in a way more kids will not
// cure: many within a second, or several in a row that finished nothing
// (a guest that dies at start-up, however slowly kids start). A kid that
// dies on a retried request it held alone does not count as barren: that
// is how a poison request is isolated.
func (d *dispatch) countFailure(k *kid, ke *KidError) {
	barren := k.seq0 == 0 && k.done == 0 && !k.solo
	// A kid whose first report never came did not start, even one given a
	// retried request alone: for its slot that is barren too.
	if d.lost.died(k.slot, barren || !k.up && !k.native, ke) {
		return
	}
	now := time.Now()
	d.failures = append(d.failures, now)
	for len(d.failures) > 0 && now.Sub(d.failures[0]) > time.Second {
		d.failures = d.failures[1:]
	}
	if barren {
		d.barren++
	}
	switch {
	case len(d.failures) > 2*len(d.kids)+2:
		d.giveUp(fmt.Errorf("%w: %d kid failures within a second, the last: %w", ErrKidsFailing, len(d.failures), ke))
	case d.barren > len(d.kids)+2:
		d.giveUp(fmt.Errorf("%w: %d kids in a row failed before finishing a request, the last: %w", ErrKidsFailing, d.barren, ke))
	}
}

func (d *dispatch) requeue(r request) {
	r.frame = append([]byte(nil), r.frame...)
	d.retry = append(d.retry, r)
}

// pollTimeout is how long poll may wait before a deadline needs a look.
func (d *dispatch) pollTimeout() int {
	var deadline time.Time
	if d.cancelled {
		deadline = d.graceEnd
	}
	for _, k := range d.kids {
		if k != nil && d.timed(k) && k.busy() && !k.killed {
			if t := k.progress.Add(d.cfg.Timeout); deadline.IsZero() || t.Before(deadline) {
				deadline = t
			}
		}
	}
	if deadline.IsZero() {
		return -1
	}
	return max(0, int(time.Until(deadline).Milliseconds())+1)
}

// timed reports whether the parent times k's requests: with a Timeout, a
// wasm kid hands its guest one request at a time and reports each before
// the guest sees it, so the parent knows which request the guest holds
// and since when. The parent times them, not a watchdog in the kid: a
// goroutine beside a guest spinning in compiled code can be frozen by a
// stop-the-world that waits for the guest forever.
func (d *dispatch) timed(k *kid) bool { return d.cfg.Timeout > 0 && !k.native }

// checkTimes kills kids past a deadline.
func (d *dispatch) checkTimes() {
	now := time.Now()
	for _, k := range d.kids {
		if k == nil || k.killed || k.exited {
			continue
		}
		if d.cancelled && now.After(d.graceEnd) {
			k.expired = true
			k.kill(d.ctx.Err())
		} else if d.timed(k) && k.busy() && now.Sub(k.progress) >= d.cfg.Timeout {
			k.kill(ErrTimeout)
		}
	}
}

// shutdown kills and reaps every kid still running; it is the last thing a
// run does, however it ends.
func (d *dispatch) shutdown() {
	for slot, k := range d.kids {
		if k == nil {
			continue
		}
		// A kid may be reaped already: the consumer's loop body can panic
		// while its failure is being reported, before its slot is cleared.
		if k.live() {
			if !k.exited {
				k.kill(errStopped)
			}
			k.reap(false)
		}
		d.kids[slot] = nil
	}
	unix.Close(d.wake[0])
	unix.Close(d.wake[1])
}

var errStopped = errors.New("host: run stopped")
