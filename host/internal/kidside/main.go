//go:build linux

package kidside

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
)

// Main runs a kid from its specification (the value of abi.KidEnv) and
// returns the process exit code.
func Main(specJSON string) int {
	var spec Spec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil || spec.Parent == 0 {
		return fail(abi.ExitNoParent, "%s is set but holds no kid specification: this program runs as a wasmpool kid only when a pool starts it; unset %s to run it yourself", abi.KidEnv, abi.KidEnv)
	}
	if os.Getppid() != spec.Parent {
		return fail(abi.ExitNoParent, "this process was started in kid mode (%s is set) but not by its wasmpool pool (pid %d); unset %s to run the program itself", abi.KidEnv, spec.Parent, abi.KidEnv)
	}
	if spec.Version != abi.Version {
		return fail(abi.ExitSetup, "kid protocol version %d, parent speaks %d", abi.Version, spec.Version)
	}
	os.Unsetenv(abi.KidEnv)
	if spec.Remote != nil {
		return bridge(spec)
	}
	lastFD := RepliesFD
	if spec.Instance == Batch {
		lastFD = ControlFD
	}
	confine(lastFD)

	ctx := experimental.WithMemoryAllocator(context.Background(), allocateMemory)
	g, err := load(ctx, spec)
	if err != nil {
		return fail(abi.ExitSetup, "%v", err)
	}
	var replies, reports io.Writer = os.NewFile(RepliesFD, "replies"), os.NewFile(ReportsFD, "reports")
	if spec.Muxed {
		m := NewMessageWriter(replies)
		replies, reports = m.Writer(MsgReplies), m.Writer(MsgReports)
	}
	// Give wazero no *os.File: given one, a Go guest's start-up sets
	// O_NONBLOCK on the real descriptors, which are shared with the parent,
	// and then busy-waits on them.
	stdin := struct{ io.Reader }{os.Stdin}
	stdout := struct{ io.Writer }{replies}
	stderr := struct{ io.Writer }{os.Stderr}
	switch spec.Instance {
	case Batch:
		framing, err := frames.Parse(spec.ReplyFraming)
		if err != nil {
			return fail(abi.ExitSetup, "%v", err)
		}
		return g.batches(ctx, os.Stdin, replies, reports, spec.OutputLimit, framing)
	case Once:
		return g.report(g.run(ctx, stdin, stdout, stderr), os.Stderr)
	case Session, "":
		framing, err := frames.Parse(spec.Framing)
		if err != nil {
			return fail(abi.ExitSetup, "%v", err)
		}
		in := newFeed(stdin, reports, framing, spec.OneAtATime)
		err = g.run(ctx, in, stdout, stderr)
		in.finish()
		return g.report(err, os.Stderr)
	}
	return fail(abi.ExitSetup, "unknown instance mode %q", spec.Instance)
}

func fail(code int, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "wasmpool: "+format+"\n", args...)
	return code
}

// guest is the module, compiled and ready to instantiate, with the module
// configuration every instance shares.
type guest struct {
	rt   wazero.Runtime
	mod  wazero.CompiledModule
	base wazero.ModuleConfig
	name string
}

// load sets up what every instance of the module needs, once per kid.
func load(ctx context.Context, spec Spec) (*guest, error) {
	rt, err := NewRuntime(ctx, spec.CacheDir, spec.MemoryPages)
	if err != nil {
		return nil, err
	}
	code, _, err := MapFile(spec.Module) // mapped for the kid's life: wazero keeps slices of it
	if err != nil {
		return nil, err
	}
	mod, err := rt.CompileModule(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", spec.Module, err)
	}
	cfg := wazero.NewModuleConfig().
		WithArgs(spec.Args...).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithName("").
		WithStartFunctions() // _start is called by run, after instantiation
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		cfg = cfg.WithEnv(k, v)
	}
	fsc, err := mountDirs(spec.Dirs)
	if err != nil {
		return nil, fmt.Errorf("granting directories: %v", err)
	}
	return &guest{rt: rt, mod: mod, base: cfg.WithFSConfig(fsc), name: spec.Module}, nil
}

// errSetup marks an instance that could not be instantiated: the kid's
// failure, not the guest's.
var errSetup = errors.New("instantiating")

// run runs one instance of the module on the given streams and returns how
// it ended: nil, a *sys.ExitError, a trap, or errSetup.
func (g *guest) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	inst, err := g.rt.InstantiateModule(ctx, g.mod, g.base.WithStdin(stdin).WithStdout(stdout).WithStderr(stderr))
	if err != nil {
		return fmt.Errorf("%w %s: %v", errSetup, g.name, err)
	}
	_, err = inst.ExportedFunction("_start").Call(ctx)
	inst.Close(ctx)
	return err
}

// report maps how an instance ended to an exit status, and writes a trap's
// message to stderr on a line that starts with abi.TrapPrefix.
func (g *guest) report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, errSetup) {
		fmt.Fprintf(stderr, "wasmpool: %v\n", err)
		return abi.ExitSetup
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return int(min(exit.ExitCode(), 255))
	}
	msg := err.Error()
	first, rest, _ := strings.Cut(msg, "\n")
	if _, after, ok := strings.Cut(first, "function[_start] failed: "); ok {
		first = after
	}
	fmt.Fprintf(stderr, "%s%s\n", abi.TrapPrefix, first)
	if rest != "" {
		fmt.Fprintln(stderr, rest)
	}
	return abi.ExitTrap
}
