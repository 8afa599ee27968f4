// This file holds the format of the wasmpool custom section: see [Section].

package abi

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SectionVersion is the version of the custom section format this package
// reads and writes.
const SectionVersion = 1

// Errors of the custom section and of the module walk that finds it.
var (
	// ErrSection: the content of a wasmpool section breaks its format.
	ErrSection = errors.New("abi: invalid wasmpool section")
	// ErrNotModule: the bytes are not a well-formed WebAssembly core module
	// (header or section framing).
	ErrNotModule = errors.New("abi: not a WebAssembly module")
)

// Section is the decoded content of a wasmpool custom section. Its zero
// value declares nothing. This comment is the section's specification.
//
// A module may describe itself to the host in a custom section named
// "wasmpool" ([CustomSection]): the framings it reads and writes, whether
// it replies exactly once per request, and what it needs granted. A host
// that finds the section uses it wherever the user said nothing else, so a
// described filter runs without flags (`wasmpool run filter.wasm`).
//
// The section's content is UTF-8 text, one declaration per line:
//
//	# linelen: replies with the length of each line
//	version 1
//	framing lines
//	reply-framing lines
//	one-to-one
//	dir /dict ro
//	dir /scratch rw optional
//	env LANG optional
//
// Lines end at '\n' or at a NUL byte, and a '\r' before the end is dropped,
// so a C string's terminator and the concatenation of several sections by a
// linker do no harm. Fields are separated by spaces or tabs. Empty lines and
// lines whose first field starts with '#' are ignored. The declarations:
//
//	version N           the format version, a decimal N ≥ 1; 1 when absent.
//	framing F           the request framing: lines, zero, lenpfx or fixed:N
//	                    (N decimal, no sign or leading zero, 1 ≤ N < 2³¹).
//	reply-framing F     the reply framing; when absent, the same as framing.
//	one-to-one          exactly one reply per request, in request order: the
//	                    host may match replies to requests (ordered output).
//	dir PATH [ro|rw] [optional]
//	                    the guest opens files under the absolute, clean guest
//	                    PATH (no spaces); ro (the default) if it only reads
//	                    them, rw if it writes. The user must grant a host
//	                    directory there unless the line says optional.
//	env NAME [optional] the guest reads the environment variable NAME
//	                    (letters, digits, '_', not starting with a digit);
//	                    the user must pass it unless the line says optional.
//
// A declaration may be repeated with the same value (as when a linker
// merges two copies), never with another. A declaration the reader does not
// know is an error when the section's version is one it knows (a typo
// caught early); in a section of a later version it is ignored, so later
// versions may only add declarations. Declarations are never grants: a host
// grants only what its user asks for, and reports a required need that was
// not granted before it starts any kid.
//
// The text is whatever [Section.MarshalText] writes, so tools can generate
// and compare it. A module may hold more than one "wasmpool" custom
// section; they are read as one text, in module order, a line end between
// each ([ModuleSection]).
//
// Writing the section: Go's wasm linker cannot emit custom sections; add
// one to a built module with `wasmpool describe`, or with
// [SetModuleSection]. In C (clang, wasm-ld), a top-level asm statement
// emits one; it survives -Wl,--strip-all:
//
//	__asm__(".section .custom_section.wasmpool,\"\",@\n"
//	        ".ascii \"framing lines\\none-to-one\\n\"\n");
//
// Rust emits one for a static with a link_section attribute:
//
//	#[used]
//	#[link_section = "wasmpool"]
//	static WASMPOOL: [u8; 25] = *b"framing lines\none-to-one\n";
type Section struct {
	// Version is the format version the section declared; 1 when it
	// declared none. MarshalText always writes SectionVersion.
	Version int
	// Framing and ReplyFraming are framing names (see the package doc),
	// empty when not declared.
	Framing      string
	ReplyFraming string
	// OneToOne: the guest replies exactly once per request, in order.
	OneToOne bool
	// Dirs and Env are the grants the guest needs, in declaration order.
	Dirs []SectionDir
	Env  []SectionEnv
}

// SectionDir is a directory a guest needs at Path.
type SectionDir struct {
	Path     string // absolute, clean guest path
	Write    bool   // rw: the guest writes there; else ro
	Optional bool   // the guest runs without it
}

// SectionEnv is an environment variable a guest reads.
type SectionEnv struct {
	Name     string
	Optional bool
}

// ParseSection decodes the content of a wasmpool custom section. Errors
// wrap [ErrSection] and name the line.
func ParseSection(content []byte) (Section, error) {
	lines := sectionLines(content)
	s := Section{Version: 1}
	// The version decides how unknown keys are treated: find it first.
	seenVersion := false
	for _, l := range lines {
		if len(l.fields) == 0 || l.fields[0] != "version" {
			continue
		}
		if len(l.fields) != 2 {
			return Section{}, l.errorf("version takes one value, a number")
		}
		v, ok := decimal(l.fields[1], 1<<31-1)
		if !ok {
			return Section{}, l.errorf("version %q is not a number ≥ 1", l.fields[1])
		}
		if seenVersion && v != s.Version {
			return Section{}, l.errorf("version %d after version %d", v, s.Version)
		}
		s.Version, seenVersion = v, true
	}
	var seen [3]bool // framing, reply-framing, one-to-one
	for _, l := range lines {
		if len(l.fields) == 0 {
			continue
		}
		if !utf8.ValidString(l.text) {
			return Section{}, l.errorf("not UTF-8 text")
		}
		key, vals := l.fields[0], l.fields[1:]
		switch key {
		case "version":
		case "framing", "reply-framing":
			if len(vals) != 1 {
				return Section{}, l.errorf("%s takes one value, a framing name", key)
			}
			if err := checkFraming(vals[0]); err != nil {
				return Section{}, l.errorf("%s: %v", key, err)
			}
			dst, i := &s.Framing, 0
			if key == "reply-framing" {
				dst, i = &s.ReplyFraming, 1
			}
			if seen[i] && *dst != vals[0] {
				return Section{}, l.errorf("%s %s after %s %s", key, vals[0], key, *dst)
			}
			*dst, seen[i] = vals[0], true
		case "one-to-one":
			if len(vals) != 0 {
				return Section{}, l.errorf("one-to-one takes no value")
			}
			s.OneToOne = true
		case "dir":
			d, err := parseDirLine(vals)
			if err != nil {
				return Section{}, l.errorf("%v", err)
			}
			dup := false
			for _, e := range s.Dirs {
				if e.Path == d.Path {
					if e != d {
						return Section{}, l.errorf("dir %s declared twice, differently", d.Path)
					}
					dup = true
				}
			}
			if !dup {
				s.Dirs = append(s.Dirs, d)
			}
		case "env":
			e, err := parseEnvLine(vals)
			if err != nil {
				return Section{}, l.errorf("%v", err)
			}
			dup := false
			for _, f := range s.Env {
				if f.Name == e.Name {
					if f != e {
						return Section{}, l.errorf("env %s declared twice, differently", e.Name)
					}
					dup = true
				}
			}
			if !dup {
				s.Env = append(s.Env, e)
			}
		default:
			if s.Version <= SectionVersion {
				return Section{}, l.errorf("unknown declaration %q (want framing, reply-framing, one-to-one, dir, env or version)", key)
			}
		}
	}
	return s, nil
}

// Validate reports a section that MarshalText cannot write or ParseSection
// would not return.
func (s Section) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrSection, fmt.Sprintf(format, args...))
	}
	if s.Framing != "" {
		if err := checkFraming(s.Framing); err != nil {
			return bad("framing: %v", err)
		}
	}
	if s.ReplyFraming != "" {
		if err := checkFraming(s.ReplyFraming); err != nil {
			return bad("reply-framing: %v", err)
		}
	}
	for i, d := range s.Dirs {
		if err := checkGuestPath(d.Path); err != nil {
			return bad("dir %q: %v", d.Path, err)
		}
		for _, e := range s.Dirs[:i] {
			if e.Path == d.Path {
				return bad("dir %s declared twice", d.Path)
			}
		}
	}
	for i, e := range s.Env {
		if err := checkEnvName(e.Name); err != nil {
			return bad("env %q: %v", e.Name, err)
		}
		for _, f := range s.Env[:i] {
			if f.Name == e.Name {
				return bad("env %s declared twice", e.Name)
			}
		}
	}
	return nil
}

// MarshalText writes the section in its canonical text form, which
// ParseSection reads back to an equal Section (Version aside).
func (s Section) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "version %d\n", SectionVersion)
	if s.Framing != "" {
		fmt.Fprintf(&b, "framing %s\n", s.Framing)
	}
	if s.ReplyFraming != "" {
		fmt.Fprintf(&b, "reply-framing %s\n", s.ReplyFraming)
	}
	if s.OneToOne {
		b.WriteString("one-to-one\n")
	}
	for _, d := range s.Dirs {
		mode := "ro"
		if d.Write {
			mode = "rw"
		}
		fmt.Fprintf(&b, "dir %s %s", d.Path, mode)
		if d.Optional {
			b.WriteString(" optional")
		}
		b.WriteByte('\n')
	}
	for _, e := range s.Env {
		fmt.Fprintf(&b, "env %s", e.Name)
		if e.Optional {
			b.WriteString(" optional")
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseSection.
func (s *Section) UnmarshalText(text []byte) error {
	t, err := ParseSection(text)
	if err != nil {
		return err
	}
	*s = t
	return nil
}

type sectionLine struct {
	n      int // from 1
	text   string
	fields []string // nil for blank and comment lines
}

func (l sectionLine) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrSection, l.n, fmt.Sprintf(format, args...))
}

func sectionLines(content []byte) []sectionLine {
	var lines []sectionLine
	n := 0
	for len(content) > 0 {
		i := bytes.IndexAny(content, "\n\x00")
		var line []byte
		if i < 0 {
			line, content = content, nil
		} else {
			line, content = content[:i], content[i+1:]
		}
		n++
		line = bytes.TrimSuffix(line, []byte("\r"))
		l := sectionLine{n: n, text: string(line)}
		l.fields = strings.FieldsFunc(l.text, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(l.fields) > 0 && strings.HasPrefix(l.fields[0], "#") {
			l.fields = nil
		}
		if len(l.fields) == 0 {
			l.fields = nil
		}
		lines = append(lines, l)
	}
	return lines
}

func parseDirLine(vals []string) (SectionDir, error) {
	if len(vals) == 0 {
		return SectionDir{}, errors.New("dir needs a guest path")
	}
	d := SectionDir{Path: vals[0]}
	if err := checkGuestPath(d.Path); err != nil {
		return SectionDir{}, fmt.Errorf("dir %q: %v", d.Path, err)
	}
	rest := vals[1:]
	if len(rest) > 0 && (rest[0] == "ro" || rest[0] == "rw") {
		d.Write = rest[0] == "rw"
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == "optional" {
		d.Optional = true
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return SectionDir{}, fmt.Errorf("dir %s: unexpected %q (want: dir PATH [ro|rw] [optional])", d.Path, rest[0])
	}
	return d, nil
}

func parseEnvLine(vals []string) (SectionEnv, error) {
	if len(vals) == 0 {
		return SectionEnv{}, errors.New("env needs a variable name")
	}
	e := SectionEnv{Name: vals[0]}
	if err := checkEnvName(e.Name); err != nil {
		return SectionEnv{}, fmt.Errorf("env %q: %v", e.Name, err)
	}
	rest := vals[1:]
	if len(rest) > 0 && rest[0] == "optional" {
		e.Optional = true
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return SectionEnv{}, fmt.Errorf("env %s: unexpected %q (want: env NAME [optional])", e.Name, rest[0])
	}
	return e, nil
}

// checkFraming accepts the canonical framing names.
func checkFraming(name string) error {
	switch name {
	case FramingLines, FramingZero, FramingLenPfx:
		return nil
	}
	if n, ok := strings.CutPrefix(name, FramingFixed+":"); ok {
		if _, ok := decimal(n, 1<<31-1); ok {
			return nil
		}
		return fmt.Errorf("%q: fixed:N needs a record size 1 ≤ N < 2³¹, without sign or leading zero", name)
	}
	return fmt.Errorf("unknown framing %q (want lines, zero, lenpfx or fixed:N)", name)
}

// decimal parses a canonical decimal number in 1..max.
func decimal(s string, max int) (int, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' || len(s) > 10 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

func checkGuestPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return errors.New("not an absolute path")
	case path.Clean(p) != p:
		return errors.New("not a clean path")
	case !utf8.ValidString(p):
		return errors.New("not UTF-8")
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return errors.New("contains a space or a control character")
		}
	}
	return nil
}

func checkEnvName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	for i, c := range []byte(name) {
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return errors.New("a name is letters, digits and '_', not starting with a digit")
		}
	}
	return nil
}

// wasm module framing: the 8-byte header, then sections of a 1-byte id,
// a LEB128 u32 size and that many bytes; a custom section (id 0) starts
// with its name, a LEB128 length and UTF-8 bytes.
var coreHeader = []byte("\x00asm\x01\x00\x00\x00")

type rawSection struct {
	start, end int    // the whole section, id byte included
	custom     bool   // id 0
	name       string // of a custom section
	content    []byte // of a custom section, after its name
}

// walkModule splits a module into its sections.
func walkModule(module []byte) ([]rawSection, error) {
	if !bytes.HasPrefix(module, coreHeader) {
		return nil, fmt.Errorf("%w: no core module header (\\0asm version 1)", ErrNotModule)
	}
	var secs []rawSection
	off := len(coreHeader)
	for off < len(module) {
		start := off
		id := module[off]
		off++
		size, n, ok := uleb32(module[off:])
		if !ok {
			return nil, fmt.Errorf("%w: bad size of the section at offset %d", ErrNotModule, start)
		}
		off += n
		if uint64(size) > uint64(len(module)-off) {
			return nil, fmt.Errorf("%w: the section at offset %d runs past the end", ErrNotModule, start)
		}
		body := module[off : off+int(size)]
		off += int(size)
		s := rawSection{start: start, end: off, custom: id == 0}
		if s.custom {
			nlen, n, ok := uleb32(body)
			if !ok || uint64(nlen) > uint64(len(body)-n) {
				return nil, fmt.Errorf("%w: bad name of the custom section at offset %d", ErrNotModule, start)
			}
			s.name = string(body[n : n+int(nlen)])
			s.content = body[n+int(nlen):]
		}
		secs = append(secs, s)
	}
	return secs, nil
}

func uleb32(b []byte) (v uint32, n int, ok bool) {
	var shift uint
	for i := 0; i < 5 && i < len(b); i++ {
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, 0, false
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, true
		}
		shift += 7
	}
	return 0, 0, false
}

func appendUleb32(dst []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}

// ModuleSection returns the content of the module's wasmpool custom
// sections, joined by '\n' when there are several, and whether it has one.
// It checks only the module's header and section framing; errors wrap
// [ErrNotModule].
func ModuleSection(module []byte) (content []byte, found bool, err error) {
	secs, err := walkModule(module)
	if err != nil {
		return nil, false, err
	}
	for _, s := range secs {
		if !s.custom || s.name != CustomSection {
			continue
		}
		if found {
			content = append(content, '\n')
		}
		content = append(content, s.content...)
		found = true
	}
	if found && content == nil {
		content = []byte{}
	}
	return content, found, nil
}

// SetModuleSection returns a copy of module whose wasmpool custom sections
// are replaced by one holding content, appended at the end (a custom
// section may sit anywhere after the header); a nil content removes them.
// Errors wrap [ErrNotModule].
func SetModuleSection(module, content []byte) ([]byte, error) {
	secs, err := walkModule(module)
	if err != nil {
		return nil, err
	}
	if uint64(len(content)) > 1<<31 {
		return nil, fmt.Errorf("%w: %d bytes of content", ErrSection, len(content))
	}
	out := make([]byte, 0, len(module)+len(content)+32)
	out = append(out, coreHeader...)
	for _, s := range secs {
		if s.custom && s.name == CustomSection {
			continue
		}
		out = append(out, module[s.start:s.end]...)
	}
	if content != nil {
		name := appendUleb32(nil, uint32(len(CustomSection)))
		name = append(name, CustomSection...)
		out = append(out, 0)
		out = appendUleb32(out, uint32(len(name)+len(content)))
		out = append(out, name...)
		out = append(out, content...)
	}
	return out, nil
}
