package inspect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
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
	Section   []byte   `json:"section,omitempty"`
	Described *Section `json:"described,omitempty"`

	// Session: the module declares the session contract, by the session
	// declaration of its wasmpool section or by exporting a function named
	// abi.SessionMarker (wasmpool_session), as the guest SDKs do. A host
	// may then serve many requests from one long-lived instance (see
	// "Instance modes" in package abi).
	Session bool `json:"session"`

	// CompileTime is how long wazero's compiler took, without a cache (a
	// first run's cost); 0 if the module did not compile. Compiler names
	// the compiler.
	CompileTime time.Duration `json:"compileTime"`
	Compiler    string        `json:"compiler"`

	// Problems are the reasons the module cannot run as a kid, one each;
	// empty when it can. In JSON, problems holds their texts and
	// problemKinds their kinds.
	Problems []Problem `json:"problems"`
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
// and problems. It returns an error only when the file cannot be read (an
// *os.PathError) or is not a WebAssembly core module at all (a
// *FormatError wrapping ErrNotModule); a module that is malformed further
// in, or would not run as a kid, is described with Problems.
func Inspect(ctx context.Context, path string) (ModuleInfo, error) {
	code, err := os.ReadFile(path)
	if err != nil {
		return ModuleInfo{}, err
	}
	return inspect(ctx, path, code, true)
}

func inspect(ctx context.Context, path string, code []byte, compile bool) (ModuleInfo, error) {
	if err := CheckHeader(path, code); err != nil {
		return ModuleInfo{}, err
	}
	sum := sha256.Sum256(code)
	info := ModuleInfo{Path: path, Size: len(code), SHA256: hex.EncodeToString(sum[:]), WASI: "none"}
	m, secs, perr := parseModule(code)
	info.Imports, info.Exports, info.Memory, info.CustomSections = m.imports, m.exports, m.memory, m.customs
	if perr != nil {
		info.problem(Malformed, "%v", perr)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	if compile {
		info.Compiler = "wazero " + WazeroVersion() + " compiler"
		start := time.Now()
		mod, cerr := rt.CompileModule(ctx, code)
		if cerr != nil {
			info.problem(NoCompile, "it does not compile: %v", cerr)
		} else {
			info.CompileTime = time.Since(start)
			mod.Close(ctx)
		}
	}
	wasi := wasiFunctions(ctx, rt)
	info.check(m, wasi)

	if content, found := wasmpoolContent(secs); found {
		info.Section = content
		if s, err := ParseSection(content); err != nil {
			info.problem(BadSection, "its wasmpool section is invalid: %s", err.(*SectionError).Detail())
		} else {
			info.Described = &s
		}
	}
	info.Session = info.Described != nil && info.Described.Session
	for _, e := range info.Exports {
		info.Session = info.Session || (e.Name == abi.SessionMarker && e.Kind == "func")
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
		info.Problems = []Problem{}
	}
	return info, nil
}

func (info *ModuleInfo) problem(kind ProblemKind, format string, args ...any) {
	info.Problems = append(info.Problems, Problem{Kind: kind, Text: fmt.Sprintf(format, args...)})
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
			info.problem(BadImports, "it imports a %s, %s: kids provide only WASI preview 1 functions", im.Kind, name)
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
			info.problem(BadImports, "it imports %s with type %s, but WASI preview 1 defines it as %s", name, im.Type, funcType(f.params, f.results))
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
		info.problem(BadImports, "it imports WASI snapshot 0 (wasi_unstable), which kids do not provide: rebuild it for WASI preview 1 (wasi_snapshot_preview1)")
	case versions["preview2"]:
		info.problem(BadImports, "it imports WASI preview 2 interfaces (wasi:…), which kids do not provide: build it for WASI preview 1")
	}
	if len(foreign) > 0 && !versions["unstable"] && !versions["preview2"] {
		info.problem(BadImports, "it imports %s, which %s not WASI preview 1 (%s): kids provide nothing else", list(foreign), isAre(foreign), wasi_snapshot_preview1.ModuleName)
	}
	if len(unknown) > 0 {
		info.problem(BadImports, "it imports %s, which WASI preview 1 does not define", list(unknown))
	}
	exports := map[string]Export{}
	for _, e := range m.exports {
		exports[e.Name] = e
	}
	start, ok := exports["_start"]
	info.Start = ok && start.Kind == "func"
	switch {
	case !info.Start && exports["_initialize"].Kind == "func":
		info.problem(NotCommand, "it exports _initialize but no _start: it is a WASI reactor (a library); build it as a command (a program with main)")
	case !info.Start:
		info.problem(NotCommand, "it exports no _start function: build it as a WASI command (a program with main), not a library")
	case start.Type != "" && start.Type != "() -> ()":
		info.problem(NotCommand, "its _start has type %s; a WASI command's _start takes and returns nothing", start.Type)
	}
	if m.memory == nil && versions["preview1"] {
		info.problem(NoMemory, "it has no memory, which WASI calls need")
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
