package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
)

// framingCase is one framing under test and how many frames to send.
type framingCase struct {
	name   string
	frames int
}

var framingCases = []framingCase{
	{"lines", 300},
	{"zero", 300},
	{"lenpfx", 300},
	{"fixed:1", 300},
	{"fixed:13", 300},
	{"fixed:65536", 40},
}

// genFrames returns n random payloads that framing f can carry: empty
// where f allows it, 1 byte, 64 KiB, and random lengths, with all byte
// values but a lines or zero terminator (so NUL and '\n' in lenpfx and
// fixed frames).
func genFrames(rng *rand.Rand, f frames.Framing, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		var size int
		switch {
		case f.Size() > 0:
			size = f.Size()
		case i == 0 || rng.IntN(10) == 0:
			size = 0
		case i == 1 || rng.IntN(10) == 0:
			size = 1
		case i == 2 || rng.IntN(40) == 0:
			size = 64 << 10
		default:
			size = rng.IntN(300)
		}
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(rng.UintN(256))
			if j%17 == 0 {
				p[j] = "\x00\n"[rng.IntN(2)] // plenty of both
			}
		}
		if f == frames.Lines {
			p = bytes.ReplaceAll(p, []byte("\n"), []byte("x"))
		}
		if f == frames.Zero {
			p = bytes.ReplaceAll(p, []byte("\x00"), []byte("y"))
		}
		out[i] = p
	}
	return out
}

// encode frames payloads with f, returning the stream and the end of each
// frame in it.
func encode(t testing.TB, f frames.Framing, payloads [][]byte) ([]byte, []int) {
	t.Helper()
	var buf []byte
	ends := make([]int, len(payloads))
	for i, p := range payloads {
		var err error
		if buf, err = f.Append(buf, p); err != nil {
			t.Fatal(err)
		}
		ends[i] = len(buf)
	}
	return buf, ends
}

// deliveries are the ways requests reach the guest's reads.
var deliveries = []struct {
	name string
	next func(rng *rand.Rand) func(int) int
}{
	{"framewise", nil},
	{"chunks", func(rng *rand.Rand) func(int) int {
		return func(max int) int {
			switch rng.IntN(4) {
			case 0:
				return 1 + rng.IntN(16)
			case 1:
				return 1 + rng.IntN(4096)
			}
			return max
		}
	}},
}

// TestEcho checks byte-exact round trips through every language's echo
// guest in every framing, and that replies are flushed before each read.
func TestEcho(t *testing.T) {
	for _, l := range langs {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			mod := compiledGuest(t, l.name+"/echo")
			for ci, fc := range framingCases {
				f, err := frames.Parse(fc.name)
				if err != nil {
					t.Fatal(err)
				}
				for di, d := range deliveries {
					for _, unterminated := range []bool{false, true} {
						if unterminated && f.Overhead() != 1 {
							continue // only lines and zero have an unterminated last frame
						}
						name := fc.name + "/" + d.name
						if unterminated {
							name += "/unterminated"
						}
						t.Run(name, func(t *testing.T) {
							rng := rand.New(rand.NewPCG(uint64(ci), uint64(di)))
							payloads := genFrames(rng, f, fc.frames)
							if unterminated && len(payloads[len(payloads)-1]) == 0 {
								payloads[len(payloads)-1] = []byte("last")
							}
							want, wantEnds := encode(t, f, payloads)
							data, ends := want, wantEnds
							if unterminated {
								data = want[:len(want)-1]
								ends = append(ends[:len(ends)-1:len(ends)-1], len(data)+1)
							}
							var out bytes.Buffer
							in := &flushChecker{data: data, ends: ends, want: want, wantEnds: wantEnds, out: &out}
							if d.next != nil {
								in.next = d.next(rng)
							}
							r := run(mod, []string{fc.name}, in, &out)
							if r.code != 0 || r.err != nil {
								t.Fatalf("%v", r)
							}
							if !bytes.Equal(r.stdout, want) {
								t.Fatalf("replies differ from requests: %s", firstDiff(r.stdout, want))
							}
							if in.violation != "" {
								t.Error(in.violation)
							}
						})
					}
				}
			}
			t.Run("empty-input", func(t *testing.T) {
				for _, fc := range framingCases {
					r := run(mod, []string{fc.name}, bytes.NewReader(nil), nil)
					if r.code != 0 || len(r.stdout) != 0 {
						t.Errorf("%s: %v, stdout %q", fc.name, r, r.stdout)
					}
				}
			})
		})
	}
}

// firstDiff describes where got and want first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("%d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}

func lenpfx(payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

// TestFailures checks the failure paths: each ends with exit status 1, a
// "guest: ..." message on stderr naming the request, and the replies to
// the requests before it on stdout.
func TestFailures(t *testing.T) {
	header := binary.LittleEndian.AppendUint64(nil, 64<<20+1)
	cases := []struct {
		name     string
		sdk      bool // needs reply framing and handler errors
		args     []string
		in       []byte
		stdout   []byte // nil: not checked (the WAT echo streams)
		stderr   []string
		exitCode int
	}{
		{name: "lenpfx-truncated-header", args: []string{"lenpfx"}, in: append(lenpfx("ok"), 3, 0, 0),
			stdout: lenpfx("ok"), stderr: []string{"request 2", "truncated"}, exitCode: 1},
		{name: "lenpfx-truncated-payload", args: []string{"lenpfx"}, in: append(lenpfx("ok"), lenpfx("0123456789")[:12]...),
			stderr: []string{"request 2", "truncated"}, exitCode: 1},
		{name: "fixed-truncated", args: []string{"fixed:4"}, in: []byte("abcdef"),
			stderr: []string{"request 2", "truncated"}, exitCode: 1},
		{name: "lenpfx-too-large", args: []string{"lenpfx"}, in: append(lenpfx("ok"), header...),
			stdout: lenpfx("ok"), stderr: []string{"request 2", "too large"}, exitCode: 1},
		{name: "fixed-too-large", args: []string{"fixed:67108865"}, in: []byte("abc"),
			stdout: []byte{}, stderr: []string{"request 1", "too large"}, exitCode: 1},
		{name: "bad-framing", args: []string{"fixed:0"}, in: []byte("abc\n"), stdout: []byte{}, exitCode: 1},
		{name: "bad-framing-name", args: []string{"words"}, in: []byte("abc\n"), stdout: []byte{}, exitCode: 1},
		{name: "handler-error", sdk: true, args: []string{"lines"}, in: []byte("a\nb\nwasmpool:fail\nc\n"),
			stdout: []byte("a\nb\n"), stderr: []string{"request 3: ", "asked to fail"}, exitCode: 1},
		{name: "reply-terminator-lines", sdk: true, args: []string{"lenpfx", "lines"}, in: lenpfx("ok", "x\ny"),
			stdout: []byte("ok\n"), stderr: []string{"request 2: ", "terminator"}, exitCode: 1},
		{name: "reply-terminator-late", sdk: true, args: []string{"lenpfx", "lines"}, in: lenpfx(strings.Repeat("x", 16), strings.Repeat("y", 40)+"\n"),
			stdout: []byte(strings.Repeat("x", 16) + "\n"), stderr: []string{"request 2: ", "terminator"}, exitCode: 1},
		{name: "reply-terminator-zero", sdk: true, args: []string{"lenpfx", "zero"}, in: lenpfx("x\x00y"),
			stdout: []byte{}, stderr: []string{"request 1: ", "terminator"}, exitCode: 1},
		{name: "reply-fixed-size", sdk: true, args: []string{"lenpfx", "fixed:4"}, in: lenpfx("abcd", "abc"),
			stdout: []byte("abcd"), stderr: []string{"request 2: ", "fixed"}, exitCode: 1},
		{name: "reply-framing", sdk: true, args: []string{"lines", "lenpfx"}, in: []byte("ab\n\nc\x00d"),
			stdout: lenpfx("ab", "", "c\x00d"), exitCode: 0},
		{name: "lines-crlf-and-nul", args: []string{"lines"}, in: []byte("a\r\n\x00\n\n"),
			stdout: []byte("a\r\n\x00\n\n"), exitCode: 0},
	}
	for _, l := range langs {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			mod := compiledGuest(t, l.name+"/echo")
			for _, c := range cases {
				if c.sdk && !l.sdk {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					r := run(mod, c.args, bytes.NewReader(c.in), nil)
					if r.code != c.exitCode {
						t.Fatalf("%v, want exit status %d", r, c.exitCode)
					}
					if c.stdout != nil && l.sdk && !bytes.Equal(r.stdout, c.stdout) {
						t.Errorf("stdout %q, want %q", r.stdout, c.stdout)
					}
					if c.exitCode != 0 && !strings.HasPrefix(string(r.stderr), "guest: ") {
						t.Errorf("stderr %q does not start with %q", r.stderr, "guest: ")
					}
					for _, s := range c.stderr {
						if !strings.Contains(string(r.stderr), s) {
							t.Errorf("stderr %q does not contain %q", r.stderr, s)
						}
					}
				})
			}
		})
	}
}

// TestLinelen checks that every language's linelen example replies like
// the Go one, byte for byte, and like a direct computation.
func TestLinelen(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var lines [][]byte
	lines = append(lines, nil, []byte("a"), []byte("\r"), []byte("\x00\x00"), []byte("héllo wörld"),
		bytes.Repeat([]byte("z"), 100<<10))
	for range 500 {
		p := make([]byte, rng.IntN(200))
		for j := range p {
			p[j] = byte(rng.UintN(256))
		}
		lines = append(lines, bytes.ReplaceAll(p, []byte("\n"), nil))
	}
	lines = append(lines, []byte("no newline at the end"))
	in, ends := encode(t, frames.Lines, lines)
	in = in[:len(in)-1]
	ends[len(ends)-1] = len(in) + 1
	var want []byte
	var wantEnds []int
	for _, l := range lines {
		want = append(strconv.AppendInt(want, int64(len(l)), 10), '\n')
		wantEnds = append(wantEnds, len(want))
	}
	for _, l := range langs {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			mod := compiledGuest(t, l.name+"/linelen")
			for _, framewise := range []bool{true, false} {
				var out bytes.Buffer
				c := &flushChecker{data: in, ends: ends, want: want, wantEnds: wantEnds, out: &out}
				if !framewise {
					c.next = func(max int) int { return max }
				}
				r := run(mod, nil, c, &out)
				if r.code != 0 || r.err != nil {
					t.Fatalf("%v", r)
				}
				if !bytes.Equal(r.stdout, want) {
					t.Fatalf("framewise=%v: %s", framewise, firstDiff(r.stdout, want))
				}
				if c.violation != "" {
					t.Errorf("framewise=%v: %s", framewise, c.violation)
				}
			}
		})
	}
}
