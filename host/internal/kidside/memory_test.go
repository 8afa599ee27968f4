//go:build linux

package kidside

import (
	"bytes"
	"os"
	"testing"
)

// TestReservedMemory grows a reserved memory the way memory.grow does and
// checks that contents survive growth, in place, and that growth past
// the maximum fails.
func TestReservedMemory(t *testing.T) {
	const page = 64 << 10
	m := allocateMemory(page, 8*page).(*reservedMemory)
	defer m.Free()
	if !m.reserving {
		t.Skip("address space could not be reserved here")
	}
	b := m.Reallocate(page)
	if len(b) != page {
		t.Fatalf("len %d, want %d", len(b), page)
	}
	copy(b, "hello")
	base := &b[0]
	for pages := uint64(2); pages <= 8; pages++ {
		b = m.Reallocate(pages * page)
		if uint64(len(b)) != pages*page || &b[0] != base {
			t.Fatalf("at %d pages: len %d, moved %v", pages, len(b), &b[0] != base)
		}
		b[len(b)-1] = byte(pages) // the new last page is writable
	}
	if !bytes.HasPrefix(b, []byte("hello")) {
		t.Fatal("contents lost in growth")
	}
	if m.Reallocate(9*page) != nil {
		t.Fatal("grew past the maximum")
	}
	if b := m.Reallocate(4 * page); len(b) != 4*page || b[0] != 'h' {
		t.Fatal("asking for less than the size did not keep the memory")
	}
}

// TestMapFile maps a module file and reads a non-regular file.
func TestMapFile(t *testing.T) {
	path := t.TempDir() + "/m.wasm"
	if err := os.WriteFile(path, []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, unmap, err := MapFile(path)
	if err != nil || string(data) != "\x00asm\x01\x00\x00\x00" {
		t.Fatalf("mapFile = %q, %v", data, err)
	}
	unmap()
	if _, _, err := MapFile(t.TempDir() + "/missing.wasm"); err == nil {
		t.Fatal("no error for a missing file")
	}
	if data, unmap, err := MapFile("/dev/null"); err != nil || len(data) != 0 {
		t.Fatalf("MapFile(/dev/null) = %q, %v", data, err)
	} else {
		unmap()
	}
}
