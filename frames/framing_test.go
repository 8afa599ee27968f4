package frames_test

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
)

var (
	_ encoding.TextMarshaler   = frames.Framing{}
	_ encoding.TextUnmarshaler = (*frames.Framing)(nil)
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		want frames.Framing
		ok   bool
	}{
		{"lines", frames.Lines, true},
		{"zero", frames.Zero, true},
		{"lenpfx", frames.LenPfx, true},
		{"fixed:1", frames.Fixed(1), true},
		{"fixed:16", frames.Fixed(16), true},
		{"fixed:1048576", frames.Fixed(1 << 20), true},
		{"fixed:1073741824", frames.Fixed(1 << 30), true},
		{"fixed:0", frames.Framing{}, false},
		{"fixed:007", frames.Framing{}, false},
		{"fixed:08", frames.Framing{}, false},
		{"fixed:+5", frames.Framing{}, false},
		{"fixed:1073741825", frames.Framing{}, false},
		{"fixed:3000000000", frames.Framing{}, false},
		{"fixed:10737418240", frames.Framing{}, false},
		{"fixed:0x10", frames.Framing{}, false},
		{"fixed:1_000", frames.Framing{}, false},
		{"fixed:-1", frames.Framing{}, false},
		{"fixed:x", frames.Framing{}, false},
		{"fixed:", frames.Framing{}, false},
		{"fixed", frames.Framing{}, false},
		{"fixed: 8", frames.Framing{}, false},
		{"fixed:8 ", frames.Framing{}, false},
		{"fixed:99999999999999999999999", frames.Framing{}, false},
		{"", frames.Framing{}, false},
		{"Lines", frames.Framing{}, false},
		{"LINES", frames.Framing{}, false},
		{" lines", frames.Framing{}, false},
		{"nul", frames.Framing{}, false},
		{"lenpfx:8", frames.Framing{}, false},
		{"json", frames.Framing{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := frames.Parse(tt.name)
			if !tt.ok {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tt.name, got)
				}
				if !errors.Is(err, frames.ErrFraming) {
					t.Fatalf("Parse(%q) error %v does not wrap ErrFraming", tt.name, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.name)) {
					t.Errorf("Parse(%q) error %q does not name the input", tt.name, err)
				}
				if got != (frames.Framing{}) {
					t.Errorf("Parse(%q) returned %v with its error, want the zero Framing", tt.name, got)
				}
				var f frames.Framing
				if err := f.UnmarshalText([]byte(tt.name)); !errors.Is(err, frames.ErrFraming) {
					t.Errorf("UnmarshalText(%q) = %v, want ErrFraming", tt.name, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.name, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.name, got, tt.want)
			}
			if s := got.String(); s != tt.name {
				t.Errorf("Parse(%q).String() = %q", tt.name, s)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Parse(%q).Validate() = %v", tt.name, err)
			}
			text, err := got.MarshalText()
			if err != nil || string(text) != tt.name {
				t.Errorf("MarshalText() = %q, %v; want %q", text, err, tt.name)
			}
			var back frames.Framing
			if err := back.UnmarshalText(text); err != nil || back != got {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, got)
			}
		})
	}
}

func TestZeroFramingIsLines(t *testing.T) {
	var f frames.Framing
	if f != frames.Lines || f.String() != "lines" || f.Validate() != nil {
		t.Fatalf("zero Framing = %v (valid: %v), want lines", f, f.Validate())
	}
}

func TestValidate(t *testing.T) {
	for _, n := range []int{0, -1, math.MinInt, abi.MaxFixed + 1, math.MaxInt} {
		f := frames.Fixed(n)
		err := f.Validate()
		if !errors.Is(err, frames.ErrFraming) {
			t.Errorf("Fixed(%d).Validate() = %v, want ErrFraming", n, err)
		}
		if _, err := f.MarshalText(); !errors.Is(err, frames.ErrFraming) {
			t.Errorf("Fixed(%d).MarshalText() error = %v, want ErrFraming", n, err)
		}
		if _, err := f.Append(nil, nil); err == nil {
			t.Errorf("Fixed(%d).Append(nil, nil) succeeded", n)
		}
		if _, _, err := f.Split([]byte("abc"), true, 0); !errors.Is(err, frames.ErrFraming) {
			t.Errorf("Fixed(%d).Split = %v, want ErrFraming", n, err)
		}
		r := frames.NewReader(strings.NewReader("abc"), f)
		if r.Scan() || !errors.Is(r.Err(), frames.ErrFraming) {
			t.Errorf("Reader for Fixed(%d): Err() = %v, want ErrFraming", n, r.Err())
		}
	}
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(1), frames.Fixed(abi.MaxFixed)} {
		if err := f.Validate(); err != nil {
			t.Errorf("%v.Validate() = %v", f, err)
		}
	}
}

func TestSizeOverhead(t *testing.T) {
	tests := []struct {
		f              frames.Framing
		size, overhead int
		term           byte
		terminated     bool
	}{
		{frames.Lines, 0, 1, '\n', true},
		{frames.Zero, 0, 1, 0, true},
		{frames.LenPfx, 0, abi.LenPfxHeader, 0, false},
		{frames.Fixed(7), 7, 0, 0, false},
	}
	for _, tt := range tests {
		if term, ok := tt.f.Terminator(); term != tt.term || ok != tt.terminated {
			t.Errorf("%v.Terminator() = %q, %v; want %q, %v", tt.f, term, ok, tt.term, tt.terminated)
		}
		if got := tt.f.Size(); got != tt.size {
			t.Errorf("%v.Size() = %d, want %d", tt.f, got, tt.size)
		}
		if got := tt.f.Overhead(); got != tt.overhead {
			t.Errorf("%v.Overhead() = %d, want %d", tt.f, got, tt.overhead)
		}
		payload := bytes.Repeat([]byte("x"), max(tt.size, 3))
		buf, err := tt.f.Append(nil, payload)
		if err != nil || len(buf) != len(payload)+tt.overhead {
			t.Errorf("%v: Append of %d bytes gave %d bytes, %v; want %d", tt.f, len(payload), len(buf), err, len(payload)+tt.overhead)
		}
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		f       frames.Framing
		payload string
		want    string
		err     error
	}{
		{frames.Lines, "", "\n", nil},
		{frames.Lines, "abc", "abc\n", nil},
		{frames.Lines, "a\x00b\r", "a\x00b\r\n", nil},
		{frames.Lines, "a\nb", "", frames.ErrTerminator},
		{frames.Lines, "\n", "", frames.ErrTerminator},
		{frames.Lines, "abc\n", "", frames.ErrTerminator},
		{frames.Zero, "", "\x00", nil},
		{frames.Zero, "a\nb", "a\nb\x00", nil},
		{frames.Zero, "a\x00b", "", frames.ErrTerminator},
		{frames.Zero, "\x00", "", frames.ErrTerminator},
		{frames.LenPfx, "", "\x00\x00\x00\x00\x00\x00\x00\x00", nil},
		{frames.LenPfx, "a\n\x00", "\x03\x00\x00\x00\x00\x00\x00\x00a\n\x00", nil},
		{frames.LenPfx, strings.Repeat("y", 0x0102), "\x02\x01\x00\x00\x00\x00\x00\x00" + strings.Repeat("y", 0x0102), nil},
		{frames.Fixed(1), "\n", "\n", nil},
		{frames.Fixed(4), "ab\x00\n", "ab\x00\n", nil},
		{frames.Fixed(4), "abc", "", frames.ErrSize},
		{frames.Fixed(4), "abcde", "", frames.ErrSize},
		{frames.Fixed(4), "", "", frames.ErrSize},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%q", tt.f, tt.payload), func(t *testing.T) {
			prefix := []byte("old")
			dst := append(make([]byte, 0, 64), prefix...)
			got, err := tt.f.Append(dst, []byte(tt.payload))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Append error = %v, want %v", err, tt.err)
				}
				if string(got) != string(prefix) {
					t.Fatalf("Append changed dst on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if want := string(prefix) + tt.want; string(got) != want {
				t.Fatalf("Append = %q, want %q", got, want)
			}
			// The frame reads back as the payload.
			adv, frame, err := tt.f.Split(got[len(prefix):], true, 0)
			if err != nil || adv != len(got)-len(prefix) || string(frame) != tt.payload {
				t.Fatalf("Split of the appended frame = %d, %q, %v", adv, frame, err)
			}
		})
	}
}

// The lenpfx header is a little-endian uint64 whatever the platform.
func TestAppendLenPfxHeader(t *testing.T) {
	payload := make([]byte, 0x010203)
	buf, err := frames.LenPfx.Append(nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(buf) != 8+len(payload) {
		t.Fatalf("frame is %d bytes, want %d", len(buf), 8+len(payload))
	}
	if want := []byte{0x03, 0x02, 0x01, 0, 0, 0, 0, 0}; !bytes.Equal(buf[:8], want) {
		t.Fatalf("header % x, want % x", buf[:8], want)
	}
	if got := binary.LittleEndian.Uint64(buf); got != uint64(len(payload)) {
		t.Fatalf("header says %d", got)
	}
}

type splitResult struct {
	advance int
	frame   string // "<nil>" for a nil frame
	err     error
}

func split(f frames.Framing, data string, atEOF bool, maxFrame int) splitResult {
	adv, frame, err := f.Split([]byte(data), atEOF, maxFrame)
	s := string(frame)
	if frame == nil {
		s = "<nil>"
	}
	return splitResult{adv, s, err}
}

func lenpfx(n uint64) string {
	return string(binary.LittleEndian.AppendUint64(nil, n))
}

func TestSplit(t *testing.T) {
	const nilFrame = "<nil>"
	tests := []struct {
		name     string
		f        frames.Framing
		data     string
		atEOF    bool
		maxFrame int
		want     splitResult
	}{
		// lines
		{"lines/empty", frames.Lines, "", false, 0, splitResult{0, nilFrame, nil}},
		{"lines/empty at EOF", frames.Lines, "", true, 0, splitResult{0, nilFrame, nil}},
		{"lines/empty frame", frames.Lines, "\n", false, 0, splitResult{1, "", nil}},
		{"lines/empty frame then more", frames.Lines, "\nabc\n", false, 0, splitResult{1, "", nil}},
		{"lines/one", frames.Lines, "abc\ndef", false, 0, splitResult{4, "abc", nil}},
		{"lines/partial", frames.Lines, "abc", false, 0, splitResult{0, nilFrame, nil}},
		{"lines/last without newline at EOF", frames.Lines, "abc", true, 0, splitResult{3, "abc", nil}},
		{"lines/CR kept", frames.Lines, "a\r\n", false, 0, splitResult{3, "a\r", nil}},
		{"lines/NUL is data", frames.Lines, "a\x00b\n", false, 0, splitResult{4, "a\x00b", nil}},
		{"lines/exactly max", frames.Lines, "abcd\n", false, 4, splitResult{5, "abcd", nil}},
		{"lines/over max", frames.Lines, "abcde\n", false, 4, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lines/partial at max", frames.Lines, "abcd", false, 4, splitResult{0, nilFrame, nil}},
		{"lines/partial over max", frames.Lines, "abcde", false, 4, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lines/EOF at max", frames.Lines, "abcd", true, 4, splitResult{4, "abcd", nil}},
		{"lines/EOF over max", frames.Lines, "abcde", true, 4, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lines/small frame before a big one", frames.Lines, "ab\ncdefgh", false, 4, splitResult{3, "ab", nil}},
		{"lines/max 1 empty", frames.Lines, "\n", false, 1, splitResult{1, "", nil}},
		// zero
		{"zero/empty", frames.Zero, "", true, 0, splitResult{0, nilFrame, nil}},
		{"zero/empty frame", frames.Zero, "\x00", false, 0, splitResult{1, "", nil}},
		{"zero/newline is data", frames.Zero, "a\nb\x00c", false, 0, splitResult{4, "a\nb", nil}},
		{"zero/partial", frames.Zero, "a\n", false, 0, splitResult{0, nilFrame, nil}},
		{"zero/last at EOF", frames.Zero, "a\n", true, 0, splitResult{2, "a\n", nil}},
		{"zero/over max", frames.Zero, "abc", false, 2, splitResult{0, nilFrame, frames.ErrTooLarge}},
		// lenpfx
		{"lenpfx/empty", frames.LenPfx, "", false, 0, splitResult{0, nilFrame, nil}},
		{"lenpfx/empty at EOF", frames.LenPfx, "", true, 0, splitResult{0, nilFrame, nil}},
		{"lenpfx/empty frame", frames.LenPfx, lenpfx(0), false, 0, splitResult{8, "", nil}},
		{"lenpfx/empty frame at EOF", frames.LenPfx, lenpfx(0), true, 0, splitResult{8, "", nil}},
		{"lenpfx/one", frames.LenPfx, lenpfx(3) + "a\n\x00" + lenpfx(1), false, 0, splitResult{11, "a\n\x00", nil}},
		{"lenpfx/partial header", frames.LenPfx, "\x03\x00\x00", false, 0, splitResult{0, nilFrame, nil}},
		{"lenpfx/truncated header", frames.LenPfx, "\x03\x00\x00", true, 0, splitResult{0, nilFrame, frames.ErrTruncated}},
		{"lenpfx/7 header bytes at EOF", frames.LenPfx, lenpfx(0)[:7], true, 0, splitResult{0, nilFrame, frames.ErrTruncated}},
		{"lenpfx/partial payload", frames.LenPfx, lenpfx(3) + "ab", false, 0, splitResult{0, nilFrame, nil}},
		{"lenpfx/truncated payload", frames.LenPfx, lenpfx(3) + "ab", true, 0, splitResult{0, nilFrame, frames.ErrTruncated}},
		{"lenpfx/header only at EOF", frames.LenPfx, lenpfx(3), true, 0, splitResult{0, nilFrame, frames.ErrTruncated}},
		{"lenpfx/exactly max", frames.LenPfx, lenpfx(4) + "abcd", false, 4, splitResult{12, "abcd", nil}},
		{"lenpfx/over max, header only", frames.LenPfx, lenpfx(5), false, 4, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lenpfx/1 GiB header, 1 MiB max", frames.LenPfx, lenpfx(1 << 30), false, 1 << 20, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lenpfx/huge header, no max", frames.LenPfx, lenpfx(math.MaxUint64), false, 0, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lenpfx/2^63 header, no max", frames.LenPfx, lenpfx(1 << 63), true, 0, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"lenpfx/huge header, max MaxInt", frames.LenPfx, lenpfx(math.MaxUint64), false, math.MaxInt, splitResult{0, nilFrame, frames.ErrTooLarge}},
		// fixed
		{"fixed/empty", frames.Fixed(3), "", false, 0, splitResult{0, nilFrame, nil}},
		{"fixed/empty at EOF", frames.Fixed(3), "", true, 0, splitResult{0, nilFrame, nil}},
		{"fixed/one", frames.Fixed(3), "a\n\x00b", false, 0, splitResult{3, "a\n\x00", nil}},
		{"fixed/exact at EOF", frames.Fixed(3), "abc", true, 0, splitResult{3, "abc", nil}},
		{"fixed/partial", frames.Fixed(3), "ab", false, 0, splitResult{0, nilFrame, nil}},
		{"fixed/short last record", frames.Fixed(3), "ab", true, 0, splitResult{0, nilFrame, frames.ErrTruncated}},
		{"fixed/1", frames.Fixed(1), "\x00\n", true, 0, splitResult{1, "\x00", nil}},
		{"fixed/exactly max", frames.Fixed(3), "abc", false, 3, splitResult{3, "abc", nil}},
		{"fixed/over max", frames.Fixed(3), "abc", false, 2, splitResult{0, nilFrame, frames.ErrTooLarge}},
		{"fixed/over max, no data", frames.Fixed(3), "", false, 2, splitResult{0, nilFrame, frames.ErrTooLarge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := split(tt.f, tt.data, tt.atEOF, tt.maxFrame)
			if got.advance != tt.want.advance || got.frame != tt.want.frame || !errors.Is(got.err, tt.want.err) || (tt.want.err == nil && got.err != nil) {
				t.Fatalf("%v.Split(%q, %v, %d) = %d, %q, %v; want %d, %q, %v", tt.f, tt.data, tt.atEOF, tt.maxFrame,
					got.advance, got.frame, got.err, tt.want.advance, tt.want.frame, tt.want.err)
			}
		})
	}
}

// Split's frame is capped: appending to it cannot overwrite the bytes after
// it in the caller's buffer.
func TestSplitFrameCapped(t *testing.T) {
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(2)} {
		data, _ := f.Append(nil, []byte("ab"))
		data, _ = f.Append(data, []byte("cd"))
		keep := string(data)
		_, frame, err := f.Split(data, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if cap(frame) != len(frame) {
			t.Errorf("%v: frame has len %d, cap %d", f, len(frame), cap(frame))
		}
		_ = append(frame, "XXXXXXXX"...)
		if string(data) != keep {
			t.Errorf("%v: appending to the frame changed the buffer", f)
		}
	}
}

// A hostile length header fails at once, without allocating its length.
func TestSplitHugeHeaderNoAlloc(t *testing.T) {
	data := []byte(lenpfx(1 << 30))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := frames.LenPfx.Split(data, false, 1<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, frames.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Fatalf("Split allocated %d bytes", d)
	}
	for _, s := range []string{"1073741824", "1048576"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func TestSplitErrorMessages(t *testing.T) {
	tests := []struct {
		f        frames.Framing
		data     string
		maxFrame int
		want     string
	}{
		{frames.LenPfx, lenpfx(1 << 30), 1 << 20, "frames: frame too large: a length header of 1073741824 bytes, the limit is 1048576"},
		{frames.LenPfx, lenpfx(math.MaxUint64), 0, "frames: frame too large: a length header of 18446744073709551615 bytes does not fit in memory"},
		{frames.LenPfx, lenpfx(math.MaxUint64), math.MaxInt, fmt.Sprintf("frames: frame too large: a length header of 18446744073709551615 bytes, the limit is %d", math.MaxInt)},
		{frames.LenPfx, "\x01\x02", 0, "frames: truncated frame at EOF: 2 of 8 length-header bytes"},
		{frames.LenPfx, lenpfx(5) + "ab", 0, "frames: truncated frame at EOF: 2 of 5 payload bytes"},
		{frames.Fixed(4), "ab", 0, "frames: truncated frame at EOF: 2 of 4 record bytes"},
		{frames.Lines, "abcdef", 4, "frames: frame too large: 6 bytes or more, the limit is 4"},
		{frames.Fixed(8), "", 4, "frames: frame too large: 8 bytes or more, the limit is 4"},
	}
	for _, tt := range tests {
		_, _, err := tt.f.Split([]byte(tt.data), true, tt.maxFrame)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v.Split(%q, true, %d) error = %v, want %q", tt.f, tt.data, tt.maxFrame, err, tt.want)
		}
	}
}
