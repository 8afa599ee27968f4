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
	"fmt"
	"os"

	"github.com/wasmpool/wasmpool/examples/internal/filegrep"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" {
		fmt.Fprintln(os.Stderr, "usage: grl SUBSTRING (a non-empty substring to look for)")
		os.Exit(2)
	}
	needle := []byte(os.Args[1])
	buf := make([]byte, max(64<<10, 2*len(needle)))
	guest.Serve(frames.LenPfx, func(path []byte, w *guest.Replies) error {
		found, err := filegrep.FileContains(string(path), needle, buf)
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
