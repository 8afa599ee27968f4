//go:build linux

package kidside

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/wasmpool/wasmpool/abi"
)

// bridge runs a kid on another machine: it starts spec.Remote, whose
// stdin, stdout and stderr reach "wasmpool kid" there, hands it the spec
// (and the module, if its cache lacks it), then relays: requests from
// RequestsFD as MsgInput, replies and reports to RepliesFD and ReportsFD,
// the remote's reads page to this kid's. To the parent it is a kid like
// any other; its exit status is the transport's, which is the remote
// kid's.
func bridge(spec Spec) int {
	closeInherited(ReadsFD)
	for fd := ReportsFD; fd <= ReadsFD; fd++ {
		syscall.CloseOnExec(fd) // the transport's descendants must not hold the kid's pipes open
	}
	name := spec.Where
	if name == "" {
		name = strings.Join(spec.Remote, " ")
	}
	cmd := exec.Command(spec.Remote[0], spec.Remote[1:]...)
	cmd.Stderr = os.Stderr
	// The transport dies with this bridge, and the remote kid with its
	// connection: killing the bridge kills the kid.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	toKid, err := cmd.StdinPipe()
	if err != nil {
		return fail(abi.ExitSetup, "%s: %v", name, err)
	}
	fromKid, err := cmd.StdoutPipe()
	if err != nil {
		return fail(abi.ExitSetup, "%s: %v", name, err)
	}
	if err := cmd.Start(); err != nil {
		return fail(abi.ExitSetup, "starting %s: %v", name, err)
	}
	in := bufio.NewReaderSize(fromKid, 256<<10)
	if err := handshake(spec, toKid, in); err != nil {
		toKid.Close()
		status := transportStatus(cmd.Wait())
		switch {
		case status == 127:
			return fail(abi.ExitSetup, "%s: no wasmpool on that machine's PATH (exit status 127): install it there, or say where it is (--remote-wasmpool, Remote.Wasmpool)", name)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE):
			return fail(abi.ExitSetup, "%s ended with exit status %d before a wasmpool kid answered", name, status)
		}
		return fail(abi.ExitSetup, "%s: %v", name, err)
	}
	go sendInput(os.Stdin, NewMessageWriter(toKid), toKid)
	if err := relayOutput(in, os.NewFile(RepliesFD, "replies"), os.NewFile(ReportsFD, "reports"), mapReads()); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		if errors.Is(err, errParentGone) {
			return abi.ExitSetup
		}
		return fail(abi.ExitSetup, "%s: %v", name, err)
	}
	return transportStatus(cmd.Wait())
}

// handshake greets the remote kid, sends the spec and, if asked, the
// module, and waits until the kid runs.
func handshake(spec Spec, w io.Writer, r *bufio.Reader) error {
	if _, err := io.WriteString(w, Greeting()); err != nil {
		return err
	}
	protocol, release, err := ReadGreeting(r)
	if err != nil {
		return err
	}
	if protocol != abi.Version {
		return fmt.Errorf("the wasmpool there (%s) speaks kid protocol %d, this one (%s) speaks %d: install the same wasmpool release on both machines", release, protocol, Release(), abi.Version)
	}
	module := spec.Module
	remote := spec
	remote.Remote, remote.Where, remote.Module, remote.CacheDir, remote.Parent = nil, "", "", "", 0
	js, err := json.Marshal(remote)
	if err != nil {
		return err
	}
	m := NewMessageWriter(w)
	if err := m.Send(MsgSpec, js); err != nil {
		return err
	}
	var hello Hello
	if err := expect(r, MsgHello, &hello); err != nil {
		return err
	}
	if hello.Error != "" {
		return errors.New(hello.Error)
	}
	if hello.NeedModule {
		if err := sendModule(m, module, spec.ModuleSize); err != nil {
			return err
		}
	}
	return expect(r, MsgReady, nil)
}

// expect reads one message of kind want and decodes its JSON into v.
func expect(r io.Reader, want Kind, v any) error {
	k, payload, err := ReadMessage(r, nil)
	if err != nil {
		return err
	}
	if k == MsgHello && want != MsgHello { // a refusal after all
		var h Hello
		if json.Unmarshal(payload, &h) == nil && h.Error != "" {
			return errors.New(h.Error)
		}
	}
	if k != want {
		return fmt.Errorf("the kid sent a message of kind %q where %q was due", k, want)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(payload, v)
}

// sendModule sends the module's bytes as MsgModule pieces.
func sendModule(m *MessageWriter, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, MaxMessage)
	for sent := int64(0); sent < size; {
		n, err := io.ReadFull(f, buf[:min(int64(len(buf)), size-sent)])
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if err := m.Send(MsgModule, buf[:n]); err != nil {
			return err
		}
		sent += int64(n)
	}
	return nil
}

// sendInput relays the parent's requests until they end, then says so.
// If the parent is gone, so is the bridge: it sends nothing more and
// the remote kid, seeing no MsgEnd, is killed.
func sendInput(from io.Reader, m *MessageWriter, to io.Closer) {
	buf := make([]byte, 256<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if m.Send(MsgInput, buf[:n]) != nil {
				return
			}
		}
		if err == io.EOF {
			m.Send(MsgEnd, nil)
			to.Close()
			return
		}
		if err != nil {
			return
		}
	}
}

// relayOutput writes the remote kid's replies, reports and reads to this
// kid's descriptors until the stream ends.
func relayOutput(r io.Reader, replies, reports io.Writer, page readsPage) error {
	buf := make([]byte, MaxMessage+1)
	for {
		k, payload, err := ReadMessage(r, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch k {
		case MsgReplies:
			_, err = replies.Write(payload)
		case MsgReports:
			_, err = reports.Write(payload)
		case MsgReads:
			if len(payload) != 3*8 {
				return fmt.Errorf("a reads message of %d bytes", len(payload))
			}
			for w := range 3 {
				page.store(w, binary.LittleEndian.Uint64(payload[8*w:]))
			}
		default:
			return fmt.Errorf("the kid sent a message of kind %q", k)
		}
		if err != nil {
			return errParentGone
		}
	}
}

// errParentGone: the parent stopped reading; it is done with this kid.
var errParentGone = errors.New("the parent closed the kid's pipes")

// transportStatus is the exit status of the transport, the remote kid's:
// a signal's number + 128 if it was killed, as a shell says.
func transportStatus(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	}
	if err != nil {
		return abi.ExitSetup
	}
	return 0
}
