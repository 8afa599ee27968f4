package guestbuild

import "os/exec"

// WAT assembles the WebAssembly text module src with wat2wasm (Debian
// package wabt) into dir and returns the module's path.
func WAT(dir, src string) (string, error) {
	tool, err := lookPath(LangWAT, "wat2wasm", "the Debian package wabt")
	if err != nil {
		return "", err
	}
	if err := checkSource(src); err != nil {
		return "", err
	}
	out, err := outPath(dir, LangWAT, src)
	if err != nil {
		return "", err
	}
	if upToDate(out, src) {
		return out, nil
	}
	tmp := tmpName(out)
	if err := run("wat2wasm "+src, exec.Command(tool, "-o", tmp, src)); err != nil {
		return "", err
	}
	return out, finish(tmp, out)
}
