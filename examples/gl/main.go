// Command gl prints the files under a directory that contain a substring,
// like grl, but requests and replies are 4-byte indices into a path list, as
// cligen's examples/gl does with procpool's Ob framing.
//
//	gl -wasm gl.wasm [-kids N] [-0] SUBSTRING DIR
//
// The program walks DIR (skipping symbolic links, as grep -r does) and
// writes the guest paths, one per line, to a list file in a temporary
// directory. The kids see DIR, read-only, as /data and the list's directory,
// read-only, as /list; each reads the list at start-up. The requests are the
// indices 0..n-1 as 4-byte little-endian records (fixed:4 framing); a kid
// replies with the index of a file that contains SUBSTRING, or with nothing.
// A name with a newline cannot be listed: it is skipped with a warning.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

// Where the guest sees the directory and the list.
const (
	guestRoot = "/data"
	guestList = "/list"
	listName  = "paths.txt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("gl", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: gl -wasm gl.wasm [flags] SUBSTRING DIR\n\nPrints the files under DIR that contain SUBSTRING. Flags:")
		fl.PrintDefaults()
	}
	wasm := fl.String("wasm", "", "the gl guest `module` (required)")
	kids := fl.Int("kids", 0, "number of kids; 0 means one per CPU")
	cache := fl.String("cache", "", "compilation cache `dir`; empty means the user's cache directory")
	nul := fl.Bool("0", false, "end each printed path with NUL instead of a newline")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *wasm == "" || fl.NArg() != 2 || fl.Arg(0) == "" {
		fl.Usage()
		return 2
	}
	substring, dir := fl.Arg(0), fl.Arg(1)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gl: %v\n", err)
		return 1
	}
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root) // follow DIR itself if it is a link
	}
	if err != nil {
		return fail(err)
	}

	failed := false
	rels, err := list(root, stderr, &failed)
	if err != nil {
		return fail(err)
	}
	listDir, err := os.MkdirTemp("", "wasmpool-gl-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(listDir)
	var b strings.Builder
	for _, rel := range rels {
		b.WriteString(guestRoot + "/" + rel + "\n")
	}
	if err := os.WriteFile(filepath.Join(listDir, listName), []byte(b.String()), 0o644); err != nil {
		return fail(err)
	}

	pool, err := host.New(ctx, host.Config{
		Module:  *wasm,
		Kids:    *kids,
		Framing: frames.Fixed(4),
		Args:    []string{"-list", guestList + "/" + listName, substring},
		Dirs: []host.Dir{
			{Host: root, Guest: guestRoot, ReadOnly: true},
			{Host: listDir, Guest: guestList, ReadOnly: true},
		},
		CacheDir: *cache,
		Stderr:   stderr,
	})
	if err != nil {
		return fail(err)
	}
	defer pool.Close()

	end := "\n"
	if *nul {
		end = "\x00"
	}
	indices := func(yield func([]byte) bool) {
		var req [4]byte
		for i := range rels {
			binary.LittleEndian.PutUint32(req[:], uint32(i))
			if !yield(req[:]) {
				return
			}
		}
	}
	for r, err := range pool.Run(ctx, indices) {
		if err != nil {
			fmt.Fprintf(stderr, "gl: %v\n", err)
			failed = true
			continue
		}
		i := binary.LittleEndian.Uint32(r.Data)
		if uint64(i) >= uint64(len(rels)) {
			fmt.Fprintf(stderr, "gl: kid %d replied with index %d, outside the list of %d\n", r.Kid, i, len(rels))
			failed = true
			continue
		}
		if _, err := io.WriteString(stdout, filepath.Join(dir, filepath.FromSlash(rels[i]))+end); err != nil {
			return fail(err)
		}
	}
	if failed {
		return 1
	}
	return 0
}

// list returns the slash-separated paths, relative to root, of every entry
// under root that is not a directory or a symbolic link, except names with
// a newline, which it reports.
func list(root string, stderr io.Writer, failed *bool) ([]string, error) {
	var rels []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(stderr, "gl: %v\n", err)
			*failed = true
			return nil
		}
		if p != root && strings.Contains(d.Name(), "\n") {
			fmt.Fprintf(stderr, "gl: skipping %q: a name with a newline cannot be listed\n", p)
			*failed = true
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	if uint64(len(rels)) > math.MaxUint32 {
		return nil, fmt.Errorf("%d paths: more than 4-byte indices can number", len(rels))
	}
	return rels, err
}
