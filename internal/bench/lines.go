package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wasmpool/wasmpool/examples/ppbench/work"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

// lineInput is the line filter's input file and the checksum of the
// expected output.
type lineInput struct {
	path  string
	size  int64
	lines int
	sum   uint64 // sum of lineHash over the upper-cased lines
}

// eachLine generates the benchmark's n lines, the same every time: 30 to
// 50 (40 on average) lower-case letters and spaces, given to f without
// their newline (the slice is reused for the next line).
func eachLine(n int, f func(line []byte) error) error {
	rng := rand.New(rand.NewPCG(7, 42))
	var line []byte
	for range n {
		line = line[:0]
		l := 30 + rng.IntN(21)
		for j := range l {
			if j > 0 && j < l-1 && rng.IntN(6) == 0 {
				line = append(line, ' ')
			} else {
				line = append(line, byte('a'+rng.IntN(26)))
			}
		}
		if err := f(line); err != nil {
			return err
		}
	}
	return nil
}

// writeLines writes the n lines of eachLine to path, each with its
// newline, and calls f with each line (without it) as it goes.
func writeLines(path string, n int, f func(line []byte)) (size int64, err error) {
	file, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(file, 1<<20)
	err = eachLine(n, func(line []byte) error {
		f(line)
		size += int64(len(line)) + 1
		w.Write(line)
		return w.WriteByte('\n')
	})
	return size, errors.Join(err, w.Flush(), file.Close())
}

// makeLines writes the n lines of eachLine to path and returns the
// checksum of their upper-cased copies.
func makeLines(path string, n int) (lineInput, error) {
	in := lineInput{path: path, lines: n}
	var up []byte
	size, err := writeLines(path, n, func(line []byte) {
		up = work.Upper(up[:0], line)
		in.sum += lineHash(up)
	})
	in.size = size
	return in, err
}

// check verifies that the file at path holds the upper-cased input lines,
// in any order.
func (in lineInput) check(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := frames.NewReader(f, frames.Lines)
	var n int
	var sum uint64
	for r.Scan() {
		n++
		sum += lineHash(r.Bytes())
	}
	if err := r.Err(); err != nil {
		return err
	}
	if n != in.lines || sum != in.sum {
		return fmt.Errorf("output has %d lines (want %d) and checksum %x (want %x)", n, in.lines, sum, in.sum)
	}
	return nil
}

func benchLines(e *env, rep *report) {
	n := 1_000_000
	if e.smoke {
		n = 20_000
	}
	in, err := makeLines(filepath.Join(e.tmp, "lines.txt"), n)
	if err != nil {
		rep.failures = append(rep.failures, "lines: "+err.Error())
		return
	}
	out := filepath.Join(e.tmp, "lines.out")
	// shell runs a command with the input file as stdin and the output file
	// as stdout, and checks the output.
	shell := func(env []string, argv ...string) func() ([]float64, error) {
		return func() ([]float64, error) {
			d, err := runFilter(in, out, env, argv...)
			return []float64{d.Seconds()}, err
		}
	}
	cli := func(module string) func() ([]float64, error) {
		return shell([]string{"XDG_CACHE_HOME=" + e.xdg}, e.cli, "run", "-j", "2", "--frames", "lines", module, "--", "upper")
	}
	lib := func(cfg host.Config) func() ([]float64, error) {
		return func() ([]float64, error) {
			cfg := cfg
			cfg.Kids, cfg.Framing, cfg.CacheDir, cfg.Stderr = 2, frames.Lines, e.cache, e.stderr
			d, err := libFilter(e, cfg, in, out)
			return []float64{d.Seconds()}, err
		}
	}
	xargsScript := filepath.Join(e.tmp, "xargs.sh")
	os.WriteFile(xargsScript, []byte(`# xargs -P2: lines as arguments, 20000 per batch, two batches at a
# time, each batch's output in its own file (concurrent writers to one
# output would interleave mid-line), concatenated at the end.
set -e
d=$(mktemp -d)
xargs -d '\n' -n 20000 -P 2 sh -c 'printf "%s\n" "$@" | tr a-z A-Z > "$(mktemp -p '"$d"')"' sh
cat "$d"/*
rm -rf "$d"
`), 0o644)

	floor := &bcase{name: "in-process Go loop (the floor)", note: "read, upper-case, write; one goroutine",
		run: func() ([]float64, error) {
			d, err := goLoop(in, out)
			return []float64{d.Seconds()}, err
		}}
	par := &bcase{name: "`parallel --pipe -j2 tr a-z A-Z`", note: "GNU parallel, default 1 MB blocks", skip: e.missing("parallel", "tr"),
		run: shell(nil, e.parallel, "--will-cite", "--pipe", "-j2", "tr", "a-z", "A-Z")}
	cliC := &bcase{name: "`wasmpool run -j 2`, C guest", skip: e.missing("cli", "c-wasm"), run: cli(e.cWasm)}
	cliGo := &bcase{name: "`wasmpool run -j 2`, Go guest", skip: e.missing("cli", "go-wasm"), run: cli(e.goWasm)}
	cases := []*bcase{
		floor,
		{name: "`tr a-z A-Z`", note: "one process", skip: e.missing("tr"), run: shell(nil, "tr", "a-z", "A-Z")},
		cliC,
		cliGo,
		{name: "wasmpool library, C guest, 2 kids", note: "host.Run in-process, file to file", skip: e.missing("c-wasm"),
			run: lib(host.Config{Module: e.cWasm, Args: []string{"upper"}})},
		{name: "wasmpool library, native Go kid, 2 kids", note: "same loop, no sandbox", skip: e.missing("native-go"),
			run: lib(host.Config{Command: []string{e.nativeGo, "upper"}})},
		par,
		{name: "`parallel --pipe --block 10M -j2 tr a-z A-Z`", note: "tuned: fewer, larger blocks", skip: e.missing("parallel", "tr"),
			run: shell(nil, e.parallel, "--will-cite", "--pipe", "--block", "10M", "-j2", "tr", "a-z", "A-Z")},
		{name: "`xargs -P2` + `tr`", note: "lines as arguments, 20000 per batch", skip: e.missing("xargs", "tr", "sh"),
			run: shell(nil, "sh", xargsScript)},
	}
	measure(e, "lines", cases, func(m []float64) string {
		return fmt.Sprintf("%.3f s, %.0f MB/s", m[0], float64(in.size)/m[0]/1e6)
	})
	rep.failed(cases...)

	mbs := func(c *bcase) float64 { return float64(in.size) / c.med(0) / 1e6 }
	t := &table{
		title: "Line filter throughput: upper-case lines",
		note: fmt.Sprintf("%d lines, %.1f MB (%.1f bytes per line on average, newline included), file to file. MB/s = input bytes ÷ wall time of the whole command (process start, kid start and compile from a warm cache included).",
			in.lines, float64(in.size)/1e6, float64(in.size)/float64(in.lines)),
		head: []string{"case", "MB/s", "ns/line", "÷ floor (throughput)", "× parallel (throughput)", "runs (min–max s)"},
	}
	var bars []bar
	for _, c := range cases {
		name := c.name
		if c.note != "" {
			name += " (" + c.note + ")"
		}
		t.rows = append(t.rows, []string{name, num(mbs(c), "%.0f"), num(c.med(0)*1e9/float64(in.lines), "%.0f"),
			ratioCell(mbs(c), mbs(floor)), ratioCell(mbs(c), mbs(par)), spreadCell(c, 0)})
		if c.ok() {
			bars = append(bars, bar{label: strings.ReplaceAll(c.name, "`", ""), value: mbs(c)})
		}
	}
	rep.tables = append(rep.tables, t)
	rep.panels = append(rep.panels, panel{title: "Line filter: MB/s (higher is better)", unit: "MB/s", bars: bars})
	rep.target("Line filter, -j 2, C guest ≥ 5× `parallel --pipe -j2`", mbs(cliC)/mbs(par), -5, "%.1f×")
	rep.target("Line filter, -j 2, Go guest ≥ 2.5× `parallel --pipe -j2`", mbs(cliGo)/mbs(par), -2.5, "%.1f×")
}

// runFilter runs argv with the input file as stdin and out as stdout,
// returns the wall time and checks the output.
func runFilter(in lineInput, out string, env []string, argv ...string) (time.Duration, error) {
	stdin, err := os.Open(in.path)
	if err != nil {
		return 0, err
	}
	defer stdin.Close()
	stdout, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer stdout.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	err = cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, firstLine(stderr.String()))
	}
	return d, in.check(out)
}

// goLoop is the physical floor of the line filter: one in-process loop
// that reads the file, upper-cases it and writes it.
func goLoop(in lineInput, out string) (time.Duration, error) {
	t0 := time.Now()
	src, err := os.Open(in.path)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := src.Read(buf)
		b := buf[:n]
		upperASCII(b)
		if _, werr := dst.Write(b); werr != nil {
			dst.Close()
			return 0, werr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			dst.Close()
			return 0, err
		}
	}
	if err := dst.Close(); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	return d, in.check(out)
}

// upperASCII upper-cases the ASCII letters of b in place, eight bytes at a
// time (SWAR): the floor should be as fast as a plain loop can be.
func upperASCII(b []byte) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		low7 := w &^ highs
		geA := low7 + (0x80-'a')*ones   // high bit set where the byte ≥ 'a'
		gtZ := low7 + (0x80-'z'-1)*ones // high bit set where the byte > 'z'
		lower := geA &^ gtZ &^ w & highs
		binary.LittleEndian.PutUint64(b[i:], w^(lower>>2)) // 0x80 >> 2 is the case bit 0x20
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
}

// libFilter runs the line filter through the host library in this
// process, as the CLI does but without its process start.
func libFilter(e *env, cfg host.Config, in lineInput, out string) (time.Duration, error) {
	t0 := time.Now()
	src, err := os.Open(in.path)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	pool, err := host.New(e.ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	r := frames.NewReader(src, frames.Lines)
	requests := func(yield func([]byte) bool) {
		for r.Scan() && yield(r.Bytes()) {
		}
	}
	w := bufio.NewWriterSize(dst, 256<<10)
	for reply, err := range pool.Run(e.ctx, requests) {
		if err != nil {
			return 0, err
		}
		w.Write(reply.Data)
		w.WriteByte('\n')
	}
	if err := errors.Join(r.Err(), w.Flush(), dst.Close()); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	return d, in.check(out)
}
