package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// The harness runs guests in-process with wazero until package host can
// run them as kids: one runtime, each module compiled once per test binary.

var (
	rtOnce sync.Once
	rt     wazero.Runtime
)

func wazeroRuntime() wazero.Runtime {
	rtOnce.Do(func() {
		ctx := context.Background()
		cfg := wazero.NewRuntimeConfig().WithCompilationCache(wazero.NewCompilationCache())
		rt = wazero.NewRuntimeWithConfig(ctx, cfg)
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	})
	return rt
}

// module is a built guest, compiled on first use.
type module struct {
	path     string
	once     sync.Once
	compiled wazero.CompiledModule
	err      error
}

func (m *module) compile() (wazero.CompiledModule, error) {
	m.once.Do(func() {
		wasm, err := os.ReadFile(m.path)
		if err != nil {
			m.err = err
			return
		}
		m.compiled, m.err = wazeroRuntime().CompileModule(context.Background(), wasm)
	})
	return m.compiled, m.err
}

// result is what a guest run left.
type result struct {
	stdout, stderr []byte
	code           int   // exit status; -1 for a trap
	err            error // the trap
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, %d bytes on stdout, stderr %q, err %v", r.code, len(r.stdout), r.stderr, r.err)
}

// run runs the compiled guest with args (argv[1:]) on stdin, with an empty
// environment. out, if not nil, receives stdout (so that a reader can look
// at it while the guest runs).
func run(mod wazero.CompiledModule, args []string, stdin io.Reader, out *bytes.Buffer) result {
	return runEnv(mod, args, nil, stdin, out)
}

// runEnv is run with the environment variables env, "KEY=VALUE" each.
func runEnv(mod wazero.CompiledModule, args, env []string, stdin io.Reader, out *bytes.Buffer) result {
	if out == nil {
		out = new(bytes.Buffer)
	}
	var errb bytes.Buffer
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep(). // as package host does
		WithArgs(append([]string{"guest"}, args...)...).
		WithStdin(stdin).
		WithStdout(out).
		WithStderr(&errb)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		cfg = cfg.WithEnv(k, v)
	}
	ctx := context.Background()
	m, err := wazeroRuntime().InstantiateModule(ctx, mod, cfg)
	if m != nil {
		m.Close(ctx)
	}
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	var exit *sys.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = int(exit.ExitCode())
	default:
		r.code, r.err = -1, err
	}
	return r
}

// flushChecker is a guest's stdin that checks, at every read, that the
// guest has written the replies to all the requests it was given
// completely: a guest must flush before every read of stdin. It serves
// data framewise (a read returns at most the rest of one frame) or in the
// chunk sizes that next returns.
type flushChecker struct {
	data     []byte
	ends     []int // end of each request in data; a frame complete only at EOF has len(data)+1
	want     []byte
	wantEnds []int // end of the replies to each request in want
	next     func(max int) int
	out      *bytes.Buffer

	pos       int
	reads     int
	violation string
}

func (c *flushChecker) Read(p []byte) (int, error) {
	c.reads++
	complete := 0
	for complete < len(c.ends) && c.ends[complete] <= c.pos {
		complete++
	}
	if complete > 0 && c.violation == "" {
		need := c.wantEnds[complete-1]
		got := c.out.Bytes()
		if len(got) < need || !bytes.Equal(got[:need], c.want[:need]) {
			c.violation = fmt.Sprintf("read %d: the guest read stdin again after %d complete requests with %d of the %d bytes of their replies written",
				c.reads, complete, min(len(got), need), need)
		}
	}
	if c.pos == len(c.data) {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data)-c.pos)
	if c.next == nil { // framewise
		end := len(c.data)
		if complete < len(c.ends) && c.ends[complete] < end {
			end = c.ends[complete]
		}
		n = min(n, end-c.pos)
	} else {
		n = min(n, c.next(n))
	}
	copy(p, c.data[c.pos:c.pos+n])
	c.pos += n
	return n, nil
}
