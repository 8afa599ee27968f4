package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/host/inspect"
)

// forkJoinFlags are the flags of `wasmpool forkjoin`.
type forkJoinFlags struct {
	fs       *flagSet
	kids     kidFlags
	parts    int
	length   int64
	split    string
	framing  frames.Framing
	output   string
	failFast bool

	ignoreSection bool
	remote        remoteFlags
	splitFraming  frames.Framing // what --split cuts by

	partsOpt, lenOpt, framesOpt *option
}

func newForkJoinFlags() *forkJoinFlags {
	o := &forkJoinFlags{fs: newFlagSet("forkjoin")}
	fs := o.fs
	o.kids.add(fs)
	o.partsOpt = fs.add(&option{long: "parts", short: 'n', arg: "PARTS", set: func(v string) (err error) {
		if o.parts, err = parseCount(v); err == nil && o.parts < 1 {
			err = errors.New("want at least 1 part")
		}
		return err
	}})
	o.lenOpt = fs.add(&option{long: "len", arg: "N", set: func(v string) (err error) {
		o.length, err = strconv.ParseInt(v, 10, 64)
		if err != nil || o.length < 0 {
			err = errors.New("want a whole number ≥ 0")
		}
		return err
	}})
	fs.add(&option{long: "split", arg: "FILE", set: nonEmpty(&o.split, "file name")})
	o.framesOpt = fs.add(&option{long: "frames", arg: "FRAMING", set: func(v string) (err error) {
		o.framing, err = frames.Parse(v)
		if err != nil {
			err = errors.New("unknown framing: want lines, zero, lenpfx or fixed:N")
		}
		return err
	}})
	fs.add(&option{long: "output", short: 'o', arg: "PATTERN", set: nonEmpty(&o.output, "file name")})
	fs.boolFlag("fail-fast", 0, &o.failFast)
	fs.boolFlag("ignore-section", 0, &o.ignoreSection)
	o.remote.add(fs)
	return o
}

func forkJoinCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	con := &console{w: stderr, tty: isTerminal(stderr)}
	if wantsHelp(args) {
		io.WriteString(stdout, forkJoinHelp)
		return exitOK
	}
	o := newForkJoinFlags()
	cfg, parts, input, release, err := o.plan(ctx, args)
	if input != nil {
		defer input.Close()
	}
	defer release()
	if err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	cfg.Stderr = con

	out := &partOutputs{stdout: stdout, pattern: o.output, width: len(strconv.Itoa(len(parts) - 1)),
		files: make([]*os.File, len(parts)), ready: make(chan int, len(parts)), emitted: make(chan struct{})}
	if o.output == "" {
		go out.emit(len(parts))
	} else {
		close(out.emitted)
	}
	failed, stopped := 0, 0
	opts := host.ForkJoinOptions{
		Stdout:   out.open,
		FailFast: o.failFast,
		Done: func(part int, r host.PartResult) {
			out.done(part)
			switch {
			case r.Err == nil:
			case errors.Is(r.Err, host.ErrPartStopped):
				stopped++
			case ctx.Err() == nil:
				failed++
				con.printf("part %d %v: %s", part, r.Range, describePart(r, cfg))
			}
		},
	}
	if input != nil {
		opts.Stdin = func(part int) io.Reader { return io.NewSectionReader(input, parts[part].Lo, parts[part].Len()) }
	}
	res, err := host.ForkJoin(ctx, cfg, parts, opts)
	if res == nil && err != nil {
		out.finish()
		if ctx.Err() != nil {
			return interrupted(ctx, con, "while compiling the module")
		}
		con.printf("%s", setupError(err))
		return exitUsage
	}
	writeErr := out.finish()
	switch {
	case ctx.Err() != nil:
		n := 0
		for _, r := range res {
			if r.Err == nil {
				n++
			}
		}
		return interrupted(ctx, con, fmt.Sprintf("with %d of %d parts done", n, len(parts)))
	case stopped > 0:
		con.printf("--fail-fast: %s stopped or not run", plural(stopped, "other part"))
	}
	if writeErr != nil {
		con.printf("%v", writeErr)
		return exitFailed
	}
	if failed > 0 || stopped > 0 {
		return exitFailed
	}
	return exitOK
}

// plan reads the flags and the module, places the kids, and cuts the
// parts. input is the --split file, open; release gives back a Slurm
// allocation made for the run.
func (o *forkJoinFlags) plan(ctx context.Context, args []string) (cfg host.Config, parts []host.Range, input *os.File, release func(), err error) {
	release = func() {}
	cfg, parts, input, err = o.cut(args)
	if err != nil || len(o.remote.logins) == 0 && !o.remote.useSlurm {
		return cfg, parts, input, release, err
	}
	local, remotes, release, err := o.remote.place(ctx, o.kids.jobs)
	if err != nil {
		return cfg, nil, input, release, err
	}
	cfg.Kids, cfg.Remotes = local, remotes
	if !o.fs.seen[o.partsOpt] { // one part per kid, wherever they run
		n := local
		for _, r := range remotes {
			n += r.Kids
		}
		if o.parts = n; o.split == "" {
			parts = host.NSplit(o.length, n)
		} else if parts, err = host.SplitFile(o.split, n, o.splitFraming); err != nil {
			return cfg, nil, input, release, &usageError{"--split: " + pathError(err)}
		}
		if n > 1 && o.output != "" && !strings.Contains(o.output, "{part}") {
			return cfg, nil, input, release, o.fs.errorf("-o %s: with %d parts the pattern needs {part}, as in -o 'out.{part}'", show(o.output), n)
		}
	}
	return cfg, parts, input, release, nil
}

// cut reads the flags and the module, and cuts the parts for the kids of
// this machine.
func (o *forkJoinFlags) cut(args []string) (cfg host.Config, parts []host.Range, input *os.File, err error) {
	pos, guestArgs, err := o.fs.parse(args)
	if err != nil {
		return cfg, nil, nil, err
	}
	switch {
	case len(pos) == 0:
		return cfg, nil, nil, o.fs.errorf("no module given: wasmpool forkjoin -n PARTS --len N module.wasm [-- guest args...]")
	case len(pos) > 1:
		return cfg, nil, nil, o.fs.errorf("unexpected argument %s after the module %s: guest arguments go after --", show(pos[1]), pos[0])
	case o.fs.seen[o.lenOpt] == (o.split != ""):
		return cfg, nil, nil, o.fs.errorf("give either --len N (parts of the range 0..N) or --split FILE (parts of a file)")
	case o.fs.seen[o.framesOpt] && o.split == "":
		return cfg, nil, nil, o.fs.errorf("--frames says how --split cuts its file: it needs --split")
	}
	module := pos[0]
	cfg = o.kids.config(o.fs, module, guestArgs)
	if cfg.Kids == 0 {
		cfg.Kids = runtime.NumCPU()
	}
	if !o.fs.seen[o.partsOpt] {
		o.parts = cfg.Kids
	}
	if o.parts > 1 && o.output != "" && !strings.Contains(o.output, "{part}") {
		return cfg, nil, nil, o.fs.errorf("-o %s: with %d parts the pattern needs {part}, as in -o 'out.{part}'", show(o.output), o.parts)
	}
	if err := checkModule(module, o.kids.mem); err != nil {
		return cfg, nil, nil, err
	}
	cfg.IgnoreSection = o.ignoreSection
	// the library checks the grants the module's section declares; this
	// says it first, in flags, and learns the section's framing
	resolved, _, err := cfg.WithSection()
	if err != nil {
		return cfg, nil, nil, (&plan{module: module}).checkGrants(err)
	}
	if o.split == "" {
		return cfg, host.NSplit(o.length, o.parts), nil, nil
	}
	framing := resolved.Framing // the section's, else lines
	if o.fs.seen[o.framesOpt] {
		framing = o.framing
	}
	o.splitFraming = framing
	if input, err = os.Open(o.split); err != nil {
		return cfg, nil, nil, &usageError{"--split: " + pathError(err)}
	}
	if st, err := input.Stat(); err != nil || !st.Mode().IsRegular() {
		return cfg, nil, input, &usageError{fmt.Sprintf("--split %s: not a regular file: --split cuts a file it can seek in (use 'wasmpool run' for a stream)", o.split)}
	}
	if parts, err = host.SplitFile(o.split, o.parts, framing); err != nil {
		return cfg, nil, input, &usageError{"--split: " + pathError(err)}
	}
	return cfg, parts, input, nil
}

// checkModule reads the module and says, in words, what would stop it
// from running as a kid within the memory limit (a bad wasmpool section is
// said by Config.WithSection).
func checkModule(module string, mem int64) error {
	code, err := readModule(module)
	if err != nil {
		return err
	}
	info, err := inspect.InspectInterface(context.Background(), module, code)
	if err != nil {
		return &usageError{err.Error()}
	}
	for _, problem := range info.Problems {
		switch problem.Kind {
		case inspect.BadSection:
		case inspect.Malformed:
			return &usageError{fmt.Sprintf("%s: %s", module, problem.Text)}
		default:
			return &usageError{fmt.Sprintf("%s cannot run as a kid: %s", module, problem.Text)}
		}
	}
	if mem > 0 && info.Memory != nil {
		if err := memoryHint(host.ErrModule, &plan{module: module, memory: info.Memory, cfg: host.Config{MemoryLimit: mem}}); err != host.ErrModule {
			return &usageError{err.Error()}
		}
	}
	return nil
}

// describePart says why a part failed.
func describePart(r host.PartResult, cfg host.Config) string {
	var ke *host.KidError
	var s string
	switch {
	case errors.Is(r.Err, host.ErrTimeout):
		s = fmt.Sprintf("timed out: it ran longer than --timeout %v", cfg.Timeout)
	case errors.As(r.Err, &ke) && ke.Err == nil:
		// the guest's own failure, worded as run words a kid's (with
		// ke.Err nil, describeKid needs no run state)
		s = (&runState{}).describeKid(ke)
		// a retry that could not start is joined to the failure before it
		if j, ok := r.Err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if e != error(ke) {
					s += "; " + partCause(e)
				}
			}
		}
	default:
		err := r.Err
		if errors.As(err, &ke) {
			err = ke.Err
		}
		s = "failed: " + partCause(err)
	}
	if r.Attempts > 1 {
		s += fmt.Sprintf(" (%s)", plural(r.Attempts, "attempt"))
	}
	return s
}

func partCause(err error) string {
	return strings.TrimPrefix(trimHost(err.Error()), "ForkJoin: ")
}

// partOutputs is where the parts' stdout goes: with a pattern, a file per
// part, created anew for each attempt; without, part 0 streams to stdout
// as it comes and every later part goes to a temporary file (unlinked at
// once, so none is left behind) that is copied to stdout, in part order,
// as soon as the parts before it are done.
type partOutputs struct {
	stdout  io.Writer
	pattern string
	width   int

	mu      sync.Mutex
	files   []*os.File // each part's current file
	first   int64      // bytes part 0 streamed
	err     error      // the first error writing stdout or a file
	ready   chan int   // parts done, to emit
	emitted chan struct{}
	once    sync.Once
}

// open is ForkJoinOptions.Stdout.
func (p *partOutputs) open(part int) (io.Writer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pattern != "" {
		p.closeLocked(part)
		name := strings.ReplaceAll(p.pattern, "{part}", fmt.Sprintf("%0*d", p.width, part))
		f, err := os.Create(name)
		if err != nil {
			return nil, errors.New(pathError(err))
		}
		p.files[part] = f
		return f, nil
	}
	if part == 0 {
		if p.first > 0 {
			return nil, fmt.Errorf("not retried: its failed attempt already wrote %s to stdout", plural(int(p.first), "byte"))
		}
		return writerFunc(func(b []byte) (int, error) {
			n, err := p.stdout.Write(b)
			p.mu.Lock()
			p.first += int64(n)
			p.mu.Unlock()
			return n, err
		}), nil
	}
	if f := p.files[part]; f != nil { // a retry starts clean
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return f, f.Truncate(0)
	}
	f, err := os.CreateTemp("", "wasmpool-part-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	p.files[part] = f
	return f, nil
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }

// done is called as each part is over for good.
func (p *partOutputs) done(part int) {
	if p.pattern != "" {
		p.mu.Lock()
		p.closeLocked(part)
		p.mu.Unlock()
		return
	}
	p.ready <- part
}

func (p *partOutputs) closeLocked(part int) {
	if f := p.files[part]; f != nil {
		if err := f.Close(); err != nil && p.err == nil {
			p.err = err
		}
		p.files[part] = nil
	}
}

// emit copies the parts' temporary files to stdout in part order.
func (p *partOutputs) emit(n int) {
	defer close(p.emitted)
	ready := make([]bool, n)
	next := 0
	for part := range p.ready {
		ready[part] = true
		for ; next < n && ready[next]; next++ {
			p.mu.Lock()
			f := p.files[next]
			p.files[next] = nil
			failed := p.err != nil
			p.mu.Unlock()
			if f == nil {
				continue
			}
			if !failed {
				_, err := f.Seek(0, io.SeekStart)
				if err == nil {
					_, err = io.Copy(p.stdout, f)
				}
				if err != nil {
					p.mu.Lock()
					p.err = fmt.Errorf("writing the output of part %d: %w", next, err)
					p.mu.Unlock()
				}
			}
			f.Close()
		}
	}
}

// finish waits for the output to be written and closes what is open; it
// returns the first error.
func (p *partOutputs) finish() error {
	p.once.Do(func() { close(p.ready) })
	<-p.emitted
	p.mu.Lock()
	defer p.mu.Unlock()
	for part := range p.files {
		p.closeLocked(part)
	}
	return p.err
}
