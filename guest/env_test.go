package guest_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func framingPtr(f frames.Framing) *frames.Framing { return &f }

// replyFraming is the reply framing opt stands for.
func replyFraming(opt guest.Options) frames.Framing {
	if opt.Replies != nil {
		return *opt.Replies
	}
	return opt.Requests
}

func TestFromEnv(t *testing.T) {
	var none frames.Framing // not looked at: an error is expected
	lines, fixed4 := guest.Options{Requests: frames.Lines}, guest.Options{Requests: frames.Fixed(4), Strict: true}
	toLenPfx := guest.Options{Requests: frames.Zero, Replies: framingPtr(frames.LenPfx), MaxFrame: 99}
	tests := []struct {
		name          string
		opt           guest.Options
		frames, reply string // the variables; "" is unset
		req, rep      frames.Framing
		err           string // a part of the error; "" for none
	}{
		{"unset", lines, "", "", frames.Lines, frames.Lines, ""},
		{"unset-own-replies", toLenPfx, "", "", frames.Zero, frames.LenPfx, ""},
		{"frames", lines, "zero", "", frames.Zero, frames.Zero, ""},
		{"frames-own-replies", toLenPfx, "fixed:8", "", frames.Fixed(8), frames.Fixed(8), ""},
		{"both", lines, "lenpfx", "zero", frames.LenPfx, frames.Zero, ""},
		{"reply-only", toLenPfx, "", "lines", frames.Zero, frames.Lines, ""},
		{"strict-same", fixed4, "fixed:4", "fixed:4", frames.Fixed(4), frames.Fixed(4), ""},
		{"strict-same-frames-only", fixed4, "fixed:4", "", frames.Fixed(4), frames.Fixed(4), ""},
		{"strict-unset", fixed4, "", "", frames.Fixed(4), frames.Fixed(4), ""},
		{"strict-requests", fixed4, "lines", "", none, none, "this guest reads fixed:4 requests; the pool sends lines"},
		{"strict-replies", fixed4, "fixed:4", "lenpfx", none, none, "this guest writes fixed:4 replies; the pool reads lenpfx"},
		{"bad-frames", lines, "words", "", none, none, abi.FramesEnv + `: frames: invalid framing "words"`},
		{"bad-reply", lines, "lines", "fixed:0", none, none, abi.ReplyFramesEnv + `: frames: invalid framing "fixed:0"`},
		{"bad-strict", fixed4, "fixed:x", "", none, none, "invalid framing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(abi.FramesEnv, tt.frames)
			t.Setenv(abi.ReplyFramesEnv, tt.reply)
			opt, err := guest.FromEnv(tt.opt)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("FromEnv = %v, want an error with %q", err, tt.err)
				}
				if strings.HasPrefix(tt.name, "bad") && !errors.Is(err, frames.ErrFraming) {
					t.Errorf("error %v does not wrap frames.ErrFraming", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opt.Requests != tt.req || replyFraming(opt) != tt.rep {
				t.Errorf("framings %v → %v, want %v → %v", opt.Requests, replyFraming(opt), tt.req, tt.rep)
			}
			if opt.MaxFrame != tt.opt.MaxFrame || opt.Strict != tt.opt.Strict {
				t.Errorf("options %+v, want the limits of %+v", opt, tt.opt)
			}
			if opt.Replies != nil && *opt.Replies == opt.Requests {
				t.Errorf("Replies set to the request framing %v: want nil", opt.Requests)
			}
		})
	}
}

// TestServeEnv runs Serve in a child process (this test binary) to see what
// a guest does with the pool's framings: adopts them, or, strict, refuses
// them with exit status 1.
func TestServeEnv(t *testing.T) {
	if mode := os.Getenv("GUEST_TEST_SERVE"); mode != "" {
		opt := guest.Options{Requests: frames.Lines, Strict: mode == "strict"}
		guest.ServeOptions(opt, echo)
		os.Exit(0)
	}
	tests := []struct {
		mode, frames string
		in, out      string
		code         int
		stderr       string
	}{
		{"plain", "", "a\nb\n", "a\nb\n", 0, ""},
		{"plain", "zero", "a\nb\x00c\x00", "a\nb\x00c\x00", 0, ""},
		{"strict", "lines", "a\nb\n", "a\nb\n", 0, ""},
		{"strict", "zero", "a\x00", "", 1, "guest: this guest reads lines requests; the pool sends zero\n"},
		{"plain", "lenpfx8", "a\n", "", 1, "guest: WASMPOOL_FRAMES: frames: invalid framing \"lenpfx8\": want lines, zero, lenpfx or fixed:N\n"},
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^TestServeEnv$")
		cmd.Env = append(os.Environ(), "GUEST_TEST_SERVE="+tt.mode, abi.FramesEnv+"="+tt.frames, abi.ReplyFramesEnv+"=")
		cmd.Stdin = strings.NewReader(tt.in)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if code != tt.code || out.String() != tt.out || errb.String() != tt.stderr {
			t.Errorf("%s guest, %s=%q: exit %d (%v), stdout %q, stderr %q; want exit %d, stdout %q, stderr %q",
				tt.mode, abi.FramesEnv, tt.frames, code, err, out.String(), errb.String(), tt.code, tt.out, tt.stderr)
		}
	}
}
