package conformance

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

// TestPool runs every language's echo guest as the kids of a real pool
// (package host: re-executed kids, pipes, batched writes, ordered replies)
// and checks that every reply equals its request.
func TestPool(t *testing.T) {
	cache := t.TempDir()
	cases := []struct {
		framing, replies string
		n                int
	}{
		{"lines", "", 2000},
		{"zero", "", 2000},
		{"lenpfx", "", 2000},
		{"fixed:13", "", 2000},
		{"lines", "lenpfx", 500}, // a reply framing of its own (SDK guests only)
	}
	for _, l := range langs {
		t.Run(l.name, func(t *testing.T) {
			compiledGuest(t, l.name+"/echo") // skips a missing toolchain
			path := guests[l.name+"/echo"].mod.path
			for ci, c := range cases {
				if c.replies != "" && !l.sdk {
					continue
				}
				name := c.framing
				if c.replies != "" {
					name += "-to-" + c.replies
				}
				t.Run(name, func(t *testing.T) {
					f, err := frames.Parse(c.framing)
					if err != nil {
						t.Fatal(err)
					}
					cfg := host.Config{Module: path, Kids: 2, Framing: f, Args: []string{c.framing},
						Mode: host.Ordered, CacheDir: cache, Stderr: io.Discard}
					if testing.Verbose() {
						cfg.Stderr = os.Stderr
					}
					if c.replies != "" {
						rf, err := frames.Parse(c.replies)
						if err != nil {
							t.Fatal(err)
						}
						cfg.ReplyFraming = &rf
						cfg.Args = append(cfg.Args, c.replies)
					}
					pool, err := host.New(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer pool.Close()
					reqs := genFrames(rand.New(rand.NewPCG(uint64(ci), 99)), f, c.n)
					i := 0
					for reply, err := range pool.Run(context.Background(), slices.Values(reqs)) {
						if err != nil {
							t.Fatalf("reply %d: %v", i, err)
						}
						if reply.Index != i {
							t.Fatalf("reply %d has index %d", i, reply.Index)
						}
						if !bytes.Equal(reply.Data, reqs[i]) {
							t.Fatalf("reply %d: %d bytes differ from its %d-byte request", i, len(reply.Data), len(reqs[i]))
						}
						i++
					}
					if i != len(reqs) {
						t.Fatalf("%d replies to %d requests", i, len(reqs))
					}
				})
			}
		})
	}
}
