package kidside

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Spec is what a parent tells a kid, as the JSON value of abi.KidEnv.
type Spec struct {
	Version     int      `json:"version"`
	Parent      int      `json:"parent"` // the parent's pid
	Kid         int      `json:"kid"`
	Module      string   `json:"module"` // path of the .wasm file
	CacheDir    string   `json:"cacheDir"`
	MemoryPages uint32   `json:"memoryPages,omitempty"`
	Args        []string `json:"args"` // argv, program name included
	Env         []string `json:"env,omitempty"`
	Dirs        []Dir    `json:"dirs,omitempty"`
	Framing     string   `json:"framing"` // of requests
	// ReplyFraming is, in batch mode, the framing of the replies, which
	// the kid counts for the parent (ResultHeader.Replies).
	ReplyFraming string `json:"replyFraming,omitempty"`
	Instance     string `json:"instance"` // Session, Batch or Once
	// OneAtATime: in session mode, hand the guest one frame per read and
	// report each, so that the parent can time every request.
	OneAtATime bool `json:"oneAtATime,omitempty"`
	// OutputLimit bounds, in batch mode, the stdout one instance may write
	// for one batch (0: no bound but memory).
	OutputLimit int64 `json:"outputLimit,omitempty"`

	// ModuleSHA256 and ModuleSize name the module by its content, for a
	// kid on another machine: it keeps modules in a cache by their hash.
	ModuleSHA256 string `json:"moduleSHA256,omitempty"`
	ModuleSize   int64  `json:"moduleSize,omitempty"`
	// Remote, when set, makes this process a bridge: it runs Remote, a
	// command whose stdin, stdout and stderr reach "wasmpool kid" on
	// another machine, and speaks the wire (see wire.go) with it, so that
	// the parent sees a kid like a local one.
	Remote []string `json:"remote,omitempty"`
	Where  string   `json:"where,omitempty"` // names Remote in messages
	// Muxed: send replies and reports as messages on RepliesFD, in the
	// order they are written, as a kid under "wasmpool kid" does.
	Muxed bool `json:"muxed,omitempty"`
}

// Dir is a directory granted to the guest.
type Dir struct {
	Host     string // an absolute host path
	Guest    string // where the guest sees it
	ReadOnly bool
}

// Instance modes (Spec.Instance).
const (
	Session = "session"
	Batch   = "batch"
	Once    = "once"
)

// The descriptors of a kid process. Replies have a descriptor of their own,
// not the process's stdout: anything else in the process that prints (a
// package's init, say, before kid mode starts) writes to fd 1, which the
// parent points at the kid's stderr pipe.
const (
	RequestsFD = 0 // requests, or batches; the parent writes
	ReportsFD  = 3 // progress reports; the parent reads
	RepliesFD  = 4 // replies, or batch results; the parent reads
	// ReadsFD is, in batch mode, a shared page (a memfd) where the kid
	// keeps, with no system call, how far the running instance has read
	// its batch (see Reads): the parent reads it when it had to kill the
	// kid, so that a timed-out batch is split where the guest was.
	ReadsFD = 5
	// ControlFD is, in batch mode on this machine, a unix socket on which
	// the parent passes files (SCM_RIGHTS): the regular file a run's input
	// comes from, so that the kid reads its batches from the file itself
	// (see BatchHeader.Source), and memory files for batches' outputs (see
	// OutputInMemory). Each message is ControlMessageSize bytes, a uint64
	// kind and a uint64 value, with one descriptor.
	ControlFD = 6
)

// The kinds of ControlFD's messages. The parent sends them in the order
// the kid takes them: a batch's input file, if it is a new one, then its
// memory file, then its header.
const (
	ControlMessageSize = 16
	// ControlInputFile: the run's input file; the value is its generation
	// (BatchHeader.Source).
	ControlInputFile = 1
	// ControlOutputMemory: the memory file for the output of the batch
	// whose id is the value, sent with OutputInMemory.
	ControlOutputMemory = 2
)

// Reads is the layout of the ReadsFD page: three uint64 words, stored
// atomically, in the kid's byte order: the id of the batch running, the
// bytes of it read so far, and where the last read began.
const (
	ReadsID = iota
	ReadsConsumed
	ReadsLastStart
	ReadsPage = 4096
)

// A progress report of session mode, sent on ReportsFD: three
// little-endian uint64 counts, "done" (request frames the guest asked for
// more input after, so they are handled and their replies written),
// "delivered" (frames handed to the guest, maybe not handled, with
// FinalReport set in the last report of the kid) and "read" (bytes read
// from the request pipe). A report goes before every read of the pipe, and
// after every frame handed over when frames are handed one at a time, so
// the parent knows which request the guest holds.
const (
	ReportSize  = 24
	FinalReport = 1 << 63
)

// Batch mode's messages. The parent sends a batch as a BatchHeader (the
// batch's id and length) followed by its bytes, whole frames only, or,
// when the kid has the run's input file, as a header alone that says where
// in the file the batch is. The
// kid reports each batch's id on ReportsFD (8 bytes) as it starts the
// instance for it, and sends its result on RepliesFD: a ResultHeader,
// then Stdout bytes of output, then Stderr bytes of the instance's stderr.
// Asked to (OutputInMemory), it may instead write the output into the
// memory file (a memfd) the parent passed for the batch, and say so in
// the header.
const (
	BatchHeaderSize  = 40
	StartReportSize  = 8
	ResultHeaderSize = 48
)

// BatchHeader precedes a batch's bytes, or stands for them.
type BatchHeader struct {
	ID     uint64
	Length uint64
	// Source is 0 when the batch's bytes follow the header; otherwise the
	// generation of the file passed on ControlFD that holds them, at
	// Offset.
	Source uint64
	Offset uint64
	Flags  uint64
}

// Batch flags.
const (
	// OutputInMemory: the parent passed a memory file on ControlFD for
	// the batch's output (ControlOutputMemory), so that it can have the
	// kernel copy the output into its output file without reading it
	// through a pipe. The kid takes the file whether or not it uses it.
	OutputInMemory = 1 << iota
)

func (h BatchHeader) Append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, h.ID)
	b = binary.LittleEndian.AppendUint64(b, h.Length)
	b = binary.LittleEndian.AppendUint64(b, h.Source)
	b = binary.LittleEndian.AppendUint64(b, h.Offset)
	return binary.LittleEndian.AppendUint64(b, h.Flags)
}

func parseBatchHeader(b []byte) BatchHeader {
	return BatchHeader{ID: binary.LittleEndian.Uint64(b), Length: binary.LittleEndian.Uint64(b[8:]),
		Source: binary.LittleEndian.Uint64(b[16:]), Offset: binary.LittleEndian.Uint64(b[24:]), Flags: binary.LittleEndian.Uint64(b[32:])}
}

// ResultHeader precedes a batch's output.
type ResultHeader struct {
	ID       uint64
	Consumed uint64 // bytes of the batch the guest read
	Status   int32  // the instance's exit status (abi.ExitTrap for a trap)
	Flags    uint32
	Stdout   uint64 // bytes of output that follow
	Stderr   uint64 // bytes of stderr after the output
	// Replies counts the whole reply frames of the output
	// (Spec.ReplyFraming); PartialReply says a frame cut short follows.
	Replies uint64
}

// Result flags.
const (
	// OutputOverflow: the instance wrote more than Spec.OutputLimit; its
	// output was cut there and the batch counts as failed.
	OutputOverflow = 1 << iota
	// InputUnreadable: the kid could not read the batch from the input
	// file (Stderr says why); no instance ran.
	InputUnreadable
	// PartialReply: the output's last reply frame is cut short (lenpfx,
	// fixed:N).
	PartialReply
	// Unterminated: the output does not end with the reply framing's
	// terminator (lines, zero): the input's last line lacked one, say.
	Unterminated
	// InMemoryFile: the Stdout bytes of output are not on RepliesFD but
	// in the batch's memory file, which holds them and nothing else.
	InMemoryFile
)

func (h ResultHeader) Append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, h.ID)
	b = binary.LittleEndian.AppendUint64(b, h.Consumed)
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Status))
	b = binary.LittleEndian.AppendUint32(b, h.Flags)
	b = binary.LittleEndian.AppendUint64(b, h.Stdout)
	b = binary.LittleEndian.AppendUint64(b, h.Stderr)
	return binary.LittleEndian.AppendUint64(b, h.Replies)
}

// ParseResultHeader decodes a ResultHeader from its ResultHeaderSize bytes.
func ParseResultHeader(b []byte) ResultHeader {
	return ResultHeader{
		ID:       binary.LittleEndian.Uint64(b),
		Consumed: binary.LittleEndian.Uint64(b[8:]),
		Status:   int32(binary.LittleEndian.Uint32(b[16:])),
		Flags:    binary.LittleEndian.Uint32(b[20:]),
		Stdout:   binary.LittleEndian.Uint64(b[24:]),
		Stderr:   binary.LittleEndian.Uint64(b[32:]),
		Replies:  binary.LittleEndian.Uint64(b[40:]),
	}
}

// readFull reads exactly len(b) bytes; io.EOF only if none came.
func readFull(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("the parent's stream ended inside a message: %w", err)
	}
	return err
}
