package wasmbin

import (
	"bytes"
	"testing"
)

func TestLEB(t *testing.T) {
	for v, want := range map[uint32]string{
		0:         "\x00",
		0x7f:      "\x7f",
		0x80:      "\x80\x01",
		624485:    "\xe5\x8e\x26", // the example of the LEB128 article
		1<<32 - 1: "\xff\xff\xff\xff\x0f",
	} {
		if got := LEB(v); string(got) != want {
			t.Errorf("LEB(%d) = % x, want % x", v, got, want)
		}
	}
}

func TestModule(t *testing.T) {
	got := Module(Section(0, Name("x")...), Section(1, bytes.Repeat([]byte{0}, 200)...))
	want := append([]byte("\x00asm\x01\x00\x00\x00\x00\x02\x01x\x01\xc8\x01"), make([]byte, 200)...)
	if !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
}
