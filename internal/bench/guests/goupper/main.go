// Command goupper is an ordinary Go line filter (bufio.Scanner in,
// bufio.Writer out) that upper-cases ASCII letters. It knows nothing of
// wasmpool: the batch benchmark builds it with GOOS=wasip1 for wasmpool's
// batch instances and natively for GNU parallel.
package main

import (
	"bufio"
	"os"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	for sc.Scan() {
		b := sc.Bytes()
		for i, c := range b {
			if 'a' <= c && c <= 'z' {
				b[i] = c - ('a' - 'A')
			}
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if sc.Err() != nil || w.Flush() != nil {
		os.Exit(1)
	}
}
