package exampletest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// Env is what the tests of one example share.
type Env struct {
	Dir   string // a temporary directory, removed when the tests end
	Guest string // the example's guest, built into Dir by Main
	Cache string // the compilation cache shared by the tests, in Dir
}

// Main is an example's TestMain: it makes env.Dir, builds the Go guest
// package pkg ("github.com/wasmpool/wasmpool/examples/NAME/guest") into it, runs the tests,
// removes the directory and exits with the tests' code.
func Main(m *testing.M, env *Env, pkg string) {
	dir, err := os.MkdirTemp("", "wasmpool-"+path.Base(path.Dir(pkg))+"-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env.Dir = dir
	env.Cache = filepath.Join(dir, "cache")
	env.Guest, err = guestbuild.Go(dir, pkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Once makes a value, such as a test tree, the first time a test asks for
// it and shares it read-only with the tests after; if making it failed,
// every test that asks fails.
type Once[T any] struct {
	once sync.Once
	v    T
	err  error
}

// Get returns the value, made by make if no test asked before.
func (o *Once[T]) Get(t testing.TB, make func() (T, error)) T {
	t.Helper()
	o.once.Do(func() { o.v, o.err = make() })
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.v
}
