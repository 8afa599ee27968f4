package kidside

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/abi"
)

// TestWireRoundTrip: what a MessageWriter sends, ReadMessage reads back,
// kind by kind and byte for byte, large payloads in pieces.
func TestWireRoundTrip(t *testing.T) {
	var stream bytes.Buffer
	m := NewMessageWriter(&stream)
	big := bytes.Repeat([]byte("0123456789\n"), MaxMessage/5) // 2.2 pieces
	sent := []struct {
		k Kind
		p []byte
	}{{MsgSpec, []byte(`{"version":1}`)}, {MsgEnd, nil}, {MsgReplies, []byte("a\nb\n")}, {MsgModule, big}, {MsgReads, make([]byte, 24)}}
	for _, s := range sent {
		if err := m.Send(s.k, s.p); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sent {
		var got []byte
		for first := true; first || len(got) < len(s.p); first = false {
			k, p, err := ReadMessage(&stream, nil)
			if err != nil || k != s.k {
				t.Fatalf("read %q, %v; want a message of kind %q", k, err, s.k)
			}
			if len(p) > MaxMessage {
				t.Fatalf("a piece of %d bytes", len(p))
			}
			got = append(got, p...)
		}
		if !bytes.Equal(got, s.p) {
			t.Fatalf("kind %q: %d bytes back, want %d", s.k, len(got), len(s.p))
		}
	}
	if _, _, err := ReadMessage(&stream, nil); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestGreeting(t *testing.T) {
	for _, tc := range []struct {
		line, err string
		protocol  int
	}{
		{Greeting(), "", abi.Version},
		{"wasmpool-kid 99 v9\n", "", 99},
		{"hello kid\n", "not a wasmpool kid's greeting", 0},
		{"wasmpool-kid x v9\n", "not a wasmpool kid's greeting", 0},
		{"wasmpool-kid 1 v1", "reading the greeting", 0},
		{"", "EOF", 0},
	} {
		p, _, err := ReadGreeting(bufio.NewReader(strings.NewReader(tc.line)))
		if tc.err == "" && (err != nil || p != tc.protocol) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: protocol %d, %v; want %d, %q", tc.line, p, err, tc.protocol, tc.err)
		}
	}
}

// FuzzReadMessage: any bytes read as a stream of messages end in io.EOF
// or an error, never in a payload over MaxMessage, and what reads whole
// sends back the same.
func FuzzReadMessage(f *testing.F) {
	var seed bytes.Buffer
	m := NewMessageWriter(&seed)
	m.Send(MsgReplies, []byte("x\n"))
	m.Send(MsgEnd, nil)
	f.Add(seed.Bytes())
	f.Add([]byte{'R', 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{'R', 1, 0, 0, 0, 'a', 'b'})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var again bytes.Buffer
		w := NewMessageWriter(&again)
		read := 0
		for {
			k, p, err := ReadMessage(r, nil)
			if errors.Is(err, io.EOF) && read == len(data) {
				break
			}
			if err != nil {
				return // a corrupt or cut stream, said
			}
			if len(p) > MaxMessage {
				t.Fatalf("a payload of %d bytes", len(p))
			}
			w.Send(k, p)
			read = len(data) - r.Len()
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Fatalf("sent back %q, read %q", again.Bytes(), data)
		}
	})
}
