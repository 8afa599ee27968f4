package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// Mode says how a guest's replies relate to its requests.
type Mode uint8

const (
	// Auto, the zero value: the mode the module's wasmpool section
	// declares, Ordered for one-to-one, else Stream (see
	// Config.WithSection). A pool's Config never holds Auto.
	Auto Mode = iota
	// Stream: 0, 1 or many replies per request, yielded as they arrive.
	// Reply.Index is -1.
	Stream
	// Tagged: exactly one reply per request, yielded as they arrive, each
	// with the index of its request.
	Tagged
	// Ordered: exactly one reply per request, yielded in input order.
	Ordered
	// Keep: 0, 1 or many replies per request, yielded in input order (as
	// parallel -k keeps it). It needs batch instances: the replies of a
	// batch come in one piece, after the replies of the batches before it.
	// Reply.Index is -1.
	Keep
)

func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case Stream:
		return "stream"
	case Tagged:
		return "tagged"
	case Ordered:
		return "ordered"
	case Keep:
		return "keep"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// OneToOne reports whether the mode matches each reply to a request.
func (m Mode) OneToOne() bool { return m == Tagged || m == Ordered }

// inOrder reports whether the mode yields replies in input order.
func (m Mode) inOrder() bool { return m == Ordered || m == Keep }

// Instances says how a kid runs the module: one instance for all the
// requests it is given, or a fresh one for each batch of them.
type Instances uint8

const (
	// AutoInstances: session instances for a module that declares the
	// session contract (it exports abi.SessionMarker, as every guest SDK
	// makes it do), batch instances for any other.
	AutoInstances Instances = iota
	// SessionInstances: one long-lived instance per kid, whose stdin is
	// the kid's request stream. The guest must flush its replies before
	// every read of stdin that may block, and in Tagged and Ordered modes
	// reply exactly once per request.
	SessionInstances
	// BatchInstances: a fresh instance per batch of whole frames; its
	// stdin is the batch, then EOF, and its output is taken whole when it
	// exits. Any WASI program works: one that reads ahead, buffers its
	// output, writes any number of lines per record or reads everything
	// before it writes. An instance that fails on a batch has its output
	// discarded; the batch is split and run again until the failing
	// record stands alone, and only that record fails.
	BatchInstances
)

func (i Instances) String() string {
	switch i {
	case AutoInstances:
		return "auto"
	case SessionInstances:
		return "session"
	case BatchInstances:
		return "batch"
	}
	return fmt.Sprintf("Instances(%d)", uint8(i))
}

// Dir grants a guest access to a host directory.
type Dir struct {
	Host     string // directory on the machine where the kid runs; must exist
	Guest    string // where the guest sees it; empty means the same path as Host
	ReadOnly bool
}

// Config configures a Pool. The zero value of every field but the module is
// a sensible default.
type Config struct {
	// Module is the path of the .wasm file. ModuleBytes, when not nil, is
	// the module itself and Module is then only its name in messages.
	Module      string
	ModuleBytes []byte

	// Command, instead of a module, runs a native program as each kid:
	// Command[0] is its path, the rest its arguments. It runs with the same
	// pipes, framing and dispatch, but NOT sandboxed: it is for trusted
	// filters and for measuring the pool against wasm kids. Args, Env, Dirs,
	// MemoryLimit and Timeout do not apply to it.
	Command []string

	// Kids is the number of kid processes on this machine; 0 means one
	// per CPU, or none if Remotes are given.
	Kids int

	// Remotes place more kids on other machines (see Remote). Kids are
	// numbered from 1 on this machine, then in the order of Remotes.
	Remotes []Remote

	// Framing cuts requests; the zero value is the framing the module's
	// wasmpool section declares, else frames.Lines. ReplyFraming cuts
	// replies; nil means the section's reply framing, else the same as
	// Framing. A framing set here that the section contradicts is an error
	// (see WithSection).
	Framing      frames.Framing
	ReplyFraming *frames.Framing

	// Mode relates replies to requests; the zero value, Auto, is the mode
	// the module's section declares (Ordered for one-to-one), else Stream.
	Mode Mode

	// Instances says whether kids run one instance of the module for all
	// their requests or a fresh one per batch; the zero value decides
	// from the module (see AutoInstances).
	Instances Instances

	// BatchSize is, with batch instances, the size of a batch in bytes,
	// cut back to a frame boundary (as parallel --block is). 0 lets the
	// pool choose: batches start at 64 KiB, grow while input is plentiful
	// up to 4 MiB, and the last ones are shared out among idle kids. A
	// frame larger than a batch is a batch of its own.
	BatchSize int

	// IgnoreSection: do not read the module's wasmpool section; nothing is
	// taken from it and nothing checked against it.
	IgnoreSection bool

	// Window bounds, in Ordered mode, how far the newest request sent may
	// run ahead of the oldest reply not yet yielded, and so the memory the
	// reorder buffer can hold. 0 means 65536.
	Window int

	// Args are the guest's arguments after its program name (argv[0] is the
	// module's base name). Env holds KEY=VALUE pairs; the guest sees no other
	// environment variable. Dirs are the only host directories it sees.
	Args []string
	Env  []string
	Dirs []Dir

	// Stderr receives each line a guest writes to its stderr, prefixed with
	// "kid N: ". nil means os.Stderr; io.Discard silences guests.
	Stderr io.Writer

	// CacheDir holds compiled modules, shared by kids and by later runs,
	// and a stamp for each module that compiled and passed the pool's
	// checks (a later pool of the module then starts its kids at once).
	// Empty means the user's cache directory (os.UserCacheDir) + "/wasmpool".
	CacheDir string

	// MaxFrame bounds the payload of a request or reply frame; 0 means
	// abi.DefaultMaxFrame. A larger request is reported as a *RequestError;
	// a kid writing a larger reply is stopped and reported.
	MaxFrame int

	// MemoryLimit caps each guest's linear memory in bytes, rounded up to
	// whole 64 KiB wasm pages; 0 leaves the module's own limit (at most 4 GiB).
	MemoryLimit int64

	// Timeout bounds the wall time a guest may spend on one request; the
	// kid is then stopped and replaced and the request reported with
	// ErrTimeout (it is not retried). 0 means no limit. A timed kid hands its
	// guest one request per read, which costs a little throughput.
	Timeout time.Duration

	// MaxRequests recycles a kid after it was given this many requests
	// (0: never), bounding what a leaky guest can accumulate.
	MaxRequests int

	// Retries is how many more times a request whose kid died is run, on
	// another kid, before it is reported as a *RequestError. The zero
	// value means the default, 1; a negative value means never (the CLI's
	// --retries 0). With batch instances it applies in every mode (a
	// failing record, once its batch is split down to it, runs again
	// alone); with session instances only in Tagged and Ordered modes: in
	// Stream mode a request the guest had seen may have been replied to in
	// part, so it is reported, not retried. A request that timed out is
	// not retried.
	Retries int

	// PipeSize is the requested capacity of each request and reply pipe in
	// bytes; 0 means 1 MiB for batch instances (whole batches cross them)
	// and 256 KiB for session ones. The kernel may round it or cap it
	// (unprivileged, at fs.pipe-max-size, 1 MiB by default).
	PipeSize int
}

// Errors of configuration and set-up; each error returned by New wraps one.
var (
	ErrConfig = errors.New("host: invalid config")
	ErrModule = errors.New("host: unusable module")
)

const (
	defaultWindow    = 1 << 16
	defaultPipeSize  = 256 << 10
	batchPipeSize    = 1 << 20
	defaultBatchSize = 4 << 20
	wasmPageSize     = 64 << 10
)

// normalize validates c and fills in its defaults. Every error names the
// field at fault.
func (c Config) normalize() (Config, error) {
	bad := func(field, format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if c.Module == "" && c.ModuleBytes == nil && len(c.Command) == 0 {
		return bad("Module", "no module given")
	}
	if len(c.Command) > 0 && (c.Module != "" || c.ModuleBytes != nil) {
		return bad("Command", "set either Module or Command, not both")
	}
	if c.Kids < 0 {
		return bad("Kids", "%d is negative", c.Kids)
	}
	if c.Kids == 0 && len(c.Remotes) == 0 {
		c.Kids = runtime.NumCPU()
	}
	c.Remotes = slices.Clone(c.Remotes)
	for i, r := range c.Remotes {
		switch {
		case len(c.Command) > 0:
			return bad("Remotes", "a native Command runs on this machine only")
		case r.Kids < 0:
			return bad(fmt.Sprintf("Remotes[%d].Kids", i), "%d is negative", r.Kids)
		case len(r.Command) == 0:
			return bad(fmt.Sprintf("Remotes[%d].Command", i), "empty: say how to reach %s", r)
		case r.Kids == 0:
			c.Remotes[i].Kids = 1
		}
	}
	if err := c.Framing.Validate(); err != nil {
		return bad("Framing", "%v", err)
	}
	if c.ReplyFraming == nil {
		f := c.Framing
		c.ReplyFraming = &f
	} else if err := c.ReplyFraming.Validate(); err != nil {
		return bad("ReplyFraming", "%v", err)
	}
	if c.Mode == Auto {
		c.Mode = Stream // WithSection resolves it; a Config that skipped it has no section
	}
	if c.Mode > Keep {
		return bad("Mode", "unknown mode %d", c.Mode)
	}
	if c.Instances > BatchInstances {
		return bad("Instances", "unknown value %d", c.Instances)
	}
	if c.BatchSize < 0 {
		return bad("BatchSize", "%d is negative", c.BatchSize)
	}
	if c.Window < 0 {
		return bad("Window", "%d is negative", c.Window)
	}
	if c.Window == 0 {
		c.Window = defaultWindow
	}
	for _, kv := range c.Env {
		k, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			return bad("Env", "%q is not KEY=VALUE", kv)
		case k == abi.FramesEnv || k == abi.ReplyFramesEnv:
			return bad("Env", "%s is the pool's to set: it tells the guest the framings (set Framing and ReplyFraming)", k)
		}
	}
	c.Dirs = slices.Clone(c.Dirs) // filled in below: never write into the caller's slice
	for i, d := range c.Dirs {
		if d.Host == "" {
			return bad(fmt.Sprintf("Dirs[%d].Host", i), "empty")
		}
		abs, err := filepath.Abs(d.Host)
		if err != nil {
			return bad(fmt.Sprintf("Dirs[%d].Host", i), "%v", err)
		}
		// A grant names a directory of the machine where the kid runs:
		// with no kid here, the kids there check theirs.
		if c.Kids > 0 || len(c.Remotes) == 0 {
			st, err := os.Stat(abs)
			if err != nil {
				return bad(fmt.Sprintf("Dirs[%d].Host", i), "%v", err)
			}
			if !st.IsDir() {
				return bad(fmt.Sprintf("Dirs[%d].Host", i), "%s is not a directory", d.Host)
			}
		}
		if d.Guest == "" {
			d.Guest = d.Host
		}
		d.Host = abs
		c.Dirs[i] = d
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if c.CacheDir == "" {
		c.CacheDir = defaultCacheDir()
	}
	if c.MaxFrame < 0 {
		return bad("MaxFrame", "%d is negative", c.MaxFrame)
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = abi.DefaultMaxFrame
	}
	if c.MemoryLimit < 0 || c.MemoryLimit > 1<<32 {
		return bad("MemoryLimit", "%d is outside 0..4 GiB", c.MemoryLimit)
	}
	if c.Timeout < 0 {
		return bad("Timeout", "%v is negative", c.Timeout)
	}
	if c.MaxRequests < 0 {
		return bad("MaxRequests", "%d is negative", c.MaxRequests)
	}
	if c.Retries == 0 {
		c.Retries = 1
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.PipeSize < 0 {
		return bad("PipeSize", "%d is negative", c.PipeSize)
	}
	return c, nil
}

// resolveInstances decides how kids run the module: session says whether
// the module declares the session contract.
func (c Config) resolveInstances(session bool) (Instances, error) {
	bad := func(format string, args ...any) (Instances, error) {
		return 0, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case len(c.Command) > 0 && c.Instances == BatchInstances:
		return bad("Instances: a native Command runs as one long-lived process per kid; batch instances are for modules")
	case len(c.Command) > 0 && c.Mode == Keep:
		return bad("Mode: Keep needs batch instances, and a native Command runs one process per kid")
	case len(c.Command) > 0:
		return SessionInstances, nil
	case c.Instances == SessionInstances && c.Mode == Keep:
		return bad("Mode: Keep needs batch instances: one long-lived instance cannot tell which replies belong to which request")
	case c.Instances != AutoInstances:
		return c.Instances, nil
	case session && c.Mode != Keep:
		return SessionInstances, nil
	}
	return BatchInstances, nil
}

// pipeSize is the capacity to ask for the pipes of a kid that runs
// instances as instance says (see PipeSize).
func (c Config) pipeSize(instance string) int {
	switch {
	case c.PipeSize > 0:
		return c.PipeSize
	case instance == kidside.Batch:
		return batchPipeSize
	}
	return defaultPipeSize
}

// defaultCacheDir is CacheDir's default: the user's cache directory
// (os.UserCacheDir, else the temporary one) + "/wasmpool".
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "wasmpool")
}

// kids is the number of kids, here and on other machines.
func (c Config) kids() int {
	n := c.Kids
	for _, r := range c.Remotes {
		n += r.Kids
	}
	return n
}

// remoteOf returns the Remote kid number slot runs on, or nil for this
// machine.
func (c Config) remoteOf(slot int) *Remote {
	n := c.Kids
	if slot <= n {
		return nil
	}
	for i := range c.Remotes {
		if n += c.Remotes[i].Kids; slot <= n {
			return &c.Remotes[i]
		}
	}
	return nil
}

// outputLimit bounds the output of one batch instance: the limit on a
// frame, plus sixteen times the largest batch.
func (c Config) outputLimit() int64 {
	return int64(c.MaxFrame) + 16*int64(c.maxBatch())
}

// maxBatch is the largest batch: BatchSize, or the default.
func (c Config) maxBatch() int {
	if c.BatchSize > 0 {
		return c.BatchSize
	}
	return defaultBatchSize
}

// memoryPages returns the memory limit in wasm pages, 0 for none.
func (c Config) memoryPages() uint32 {
	return uint32((c.MemoryLimit + wasmPageSize - 1) / wasmPageSize)
}

// the time a cancelled run gives kids to finish the requests they hold
const stopGrace = time.Second
