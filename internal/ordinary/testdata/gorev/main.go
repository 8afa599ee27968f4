// Command gorev writes each line of its input reversed, byte by byte:
// bufio.Scanner in, fmt.Println out (one write per line), as an ordinary
// Go program does.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		slices.Reverse(line)
		fmt.Println(string(line))
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "gorev:", err)
		os.Exit(1)
	}
}
