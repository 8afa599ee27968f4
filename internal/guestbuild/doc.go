// Package guestbuild builds wasm guests from source for tests, examples and
// benchmarks, so that no built module is committed. Each builder writes one
// module into a directory and returns its path; a missing toolchain is an
// error that names the package to install.
//
//	wasm, err := guestbuild.Go(dir, "wasmpool/examples/linelen/guest")
package guestbuild
