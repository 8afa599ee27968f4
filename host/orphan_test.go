package host_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// orphanParent is the test binary run as a pool's parent that gets killed:
// it starts two kids, waits until both have answered a request and sleep
// on the next (so they read nothing: only PDEATHSIG can stop them), says
// "ready" and waits to die.
func orphanParent(spec string) {
	cache, module, _ := strings.Cut(spec, ",")
	// A Timeout makes kids take one request per read: each answers its
	// first request before it starts the second.
	p, err := host.New(context.Background(), host.Config{Module: module, CacheDir: cache, Kids: 2, Args: []string{"lines", "sleep"}, Timeout: time.Hour})
	if err != nil {
		panic(err)
	}
	reqs := [][]byte{[]byte("a"), []byte("b"), []byte("!"), []byte("!")}
	replies := 0
	for _, err := range p.Run(context.Background(), slices.Values(reqs)) {
		if err != nil {
			panic(err)
		}
		if replies++; replies == 2 {
			os.Stdout.WriteString("ready\n")
		}
	}
}

// TestKidsDieWithTheirParent: a parent killed with SIGKILL, which runs no
// clean-up, leaves no kid behind (PDEATHSIG).
func TestKidsDieWithTheirParent(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WASMPOOL_TEST_PARENT="+cacheDir+","+testGuest)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the parent said %q", line)
	}
	var kids []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(pid)
			kids = append(kids, n)
		}
	}
	if len(kids) != 2 {
		t.Fatalf("the parent has %d kids, want 2", len(kids))
	}
	for _, pid := range kids { // confine() ran in each kid
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if !strings.Contains(string(status), "NoNewPrivs:\t1") {
			t.Errorf("kid %d may gain privileges:\n%s", pid, status)
		}
		for _, want := range []string{`Max core file size\s+0\s+0`, `Max open files\s+256\s+256`} {
			if !regexp.MustCompile(want).Match(limits) {
				t.Errorf("kid %d limits lack %q:\n%s", pid, want, limits)
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for _, pid := range kids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("kid %d outlived its parent", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether pid is a process that is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
