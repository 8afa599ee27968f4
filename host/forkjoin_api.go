package host

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// ForkJoinOptions says what the parts of a [ForkJoin] read, where their
// output goes, and when to stop.
type ForkJoinOptions struct {
	// Stdin returns the stdin of an attempt at the part; nil (or a nil
	// reader) gives an empty stdin. It is called once per attempt, so
	// that a retry reads its input from the start: return a new reader
	// each time (io.NewSectionReader, bytes.NewReader). ForkJoin returns
	// only after every Read it made has returned.
	Stdin func(part int) io.Reader
	// Stdout returns where an attempt at the part writes its stdout; nil
	// discards it. It is called once per attempt, before the attempt's
	// kid starts, so that a retry starts clean: truncate or create the
	// file again (the failed attempt's bytes stay where they went).
	// ForkJoin never closes the writer; writes to one part's writer come
	// from one goroutine at a time, and writes to different parts' writers
	// concurrently. An error from Stdout fails the part, unretried.
	Stdout func(part int) (io.Writer, error)
	// FailFast stops the other parts at the first part that fails for
	// good (after its retries), as errgroup.WithContext does: running
	// parts are killed and parts not started are not run, each with
	// ErrPartStopped.
	FailFast bool
	// Done, if not nil, is called with each part's result as soon as the
	// part is over for good (done, failed after its retries, or stopped),
	// one call at a time, in the goroutine that called ForkJoin.
	Done func(part int, r PartResult)
}

// PartResult is how one part of a fork-join ended.
type PartResult struct {
	Range Range
	// ExitCode is the guest's exit status in the part's last attempt: 0
	// when it succeeded, -1 when its kid was killed or it never ran.
	ExitCode int
	// Stderr holds the last lines the last attempt wrote to its stderr.
	Stderr []string
	// Attempts counts the kids started for the part: 0 if it never ran,
	// more than 1 if it was retried.
	Attempts int
	// Output counts the bytes the last attempt wrote to its stdout.
	Output int64
	// Wall is the wall time of the last attempt, kid start-up included.
	Wall time.Duration
	// Err is nil when the part succeeded. Otherwise it is a *KidError (a
	// guest that exited non-zero, trapped or was killed; with Err
	// ErrTimeout after Config.Timeout), or wraps ErrPartStopped or the
	// context's error for a part stopped or never run, or says why an
	// attempt could not start.
	Err error
}

// PartError is ForkJoin's error for a part that failed.
type PartError struct {
	Part  int
	Range Range
	Err   error // the part's PartResult.Err
}

func (e *PartError) Error() string {
	return fmt.Sprintf("part %d %v: %v", e.Part, e.Range, e.Err)
}

func (e *PartError) Unwrap() error { return e.Err }

// ErrPartStopped: a part was stopped, or never started, because another
// part failed and ForkJoinOptions.FailFast was set.
var ErrPartStopped = errors.New("host: part stopped: another part failed")
