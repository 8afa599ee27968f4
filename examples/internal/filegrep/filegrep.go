// Package filegrep is the search the grl and gl example guests share:
// whether a file contains a string, read in chunks, symbolic links not
// followed. It builds for GOOS=wasip1.
package filegrep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// FileContains reports whether the regular file name contains needle,
// reading it through buf. Symbolic links are not followed: they contain
// nothing.
func FileContains(name string, needle, buf []byte) (bool, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return false, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return false, nil
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s: not a regular file (%v)", name, fi.Mode().Type())
	}
	// O_NOFOLLOW: a link swapped in after the Lstat is refused, not followed.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	found, err := Contains(f, needle, buf)
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return found, nil
}

// Contains reports whether r holds needle, reading it in chunks of buf
// (longer than needle). The last len(needle)-1 bytes of a chunk are kept
// before the next one, so a needle across two chunks is found.
func Contains(r io.Reader, needle, buf []byte) (bool, error) {
	keep := 0
	for {
		n, err := r.Read(buf[keep:])
		if n > 0 {
			end := keep + n
			if bytes.Contains(buf[:end], needle) {
				return true, nil
			}
			keep = min(len(needle)-1, end)
			copy(buf, buf[end-keep:end])
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}
