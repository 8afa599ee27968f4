package main

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// benchForkJoin measures host.ForkJoin on CPU-bound parts: the sum of the
// squares of 1..n by the fork-join example's Go guest, in one instance
// (one part, one kid) and in two parts over two kids. Both go through
// ForkJoin, kid start-up included, so the ratio is the speed-up the
// fork-join gives on this machine's cores.
func benchForkJoin(e *env, rep *report) {
	n := int64(3_000_000_000) // the guest is exact up to 2^32
	if e.smoke {
		n = 10_000_000
	}
	want := new(big.Int).Mul(big.NewInt(n), big.NewInt(n+1))
	want.Mul(want, big.NewInt(2*n+1)).Div(want, big.NewInt(6))
	module, skip := speedBuild(e, e.missing("go-wasm"), func() (string, error) {
		// a directory of its own: guestbuild.Go names a module after its
		// package's last element, and bin has ppbench's "guest" already
		dir := filepath.Join(e.tmp, "bin-forkjoin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		return guestbuild.Go(dir, "github.com/wasmpool/wasmpool/examples/forkjoin/guest")
	})
	sumsq := func(parts int) func() ([]float64, error) {
		return func() ([]float64, error) {
			cfg := host.Config{Module: module, Kids: parts, Args: []string{"sumsq"}, CacheDir: e.cache, Stderr: e.stderr}
			outs := make([]bytes.Buffer, parts)
			c0 := cpuNow()
			t0 := time.Now()
			_, err := host.ForkJoin(e.ctx, cfg, host.NSplit(n, parts), host.ForkJoinOptions{
				Stdout: func(part int) (io.Writer, error) { outs[part].Reset(); return &outs[part], nil },
			})
			wall := time.Since(t0)
			self, kids := c0.since()
			if err != nil {
				return nil, err
			}
			total := new(big.Int)
			for _, out := range outs {
				s, ok := new(big.Int).SetString(strings.TrimSpace(out.String()), 10)
				if !ok {
					return nil, fmt.Errorf("a part printed %q", out.String())
				}
				total.Add(total, s)
			}
			if total.Cmp(want) != 0 {
				return nil, fmt.Errorf("sum %v, want %v", total, want)
			}
			return []float64{wall.Seconds(), (self + kids).Seconds()}, nil
		}
	}
	one := &bcase{name: "one instance (1 part, 1 kid)", skip: skip, run: sumsq(1)}
	two := &bcase{name: "fork-join, 2 parts over 2 kids", skip: skip, run: sumsq(2)}
	all := []*bcase{one, two}
	measure(e, "forkjoin", all, func(m []float64) string {
		return fmt.Sprintf("%.3f s, CPU %.3f s", m[0], m[1])
	})
	rep.failed(all...)
	rep.tables = append(rep.tables, &table{
		title: "Fork-join: sum of squares over a range",
		note: fmt.Sprintf("The sum of the squares of 1..%s (exact, 128 bits) by the fork-join example's Go guest "+
			"(examples/forkjoin), through host.ForkJoin: wall time from the call to its return, kid start-up and compile-cache load included; "+
			"CPU s = user + system time of this process and the kids. Speed-up = the one instance's time ÷ the fork-join's, "+
			"both medians of the same interleaved runs.", num(float64(n), "%.0f")),
		head: []string{"case", "wall s", "spread", "CPU s", "speed-up"},
		rows: [][]string{
			{one.name, cell(one, 0, "%.2f"), spreadCellf(one, 0, "%.2f"), cell(one, 1, "%.2f"), "1×"},
			{two.name, cell(two, 0, "%.2f"), spreadCellf(two, 0, "%.2f"), cell(two, 1, "%.2f"), ratioCell(one.med(0), two.med(0))},
		},
	})
}
