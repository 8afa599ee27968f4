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
//	fixed:N   records of exactly N bytes, N ≥ 1; a short last record is an error
//
// Payloads of lines and zero frames cannot contain their terminator. The
// reply framing may differ from the request framing.
//
// A kid passes the pool's framings to its guest in two environment
// variables, [FramesEnv] (WASMPOOL_FRAMES, the request framing) and
// [ReplyFramesEnv] (WASMPOOL_REPLY_FRAMES, the reply framing), each holding
// one of the names above; a missing reply variable means the same as the
// request framing, and an empty variable counts as missing. The framing a
// guest names in its code is its default, used when the variables are
// missing (a guest run outside a pool, or by an older host); when they are
// set, the guest SDKs read and write the pool's framings instead. A guest
// that handles only its own framings (its records have a fixed meaning) says
// so to its SDK (strict); then a pool framing that differs, or a value that
// is not a framing name, makes it exit 1 at start with a line on stderr
// naming both, such as
//
//	guest: this guest reads fixed:4 requests; the pool sends lines
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
// # Instance modes
//
// A host runs a module in one of two modes. Session: one long-lived
// instance per kid, fed request after request, for guests that keep the
// contract above (in particular: flush replies before every read of stdin
// that may block). A module declares that it keeps it by exporting a
// function named [SessionMarker] (wasmpool_session, no parameters, no
// results, never called), which every wasmpool guest SDK adds by itself, or
// by the session key of its custom section. Batch: any other program gets a
// fresh instance per batch of whole request frames; its stdin is the batch
// then EOF, and its stdout up to its exit is the batch's replies, so
// programs that read ahead or buffer their output (most WASI programs) work
// unchanged.
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
