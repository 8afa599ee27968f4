// Command grl prints the files under a directory that contain a substring,
// as cligen's examples/grl does (grep -rlF): a pool of sandboxed wasm kids
// reads the files.
//
//	grl -wasm grl.wasm [-kids N] [-0] SUBSTRING DIR
//
// The program walks DIR (without following symbolic links) and sends each
// path that is not a directory to the kids, length-prefixed. The kids see
// DIR, read-only, as /data and nothing else; each replies with the path when
// the file contains SUBSTRING, or with nothing. Symbolic links are skipped,
// as grep -r skips them. Paths are printed in the order the replies arrive.
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
	fl := flag.NewFlagSet("grl", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: grl -wasm grl.wasm [flags] SUBSTRING DIR\n\nPrints the files under DIR that contain SUBSTRING. Flags:")
		fl.PrintDefaults()
	}
	wasm := fl.String("wasm", "", "the grl guest `module` (required)")
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
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root) // follow DIR itself if it is a link
	}
	if err != nil {
		fmt.Fprintf(stderr, "grl: %v\n", err)
		return 1
	}

	pool, err := host.New(ctx, host.Config{
		Module:   *wasm,
		Kids:     *kids,
		Framing:  frames.LenPfx,
		Args:     []string{substring},
		Dirs:     []host.Dir{{Host: root, Guest: guestRoot, ReadOnly: true}},
		CacheDir: *cache,
		Stderr:   stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "grl: %v\n", err)
		return 1
	}
	defer pool.Close()

	end := "\n"
	if *nul {
		end = "\x00"
	}
	failed := false
	for r, err := range pool.Run(ctx, walk(root, stderr, &failed)) {
		if err != nil {
			fmt.Fprintf(stderr, "grl: %v\n", err)
			failed = true
			continue
		}
		if _, err := io.WriteString(stdout, hostPath(dir, string(r.Data))+end); err != nil {
			fmt.Fprintf(stderr, "grl: %v\n", err)
			return 1
		}
	}
	if failed {
		return 1
	}
	return 0
}

// walk yields the guest path of every entry under root that is not a
// directory or a symbolic link.
func walk(root string, stderr io.Writer, failed *bool) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		var req []byte
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(stderr, "grl: %v\n", err)
				*failed = true
				return nil
			}
			if d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
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
