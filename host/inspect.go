package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmpool/wasmpool/abi"
)

// ModuleInfo is what Inspect learns about a module: its interface, what it
// costs to compile, its wasmpool section, and anything that will stop it
// from running as a kid.
type ModuleInfo struct {
	Path   string `json:"path"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`

	// WASI is the WASI version the module imports: "preview1"
	// (wasi_snapshot_preview1, what kids provide), "unstable" (snapshot 0),
	// "preview2" (wasi:… interfaces) or "none".
	WASI    string   `json:"wasi"`
	Imports []Import `json:"imports"`
	Exports []Export `json:"exports"`

	// Memory is the module's linear memory, defined or imported; nil if it
	// has none.
	Memory *Memory `json:"memory,omitempty"`

	// Start: the module exports a _start function, as a WASI command (a
	// program that can be a filter) does.
	Start bool `json:"start"`

	// CustomSections lists the custom sections in module order.
	CustomSections []CustomSection `json:"customSections"`

	// Section is the content of the wasmpool section, nil if there is none;
	// Described is its decoding, nil if there is none or it is invalid.
	Section   []byte       `json:"section,omitempty"`
	Described *abi.Section `json:"described,omitempty"`

	// CompileTime is how long wazero's compiler took, without a cache (a
	// first run's cost); 0 if the module did not compile. Compiler names
	// the compiler.
	CompileTime time.Duration `json:"compileTime"`
	Compiler    string        `json:"compiler"`

	// Problems are the reasons the module cannot run as a kid, one sentence
	// each; empty when it can.
	Problems []string `json:"problems"`
}

// Import is one import of a module.
type Import struct {
	Module string `json:"module"`
	Name   string `json:"name"`
	Kind   string `json:"kind"` // func, table, memory, global or tag
	Type   string `json:"type"` // e.g. "(i32, i32) -> i32"; "" if unknown
}

// Export is one export of a module.
type Export struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Type string `json:"type"`
}

// Memory describes a linear memory in 64 KiB pages.
type Memory struct {
	Min      uint64 `json:"min"`
	Max      uint64 `json:"max,omitempty"`
	HasMax   bool   `json:"hasMax"`
	Imported bool   `json:"imported"`
	Shared   bool   `json:"shared,omitempty"`
	Memory64 bool   `json:"memory64,omitempty"`
	Export   string `json:"export,omitempty"` // its export name, if exported
}

// CustomSection names a custom section and its size in bytes.
type CustomSection struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// WazeroVersion returns the version of the wazero runtime built into this
// program, or "unknown".
func WazeroVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				if d.Replace != nil {
					d = d.Replace
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

// InspectInterface is Inspect without the compile: it reads the module's
// interface from code and reports the problems that show in it, in
// milliseconds. CompileTime is 0 and Compiler empty; name is the module's
// name in messages.
func InspectInterface(ctx context.Context, name string, code []byte) (ModuleInfo, error) {
	return inspect(ctx, name, code, false)
}

// Inspect reads and compiles the module at path and reports its interface
// and problems. It returns an error wrapping ErrModule only when the file
// cannot be read or is not a WebAssembly core module at all; a module that
// is malformed further in, or would not run as a kid, is described with
// Problems.
func Inspect(ctx context.Context, path string) (ModuleInfo, error) {
	code, err := os.ReadFile(path)
	if err != nil {
		return ModuleInfo{}, fmt.Errorf("%w: %w", ErrModule, err)
	}
	return inspect(ctx, path, code, true)
}

func inspect(ctx context.Context, path string, code []byte, compile bool) (ModuleInfo, error) {
	if err := checkHeader(path, code); err != nil {
		return ModuleInfo{}, err
	}
	sum := sha256.Sum256(code)
	info := ModuleInfo{Path: path, Size: len(code), SHA256: hex.EncodeToString(sum[:]), WASI: "none"}
	m, perr := parseModule(code)
	info.Imports, info.Exports, info.Memory, info.CustomSections = m.imports, m.exports, m.memory, m.customs
	if perr != nil {
		info.problem("%v", perr)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	if compile {
		info.Compiler = "wazero " + WazeroVersion() + " compiler"
		start := time.Now()
		mod, cerr := rt.CompileModule(ctx, code)
		if cerr != nil {
			info.problem("it does not compile: %v", cerr)
		} else {
			info.CompileTime = time.Since(start)
			mod.Close(ctx)
		}
	}
	wasi := wasiFunctions(ctx, rt)
	info.check(m, wasi)

	content, found, err := abi.ModuleSection(code)
	if err == nil && found {
		info.Section = content
		if s, err := abi.ParseSection(content); err != nil {
			info.problem("its wasmpool section is invalid: %v", strings.TrimPrefix(err.Error(), abi.ErrSection.Error()+": "))
		} else {
			info.Described = &s
		}
	}
	// Empty lists, not nulls, in JSON.
	if info.Imports == nil {
		info.Imports = []Import{}
	}
	if info.Exports == nil {
		info.Exports = []Export{}
	}
	if info.CustomSections == nil {
		info.CustomSections = []CustomSection{}
	}
	if info.Problems == nil {
		info.Problems = []string{}
	}
	return info, nil
}

// checkHeader tells a core module from other files, and says what a
// component or another binary is.
func checkHeader(path string, code []byte) error {
	if !bytes.HasPrefix(code, wasmMagic) {
		return fmt.Errorf("%w: %s is not a WebAssembly module (it does not start with \\0asm)", ErrModule, path)
	}
	if len(code) < 8 {
		return fmt.Errorf("%w: %s is truncated: %d bytes, no version", ErrModule, path, len(code))
	}
	switch v := binary.LittleEndian.Uint32(code[4:]); {
	case v == 1:
		return nil
	case v&0xffff0000 == 0x00010000:
		return fmt.Errorf("%w: %s is a WebAssembly component (WASI preview 2), not a core module: wasmpool runs WASI preview 1 core modules", ErrModule, path)
	default:
		return fmt.Errorf("%w: %s has WebAssembly binary version %#x; only version 1 exists", ErrModule, path, v)
	}
}

func (info *ModuleInfo) problem(format string, args ...any) {
	info.Problems = append(info.Problems, fmt.Sprintf(format, args...))
}

type wasiFunc struct{ params, results []api.ValueType }

// wasiFunctions returns the functions that kids provide under
// wasi_snapshot_preview1, by name.
func wasiFunctions(ctx context.Context, rt wazero.Runtime) map[string]wasiFunc {
	mod, err := wasi_snapshot_preview1.NewBuilder(rt).Compile(ctx)
	if err != nil {
		return nil
	}
	defer mod.Close(ctx)
	fns := map[string]wasiFunc{}
	for name, f := range mod.ExportedFunctions() {
		fns[name] = wasiFunc{f.ParamTypes(), f.ResultTypes()}
	}
	return fns
}

// check finds what stops the module from running as a kid: kids provide
// the WASI preview 1 functions and nothing else, and call _start.
func (info *ModuleInfo) check(m parsedModule, wasi map[string]wasiFunc) {
	var foreign, unknown []string
	versions := map[string]bool{}
	for _, im := range m.imports {
		switch {
		case im.Module == wasi_snapshot_preview1.ModuleName:
			versions["preview1"] = true
		case im.Module == "wasi_unstable":
			versions["unstable"] = true
		case strings.HasPrefix(im.Module, "wasi:"):
			versions["preview2"] = true
		}
		name := im.Module + "." + im.Name
		if im.Kind != "func" {
			info.problem("it imports a %s, %s: kids provide only WASI preview 1 functions", im.Kind, name)
			continue
		}
		if im.Module != wasi_snapshot_preview1.ModuleName {
			foreign = append(foreign, name)
			continue
		}
		f, ok := wasi[im.Name]
		if wasi != nil && !ok {
			unknown = append(unknown, name)
			continue
		}
		if ok && im.Type != "" && im.Type != funcType(f.params, f.results) {
			info.problem("it imports %s with type %s, but WASI preview 1 defines it as %s", name, im.Type, funcType(f.params, f.results))
		}
	}
	for _, v := range []string{"preview1", "unstable", "preview2"} {
		if versions[v] {
			info.WASI = v
			break
		}
	}
	switch {
	case versions["unstable"]:
		info.problem("it imports WASI snapshot 0 (wasi_unstable), which kids do not provide: rebuild it for WASI preview 1 (wasi_snapshot_preview1)")
	case versions["preview2"]:
		info.problem("it imports WASI preview 2 interfaces (wasi:…), which kids do not provide: build it for WASI preview 1")
	}
	if len(foreign) > 0 && !versions["unstable"] && !versions["preview2"] {
		info.problem("it imports %s, which %s not WASI preview 1 (%s): kids provide nothing else", list(foreign), isAre(foreign), wasi_snapshot_preview1.ModuleName)
	}
	if len(unknown) > 0 {
		info.problem("it imports %s, which WASI preview 1 does not define", list(unknown))
	}
	exports := map[string]Export{}
	for _, e := range m.exports {
		exports[e.Name] = e
	}
	start, ok := exports["_start"]
	info.Start = ok && start.Kind == "func"
	switch {
	case !info.Start && exports["_initialize"].Kind == "func":
		info.problem("it exports _initialize but no _start: it is a WASI reactor (a library); build it as a command (a program with main)")
	case !info.Start:
		info.problem("it exports no _start function: build it as a WASI command (a program with main), not a library")
	case start.Type != "" && start.Type != "() -> ()":
		info.problem("its _start has type %s; a WASI command's _start takes and returns nothing", start.Type)
	}
	if m.memory == nil && versions["preview1"] {
		info.problem("it has no memory, which WASI calls need")
	}
}

func list(names []string) string {
	const most = 3
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

func isAre(names []string) string {
	if len(names) == 1 {
		return "is"
	}
	return "are"
}

func funcType(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}

// parsedModule is the interface of a module, read without wazero so that
// modules wazero refuses can still be described.
type parsedModule struct {
	imports []Import
	exports []Export
	memory  *Memory
	customs []CustomSection
}

// errMalformed is the cause of every parse failure.
var errMalformed = errors.New("malformed module")

type wasmReader struct {
	b   []byte
	off int
	err error
}

func (r *wasmReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at offset %d", errMalformed, what, r.off)
	}
}

func (r *wasmReader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *wasmReader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if bits-shift < 7 && (c&0x80 != 0 || uint64(c)>>(bits-shift) != 0) {
			r.fail("bad LEB128 number")
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *wasmReader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length that the remaining bytes can hold.
func (r *wasmReader) count() int {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("vector length past the end")
		return 0
	}
	return int(n)
}

func (r *wasmReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.off {
		r.fail("length past the end")
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *wasmReader) name() string { return string(r.bytes(r.count())) }

var valTypes = map[byte]string{0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref"}

func (r *wasmReader) limits() (min, max uint64, hasMax, shared, is64 bool) {
	flags := r.byte()
	if flags > 7 {
		r.fail("bad limits")
		return
	}
	hasMax, shared, is64 = flags&1 != 0, flags&2 != 0, flags&4 != 0
	bits := uint(32)
	if is64 {
		bits = 64
	}
	min = r.uleb(bits)
	if hasMax {
		max = r.uleb(bits)
	}
	return
}

var kinds = []string{"func", "table", "memory", "global", "tag"}

// parseModule reads the sections that make a module's interface. It
// returns what it could read before any error.
func parseModule(code []byte) (parsedModule, error) {
	var m parsedModule
	var types []string // "" for a type that is not a function type
	var funcs []int    // type index of each function, imports first
	var exportedMem []string
	top := &wasmReader{b: code, off: 8}
	for top.off < len(code) && top.err == nil {
		start := top.off
		id := top.byte()
		size := top.u32()
		if top.err == nil && uint64(size) > uint64(len(code)-top.off) {
			top.err = fmt.Errorf("%w: section %d at offset %d runs past the end", errMalformed, id, start)
		}
		body := top.bytes(int(size))
		if top.err != nil {
			break
		}
		r := &wasmReader{b: body}
		switch id {
		case 0:
			name := r.name()
			if r.err == nil {
				m.customs = append(m.customs, CustomSection{Name: name, Size: len(body) - r.off})
			}
		case 1: // types
			for n := r.count(); n > 0 && r.err == nil; n-- {
				if r.byte() != 0x60 {
					// GC-proposal types: not described further.
					types = append(types, "")
					r.off = len(r.b)
					break
				}
				var sig [2][]string
				for i := range sig {
					for k := r.count(); k > 0 && r.err == nil; k-- {
						t, ok := valTypes[r.byte()]
						if !ok {
							t = "?"
						}
						sig[i] = append(sig[i], t)
					}
				}
				types = append(types, "("+strings.Join(sig[0], ", ")+") -> ("+strings.Join(sig[1], ", ")+")")
			}
		case 2: // imports
			for n := r.count(); n > 0 && r.err == nil; n-- {
				im := Import{Module: r.name(), Name: r.name()}
				kind := r.byte()
				if int(kind) >= len(kinds) {
					r.fail("bad import kind")
					break
				}
				im.Kind = kinds[kind]
				switch kind {
				case 0:
					t := int(r.u32())
					funcs = append(funcs, t)
					im.Type = typeAt(types, t)
				case 1:
					ref := valTypes[r.byte()]
					min, max, hasMax, _, _ := r.limits()
					im.Type = ref + " " + limitsText(min, max, hasMax)
				case 2:
					min, max, hasMax, shared, is64 := r.limits()
					m.memory = &Memory{Min: min, Max: max, HasMax: hasMax, Imported: true, Shared: shared, Memory64: is64}
					im.Type = limitsText(min, max, hasMax) + " pages"
				case 3:
					t := valTypes[r.byte()]
					if r.byte() == 1 {
						t = "mut " + t
					}
					im.Type = t
				case 4:
					r.byte()
					im.Type = typeAt(types, int(r.u32()))
				}
				if r.err == nil {
					m.imports = append(m.imports, im)
				}
			}
		case 3: // functions
			for n := r.count(); n > 0 && r.err == nil; n-- {
				funcs = append(funcs, int(r.u32()))
			}
		case 5: // memories
			for n := r.count(); n > 0 && r.err == nil; n-- {
				min, max, hasMax, shared, is64 := r.limits()
				if m.memory == nil && r.err == nil {
					m.memory = &Memory{Min: min, Max: max, HasMax: hasMax, Shared: shared, Memory64: is64}
				}
			}
		case 7: // exports
			for n := r.count(); n > 0 && r.err == nil; n-- {
				e := Export{Name: r.name()}
				kind := r.byte()
				idx := int(r.u32())
				if int(kind) >= len(kinds) {
					r.fail("bad export kind")
					break
				}
				e.Kind = kinds[kind]
				switch kind {
				case 0:
					if idx < len(funcs) {
						e.Type = typeAt(types, funcs[idx])
					}
				case 2:
					if idx == 0 {
						exportedMem = append(exportedMem, e.Name)
					}
				}
				if r.err == nil {
					m.exports = append(m.exports, e)
				}
			}
		}
		if r.err != nil {
			top.err = fmt.Errorf("section %d: %w", id, r.err)
		}
	}
	if m.memory != nil && len(exportedMem) > 0 {
		m.memory.Export = exportedMem[0]
		for i := range m.exports {
			if m.exports[i].Kind == "memory" && slices.Contains(exportedMem, m.exports[i].Name) {
				m.exports[i].Type = limitsText(m.memory.Min, m.memory.Max, m.memory.HasMax) + " pages"
			}
		}
	}
	return m, top.err
}

func typeAt(types []string, i int) string {
	if i < 0 || i >= len(types) {
		return ""
	}
	return types[i]
}

func limitsText(min, max uint64, hasMax bool) string {
	if hasMax {
		return fmt.Sprintf("%d..%d", min, max)
	}
	return fmt.Sprintf("%d..", min)
}
