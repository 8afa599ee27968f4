package frames

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmpool/wasmpool/abi"
)

// Errors. Errors returned by this package wrap one of these, so callers can
// test them with errors.Is.
var (
	// ErrTooLarge: a frame is larger than the maximum frame size.
	ErrTooLarge = errors.New("frames: frame too large")
	// ErrTruncated: the stream ended inside a lenpfx or fixed frame.
	ErrTruncated = errors.New("frames: truncated frame at EOF")
	// ErrTerminator: a lines or zero payload contains its own terminator.
	ErrTerminator = errors.New("frames: payload contains the frame terminator")
	// ErrSize: a fixed:N payload is not exactly N bytes long.
	ErrSize = errors.New("frames: payload size does not match the fixed frame size")
	// ErrFraming: a framing name or value is not valid.
	ErrFraming = errors.New("frames: invalid framing")
)

type kind uint8

const (
	kindLines kind = iota // the zero Framing is Lines
	kindZero
	kindLenPfx
	kindFixed
)

// Framing says how a byte stream is cut into frames. The zero value is
// [Lines]. Framings are small values; compare them with ==.
type Framing struct {
	kind kind
	size int // record size of fixed:N
}

// The framings without parameters.
var (
	Lines  = Framing{kind: kindLines}
	Zero   = Framing{kind: kindZero}
	LenPfx = Framing{kind: kindLenPfx}
)

// Fixed returns the framing of n-byte records. n must be in 1..[abi.MaxFixed];
// [Framing.Validate] reports another.
func Fixed(n int) Framing { return Framing{kind: kindFixed, size: n} }

// Parse returns the framing of a name: "lines", "zero", "lenpfx" or
// "fixed:N", N in decimal without sign or leading zero, 1 ≤ N ≤
// [abi.MaxFixed]. Names are case-sensitive. It is the one parser of
// framing names: flags, the environment and the wasmpool section all use
// it, so a name is valid everywhere or nowhere, and every valid name is
// what [Framing.String] writes.
func Parse(name string) (Framing, error) {
	switch name {
	case abi.FramingLines:
		return Lines, nil
	case abi.FramingZero:
		return Zero, nil
	case abi.FramingLenPfx:
		return LenPfx, nil
	}
	if n, ok := strings.CutPrefix(name, abi.FramingFixed+":"); ok {
		size, ok := recordSize(n)
		if !ok {
			return Framing{}, fmt.Errorf("%w %q: %s", ErrFraming, name, fixedRule)
		}
		return Fixed(size), nil
	}
	return Framing{}, fmt.Errorf("%w %q: want lines, zero, lenpfx or fixed:N", ErrFraming, name)
}

// fixedRule says what a fixed:N name needs.
var fixedRule = fmt.Sprintf("fixed:N needs a record size 1 ≤ N ≤ %d, in decimal without sign or leading zero", abi.MaxFixed)

// recordSize parses the N of fixed:N: canonical decimal, 1..abi.MaxFixed.
func recordSize(s string) (int, bool) {
	if s == "" || s[0] == '0' || len(s) > len(strconv.Itoa(abi.MaxFixed)) {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= abi.MaxFixed
}

// String returns the framing's name, the inverse of [Parse].
func (f Framing) String() string {
	switch f.kind {
	case kindZero:
		return abi.FramingZero
	case kindLenPfx:
		return abi.FramingLenPfx
	case kindFixed:
		return abi.FramingFixed + ":" + strconv.Itoa(f.size)
	}
	return abi.FramingLines
}

// Validate reports a framing that [Parse] would not return: Fixed(n) with
// n outside 1..[abi.MaxFixed].
func (f Framing) Validate() error {
	if f.kind == kindFixed && (f.size < 1 || f.size > abi.MaxFixed) {
		return fmt.Errorf("%w %s: %s", ErrFraming, f, fixedRule)
	}
	return nil
}

// Size returns N for fixed:N and 0 for the other framings.
func (f Framing) Size() int {
	if f.kind == kindFixed {
		return f.size
	}
	return 0
}

// Overhead returns the bytes a frame adds to its payload: 1 for lines and
// zero, 8 for lenpfx, 0 for fixed.
func (f Framing) Overhead() int {
	switch f.kind {
	case kindLenPfx:
		return abi.LenPfxHeader
	case kindFixed:
		return 0
	}
	return 1
}

// MarshalText implements encoding.TextMarshaler with the framing's name.
func (f Framing) MarshalText() ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return []byte(f.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [Parse].
func (f *Framing) UnmarshalText(text []byte) error {
	g, err := Parse(string(text))
	if err != nil {
		return err
	}
	*f = g
	return nil
}

// Terminator returns the byte that ends every frame of the lines and zero
// framings; ok is false for lenpfx and fixed:N, whose frames have none.
func (f Framing) Terminator() (b byte, ok bool) {
	if f.kind == kindLines || f.kind == kindZero {
		return f.terminator(), true
	}
	return 0, false
}

func (f Framing) terminator() byte {
	if f.kind == kindZero {
		return 0
	}
	return '\n'
}

// Append appends payload as one frame to dst and returns the extended
// buffer. A lines or zero payload that contains its terminator is refused
// with [ErrTerminator], a fixed payload of the wrong size with [ErrSize],
// an invalid framing (Fixed(0)) with [ErrFraming]; dst is then returned
// unchanged.
func (f Framing) Append(dst, payload []byte) ([]byte, error) {
	switch f.kind {
	case kindLines, kindZero:
		t := f.terminator()
		if bytes.IndexByte(payload, t) >= 0 {
			return dst, fmt.Errorf("%w (%s, %d-byte payload)", ErrTerminator, f, len(payload))
		}
		dst = append(dst, payload...)
		return append(dst, t), nil
	case kindLenPfx:
		dst = binary.LittleEndian.AppendUint64(dst, uint64(len(payload)))
		return append(dst, payload...), nil
	default:
		if err := f.Validate(); err != nil {
			return dst, err
		}
		if len(payload) != f.size {
			return dst, fmt.Errorf("%w: %d bytes for %s", ErrSize, len(payload), f)
		}
		return append(dst, payload...), nil
	}
}

// Split finds the first frame in data. It returns the number of bytes to
// consume and the frame's payload (a subslice of data), or advance 0 and a
// nil frame when data holds no complete frame yet. atEOF says that no more
// data will come: a final unterminated lines or zero frame is then returned,
// and a partial lenpfx or fixed frame is [ErrTruncated]. maxFrame > 0 bounds
// the payload size: a frame that is or will be larger is [ErrTooLarge], as
// soon as that is known.
func (f Framing) Split(data []byte, atEOF bool, maxFrame int) (advance int, frame []byte, err error) {
	switch f.kind {
	case kindLines, kindZero:
		if i := bytes.IndexByte(data, f.terminator()); i >= 0 {
			if maxFrame > 0 && i > maxFrame {
				return 0, nil, tooLarge(i, maxFrame)
			}
			return i + 1, data[:i:i], nil
		}
		if maxFrame > 0 && len(data) > maxFrame {
			return 0, nil, tooLarge(len(data), maxFrame)
		}
		if atEOF && len(data) > 0 {
			return len(data), data[:len(data):len(data)], nil
		}
		return 0, nil, nil
	case kindLenPfx:
		if len(data) < abi.LenPfxHeader {
			if atEOF && len(data) > 0 {
				return 0, nil, fmt.Errorf("%w: %d of %d length-header bytes", ErrTruncated, len(data), abi.LenPfxHeader)
			}
			return 0, nil, nil
		}
		n := binary.LittleEndian.Uint64(data)
		if (maxFrame > 0 && n > uint64(maxFrame)) || n > uint64(maxInt-abi.LenPfxHeader) {
			return 0, nil, tooLarge64(n, maxFrame)
		}
		end := abi.LenPfxHeader + int(n)
		if len(data) < end {
			if atEOF {
				return 0, nil, fmt.Errorf("%w: %d of %d payload bytes", ErrTruncated, len(data)-abi.LenPfxHeader, n)
			}
			return 0, nil, nil
		}
		return end, data[abi.LenPfxHeader:end:end], nil
	default:
		if err := f.Validate(); err != nil {
			return 0, nil, err
		}
		if maxFrame > 0 && f.size > maxFrame {
			return 0, nil, tooLarge(f.size, maxFrame)
		}
		if len(data) < f.size {
			if atEOF && len(data) > 0 {
				return 0, nil, fmt.Errorf("%w: %d of %d record bytes", ErrTruncated, len(data), f.size)
			}
			return 0, nil, nil
		}
		return f.size, data[:f.size:f.size], nil
	}
}

const maxInt = int(^uint(0) >> 1)

func tooLarge(n, maxFrame int) error {
	return fmt.Errorf("%w: %d bytes or more, the limit is %d", ErrTooLarge, n, maxFrame)
}

func tooLarge64(n uint64, maxFrame int) error {
	if maxFrame <= 0 || n <= uint64(maxFrame) {
		// Under the limit, or no limit, but more than an int can hold.
		return fmt.Errorf("%w: a length header of %d bytes does not fit in memory", ErrTooLarge, n)
	}
	return fmt.Errorf("%w: a length header of %d bytes, the limit is %d", ErrTooLarge, n, maxFrame)
}

// Whole returns the length n of the longest prefix of data, at most limit
// bytes (limit ≤ 0: no bound), made of whole frames, and their count. It is
// how a stream is cut into batches at frame boundaries: lines and zero
// frames are counted with one pass for the terminator, not cut one by one;
// lenpfx headers are walked; fixed:N is arithmetic. atEOF says no more data
// will come, so that a final lines or zero frame without its terminator
// counts. A lenpfx header that cannot be a frame (or an invalid framing)
// ends the prefix: [Framing.Split] on what follows says why.
func (f Framing) Whole(data []byte, atEOF bool, limit int) (n, count int) {
	region := data
	if limit > 0 && len(region) > limit {
		region, atEOF = region[:limit], false
	}
	switch f.kind {
	case kindLines, kindZero:
		t := f.terminator()
		last := bytes.LastIndexByte(region, t)
		if atEOF && len(region) > 0 && last != len(region)-1 {
			return len(region), bytes.Count(region, []byte{t}) + 1
		}
		if last < 0 {
			return 0, 0
		}
		return last + 1, bytes.Count(region[:last+1], []byte{t})
	case kindLenPfx:
		for len(region)-n >= abi.LenPfxHeader {
			size := binary.LittleEndian.Uint64(region[n:])
			if size > uint64(len(region)-n-abi.LenPfxHeader) {
				break
			}
			n += abi.LenPfxHeader + int(size)
			count++
		}
		return n, count
	default:
		if f.size < 1 {
			return 0, 0
		}
		count = len(region) / f.size
		return count * f.size, count
	}
}

// Skip returns the offset just past the first k frames of data, which must
// hold at least k whole frames (as counted by [Framing.Whole]).
func (f Framing) Skip(data []byte, k int) int {
	off := 0
	switch f.kind {
	case kindLines, kindZero:
		t := f.terminator()
		for ; k > 0; k-- {
			i := bytes.IndexByte(data[off:], t)
			if i < 0 {
				return len(data)
			}
			off += i + 1
		}
		return off
	case kindLenPfx:
		for ; k > 0 && len(data)-off >= abi.LenPfxHeader; k-- {
			off = min(len(data), off+abi.LenPfxHeader+int(min(binary.LittleEndian.Uint64(data[off:]), uint64(len(data)))))
		}
		return off
	default:
		return min(len(data), k*f.size)
	}
}
