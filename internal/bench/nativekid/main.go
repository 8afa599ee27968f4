// Command nativekid is the ppbench filter built for the host: the native
// Go kid the benchmarks run through the same pool (host.Config.Command) to
// compare with wasm kids doing the same work. Its first argument picks the
// work: echo, upper or sha256 (see package github.com/wasmpool/wasmpool/examples/ppbench/work).
package main

import (
	"os"

	"github.com/wasmpool/wasmpool/examples/ppbench/work"
)

func main() { work.Main(os.Args[1:]) }
