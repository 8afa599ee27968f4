//go:build linux

package kidside

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/wasmpool/wasmpool/frames"
)

// feed is the guest's stdin inside a kid. It reads the request pipe into a
// buffer of its own and hands the guest whole frames, so that it always
// knows which requests the guest has finished: when a guest asks for more
// input, it has handled all it was given (the flush-before-read rule). It
// reports that progress on the ack pipe before every blocking read and at
// exit. Handing over one frame per read, it reports each: the parent then
// knows which request the guest holds, and times it.
type feed struct {
	in  io.Reader
	ack io.Writer
	f   frames.Framing

	buf        []byte
	start, end int
	eof        bool
	partial    int  // bytes of a frame larger than the guest's buffer still to hand over
	oneAtATime bool // hand over one frame per read, so each is timed alone

	mu        sync.Mutex
	done      uint64
	delivered uint64
	read      uint64    // bytes read from the request pipe
	sent      [3]uint64 // the counts last reported
}

func newFeed(in io.Reader, ack io.Writer, f frames.Framing, oneAtATime bool) *feed {
	// sent starts impossible, so the first read reports: the parent learns
	// that the guest is up.
	return &feed{in: in, ack: ack, f: f, buf: make([]byte, 64<<10), oneAtATime: oneAtATime, sent: [3]uint64{^uint64(0), 0, 0}}
}

// Read is called by the guest (through wazero's fd_read) for more requests.
func (fd *feed) Read(p []byte) (int, error) {
	fd.mu.Lock()
	if fd.partial == 0 {
		fd.done = fd.delivered
	}
	fd.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	for fd.start == fd.end || (fd.partial == 0 && !fd.complete()) {
		if fd.eof {
			if fd.start == fd.end {
				fd.sendAck()
				return 0, io.EOF
			}
			break // a final unterminated or truncated frame: the guest judges it
		}
		fd.sendAck() // before blocking: the parent learns what is done
		if err := fd.fill(); err != nil {
			return 0, err
		}
	}
	n := fd.handOver(p)
	if fd.oneAtATime {
		fd.sendAck() // before the guest sees it: the parent times this request from now
	}
	return n, nil
}

// complete reports whether the buffer starts with a whole frame.
func (fd *feed) complete() bool {
	adv, _, err := fd.f.Split(fd.buf[fd.start:fd.end], false, 0)
	return adv > 0 || err != nil
}

// handOver copies whole frames (or the next piece of one too large for p)
// into p and counts them.
func (fd *feed) handOver(p []byte) int {
	n := 0
	if fd.partial > 0 {
		n = copy(p, fd.buf[fd.start:min(fd.end, fd.start+fd.partial)])
		fd.start += n
		fd.partial -= n
		if fd.partial == 0 {
			fd.count(1)
		}
		return n
	}
	handed := uint64(0)
	if term, ok := fd.f.Terminator(); ok && !fd.oneAtATime {
		// Lines and zero frames: hand over every whole frame that fits at
		// once, instead of cutting them one by one.
		region := fd.buf[fd.start:min(fd.end, fd.start+len(p))]
		if last := bytes.LastIndexByte(region, term); last >= 0 {
			n = copy(p, region[:last+1])
			fd.start += n
			handed = uint64(bytes.Count(p[:n], []byte{term}))
		}
	}
	for fd.start < fd.end {
		adv, _, err := fd.f.Split(fd.buf[fd.start:fd.end], fd.eof, 0)
		if err != nil {
			adv = fd.end - fd.start // a truncated last frame: pass it on, the guest judges it
		} else if adv == 0 {
			break // the rest of the next frame is still in the pipe
		}
		if adv > len(p)-n {
			if n == 0 { // a frame larger than the guest's buffer: hand it over in pieces
				n = copy(p, fd.buf[fd.start:fd.start+adv])
				fd.start += n
				fd.partial = adv - n
			}
			break
		}
		n += copy(p[n:], fd.buf[fd.start:fd.start+adv])
		fd.start += adv
		handed++
		if fd.oneAtATime {
			break
		}
	}
	fd.count(handed)
	return n
}

func (fd *feed) count(frames uint64) {
	fd.mu.Lock()
	fd.delivered += frames
	fd.mu.Unlock()
}

// fill reads more of the request pipe, growing the buffer for a large frame.
func (fd *feed) fill() error {
	if fd.start > 0 {
		fd.end = copy(fd.buf, fd.buf[fd.start:fd.end])
		fd.start = 0
	}
	if fd.end == len(fd.buf) {
		fd.buf = append(fd.buf, make([]byte, len(fd.buf))...)
	}
	n, err := fd.in.Read(fd.buf[fd.end:])
	fd.end += n
	fd.mu.Lock()
	fd.read += uint64(n)
	fd.mu.Unlock()
	if errors.Is(err, io.EOF) {
		fd.eof = true
		return nil
	}
	return err
}

// sendAck reports progress to the parent if there is news.
func (fd *feed) sendAck() {
	fd.mu.Lock()
	now := [3]uint64{fd.done, fd.delivered, fd.read}
	news := now != fd.sent
	fd.sent = now
	fd.mu.Unlock()
	if news {
		writeAck(fd.ack, now[0], now[1], now[2])
	}
}

// finish sends the final counts: at exit, the guest finished with the
// requests it asked past, and may have been working on the rest.
func (fd *feed) finish() {
	fd.mu.Lock()
	done, delivered, read := fd.done, fd.delivered, fd.read
	fd.mu.Unlock()
	writeAck(fd.ack, done, delivered|FinalReport, read)
}

func writeAck(w io.Writer, done, delivered, read uint64) {
	var b [ReportSize]byte
	binary.LittleEndian.PutUint64(b[:8], done)
	binary.LittleEndian.PutUint64(b[8:], delivered)
	binary.LittleEndian.PutUint64(b[16:], read)
	w.Write(b[:])
}
