package frames

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/wasmpool/wasmpool/abi"
)

const initialBuffer = 64 << 10

// Reader reads frames from an io.Reader, like bufio.Scanner with a split
// function for a [Framing]. Its zero value is not usable; call [NewReader].
type Reader struct {
	r        io.Reader
	f        Framing
	maxFrame int
	buf      []byte
	start    int // first unconsumed byte of buf
	end      int // end of the data in buf
	frame    []byte
	n        int   // frames returned so far
	err      error // sticky: io.EOF at the end, or the error Scan stopped on
	readErr  error // a read error not yet reported: frames before it come first
	eof      bool
	// clean counts the bytes after start known to hold no terminator
	// (lines and zero), so that a long frame arriving in small reads is
	// scanned once, not once per read.
	clean int

	skipLarge bool  // SkipTooLarge: an oversize frame is skipped, not an error
	skipped   error // the oversize frame the last Scan skipped
	skipping  bool  // inside an oversize lines or zero frame
	skipBytes int   // bytes of an oversize lenpfx frame still to skip
}

// NewReader returns a Reader of frames in framing f from r, with the
// maximum frame size [abi.DefaultMaxFrame].
func NewReader(r io.Reader, f Framing) *Reader {
	return &Reader{r: r, f: f, maxFrame: abi.DefaultMaxFrame}
}

// SetMaxFrame sets the largest payload Scan accepts; n ≤ 0 means no limit
// beyond memory. Call it before the first Scan.
func (r *Reader) SetMaxFrame(n int) { r.maxFrame = n }

// SkipTooLarge makes Scan skip a frame larger than the maximum as it
// streams by, holding at most the maximum in memory, instead of stopping:
// Scan then returns true with [Reader.Bytes] nil and [Reader.Skipped]
// saying why. A lenpfx header too large to be a length anyone meant (2^62
// bytes or more) still ends the stream: what follows cannot be framed.
func (r *Reader) SkipTooLarge() { r.skipLarge = true }

// Skipped returns, after a Scan that skipped an oversize frame, the
// [ErrTooLarge] error that says so; nil otherwise.
func (r *Reader) Skipped() error { return r.skipped }

// Scan advances to the next frame, which is then available through
// [Reader.Bytes]. It returns false at the end of the stream or on an error;
// [Reader.Err] tells which.
func (r *Reader) Scan() bool {
	r.frame, r.skipped = nil, nil
	if r.err != nil {
		return false
	}
	for r.skipping || r.skipBytes > 0 {
		if !r.skip() {
			return false
		}
	}
	if err := r.f.Validate(); err != nil {
		r.err = err
		return false
	}
	for {
		data := r.buf[r.start:r.end]
		if r.clean > 0 && r.stillPartial(data) {
			r.fill()
			continue
		}
		adv, frame, err := r.f.Split(data, r.eof, r.maxFrame)
		if err != nil {
			if r.skipLarge && errors.Is(err, ErrTooLarge) && r.startSkip(data) {
				r.skipped = err
				r.n++
				return true
			}
			r.err = err
			return false
		}
		if adv > 0 {
			r.start += adv
			r.frame = frame
			r.n++
			r.clean = 0
			return true
		}
		if r.f.kind == kindLines || r.f.kind == kindZero {
			r.clean = len(data)
		}
		if r.eof {
			r.err = io.EOF
			return false
		}
		if r.readErr != nil {
			// The complete frames read before the error were returned; a
			// partial one is dropped, the stream did not end there.
			r.err = r.readErr
			return false
		}
		r.fill()
	}
}

// startSkip starts skipping the oversize frame at the start of data; it
// returns false if it cannot be skipped.
func (r *Reader) startSkip(data []byte) bool {
	r.clean = 0
	if r.f.kind == kindLenPfx {
		size := binary.LittleEndian.Uint64(data)
		if size >= 1<<62 {
			return false
		}
		r.skipBytes = abi.LenPfxHeader + int(size)
		return true
	}
	r.skipping = true
	return true
}

// skip drops the next piece of a frame being skipped; it returns false
// when the stream ended or failed first (r.err says which).
func (r *Reader) skip() bool {
	data := r.buf[r.start:r.end]
	if r.skipBytes > 0 {
		n := min(len(data), r.skipBytes)
		r.start += n
		r.skipBytes -= n
	} else if i := bytes.IndexByte(data, r.f.terminator()); i >= 0 {
		r.start += i + 1
		r.skipping = false
	} else {
		r.start = r.end
	}
	if !r.skipping && r.skipBytes == 0 {
		return true
	}
	switch {
	case r.eof:
		// The stream ends inside the skipped frame: it was reported as
		// skipped, and is not reported again as cut short.
		r.skipping, r.skipBytes = false, 0
		return true
	case r.readErr != nil:
		r.err = r.readErr
		return false
	}
	r.fill()
	return true
}

// stillPartial reports whether data, a lines or zero frame that Split found
// incomplete when it was r.clean bytes long, is still incomplete after a
// read, without scanning the clean bytes again. When it is not sure (a
// terminator came, the limit is passed, the stream ended or failed) it
// returns false and Split decides.
func (r *Reader) stillPartial(data []byte) bool {
	if r.eof || r.readErr != nil || (r.maxFrame > 0 && len(data) > r.maxFrame) {
		return false
	}
	if bytes.IndexByte(data[r.clean:], r.f.terminator()) >= 0 {
		return false
	}
	r.clean = len(data)
	return true
}

// fill reads more data, after moving the unconsumed bytes to the front of
// the buffer or growing it. A read error is kept in readErr, so that Scan
// first returns the complete frames that came with or before it, as the
// io.Reader contract asks.
func (r *Reader) fill() {
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		size := max(2*len(r.buf), initialBuffer)
		// Any frame the limit admits, with its header or terminator, fits
		// in maxFrame+9 bytes, so the buffer need not grow past that (and a
		// 1 GiB length header does not make it try). The bound is computed
		// only when it does not overflow (SetMaxFrame(math.MaxInt)), and
		// applied only when it still grows the buffer.
		if r.maxFrame > 0 && r.maxFrame <= maxInt-abi.LenPfxHeader-1 {
			if limit := r.maxFrame + abi.LenPfxHeader + 1; size > limit && limit > len(r.buf) {
				size = limit
			}
		}
		buf := make([]byte, size)
		copy(buf, r.buf[:r.end])
		r.buf = buf
	}
	for empty := 0; ; empty++ {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.eof = true
			} else {
				r.readErr = err
			}
			return
		}
		if n > 0 {
			return
		}
		if empty == 100 {
			r.readErr = io.ErrNoProgress
			return
		}
	}
}

// Bytes returns the payload of the frame found by the last successful Scan.
// It points into the Reader's buffer and is valid until the next Scan.
func (r *Reader) Bytes() []byte { return r.frame }

// Count returns the number of frames returned so far.
func (r *Reader) Count() int { return r.n }

// Err returns the first error other than io.EOF met by Scan.
func (r *Reader) Err() error {
	if r.err == io.EOF {
		return nil
	}
	return r.err
}
