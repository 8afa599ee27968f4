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
// # Fork-join parts
//
// A fork-join (host.ForkJoin, wasmpool forkjoin) runs one fresh instance
// per part of a range instead of streaming requests: the guest gets its
// part's half-open range and number as its last three arguments, LO HI
// PART, and in the environment as [EnvLo], [EnvHi], [EnvPart], with the
// number of parts in [EnvParts]. Its stdin is the part's input (empty
// unless the host gives one), its stdout the part's output; it exits 0
// when the part is done, non-zero when it failed.
//
// # Self-description: the wasmpool section
//
// A module may describe itself to the host in a custom section named
// "wasmpool" ([CustomSection]): the framings it reads and writes, whether
// it replies exactly once per request, whether it keeps the session
// contract, and what it needs granted. A host that finds the section uses
// it wherever the user said nothing else, so a described filter runs
// without flags (`wasmpool run filter.wasm`). Package
// github.com/wasmpool/wasmpool/host/inspect reads and writes it (its
// Section type, ParseSection, ModuleSection and SetModuleSection).
//
// The section's content is UTF-8 text, one declaration per line:
//
//	# linelen: replies with the length of each line
//	version 1
//	framing lines
//	reply-framing lines
//	one-to-one
//	dir /dict ro
//	dir /scratch rw optional
//	env LANG optional
//
// Lines end at '\n' or at a NUL byte, and a '\r' before the end is dropped,
// so a C string's terminator and the concatenation of several sections by a
// linker do no harm. Fields are separated by spaces or tabs. Empty lines and
// lines whose first field starts with '#' are ignored. The declarations:
//
//	version N           the format version, a decimal N ≥ 1; 1 when absent.
//	framing F           the request framing, a framing name as above.
//	reply-framing F     the reply framing; when absent, the same as framing.
//	one-to-one          exactly one reply per request, in request order: the
//	                    host may match replies to requests (ordered output).
//	session             (version 2) the guest keeps the session contract (it
//	                    flushes its replies before every blocking read of
//	                    stdin, as the SDKs do), so a long-lived instance may
//	                    serve many requests (see Instance modes).
//	dir PATH [ro|rw] [optional]
//	                    the guest opens files under the absolute, clean guest
//	                    PATH (no spaces); ro (the default) if it only reads
//	                    them, rw if it writes. The user must grant a host
//	                    directory there unless the line says optional.
//	env NAME [optional] the guest reads the environment variable NAME
//	                    (letters, digits, '_', not starting with a digit);
//	                    the user must pass it unless the line says optional.
//
// A declaration may be repeated with the same value (as when a linker
// merges two copies), never with another. A declaration the reader does not
// know is an error when the section's version is one it knows (a typo
// caught early); in a section of a later version it is ignored, so later
// versions may only add declarations, and a writer states the lowest
// version that has every declaration it writes (version 1 unless it writes
// session), so that older hosts read what they know of it. Declarations
// are never grants: a host grants only what its user asks for, and reports
// a required need that was not granted before it starts any kid.
//
// The canonical text is what inspect's Section.MarshalText writes, so tools
// can generate and compare it. A module may hold more than one "wasmpool"
// custom section; they are read as one text, in module order, a line end
// between each.
//
// Writing the section: Go's wasm linker cannot emit custom sections; add
// one to a built module with `wasmpool describe`, or with inspect's
// SetModuleSection. In C (clang, wasm-ld), a top-level asm statement emits
// one; it survives -Wl,--strip-all:
//
//	__asm__(".section .custom_section.wasmpool,\"\",@\n"
//	        ".ascii \"framing lines\\none-to-one\\n\"\n");
//
// Rust emits one for a static with a link_section attribute:
//
//	#[used]
//	#[link_section = "wasmpool"]
//	static WASMPOOL: [u8; 25] = *b"framing lines\none-to-one\n";
//
// # Limits
//
// [DefaultMaxFrame] bounds the size of one frame, request or reply, unless
// the user sets another bound. A larger frame is an error that names the
// frame, never a hang.
package abi
