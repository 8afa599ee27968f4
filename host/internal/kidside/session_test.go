//go:build linux

package kidside

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/wasmpool/wasmpool/frames"
)

// TestFeedHandsOverEveryFrame reads through a feed as a guest would and
// checks that every frame arrives whole and is counted.
func TestFeedHandsOverEveryFrame(t *testing.T) {
	for _, f := range []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(3)} {
		for _, one := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(1, 2))
			var stream []byte
			var want [][]byte
			for i := range 5000 {
				n := rng.IntN(300)
				if i%500 == 0 {
					n = 200000 // larger than any buffer
				}
				p := bytes.Repeat([]byte{'a' + byte(i%26)}, n)
				if f == frames.Fixed(3) {
					p = p[:0:0]
					p = append(p, 'x', 'y', byte(i))
				}
				stream, _ = f.Append(stream, p)
				want = append(want, p)
			}
			var acks bytes.Buffer
			fd := newFeed(iotest.HalfReader(bytes.NewReader(stream)), &acks, f, one)
			r := frames.NewReader(fd, f)
			got := 0
			for r.Scan() {
				if !bytes.Equal(r.Bytes(), want[got]) {
					t.Fatalf("%s one=%v: frame %d differs (%d bytes, want %d)", f, one, got, len(r.Bytes()), len(want[got]))
				}
				got++
			}
			if r.Err() != nil || got != len(want) {
				t.Fatalf("%s one=%v: %v after %d frames of %d", f, one, r.Err(), got, len(want))
			}
			fd.finish()
			if acks.Len()%ReportSize != 0 || acks.Len() == 0 {
				t.Fatalf("acks: %d bytes", acks.Len())
			}
			last := acks.Bytes()[acks.Len()-ReportSize:]
			_ = last
			_ = io.EOF
		}
	}
}

// TestFeedKeepsFramesWhole reads with guest buffers smaller than the feed's
// data, so a frame's head is buffered while its tail is still in the pipe.
func TestFeedKeepsFramesWhole(t *testing.T) {
	var stream []byte
	for i := range 2000 {
		stream, _ = frames.LenPfx.Append(stream, bytes.Repeat([]byte{byte(i)}, i%300))
	}
	fd := newFeed(&chunks{data: stream, size: 700}, io.Discard, frames.LenPfx, false)
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := fd.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, stream) || fd.delivered != 2000 {
		t.Fatalf("got %d bytes of %d, %d frames counted", len(got), len(stream), fd.delivered)
	}
}

// chunks reads its data size bytes at a time, as a pipe written in pieces.
type chunks struct {
	data []byte
	size int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.data)
	c.data = c.data[n:]
	return n, nil
}
