// Package moduletest holds tests of the module as its users get it, not of
// any one package: that the library and the CLI build for systems other
// than Linux (where host.New says it needs Linux), and that a fresh module
// outside this repository can require github.com/wasmpool/wasmpool, build
// a program on package host and run a pool with it. Both run the go
// command; -short skips them.
package moduletest
