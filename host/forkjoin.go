//go:build linux

package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// ForkJoin runs one fresh instance of cfg's module for each part, in at
// most cfg.Kids kid processes at once (one per CPU if 0), waits for them
// all, and returns each part's result, in part order.
//
// Part i's guest gets its range and number as its last three arguments,
// after cfg.Args: LO HI i, in decimal; and the same in its environment,
// added to cfg.Env: WASMPOOL_LO, WASMPOOL_HI, WASMPOOL_PART and
// WASMPOOL_PARTS (len(parts)) (see package abi). Its stdin and stdout are
// as opts say; its stderr lines go to cfg.Stderr prefixed "part i: ".
// It has cfg's grants (Dirs, Env), checked against the needs the module's
// wasmpool section declares, as New checks them (unless IgnoreSection),
// and cfg's MemoryLimit. cfg.Timeout bounds the wall time of each attempt
// at a part (the kid is killed; the part fails with ErrTimeout,
// unretried). A part whose guest fails (non-zero exit, trap, killed) is
// run again in a new kid up to cfg.Retries times. Framing, Mode, Window,
// MaxFrame, MaxRequests and the batch settings do not apply; Command is
// refused.
//
// The error is nil when every part succeeded. Otherwise it is the
// context's error if ctx was cancelled, else a *PartError for the first
// part that failed for good. Errors of configuration or of the module come
// with no results. Every kid is killed if need be and reaped before
// ForkJoin returns, on every path. ForkJoin starts kids of its own: it
// does not touch a Pool, and may run beside one.
func ForkJoin(ctx context.Context, cfg Config, parts []Range, opts ForkJoinOptions) ([]PartResult, error) {
	if len(cfg.Command) > 0 {
		return nil, fmt.Errorf("%w: Command: ForkJoin runs wasm modules only", ErrConfig)
	}
	for _, kv := range cfg.Env {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains([]string{abi.EnvPart, abi.EnvLo, abi.EnvHi, abi.EnvParts}, name) {
			return nil, fmt.Errorf("%w: Env: %s is set by ForkJoin for each part", ErrConfig, name)
		}
	}
	for i, r := range parts {
		if r.Lo > r.Hi {
			return nil, fmt.Errorf("%w: parts[%d]: %v is reversed", ErrConfig, i, r)
		}
	}
	cfg, _, err := cfg.WithSection() // the grants it declares it needs
	if err != nil {
		return nil, err
	}
	if cfg, err = cfg.normalize(); err != nil {
		return nil, err
	}
	mod, err := compile(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fj := &forkJoin{p: &Pool{cfg: cfg, mod: mod}, parts: parts, opts: opts}
	return fj.run(ctx)
}

// forkJoin is one ForkJoin call.
type forkJoin struct {
	p     *Pool // for its Config and spec; it starts no kids
	parts []Range
	opts  ForkJoinOptions

	stderrMu sync.Mutex // Config.Stderr is written by every running part
}

// ended is an attempt's result, sent to the scheduler.
type ended struct {
	part, slot int
	res        PartResult
	started    bool // a kid ran; false when the attempt could not start one
}

func (fj *forkJoin) run(ctx context.Context) ([]PartResult, error) {
	cfg := fj.p.cfg
	results := make([]PartResult, len(fj.parts))
	for i, r := range fj.parts {
		results[i] = PartResult{Range: r, ExitCode: -1}
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	done := make(chan ended)
	running := 0
	// Reap what runs even if Done panics.
	defer func() {
		stop(ErrPartStopped)
		for ; running > 0; running-- {
			<-done
		}
	}()
	free := make([]int, 0, cfg.kids())
	for slot := cfg.kids(); slot >= 1; slot-- {
		free = append(free, slot)
	}
	next := 0       // the next part never started
	var retry []int // parts to run again, first
	var first error
	finish := func(part int) {
		r := &results[part]
		if r.Err != nil && first == nil && !errors.Is(r.Err, ErrPartStopped) && ctx.Err() == nil {
			first = &PartError{Part: part, Range: r.Range, Err: r.Err}
			if fj.opts.FailFast {
				stop(ErrPartStopped)
			}
		}
		if fj.opts.Done != nil {
			fj.opts.Done(part, *r)
		}
	}
	for {
		for running < cfg.kids() && runCtx.Err() == nil && (len(retry) > 0 || next < len(fj.parts)) {
			part := next
			if len(retry) > 0 {
				part, retry = retry[0], retry[1:]
			} else {
				next++
			}
			slot := free[len(free)-1]
			free = free[:len(free)-1]
			attempt := results[part].Attempts + 1
			running++
			go func() { done <- fj.attempt(ctx, runCtx, part, slot, attempt) }()
		}
		if running == 0 {
			break
		}
		e := <-done
		running--
		free = append(free, e.slot)
		r := &results[e.part]
		if e.started {
			*r = e.res
		} else { // keep the failed attempt before it, if any
			r.Err = errors.Join(r.Err, e.res.Err)
		}
		var ke *KidError
		if e.started && errors.As(r.Err, &ke) && ke.Err == nil && r.Attempts <= cfg.Retries && runCtx.Err() == nil {
			retry = append(retry, e.part)
			continue
		}
		finish(e.part)
	}
	why := ErrPartStopped
	if ctx.Err() != nil {
		why = ctx.Err()
	}
	for _, part := range append(retry, seq(next, len(fj.parts))...) {
		results[part].Err = errors.Join(results[part].Err, why)
		finish(part)
	}
	if first == nil && ctx.Err() != nil && slices.ContainsFunc(results, func(r PartResult) bool { return r.Err != nil }) {
		return results, ctx.Err()
	}
	return results, first
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// attempt runs one kid for the part, to its end, and reaps it.
func (fj *forkJoin) attempt(ctx, runCtx context.Context, part, slot, n int) ended {
	e := ended{part: part, slot: slot, res: PartResult{Range: fj.parts[part], ExitCode: -1, Attempts: n}}
	out := io.Discard
	if fj.opts.Stdout != nil {
		w, err := fj.opts.Stdout(part)
		if err != nil {
			e.res.Err = fmt.Errorf("host: ForkJoin: the output of part %d: %w", part, err)
			return e
		}
		if w != nil {
			out = w
		}
	}
	var in io.Reader
	if fj.opts.Stdin != nil {
		in = fj.opts.Stdin(part)
	}
	r := fj.parts[part]
	lo, hi, num := strconv.FormatInt(r.Lo, 10), strconv.FormatInt(r.Hi, 10), strconv.Itoa(part)
	spec := fj.p.spec(slot, kidside.Once)
	spec.Args = append(spec.Args, lo, hi, num)
	spec.Env = append(slices.Clip(spec.Env), abi.EnvPart+"="+num, abi.EnvLo+"="+lo, abi.EnvHi+"="+hi,
		abi.EnvParts+"="+strconv.Itoa(len(fj.parts)))
	t0 := time.Now()
	proc, err := fj.p.launchSpec(spec)
	if err != nil {
		e.res.Err = err
		return e
	}
	e.started = true
	ke := fj.watch(ctx, runCtx, part, slot, proc, in, out, &e.res)
	e.res.Wall = time.Since(t0)
	if ke != nil {
		e.res.Err = ke
	}
	return e
}

// watch follows a part's kid until it has exited and its pipes are
// drained, and returns its error (nil for a clean exit 0).
func (fj *forkJoin) watch(ctx, runCtx context.Context, part, slot int, proc *process, in io.Reader, out io.Writer, res *PartResult) *KidError {
	unix.Close(proc.ack) // a Once kid sends no reports
	defer unix.Close(proc.pidfd)
	// The parent's ends are non-blocking: as *os.File they use the
	// runtime's poller, so blocking goroutines can copy them.
	stdin := os.NewFile(uintptr(proc.stdin), "part-stdin")
	stdout := os.NewFile(uintptr(proc.stdout), "part-stdout")
	stderr := os.NewFile(uintptr(proc.stderr), "part-stderr")
	defer stdout.Close()
	defer stderr.Close()

	failed := make(chan error, 2) // the parent's side failed: stop the kid
	var copies, feeding sync.WaitGroup
	feed := &errReader{r: in}
	if in == nil {
		stdin.Close()
	} else {
		feeding.Go(func() {
			io.Copy(stdin, feed) // EPIPE: the guest did not read it all, its business
			stdin.Close()
			if feed.err != nil {
				failed <- fmt.Errorf("host: ForkJoin: reading the input of part %d: %w", part, feed.err)
			}
		})
	}
	sink := &countWriter{w: out}
	copies.Go(func() {
		io.Copy(sink, stdout)
		if sink.err != nil {
			failed <- fmt.Errorf("host: ForkJoin: writing the output of part %d: %w", part, sink.err)
		}
	})
	var tail stderrTail
	copies.Go(func() { fj.forward(part, stderr, &tail) })

	type exit struct {
		state *os.ProcessState
		err   error
	}
	exited := make(chan exit, 1)
	go func() {
		state, err := proc.proc.Wait()
		exited <- exit{state, err}
	}()
	var timeout <-chan time.Time
	if d := fj.p.cfg.Timeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	var fault error // why the parent killed the kid
	killed := false // and whether the kill counts only if it took effect
	var status exit
	for status.state == nil && status.err == nil {
		var why error
		select {
		case status = <-exited:
			continue
		case <-runCtx.Done():
			why, killed = ErrPartStopped, true
			if ctx.Err() != nil {
				why = ctx.Err()
			}
			runCtx = context.Background() // seen once
		case <-timeout:
			why, killed = fmt.Errorf("%w: the part ran longer than %v", ErrTimeout, fj.p.cfg.Timeout), true
		case err := <-failed:
			why = err
		}
		if fault == nil {
			fault = why
		}
		proc.proc.Signal(syscall.SIGKILL)
	}
	copies.Wait()
	stdin.Close() // unblocks a feed still writing
	feeding.Wait()
	for len(failed) > 0 { // the input or output failed as the kid ended
		fault, killed = errors.Join(fault, <-failed), false
	}
	res.Output, res.Stderr = sink.n, tail.lines
	ke := &KidError{Kid: slot, Pid: proc.proc.Pid, ExitCode: -1, Trap: tail.trap, Stderr: tail.lines}
	var ws syscall.WaitStatus
	if status.err == nil {
		ws, _ = status.state.Sys().(syscall.WaitStatus)
	}
	switch {
	case status.err != nil:
		fault, killed = errors.Join(fault, status.err), false
	case ws.Signaled():
		ke.Signal = unix.SignalName(ws.Signal())
	default:
		ke.ExitCode = ws.ExitStatus()
		res.ExitCode = ke.ExitCode
	}
	// A kill that came too late (the guest had exited by itself) does
	// not count; a failed input or output always does.
	if fault != nil && (!killed || ke.Signal != "") {
		ke.Err = fault
	}
	if ke.ExitCode == 0 && ke.Err == nil {
		return nil
	}
	return ke
}

// partLine is the longest stderr line of a part forwarded whole.
const partLine = 4 << 10

// forward copies a part's stderr to Config.Stderr line by line, each
// prefixed "part N: ", and keeps the last lines.
func (fj *forkJoin) forward(part int, r io.Reader, tail *stderrTail) {
	br := bufio.NewReaderSize(r, partLine)
	prefix := "part " + strconv.Itoa(part) + ": "
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			text := strings.TrimSuffix(string(line), "\n")
			fj.stderrMu.Lock()
			io.WriteString(fj.p.cfg.Stderr, prefix+text+"\n")
			fj.stderrMu.Unlock()
			tail.add(text)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// errReader keeps the error of its reader, other than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// countWriter counts what it writes and keeps its writer's error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}
