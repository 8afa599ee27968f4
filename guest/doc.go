// Package guest is the Go SDK for wasmpool filters: programs built with
// GOOS=wasip1 GOARCH=wasm that a wasmpool host runs as kids.
//
// A filter is a handler called once per request frame; it writes zero, one
// or many reply frames:
//
//	func main() {
//		guest.Serve(frames.Lines, func(req []byte, w *guest.Replies) error {
//			return w.Reply(strconv.AppendInt(nil, int64(len(req)), 10))
//		})
//	}
//
// Serve reads requests from stdin and writes replies to stdout through one
// buffer, flushed before every read of stdin (so a kid never holds a reply
// the parent waits for), when it passes 64 KiB, and at exit. A handler
// error is reported on stderr with the request number and the program exits
// with status 1; the replies made before it (or before a panic) are written
// first.
//
// [ServeOptions] takes a reply framing that differs from the request
// framing, and a request size limit:
//
//	replies := frames.LenPfx
//	guest.ServeOptions(guest.Options{Requests: frames.Zero, Replies: &replies}, h)
//
// The same code runs natively (tests, or a native kid): [Run] takes any
// reader and writer.
//
// Guests in other languages live beside this package: guest/c (a header),
// guest/rust (a module) and guest/wat (a hand-written filter).
package guest
