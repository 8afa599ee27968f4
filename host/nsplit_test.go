package host_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
)

func TestNSplit(t *testing.T) {
	type r = host.Range
	for _, tc := range []struct {
		length int64
		parts  int
		want   []r
	}{
		{100, 5, []r{{0, 20}, {20, 40}, {40, 60}, {60, 80}, {80, 100}}},
		{10, 3, []r{{0, 3}, {3, 6}, {6, 10}}},               // the remainder goes to the last
		{7, 1, []r{{0, 7}}},                                 // one part
		{3, 5, []r{{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 3}}}, // length < parts: empty parts, then all
		{0, 3, []r{{0, 0}, {0, 0}, {0, 0}}},                 // nothing to split
		{0, 1, []r{{0, 0}}},
		{1 << 62, 2, []r{{0, 1 << 61}, {1 << 61, 1 << 62}}},
	} {
		if got := host.NSplit(tc.length, tc.parts); !slices.Equal(got, tc.want) {
			t.Errorf("NSplit(%d, %d) = %v, want %v", tc.length, tc.parts, got, tc.want)
		}
	}
	for _, bad := range [][2]int64{{10, 0}, {10, -1}, {-1, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NSplit(%d, %d) did not panic", bad[0], bad[1])
				}
			}()
			host.NSplit(bad[0], int(bad[1]))
		}()
	}
}

// boundaries lists the offsets at which data's frames start, and len(data).
func boundaries(t *testing.T, data []byte, f frames.Framing) []int {
	var bs []int
	for off := 0; off < len(data); {
		bs = append(bs, off)
		n, _, err := f.Split(data[off:], true, 0)
		if err != nil || n == 0 {
			t.Fatalf("test data: %v at %d", err, off)
		}
		off += n
	}
	return append(bs, len(data))
}

// TestSplitFrames holds SplitFrames to its definition: each boundary is
// the last frame boundary at or before NSplit's.
func TestSplitFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	payload := func(max int) []byte {
		p := make([]byte, rng.IntN(max))
		for i := range p {
			p[i] = 'a' + byte(rng.IntN(26))
		}
		return p
	}
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(7)} {
		for _, size := range []int{0, 1, 50, 1000, 300_000} {
			var data []byte
			for len(data) < size {
				p := payload(100)
				if n := f.Size(); n > 0 {
					p = make([]byte, n)
				}
				if rng.IntN(50) == 0 {
					p = payload(200_000) // a frame longer than a part
				}
				data, _ = f.Append(data, p)
			}
			bs := boundaries(t, data, f)
			for _, parts := range []int{1, 2, 3, 8, 100} {
				got := host.SplitFrames(data, parts, f)
				nominal := host.NSplit(int64(len(data)), parts)
				if len(got) != parts || got[0].Lo != 0 || got[parts-1].Hi != int64(len(data)) {
					t.Fatalf("%v, %d bytes, %d parts: %v", f, len(data), parts, got)
				}
				for i, r := range got[:parts-1] {
					if got[i+1].Lo != r.Hi {
						t.Fatalf("%v, %d parts: part %d ends at %d, part %d starts at %d", f, parts, i, r.Hi, i+1, got[i+1].Lo)
					}
					// the last frame boundary at or before the nominal one, and not before the part's start
					j, _ := slices.BinarySearch(bs, int(nominal[i].Hi)+1)
					want := max(int64(bs[j-1]), r.Lo)
					if r.Hi != want {
						t.Fatalf("%v, %d bytes, %d parts: part %d ends at %d, want %d (nominal %d)", f, len(data), parts, i, r.Hi, want, nominal[i].Hi)
					}
				}
			}
		}
	}
}

func TestSplitFile(t *testing.T) {
	var data []byte
	for i := range 1000 {
		data = binary.LittleEndian.AppendUint64(data, uint64(i%17))
		data = append(data, bytes.Repeat([]byte{'x'}, i%17)...)
	}
	path := filepath.Join(t.TempDir(), "records")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := host.SplitFile(path, 4, frames.LenPfx)
	if err != nil {
		t.Fatal(err)
	}
	if want := host.SplitFrames(data, 4, frames.LenPfx); !slices.Equal(got, want) {
		t.Errorf("SplitFile = %v, SplitFrames = %v", got, want)
	}
	if _, err := host.SplitFile(filepath.Join(t.TempDir(), "none"), 2, frames.Lines); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}
