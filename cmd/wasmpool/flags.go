package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// option is one command-line flag. Flags follow GNU conventions: --name,
// --name=value, --name value, -x, -xvalue, -x value; short boolean flags
// may be grouped (-0h). Flags may come anywhere before "--", so before or
// after the module.
//
// A command's options are its flag table: the parser reads them, and the
// command's help lists them (see flagSet.usage), so a flag is described
// once, where it is defined.
type option struct {
	long  string // without "--"; "" for a short-only flag
	short byte   // 0 for a long-only flag
	// arg names the value in messages and help ("N", "SIZE"); "" for a
	// boolean flag.
	arg string
	// optional: the value may be left out (--progress, --progress=always).
	// It is given with '=', or as the next word when that is one of values
	// (--progress always); any other next word is not the flag's.
	optional bool
	values   []string
	// usage says what the flag does, for help: a phrase or sentences,
	// without the flag itself; help wraps it.
	usage string
	// group is the heading help lists the flag under, set by
	// flagSet.group for the flags added after it.
	group string
	// set receives the value; a boolean flag gets "true", or what follows
	// '=' (--ordered=false).
	set func(value string) error
}

// flagSet parses the flags of one command.
type flagSet struct {
	cmd   string
	opts  []*option
	seen  map[*option]bool
	group string // for the options added next
}

func newFlagSet(cmd string) *flagSet {
	return &flagSet{cmd: cmd, seen: map[*option]bool{}, group: "Flags"}
}

func (fs *flagSet) add(o *option) *option {
	if o.group == "" {
		o.group = fs.group
	}
	fs.opts = append(fs.opts, o)
	return o
}

// heading starts a group of flags in help: the flags added after it are
// listed under "name:".
func (fs *flagSet) heading(name string) { fs.group = name }

// boolFlag adds a boolean flag that sets *p.
func (fs *flagSet) boolFlag(long string, short byte, p *bool) *option {
	return fs.add(&option{long: long, short: short, set: setBool(p)})
}

// setBool is the set function of a boolean flag that sets *p.
func setBool(p *bool) func(string) error {
	return func(v string) error {
		b, err := parseBool(v)
		if err == nil {
			*p = b
		}
		return err
	}
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

func (fs *flagSet) lookupLong(name string) *option {
	for _, o := range fs.opts {
		if o.long != "" && o.long == name {
			return o
		}
	}
	return nil
}

func (fs *flagSet) lookupShort(c byte) *option {
	for _, o := range fs.opts {
		if o.short != 0 && o.short == c {
			return o
		}
	}
	return nil
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func (fs *flagSet) errorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf("%s: %s (see 'wasmpool %s --help')", fs.cmd, fmt.Sprintf(format, args...), fs.cmd)}
}

// valueError is a bad flag value; the message names the flag as typed.
func (fs *flagSet) valueError(typed, value string, err error) error {
	return &usageError{fmt.Sprintf("%s: %s %s: %v", fs.cmd, typed, value, err)}
}

// moduleAndArgs parses args for a command of the form "[flags] module.wasm
// [-- guest args...]" and returns the module and the guest's arguments;
// usage completes the message when no module is given. A "--" before the
// module ends the flags: the module is the word after it, and guest
// arguments then follow a second "--" (run -- -odd.wasm -- -x).
func (fs *flagSet) moduleAndArgs(args []string, usage string) (module string, guestArgs []string, err error) {
	pos, rest, err := fs.parse(args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) == 0 && len(rest) > 0 {
		pos, rest = rest[:1], rest[1:]
		switch {
		case len(rest) == 0:
			rest = nil
		case rest[0] == "--":
			rest = rest[1:]
		default:
			pos = append(pos, rest[0])
		}
	}
	switch {
	case len(pos) == 0:
		return "", nil, fs.errorf("no module given: %s", usage)
	case len(pos) > 1:
		return "", nil, fs.errorf("unexpected argument %s after the module %s: guest arguments go after --", show(pos[1]), pos[0])
	}
	return pos[0], rest, nil
}

// oneModule parses args for a command that takes exactly one module and
// returns its path; usage completes the message when none is given.
func (fs *flagSet) oneModule(args []string, usage string) (string, error) {
	pos, rest, err := fs.parse(args)
	if err != nil {
		return "", err
	}
	switch pos = append(pos, rest...); len(pos) {
	case 0:
		return "", fs.errorf("no module given: %s", usage)
	case 1:
		return pos[0], nil
	}
	return "", fs.errorf("one module at a time, not %d", len(pos))
}

// parse sets the flags in args and returns the other arguments before
// "--" (positional) and those after it (rest, nil if there is no "--").
func (fs *flagSet) parse(args []string) (positional, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return positional, append([]string{}, args[i+1:]...), nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			o := fs.lookupLong(name)
			if o == nil {
				return nil, nil, fs.errorf("unknown flag --%s", name)
			}
			typed := "--" + name
			switch {
			case hasValue:
			case o.arg == "":
				value = "true"
			case o.optional && i+1 < len(args) && slices.Contains(o.values, args[i+1]):
				i++
				value = args[i]
			case o.optional:
				value = ""
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, nil, fs.errorf("%s needs a value (%s)", typed, o.arg)
			}
			if err := fs.set(o, typed, value); err != nil {
				return nil, nil, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				o := fs.lookupShort(a[j])
				if o == nil {
					if len(a) > 2 && fs.lookupLong(a[1:]) != nil {
						return nil, nil, fs.errorf("unknown flag %s: did you mean -%s?", a, a)
					}
					if j == 1 {
						return nil, nil, fs.errorf("unknown flag -%c", a[j])
					}
					return nil, nil, fs.errorf("unknown flag -%c in %s", a[j], a)
				}
				typed := "-" + string(a[j])
				if o.arg == "" {
					if err := fs.set(o, typed, "true"); err != nil {
						return nil, nil, err
					}
					continue
				}
				value := a[j+1:]
				if value == "" {
					if i+1 >= len(args) {
						return nil, nil, fs.errorf("%s needs a value (%s)", typed, o.arg)
					}
					i++
					value = args[i]
				}
				if err := fs.set(o, typed, value); err != nil {
					return nil, nil, err
				}
				break
			}
		default:
			positional = append(positional, a)
		}
	}
	return positional, nil, nil
}

func (fs *flagSet) set(o *option, typed, value string) error {
	if err := o.set(value); err != nil {
		if _, ok := err.(*usageError); ok {
			return err
		}
		return fs.valueError(typed, show(value), err)
	}
	fs.seen[o] = true
	return nil
}

// show quotes a value for a message when it would not read clearly bare.
func show(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n\"'") || !strconv.CanBackquote(v) {
		return strconv.Quote(v)
	}
	return v
}

// wantsHelp reports whether -h or --help comes before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-h" || a == "--help" || a == "-help":
			return true
		}
	}
	return false
}

// usage lists the flags for help, under their groups' headings: each flag
// as it is typed, and what it does beside it, wrapped to fit 80 columns.
func (fs *flagSet) usage() string {
	var b strings.Builder
	for i, o := range fs.opts {
		if i == 0 || o.group != fs.opts[i-1].group {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(o.group + ":\n")
		}
		writeUsage(&b, o.synopsis(), o.usage)
	}
	if len(fs.opts) == 0 {
		b.WriteString("Flags:\n")
	}
	writeUsage(&b, "-h, --help", "show this help")
	return b.String()
}

// synopsis is the flag as help shows it: "-j, --jobs N", "--progress[=WHEN]".
func (o *option) synopsis() string {
	var s string
	if o.short != 0 {
		s = "-" + string(o.short)
		if o.long != "" {
			s += ", "
		}
	}
	if o.long != "" {
		s += "--" + o.long
	}
	switch {
	case o.arg == "":
	case o.optional:
		s += "[=" + o.arg + "]"
	default:
		s += " " + o.arg
	}
	return s
}

// Help's flag lists: a flag from column 3, its usage from column 26 (on a
// line of its own when the flag is too wide), lines of at most 79 columns.
const (
	usageColumn = 25
	usageWidth  = 79 - usageColumn
)

func writeUsage(b *strings.Builder, synopsis, usage string) {
	indent := strings.Repeat(" ", usageColumn)
	b.WriteString("  " + synopsis)
	if n := 2 + utf8.RuneCountInString(synopsis); n < usageColumn {
		b.WriteString(indent[n:])
	} else {
		b.WriteString("\n" + indent)
	}
	for i, line := range wrap(usage, usageWidth) {
		if i > 0 {
			b.WriteString(indent)
		}
		b.WriteString(line + "\n")
	}
}

// wrap cuts text into lines of at most width characters, between words.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}
