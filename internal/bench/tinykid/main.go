// Command tinykid is the smallest Go kid the pool can run: it copies
// stdin to stdout with one buffer, so a line in is the same line out. The
// start-up benchmark runs it through the pool (host.Config.Command) as the
// reference for what starting a Go process costs on the machine: the Go
// runtime's own start and nothing else (no guest SDK, no fmt, no crypto).
// It imports only package os.
package main

import "os"

func main() {
	var buf [4096]byte
	for {
		n, err := os.Stdin.Read(buf[:])
		if n > 0 {
			if _, werr := os.Stdout.Write(buf[:n]); werr != nil {
				os.Exit(1)
			}
		}
		if err != nil {
			return // EOF: the pool has no more requests
		}
	}
}
