package conformance

import (
	"bytes"
	"io"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

// TestFlushChecker checks the checker itself with native guests: the Go
// SDK passes, a guest that holds its replies until EOF is caught.
func TestFlushChecker(t *testing.T) {
	payloads := [][]byte{[]byte("a"), {}, []byte("bc"), bytes.Repeat([]byte("d"), 70000)}
	want, ends := encode(t, frames.LenPfx, payloads)
	echo := func(req []byte, w *guest.Replies) error { return w.Reply(req) }

	var out bytes.Buffer
	c := &flushChecker{data: want, ends: ends, want: want, wantEnds: ends, out: &out}
	if err := guest.Run(c, &out, guest.Options{Requests: frames.LenPfx}, echo); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) || c.violation != "" {
		t.Fatalf("the Go SDK: %d bytes, want %d; violation %q", out.Len(), len(want), c.violation)
	}

	out.Reset()
	c = &flushChecker{data: want, ends: ends, want: want, wantEnds: ends, out: &out}
	all, err := io.ReadAll(c) // a hoarder: reads everything, then replies
	if err != nil {
		t.Fatal(err)
	}
	out.Write(all)
	if c.violation == "" {
		t.Fatal("a guest that replies only at EOF was not caught")
	}
	t.Log(c.violation)
}
