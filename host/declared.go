// This file applies a module's wasmpool section to a Config: the
// declarations fill what the Config leaves at its zero value, and the
// needs the Config does not grant stop New before any kid starts.

package host

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/inspect"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// A GrantError says that the module's wasmpool section declares a need
// the Config does not grant: a directory (Dir) or an environment variable
// (Env) that is not optional, or a directory the guest writes that Dirs
// grants read-only. It wraps ErrConfig.
type GrantError struct {
	Module string
	// Dir is the directory needed, nil when Env is.
	Dir *inspect.SectionDir
	// Env is the variable needed, nil when Dir is.
	Env *inspect.SectionEnv
	// ReadOnly is the guest path of the read-only grant that covers Dir,
	// which the guest writes; empty when no grant covers it.
	ReadOnly string
}

func (e *GrantError) Error() string {
	pre := ErrConfig.Error() + ": "
	switch {
	case e.Env != nil:
		return fmt.Sprintf("%sEnv: %s needs the environment variable %s (its wasmpool section says so): pass %s=VALUE in Env", pre, e.Module, e.Env.Name, e.Env.Name)
	case e.ReadOnly != "":
		return fmt.Sprintf("%sDirs: %s writes under %s (its wasmpool section says so), but the grant at %s is ReadOnly", pre, e.Module, e.Dir.Path, e.ReadOnly)
	default:
		how := ""
		if e.Dir.Write {
			how = ", not ReadOnly: the guest writes there"
		}
		return fmt.Sprintf("%sDirs: %s needs a directory at %s (its wasmpool section says so): add a Dir with Guest %q%s", pre, e.Module, e.Dir.Path, e.Dir.Path, how)
	}
}

func (e *GrantError) Unwrap() error { return ErrConfig }

// A ConflictError says that the Config sets a framing other than the one
// the module's wasmpool section declares. It wraps ErrConfig.
type ConflictError struct {
	Module string
	Field  string // "Framing" or "ReplyFraming"
	// Config is the framing the Config sets, Section the one the section
	// declares (for ReplyFraming: its reply-framing, or else its framing).
	Config, Section frames.Framing
}

func (e *ConflictError) Error() string {
	what := "framing"
	if e.Field == "ReplyFraming" {
		what = "reply framing"
	}
	return fmt.Sprintf("%s: %s: %s, but the wasmpool section of %s declares the %s %s (set IgnoreSection to run it with yours)",
		ErrConfig, e.Field, e.Config, e.Module, what, e.Section)
}

func (e *ConflictError) Unwrap() error { return ErrConfig }

// WithSection returns a copy of c with the module's wasmpool section
// applied, and the section (nil when the module has none, c runs a
// Command, or c.IgnoreSection). New calls it first; call it yourself to
// learn what New will run with, without starting anything.
//
//   - Framing: the zero value (Lines) takes the section's framing; another
//     framing that differs from it is a *ConflictError. (Lines set on
//     purpose cannot be told from the zero value: to run a module that
//     declares another framing with lines, set IgnoreSection.)
//   - ReplyFraming: nil takes the section's reply framing (its
//     reply-framing, or else its framing); one that differs is a
//     *ConflictError.
//   - Mode: Auto, the zero value, becomes the section's mode
//     (declaredMode: Ordered for one-to-one, else Stream); any other Mode
//     is kept, so a Config that wants Stream for a one-to-one module says
//     Stream.
//   - A required directory or variable that c does not grant, or a
//     directory the guest writes that c grants read-only, is a
//     *GrantError.
//
// A section that breaks the format is an error wrapping ErrModule and
// inspect.ErrSection. WithSection never changes c or what its slices hold.
func (c Config) WithSection() (Config, *inspect.Section, error) {
	var sec *inspect.Section
	if !c.IgnoreSection && len(c.Command) == 0 && (c.Module != "" || c.ModuleBytes != nil) {
		s, name, err := c.readSection()
		if err == nil && s != nil {
			err = c.applySection(name, s)
		}
		if err != nil {
			return c, nil, err
		}
		sec = s
	}
	if c.Mode == Auto {
		c.Mode = declaredMode(sec)
	}
	return c, sec, nil
}

// applySection fills c's framings from sec and checks c against it.
func (c *Config) applySection(name string, sec *inspect.Section) error {
	req, reply, reqOK, replyOK := sec.Framings()
	switch {
	case !reqOK:
	case c.Framing == frames.Framing{}:
		c.Framing = req
	case c.Framing != req:
		return &ConflictError{Module: name, Field: "Framing", Config: c.Framing, Section: req}
	}
	switch {
	case !replyOK:
	case c.ReplyFraming == nil:
		c.ReplyFraming = &reply
	case *c.ReplyFraming != reply:
		return &ConflictError{Module: name, Field: "ReplyFraming", Config: *c.ReplyFraming, Section: reply}
	}
	return c.checkGrants(name, sec)
}

// declaredMode is the mode a module's section asks for: Ordered when it
// declares one-to-one (replies come back in input order, as from the
// filter run alone), else Stream.
func declaredMode(sec *inspect.Section) Mode {
	if sec != nil && sec.OneToOne {
		return Ordered
	}
	return Stream
}

// readSection reads and decodes the module's wasmpool section, nil if it
// has none, and returns the module's name for messages.
func (c Config) readSection() (*inspect.Section, string, error) {
	code, name := c.ModuleBytes, c.Module
	if code == nil {
		mapped, unmap, err := kidside.MapFile(c.Module)
		if err != nil {
			return nil, name, fmt.Errorf("%w: %w", ErrModule, err)
		}
		defer unmap()
		code = mapped
	} else if name == "" {
		name = "module"
	}
	if err := inspect.CheckHeader(name, code); err != nil {
		return nil, name, fmt.Errorf("%w: %w", ErrModule, err)
	}
	content, found, err := inspect.ModuleSection(code)
	if fe := (*inspect.FormatError)(nil); errors.As(err, &fe) {
		fe.Name = name
	}
	if err != nil {
		return nil, name, fmt.Errorf("%w: %w", ErrModule, err)
	}
	if !found {
		return nil, name, nil
	}
	sec, err := inspect.ParseSection(content)
	if err != nil {
		return nil, name, fmt.Errorf("%w: %s: %w (set IgnoreSection to run it anyway)", ErrModule, name, err)
	}
	return &sec, name, nil
}

// checkGrants finds the first need of sec that c does not grant.
func (c Config) checkGrants(name string, sec *inspect.Section) error {
	for i, need := range sec.Dirs {
		// The grant that holds need.Path is the one with the longest
		// guest path above it, as in the guest's file system.
		grant, at := -1, ""
		for j, d := range c.Dirs {
			g := d.Guest
			if g == "" {
				g = d.Host // as normalize does
			}
			g = path.Clean(g)
			if (g == need.Path || g == "/" || strings.HasPrefix(need.Path, g+"/")) && len(g) > len(at) {
				grant, at = j, g
			}
		}
		switch {
		case grant < 0 && !need.Optional:
			return &GrantError{Module: name, Dir: &sec.Dirs[i]}
		case grant >= 0 && need.Write && c.Dirs[grant].ReadOnly:
			return &GrantError{Module: name, Dir: &sec.Dirs[i], ReadOnly: at}
		}
	}
	for i, need := range sec.Env {
		found := false
		for _, kv := range c.Env {
			if k, _, _ := strings.Cut(kv, "="); k == need.Name {
				found = true
			}
		}
		if !found && !need.Optional {
			return &GrantError{Module: name, Env: &sec.Env[i]}
		}
	}
	return nil
}

// Section returns the module's wasmpool section that New applied: nil
// when the module has none, the pool runs a Command, or IgnoreSection.
// Config returns what it resolved to.
func (p *Pool) Section() *inspect.Section { return p.section }
