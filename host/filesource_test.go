package host_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/host"
)

// TestFilterFromFile: Filter from a regular file sends the kids the
// batches' places in the file, which they read themselves; the output is
// the same as through a pipe. The file is read from its offset on (stdin
// redirected after a header was read, say) and left at its end, as a
// reader would leave it; a second run, on kids kept from the first, gets
// another file.
func TestFilterFromFile(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances, BatchSize: 4 << 10}, "echo")
	for run := range 2 {
		header := []byte("a header the caller read itself\n")
		body := bytes.Join(lines(20000, uint64(run)), []byte("\n"))
		body = append(body, '\n')
		f := tempFile(t, append(header, body...))
		if _, err := f.Seek(int64(len(header)), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for err := range p.Filter(context.Background(), &out, f) {
			t.Errorf("run %d: %v", run, err)
		}
		if !bytes.Equal(out.Bytes(), body) {
			t.Errorf("run %d: %d bytes of output, want the %d after the header", run, out.Len(), len(body))
		}
		if s := p.Stats(); s.Batches < 4 || s.FileBatches != s.Batches {
			t.Errorf("run %d: %d batches, %d of them read from the file by the kids; want all of them", run, s.Batches, s.FileBatches)
		}
		if off, _ := f.Seek(0, io.SeekCurrent); off != int64(len(header)+len(body)) {
			t.Errorf("run %d: the file is left at offset %d, want its end, %d", run, off, len(header)+len(body))
		}
	}
}

// TestFilterFromShrinkingFile: a file cut short while the kids read it
// (a log rotated with copytruncate) ends the run with an error that says
// so, no crash; every record taken ends in its output or one error.
func TestFilterFromShrinkingFile(t *testing.T) {
	p := newPool(t, host.Config{Mode: host.Keep, Instances: host.BatchInstances, BatchSize: 1 << 10}, "echo")
	reqs := lines(20000, 9)
	input := append(bytes.Join(reqs, []byte("\n")), '\n')
	f := tempFile(t, input)
	dst := &truncator{path: f.Name(), size: int64(len(input) / 2)}
	outcomes := map[int]int{}
	cutShort := false
	for err := range p.Filter(context.Background(), dst, f) {
		var re *host.RequestError
		if errors.As(err, &re) {
			outcomes[re.Index]++
		}
		if !cutShort && strings.Contains(err.Error(), "cut short") {
			t.Logf("the first error that says so: %v", err)
			cutShort = true
		}
	}
	if !cutShort {
		t.Errorf("no error says the input was cut short")
	}
	out := bytes.Split(bytes.TrimSuffix(dst.out.Bytes(), []byte("\n")), []byte("\n"))
	for i, line := range out { // Keep: the output is the first records', in order
		if !bytes.Equal(line, reqs[i]) {
			t.Fatalf("output line %d is %q, want %q", i, line, reqs[i])
		}
		outcomes[i]++
	}
	taken := p.Stats().Requests
	for i := range taken {
		if outcomes[i] != 1 {
			t.Errorf("record %d: %d outcomes (output or error), want 1", i, outcomes[i])
		}
	}
	if len(outcomes) != taken {
		t.Errorf("%d records have an outcome, %d were taken", len(outcomes), taken)
	}
	t.Logf("%d records taken, %d output", taken, len(out))
}

// truncator keeps what is written to it, and cuts the file at path to
// size at the first write.
type truncator struct {
	path string
	size int64
	out  bytes.Buffer
}

func (w *truncator) Write(p []byte) (int, error) {
	if w.out.Len() == 0 {
		if err := os.Truncate(w.path, w.size); err != nil {
			return 0, err
		}
	}
	return w.out.Write(p)
}

func tempFile(t *testing.T, data []byte) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
