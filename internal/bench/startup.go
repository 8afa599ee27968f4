package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

// start is one pool start with one kid, measured by startup.
type start struct {
	newDur time.Duration // host.New: compile (from the cache or not) and fork/exec the kid
	kid    time.Duration // from New's return to the first reply
	minflt int64         // the kid's minor page faults from its exec to its first reply
	majflt int64         // and its major page faults (file pages read from disk)
}

// startup measures one pool start with one kid: host.New (compile, from
// the cache or not, and fork/exec of the kid), then the time from New's
// return to the first reply (the kid loads the compiled module,
// instantiates it, and the guest answers one request), and the page
// faults the kid took until then: read from /proc/PID/stat as soon as the
// reply is in, while the kid waits for its next request (the request
// source holds its end until then, so the kid is alive to be read).
func startup(ctx context.Context, cfg host.Config) (start, error) {
	var s start
	cfg.Kids, cfg.Framing = 1, frames.Lines
	before := children()
	t0 := time.Now()
	pool, err := host.New(ctx, cfg)
	if err != nil {
		return s, err
	}
	defer pool.Close()
	t1 := time.Now()
	s.newDur = t1.Sub(t0)
	var pids []int
	for pid := range children() {
		if !before[pid] {
			pids = append(pids, pid)
		}
	}
	if len(pids) != 1 {
		return s, fmt.Errorf("found %d new child processes, want 1 kid", len(pids))
	}
	replied := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(replied) }) }
	defer release()
	// (An open source lets the pool hold the request up to 0.2 ms for
	// more; the kid takes milliseconds to start reading, so the first
	// reply is not later for it.)
	requests := func(yield func([]byte) bool) {
		if yield([]byte("x")) {
			<-replied // then the end of the requests: the kid exits
		}
	}
	replies := 0
	for r, err := range pool.Run(ctx, requests) {
		if err != nil {
			return s, err
		}
		if replies == 0 {
			s.kid = time.Since(t1)
			s.minflt, s.majflt, err = faults(pids[0])
			if err != nil {
				return s, err
			}
			release()
		}
		if replies++; string(r.Data) != "x" {
			return s, fmt.Errorf("reply %q, want %q", r.Data, "x")
		}
	}
	if replies != 1 {
		return s, fmt.Errorf("%d replies, want 1", replies)
	}
	return s, nil
}

// faults returns the minor and major page faults of process pid so far,
// all its threads together (fields 10 and 12 of /proc/PID/stat).
func faults(pid int) (minflt, majflt int64, err error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, 0, err
	}
	return f[statMinflt], f[statMajflt], nil
}

// Fields of /proc/PID/stat, counted from its third (state) as procStat
// returns them.
const (
	statMinflt  = 7  // minor page faults, all threads
	statCminflt = 8  // those of the children waited for
	statMajflt  = 9  // major page faults
	statUtime   = 11 // user CPU time, clock ticks
	statStime   = 12 // system CPU time
	statCutime  = 13 // user CPU time of the children waited for
	statCstime  = 14 // their system CPU time
)

// procStat reads the numeric fields of /proc/PID/stat after the command
// name, up to cstime: f[statMinflt] and so on (the state, f[0], reads as 0).
func procStat(pid int) ([]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	// pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt ...
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: cannot parse %q", pid, b)
	}
	words := strings.Fields(string(b[i+1:]))
	if len(words) <= statCstime {
		return nil, fmt.Errorf("/proc/%d/stat: cannot parse %q", pid, b)
	}
	f := make([]int64, statCstime+1) // later fields can overflow an int64 (rsslim)
	for j, w := range words[1 : statCstime+1] {
		if f[j+1], err = strconv.ParseInt(w, 10, 64); err != nil {
			return nil, fmt.Errorf("/proc/%d/stat: field %d: %v", pid, j+4, err)
		}
	}
	return f, nil
}

// faultCost measures what one page fault costs this process: it maps
// pages fresh anonymous pages (no transparent huge pages), writes one
// byte to each (each write faults: the kernel allocates and zeroes a page
// and maps it), then writes to each again (no fault). It returns the time
// per page of both passes, in µs, and the minor faults the first pass took per
// page (1 when every page faulted once, as it should).
func faultCost(pages int) (freshUs, againUs, perPage float64, err error) {
	runtime.LockOSThread() // RUSAGE_THREAD counts this thread's faults
	defer runtime.UnlockOSThread()
	ps := os.Getpagesize()
	b, err := unix.Mmap(-1, 0, pages*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return 0, 0, 0, err
	}
	defer unix.Munmap(b)
	unix.Madvise(b, unix.MADV_NOHUGEPAGE) // best effort: one fault per 4 KiB page
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
	t0 := time.Now()
	for i := 0; i < len(b); i += ps {
		b[i] = 1
	}
	t1 := time.Now()
	unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
	for i := 0; i < len(b); i += ps {
		b[i] = 2
	}
	t2 := time.Now()
	n := float64(pages)
	return us(t1.Sub(t0)) / n, us(t2.Sub(t1)) / n, float64(ru1.Minflt-ru0.Minflt) / n, nil
}

// coldCache returns a new, empty compilation cache directory.
func coldCache(e *env) (string, func(), error) {
	dir, err := os.MkdirTemp(e.tmp, "cold-")
	return dir, func() { os.RemoveAll(dir) }, err
}

// cliFirstReply starts the CLI with one kid on a one-line input and
// measures from process start to the reply line on its stdout.
func cliFirstReply(e *env, module string) (time.Duration, error) {
	cmd := exec.CommandContext(e.ctx, e.cli, "run", "-j", "1", "--frames", "lines", module, "--", "echo")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+e.xdg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// One request, then EOF: what `echo x | wasmpool run` does. (Early
	// pools held requests until a batch filled or the input ended; this
	// measure does not depend on how soon a request is passed on.)
	if _, err := stdin.Write([]byte("x\n")); err != nil {
		return 0, err
	}
	stdin.Close()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	d := time.Since(t0)
	werr := cmd.Wait()
	if err == nil && line != "x\n" {
		err = fmt.Errorf("first reply %q, want %q", line, "x\n")
	}
	if err = errors.Join(err, werr); err != nil {
		return 0, fmt.Errorf("wasmpool run: %v: %s", err, firstLine(stderr.String()))
	}
	return d, nil
}

func benchStartup(e *env, rep *report) {
	type kind struct {
		name, skip string
		cfg        host.Config
		module     string // for the CLI case
	}
	const tinyName = "tiny Go kid (reference: a Go program that only echoes; no wasm, no compile)"
	kinds := []kind{
		{name: "C guest", skip: e.missing("c-wasm"), cfg: host.Config{Module: e.cWasm, Args: []string{"echo"}}, module: e.cWasm},
		{name: "Go guest", skip: e.missing("go-wasm"), cfg: host.Config{Module: e.goWasm, Args: []string{"echo"}}, module: e.goWasm},
		{name: "Rust guest", skip: e.missing("rust-wasm"), cfg: host.Config{Module: e.rustWasm, Args: []string{"echo"}}, module: e.rustWasm},
		{name: "native Go kid (no wasm, no compile)", skip: e.missing("native-go"), cfg: host.Config{Command: []string{e.nativeGo, "echo"}}},
		{name: tinyName, skip: e.missing("tiny-go"), cfg: host.Config{Command: []string{e.tinyGo}}},
		{name: "native C kid (no wasm, no compile)", skip: e.missing("native-c"), cfg: host.Config{Command: []string{e.nativeC, "echo"}}},
	}
	// metrics: New ms, New's return → first reply ms, total ms, the kid's
	// minor and major page faults until its first reply
	lib := func(k kind, cold bool) func() ([]float64, error) {
		return func() ([]float64, error) {
			cfg := k.cfg
			cfg.CacheDir, cfg.Stderr = e.cache, e.stderr
			if cold {
				dir, done, err := coldCache(e)
				if err != nil {
					return nil, err
				}
				defer done()
				cfg.CacheDir = dir
			}
			// The yardstick divides every other row: it gets the middle of
			// several starts per run, so that one start slowed by other
			// load on the machine does not move every ratio.
			n := 1
			if k.name == tinyName {
				n = 5
			}
			var starts []start
			for range n {
				s, err := startup(e.ctx, cfg)
				if err != nil {
					return nil, err
				}
				starts = append(starts, s)
			}
			slices.SortFunc(starts, func(a, b start) int { return cmp.Compare(a.kid, b.kid) })
			s := starts[n/2]
			return []float64{ms(s.newDur), ms(s.kid), ms(s.newDur + s.kid), float64(s.minflt), float64(s.majflt)}, nil
		}
	}
	type row struct {
		label string
		c     *bcase
	}
	var rows []row
	var all []*bcase
	add := func(label string, c *bcase) {
		rows = append(rows, row{label, c})
		all = append(all, c)
	}
	warm := map[string]*bcase{}
	cold := map[string]*bcase{}
	for _, k := range kinds {
		if k.cfg.Module != "" {
			cold[k.name] = &bcase{name: k.name + ", cold cache", skip: k.skip, run: lib(k, true)}
			add(k.name+", cold cache (compile)", cold[k.name])
		}
		warm[k.name] = &bcase{name: k.name + ", warm cache", skip: k.skip, run: lib(k, false)}
		label := k.name
		if k.cfg.Module != "" {
			label += ", warm cache"
		}
		add(label, warm[k.name])
	}
	for _, k := range kinds[:2] {
		k := k
		add("`wasmpool run -j 1`, "+k.name+", warm cache: process start → first reply", &bcase{
			name: "CLI, " + k.name, skip: e.missing("cli", map[string]string{"C guest": "c-wasm", "Go guest": "go-wasm"}[k.name]),
			run: func() ([]float64, error) {
				d, err := cliFirstReply(e, k.module)
				nan := math.NaN()
				return []float64{nan, nan, ms(d), nan, nan}, err
			}})
	}
	// What one page fault costs here, measured between the start-ups of
	// the same runs. metrics: µs per page written fresh (a fault each), µs
	// per page written again (no fault), faults per fresh page.
	const faultPages = 1024
	fault := &bcase{name: "page fault cost", run: func() ([]float64, error) {
		fresh, again, per, err := faultCost(faultPages)
		return []float64{fresh, again, per}, err
	}}
	measure(e, "startup", append(all[:len(all):len(all)], fault), func(m []float64) string {
		if len(m) == 3 {
			return fmt.Sprintf("%.2f µs per fresh page, %.3f µs written again, %.2f faults per page", m[0], m[1], m[2])
		}
		return fmt.Sprintf("New %.1f ms, then first reply %.1f ms (%.0f minor, %.0f major page faults), total %.1f ms", m[0], m[1], m[3], m[4], m[2])
	})
	rep.failed(append(all, fault)...)

	// The reference: what starting a Go process and answering costs on
	// this machine, with nothing of wasmpool's in the kid.
	tiny := warm[tinyName]
	faultUs := math.NaN() // one page fault, µs
	if fault.ok() && fault.med(2) > 0.5 {
		faultUs = (fault.med(0) - fault.med(1)) / fault.med(2)
	}
	major := 0.0
	for _, c := range all {
		if c.ok() && !math.IsNaN(c.med(4)) {
			major = max(major, c.med(4))
		}
	}
	note := "New = host.New: compile the module in the parent (cold: compile and write the cache; warm: load it from the file cache) and fork/exec the kid. " +
		"Kid = from New's return to the first reply: the kid's Go runtime starts, loads the compiled module from the cache, instantiates it, and the guest answers one request " +
		"(the fork/exec itself is inside New: about the native kids' New). " +
		"The tiny Go kid (internal/bench/tinykid: imports only os, copies stdin to stdout) is the yardstick: its kid time is what starting any Go program costs on this machine, " +
		"and the ÷ column divides each kid time by it, a ratio that carries from machine to machine better than milliseconds do (the tiny kid's figure is the middle of 5 starts per run). " +
		"Page faults = the kid's minor faults from exec to its first reply (/proc/PID/stat, read as the reply arrives), in brackets ÷ the tiny Go kid's: " +
		"counted, not timed, so unmoved by load or by what a fault costs (they follow the kernel, the binaries and, a little, the number of CPUs)"
	if major > 0 {
		note += fmt.Sprintf(", plus up to %.0f major faults (pages read from disk) in a median run", major)
	}
	note += "; ms in faults = faults × the cost of one fault here"
	if !math.IsNaN(faultUs) {
		note += fmt.Sprintf(" (%.1f µs: writing %d fresh anonymous pages took %.2f µs a page, %.2f faults a page, writing them again %.3f µs a page; "+
			"bare metal takes well under 1 µs, a guest whose page tables the hypervisor keeps, as under PVM, tens)", faultUs, faultPages, fault.med(0), fault.med(2), fault.med(1))
	}
	note += ": a rough share of the kid time spent in the kernel mapping memory (rough: faults on file pages the kernel has cached cost somewhat less, " +
		"and a kid whose threads fault on several CPUs at once, as the Go guest's do, can spend more than its wall time). Median of the runs."
	t := &table{
		title: "Kid start-up (one kid, one request)",
		note:  note,
		head: []string{"case", "New (compile + exec), ms", "kid: exec → first reply, ms", "kid ÷ tiny Go kid's", "kid's page faults to first reply",
			"≈ ms in those faults", "total to first reply, ms", "runs (min–max total ms)"},
	}
	var bars []bar
	for _, r := range rows {
		ratio := r.c.med(1) / tiny.med(1)
		faultCell := cell(r.c, 3, "%.0f")
		if fr := r.c.med(3) / tiny.med(3); !math.IsNaN(fr) && r.c != tiny {
			faultCell += fmt.Sprintf(" (%.1f×)", fr)
		}
		t.rows = append(t.rows, []string{r.label, cell(r.c, 0, "%.1f"), cell(r.c, 1, "%.1f"), num(ratio, "%.1f×"), faultCell,
			num(r.c.med(3)*faultUs/1000, "%.1f"), cell(r.c, 2, "%.1f"), spreadCellf(r.c, 2, "%.1f")})
		if r.c.ok() {
			label := strings.ReplaceAll(r.c.name, " (no wasm, no compile)", "")
			label = strings.Replace(label, tinyName, "tiny Go kid", 1)
			bars = append(bars, bar{label: label, value: r.c.med(2)})
		}
	}
	rep.tables = append(rep.tables, t)
	rep.panels = append(rep.panels, panel{title: "Start-up: ms to the first reply (log scale, lower is better)", unit: "ms", log: true, bars: bars})
	// The targets are absolute, derived from a tiny Go binary's
	// fork+exec+reply of ~1 ms on the reference machine (5 ms and 40 ms);
	// the same ratios against the tiny Go kid of this run carry to a
	// machine where creating a process costs more (or less).
	rep.target("Kid start-up, C guest, warm cache: exec → first reply ≤ 5 ms", warm["C guest"].med(1), 5, "%.1f ms")
	rep.target("Kid start-up, C guest, warm cache: exec → first reply ≤ 5× a tiny Go kid's in the same run", warm["C guest"].med(1)/tiny.med(1), 5, "%.1f×")
	rep.target("Kid start-up, Go guest, warm cache: exec → first reply ≤ 40 ms", warm["Go guest"].med(1), 40, "%.1f ms")
	rep.target("Kid start-up, Go guest, warm cache: exec → first reply ≤ 40× a tiny Go kid's in the same run", warm["Go guest"].med(1)/tiny.med(1), 40, "%.1f×")
}

func benchMemory(e *env, rep *report) {
	type kind struct {
		name, skip string
		cfg        host.Config
	}
	kinds := []kind{
		{name: "C guest (wasm)", skip: e.missing("c-wasm"), cfg: host.Config{Module: e.cWasm, Args: []string{"echo"}}},
		{name: "Go guest (wasm)", skip: e.missing("go-wasm"), cfg: host.Config{Module: e.goWasm, Args: []string{"echo"}}},
		{name: "Rust guest (wasm)", skip: e.missing("rust-wasm"), cfg: host.Config{Module: e.rustWasm, Args: []string{"echo"}}},
		{name: "native Go kid", skip: e.missing("native-go"), cfg: host.Config{Command: []string{e.nativeGo, "echo"}}},
		{name: "native C kid", skip: e.missing("native-c"), cfg: host.Config{Command: []string{e.nativeC, "echo"}}},
	}
	var cases []*bcase
	for _, k := range kinds {
		cfg := k.cfg
		cfg.Kids, cfg.CacheDir, cfg.Stderr = 2, e.cache, e.stderr
		cases = append(cases, &bcase{name: k.name, skip: k.skip, run: func() ([]float64, error) {
			return idleMemory(e.ctx, cfg)
		}})
	}
	// The kids of the CLI as users build it, and built without cgo: the
	// host program's size and linking are part of a kid's memory.
	for _, v := range []struct{ name, cli, tool string }{
		{"C guest, kids of `wasmpool run` (go build)", e.cli, "cli"},
		{"C guest, kids of `wasmpool run` (CGO_ENABLED=0 go build)", e.cliStatic, "cli-static"},
	} {
		cases = append(cases, &bcase{name: v.name, skip: e.missing(v.tool, "c-wasm"), run: func() ([]float64, error) {
			return cliIdleMemory(e, v.cli, e.cWasm)
		}})
	}
	measure(e, "memory", cases, func(m []float64) string {
		return fmt.Sprintf("%.1f MiB RSS per idle kid (PSS %.1f, anonymous %.1f)", m[0], m[1], m[2])
	})
	rep.failed(cases...)
	t := &table{
		title: "Memory: resident set of an idle kid",
		note: "VmRSS of each kid process of a 2-kid pool, once its guest has started and blocks reading its first request (median over kids and runs). " +
			"A wasm kid is the host program re-executed (here the benchmark binary): Go runtime, wazero, the compiled module and the guest's linear memory. " +
			"RSS counts the program's file pages that all kids share; PSS divides them among the processes that map them (what one more kid costs is between PSS and anonymous); " +
			"anonymous = heap, stacks, the guest's memory and the compiled code (private to the kid).",
		head: []string{"kid", "RSS, MiB", "PSS, MiB", "anonymous, MiB", "runs (min–max RSS MiB)"},
	}
	var bars []bar
	for _, c := range cases {
		t.rows = append(t.rows, []string{c.name, cell(c, 0, "%.1f"), cell(c, 1, "%.1f"), cell(c, 2, "%.1f"), spreadCellf(c, 0, "%.1f")})
		if c.ok() {
			bars = append(bars, bar{label: c.name, value: c.med(0)})
		}
	}
	rep.tables = append(rep.tables, t)
	rep.panels = append(rep.panels, panel{title: "Idle kid RSS: MiB (lower is better)", unit: "MiB", bars: bars})
	rep.target("Idle kid RSS, C guest ≤ 8 MiB", cases[0].med(0), 8, "%.1f MiB")
	rep.target("Idle kid RSS, C guest, kids of the CLI built with CGO_ENABLED=0 ≤ 8 MiB", cases[len(cases)-1].med(0), 8, "%.1f MiB")
	rep.target("Idle kid RSS, Go guest ≤ 40 MiB", cases[1].med(0), 40, "%.1f MiB")
}

// idleMemory starts a pool, waits until each kid blocks reading its
// requests, and returns the median Rss, Pss and Anonymous memory of the
// kids in MiB (from /proc/PID/smaps_rollup).
func idleMemory(ctx context.Context, cfg host.Config) ([]float64, error) {
	before := children()
	pool, err := host.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	var pids []int
	for pid := range children() {
		if !before[pid] {
			pids = append(pids, pid)
		}
	}
	if len(pids) != cfg.Kids {
		return nil, fmt.Errorf("found %d new child processes, want %d", len(pids), cfg.Kids)
	}
	return kidMemory(pids)
}

// kidMemory waits until each kid blocks reading its requests and returns
// the median Rss, Pss and Anonymous memory of the kids in MiB.
func kidMemory(pids []int) ([]float64, error) {
	fields := []string{"Rss", "Pss", "Anonymous"}
	mem := make([][]float64, len(fields))
	for _, pid := range pids {
		if err := waitIdle(pid, 10*time.Second); err != nil {
			return nil, err
		}
		for i, f := range fields {
			kb, err := procField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), f)
			if err != nil {
				return nil, err
			}
			mem[i] = append(mem[i], float64(kb)/1024)
		}
	}
	var m []float64
	for _, v := range mem {
		m = append(m, median(v))
	}
	return m, nil
}

// cliIdleMemory starts `wasmpool run -j 2` on module with an open, empty
// stdin, waits until its two kids block reading, and measures them as
// idleMemory does.
func cliIdleMemory(e *env, cli, module string) ([]float64, error) {
	cmd := exec.CommandContext(e.ctx, cli, "run", "-j", "2", "--frames", "lines", module, "--", "echo")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+e.xdg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	var pids []int
	for deadline := time.Now().Add(10 * time.Second); len(pids) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("wasmpool run: %d kids after 10 s, want 2: %s", len(pids), firstLine(stderr.String()))
		}
		pids = pids[:0]
		for pid := range childrenOf(fmt.Sprint(cmd.Process.Pid)) {
			pids = append(pids, pid)
		}
	}
	return kidMemory(pids)
}

// children returns the pids of this process's children.
func children() map[int]bool { return childrenOf("self") }

// childrenOf returns the pids of the children of process pid ("self" for
// this one).
func childrenOf(pid string) map[int]bool {
	pids := map[int]bool{}
	tasks, _ := filepath.Glob("/proc/" + pid + "/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids[pid] = true
			}
		}
	}
	return pids
}

// waitIdle waits until one of pid's threads is blocked in read(0, ...):
// the guest waits for its first request. Where /proc/PID/task/*/syscall
// cannot be read it waits until VmRSS stops changing.
func waitIdle(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last, same := int64(-1), 0
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
		readable := false
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			readable = true
			if strings.HasPrefix(string(b), "0 0x0 ") {
				time.Sleep(5 * time.Millisecond) // let the start-up's last page faults land
				return nil
			}
		}
		if !readable {
			kb, err := statusField(pid, "VmRSS")
			if err != nil {
				return err
			}
			if kb == last {
				if same++; same == 5 {
					return nil
				}
			} else {
				last, same = kb, 0
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("kid %d did not become idle within %v", pid, limit)
}

// statusField reads a "kB" field of /proc/PID/status.
func statusField(pid int, field string) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/status", pid), field)
}

// procField reads a "Field: N kB" line of a /proc file.
func procField(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s has no %s", path, field)
}
