package main

import "github.com/wasmpool/wasmpool/internal/wasmbin"

// Hand-assembled modules for the bad-module tests: each is valid wasm that
// cannot run as a kid, for one reason.

func fixtures() map[string][]byte {
	sec, leb, str, cat, wasm := wasmbin.Section, wasmbin.LEB, wasmbin.Name, wasmbin.Cat, wasmbin.Module
	// type 0: () -> (); type 1: (i32, i32, i32, i32) -> i32
	types, oneFunc, memory, code := wasmbin.Types, wasmbin.OneFunc, wasmbin.Memory, wasmbin.Code
	// exports function idx as name, and memory 0 as "memory"
	exports, importFunc := wasmbin.ExportAll, wasmbin.ImportFunc
	// wcat: a WASI filter in 200 bytes that copies stdin to stdout, read
	// by read, so it echoes each request in any framing; it compiles in
	// a millisecond, which cold-cache tests want.
	wcatCode := []byte{
		0x02, 0x40, // block
		0x03, 0x40, // loop
		0x41, 0x00, 0x41, 0x10, 0x36, 0x02, 0x00, // iov.buf = 16
		0x41, 0x04, 0x41, 0x80, 0x20, 0x36, 0x02, 0x00, // iov.len = 4096
		0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0x41, 0x08, 0x10, 0x00, // fd_read(0, iov, 1, &n)
		0x0d, 0x01, // an error: done
		0x41, 0x08, 0x28, 0x02, 0x00, 0x45, 0x0d, 0x01, // n == 0: done
		0x41, 0x04, 0x41, 0x08, 0x28, 0x02, 0x00, 0x36, 0x02, 0x00, // iov.len = n
		0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x41, 0x0c, 0x10, 0x01, 0x1a, // fd_write(1, iov, 1, &w)
		0x0c, 0x00, // again
		0x0b, 0x0b, 0x0b,
	}
	wcat := wasm(types,
		sec(2, cat([]byte{2},
			str("wasi_snapshot_preview1"), str("fd_read"), []byte{0, 1},
			str("wasi_snapshot_preview1"), str("fd_write"), []byte{0, 1})...),
		oneFunc, memory, exports("_start", 2),
		sec(10, cat([]byte{1}, leb(uint32(len(wcatCode)+1)), []byte{0}, wcatCode)...))
	return map[string][]byte{
		"wcat":       wcat,
		"badsection": cat(wcat, sec(0, cat(str("wasmpool"), []byte("framng lines\n"))...)),
		"command":    wasm(types, oneFunc, memory, exports("_start", 0), code),
		"nostart":    wasm(types, oneFunc, memory, exports("run", 0), code),
		"reactor":    wasm(types, oneFunc, memory, exports("_initialize", 0), code),
		"envimport":  wasm(types, importFunc("env", "log", 1), oneFunc, memory, exports("_start", 1), code),
		"unstable":   wasm(types, importFunc("wasi_unstable", "fd_write", 1), oneFunc, memory, exports("_start", 1), code),
		"memimport":  wasm(types, sec(2, cat([]byte{1}, str("env"), str("memory"), []byte{2, 0, 1})...), oneFunc, exports("_start", 0), code),
		"component":  []byte("\x00asm\x0d\x00\x01\x00"),
		"truncated":  []byte("\x00asm\x01\x00\x00\x00\x01\x09\x01"),
	}
}
