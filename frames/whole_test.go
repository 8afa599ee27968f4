package frames

import (
	"encoding/binary"
	"testing"
)

func TestWhole(t *testing.T) {
	lp := func(payloads ...string) []byte {
		var b []byte
		for _, p := range payloads {
			b, _ = LenPfx.Append(b, []byte(p))
		}
		return b
	}
	huge := binary.LittleEndian.AppendUint64(lp("ab"), 1<<63)
	for _, tc := range []struct {
		name     string
		f        Framing
		data     []byte
		atEOF    bool
		limit    int
		n, count int
	}{
		{"empty", Lines, nil, true, 0, 0, 0},
		{"lines", Lines, []byte("a\nbb\nc"), false, 0, 5, 2},
		{"lines at EOF", Lines, []byte("a\nbb\nc"), true, 0, 6, 3},
		{"lines terminated at EOF", Lines, []byte("a\nbb\n"), true, 0, 5, 2},
		{"lines limit cuts back", Lines, []byte("a\nbb\nc\n"), true, 4, 2, 1},
		{"lines limit on a boundary", Lines, []byte("a\nbb\nc\n"), true, 5, 5, 2},
		{"line longer than limit", Lines, []byte("abcdef\n"), false, 3, 0, 0},
		{"empty lines", Lines, []byte("\n\n\n"), false, 0, 3, 3},
		{"zero", Zero, []byte("a\x00b\nc\x00d"), false, 0, 6, 2},
		{"lenpfx", LenPfx, lp("a", "", "ccc"), false, 0, 28, 3},
		{"lenpfx partial payload", LenPfx, lp("a", "ccc")[:18], false, 0, 9, 1},
		{"lenpfx partial header", LenPfx, lp("a", "ccc")[:12], true, 0, 9, 1},
		{"lenpfx limit", LenPfx, lp("a", "ccc"), false, 12, 9, 1},
		{"lenpfx huge header", LenPfx, huge, false, 0, 10, 1},
		{"fixed", Fixed(3), []byte("abcdefgh"), true, 0, 6, 2},
		{"fixed limit", Fixed(3), []byte("abcdefgh"), true, 7, 6, 2},
		{"fixed(0)", Fixed(0), []byte("abc"), true, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, count := tc.f.Whole(tc.data, tc.atEOF, tc.limit)
			if n != tc.n || count != tc.count {
				t.Errorf("Whole = %d bytes, %d frames; want %d, %d", n, count, tc.n, tc.count)
			}
		})
	}
}

// FuzzWhole checks Whole and Skip against Split, which cuts frames one by
// one: the prefix Whole returns is exactly the frames Split finds, and Skip
// lands on each of their boundaries.
func FuzzWhole(f *testing.F) {
	f.Add(byte(0), []byte("a\nbb\nc"), true, 0)
	f.Add(byte(1), []byte("a\x00\x00b"), false, 3)
	f.Add(byte(2), []byte("\x01\x00\x00\x00\x00\x00\x00\x00a\x00\x00\x00\x00\x00\x00\x00\x00"), false, 0)
	f.Add(byte(3), []byte("abcdefg"), true, 5)
	f.Fuzz(func(t *testing.T, which byte, data []byte, atEOF bool, limit int) {
		fr := []Framing{Lines, Zero, LenPfx, Fixed(3)}[which%4]
		if limit < 0 || limit > len(data)+1 {
			limit = 0
		}
		n, count := fr.Whole(data, atEOF, limit)
		region, eof := data, atEOF
		if limit > 0 && len(region) > limit {
			region, eof = region[:limit], false
		}
		off, frames := 0, 0
		var bounds []int
		for off < len(region) {
			adv, _, err := fr.Split(region[off:], eof, 0)
			if err != nil || adv == 0 {
				break
			}
			off += adv
			frames++
			bounds = append(bounds, off)
		}
		if n != off || count != frames {
			t.Fatalf("%s: Whole = %d bytes, %d frames; Split finds %d bytes, %d frames", fr, n, count, off, frames)
		}
		for k, want := range bounds {
			if got := fr.Skip(data[:n], k+1); got != want {
				t.Fatalf("%s: Skip(%d) = %d, want %d", fr, k+1, got, want)
			}
		}
	})
}
