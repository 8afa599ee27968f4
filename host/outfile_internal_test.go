//go:build linux

package host

import (
	"os"
	"testing"
)

// TestOutFileMemoryFiles: the memory files for outputs are bounded while
// out, kept up to a bound when put back, taken again before new ones are
// made, and closed with the run.
func TestOutFileMemoryFiles(t *testing.T) {
	o := &outFile{fd: -1}
	var out []*os.File
	for {
		f := o.take()
		if f == nil {
			break
		}
		out = append(out, f)
	}
	if len(out) != maxMemoryFiles || o.out != maxMemoryFiles {
		t.Fatalf("took %d memory files (%d out), want %d", len(out), o.out, maxMemoryFiles)
	}
	for _, f := range out {
		o.put(f)
	}
	if o.out != 0 || len(o.spare) != maxSpareMemoryFiles {
		t.Fatalf("%d out, %d spare after putting all back; want 0 and %d", o.out, len(o.spare), maxSpareMemoryFiles)
	}
	if f := o.take(); f != out[maxSpareMemoryFiles-1] {
		t.Errorf("took a new memory file with spares kept")
	} else {
		o.put(f)
	}
	closed := 0
	for _, f := range out {
		if _, err := f.Stat(); err != nil {
			closed++
		}
	}
	if closed != maxMemoryFiles-maxSpareMemoryFiles {
		t.Errorf("%d memory files closed when put back, want %d", closed, maxMemoryFiles-maxSpareMemoryFiles)
	}
	spare := o.spare
	o.close()
	for _, f := range spare {
		if _, err := f.Stat(); err == nil {
			t.Errorf("a spare memory file is open after close")
		}
	}
}
