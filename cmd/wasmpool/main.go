// Command wasmpool runs a WebAssembly filter over a stream of framed
// requests in a pool of sandboxed kid processes: like parallel --pipe, for
// wasm modules (it runs no native commands). See docs/cli.md, or run
// wasmpool help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(mainCode())
}

// mainCode runs the command line of this process and returns its exit
// status. The first SIGINT or SIGTERM cancels the run (the pool stops
// feeding, gives kids a moment for the requests they hold, then kills
// them); a second one exits at once, and the kernel kills the kids with us.
func mainCode() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		first := signalError{<-sigs}
		cancel(first)
		second := signalError{<-sigs}
		os.Exit(second.code())
	}()
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// signalError is the cause of a run cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return e.name() + " received" }

func (e signalError) name() string {
	switch e.sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return e.sig.String()
}

// code is the conventional exit status of a process stopped by the
// signal: 128 + its number.
func (e signalError) code() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitSignal
}
