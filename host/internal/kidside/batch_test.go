//go:build linux

package kidside

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

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

// TestFileSection: an instance reads its batch straight from the input
// file, from the batch's offset to its end and no further; a file that
// ends inside the batch is an error, never an early EOF, which would have
// the guest take the part for the whole.
func TestFileSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, []byte("0123456789abcdefghij"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name     string
		pos, end int64
		want     string
		cutShort bool
	}{
		{"inside", 3, 13, "3456789abc", false},
		{"to the end", 10, 20, "abcdefghij", false},
		{"empty", 20, 20, "", false},
		{"past the end", 15, 25, "fghij", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &fileSection{fd: int(f.Fd()), pos: tc.pos, end: tc.end}
			var got []byte
			buf := make([]byte, 3) // reads smaller than the section
			var err error
			for {
				var n int
				n, err = s.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
			switch {
			case tc.cutShort && (errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "ends at byte 20")):
				t.Errorf("the read ended with %v, want the file cut short at byte 20", err)
			case tc.cutShort && s.err == nil:
				t.Errorf("the section kept no error")
			case !tc.cutShort && err != io.EOF:
				t.Errorf("the read ended with %v, want EOF", err)
			}
		})
	}
}

// TestPipeSection: a batch from the parent's stream is read up to its
// length and no further, whatever the guest read of it, so that the next
// batch's header comes next; a stream that ends inside the batch is an
// error, kept, never an early EOF.
func TestPipeSection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		left   int64
		read   int // bytes the guest reads before it exits; -1: all
		want   string
		short  bool
	}{
		{"all of it", "0123456789NEXT", 10, -1, "0123456789", false},
		{"part, then drained", "0123456789NEXT", 10, 4, "0123", false},
		{"none, then drained", "0123456789NEXT", 10, 0, "", false},
		{"empty", "NEXT", 0, -1, "", false},
		{"cut short", "01234", 10, -1, "01234", true},
	} {
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/oneByte=%v", tc.name, oneByte), func(t *testing.T) {
				var r io.Reader = strings.NewReader(tc.stream)
				if oneByte {
					r = iotest.OneByteReader(r) // reads smaller than asked
				}
				s := &pipeSection{r: r, left: tc.left}
				var got []byte
				buf := make([]byte, 8)
				var err error
				for tc.read < 0 || len(got) < tc.read {
					ask := len(buf)
					if tc.read >= 0 {
						ask = min(ask, tc.read-len(got))
					}
					var n int
					n, err = s.Read(buf[:ask])
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				if string(got) != tc.want {
					t.Errorf("read %q, want %q", got, tc.want)
				}
				derr := s.drain()
				switch {
				case tc.short && (derr == nil || !errors.Is(derr, io.ErrUnexpectedEOF)):
					t.Errorf("drain: %v, want the stream cut short", derr)
				case tc.short && tc.read < 0 && (err == nil || err == io.EOF):
					t.Errorf("the read ended with %v, want the stream cut short", err)
				case !tc.short && derr != nil:
					t.Errorf("drain: %v", derr)
				case !tc.short:
					if rest, _ := io.ReadAll(r); string(rest) != "NEXT" {
						t.Errorf("after the batch the stream holds %q, want the next batch", rest)
					}
				}
			})
		}
	}
}
