package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wasmpool/wasmpool/frames"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"65536": 65536, "0": 0, "512KiB": 512 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30,
		"64M": 64 << 20, "64mib": 64 << 20, "2k": 2048, "1kB": 1000, "3MB": 3e6, "1GB": 1e9,
		"10B": 10, "1TiB": 1 << 40, " 4 KiB ": 4096,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.5GiB", "12XB", "99999999999999999999", "9999999999TiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1KiB", 1536: "1.5KiB", 64 << 20: "64MiB", 10 << 30: "10GiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	if d, err := parseDuration("1m30s"); err != nil || d != 90*time.Second {
		t.Errorf("1m30s: %v, %v", d, err)
	}
	for _, in := range []string{"5", "-1s", "soon", ""} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) succeeded", in)
		}
	}
}

func TestParseDir(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		in, guest string
		ro        bool
		err       string
	}{
		{dir, dir, false, ""},
		{dir + ":ro", dir, true, ""},
		{dir + ":/data", "/data", false, ""},
		{dir + ":/data:ro", "/data", true, ""},
		{dir + ":/data/:rw", "/data", false, ""},
		{dir + ":data", "", false, "not absolute"},
		{dir + "/nope", "", false, "no such directory"},
		{dir + ":/a:/b", "", false, "want HOST[:GUEST][:ro]"},
		{":/data", "", false, "no host directory"},
	}
	for _, tc := range tests {
		d, err := parseDir(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseDir(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || d.Host != dir || d.Guest != tc.guest || d.ReadOnly != tc.ro {
			t.Errorf("parseDir(%q) = %+v, %v", tc.in, d, err)
		}
	}
}

func TestFlags(t *testing.T) {
	var (
		b, c bool
		v    []string
	)
	fs := newFlagSet("test")
	fs.boolFlag("bee", 'b', &b)
	fs.boolFlag("", 'c', &c)
	fs.add(&option{long: "val", short: 'v', arg: "X", set: func(s string) error {
		if s == "bad" {
			return errors.New("no good")
		}
		v = append(v, s)
		return nil
	}})
	pos, rest, err := fs.parse([]string{"a", "-bc", "--val=1", "-v2", "-v", "3", "b", "--val", "4", "--", "-v", "x"})
	if err != nil || fmt.Sprint(pos, rest, v, b, c) != "[a b] [-v x] [1 2 3 4] true true" {
		t.Errorf("parse: %v %v %v %v %v, %v", pos, rest, v, b, c, err)
	}
	if _, rest, _ := fs.parse([]string{"x"}); rest != nil {
		t.Errorf("no --: rest %q, want nil", rest)
	}
	if _, _, err := fs.parse([]string{"--bee=false"}); err != nil || b {
		t.Errorf("--bee=false: %v, %v", b, err)
	}
	for args, want := range map[string]string{
		"--nope":    "test: unknown flag --nope (see 'wasmpool test --help')",
		"-x":        "test: unknown flag -x (see 'wasmpool test --help')",
		"-bx":       "test: unknown flag -x in -bx (see 'wasmpool test --help')",
		"-bee":      "test: unknown flag -bee: did you mean --bee? (see 'wasmpool test --help')",
		"-v":        "test: -v needs a value (X) (see 'wasmpool test --help')",
		"--val":     "test: --val needs a value (X) (see 'wasmpool test --help')",
		"--val=bad": "test: --val bad: no good",
		"--val=":    `test: --val "": no good`,
		"--bee=2":   "test: --bee 2: want true or false",
	} {
		_, _, err := fs.parse(strings.Fields(args))
		if args == "--val=" {
			// an empty value reaches set; make it fail for the message
			fs.lookupLong("val").set = func(string) error { return errors.New("no good") }
			_, _, err = fs.parse([]string{args})
		}
		if err == nil || err.Error() != want {
			t.Errorf("parse(%s) error %v, want %q", args, err, want)
		}
	}
	if !wantsHelp([]string{"x", "-h"}) || wantsHelp([]string{"--", "-h"}) || !wantsHelp([]string{"--help"}) {
		t.Error("wantsHelp")
	}
}

func TestConcatInputs(t *testing.T) {
	ins := []input{{name: "a.txt", r: strings.NewReader("1\n2\n3")}, {name: "-", r: strings.NewReader("")}, {name: "c.txt", r: iotest.OneByteReader(strings.NewReader("4\n5\n6\n"))}}
	c := newConcat(ins, frames.Lines)
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "1\n2\n3\n4\n5\n6\n" {
		t.Fatalf("read %q, %v: a last line without newline must end before the next input", got, err)
	}
	if c.bytes.Load() != int64(len(got)) {
		t.Errorf("counted %d bytes, read %d", c.bytes.Load(), len(got))
	}
	r := &runState{in: c}
	for i, want := range map[int]string{0: "request 1 (a.txt #1)", 2: "request 3 (a.txt #3)", 3: "request 4 (c.txt #1)", 5: "request 6 (c.txt #3)"} {
		if got := r.label(i); got != want {
			t.Errorf("label(%d) = %q, want %q", i, got, want)
		}
	}
	one := &runState{in: newConcat([]input{{name: "-", r: strings.NewReader("x")}}, frames.Lines)}
	if got := one.label(6); got != "request 7" {
		t.Errorf("one input: %q", got)
	}
	lp := newConcat([]input{{name: "a", r: strings.NewReader("ab")}, {name: "b", r: strings.NewReader("cd")}}, frames.LenPfx)
	if got, _ := io.ReadAll(lp); string(got) != "abcd" {
		t.Errorf("lenpfx inputs are joined as they are: %q", got)
	}
}
