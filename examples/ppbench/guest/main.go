// Command guest is the ppbench filter as a wasm guest (build it with
// GOOS=wasip1 GOARCH=wasm go build): the benchmarks' Go guest. Its first
// argument picks the work: echo, upper or sha256 (see package work).
package main

import (
	"os"

	"github.com/wasmpool/wasmpool/examples/ppbench/work"
)

func main() { work.Main(os.Args[1:]) }
