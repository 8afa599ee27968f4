package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/inspect"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// compiled is what the parent learns from compiling the module.
type compiled struct {
	path    string // a file kids can read the module from
	name    string // for messages
	session bool   // it declares the session contract
	sha256  string // hex, to name it to kids on other machines
	size    int64
}

// compile checks and compiles the module once in the parent, filling the
// cache that kids load from, and returns where kids find the module. A
// module this parent has already checked, under the same limits and
// wazero version, is not loaded again: its kids start at once (loading it
// from the cache took a Go guest's parent 80 ms of its start-up). Were the
// wazero cache emptied meanwhile, each kid would compile the module
// itself: slower, still correct.
func compile(ctx context.Context, c Config) (compiled, error) {
	code, name := c.ModuleBytes, c.Module
	if code == nil {
		mapped, unmap, err := kidside.MapFile(c.Module)
		if err != nil {
			return compiled{}, fmt.Errorf("%w: %w", ErrModule, err)
		}
		defer unmap()
		code = mapped
	} else if name == "" {
		name = "module"
	}
	if err := inspect.CheckHeader(name, code); err != nil {
		return compiled{}, fmt.Errorf("%w: %w", ErrModule, err)
	}
	sum := sha256.Sum256(code)
	stamp := checkedStamp(c.CacheDir, sum, c.memoryPages())
	checked, err := os.ReadFile(stamp)
	if err != nil {
		facts, err := compileAndCheck(ctx, c, name, code)
		if err != nil {
			return compiled{}, err
		}
		checked = []byte(facts)
		writeStamp(stamp, facts)
	}
	session := bytes.Contains(checked, []byte(sessionFact))
	path := c.Module
	if c.ModuleBytes != nil {
		if path, err = storeModule(c.CacheDir, sum, code); err != nil {
			return compiled{}, err
		}
	} else if path, err = filepath.Abs(path); err != nil {
		return compiled{}, fmt.Errorf("%w: %w", ErrModule, err)
	}
	return compiled{path: path, name: name, session: session, sha256: hex.EncodeToString(sum[:]), size: int64(len(code))}, nil
}

// compileAndCheck compiles the module into the cache and checks it can run
// as a kid. It returns what the check learned, for the stamp: sessionFact
// if the module declares the session contract.
func compileAndCheck(ctx context.Context, c Config, name string, code []byte) (string, error) {
	rt, err := kidside.NewRuntime(ctx, c.CacheDir, c.memoryPages())
	if err != nil {
		return "", err
	}
	defer rt.Close(ctx)
	mod, err := rt.CompileModule(ctx, code)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrModule, name, err)
	}
	if err := checkFilter(name, mod, c.memoryPages()); err != nil {
		return "", err
	}
	if _, ok := mod.ExportedFunctions()[abi.SessionMarker]; ok {
		return sessionFact, nil
	}
	return "", nil
}

// sessionFact, in a stamp, says that the module exports abi.SessionMarker.
const sessionFact = "session\n"

// stampVersion changes when what compileAndCheck checks changes, so that
// modules checked by an older wasmpool are checked again.
const stampVersion = 2

// checkedStamp is the path of the file that says a module (by its hash)
// compiled and passed checkFilter under this memory limit and wazero
// version.
func checkedStamp(cacheDir string, sum [sha256.Size]byte, memoryPages uint32) string {
	name := fmt.Sprintf("%x-m%d-%s-s%d", sum, memoryPages, wazeroVersion(), stampVersion)
	return filepath.Join(cacheDir, "checked", name)
}

// writeStamp records a check and what it learned; failing to is harmless
// (the next pool checks again).
func writeStamp(path, facts string) {
	if os.MkdirAll(filepath.Dir(path), 0o755) == nil {
		os.WriteFile(path, []byte(facts), 0o644)
	}
}

// wazeroVersion is the version of wazero built into this program.
var wazeroVersion = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				if dep.Replace != nil {
					dep = dep.Replace
				}
				return strings.ReplaceAll(dep.Version+dep.Sum, "/", "_")
			}
		}
	}
	return "unknown"
})

// checkFilter reports what would stop a compiled module from running as a
// kid: no _start, imports that are not WASI preview 1, a memory minimum
// above the limit.
func checkFilter(name string, mod wazero.CompiledModule, memoryPages uint32) error {
	if _, ok := mod.ExportedFunctions()["_start"]; !ok {
		return fmt.Errorf("%w: %s exports no _start function: build it as a WASI command (a program with main), not a library", ErrModule, name)
	}
	for _, f := range mod.ImportedFunctions() {
		module, fn, _ := f.Import()
		if module != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("%w: %s imports %s.%s, which is not WASI preview 1 (%s)", ErrModule, name, module, fn, wasi_snapshot_preview1.ModuleName)
		}
	}
	for _, m := range mod.ImportedMemories() {
		module, name, _ := m.Import()
		return fmt.Errorf("%w: %s imports a memory, %s.%s, which WASI does not provide: link it with its own memory", ErrModule, name, module, name)
	}
	if memoryPages > 0 {
		for _, m := range memories(mod) {
			if m.Min() > memoryPages {
				return fmt.Errorf("%w: %s needs at least %d memory pages (%d KiB), the memory limit is %d pages", ErrModule, name, m.Min(), m.Min()*64, memoryPages)
			}
		}
	}
	return nil
}

func memories(mod wazero.CompiledModule) []api.MemoryDefinition {
	var ms []api.MemoryDefinition
	for _, m := range mod.ImportedMemories() {
		ms = append(ms, m)
	}
	for _, m := range mod.ExportedMemories() {
		ms = append(ms, m)
	}
	return ms
}

// storeModule writes module bytes into the cache directory under their hash
// (atomically, so concurrent pools agree) and returns the file's path.
// moduleFile is where a cache keeps the module of the given SHA-256.
func moduleFile(cacheDir, sum string) string {
	return filepath.Join(cacheDir, "modules", sum+".wasm")
}

func storeModule(cacheDir string, sum [sha256.Size]byte, code []byte) (string, error) {
	path := moduleFile(cacheDir, hex.EncodeToString(sum[:]))
	dir := filepath.Dir(path)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("host: module store: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "tmp-*")
	if err != nil {
		return "", fmt.Errorf("host: module store: %w", err)
	}
	_, err = tmp.Write(code)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("host: module store: %w", err)
	}
	return path, nil
}
