// Command guest is the linelen filter: it replies to each input line with
// its length in bytes, as the procpool documentation's first example does.
// Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"strconv"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func main() {
	var num []byte
	guest.Serve(frames.Lines, func(line []byte, w *guest.Replies) error {
		num = strconv.AppendInt(num[:0], int64(len(line)), 10)
		return w.Reply(num)
	})
}
