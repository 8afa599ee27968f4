package conformance

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmpool/wasmpool/abi"
)

// TestSessionMarker checks that every guest built the ordinary way with
// an SDK (and the hand-written WAT filters) exports the session marker, a
// function without parameters or results.
func TestSessionMarker(t *testing.T) {
	for _, l := range langs {
		for _, kind := range []string{"echo", "linelen"} {
			t.Run(l.name+"/"+kind, func(t *testing.T) {
				mod := compiledGuest(t, l.name+"/"+kind)
				fn, ok := mod.ExportedFunctions()[abi.SessionMarker]
				if !ok {
					var names []string
					for name := range mod.ExportedFunctions() {
						names = append(names, name)
					}
					t.Fatalf("%s does not export %s; its functions: %q", guests[l.name+"/"+kind].mod.path, abi.SessionMarker, names)
				}
				if len(fn.ParamTypes()) != 0 || len(fn.ResultTypes()) != 0 {
					t.Errorf("%s has type %v → %v, want no parameters and no results",
						abi.SessionMarker, typeNames(fn.ParamTypes()), typeNames(fn.ResultTypes()))
				}
			})
		}
	}
}

func typeNames(ts []api.ValueType) []string {
	var out []string
	for _, t := range ts {
		out = append(out, api.ValueTypeName(t))
	}
	return out
}

// TestFramingEnv checks that the guests take the pool's framings from the
// environment (abi.FramesEnv, abi.ReplyFramesEnv) over the ones their code
// names, and that a strict guest refuses other framings at start.
func TestFramingEnv(t *testing.T) {
	frames, replies := abi.FramesEnv+"=", abi.ReplyFramesEnv+"="
	cases := []struct {
		name   string
		guest  string // echo or linelen
		sdk    bool   // needs an SDK (reply framing of its own, strict, env in linelen)
		only   string // only for this language
		args   []string
		env    []string
		in     string
		stdout string
		stderr string // the exact stderr; "" checks for none
		code   int
	}{
		// linelen is written for lines.
		{name: "linelen-zero", guest: "linelen", sdk: true, env: []string{frames + "zero"},
			in: "a\x00bb\x00", stdout: "1\x002\x00"},
		{name: "linelen-zero-to-lines", guest: "linelen", sdk: true, env: []string{frames + "zero", replies + "lines"},
			in: "a\x00bb\x00ccc", stdout: "1\n2\n3\n"},
		{name: "linelen-lenpfx", guest: "linelen", sdk: true, env: []string{frames + "lenpfx"},
			in: string(lenpfx("a\nb", "")), stdout: string(lenpfx("3", "0"))},
		{name: "linelen-empty-env", guest: "linelen", sdk: true, env: []string{frames, replies},
			in: "a\nbb", stdout: "1\n2\n"},
		{name: "linelen-no-env", guest: "linelen", in: "a\nbb", stdout: "1\n2\n"},

		// echo's arguments name its default framings.
		{name: "echo-lenpfx", guest: "echo", args: []string{"lines"}, env: []string{frames + "lenpfx"},
			in: string(lenpfx("a\nb", "", "c")), stdout: string(lenpfx("a\nb", "", "c"))},
		{name: "echo-zero-unterminated", guest: "echo", args: []string{"lines"}, env: []string{frames + "zero"},
			in: "a\nb\x00c", stdout: "a\nb\x00c\x00"},
		{name: "echo-fixed", guest: "echo", args: []string{"zero"}, env: []string{frames + "fixed:3"},
			in: "ab\x00cd\n", stdout: "ab\x00cd\n"},
		{name: "echo-same-env", guest: "echo", args: []string{"zero"}, env: []string{frames + "zero", replies + "zero"},
			in: "a\x00b", stdout: "a\x00b\x00"},
		{name: "echo-to-lenpfx", guest: "echo", sdk: true, args: []string{"lines"}, env: []string{frames + "lines", replies + "lenpfx"},
			in: "ab\nc\n", stdout: string(lenpfx("ab", "c"))},
		{name: "echo-reply-env-only", guest: "echo", sdk: true, args: []string{"lenpfx"}, env: []string{replies + "zero"},
			in: string(lenpfx("ab")), stdout: "ab\x00"},
		{name: "echo-bad-frames", guest: "echo", args: []string{"lines"}, env: []string{frames + "words"},
			in: "a\n", code: 1, stderr: "WASMPOOL_FRAMES: frames: invalid framing \"words\""},
		{name: "echo-bad-replies", guest: "echo", args: []string{"lines"}, env: []string{frames + "lines", replies + "fixed:0"},
			in: "a\n", code: 1, stderr: "WASMPOOL_REPLY_FRAMES: frames: invalid framing \"fixed:0\""},

		// The WAT echo cannot convert framings: it refuses a reply framing
		// of the pool's own.
		{name: "wat-to-lenpfx", guest: "echo", only: "wat", args: []string{"zero"}, env: []string{frames + "lines", replies + "lenpfx"},
			in: "a\n", code: 1, stderr: "guest: this guest writes lines replies; the pool reads lenpfx\n"},
		{name: "wat-to-lines", guest: "echo", only: "wat", args: []string{"lines"}, env: []string{replies + "fixed:1"},
			in: "a\n", code: 1, stderr: "guest: this guest writes lines replies; the pool reads fixed:1\n"},

		// strict guests
		{name: "strict-same", guest: "echo", sdk: true, args: []string{"-strict", "fixed:4"}, env: []string{frames + "fixed:4", replies + "fixed:4"},
			in: "abcdefgh", stdout: "abcdefgh"},
		{name: "strict-no-env", guest: "echo", sdk: true, args: []string{"-strict", "fixed:4"},
			in: "abcd", stdout: "abcd"},
		{name: "strict-requests", guest: "echo", sdk: true, args: []string{"-strict", "fixed:4"}, env: []string{frames + "lines"},
			in: "abcd\n", code: 1, stderr: "guest: this guest reads fixed:4 requests; the pool sends lines\n"},
		{name: "strict-replies", guest: "echo", sdk: true, args: []string{"-strict", "lines", "lenpfx"}, env: []string{frames + "lines", replies + "zero"},
			in: "abcd\n", code: 1, stderr: "guest: this guest writes lenpfx replies; the pool reads zero\n"},
		// A missing reply variable means the request framing.
		{name: "strict-replies-implied", guest: "echo", sdk: true, args: []string{"-strict", "lines", "lenpfx"}, env: []string{frames + "lines"},
			in: "abcd\n", code: 1, stderr: "guest: this guest writes lenpfx replies; the pool reads lines\n"},
		{name: "strict-bad", guest: "echo", sdk: true, args: []string{"-strict", "lines"}, env: []string{frames + "fixed:x"},
			in: "abcd\n", code: 1, stderr: "WASMPOOL_FRAMES: frames: invalid framing \"fixed:x\""},
	}
	for _, l := range langs {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				if c.sdk && !l.sdk || c.only != "" && c.only != l.name {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					mod := compiledGuest(t, l.name+"/"+c.guest)
					r := runEnv(mod, c.args, c.env, strings.NewReader(c.in), nil)
					if r.code != c.code || r.err != nil {
						t.Fatalf("%v, want exit status %d", r, c.code)
					}
					if string(r.stdout) != c.stdout {
						t.Errorf("stdout %q, want %q", r.stdout, c.stdout)
					}
					switch {
					case c.code == 0:
						if len(r.stderr) != 0 {
							t.Errorf("stderr %q, want none", r.stderr)
						}
					case strings.HasSuffix(c.stderr, "\n") && string(r.stderr) != c.stderr:
						t.Errorf("stderr %q, want %q", r.stderr, c.stderr)
					case !bytes.HasPrefix(r.stderr, []byte("guest: ")) || !strings.Contains(string(r.stderr), c.stderr):
						t.Errorf("stderr %q, want a line starting with \"guest: \" that holds %q", r.stderr, c.stderr)
					}
				})
			}
		})
	}
}
