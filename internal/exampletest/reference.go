package exampletest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Entries returns the guest paths (guestRoot + "/" + the path under root)
// of the entries under root that are not directories, symbolic links
// included.
func Entries(t *testing.T, root, guestRoot string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, guestRoot+"/"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Grep returns the sorted host paths under root of the files that
// contain s, by grep -rlF (which does not follow symbolic links below its
// arguments), or, without grep, by a walk in Go.
func Grep(t *testing.T, s, root string) []string {
	t.Helper()
	var out []string
	if _, err := exec.LookPath("grep"); err == nil {
		cmd := exec.Command("grep", "-rlZF", "--", s, root)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		stdout, err := cmd.Output()
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: no match
			t.Fatalf("grep: %v", err)
		}
		out = strings.Split(strings.TrimSuffix(string(stdout), "\x00"), "\x00")
	} else {
		t.Log("no grep: the reference is a walk in Go")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err == nil && bytes.Contains(b, []byte(s)) {
				out = append(out, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// SamePaths fails the test unless got and want, both sorted, are equal,
// and names the paths that are only in one of them.
func SamePaths(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got %d paths, want %d\nonly in got: %q\nonly in want: %q", len(got), len(want), minus(got, want), minus(want, got))
	}
}

// minus returns the strings of a not in b, which is sorted.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}
