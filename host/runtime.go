package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// newRuntime returns the wazero runtime that parent and kids share the
// configuration of: the configuration is part of the compilation cache key,
// so the parent's compile is only reused if both build it the same way.
// Never WithCloseOnContextDone: it slows guest loops 10–30× (wazero #2466)
// and cannot interrupt a read anyway; kids are stopped by killing them.
func newRuntime(ctx context.Context, cacheDir string, memoryPages uint32) (wazero.Runtime, error) {
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(cacheDir, "compiled"))
	if err != nil {
		return nil, fmt.Errorf("host: compilation cache in %s: %w", cacheDir, err)
	}
	rc := wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache)
	if memoryPages > 0 {
		rc = rc.WithMemoryLimitPages(memoryPages)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("host: WASI: %w", err)
	}
	return rt, nil
}

// wasmMagic starts every binary wasm module.
var wasmMagic = []byte("\x00asm")

// compiled is what the parent learns from compiling the module.
type compiled struct {
	path string // a file kids can read the module from
	name string // for messages
}

// compile checks and compiles the module once in the parent, filling the
// cache that kids load from, and returns where kids find the module.
func compile(ctx context.Context, c Config) (compiled, error) {
	code, name := c.ModuleBytes, c.Module
	if code == nil {
		var err error
		if code, err = os.ReadFile(c.Module); err != nil {
			return compiled{}, fmt.Errorf("%w: %w", ErrModule, err)
		}
	} else if name == "" {
		name = "module"
	}
	if !bytes.HasPrefix(code, wasmMagic) {
		return compiled{}, fmt.Errorf("%w: %s is not a WebAssembly module (no \\0asm header)", ErrModule, name)
	}
	rt, err := newRuntime(ctx, c.CacheDir, c.memoryPages())
	if err != nil {
		return compiled{}, err
	}
	defer rt.Close(ctx)
	mod, err := rt.CompileModule(ctx, code)
	if err != nil {
		return compiled{}, fmt.Errorf("%w: %s: %w", ErrModule, name, err)
	}
	if err := checkFilter(name, mod, c.memoryPages()); err != nil {
		return compiled{}, err
	}
	path := c.Module
	if c.ModuleBytes != nil {
		if path, err = storeModule(c.CacheDir, code); err != nil {
			return compiled{}, err
		}
	} else if path, err = filepath.Abs(path); err != nil {
		return compiled{}, fmt.Errorf("%w: %w", ErrModule, err)
	}
	return compiled{path: path, name: name}, nil
}

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
func storeModule(cacheDir string, code []byte) (string, error) {
	sum := sha256.Sum256(code)
	dir := filepath.Join(cacheDir, "modules")
	path := filepath.Join(dir, hex.EncodeToString(sum[:])+".wasm")
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
