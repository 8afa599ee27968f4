package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/sys"
)

// writeLog is a guest's stdout that keeps each write apart.
type writeLog struct{ writes []string }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// TestPacing checks that an SDK guest working through a batch of slow
// requests writes the replies it has made once they have waited 10 ms,
// without waiting for the batch to end (the guest reads all four requests
// at once: without pacing, they would all come in one write at EOF).
func TestPacing(t *testing.T) {
	in := "a\nwasmpool:sleep\nwasmpool:sleep\nb\n"
	for _, l := range langs {
		if !l.sdk {
			continue
		}
		t.Run(l.name, func(t *testing.T) {
			mod := compiledGuest(t, l.name+"/echo")
			var out writeLog
			cfg := wazero.NewModuleConfig().WithName("").WithArgs("guest", "lines").
				WithSysWalltime().WithSysNanotime().WithSysNanosleep().
				WithStdin(strings.NewReader(in)).WithStdout(&out)
			ctx := context.Background()
			m, err := wazeroRuntime().InstantiateModule(ctx, mod, cfg)
			if m != nil {
				m.Close(ctx)
			}
			var exit *sys.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
				t.Fatal(err)
			}
			if got := strings.Join(out.writes, ""); got != in {
				t.Fatalf("replies %q, want %q", got, in)
			}
			if len(out.writes) < 2 || !strings.HasPrefix(out.writes[0], "a\n") || strings.Contains(out.writes[0], "b\n") {
				t.Errorf("writes %q: want the first replies written while the guest sleeps", out.writes)
			}
		})
	}
}
