//go:build linux

package host_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/host"
)

// blockingPipe returns both ends of a pipe in blocking mode, as a shell
// gives one (os.Pipe's are non-blocking, for Go's poller).
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "pipe r"), os.NewFile(uintptr(fds[1]), "pipe w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// TestFilterIntoPipe: Filter into a pipe splices the batches' outputs
// from the kids' pipes into it, in input order under Keep; a batch that
// fails is not spliced, and its bad record fails alone while every other
// record's output appears exactly once.
func TestFilterIntoPipe(t *testing.T) {
	reqs := lines(60000, 5)
	reqs[41234] = []byte("!boom")
	input := append(bytes.Join(reqs, []byte("\n")), '\n')
	for _, mode := range []host.Mode{host.Keep, host.Stream} {
		t.Run(mode.String(), func(t *testing.T) {
			p := newPool(t, host.Config{Mode: mode, Instances: host.BatchInstances, BatchSize: 64 << 10}, "panic")
			r, w := blockingPipe(t)
			got := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(r)
				got <- b
			}()
			var failed []int
			for err := range p.Filter(context.Background(), w, bytes.NewReader(input)) {
				var re *host.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("error %v, want request errors only", err)
				}
				failed = append(failed, re.Index)
			}
			w.Close()
			out := <-got
			if !slices.Equal(failed, []int{41234}) {
				t.Errorf("requests %v failed, want 41234 alone", failed)
			}
			want := slices.Concat(reqs[:41234], reqs[41235:])
			have := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
			if mode == host.Stream {
				slices.SortFunc(want, bytes.Compare)
				slices.SortFunc(have, bytes.Compare)
			}
			if !slices.EqualFunc(have, want, bytes.Equal) {
				t.Errorf("%d output lines, want the other %d records' once each (in order: %v)", len(have), len(want), mode != host.Stream)
			}
			if s := p.Stats(); s.SplicedBatches == 0 || s.SplicedBatches >= s.Batches {
				t.Errorf("%d of %d batches spliced; want all but those of the failing record", s.SplicedBatches, s.Batches)
			}
		})
	}
}

// TestFilterIntoClosedPipe: when the output pipe's reader goes away, the
// run ends with a *WriteError that wraps EPIPE, and the pool runs again.
func TestFilterIntoClosedPipe(t *testing.T) {
	p := newPool(t, host.Config{Instances: host.BatchInstances, BatchSize: 64 << 10}, "echo")
	input := append(bytes.Join(lines(200000, 6), []byte("\n")), '\n')
	r, w := blockingPipe(t)
	go func() {
		io.CopyN(io.Discard, r, 100<<10)
		r.Close()
	}()
	var last error
	for err := range p.Filter(context.Background(), w, bytes.NewReader(input)) {
		last = err
	}
	var we *host.WriteError
	if !errors.As(last, &we) || !errors.Is(last, syscall.EPIPE) {
		t.Fatalf("the run ended with %v, want a *WriteError of EPIPE", last)
	}
	checkRunsAgain(t, p)
}

// TestFilterIntoPipeKidKilled: a kid killed from outside while its output
// is being spliced has left part of it in the pipe. The run ends with a
// *WriteError that says so; nothing after it is written and nothing is
// run again, so the output is the records' in order, each once, the last
// one perhaps cut.
func TestFilterIntoPipeKidKilled(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances, BatchSize: 8 << 20}, "echo")
	reqs := lines(600000, 7)
	input := append(bytes.Join(reqs, []byte("\n")), '\n')
	r, w := blockingPipe(t)
	started, killed := make(chan struct{}), make(chan struct{})
	got := make(chan []byte)
	go func() {
		head := make([]byte, 64<<10)
		n, _ := io.ReadFull(r, head)
		close(started)
		<-killed
		rest, _ := io.ReadAll(r)
		got <- append(head[:n], rest...)
	}()
	errs := make(chan error, 1)
	go func() {
		var last error
		for err := range p.Filter(context.Background(), w, bytes.NewReader(input)) {
			last = err
		}
		w.Close()
		errs <- last
	}()
	<-started
	kids := children() // the test runs alone: they are its pool's
	if len(kids) == 0 {
		t.Fatal("no kid process found")
	}
	for pid := range kids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	close(killed)
	last, out := <-errs, <-got
	var we *host.WriteError
	if !errors.As(last, &we) || !strings.Contains(last.Error(), "bytes of a batch's output had gone out") {
		t.Fatalf("the run ended with %v, want a *WriteError that says part of an output went out", last)
	}
	t.Logf("%v; %d bytes of output", last, len(out))
	have := bytes.Split(out, []byte("\n"))
	for i, line := range have {
		if i == len(have)-1 {
			if !bytes.HasPrefix(reqs[i], line) {
				t.Errorf("the last, cut line %d is %q, not a start of %q", i, line, reqs[i])
			}
			break
		}
		if !bytes.Equal(line, reqs[i]) {
			t.Fatalf("output line %d is %q, want %q", i, line, reqs[i])
		}
	}
}
