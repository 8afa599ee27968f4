// Package doctest runs the shell commands of README.md and docs/cli.md, so
// that the documentation says only what works.
//
// Its test extracts every fenced block marked sh or console (see extract),
// and runs each block's commands in a temporary directory of its own, one
// by one, with bash -o pipefail: a wasmpool built from this checkout is on
// PATH, the checkout's files are linked into the directory (so a command
// may say ./examples/linelen/guest, as in a checkout), the modules a block
// names are built there from the repo's guests (linelen.wasm, only.wasm,
// grl.wasm, gl.wasm) and a few input files are made (words.txt, a.txt,
// b.txt, big.log, a src directory). A command must exit 0 (or N, when
// its trailing comment says "# status N"), and no guest
// may write to stderr (lines "kid N: ") unless a console block shows it.
// In a console block, the lines after "$ command" are its output, where
// "…" stands for any text and a line of only "…" for any lines.
//
// In the documents, a command that cannot run in a test carries the
// comment "# not run: why", on its line or the line before; a command
// that uses a program of optionalTools runs only where it is installed.
package doctest
