package guest

import (
	"bytes"
	"io"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
)

// After one large reply, the buffer returns to its normal size rather than
// holding the largest reply ever made for the rest of the guest's life.
func TestRepliesBufferShrinks(t *testing.T) {
	var got *Replies
	in := "small\nbig\nsmall\n"
	err := Run(bytes.NewReader([]byte(in)), io.Discard, Options{Requests: frames.Lines}, func(req []byte, w *Replies) error {
		got = w
		if string(req) == "big" {
			return w.Reply(bytes.Repeat([]byte("b"), 8<<20))
		}
		return w.Reply(req)
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := cap(got.buf); c > 4*flushAt {
		t.Fatalf("reply buffer capacity %d after a large reply, want ≤ %d", c, 4*flushAt)
	}
}
