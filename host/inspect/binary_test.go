package inspect

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCheckHeader(t *testing.T) {
	for _, tc := range []struct {
		name, code string
		err        string // the whole message; "" for none
	}{
		{"m.wasm", "\x00asm\x01\x00\x00\x00", ""},
		{"m.wasm", "\x00asm\x01\x00\x00\x00\x01\x02", ""}, // the rest is not the header's business
		{"m.wasm", "", `m.wasm is not a WebAssembly module (it does not start with \0asm)`},
		{"m.wasm", "\x7fELF\x02\x01\x01\x00", `m.wasm is not a WebAssembly module (it does not start with \0asm)`},
		{"m.wat", "(module)", `m.wat is not a WebAssembly module (it does not start with \0asm; a .wat text module must be assembled first, e.g. with wat2wasm)`},
		{"m.wasm", "\x00asm\x01", "m.wasm is not a WebAssembly module: it ends after 5 bytes"},
		{"m.wasm", "\x00as", `m.wasm is not a WebAssembly module (it does not start with \0asm)`},
		{"c.wasm", "\x00asm\x0d\x00\x01\x00", "c.wasm is a WebAssembly component (WASI preview 2), not a core module: wasmpool runs WASI preview 1 core modules"},
		{"c.wasm", "\x00asm\x0a\x00\x01\x00", "c.wasm is a WebAssembly component (WASI preview 2), not a core module: wasmpool runs WASI preview 1 core modules"},
		{"f.wasm", "\x00asm\x02\x00\x00\x00", "f.wasm has WebAssembly binary version 0x2; only version 1 exists"},
		{"f.wasm", "\x00asm\x00\x00\x00\x00", "f.wasm has WebAssembly binary version 0x0; only version 1 exists"},
		{"f.wasm", "\x00asm\x01\x00\x02\x00", "f.wasm has WebAssembly binary version 0x20001; only version 1 exists"},
		{"", "text", `the module is not a WebAssembly module (it does not start with \0asm)`},
	} {
		err := CheckHeader(tc.name, []byte(tc.code))
		if tc.err == "" {
			if err != nil {
				t.Errorf("CheckHeader(%q) = %v", tc.code, err)
			}
			continue
		}
		var fe *FormatError
		if err == nil || err.Error() != tc.err || !errors.Is(err, ErrNotModule) || errors.Is(err, ErrMalformed) || !errors.As(err, &fe) || !fe.Header {
			t.Errorf("CheckHeader(%q) = %v,\nwant a header FormatError %q", tc.code, err, tc.err)
		}
	}
}

func TestSections(t *testing.T) {
	hdr := "\x00asm\x01\x00\x00\x00"
	for _, tc := range []struct {
		desc, code string
		ids        []byte // the ids of the sections returned
		err        string // the message; "" for none
	}{
		{"empty module", hdr, nil, ""},
		{"two sections", hdr + "\x01\x01\x00\x00\x05\x04name\x07\x00", []byte{1, 0, 7}, ""},
		{"empty section at the end", hdr + "\x0b\x00", []byte{11}, ""},
		{"no size", hdr + "\x01", nil, "malformed module: unexpected end at offset 9"},
		{"truncated LEB size", hdr + "\x01\x80\x80", nil, "malformed module: unexpected end at offset 11"},
		{"LEB size over 32 bits", hdr + "\x01\x80\x80\x80\x80\x10", nil, "malformed module: bad LEB128 number at offset 9"},
		{"LEB size of 6 bytes", hdr + "\x01\x80\x80\x80\x80\x80\x00", nil, "malformed module: bad LEB128 number at offset 9"},
		{"overlong but in range", hdr + "\x01\x80\x80\x80\x80\x00", []byte{1}, ""},
		{"section past the end", hdr + "\x01\x05\x01", nil, "malformed module: section 1 at offset 8 runs past the end"},
		{"second section past the end", hdr + "\x01\x00\x0a\x02\x00", []byte{1}, "malformed module: section 10 at offset 10 runs past the end"},
		{"huge size", hdr + "\x01\xff\xff\xff\xff\x0f", nil, "malformed module: section 1 at offset 8 runs past the end"},
		{"custom name past the end", hdr + "\x00\x02\x05a", nil, "malformed module: bad name of the custom section at offset 8"},
		{"custom without a name", hdr + "\x00\x00", nil, "malformed module: bad name of the custom section at offset 8"},
		{"custom with an empty name", hdr + "\x00\x01\x00", []byte{0}, ""},
	} {
		secs, err := sections("m.wasm", []byte(tc.code))
		var ids []byte
		for _, s := range secs {
			ids = append(ids, s.id)
		}
		if !bytes.Equal(ids, tc.ids) {
			t.Errorf("%s: sections %v, want %v", tc.desc, ids, tc.ids)
		}
		if tc.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.desc, err)
			}
			continue
		}
		if err == nil || err.Error() != "m.wasm: "+tc.err || !errors.Is(err, ErrMalformed) || errors.Is(err, ErrNotModule) {
			t.Errorf("%s: error %v,\nwant ErrMalformed %q", tc.desc, err, "m.wasm: "+tc.err)
		}
	}
}

// TestParseModuleErrors: a fault inside a section names the section and
// the offset in the file, not in the section.
func TestParseModuleErrors(t *testing.T) {
	for _, tc := range []struct {
		desc string
		mod  []byte
		err  string
	}{
		{"import kind", wasm(types, sec(2, cat([]byte{1}, str("a"), str("b"), []byte{9})...)), "malformed module: section 2: bad import kind at offset 29"},
		{"truncated import", wasm(types, sec(2, 1, 1)), "malformed module: section 2: vector length 1 past the end at offset 26"},
		{"LEB type index", wasm(types, sec(3, 1, 0x80, 0x80, 0x80, 0x80, 0x70)), "malformed module: section 3: bad LEB128 number at offset 25"},
		{"memory limits", wasm(sec(5, 1, 9, 1)), "malformed module: section 5: bad limits at offset 11"},
		{"export kind", wasm(sec(7, cat([]byte{1}, str("x"), []byte{7, 0})...)), "malformed module: section 7: bad export kind at offset 13"},
		{"64-bit memory", wasm(sec(5, 1, 4, 0x80, 0x80, 0x80, 0x80, 0x10)), ""},
	} {
		_, _, err := parseModule(tc.mod)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.desc, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err || !errors.Is(err, ErrMalformed)):
			t.Errorf("%s: error %v, want %q", tc.desc, err, tc.err)
		}
	}
}

func FuzzSections(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc, memory1, exportAll("_start", 1), code))
	f.Add(wasm(sec(0, cat(str("wasmpool"), []byte("framing zero\nsession\n"))...)))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\x80\x80\x80\x80\x10"))
	f.Add([]byte("\x00asm\x0d\x00\x01\x00"))
	f.Add(wasm(types, sec(2, cat([]byte{1}, str("env"), str("memory"), []byte{2, 5, 1, 2})...)))
	f.Add(wasm(sec(0, cat(str("wasmpool"), []byte("framing zero"))...), sec(1, 1, 0x5f, 0)))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, code []byte) {
		secs, err := sections("f.wasm", code)
		if herr := CheckHeader("f.wasm", code); herr != nil {
			if !errors.Is(err, ErrNotModule) || len(secs) != 0 {
				t.Fatalf("bad header %v, but sections gave %d sections, %v", herr, len(secs), err)
			}
			return
		}
		// The sections tile the module from the header on, up to the fault.
		off := headerSize
		for _, s := range secs {
			if s.start != off || s.end <= s.start || s.end > len(code) || !bytes.Equal(code[s.bodyAt:s.end], s.body) {
				t.Fatalf("section %+v does not follow offset %d", s, off)
			}
			if s.id == 0 && !bytes.HasSuffix(s.body, s.content) {
				t.Fatalf("custom section content is not the end of its body")
			}
			off = s.end
		}
		if err != nil {
			var fe *FormatError
			if !errors.Is(err, ErrMalformed) || !errors.As(err, &fe) || fe.Offset < off || fe.Offset > len(code) || !strings.HasPrefix(err.Error(), "f.wasm: malformed module: ") {
				t.Fatalf("error %v (offset %d, sections up to %d)", err, fe.Offset, off)
			}
			return
		}
		if off != len(code) {
			t.Fatalf("sections end at %d of %d bytes without an error", off, len(code))
		}
		// What the walk accepts, the interface parser does not panic on,
		// and errs only with ErrMalformed.
		m, _, err := parseModule(code)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("parseModule: %v", err)
		}
		for _, im := range m.imports {
			if im.Kind == "" {
				t.Fatalf("import without kind: %+v", im)
			}
		}
	})
}
