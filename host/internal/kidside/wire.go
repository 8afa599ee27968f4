package kidside

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/wasmpool/wasmpool/abi"
)

// The wire of a kid that has only stdin, stdout and stderr: one started
// over ssh or srun runs "wasmpool kid", which speaks it, and a local
// bridge process (a kid whose Spec has a Remote) speaks the parent's side.
//
// Each side first writes a greeting line, "wasmpool-kid <protocol>
// <release>\n", so that a version mismatch is told before anything else
// is read. Then messages follow, each a Kind byte, a little-endian uint32
// length and that many bytes.
//
// Parent to kid: MsgSpec (the Spec as JSON, Module naming the module by
// its SHA-256), MsgModule (chunks of the module, when the kid asked for
// it), then MsgInput (the bytes a local kid reads on RequestsFD) and a
// last MsgEnd. The kid tells the parent with MsgHello whether it needs
// the module, and MsgReady once it runs; then MsgReplies and MsgReports
// carry what a local kid writes on RepliesFD and ReportsFD, in the order
// it wrote them, and MsgReads what its reads page says. A kid's stderr is
// the transport's stderr; its exit status is the transport's.
//
// Each message ends in a newline, not counted in its length: Slurm's
// slurmstepd passes a task's output on by lines, and would hold back a
// message that ended without one.
const (
	MsgSpec    Kind = 'S'
	MsgModule  Kind = 'M'
	MsgInput   Kind = 'I'
	MsgEnd     Kind = 'E'
	MsgHello   Kind = 'H'
	MsgReady   Kind = 'Y'
	MsgReplies Kind = 'R'
	MsgReports Kind = 'P'
	MsgReads   Kind = 'D'
)

var newline = []byte{'\n'}

// Kind is the type of a wire message.
type Kind byte

// MaxMessage bounds one message; longer payloads are sent in pieces.
const MaxMessage = 1 << 20

const (
	messageHeader = 5
	greeting      = "wasmpool-kid"
)

// Greeting is the first line each side writes: this kid protocol's
// version (abi.Version) and this program's release.
func Greeting() string {
	return fmt.Sprintf("%s %d %s\n", greeting, abi.Version, Release())
}

// Release is this program's release: its main module's version, or
// "devel" for a build from a checkout.
func Release() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// ReadGreeting reads the other side's greeting and returns its protocol
// version and release. An error says what came instead.
func ReadGreeting(r *bufio.Reader) (protocol int, release string, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 && err == io.EOF {
			return 0, "", io.EOF
		}
		return 0, "", fmt.Errorf("reading the greeting: %q then %w", line, err)
	}
	f := strings.Fields(string(line))
	if len(f) != 3 || f[0] != greeting {
		return 0, "", fmt.Errorf("%q is not a wasmpool kid's greeting", strings.TrimSpace(string(line)))
	}
	protocol, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, "", fmt.Errorf("%q is not a wasmpool kid's greeting", strings.TrimSpace(string(line)))
	}
	return protocol, f[2], nil
}

// MessageWriter writes messages to one stream; it is safe for concurrent
// use, and a message's header and payload go out together.
type MessageWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func NewMessageWriter(w io.Writer) *MessageWriter { return &MessageWriter{w: w} }

// Send writes a message of kind k, in pieces of at most MaxMessage bytes
// (one piece for an empty payload).
func (m *MessageWriter) Send(k Kind, payload []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for first := true; first || len(payload) > 0; first = false {
		n := min(len(payload), MaxMessage)
		m.buf = append(m.buf[:0], byte(k), 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(m.buf[1:], uint32(n))
		piece := payload[:n]
		if n <= 4096 { // one write; a large piece is not worth copying
			m.buf, piece = append(append(m.buf, piece...), '\n'), nil
		}
		if _, err := m.w.Write(m.buf); err != nil {
			return err
		}
		if piece != nil {
			if _, err := m.w.Write(piece); err != nil {
				return err
			}
			if _, err := m.w.Write(newline); err != nil {
				return err
			}
		}
		payload = payload[n:]
	}
	return nil
}

// Writer returns an io.Writer whose writes are messages of kind k.
func (m *MessageWriter) Writer(k Kind) io.Writer { return kindWriter{m, k} }

type kindWriter struct {
	m *MessageWriter
	k Kind
}

func (w kindWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.m.Send(w.k, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadMessage reads the next message and returns its kind and payload,
// in buf if it is large enough. io.EOF only if the stream ended between
// messages.
func ReadMessage(r io.Reader, buf []byte) (Kind, []byte, error) {
	var h [messageHeader]byte
	if err := readFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(h[1:])
	if n > MaxMessage {
		return 0, nil, fmt.Errorf("a message of %d bytes, more than the %d allowed: the stream is corrupt", n, MaxMessage)
	}
	if cap(buf) < int(n)+1 {
		buf = make([]byte, n+1)
	}
	buf = buf[:n+1]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, fmt.Errorf("the stream ended inside a message: %w", io.ErrUnexpectedEOF)
	}
	if buf[n] != '\n' {
		return 0, nil, fmt.Errorf("a message of kind %q does not end in a newline: the stream is corrupt", h[0])
	}
	return Kind(h[0]), buf[:n], nil
}

// Hello is the kid's answer to a Spec.
type Hello struct {
	NeedModule bool   `json:"needModule,omitempty"`
	Error      string `json:"error,omitempty"` // the kid cannot run: why
}
