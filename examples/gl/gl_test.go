package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wasmpool/frames"
	"wasmpool/host"
	"wasmpool/internal/guestbuild"
)

var (
	testDir   string // removed when the tests end
	guestWasm string // the gl guest, built by TestMain
	cacheDir  string // compilation cache shared by the tests
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasmpool-gl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDir = dir
	cacheDir = filepath.Join(dir, "cache")
	guestWasm, err = guestbuild.Go(dir, "wasmpool/examples/gl/guest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needle is the substring the tests look for.
const needle = "needle-42"

// The test tree is generated once and shared read-only by the tests.
var (
	treeOnce sync.Once
	treeRoot string
	treeErr  error
)

func tree(t *testing.T) string {
	t.Helper()
	treeOnce.Do(func() {
		start := time.Now()
		treeRoot = filepath.Join(testDir, "tree")
		treeErr = makeTree(treeRoot, filepath.Join(testDir, "outside"))
		t.Logf("tree generated in %v", time.Since(start).Round(time.Millisecond))
	})
	if treeErr != nil {
		t.Fatal(treeErr)
	}
	return treeRoot
}

var words = strings.Fields(`the quick brown fox jumps over lazy dog pool kid frame
request reply wasm sandbox pipe buffer path file hay stack loop café 日本語`)

func text(rng *rand.Rand, size int) []byte {
	var b []byte
	for len(b) < size {
		b = append(b, words[rng.IntN(len(words))]...)
		if rng.IntN(10) == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	return b
}

// insert puts s into b at a random place.
func insert(rng *rand.Rand, b []byte, s string) []byte {
	i := rng.IntN(len(b) + 1)
	return slices.Insert(b, i, []byte(s)...)
}

// near-misses of the needle: none of them matches.
var misses = []string{"needle-4", "Needle-42", "needle-4\n2", "needle 42", "eedle-42", "needle-\x0042"}

// makeTree writes 1,200 files into root (about a third contain the
// needle), in nested directories, with awkward names but no newline (the
// path list has one path a line), plus large files where the needle
// straddles the guest's 64 KiB read chunks, and symbolic links (one to a
// matching file in outside, which is not granted).
func makeTree(root, outside string) error {
	rng := rand.New(rand.NewPCG(5, 6))
	names := []string{"f%04d.txt", "with space %d", "tab\t%d", "ünï %d", "-dash %d", " lead %d", "trail %d ", "back\\slash %d"}
	dirs := []string{"", "a", "a/b", "a/b/c", "a/b/c/d", "x y", "x y/z\tz", "deep/1/2/3/4/5/6"}
	write := func(rel string, data []byte) error {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	for i := range 1200 {
		var data []byte
		switch i % 12 {
		case 0: // empty
		case 1, 2, 3: // text with the needle
			data = insert(rng, text(rng, 1+rng.IntN(4000)), needle)
		case 4, 5, 6: // text without
			data = text(rng, 1+rng.IntN(4000))
		case 7: // near-misses
			data = text(rng, rng.IntN(2000))
			for range 3 {
				data = insert(rng, data, misses[rng.IntN(len(misses))])
			}
		case 8, 9: // binary, half with the needle
			data = make([]byte, 1+rng.IntN(6000))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			if i%12 == 8 {
				data = insert(rng, data, needle)
			}
		case 10: // the needle alone, at the start or at the end
			switch rng.IntN(3) {
			case 0:
				data = []byte(needle)
			case 1:
				data = append([]byte(needle), text(rng, rng.IntN(100))...)
			default:
				data = append(text(rng, rng.IntN(100)), needle...)
			}
		case 11: // a needle cut short at the end of the file
			data = append(text(rng, rng.IntN(100)), needle[:1+rng.IntN(len(needle)-1)]...)
		}
		name := fmt.Sprintf(names[i%len(names)], i)
		if err := write(filepath.Join(dirs[(i/len(names))%len(dirs)], name), data); err != nil {
			return err
		}
	}
	// Large files: the needle across the 64 KiB chunks the guest reads, at
	// the very end, and a file with only halves of needles at the seams.
	const chunk = 64 << 10
	for j, at := range []int{chunk - 4, 2*chunk - 1, 3*chunk - len(needle) + 1, 5*chunk - len(needle)} {
		data := text(rng, 5*chunk)[:5*chunk]
		data = slices.Replace(data, at, at+len(needle), []byte(needle)...)
		if err := write(fmt.Sprintf("large/match %d", j), data); err != nil {
			return err
		}
	}
	data := text(rng, 5*chunk)[:5*chunk]
	for k := 1; k < 5; k++ {
		data = slices.Replace(data, k*chunk-4, k*chunk+1, []byte("needl")...)
	}
	if err := write("large/halves", data); err != nil {
		return err
	}
	// Symbolic links, none followed: to a matching file in the tree, to a
	// matching file outside it, to nothing, and to a directory.
	if err := write("match.txt", []byte("a "+needle+" b")); err != nil {
		return err
	}
	if err := os.MkdirAll(outside, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte(needle), 0o644); err != nil {
		return err
	}
	links := map[string]string{
		"link-to-match": "../match.txt",
		"link-outside":  filepath.Join(outside, "secret"),
		"link-dangles":  "no such file",
		"link-to-dir":   "..",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, "a", name)); err != nil {
			return err
		}
	}
	return nil
}

// entries returns the guest paths of the entries under root that are not
// directories, symbolic links included.
func entries(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, guestRoot+"/"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reference returns the sorted host paths under root of the files that
// contain the needle, by grep -rlF (which does not follow symbolic links
// below its arguments), or, without grep, by a walk in Go.
func reference(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	if _, err := exec.LookPath("grep"); err == nil {
		cmd := exec.Command("grep", "-rlZF", "--", needle, root)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		stdout, err := cmd.Output()
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: no match
			t.Fatalf("grep: %v", err)
		}
		out = strings.Split(strings.TrimSuffix(string(stdout), "\x00"), "\x00")
	} else {
		t.Log("no grep: the reference is a walk in Go")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err == nil && bytes.Contains(b, []byte(needle)) {
				out = append(out, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// lockedBuffer collects the guests' stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newPool writes the path list into a directory of its own and starts a
// pool of kids that see the tree as /data and the list as /list.
func newPool(t *testing.T, ctx context.Context, root string, paths []string, kids int, stderr *lockedBuffer) *host.Pool {
	t.Helper()
	listDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(listDir, listName), []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pool, err := host.New(ctx, host.Config{
		Module:  guestWasm,
		Kids:    kids,
		Framing: frames.Fixed(4),
		Args:    []string{"-list", guestList + "/" + listName, needle},
		Dirs: []host.Dir{
			{Host: root, Guest: guestRoot, ReadOnly: true},
			{Host: listDir, Guest: guestList, ReadOnly: true},
		},
		CacheDir: cacheDir,
		Stderr:   stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// indices yields the 4-byte little-endian encoding of each index.
func indices(is ...uint32) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		var req [4]byte
		for _, i := range is {
			binary.LittleEndian.PutUint32(req[:], i)
			if !yield(req[:]) {
				return
			}
		}
	}
}

// TestGl lists every entry of the tree, symbolic links included, and two
// paths the guest cannot read, sends every index through the pool and
// compares the paths of the indices it replies with to grep's.
func TestGl(t *testing.T) {
	root := tree(t)
	paths := entries(t, root)
	if len(paths) < 1000 {
		t.Fatalf("the tree has %d entries, want ≥ 1000", len(paths))
	}
	unreadable := []string{guestRoot + "/no such file", "/etc/passwd"}
	paths = append(paths, unreadable...)
	want := reference(t, root)
	if len(want) < 300 {
		t.Fatalf("grep found only %d matching files", len(want))
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr lockedBuffer
	start := time.Now()
	pool := newPool(t, ctx, root, paths, 2, &stderr)
	all := make([]uint32, len(paths))
	for i := range all {
		all[i] = uint32(i)
	}
	var got []string
	seen := map[uint32]bool{}
	for r, err := range pool.Run(ctx, indices(all...)) {
		if err != nil {
			t.Fatalf("run: %v\nguest stderr:\n%s", err, stderr.String())
		}
		if len(r.Data) != 4 {
			t.Fatalf("a %d-byte reply", len(r.Data))
		}
		i := binary.LittleEndian.Uint32(r.Data)
		if int(i) >= len(paths) || seen[i] {
			t.Fatalf("reply %d: out of range or repeated", i)
		}
		seen[i] = true
		got = append(got, filepath.Join(root, strings.TrimPrefix(paths[i], guestRoot+"/")))
	}
	t.Logf("%d requests, %d matches in %v", len(paths), len(got), time.Since(start).Round(time.Millisecond))
	if st := pool.Stats(); st.Requests != len(paths) || st.Errors != 0 || st.Restarts != 0 {
		t.Errorf("stats %+v, want %d requests and no errors or restarts", st, len(paths))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %d paths, want %d\nonly in got: %q\nonly in want: %q", len(got), len(want), minus(got, want), minus(want, got))
	}
	// Each unreadable path gets one line on stderr, and nothing else does.
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != len(unreadable) {
		t.Errorf("guest stderr has %d lines, want %d:\n%s", len(lines), len(unreadable), stderr.String())
	}
	for _, p := range unreadable {
		if !strings.Contains(stderr.String(), p) {
			t.Errorf("guest stderr does not name %q:\n%s", p, stderr.String())
		}
	}
}

// TestBadIndex sends an index outside the list: the guest fails, and the
// pool reports the kid with the guest's message instead of hanging.
func TestBadIndex(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr lockedBuffer
	pool := newPool(t, ctx, root, []string{guestRoot + "/a file"}, 1, &stderr)
	var kidErr *host.KidError
	for _, err := range pool.Run(ctx, indices(1<<31)) {
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
	if kidErr.ExitCode != 1 || !strings.Contains(strings.Join(kidErr.Stderr, "\n"), "out of range") {
		t.Errorf("kid error %v (exit code %d, stderr %q), want exit code 1 and the guest's message", kidErr, kidErr.ExitCode, kidErr.Stderr)
	}
}

// TestProgram runs the example program's own code (run) as a user would
// and compares its output with grep's.
func TestProgram(t *testing.T) {
	root := tree(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-wasm", guestWasm, "-kids", "2", "-cache", cacheDir, "-0", needle, root}, &stdout, &stderr)
	if code != 0 || stderr.Len() > 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
	slices.Sort(got)
	if want := reference(t, root); !slices.Equal(got, want) {
		t.Errorf("got %d paths, want %d\nonly in got: %q\nonly in want: %q", len(got), len(want), minus(got, want), minus(want, got))
	}
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
	code := run(context.Background(), []string{"-wasm", guestWasm, "-kids", "1", "-cache", cacheDir, needle, root}, &stdout, &stderr)
	if want := filepath.Join(root, "ok") + "\n"; code != 1 || stdout.String() != want {
		t.Errorf("exit code %d, stdout %q; want 1 and %q", code, stdout.String(), want)
	}
	if n := strings.Count(stderr.String(), "a name with a newline cannot be listed"); n != 2 {
		t.Errorf("%d warnings, want 2; stderr:\n%s", n, stderr.String())
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}
