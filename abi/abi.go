package abi

// Version is the protocol version. A kid started by a parent of another
// version refuses to run.
const Version = 4

// KidEnv is the environment variable that puts a process in kid mode. Its
// value is the kid's launch specification, a JSON document.
const KidEnv = "WASMPOOL_KID"

// Framing names.
const (
	FramingLines  = "lines"
	FramingZero   = "zero"
	FramingLenPfx = "lenpfx"
	FramingFixed  = "fixed" // written "fixed:N"
)

// Environment variables in which a kid passes the pool's framings to the
// guest, each holding a framing name. A guest that finds them reads and
// writes those framings instead of its own defaults (see "Framings in the
// environment" in the package doc).
const (
	FramesEnv      = "WASMPOOL_FRAMES"       // the request framing
	ReplyFramesEnv = "WASMPOOL_REPLY_FRAMES" // the reply framing
)

// SessionMarker is the name of the function a module exports to declare the
// session contract (see "Instance modes" in the package doc): an exported
// function with no parameters and no results, never called. Every wasmpool
// guest SDK adds it to the modules built with it.
const SessionMarker = "wasmpool_session"

// MaxFixed is the largest record size N of a fixed:N framing: 1 GiB. A
// record must fit in memory on both sides of a pipe; a larger N is a
// typo, not a record.
const MaxFixed = 1 << 30

// LenPfxHeader is the size of a lenpfx length header: an unsigned 64-bit
// little-endian integer.
const LenPfxHeader = 8

// DefaultMaxFrame is the largest frame, request or reply, accepted when the
// caller sets no other limit: 64 MiB.
const DefaultMaxFrame = 64 << 20

// Exit codes of a kid process for failures that are not the guest's own exit.
const (
	// ExitTrap: the guest trapped (unreachable, out-of-bounds access, stack
	// overflow, memory limit). The trap message is on the kid's stderr on a
	// line starting with [TrapPrefix].
	ExitTrap = 121
	// ExitSetup: the kid could not load or instantiate the module.
	ExitSetup = 122
	// ExitNoParent: the process was started in kid mode without a parent
	// pool (for example by hand, with KidEnv set in the shell).
	ExitNoParent = 123
)

// TrapPrefix starts the stderr line on which a kid reports a wasm trap.
const TrapPrefix = "wasmpool: wasm trap: "

// CustomSection is the name of the optional custom section in which a
// module describes itself (framing, reply framing, one reply per request,
// the session contract, grants it needs); the format is specified in the
// package doc.
const CustomSection = "wasmpool"

// The environment of a fork-join part (host.ForkJoin): its number from 0,
// the bounds of its half-open range [LO, HI) and the number of parts, in
// decimal. The guest also gets LO, HI and PART as its last three arguments.
const (
	EnvPart  = "WASMPOOL_PART"
	EnvLo    = "WASMPOOL_LO"
	EnvHi    = "WASMPOOL_HI"
	EnvParts = "WASMPOOL_PARTS"
)

// SectionVersion is the version of the custom section format specified in
// the package doc.
const SectionVersion = 2
