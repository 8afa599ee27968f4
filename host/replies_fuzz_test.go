//go:build linux

package host

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/frames"
)

// FuzzReplies feeds arbitrary kid output through the parent's reply path
// (the pipe read, the cut, the hand-over) in every framing: it must never
// panic, never yield a reply larger than MaxFrame, never hold more than
// MaxFrame plus a read's worth of buffer, and the replies it yields,
// framed again, must be the stream's prefix that it accepted.
func FuzzReplies(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), uint8(0), uint8(3))
	f.Add([]byte("a\x00b\x00"), uint8(1), uint8(1))
	f.Add([]byte("\x03\x00\x00\x00\x00\x00\x00\x00abc\xff\xff\xff\xff\x00\x00\x00\x00"), uint8(2), uint8(5))
	f.Add([]byte("\x00\x00\x00\x40\x00\x00\x00\x00"), uint8(2), uint8(0))
	f.Add([]byte("abcdefg"), uint8(3), uint8(2))
	f.Fuzz(func(t *testing.T, out []byte, which, chunk uint8) {
		framing := []frames.Framing{frames.Lines, frames.Zero, frames.LenPfx, frames.Fixed(3)}[which%4]
		const maxFrame = 16
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			t.Skip(err)
		}
		defer unix.Close(p[1])
		k := &kid{kidProc: kidProc{slot: 1, proc: &process{stdout: p[0]}, exited: true}, in: make([]byte, 8)} // exited: kill sends no signal
		var got []byte
		d := &dispatch{cfg: Config{Framing: framing, ReplyFraming: &framing, MaxFrame: maxFrame}, p: &Pool{}}
		d.yield = func(r Reply, err error) bool {
			if len(r.Data) > maxFrame {
				t.Fatalf("a %d-byte reply, the limit is %d", len(r.Data), maxFrame)
			}
			got, _ = framing.Append(got, r.Data)
			return true
		}
		step := int(chunk%16) + 1
		for rest := out; !k.outEOF; {
			if len(rest) > 0 {
				n := min(step, len(rest))
				unix.Write(p[1], rest[:n])
				rest = rest[n:]
			} else if p[1] >= 0 {
				unix.Close(p[1])
				p[1] = -1
			}
			k.readReplies(maxFrame, framing.Overhead())
			d.cutReplies(k)
			if len(k.in) > 2*(maxFrame+framing.Overhead()+1)+8 {
				t.Fatalf("the reply buffer grew to %d bytes", len(k.in))
			}
		}
		if k.fault != nil && !errors.Is(k.fault, ErrProtocol) {
			t.Fatalf("fault %v is not a protocol error", k.fault)
		}
		if k.fault == nil && !bytes.Equal(got, out) && !(framing.Size() == 0 && framing.Overhead() == 1 && bytes.Equal(got[:len(got)-1], out)) {
			t.Fatalf("replies %q from output %q", got, out)
		}
		if !bytes.HasPrefix(out, got) && !bytes.HasPrefix(append(out, got[len(got)-1]), got) {
			t.Fatalf("replies %q are not a prefix of output %q", got, out)
		}
	})
}
