package guestbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Go builds the Go main package pkg (an import path or a directory) with
// GOOS=wasip1 GOARCH=wasm into dir and returns the module's path.
func Go(dir, pkg string) (string, error) {
	out := filepath.Join(dir, "go-"+path.Base(strings.TrimRight(pkg, "/"))+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("guestbuild: go build %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// Native builds the Go main package pkg for the host into dir and returns
// the executable's path (for native comparison kids and benchmarks).
func Native(dir, pkg string) (string, error) {
	out := filepath.Join(dir, "native-"+path.Base(strings.TrimRight(pkg, "/")))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("guestbuild: go build %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}
