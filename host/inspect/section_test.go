package inspect

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/abi"
)

func TestParseSection(t *testing.T) {
	full := "# a comment\r\nversion 1\nframing fixed:16\n\treply-framing  lenpfx \none-to-one\n" +
		"dir /dict\ndir /scratch rw optional\nenv LANG optional\nenv TZ\n\n"
	tests := []struct {
		in   string
		want Section
		err  string // a substring of the error; "" for none
	}{
		{"", Section{Version: 1}, ""},
		{"\x00", Section{Version: 1}, ""},
		{full, Section{
			Version: 1, Framing: "fixed:16", ReplyFraming: "lenpfx", OneToOne: true,
			Dirs: []SectionDir{{Path: "/dict"}, {Path: "/scratch", Write: true, Optional: true}},
			Env:  []SectionEnv{{Name: "LANG", Optional: true}, {Name: "TZ"}},
		}, ""},
		// a C string's NUL and two sections merged by a linker
		{"framing zero\x00one-to-one\n\x00framing zero\x00", Section{Version: 1, Framing: "zero", OneToOne: true}, ""},
		{"framing lines\nframing zero", Section{}, "line 2: framing zero after framing lines"},
		{"framng lines", Section{}, `unknown declaration "framng"`},
		{"version 3\nfancy 1 2 3\nframing lines", Section{Version: 3, Framing: "lines"}, ""},
		{"version 2\nfancy 1 2 3\nframing lines", Section{}, `unknown declaration "fancy"`},
		{"framing lines\nversion 0", Section{}, "line 2: version"},
		{"version 1\nversion 2", Section{}, "version 2 after version 1"},
		{"framing fixed:0", Section{}, "fixed:N"},
		{"framing fixed:08", Section{}, "fixed:N"},
		{"framing fixed:007", Section{}, `line 1: framing: invalid framing "fixed:007": fixed:N needs`},
		{"framing fixed:+8", Section{}, "fixed:N"},
		{"framing fixed:2147483648", Section{}, "fixed:N"},
		{"framing fixed:1073741825", Section{}, "fixed:N"},
		{"framing fixed:1073741824", Section{Version: 1, Framing: "fixed:1073741824"}, ""},
		{"framing nul", Section{}, `invalid framing "nul"`},
		{"framing", Section{}, "framing takes one value"},
		{"one-to-one yes", Section{}, "one-to-one takes no value"},
		{"session", Section{Version: 1, Session: true}, ""},
		{"version 2\nsession\nsession\n", Section{Version: 2, Session: true}, ""},
		{"session now", Section{}, "session takes no value"},
		{"sessions", Section{}, `unknown declaration "sessions" (want framing, reply-framing, one-to-one, session, dir, env or version)`},
		{"version 3\nsessions", Section{Version: 3}, ""},
		{"version 02", Section{}, "not a number"},
		{"dir data", Section{}, "not an absolute path"},
		{"dir /data/../etc", Section{}, "not a clean path"},
		{"dir /data rx", Section{}, `unexpected "rx"`},
		{"dir /data ro\ndir /data rw", Section{}, "declared twice"},
		{"dir /data ro\ndir /data", Section{Version: 1, Dirs: []SectionDir{{Path: "/data"}}}, ""},
		{"env 1X", Section{}, "not starting with a digit"},
		{"env A=B", Section{}, "letters, digits"},
		{"env A\nenv A optional", Section{}, "declared twice"},
		{"env", Section{}, "needs a variable name"},
		{"framing \xff", Section{}, "not UTF-8"},
	}
	for _, tc := range tests {
		got, err := ParseSection([]byte(tc.in))
		if tc.err != "" {
			var se *SectionError
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSection) || !errors.As(err, &se) || se.Line < 1 {
				t.Errorf("ParseSection(%q) error = %v, want a SectionError containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSection(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSection(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestSectionMarshal(t *testing.T) {
	s := Section{
		Framing: "lines", ReplyFraming: "zero", OneToOne: true,
		Dirs: []SectionDir{{Path: "/in"}, {Path: "/out", Write: true, Optional: true}},
		Env:  []SectionEnv{{Name: "TZ", Optional: true}},
	}
	text, err := s.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	want := "version 1\nframing lines\nreply-framing zero\none-to-one\ndir /in ro\ndir /out rw optional\nenv TZ optional\n"
	if string(text) != want {
		t.Errorf("MarshalText = %q, want %q", text, want)
	}
	var back Section
	if err := back.UnmarshalText(text); err != nil {
		t.Fatal(err)
	}
	s.Version = 1
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip: %+v, want %+v", back, s)
	}
	// session needs version 2; a section without it stays version 1 for
	// hosts that know only version 1.
	text, err = Section{Framing: "zero", Session: true}.MarshalText()
	if want := "version 2\nframing zero\nsession\n"; err != nil || string(text) != want {
		t.Errorf("MarshalText(session) = %q, %v; want %q", text, err, want)
	}
	for _, bad := range []Section{
		{Framing: "fixed:0"},
		{Framing: "fixed:007"},
		{ReplyFraming: "fixed:+5"},
		{Framing: "fixed:3000000000"},
		{ReplyFraming: "lines "},
		{Dirs: []SectionDir{{Path: "/a b"}}},
		{Dirs: []SectionDir{{Path: "/a"}, {Path: "/a", Write: true}}},
		{Env: []SectionEnv{{Name: ""}}},
		{Env: []SectionEnv{{Name: "A"}, {Name: "A"}}},
	} {
		if _, err := bad.MarshalText(); !errors.Is(err, ErrSection) {
			t.Errorf("MarshalText(%+v) error = %v, want ErrSection", bad, err)
		}
	}
}

// module is a minimal core module: a type section and a custom section.
var module = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type section: one func type () -> ()
	"\x00\x06\x04name\x00") // custom section "name"

func TestModuleSection(t *testing.T) {
	if _, found, err := ModuleSection(module); err != nil || found {
		t.Fatalf("ModuleSection(no section) = %v, %v", found, err)
	}
	with, err := SetModuleSection(module, []byte("framing zero\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(with, module) {
		t.Errorf("SetModuleSection did not keep the module's sections in place")
	}
	content, found, err := ModuleSection(with)
	if err != nil || !found || string(content) != "framing zero\n" {
		t.Fatalf("ModuleSection = %q, %v, %v", content, found, err)
	}
	// Replacing it leaves one section; a second one (as from a linker that
	// did not merge) is read after the first.
	again, err := SetModuleSection(with, []byte("one-to-one"))
	if err != nil {
		t.Fatal(err)
	}
	if content, _, _ := ModuleSection(again); string(content) != "one-to-one" {
		t.Errorf("after replacing: %q", content)
	}
	two := append(append([]byte(nil), with...), with[len(module):]...)
	if content, _, _ := ModuleSection(two); string(content) != "framing zero\n\nframing zero\n" {
		t.Errorf("two sections: %q", content)
	}
	if _, err := ParseSection(content); err != nil {
		t.Errorf("two identical sections: %v", err)
	}
	empty, _ := SetModuleSection(module, []byte{})
	if content, found, _ := ModuleSection(empty); !found || content == nil || len(content) != 0 {
		t.Errorf("empty section: %q, %v", content, found)
	}
	removed, err := SetModuleSection(two, nil)
	if err != nil || !bytes.Equal(removed, module) {
		t.Errorf("removing: %x, %v", removed, err)
	}
	for _, bad := range [][]byte{
		nil,
		[]byte("\x7fELF"),
		[]byte("\x00asm\x0d\x00\x01\x00"), // a component
	} {
		if _, _, err := ModuleSection(bad); !errors.Is(err, ErrNotModule) {
			t.Errorf("ModuleSection(%q) error = %v, want ErrNotModule", bad, err)
		}
		if _, err := SetModuleSection(bad, nil); !errors.Is(err, ErrNotModule) {
			t.Errorf("SetModuleSection(%q) error = %v, want ErrNotModule", bad, err)
		}
	}
	for _, bad := range [][]byte{
		[]byte("\x00asm\x01\x00\x00\x00\x01\x05\x01"),             // section past the end
		[]byte("\x00asm\x01\x00\x00\x00\x01\x80\x80\x80\x80\x10"), // size overflows u32
		[]byte("\x00asm\x01\x00\x00\x00\x00\x02\x05a"),            // custom name past the end
	} {
		if _, _, err := ModuleSection(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ModuleSection(%q) error = %v, want ErrMalformed", bad, err)
		}
		if _, err := SetModuleSection(bad, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("SetModuleSection(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseSection(f *testing.F) {
	for _, seed := range []string{
		"", "version 1\nframing lines\nreply-framing zero\none-to-one\n",
		"dir /a ro optional\nenv X optional\n", "framing fixed:3\x00framing fixed:3\x00",
		"version 9\nnew-thing a b\n", "# c\r\n\tenv _A1\n", "session\x00one-to-one\n",
		"framing fixed:007\n", "reply-framing fixed:1073741824\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParseSection(in)
		if err != nil {
			if !errors.Is(err, ErrSection) {
				t.Fatalf("error %v does not wrap ErrSection", err)
			}
			return
		}
		text, err := s.MarshalText()
		if err != nil {
			t.Fatalf("a parsed section does not marshal: %+v: %v", s, err)
		}
		back, err := ParseSection(text)
		if err != nil {
			t.Fatalf("canonical text %q does not parse: %v", text, err)
		}
		s.Version = back.Version
		if back.Version > abi.SectionVersion || !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip: %+v, want %+v", back, s)
		}
	})
}

func FuzzModuleSection(f *testing.F) {
	with, _ := SetModuleSection(module, []byte("framing lines\n"))
	f.Add(module, []byte("one-to-one"))
	f.Add(with, []byte(nil))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x00\x02\x05a"), []byte("x"))
	f.Fuzz(func(t *testing.T, mod, content []byte) {
		old, _, err := ModuleSection(mod)
		out, serr := SetModuleSection(mod, content)
		if (err == nil) != (serr == nil) {
			t.Fatalf("ModuleSection error %v, SetModuleSection error %v", err, serr)
		}
		if err != nil {
			return
		}
		got, found, err := ModuleSection(out)
		if err != nil {
			t.Fatalf("after SetModuleSection: %v", err)
		}
		if found != (content != nil) || !bytes.Equal(got, content) {
			t.Fatalf("content %q (found %v), want %q", got, found, content)
		}
		restored, err := SetModuleSection(out, old)
		if err != nil {
			t.Fatal(err)
		}
		if again, _, _ := ModuleSection(restored); !bytes.Equal(again, old) {
			t.Fatalf("restored %q, want %q", again, old)
		}
	})
}
