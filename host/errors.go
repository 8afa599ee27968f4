package host

import (
	"errors"
	"fmt"
	"strings"
)

// ErrProtocol: a guest broke the reply contract of the pool's mode (more or
// fewer than one reply per request in Tagged or Ordered mode) or wrote a
// malformed reply stream.
var ErrProtocol = errors.New("host: guest broke the reply protocol")

// ErrUnsupported: New was called on a system other than Linux. The
// package builds everywhere, so that a program importing it compiles for
// any system, but its kids need Linux's openat2 (5.6) and pidfd_open (5.3)
// and prctl's no-new-privileges, and New there returns an error wrapping
// this one.
var ErrUnsupported = errors.New("host: wasmpool kids need Linux (openat2, pidfd, prctl)")

// ErrKidsFailing: kids died faster than the pool restarts them; the run was
// given up. The error wraps the last *KidError.
var ErrKidsFailing = errors.New("host: kids keep failing")

// KidError reports a kid that ended abnormally: it exited non-zero, trapped,
// was killed, broke the protocol, or exited while it still held requests.
type KidError struct {
	Kid      int    // kid slot number, from 1
	Pid      int    // process id
	ExitCode int    // exit status, or -1 when killed by a signal
	Signal   string // the signal that killed it, if any
	Trap     string // the wasm trap message, if the guest trapped
	Stderr   []string
	// Lost lists the indices of requests the kid held when it died (Tagged
	// and Ordered modes); each is also retried or reported on its own.
	Lost []int
	Err  error // the cause found by the pool, if any (e.g. ErrProtocol)
}

func (e *KidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kid %d (pid %d)", e.Kid, e.Pid)
	switch {
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	case e.Trap != "":
		fmt.Fprintf(&b, ": wasm trap: %s", e.Trap)
	case e.Signal != "":
		fmt.Fprintf(&b, ": killed by %s", e.Signal)
	default:
		fmt.Fprintf(&b, ": exited with status %d", e.ExitCode)
	}
	if e.Err != nil && e.Signal != "" && !errors.Is(e.Err, ErrTimeout) {
		fmt.Fprintf(&b, " (killed by %s)", e.Signal)
	}
	if n := len(e.Lost); n > 0 {
		fmt.Fprintf(&b, "; %d request(s) in flight", n)
	}
	if len(e.Stderr) > 0 && e.Trap == "" {
		fmt.Fprintf(&b, "; stderr: %s", e.Stderr[len(e.Stderr)-1])
	}
	return b.String()
}

func (e *KidError) Unwrap() error { return e.Err }

// RequestError reports a request that got no reply: it was too large, or
// the kids it was given to failed on it more often than the retries allow,
// or (Stream mode) its kid died while the guest had it.
type RequestError struct {
	Index int // the request's index in the input, from 0
	// Request is the request's payload, so that failed requests can be
	// kept aside and run again (the CLI's --failed file).
	Request []byte
	Err     error // the cause, often a *KidError
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("request %d: %v", e.Index, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// ErrTimeout: a request took longer than Config.Timeout; its kid was
// stopped.
var ErrTimeout = errors.New("host: request timed out")

// WriteError reports that writing replies to Filter's writer failed; it
// ends the run.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "host: writing the replies: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }
