//go:build linux

package kidside

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// MapFile maps a file into memory read-only and returns its bytes and how
// to unmap them. Reading a module instead copies every byte into fresh heap
// pages, a fault each (host/RATIONALE.md, "Why the pool counts pages");
// mapped, its pages come from the page cache, many per fault. A file that
// cannot be mapped (a pipe, say) is read.
func MapFile(path string) (data []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if size := info.Size(); info.Mode().IsRegular() && size > 0 && size == int64(int(size)) {
		if data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			return data, func() { unix.Munmap(data) }, nil
		}
	}
	data, err = io.ReadAll(f)
	return data, func() {}, err
}
