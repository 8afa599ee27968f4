package host

import (
	"fmt"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// Range is the half-open range [Lo, Hi) of a fork-join part: indices of
// the caller's items, or byte offsets into a file ([SplitFile]).
type Range struct{ Lo, Hi int64 }

// Len returns Hi - Lo.
func (r Range) Len() int64 { return r.Hi - r.Lo }

func (r Range) String() string { return fmt.Sprintf("[%d, %d)", r.Lo, r.Hi) }

// NSplit cuts [0, length) into parts consecutive ranges of length/parts
// items each, the remainder going to the last, as procpool's nSplit does:
// NSplit(10, 3) is [0,3) [3,6) [6,10). When length < parts, the first
// parts-1 ranges are empty and the last holds everything (procpool's
// behaviour, kept so that part p always starts at p*(length/parts));
// length 0 gives parts empty ranges. It panics if parts < 1 or length < 0.
func NSplit(length int64, parts int) []Range {
	if parts < 1 || length < 0 {
		panic(fmt.Sprintf("host: NSplit(%d, %d): want length ≥ 0 and parts ≥ 1", length, parts))
	}
	step := length / int64(parts)
	rs := make([]Range, parts)
	for i := range rs {
		rs[i] = Range{Lo: int64(i) * step, Hi: int64(i+1) * step}
	}
	rs[parts-1].Hi = length
	return rs
}

// SplitFrames cuts data into parts consecutive ranges at frame
// boundaries: each boundary of NSplit(len(data), parts) moves back to the
// last frame boundary at or before it, so a frame that straddles one goes
// to the part it ends in, and a part can be empty (when a frame is longer
// than a part). The last part ends at len(data), whatever its bytes. The
// whole-frame prefixes are found with [frames.Framing.Whole]; with lines
// and zero framings only the bytes just before each boundary are read.
func SplitFrames(data []byte, parts int, f frames.Framing) []Range {
	rs := NSplit(int64(len(data)), parts)
	lo := 0
	for i := range rs[:parts-1] {
		rs[i].Lo = int64(lo)
		lo = wholeBefore(data, lo, int(rs[i].Hi), f)
		rs[i].Hi = int64(lo)
	}
	rs[parts-1].Lo = int64(lo)
	return rs
}

// wholeBefore returns the last frame boundary in data[lo:end], lo being
// one. Frames with a terminator resynchronize on any byte, so the search
// starts in a window before end that grows until it finds a boundary;
// others are walked from lo.
func wholeBefore(data []byte, lo, end int, f frames.Framing) int {
	if _, ok := f.Terminator(); !ok {
		n, _ := f.Whole(data[lo:end], false, 0)
		return lo + n
	}
	for w := 64 << 10; ; w *= 2 {
		from := max(lo, end-w)
		if n, _ := f.Whole(data[from:end], false, 0); n > 0 || from == lo {
			return from + n
		}
	}
}

// SplitFile is [SplitFrames] over the file at path, mapped into memory
// for the time of the call (only the pages that a search reads are read).
func SplitFile(path string, parts int, f frames.Framing) ([]Range, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	data, unmap, err := kidside.MapFile(path)
	if err != nil {
		return nil, err
	}
	defer unmap()
	return SplitFrames(data, parts, f), nil
}
