package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/wasmpool/wasmpool/examples/ppbench/work"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// shaSize is the size of one CPU-bound request.
const shaSize = work.ShaSize

// shaRequests yields n requests of 4 KiB: one random block whose first 8
// bytes are the request's number. It reuses its buffer, as a pool allows.
func shaRequests(n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		buf := make([]byte, shaSize)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		for i := range n {
			binary.LittleEndian.PutUint64(buf, uint64(i))
			if !yield(buf) {
				return
			}
		}
	}
}

// shaSum is the checksum the replies to shaRequests(n) must have.
func shaSum(n int) uint64 {
	var sum uint64
	var hx [2 * sha256.Size]byte
	for req := range shaRequests(n) {
		d := sha256.Sum256(req)
		hex.Encode(hx[:], d[:])
		sum += lineHash(hx[:])
	}
	return sum
}

// speedBuild builds a guest optimized for speed, as a user with CPU-bound
// work would (the other sections use the size-optimized builds of env),
// and warms the compilation cache with it. It returns the module, or why
// there is none (as env.missing does).
func speedBuild(e *env, skip string, build func() (string, error)) (string, string) {
	if skip != "" {
		return "", skip
	}
	m, err := build()
	switch {
	case err == nil:
	case errors.Is(err, guestbuild.ErrMissing) && os.Getenv("WASMPOOL_REQUIRE_TOOLCHAINS") == "":
		return "", "skipped: " + firstLine(err.Error())
	default:
		return "", "fail: " + err.Error()
	}
	p, err := host.New(e.ctx, host.Config{Module: m, Kids: 1, CacheDir: e.cache, Stderr: e.stderr})
	if err != nil {
		return "", "fail: warming the cache: " + err.Error()
	}
	p.Close()
	return m, ""
}

func benchCPU(e *env, rep *report) {
	n := 100_000
	if e.smoke {
		n = 500
	}
	want := shaSum(n)
	dir := filepath.Join(e.tmp, "bin-speed")
	cWasm, cSkip := speedBuild(e, e.missing("c-wasm"), func() (string, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		return guestbuild.C(dir, filepath.Join(e.root, "examples/ppbench/c/main.c"), "-O2")
	})
	rustWasm, rustSkip := speedBuild(e, e.missing("rust-wasm"), func() (string, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		return guestbuild.RustWith(dir, filepath.Join(e.root, "examples/ppbench/rust/main.rs"), guestbuild.RustOptions{Speed: true})
	})
	type kind struct {
		name, note, skip string
		cfg              host.Config
	}
	kinds := []kind{
		{name: "C guest (wasm)", note: "portable C SHA-256, clang -O2", skip: cSkip,
			cfg: host.Config{Module: cWasm}},
		{name: "Rust guest (wasm)", note: "portable Rust SHA-256, rustc opt-level=3", skip: rustSkip,
			cfg: host.Config{Module: rustWasm}},
		{name: "Go guest (wasm)", note: "crypto/sha256, generic code on wasm", skip: e.missing("go-wasm"),
			cfg: host.Config{Module: e.goWasm}},
		{name: "native C kid", note: "the C guest's source, cc -O2", skip: e.missing("native-c"),
			cfg: host.Config{Command: []string{e.nativeC}}},
		{name: "native Go kid, -tags purego", note: "crypto/sha256 without assembly: the same code as on wasm", skip: e.missing("native-go-purego"),
			cfg: host.Config{Command: []string{e.nativeGoPure}}},
		{name: "native Go kid", note: "crypto/sha256 with its SHA-NI/AVX2 assembly", skip: e.missing("native-go"),
			cfg: host.Config{Command: []string{e.nativeGo}}},
	}
	var cases [][2]*bcase
	var all []*bcase
	for _, k := range kinds {
		var pair [2]*bcase
		for j, jobs := range []int{1, 2} {
			cfg := k.cfg
			cfg.Kids, cfg.Framing, cfg.ReplyFraming, cfg.CacheDir, cfg.Stderr = jobs, frames.Fixed(shaSize), &frames.Lines, e.cache, e.stderr
			if cfg.Module != "" {
				cfg.Args = []string{"sha256"}
			} else {
				cfg.Command = append(cfg.Command, "sha256")
			}
			pair[j] = &bcase{name: fmt.Sprintf("%s, %d kid(s)", k.name, jobs), skip: k.skip,
				run: func() ([]float64, error) {
					c0 := cpuNow()
					t, err := pass(e.ctx, cfg, shaRequests(n), true)
					self, kids := c0.since()
					if err == nil && (t.replies != n || t.sum != want) {
						err = fmt.Errorf("%d replies with checksum %x, want %d with %x", t.replies, t.sum, n, want)
					}
					return []float64{t.total.Seconds(), (self + kids).Seconds(), self.Seconds()}, err
				}}
			all = append(all, pair[j])
		}
		cases = append(cases, pair)
	}
	measure(e, "cpu", all, func(m []float64) string {
		return fmt.Sprintf("%.3f s, %.0f MB/s, CPU %.3f s (this process %.3f)", m[0], float64(n*shaSize)/m[0]/1e6, m[1], m[2])
	})
	rep.failed(all...)

	mbs := func(c *bcase) float64 { return float64(n*shaSize) / c.med(0) / 1e6 }
	t := &table{
		title: "CPU-bound work: SHA-256 of 4 KiB requests",
		note: fmt.Sprintf("%d requests of 4 KiB (%.0f MB), fixed:4096 framing, one hex digest line per reply; wall time from creating the pool to the last reply. "+
			"Speed-up = time with 1 kid ÷ time with 2. CPU s = user + system time of the parent and the kids (the parent's share in brackets: "+
			"framing, pipes, and the pool's own SHA-256-free bookkeeping). The last two columns compare the same number of kids (1) with the native kids.", n, float64(n*shaSize)/1e6),
		head: []string{"case", "1 kid, s", "2 kids, s", "speed-up 1→2", "MB/s, 2 kids", "2 kids: CPU s (parent's)", "1 kid ÷ native Go purego", "1 kid ÷ native Go (asm)"},
	}
	var bars []bar
	pure, asm := cases[4][0], cases[5][0]
	for i, k := range kinds {
		c1, c2 := cases[i][0], cases[i][1]
		t.rows = append(t.rows, []string{k.name + " (" + k.note + ")", cell(c1, 0, "%.2f"), cell(c2, 0, "%.2f"),
			ratioCell(c1.med(0), c2.med(0)), num(mbs(c2), "%.0f"), cell(c2, 1, "%.2f") + " (" + cell(c2, 2, "%.2f") + ")",
			ratioCell(c1.med(0), pure.med(0)), ratioCell(c1.med(0), asm.med(0))})
		if c2.ok() {
			bars = append(bars, bar{label: k.name + ", 2 kids", value: mbs(c2)})
		}
	}
	rep.tables = append(rep.tables, t)
	rep.panels = append(rep.panels, panel{title: "SHA-256 of 4 KiB requests, 2 kids: MB/s (higher is better)", unit: "MB/s", bars: bars})
	rep.target("CPU-bound, C guest: speed-up from 1 to 2 kids ≥ 1.8×", cases[0][0].med(0)/cases[0][1].med(0), -1.8, "%.2f×")
	rep.target("CPU-bound, Go guest: speed-up from 1 to 2 kids ≥ 1.8×", cases[2][0].med(0)/cases[2][1].med(0), -1.8, "%.2f×")
	rep.target("CPU-bound, C guest (wasm) within 1.5× of native Go doing the same work (its portable SHA-256: -tags purego), 1 kid", cases[0][0].med(0)/pure.med(0), 1.5, "%.2f×")
	rep.target("CPU-bound, Rust guest (wasm) within 1.5× of native Go doing the same work (its portable SHA-256: -tags purego), 1 kid", cases[1][0].med(0)/pure.med(0), 1.5, "%.2f×")
	rep.target("Beyond the issue: CPU-bound, C guest (wasm) within 1.5× of native Go with its SHA-NI assembly, 1 kid", cases[0][0].med(0)/asm.med(0), 1.5, "%.2f×")
}
