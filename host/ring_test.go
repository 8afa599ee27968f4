package host

import (
	"math/rand/v2"
	"testing"
)

// TestRing checks the queue against a slice model through random pushes,
// front drops and truncations, across wrap-arounds and growth.
func TestRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r ring[int]
	var model []int
	next := 0
	for step := range 100_000 {
		switch op := rng.IntN(10); {
		case op < 6:
			r.push(next)
			model = append(model, next)
			next++
		case op < 9:
			n := rng.IntN(8)
			r.dropFront(n)
			model = model[min(n, len(model)):]
		default:
			n := rng.IntN(len(model) + 2)
			r.truncate(n)
			model = model[:min(n, len(model))]
		}
		if r.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, r.len(), len(model))
		}
		for i, v := range model {
			if got := *r.at(i); got != v {
				t.Fatalf("step %d: at(%d) = %d, want %d", step, i, got, v)
			}
		}
	}
	if len(r.buf) > 1024 {
		t.Errorf("ring grew to %d for a queue that never held more than a few hundred", len(r.buf))
	}
}
