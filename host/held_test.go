//go:build linux

package host

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
)

// TestHeldQueue drives a kid's held queue through random gives, finishes,
// trims and truncations, as dispatch does, and checks every request's
// index, attempt and frame against a plain slice of records.
func TestHeldQueue(t *testing.T) {
	for _, framing := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(3)} {
		t.Run(framing.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(framing.Overhead())))
			k := &kid{framing: framing}
			type rec struct {
				index, attempt int
				frame          string
			}
			var model []rec
			index, step := 0, 1
			for op := range 20_000 {
				switch x := rng.IntN(100); {
				case x < 60: // give: mostly runs with a steady step
					if rng.IntN(20) == 0 {
						step = 1 + rng.IntN(3)
					}
					if rng.IntN(30) == 0 {
						index -= rng.IntN(10) // a requeued request comes back
					}
					attempt := 0
					if rng.IntN(25) == 0 {
						attempt = 1 + rng.IntN(2)
					}
					payload := fmt.Sprint(index % 1000)
					if framing == frames.Fixed(3) {
						payload = fmt.Sprintf("%03d", index%1000)
					}
					off := k.trimmed + len(k.out)
					var err error
					if k.out, err = framing.Append(k.out, []byte(payload)); err != nil {
						t.Fatal(err)
					}
					k.held.push(held{index: index, attempt: attempt, off: off, end: k.trimmed + len(k.out)})
					model = append(model, rec{index, attempt, string(k.out[off-k.trimmed:])})
					index += step
				case x < 85: // finish some, then trim what is before the first held frame
					n := rng.IntN(6)
					k.held.dropFront(n)
					model = model[min(n, len(model)):]
					if k.held.len() > 0 && rng.IntN(3) == 0 {
						keep := k.firstHeldOff() - k.trimmed
						k.out = k.out[:copy(k.out, k.out[keep:])]
						k.trimmed += keep
					} else if k.held.len() == 0 {
						k.trimmed += len(k.out)
						k.out = k.out[:0]
					}
				case x < 90: // cancel: keep the first n
					if k.held.len() == 0 {
						continue
					}
					n := rng.IntN(k.held.len())
					k.eachHeld(func(i int, h held) bool {
						if i < n {
							return true
						}
						k.out = k.out[:h.off-k.trimmed]
						k.held.truncate(i, h.off)
						return false
					})
					model = model[:n]
				default:
				}
				if k.held.len() != len(model) {
					t.Fatalf("op %d: len %d, want %d", op, k.held.len(), len(model))
				}
				if len(model) > 0 && k.held.firstIndex() != model[0].index {
					t.Fatalf("op %d: first index %d, want %d", op, k.held.firstIndex(), model[0].index)
				}
				// Pretend a random prefix of the stream went into the pipe.
				k.written = rng.IntN(len(k.out) + 1)
				wantWritten := 0
				k.eachHeld(func(i int, h held) bool {
					if h.end-k.trimmed <= k.written {
						wantWritten = i + 1
						return true
					}
					return false
				})
				if got := k.heldWritten(); got != wantWritten {
					t.Fatalf("op %d: %d held requests written, want %d", op, got, wantWritten)
				}
				seen := 0
				k.eachHeld(func(i int, h held) bool {
					got := rec{h.index, h.attempt, string(k.frame(h))}
					if i >= len(model) || got != model[i] {
						t.Fatalf("op %d: request %d is %+v, want %+v", op, i, got, model[min(i, len(model)-1)])
					}
					seen++
					return true
				})
				if seen != len(model) {
					t.Fatalf("op %d: eachHeld saw %d, want %d", op, seen, len(model))
				}
			}
			if runs := k.held.runs.len(); runs > len(model)/2+8 {
				t.Errorf("%d runs for %d requests: runs do not merge", runs, len(model))
			}
		})
	}
}
