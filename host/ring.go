package host

// ring is a FIFO queue in a circular buffer that doubles when full. It
// backs the requests a kid holds: pushed at the back, finished at the
// front, up to maxHeld of them. Unlike a slice popped at the front, it
// reuses its memory in place, and it only grows as far as the queue
// really gets (fresh pages are expensive on some virtual machines).
type ring[T any] struct {
	buf        []T // len is zero or a power of two
	head, size int
}

func (r *ring[T]) len() int { return r.size }

// at returns the i-th element from the front.
func (r *ring[T]) at(i int) *T { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

func (r *ring[T]) push(v T) {
	if r.size == len(r.buf) {
		grown := make([]T, max(64, 2*len(r.buf)))
		n := copy(grown, r.buf[r.head:])
		copy(grown[n:], r.buf[:r.head])
		r.buf, r.head = grown, 0
	}
	*r.at(r.size) = v
	r.size++
}

// dropFront removes the first n elements.
func (r *ring[T]) dropFront(n int) {
	n = min(n, r.size)
	if r.size -= n; r.size == 0 {
		r.head = 0
	} else {
		r.head = (r.head + n) & (len(r.buf) - 1)
	}
}

// truncate keeps the first n elements.
func (r *ring[T]) truncate(n int) { r.size = min(n, r.size) }
