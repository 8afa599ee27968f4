package guestbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

const rustPackages = "the Debian packages rustc libstd-rust-dev-wasm32"

type rustcInfo struct {
	rustc string
	err   error
}

// findRustc finds $WASMPOOL_RUSTC or Debian's /usr/bin/rustc (not a
// rustup rustc earlier in PATH, whose wasm32-wasi target may be missing)
// and checks that it has the wasm32-wasi standard library.
var findRustc = sync.OnceValue(func() rustcInfo {
	r := rustcInfo{rustc: os.Getenv("WASMPOOL_RUSTC")}
	if r.rustc == "" {
		r.rustc = "/usr/bin/rustc"
	}
	if _, err := exec.LookPath(r.rustc); err != nil {
		r.err = missing(LangRust, r.rustc, rustPackages)
		r.rustc = ""
		return r
	}
	out, err := exec.Command(r.rustc, "--print", "sysroot").Output()
	if err != nil {
		r.err = missing(LangRust, "a working "+r.rustc, rustPackages)
		return r
	}
	std := filepath.Join(strings.TrimSpace(string(out)), "lib/rustlib/wasm32-wasi/lib")
	if libs, _ := filepath.Glob(filepath.Join(std, "libstd-*.rlib")); len(libs) == 0 {
		r.err = missing(LangRust, "the wasm32-wasi standard library in "+std, "the Debian package libstd-rust-dev-wasm32")
	}
	return r
})

var rlibMu sync.Mutex

// RustOptions are the choices of a Rust guest build.
type RustOptions struct {
	// Speed optimizes for speed (opt-level=3) rather than size
	// (opt-level=s, the default): for CPU-bound guests. The module and the
	// SDK's rlib get names of their own, so that both builds of one source
	// can live in one dir.
	Speed bool
}

// rustFlags returns the flags of a Rust guest build: size- or
// speed-optimized, no unwinding (a panic is a wasm trap).
func rustFlags(opt RustOptions) []string {
	level := "opt-level=s"
	if opt.Speed {
		level = "opt-level=3"
	}
	return []string{"--edition", "2021", "--target", "wasm32-wasi", "-C", level, "-C", "panic=abort"}
}

// Rust builds the Rust program src (a main.rs, compiled by rustc without
// cargo, that may `use wasmpool::…` from guest/rust/wasmpool.rs) for
// wasm32-wasi into dir, optimized for size, and returns the module's path.
// The SDK is compiled once per dir as an rlib and passed with --extern.
func Rust(dir, src string) (string, error) {
	return RustWith(dir, src, RustOptions{})
}

// RustWith is [Rust] with options.
func RustWith(dir, src string, opt RustOptions) (string, error) {
	r := findRustc()
	if r.err != nil {
		return "", r.err
	}
	if err := checkSource(src); err != nil {
		return "", err
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out, err := outPath(dir, LangRust, src)
	if err != nil {
		return "", err
	}
	sdk := filepath.Join(root, "guest", "rust", "wasmpool.rs")
	lib := filepath.Join(dir, "libwasmpool.rlib")
	if opt.Speed {
		out = strings.TrimSuffix(out, ".wasm") + "-speed.wasm"
		lib = filepath.Join(dir, "libwasmpool-speed.rlib")
	}
	flags := rustFlags(opt)
	rlibMu.Lock() // concurrent rustc runs writing one rlib collide
	defer rlibMu.Unlock()
	if !upToDate(lib, sdk) {
		tmp := tmpName(lib)
		args := append([]string{"--crate-type", "rlib", "--crate-name", "wasmpool", "-o", tmp, sdk}, flags...)
		if err := run("rustc "+sdk, exec.Command(r.rustc, args...)); err != nil {
			return "", err
		}
		if err := finish(tmp, lib); err != nil {
			return "", err
		}
	}
	if upToDate(out, src, lib) {
		return out, nil
	}
	tmp := tmpName(out)
	args := append([]string{"-C", "strip=symbols", "--extern", "wasmpool=" + lib, "-o", tmp, src}, flags...)
	if err := run("rustc "+src, exec.Command(r.rustc, args...)); err != nil {
		return "", err
	}
	return out, finish(tmp, out)
}
