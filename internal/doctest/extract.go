package doctest

import (
	"regexp"
	"strconv"
	"strings"
)

// A block is a fenced code block of shell commands.
type block struct {
	line int // of its opening fence, from 1
	cmds []command
}

// A command is one shell command of a block, its continuation lines
// (after a trailing "\", "|", "&&" or "||") joined.
type command struct {
	line int    // where it starts, from 1
	text string // without its trailing comment
	skip string // why it is not run; "" if it is
	// status is the exit status it must end with: 0 unless a trailing
	// comment says "# status N".
	status int
	// output is what a console block shows after the command, as patterns
	// (see match); check says whether to compare.
	output []string
	check  bool
}

// extract returns the blocks of a Markdown document fenced as ```sh or
// ```console. In sh blocks every line that is not a comment is a command;
// in console blocks a command follows "$ ", and the lines after it up to
// the next command are its output.
func extract(doc string) []block {
	var blocks []block
	var cur *block
	console := false
	pendingSkip := ""
	var open *command // a command whose continuation lines come next
	for i, line := range strings.Split(doc, "\n") {
		n := i + 1
		if fence, ok := strings.CutPrefix(strings.TrimSpace(line), "```"); ok {
			if cur != nil {
				if cur.line > 0 {
					blocks = append(blocks, *cur)
				}
				cur, open, pendingSkip = nil, nil, ""
				continue
			}
			if lang := strings.Fields(fence + " x")[0]; lang == "sh" || lang == "console" {
				cur, console = &block{line: n}, lang == "console"
			} else {
				cur = &block{line: -1} // another language's: skipped to its end
			}
			continue
		}
		if cur == nil || cur.line < 0 {
			continue
		}
		if open != nil {
			text, comment := splitComment(line)
			open.text += "\n" + text
			if why, ok := notRun(comment); ok {
				open.skip = why
			}
			if !continues(text) {
				open = nil
			}
			continue
		}
		body := line
		if console {
			rest, ok := strings.CutPrefix(line, "$ ")
			if !ok {
				if len(cur.cmds) > 0 {
					c := &cur.cmds[len(cur.cmds)-1]
					c.output = append(c.output, line)
				}
				continue
			}
			body = rest
		}
		trimmed := strings.TrimSpace(body)
		if trimmed == "" {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			if why, ok := notRun(trimmed); ok {
				pendingSkip = why
			}
			continue
		}
		text, comment := splitComment(body)
		c := command{line: n, text: text, skip: pendingSkip, check: console}
		pendingSkip = ""
		if why, ok := notRun(comment); ok {
			c.skip = why
		}
		if m := statusRE.FindStringSubmatch(comment); m != nil {
			c.status, _ = strconv.Atoi(m[1])
		}
		cur.cmds = append(cur.cmds, c)
		if continues(text) {
			open = &cur.cmds[len(cur.cmds)-1]
		}
	}
	for b := range blocks {
		for c := range blocks[b].cmds {
			cmd := &blocks[b].cmds[c]
			// a console block's output ends before its blank last lines
			for len(cmd.output) > 0 && strings.TrimSpace(cmd.output[len(cmd.output)-1]) == "" {
				cmd.output = cmd.output[:len(cmd.output)-1]
			}
		}
	}
	return blocks
}

var statusRE = regexp.MustCompile(`^#\s*status (\d+)\s*$`)

func continues(text string) bool {
	t := strings.TrimSpace(text)
	return strings.HasSuffix(t, "\\") || strings.HasSuffix(t, "|") || strings.HasSuffix(t, "&&") || strings.HasSuffix(t, "||")
}

// notRun reports whether a comment says "# not run: why".
func notRun(comment string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(comment), "# not run:")
	return strings.TrimSpace(rest), ok
}

// splitComment cuts a shell line into its command and its trailing
// comment: a '#' after white space, outside quotes.
func splitComment(line string) (text, comment string) {
	var quote byte
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\\':
			i++
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimRight(line[:i], " \t"), line[i:]
		}
	}
	return strings.TrimRight(line, " \t"), ""
}

// match reports whether the lines of out match the patterns: each pattern
// line matches one line, "…" in it standing for any text; a pattern line
// of only "…" matches any number of lines.
func match(patterns, out []string) bool {
	if len(patterns) == 0 {
		return len(out) == 0
	}
	p := strings.TrimSpace(patterns[0])
	if p == "…" {
		for skip := 0; skip <= len(out); skip++ {
			if match(patterns[1:], out[skip:]) {
				return true
			}
		}
		return false
	}
	if len(out) == 0 || !lineRegexp(patterns[0]).MatchString(out[0]) {
		return false
	}
	return match(patterns[1:], out[1:])
}

func lineRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "…")
	for i, part := range parts {
		parts[i] = regexp.QuoteMeta(part)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}
