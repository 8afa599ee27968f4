//go:build linux

package host

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// process is a running kid as the parent sees it: three non-blocking pipe
// ends and a pidfd that becomes readable when the kid exits.
type process struct {
	proc   *os.Process
	stdin  int // the kid's requests; the parent writes
	stdout int // the kid's replies; the parent reads
	stderr int
	ack    int // the kid's progress reports (see feed); the parent reads
	pidfd  int
	// reads is, for a batch kid, the page where it keeps how far its
	// running instance has read (kidside.ReadsFD); nil otherwise.
	reads []byte
	// control is, for a batch kid on this machine, the socket the run's
	// input file is passed on (kidside.ControlFD); -1 otherwise.
	control int
}

// readsOf returns what a batch kid's reads page says: the batch running,
// the bytes of it read, and where the last read began.
func (p *process) readsOf() (id, consumed, lastStart uint64, ok bool) {
	if p.reads == nil {
		return 0, 0, 0, false
	}
	w := unsafe.Slice((*uint64)(unsafe.Pointer(&p.reads[0])), 3)
	return atomic.LoadUint64(&w[kidside.ReadsID]), atomic.LoadUint64(&w[kidside.ReadsConsumed]), atomic.LoadUint64(&w[kidside.ReadsLastStart]), true
}

// release unmaps what the parent mapped for the kid, and closes its
// control socket.
func (p *process) release() {
	if p.reads != nil {
		unix.Munmap(p.reads)
		p.reads = nil
	}
	if p.control >= 0 {
		unix.Close(p.control)
		p.control = -1
	}
}

// passFile gives the kid f, the input file of the run numbered gen. If it
// cannot, the kid loses its control socket: it would wait for the file.
func (p *process) passFile(f *os.File, gen uint64) error {
	err := p.sendControl(kidside.ControlInputFile, gen, f)
	if err != nil && p.control >= 0 {
		unix.Close(p.control)
		p.control = -1
	}
	return err
}

// passMemory gives the kid f, the memory file for the output of batch id,
// which is sent with OutputInMemory only if this succeeds.
func (p *process) passMemory(f *os.File, id uint64) error {
	return p.sendControl(kidside.ControlOutputMemory, id, f)
}

// sendControl sends the kid a message on its control socket (see
// kidside.ControlFD): kind, value and f.
func (p *process) sendControl(kind, value uint64, f *os.File) error {
	if p.control < 0 {
		return errors.New("the kid has no control socket")
	}
	msg := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(make([]byte, 0, kidside.ControlMessageSize), kind), value)
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var sendErr error
	if err := rc.Control(func(fd uintptr) {
		sendErr = unix.Sendmsg(p.control, msg, unix.UnixRights(int(fd)), nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	}); err != nil {
		sendErr = err
	}
	return sendErr
}

// maxSpec is the kernel's limit on one environment string (MAX_ARG_STRLEN).
const maxSpec = 32 * 4096

// launchLocal re-executes this program's binary in kid mode.
func launchLocal(spec kidside.Spec, pipeSize int) (*process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("host: finding this program's binary to re-execute: %w", err)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if len(js) > maxSpec {
		return nil, fmt.Errorf("%w: the guest's args, env and dirs take %d bytes, more than the %d an exec allows", ErrConfig, len(js), maxSpec)
	}
	env := []string{abi.KidEnv + "=" + string(js)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, abi.KidEnv+"=") {
			env = append(env, kv)
		}
	}
	var extra []*os.File // kidside.ReadsFD, kidside.ControlFD: start closes them once the kid has them
	var page []byte
	parentControl := -1
	if spec.Instance == kidside.Batch {
		var reads *os.File
		fd, err := unix.MemfdCreate("wasmpool-reads", unix.MFD_CLOEXEC)
		if err == nil {
			reads = os.NewFile(uintptr(fd), "kid-reads")
			if err = reads.Truncate(kidside.ReadsPage); err == nil {
				page, err = unix.Mmap(fd, 0, kidside.ReadsPage, unix.PROT_READ, unix.MAP_SHARED)
			}
			if err != nil {
				reads.Close()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("host: the reads page of kid %d: %w", spec.Kid, err)
		}
		extra = append(extra, reads)
	}
	if spec.Instance == kidside.Batch && spec.Remote == nil {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			closeFiles(extra)
			unix.Munmap(page)
			return nil, fmt.Errorf("host: the control socket of kid %d: %w", spec.Kid, err)
		}
		parentControl = fds[0]
		extra = append(extra, os.NewFile(uintptr(fds[1]), "kid-control"))
	}
	p, err := start(exe, []string{exe}, env, spec.Kid, pipeSize, false, extra...)
	if err != nil {
		if page != nil {
			unix.Munmap(page)
		}
		if parentControl >= 0 {
			unix.Close(parentControl)
		}
		return nil, err
	}
	p.reads, p.control = page, parentControl
	return p, nil
}

// launchCommand starts a native program as kid number slot; its stdout is
// the reply pipe.
func launchCommand(argv []string, slot, pipeSize int) (*process, error) {
	return start(argv[0], argv, os.Environ(), slot, pipeSize, true)
}

// start starts a kid process with its four pipes and extra (which it
// closes), at the descriptors package kidside defines: requests on stdin,
// replies on their own
// descriptor (a native program's stdout), progress reports, and stderr,
// which also takes a wasm kid's fd 1, so that nothing but the guest can
// write a reply.
func start(path string, argv, env []string, slot, pipeSize int, native bool, extra ...*os.File) (*process, error) {
	var fds [8]int // stdin r/w, stdout r/w, stderr r/w, ack r/w
	for i := 0; i < 4; i++ {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			closeAll(fds[:2*i])
			closeFiles(extra)
			return nil, fmt.Errorf("host: pipe: %w", err)
		}
		fds[2*i], fds[2*i+1] = p[0], p[1]
	}
	kidIn, parentIn := fds[0], fds[1]
	parentOut, kidOut := fds[2], fds[3]
	parentErr, kidErr := fds[4], fds[5]
	parentAck, kidAck := fds[6], fds[7]
	parent := []int{parentIn, parentOut, parentErr, parentAck}
	// Best effort: the kernel caps unprivileged pipes at fs.pipe-max-size.
	unix.FcntlInt(uintptr(parentIn), unix.F_SETPIPE_SZ, pipeSize)
	unix.FcntlInt(uintptr(parentOut), unix.F_SETPIPE_SZ, pipeSize)
	for _, fd := range parent {
		if err := unix.SetNonblock(fd, true); err != nil {
			closeAll(fds[:])
			closeFiles(extra)
			return nil, fmt.Errorf("host: pipe: %w", err)
		}
	}
	in, out := os.NewFile(uintptr(kidIn), "kid-requests"), os.NewFile(uintptr(kidOut), "kid-replies")
	errs, reports := os.NewFile(uintptr(kidErr), "kid-stderr"), os.NewFile(uintptr(kidAck), "kid-reports")
	files := []*os.File{kidside.RequestsFD: in, 1: errs, 2: errs, kidside.ReportsFD: reports, kidside.RepliesFD: out}
	if native {
		files = []*os.File{in, out, errs, reports}
	}
	files = append(files, extra...)
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   env,
		Files: files,
		Sys: &syscall.SysProcAttr{
			Pdeathsig: syscall.SIGKILL, // no orphan if the parent dies
			Setpgid:   true,            // terminal signals go to the parent only
		},
	})
	closeFiles(files)
	if err != nil {
		closeAll(parent)
		return nil, fmt.Errorf("host: starting kid %d: %w", slot, err)
	}
	pidfd, err := unix.PidfdOpen(proc.Pid, 0)
	if err != nil {
		proc.Kill()
		proc.Wait()
		closeAll(parent)
		return nil, fmt.Errorf("host: pidfd_open for kid %d: %w", slot, err)
	}
	unix.CloseOnExec(pidfd)
	return &process{proc: proc, stdin: parentIn, stdout: parentOut, stderr: parentErr, ack: parentAck, pidfd: pidfd, control: -1}, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		if fd > 0 {
			unix.Close(fd)
		}
	}
}
