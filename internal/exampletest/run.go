package exampletest

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// LockedBuffer collects the guests' stderr.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// RunPool starts a pool with cfg, its Stderr set to a buffer, sends the
// requests through it within a minute and returns the replies, copied,
// in the order they came, and what the guests wrote on stderr. An error
// of the run fails the test at once; the pool's stats must count every
// request, and no errors or restarts.
func RunPool(t *testing.T, cfg host.Config, requests []string) ([]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr LockedBuffer
	cfg.Stderr = &stderr
	pool, err := host.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var replies []string
	for r, err := range pool.Run(ctx, func(yield func([]byte) bool) {
		for _, p := range requests {
			if !yield([]byte(p)) {
				return
			}
		}
	}) {
		if err != nil {
			t.Fatalf("run: %v\nguest stderr:\n%s", err, stderr.String())
		}
		replies = append(replies, string(r.Data)) // r.Data is reused: copy
	}
	if st := pool.Stats(); st.Requests != len(requests) || st.Errors != 0 || st.Restarts != 0 {
		t.Errorf("stats %+v, want %d requests and no errors or restarts", st, len(requests))
	}
	return replies, stderr.String()
}

// OneLineEach checks the guests' stderr after requests for paths they
// cannot read: each path gets one line that names it, and nothing else
// gets a line.
func OneLineEach(t *testing.T, stderr string, paths []string) {
	t.Helper()
	if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); len(lines) != len(paths) {
		t.Errorf("guest stderr has %d lines, want %d:\n%s", len(lines), len(paths), stderr)
	}
	for _, p := range paths {
		if !strings.Contains(stderr, p) {
			t.Errorf("guest stderr does not name %q:\n%s", p, stderr)
		}
	}
}

// RunProgram calls an example program's run function with args as a user
// would and returns the paths it prints, which args must ask to be
// NUL-terminated (-0), sorted. The test fails at once if the program
// exits with a code other than 0 or writes on stderr.
func RunProgram(t *testing.T, run func(ctx context.Context, args []string, stdout, stderr io.Writer) int, args ...string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != 0 || stderr.Len() > 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
	slices.Sort(got)
	return got
}
