// Command forkjoin runs procpool's fork-join model with wasm parts: the
// numbers 1..N are cut into parts with host.NSplit (equal parts, the
// remainder in the last) and host.ForkJoin runs one fresh guest instance
// per part, -kids at a time, and waits for them all.
//
//	forkjoin -wasm guest.wasm [-n 100] [-parts 5] files DIR
//	forkjoin -wasm guest.wasm [-n N] [-parts P] sumsq
//
// files is procpool's own example: each part writes its numbers to its own
// file DIR/o.PP (DIR is the guest's only grant, at /out). sumsq needs the
// join: each part prints the sum of the squares of its numbers and the
// program adds the parts' sums (exact, with math/big).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wasmpool/wasmpool/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("forkjoin", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: forkjoin -wasm guest.wasm [flags] files DIR | sumsq\n\nFlags:")
		fl.PrintDefaults()
	}
	wasm := fl.String("wasm", "", "the guest `module` (required): examples/forkjoin/guest, or c/sumsq.c for sumsq")
	n := fl.Int64("n", 100, "the numbers are 1..`N`")
	parts := fl.Int("parts", 5, "number of parts")
	kids := fl.Int("kids", 0, "parts run at once; 0 means one per CPU")
	cache := fl.String("cache", "", "compilation cache `dir`; empty means the user's cache directory")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	mode := fl.Arg(0)
	if *wasm == "" || *parts < 1 || *n < 0 || !(mode == "files" && fl.NArg() == 2 || mode == "sumsq" && fl.NArg() == 1) {
		fl.Usage()
		return 2
	}
	cfg := host.Config{Module: *wasm, Kids: *kids, CacheDir: *cache, Stderr: stderr}
	split := host.NSplit(*n, *parts) // [0,20) [20,40) … for 100 in 5: the part's numbers are Lo+1..Hi
	fail := func(err error) int {
		fmt.Fprintf(stderr, "forkjoin: %v\n", err)
		return 1
	}

	if mode == "files" {
		dir, err := filepath.Abs(fl.Arg(1))
		if err != nil {
			return fail(err)
		}
		cfg.Args = []string{"files", "/out"}
		cfg.Dirs = []host.Dir{{Host: dir, Guest: "/out"}}
		if _, err := host.ForkJoin(ctx, cfg, split, host.ForkJoinOptions{}); err != nil {
			return fail(err)
		}
		return 0
	}

	// sumsq: each part prints one line, its sum; the join adds them.
	outs := make([]*bytes.Buffer, len(split))
	cfg.Args = []string{"sumsq"}
	_, err := host.ForkJoin(ctx, cfg, split, host.ForkJoinOptions{
		Stdout: func(part int) (io.Writer, error) {
			outs[part] = new(bytes.Buffer) // a retry starts clean
			return outs[part], nil
		},
	})
	if err != nil {
		return fail(err)
	}
	total := new(big.Int)
	for part, out := range outs {
		s, ok := new(big.Int).SetString(strings.TrimSpace(out.String()), 10)
		if !ok {
			return fail(fmt.Errorf("part %d printed %q, not a number", part, out.String()))
		}
		total.Add(total, s)
	}
	fmt.Fprintln(stdout, total)
	return 0
}
