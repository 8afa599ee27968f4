package conformance

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// lang is one guest language: how to build its echo and linelen guests.
type lang struct {
	name    string
	build   func(dir, src string) (string, error)
	echo    string // source of the echo guest
	linelen string // source of the linelen example
	// sdk: the echo guest is built on an SDK with separate reply framing
	// and handler errors (the WAT echo streams and has neither).
	sdk bool
}

var langs = []lang{
	{guestbuild.LangGo, guestbuild.Go, "github.com/wasmpool/wasmpool/internal/conformance/goecho", "github.com/wasmpool/wasmpool/examples/linelen/guest", true},
	{guestbuild.LangC, func(dir, src string) (string, error) { return guestbuild.C(dir, src) },
		"cecho/main.c", "../../examples/linelen/c/main.c", true},
	{guestbuild.LangRust, guestbuild.Rust, "rustecho/main.rs", "../../examples/linelen/rust/main.rs", true},
	{guestbuild.LangAssemblyScript, guestbuild.AssemblyScript, "asecho/main.ts", "../../examples/linelen/assemblyscript/main.ts", true},
	{guestbuild.LangWAT, guestbuild.WAT, "../../guest/wat/echo.wat", "../../examples/linelen/wat/main.wat", false},
}

// built holds the outcome of building every guest in TestMain.
type built struct {
	mod  *module
	err  error
	took time.Duration
}

// guests maps "LANG/echo" and "LANG/linelen" to their builds.
var guests = map[string]*built{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasmpool-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	start := time.Now()
	buildAll(dir)
	if os.Getenv("WASMPOOL_BUILD_TIMES") != "" {
		for _, l := range langs {
			for _, kind := range []string{"echo", "linelen"} {
				b := guests[l.name+"/"+kind]
				size := "-"
				if b.mod != nil {
					if fi, err := os.Stat(b.mod.path); err == nil {
						size = fmt.Sprint(fi.Size())
					}
				}
				fmt.Fprintf(os.Stderr, "build %-22s %6.2fs %9s bytes %v\n", l.name+"/"+kind, b.took.Seconds(), size, b.err)
			}
		}
		fmt.Fprintf(os.Stderr, "built all in %.2fs\n", time.Since(start).Seconds())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildAll builds every guest, two at a time (this is CPU-bound and the
// test machines have two cores).
func buildAll(dir string) {
	type job struct {
		key, src string
		build    func(dir, src string) (string, error)
	}
	var jobs []job
	for _, l := range langs {
		jobs = append(jobs, job{l.name + "/echo", l.echo, l.build}, job{l.name + "/linelen", l.linelen, l.build})
		guests[l.name+"/echo"] = &built{}
		guests[l.name+"/linelen"] = &built{}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := guests[j.key]
			start := time.Now()
			path, err := j.build(dir, j.src)
			b.took = time.Since(start)
			if err != nil {
				b.err = err
				return
			}
			b.mod = &module{path: path}
		}()
	}
	wg.Wait()
}

// compiledGuest returns the compiled module of key (LANG/echo or
// LANG/linelen), skipping the test when the language's toolchain is missing
// (unless WASMPOOL_REQUIRE_TOOLCHAINS is set) and failing it on any other
// build error.
func compiledGuest(t testing.TB, key string) wazero.CompiledModule {
	t.Helper()
	b := guests[key]
	if b == nil {
		t.Fatalf("no guest %s", key)
	}
	if b.err != nil {
		if errors.Is(b.err, guestbuild.ErrMissing) && os.Getenv("WASMPOOL_REQUIRE_TOOLCHAINS") == "" {
			t.Skip(b.err)
		}
		t.Fatal(b.err)
	}
	mod, err := b.mod.compile()
	if err != nil {
		t.Fatalf("compiling %s: %v", b.mod.path, err)
	}
	return mod
}
