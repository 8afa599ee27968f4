//go:build linux

package host

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
)

// TestFileSourceWindows: the file is mapped a window at a time, from any
// offset; a frame larger than the window widens it; what is appended to
// the file while it is read is read too; and everything comes out once,
// in order, as the loop takes whole frames.
func TestFileSourceWindows(t *testing.T) {
	var content []byte
	for i := range 3000 {
		content = append(content, bytes.Repeat([]byte{'a' + byte(i%26)}, i%97)...)
		content = append(content, '\n')
		if i == 1500 {
			content = append(content, bytes.Repeat([]byte("long"), 40000)...) // 160 KB, over the window
			content = append(content, '\n')
		}
	}
	const skip, grown = 12345, 5000
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, content[:len(content)-grown], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(skip+int64(bytes.IndexByte(content[skip:], '\n'))+1, 0); err != nil {
		t.Fatal(err)
	}
	start, _ := f.Seek(0, 1)
	s := newFileSource(f)
	s.window = 3 * os.Getpagesize()
	var got []byte
	appended := false
	for range 100000 {
		data, eof, err := s.avail()
		if err != nil {
			t.Fatal(err)
		}
		if eof && !appended {
			// the file grows before the loop has taken all of it
			if _, err := f.WriteAt(content[len(content)-grown:], int64(len(content)-grown)); err != nil {
				t.Fatal(err)
			}
			appended = true
			continue
		}
		if s.offset() != start+int64(len(got)) {
			t.Fatalf("avail's data is at offset %d, want %d", s.offset(), start+int64(len(got)))
		}
		n, _ := frames.Lines.Whole(data, eof, 0)
		got = append(got, data[:n]...)
		s.consume(n)
		if eof && n == len(data) {
			break
		}
		if n == 0 && !s.want() {
			t.Fatalf("no whole frame at offset %d and no more to come", s.offset())
		}
	}
	s.close()
	if want := content[start:]; !bytes.Equal(got, want) {
		t.Fatalf("took %d bytes, want the %d from offset %d on", len(got), len(want), start)
	}
	if off, _ := f.Seek(0, 1); off != int64(len(content)) {
		t.Errorf("the file is left at offset %d, want its end, %d", off, len(content))
	}
}
