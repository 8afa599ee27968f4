package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/inspect"
)

// describeFlags are the flags of `wasmpool describe`.
type describeFlags struct {
	fs           *flagSet
	output, from string
	remove       bool
	changes      []func(*inspect.Section) // what the section flags say, in order
}

func newDescribeFlags() *describeFlags {
	f := &describeFlags{}
	fs := newFlagSet("describe")
	f.fs = fs
	fs.add(&option{long: "output", short: 'o', arg: "FILE", usage: "the module to write (it may be the input itself)", set: func(v string) error {
		if v == "" {
			return errors.New("empty file name")
		}
		f.output = v
		return nil
	}})
	framing := func(set func(*inspect.Section, string)) func(string) error {
		return func(v string) error {
			fr, err := frames.Parse(v)
			if err != nil {
				return errors.New("unknown framing: want lines, zero, lenpfx or fixed:N with N ≥ 1")
			}
			f.changes = append(f.changes, func(s *inspect.Section) { set(s, fr.String()) })
			return nil
		}
	}
	fs.add(&option{long: "frames", arg: "FRAMING", usage: "the request framing: lines, zero, lenpfx or fixed:N", set: framing(func(s *inspect.Section, v string) { s.Framing = v })})
	fs.add(&option{long: "null", short: '0', usage: "the same as --frames zero", set: func(string) error {
		f.changes = append(f.changes, func(s *inspect.Section) { s.Framing = abi.FramingZero })
		return nil
	}})
	fs.add(&option{long: "reply-frames", arg: "FRAMING", usage: "the reply framing, when it differs", set: framing(func(s *inspect.Section, v string) { s.ReplyFraming = v })})
	fs.add(&option{long: "one-to-one", usage: "the guest replies exactly once per request, in order", set: func(v string) error {
		b, err := parseBool(v)
		f.changes = append(f.changes, func(s *inspect.Section) { s.OneToOne = b })
		return err
	}})
	fs.add(&option{long: "session", usage: "the guest flushes its replies before every blocking read, so one instance may serve many requests (the guest SDKs say so by themselves)", set: func(v string) error {
		b, err := parseBool(v)
		f.changes = append(f.changes, func(s *inspect.Section) { s.Session = b })
		return err
	}})
	fs.add(&option{long: "needs-dir", arg: "PATH[:ro|:rw][:optional]", usage: "the guest uses a directory at the guest path PATH, read-only (the default) or read-write. Repeatable", set: func(v string) error {
		parts := strings.Split(v, ":")
		d := inspect.SectionDir{Path: parts[0]}
		for _, p := range parts[1:] {
			switch p {
			case "ro":
				d.Write = false
			case "rw":
				d.Write = true
			case "optional":
				d.Optional = true
			default:
				return fmt.Errorf("unknown %q: want PATH[:ro|:rw][:optional]", p)
			}
		}
		if !strings.HasPrefix(d.Path, "/") || filepath.Clean(d.Path) != d.Path {
			return errors.New("the guest path must be absolute and clean, like /data")
		}
		if err := (inspect.Section{Dirs: []inspect.SectionDir{d}}).Validate(); err != nil {
			return lastPart(err)
		}
		f.changes = append(f.changes, func(s *inspect.Section) {
			for i := range s.Dirs {
				if s.Dirs[i].Path == d.Path {
					s.Dirs[i] = d
					return
				}
			}
			s.Dirs = append(s.Dirs, d)
		})
		return nil
	}})
	fs.add(&option{long: "needs-env", arg: "NAME[:optional]", usage: "the guest reads the environment variable NAME. Repeatable", set: func(v string) error {
		name, opt, hasOpt := strings.Cut(v, ":")
		if hasOpt && opt != "optional" {
			return fmt.Errorf("unknown %q: want NAME[:optional]", opt)
		}
		e := inspect.SectionEnv{Name: name, Optional: hasOpt}
		if err := (inspect.Section{Env: []inspect.SectionEnv{e}}).Validate(); err != nil {
			return lastPart(err)
		}
		f.changes = append(f.changes, func(s *inspect.Section) {
			for i := range s.Env {
				if s.Env[i].Name == e.Name {
					s.Env[i] = e
					return
				}
			}
			s.Env = append(s.Env, e)
		})
		return nil
	}})
	fs.add(&option{long: "from", arg: "FILE", usage: "start from the section text in FILE (- for stdin); the flags above then change it", set: func(v string) error {
		f.from = v
		return nil
	}})
	fs.add(&option{long: "remove", set: setBool(&f.remove), usage: "remove the wasmpool section instead"})
	return f
}

func describeCmd(args []string, stdout, stderr io.Writer) int {
	con := &console{w: stderr}
	if wantsHelp(args) {
		io.WriteString(stdout, help("describe"))
		return exitOK
	}
	d := newDescribeFlags()
	fs := d.fs
	var sec inspect.Section
	path, err := fs.oneModule(args, "wasmpool describe [flags] -o out.wasm module.wasm")
	if err == nil && d.remove && (len(d.changes) > 0 || d.from != "") {
		err = fs.errorf("--remove takes no other section flag")
	}
	if err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	code, err := readModule(path)
	if err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	if d.output == "" {
		if len(d.changes) > 0 || d.from != "" || d.remove {
			con.printf("%v", fs.errorf("no output file: give -o FILE (it may be %s itself)", path))
			return exitUsage
		}
		content, found, err := inspect.ModuleSection(code)
		switch {
		case err != nil:
			con.printf("%s: %v", path, err)
			return exitUsage
		case !found:
			con.printf("%s has no wasmpool section", path)
			return exitFailed
		}
		stdout.Write(content)
		if len(content) > 0 && content[len(content)-1] != '\n' {
			io.WriteString(stdout, "\n")
		}
		return exitOK
	}

	var content []byte
	if !d.remove {
		if d.from != "" {
			var text []byte
			if d.from == "-" {
				text, err = io.ReadAll(os.Stdin)
			} else {
				text, err = os.ReadFile(d.from)
			}
			if err != nil {
				con.printf("--from %s", pathError(err))
				return exitUsage
			}
			if sec, err = inspect.ParseSection(text); err != nil {
				con.printf("--from %s: %s", d.from, strings.TrimPrefix(err.Error(), "inspect: "))
				return exitUsage
			}
		}
		for _, change := range d.changes {
			change(&sec)
		}
		if content, err = sec.MarshalText(); err != nil {
			con.printf("%s", strings.TrimPrefix(err.Error(), "inspect: "))
			return exitUsage
		}
	}
	out, err := inspect.SetModuleSection(code, content)
	if err != nil {
		con.printf("%s: %s", path, strings.TrimPrefix(err.Error(), "inspect: "))
		return exitUsage
	}
	if err := writeFileAtomic(d.output, out, path); err != nil {
		con.printf("%s", pathError(err))
		return exitUsage
	}
	return exitOK
}

// describeSection says in words what a section declares.
func describeSection(s inspect.Section) string {
	var parts []string
	if s.Framing != "" {
		parts = append(parts, "framing "+s.Framing)
	}
	if s.ReplyFraming != "" {
		parts = append(parts, "reply framing "+s.ReplyFraming)
	}
	if s.OneToOne {
		parts = append(parts, "one-to-one (run orders its output)")
	}
	if s.Session {
		parts = append(parts, "session (one long-lived instance may serve many requests)")
	}
	for _, d := range s.Dirs {
		mode := "read-only"
		if d.Write {
			mode = "read-write"
		}
		opt := ""
		if d.Optional {
			opt = ", optional"
		}
		parts = append(parts, fmt.Sprintf("needs dir %s (%s%s)", d.Path, mode, opt))
	}
	for _, e := range s.Env {
		opt := ""
		if e.Optional {
			opt = " (optional)"
		}
		parts = append(parts, "needs env "+e.Name+opt)
	}
	if len(parts) == 0 {
		return "declares nothing"
	}
	return strings.Join(parts, ", ")
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that path is never seen half written, with the mode of the
// file modeOf (or 0644).
func writeFileAtomic(path string, data []byte, modeOf string) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(modeOf); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// lastPart is the innermost reason of an error: what follows its last ": ".
func lastPart(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return errors.New(msg)
}
