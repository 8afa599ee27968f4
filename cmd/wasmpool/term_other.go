//go:build !linux

package main

import "io"

// isTerminal reports whether w is a terminal; wasmpool runs only on Linux
// (see package host), so elsewhere nothing is.
func isTerminal(io.Writer) bool { return false }

// termWidth returns the width in columns of the terminal w is, or 0.
func termWidth(io.Writer) int { return 0 }
