//go:build linux

package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	ok := false
	onFD(w, func(fd int) {
		_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		ok = err == nil
	})
	return ok
}

// termWidth returns the width in columns of the terminal w is, or 0.
func termWidth(w io.Writer) int {
	cols := 0
	onFD(w, func(fd int) {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			cols = int(ws.Col)
		}
	})
	return cols
}

// onFD calls f with the descriptor of w, if w is a file.
func onFD(w io.Writer, f func(fd int)) {
	file, ok := w.(*os.File)
	if !ok {
		return
	}
	if rc, err := file.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { f(int(fd)) })
	}
}
