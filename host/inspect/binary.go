// This file is the one reader of the WebAssembly binary format in
// wasmpool: the header check, the section walk and LEB128. Everything that
// reads a module's bytes (Inspect, the wasmpool section, host.New) goes
// through it.

package inspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Errors of the binary reader; every *FormatError unwraps to one of them.
var (
	// ErrNotModule: the bytes are not a WebAssembly core module at all:
	// another file, a component, another binary version.
	ErrNotModule = errors.New("inspect: not a WebAssembly core module")
	// ErrMalformed: a core module header, then bytes that break the binary
	// format (a section past the end, a bad LEB128 number, …).
	ErrMalformed = errors.New("inspect: malformed module")
)

// A FormatError says where and why bytes are not a well-formed core
// module. Its text needs no prefix: "m.wasm is a WebAssembly component
// (…)", "m.wasm: malformed module: section 1 at offset 8 runs past the end".
type FormatError struct {
	Name   string // the module's name in messages; may be empty
	Header bool   // the header is wrong (ErrNotModule), not what follows (ErrMalformed)
	Offset int    // where the reader stopped, from the start of the module
	Reason string // what is wrong, in words
}

func (e *FormatError) Error() string {
	if e.Header {
		name := e.Name
		if name == "" {
			name = "the module"
		}
		return name + " " + e.Reason
	}
	if e.Name == "" {
		return "malformed module: " + e.Reason
	}
	return e.Name + ": malformed module: " + e.Reason
}

func (e *FormatError) Unwrap() error {
	if e.Header {
		return ErrNotModule
	}
	return ErrMalformed
}

const headerSize = 8

// header is the magic and version 1 of a core module.
var header = []byte("\x00asm\x01\x00\x00\x00")

// CheckHeader tells a core module from other files, and says what a
// component, another binary version or a text module is. name is the
// module's name in the message (a .wat name gets a hint). Its error is a
// *FormatError wrapping ErrNotModule.
func CheckHeader(name string, code []byte) error {
	bad := func(format string, args ...any) error {
		return &FormatError{Name: name, Header: true, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case len(code) < 4 || string(code[:4]) != string(header[:4]):
		what := "it does not start with \\0asm"
		if strings.HasSuffix(name, ".wat") {
			what += "; a .wat text module must be assembled first, e.g. with wat2wasm"
		}
		return bad("is not a WebAssembly module (%s)", what)
	case len(code) < headerSize:
		return bad("is not a WebAssembly module: it ends after %d bytes", len(code))
	}
	switch v := binary.LittleEndian.Uint32(code[4:]); {
	case v == 1:
		return nil
	case v>>16 == 1: // the layer field of a component's header
		return bad("is a WebAssembly component (WASI preview 2), not a core module: wasmpool runs WASI preview 1 core modules")
	default:
		return bad("has WebAssembly binary version %#x; only version 1 exists", v)
	}
}

// reader reads the binary format from b; off counts from the module's
// start (base is the offset of b[0]), so errors say where in the file. The
// first error sticks: later reads return zero values.
type reader struct {
	b    []byte
	base int
	off  int // into b
	err  error
}

// fail records what is wrong at the current offset.
func (r *reader) fail(format string, args ...any) {
	r.failAt(r.base+r.off, fmt.Sprintf(format, args...)+fmt.Sprintf(" at offset %d", r.base+r.off))
}

func (r *reader) failAt(off int, reason string) {
	if r.err == nil {
		r.err = &FormatError{Offset: off, Reason: reason}
	}
}

func (r *reader) more() bool { return r.err == nil && r.off < len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// uleb reads an unsigned LEB128 number of at most bits bits, refusing
// unused bits that are set and encodings longer than the spec allows.
func (r *reader) uleb(bits uint) uint64 {
	start := r.off
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if bits-shift < 7 && (c&0x80 != 0 || uint64(c)>>(bits-shift) != 0) {
			r.off = start
			r.fail("bad LEB128 number")
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length that the remaining bytes can hold.
func (r *reader) count() int {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("vector length %d past the end", n)
		return 0
	}
	return int(n)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.off {
		r.fail("length past the end")
		return nil
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

func (r *reader) name() string { return string(r.bytes(r.count())) }

// appendULEB appends v as unsigned LEB128.
func appendULEB(dst []byte, v uint32) []byte { return binary.AppendUvarint(dst, uint64(v)) }

// section is one section of a module as the walk finds it.
type section struct {
	id         byte
	start, end int    // the whole section in the module, id byte included
	body       []byte // after the size
	bodyAt     int    // offset of body in the module
	name       string // of a custom section (id 0)
	content    []byte // of a custom section, after its name
}

// sections checks the header and splits a module into its sections. On a
// malformed module it returns the sections before the fault and a
// *FormatError wrapping ErrMalformed.
func sections(name string, code []byte) ([]section, error) {
	if err := CheckHeader(name, code); err != nil {
		return nil, err
	}
	var secs []section
	r := &reader{b: code, off: headerSize}
	for r.more() {
		s := section{start: r.off}
		s.id = r.byte()
		size := r.u32()
		if r.err == nil && uint64(size) > uint64(len(code)-r.off) {
			r.failAt(s.start, fmt.Sprintf("section %d at offset %d runs past the end", s.id, s.start))
		}
		s.bodyAt = r.off
		s.body = r.bytes(int(size))
		s.end = r.off
		if r.err == nil && s.id == 0 {
			c := &reader{b: s.body, base: s.bodyAt}
			s.name = c.name()
			s.content = s.body[c.off:]
			if c.err != nil {
				r.failAt(s.start, fmt.Sprintf("bad name of the custom section at offset %d", s.start))
			}
		}
		if r.err != nil {
			break
		}
		secs = append(secs, s)
	}
	if r.err != nil {
		r.err.(*FormatError).Name = name
	}
	return secs, r.err
}
