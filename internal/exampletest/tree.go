package exampletest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Needle is the substring the tests of the grep examples look for.
const Needle = "needle-42"

// NeedleTree describes the test tree of a grep example: 1,200 files
// (about a third contain the [Needle]) in nested directories, plus large
// files where the needle straddles the guest's 64 KiB read chunks, and
// the symbolic links of [Symlinks] in a (link-to-match to a matching
// file). The same description makes the same tree, byte for byte.
type NeedleTree struct {
	Seed  [2]uint64 // of the PCG generator
	Names []string  // file name patterns with one %d, used in turn
	Dirs  []string  // directories under the root, used in turn

	root Once[string]
}

// Root returns the root of the tree, generated in dir/tree (with the link
// target in dir/outside) the first time a test asks for it.
func (nt *NeedleTree) Root(t *testing.T, dir string) string {
	t.Helper()
	return nt.root.Get(t, func() (string, error) {
		start := time.Now()
		root := filepath.Join(dir, "tree")
		err := nt.Make(root, filepath.Join(dir, "outside"))
		t.Logf("tree generated in %v", time.Since(start).Round(time.Millisecond))
		return root, err
	})
}

// Search returns what a search of the whole tree needs: its root (see
// [NeedleTree.Root]); the guest paths (under guestRoot) of its entries, at
// least 1,000, followed by unreadable; and grep's reference, the host
// paths of the files with the needle, at least 300.
func (nt *NeedleTree) Search(t *testing.T, dir, guestRoot string, unreadable ...string) (root string, paths, want []string) {
	t.Helper()
	root = nt.Root(t, dir)
	paths = Entries(t, root, guestRoot)
	if len(paths) < 1000 {
		t.Fatalf("the tree has %d entries, want ≥ 1000", len(paths))
	}
	paths = append(paths, unreadable...)
	want = Grep(t, Needle, root)
	if len(want) < 300 {
		t.Fatalf("grep found only %d matching files", len(want))
	}
	return root, paths, want
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

// Make writes the tree into root, with the target of link-outside in
// outside.
func (nt *NeedleTree) Make(root, outside string) error {
	rng := rand.New(rand.NewPCG(nt.Seed[0], nt.Seed[1]))
	names, dirs := nt.Names, nt.Dirs
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
			data = insert(rng, text(rng, 1+rng.IntN(4000)), Needle)
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
				data = insert(rng, data, Needle)
			}
		case 10: // the needle alone, at the start or at the end
			switch rng.IntN(3) {
			case 0:
				data = []byte(Needle)
			case 1:
				data = append([]byte(Needle), text(rng, rng.IntN(100))...)
			default:
				data = append(text(rng, rng.IntN(100)), Needle...)
			}
		case 11: // a needle cut short at the end of the file
			data = append(text(rng, rng.IntN(100)), Needle[:1+rng.IntN(len(Needle)-1)]...)
		}
		name := fmt.Sprintf(names[i%len(names)], i)
		if err := write(filepath.Join(dirs[(i/len(names))%len(dirs)], name), data); err != nil {
			return err
		}
	}
	// Large files: the needle across the 64 KiB chunks the guest reads, at
	// the very end, and a file with only halves of needles at the seams.
	const chunk = 64 << 10
	for j, at := range []int{chunk - 4, 2*chunk - 1, 3*chunk - len(Needle) + 1, 5*chunk - len(Needle)} {
		data := text(rng, 5*chunk)[:5*chunk]
		data = slices.Replace(data, at, at+len(Needle), []byte(Needle)...)
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
	if err := write("match.txt", []byte("a "+Needle+" b")); err != nil {
		return err
	}
	return Symlinks(root, "link-to-match", "match.txt", outside, "secret", []byte(Needle))
}

// Symlinks makes the symbolic links of a test tree in root/a, none of
// which the guests follow: link to root/target, a file in the tree;
// link-outside to outside/secret, written with data, in a directory the
// guests are not granted; link-dangles to nothing; link-to-dir to root.
func Symlinks(root, link, target, outside, secret string, data []byte) error {
	if err := os.MkdirAll(outside, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outside, secret), data, 0o644); err != nil {
		return err
	}
	links := map[string]string{
		link:           "../" + target,
		"link-outside": filepath.Join(outside, secret),
		"link-dangles": "no such file",
		"link-to-dir":  "..",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, "a", name)); err != nil {
			return err
		}
	}
	return nil
}
