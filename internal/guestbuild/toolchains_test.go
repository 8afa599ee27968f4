package guestbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestToolchains(t *testing.T) {
	ts := Toolchains()
	if len(ts) != len(Langs) {
		t.Fatalf("%d toolchains for %d languages", len(ts), len(Langs))
	}
	for _, tc := range ts {
		if tc.Err != nil {
			if !errors.Is(tc.Err, ErrMissing) {
				t.Errorf("%s: %v does not wrap ErrMissing", tc.Lang, tc.Err)
			}
			if !strings.Contains(tc.Err.Error(), "install") {
				t.Errorf("%s: %q does not say what to install", tc.Lang, tc.Err)
			}
			t.Logf("%s: %v", tc.Lang, tc.Err)
			continue
		}
		t.Logf("%s: %s", tc.Lang, tc.Compiler)
	}
	if err := Check("cobol"); err == nil || errors.Is(err, ErrMissing) {
		t.Errorf("Check(cobol) = %v, want an unknown-language error", err)
	}
}

// TestBuildErrors checks that a build error carries the compiler's message
// and leaves no module behind.
func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	builders := map[string]struct {
		build func(dir, src string) (string, error)
		ext   string
	}{
		LangC:    {func(d, s string) (string, error) { return C(d, s) }, ".c"},
		LangRust: {Rust, ".rs"},
		LangWAT:  {WAT, ".wat"},
	}
	for lang, b := range builders {
		if err := Check(lang); err != nil {
			t.Logf("skipping %s: %v", lang, err)
			continue
		}
		src := filepath.Join(dir, "bad"+b.ext)
		if err := os.WriteFile(src, []byte("this is not a program\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		out, err := b.build(dir, src)
		if err == nil {
			t.Errorf("%s: built %s from nonsense", lang, out)
			continue
		}
		if !strings.Contains(err.Error(), "bad"+b.ext) {
			t.Errorf("%s: error %q does not name the source", lang, err)
		}
		if _, err := b.build(dir, filepath.Join(dir, "missing"+b.ext)); err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("%s: missing source: %v", lang, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.wasm")); len(m) != 0 {
		t.Errorf("failed builds left %v", m)
	}
}

// TestRustSpeed checks that a speed build of a Rust guest sits beside the
// size build of the same source, each with its own SDK rlib.
func TestRustSpeed(t *testing.T) {
	if err := Check(LangRust); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.rs")
	prog := "use wasmpool::{serve, Framing, Replies};\nfn main() { serve(Framing::Lines, |r: &[u8], w: &mut Replies| w.reply(r)) }\n"
	if err := os.WriteFile(src, []byte(prog), 0o666); err != nil {
		t.Fatal(err)
	}
	small, err := Rust(dir, src)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := RustWith(dir, src, RustOptions{Speed: true})
	if err != nil {
		t.Fatal(err)
	}
	if small == fast {
		t.Fatalf("size and speed builds both wrote %s", small)
	}
	for _, p := range []string{small, fast, filepath.Join(dir, "libwasmpool.rlib"), filepath.Join(dir, "libwasmpool-speed.rlib")} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}
