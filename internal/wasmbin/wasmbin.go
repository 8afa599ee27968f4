package wasmbin

import "encoding/binary"

// Module returns a wasm module of version 1 with the sections in order.
func Module(sections ...[]byte) []byte {
	return Cat(append([][]byte{[]byte("\x00asm\x01\x00\x00\x00")}, sections...)...)
}

// Section returns a section: its id, the size of body as LEB128, and body.
func Section(id byte, body ...byte) []byte {
	b := append(append([]byte{id}, LEB(uint32(len(body)))...), body...)
	return b[:len(b):len(b)]
}

// LEB returns v as unsigned LEB128 (which is Go's uvarint).
func LEB(v uint32) []byte { return binary.AppendUvarint(nil, uint64(v)) }

// Name returns s as a wasm name: its length as LEB128, then its bytes.
func Name(s string) []byte { return append(LEB(uint32(len(s))), s...) }

// Cat returns the parts joined in a new slice.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// The pieces most test modules share. A module's own function comes after
// the functions it imports: 0 without an import, 1 with one.
var (
	// Types has type 0, () -> (), and type 1, (i32, i32, i32, i32) -> i32,
	// the type of WASI's fd_write.
	Types = Section(1, 2, 0x60, 0, 0, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f)
	// OneFunc declares one function of type 0.
	OneFunc = Section(3, 1, 0)
	// Memory defines one memory of at least 1 page, with no maximum.
	Memory = Section(5, 1, 0, 1)
	// Code is the code of one function with no locals that does nothing.
	Code = Section(10, 1, 2, 0, 0x0b)
)

// ExportAll returns an export section that exports function idx as name
// and memory 0 as "memory".
func ExportAll(name string, idx byte) []byte {
	return Section(7, Cat([]byte{2}, Name(name), []byte{0, idx}, Name("memory"), []byte{2, 0})...)
}

// ImportFunc returns an import section that imports module.name, a
// function of type typ.
func ImportFunc(module, name string, typ byte) []byte {
	return Section(2, Cat([]byte{1}, Name(module), Name(name), []byte{0, typ})...)
}
