// Command only prints the files under a directory whose type matches
// patterns, as cligen's examples/only does with libmagic: a pool of
// sandboxed wasm kids classifies the files by their leading bytes.
//
//	only -wasm only.wasm [-kids N] [-any TAGS] [-all TAGS] [-not TAGS] [-show] [-0] DIR
//
// The program walks DIR (without following symbolic links) and sends each
// path that is not a directory to the kids, NUL-framed. The kids see DIR,
// read-only, as /data and nothing else; each replies with the path when the
// file matches, or with nothing. Paths are printed in the order the replies
// arrive. See the guest (examples/only/guest) for the tags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

// guestRoot is where the guest sees the directory.
const guestRoot = "/data"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("only", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: only -wasm only.wasm [flags] DIR\n\nPrints the files under DIR whose type tags match. Flags:")
		fl.PrintDefaults()
	}
	wasm := fl.String("wasm", "", "the only guest `module` (required)")
	kids := fl.Int("kids", 0, "number of kids; 0 means one per CPU")
	cache := fl.String("cache", "", "compilation cache `dir`; empty means the user's cache directory")
	nul := fl.Bool("0", false, "end each printed path with NUL instead of a newline")
	var guestArgs []string
	for _, name := range []string{"any", "all", "not"} {
		fl.Func(name, "select files with "+name+" of these comma-separated `tags` (repeatable)", func(s string) error {
			guestArgs = append(guestArgs, "-"+name, s)
			return nil
		})
	}
	show := fl.Bool("show", false, "print \"tags<TAB>path\" for each selected file")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *wasm == "" || fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	if *show {
		guestArgs = append(guestArgs, "-show")
	}
	dir := fl.Arg(0)
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root) // follow DIR itself if it is a link
	}
	if err != nil {
		fmt.Fprintf(stderr, "only: %v\n", err)
		return 1
	}

	pool, err := host.New(ctx, host.Config{
		Module:   *wasm,
		Kids:     *kids,
		Framing:  frames.Zero,
		Args:     guestArgs,
		Dirs:     []host.Dir{{Host: root, Guest: guestRoot, ReadOnly: true}},
		CacheDir: *cache,
		Stderr:   stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "only: %v\n", err)
		return 1
	}
	defer pool.Close()

	end := byte('\n')
	if *nul {
		end = 0
	}
	failed := false
	var line []byte
	for r, err := range pool.Run(ctx, walk(root, stderr, &failed)) {
		if err != nil {
			fmt.Fprintf(stderr, "only: %v\n", err)
			failed = true
			continue
		}
		line = line[:0]
		path := r.Data
		if *show {
			tags, p, _ := strings.Cut(string(r.Data), "\t")
			line = append(line, tags...)
			line = append(line, '\t')
			path = []byte(p)
		}
		line = append(line, hostPath(dir, string(path))...)
		line = append(line, end)
		if _, err := stdout.Write(line); err != nil {
			fmt.Fprintf(stderr, "only: %v\n", err)
			return 1
		}
	}
	if failed {
		return 1
	}
	return 0
}

// walk yields the guest path of every entry under root that is not a
// directory. Symbolic links are yielded, not followed.
func walk(root string, stderr io.Writer, failed *bool) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		var req []byte
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(stderr, "only: %v\n", err)
				*failed = true
				return nil
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			req = append(append(req[:0], guestRoot+"/"...), filepath.ToSlash(rel)...)
			if !yield(req) {
				return filepath.SkipAll
			}
			return nil
		})
	}
}

// hostPath turns a guest path back into a path under dir as the user gave it.
func hostPath(dir, guestPath string) string {
	rel, ok := strings.CutPrefix(guestPath, guestRoot+"/")
	if !ok {
		return guestPath
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}
