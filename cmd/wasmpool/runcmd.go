package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/host/inspect"
)

// runFlags are the flags of `wasmpool run`.
type runFlags struct {
	jobs          int
	frames        frames.Framing
	replyFrames   frames.Framing
	ordered       bool
	instances     host.Instances
	block         int64
	maxFrame      int64
	dirs          []host.Dir
	env           []string
	mem           int64
	timeout       time.Duration
	maxRequests   int
	retries       int
	inputs        []string
	progress      string
	stats         bool
	cacheDir      string
	ignoreSection bool
	failedPath    string
	remote        remoteFlags

	fs                                        *flagSet
	framesOpt, replyOpt, orderedOpt, retryOpt *option
}

func newRunFlags() *runFlags {
	o := &runFlags{progress: "never", maxFrame: abi.DefaultMaxFrame}
	fs := newFlagSet("run")
	o.fs = fs
	framing := func(p *frames.Framing) func(string) error {
		return func(v string) error {
			f, err := frames.Parse(v)
			if err != nil {
				if strings.HasPrefix(v, abi.FramingFixed+":") {
					return errors.New("fixed:N needs a record size N ≥ 1")
				}
				return errors.New("unknown framing: want lines, zero, lenpfx or fixed:N")
			}
			*p = f
			return nil
		}
	}
	count := func(p *int) func(string) error {
		return func(v string) (err error) { *p, err = parseCount(v); return err }
	}

	fs.heading("Framing")
	o.framesOpt = fs.add(&option{long: "frames", arg: "FRAMING", set: framing(&o.frames),
		usage: "request framing: lines, zero, lenpfx or fixed:N (default: the module's section, else lines)"})
	fs.add(&option{long: "null", short: '0', set: func(v string) error {
		if b, err := parseBool(v); err != nil || !b {
			return errors.New("-0 takes no value")
		}
		o.frames = frames.Zero
		fs.seen[o.framesOpt] = true
		return nil
	}, usage: "the same as --frames zero (find -print0, xargs -0)"})
	o.replyOpt = fs.add(&option{long: "reply-frames", arg: "FRAMING", set: framing(&o.replyFrames),
		usage: "reply framing (default: the module's, else --frames)"})
	o.orderedOpt = fs.add(&option{long: "ordered", short: 'k', set: setBool(&o.ordered),
		usage: "output in input order, as parallel -k keeps it. A guest that declares one-to-one (or runs in a session) must reply exactly once per request; any other may reply any number of times, its replies kept together by batch. A request whose kid died is retried. The default when the module's section says one-to-one; --ordered=false turns it off"})
	fs.add(&option{long: "max-frame", arg: "SIZE", set: func(v string) error {
		n, err := parseSize(v)
		if err == nil && (n < 1 || n > 1<<40) {
			err = errors.New("want a size from 1 byte to 1TiB")
		}
		o.maxFrame = n
		return err
	}, usage: "the largest request or reply (default 64MiB); a larger request is reported and skipped"})

	fs.heading("Kids")
	fs.add(&option{long: "jobs", short: 'j', arg: "N", set: count(&o.jobs),
		usage: "number of kids (default: the number of CPUs)"})
	fs.add(&option{long: "instance", arg: "auto|session|batch", set: func(v string) error {
		switch v {
		case "auto":
			o.instances = host.AutoInstances
		case "session":
			o.instances = host.SessionInstances
		case "batch":
			o.instances = host.BatchInstances
		default:
			return errors.New("want auto, session or batch")
		}
		return nil
	}, usage: "session: one instance per kid for all its requests (the guest must flush its replies before each read, as the guest SDKs do); batch: a fresh instance per batch of whole frames, for any WASI program, and a failing batch is split until its bad record fails alone; auto (the default): session for a module that exports the SDKs' session marker, else batch"})
	fs.add(&option{long: "block", arg: "SIZE", set: func(v string) error {
		n, err := parseSize(v)
		if err == nil && (n < 1 || n > 1<<30) {
			err = errors.New("want a size from 1 byte to 1GiB")
		}
		o.block = n
		return err
	}, usage: "with batch instances, the most bytes in one batch (default 4MiB); batches start small and grow while input is plentiful"})
	fs.add(&option{long: "mem", arg: "SIZE", set: func(v string) error {
		n, err := parseSize(v)
		if err == nil && n > 4<<30 {
			err = errors.New("more than the 4GiB a wasm32 memory can address")
		}
		o.mem = n
		return err
	}, usage: "cap each kid's linear memory, e.g. 64MiB (≤ 4GiB)"})
	fs.add(&option{long: "timeout", arg: "DURATION", set: func(v string) (err error) {
		o.timeout, err = parseDuration(v)
		return err
	}, usage: "wall time per request, e.g. 500ms, 2s, 1m; the kid is killed and replaced, the request reported timed out (and not retried)"})
	fs.add(&option{long: "max-requests", arg: "N", set: count(&o.maxRequests),
		usage: "replace each kid after N requests (leaky guests)"})
	o.retryOpt = fs.add(&option{long: "retries", arg: "N", set: count(&o.retries),
		usage: "how often a request whose kid died runs again on another kid before it is reported (default 1; 0: never retry). With session instances only with --ordered: in a stream a guest may have replied in part"})
	fs.add(&option{long: "cache-dir", arg: "DIR", set: func(v string) error {
		if v == "" {
			return errors.New("empty directory name")
		}
		o.cacheDir = v
		return nil
	},
		usage: "compile cache (default: the user cache directory, $XDG_CACHE_HOME or ~/.cache, + /wasmpool); safe to share between wasmpool processes"})

	o.remote.add(fs)

	fs.heading("Sandbox (nothing is granted by default)")
	fs.add(&option{long: "dir", arg: "HOST[:GUEST][:ro]", set: func(v string) error {
		d, err := parseDir(v)
		o.dirs = append(o.dirs, d)
		return err
	}, usage: "grant the host directory HOST, seen by the guest at GUEST (default: HOST's absolute path); :ro makes it read-only. A kid on another machine is granted that machine's HOST. Repeatable"})
	fs.add(&option{long: "env", arg: "NAME=VALUE", set: func(v string) error {
		kv, err := parseEnv(v)
		o.env = append(o.env, kv)
		return err
	}, usage: "give the guest an environment variable; --env NAME passes this process's value. Repeatable"})
	fs.add(&option{long: "ignore-section", set: setBool(&o.ignoreSection),
		usage: "ignore the module's wasmpool section"})

	fs.heading("Input and output")
	fs.add(&option{long: "input", short: 'i', arg: "FILE", set: func(v string) error {
		if v == "" {
			return errors.New("empty file name (use - for stdin)")
		}
		o.inputs = append(o.inputs, v)
		return nil
	}, usage: "read requests from FILE (- for stdin) instead of stdin. Repeatable: files are read in order, each framed on its own"})
	fs.add(&option{long: "progress", arg: "WHEN", optional: true, values: []string{"auto", "always", "never"}, set: func(v string) error {
		switch v {
		case "", "auto", "true", "yes":
			o.progress = "auto"
		case "always", "never":
			o.progress = v
		case "false", "no":
			o.progress = "never"
		default:
			return errors.New("want auto, always or never")
		}
		return nil
	}, usage: "progress on stderr: bytes done of the total with rate and ETA when the input size is known, counts otherwise. WHEN (after = or a space) is auto, the default: only when stderr is a terminal and stdout is not; always; or never"})
	fs.add(&option{long: "failed", arg: "FILE", set: func(v string) error {
		if v == "" {
			return errors.New("empty file name")
		}
		o.failedPath = v
		return nil
	},
		usage: "write every request that ended in an error to FILE, in the input framing, to fix and run again alone"})
	fs.add(&option{long: "stats", set: setBool(&o.stats),
		usage: "print a summary on stderr at the end: requests, replies, failures, kid restarts, wall time, requests per kid"})
	return o
}

// plan is what run will do once flags and the module's section are read.
type plan struct {
	module       string
	section      *inspect.Section // nil if none or ignored
	cfg          host.Config
	framing      frames.Framing
	reply        frames.Framing
	fromSection  bool // the one-reply mode came from the section
	retriesGiven bool
	memory       *inspect.Memory
}

func runCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	con := &console{w: stderr, tty: isTerminal(stderr)}
	if wantsHelp(args) {
		io.WriteString(stdout, help("run"))
		return exitOK
	}
	o := newRunFlags()
	p, err := o.plan(args)
	if err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	ins, err := openInputs(o.inputs, stdin)
	if err != nil {
		con.printf("%s", pathError(err))
		return exitUsage
	}
	defer closeInputs(ins)

	began := time.Now()
	p.cfg.Stderr = con
	local, remotes, release, err := o.remote.place(ctx, o.jobs)
	if err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	defer release()
	if remotes != nil {
		p.cfg.Kids, p.cfg.Remotes = local, remotes
	}
	pool, err := host.New(ctx, p.cfg)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx, con, "while starting the kids")
		}
		con.printf("%s", setupError(memoryHint(err, p)))
		return exitUsage
	}
	defer pool.Close()
	started := time.Now()

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	out := newOutput(stdout)
	var dst io.Writer = out
	if f, ok := stdout.(*os.File); ok && pool.Instances() == host.BatchInstances && isPipeOrFile(f) {
		// A batch's output is written whole, and the kids' can be
		// spliced into a pipe from theirs, or copied into a file from
		// their memory.
		dst = f
	}
	stopFlush := make(chan struct{})
	go out.flushLoop(stopFlush)
	in := newConcat(ins, p.framing)
	var src io.Reader = in
	read := in.bytes.Load
	if f, ok := ins[0].r.(*os.File); ok && len(ins) == 1 && ins[0].size >= 0 {
		// One regular file: the pool's kids on this machine read their
		// batches from it themselves.
		src = f
		read = func() int64 { return pool.Progress().DoneBytes }
	}

	var progDone chan struct{}
	stopProg := make(chan struct{})
	// auto: a terminal shows it, unless replies go to that terminal too
	if o.progress == "always" || (o.progress == "auto" && con.tty && !isTerminal(stdout)) {
		total := int64(0)
		for _, in := range ins {
			if in.size < 0 || total < 0 {
				total = -1
			} else {
				total += in.size
			}
		}
		pr := &progress{con: con, total: total, read: read, pool: pool, start: started}
		progDone = make(chan struct{})
		go pr.loop(stopProg, progDone)
	}

	r := &runState{con: con, plan: p, in: in, kidFailures: map[string]int{}, kids: p.cfg.Kids}
	for _, rem := range p.cfg.Remotes {
		r.kids += rem.Kids
	}
	if o.failedPath != "" {
		f, err := os.Create(o.failedPath)
		if err != nil {
			con.printf("--failed: %v", err)
			return exitUsage
		}
		defer f.Close()
		r.deadLetters = &deadLetters{w: bufio.NewWriter(f), framing: p.framing, name: o.failedPath}
		defer r.deadLetters.close(con)
	}
	if p.retriesGiven && pool.Instances() == host.SessionInstances && !p.cfg.Mode.OneToOne() {
		con.printf("--retries has no effect here: a session guest in stream mode may have replied in part before it failed, so its requests are reported, not run again (use --ordered, or --instance batch)")
	}

	var writeErr error
	for err := range pool.Filter(runCtx, dst, src) {
		if we := (*host.WriteError)(nil); errors.As(err, &we) {
			writeErr = we.Err
			break
		}
		r.report(ctx, err)
		if r.stop {
			break
		}
	}
	close(stopFlush)
	if err := out.flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	stopRun()
	if progDone != nil {
		close(stopProg)
		<-progDone
	}
	for desc, n := range r.kidFailures {
		switch {
		case n == 2:
			con.printf("1 more kid failed like this: %s", desc)
		case n > 2:
			con.printf("%d more kids failed like this: %s", n-1, desc)
		}
	}
	s := pool.Stats()
	code := exitOK
	switch {
	case ctx.Err() != nil:
		code = interrupted(ctx, con, fmt.Sprintf("after %s and %s", plural(s.Requests, "request"), plural(s.Replies, "reply")))
	case errors.Is(writeErr, syscall.EPIPE):
		code = exitBrokenPipe // quietly, as a write to stdout would have
	case writeErr != nil:
		con.printf("writing replies: %v", writeErr)
		code = exitFailed
	case r.setupFailed:
		code = exitUsage
	case r.failed:
		code = exitFailed
	}
	if o.stats {
		wall := time.Since(began)
		con.printf("stats: %s, %s, %d failed, %d kid restarts, %s (%s instances, %s), %s wall (start-up %s), %.0f requests/s",
			plural(s.Requests, "request"), plural(s.Replies, "reply"), s.Errors, s.Restarts, plural(len(s.PerKid), "kid"), pool.Instances(), plural(s.Batches, "batch"),
			wall.Round(time.Millisecond), started.Sub(began).Round(time.Millisecond),
			float64(s.Requests)/max(time.Since(started).Seconds(), 1e-6))
		var per strings.Builder
		for i, n := range s.PerKid {
			fmt.Fprintf(&per, " %d:%d", i+1, n)
		}
		con.printf("stats: requests per kid:%s", per.String())
		if pool.Instances() == host.BatchInstances {
			// the paths that keep the data out of this process
			con.printf("stats: batches: %d read by the kids from the input file, %s spliced into the output pipe, %d copied into the output file from the kids' memory",
				s.FileBatches, plural(s.SplicedBatches, "output"), s.MemoryOutputs)
		}
	}
	return code
}

// runState follows a run's errors.
type runState struct {
	con         *console
	plan        *plan
	in          *concat
	failed      bool
	setupFailed bool
	kidFailures map[string]int // by description without the kid's number
	// idleFailures counts kids in a row that died before they took any
	// request, with no reply in between: a guest that cannot start. The
	// pool gives up on a failure rate, which a loaded machine (slow kid
	// start-up) may never reach; past kids+2 of them the run stops.
	idleFailures int
	kids         int // here and on other machines
	stop         bool
	deadLetters  *deadLetters // --failed, or nil
}

// deadLetters writes the requests that ended in an error, in the input
// framing, so that they can be fixed and run again on their own.
type deadLetters struct {
	w       *bufio.Writer
	framing frames.Framing
	name    string
	buf     []byte
	err     error
}

func (d *deadLetters) add(con *console, req []byte) {
	if d == nil || d.err != nil {
		return
	}
	d.buf, d.err = d.framing.Append(d.buf[:0], req)
	if d.err == nil {
		_, d.err = d.w.Write(d.buf)
	}
	if d.err != nil {
		con.printf("--failed %s: %v", d.name, d.err)
	}
}

func (d *deadLetters) close(con *console) {
	if err := d.w.Flush(); err != nil && d.err == nil {
		con.printf("--failed %s: %v", d.name, err)
	}
}

// label names request i (from 0) for people: "request 7", counting from 1
// so that with lines framing it is the line number, with the input file
// when there are several.
func (r *runState) label(i int) string {
	s := fmt.Sprintf("request %d", i+1)
	if name, n, ok := r.in.where(i); ok {
		s += fmt.Sprintf(" (%s #%d)", name, n)
	}
	return s
}

func inputName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// report prints one error of the pool's run.
func (r *runState) report(ctx context.Context, err error) {
	var re *host.RequestError
	var ke *host.KidError
	if ctx.Err() != nil {
		return // interrupted: one line at the end says so
	}
	switch {
	case errors.As(err, &re):
		r.failed = true
		if re.Request != nil {
			r.deadLetters.add(r.con, re.Request)
		}
		r.con.printf("%s: %s", r.label(re.Index), r.cause(re.Err))
	case errors.Is(err, host.ErrKidsFailing):
		r.failed = true
		msg := "giving up: the kids keep failing"
		if errors.As(err, &ke) {
			msg += "; the last: " + r.describeKid(ke)
			if ke.ExitCode == abi.ExitSetup {
				r.setupFailed = true
			}
		}
		r.con.printf("%s", msg)
	case errors.As(err, &ke):
		r.failed = true
		if len(ke.Lost) == 0 {
			r.idleFailures++
		} else {
			r.idleFailures = 0
		}
		if r.idleFailures > r.kids+2 {
			r.stop = true
			r.con.printf("giving up: %d kids in a row failed before they took a request; the last: %s", r.idleFailures, r.describeKid(ke))
			if ke.ExitCode == abi.ExitSetup {
				r.setupFailed = true
			}
			return
		}
		desc := r.describeKid(ke)
		key := strings.TrimPrefix(desc, fmt.Sprintf("kid %d (pid %d) ", ke.Kid, ke.Pid))
		if r.kidFailures[key] == 0 {
			r.con.printf("%s", desc)
		}
		r.kidFailures[key]++
	default:
		r.failed = true
		r.con.printf("%s", trimHost(err.Error()))
	}
}

// cause says why a request failed.
func (r *runState) cause(err error) string {
	var ke *host.KidError
	switch {
	case errors.Is(err, frames.ErrTooLarge):
		return fmt.Sprintf("larger than the limit of %d bytes (--max-frame), skipped", r.plan.cfg.MaxFrame)
	case errors.Is(err, host.ErrTimeout):
		return fmt.Sprintf("timed out: it ran longer than --timeout %v", r.plan.cfg.Timeout)
	case errors.Is(err, host.ErrKidsFailing):
		return "not run: the kids keep failing"
	case errors.As(err, &ke):
		return "failed: " + r.describeKid(ke)
	}
	return trimHost(err.Error())
}

func (r *runState) describeKid(ke *host.KidError) string {
	s := fmt.Sprintf("kid %d (pid %d) ", ke.Kid, ke.Pid)
	switch {
	case errors.Is(ke.Err, host.ErrTimeout):
		s += "was stopped: a request ran longer than --timeout"
	case errors.Is(ke.Err, host.ErrProtocol):
		s += "broke the reply protocol: " + strings.TrimPrefix(ke.Err.Error(), host.ErrProtocol.Error()+": ")
		if r.plan.fromSection {
			s += " (the module's wasmpool section declares one-to-one; run with --ordered=false)"
		} else if r.plan.cfg.Mode == host.Ordered {
			s += " (drop --ordered for this guest)"
		}
	case ke.Err != nil:
		s += "failed: " + trimHost(ke.Err.Error())
	case ke.Trap != "":
		s += "trapped: " + ke.Trap
	case ke.Signal != "":
		s += "was killed by " + ke.Signal
	case ke.ExitCode == abi.ExitSetup:
		s += "could not load the module"
	default:
		s += fmt.Sprintf("exited with status %d", ke.ExitCode)
	}
	return s
}

// trimHost drops the package prefix of host errors: the CLI speaks for
// itself.
func trimHost(msg string) string {
	return strings.TrimPrefix(msg, "host: ")
}

// setupError words an error of host.New.
func setupError(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{host.ErrModule, host.ErrConfig} {
		msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
	}
	return trimHost(msg)
}

// memoryHint words a module that cannot live within --mem: the runtime
// refuses it at compile time in its own terms.
func memoryHint(err error, p *plan) error {
	if p.cfg.MemoryLimit == 0 || p.memory == nil || !errors.Is(err, host.ErrModule) {
		return err
	}
	pages := (p.cfg.MemoryLimit + 65535) / 65536
	if int64(p.memory.Min) <= pages {
		return err
	}
	return fmt.Errorf("%s needs at least %d pages of memory (%s), more than --mem %s allows (%d pages)",
		p.module, p.memory.Min, formatSize(int64(p.memory.Min)<<16), formatSize(p.cfg.MemoryLimit), pages)
}

// pathError words a file error as "name: reason", as cat does.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// interrupted reports a run stopped by a signal and returns the exit
// status: 128 + the signal's number (130 for SIGINT).
func interrupted(ctx context.Context, con *console, when string) int {
	name, code := "interrupt", exitSignal
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		name, code = se.name(), se.code()
	}
	con.printf("stopped by %s %s", name, when)
	return code
}

// plan reads the flags and the module, and has the library apply the
// module's section to the flags' Config: what is left here is mapping
// flags to host.Config and words for the library's typed errors.
func (o *runFlags) plan(args []string) (*plan, error) {
	module, guestArgs, err := o.fs.moduleAndArgs(args, "wasmpool run [flags] module.wasm [-- guest args...]")
	if err != nil {
		return nil, err
	}
	p := &plan{module: module}
	code, err := readModule(p.module)
	if err != nil {
		return nil, err
	}
	// A quick look at the module's interface, without compiling it: what
	// would stop it from running as a kid is said here, in words, before
	// the pool compiles it or kids die of it.
	info, err := inspect.InspectInterface(context.Background(), p.module, code)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	for _, problem := range info.Problems {
		switch problem.Kind {
		case inspect.BadSection:
			// said by WithSection below, unless --ignore-section
		case inspect.Malformed:
			return nil, &usageError{fmt.Sprintf("%s: %s", p.module, problem.Text)}
		default:
			return nil, &usageError{fmt.Sprintf("%s cannot run as a kid: %s", p.module, problem.Text)}
		}
	}
	p.memory = info.Memory

	retries := 0
	p.retriesGiven = o.fs.seen[o.retryOpt]
	if o.fs.seen[o.retryOpt] {
		retries = o.retries
		if retries == 0 {
			retries = -1
		}
	}
	cfg := host.Config{
		Module:        p.module,
		Kids:          o.jobs,
		Args:          guestArgs,
		Env:           o.env,
		Dirs:          o.dirs,
		CacheDir:      o.cacheDir,
		MaxFrame:      int(o.maxFrame),
		MemoryLimit:   o.mem,
		Timeout:       o.timeout,
		MaxRequests:   o.maxRequests,
		Retries:       retries,
		IgnoreSection: o.ignoreSection,
		Instances:     o.instances,
		BatchSize:     int(o.block),
	}
	if o.fs.seen[o.framesOpt] {
		cfg.Framing = o.frames
	}
	if o.fs.seen[o.replyOpt] {
		reply := o.replyFrames
		cfg.ReplyFraming = &reply
	}
	if cfg.Kids == 0 {
		cfg.Kids = defaultJobs()
	}
	resolved, section, err := cfg.WithSection()
	if err == nil && o.fs.seen[o.framesOpt] && resolved.Framing != o.frames {
		// --frames lines is Config's zero value, which takes the section's
		// framing: the library cannot tell it was asked for.
		err = &host.ConflictError{Module: p.module, Field: "Framing", Config: o.frames, Section: resolved.Framing}
	}
	if err != nil {
		return nil, p.checkGrants(err)
	}
	// --ordered keeps input order: one reply per request for a guest that
	// declares it (or that runs in a session, where nothing else can be
	// told apart); any number per request, by batch, for any other.
	if o.fs.seen[o.orderedOpt] {
		resolved.Mode = host.Stream
		if o.ordered {
			resolved.Mode = host.Keep
			if section != nil && section.OneToOne || o.instances == host.SessionInstances {
				resolved.Mode = host.Ordered
			}
		}
	}
	p.cfg, p.section = resolved, section
	p.framing, p.reply = resolved.Framing, resolved.Framing
	if resolved.ReplyFraming != nil {
		p.reply = *resolved.ReplyFraming
	}
	p.fromSection = section != nil && section.OneToOne && !o.fs.seen[o.orderedOpt]

	if n := p.framing.Size(); n > 0 && int64(n) > o.maxFrame {
		return nil, o.fs.errorf("fixed:%d records are larger than --max-frame %d", n, o.maxFrame)
	}
	if n := p.reply.Size(); n > 0 && int64(n) > o.maxFrame {
		return nil, o.fs.errorf("fixed:%d replies are larger than --max-frame %d", n, o.maxFrame)
	}
	if o.mem > 0 && p.memory != nil {
		if err := memoryHint(host.ErrModule, &plan{module: p.module, memory: p.memory, cfg: host.Config{MemoryLimit: o.mem}}); err != host.ErrModule {
			return nil, &usageError{err.Error()}
		}
	}
	return p, nil
}

// checkGrants words, in flags, the library's refusal to start a module
// against its wasmpool section: a need not granted, a framing flag that
// contradicts it, or a section that breaks the format.
func (p *plan) checkGrants(err error) error {
	var ge *host.GrantError
	var ce *host.ConflictError
	var se *inspect.SectionError
	switch {
	case errors.As(err, &ge) && ge.Env != nil:
		return &usageError{fmt.Sprintf("%s needs the environment variable %s (its wasmpool section says so): pass --env %s=VALUE, or --env %s to pass yours", p.module, ge.Env.Name, ge.Env.Name, ge.Env.Name)}
	case errors.As(err, &ge) && ge.ReadOnly != "":
		return &usageError{fmt.Sprintf("%s writes under %s (its wasmpool section says so), but --dir grants %s read-only: drop the :ro", p.module, ge.Dir.Path, ge.ReadOnly)}
	case errors.As(err, &ge):
		ro := ":ro"
		if ge.Dir.Write {
			ro = ""
		}
		return &usageError{fmt.Sprintf("%s needs a directory at %s (its wasmpool section says so): grant one with --dir HOSTDIR:%s%s", p.module, ge.Dir.Path, ge.Dir.Path, ro)}
	case errors.As(err, &ce):
		flag, what := "--frames", "framing"
		if ce.Field == "ReplyFraming" {
			flag, what = "--reply-frames", "reply framing"
		}
		return &usageError{fmt.Sprintf("%s %s contradicts the %s %s that the wasmpool section of %s declares: drop the flag, or pass --ignore-section to run it with yours", flag, ce.Config, what, ce.Section, p.module)}
	case errors.As(err, &se):
		return &usageError{fmt.Sprintf("%s: %s (--ignore-section ignores it)", p.module, strings.TrimPrefix(se.Error(), "inspect: "))}
	}
	return &usageError{setupError(err)}
}

// readModule reads a module file and checks that it is a WebAssembly core
// module, with a message for each way it may not be.
func readModule(path string) ([]byte, error) {
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, &usageError{pathError(err)}
	}
	if err := inspect.CheckHeader(path, code); err != nil {
		return nil, &usageError{err.Error()}
	}
	return code, nil
}
