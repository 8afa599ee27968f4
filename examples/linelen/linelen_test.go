// Package linelen is the procpool documentation's first example: kids reply
// to each input line with its length. The guests live in guest (Go), c,
// rust, wat and assemblyscript; this test runs them through a pool.
package linelen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

var dir string

func TestMain(m *testing.M) {
	var err error
	if dir, err = os.MkdirTemp("", "linelen-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// input makes n lines of random length, some empty, the last unterminated
// (a line tool still counts it), and the lengths awk would print.
func input(n int) ([]byte, []string) {
	rng := rand.New(rand.NewPCG(1, 1))
	var in bytes.Buffer
	want := make([]string, n)
	for i := range n {
		line := bytes.Repeat([]byte{'a' + byte(i%26)}, rng.IntN(120))
		in.Write(line)
		if i < n-1 {
			in.WriteByte('\n')
		}
		want[i] = strconv.Itoa(len(line))
	}
	return in.Bytes(), want
}

// run sends in through a pool of module and returns the replies.
func run(t *testing.T, module string, mode host.Mode, in []byte) []string {
	t.Helper()
	pool, err := host.New(context.Background(), host.Config{Module: module, Kids: 2, Mode: mode, CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	r := frames.NewReader(bytes.NewReader(in), frames.Lines)
	lines := func(yield func([]byte) bool) {
		for r.Scan() && yield(r.Bytes()) {
		}
	}
	var got []string
	for reply, err := range pool.Run(context.Background(), lines) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(reply.Data))
	}
	return got
}

// TestLinelen runs 200,000 lines through 2 kids: in stream mode the
// lengths are those computed here, in any order; in ordered mode they come
// in input order. Go and C guests give the same output.
func TestLinelen(t *testing.T) {
	in, want := input(200_000)
	sorted := slices.Sorted(slices.Values(want))
	guests := map[string]func() (string, error){
		"go": func() (string, error) {
			return guestbuild.Go(dir, "github.com/wasmpool/wasmpool/examples/linelen/guest")
		},
		"c": func() (string, error) { return guestbuild.C(dir, "c/main.c") },
	}
	for name, build := range guests {
		t.Run(name, func(t *testing.T) {
			module, err := build()
			if err != nil {
				t.Skip(err) // a missing toolchain: the conformance tests insist on it in CI
			}
			got := run(t, module, host.Stream, in)
			slices.Sort(got)
			if !slices.Equal(got, sorted) {
				t.Errorf("stream: %d replies differ from the %d lengths", len(got), len(want))
			}
			if got := run(t, module, host.Ordered, in); !slices.Equal(got, want) {
				t.Errorf("ordered: %d replies, not the lengths in input order", len(got))
			}
		})
	}
}

// TestSample is the README's first command in Go: the bundled sample.
func TestSample(t *testing.T) {
	module, err := guestbuild.Go(dir, "github.com/wasmpool/wasmpool/examples/linelen/guest")
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile("sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		want = append(want, fmt.Sprint(len(sc.Bytes())))
	}
	if got := run(t, module, host.Ordered, in); !slices.Equal(got, want) {
		t.Errorf("sample: got %d lines, want %d", len(got), len(want))
	}
}
