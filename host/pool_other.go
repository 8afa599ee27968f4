//go:build !linux

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"

	"github.com/wasmpool/wasmpool/host/inspect"
)

// Kids run only on Linux (see ErrUnsupported). Elsewhere this file gives
// the package the API of pool.go, so that programs importing it build,
// and New says why it cannot start. TestSameAPIEverywhere keeps the two
// in step.

// Reply is one reply frame (see pool.go).
type Reply struct {
	Data  []byte
	Index int
	Kid   int
}

// Stats counts what the pool did during its last run (see pool.go).
type Stats struct {
	Requests       int
	Replies        int
	Errors         int
	Restarts       int
	Batches        int
	FileBatches    int
	SplicedBatches int
	MemoryOutputs  int
	PerKid         []int
}

// Progress is how far the current or last run is (see pool.go).
type Progress struct {
	Taken     int64
	Done      int64
	DoneBytes int64
}

// Errors of Run and Filter called at the wrong time (see pool.go).
var (
	ErrBusy   = errors.New("host: the pool is running already: runs do not overlap")
	ErrClosed = errors.New("host: the pool is closed")
)

// Pool is a pool of kid processes running one module; on this system New
// never returns one.
type Pool struct {
	cfg     Config
	section *inspect.Section
}

// New returns an error wrapping ErrUnsupported: kids need Linux.
func New(ctx context.Context, cfg Config) (*Pool, error) {
	return nil, fmt.Errorf("%w: this is %s/%s", ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}

func (p *Pool) Config() Config                     { return p.cfg }
func (p *Pool) Instances() Instances               { return AutoInstances }
func (p *Pool) Progress() Progress                 { return Progress{} }
func (p *Pool) Stats() Stats                       { return Stats{} }
func (p *Pool) Close() error                       { return nil }
func (p *Pool) unsupported(yield func(error) bool) { yield(ErrUnsupported) }

func (p *Pool) Run(ctx context.Context, requests iter.Seq[[]byte]) iter.Seq2[Reply, error] {
	return func(yield func(Reply, error) bool) { yield(Reply{Index: -1}, ErrUnsupported) }
}

func (p *Pool) Filter(ctx context.Context, dst io.Writer, src io.Reader) iter.Seq[error] {
	return p.unsupported
}

// ForkJoin returns an error wrapping ErrUnsupported: kids need Linux.
func ForkJoin(ctx context.Context, cfg Config, parts []Range, opts ForkJoinOptions) ([]PartResult, error) {
	return nil, fmt.Errorf("%w: this is %s/%s", ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}

// ServeKid says that kids run only on Linux (see remotekid.go).
func ServeKid() int {
	fmt.Fprintf(os.Stderr, "wasmpool kid: %v\n", ErrUnsupported)
	return 2
}
