package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1   // some requests failed or a kid died
	exitUsage  = 2   // usage or set-up error
	exitSignal = 130 // interrupted (SIGINT); SIGTERM gives 143
	// exitBrokenPipe is the status of a process killed by SIGPIPE: that
	// of a run whose reader went away (a write to stdout kills a Go
	// program with SIGPIPE; a splice into it fails with EPIPE).
	exitBrokenPipe = 128 + 13
)

// version is this program's version; release builds set it with
// -ldflags "-X main.version=v1.2.3".
var version = ""

// run runs one wasmpool command line (without the program name) and
// returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runCmd(ctx, rest, stdin, stdout, stderr)
	case "forkjoin":
		return forkJoinCmd(ctx, rest, stdout, stderr)
	case "inspect":
		return inspectCmd(ctx, rest, stdout, stderr)
	case "describe":
		return describeCmd(rest, stdout, stderr)
	case "kid": // hidden: what a pool on another machine runs over ssh or srun
		return host.ServeKid()
	case "version", "--version", "-V":
		if wantsHelp(rest) {
			io.WriteString(stdout, help("version"))
			return exitOK
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "wasmpool: version: unexpected argument %s (see 'wasmpool version --help')\n", show(rest[0]))
			return exitUsage
		}
		printVersion(stdout)
		return exitOK
	case "help", "-h", "--help", "-help":
		if len(rest) == 0 {
			io.WriteString(stdout, usage)
			return exitOK
		}
		if _, ok := helps[rest[0]]; ok && len(rest) == 1 {
			io.WriteString(stdout, help(rest[0]))
			return exitOK
		}
		fmt.Fprintf(stderr, "wasmpool: help: unknown command %s (commands: run, forkjoin, inspect, describe, version)\n", show(strings.Join(rest, " ")))
		return exitUsage
	}
	if strings.HasSuffix(cmd, ".wasm") {
		fmt.Fprintf(stderr, "wasmpool: unknown command %s: to run a module, say 'wasmpool run %s'\n", show(cmd), cmd)
	} else if strings.HasPrefix(cmd, "-") {
		fmt.Fprintf(stderr, "wasmpool: %s before a command: flags follow the command, as in 'wasmpool run %s module.wasm'\n", cmd, cmd)
	} else {
		fmt.Fprintf(stderr, "wasmpool: unknown command %s (commands: run, forkjoin, inspect, describe, version, help)\n", show(cmd))
	}
	return exitUsage
}

func printVersion(w io.Writer) {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(w, "wasmpool %s\n", v)
	fmt.Fprintf(w, "protocol %d (custom section format %d)\n", abi.Version, abi.SectionVersion)
	fmt.Fprintf(w, "wazero %s\n", host.WazeroVersion())
	fmt.Fprintf(w, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
