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
// The framing given to Serve is the guest's default. A pool passes its own
// framings in the environment (abi.FramesEnv, abi.ReplyFramesEnv), and
// Serve adopts them, so `wasmpool run -0 linelen.wasm` frames NUL-terminated
// requests even though linelen's code says frames.Lines. A guest whose
// records only mean something in its own framings sets [Options.Strict]:
// then a pool with other framings gets "guest: this guest reads fixed:4
// requests; the pool sends lines" on stderr and exit status 1 at start.
//
// Every guest built with this package exports the session marker
// (abi.SessionMarker, a wasmexport on GOOS=wasip1), by which a host knows
// that it keeps the session contract and runs it in one long-lived
// instance per kid rather than a fresh instance per batch.
//
// The same code runs natively (tests, or a native kid): [Run] takes any
// reader and writer, and ignores the environment ([FromEnv] reads it).
//
// Guests in other languages live beside this package: guest/c (a header),
// guest/rust (a module) and guest/wat (a hand-written filter).
package guest
