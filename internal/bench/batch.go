package main

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/examples/ppbench/work"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// The batch case (issue 11): ordinary WASI programs, which know nothing
// of wasmpool, run under batch instances over 400 MB of 40-byte lines, by
// the CLI, from a file and through a pipe, against GNU parallel running
// the same programs built natively, and against the session path
// ("today"). The guests are in internal/bench/guests.

// streamRef sums up a stream of lines: how many, an order-free checksum
// (the sum of a hash of each line) and an ordered one (CRC-32 of the
// whole stream).
type streamRef struct {
	lines int
	sum   uint64
	crc   uint32
}

var refSeed = maphash.MakeSeed()

// add counts one line, given without its newline.
func (r *streamRef) add(line []byte) {
	r.lines++
	r.sum += maphash.Bytes(refSeed, line)
	r.crc = crc32.Update(r.crc, crc32.IEEETable, line)
	r.crc = crc32.Update(r.crc, crc32.IEEETable, []byte{'\n'})
}

// fileRef sums up the lines of the file at path.
func fileRef(path string) (streamRef, error) {
	var r streamRef
	f, err := os.Open(path)
	if err != nil {
		return r, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var carry []byte // a line begun in the last block
	for {
		n, err := f.Read(buf)
		b := buf[:n]
		r.crc = crc32.Update(r.crc, crc32.IEEETable, b)
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				carry = append(carry, b...)
				break
			}
			line := b[:i]
			if len(carry) > 0 {
				carry = append(carry, line...)
				line, carry = carry, carry[:0]
			}
			r.lines++
			r.sum += maphash.Bytes(refSeed, line)
			b = b[i+1:]
		}
		if err == io.EOF {
			if len(carry) > 0 { // a last line without its newline: counted (the CRC tells it apart)
				r.lines++
				r.sum += maphash.Bytes(refSeed, carry)
			}
			return r, nil
		}
		if err != nil {
			return r, err
		}
	}
}

// checkOutput compares the file at path with want: the same lines in any
// order, and in want's order if ordered.
func checkOutput(path string, want streamRef, ordered bool) error {
	got, err := fileRef(path)
	switch {
	case err != nil:
		return err
	case got.lines != want.lines || got.sum != want.sum:
		return fmt.Errorf("wrong output: %d lines (want %d), checksum %x (want %x)", got.lines, want.lines, got.sum, want.sum)
	case ordered && got.crc != want.crc:
		return fmt.Errorf("wrong output: the right lines in another order (CRC-32 %08x, want %08x)", got.crc, want.crc)
	}
	return nil
}

// hashRounds is the hashline guest's work per line: passes of FNV-1a.
const hashRounds = 32

// hashLine is what the hashline guest computes for a line.
func hashLine(line []byte, rounds int) uint64 {
	h := uint64(14695981039346656037)
	for range rounds {
		for _, c := range line {
			h ^= uint64(c)
			h *= 1099511628211
		}
	}
	return h
}

// batchInputs are the case's input files and what each guest must make
// of them.
type batchInputs struct {
	big, cpu         string // 400 MB of lines; the first lines of it, for the CPU-bound filter
	bigSize, cpuSize int64
	lines, cpuLines  int
	upper            streamRef // big, upper-cased
	same             streamRef // big itself
	hashed           streamRef // cpu, each line hashed by hashLine
}

func makeBatchInputs(dir string, lines, cpuLines int) (*batchInputs, error) {
	in := &batchInputs{big: filepath.Join(dir, "batch-lines.txt"), cpu: filepath.Join(dir, "batch-cpu.txt"), lines: lines, cpuLines: cpuLines}
	var up []byte
	var err error
	in.bigSize, err = writeLines(in.big, lines, func(line []byte) {
		in.same.add(line)
		up = work.Upper(up[:0], line)
		in.upper.add(up)
	})
	if err != nil {
		return nil, err
	}
	in.cpuSize, err = writeLines(in.cpu, cpuLines, func(line []byte) {
		up = fmt.Appendf(up[:0], "%016x", hashLine(line, hashRounds))
		in.hashed.add(up)
	})
	return in, err
}

// cmdline is one command line of the case, with where its stdin comes
// from: nothing (it reads its input itself), a file, or a pipe that cat
// fills from a file.
type cmdline struct {
	argv     []string
	env      []string
	stdin    string // a file for stdin
	catStdin string // a file that `cat FILE |` pipes into stdin
	// pipeOut makes stdout a pipe, which this process drains into the
	// output file, as the next command of a shell pipeline would read it
	pipeOut bool
}

// usage is what one run of a command cost: wall time and CPU time (user
// + system) of the command's own process, of the children it waited for
// (a pool's kids, parallel's jobs) and of cat, and the page faults of the
// first two.
type usage struct {
	wall                   time.Duration
	self, kids, cat        time.Duration
	selfSys, kidsSys       time.Duration
	selfFaults, kidsFaults int64
}

func (u usage) metrics() []float64 {
	return []float64{u.wall.Seconds(), u.self.Seconds(), u.kids.Seconds(), (u.self + u.kids + u.cat).Seconds(),
		u.selfSys.Seconds(), u.kidsSys.Seconds(), float64(u.selfFaults), float64(u.kidsFaults)}
}

// The metrics of a batch case, in the order of usage.metrics.
const (
	bmWall = iota
	bmSelf
	bmKids
	bmTotal
	bmSelfSys
	bmKidsSys
	bmSelfFaults
	bmKidsFaults
)

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// run runs c with its stdout to the file out. The command's process is
// waited for without being reaped first, to read its own CPU time and
// that of its reaped children apart from /proc/PID/stat.
func (c cmdline) run(out string) (usage, error) {
	var u usage
	stdout, err := os.Create(out)
	if err != nil {
		return u, err
	}
	defer stdout.Close()
	argv := c.argv
	if dir := os.Getenv("WASMPOOL_BENCH_PERF"); dir != "" {
		// Profiling: record the command and its children (figures are then
		// perf's, not the command's).
		data := filepath.Join(dir, fmt.Sprintf("%s-%d.data", filepath.Base(argv[0]), time.Now().UnixNano()))
		logf("perf: %s: %s", data, strings.Join(argv, " "))
		argv = append([]string{"perf", "record", "-g", "-F", "499", "-o", data, "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var drained chan error
	if c.pipeOut {
		pr, w, err := os.Pipe()
		if err != nil {
			return u, err
		}
		defer w.Close()
		cmd.Stdout = w // blocking in the command, as a shell's pipe is
		drained = make(chan error, 1)
		go func() {
			_, err := io.Copy(stdout, pr) // splice(2) into the file
			pr.Close()
			drained <- err
		}()
	}
	var cat *exec.Cmd
	var pw *os.File
	switch {
	case c.catStdin != "":
		pr, w, err := os.Pipe()
		if err != nil {
			return u, err
		}
		defer pr.Close()
		pw = w
		defer pw.Close()
		cat = exec.Command("cat", c.catStdin)
		cat.Stdout = pw
		cat.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		cmd.Stdin = pr
	case c.stdin != "":
		f, err := os.Open(c.stdin)
		if err != nil {
			return u, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	t0 := time.Now()
	if cat != nil {
		if err := cat.Start(); err != nil {
			return u, err
		}
		pw.Close()
		defer cat.Wait()
	}
	err = cmd.Start()
	if w, ok := cmd.Stdout.(*os.File); ok && drained != nil {
		w.Close() // the command's alone, so that the drain ends with it
	}
	if r, ok := cmd.Stdin.(*os.File); ok && cat != nil {
		r.Close() // the pipe's read end is the command's alone (cat ends on EPIPE without it)
	}
	if err != nil {
		return u, err
	}
	var info unix.Siginfo
	for {
		err = unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	u.wall = time.Since(t0)
	var st []int64
	if err == nil {
		st, err = procStat(cmd.Process.Pid)
	}
	werr := cmd.Wait()
	if cat != nil {
		cerr := cat.Wait()
		if cat.ProcessState != nil {
			u.cat = cat.ProcessState.UserTime() + cat.ProcessState.SystemTime()
		}
		if werr == nil && cerr != nil {
			werr = fmt.Errorf("cat: %v", cerr)
		}
		u.wall = max(u.wall, time.Since(t0))
	}
	if drained != nil {
		if derr := <-drained; werr == nil && derr != nil {
			werr = fmt.Errorf("draining its output: %v", derr)
		}
		u.wall = max(u.wall, time.Since(t0))
	}
	if werr != nil {
		return u, fmt.Errorf("%s: %v: %s", strings.Join(c.argv, " "), werr, firstLine(stderr.String()))
	}
	if err != nil {
		return u, fmt.Errorf("%s: reading its CPU time: %v", strings.Join(c.argv, " "), err)
	}
	tick := func(i ...int) time.Duration {
		var n int64
		for _, j := range i {
			n += st[j]
		}
		return time.Duration(n) * clockTick
	}
	u.self, u.kids = tick(statUtime, statStime), tick(statCutime, statCstime)
	u.selfSys, u.kidsSys = tick(statStime), tick(statCstime)
	u.selfFaults, u.kidsFaults = st[statMinflt], st[statCminflt]
	return u, nil
}

// filterLib runs a pool's Filter in this process from the file in to the
// file out: the library without the CLI around it.
func filterLib(e *env, cfg host.Config, in, out string) (usage, error) {
	var u usage
	src, err := os.Open(in)
	if err != nil {
		return u, err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return u, err
	}
	defer dst.Close()
	var ru0, ru1, ku0, ku1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	unix.Getrusage(unix.RUSAGE_CHILDREN, &ku0)
	t0 := time.Now()
	pool, err := host.New(e.ctx, cfg)
	if err != nil {
		return u, err
	}
	var first error
	for err := range pool.Filter(e.ctx, dst, src) {
		if first == nil {
			first = err
		}
	}
	err = errors.Join(first, pool.Close(), dst.Close())
	u.wall = time.Since(t0)
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	unix.Getrusage(unix.RUSAGE_CHILDREN, &ku1)
	tv := func(t unix.Timeval) time.Duration { return time.Duration(t.Nano()) }
	u.selfSys, u.kidsSys = tv(ru1.Stime)-tv(ru0.Stime), tv(ku1.Stime)-tv(ku0.Stime)
	u.self = tv(ru1.Utime) - tv(ru0.Utime) + u.selfSys
	u.kids = tv(ku1.Utime) - tv(ku0.Utime) + u.kidsSys
	u.selfFaults, u.kidsFaults = ru1.Minflt-ru0.Minflt, ku1.Minflt-ku0.Minflt
	return u, err
}

// batchBuilds are the case's programs, each as a wasm module and a native
// executable; an empty path comes with the reason in skip.
type batchBuilds struct {
	upper, upperLine, copy, hashline, goUpper                     string // wasm
	upperNative, upperLineNative, hashNative, goUpperNative       string
	upperSkip, upperLineSkip, copySkip, hashSkip, goSkip, natSkip string
}

func buildBatchGuests(e *env) batchBuilds {
	var b batchBuilds
	dir := filepath.Join(e.tmp, "bin-batch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.upperSkip = "fail: " + err.Error()
		b.upperLineSkip, b.copySkip, b.hashSkip, b.goSkip, b.natSkip = b.upperSkip, b.upperSkip, b.upperSkip, b.upperSkip, b.upperSkip
		return b
	}
	src := func(name string) string { return filepath.Join(e.root, "internal/bench/guests", name) }
	c := func(name string) func() (string, error) {
		return func() (string, error) { return guestbuild.C(dir, src(name), "-O2") }
	}
	b.upper, b.upperSkip = speedBuild(e, e.missing("cli-static"), c("upper.c"))
	b.upperLine, b.upperLineSkip = speedBuild(e, e.missing("cli-static"), c("upperline.c"))
	b.copy, b.copySkip = speedBuild(e, e.missing("cli-static"), c("copy.c"))
	b.hashline, b.hashSkip = speedBuild(e, e.missing("cli-static"), c("hashline.c"))
	b.goUpper, b.goSkip = speedBuild(e, e.missing("cli-static"), func() (string, error) {
		return guestbuild.Go(dir, "github.com/wasmpool/wasmpool/internal/bench/guests/goupper")
	})
	cc, err := exec.LookPath("cc")
	if err != nil {
		b.natSkip = "skipped: no cc for the native builds"
		return b
	}
	for _, n := range []struct {
		path *string
		src  string
	}{{&b.upperNative, "upper.c"}, {&b.upperLineNative, "upperline.c"}, {&b.hashNative, "hashline.c"}} {
		out := filepath.Join(dir, strings.TrimSuffix(n.src, ".c")+"-native")
		if err := command(e.root, nil, cc, "-O2", "-o", out, src(n.src)); err != nil {
			b.natSkip = "fail: " + err.Error()
			return b
		}
		*n.path = out
	}
	if b.goUpperNative, err = guestbuild.Native(dir, "github.com/wasmpool/wasmpool/internal/bench/guests/goupper"); err != nil {
		b.natSkip = "fail: " + err.Error()
	}
	return b
}

// outDir is where the case writes its outputs: a memory file system if
// there is one (/dev/shm), so that no run waits on the disk writing back
// the 400 MB the run before left (on this VM's ext4, writing the same
// 400 MB took from 0.1 to 1.5 s, at random); else dir.
func outDir(dir string) string {
	f, err := os.CreateTemp("/dev/shm", "wasmpool-bench-")
	if err != nil {
		return dir
	}
	f.Close()
	os.Remove(f.Name())
	return "/dev/shm"
}

// orSkip returns the first reason in whys that is not empty.
func orSkip(whys ...string) string {
	for _, w := range whys {
		if w != "" {
			return w
		}
	}
	return ""
}

func benchBatch(e *env, rep *report) {
	lines, cpuLines := 10_000_000, 1_000_000
	if e.smoke {
		lines, cpuLines = 100_000, 20_000
	}
	g := buildBatchGuests(e)
	logf("batch: writing %d lines", lines)
	in, err := makeBatchInputs(e.tmp, lines, cpuLines)
	if err != nil {
		rep.failures = append(rep.failures, "batch: "+err.Error())
		return
	}
	out := filepath.Join(outDir(e.tmp), fmt.Sprintf("wasmpool-bench-%d.out", os.Getpid()))
	defer os.Remove(out)
	cliEnv := []string{"XDG_CACHE_HOME=" + e.xdg}
	par := func(args ...string) []string {
		return append([]string{e.parallel, "--will-cite"}, args...)
	}
	// row makes a case of a command whose output must be want, in want's
	// order if ordered.
	row := func(name, note, skip string, c cmdline, want streamRef, ordered bool) *bcase {
		return &bcase{name: name, note: note, skip: skip, run: func() ([]float64, error) {
			u, err := c.run(out)
			if err == nil {
				err = checkOutput(out, want, ordered)
			}
			os.Remove(out)
			return u.metrics(), err
		}}
	}
	wp := func(args ...string) []string { return append([]string{e.cliStatic, "run"}, args...) }
	fromFile := func(argv ...string) cmdline { return cmdline{argv: argv, env: cliEnv} }
	throughPipe := func(argv ...string) cmdline { return cmdline{argv: argv, env: cliEnv, catStdin: in.big} }

	upSkip := orSkip(g.upperSkip)
	natSkip := orSkip(g.natSkip, e.missing("parallel"))
	todaySkip := orSkip(e.missing("cli-static", "c-wasm"))
	tr := row("`tr a-z A-Z` < FILE", "one process, the floor", e.missing("tr"), cmdline{argv: []string{"tr", "a-z", "A-Z"}, stdin: in.big}, in.upper, true)
	native := row("upper, native, one process < FILE", "cc -O2", g.natSkip, cmdline{argv: []string{g.upperNative}, stdin: in.big}, in.upper, true)
	pipepart := row("`parallel --pipepart -a FILE --block -1 -j2 -k` upper (native)", "the baseline", natSkip,
		fromFile(par("--pipepart", "-a", in.big, "--block", "-1", "-j2", "-k", g.upperNative)...), in.upper, true)
	pipe1M := row("`cat FILE | parallel --pipe -j2` upper (native)", "default 1 MB blocks", natSkip,
		throughPipe(par("--pipe", "-j2", g.upperNative)...), in.upper, false)
	pipe10M := row("`cat FILE | parallel --pipe --block 10M -j2 -k` upper (native)", "", natSkip,
		throughPipe(par("--pipe", "--block", "10M", "-j2", "-k", g.upperNative)...), in.upper, true)
	fileJ2 := row("`wasmpool run -j 2 -i FILE` upper.wasm", "batch instances", upSkip, fromFile(wp("-j", "2", "-i", in.big, g.upper)...), in.upper, false)
	fileK := row("`wasmpool run -j 2 -k -i FILE` upper.wasm", "batch instances, input order", upSkip, fromFile(wp("-j", "2", "-k", "-i", in.big, g.upper)...), in.upper, true)
	pipeJ2 := row("`cat FILE | wasmpool run -j 2` upper.wasm", "batch instances", upSkip, throughPipe(wp("-j", "2", g.upper)...), in.upper, false)
	pipeK := row("`cat FILE | wasmpool run -j 2 -k` upper.wasm", "batch instances, input order", upSkip, throughPipe(wp("-j", "2", "-k", g.upper)...), in.upper, true)
	todayFile := row("today: `wasmpool run -j 2 --instance session -i FILE` ppbench C -- upper", "the C SDK's line filter, session instances, Stream mode", todaySkip,
		fromFile(wp("-j", "2", "--instance", "session", "-i", in.big, e.cWasm, "--", "upper")...), in.upper, false)
	todayPipe := row("today: `cat FILE | wasmpool run -j 2 --instance session` ppbench C -- upper", "the same through a pipe", todaySkip,
		throughPipe(wp("-j", "2", "--instance", "session", e.cWasm, "--", "upper")...), in.upper, false)
	sessionOrdinary := row("`wasmpool run -j 2 --instance session -i FILE` upper.wasm", "the same ordinary program, session instances, Stream mode", upSkip,
		fromFile(wp("-j", "2", "--instance", "session", "-i", in.big, g.upper)...), in.upper, false)
	lineJ2 := row("`wasmpool run -j 2 -i FILE` upperline.wasm", "fgets/fputs, batch instances", g.upperLineSkip, fromFile(wp("-j", "2", "-i", in.big, g.upperLine)...), in.upper, false)
	linePar := row("`parallel --pipepart -a FILE --block -1 -j2 -k` upperline (native)", "fgets/fputs", natSkip,
		fromFile(par("--pipepart", "-a", in.big, "--block", "-1", "-j2", "-k", g.upperLineNative)...), in.upper, true)
	lib := &bcase{name: "library: Pool.Filter, 2 kids, upper.wasm, FILE to file", note: "batch instances, Stream mode, in this process", skip: upSkip,
		run: func() ([]float64, error) {
			cfg := host.Config{Module: g.upper, Kids: 2, Instances: host.BatchInstances, Framing: frames.Lines, Mode: host.Stream, CacheDir: e.cache, Stderr: e.stderr}
			u, err := filterLib(e, cfg, in.big, out)
			if err == nil {
				err = checkOutput(out, in.upper, false)
			}
			os.Remove(out)
			return u.metrics(), err
		}}
	upperCases := []*bcase{tr, native, pipepart, pipe1M, pipe10M, fileJ2, fileK, pipeJ2, pipeK, todayFile, todayPipe, sessionOrdinary, lib, lineJ2, linePar}

	goSkip := orSkip(g.goSkip)
	goK := row("`wasmpool run -j 2 -k -i FILE` goupper.wasm", "GOOS=wasip1, batch instances", goSkip, fromFile(wp("-j", "2", "-k", "-i", in.big, g.goUpper)...), in.upper, true)
	goPar := row("`parallel --pipepart -a FILE --block -1 -j2 -k` goupper (native)", "go build", natSkip,
		fromFile(par("--pipepart", "-a", in.big, "--block", "-1", "-j2", "-k", g.goUpperNative)...), in.upper, true)
	goNative := row("goupper, native, one process < FILE", "go build", g.natSkip, cmdline{argv: []string{g.goUpperNative}, stdin: in.big}, in.upper, true)
	goCases := []*bcase{goK, goPar, goNative}

	cat := row("`cat FILE`", "one process: the copy floor", e.missing("cat"), cmdline{argv: []string{"cat", in.big}}, in.same, true)
	copyJ2 := row("`wasmpool run -j 2 -i FILE` copy.wasm", "read/write 64 KiB", g.copySkip, fromFile(wp("-j", "2", "-i", in.big, g.copy)...), in.same, false)
	intoPipe := fromFile(wp("-j", "2", "-i", in.big, g.copy)...)
	intoPipe.pipeOut = true
	copyPipe := row("`wasmpool run -j 2 -i FILE | …` copy.wasm", "into a pipe", g.copySkip, intoPipe, in.same, false)
	hashArg := fmt.Sprint(hashRounds)
	hash1 := row("`wasmpool run -j 1 -i FILE` hashline.wasm", "", g.hashSkip, fromFile(wp("-j", "1", "-i", in.cpu, g.hashline, "--", hashArg)...), in.hashed, false)
	hash2 := row("`wasmpool run -j 2 -i FILE` hashline.wasm", "", g.hashSkip, fromFile(wp("-j", "2", "-i", in.cpu, g.hashline, "--", hashArg)...), in.hashed, false)
	hashNat := row("hashline, native, one process < FILE", "cc -O2", g.natSkip, cmdline{argv: []string{g.hashNative, hashArg}, stdin: in.cpu}, in.hashed, true)
	hashPar := row("`parallel --pipepart -a FILE --block -1 -j2 -k` hashline (native)", "", natSkip,
		fromFile(par("--pipepart", "-a", in.cpu, "--block", "-1", "-j2", "-k", g.hashNative, hashArg)...), in.hashed, true)
	parentCases := []*bcase{cat, copyJ2, copyPipe, hash1, hash2, hashNat, hashPar}

	all := append(append(append([]*bcase{}, upperCases...), goCases...), parentCases...)
	size := func(c *bcase) int64 {
		for _, p := range []*bcase{hash1, hash2, hashNat, hashPar} {
			if c == p {
				return in.cpuSize
			}
		}
		return in.bigSize
	}
	for _, c := range all {
		run := c.run
		c.run = func() ([]float64, error) {
			m, err := run()
			if err == nil {
				logf("batch: %s: %.0f MB/s; CPU s: parent %.2f (sys %.2f, %d faults), kids %.2f (sys %.2f, %d faults)", c.name, float64(size(c))/m[bmWall]/1e6,
					m[bmSelf], m[bmSelfSys], int64(m[bmSelfFaults]), m[bmKids], m[bmKidsSys], int64(m[bmKidsFaults]))
			}
			return m, err
		}
	}
	measure(e, "batch", all, func(m []float64) string {
		return fmt.Sprintf("%.3f s, CPU %.2f s", m[bmWall], m[bmTotal])
	})
	rep.failed(all...)

	mbs := func(c *bcase) float64 { return float64(size(c)) / c.med(bmWall) / 1e6 }
	mb := fmt.Sprintf("%.0f MB", float64(in.bigSize)/1e6)
	cpuCells := func(c *bcase) []string {
		return []string{cell(c, bmSelf, "%.2f") + " (" + cell(c, bmSelfSys, "%.2f") + ")", cell(c, bmKids, "%.2f") + " (" + cell(c, bmKidsSys, "%.2f") + ")",
			cell(c, bmTotal, "%.2f"), cell(c, bmSelfFaults, "%.0f") + " / " + cell(c, bmKidsFaults, "%.0f"), spreadCellf(c, bmWall, "%.2f")}
	}
	cpuHead := []string{"parent CPU s (sys)", "kids CPU s (sys)", "all CPU s", "page faults: parent / kids", "runs (min–max s)"}
	cpuNote := "Parent = the command's own process (wasmpool's parent, parallel's perl, or the one program); kids = the children it waited for (wasmpool's kids, parallel's jobs and their shells); " +
		"all = both, plus `cat` where it feeds a pipe; from /proc/PID/stat of the command, read after it exits and before it is reaped (10 ms ticks). " +
		"The library row is measured with getrusage in this process."
	label := func(c *bcase) string {
		if c.note != "" {
			return c.name + " (" + c.note + ")"
		}
		return c.name
	}
	todayOf := map[*bcase]*bcase{fileJ2: todayFile, fileK: todayFile, lib: todayFile, pipeJ2: todayPipe, pipeK: todayPipe, sessionOrdinary: todayFile}
	baseOf := map[*bcase]*bcase{lineJ2: linePar, linePar: linePar}
	t := &table{
		title: "Batch instances: an ordinary C line filter over " + mb,
		note: fmt.Sprintf("%d lines, %.0f MB (%.1f bytes per line on average), upper-cased by internal/bench/guests/upper.c (fread/fwrite, 64 KiB; clang -O2 for wasm32-wasi, cc -O2 natively), and in the last two rows by upperline.c (fgets/fputs); "+
			"FILE is a file (`-i FILE`, `-a FILE`, or stdin redirected from it), `cat FILE |` a pipe; output goes to a file in %s. MB/s = input bytes ÷ wall time of the whole command, start-up included. "+
			"Every output is checked: the same lines (count and checksum), in input order where the command promises it. "+
			"× baseline = throughput ÷ `parallel --pipepart -k` running the same program natively (upper, or upperline for its rows); × today = ÷ the first session row with the same input path. %s",
			in.lines, float64(in.bigSize)/1e6, float64(in.bigSize)/float64(in.lines), filepath.Dir(out), cpuNote),
		head: append([]string{"case", "MB/s", "× baseline", "× today"}, cpuHead...),
	}
	var bars []bar
	for _, c := range upperCases {
		today := "–"
		if tc := todayOf[c]; tc != nil {
			today = ratioCell(mbs(c), mbs(tc))
		}
		base := pipepart
		if b := baseOf[c]; b != nil {
			base = b
		}
		t.rows = append(t.rows, append([]string{label(c), num(mbs(c), "%.0f"), ratioCell(mbs(c), mbs(base)), today}, cpuCells(c)...))
		if c.ok() {
			bars = append(bars, bar{label: strings.ReplaceAll(c.name, "`", ""), value: mbs(c)})
		}
	}
	rep.tables = append(rep.tables, t)
	rep.panels = append(rep.panels, panel{title: "Batch instances, C line filter over " + mb + ": MB/s (higher is better)", unit: "MB/s", bars: bars})

	t = &table{
		title: "Batch instances: an ordinary Go line filter over " + mb,
		note: "The same input, upper-cased by internal/bench/guests/goupper (bufio.Scanner in, bufio.Writer out), built with GOOS=wasip1 and natively. " +
			"× baseline = throughput ÷ `parallel --pipepart -k` running the native build. Columns as above.",
		head: append([]string{"case", "MB/s", "× baseline"}, cpuHead...),
	}
	for _, c := range goCases {
		t.rows = append(t.rows, append([]string{label(c), num(mbs(c), "%.0f"), ratioCell(mbs(c), mbs(goPar))}, cpuCells(c)...))
	}
	rep.tables = append(rep.tables, t)

	t = &table{
		title: "Batch instances: is the parent the bottleneck?",
		note: fmt.Sprintf("copy.wasm copies stdin to stdout in 64 KiB reads and writes over the same "+mb+" input: what the pool itself costs per byte. "+
			"hashline (internal/bench/guests/hashline.c, fgets/printf) hashes each line with %d passes of FNV-1a, CPU-bound; its input is the first %d lines (%.0f MB). "+
			"Speed-up = the 1-kid row's wall time ÷ this row's. Columns as above.", hashRounds, in.cpuLines, float64(in.cpuSize)/1e6),
		head: append([]string{"case", "MB/s", "speed-up 1→2"}, cpuHead...),
	}
	for _, c := range parentCases {
		speedup := "–"
		switch c {
		case hash2:
			speedup = ratioCell(hash1.med(bmWall), hash2.med(bmWall))
		case hashPar:
			speedup = ratioCell(hashNat.med(bmWall), hashPar.med(bmWall)) + " (of the native one)"
		}
		t.rows = append(t.rows, append([]string{label(c), num(mbs(c), "%.0f"), speedup}, cpuCells(c)...))
	}
	rep.tables = append(rep.tables, t)

	for _, c := range []*bcase{fileJ2, fileK, pipeJ2, pipeK} {
		rep.target(fmt.Sprintf("Batch, C upper-caser, %s: %s ≥ 1.5× `parallel --pipepart -k` with the native build", mb, c.name), mbs(c)/mbs(pipepart), -1.5, "%.2f×")
	}
	for _, c := range []*bcase{fileJ2, fileK, pipeJ2, pipeK} {
		rep.target(fmt.Sprintf("Batch, C upper-caser, %s: %s ≥ 4× today (session instances, SDK line filter, same input path)", mb, c.name), mbs(c)/mbs(todayOf[c]), -4, "%.2f×")
	}
	rep.target(fmt.Sprintf("Batch: copy.wasm (64 KiB read/write), `wasmpool run -j 2 -i FILE`, %s ≥ 1000 MB/s", mb), mbs(copyJ2), -1000, "%.0f MB/s")
	rep.target(fmt.Sprintf("Batch: copy.wasm (64 KiB read/write), `wasmpool run -j 2 -i FILE | …` (into a pipe), %s ≥ 1000 MB/s", mb), mbs(copyPipe), -1000, "%.0f MB/s")
	rep.target("Batch: CPU-bound hashline.wasm, speed-up from `-j 1` to `-j 2` ≥ 1.7×", hash1.med(bmWall)/hash2.med(bmWall), -1.7, "%.2f×")
	rep.target(fmt.Sprintf("Batch: Go upper-caser (GOOS=wasip1), `wasmpool run -j 2 -k`, %s ≥ `parallel --pipepart -k` with the native Go build", mb), mbs(goK)/mbs(goPar), -1, "%.2f×")
}
