package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/exampletest"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

var env exampletest.Env

func TestMain(m *testing.M) {
	exampletest.Main(m, &env, "github.com/wasmpool/wasmpool/examples/forkjoin/guest")
}

func runProgram(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append([]string{"-cache", env.Cache, "-kids", "2"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("forkjoin %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// TestFiles is procpool's example: 1..100 in 5 parts, each part's numbers
// in its own file. The files must hold exactly NSplit's parts; 103 puts
// the remainder in the last part, and 3 numbers in 5 parts leave the first
// four files empty.
func TestFiles(t *testing.T) {
	for _, n := range []int64{100, 103, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			runProgram(t, "-wasm", env.Guest, "-n", fmt.Sprint(n), "-parts", "5", "files", dir)
			names, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(names) != 5 {
				t.Fatalf("%d files: %v", len(names), names)
			}
			next := int64(1)
			for p, r := range host.NSplit(n, 5) {
				var want strings.Builder
				for i := r.Lo + 1; i <= r.Hi; i++ {
					want.WriteString(strconv.FormatInt(i, 10) + "\n")
				}
				got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("o.%02d", p)))
				if err != nil || string(got) != want.String() {
					t.Errorf("o.%02d: %q (%v), want %q", p, got, err, want.String())
				}
				if r.Lo+1 != next {
					t.Errorf("part %d starts at %d, want %d", p, r.Lo+1, next)
				}
				next = r.Hi + 1
			}
			if next != n+1 {
				t.Errorf("the parts end at %d, want %d", next-1, n)
			}
		})
	}
}

// squares is n(n+1)(2n+1)/6, the sum of the squares of 1..n.
func squares(n int64) *big.Int {
	b := big.NewInt(n)
	s := new(big.Int).Mul(b, big.NewInt(n+1))
	s.Mul(s, big.NewInt(2*n+1))
	return s.Div(s, big.NewInt(6))
}

// TestSumSquares checks the join against the closed formula, with Go and
// C guests, over a range whose parts' sums pass 2^64 (1..10^8: 3.3e23).
func TestSumSquares(t *testing.T) {
	guests := map[string]func() (string, error){
		"go": func() (string, error) { return env.Guest, nil },
		"c":  func() (string, error) { return guestbuild.C(env.Dir, "c/sumsq.c") },
	}
	for name, build := range guests {
		t.Run(name, func(t *testing.T) {
			module, err := build()
			if err != nil {
				t.Skip(err) // a missing toolchain
			}
			for _, tc := range []struct {
				n     int64
				parts int
			}{{100_000_000, 4}, {10, 3}, {2, 5}, {0, 2}} {
				got := strings.TrimSpace(runProgram(t, "-wasm", module, "-n", fmt.Sprint(tc.n), "-parts", fmt.Sprint(tc.parts), "sumsq"))
				if want := squares(tc.n).String(); got != want {
					t.Errorf("1..%d in %d parts: %s, want %s", tc.n, tc.parts, got, want)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	for _, args := range [][]string{{}, {"-wasm", env.Guest}, {"-wasm", env.Guest, "files"}, {"-wasm", env.Guest, "-parts", "0", "sumsq"}} {
		if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
