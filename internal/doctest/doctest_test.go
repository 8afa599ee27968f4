package doctest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/internal/guestbuild"
)

// docs are the documents whose commands must run.
var docs = []string{"README.md", "docs/cli.md"}

// modules are the modules the documents may name without building them,
// by file name, with the guest each is built from.
var modules = map[string]string{
	"linelen.wasm": "github.com/wasmpool/wasmpool/examples/linelen/guest",
	"only.wasm":    "github.com/wasmpool/wasmpool/examples/only/guest",
	"grl.wasm":     "github.com/wasmpool/wasmpool/examples/grl/guest",
	"gl.wasm":      "github.com/wasmpool/wasmpool/examples/gl/guest",
	// the fork-join example's guest: "files DIR" or "sumsq", then LO HI PART
	"forkjoin.wasm": "github.com/wasmpool/wasmpool/examples/forkjoin/guest",
}

// optionalTools are programs a command may use that a machine may lack
// (the guest toolchains of other languages, and GNU parallel for the
// comparisons): .ci/run installs them all; elsewhere a command that names
// one that is missing is logged and skipped.
var optionalTools = []string{"parallel", "clang-14", "wat2wasm", "rustc"}

// fixtures are the files each block's directory starts with.
var fixtures = map[string]string{
	"words.txt":      "hello\nwasm\n\nworld\npool\na\n",
	"a.txt":          "first line\nTODO: a second\n",
	"b.txt":          "one\ntwo\nthree\n",
	"src/main.go":    "package main\n\n// TODO: say more\nfunc main() { println(\"hi\") }\n",
	"src/notes.txt":  "nothing to do here\n",
	"src/logo.png":   "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
	"src/photo.jpeg": "\xff\xd8\xff\xe0\x00\x10JFIF\x00",
}

func init() {
	var log strings.Builder
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&log, "2026-12-01 12:00:%02d request %d served\n", i%60, i)
	}
	fixtures["big.log"] = log.String()
}

// TestDocs runs every command of the documents' sh and console blocks.
func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and the example guests, and runs the documents' commands")
	}
	root := goEnv(t, "GOMOD")
	root = filepath.Dir(root)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "wasmpool"), "./cmd/wasmpool")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wasmpool: %v\n%s", err, out)
	}
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOCACHE="+goEnv(t, "GOCACHE"), // before XDG_CACHE_HOME moves it
		"XDG_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"GOWORK=off")
	built := map[string]string{}
	moduleDir := filepath.Join(tmp, "modules")
	nameRE := regexp.MustCompile(`[\w.-]+\.wasm\b`)
	for _, doc := range docs {
		text, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		blocks := extract(string(text))
		if len(blocks) == 0 {
			t.Errorf("%s: no sh or console block", doc)
		}
		for _, b := range blocks {
			name := fmt.Sprintf("%s:%d", doc, b.line)
			t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
				dir := filepath.Join(tmp, "blocks", strings.NewReplacer("/", "_", ":", "_").Replace(name))
				setUp(t, root, dir)
				env := append(env, "GOBIN="+filepath.Join(dir, "gobin"))
				var all string
				for _, c := range b.cmds {
					all += c.text + "\n"
				}
				for _, m := range nameRE.FindAllString(all, -1) {
					pkg, ok := modules[m]
					if !ok {
						continue
					}
					if built[m] == "" {
						// a directory each: guestbuild names a module by its
						// package's last element, "guest" for them all
						path, err := guestbuild.Go(filepath.Join(moduleDir, m), pkg)
						if err != nil {
							t.Fatal(err)
						}
						built[m] = path
					}
					copyFile(t, built[m], filepath.Join(dir, m))
				}
				for i, c := range b.cmds {
					if tool := missingTool(c.text); tool != "" {
						// the rest of the block may need what it makes
						t.Logf("%s:%d: not run, %s is not installed; nor the %d commands after it", doc, c.line, tool, len(b.cmds)-i-1)
						break
					}
					runCommand(t, doc, dir, env, c)
				}
			})
		}
	}
}

// runCommand runs one command of a document in dir and checks it.
func runCommand(t *testing.T, doc, dir string, env []string, c command) {
	t.Helper()
	where := fmt.Sprintf("%s:%d", doc, c.line)
	if c.skip != "" {
		t.Logf("%s: not run (%s): %s", where, c.skip, c.text)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", c.text)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	// head closing the pipe kills the writer with SIGPIPE: bash says 141
	if code != c.status && !(code == 141 && c.status == 0 && strings.Contains(c.text, "| head")) {
		t.Errorf("%s: %s\nexit status %d, want %d (%v); output:\n%s", where, c.text, code, c.status, err, out.String())
		return
	}
	// a guest that complains means the example is wrong, even when it
	// exits 0 (a file it cannot open gets no reply)
	if !c.check && regexp.MustCompile(`(?m)^kid \d+: `).Match(out.Bytes()) {
		t.Errorf("%s: %s\na guest wrote to stderr:\n%s", where, c.text, out.String())
		return
	}
	if !c.check {
		return
	}
	got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if out.Len() == 0 {
		got = nil
	}
	if !match(c.output, got) {
		t.Errorf("%s: %s\noutput:\n%s\nwant (… is any text):\n%s", where, c.text, out.String(), strings.Join(c.output, "\n"))
	}
}

// missingTool returns the optional tool the command uses that is not
// installed, or "".
func missingTool(command string) string {
	for _, tool := range optionalTools {
		if slices.Contains(strings.Fields(command), tool) {
			if _, err := exec.LookPath(tool); err != nil {
				return tool
			}
		}
	}
	return ""
}

// setUp makes a block's directory: the checkout's top-level files and
// directories linked in, and the fixtures.
func setUp(t *testing.T, root, dir string) {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); name != ".git" && !strings.HasSuffix(name, ".wasm") && name != "wasmpool" {
			if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range fixtures {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
