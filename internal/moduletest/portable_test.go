package moduletest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// portable are the packages that must build on every system: what a
// program importing the library, or the CLI, compiles.
var portable = []string{"./abi/...", "./frames/...", "./guest/...", "./host/...", "./cmd/..."}

// TestBuildsElsewhere builds the portable packages for macOS and Windows:
// kids need Linux, but a program that imports host must still compile
// there (host.New then returns host.ErrUnsupported).
func TestBuildsElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build for other systems")
	}
	root := moduleRoot(t)
	for _, sys := range []string{"darwin/arm64", "windows/amd64"} {
		t.Run(strings.ReplaceAll(sys, "/", "_"), func(t *testing.T) {
			goos, goarch, _ := strings.Cut(sys, "/")
			env := append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
			list := exec.Command("go", append([]string{"list", "-e", "-f", "{{.ImportPath}}{{if .Error}} {{.Error}}{{end}}"}, portable...)...)
			list.Dir, list.Env = root, env
			out, err := list.Output()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			var pkgs []string
			for line := range strings.Lines(strings.TrimSpace(string(out))) {
				pkg, problem, _ := strings.Cut(strings.TrimSpace(line), " ")
				if problem != "" {
					t.Errorf("%s on %s: %s", pkg, sys, problem)
				}
				pkgs = append(pkgs, pkg)
			}
			if len(pkgs) < 5 {
				t.Fatalf("go list found only %v", pkgs)
			}
			build := exec.Command("go", append([]string{"build"}, pkgs...)...)
			build.Dir, build.Env = root, env
			if out, err := build.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s GOARCH=%s go build %s: %v\n%s", goos, goarch, strings.Join(portable, " "), err, out)
			}
		})
	}
}

// moduleRoot returns the directory of this module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not in a module")
	}
	return filepath.Dir(gomod)
}
