//go:build linux

package guestfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// compileGuest compiles the test guest through a file cache in cacheDir.
func compileGuest(ctx context.Context, wasm, cacheDir string) (wazero.Runtime, wazero.CompiledModule, error) {
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		return nil, nil, err
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	bin, err := os.ReadFile(wasm)
	if err == nil {
		var mod wazero.CompiledModule
		if mod, err = rt.CompileModule(ctx, bin); err == nil {
			return rt, mod, nil
		}
	}
	rt.Close(ctx)
	return nil, nil, err
}

// runGuest runs the test guest with one grant and the guest's args, as
// a kid does: compiled through a file cache, stdio wrapped.
func runGuest(stdout io.Writer, wasm, cacheDir string, g Grant, args ...string) error {
	ctx := context.Background()
	rt, mod, err := compileGuest(ctx, wasm, cacheDir)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	fsc, err := Mount([]Grant{g})
	if err != nil {
		return err
	}
	cfg := wazero.NewModuleConfig().
		WithArgs(append([]string{"fsguest"}, args...)...).
		WithStdout(struct{ io.Writer }{stdout}).
		WithStderr(struct{ io.Writer }{os.Stderr}).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithFSConfig(fsc)
	_, err = rt.InstantiateModule(ctx, mod, cfg)
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 0 {
		err = nil
	}
	return err
}

// guestHelper runs the guest in a process of its own: module, cache, host
// directory, guest path, then the guest's args.
func guestHelper(args []string) {
	if err := runGuest(os.Stdout, args[0], args[1], Grant{Host: args[2], Guest: args[3]}, args[4:]...); err != nil {
		fmt.Fprintln(os.Stderr, "guest:", err)
		os.Exit(1)
	}
}

// TestHammerGuests: two wasm guests in two processes share one writable
// grant; one swaps a relative symlink between a safe directory and
// ../outside, the other reads and creates through it (issue 12's attack).
func TestHammerGuests(t *testing.T) {
	d := hammerTime(t, 800*time.Millisecond)
	base := t.TempDir()
	grant, outside := filepath.Join(base, "grant"), filepath.Join(base, "outside")
	cacheDir := filepath.Join(buildDir, "cache")
	must(t, os.MkdirAll(filepath.Join(grant, "safe"), 0o755))
	must(t, os.MkdirAll(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(grant, "safe", "f"), []byte("inside\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "f"), []byte(canary), 0o644))
	must(t, os.Symlink("safe", filepath.Join(grant, "link")))
	before := snapshotOutside(t, outside)

	// Compile once here, so that both processes only load from the cache.
	ctx := context.Background()
	rt, _, err := compileGuest(ctx, fsGuest, cacheDir)
	must(t, err)
	rt.Close(ctx)

	swapper := helper("guest", fsGuest, cacheDir, grant, "/g", "swap")
	var swapOut bytes.Buffer
	swapper.Stdout = &swapOut
	must(t, swapper.Start())
	opener := helper("guest", fsGuest, cacheDir, grant, "/g", "open", itoa(minCalls), d.String())
	start := time.Now()
	got, err := opener.Output()
	elapsed := time.Since(start)
	os.WriteFile(filepath.Join(grant, "stop"), nil, 0o644)
	if err := swapper.Wait(); err != nil {
		t.Errorf("swapper: %v", err)
	}
	if err != nil {
		t.Fatalf("opener: %v", err)
	}
	var tried, leaks, inside, refused, other int
	var capped bool
	var firstOther string
	if _, err := fmt.Sscanf(string(got), "tried=%d leaks=%d inside=%d refused=%d other=%d capped=%t first_other=%q",
		&tried, &leaks, &inside, &refused, &other, &capped, &firstOther); err != nil {
		t.Fatalf("opener said %q: %v", got, err)
	}
	t.Logf("%d guest calls in %v (%d inside, %d refused), %s by the other guest: %d leaks",
		tried, elapsed.Round(time.Millisecond), inside, refused, strings.TrimSpace(swapOut.String()), leaks)
	if leaks > 0 {
		t.Errorf("%d reads reached outside the grant", leaks)
	}
	if other > 0 || capped {
		t.Errorf("%d unexpected errors (the first: %s), gave up: %v", other, firstOther, capped)
	}
	if after := snapshotOutside(t, outside); after != before {
		t.Errorf("outside the grant changed:\n%s\nwas\n%s", after, before)
	}
}

// TestGuestReadOnly: a guest's writes into a read-only grant fail with
// EROFS, which a guest can tell apart, not ENOSYS.
func TestGuestReadOnly(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644))
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	before := snapshot(t, dir)
	var out bytes.Buffer
	must(t, runGuest(&out, fsGuest, filepath.Join(buildDir, "cache"), Grant{Host: dir, Guest: "/ro", ReadOnly: true}, "rofs"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || lines[0] != "read: ok" {
		t.Fatalf("guest said:\n%s", out.String())
	}
	for _, l := range lines[1:] {
		if !strings.HasSuffix(l, ": EROFS") {
			t.Errorf("%s, want EROFS", l)
		}
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("the grant changed")
	}
}
