// This file holds the codec of the wasmpool custom section, whose format
// package abi specifies: see [Section].

package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
)

// ErrSection: the content of a wasmpool section breaks its format. Errors
// of ParseSection are *SectionError values that wrap it.
var ErrSection = errors.New("inspect: invalid wasmpool section")

// A SectionError says which line of a wasmpool section breaks the format,
// and how.
type SectionError struct {
	Line   int // from 1; 0 when no one line is at fault (Validate)
	Reason string
}

func (e *SectionError) Error() string { return ErrSection.Error() + ": " + e.Detail() }

// Detail is the error without its sentinel's text: "line 2: …".
func (e *SectionError) Detail() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

func (e *SectionError) Unwrap() error { return ErrSection }

// Section is the decoded content of a wasmpool custom section; its zero
// value declares nothing. The format (declarations, versions, how to emit
// the section from Go, C and Rust) is specified in the documentation of
// package abi, under "Self-description".
type Section struct {
	// Version is the format version the section declared; 1 when it
	// declared none. MarshalText writes the lowest version that holds the
	// section's declarations.
	Version int
	// Framing and ReplyFraming are framing names, as frames.Parse reads
	// them, empty when not declared. Framings returns them parsed.
	Framing      string
	ReplyFraming string
	// OneToOne: the guest replies exactly once per request, in order.
	OneToOne bool
	// Session: the guest keeps the session contract (it flushes its replies
	// before every blocking read of stdin), so one long-lived instance may
	// serve many requests.
	Session bool
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

// Framings returns the framings the section declares: the request
// framing, and the reply framing, which is the request framing when the
// section declares only that. ok says whether each was declared (a reply
// framing counts as declared when the request framing is). Parsed by
// frames.Parse, they cannot fail in a section that ParseSection returned
// or Validate passed; an invalid name reads as undeclared.
func (s Section) Framings() (req, reply frames.Framing, reqOK, replyOK bool) {
	if f, err := frames.Parse(s.Framing); err == nil {
		req, reply, reqOK, replyOK = f, f, true, true
	}
	if f, err := frames.Parse(s.ReplyFraming); err == nil {
		reply, replyOK = f, true
	}
	return req, reply, reqOK, replyOK
}

// minVersion is the lowest format version that has every declaration of s.
func (s Section) minVersion() int {
	if s.Session {
		return 2
	}
	return 1
}

// ParseSection decodes the content of a wasmpool custom section. Errors
// are *SectionError values, wrap [ErrSection] and name the line.
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
		v, err := strconv.Atoi(l.fields[1])
		if err != nil || v < 1 || v > 1<<31-1 || strconv.Itoa(v) != l.fields[1] {
			return Section{}, l.errorf("version %q is not a number ≥ 1", l.fields[1])
		}
		if seenVersion && v != s.Version {
			return Section{}, l.errorf("version %d after version %d", v, s.Version)
		}
		s.Version, seenVersion = v, true
	}
	var seen [2]bool // framing, reply-framing
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
		case "one-to-one", "session":
			if len(vals) != 0 {
				return Section{}, l.errorf("%s takes no value", key)
			}
			if key == "session" {
				s.Session = true
			} else {
				s.OneToOne = true
			}
		case "dir":
			d, err := parseDirLine(vals)
			if err != nil {
				return Section{}, l.errorf("%v", err)
			}
			var ok bool
			if s.Dirs, ok = declare(s.Dirs, d, func(e SectionDir) bool { return e.Path == d.Path }); !ok {
				return Section{}, l.errorf("dir %s declared twice, differently", d.Path)
			}
		case "env":
			e, err := parseEnvLine(vals)
			if err != nil {
				return Section{}, l.errorf("%v", err)
			}
			var ok bool
			if s.Env, ok = declare(s.Env, e, func(f SectionEnv) bool { return f.Name == e.Name }); !ok {
				return Section{}, l.errorf("env %s declared twice, differently", e.Name)
			}
		default:
			if s.Version <= abi.SectionVersion {
				return Section{}, l.errorf("unknown declaration %q (want framing, reply-framing, one-to-one, session, dir, env or version)", key)
			}
		}
	}
	return s, nil
}

// declare adds the declaration v to list. A repeat (same key) with the same
// value is dropped, as when a linker merged two copies of a section; with
// another value it is refused: ok is false.
func declare[T comparable](list []T, v T, sameKey func(T) bool) (_ []T, ok bool) {
	if i := slices.IndexFunc(list, sameKey); i >= 0 {
		return list, list[i] == v
	}
	return append(list, v), true
}

// Validate reports a section that MarshalText cannot write or ParseSection
// would not return.
func (s Section) Validate() error {
	bad := func(format string, args ...any) error {
		return &SectionError{Reason: fmt.Sprintf(format, args...)}
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
		if slices.ContainsFunc(s.Dirs[:i], func(e SectionDir) bool { return e.Path == d.Path }) {
			return bad("dir %s declared twice", d.Path)
		}
	}
	for i, e := range s.Env {
		if err := checkEnvName(e.Name); err != nil {
			return bad("env %q: %v", e.Name, err)
		}
		if slices.ContainsFunc(s.Env[:i], func(f SectionEnv) bool { return f.Name == e.Name }) {
			return bad("env %s declared twice", e.Name)
		}
	}
	return nil
}

// MarshalText writes the section in its canonical text form, which
// ParseSection reads back to an equal Section (Version aside: it writes
// the lowest version that has the section's declarations).
func (s Section) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "version %d\n", s.minVersion())
	if s.Framing != "" {
		fmt.Fprintf(&b, "framing %s\n", s.Framing)
	}
	if s.ReplyFraming != "" {
		fmt.Fprintf(&b, "reply-framing %s\n", s.ReplyFraming)
	}
	if s.OneToOne {
		b.WriteString("one-to-one\n")
	}
	if s.Session {
		b.WriteString("session\n")
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
	return &SectionError{Line: l.n, Reason: fmt.Sprintf(format, args...)}
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

// checkFraming accepts what frames.Parse accepts, the one grammar of
// framing names, and words the rest without the frames prefix.
func checkFraming(name string) error {
	if _, err := frames.Parse(name); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "frames: "))
	}
	return nil
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

// ModuleSection returns the content of the module's wasmpool custom
// sections, joined by '\n' when there are several, and whether it has one.
// It checks only the module's header and section framing; its errors are
// *FormatError values (ErrNotModule, ErrMalformed).
func ModuleSection(module []byte) (content []byte, found bool, err error) {
	secs, err := sections("", module)
	if err != nil {
		return nil, false, err
	}
	content, found = wasmpoolContent(secs)
	return content, found, nil
}

// wasmpoolContent joins the contents of the wasmpool sections among secs.
func wasmpoolContent(secs []section) (content []byte, found bool) {
	for _, s := range secs {
		if s.id != 0 || s.name != abi.CustomSection {
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
	return content, found
}

// SetModuleSection returns a copy of module whose wasmpool custom sections
// are replaced by one holding content, appended at the end (a custom
// section may sit anywhere after the header); a nil content removes them.
// Errors are those of ModuleSection, or wrap ErrSection for a content too
// large for a section.
func SetModuleSection(module, content []byte) ([]byte, error) {
	secs, err := sections("", module)
	if err != nil {
		return nil, err
	}
	if uint64(len(content)) > 1<<31 {
		return nil, &SectionError{Reason: fmt.Sprintf("%d bytes of content, more than a section holds", len(content))}
	}
	out := make([]byte, 0, len(module)+len(content)+32)
	out = append(out, header...)
	for _, s := range secs {
		if s.id == 0 && s.name == abi.CustomSection {
			continue
		}
		out = append(out, module[s.start:s.end]...)
	}
	if content != nil {
		name := appendULEB(nil, uint32(len(abi.CustomSection)))
		name = append(name, abi.CustomSection...)
		out = append(out, 0)
		out = appendULEB(out, uint32(len(name)+len(content)))
		out = append(out, name...)
		out = append(out, content...)
	}
	return out, nil
}
