package main

import (
	"fmt"
	"strconv"
	"strings"
)

// option is one command-line flag. Flags follow GNU conventions: --name,
// --name=value, --name value, -x, -xvalue, -x value; short boolean flags
// may be grouped (-0h). Flags may come anywhere before "--", so before or
// after the module.
type option struct {
	long  string // without "--"; "" for a short-only flag
	short byte   // 0 for a long-only flag
	// arg names the value in messages ("N", "SIZE"); "" for a boolean flag.
	arg string
	// optional: the value may be left out (--progress or --progress=always);
	// it is then given only with '='.
	optional bool
	// set receives the value; a boolean flag gets "true", or what follows
	// '=' (--ordered=false).
	set func(value string) error
}

// flagSet parses the flags of one command.
type flagSet struct {
	cmd  string
	opts []*option
	seen map[*option]bool
}

func newFlagSet(cmd string) *flagSet {
	return &flagSet{cmd: cmd, seen: map[*option]bool{}}
}

func (fs *flagSet) add(o *option) *option {
	fs.opts = append(fs.opts, o)
	return o
}

// boolFlag adds a boolean flag that sets *p.
func (fs *flagSet) boolFlag(long string, short byte, p *bool) *option {
	return fs.add(&option{long: long, short: short, set: func(v string) error {
		b, err := parseBool(v)
		if err == nil {
			*p = b
		}
		return err
	}})
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
