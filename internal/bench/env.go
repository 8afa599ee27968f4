package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// env is what every case needs: built guests and kids, tools found, and a
// warm compilation cache.
type env struct {
	ctx   context.Context
	smoke bool
	runs  int
	match string // run only the cases whose name contains it
	tmp   string
	root  string // the wasmpool module's directory
	cache string // host.Config.CacheDir of the library cases
	xdg   string // XDG_CACHE_HOME of the CLI cases; its cache is xdg/wasmpool

	// The ppbench filter (examples/ppbench) built every way. An empty path
	// comes with the reason in skip or the error in fail.
	goWasm       string // Go guest, GOOS=wasip1
	cWasm        string // C guest, clang -Oz (guestbuild.C)
	rustWasm     string // Rust guest, rustc opt-level=s (guestbuild.Rust)
	nativeGo     string // internal/bench/nativekid: the Go handlers, native
	nativeGoPure string // the same built with -tags purego (no assembly SHA-256)
	tinyGo       string // internal/bench/tinykid: the smallest Go kid, the start-up yardstick
	nativeC      string // the C guest's source built natively with cc -O2
	cli          string // cmd/wasmpool
	cliStatic    string // cmd/wasmpool built with CGO_ENABLED=0
	python       string
	parallel     string
	tools        map[string]string // tool → why it is missing (skip) or broken (fail:)

	stderr *syncBuffer // what kids write on stderr
}

// missing returns why a case that needs the named things cannot run: ""
// when all are there; otherwise a reason, starting with "fail: " if a
// build failed rather than a tool being absent.
func (e *env) missing(names ...string) string {
	for _, n := range names {
		if why := e.tools[n]; why != "" {
			return why
		}
	}
	return ""
}

func setup(ctx context.Context, smoke bool, runs int) (*env, error) {
	tmp, err := os.MkdirTemp("", "wasmpool-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{ctx: ctx, smoke: smoke, runs: runs, tmp: tmp, tools: map[string]string{}, stderr: &syncBuffer{}}
	e.cache = filepath.Join(tmp, "xdg", "wasmpool")
	e.xdg = filepath.Join(tmp, "xdg")
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err != nil || gomod == "" || gomod == os.DevNull {
		return nil, fmt.Errorf("run me inside the wasmpool module (go env GOMOD: %v)", err)
	} else {
		e.root = filepath.Dir(gomod)
	}
	bin := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	logf("building guests and kids in %s", bin)
	var wg sync.WaitGroup
	var mu sync.Mutex
	set := func(name string, path *string, build func() (string, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := build()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				*path = p
			case errors.Is(err, guestbuild.ErrMissing) && os.Getenv("WASMPOOL_REQUIRE_TOOLCHAINS") != "":
				// CI installs every toolchain: a missing one is a failure there.
				e.tools[name] = "fail: " + err.Error()
			case errors.Is(err, guestbuild.ErrMissing) || errors.Is(err, exec.ErrNotFound):
				e.tools[name] = "skipped: " + firstLine(err.Error())
			default:
				e.tools[name] = "fail: " + err.Error()
			}
		}()
	}
	set("go-wasm", &e.goWasm, func() (string, error) {
		return guestbuild.Go(bin, "github.com/wasmpool/wasmpool/examples/ppbench/guest")
	})
	set("c-wasm", &e.cWasm, func() (string, error) {
		return guestbuild.C(bin, filepath.Join(e.root, "examples/ppbench/c/main.c"))
	})
	set("rust-wasm", &e.rustWasm, func() (string, error) {
		return guestbuild.Rust(bin, filepath.Join(e.root, "examples/ppbench/rust/main.rs"))
	})
	set("native-go", &e.nativeGo, func() (string, error) {
		return guestbuild.Native(bin, "github.com/wasmpool/wasmpool/internal/bench/nativekid")
	})
	set("tiny-go", &e.tinyGo, func() (string, error) {
		return guestbuild.Native(bin, "github.com/wasmpool/wasmpool/internal/bench/tinykid")
	})
	set("native-go-purego", &e.nativeGoPure, func() (string, error) {
		out := filepath.Join(bin, "nativekid-purego")
		return out, command(e.root, nil, "go", "build", "-tags", "purego", "-o", out, "./internal/bench/nativekid")
	})
	set("native-c", &e.nativeC, func() (string, error) {
		cc, err := exec.LookPath("cc")
		if err != nil {
			return "", err
		}
		out := filepath.Join(bin, "ppbench-c")
		return out, command(e.root, nil, cc, "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-O2", "-I", "guest/c", "-o", out, "examples/ppbench/c/main.c")
	})
	set("cli", &e.cli, func() (string, error) {
		out := filepath.Join(bin, "wasmpool")
		return out, command(e.root, nil, "go", "build", "-o", out, "./cmd/wasmpool")
	})
	set("cli-static", &e.cliStatic, func() (string, error) {
		out := filepath.Join(bin, "wasmpool-static")
		return out, command(e.root, []string{"CGO_ENABLED=0"}, "go", "build", "-o", out, "./cmd/wasmpool")
	})
	wg.Wait()
	for _, name := range []string{"python3", "parallel", "tr", "xargs", "cat", "sh"} {
		p, err := exec.LookPath(name)
		if err != nil {
			e.tools[name] = "skipped: " + name + " is not installed"
			continue
		}
		switch name {
		case "python3":
			// The interpreter itself, not a wrapper (pyenv's shims cost a
			// second per start).
			e.python = p
			if out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output(); err == nil {
				if exe := strings.TrimSpace(string(out)); exe != "" {
					e.python = exe
				}
			}
		case "parallel":
			if v, _ := exec.Command(p, "--version").Output(); !bytes.Contains(v, []byte("GNU parallel")) {
				e.tools[name] = "skipped: " + p + " is not GNU parallel (install the Debian package parallel)"
			} else {
				e.parallel = p
			}
		}
	}
	for name, why := range e.tools {
		logf("%s: %s", name, firstLine(why))
	}
	// Warm the compilation cache of the library and the CLI cases (the same
	// directory), so that only the start-up cases pay a cold compile.
	for _, m := range []string{e.goWasm, e.cWasm, e.rustWasm} {
		if m == "" {
			continue
		}
		p, err := host.New(ctx, host.Config{Module: m, Kids: 1, CacheDir: e.cache, Stderr: e.stderr})
		if err != nil {
			return nil, fmt.Errorf("warming the cache with %s: %w", m, err)
		}
		p.Close()
	}
	return e, nil
}

// command runs a build or helper command in dir and returns an error with
// its output.
func command(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// syncBuffer collects kids' stderr (written by the dispatch loop, read when
// a case fails).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

// tail returns and forgets what was written.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// machine describes this computer for the report.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
