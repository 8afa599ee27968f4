// Command goecho is the Go conformance guest. Usage: goecho [-strict]
// [REQUESTS [REPLIES]] with framing names (lines, zero, lenpfx, fixed:N;
// lines by default, REPLIES defaults to REQUESTS; the pool's framings in
// the environment override them, unless -strict). It replies to each
// request with the same bytes, fails the request "wasmpool:fail" with a
// handler error, and sleeps 20 ms before it replies to "wasmpool:sleep".
// Build it with GOOS=wasip1 GOARCH=wasm go build.
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
	args := os.Args
	if len(args) > 1 && args[1] == "-strict" {
		opt.Strict = true
		args = append(args[:1], args[2:]...)
	}
	if len(args) > 1 {
		f, err := frames.Parse(args[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "guest: echo: %v\n", err)
			os.Exit(1)
		}
		opt.Requests = f
	}
	if len(args) > 2 {
		f, err := frames.Parse(args[2])
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
