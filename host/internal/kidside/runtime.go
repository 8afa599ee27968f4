package kidside

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// NewRuntime returns the wazero runtime that parent and kids share the
// configuration of: the configuration is part of the compilation cache key,
// so the parent's compile is only reused if both build it the same way.
// Never WithCloseOnContextDone: it slows guest loops 10–30× (wazero #2466)
// and cannot interrupt a read anyway; kids are stopped by killing them.
func NewRuntime(ctx context.Context, cacheDir string, memoryPages uint32) (wazero.Runtime, error) {
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
