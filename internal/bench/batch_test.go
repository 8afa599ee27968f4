package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheckOutput: the batch case's check accepts the expected lines in any
// order, and in their order only where order is asked for; it refuses a
// missing, changed or extra line, and counts a last line without its
// newline.
func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	lines := []string{"alpha", "beta", "", "gamma delta"}
	var want streamRef
	for _, l := range lines {
		want.add([]byte(l))
	}
	write := func(s string) string {
		p := filepath.Join(dir, "out")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inOrder := strings.Join(lines, "\n") + "\n"
	shuffled := slices.Clone(lines)
	slices.Reverse(shuffled)
	reordered := strings.Join(shuffled, "\n") + "\n"
	for _, c := range []struct {
		out     string
		ordered bool
		ok      bool
	}{
		{inOrder, true, true},
		{inOrder, false, true},
		{reordered, false, true},
		{reordered, true, false},
		{strings.TrimSuffix(inOrder, "\n"), false, true}, // the last newline lost: same lines
		{strings.TrimSuffix(inOrder, "\n"), true, false}, // but not the same stream
		{"alpha\nbeta\n\n", false, false},
		{inOrder + "x\n", false, false},
		{strings.Replace(inOrder, "beta", "betA", 1), false, false},
	} {
		err := checkOutput(write(c.out), want, c.ordered)
		if (err == nil) != c.ok {
			t.Errorf("checkOutput(%q, ordered %v) = %v, want ok %v", c.out, c.ordered, err, c.ok)
		}
	}
}

// TestFileRefLongLines: lines longer than fileRef's read buffer are
// summed like short ones.
func TestFileRefLongLines(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	var want streamRef
	for _, l := range []string{"a", long, "b"} {
		want.add([]byte(l))
	}
	p := filepath.Join(t.TempDir(), "out")
	os.WriteFile(p, []byte("a\n"+long+"\nb\n"), 0o644)
	if got, err := fileRef(p); err != nil || got != want {
		t.Fatalf("fileRef = %+v, %v; want %+v", got, err, want)
	}
}

// TestCmdlineRun: a command's own CPU time and its children's are told
// apart, and cat feeds its stdin.
func TestCmdlineRun(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	os.WriteFile(in, []byte("hello\n"), 0o644)
	// The child spins, the shell itself waits.
	spin := `sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done'; cat`
	u, err := cmdline{argv: []string{"sh", "-c", spin}, catStdin: in}.run(out)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "hello\n" {
		t.Errorf("output %q, want the input", b)
	}
	if u.kids < 20*time.Millisecond || u.kids < 2*u.self || u.wall < u.kids/2 {
		t.Errorf("children's CPU %v, the shell's %v, wall %v: want the child's spin counted as the children's", u.kids, u.self, u.wall)
	}
	if _, err := (cmdline{argv: []string{"sh", "-c", "exit 3"}}).run(out); err == nil {
		t.Error("a failing command is no error")
	}
}
