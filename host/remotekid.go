//go:build linux

package host

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/internal/kidside"
)

// ServeKid runs this process as a kid of a pool on another machine, on
// its stdin, stdout and stderr, and returns its exit status: it is what
// "wasmpool kid" runs at the far end of ssh or srun (see Remote). It
// takes the kid's spec from stdin, and the module too unless its cache
// (CacheDir's default, under os.UserCacheDir) holds it by its SHA-256;
// then it runs the kid as a local pool would, in a process of its own,
// and relays. A connection that ends without the pool's last message
// kills that process.
func ServeKid() int {
	kidFail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "wasmpool kid: "+format+"\n", args...)
		return abi.ExitSetup
	}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		return kidFail("this command is run by a wasmpool pool over ssh or srun (wasmpool run -S, --slurm), not from a terminal")
	}
	out := kidside.NewMessageWriter(os.Stdout)
	in := bufio.NewReaderSize(os.Stdin, 256<<10)
	if _, err := io.WriteString(os.Stdout, kidside.Greeting()); err != nil {
		return kidFail("%v", err)
	}
	protocol, release, err := kidside.ReadGreeting(in)
	if err != nil {
		return kidFail("%v: this command is run by a wasmpool pool over ssh or srun, not by hand", err)
	}
	if protocol != abi.Version {
		return kidFail("the pool's wasmpool (%s) speaks kid protocol %d, this one (%s) speaks %d: install the same wasmpool release on both machines", release, protocol, kidside.Release(), abi.Version)
	}
	spec, err := readSpec(in)
	if err != nil {
		return kidFail("%v", err)
	}
	refuse := func(err error) int {
		js, _ := json.Marshal(kidside.Hello{Error: err.Error()})
		out.Send(kidside.MsgHello, js)
		return kidFail("%v", err)
	}
	cache := defaultCacheDir()
	path, err := cachedModule(cache, spec, out, in)
	if err != nil {
		return refuse(err)
	}
	spec.Module, spec.CacheDir, spec.Parent, spec.Muxed = path, cache, os.Getpid(), true
	proc, err := launchLocal(spec, Config{}.pipeSize(spec.Instance))
	if err != nil {
		return refuse(err)
	}
	if err := out.Send(kidside.MsgReady, nil); err != nil {
		proc.proc.Kill()
	}
	return relayKid(proc, in, out)
}

func readSpec(r io.Reader) (kidside.Spec, error) {
	var spec kidside.Spec
	k, js, err := kidside.ReadMessage(r, nil)
	if err != nil {
		return spec, fmt.Errorf("reading the kid's spec: %w", err)
	}
	if k != kidside.MsgSpec {
		return spec, fmt.Errorf("a message of kind %q where the kid's spec was due", k)
	}
	if err := json.Unmarshal(js, &spec); err != nil {
		return spec, fmt.Errorf("the kid's spec: %w", err)
	}
	b, err := hex.DecodeString(spec.ModuleSHA256)
	if err != nil || len(b) != sha256.Size {
		return spec, fmt.Errorf("the kid's spec names no module by its SHA-256")
	}
	spec.ModuleSHA256 = hex.EncodeToString(b)
	spec.Remote, spec.Where = nil, "" // this end runs the kid itself
	return spec, nil
}

// cachedModule returns the path of the module spec names in the cache,
// after asking the pool for it if the cache lacks it. The kids of one
// machine take turns, under a lock: the module crosses once per cache.
func cachedModule(cache string, spec kidside.Spec, out *kidside.MessageWriter, in io.Reader) (string, error) {
	path := moduleFile(cache, spec.ModuleSHA256)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	st, statErr := os.Stat(path)
	have := statErr == nil && st.Size() == spec.ModuleSize
	hello, _ := json.Marshal(kidside.Hello{NeedModule: !have})
	if err := out.Send(kidside.MsgHello, hello); err != nil || have {
		return path, err
	}
	tmp, err := os.CreateTemp(dir, "receiving-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	buf := make([]byte, kidside.MaxMessage+1)
	for got := int64(0); got < spec.ModuleSize; {
		k, piece, err := kidside.ReadMessage(in, buf)
		if err == nil && k != kidside.MsgModule {
			err = fmt.Errorf("a message of kind %q inside the module", k)
		}
		if err == nil {
			sum.Write(piece)
			_, err = tmp.Write(piece)
		}
		if err != nil {
			tmp.Close()
			return "", fmt.Errorf("receiving the module: %w", err)
		}
		got += int64(len(piece))
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != spec.ModuleSHA256 {
		return "", fmt.Errorf("the module received has SHA-256 %s, not the %s announced", got, spec.ModuleSHA256)
	}
	return path, os.Rename(tmp.Name(), path)
}

// relayKid relays between the connection and the kid process until the
// kid exits, and returns the kid's exit status.
func relayKid(p *process, in io.Reader, out *kidside.MessageWriter) int {
	defer p.release()
	requests := os.NewFile(uintptr(p.stdin), "kid-requests")
	replies := os.NewFile(uintptr(p.stdout), "kid-replies")
	stderr := os.NewFile(uintptr(p.stderr), "kid-stderr")
	unix.Close(p.ack) // a muxed kid reports on its replies
	// The requests' side is left to end with the connection: the kid's
	// exit, not the pool's last message, ends the relay.
	go func() {
		if !relayRequests(in, requests) {
			p.proc.Kill() // the pool is gone, or said something wrong
		}
		requests.Close()
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(os.Stderr, stderr)
	}()
	stopReads := make(chan struct{})
	if p.reads != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendReads(p, out, stopReads)
		}()
	}
	if err := relayReplies(replies, out); err != nil {
		p.proc.Kill()
	}
	close(stopReads)
	state, err := p.proc.Wait()
	unix.Close(p.pidfd)
	wg.Wait()
	if err != nil {
		return abi.ExitSetup
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// relayRequests writes MsgInput payloads to the kid until MsgEnd, and
// reports whether the stream ended that way.
func relayRequests(in io.Reader, to io.Writer) bool {
	buf := make([]byte, kidside.MaxMessage+1)
	for {
		k, payload, err := kidside.ReadMessage(in, buf)
		if err != nil {
			return false
		}
		switch k {
		case kidside.MsgInput:
			if _, err := to.Write(payload); err != nil {
				// The kid stopped reading: it exited, and its status says why.
				io.Copy(io.Discard, in)
				return true
			}
		case kidside.MsgEnd:
			return true
		default:
			return false
		}
	}
}

// relayReplies forwards the kid's messages whole, so that the reads
// messages sendReads adds fall between them.
func relayReplies(from io.Reader, out *kidside.MessageWriter) error {
	r := bufio.NewReaderSize(from, 256<<10)
	buf := make([]byte, kidside.MaxMessage+1)
	for {
		k, payload, err := kidside.ReadMessage(r, buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			err = out.Send(k, payload)
		}
		if err != nil {
			return err
		}
	}
}

// readsEvery is how often a remote batch kid sends its reads page: how
// stale the parent's copy may be when it kills the kid.
const readsEvery = 20 * time.Millisecond

func sendReads(p *process, out *kidside.MessageWriter, stop <-chan struct{}) {
	var last [3]uint64
	t := time.NewTicker(readsEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		id, consumed, lastStart, _ := p.readsOf()
		now := [3]uint64{id, consumed, lastStart}
		if now == last {
			continue
		}
		last = now
		var msg [24]byte
		for i, v := range now {
			binary.LittleEndian.PutUint64(msg[8*i:], v)
		}
		if out.Send(kidside.MsgReads, msg[:]) != nil {
			return
		}
	}
}
