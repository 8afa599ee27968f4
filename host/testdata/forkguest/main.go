// Command forkguest is the fork-join test guest (host and CLI tests): one
// part of a fork-join, told its range and number as its last arguments.
//
//	forkguest [flags] LO HI PART
//
// By default it writes one line, "part=PART lo=LO hi=HI parts=N", after
// checking that its environment (WASMPOOL_PART, _LO, _HI, _PARTS) says the
// same (exit 9 if not). Flags:
//
//	-seq           write the numbers LO+1 .. HI instead, one per line
//	-cat           copy stdin to stdout instead
//	-args          write the arguments before LO, space-separated, instead
//	-fail P:CODE   part P writes "partial" and a stderr line, exits CODE
//	-panic P       part P panics (exit 2)
//	-sleep P:DUR   part P sleeps DUR first ("forever": an hour)
//	-flaky DIR     the first attempt at each part exits 3, leaving a marker
//	               file DIR/flaky.PART for the next
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	seq := flag.Bool("seq", false, "write the numbers LO+1..HI")
	cat := flag.Bool("cat", false, "copy stdin to stdout")
	args := flag.Bool("args", false, "write the arguments before LO")
	fail := flag.String("fail", "", "P:CODE")
	panicPart := flag.Int("panic", -1, "P")
	sleep := flag.String("sleep", "", "P:DUR")
	flaky := flag.String("flaky", "", "DIR")
	flag.Parse()
	n := flag.NArg()
	if n < 3 {
		fmt.Fprintln(os.Stderr, "forkguest: want LO HI PART")
		os.Exit(64)
	}
	lo, err1 := strconv.ParseInt(flag.Arg(n-3), 10, 64)
	hi, err2 := strconv.ParseInt(flag.Arg(n-2), 10, 64)
	part, err3 := strconv.Atoi(flag.Arg(n - 1))
	if err1 != nil || err2 != nil || err3 != nil {
		fmt.Fprintln(os.Stderr, "forkguest: bad LO HI PART:", flag.Args()[n-3:])
		os.Exit(64)
	}
	if p, d, ok := strings.Cut(*sleep, ":"); ok && p == strconv.Itoa(part) {
		dur, err := time.ParseDuration(d)
		if d == "forever" {
			dur, err = time.Hour, nil
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "forkguest:", err)
			os.Exit(64)
		}
		time.Sleep(dur)
	}
	if *flaky != "" {
		marker := filepath.Join(*flaky, "flaky."+strconv.Itoa(part))
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o644)
			fmt.Fprintf(os.Stderr, "forkguest: part %d: first attempt fails\n", part)
			os.Exit(3)
		}
	}
	if p, c, ok := strings.Cut(*fail, ":"); ok && p == strconv.Itoa(part) {
		code, _ := strconv.Atoi(c)
		fmt.Println("partial")
		fmt.Fprintf(os.Stderr, "forkguest: part %d fails with %d\n", part, code)
		os.Exit(code)
	}
	if *panicPart == part {
		panic(fmt.Sprintf("part %d panics", part))
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch {
	case *seq:
		for i := lo + 1; i <= hi; i++ {
			out.WriteString(strconv.FormatInt(i, 10))
			out.WriteByte('\n')
		}
	case *cat:
		if _, err := io.Copy(out, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "forkguest:", err)
			os.Exit(1)
		}
	case *args:
		fmt.Fprintln(out, strings.Join(flag.Args()[:n-3], " "))
	default:
		env := fmt.Sprintf("%s %s %s", os.Getenv("WASMPOOL_LO"), os.Getenv("WASMPOOL_HI"), os.Getenv("WASMPOOL_PART"))
		if want := fmt.Sprintf("%d %d %d", lo, hi, part); env != want {
			fmt.Fprintf(os.Stderr, "forkguest: environment says %q, arguments %q\n", env, want)
			os.Exit(9)
		}
		fmt.Fprintf(out, "part=%d lo=%d hi=%d parts=%s\n", part, lo, hi, os.Getenv("WASMPOOL_PARTS"))
	}
}
