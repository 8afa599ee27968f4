// Command gofault copies its input line by line (bufio.Scanner,
// fmt.Println) and fails on the line that asks it to: EXIT exits with
// status 3, PANIC panics, BOMB allocates until the runtime runs out of
// memory. With the argument "each" it exits 1 after reading its first
// line, whatever it is.
package main

import (
	"bufio"
	"fmt"
	"os"
)

var keep [][]byte // the bomb's blocks, kept so that the collector frees none

func main() {
	each := len(os.Args) > 1 && os.Args[1] == "each"
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if each {
			os.Exit(1)
		}
		switch line := sc.Text(); line {
		case "EXIT":
			os.Exit(3)
		case "PANIC":
			panic("gofault: asked to")
		case "BOMB":
			for {
				keep = append(keep, make([]byte, 1<<20))
			}
		default:
			fmt.Println(line)
		}
	}
}
