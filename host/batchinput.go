//go:build linux

package host

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// recordInput cuts batches from the caller's requests (Run): each is
// framed into the batch as it is taken.
type recordInput struct {
	in  *inbox
	eof bool
}

func (ri *recordInput) cut(d *batchRun, size int) (*batch, bool) {
	b := &batch{first: d.index, data: d.inputBuffer(size), owned: true}
	for len(b.data) < size {
		payload, err, ok, eof := ri.in.next()
		if !ok {
			ri.eof = eof
			break
		}
		i := d.index
		d.index++
		if err == nil && len(payload) > d.cfg.MaxFrame {
			err = fmt.Errorf("%w: %d bytes, the limit is %d", frames.ErrTooLarge, len(payload), d.cfg.MaxFrame)
		}
		if err == nil {
			var framed []byte
			if framed, err = d.cfg.Framing.Append(b.data, payload); err == nil {
				b.data = framed
				b.count++
				continue
			}
		}
		// A record that cannot be framed fails alone; the batch ends
		// before it, so that its records stay contiguous.
		d.took(1)
		d.recordFailed(i, bytes.Clone(payload), err)
		if b.count > 0 || d.stopped {
			break
		}
		b.first = d.index
	}
	b.size = len(b.data)
	return b, b.count > 0
}

func (ri *recordInput) exhausted() bool { return ri.eof }
func (ri *recordInput) pending() int    { return -1 }
func (ri *recordInput) close()          { ri.in.close() }

// streamInput cuts batches from a byte stream (Filter): runs of whole
// frames, counted, not cut one by one. A frame over the limit is skipped
// as it streams by, and reported once.
type streamInput struct {
	src byteSource
	f   frames.Framing
	max int // Config.MaxFrame

	skipping   bool  // inside an oversize lines or zero frame
	forceSplit bool  // the next frame is over the limit: let Split report it
	skipBytes  int64 // bytes of an oversize lenpfx frame still to skip
	done       bool  // no record will come any more
}

func (si *streamInput) exhausted() bool { return si.done }
func (si *streamInput) pending() int    { return si.src.unread() }
func (si *streamInput) close()          { si.src.close() }

func (si *streamInput) cut(d *batchRun, size int) (b *batch, ok bool) {
	if fs, mapped := si.src.(*fileSource); mapped {
		// A mapped file cut short under the loop faults where its pages
		// were: that is the end of the input, with an error.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				if !fs.faultedOn(r) {
					panic(r)
				}
				si.readFailed(d, fs.cutShort())
				b, ok = nil, false
			}
		}()
	}
	for !si.done && !d.stopped {
		data, eof, readErr := si.src.avail()
		if si.skipping || si.skipBytes > 0 {
			if n, more := si.skip(data); n > 0 || !more {
				si.src.consume(n)
				continue
			}
			if !eof && readErr == nil {
				if si.src.want() {
					continue
				}
				return nil, false // the rest of the oversize frame is still to come
			}
			si.skipping, si.skipBytes = false, 0
		}
		if len(data) == 0 && (eof || readErr != nil) {
			si.readFailed(d, readErr)
			return nil, false
		}
		n, count := si.f.Whole(data, eof, size)
		if si.forceSplit {
			n, count, si.forceSplit = 0, 0, false
		}
		if count == 0 {
			// No whole frame within size: one larger than the batch, or an
			// incomplete one, or one that cannot be a frame.
			adv, _, err := si.f.Split(data, eof, si.max)
			switch {
			case err != nil:
				si.failed(d, data, err)
				continue
			case adv == 0 && readErr != nil:
				si.readFailed(d, readErr)
				return nil, false
			case adv == 0:
				if si.src.want() {
					continue
				}
				return nil, false
			}
			n, count = adv, 1
		} else if n > si.max {
			// Only a batch longer than the limit can hold a frame over it.
			if n, count = si.underLimit(data[:n], count); count == 0 {
				continue // the first frame is over the limit: Split says so next time
			}
		}
		b = &batch{first: d.index, count: count, size: n, data: data[:n:n]}
		if off := si.src.offset(); off >= 0 {
			b.inFile, b.off, b.data = true, off, nil
		}
		si.src.consume(n)
		d.index += count
		return b, true
	}
	return nil, false
}

// readFailed ends the input, after a read error if err is not nil.
func (si *streamInput) readFailed(d *batchRun, err error) {
	if err != nil {
		d.giveUp(fmt.Errorf("host: reading the input: %w", err))
	}
	si.done = true
}

// underLimit returns the prefix of data's count whole frames that ends
// before the first frame over the limit, and how many frames it holds.
func (si *streamInput) underLimit(data []byte, count int) (n, frames int) {
	for frames < count {
		adv, _, err := si.f.Split(data[n:], true, si.max)
		if err != nil || adv == 0 {
			break
		}
		n += adv
		frames++
	}
	if frames == 0 {
		// Cut nothing: the loop's next look hands the oversize frame to
		// Split, which reports it.
		si.forceSplit = true
	}
	return n, frames
}

// skip returns how much of data is the rest of an oversize frame, and
// whether more of it may follow.
func (si *streamInput) skip(data []byte) (n int, more bool) {
	if si.skipBytes > 0 {
		n = int(min(int64(len(data)), si.skipBytes))
		si.skipBytes -= int64(n)
		return n, si.skipBytes > 0
	}
	term, _ := si.f.Terminator()
	if i := bytes.IndexByte(data, term); i >= 0 {
		si.skipping = false
		return i + 1, false
	}
	return len(data), true
}

// failed reports the frame at the start of data, which Split refused: one
// over the limit (skipped as it streams by), or one cut short at EOF.
func (si *streamInput) failed(d *batchRun, data []byte, err error) {
	i := d.index
	d.index++
	d.took(1)
	if !errors.Is(err, frames.ErrTooLarge) {
		payload := data
		if si.f == frames.LenPfx {
			payload = data[min(len(data), abi.LenPfxHeader):]
		}
		si.src.consume(len(data))
		si.done = true
		d.recordFailed(i, bytes.Clone(payload), err)
		return
	}
	err = fmt.Errorf("%w; it is skipped", err)
	if _, ok := si.f.Terminator(); ok {
		si.skipping = true
	} else if size := leUint64(data); size > 1<<62 {
		// Not a length anything could have meant: the rest of the stream
		// cannot be cut into frames.
		err = fmt.Errorf("%w; the input after it cannot be framed and is not read", err)
		si.src.consume(len(data))
		si.done = true
	} else {
		si.skipBytes = int64(abi.LenPfxHeader) + int64(size)
	}
	d.recordFailed(i, nil, err)
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// byteSource is where streamInput's bytes come from: what is read and not
// taken is avail's data, taken from the front by consume.
type byteSource interface {
	// avail returns what is read and not taken yet.
	avail() (data []byte, eof bool, err error)
	// want says the loop needs more than avail returned to go on; it
	// reports whether more is there already (else the loop is woken).
	want() bool
	consume(n int)
	// unread reports how many bytes are still to be taken, as far as known.
	unread() int
	// offset is the input file's offset of avail's data, if the kids can
	// read the batches from the file themselves; -1 otherwise, and then
	// avail's data stays valid for good.
	offset() int64
	close()
}

// fileSource maps a regular file (Filter's src) window by window, in the
// loop's goroutine: the loop cuts batches from the window, to count their
// frames and find where they end, and sends the kids the batches' places
// in the file, which they read themselves. No batch points into the
// window, so it is unmapped as the loop moves on.
type fileSource struct {
	f      *os.File
	end    int64  // the file's size, as last seen
	win    []byte // the mapped window: bytes [off, off+len(win)) of the file
	off    int64
	taken  int
	from   int // taken when the window was mapped
	needed bool
	err    error
	window int // the window's size, unless a frame needs more
}

// mapWindow is the size of fileSource's window: large, for few mappings,
// and unmapped as the loop moves on, so that the file's pages are not all
// held in this process's resident set.
const mapWindow = 64 << 20

// newFileSource returns a source for f, read from its current offset on,
// or nil if f is not a regular file.
func newFileSource(f *os.File) *fileSource {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	return &fileSource{f: f, end: fi.Size(), off: off, window: mapWindow}
}

func (s *fileSource) avail() ([]byte, bool, error) {
	end := s.atEnd()
	if s.err == nil && !end && (s.needed || len(s.win)-s.taken < s.window/4) {
		s.remap()
		end = s.atEnd()
	}
	return s.win[s.taken:len(s.win):len(s.win)], end, s.err
}

// atEnd reports whether the window reaches the end of the file, looking
// again at its size there, for a file that grows as it is read.
func (s *fileSource) atEnd() bool {
	if s.off+int64(len(s.win)) < s.end {
		return false
	}
	if fi, err := s.f.Stat(); err == nil {
		s.end = fi.Size()
	}
	return s.off+int64(len(s.win)) >= s.end
}

// remap maps the window again from the first byte not taken, doubled in
// size for a frame that does not fit in it (nothing was taken from it).
func (s *fileSource) remap() {
	start := s.off + int64(s.taken)
	at := start &^ int64(os.Getpagesize()-1)
	size := int64(s.window)
	if s.needed && s.taken == s.from {
		size = max(size, 2*int64(len(s.win)))
	}
	size = min(size, s.end-at)
	s.unmap()
	s.needed = false
	win, err := unix.Mmap(int(s.f.Fd()), at, int(size), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		s.err, s.off, s.taken = err, start, 0
		return
	}
	s.win, s.off, s.taken = win, at, int(start-at)
	s.from = s.taken
}

// faultedOn reports whether r, recovered, is a fault on the window.
func (s *fileSource) faultedOn(r any) bool {
	fault, ok := r.(interface{ Addr() uintptr })
	if !ok || len(s.win) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(s.win)))
	return fault.Addr() >= base && fault.Addr()-base < uintptr(len(s.win))
}

// cutShort is the error of a window that faulted: the file is shorter
// than when it was mapped.
func (s *fileSource) cutShort() error {
	end := s.offset()
	if fi, err := s.f.Stat(); err == nil {
		end = fi.Size()
	}
	return kidside.CutShort(end)
}

func (s *fileSource) unmap() {
	if s.win != nil {
		unix.Munmap(s.win)
		s.win = nil
	}
}

func (s *fileSource) want() bool {
	if s.err != nil || s.atEnd() {
		return false
	}
	s.needed = true
	return true
}

func (s *fileSource) consume(n int) { s.taken += n }
func (s *fileSource) offset() int64 { return s.off + int64(s.taken) }
func (s *fileSource) unread() int   { return int(max(0, s.end-s.offset())) }

// close leaves the file's offset after what was taken, as a reader would.
func (s *fileSource) close() {
	s.f.Seek(s.offset(), io.SeekStart)
	s.unmap()
}

// byteInbox reads the caller's byte stream in a goroutine of its own, into
// a queue of chunks that batches then point into: the input is copied
// once, from the source into a chunk, and a chunk once handed out is never
// written over. The loop takes whole frames from the front chunk; the
// frame that runs over a chunk's end is completed in the front chunk's
// slack (see want), so nothing else is copied again.
type byteInbox struct {
	mu     sync.Mutex
	room   sync.Cond
	chunks []*inChunk // the loop takes from chunks[0], the reader fills the last
	queued int        // bytes read and not taken, in every chunk
	size   int        // of a new chunk
	f      frames.Framing
	eof    bool
	err    error
	needed bool // the loop waits for more to complete a frame
	closed bool
	asleep bool
	wake   int
}

// inChunk is one buffer of a byteInbox: buf[taken:filled] is read and not
// taken. The reader fills buf up to len(buf); beyond it, up to cap(buf),
// is the slack the loop completes a frame in once the reader has moved on.
type inChunk struct {
	buf           []byte
	taken, filled int
}

const (
	readChunk = 8 << 20  // the least size of a chunk (Pool.Filter)
	readAhead = 16 << 20 // the reader waits when this much is not taken
	// chunkSlack is the room after a chunk for the frame that runs over
	// its end; a longer one moves the chunk.
	chunkSlack = 64 << 10
)

// newByteInbox returns an inbox that reads src, a stream of f frames,
// into chunks of size bytes and writes a byte to wake when it has read
// more for a loop that found nothing to take.
func newByteInbox(src io.Reader, f frames.Framing, wake, size int) *byteInbox {
	in := &byteInbox{wake: wake, size: size, f: f}
	in.room.L = &in.mu
	go in.produce(src)
	return in
}

func (in *byteInbox) produce(src io.Reader) {
	for {
		in.mu.Lock()
		for !in.closed && in.queued >= max(readAhead, 2*in.size) && !in.needed {
			in.room.Wait()
		}
		if in.closed {
			in.mu.Unlock()
			return
		}
		last := in.last()
		if last == nil || last.filled == len(last.buf) {
			last = &inChunk{buf: make([]byte, in.size, in.size+chunkSlack)}
			in.chunks = append(in.chunks, last)
		}
		dst := last.buf[last.filled:]
		in.mu.Unlock()

		n, err := src.Read(dst)

		in.mu.Lock()
		last.filled += n
		in.queued += n
		if n > 0 {
			in.needed = false
		}
		if err != nil {
			if err == io.EOF {
				in.eof = true
			} else {
				in.err = err
			}
		}
		in.nudge()
		in.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (in *byteInbox) last() *inChunk {
	if len(in.chunks) == 0 {
		return nil
	}
	return in.chunks[len(in.chunks)-1]
}

// nudge wakes the loop if it sleeps; called with mu held.
func (in *byteInbox) nudge() {
	if in.asleep && !in.closed {
		in.asleep = false
		unix.Write(in.wake, []byte{1})
	}
}

// avail returns what is read and not taken in the front chunk; data stays
// valid for good. eof and err are the stream's once the front chunk is
// the last.
func (in *byteInbox) avail() (data []byte, eof bool, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.dropTaken()
	in.asleep = !in.eof && in.err == nil
	if len(in.chunks) == 0 {
		return nil, in.eof, in.err
	}
	front := in.chunks[0]
	data = front.buf[front.taken:front.filled:front.filled]
	if len(in.chunks) > 1 {
		return data, false, nil
	}
	return data, in.eof, in.err
}

// dropTaken drops the front chunks that have nothing left in them and
// that the reader has left, and reports whether it dropped any; called
// with mu held.
func (in *byteInbox) dropTaken() bool {
	dropped := false
	for len(in.chunks) > 0 {
		c := in.chunks[0]
		if c.taken < c.filled || (len(in.chunks) == 1 && !in.eof && in.err == nil) {
			break
		}
		in.chunks[0] = nil
		in.chunks = in.chunks[1:]
		dropped = true
	}
	return dropped
}

// want says the loop needs more than avail returned to go on, and reports
// whether more is there already. A front chunk the reader has left ends
// in part of a frame: want moves the rest of that frame from the next
// chunk into the front one's slack — in steps as long as what is there
// (at least 4 KiB), so that the loop sees a frame over the limit before
// all of it is copied.
func (in *byteInbox) want() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dropTaken() {
		return true // a chunk the reader filled since avail
	}
	for len(in.chunks) > 1 {
		front, next := in.chunks[0], in.chunks[1]
		if next.taken == next.filled {
			if len(in.chunks) == 2 && !in.eof && in.err == nil {
				break // the reader is on it
			}
			in.chunks = append(in.chunks[:1], in.chunks[2:]...)
			continue
		}
		part, more := front.buf[front.taken:front.filled], next.buf[next.taken:next.filled]
		n := min(frameRest(in.f, part, more), max(4<<10, len(part)))
		front.buf = append(front.buf[:front.filled], more[:n]...)
		front.filled += n
		next.taken += n
		return true
	}
	in.needed = true
	in.room.Signal()
	return in.eof || in.err != nil // avail says so now
}

// frameRest returns how much of more completes (or, for a lenpfx frame,
// begins to complete) the frame whose start is part; all of more if it
// does not.
func frameRest(f frames.Framing, part, more []byte) int {
	need := len(more)
	switch t, ok := f.Terminator(); {
	case ok:
		if i := bytes.IndexByte(more, t); i >= 0 {
			need = i + 1
		}
	case f.Size() > 0:
		need = f.Size() - len(part)%f.Size()
	case len(part) < abi.LenPfxHeader:
		need = abi.LenPfxHeader - len(part)
	default:
		if size := leUint64(part); size < 1<<40 {
			need = int(abi.LenPfxHeader + int64(size) - int64(len(part)))
		}
	}
	return max(1, min(need, len(more)))
}

// consume takes n bytes from the front.
func (in *byteInbox) consume(n int) {
	if n == 0 {
		return
	}
	in.mu.Lock()
	in.chunks[0].taken += n
	in.queued -= n
	in.room.Signal()
	in.mu.Unlock()
}

func (in *byteInbox) offset() int64 { return -1 }

func (in *byteInbox) unread() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.queued
}

func (in *byteInbox) close() {
	in.mu.Lock()
	in.closed = true
	in.room.Signal()
	in.mu.Unlock()
}

// fileGens numbers the input files passed to kids (see batchRun.file), so
// that a kid kept from an earlier run knows a new one from the one it has.
var fileGens atomic.Uint64
