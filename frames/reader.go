package frames

import (
	"bytes"
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
}

// NewReader returns a Reader of frames in framing f from r, with the
// maximum frame size [abi.DefaultMaxFrame].
func NewReader(r io.Reader, f Framing) *Reader {
	return &Reader{r: r, f: f, maxFrame: abi.DefaultMaxFrame}
}

// SetMaxFrame sets the largest payload Scan accepts; n ≤ 0 means no limit
// beyond memory. Call it before the first Scan.
func (r *Reader) SetMaxFrame(n int) { r.maxFrame = n }

// Scan advances to the next frame, which is then available through
// [Reader.Bytes]. It returns false at the end of the stream or on an error;
// [Reader.Err] tells which.
func (r *Reader) Scan() bool {
	r.frame = nil
	if r.err != nil {
		return false
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
