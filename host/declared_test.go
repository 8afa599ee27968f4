package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/host/inspect"
	"github.com/wasmpool/wasmpool/internal/wasmbin"
)

// described returns a tiny command module with a wasmpool section of text
// (none for nil).
func described(text []byte) []byte {
	mod := wasmbin.Module(wasmbin.Types, wasmbin.OneFunc, wasmbin.Memory, wasmbin.ExportAll("_start", 0), wasmbin.Code)
	if text == nil {
		return mod
	}
	return wasmbin.Cat(mod, wasmbin.Section(0, wasmbin.Cat(wasmbin.Name("wasmpool"), text)...))
}

func TestWithSection(t *testing.T) {
	data := t.TempDir()
	lenpfx, lines := frames.LenPfx, frames.Lines
	type want struct {
		framing, reply frames.Framing
		mode           host.Mode
		section        bool
	}
	for _, tc := range []struct {
		desc    string
		section string // "-" for none
		cfg     host.Config
		want    want
		err     string // a substring of the error; "" for none
		errType any    // *host.GrantError, *host.ConflictError or nil
	}{
		{"no section", "-", host.Config{}, want{lines, lines, host.Stream, false}, "", nil},
		{"no section, a mode", "-", host.Config{Mode: host.Tagged}, want{lines, lines, host.Tagged, false}, "", nil},
		{"empty section", "", host.Config{}, want{lines, lines, host.Stream, true}, "", nil},
		{"defaults", "framing zero\nreply-framing lenpfx\none-to-one\n", host.Config{},
			want{frames.Zero, lenpfx, host.Ordered, true}, "", nil},
		{"reply framing follows framing", "framing zero\n", host.Config{},
			want{frames.Zero, frames.Zero, host.Stream, true}, "", nil},
		{"reply framing alone", "reply-framing lenpfx\n", host.Config{Framing: frames.Zero},
			want{frames.Zero, lenpfx, host.Stream, true}, "", nil},
		{"the same framing, set", "framing lenpfx\none-to-one\n", host.Config{Framing: lenpfx, ReplyFraming: &lenpfx},
			want{lenpfx, lenpfx, host.Ordered, true}, "", nil},
		{"Stream set overrides one-to-one", "one-to-one\n", host.Config{Mode: host.Stream},
			want{lines, lines, host.Stream, true}, "", nil},
		{"Tagged set overrides one-to-one", "one-to-one\n", host.Config{Mode: host.Tagged},
			want{lines, lines, host.Tagged, true}, "", nil},
		{"framing conflict", "framing zero\n", host.Config{Framing: lenpfx}, want{}, "Framing: lenpfx, but the wasmpool section of m.wasm declares the framing zero", &host.ConflictError{}},
		{"reply conflict", "framing zero\n", host.Config{ReplyFraming: &lines}, want{}, "ReplyFraming: lines, but the wasmpool section of m.wasm declares the reply framing zero", &host.ConflictError{}},
		{"ignored conflict", "framing zero\none-to-one\n", host.Config{Framing: lenpfx, IgnoreSection: true},
			want{lenpfx, lenpfx, host.Stream, false}, "", nil},
		{"missing dir", "dir /data\n", host.Config{}, want{}, "m.wasm needs a directory at /data (its wasmpool section says so): add a Dir with Guest \"/data\"", &host.GrantError{}},
		{"optional dir", "dir /data optional\nenv TZ optional\n", host.Config{}, want{lines, lines, host.Stream, true}, "", nil},
		{"dir granted", "dir /data/in\n", host.Config{Dirs: []host.Dir{{Host: data, Guest: "/data", ReadOnly: true}}}, want{lines, lines, host.Stream, true}, "", nil},
		{"root granted", "dir /data/in rw\n", host.Config{Dirs: []host.Dir{{Host: data, Guest: "/"}}}, want{lines, lines, host.Stream, true}, "", nil},
		{"not a prefix", "dir /database\n", host.Config{Dirs: []host.Dir{{Host: data, Guest: "/data"}}}, want{}, "at /database", &host.GrantError{}},
		{"write into read-only", "dir /out rw\n", host.Config{Dirs: []host.Dir{{Host: data, Guest: "/out", ReadOnly: true}}}, want{}, "m.wasm writes under /out (its wasmpool section says so), but the grant at /out is ReadOnly", &host.GrantError{}},
		{"the closest grant decides", "dir /out/sub rw\n", host.Config{Dirs: []host.Dir{{Host: data, Guest: "/out"}, {Host: data, Guest: "/out/sub", ReadOnly: true}, {Host: data, Guest: "/"}}}, want{}, "the grant at /out/sub is ReadOnly", &host.GrantError{}},
		{"the closest grant writes", "dir /out/sub rw\n", host.Config{Dirs: []host.Dir{{Host: data, Guest: "/", ReadOnly: true}, {Host: data, Guest: "/out/"}}}, want{lines, lines, host.Stream, true}, "", nil},
		{"missing env", "env GREETING\n", host.Config{Env: []string{"GREETINGS=x"}}, want{}, "m.wasm needs the environment variable GREETING (its wasmpool section says so): pass GREETING=VALUE in Env", &host.GrantError{}},
		{"env passed", "env GREETING\n", host.Config{Env: []string{"GREETING="}}, want{lines, lines, host.Stream, true}, "", nil},
		{"ignored needs", "dir /data\nenv X\n", host.Config{IgnoreSection: true}, want{lines, lines, host.Stream, false}, "", nil},
		{"invalid section", "framing fixed:007\n", host.Config{}, want{}, `m.wasm: inspect: invalid wasmpool section: line 1: framing: invalid framing "fixed:007"`, nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Module = "m.wasm"
			if tc.section == "-" {
				cfg.ModuleBytes = described(nil)
			} else {
				cfg.ModuleBytes = described([]byte(tc.section))
			}
			before := cfg
			before.Dirs = slices.Clone(cfg.Dirs)
			got, sec, err := cfg.WithSection()
			if !reflect.DeepEqual(cfg, before) {
				t.Errorf("WithSection changed its Config: %+v, was %+v", cfg, before)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				switch tc.errType.(type) {
				case *host.GrantError:
					var ge *host.GrantError
					if !errors.As(err, &ge) || !errors.Is(err, host.ErrConfig) || ge.Module != "m.wasm" || (ge.Dir == nil) == (ge.Env == nil) {
						t.Errorf("error %#v, want a *GrantError wrapping ErrConfig", err)
					}
				case *host.ConflictError:
					var ce *host.ConflictError
					if !errors.As(err, &ce) || !errors.Is(err, host.ErrConfig) || ce.Config == ce.Section {
						t.Errorf("error %#v, want a *ConflictError wrapping ErrConfig", err)
					}
				default:
					if !errors.Is(err, host.ErrModule) || !errors.Is(err, inspect.ErrSection) {
						t.Errorf("error %v, want ErrModule and inspect.ErrSection", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reply := got.Framing
			if got.ReplyFraming != nil {
				reply = *got.ReplyFraming
			}
			if g := (want{got.Framing, reply, got.Mode, sec != nil}); g != tc.want {
				t.Errorf("got %+v, want %+v", g, tc.want)
			}
		})
	}
}

func TestWithSectionBadModules(t *testing.T) {
	for _, tc := range []struct {
		desc string
		cfg  host.Config
		want error
	}{
		{"missing", host.Config{Module: filepath.Join(t.TempDir(), "nope.wasm")}, os.ErrNotExist},
		{"component", host.Config{ModuleBytes: []byte("\x00asm\x0d\x00\x01\x00")}, inspect.ErrNotModule},
		{"truncated", host.Config{ModuleBytes: []byte("\x00asm\x01\x00\x00\x00\x01\x09\x01")}, inspect.ErrMalformed},
	} {
		_, _, err := tc.cfg.WithSection()
		if !errors.Is(err, host.ErrModule) || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want ErrModule and %v", tc.desc, err, tc.want)
		}
	}
	// Without a module to read, there is nothing to apply.
	for _, cfg := range []host.Config{{Command: []string{"/bin/cat"}}, {}, {Module: "nope.wasm", IgnoreSection: true}} {
		got, sec, err := cfg.WithSection()
		if err != nil || sec != nil || got.Mode != host.Stream {
			t.Errorf("%+v: %v, %v, mode %v", cfg, sec, err, got.Mode)
		}
	}
}

// TestNewAppliesSection: a pool of a described guest runs with its
// framing and one-reply mode, says what it applied, and refuses to start
// without the grants it needs.
func TestNewAppliesSection(t *testing.T) {
	code, err := os.ReadFile(testGuest)
	if err != nil {
		t.Fatal(err)
	}
	withSection := func(text string) []byte {
		mod, err := inspect.SetModuleSection(code, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return mod
	}
	ctx := context.Background()
	cfg := host.Config{ModuleBytes: withSection("framing zero\none-to-one\nenv GREETING optional\n"), Module: "tg.wasm",
		CacheDir: cacheDir, Kids: 1, Args: []string{"zero", "echo"}, Stderr: &testWriter{t: t}}
	p, err := host.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Config()
	if got.Framing != frames.Zero || *got.ReplyFraming != frames.Zero || got.Mode != host.Ordered {
		t.Errorf("pool config: %v, %v, %v", got.Framing, *got.ReplyFraming, got.Mode)
	}
	if s := p.Section(); s == nil || !s.OneToOne || s.Framing != "zero" {
		t.Errorf("Section() = %+v", s)
	}
	reqs := [][]byte{[]byte("a\nb"), []byte("c"), []byte("d")}
	var replies []string
	for r, err := range p.Run(ctx, slices.Values(reqs)) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Index != len(replies) {
			t.Errorf("reply %d has index %d: not Ordered", len(replies), r.Index)
		}
		replies = append(replies, string(r.Data))
	}
	p.Close()
	if !slices.Equal(replies, []string{"a\nb", "c", "d"}) {
		t.Errorf("replies %q", replies)
	}
	if cfg.Mode != host.Auto || cfg.ReplyFraming != nil {
		t.Errorf("New changed the caller's Config: %+v", cfg)
	}

	// a need not granted: no kid starts
	_, err = host.New(ctx, host.Config{ModuleBytes: withSection("dir /data rw\n"), Module: "tg.wasm", CacheDir: cacheDir, Kids: 1})
	var ge *host.GrantError
	if !errors.As(err, &ge) || ge.Dir == nil || ge.Dir.Path != "/data" || !ge.Dir.Write {
		t.Fatalf("New without the grant: %v, want a *GrantError for /data", err)
	}
	checkNoKids(t)
}

// TestNewKeepsCallersDirs: New fills in Dirs' defaults in its own copy.
func TestNewKeepsCallersDirs(t *testing.T) {
	dirs := []host.Dir{{Host: "testdata"}}
	p := newPool(t, host.Config{Mode: host.Ordered, Kids: 1, Dirs: dirs}, "echo")
	if dirs[0] != (host.Dir{Host: "testdata"}) {
		t.Errorf("the caller's Dirs became %+v", dirs)
	}
	if d := p.Config().Dirs[0]; !filepath.IsAbs(d.Host) || d.Guest != "testdata" {
		t.Errorf("the pool's Dirs: %+v", d)
	}
}
