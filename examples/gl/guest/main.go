// Command guest is the gl filter: grl with indices. At start-up it reads a
// list of paths, one per line; then each request is a 4-byte little-endian
// index into that list (fixed:4 framing), and the reply is the same index
// when the file it names contains the substring, or nothing.
//
//	guest -list FILE SUBSTRING
//
// Like grep -r, it does not follow symbolic links: a link gets no reply,
// whatever it points to. A path that cannot be read gets a line on stderr
// and no reply; an index outside the list is an error that stops the guest.
//
// Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wasmpool/wasmpool/examples/internal/filegrep"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func main() {
	list := flag.String("list", "", "the `file` of paths, one per line")
	flag.Parse()
	if *list == "" || flag.NArg() != 1 || flag.Arg(0) == "" {
		fmt.Fprintln(os.Stderr, "usage: gl -list FILE SUBSTRING (a non-empty substring to look for)")
		os.Exit(2)
	}
	paths, err := readList(*list)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gl: %v\n", err)
		os.Exit(1)
	}
	needle := []byte(flag.Arg(0))
	buf := make([]byte, max(64<<10, 2*len(needle)))
	// A request is a 4-byte index and nothing else: strict, so that a pool
	// with another framing gets a clear error rather than wrong indices.
	guest.ServeOptions(guest.Options{Requests: frames.Fixed(4), Strict: true}, func(req []byte, w *guest.Replies) error {
		i := binary.LittleEndian.Uint32(req)
		if uint64(i) >= uint64(len(paths)) {
			return fmt.Errorf("index %d is out of range: the list has %d paths", i, len(paths))
		}
		found, err := filegrep.FileContains(paths[i], needle, buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gl: %v\n", err)
			return nil
		}
		if found {
			return w.Reply(req)
		}
		return nil
	})
}

// readList reads the paths, one per line; a last line without a newline
// counts.
func readList(name string) ([]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}
