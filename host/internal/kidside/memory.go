//go:build linux

package kidside

import (
	"golang.org/x/sys/unix"

	"github.com/tetratelabs/wazero/experimental"
)

// reservedMemory backs a guest's linear memory with address space reserved
// for its maximum up front (PROT_NONE: it costs no memory), made readable
// and writable as the guest grows it. wazero's default backing is a Go
// slice that memory.grow appends to: every growth copies the whole memory
// into a new array, and touches each of its pages; a Go guest grows its
// memory dozens of times while it starts (host/RATIONALE.md, "Why the
// pool counts pages"). Here growth copies nothing and only the pages the
// guest uses are ever touched.
type reservedMemory struct {
	mem       []byte // the whole reservation
	writable  int    // mem[:writable] is readable and writable
	fallback  []byte // used when the reservation failed (say, a ulimit -v)
	reserving bool
}

// allocateMemory is the kid's experimental.MemoryAllocator.
var allocateMemory = experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
	m := &reservedMemory{}
	if mem, err := unix.Mmap(-1, 0, int(max), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE); err == nil {
		m.mem, m.reserving = mem, true
	} else {
		m.fallback = make([]byte, 0, capacity)
	}
	return m
})

// Reallocate implements experimental.LinearMemory: it makes the memory
// size bytes long, or returns nil if it cannot (the guest's memory.grow
// then fails, as it would at its limit).
func (m *reservedMemory) Reallocate(size uint64) []byte {
	if !m.reserving {
		if grow := int(size) - len(m.fallback); grow > 0 {
			m.fallback = append(m.fallback, make([]byte, grow)...)
		}
		return m.fallback[:size]
	}
	if size > uint64(len(m.mem)) {
		return nil
	}
	if n := int(size); n > m.writable {
		// mprotect works on whole pages; wasm pages (64 KiB) are whole
		// host pages, so size is always a page boundary.
		if err := unix.Mprotect(m.mem[m.writable:n], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		m.writable = n
	}
	return m.mem[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *reservedMemory) Free() {
	if m.reserving {
		unix.Munmap(m.mem)
		m.mem, m.writable, m.reserving = nil, 0, false
	}
	m.fallback = nil
}
