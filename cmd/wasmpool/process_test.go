//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wasmpoolCmd runs this test binary as the wasmpool command (testscript.Main
// picks the command by the program name).
func wasmpoolCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"wasmpool"}, args...)}
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+env.cache)
	return cmd
}

// TestSignalWithOpenInput stops runs whose input never ends (a terminal,
// tail -f): the pool's loop must not be stuck reading stdin. SIGINT gives
// 130, SIGTERM 143, and no kid is left.
func TestSignalWithOpenInput(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := wasmpoolCmd(t, "run", "-j", "2", env.wcat)
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// a request goes through: the run is under way, input still open
			in.Write([]byte("ping\n"))
			waitFor(t, func() bool { return len(kidsOf(cmd.Process.Pid)) == 2 }, "2 kids")
			cmd.Process.Signal(tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("wasmpool did not stop within 15s of %s; stderr:\n%s", tc.name, stderr.String())
			}
			if got := cmd.ProcessState.ExitCode(); got != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", got, tc.code, stderr.String())
			}
			if want := "wasmpool: stopped by " + tc.name; !strings.HasPrefix(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr %q, want one line starting %q", stderr.String(), want)
			}
			waitFor(t, func() bool { return len(kidsOf(cmd.Process.Pid)) == 0 }, "no kid left")
		})
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProgressOnTerminal runs with stderr on a pseudo-terminal: --progress
// (auto) then draws a bar in place.
func TestProgressOnTerminal(t *testing.T) {
	ptm, pts, err := openPty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	input := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(input, bytes.Repeat([]byte("some line\n"), 1000), 0o644)
	cmd := wasmpoolCmd(t, "run", "-j", "1", "--progress", "-i", input, env.wcat)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, pts
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	var screen bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := ptm.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wasmpool: %v; terminal:\n%s", err, screen.String())
	}
	select {
	case <-readDone:
	case <-time.After(5 * time.Second):
	}
	out := screen.String()
	if !strings.Contains(out, "\r") || !strings.Contains(out, "[====================] 100% 9.8KiB of 9.8KiB") || !strings.Contains(out, "1000 requests done") {
		t.Errorf("no progress bar on the terminal: %q", out)
	}
	if stdout.Len() != 10000 {
		t.Errorf("%d bytes of output, want 10000", stdout.Len())
	}
}

// openPty opens a pseudo-terminal pair.
func openPty() (ptm, pts *os.File, err error) {
	ptm, err = os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	var n uint32
	err = unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0) // unlock
	if err == nil {
		n, err = unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	}
	if err == nil {
		pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	}
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	return ptm, pts, nil
}

// TestRunInProcess calls run as main does, with in-memory stdio, so that
// the race detector sees the reader, output, progress and pool goroutines.
func TestRunInProcess(t *testing.T) {
	var in bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	want := in.String()
	var stdout, stderr bytes.Buffer
	args := []string{"run", "-j", "2", "--ordered", "--progress=always", "--stats", "--cache-dir", filepath.Join(env.cache, "wasmpool"), env.wcat}
	code := run(context.Background(), args, &in, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr.String())
	}
	if stdout.String() != want {
		t.Errorf("output differs from input: %d bytes, want %d", stdout.Len(), len(want))
	}
	for _, s := range []string{"wasmpool: 20000 of 20000 requests done", "wasmpool: stats: 20000 requests, 20000 replies, 0 failed"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
		}
	}

	// cancelled: 130, and what was read is accounted for
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stderr.Reset()
	if code := run(ctx, args, strings.NewReader("a\n"), io.Discard, &stderr); code != exitSignal {
		t.Errorf("cancelled run: exit status %d, want %d; stderr:\n%s", code, exitSignal, stderr.String())
	}
}
