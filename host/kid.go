package host

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
)

// kidSpec is what a parent tells a kid, as the JSON value of abi.KidEnv.
type kidSpec struct {
	Version     int      `json:"version"`
	Parent      int      `json:"parent"` // the parent's pid
	Kid         int      `json:"kid"`
	Module      string   `json:"module"` // path of the .wasm file
	CacheDir    string   `json:"cacheDir"`
	MemoryPages uint32   `json:"memoryPages,omitempty"`
	Args        []string `json:"args"` // argv, program name included
	Env         []string `json:"env,omitempty"`
	Dirs        []Dir    `json:"dirs,omitempty"`
	Framing     string   `json:"framing"`           // of requests
	Timeout     int64    `json:"timeout,omitempty"` // per request, in ns
}

// ackFD is the kid's descriptor of the ack pipe (see feed).
const ackFD = 3

// Kid mode is entered when package host initializes, before the program's
// main runs: a program that imports host needs no plumbing of its own.
func init() {
	if spec, ok := os.LookupEnv(abi.KidEnv); ok {
		os.Exit(runKid(spec))
	}
}

// runKid runs one guest on this process's stdin and stdout and returns the
// process exit code.
func runKid(specJSON string) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "wasmpool: "+format+"\n", args...)
		return code
	}
	var spec kidSpec
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
	confine()

	ctx := experimental.WithMemoryAllocator(context.Background(), allocateMemory)
	rt, err := newRuntime(ctx, spec.CacheDir, spec.MemoryPages)
	if err != nil {
		return fail(abi.ExitSetup, "%v", err)
	}
	code, _, err := mapFile(spec.Module) // mapped for the kid's life: wazero keeps slices of it
	if err != nil {
		return fail(abi.ExitSetup, "%v", err)
	}
	mod, err := rt.CompileModule(ctx, code)
	if err != nil {
		return fail(abi.ExitSetup, "%s: %v", spec.Module, err)
	}
	framing, err := frames.Parse(spec.Framing)
	if err != nil {
		return fail(abi.ExitSetup, "%v", err)
	}
	ack := os.NewFile(ackFD, "ack")
	in := newFeed(os.Stdin, ack, framing, spec.Timeout > 0)
	if spec.Timeout > 0 {
		runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))) // the watchdog must run beside a busy guest
		go in.watch(time.Duration(spec.Timeout))
	}
	// Give wazero no *os.File: given one, a Go guest's start-up sets
	// O_NONBLOCK on the real descriptors, which are shared with the parent,
	// and then busy-waits on them.
	cfg := wazero.NewModuleConfig().
		WithStdin(in).
		WithStdout(struct{ io.Writer }{os.Stdout}).
		WithStderr(struct{ io.Writer }{os.Stderr}).
		WithArgs(spec.Args...).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithName("")
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		cfg = cfg.WithEnv(k, v)
	}
	fsc, err := mountDirs(spec.Dirs)
	if err != nil {
		return fail(abi.ExitSetup, "granting directories: %v", err)
	}
	cfg = cfg.WithFSConfig(fsc)
	// Instantiate first, then start: a module that cannot be instantiated
	// is a set-up failure, not the guest's.
	inst, err := rt.InstantiateModule(ctx, mod, cfg.WithStartFunctions())
	if err != nil {
		return fail(abi.ExitSetup, "instantiating %s: %v", spec.Module, err)
	}
	_, err = inst.ExportedFunction("_start").Call(ctx)
	in.finish()
	return exitCode(err)
}

// exitCode maps the end of a guest to the kid's exit status.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if c := exit.ExitCode(); c <= 255 {
			return int(c)
		}
		return 255
	}
	msg := err.Error()
	first, rest, _ := strings.Cut(msg, "\n")
	if _, after, ok := strings.Cut(first, "function[_start] failed: "); ok {
		first = after
	}
	fmt.Fprintf(os.Stderr, "%s%s\n", abi.TrapPrefix, first)
	if rest != "" {
		fmt.Fprintln(os.Stderr, rest)
	}
	return abi.ExitTrap
}

// confine narrows what this kid process can do, before any guest code runs:
// no privilege gain through exec, no core dumps, few descriptors, and no
// descriptor inherited from the parent's own parent beyond stdio.
func confine() {
	unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: kidMaxFiles, Max: kidMaxFiles})
	closeInherited()
}

const kidMaxFiles = 256

// closeInherited closes descriptors above stderr that leaked through exec,
// sparing those of the Go runtime (event poll, event and pid fds).
func closeInherited() {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	self := int(d.Fd())
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd <= ackFD || fd == self {
			continue
		}
		target, err := os.Readlink(filepath.Join("/proc/self/fd", name))
		if err != nil || strings.HasPrefix(target, "anon_inode:") {
			continue
		}
		unix.Close(fd)
	}
	d.Close()
}
