package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// The benchmarks build their guests on first use (not in TestMain, so that
// `go test ./...` without -bench builds nothing).
var (
	benchDir  string
	benchOnce sync.Once
	benchErr  error
	guests    struct{ goWasm, cWasm, nativeGo, tinyGo, cache string }
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// built returns the built guests, or skips the benchmark when a needed
// toolchain is missing.
func built(b *testing.B, need ...string) {
	b.Helper()
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "wasmpool-bench-test-"); benchErr != nil {
			return
		}
		guests.cache = filepath.Join(benchDir, "cache")
		if guests.goWasm, benchErr = guestbuild.Go(benchDir, "github.com/wasmpool/wasmpool/examples/ppbench/guest"); benchErr != nil {
			return
		}
		if guests.nativeGo, benchErr = guestbuild.Native(benchDir, "github.com/wasmpool/wasmpool/internal/bench/nativekid"); benchErr != nil {
			return
		}
		if guests.tinyGo, benchErr = guestbuild.Native(benchDir, "github.com/wasmpool/wasmpool/internal/bench/tinykid"); benchErr != nil {
			return
		}
		root, err := os.Getwd() // internal/bench
		if err != nil {
			benchErr = err
			return
		}
		guests.cWasm, err = guestbuild.C(benchDir, filepath.Join(root, "../../examples/ppbench/c/main.c"))
		if err != nil && !errors.Is(err, guestbuild.ErrMissing) {
			benchErr = err
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	for _, n := range need {
		if n == "c" && guests.cWasm == "" {
			b.Skip("no C toolchain: ", guestbuild.Check(guestbuild.LangC))
		}
	}
}

// kidConfigs are the kinds of kid the benchmarks compare, all running the
// ppbench echo filter through the same pool.
func kidConfigs() []struct {
	name, need string
	cfg        host.Config
} {
	return []struct {
		name, need string
		cfg        host.Config
	}{
		{"wasm-c", "c", host.Config{Module: guests.cWasm, Args: []string{"echo"}}},
		{"wasm-go", "", host.Config{Module: guests.goWasm, Args: []string{"echo"}}},
		{"native-go", "", host.Config{Command: []string{guests.nativeGo, "echo"}}},
	}
}

// BenchmarkPPBench is procpool's ppBench: b.N jobs of a 1-byte request,
// each answered with 1 byte, through 1 and 2 kids; ns/job is the
// amortized dispatch overhead, kid start included (as in ppBench).
func BenchmarkPPBench(b *testing.B) {
	built(b)
	for _, kids := range []int{1, 2} {
		for _, k := range kidConfigs() {
			b.Run(fmt.Sprintf("kids=%d/%s", kids, k.name), func(b *testing.B) {
				built(b, k.need)
				cfg := k.cfg
				cfg.Kids, cfg.Framing, cfg.CacheDir, cfg.Stderr = kids, frames.Lines, guests.cache, os.Stderr
				warm(b, cfg)
				b.ResetTimer()
				t, err := pass(context.Background(), cfg, repeat([]byte("x"), b.N), false)
				if err != nil {
					b.Fatal(err)
				}
				if t.replies != b.N {
					b.Fatalf("%d replies, want %d", t.replies, b.N)
				}
				b.ReportMetric(float64(t.total)/float64(b.N), "ns/job")
			})
		}
	}
}

// BenchmarkKidStartup measures a pool of one kid from host.New to its
// first reply, with a cold compilation cache (a new directory each time:
// the parent compiles) and a warm one, and the kid's minor page faults
// until its first reply. tiny-go (internal/bench/tinykid) is the
// yardstick: a Go program that only echoes.
func BenchmarkKidStartup(b *testing.B) {
	built(b)
	kinds := append(kidConfigs(), struct {
		name, need string
		cfg        host.Config
	}{"tiny-go", "", host.Config{Command: []string{guests.tinyGo}}})
	for _, k := range kinds {
		for _, cold := range []bool{true, false} {
			name := k.name + "/warm"
			if cold {
				if k.cfg.Module == "" {
					continue // nothing to compile
				}
				name = k.name + "/cold"
			}
			b.Run(name, func(b *testing.B) {
				built(b, k.need)
				cfg := k.cfg
				cfg.Stderr = os.Stderr
				if !cold {
					cfg.CacheDir = guests.cache
					warm(b, cfg)
				}
				var newDur, kid time.Duration
				var minflt int64
				b.ResetTimer()
				for range b.N {
					if cold {
						b.StopTimer()
						dir, err := os.MkdirTemp(benchDir, "cold-")
						if err != nil {
							b.Fatal(err)
						}
						cfg.CacheDir = dir
						b.StartTimer()
					}
					s, err := startup(context.Background(), cfg)
					if err != nil {
						b.Fatal(err)
					}
					newDur += s.newDur
					kid += s.kid
					minflt += s.minflt
					if cold {
						b.StopTimer()
						os.RemoveAll(cfg.CacheDir)
						b.StartTimer()
					}
				}
				b.ReportMetric(ms(newDur)/float64(b.N), "ms-new")
				b.ReportMetric(ms(kid)/float64(b.N), "ms-kid")
				b.ReportMetric(ms(newDur+kid)/float64(b.N), "ms/first-reply")
				b.ReportMetric(float64(minflt)/float64(b.N), "faults/kid")
			})
		}
	}
}

// warm fills the compilation cache for cfg.
func warm(b *testing.B, cfg host.Config) {
	if cfg.Module == "" {
		return
	}
	cfg.Kids = 1
	p, err := host.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	p.Close()
}
