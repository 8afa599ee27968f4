package guestbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

const cPackages = "the Debian packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32"

type clangInfo struct {
	clang   string
	sysroot string
	err     error
}

// findClang finds a clang that can build wasm32-wasi: $WASMPOOL_CLANG,
// clang-14 or clang; the WASI sysroot is $WASI_SYSROOT or Debian's /usr.
var findClang = sync.OnceValue(func() clangInfo {
	var c clangInfo
	for _, name := range []string{os.Getenv("WASMPOOL_CLANG"), "clang-14", "clang"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			c.clang = p
			break
		}
	}
	if c.clang == "" {
		c.err = missing(LangC, "clang-14", cPackages)
		return c
	}
	c.sysroot = os.Getenv("WASI_SYSROOT")
	if c.sysroot == "" {
		c.sysroot = "/usr"
	}
	if !exists(filepath.Join(c.sysroot, "include/wasm32-wasi/stdlib.h")) &&
		!exists(filepath.Join(c.sysroot, "include/stdlib.h")) {
		c.err = missing(LangC, "the WASI C library in "+c.sysroot, "the Debian package wasi-libc")
		return c
	}
	// Debian's clang is /usr/bin/clang-14 → /usr/lib/llvm-14/bin/clang; its
	// wasm-ld and wasm32 builtins sit beside it in the LLVM directory.
	if real, err := filepath.EvalSymlinks(c.clang); err == nil && c.sysroot == "/usr" {
		llvm := filepath.Dir(filepath.Dir(real))
		if !exists(filepath.Join(llvm, "bin/wasm-ld")) {
			c.err = missing(LangC, "wasm-ld in "+llvm+"/bin", "the Debian package lld-14")
			return c
		}
		builtins, _ := filepath.Glob(filepath.Join(llvm, "lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a"))
		if len(builtins) == 0 {
			c.err = missing(LangC, "the wasm32 compiler-rt builtins", "the Debian package libclang-rt-14-dev-wasm32")
			return c
		}
	}
	return c
})

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// C builds the C program src (one .c file that includes "wasmpool.h" from
// guest/c) for wasm32-wasi with clang -Oz into dir and returns the
// module's path. Extra arguments are passed to clang (for example -D
// defines or more source files) after the default ones, so a later -O flag
// (-O2 for a speed build) overrides -Oz. A build with extra arguments
// always runs, and writes the same path as one without.
func C(dir, src string, extra ...string) (string, error) {
	c := findClang()
	if c.err != nil {
		return "", c.err
	}
	if err := checkSource(src); err != nil {
		return "", err
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out, err := outPath(dir, LangC, src)
	if err != nil {
		return "", err
	}
	sdk := filepath.Join(root, "guest", "c")
	if len(extra) == 0 && upToDate(out, src, filepath.Join(sdk, "wasmpool.h")) {
		return out, nil
	}
	tmp := tmpName(out)
	args := []string{
		"--target=wasm32-wasi", "--sysroot=" + c.sysroot,
		"-Oz", "-Wall", "-Wextra",
		"-Wl,--strip-all",
		"-I", sdk,
		"-o", tmp, src,
	}
	args = append(args, extra...)
	if err := run("clang "+src, exec.Command(c.clang, args...)); err != nil {
		return "", err
	}
	return out, finish(tmp, out)
}
