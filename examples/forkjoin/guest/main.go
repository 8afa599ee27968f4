// Command guest is the fork-join example's Go guest: one part of a
// fork-join, told its range [LO, HI) of the numbers' indices and its number
// as its last arguments (the number at index i is i+1).
//
//	guest files DIR LO HI PART   write the numbers LO+1..HI, one a line, to DIR/o.PP
//	guest sumsq LO HI PART       print the sum of the squares of LO+1..HI
//
// files is procpool's own forkJoin example; sumsq needs the join: the
// parent adds the parts' sums. The sum is exact (128 bits) for HI ≤ 2^32.
package main

import (
	"bufio"
	"fmt"
	"math/big"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	n := len(os.Args)
	if n < 5 {
		fail("usage: guest files DIR LO HI PART | guest sumsq LO HI PART")
	}
	lo, err1 := strconv.ParseUint(os.Args[n-3], 10, 64)
	hi, err2 := strconv.ParseUint(os.Args[n-2], 10, 64)
	part, err3 := strconv.Atoi(os.Args[n-1])
	if err1 != nil || err2 != nil || err3 != nil || lo > hi {
		fail("bad LO HI PART: %q", os.Args[n-3:])
	}
	switch os.Args[1] {
	case "files":
		if n != 6 {
			fail("usage: guest files DIR LO HI PART")
		}
		if err := files(os.Args[2], lo, hi, part); err != nil {
			fail("%v", err)
		}
	case "sumsq":
		if hi > 1<<32 {
			fail("HI %d is above 2^32: the squares would not fit in 64 bits", hi)
		}
		s := sumSquares(lo, hi)
		fmt.Println(s.String())
	default:
		fail("unknown mode %q", os.Args[1])
	}
}

// files writes the part's numbers to its own file, as procpool's example
// does with open(&"o.{p:02d}", fmWrite).
func files(dir string, lo, hi uint64, part int) error {
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("o.%02d", part)))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := lo + 1; i <= hi; i++ {
		w.WriteString(strconv.FormatUint(i, 10))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sumSquares adds i*i for i in lo+1..hi in 128 bits.
func sumSquares(lo, hi uint64) *big.Int {
	var sumHi, sumLo, carry uint64
	for i := lo + 1; i <= hi; i++ {
		sumLo, carry = bits.Add64(sumLo, i*i, 0)
		sumHi += carry
	}
	s := new(big.Int).Lsh(new(big.Int).SetUint64(sumHi), 64)
	return s.Or(s, new(big.Int).SetUint64(sumLo))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "guest: "+format+"\n", args...)
	os.Exit(1)
}
