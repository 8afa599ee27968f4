//go:build linux

package host

import (
	"iter"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// inbox takes the caller's requests in a goroutine of its own, so the poll
// loop never waits on a slow source (a terminal, tail -f) while replies are
// ready, and never blocks the source while kids are busy. Requests are
// copied into a shared buffer under a lock; the loop swaps the buffer out
// whole, so a busy loop takes thousands of requests per lock.
// Every request is published at once, under the lock: a source that blocks
// after yielding one (a conversation, tail -f) must not strand it
// (TestInboxConversation; host/RATIONALE.md says what the alternatives
// measured).
type inbox struct {
	mu       sync.Mutex
	room     sync.Cond  // signalled when the loop takes the buffer, or closes
	pending  requestRun // filled by the producer
	done     bool       // the requests are exhausted
	closed   bool       // the loop wants no more
	asleep   bool       // the loop found nothing and waits in poll
	timerSet bool       // a delayed nudge is on its way
	wake     int        // write end of the loop's wake pipe

	cur    requestRun // owned by the loop
	pos    int
	errPos int
}

// requestRun holds requests back to back: request i is data[ends[i-1]:ends[i]].
// A request that failed before it came (a frame over the limit) has no
// payload, ends[i] < 0 (-1 - its end), and the next of errs.
type requestRun struct {
	data []byte
	ends []int
	errs []error
}

const (
	inboxBytes    = 256 << 10 // the producer waits when this much is pending
	inboxRequests = 16 << 10
	// The loop is woken at once when this much is pending, else after
	// nudgeDelay: a trickle is seen within a fraction of a millisecond, a
	// flood in batches.
	nudgeBytes    = 16 << 10
	nudgeRequests = 1024
	nudgeDelay    = 200 * time.Microsecond
)

func newInbox(requests iter.Seq2[[]byte, error], wake int) *inbox {
	in := &inbox{wake: wake}
	in.room.L = &in.mu
	go in.produce(requests)
	return in
}

// requests yields each request, or an error for one that failed before
// it came.
func (in *inbox) produce(requests iter.Seq2[[]byte, error]) {
	defer func() {
		in.mu.Lock()
		in.done = true
		in.nudge()
		in.mu.Unlock()
	}()
	for req, failed := range requests {
		in.mu.Lock()
		for !in.closed && (len(in.pending.data) >= inboxBytes || len(in.pending.ends) >= inboxRequests) {
			in.room.Wait()
		}
		if in.closed {
			in.mu.Unlock()
			return
		}
		if failed != nil {
			in.pending.ends = append(in.pending.ends, -1-len(in.pending.data))
			in.pending.errs = append(in.pending.errs, failed)
		} else {
			in.pending.data = append(in.pending.data, req...)
			in.pending.ends = append(in.pending.ends, len(in.pending.data))
		}
		if len(in.pending.data) >= nudgeBytes || len(in.pending.ends) >= nudgeRequests {
			in.nudge()
		} else if in.asleep && !in.timerSet {
			// A few requests: wait a moment for more, so that a source a
			// little slower than the loop does not turn every request
			// into a wake-up and a write of its own.
			in.timerSet = true
			time.AfterFunc(nudgeDelay, func() {
				in.mu.Lock()
				in.timerSet = false
				in.nudge()
				in.mu.Unlock()
			})
		}
		in.mu.Unlock()
	}
}

// nudge wakes the loop if it sleeps; called with mu held.
func (in *inbox) nudge() {
	if in.asleep && !in.closed {
		in.asleep = false
		unix.Write(in.wake, []byte{1})
	}
}

// next returns the next request, valid until the following call, or the
// error of a request that failed before it came. ok is false when none is
// ready; eof is true when none will come.
func (in *inbox) next() (req []byte, failed error, ok, eof bool) {
	if in.pos == len(in.cur.ends) {
		in.mu.Lock()
		in.cur.data, in.cur.ends, in.cur.errs = in.cur.data[:0], in.cur.ends[:0], in.cur.errs[:0]
		in.errPos = 0
		in.cur, in.pending = in.pending, in.cur
		in.pos = 0
		empty, done := len(in.cur.ends) == 0, in.done
		in.asleep = empty && !done
		in.room.Signal()
		in.mu.Unlock()
		if empty {
			return nil, nil, false, done
		}
	}
	start := 0
	if in.pos > 0 {
		start = endOf(in.cur.ends[in.pos-1])
	}
	end := in.cur.ends[in.pos]
	in.pos++
	if end < 0 {
		in.errPos++
		return nil, in.cur.errs[in.errPos-1], true, false
	}
	return in.cur.data[start:end:end], nil, true, false
}

func endOf(end int) int {
	if end < 0 {
		return -1 - end
	}
	return end
}

// records adapts requests to what the inbox takes.
func records(requests iter.Seq[[]byte]) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for r := range requests {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// close tells the producer to stop; it returns at once, and the producer
// stops when the caller's iterator next yields.
func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.room.Signal()
	in.mu.Unlock()
}
