package ordinary_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wasmpool/wasmpool/internal/remotetest"
)

// TestCLIOverSSH runs ordinary programs with wasmpool run -S, every kid
// or half of them behind a real sshd on loopback, which runs this
// checkout's wasmpool: with -k the output is the native program's byte
// for byte, without it the same lines. The first run finds the far
// end's cache empty and sends the module; later runs send nothing (the
// cached file stays the one first received).
func TestCLIOverSSH(t *testing.T) {
	s := remotetest.SSHD(t)
	cache := t.TempDir()
	remote := []string{"--ssh", strings.Join(s.Command, " "), "--remote-wasmpool", "XDG_CACHE_HOME=" + cache + " " + env.wasmpool}
	var first os.FileInfo
	for _, name := range []string{"upper", "gorev"} {
		p := env.progs[name]
		big, _ := inputs(name)
		for _, place := range [][]string{{"-S", "2/" + s.Hosts[0]}, {"-S", "1/" + s.Hosts[0], "-S", "1/:"}} {
			where := map[int]string{2: "all-remote", 4: "half"}[len(place)]
			t.Run(name+"/k/"+where, func(t *testing.T) {
				args := append(append(append([]string{"run", "-k", "--block", "64KiB"}, place...), remote...), p.wasm)
				r := succeed(t, big, args...)
				sameBytes(t, r.stdout, runNative(t, p, big))
				mods, _ := filepath.Glob(filepath.Join(cache, "wasmpool", "modules", "*.wasm"))
				if name == "upper" {
					if len(mods) != 1 {
						t.Fatalf("the far end's cache holds %v, want one module", mods)
					}
					st, _ := os.Stat(mods[0])
					if first == nil {
						first = st
					} else if st.Sys().(*syscall.Stat_t).Ino != first.Sys().(*syscall.Stat_t).Ino {
						t.Errorf("the module was received again: %s is a new file", mods[0])
					}
				}
			})
			t.Run(name+"/stream/"+where, func(t *testing.T) {
				in := terminated(big)
				args := append(append(append([]string{"run", "--block", "64KiB"}, place...), remote...), p.wasm)
				r := succeed(t, in, args...)
				sameLines(t, splitLines(r.stdout), splitLines(runNative(t, p, in)))
			})
		}
	}
}
