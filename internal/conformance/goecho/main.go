// Command goecho is the Go conformance guest. Usage: goecho [REQUESTS
// [REPLIES]] with framing names (lines, zero, lenpfx, fixed:N; lines by
// default, REPLIES defaults to REQUESTS). It replies to each request with
// the same bytes, fails the request "wasmpool:fail" with a handler error,
// and sleeps 20 ms before it replies to "wasmpool:sleep". Build it with
// GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func main() {
	var opt guest.Options
	if len(os.Args) > 1 {
		f, err := frames.Parse(os.Args[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "guest: echo: %v\n", err)
			os.Exit(1)
		}
		opt.Requests = f
	}
	if len(os.Args) > 2 {
		f, err := frames.Parse(os.Args[2])
		if err != nil {
			fmt.Fprintf(os.Stderr, "guest: echo: %v\n", err)
			os.Exit(1)
		}
		opt.Replies = &f
	}
	guest.ServeOptions(opt, func(req []byte, w *guest.Replies) error {
		if string(req) == "wasmpool:fail" {
			return errors.New("echo: asked to fail")
		}
		if string(req) == "wasmpool:sleep" {
			time.Sleep(20 * time.Millisecond)
		}
		return w.Reply(req)
	})
}
