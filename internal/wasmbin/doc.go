// Package wasmbin assembles tiny wasm modules by hand, for tests that need
// modules no toolchain would make (a reactor, a module without _start, a
// WASI import of the wrong type…): a module is a header and sections, and
// a section is an id, a LEB128 size and a body. It also has the pieces
// most such modules share: the types, one function, a memory, its code and
// the exports and imports.
//
//	mod := wasmbin.Module(wasmbin.Types, wasmbin.OneFunc, wasmbin.Memory,
//		wasmbin.ExportAll("_start", 0), wasmbin.Code)
package wasmbin
