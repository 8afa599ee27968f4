package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
	"github.com/wasmpool/wasmpool/internal/wasmbin"
)

// Hand-assembled modules, by wasmbin, under short names for the tables.
var (
	sec, str, cat, wasm = wasmbin.Section, wasmbin.Name, wasmbin.Cat, wasmbin.Module
	// type 0: () -> (); type 1: (i32, i32, i32, i32) -> i32
	types, oneFunc, code = wasmbin.Types, wasmbin.OneFunc, wasmbin.Code
	memory1              = wasmbin.Memory // one memory, min 1 page, no max
	// exportAll exports function idx under name, and memory 0.
	exportAll, importFunc = wasmbin.ExportAll, wasmbin.ImportFunc
)

func TestInspectFixtures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		mod      []byte
		problems []string // substrings, one per expected problem
		wasi     string
	}{
		{"command", wasm(types, oneFunc, memory1, exportAll("_start", 0), code), nil, "none"},
		{"wasi", wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc, memory1, exportAll("_start", 1), code), nil, "preview1"},
		{"nostart", wasm(types, oneFunc, memory1, exportAll("run", 0), code), []string{"exports no _start"}, "none"},
		{"reactor", wasm(types, oneFunc, memory1, exportAll("_initialize", 0), code), []string{"WASI reactor"}, "none"},
		{"env", wasm(types, importFunc("env", "foo", 0), oneFunc, memory1, exportAll("_start", 1), code), []string{"imports env.foo, which is not WASI preview 1"}, "none"},
		{"unstable", wasm(types, importFunc("wasi_unstable", "fd_write", 1), oneFunc, memory1, exportAll("_start", 1), code), []string{"snapshot 0"}, "unstable"},
		{"unknown wasi", wasm(types, importFunc("wasi_snapshot_preview1", "fd_teleport", 1), oneFunc, memory1, exportAll("_start", 1), code), []string{"WASI preview 1 does not define"}, "preview1"},
		{"wrong type", wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 0), oneFunc, memory1, exportAll("_start", 1), code), []string{"with type () -> (), but WASI preview 1 defines it as (i32, i32, i32, i32) -> (i32)"}, "preview1"},
		{"start type", wasm(types, sec(3, 1, 1), memory1, exportAll("_start", 0), sec(10, 1, 4, 0, 0x41, 0, 0x0b)), []string{"its _start has type (i32, i32, i32, i32) -> (i32)"}, "none"},
		{"memory import", wasm(types, sec(2, cat([]byte{1}, str("env"), str("memory"), []byte{2, 0, 1})...), oneFunc, exportAll("_start", 0), code), []string{"imports a memory, env.memory"}, "none"},
		{"no memory", wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc, sec(7, cat([]byte{1}, str("_start"), []byte{0, 1})...), code), []string{"no memory"}, "preview1"},
		{"bad code", wasm(types, oneFunc, memory1, exportAll("_start", 0)), []string{"does not compile"}, "none"},
		{"truncated", wasm(types, oneFunc, memory1, exportAll("_start", 0), code, []byte{1, 9}), []string{"malformed", "does not compile"}, "none"},
		{"section", wasm(types, oneFunc, memory1, exportAll("_start", 0), code, sec(0, cat(str("wasmpool"), []byte("framing zero\none-to-one\n"))...)), nil, "none"},
		{"bad section", wasm(types, oneFunc, memory1, exportAll("_start", 0), code, sec(0, cat(str("wasmpool"), []byte("framing nul\n"))...)), []string{"wasmpool section is invalid: line 1"}, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := inspect(ctx, tc.name+".wasm", tc.mod, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %d like %q", info.Problems, len(tc.problems), tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.Contains(info.Problems[i], p) {
					t.Errorf("problem %q, want one containing %q", info.Problems[i], p)
				}
			}
			if info.WASI != tc.wasi {
				t.Errorf("WASI = %q, want %q", info.WASI, tc.wasi)
			}
			if (len(tc.problems) == 0 || tc.name == "nostart") && info.CompileTime <= 0 {
				t.Errorf("no compile time")
			}
		})
	}
}

func TestInspectDetails(t *testing.T) {
	mod := wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc,
		sec(5, 1, 1, 2, 17), exportAll("_start", 1), code,
		sec(0, cat(str("wasmpool"), []byte("framing lines\none-to-one\nenv TZ optional\n"))...))
	info, err := inspect(context.Background(), "m.wasm", mod, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Problems) != 0 || !info.Start {
		t.Fatalf("problems %q, start %v", info.Problems, info.Start)
	}
	want := Import{Module: "wasi_snapshot_preview1", Name: "fd_write", Kind: "func", Type: "(i32, i32, i32, i32) -> (i32)"}
	if len(info.Imports) != 1 || info.Imports[0] != want {
		t.Errorf("imports %+v, want %+v", info.Imports, want)
	}
	wantExports := []Export{{"_start", "func", "() -> ()"}, {"memory", "memory", "2..17 pages"}}
	if len(info.Exports) != 2 || info.Exports[0] != wantExports[0] || info.Exports[1] != wantExports[1] {
		t.Errorf("exports %+v, want %+v", info.Exports, wantExports)
	}
	if m := info.Memory; m == nil || m.Min != 2 || m.Max != 17 || !m.HasMax || m.Imported || m.Export != "memory" {
		t.Errorf("memory %+v", info.Memory)
	}
	if info.Described == nil || info.Described.Framing != "lines" || !info.Described.OneToOne || len(info.Described.Env) != 1 {
		t.Errorf("described %+v", info.Described)
	}
	if len(info.CustomSections) != 1 || info.CustomSections[0].Name != "wasmpool" {
		t.Errorf("custom sections %+v", info.CustomSections)
	}
	if !strings.HasPrefix(info.Compiler, "wazero ") {
		t.Errorf("compiler %q", info.Compiler)
	}
}

func TestInspectNotAModule(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"text.wasm":      "hello\n",
		"component.wasm": "\x00asm\x0d\x00\x01\x00",
		"future.wasm":    "\x00asm\x02\x00\x00\x00",
		"short.wasm":     "\x00asm\x01",
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o644)
		_, err := Inspect(context.Background(), path)
		if !errors.Is(err, ErrModule) {
			t.Errorf("%s: error %v, want ErrModule", name, err)
		}
		if name == "component.wasm" && !strings.Contains(err.Error(), "component") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Inspect(context.Background(), filepath.Join(dir, "missing.wasm")); !errors.Is(err, ErrModule) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

var buildLinelen = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "wasmpool-inspect-test-")
	if err != nil {
		return "", err
	}
	return guestbuild.Go(dir, "github.com/wasmpool/wasmpool/examples/linelen/guest")
})

func TestInspectGoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a Go guest")
	}
	path, err := buildLinelen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(path)) })
	info, err := Inspect(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Problems) != 0 || !info.Start || info.WASI != "preview1" || info.Memory == nil || info.CompileTime <= 0 {
		t.Errorf("linelen: %+v", info)
	}
	if info.Section != nil {
		t.Errorf("linelen has a wasmpool section: %q", info.Section)
	}
	// Go's own memory needs: the design notes measure ≥ 38 pages.
	if info.Memory.Min < 2 {
		t.Errorf("memory min %d pages", info.Memory.Min)
	}
	code, _ := os.ReadFile(path)
	described, err := abi.SetModuleSection(code, []byte("framing lines\none-to-one\n"))
	if err != nil {
		t.Fatal(err)
	}
	info2, err := inspect(context.Background(), "described.wasm", described, true)
	if err != nil || info2.Described == nil || !info2.Described.OneToOne || len(info2.Problems) != 0 {
		t.Errorf("described linelen: %+v, %v", info2, err)
	}
}

func FuzzParseModule(f *testing.F) {
	f.Add(wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc, memory1, exportAll("_start", 1), code))
	f.Add(wasm(types, sec(2, cat([]byte{1}, str("env"), str("memory"), []byte{2, 5, 1, 2})...)))
	f.Add(wasm(sec(0, cat(str("wasmpool"), []byte("framing zero"))...), sec(1, 1, 0x5f, 0)))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, code []byte) {
		m, err := parseModule(code)
		if err != nil && !errors.Is(err, errMalformed) {
			t.Fatalf("error %v does not wrap errMalformed", err)
		}
		for _, im := range m.imports {
			if im.Kind == "" {
				t.Fatalf("import without kind: %+v", im)
			}
		}
	})
}

func TestInspectInterface(t *testing.T) {
	ctx := context.Background()
	mod := wasm(types, importFunc("env", "log", 1), oneFunc, memory1, exportAll("_start", 1), code)
	info, err := InspectInterface(ctx, "m.wasm", mod)
	if err != nil || info.CompileTime != 0 || info.Compiler != "" || len(info.Imports) != 1 || info.Memory == nil {
		t.Fatalf("InspectInterface = %+v, %v", info, err)
	}
	if len(info.Problems) != 1 || !strings.Contains(info.Problems[0], "env.log") {
		t.Errorf("problems %q", info.Problems)
	}
	// without a compile, code that does not validate goes unnoticed
	if info, err := InspectInterface(ctx, "m.wasm", wasm(types, oneFunc, memory1, exportAll("_start", 0))); err != nil || len(info.Problems) != 0 {
		t.Errorf("bad code: %q, %v", info.Problems, err)
	}
	if _, err := InspectInterface(ctx, "m.wasm", []byte("text")); !errors.Is(err, ErrModule) {
		t.Errorf("text: %v, want ErrModule", err)
	}
}
