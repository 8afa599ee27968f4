package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
		problems []string      // substrings, one per expected problem
		kinds    []ProblemKind // the kind of each
		wasi     string
	}{
		{"command", wasm(types, oneFunc, memory1, exportAll("_start", 0), code), nil, nil, "none"},
		{"wasi", wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc, memory1, exportAll("_start", 1), code), nil, nil, "preview1"},
		{"nostart", wasm(types, oneFunc, memory1, exportAll("run", 0), code), []string{"exports no _start"}, []ProblemKind{NotCommand}, "none"},
		{"reactor", wasm(types, oneFunc, memory1, exportAll("_initialize", 0), code), []string{"WASI reactor"}, []ProblemKind{NotCommand}, "none"},
		{"env", wasm(types, importFunc("env", "foo", 0), oneFunc, memory1, exportAll("_start", 1), code), []string{"imports env.foo, which is not WASI preview 1"}, []ProblemKind{BadImports}, "none"},
		{"unstable", wasm(types, importFunc("wasi_unstable", "fd_write", 1), oneFunc, memory1, exportAll("_start", 1), code), []string{"snapshot 0"}, []ProblemKind{BadImports}, "unstable"},
		{"unknown wasi", wasm(types, importFunc("wasi_snapshot_preview1", "fd_teleport", 1), oneFunc, memory1, exportAll("_start", 1), code), []string{"WASI preview 1 does not define"}, []ProblemKind{BadImports}, "preview1"},
		{"wrong type", wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 0), oneFunc, memory1, exportAll("_start", 1), code), []string{"with type () -> (), but WASI preview 1 defines it as (i32, i32, i32, i32) -> (i32)"}, []ProblemKind{BadImports}, "preview1"},
		{"start type", wasm(types, sec(3, 1, 1), memory1, exportAll("_start", 0), sec(10, 1, 4, 0, 0x41, 0, 0x0b)), []string{"its _start has type (i32, i32, i32, i32) -> (i32)"}, []ProblemKind{NotCommand}, "none"},
		{"memory import", wasm(types, sec(2, cat([]byte{1}, str("env"), str("memory"), []byte{2, 0, 1})...), oneFunc, exportAll("_start", 0), code), []string{"imports a memory, env.memory"}, []ProblemKind{BadImports}, "none"},
		{"no memory", wasm(types, importFunc("wasi_snapshot_preview1", "fd_write", 1), oneFunc, sec(7, cat([]byte{1}, str("_start"), []byte{0, 1})...), code), []string{"no memory"}, []ProblemKind{NoMemory}, "preview1"},
		{"bad code", wasm(types, oneFunc, memory1, exportAll("_start", 0)), []string{"does not compile"}, []ProblemKind{NoCompile}, "none"},
		{"truncated", wasm(types, oneFunc, memory1, exportAll("_start", 0), code, []byte{1, 9}), []string{"malformed", "does not compile"}, []ProblemKind{Malformed, NoCompile}, "none"},
		{"section", wasm(types, oneFunc, memory1, exportAll("_start", 0), code, sec(0, cat(str("wasmpool"), []byte("framing zero\none-to-one\n"))...)), nil, nil, "none"},
		{"bad section", wasm(types, oneFunc, memory1, exportAll("_start", 0), code, sec(0, cat(str("wasmpool"), []byte("framing nul\n"))...)), []string{"wasmpool section is invalid: line 1"}, []ProblemKind{BadSection}, "none"},
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
				if !strings.Contains(info.Problems[i].Text, p) || info.Problems[i].Kind != tc.kinds[i] {
					t.Errorf("problem %v %q, want a %v containing %q", info.Problems[i].Kind, info.Problems[i].Text, tc.kinds[i], p)
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
		var fe *FormatError
		if !errors.Is(err, ErrNotModule) || !errors.As(err, &fe) || !fe.Header {
			t.Errorf("%s: error %v, want a header FormatError (ErrNotModule)", name, err)
		}
		if name == "component.wasm" && !strings.Contains(err.Error(), "component") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Inspect(context.Background(), filepath.Join(dir, "missing.wasm")); !errors.Is(err, os.ErrNotExist) {
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
	described, err := SetModuleSection(code, []byte("framing lines\none-to-one\n"))
	if err != nil {
		t.Fatal(err)
	}
	info2, err := inspect(context.Background(), "described.wasm", described, true)
	if err != nil || info2.Described == nil || !info2.Described.OneToOne || len(info2.Problems) != 0 {
		t.Errorf("described linelen: %+v, %v", info2, err)
	}
}

func TestInspectInterface(t *testing.T) {
	ctx := context.Background()
	mod := wasm(types, importFunc("env", "log", 1), oneFunc, memory1, exportAll("_start", 1), code)
	info, err := InspectInterface(ctx, "m.wasm", mod)
	if err != nil || info.CompileTime != 0 || info.Compiler != "" || len(info.Imports) != 1 || info.Memory == nil {
		t.Fatalf("InspectInterface = %+v, %v", info, err)
	}
	if len(info.Problems) != 1 || !strings.Contains(info.Problems[0].Text, "env.log") || info.Problems[0].Kind != BadImports {
		t.Errorf("problems %q", info.Problems)
	}
	// without a compile, code that does not validate goes unnoticed
	if info, err := InspectInterface(ctx, "m.wasm", wasm(types, oneFunc, memory1, exportAll("_start", 0))); err != nil || len(info.Problems) != 0 {
		t.Errorf("bad code: %q, %v", info.Problems, err)
	}
	if _, err := InspectInterface(ctx, "m.wasm", []byte("text")); !errors.Is(err, ErrNotModule) {
		t.Errorf("text: %v, want ErrNotModule", err)
	}
}

func TestSession(t *testing.T) {
	ctx := context.Background()
	withSection := func(text string) []byte {
		return wasm(types, oneFunc, memory1, exportAll("_start", 0), code, sec(0, cat(str("wasmpool"), []byte(text))...))
	}
	for _, tc := range []struct {
		desc string
		mod  []byte
		want bool
	}{
		{"nothing", wasm(types, oneFunc, memory1, exportAll("_start", 0), code), false},
		{"declared", withSection("session\n"), true},
		{"other declarations", withSection("one-to-one\n"), false},
		{"invalid section", withSection("session\nsessions\n"), false},
		{"exported marker", wasm(types, oneFunc, memory1,
			sec(7, cat([]byte{2}, str("_start"), []byte{0, 0}, str(abi.SessionMarker), []byte{0, 0})...), code), true},
		{"marker that is not a function", wasm(types, oneFunc, memory1,
			sec(7, cat([]byte{2}, str("_start"), []byte{0, 0}, str(abi.SessionMarker), []byte{2, 0})...), code), false},
	} {
		info, err := InspectInterface(ctx, "m.wasm", tc.mod)
		if err != nil || info.Session != tc.want {
			t.Errorf("%s: Session = %v (%v), want %v; problems %q", tc.desc, info.Session, err, tc.want, info.Problems)
		}
	}
}

// TestInfoJSON: problems stay a list of sentences in JSON, as they were
// before they had kinds; the kinds come in a list of their own.
func TestInfoJSON(t *testing.T) {
	mod := wasm(types, importFunc("env", "log", 1), oneFunc, memory1, exportAll("run", 1), code,
		sec(0, cat(str("wasmpool"), []byte("framing zero\nsession\n"))...))
	info, err := InspectInterface(context.Background(), "m.wasm", mod)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	problems, _ := raw["problems"].([]any)
	kinds, _ := raw["problemKinds"].([]any)
	if len(problems) != 2 || len(kinds) != 2 || kinds[0] != "imports" || kinds[1] != "command" {
		t.Fatalf("problems %v, kinds %v", raw["problems"], raw["problemKinds"])
	}
	if text, _ := problems[0].(string); !strings.Contains(text, "env.log") {
		t.Errorf("problem text %v", problems[0])
	}
	for _, key := range []string{"path", "size", "sha256", "wasi", "imports", "exports", "memory", "start", "customSections", "section", "described", "compileTime", "compiler", "session"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("no %q in %s", key, b)
		}
	}
	// A Section is a TextMarshaler: described is its canonical text.
	if d, _ := raw["described"].(string); d != "version 2\nframing zero\nsession\n" {
		t.Errorf("described %q", raw["described"])
	}
	var back ModuleInfo
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Described.Version = info.Described.Version // the text states the version session needs
	if !reflect.DeepEqual(back, info) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, info)
	}
}
