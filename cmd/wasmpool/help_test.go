package main

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestHelpFromFlags: every flag of every command has a usage where it is
// defined, and the command's help lists it; no line of help is wider than
// 79 columns.
func TestHelpFromFlags(t *testing.T) {
	for cmd, page := range helps {
		text := help(cmd)
		for i, line := range strings.Split(text, "\n") {
			if n := utf8.RuneCountInString(line); n > 79 {
				t.Errorf("help %s, line %d: %d columns: %s", cmd, i+1, n, line)
			}
		}
		if page.flags == nil {
			continue
		}
		for _, o := range page.flags().opts {
			if o.usage == "" {
				t.Errorf("%s: %s has no usage", cmd, o.synopsis())
			}
			if !strings.Contains(text, "\n  "+o.synopsis()+" ") && !strings.Contains(text, "\n  "+o.synopsis()+"\n") {
				t.Errorf("help %s does not list %s", cmd, o.synopsis())
			}
		}
	}
}

// TestDocsListEveryFlag: docs/cli.md names every flag of run and describe.
func TestDocsListEveryFlag(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "describe"} {
		for _, o := range helps[cmd].flags().opts {
			if !strings.Contains(string(doc), "--"+o.long) {
				t.Errorf("docs/cli.md does not mention %s's --%s", cmd, o.long)
			}
		}
	}
}

func TestUsageLayout(t *testing.T) {
	fs := newFlagSet("test")
	fs.add(&option{long: "jobs", short: 'j', arg: "N", usage: "number of kids"})
	fs.heading("More")
	fs.add(&option{long: "progress", arg: "WHEN", optional: true, usage: "one two three four five six seven eight nine ten eleven twelve thirteen"})
	fs.add(&option{long: "a-rather-long-flag", arg: "VALUE", usage: "x"})
	fs.add(&option{short: 'c', usage: "short only"})
	want := `Flags:
  -j, --jobs N           number of kids

More:
  --progress[=WHEN]      one two three four five six seven eight nine ten
                         eleven twelve thirteen
  --a-rather-long-flag VALUE
                         x
  -c                     short only
  -h, --help             show this help
`
	if got := fs.usage(); got != want {
		t.Errorf("usage:\n%s\nwant:\n%s", got, want)
	}
}
