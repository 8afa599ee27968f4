// Package conformance checks that the guests of every language keep the
// same contract (package abi, with the Go SDK in package guest as the
// reference): the Go, C (guest/c), Rust (guest/rust) and AssemblyScript
// (guest/assemblyscript) SDKs, and the hand-written WAT filters
// (guest/wat).
//
// Its tests build one echo guest per language (goecho, cecho, rustecho,
// asecho and guest/wat/echo.wat: "echo [-strict] [REQUESTS [REPLIES]]"
// replies to each request with the same bytes) and every language's
// linelen example with internal/guestbuild, run them with wazero, and check
// byte-exact round trips of random frames in every framing, that replies
// are flushed before every read of stdin, and the failure paths (truncated
// frames, frames too large, bad reply frames, handler errors: a message on
// stderr naming the request and exit status 1). They also check that every
// guest exports the session marker (abi.SessionMarker), that the SDK
// guests and the WAT echo take the pool's framings from the environment
// (abi.FramesEnv, abi.ReplyFramesEnv) over their own, and that a strict
// guest ("echo -strict ...") refuses other ones at start.
//
// A language whose toolchain is missing is skipped with a message naming
// what to install (.ci/install-toolchains installs all); set
// WASMPOOL_REQUIRE_TOOLCHAINS=1 to make that a failure instead.
//
//	go test ./internal/conformance
package conformance
