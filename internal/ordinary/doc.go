// Package ordinary tests wasmpool with ordinary WASI programs: small C
// and Go filters under testdata that know nothing of wasmpool (they read
// ahead, buffer their output, write any number of lines per line read,
// or read everything before they write), run in batch instances through
// the library (host.New, Pool.Filter, Pool.Run) and through the wasmpool
// command, and compared with the same programs built natively.
//
// Its tests build every program twice in TestMain, to wasm (clang-14
// --target=wasm32-wasi, GOOS=wasip1) and for this machine (cc, go build),
// and build the wasmpool command and testdata/bannerhost, a native host
// program whose banner must never reach the replies. The package has no
// code of its own.
package ordinary
