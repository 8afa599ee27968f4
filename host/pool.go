package host

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/inspect"
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
	Requests int   // requests taken from the caller
	Replies  int   // reply frames received
	Errors   int   // requests that ended in an error instead of a reply
	Restarts int   // kids that failed and were replaced
	PerKid   []int // requests given to each kid slot, retries included
}

// Pool is a pool of kid processes running one module. Create it with New,
// stream requests through it with Run, and release it with Close.
type Pool struct {
	cfg     Config
	mod     compiled
	section *inspect.Section // applied by New, nil if none

	mu      sync.Mutex
	idle    []*kid // kids started by New for the first run
	running context.CancelFunc
	closed  bool
	stats   Stats
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
	for slot := 1; slot <= cfg.Kids; slot++ {
		k, err := p.startKid(slot)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.idle = append(p.idle, k)
	}
	return p, nil
}

// Config returns the pool's configuration with its defaults filled in.
func (p *Pool) Config() Config { return p.cfg }

func (p *Pool) startKid(slot int) (*kid, error) {
	spec := kidSpec{
		Version:     abi.Version,
		Parent:      os.Getpid(),
		Kid:         slot,
		Module:      p.mod.path,
		CacheDir:    p.cfg.CacheDir,
		MemoryPages: p.cfg.memoryPages(),
		Args:        append([]string{filepath.Base(p.mod.name)}, p.cfg.Args...),
		Env:         p.cfg.Env,
		Dirs:        p.cfg.Dirs,
		Framing:     p.cfg.Framing.String(),
		Timeout:     int64(p.cfg.Timeout),
	}
	if len(p.cfg.Command) > 0 {
		proc, err := launchCommand(p.cfg.Command, slot, p.cfg.PipeSize)
		if err != nil {
			return nil, err
		}
		k := newKid(slot, proc, p.cfg.Framing)
		k.native = true
		return k, nil
	}
	proc, err := launch(spec, p.cfg.PipeSize)
	if err != nil {
		return nil, err
	}
	return newKid(slot, proc, p.cfg.Framing), nil
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
//
// Run may be called again after a run is over; each run after the first
// starts new kids. Runs do not overlap.
func (p *Pool) Run(ctx context.Context, requests iter.Seq[[]byte]) iter.Seq2[Reply, error] {
	return func(yield func(Reply, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		p.mu.Lock()
		if p.closed || p.running != nil {
			p.mu.Unlock()
			what := "closed"
			if !p.closed {
				what = "already running"
			}
			yield(Reply{Index: -1}, fmt.Errorf("host: Run: the pool is %s", what))
			return
		}
		p.running = cancel
		kids := p.idle
		p.idle = nil
		p.stats = Stats{PerKid: make([]int, p.cfg.Kids)}
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.running = nil
			p.mu.Unlock()
		}()

		d := &dispatch{p: p, cfg: p.cfg, ctx: ctx, yield: yield, kids: make([]*kid, p.cfg.Kids)}
		copy(d.kids, kids)
		if p.cfg.Mode == Ordered {
			d.order = make([]orderSlot, p.cfg.Window)
		}
		if err := unix.Pipe2(d.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			d.shutdown()
			yield(Reply{Index: -1}, fmt.Errorf("host: pipe: %w", err))
			return
		}
		defer d.shutdown()
		d.inbox = newInbox(requests, d.wake[1])
		defer d.inbox.close()
		d.run()
	}
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
	p.idle = nil
	return nil
}
