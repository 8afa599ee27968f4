//go:build linux

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// batchInput is where a batch run's records come from: the caller's
// requests one by one (Run) or a byte stream (Filter).
type batchInput interface {
	// cut returns the next batch of at most about size bytes, numbering
	// its records from d.index on; ok is false when none is ready. Records
	// that cannot be framed are reported through d.recordFailed.
	cut(d *batchRun, size int) (b *batch, ok bool)
	// exhausted reports whether no record will come any more.
	exhausted() bool
	// pending reports how many bytes are waiting to be cut, -1 if unknown.
	pending() int
	close()
}

// finished is a batch's end, waiting for its turn in the output: its
// output, or one record's error.
type finished struct {
	first, count int
	out          []byte   // the batch's output, unless it is in mem
	body         []byte   // the buffer out is in, for batchRun.reuse
	mem          *os.File // the memory file that holds the output, if the kid handed it over so
	memLen       int64
	unterminated bool // out does not end with the reply terminator
	kid          int
	err          error // the record's error (count is 1)
	payload      []byte
	inBytes      int
}

// batchRun is one run of a pool with batch instances: the poll loop over
// every kid's pipes. All of it runs in the goroutine that iterates the
// results.
type batchRun struct {
	p     *Pool
	cfg   Config
	ctx   context.Context
	input batchInput
	// output takes a batch's output in turn; it returns false when the
	// consumer wants no more. fail reports an error, likewise.
	output func(f *finished) bool
	fail   func(err error) bool
	// recycle says output keeps no part of a finished output once it
	// returns (Filter; Run, whose replies are valid only until its loop
	// goes on), so its buffer can take another result.
	recycle bool
	spare   [][]byte // result buffers to use again
	inputs  [][]byte // buffers of batches that succeeded, to cut others into (Run)

	// file is the input when it is a regular file: the kids on this
	// machine read their batches from it themselves (it is passed to each
	// as generation fileGen), and the pool reads a failed batch again.
	file    *os.File
	fileGen uint64
	// outPipe is the output when a batch's output can be spliced into
	// it (see spliceOutput); outFile, when it can be copied into it from
	// a memory file (see copyOutput); nil if not.
	outPipe *outPipe
	outFile *outFile

	kids   []*batchKid
	retry  []*batch // batches to run again (parts of failed ones) before new ones
	nextID uint64
	index  int // of the next new record
	size   int // the size of the next batch, grown while input is plentiful

	// Ordered and Keep: the batches done before their turn, by first
	// record; the records before emitted have been output.
	done     map[int]*finished
	emitted  int
	unended  []*finished // Stream: outputs that end inside a line, yielded last
	inFlight int         // input bytes cut and not yet output

	successes  int // batches that succeeded
	soloFailed int // records that failed alone
	barren     int // kids in a row that died before finishing a batch
	lost       lostSlots
	fatal      error
	cancelled  bool
	graceEnd   time.Time
	wake       [2]int
	stopped    bool

	polls pollSet[*batchKid]
}

const (
	minBatch = 16 << 10
	// pipeline is how many batches a kid is given at once: one runs while
	// the next is written.
	pipeline = 2
)

func (d *batchRun) run() {
	stop := context.AfterFunc(d.ctx, func() { unix.Write(d.wake[1], []byte{0}) })
	defer stop()
	defer d.shutdown()
	d.size = d.cfg.BatchSize
	if d.size == 0 {
		d.size = 64 << 10
	}
	for !d.stopped {
		if !d.cancelled && d.ctx.Err() != nil {
			d.cancel()
		}
		if d.fatal == nil && !d.cancelled {
			d.startKids()
			d.feed()
			if d.stopped {
				return
			}
		}
		d.closeInputs()
		if d.finishedAll() {
			break
		}
		d.poll()
	}
	for _, f := range d.unended {
		d.emit(f)
	}
	if d.stopped {
		return
	}
	switch {
	case d.fatal != nil:
		d.report(d.fatal)
	case d.cancelled:
		d.report(d.ctx.Err())
	default:
		d.keepIdle()
	}
}

// keepIdle hands the kids that are well and idle back to the pool for its
// next run: batch kids hold no state between batches, so they need not
// start again (a Go guest's kid takes a tenth of a second to).
func (d *batchRun) keepIdle() {
	var idle []*batchKid
	for slot, k := range d.kids {
		if d.reusable(k) {
			idle = append(idle, k)
			d.kids[slot] = nil
		}
	}
	d.p.mu.Lock()
	d.p.idleBatch = idle
	d.p.mu.Unlock()
}

// reusable reports whether k can serve another batch, now or in a later run.
func (d *batchRun) reusable(k *batchKid) bool {
	return k != nil && k.live() && k.inOpen && !k.broken && k.fault == nil && !k.exited && len(k.queue) == 0 &&
		(d.cfg.MaxRequests == 0 || k.given < d.cfg.MaxRequests)
}

func (d *batchRun) report(err error) {
	if !d.stopped && !d.fail(err) {
		d.stopped = true
	}
}

func (d *batchRun) accepting(k *batchKid) bool {
	return k != nil && k.live() && k.inOpen && !k.broken && k.fault == nil && len(k.queue) < pipeline &&
		(d.cfg.MaxRequests == 0 || k.given < d.cfg.MaxRequests)
}

// window bounds the input bytes cut and not yet output, and so what the
// output order can make the pool hold.
func (d *batchRun) window() int { return max(64<<20, 4*len(d.kids)*d.cfg.maxBatch()) }

// feed gives batches to every kid that can take one, a round at a time
// so that each kid has one before any has two: parts of failed batches
// first, then new ones; and writes them.
func (d *batchRun) feed() {
	for depth := 1; depth <= pipeline && !d.stopped; depth++ {
		for _, k := range d.kids {
			if !d.accepting(k) || len(k.queue) >= depth || d.stopped {
				continue
			}
			b := d.take(k)
			if b == nil {
				break
			}
			if b.inFile && d.giveFile(k) {
				d.p.stats.FileBatches++
			} else if !d.load(b) {
				d.failAll(b, d.fatal)
				break
			}
			b.id = d.nextID
			b.mem = d.giveMemory(k, b)
			d.nextID++
			k.queue = append(k.queue, b)
			k.given += b.count
			d.p.stats.PerKid[k.slot-1] += b.count
			d.p.stats.Batches++
		}
	}
	for _, k := range d.kids {
		if k != nil && k.live() && k.unsent() {
			k.writeBatches()
		}
	}
}

// giveFile passes the run's input file to k, if it has not got it yet,
// and reports whether k has it.
func (d *batchRun) giveFile(k *batchKid) bool {
	if k.fileGen == d.fileGen {
		return true
	}
	k.fileGen = 0
	if k.proc.control < 0 {
		return false // a bridge to another machine
	}
	if err := k.proc.passFile(d.file, d.fileGen); err != nil {
		fmt.Fprintf(d.cfg.Stderr, "wasmpool: kid %d: passing it the input file: %v; it is sent its batches\n", k.slot, err)
		return false
	}
	k.fileGen = d.fileGen
	return true
}

// load reads b's bytes from the input file, if they are not in memory; if
// it cannot, the run is given up.
func (d *batchRun) load(b *batch) bool {
	if b.data != nil || b.size == 0 {
		return true
	}
	data := make([]byte, b.size)
	n, err := d.file.ReadAt(data, b.off)
	switch {
	case n == b.size:
		b.data = data
		return true
	case err == io.EOF:
		err = kidside.CutShort(b.off + int64(n))
	}
	d.giveUp(fmt.Errorf("host: reading a batch again: %w", err))
	return false
}

// take returns the next batch for k, or nil.
func (d *batchRun) take(k *batchKid) *batch {
	if len(d.retry) > 0 {
		b := d.retry[0]
		d.retry = d.retry[1:]
		return b
	}
	if d.inFlight >= d.window() || d.input.exhausted() {
		return nil
	}
	size := d.size
	if n := d.input.pending(); n >= 0 && d.cfg.BatchSize == 0 {
		if n > 2*len(d.kids)*size {
			d.size = min(2*d.size, defaultBatchSize) // plenty is waiting: larger batches, fewer of them
		} else if idle := d.idleKids(); idle > 0 && n < idle*size {
			size = max(minBatch, (n+idle-1)/idle) // share what is left among the idle kids
		}
	}
	b, ok := d.input.cut(d, size)
	if !ok {
		return nil
	}
	if d.input.pending() < 0 && d.cfg.BatchSize == 0 && b.size >= d.size {
		// Of unknown length (Run): a batch that filled up says plenty
		// is waiting.
		d.size = min(2*d.size, defaultBatchSize)
	}
	d.took(b.count)
	d.inFlight += b.size
	return b
}

// took counts n records taken from the input.
func (d *batchRun) took(n int) {
	d.p.stats.Requests += n
	d.p.progress.taken.Add(int64(n))
}

func (d *batchRun) idleKids() int {
	n := 0
	for _, k := range d.kids {
		if d.accepting(k) && len(k.queue) == 0 {
			n++
		}
	}
	return n
}

// recordFailed reports a record that will get no output, in its turn.
func (d *batchRun) recordFailed(index int, payload []byte, err error) {
	d.p.stats.Errors++
	d.finish(&finished{first: index, count: 1, err: err, payload: payload})
}

// finish outputs f, or holds it until the records before it are out.
func (d *batchRun) finish(f *finished) {
	if !d.cfg.Mode.inOrder() {
		if f.unterminated {
			// Output that ends inside a line (the input's last line had no
			// newline, say) would run into the next batch's: it goes last.
			d.unended = append(d.unended, f)
			return
		}
		d.emit(f)
		return
	}
	if f.first != d.emitted {
		d.done[f.first] = f
		return
	}
	for f != nil && !d.stopped {
		d.emit(f)
		d.emitted += f.count
		f = d.done[d.emitted]
		delete(d.done, d.emitted)
	}
}

func (d *batchRun) emit(f *finished) {
	d.inFlight -= f.inBytes
	d.p.progress.done.Add(int64(f.count))
	d.p.progress.doneBytes.Add(int64(f.inBytes))
	if d.stopped {
		d.discard(f)
		return
	}
	var ok bool
	switch {
	case f.err != nil:
		ok = d.fail(&RequestError{Index: f.first, Request: f.payload, Err: f.err})
	case f.mem != nil:
		ok = d.copyOutput(f)
		d.reuse(f.body)
	default:
		ok = d.output(f)
		d.reuse(f.body)
	}
	if !ok {
		d.stopped = true
	}
}

// startKids fills empty slots while there is work for them.
func (d *batchRun) startKids() {
	if d.input.exhausted() && len(d.retry) == 0 {
		return
	}
	up := 0
	for slot, k := range d.kids {
		if k != nil {
			up++
			continue
		}
		if d.lost.isLost(slot + 1) {
			continue
		}
		proc, err := d.p.launch(slot+1, kidside.Batch)
		if err != nil {
			d.giveUp(err)
			return
		}
		d.kids[slot] = newBatchKid(slot+1, proc)
		up++
	}
	if up == 0 {
		d.giveUp(fmt.Errorf("%w: every kid's machine was left out (see the kid errors)", ErrKidsFailing))
	}
}

// closeInputs closes the request pipe of each kid that will get no more
// (never inside a batch: the kid would read half of one). At the end of
// the input, kids that are well stay up for the next run.
func (d *batchRun) closeInputs() {
	over := d.cancelled || d.fatal != nil
	for _, k := range d.kids {
		if k == nil || !k.inOpen || k.woff > 0 {
			continue
		}
		retiring := d.cfg.MaxRequests > 0 && k.given >= d.cfg.MaxRequests
		if over && k.unsent() {
			d.takeBack(k, k.written)
		}
		if (over || retiring) && !k.unsent() {
			k.closeInput()
		}
	}
}

// takeBack requeues the batches of k's queue from i on, unrun.
func (d *batchRun) takeBack(k *batchKid, i int) {
	for _, b := range k.queue[i:] {
		d.requeue(b)
	}
	k.queue = k.queue[:i]
}

func (d *batchRun) requeue(b *batch) {
	d.releaseMemory(b)
	if d.cancelled || d.fatal != nil {
		d.dropped(b)
		return
	}
	d.retry = append(d.retry, b)
}

// dropped accounts for a batch that will not run: the run is over.
func (d *batchRun) dropped(b *batch) {
	if d.fatal != nil {
		d.failAll(b, d.fatal)
	}
}

// failAll reports every record of b, with its payload if it can be read.
func (d *batchRun) failAll(b *batch, err error) {
	if b.inFile {
		d.load(b) // if it cannot, the records fail without their payloads
	}
	data := b.data
	for i := range b.count {
		adv, payload, _ := d.cfg.Framing.Split(data, true, 0)
		if adv <= 0 {
			adv = len(data)
		}
		d.recordFailed(b.first+i, payload, err)
		data = data[adv:]
	}
	d.inFlight -= b.size
}

func (d *batchRun) finishedAll() bool {
	over := d.cancelled || d.fatal != nil
	if !over && !(d.input.exhausted() && len(d.retry) == 0) {
		return false
	}
	for _, k := range d.kids {
		if k != nil && (over || !d.reusable(k)) {
			return false
		}
	}
	return true
}

func (d *batchRun) cancel() {
	d.cancelled = true
	d.graceEnd = time.Now().Add(stopGrace)
	d.retry = nil
}

// giveUp ends the run after a failure that more kids would not cure.
func (d *batchRun) giveUp(err error) {
	if d.fatal != nil {
		return
	}
	d.fatal = err
	for _, b := range d.retry {
		d.failAll(b, err)
	}
	d.retry = nil
}

// poll waits for any kid's pipe to be ready and handles what is.
func (d *batchRun) poll() {
	d.polls.reset(d.wake[0])
	for _, k := range d.kids {
		if k == nil {
			continue
		}
		if k.inOpen && k.unsent() {
			d.polls.add(k, k.proc.stdin, unix.POLLOUT)
		}
		d.polls.addReads(k, &k.kidProc)
	}
	n, err := unix.Poll(d.polls.fds, d.pollTimeout())
	if err != nil && err != unix.EINTR {
		d.giveUp(fmt.Errorf("host: poll: %w", err))
		for _, k := range d.kids {
			if k != nil {
				k.kill(err)
			}
		}
	}
	for i := 0; n > 0 && i < len(d.polls.fds) && !d.stopped; i++ {
		fd := d.polls.fds[i]
		if fd.Revents == 0 {
			continue
		}
		if k := d.polls.owners[i]; k != nil {
			d.ready(k, int(fd.Fd), fd.Revents)
		} else {
			drainWake(d.wake[0])
		}
	}
	d.checkTimes()
	for slot, k := range d.kids {
		if k != nil && k.drained() && !d.stopped {
			d.ended(k)
			d.kids[slot] = nil
		}
	}
}

// ready handles one ready descriptor of kid k.
func (d *batchRun) ready(k *batchKid, fd int, ev int16) {
	switch {
	case !k.live():
	case fd == k.proc.stdin && k.inOpen:
		if ev&(unix.POLLERR|unix.POLLHUP) != 0 {
			k.broken = true
			k.closeInput()
			return
		}
		k.writeBatches()
	case fd == k.proc.ack && !k.ackEOF:
		if err := k.readStarts(); err != nil {
			k.kill(err)
		}
	case fd == k.proc.stdout && !k.outEOF:
		d.readResults(k)
	case fd == k.proc.stderr && !k.errEOF:
		k.readStderr(d.cfg.Stderr)
	case fd == k.proc.pidfd:
		k.exited = true
	}
}

// readResults takes every whole result k has sent; from a kid the pool
// stopped, it only drains the pipe.
func (d *batchRun) readResults(k *batchKid) {
	if k.fault != nil {
		var buf [64 << 10]byte
		if n, err := unix.Read(k.proc.stdout, buf[:]); n <= 0 && err != unix.EAGAIN && err != unix.EINTR {
			k.outEOF = true
			unix.Close(k.proc.stdout)
		}
		return
	}
	for k.fault == nil && !d.stopped {
		if !k.running() && !k.ackEOF {
			// The start report and the result may be ready together: the
			// report comes first.
			if err := k.readStarts(); err != nil {
				k.kill(err)
				return
			}
		}
		if k.body == nil && len(d.spare) > 0 {
			k.body = d.spare[len(d.spare)-1]
			d.spare = d.spare[:len(d.spare)-1]
		}
		whole, err := k.readResult(uint64(d.cfg.outputLimit())+1<<20, d.recycle, func() (bool, error) { return d.spliceOutput(k) })
		if err != nil {
			k.kill(err)
			return
		}
		if !whole {
			return
		}
		b, r, body := k.takeResult()
		d.result(k, b, r, body)
	}
}

// result deals with the end of one batch's instance, given its result's
// body: output, then stderr; or only stderr, when the output is in the
// batch's memory file.
func (d *batchRun) result(k *batchKid, b *batch, r kidside.ResultHeader, body []byte) {
	out, stderr := []byte(nil), body
	var mem *os.File
	if r.Flags&kidside.InMemoryFile != 0 {
		mem, b.mem = b.mem, nil
	} else {
		out, stderr = body[:r.Stdout:r.Stdout], body[r.Stdout:]
		d.releaseMemory(b)
	}
	d.barren = 0
	d.lost.finished(k.slot)
	failed, cause := d.failure(&r, b)
	if !failed {
		d.successes++
		d.reuseInput(b)
		d.forward(k, stderr)
		d.p.stats.Replies += int(r.Replies)
		d.finish(&finished{first: b.first, count: b.count, out: out, body: body, mem: mem, memLen: int64(r.Stdout),
			unterminated: r.Flags&kidside.Unterminated != 0, kid: k.slot, inBytes: b.size})
		return
	}
	if mem != nil {
		d.outFile.put(mem)
	}
	defer d.reuse(body)
	if r.Flags&kidside.InputUnreadable != 0 {
		d.giveUp(fmt.Errorf("host: kid %d could not read the input file: %s", k.slot, stderr))
		d.failAll(b, d.fatal)
		return
	}
	ke := &KidError{Kid: k.slot, Pid: k.pid, ExitCode: int(r.Status), Err: cause}
	var tail stderrTail
	if len(stderr) > 0 {
		for _, line := range strings.Split(strings.TrimSuffix(string(stderr), "\n"), "\n") {
			tail.add(line)
		}
	}
	ke.Stderr, ke.Trap = tail.lines, tail.trap
	d.failed(k, b, int(r.Consumed), -1, ke, stderr)
}

// failure reports whether the result r of batch b is a failure, as its
// header alone says, and the cause the pool gives it (nil for one the
// guest's exit status says).
func (d *batchRun) failure(r *kidside.ResultHeader, b *batch) (bool, error) {
	switch {
	case r.Flags&kidside.OutputOverflow != 0:
		return true, fmt.Errorf("the guest wrote more than %d bytes of output for one batch", d.cfg.outputLimit())
	case r.Status != 0:
		return true, nil
	case d.cfg.Mode.OneToOne() && (r.Flags&kidside.PartialReply != 0 || r.Replies != uint64(b.count)):
		return true, fmt.Errorf("%w: %d replies to %d requests, but this mode needs exactly one reply per request", ErrProtocol, r.Replies, b.count)
	}
	return false, nil
}

// reuse keeps a result's buffer for another result, if output keeps
// nothing of it: a few of them, none huge, so that results are read into
// memory already faulted in.
func (d *batchRun) reuse(body []byte) {
	if d.recycle && cap(body) >= 64<<10 && cap(body) <= 64<<20 && len(d.spare) < len(d.kids)+2 {
		d.spare = append(d.spare, body[:0])
	}
}

// inputBuffer returns an empty buffer for a batch of about size bytes
// (and the frame that runs over), one of a batch that succeeded if there
// is one large enough: a fresh one costs its page faults and clearing.
func (d *batchRun) inputBuffer(size int) []byte {
	for len(d.inputs) > 0 {
		buf := d.inputs[len(d.inputs)-1]
		d.inputs = d.inputs[:len(d.inputs)-1]
		if cap(buf) >= size {
			return buf[:0]
		}
	}
	return make([]byte, 0, size+64<<10)
}

// reuseInput keeps the buffer of b, which succeeded, for another batch,
// if b owns it: no part of a batch that succeeded is needed again, and
// the whole of it is written to the kid by now.
func (d *batchRun) reuseInput(b *batch) {
	if b.owned && len(d.inputs) < pipeline*len(d.kids) {
		d.inputs = append(d.inputs, b.data[:0])
	}
	b.data, b.owned = nil, false
}

// forward writes an instance's stderr to Config.Stderr, a line at a time
// with the kid's number in front.
func (d *batchRun) forward(k *batchKid, stderr []byte) {
	for len(stderr) > 0 {
		line, rest, _ := strings.Cut(string(stderr), "\n")
		fmt.Fprintf(d.cfg.Stderr, "kid %d: %s\n", k.slot, line)
		stderr = stderr[len(stderr)-len(rest):]
	}
}

// failed deals with a batch whose instance failed, having read consumed
// bytes of it (-1: unknown), its last read from lastStart (-1: unknown):
// the records it never read run again as they are; among the others, the
// failing one is found by splitting them and running each part again,
// until it stands alone. The first split of a batch killed while it ran
// (a timeout) is at its last read: a guest that reads as it goes was busy
// with what that read brought, and whatever runs past the timeout costs a
// timeout each time it runs; after that, parts are halved.
func (d *batchRun) failed(k *batchKid, b *batch, consumed, lastStart int, cause *KidError, stderr []byte) {
	if !d.load(b) {
		d.failAll(b, d.fatal)
		return
	}
	suspects := b.count
	if consumed >= 0 {
		n, c := d.cfg.Framing.Whole(b.data[:consumed], consumed == b.size, 0)
		if suspects = c; n < consumed {
			suspects++ // a frame read in part
		}
		suspects = min(suspects, b.count)
	}
	if suspects == 0 {
		// It failed before it read anything: no record is to blame, unless
		// it keeps doing so.
		if b.unread++; b.unread <= d.cfg.Retries {
			d.requeue(b)
			d.soloFailed++ // counts towards giving up on a guest that cannot run
			d.checkHopeless(cause)
			return
		}
		suspects = b.count
	}
	if suspects < b.count {
		d.requeue(d.part(b, suspects, b.count, 0))
	}
	if suspects > 1 {
		d.split(b, suspects, lastStart, errors.Is(cause, ErrTimeout))
		return
	}
	one := d.part(b, 0, 1, b.attempt+1)
	if b.count > 1 {
		one.attempt = 1
	}
	if one.attempt <= d.cfg.Retries && !errors.Is(cause, ErrTimeout) && !d.cancelled && d.fatal == nil {
		d.retry = append([]*batch{one}, d.retry...)
		return
	}
	d.soloFailed++
	d.forward(k, stderr)
	_, payload, _ := d.cfg.Framing.Split(one.data, true, 0)
	d.inFlight -= one.size
	d.recordFailed(one.first, payload, cause)
	d.checkHopeless(cause)
}

// split runs the first suspects records of the failed batch b again, in
// parts. The first split of a batch killed while it ran is at its last
// read (lastStart), if known: a guest that reads as it goes was busy with
// what that read brought. After a timeout the parts are many (timeoutWays),
// for each round costs a timeout: fewer rounds, run side by side on the
// kids; after any other failure, halves, the fewest instances.
func (d *batchRun) split(b *batch, suspects, lastStart int, timedOut bool) {
	cuts := []int{0}
	if lastStart > 0 && !b.peeled {
		if _, cold := d.cfg.Framing.Whole(b.data[:lastStart], false, 0); cold > 0 && cold < suspects {
			cuts = append(cuts, cold)
		}
	}
	if len(cuts) == 1 {
		ways := 2
		if timedOut {
			ways = timeoutWays
		}
		for i := 1; i < ways; i++ {
			if c := suspects * i / ways; c > cuts[len(cuts)-1] {
				cuts = append(cuts, c)
			}
		}
	}
	cuts = append(cuts, suspects)
	// Depth first, the parts before other retries: a guest that fails on
	// every record is found out after a few records, not after splitting
	// every batch in flight; and the part last read first, the likeliest
	// culprit.
	var parts []*batch
	for i := len(cuts) - 2; i >= 0; i-- {
		p := d.part(b, cuts[i], cuts[i+1], 0)
		p.peeled = true
		parts = append(parts, p)
	}
	if d.cancelled || d.fatal != nil {
		for _, p := range parts {
			d.dropped(p)
		}
		return
	}
	d.retry = append(parts, d.retry...)
}

const timeoutWays = 8

// checkHopeless gives the run up when the guest has failed on every
// record it ran alone, and on everything else, more often than the kids
// could explain: a guest that fails whatever its input.
func (d *batchRun) checkHopeless(cause *KidError) {
	if d.successes == 0 && d.soloFailed > len(d.kids)+2 {
		d.giveUp(fmt.Errorf("%w: the guest failed on each of the first %d records it ran alone and on every batch, the last: %w", ErrKidsFailing, d.soloFailed, cause))
	}
}

// part returns records [i, j) of b as a batch of their own; its input
// bytes are accounted to it and taken from b.
func (d *batchRun) part(b *batch, i, j, attempt int) *batch {
	lo := d.cfg.Framing.Skip(b.data, i)
	hi := lo + d.cfg.Framing.Skip(b.data[lo:], j-i)
	if j == b.count {
		hi = b.size
	}
	return &batch{first: b.first + i, count: j - i, size: hi - lo, data: b.data[lo:hi:hi], inFile: b.inFile, off: b.off + int64(lo), attempt: attempt}
}

// ended deals with a kid whose process has exited and whose pipes are
// drained: the batch its instance was running failed, unless the pool
// stopped the kid; the others run elsewhere.
func (d *batchRun) ended(k *batchKid) {
	id, read, lastRead, readsOK := k.proc.readsOf() // before wait unmaps the page
	ke := k.wait()
	if len(k.queue) == 0 {
		if ke != nil && !k.expired && k.ran == 0 {
			d.kidDied(k, ke)
		}
		return
	}
	if ke == nil {
		ke = &KidError{Kid: k.slot, Pid: k.pid, Stderr: k.tail.lines, Err: fmt.Errorf("exited before it finished %d batch(es)", len(k.queue))}
	}
	d.p.stats.Restarts++
	running := k.running()
	if running && !k.expired {
		b := k.queue[0]
		k.queue = k.queue[1:]
		d.releaseMemory(b)
		consumed, lastStart := -1, -1
		if readsOK && id == b.id && read <= uint64(b.size) && lastRead <= read {
			consumed, lastStart = int(read), int(lastRead)
		}
		d.failed(k, b, consumed, lastStart, ke, nil)
	}
	d.takeBack(k, 0)
	if !running && k.ran == 0 {
		d.kidDied(k, ke)
	}
}

// kidDied counts a kid that died before it finished anything: a guest
// that cannot start, or a machine that cannot be reached. Past a few in a
// row the run is given up.
func (d *batchRun) kidDied(k *batchKid, ke *KidError) {
	if d.lost.died(k.slot, true, ke) {
		return
	}
	if d.barren++; d.barren > len(d.kids)+2 {
		d.giveUp(fmt.Errorf("%w: %d kids in a row failed before finishing a batch, the last: %w", ErrKidsFailing, d.barren, ke))
	}
}

// pollTimeout is how long poll may wait before a deadline needs a look.
func (d *batchRun) pollTimeout() int {
	var deadline time.Time
	if d.cancelled {
		deadline = d.graceEnd
	}
	for _, k := range d.kids {
		if k != nil && d.cfg.Timeout > 0 && k.running() && !k.inResult && !k.killed {
			if t := k.startedAt.Add(d.cfg.Timeout); deadline.IsZero() || t.Before(deadline) {
				deadline = t
			}
		}
	}
	if deadline.IsZero() {
		return -1
	}
	return max(0, int(time.Until(deadline).Milliseconds())+1)
}

// checkTimes kills kids past a deadline: an instance that has run a batch
// for longer than Config.Timeout, or every kid when a cancelled run's
// grace is over.
func (d *batchRun) checkTimes() {
	now := time.Now()
	for _, k := range d.kids {
		if k == nil || k.killed || k.exited {
			continue
		}
		if d.cancelled && now.After(d.graceEnd) {
			k.expired = true
			k.kill(d.ctx.Err())
		} else if d.cfg.Timeout > 0 && k.running() && !k.inResult && now.Sub(k.startedAt) >= d.cfg.Timeout {
			k.kill(ErrTimeout)
		}
	}
}

// shutdown kills and reaps every kid still running.
func (d *batchRun) shutdown() {
	for slot, k := range d.kids {
		if k == nil {
			continue
		}
		if k.live() {
			if !k.exited {
				k.kill(errStopped)
			}
			k.wait()
		}
		for _, b := range k.queue {
			d.releaseMemory(b)
		}
		d.kids[slot] = nil
	}
	for _, f := range d.done {
		d.discard(f)
	}
	if d.outFile != nil {
		d.outFile.close()
	}
	d.input.close()
	unix.Close(d.wake[0])
	unix.Close(d.wake[1])
}

// nilInput is the input of a run that could not start.
type nilInput struct{}

func (nilInput) cut(*batchRun, int) (*batch, bool) { return nil, false }
func (nilInput) exhausted() bool                   { return true }
func (nilInput) pending() int                      { return 0 }
func (nilInput) close()                            {}
