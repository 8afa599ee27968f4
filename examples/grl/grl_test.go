package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/exampletest"
)

var env exampletest.Env // the grl guest and the compilation cache

func TestMain(m *testing.M) {
	exampletest.Main(m, &env, "github.com/wasmpool/wasmpool/examples/grl/guest")
}

// needle is the substring the tests look for.
const needle = exampletest.Needle

// tree is the test tree, with awkward names, newlines included.
var tree = exampletest.NeedleTree{
	Seed:  [2]uint64{3, 4},
	Names: []string{"f%04d.txt", "with space %d", "new\nline %d", "tab\t%d", "ünï %d", "-dash %d", " lead %d", "trail %d "},
	Dirs:  []string{"", "a", "a/b", "a/b/c", "a/b/c/d", "x y", "x y/z\nz", "deep/1/2/3/4/5/6"},
}

// TestGrl sends every entry of the tree, symbolic links included, and two
// paths the guest cannot read, through the pool and compares the paths it
// replies with to grep's.
func TestGrl(t *testing.T) {
	unreadable := []string{guestRoot + "/no such file", "/etc/passwd"}
	root, requests, want := tree.Search(t, env.Dir, guestRoot, unreadable...)
	start := time.Now()
	replies, stderr := exampletest.RunPool(t, host.Config{
		Module:   env.Guest,
		Kids:     2,
		Framing:  frames.LenPfx,
		Args:     []string{needle},
		Dirs:     []host.Dir{{Host: root, Guest: guestRoot, ReadOnly: true}},
		CacheDir: env.Cache,
	}, requests)
	var got []string
	for _, r := range replies {
		rel, ok := strings.CutPrefix(r, guestRoot+"/")
		if !ok {
			t.Fatalf("reply %q is not a path under %s", r, guestRoot)
		}
		got = append(got, filepath.Join(root, rel))
	}
	t.Logf("%d requests, %d matches in %v", len(requests), len(got), time.Since(start).Round(time.Millisecond))
	slices.Sort(got)
	exampletest.SamePaths(t, got, want)
	exampletest.OneLineEach(t, stderr, unreadable)
}

// TestProgram runs the example program's own code (run) as a user would
// and compares its output with grep's.
func TestProgram(t *testing.T) {
	root := tree.Root(t, env.Dir)
	got := exampletest.RunProgram(t, run, "-wasm", env.Guest, "-kids", "2", "-cache", env.Cache, "-0", needle, root)
	exampletest.SamePaths(t, got, exampletest.Grep(t, needle, root))
}
