// Package work holds the handlers of the ppbench filter, shared by the wasm
// guest (examples/ppbench/guest, built with GOOS=wasip1) and the native Go
// kid of the benchmarks (internal/bench/nativekid), so that both do exactly
// the same work with the same guest SDK.
//
// Modes, chosen by the first argument:
//
//	echo    lines in, the same lines out (procpool's ppBench with equal
//	        request and reply sizes)
//	upper   lines in, the same lines upper-cased (ASCII) out
//	sha256  requests of 4096 bytes in (fixed:4096), one line per request
//	        out: the hex SHA-256 of the request
package work

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

// Main runs the filter named by args[0] over stdin and stdout. A leading
// "--" is skipped (what a CLI may pass on before guest arguments).
func Main(args []string) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	mode := "echo"
	if len(args) > 0 {
		mode = args[0]
	}
	switch mode {
	case "echo":
		guest.Serve(frames.Lines, Echo)
	case "upper":
		var buf []byte
		guest.Serve(frames.Lines, func(req []byte, w *guest.Replies) error {
			buf = Upper(buf[:0], req)
			return w.Reply(buf)
		})
	case "sha256":
		lines := frames.Lines
		var hx [2 * sha256.Size]byte
		guest.ServeOptions(guest.Options{Requests: frames.Fixed(ShaSize), Replies: &lines}, func(req []byte, w *guest.Replies) error {
			sum := sha256.Sum256(req)
			hex.Encode(hx[:], sum[:])
			return w.Reply(hx[:])
		})
	default:
		fmt.Fprintf(os.Stderr, "ppbench: unknown mode %q: want echo, upper or sha256\n", mode)
		os.Exit(2)
	}
}

// ShaSize is the size of a sha256 request.
const ShaSize = 4096

// Echo replies with the request.
func Echo(req []byte, w *guest.Replies) error { return w.Reply(req) }

// Upper appends s with ASCII a-z upper-cased to dst.
func Upper(dst, s []byte) []byte {
	for _, c := range s {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
