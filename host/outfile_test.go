//go:build linux

package host_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wasmpool/wasmpool/host"
)

// TestFilterIntoFile: Filter into a regular file has the kids hand their
// outputs over in memory files, copied into it at its offset (after what
// the file held: a shell's `{ echo head; wasmpool …; } > out`), in input
// order under Keep. A batch that fails is discarded, its bad record fails
// alone, and every other record's output appears exactly once. A file
// opened to append gets the same bytes the usual way.
func TestFilterIntoFile(t *testing.T) {
	reqs := lines(60000, 8)
	reqs[31234] = []byte("!boom")
	input := append(bytes.Join(reqs, []byte("\n")), '\n')
	for _, tc := range []struct {
		name   string
		mode   host.Mode
		flag   int
		memory bool
	}{
		{"keep", host.Keep, os.O_WRONLY, true},
		{"stream", host.Stream, os.O_RDWR, true},
		{"keep, append", host.Keep, os.O_WRONLY | os.O_APPEND, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, host.Config{Mode: tc.mode, Instances: host.BatchInstances, BatchSize: 128 << 10}, "panic")
			path := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(path, []byte("head\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, tc.flag, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(0, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			var failed []int
			for err := range p.Filter(context.Background(), f, bytes.NewReader(input)) {
				var re *host.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("error %v, want request errors only", err)
				}
				failed = append(failed, re.Index)
			}
			// what is written after the run follows the outputs
			if _, err := f.Write([]byte("tail\n")); err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(failed, []int{31234}) {
				t.Errorf("requests %v failed, want 31234 alone", failed)
			}
			body, ok := bytes.CutPrefix(out, []byte("head\n"))
			if body, ok = bytes.CutSuffix(body, []byte("\ntail\n")); !ok {
				t.Fatalf("the file holds %d bytes, not the head, the outputs and the tail: %q…", len(out), out[:min(len(out), 40)])
			}
			checkLines(t, body, slices.Concat(reqs[:31234], reqs[31235:]), tc.mode != host.Stream)
			if s := p.Stats(); tc.memory != (s.MemoryOutputs > 0) || s.MemoryOutputs >= s.Batches {
				t.Errorf("%d of %d outputs copied from memory files; want some, not all: %v", s.MemoryOutputs, s.Batches, tc.memory)
			}
			checkNoMemoryFiles(t)
		})
	}
}

// TestFilterIntoFileOutputsShrink: memory files are used again, batch
// after batch, so outputs shorter than the one before in the same file,
// or none at all, must come out exact: here the guest drops more and more
// of its input as the run goes on.
func TestFilterIntoFileOutputsShrink(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances, BatchSize: 64 << 10}, "none")
	reqs := lines(120000, 11)
	var want [][]byte
	for i, r := range reqs {
		if i >= 40000 && i%3 != 0 || i >= 80000 && i%50 != 0 {
			reqs[i] = append([]byte("!"), r...) // no reply
		} else {
			want = append(want, r)
		}
	}
	input := append(bytes.Join(reqs, []byte("\n")), '\n')
	f, path := createOutput(t)
	for err := range p.Filter(context.Background(), f, bytes.NewReader(input)) {
		t.Errorf("error %v", err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, out, want, true)
	if s := p.Stats(); s.MemoryOutputs == 0 || s.MemoryOutputs == s.Batches || s.Restarts > 0 {
		t.Errorf("%d of %d outputs copied from memory files, %d kid restarts; want some (the larger ones), not all, and none",
			s.MemoryOutputs, s.Batches, s.Restarts)
	}
	checkNoMemoryFiles(t)
}

// createOutput creates an empty output file, closed with the test.
func createOutput(t *testing.T) (*os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

// checkNoMemoryFiles checks that the run closed every memory file it made
// for kids' outputs.
func checkNoMemoryFiles(t *testing.T) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	for _, e := range fds {
		if link, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); strings.HasPrefix(link, "/memfd:wasmpool batch output") {
			t.Errorf("descriptor %s, %s, is still open after the run", e.Name(), link)
		}
	}
}

// TestFilterIntoFullFile: a copy into the output file that fails (here a
// file that may not grow, as a full disk would refuse it) ends the run
// with a *WriteError that says so, and the pool runs again.
func TestFilterIntoFullFile(t *testing.T) {
	p := newPool(t, host.Config{Instances: host.BatchInstances, BatchSize: 64 << 10}, "echo")
	fd, err := unix.MemfdCreate("full", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Skipf("memfd_create: %v", err)
	}
	full := os.NewFile(uintptr(fd), "full")
	defer full.Close()
	if _, err := unix.FcntlInt(full.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_GROW); err != nil {
		t.Fatal(err)
	}
	input := append(bytes.Join(lines(100000, 10), []byte("\n")), '\n')
	var last error
	for err := range p.Filter(context.Background(), full, bytes.NewReader(input)) {
		last = err
	}
	var we *host.WriteError
	if !errors.As(last, &we) || !errors.Is(last, syscall.EPERM) || !strings.Contains(last.Error(), "copying a batch's output into the output file") {
		t.Fatalf("the run ended with %v, want a *WriteError of the copy, EPERM", last)
	}
	checkRunsAgain(t, p)
}

// TestFilterIntoFileKidsKilled: outputs handed over in memory files are
// the parent's: kids killed in the middle of a run lose none of them, and
// the batches they were running run again elsewhere, so every record's
// output is in the file once, in order.
func TestFilterIntoFileKidsKilled(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances, BatchSize: 256 << 10}, "echo")
	reqs := lines(400000, 9)
	input := append(bytes.Join(reqs, []byte("\n")), '\n')
	f, path := createOutput(t)
	pr, pw := io.Pipe()
	go func() {
		half := len(input) / 2
		pw.Write(input[:half])
		// the first half's outputs are coming in: kill every kid
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
				break
			}
		}
		for pid := range children() { // the test runs alone: they are its pool's
			syscall.Kill(pid, syscall.SIGKILL)
		}
		pw.Write(input[half:])
		pw.Close()
	}()
	for err := range p.Filter(context.Background(), f, pr) {
		t.Errorf("error %v", err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, out, reqs, true)
	if s := p.Stats(); s.Restarts == 0 || s.MemoryOutputs == 0 {
		t.Errorf("%d kid restarts, %d outputs from memory files; want some of each", s.Restarts, s.MemoryOutputs)
	}
	checkNoMemoryFiles(t)
}

// checkRunsAgain checks that p runs again after a run that failed.
func checkRunsAgain(t *testing.T, p *host.Pool) {
	t.Helper()
	var out bytes.Buffer
	for err := range p.Filter(context.Background(), &out, bytes.NewReader([]byte("again\n"))) {
		t.Errorf("the next run: %v", err)
	}
	if out.String() != "again\n" {
		t.Errorf("the next run wrote %q", out.String())
	}
}

// checkLines checks that out is the lines want, each once, in that order
// if inOrder.
func checkLines(t *testing.T, out []byte, want [][]byte, inOrder bool) {
	t.Helper()
	have := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	want = slices.Clone(want)
	if !inOrder {
		slices.SortFunc(want, bytes.Compare)
		slices.SortFunc(have, bytes.Compare)
	}
	if !slices.EqualFunc(have, want, bytes.Equal) {
		i := 0
		for i < min(len(have), len(want)) && bytes.Equal(have[i], want[i]) {
			i++
		}
		t.Errorf("%d output lines, want the %d records' once each (in order: %v); they differ from line %d on", len(have), len(want), inOrder, i)
	}
}
