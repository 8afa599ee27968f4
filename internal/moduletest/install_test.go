package moduletest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// userMain is a program of someone else's: it imports host, and is its
// own kid without any plumbing.
const userMain = `package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"

	"github.com/wasmpool/wasmpool/host"
)

func main() {
	ctx := context.Background()
	pool, err := host.New(ctx, host.Config{Module: os.Args[1], Kids: 2, Mode: host.Ordered})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	words := [][]byte{[]byte("a"), []byte("wasm"), []byte(""), []byte("pool")}
	for reply, err := range pool.Run(ctx, slices.Values(words)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d:%s\n", reply.Index, reply.Data)
	}
}
`

// TestFreshModule uses the module as the README says: a new module
// requires github.com/wasmpool/wasmpool (replaced by this checkout),
// go mod tidy fetches what it needs, and the program it builds runs a
// pool over the WAT linelen filter.
func TestFreshModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and go build in a new module")
	}
	root := moduleRoot(t)
	dir := t.TempDir() // outside the repository
	wasm, err := guestbuild.WAT(dir, filepath.Join(root, "examples/linelen/wat/main.wat"))
	if err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "app")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(userMain), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = app, env
		if name != "go" { // the pool's compile cache, not the go command's
			cmd.Env = append(env, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("go", "mod", "init", "example.com/usewasmpool")
	run("go", "mod", "edit", "-require=github.com/wasmpool/wasmpool@v0.0.0", "-replace=github.com/wasmpool/wasmpool="+root)
	run("go", "mod", "tidy")
	run("go", "build", "-o", "usewasmpool", ".")
	if got, want := run("./usewasmpool", wasm), "0:1\n1:4\n2:0\n3:4\n"; got != want {
		t.Errorf("the program printed %q, want %q", got, want)
	}
	gomod, _ := os.ReadFile(filepath.Join(app, "go.mod"))
	if !strings.Contains(string(gomod), "github.com/tetratelabs/wazero") {
		t.Errorf("go mod tidy did not add wazero:\n%s", gomod)
	}
}
