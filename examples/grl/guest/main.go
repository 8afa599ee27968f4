// Command guest is the grl filter: for each path (a lenpfx frame) it replies
// with the path when the file contains the substring given as its argument,
// or with nothing.
//
//	guest SUBSTRING
//
// Like grep -r, it does not follow symbolic links: a link gets no reply,
// whatever it points to. A path that cannot be read gets a line on stderr
// and no reply.
//
// Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"wasmpool/frames"
	"wasmpool/guest"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" {
		fmt.Fprintln(os.Stderr, "usage: grl SUBSTRING (a non-empty substring to look for)")
		os.Exit(2)
	}
	needle := []byte(os.Args[1])
	buf := make([]byte, max(64<<10, 2*len(needle)))
	guest.Serve(frames.LenPfx, func(path []byte, w *guest.Replies) error {
		found, err := fileContains(string(path), needle, buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "grl: %v\n", err)
			return nil
		}
		if found {
			return w.Reply(path)
		}
		return nil
	})
}

// fileContains reports whether the regular file name contains needle,
// reading it through buf. Symbolic links are not followed: they contain
// nothing.
func fileContains(name string, needle, buf []byte) (bool, error) {
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
	found, err := contains(f, needle, buf)
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return found, nil
}

// contains reports whether r holds needle, reading it in chunks of buf
// (longer than needle). The last len(needle)-1 bytes of a chunk are kept
// before the next one, so a needle across two chunks is found.
func contains(r io.Reader, needle, buf []byte) (bool, error) {
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
