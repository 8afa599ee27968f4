package host

import "github.com/wasmpool/wasmpool/frames"

// heldQueue is the requests given to a kid and not yet finished, in the
// order given. It keeps them as runs: requests dealt to the kid one after
// another whose indices step evenly (0, 2, 4, … while two kids share the
// dealing) and whose frames lie back to back in the kid's request stream.
// A run takes a few words however many requests it covers: a record per
// request filled megabytes of fresh pages per kid (RATIONALE.md, "Why the
// pool counts pages"). Where a frame inside a run begins is found again,
// when it is needed, by splitting the frames (see kid.eachHeld).
type heldQueue struct {
	runs ring[heldRun]
	size int
}

type heldRun struct {
	first, step, count int // the indices: first, first+step, …, count of them
	attempt            int
	off                int // stream position of the frame skip frames before first's
	skip               int
	end                int // stream position just past the run's last frame
}

// held is one held request; off and end place its frame in the kid's
// request stream (see kid.trimmed).
type held struct {
	index, attempt int
	off, end       int
}

func (q *heldQueue) len() int { return q.size }

// firstIndex is the index of the first request; the queue must not be empty.
func (q *heldQueue) firstIndex() int { return q.runs.at(0).first }

// push appends a request, to the last run if it continues it.
func (q *heldQueue) push(h held) {
	q.size++
	if n := q.runs.len(); n > 0 {
		r := q.runs.at(n - 1)
		if r.attempt == h.attempt && r.end == h.off &&
			(r.count == 1 && h.index > r.first || r.count > 1 && h.index == r.first+r.step*r.count) {
			r.step = (h.index - r.first) / r.count
			r.count++
			r.end = h.end
			return
		}
	}
	q.runs.push(heldRun{first: h.index, count: 1, attempt: h.attempt, off: h.off, end: h.end})
}

// dropFront removes the first n requests.
func (q *heldQueue) dropFront(n int) {
	n = min(n, q.size)
	q.size -= n
	for n > 0 {
		r := q.runs.at(0)
		if n >= r.count {
			n -= r.count
			q.runs.dropFront(1)
			continue
		}
		r.first += r.step * n
		r.count -= n
		r.skip += n
		return
	}
}

// truncate keeps the first n requests; end is the stream position just
// past the last frame kept.
func (q *heldQueue) truncate(n, end int) {
	if n >= q.size {
		return
	}
	kept := 0
	for i := range q.runs.len() {
		r := q.runs.at(i)
		if kept+r.count < n {
			kept += r.count
			continue
		}
		if r.count = n - kept; r.count == 0 {
			q.runs.truncate(i)
		} else {
			r.end = end
			q.runs.truncate(i + 1)
		}
		break
	}
	q.size = n
}

// frameEnd returns where the frame that starts at stream position pos
// ends, no further than limit.
func frameEnd(f frames.Framing, out []byte, trimmed, pos, limit int) int {
	adv, _, _ := f.Split(out[pos-trimmed:limit-trimmed], true, 0)
	if adv <= 0 { // cannot happen with frames we wrote; never loop on it
		return limit
	}
	return pos + adv
}
