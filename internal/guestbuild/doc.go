// Package guestbuild builds wasm guests from source for tests, examples and
// benchmarks, so that no built module is committed. Each builder writes one
// module into a directory and returns its path; a missing toolchain is an
// error that names the package to install.
//
//	wasm, err := guestbuild.Go(dir, "github.com/wasmpool/wasmpool/examples/linelen/guest")
//
// Builders for the other guest languages take one source file:
//
//	guestbuild.C(dir, "examples/linelen/c/main.c")                  // clang-14 -Oz, guest/c/wasmpool.h
//	guestbuild.Rust(dir, "examples/linelen/rust/main.rs")           // /usr/bin/rustc, guest/rust/wasmpool.rs
//	guestbuild.WAT(dir, "examples/linelen/wat/main.wat")            // wat2wasm
//	guestbuild.AssemblyScript(dir, "examples/linelen/assemblyscript/main.ts") // asc from internal/guestbuild/npm
//
// [Check] and [Toolchains] tell which languages can be built here; their
// errors (and the builders') wrap [ErrMissing] and name the Debian package
// or npm step. .ci/install-toolchains installs them all: the Debian
// packages, and AssemblyScript with npm ci into internal/guestbuild/npm
// (git-ignored node_modules).
package guestbuild
