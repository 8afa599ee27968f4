package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// The scripts under testdata/script run the wasmpool command, which is
// this test binary under the name "wasmpool" (testscript.Main): main's
// code with its exit status recorded for the 'status' builtin. Its kids
// re-execute the same binary, and package host's init puts them in kid
// mode before testscript or main see anything.

// env names the test guests and the shared compile cache for every test.
var env struct {
	dir     string // temporary, removed at the end
	tg      string // testdata/guests/tg
	linelen string // examples/linelen/guest
	fj      string // host/testdata/forkguest, the fork-join guest
	wcat    string // a hand-assembled cat, see fixtures
	cache   string // XDG_CACHE_HOME of every run: one compile per module
}

const exitFileEnv = "WASMPOOL_TEST_EXIT_FILE"

func TestMain(m *testing.M) {
	testscript.Main(setupM{m}, map[string]func(){
		"wasmpool": func() {
			code := mainCode()
			if f := os.Getenv(exitFileEnv); f != "" {
				os.WriteFile(f, []byte(strconv.Itoa(code)), 0o644)
			}
			os.Exit(code)
		},
	})
}

// setupM builds the guests before the tests run, and only then: when this
// binary runs as the wasmpool command, testscript.Main never calls Run.
type setupM struct{ m *testing.M }

func (s setupM) Run() int {
	dir, err := os.MkdirTemp("", "wasmpool-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.dir, env.cache = dir, filepath.Join(dir, "cache")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() {
		env.tg, errs[0] = guestbuild.Go(dir, "github.com/wasmpool/wasmpool/cmd/wasmpool/testdata/guests/tg")
	})
	wg.Go(func() {
		env.linelen, errs[1] = guestbuild.Go(dir, "github.com/wasmpool/wasmpool/examples/linelen/guest")
	})
	wg.Go(func() {
		env.fj, errs[2] = guestbuild.Go(dir, "github.com/wasmpool/wasmpool/host/testdata/forkguest")
	})
	wg.Wait()
	env.wcat = filepath.Join(dir, "wcat.wasm")
	errs = append(errs, os.WriteFile(env.wcat, fixtures()["wcat"], 0o644))
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// Compile each guest once into the cache every script shares, before
	// the scripts (which run in parallel) all find it cold.
	for _, m := range []string{env.tg, env.linelen, env.wcat, env.fj} {
		pool, err := host.New(context.Background(), host.Config{Module: m, Kids: 1, CacheDir: filepath.Join(env.cache, "wasmpool")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pool.Close()
	}
	return s.m.Run()
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("TG", env.tg)
			e.Setenv("LINELEN", env.linelen)
			e.Setenv("WCAT", env.wcat)
			e.Setenv("FJ", env.fj)
			e.Setenv("XDG_CACHE_HOME", env.cache)
			e.Setenv(exitFileEnv, filepath.Join(e.WorkDir, ".exit"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":   cmdStatus,
			"mkwasm":   cmdMkwasm,
			"mkframes": cmdMkframes,
			"waitkids": cmdWaitkids,
			"nokids":   cmdNokids,
			"seq":      cmdSeq,
		},
	})
}

// status N: the last wasmpool command exited with status N.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: status N")
	}
	f := ts.Getenv(exitFileEnv)
	b, err := os.ReadFile(f)
	if err != nil {
		ts.Fatalf("no exit status recorded: %v", err)
	}
	os.Remove(f)
	if got := string(b); got != args[0] {
		ts.Fatalf("exit status %s, want %s", got, args[0])
	}
}

// mkwasm KIND FILE writes a hand-assembled module of one kind.
func cmdMkwasm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mkwasm KIND FILE")
	}
	mod, ok := fixtures()[args[0]]
	if !ok {
		ts.Fatalf("unknown module kind %q", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), mod, 0o644))
}

// mkframes FRAMING FILE PAYLOAD... writes payloads framed (lenpfx or zero);
// a payload "@N" is N bytes of 'x'.
func cmdMkframes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: mkframes lenpfx|zero FILE PAYLOAD...")
	}
	var b []byte
	for _, p := range args[2:] {
		payload := []byte(p)
		if n, err := strconv.Atoi(strings.TrimPrefix(p, "@")); err == nil && strings.HasPrefix(p, "@") {
			payload = bytes.Repeat([]byte("x"), n)
		}
		switch args[0] {
		case "lenpfx":
			b = binary.LittleEndian.AppendUint64(b, uint64(len(payload)))
			b = append(b, payload...)
		case "zero":
			b = append(append(b, payload...), 0)
		default:
			ts.Fatalf("unknown framing %q", args[0])
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
}

// seq N FILE writes the lines 1 to N.
func cmdSeq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: seq N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b []byte
	for i := 1; i <= n; i++ {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '\n')
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
}

// waitkids NAME N waits until the background command NAME has N kids
// running, and sets $NAME_PID to its process id.
func cmdWaitkids(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: waitkids NAME N")
	}
	want, _ := strconv.Atoi(args[1])
	var pid int
	for _, c := range ts.BackgroundCmds() {
		if len(c.Args) > 1 && c.Process != nil {
			pid = c.Process.Pid // the only background command of the script
		}
	}
	if pid == 0 {
		ts.Fatalf("no background command")
	}
	ts.Setenv(args[0]+"_PID", strconv.Itoa(pid))
	deadline := time.Now().Add(20 * time.Second)
	for {
		kids := kidsOf(pid)
		if len(kids) >= want {
			ts.Logf("pid %d has kids %v", pid, kids)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("pid %d has %d kids after 20s, want %d", pid, len(kids), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nokids PID: no kid process started by PID is left, whoever its parent
// is now.
func cmdNokids(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: nokids PID")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("bad pid %q", args[0])
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		kids := kidsOf(pid)
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("kids of pid %d still running: %v", pid, kids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kidsOf lists the live processes in kid mode whose spec names parent as
// their pool: an orphan reparented elsewhere is still found.
func kidsOf(parent int) []int {
	var kids []int
	marker := []byte(fmt.Sprintf(`"parent":%d,`, parent))
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		environ, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(environ, []byte("WASMPOOL_KID=")) || !bytes.Contains(environ, marker) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(d, "stat")); err == nil {
			// field 3 is the state; a zombie (Z) has exited
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
				continue
			}
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		kids = append(kids, pid)
	}
	return kids
}
