package doctest

import (
	"fmt"
	"testing"
)

const sample = "# Title\n" +
	"```go\n" +
	"x := 1 # not a command\n" +
	"```\n" +
	"```sh\n" +
	"# a comment\n" +
	"wasmpool run -j 2 linelen.wasm < words.txt   # trailing\n" +
	"find . -name '*.txt # no comment' -print0 |\n" +
	"  wasmpool run -0 grl.wasm -- TODO\n" +
	"# not run: needs the network\n" +
	"go install x@latest\n" +
	"go get y   # not run: also\n" +
	"echo \"#\" a\\\n" +
	"  b\n" +
	"```\n" +
	"```\n" +
	"wasmpool version\n" +
	"```\n" +
	"```console\n" +
	"$ wasmpool run linelen.wasm < words.txt\n" +
	"5\n" +
	"…\n" +
	"\n" +
	"$ false   # status 1\n" +
	"```\n"

func TestExtract(t *testing.T) {
	blocks := extract(sample)
	got := fmt.Sprintf("%d blocks", len(blocks))
	for _, b := range blocks {
		got += fmt.Sprintf("\nblock %d:", b.line)
		for _, c := range b.cmds {
			got += fmt.Sprintf("\n  %d %q skip=%q", c.line, c.text, c.skip)
			if c.status != 0 {
				got += fmt.Sprintf(" status=%d", c.status)
			}
			got += fmt.Sprintf(" check=%v output=%q", c.check, c.output)
		}
	}
	want := `2 blocks
block 5:
  7 "wasmpool run -j 2 linelen.wasm < words.txt" skip="" check=false output=[]
  8 "find . -name '*.txt # no comment' -print0 |\n  wasmpool run -0 grl.wasm -- TODO" skip="" check=false output=[]
  11 "go install x@latest" skip="needs the network" check=false output=[]
  12 "go get y" skip="also" check=false output=[]
  13 "echo \"#\" a\\\n  b" skip="" check=false output=[]
block 19:
  20 "wasmpool run linelen.wasm < words.txt" skip="" check=true output=["5" "…"]
  24 "false" skip="" status=1 check=true output=[]`
	if got != want {
		t.Errorf("extract:\n%s\nwant:\n%s", got, want)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		patterns, out []string
		want          bool
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, true},
		{[]string{"a"}, []string{"a", "b"}, false},
		{[]string{"compile  … with wazero"}, []string{"compile  612ms with wazero"}, true},
		{[]string{"a", "…", "z"}, []string{"a", "b", "c", "z"}, true},
		{[]string{"a", "…", "z"}, []string{"a", "z"}, true},
		{[]string{"a", "…"}, []string{"a"}, true},
		{[]string{"x.y"}, []string{"xzy"}, false}, // literal, not a regexp
	} {
		if got := match(tc.patterns, tc.out); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.patterns, tc.out, got, tc.want)
		}
	}
}
