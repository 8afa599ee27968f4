// Package abi is the contract between a wasmpool host and its guests; this
// package documentation is the protocol specification.
//
// # Roles
//
// The parent (package host) starts N kids. A kid is the parent's own binary
// re-executed in kid mode; it runs one WebAssembly module (WASI preview 1,
// command style: an exported _start) with wazero. The guest's stdin is the
// request pipe and its stdout the reply pipe; its stderr is forwarded to the
// parent, which prefixes each line with the kid number.
//
// # Framing
//
// Requests and replies are byte streams cut into frames by one of four
// framings, named everywhere (flags, custom sections, environment) by these
// strings:
//
//	lines     a frame is the bytes before '\n'; a last frame without '\n'
//	          at EOF is still a frame (as line tools do)
//	zero      the same with the NUL byte as terminator (find -print0, xargs -0)
//	lenpfx    an 8-byte little-endian unsigned length, then that many bytes
//	fixed:N   records of exactly N bytes, 1 ≤ N ≤ 2³⁰ ([MaxFixed], 1 GiB),
//	          N in decimal without sign or leading zero (fixed:8, not
//	          fixed:08 or fixed:+8); a short last record is an error
//
// No other spelling names a framing, wherever it is written. Payloads of
// lines and zero frames cannot contain their terminator. The reply framing
// may differ from the request framing.
//
// # Guest obligations
//
//   - Read request frames from stdin until EOF, then exit 0.
//   - Write zero or more reply frames per request to stdout. A guest that
//     promises exactly one reply per request, in request order, may be run in
//     the host's ordered modes, where each reply is matched to its request.
//   - Flush stdout before every read of stdin that may block. The parent
//     writes many requests ahead; a guest that holds replies in a buffer while
//     it waits for input can stall the pool.
//   - Report a failure on stderr and exit non-zero.
//
// # Kid mode
//
// A process is a kid when the environment variable [KidEnv] is set; its value
// is a JSON document (see the host package) whose "version" field must equal
// [Version]. A kid refuses to run when its parent process is not the one that
// started it, so starting a binary by hand with the variable set gives a clear
// message rather than a process waiting on a terminal.
//
// # Exit codes of a kid
//
// A kid exits with the guest's own exit code (0 on EOF, whatever the guest
// passed to exit otherwise, 2 for a Go guest's panic), or with one of the
// codes below for failures of the kid itself. They sit in the range that
// shells reserve for their own failures, so guests rarely collide with them.
//
// # Self-description
//
// A module may describe itself in a custom section named [CustomSection]:
// its framings, whether it replies once per request, and the directories
// and environment variables it needs. Hosts use the declarations as
// defaults and never as grants; the format, and how to emit it from Go, C
// and Rust, is specified on [Section] (section.go).
//
// # Limits
//
// [DefaultMaxFrame] bounds the size of one frame, request or reply, unless
// the user sets another bound. A larger frame is an error that names the
// frame, never a hang.
package abi
