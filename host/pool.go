//go:build linux

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/inspect"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// Reply is one reply frame.
type Reply struct {
	// Data is the reply's payload. It points into the pool's buffers and is
	// valid only until the loop over replies goes on: copy what you keep.
	Data []byte
	// Index is the index of the request this replies to, counting from 0,
	// in Tagged and Ordered modes; -1 in Stream mode. With an error it is
	// the failed request's index, or -1 for an error of no one request.
	Index int
	// Kid is the number of the kid that replied, from 1 (0 for errors that
	// no kid caused).
	Kid int
}

// Stats counts what the pool did during its last run.
type Stats struct {
	Requests int // requests taken from the caller
	Replies  int // reply frames received
	Errors   int // requests that ended in an error instead of a reply
	Restarts int // kids that failed and were replaced
	Batches  int // batches run (batch instances), parts of failed ones included
	// FileBatches counts the batches that kids read from the input file
	// themselves rather than through their pipe (Filter from a regular
	// file, kids on this machine).
	FileBatches int
	// SplicedBatches counts the batches whose output went from the kid's
	// pipe to Filter's output pipe by splice(2), not through this process.
	SplicedBatches int
	// MemoryOutputs counts the batches whose output the kid handed over in
	// a memory file, copied into Filter's output file by sendfile(2), not
	// read through this process.
	MemoryOutputs int
	PerKid        []int // requests given to each kid slot, retries included
}

// Progress is how far the current or last run is. Pool.Progress may be
// called from any goroutine while a run goes on.
type Progress struct {
	Taken int64 // records taken from the input
	Done  int64 // records finished: replied to, or failed
	// DoneBytes counts the input bytes of the finished records, with
	// batch instances (0 with session instances).
	DoneBytes int64
}

// progressCounts are the pool's live counts behind Progress.
type progressCounts struct {
	taken, done, doneBytes atomic.Int64
}

// Progress returns how far the current or last run is.
func (p *Pool) Progress() Progress {
	return Progress{Taken: p.progress.taken.Load(), Done: p.progress.done.Load(), DoneBytes: p.progress.doneBytes.Load()}
}

// Pool is a pool of kid processes running one module. Create it with New,
// stream requests through it with Run, and release it with Close.
type Pool struct {
	cfg     Config
	mod     compiled
	section *inspect.Section // applied by New, nil if none

	instances Instances // as resolved by New
	progress  progressCounts

	mu        sync.Mutex
	idle      []*kid      // session kids started by New for the first run
	idleBatch []*batchKid // batch kids waiting for the next run
	running   context.CancelFunc
	closed    bool
	stats     Stats
}

// New applies the module's wasmpool section (see Config.WithSection),
// compiles the module (once: kids load it from the cache) and starts the
// kids. Errors wrap ErrConfig or ErrModule (a *GrantError, a
// *ConflictError among them), or say which kid could not start.
func New(ctx context.Context, cfg Config) (*Pool, error) {
	cfg, section, err := cfg.WithSection()
	if err == nil {
		cfg, err = cfg.normalize()
	}
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg, section: section}
	if len(cfg.Command) == 0 {
		if p.mod, err = compile(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if p.instances, err = cfg.resolveInstances(p.mod.session || section != nil && section.Session); err != nil {
		return nil, err
	}
	for slot := 1; slot <= cfg.kids(); slot++ {
		if p.instances == BatchInstances {
			proc, err := p.launch(slot, kidside.Batch)
			if err != nil {
				p.Close()
				return nil, err
			}
			p.idleBatch = append(p.idleBatch, newBatchKid(slot, proc))
			continue
		}
		k, err := p.startKid(slot)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.idle = append(p.idle, k)
	}
	return p, nil
}

// Config returns the pool's configuration as New resolved it: defaults
// filled in, and what the module's wasmpool section declares applied.
func (p *Pool) Config() Config { return p.cfg }

// Instances says how the pool's kids run the module, as New resolved
// Config.Instances.
func (p *Pool) Instances() Instances { return p.instances }

func (p *Pool) startKid(slot int) (*kid, error) {
	if len(p.cfg.Command) > 0 {
		proc, err := launchCommand(p.cfg.Command, slot, p.cfg.pipeSize(kidside.Session))
		if err != nil {
			return nil, err
		}
		k := newKid(slot, proc, p.cfg.Framing)
		k.native = true
		return k, nil
	}
	proc, err := p.launch(slot, kidside.Session)
	if err != nil {
		return nil, err
	}
	return newKid(slot, proc, p.cfg.Framing), nil
}

// launch starts kid number slot, here or on its Remote, to run instances
// as instance says.
func (p *Pool) launch(slot int, instance string) (*process, error) {
	return p.launchSpec(p.spec(slot, instance))
}

// launchSpec starts a kid of the pool from its spec: on this machine, or
// through a bridge to its Remote.
func (p *Pool) launchSpec(spec kidside.Spec) (*process, error) {
	if r := p.cfg.remoteOf(spec.Kid); r != nil {
		spec.Remote, spec.Where = r.argv(), r.String()
		spec.ModuleSHA256, spec.ModuleSize = p.mod.sha256, p.mod.size
	}
	return launchLocal(spec, p.cfg.pipeSize(spec.Instance))
}

// spec is what kid number slot is told, to run instances as instance says.
func (p *Pool) spec(slot int, instance string) kidside.Spec {
	dirs := make([]kidside.Dir, len(p.cfg.Dirs))
	for i, d := range p.cfg.Dirs {
		dirs[i] = kidside.Dir(d)
	}
	return kidside.Spec{
		Version:      abi.Version,
		Parent:       os.Getpid(),
		Kid:          slot,
		Module:       p.mod.path,
		CacheDir:     p.cfg.CacheDir,
		MemoryPages:  p.cfg.memoryPages(),
		Args:         append([]string{filepath.Base(p.mod.name)}, p.cfg.Args...),
		Env:          p.guestEnv(),
		Dirs:         dirs,
		Framing:      p.cfg.Framing.String(),
		ReplyFraming: p.cfg.ReplyFraming.String(),
		Instance:     instance,
		OneAtATime:   p.cfg.Timeout > 0,
		OutputLimit:  p.cfg.outputLimit(),
	}
}

// Errors of Run and Filter called at the wrong time.
var (
	ErrBusy   = errors.New("host: the pool is running already: runs do not overlap")
	ErrClosed = errors.New("host: the pool is closed")
)

// guestEnv is the guest's environment: Config.Env, and the pool's
// framings, so that an SDK guest frames as the pool does.
func (p *Pool) guestEnv() []string {
	return append(slices.Clip(p.cfg.Env),
		abi.FramesEnv+"="+p.cfg.Framing.String(),
		abi.ReplyFramesEnv+"="+p.cfg.ReplyFraming.String())
}

// Run streams requests through the kids and yields the replies.
//
// The requests are taken in a goroutine of Run's own, concurrently with
// the loop over replies, so that replies flow while the source waits for
// input and the source is read while kids work. Each request is copied as
// it is yielded: the iterator may reuse its slice. If the loop ends early,
// the iterator is asked for no more after its current yield returns; one
// that blocks (on a terminal, say) should watch ctx.
//
// Errors come through the iteration: a *KidError when a kid fails (it is
// replaced and the run goes on), a *RequestError for each request that will
// get no reply, and, last, a fatal error (the context's, or one wrapping
// ErrKidsFailing) after which the run is over. Breaking out of the loop
// stops the run: every kid is killed and reaped before the loop returns.
// With batch instances, an instance's failure is not reported on its own:
// the batch is split until the record that fails stands alone, and that
// record's *RequestError carries the instance's *KidError.
//
// Run may be called again after a run is over, and finds the kids up:
// batch kids, and session kids of a module that declares the session
// contract, whose instances then serve the next run's requests too (their
// guests keep their state). A session kid of any other module (one run
// with SessionInstances by force) ends with its run's input, as it may
// hold its replies until its stdin ends. Runs do not overlap: a second
// Run while one is going yields ErrBusy.
func (p *Pool) Run(ctx context.Context, requests iter.Seq[[]byte]) iter.Seq2[Reply, error] {
	return func(yield func(Reply, error) bool) {
		fail := func(err error) bool {
			index := -1
			if re := (*RequestError)(nil); errors.As(err, &re) {
				index = re.Index
			}
			return yield(Reply{Index: index}, err)
		}
		if p.instances == BatchInstances {
			output := func(f *finished) bool {
				return p.yieldFrames(f, yield)
			}
			p.runBatches(ctx, func(_ *batchRun, wake int) batchInput {
				return &recordInput{in: newInbox(records(requests), wake)}
			}, output, true, fail)
			return
		}
		p.runSession(ctx, records(requests), yield, fail)
	}
}

// Filter streams the frames of src through the kids and writes their
// replies to dst, yielding each error as Run does. With batch instances
// the input is cut into batches of whole frames as it comes, without
// cutting frame by frame, and each batch's output is written whole, in
// input order in the Keep and Ordered modes. A frame larger than MaxFrame
// is skipped as it streams by and reported as a *RequestError without its
// payload; a last frame cut short is reported with what came of it. A
// write error on dst ends the run: a *WriteError is the last error
// yielded. Three cases take the parent off the data path with batch
// instances: from a regular file (src an *os.File), kids on this machine
// read their batches from it themselves; into a pipe in blocking mode
// (dst an *os.File, as a shell's pipe is), a batch's output that can go
// out at once is spliced from the kid's pipe into dst; into a regular
// file (dst an *os.File not opened with O_APPEND), kids on this machine
// hand their outputs over in memory files, which the kernel copies into
// dst at its offset.
func (p *Pool) Filter(ctx context.Context, dst io.Writer, src io.Reader) iter.Seq[error] {
	return func(yield func(error) bool) {
		var writeErr error
		fail := func(err error) bool {
			if errors.Is(err, context.Canceled) && writeErr != nil {
				err = writeErr
			}
			return yield(err)
		}
		write := func(b []byte) bool {
			if _, err := dst.Write(b); err != nil {
				writeErr = &WriteError{Err: err}
				yield(writeErr)
				return false
			}
			return true
		}
		if p.instances == BatchInstances {
			p.runBatches(ctx, func(d *batchRun, wake int) batchInput {
				var bytes byteSource
				if f, ok := src.(*os.File); ok && p.cfg.Kids > 0 {
					if fs := newFileSource(f); fs != nil {
						d.file, d.fileGen, bytes = f, fileGens.Add(1), fs
					}
				}
				if bytes == nil {
					bytes = newByteInbox(src, p.cfg.Framing, wake, max(readChunk, 2*p.cfg.maxBatch()))
				}
				failed := func(err *WriteError) {
					writeErr = err
					yield(err)
				}
				if fd, kind := outputFD(dst); fd >= 0 && kind == unix.S_IFIFO {
					d.outPipe = &outPipe{fd: fd, failed: failed}
				} else if fd >= 0 {
					d.outFile = &outFile{fd: fd, failed: failed}
				}
				return &streamInput{src: bytes, f: p.cfg.Framing, max: p.cfg.MaxFrame}
			}, func(f *finished) bool { return write(f.out) }, true, fail)
			return
		}
		var buf []byte
		p.runSession(ctx, frameRecords(src, p.cfg.Framing, p.cfg.MaxFrame), func(r Reply, err error) bool {
			if err != nil {
				return fail(err)
			}
			buf, err = p.cfg.ReplyFraming.Append(buf[:0], r.Data)
			if err != nil { // a reply cut from the stream always frames again
				return fail(err)
			}
			return write(buf)
		}, fail)
	}
}

// frameRecords cuts src into the payloads of its frames, and an error for
// each frame over maxFrame (skipped) or cut short.
func frameRecords(src io.Reader, f frames.Framing, maxFrame int) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		r := frames.NewReader(src, f)
		r.SetMaxFrame(maxFrame)
		r.SkipTooLarge()
		for r.Scan() {
			if err := r.Skipped(); err != nil {
				if !yield(nil, fmt.Errorf("%w; it is skipped", err)) {
					return
				}
				continue
			}
			if !yield(r.Bytes(), nil) {
				return
			}
		}
		if err := r.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// yieldFrames yields the reply frames of a batch's output, each with the
// index of its request in the one-reply modes.
func (p *Pool) yieldFrames(f *finished, yield func(Reply, error) bool) bool {
	out, i := f.out, 0
	for len(out) > 0 {
		adv, frame, err := p.cfg.ReplyFraming.Split(out, true, 0)
		if err != nil || adv == 0 {
			return yield(Reply{Index: -1, Kid: f.kid}, fmt.Errorf("%w: batch output: %v", ErrProtocol, err))
		}
		index := -1
		if p.cfg.Mode.OneToOne() {
			index = f.first + i
		}
		if !yield(Reply{Data: frame, Index: index, Kid: f.kid}, nil) {
			return false
		}
		out, i = out[adv:], i+1
	}
	return true
}

// begin starts a run: it marks the pool running and returns the run's
// context and how to end the run.
func (p *Pool) begin(ctx context.Context) (context.Context, func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return nil, nil, ErrClosed
	case p.running != nil:
		return nil, nil, ErrBusy
	}
	ctx, cancel := context.WithCancel(ctx)
	p.running = cancel
	p.stats = Stats{PerKid: make([]int, p.cfg.kids())}
	p.progress.taken.Store(0)
	p.progress.done.Store(0)
	p.progress.doneBytes.Store(0)
	return ctx, func() {
		cancel()
		p.mu.Lock()
		p.running = nil
		p.mu.Unlock()
	}, nil
}

// runSession runs the session dispatch loop over requests.
func (p *Pool) runSession(ctx context.Context, requests iter.Seq2[[]byte, error], yield func(Reply, error) bool, fail func(error) bool) {
	ctx, end, err := p.begin(ctx)
	if err != nil {
		fail(err)
		return
	}
	defer end()
	p.mu.Lock()
	kids := p.idle
	p.idle = nil
	p.mu.Unlock()
	d := &dispatch{p: p, cfg: p.cfg, ctx: ctx, yield: yield, kids: make([]*kid, p.cfg.kids()), lost: newLostSlots(p.cfg),
		keepWarm: p.mod.session || p.section != nil && p.section.Session}
	for _, k := range kids {
		d.kids[k.slot-1] = k
	}
	if p.cfg.Mode == Ordered {
		d.order = make([]orderSlot, p.cfg.Window)
	}
	if err := unix.Pipe2(d.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		d.shutdown()
		fail(fmt.Errorf("host: pipe: %w", err))
		return
	}
	defer d.shutdown()
	d.inbox = newInbox(requests, d.wake[1])
	defer d.inbox.close()
	d.run()
	if d.endedClean() { // the kids left are idle: they wait for the next run
		p.mu.Lock()
		for slot, k := range d.kids {
			if p.closed || ctx.Err() != nil {
				break // Close came meanwhile: shutdown kills them
			}
			if k != nil {
				p.idle = append(p.idle, k)
				d.kids[slot] = nil
			}
		}
		p.mu.Unlock()
	}
}

// runBatches runs the batch dispatch loop over the input that setup
// makes, given the loop (which it may set up further: a file its kids
// read) and its wake pipe; recycle says output keeps no part of an
// output. The kids that are well at the end stay for the next run.
func (p *Pool) runBatches(ctx context.Context, setup func(d *batchRun, wake int) batchInput, output func(*finished) bool, recycle bool, fail func(error) bool) {
	ctx, end, err := p.begin(ctx)
	if err != nil {
		fail(err)
		return
	}
	defer end()
	d := &batchRun{p: p, cfg: p.cfg, ctx: ctx, output: output, recycle: recycle, fail: fail, kids: make([]*batchKid, p.cfg.kids()), done: map[int]*finished{}, lost: newLostSlots(p.cfg)}
	p.mu.Lock()
	copy(d.kids, p.idleBatch)
	p.idleBatch = nil
	p.mu.Unlock()
	if err := unix.Pipe2(d.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		d.input = nilInput{}
		d.shutdown()
		fail(fmt.Errorf("host: pipe: %w", err))
		return
	}
	d.input = setup(d, d.wake[1])
	d.run()
}

// Stats returns the counts of the current or last run. Call it from the
// goroutine that runs the loop, or after the loop.
func (p *Pool) Stats() Stats {
	s := p.stats
	s.PerKid = append([]int(nil), s.PerKid...)
	return s
}

// Close stops a run in progress, kills and reaps kids that were never used,
// and makes later runs fail. It is safe to call more than once.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running != nil {
		p.running()
	}
	p.closed = true
	for _, k := range p.idle {
		k.kill(errStopped)
		k.reap(false)
	}
	for _, k := range p.idleBatch {
		k.kill(errStopped)
		k.wait()
	}
	p.idle, p.idleBatch = nil, nil
	return nil
}
