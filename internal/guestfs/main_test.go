//go:build linux

package guestfs

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// helperEnv re-executes the test binary as a helper process of the
// hammer tests instead of running tests.
const helperEnv = "GUESTFS_TEST_HELPER"

// fsGuest is the test guest's module; built once in TestMain.
var fsGuest, buildDir string

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
	case "swap":
		swapHelper(helperArgs()[0])
		return
	case "guest":
		guestHelper(helperArgs())
		return
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
	var err error
	if buildDir, err = os.MkdirTemp("", "guestfs-test-"); err == nil {
		fsGuest, err = guestbuild.Go(buildDir, "github.com/wasmpool/wasmpool/internal/guestfs/testdata/fsguest")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(code)
}

// helper re-executes the test binary as a helper process with args.
func helper(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// helperArgs are the arguments helper gave.
func helperArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}

// hammerTime is how long each hammer test runs at least: short in go test,
// longer with WASMPOOL_HAMMER=30s.
func hammerTime(t *testing.T, short time.Duration) time.Duration {
	s := os.Getenv("WASMPOOL_HAMMER")
	if s == "" {
		return short
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("WASMPOOL_HAMMER=%s: %v", s, err)
	}
	return d
}

func itoa(i int) string { return strconv.Itoa(i) }
