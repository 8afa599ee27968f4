package ordinary_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bannerText is testdata/bannerhost/bannerText (not imported: its init
// would print the banner in this test binary and in each of its kids).
const bannerText = "BANNER from package banner's init"

// TestBannerNotInReplies runs testdata/bannerhost, a native program that
// imports package host beside a package whose init prints a banner to
// stdout, over a C cat, in batch and in session instances. Its kids are
// the same binary: the banner's init runs in each before host's init
// makes it a kid, and what it prints goes to the kid's stderr, never
// into the replies, which have a descriptor of their own.
func TestBannerNotInReplies(t *testing.T) {
	t.Parallel()
	input := terminated(genInput(7, 512<<10))
	for _, instance := range []string{"batch", "session"} {
		t.Run(instance, func(t *testing.T) {
			t.Parallel()
			replies := filepath.Join(t.TempDir(), "replies")
			cmd := exec.Command(env.banner, "-module", env.progs["cat"].wasm, "-instance", instance, "-cache", env.cacheDir, "-o", replies)
			cmd.Stdin = bytes.NewReader(input)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("bannerhost: %v\n%s", err, stderr.Bytes())
			}
			if kids := kidsOf(cmd.Process.Pid); len(kids) > 0 {
				t.Errorf("kids %v left running", kids)
			}
			out, err := os.ReadFile(replies)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(bannerText)) {
				t.Errorf("the banner is in the replies, at byte %d", bytes.Index(out, []byte(bannerText)))
			}
			if instance == "batch" { // in Keep mode
				sameBytes(t, out, input)
			} else {
				sameLines(t, splitLines(out), splitLines(input))
			}
			// The parent's own banner goes to its stdout, as printed.
			if want := bannerText + "\n" + bannerText + " (again, by os.Stdout)\n"; stdout.String() != want {
				t.Errorf("bannerhost's stdout is %q, want its own banner alone, %q", stdout.Bytes(), want)
			}
			// Each kid printed it too, to its stderr, which the pool
			// forwards: the test shows what it means to show.
			for _, kid := range []string{"kid 1: ", "kid 2: "} {
				if !strings.Contains(stderr.String(), kid+bannerText+"\n") {
					t.Errorf("bannerhost's stderr has no %q line: the banner's init did not run in that kid, or its output went elsewhere\n%s", kid+bannerText, stderr.Bytes())
				}
			}
		})
	}
}
