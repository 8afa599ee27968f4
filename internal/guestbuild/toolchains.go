package guestbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Guest languages, as named by [Check] and [Toolchains].
const (
	LangGo             = "go"
	LangC              = "c"
	LangRust           = "rust"
	LangWAT            = "wat"
	LangAssemblyScript = "assemblyscript"
)

// Langs lists the guest languages this package builds.
var Langs = []string{LangGo, LangC, LangRust, LangWAT, LangAssemblyScript}

// ErrMissing is wrapped by the errors of builders and [Check] when a
// language's toolchain is not installed. The message names the Debian
// package (or npm step) to install; .ci/install-toolchains installs all.
var ErrMissing = errors.New("guestbuild: toolchain missing")

// Toolchain describes what builds one guest language.
type Toolchain struct {
	Lang     string // one of Langs
	Compiler string // path of the compiler found, "" when missing
	Install  string // what provides it (Debian packages or npm)
	Err      error  // nil when the language can be built; wraps ErrMissing
}

// Toolchains reports, for every language in [Langs], whether it can be
// built on this machine.
func Toolchains() []Toolchain {
	var ts []Toolchain
	for _, lang := range Langs {
		ts = append(ts, toolchain(lang))
	}
	return ts
}

// Check returns nil when lang can be built here, or an error wrapping
// [ErrMissing] that names what to install.
func Check(lang string) error {
	return toolchain(lang).Err
}

func toolchain(lang string) Toolchain {
	switch lang {
	case LangGo:
		t := Toolchain{Lang: lang, Install: "Go 1.26 (golang.org/dl)"}
		t.Compiler, t.Err = lookPath(lang, "go", t.Install)
		return t
	case LangC:
		c := findClang()
		return Toolchain{Lang: lang, Compiler: c.clang, Install: cPackages, Err: c.err}
	case LangRust:
		r := findRustc()
		return Toolchain{Lang: lang, Compiler: r.rustc, Install: rustPackages, Err: r.err}
	case LangWAT:
		t := Toolchain{Lang: lang, Install: "the Debian package wabt"}
		t.Compiler, t.Err = lookPath(lang, "wat2wasm", t.Install)
		return t
	case LangAssemblyScript:
		a := findAsc()
		return Toolchain{Lang: lang, Compiler: a.asc, Install: ascInstall, Err: a.err}
	}
	return Toolchain{Lang: lang, Err: fmt.Errorf("guestbuild: unknown guest language %q (want one of %s)", lang, strings.Join(Langs, ", "))}
}

func missing(lang, what, install string) error {
	return fmt.Errorf("%w: %s guests need %s: install %s (or run .ci/install-toolchains)", ErrMissing, lang, what, install)
}

func lookPath(lang, name, install string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", missing(lang, name, install)
	}
	return p, nil
}

// moduleRoot returns the directory of the wasmpool module, where the guest
// SDKs (guest/c, guest/rust, guest/assemblyscript) and the npm toolchain
// (internal/guestbuild/npm) live.
var moduleRoot = sync.OnceValues(func() (string, error) {
	if root := os.Getenv("WASMPOOL_ROOT"); root != "" {
		return root, nil
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("guestbuild: finding the module root with go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("guestbuild: not inside the wasmpool module (go env GOMOD is empty); set WASMPOOL_ROOT")
	}
	return filepath.Dir(gomod), nil
})

// outPath names the module built from src in dir: the language, the
// source's base name and a hash of its absolute path, so that two main.c in
// different directories do not collide.
func outPath(dir, lang, src string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	stem := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	return filepath.Join(dir, lang+"-"+stem+"-"+hex.EncodeToString(sum[:4])+".wasm"), nil
}

// upToDate reports whether out exists and is newer than every input.
func upToDate(out string, inputs ...string) bool {
	o, err := os.Stat(out)
	if err != nil {
		return false
	}
	for _, in := range inputs {
		i, err := os.Stat(in)
		if err != nil || i.ModTime().After(o.ModTime()) {
			return false
		}
	}
	return true
}

// run runs a build command and returns an error with its output. The
// module is written to a temporary name and renamed, so that an
// interrupted build leaves no truncated module behind.
func run(what string, cmd *exec.Cmd) error {
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("guestbuild: %s: %v\n%s", what, err, msg)
	}
	return nil
}

var tmpCount atomic.Int64

// tmpName returns a unique temporary name beside out, so that concurrent
// builds of the same module do not write the same file.
func tmpName(out string) string {
	ext := filepath.Ext(out)
	return fmt.Sprintf("%s.tmp%d-%d%s", strings.TrimSuffix(out, ext), os.Getpid(), tmpCount.Add(1), ext)
}

func finish(tmp, out string) error {
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("guestbuild: %v", err)
	}
	return nil
}

func checkSource(src string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("guestbuild: %v", err)
	}
	return nil
}
