package main

// Hand-assembled modules for the bad-module tests: each is valid wasm that
// cannot run as a kid, for one reason.

func sec(id byte, body ...byte) []byte {
	return append(append([]byte{id}, leb(uint32(len(body)))...), body...)
}

func leb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func str(s string) []byte { return append(leb(uint32(len(s))), s...) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func wasm(sections ...[]byte) []byte {
	return cat(append([][]byte{[]byte("\x00asm\x01\x00\x00\x00")}, sections...)...)
}

func fixtures() map[string][]byte {
	// type 0: () -> (); type 1: (i32, i32, i32, i32) -> i32
	types := sec(1, 2, 0x60, 0, 0, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f)
	oneFunc := sec(3, 1, 0)
	memory := sec(5, 1, 0, 1)
	code := sec(10, 1, 2, 0, 0x0b)
	// exports function idx as name, and memory 0 as "memory"
	exports := func(name string, idx byte) []byte {
		return sec(7, cat([]byte{2}, str(name), []byte{0, idx}, str("memory"), []byte{2, 0})...)
	}
	importFunc := func(module, name string, typ byte) []byte {
		return sec(2, cat([]byte{1}, str(module), str(name), []byte{0, typ})...)
	}
	return map[string][]byte{
		"command":   wasm(types, oneFunc, memory, exports("_start", 0), code),
		"nostart":   wasm(types, oneFunc, memory, exports("run", 0), code),
		"reactor":   wasm(types, oneFunc, memory, exports("_initialize", 0), code),
		"envimport": wasm(types, importFunc("env", "log", 1), oneFunc, memory, exports("_start", 1), code),
		"unstable":  wasm(types, importFunc("wasi_unstable", "fd_write", 1), oneFunc, memory, exports("_start", 1), code),
		"memimport": wasm(types, sec(2, cat([]byte{1}, str("env"), str("memory"), []byte{2, 0, 1})...), oneFunc, exports("_start", 0), code),
		"component": []byte("\x00asm\x0d\x00\x01\x00"),
		"truncated": []byte("\x00asm\x01\x00\x00\x00\x01\x09\x01"),
	}
}
