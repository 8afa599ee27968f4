package remotetest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// roundTrip runs cmd with in on stdin and checks that its stdout is in,
// byte for byte, and that it exits 0.
func roundTrip(t *testing.T, cmd *exec.Cmd, in []byte) {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v: %s", cmd.Args, err, stderr.Bytes())
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("%v: %d bytes in, %d bytes out, different (first difference at %d)",
			cmd.Args, len(in), out.Len(), firstDiff(in, out.Bytes()))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// output runs cmd and returns its stdout; an error has its stderr.
func output(cmd *exec.Cmd) ([]byte, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%v: %w: %s", cmd.Args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, err
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Run()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return ee.ExitCode()
}

func TestSSH(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := SSHD(t)
	t.Logf("sshd on port %d (pid %d) up in %v", s.Port, s.PID(), time.Since(start).Round(time.Millisecond))

	t.Run("echo", func(t *testing.T) {
		for _, h := range s.Hosts {
			out, err := output(s.Cmd(h, "echo", "hello", "from", h))
			if err != nil || string(out) != "hello from "+h+"\n" {
				t.Errorf("ssh %s echo: %q, %v", h, out, err)
			}
		}
	})
	t.Run("cat", func(t *testing.T) {
		roundTrip(t, s.Cmd(s.Hosts[1], "/bin/cat"), randomBytes(t, 1<<20))
	})
	t.Run("exit", func(t *testing.T) {
		if got := exitCode(t, s.Cmd(s.Hosts[0], "exit 7")); got != 7 {
			t.Errorf("ssh exit 7: exit status %d", got)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() { roundTrip(t, s.Cmd(s.Hosts[i%2], "/bin/cat"), randomBytes(t, 64<<10)) })
		}
		wg.Wait()
	})
}

// TestSSHKill checks that Kill stops new logins and KillAll drops
// established sessions, with two instances at once.
func TestSSHKill(t *testing.T) {
	t.Parallel()
	a, b := SSHD(t), SSHD(t)
	if a.Port == b.Port {
		t.Fatalf("two sshd on port %d", a.Port)
	}

	// A session on b that stays up until its stdin closes.
	sess := b.Cmd(b.Hosts[0], "/bin/cat")
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outp, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := bufio.NewReader(outp)
	io.WriteString(in, "ping\n")
	if line, err := out.ReadString('\n'); line != "ping\n" {
		t.Fatalf("session: %q, %v", line, err)
	}

	b.Kill()
	if code := exitCode(t, b.Cmd(b.Hosts[0], "true")); code != 255 {
		t.Errorf("ssh after Kill: exit status %d, want 255 (connection refused)", code)
	}
	io.WriteString(in, "still there\n")
	if line, err := out.ReadString('\n'); line != "still there\n" {
		t.Fatalf("session after Kill: %q, %v", line, err)
	}

	b.KillAll()
	done := make(chan int, 1)
	go func() {
		io.Copy(io.Discard, out)
		err := sess.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			done <- ee.ExitCode()
		} else {
			done <- -1
		}
	}()
	select {
	case code := <-done:
		if code != 255 {
			t.Errorf("session after KillAll: exit status %d, want 255", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session still up 10 s after KillAll")
	}

	// a is unaffected.
	if out, err := a.Cmd(a.Hosts[0], "echo", "ok").Output(); err != nil || string(out) != "ok\n" {
		t.Errorf("other sshd after KillAll: %q, %v", out, err)
	}
}

func TestSlurm(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := Slurm(t)
	t.Logf("slurm node %s with %d CPUs up in %v", c.Node, c.CPUs, time.Since(start).Round(time.Millisecond))

	t.Run("echo", func(t *testing.T) {
		// stdout only: srun may say on stderr that the job waits a
		// moment (the node is busy completing the last one), unless
		// --quiet.
		out, err := output(c.Cmd("srun", "-n1", "echo", "hello"))
		if err != nil || string(out) != "hello\n" {
			t.Errorf("srun echo: %q, %v", out, err)
		}
	})
	t.Run("cat", func(t *testing.T) {
		roundTrip(t, c.Cmd("srun", "-n1", "/bin/cat"), randomBytes(t, 1<<20))
	})
	t.Run("exit", func(t *testing.T) {
		if got := exitCode(t, c.Cmd("srun", "-n1", "/bin/sh", "-c", "exit 7")); got != 7 {
			t.Errorf("srun exit 7: exit status %d", got)
		}
	})
	t.Run("steps", func(t *testing.T) {
		// Two steps of one allocation run at the same time: each echoes
		// a line while the other is still up, then 1 MB.
		id := c.Alloc(t, 2)
		type step struct {
			cmd *exec.Cmd
			in  io.WriteCloser
			out *bufio.Reader
		}
		var steps []step
		for range 2 {
			cmd := c.Cmd("srun", "--jobid="+id, "-n1", "--exact", "/bin/cat")
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				in.Close()
				cmd.Wait()
			}()
			steps = append(steps, step{cmd, in, bufio.NewReader(out)})
		}
		for round := range 2 {
			for i, s := range steps {
				got := make(chan string, 1)
				go func() {
					line, _ := s.out.ReadString('\n')
					got <- line
				}()
				want := strings.Repeat("x", i+1) + "\n"
				io.WriteString(s.in, want)
				select {
				case line := <-got:
					if line != want {
						t.Fatalf("step %d: %q, want %q", i, line, want)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("step %d: no echo in round %d within 20 s: steps do not run at once", i, round)
				}
			}
		}
		var wg sync.WaitGroup
		for i, s := range steps {
			data := randomBytes(t, 1<<20)
			wg.Go(func() {
				go func() {
					s.in.Write(data)
					s.in.Close()
				}()
				got, err := io.ReadAll(s.out)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("step %d: %d bytes in, %d out (equal: %v), %v", i, len(data), len(got), bytes.Equal(got, data), err)
				}
				if err := s.cmd.Wait(); err != nil {
					t.Errorf("step %d: %v", i, err)
				}
			})
		}
		wg.Wait()
	})
}

// TestSlurmTwo runs next to TestSlurm: clusters are independent.
func TestSlurmTwo(t *testing.T) {
	t.Parallel()
	c := Slurm(t)
	out, err := output(c.Cmd("srun", "--quiet", "-n1", "/usr/bin/printenv", "SLURM_CONF"))
	if err != nil || string(out) != c.Conf+"\n" {
		t.Errorf("srun printenv SLURM_CONF: %q, %v; want %s", out, err, c.Conf)
	}
}
