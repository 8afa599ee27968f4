// Command gosort reads all of its input with io.ReadAll, then writes its
// lines sorted, each ended by a newline (a last line without one gets
// one).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosort:", err)
		os.Exit(1)
	}
	if len(data) == 0 {
		return
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	slices.SortFunc(lines, bytes.Compare)
	w := bufio.NewWriter(os.Stdout)
	for _, l := range lines {
		w.Write(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		os.Exit(1)
	}
}
