package frames_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
)

// The seed corpora are in testdata/fuzz/<FuzzName>; run a target with
//
//	go test -run='^$' -fuzz='^FuzzSplit$' -fuzztime=20s ./frames

// chunkReader returns data in reads whose sizes cycle through chunks: a
// size of 0 is one empty (0, nil) read, never two in a row. With eofWithData
// the last bytes come with io.EOF, as iotest.DataErrReader does.
type chunkReader struct {
	data        []byte
	chunks      []byte
	i           int
	wasEmpty    bool
	eofWithData bool
}

func newChunkReader(data, chunks []byte) *chunkReader {
	return &chunkReader{data: data, chunks: chunks, eofWithData: len(chunks) > 0 && chunks[0]&1 == 1}
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.chunks) > 0 {
		n = int(c.chunks[c.i%len(c.chunks)])
		c.i++
		if n == 0 && !c.wasEmpty {
			c.wasEmpty = true
			return 0, nil
		}
		n = max(n, 1)
	}
	c.wasEmpty = false
	n = copy(p[:min(n, len(p))], c.data)
	c.data = c.data[n:]
	if c.eofWithData && len(c.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// carve cuts data into payloads whose sizes cycle through sizes (255
// means the rest of data), one per size at least, so trailing sizes give
// empty payloads; with no sizes, data is one payload.
func carve(data, sizes []byte) [][]byte {
	if len(sizes) == 0 {
		return [][]byte{data}
	}
	var out [][]byte
	for i := 0; len(data) > 0 || i < len(sizes); i++ {
		n := int(sizes[i%len(sizes)])
		if n == 255 || n > len(data) || i >= 1<<12 {
			n = len(data)
		}
		out = append(out, data[:n:n])
		data = data[n:]
	}
	return out
}

// roundTrip appends payloads in framing f, reads them back through a
// reader that cuts the stream by chunks, with the limit set to the largest
// payload, and checks that they come back equal.
func roundTrip(t *testing.T, f frames.Framing, payloads [][]byte, chunks []byte) {
	t.Helper()
	var enc []byte
	largest := 0
	for _, p := range payloads {
		var err error
		if enc, err = f.Append(enc, p); err != nil {
			t.Fatalf("Append(%q): %v", p, err)
		}
		largest = max(largest, len(p))
	}
	r := frames.NewReader(newChunkReader(enc, chunks), f)
	if largest > 0 {
		r.SetMaxFrame(largest) // every frame is at or under the limit
	}
	var got [][]byte
	for r.Scan() {
		got = append(got, bytes.Clone(r.Bytes()))
	}
	if err := r.Err(); err != nil {
		t.Fatalf("reading %d frames back: %v", len(payloads), err)
	}
	if len(got) != len(payloads) || r.Count() != len(payloads) {
		t.Fatalf("read %d frames (Count %d), wrote %d", len(got), r.Count(), len(payloads))
	}
	for i := range got {
		if !bytes.Equal(got[i], payloads[i]) {
			t.Fatalf("frame %d: read %q, wrote %q", i, got[i], payloads[i])
		}
	}
}

// fuzzDelimited is the round trip of lines or zero: a payload holding the
// terminator is refused by Append, then sent without it.
func fuzzDelimited(f *testing.F, fr frames.Framing, term byte) {
	f.Fuzz(func(t *testing.T, data, sizes, chunks []byte) {
		payloads := carve(data, sizes)
		for i, p := range payloads {
			if bytes.IndexByte(p, term) < 0 {
				continue
			}
			if out, err := fr.Append([]byte("x"), p); !errors.Is(err, frames.ErrTerminator) || string(out) != "x" {
				t.Fatalf("Append(%q) = %q, %v; want ErrTerminator", p, out, err)
			}
			payloads[i] = bytes.ReplaceAll(p, []byte{term}, nil)
		}
		// An empty last payload of a lines stream is written as a lone
		// terminator, which reads back as one empty frame: fine. An empty
		// stream (no payloads) reads back as no frame.
		roundTrip(t, fr, payloads, chunks)
	})
}

func FuzzRoundTripLines(f *testing.F) { fuzzDelimited(f, frames.Lines, '\n') }

func FuzzRoundTripZero(f *testing.F) { fuzzDelimited(f, frames.Zero, 0) }

func FuzzRoundTripLenPfx(f *testing.F) {
	f.Fuzz(func(t *testing.T, data, sizes, chunks []byte) {
		roundTrip(t, frames.LenPfx, carve(data, sizes), chunks)
	})
}

func FuzzRoundTripFixed(f *testing.F) {
	f.Fuzz(func(t *testing.T, size uint8, data, chunks []byte) {
		n := int(size) + 1
		fr := frames.Fixed(n)
		var payloads [][]byte
		for len(data) >= n {
			payloads = append(payloads, data[:n:n])
			data = data[n:]
		}
		if len(data) > 0 {
			if _, err := fr.Append(nil, data); !errors.Is(err, frames.ErrSize) {
				t.Fatalf("Append of %d bytes in %v: %v, want ErrSize", len(data), fr, err)
			}
		}
		roundTrip(t, fr, payloads, chunks)
	})
}

// splitAll cuts the whole of data at once with Split, as a host does with a
// buffer: the reference the Reader must agree with.
func splitAll(f frames.Framing, data []byte, maxFrame int) ([][]byte, error) {
	var out [][]byte
	for {
		adv, frame, err := f.Split(data, true, maxFrame)
		if err != nil || adv == 0 {
			return out, err
		}
		out = append(out, frame)
		data = data[adv:]
	}
}

// FuzzSplit feeds arbitrary bytes to a Reader in every framing. The reader
// must not panic, must not return a frame over the limit, must agree with
// Split over the whole input, and the frames it returns must re-encode to a
// prefix of the input (all of it when there is no error; for lines and zero
// a last frame without terminator re-encodes with one).
func FuzzSplit(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, maxFrame uint16, size uint8, chunks []byte) {
		limit := int(maxFrame % 1024) // 0: no limit
		for _, fr := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(int(size%32) + 1)} {
			r := frames.NewReader(newChunkReader(data, chunks), fr)
			r.SetMaxFrame(limit)
			var got [][]byte
			for r.Scan() {
				b := r.Bytes()
				if limit > 0 && len(b) > limit {
					t.Fatalf("%v: a %d-byte frame, the limit is %d", fr, len(b), limit)
				}
				if n := fr.Size(); n > 0 && len(b) != n {
					t.Fatalf("%v: a %d-byte frame", fr, len(b))
				}
				got = append(got, bytes.Clone(b))
			}
			err := r.Err()
			if err != nil && !errors.Is(err, frames.ErrTooLarge) && !errors.Is(err, frames.ErrTruncated) {
				t.Fatalf("%v: unexpected error %v", fr, err)
			}
			if r.Count() != len(got) {
				t.Fatalf("%v: Count() = %d after %d frames", fr, r.Count(), len(got))
			}

			want, wantErr := splitAll(fr, data, limit)
			if len(got) != len(want) || (err == nil) != (wantErr == nil) ||
				(err != nil && errors.Is(err, frames.ErrTooLarge) != errors.Is(wantErr, frames.ErrTooLarge)) {
				t.Fatalf("%v: Reader gave %d frames, %v; Split over the whole input %d frames, %v", fr, len(got), err, len(want), wantErr)
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("%v: frame %d: Reader %q, Split %q", fr, i, got[i], want[i])
				}
			}

			var enc []byte
			for _, p := range got {
				if enc, err = fr.Append(enc, p); err != nil {
					t.Fatalf("%v: re-encoding frame %q: %v", fr, p, err)
				}
			}
			switch {
			case bytes.HasPrefix(data, enc):
				if r.Err() == nil && len(enc) != len(data) {
					t.Fatalf("%v: no error, but the frames cover %d of %d bytes", fr, len(enc), len(data))
				}
			case fr.Overhead() == 1 && len(enc) == len(data)+1 && bytes.HasPrefix(enc, data) && r.Err() == nil:
				// The last frame had no terminator.
			default:
				t.Fatalf("%v: frames re-encode to %q, not a prefix of the input %q", fr, enc, data)
			}
		}
	})
}
