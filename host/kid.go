//go:build linux

package host

import (
	"os"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// Kid mode is entered when package host initializes, before the program's
// main runs: a program that imports host needs no plumbing of its own.
func init() {
	if spec, ok := os.LookupEnv(abi.KidEnv); ok {
		os.Exit(kidside.Main(spec))
	}
}
