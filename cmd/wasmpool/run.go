package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"wasmpool/frames"
	"wasmpool/host"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // some requests failed or a kid died
	exitUsage  = 2 // usage or set-up error
	exitSignal = 130
)

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: wasmpool run [-j N] [--frames F] [--ordered] module.wasm [guest args...]")
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "wasmpool: unknown command %q\n", args[0])
	return exitUsage
}

func runCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobs := fs.Int("j", 0, "number of kids (default: number of CPUs)")
	framing := fs.String("frames", "lines", "request and reply framing: lines, zero, lenpfx or fixed:N")
	ordered := fs.Bool("ordered", false, "one reply per request, in input order")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(stderr, "wasmpool: run needs a module.wasm")
		return exitUsage
	}
	f, err := frames.Parse(*framing)
	if err != nil {
		fmt.Fprintf(stderr, "wasmpool: --frames: %v\n", err)
		return exitUsage
	}
	cfg := host.Config{Module: fs.Arg(0), Args: fs.Args()[1:], Kids: *jobs, Framing: f, Stderr: stderr}
	if *ordered {
		cfg.Mode = host.Ordered
	}
	pool, err := host.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "wasmpool: %v\n", err)
		return exitUsage
	}
	defer pool.Close()
	in := frames.NewReader(stdin, f)
	requests := func(yield func([]byte) bool) {
		for in.Scan() && yield(in.Bytes()) {
		}
	}
	out := bufio.NewWriterSize(stdout, 256<<10)
	var buf []byte
	code := exitOK
	for reply, err := range pool.Run(ctx, requests) {
		if err != nil {
			fmt.Fprintf(stderr, "wasmpool: %v\n", err)
			code = exitFailed
			if errors.Is(err, context.Canceled) {
				code = exitSignal
			}
			continue
		}
		buf, err = f.Append(buf[:0], reply.Data)
		if err != nil {
			fmt.Fprintf(stderr, "wasmpool: reply %d: %v\n", reply.Index, err)
			code = exitFailed
			continue
		}
		if _, err := out.Write(buf); err != nil {
			fmt.Fprintf(stderr, "wasmpool: writing replies: %v\n", err)
			return exitFailed
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "wasmpool: writing replies: %v\n", err)
		return exitFailed
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(stderr, "wasmpool: reading requests: %v\n", err)
		return exitFailed
	}
	return code
}
