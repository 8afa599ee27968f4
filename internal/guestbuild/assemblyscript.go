package guestbuild

import (
	"os/exec"
	"path/filepath"
	"sync"
)

const ascInstall = "the Debian package nodejs (with npm), then AssemblyScript with npm ci in internal/guestbuild/npm"

type ascInfo struct {
	node, asc string
	err       error
}

// findAsc finds node and the repo-local AssemblyScript compiler installed
// by `npm ci` in internal/guestbuild/npm (see .ci/install-toolchains).
var findAsc = sync.OnceValue(func() ascInfo {
	var a ascInfo
	node, err := exec.LookPath("node")
	if err != nil {
		a.err = missing(LangAssemblyScript, "node", ascInstall)
		return a
	}
	root, err := moduleRoot()
	if err != nil {
		a.err = err
		return a
	}
	a.node = node
	asc := filepath.Join(root, "internal/guestbuild/npm/node_modules/assemblyscript/bin/asc.js")
	shim := filepath.Join(root, "internal/guestbuild/npm/node_modules/@assemblyscript/wasi-shim/asconfig.json")
	if !exists(asc) || !exists(shim) {
		a.err = missing(LangAssemblyScript, asc+" and @assemblyscript/wasi-shim", ascInstall)
		return a
	}
	a.asc = asc
	return a
})

// AssemblyScript builds the AssemblyScript program src (a .ts entry file
// whose top-level statements are the program, importing
// guest/assemblyscript/wasmpool by a relative path) with asc and the WASI
// shim into dir and returns the module's path. Compiling takes a few
// seconds: asc runs on node.
func AssemblyScript(dir, src string) (string, error) {
	a := findAsc()
	if a.err != nil {
		return "", a.err
	}
	if err := checkSource(src); err != nil {
		return "", err
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out, err := outPath(dir, LangAssemblyScript, src)
	if err != nil {
		return "", err
	}
	sdk := filepath.Join(root, "guest", "assemblyscript")
	config := filepath.Join(sdk, "asconfig.json")
	if upToDate(out, src, filepath.Join(sdk, "wasmpool.ts"), filepath.Join(sdk, "session.ts"), config) {
		return out, nil
	}
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	tmp, err := filepath.Abs(tmpName(out))
	if err != nil {
		return "", err
	}
	// asc resolves the paths of an extended config against the working
	// directory: run it beside asconfig.json.
	cmd := exec.Command(a.node, a.asc, absSrc, "--config", "asconfig.json", "-o", tmp)
	cmd.Dir = sdk
	if err := run("asc "+src, cmd); err != nil {
		return "", err
	}
	return out, finish(tmp, out)
}
