package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/exampletest"
)

var env exampletest.Env // the gl guest and the compilation cache

func TestMain(m *testing.M) {
	exampletest.Main(m, &env, "github.com/wasmpool/wasmpool/examples/gl/guest")
}

// needle is the substring the tests look for.
const needle = exampletest.Needle

// tree is the test tree, with awkward names but no newline (the path list
// has one path a line).
var tree = exampletest.NeedleTree{
	Seed:  [2]uint64{5, 6},
	Names: []string{"f%04d.txt", "with space %d", "tab\t%d", "ünï %d", "-dash %d", " lead %d", "trail %d ", "back\\slash %d"},
	Dirs:  []string{"", "a", "a/b", "a/b/c", "a/b/c/d", "x y", "x y/z\tz", "deep/1/2/3/4/5/6"},
}

// config writes the path list into a directory of its own and returns the
// configuration of a pool of kids that see the tree as /data and the list
// as /list.
func config(t *testing.T, root string, paths []string, kids int) host.Config {
	t.Helper()
	listDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(listDir, listName), []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return host.Config{
		Module:  env.Guest,
		Kids:    kids,
		Framing: frames.Fixed(4),
		Args:    []string{"-list", guestList + "/" + listName, needle},
		Dirs: []host.Dir{
			{Host: root, Guest: guestRoot, ReadOnly: true},
			{Host: listDir, Guest: guestList, ReadOnly: true},
		},
		CacheDir: env.Cache,
	}
}

// index is the request for the path at index i: its 4-byte little-endian
// encoding.
func index(i uint32) []byte { return binary.LittleEndian.AppendUint32(nil, i) }

// TestGl lists every entry of the tree, symbolic links included, and two
// paths the guest cannot read, sends every index through the pool and
// compares the paths of the indices it replies with to grep's.
func TestGl(t *testing.T) {
	unreadable := []string{guestRoot + "/no such file", "/etc/passwd"}
	root, paths, want := tree.Search(t, env.Dir, guestRoot, unreadable...)
	start := time.Now()
	requests := make([]string, len(paths))
	for i := range requests {
		requests[i] = string(index(uint32(i)))
	}
	replies, stderr := exampletest.RunPool(t, config(t, root, paths, 2), requests)
	var got []string
	seen := map[uint32]bool{}
	for _, r := range replies {
		if len(r) != 4 {
			t.Fatalf("a %d-byte reply", len(r))
		}
		i := binary.LittleEndian.Uint32([]byte(r))
		if int(i) >= len(paths) || seen[i] {
			t.Fatalf("reply %d: out of range or repeated", i)
		}
		seen[i] = true
		got = append(got, filepath.Join(root, strings.TrimPrefix(paths[i], guestRoot+"/")))
	}
	t.Logf("%d requests, %d matches in %v", len(paths), len(got), time.Since(start).Round(time.Millisecond))
	slices.Sort(got)
	exampletest.SamePaths(t, got, want)
	exampletest.OneLineEach(t, stderr, unreadable)
}

// kidFailure sends one request through a pool of one kid of cfg and
// returns the failure of the kid, which the test expects.
func kidFailure(t *testing.T, cfg host.Config, request []byte) *host.KidError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.Kids = 1
	cfg.Stderr = new(exampletest.LockedBuffer)
	pool, err := host.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var kidErr *host.KidError
	for _, err := range pool.Run(ctx, slices.Values([][]byte{request})) {
		if err != nil {
			t.Logf("error: %v", err)
		}
		if err != nil && kidErr == nil && !errors.As(err, &kidErr) {
			t.Errorf("error %v, want a *host.KidError", err)
		}
	}
	if kidErr == nil {
		t.Fatal("no *host.KidError")
	}
	return kidErr
}

// TestBadIndex sends an index outside the list: the guest fails, and the
// pool reports the kid with the guest's message instead of hanging.
func TestBadIndex(t *testing.T) {
	cfg := config(t, t.TempDir(), []string{guestRoot + "/a file"}, 1)
	kidErr := kidFailure(t, cfg, index(1<<31))
	if kidErr.ExitCode != 1 || !strings.Contains(strings.Join(kidErr.Stderr, "\n"), "out of range") {
		t.Errorf("kid error %v (exit code %d, stderr %q), want exit code 1 and the guest's message", kidErr, kidErr.ExitCode, kidErr.Stderr)
	}
}

// TestStrictFraming runs the guest in a pool of lines: the guest, strict
// about its fixed:4 indices, refuses to start, with a message naming both
// framings: the pool's framing reaches it in WASMPOOL_FRAMES.
func TestStrictFraming(t *testing.T) {
	cfg := config(t, t.TempDir(), []string{guestRoot + "/a file"}, 1)
	cfg.Framing = frames.Lines
	kidErr := kidFailure(t, cfg, []byte("0"))
	const msg = "guest: this guest reads fixed:4 requests; the pool sends lines"
	if kidErr.ExitCode != 1 || !slices.Contains(kidErr.Stderr, msg) {
		t.Errorf("kid error %v (exit code %d, stderr %q), want exit code 1 and %q", kidErr, kidErr.ExitCode, kidErr.Stderr, msg)
	}
}

// TestProgram runs the example program's own code (run) as a user would
// and compares its output with grep's.
func TestProgram(t *testing.T) {
	root := tree.Root(t, env.Dir)
	got := exampletest.RunProgram(t, run, "-wasm", env.Guest, "-kids", "2", "-cache", env.Cache, "-0", needle, root)
	exampletest.SamePaths(t, got, exampletest.Grep(t, needle, root))
}

// TestProgramNewline: the program cannot list a name with a newline; it
// says so, searches the rest and exits 1.
func TestProgramNewline(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{"ok": needle, "new\nline": needle, "dir\nname/inner": needle, "no": "hay"} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-wasm", env.Guest, "-kids", "1", "-cache", env.Cache, needle, root}, &stdout, &stderr)
	if want := filepath.Join(root, "ok") + "\n"; code != 1 || stdout.String() != want {
		t.Errorf("exit code %d, stdout %q; want 1 and %q", code, stdout.String(), want)
	}
	if n := strings.Count(stderr.String(), "a name with a newline cannot be listed"); n != 2 {
		t.Errorf("%d warnings, want 2; stderr:\n%s", n, stderr.String())
	}
}
