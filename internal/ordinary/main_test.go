package ordinary_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// A test program, built twice: to wasm and for this machine.
type program struct {
	name   string
	wasm   string
	native string // "" for the ones only run as wasm
}

var env struct {
	dir       string
	cacheHome string // XDG_CACHE_HOME of the wasmpool command
	cacheDir  string // the library's CacheDir: the same cache
	wasmpool  string // the wasmpool command
	banner    string // testdata/bannerhost
	progs     map[string]*program
}

const pkg = "github.com/wasmpool/wasmpool/internal/ordinary/testdata/"

// the programs of testdata: C sources in testdata/c, Go main packages in
// testdata/NAME
var (
	cPrograms  = []string{"upper", "dropdup", "tac", "faulty", "wcc", "cat"}
	goPrograms = []string{"gorev", "gosort", "gofault"}
)

func TestMain(m *testing.M) {
	// Kids are this test binary re-executed: package host's init runs
	// them before TestMain.
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(env.dir)
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "wasmpool-ordinary-test-")
	if err != nil {
		return 1, err
	}
	env.dir = dir
	env.cacheHome = filepath.Join(dir, "cache")
	env.cacheDir = filepath.Join(env.cacheHome, "wasmpool")
	env.progs = map[string]*program{}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	do := func(f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	for _, name := range cPrograms {
		p := &program{name: name, native: filepath.Join(dir, "native-"+name)}
		env.progs[name] = p
		src := filepath.Join("testdata", "c", name+".c")
		do(func() (err error) {
			p.wasm, err = guestbuild.C(dir, src, "-O2")
			return err
		})
		do(func() error {
			return build("cc", "-O2", "-Wall", "-Wextra", "-o", p.native, src)
		})
	}
	for _, name := range goPrograms {
		p := &program{name: name}
		env.progs[name] = p
		do(func() (err error) {
			if p.wasm, err = guestbuild.Go(dir, pkg+name); err != nil {
				return err
			}
			p.native, err = guestbuild.Native(dir, pkg+name)
			return err
		})
	}
	env.wasmpool = filepath.Join(dir, "wasmpool")
	env.banner = filepath.Join(dir, "bannerhost")
	do(func() error {
		return build("go", "build", "-o", env.wasmpool, "github.com/wasmpool/wasmpool/cmd/wasmpool")
	})
	do(func() error { return build("go", "build", "-o", env.banner, pkg+"bannerhost") })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 1, err
	}
	// Compile each module once into the shared cache, before tests that
	// run side by side all find it cold: once in this process, once with
	// the wasmpool command. (A test binary has no module versions in its
	// build information, so wazero's cache entries and the pool's stamps
	// of checked modules written by one do not serve the other.)
	for _, p := range env.progs {
		do(func() error {
			pool, err := host.New(context.Background(), host.Config{Module: p.wasm, Kids: 1, CacheDir: env.cacheDir})
			if err == nil {
				pool.Close()
			}
			return err
		})
		do(func() error {
			cmd := exec.Command(env.wasmpool, "run", "-j", "1", p.wasm)
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+env.cacheHome)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("wasmpool run %s: %v\n%s", p.wasm, err, out)
			}
			return nil
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

func build(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// runNative runs p's native build over input and returns its output.
func runNative(t *testing.T, p *program, input []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(p.native, args...)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("native %s: %v\n%s", p.name, err, stderr.Bytes())
	}
	return out
}

// newPool starts a pool of program p with two kids (unless cfg says),
// closed at the end of the test, which then checks that no kid is left.
func newPool(t *testing.T, p *program, cfg host.Config) *host.Pool {
	t.Helper()
	cfg.Module = p.wasm
	cfg.CacheDir = env.cacheDir
	if cfg.Kids == 0 {
		cfg.Kids = 2
	}
	if cfg.Stderr == nil {
		cfg.Stderr = &testWriter{t: t}
	}
	pool, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		checkNoKids(t)
	})
	return pool
}

// testWriter logs guests' stderr lines through t.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// checkNoKids fails if this process has a child left. The tests that use
// pools in this process do not run in parallel with any other.
func checkNoKids(t *testing.T) {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		if len(bytes.TrimSpace(b)) > 0 {
			t.Errorf("child processes left: %s", b)
		}
	}
}

// filter runs input through pool.Filter and returns the output and the
// errors yielded.
func filter(t *testing.T, pool *host.Pool, input []byte) ([]byte, []error) {
	t.Helper()
	var out bytes.Buffer
	var errs []error
	for err := range pool.Filter(context.Background(), &out, bytes.NewReader(input)) {
		errs = append(errs, err)
	}
	return out.Bytes(), errs
}

// cli is one run of the wasmpool command.
type cli struct {
	stdout, stderr []byte
	code           int
}

// runCLI runs the wasmpool command (a separate process, with the compile
// cache of the tests) over input and checks that no kid of it is left.
func runCLI(t *testing.T, input []byte, args ...string) cli {
	t.Helper()
	in := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(env.wasmpool, args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+env.cacheHome)
	cmd.Stdin = f
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	r := cli{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if kids := kidsOf(cmd.Process.Pid); len(kids) > 0 {
		t.Errorf("wasmpool %s: kids %v left running", strings.Join(args, " "), kids)
	}
	return r
}

// kidsOf lists the live processes in kid mode whose spec names parent as
// their pool, waiting up to 3 s for them to go.
func kidsOf(parent int) []int {
	marker := []byte(fmt.Sprintf(`"parent":%d,`, parent))
	deadline := time.Now().Add(3 * time.Second)
	for {
		var kids []int
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			environ, err := os.ReadFile(filepath.Join(d, "environ"))
			if err != nil || !bytes.Contains(environ, []byte("WASMPOOL_KID=")) || !bytes.Contains(environ, marker) {
				continue
			}
			if stat, err := os.ReadFile(filepath.Join(d, "stat")); err == nil {
				if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
					continue // a zombie has exited
				}
			}
			pid, _ := strconv.Atoi(filepath.Base(d))
			kids = append(kids, pid)
		}
		if len(kids) == 0 || time.Now().After(deadline) {
			return kids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// genInput makes about size bytes of lines of varied lengths: most short,
// some longer than the programs' line buffers, some empty, a few with a
// carriage return or non-ASCII bytes, each non-empty one starting with its
// number (so that lines are unique); the last line has no newline.
func genInput(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, 11))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_/"
	var b []byte
	for i := 0; len(b) < size; i++ {
		if rng.IntN(100) < 8 {
			b = append(b, '\n')
			continue
		}
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ' ')
		n := rng.IntN(80)
		switch r := rng.IntN(100); {
		case r < 1:
			n = 600 + rng.IntN(4000)
		case r < 10:
			n = 80 + rng.IntN(500)
		}
		for range n {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		switch rng.IntN(50) {
		case 0:
			b = append(b, "é€"...)
		case 1:
			b = append(b, '\r')
		}
		b = append(b, '\n')
	}
	return append(b, "the last line, with no newline after it: d"...)
}

// terminated returns input with a newline after its last line.
func terminated(input []byte) []byte {
	if len(input) > 0 && input[len(input)-1] != '\n' {
		return append(bytes.Clone(input), '\n')
	}
	return input
}

// splitLines cuts b into lines without their newlines; a last line
// without one is a line too.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
