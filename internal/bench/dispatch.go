package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

//go:embed pypool.py
var pyPool []byte

// pipeSize is the pipe capacity of the raw floor, the pool's default.
const pipeSize = 256 << 10

// ppKind is one way of running procpool's ppBench: n jobs of size bytes
// each answered with as many bytes, through jobs kids. It returns the
// total wall time per job, kid start included, and the steady-state time
// per job (from the first reply on).
type ppKind struct {
	name, note string
	skip       string
	nDiv       int // runs n/nDiv jobs (a slow competitor)
	run        func(payload []byte, jobs, n int) (total, steady time.Duration, err error)
}

func benchDispatch(e *env, rep *report) {
	n := 500_000
	if e.smoke {
		n = 5_000
	}
	pool := func(cfg host.Config) func([]byte, int, int) (time.Duration, time.Duration, error) {
		return func(payload []byte, jobs, n int) (time.Duration, time.Duration, error) {
			cfg := cfg
			cfg.Kids, cfg.Framing, cfg.CacheDir, cfg.Stderr = jobs, frames.Lines, e.cache, e.stderr
			t, err := pass(e.ctx, cfg, repeat(payload, n), false)
			if err == nil && (t.replies != n || t.bytes != int64(n*len(payload))) {
				err = fmt.Errorf("%d replies of %d bytes in all, want %d of %d bytes each", t.replies, t.bytes, n, len(payload))
			}
			return t.total, t.total - t.newDur - t.first, err
		}
	}
	cat, _ := exec.LookPath("cat") // host.Config.Command takes a path
	floorKind := &ppKind{name: "raw floor: Go ↔ `cat` over pipes", note: "batched writes, each reply cut; no pool", skip: e.missing("cat"),
		run: func(payload []byte, jobs, n int) (time.Duration, time.Duration, error) {
			return catFloor(e.ctx, payload, jobs, n)
		}}
	cGuest := &ppKind{name: "wasmpool, C guest (wasm)", skip: e.missing("c-wasm"),
		run: pool(host.Config{Module: e.cWasm, Args: []string{"echo"}})}
	cBatch := &ppKind{name: "wasmpool, C guest (wasm), batch instances", note: "the same module, a fresh instance per batch of jobs", skip: e.missing("c-wasm"),
		run: pool(host.Config{Module: e.cWasm, Args: []string{"echo"}, Instances: host.BatchInstances})}
	python1 := &ppKind{name: "Python Pool.imap_unordered, chunksize 1", skip: e.missing("python3"), nDiv: 5,
		run: func(payload []byte, jobs, n int) (time.Duration, time.Duration, error) {
			return pythonPool(e, len(payload), jobs, n, 1)
		}}
	python1024 := &ppKind{name: "Python Pool.imap_unordered, chunksize 1024", skip: e.missing("python3"),
		run: func(payload []byte, jobs, n int) (time.Duration, time.Duration, error) {
			return pythonPool(e, len(payload), jobs, n, 1024)
		}}
	kinds := []*ppKind{
		cGuest, cBatch,
		{name: "wasmpool, Go guest (wasm)", skip: e.missing("go-wasm"),
			run: pool(host.Config{Module: e.goWasm, Args: []string{"echo"}})},
		{name: "wasmpool, Rust guest (wasm)", skip: e.missing("rust-wasm"),
			run: pool(host.Config{Module: e.rustWasm, Args: []string{"echo"}})},
		{name: "wasmpool, native Go kid", note: "same dispatch loop, no sandbox", skip: e.missing("native-go"),
			run: pool(host.Config{Command: []string{e.nativeGo, "echo"}})},
		{name: "wasmpool, `cat` as the kid", note: "same dispatch loop, the cheapest kid", skip: e.missing("cat"),
			run: pool(host.Config{Command: []string{cat}})},
		floorKind,
		python1, python1024,
	}
	type key struct {
		kind       *ppKind
		size, jobs int
	}
	cases := map[key]*bcase{}
	var all []*bcase
	for _, size := range []int{1, 100} {
		payload := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 4)[:size]
		for _, jobs := range []int{1, 2} {
			for _, k := range kinds {
				n := n / max(k.nDiv, 1)
				c := &bcase{name: fmt.Sprintf("%s, %d-byte jobs, %d kid(s)", k.name, size, jobs), skip: k.skip,
					run: func() ([]float64, error) {
						c0 := cpuNow()
						total, steady, err := k.run(payload, jobs, n)
						self, kids := c0.since()
						per := func(d time.Duration) float64 { return float64(d) / float64(n) }
						return []float64{per(total), per(steady), per(self + kids), per(self)}, err
					}}
				cases[key{k, size, jobs}] = c
				all = append(all, c)
			}
		}
	}
	measure(e, "dispatch", all, func(m []float64) string {
		return fmt.Sprintf("%.0f ns/job (steady %.0f), CPU %.0f ns/job (this process %.0f)", m[0], m[1], m[2], m[3])
	})

	for _, size := range []int{1, 100} {
		floor := func(jobs int) float64 { return cases[key{floorKind, size, jobs}].med(0) }
		best := math.Min(floor(1), floor(2))
		t := &table{
			title: fmt.Sprintf("Dispatch overhead per job, %d-byte requests and replies", size),
			head:  []string{"case", "1 kid, ns/job", "2 kids, ns/job", "2 kids, steady ns/job", "2 kids ÷ raw floor", "2 kids, CPU ns/job", "runs (2 kids, min–max ns/job)"},
		}
		var bars []bar
		for _, k := range kinds {
			c1, c2 := cases[key{k, size, 1}], cases[key{k, size, 2}]
			name := k.name
			if k.note != "" {
				name += " (" + k.note + ")"
			}
			if k.nDiv > 1 {
				name += fmt.Sprintf(" [n = %d]", n/k.nDiv)
			}
			t.rows = append(t.rows, []string{name, cell(c1, 0, "%.0f"), cell(c2, 0, "%.0f"), cell(c2, 1, "%.0f"),
				ratioCell(c2.med(0), best), cell(c2, 2, "%.0f"), spreadCell(c2, 0)})
			if c2.ok() {
				bars = append(bars, bar{label: k.name, value: c2.med(0)})
			}
		}
		t.note = fmt.Sprintf("n = %d jobs (procpool's ppBench), lines framing; ns/job = wall time from creating the pool (compile from a warm cache, kid start) to the last reply, ÷ n; steady = from the first reply on. Raw floor = the lower of one and two `cat`s. "+
			"CPU ns/job = user + system CPU time of every process involved (parent and kids) ÷ n: less sensitive than wall time to other load on the machine.", n)
		rep.tables = append(rep.tables, t)
		rep.panels = append(rep.panels, panel{title: fmt.Sprintf("ppBench, %d-byte jobs, 2 kids: ns per job (log scale, lower is better)", size), unit: "ns", log: true, bars: bars})
		rep.failed(all...)
		if size != 1 {
			continue
		}
		c2, batch2 := cases[key{cGuest, size, 2}], cases[key{cBatch, size, 2}]
		py1, py1024 := cases[key{python1, size, 2}], cases[key{python1024, size, 2}]
		rep.target("Dispatch, C guest, 2 kids, 1-byte jobs ≤ 2× the raw pipe floor", c2.med(0)/best, 2, "%.2f×")
		rep.target("Dispatch, C guest, batch instances, 2 kids, 1-byte jobs ≤ 2× the raw pipe floor", batch2.med(0)/best, 2, "%.2f×")
		rep.target("Dispatch, C guest, 2 kids ≤ 1/200 of Python Pool, chunksize 1", py1.med(0)/c2.med(0), -200, "1/%.0f")
		rep.target("Dispatch, C guest, 2 kids < Python Pool, chunksize 1024", c2.med(0)/py1024.med(0), 1, "%.2f×")
	}
}

// catFloor is the raw floor of a pool: jobs `cat` processes, each fed by a
// goroutine that frames requests into 64 KiB writes, each read by a
// goroutine that cuts every reply out of 256 KiB reads. No poll loop, no
// bookkeeping, no iterator: what moving framed jobs through a kid and back
// costs at least.
func catFloor(ctx context.Context, payload []byte, jobs, n int) (total, steady time.Duration, err error) {
	t0 := time.Now()
	type result struct {
		first   time.Time
		replies int
		err     error
	}
	results := make(chan result, jobs)
	for j := range jobs {
		share := n / jobs
		if j == jobs-1 {
			share += n % jobs
		}
		cmd := exec.CommandContext(ctx, "cat")
		inR, in, err := os.Pipe()
		if err != nil {
			return 0, 0, err
		}
		out, outW, err := os.Pipe()
		if err != nil {
			inR.Close()
			in.Close()
			return 0, 0, err
		}
		growPipe(in)
		growPipe(out)
		cmd.Stdin, cmd.Stdout = inR, outW
		err = cmd.Start()
		inR.Close()
		outW.Close()
		if err != nil {
			in.Close()
			out.Close()
			return 0, 0, err
		}
		go func() {
			buf := make([]byte, 0, 64<<10+len(payload)+1)
			for range share {
				buf = append(buf, payload...)
				buf = append(buf, '\n')
				if len(buf) >= 64<<10 {
					if _, err := in.Write(buf); err != nil {
						break
					}
					buf = buf[:0]
				}
			}
			in.Write(buf)
			in.Close()
		}()
		go func() {
			var r result
			buf := make([]byte, 256<<10)
			start, end := 0, 0
			for {
				m, err := out.Read(buf[end:])
				end += m
				for start < end {
					i := bytes.IndexByte(buf[start:end], '\n')
					if i < 0 {
						break
					}
					if r.replies == 0 {
						r.first = time.Now()
					}
					if i != len(payload) {
						r.err = fmt.Errorf("cat replied %d bytes, want %d", i, len(payload))
					}
					r.replies++
					start += i + 1
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					r.err = err
					break
				}
				end = copy(buf, buf[start:end])
				start = 0
			}
			out.Close()
			if err := cmd.Wait(); err != nil && r.err == nil {
				r.err = err
			}
			if r.err == nil && r.replies != share {
				r.err = fmt.Errorf("cat gave %d replies, want %d", r.replies, share)
			}
			results <- r
		}()
	}
	var first time.Time
	for range jobs {
		r := <-results
		if r.err != nil && err == nil {
			err = r.err
		}
		if first.IsZero() || r.first.Before(first) {
			first = r.first
		}
	}
	end := time.Now()
	return end.Sub(t0), end.Sub(first), err
}

// growPipe sets the capacity of the pipe behind f, as the pool does.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize) })
	}
}

// pythonPool runs pypool.py: Python's multiprocessing.Pool.imap_unordered
// over n jobs of size bytes, echoed by jobs worker processes.
func pythonPool(e *env, size, jobs, n, chunk int) (total, steady time.Duration, err error) {
	script := filepath.Join(e.tmp, "pypool.py")
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(script, pyPool, 0o644); err != nil {
			return 0, 0, err
		}
	}
	cmd := exec.CommandContext(e.ctx, e.python, script, strconv.Itoa(n), strconv.Itoa(size), strconv.Itoa(jobs), strconv.Itoa(chunk))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("python3 pypool.py: %v: %s", err, firstLine(stderr.String()))
	}
	f := strings.Fields(string(out))
	if len(f) != 4 {
		return 0, 0, fmt.Errorf("python3 pypool.py printed %q", out)
	}
	var v [4]int64
	for i := range f {
		if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("python3 pypool.py printed %q", out)
		}
	}
	if v[0] != int64(n) || v[1] != int64(n*size) {
		return 0, 0, fmt.Errorf("python: %d replies of %d bytes in all, want %d of %d bytes each", v[0], v[1], n, size)
	}
	return time.Duration(v[2]), time.Duration(v[3]), nil
}
