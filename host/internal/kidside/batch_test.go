//go:build linux

package kidside

import (
	"testing"

	"github.com/wasmpool/wasmpool/frames"
)

// TestResultCount: the kid counts an output's replies and says how it
// ends, so that the parent need not read the output to know.
func TestResultCount(t *testing.T) {
	fixed2, err := frames.Parse("fixed:2")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		f       frames.Framing
		out     string
		replies uint64
		flags   uint32
	}{
		{"lines", frames.Lines, "a\nb\n", 2, 0},
		{"no output", frames.Lines, "", 0, 0},
		{"last line unterminated", frames.Lines, "a\nb", 2, Unterminated},
		{"zero", frames.Zero, "a\x00b\x00", 2, 0},
		{"lenpfx", frames.LenPfx, "\x01\x00\x00\x00\x00\x00\x00\x00x", 1, 0},
		{"lenpfx cut short", frames.LenPfx, "\x01\x00\x00\x00\x00\x00\x00\x00x\x05\x00", 1, PartialReply},
		{"fixed cut short", fixed2, "abc", 1, PartialReply},
	} {
		var r ResultHeader
		r.count([]byte(tc.out), tc.f)
		if r.Replies != tc.replies || r.Flags != tc.flags {
			t.Errorf("%s: %d replies, flags %b; want %d, %b", tc.name, r.Replies, r.Flags, tc.replies, tc.flags)
		}
	}
}

// TestHeadersRoundTrip: what Append writes, the parse functions read.
func TestHeadersRoundTrip(t *testing.T) {
	b := BatchHeader{ID: 1, Length: 2, Source: 3, Offset: 4, Flags: 5}
	if enc := b.Append(nil); len(enc) != BatchHeaderSize || parseBatchHeader(enc) != b {
		t.Errorf("batch header: %d bytes, read back as %+v", len(enc), parseBatchHeader(enc))
	}
	r := ResultHeader{ID: 1, Consumed: 2, Status: -3, Flags: 4, Stdout: 5, Stderr: 6, Replies: 7}
	if enc := r.Append(nil); len(enc) != ResultHeaderSize || ParseResultHeader(enc) != r {
		t.Errorf("result header: %d bytes, read back as %+v", len(enc), ParseResultHeader(enc))
	}
}
