package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// progress reports how far a run is, on stderr, in work done, as
// parallel --bar and pv do: with batch instances, the bytes of input whose
// records are finished, of the total, with rate and ETA when the input
// size is known; otherwise the records finished of those taken, and rate.
type progress struct {
	con   *console
	total int64        // bytes of input, -1 if unknown
	read  func() int64 // bytes read so far
	pool  *host.Pool
	start time.Time
}

// loop draws the progress until stop is closed, then draws it once more
// and closes done.
func (p *progress) loop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := 200 * time.Millisecond
	if !p.con.tty {
		every = time.Second // a line each time: not too many
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			p.con.status(p.line(time.Now()))
			p.con.endStatus()
			return
		case now := <-t.C:
			p.con.status(p.line(now))
		}
	}
}

func (p *progress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	secs := max(elapsed.Seconds(), 1e-3)
	pr := p.pool.Progress()
	var b strings.Builder
	b.WriteString("wasmpool: ")
	if p.total >= 0 && p.pool.Instances() == host.BatchInstances {
		done := pr.DoneBytes
		frac := 1.0
		if p.total > 0 {
			frac = min(1, float64(done)/float64(p.total))
		}
		if p.con.tty {
			const width = 20
			full := int(frac * width)
			b.WriteString("[" + strings.Repeat("=", full) + strings.Repeat(" ", width-full) + "] ")
		}
		rate := float64(done) / secs
		fmt.Fprintf(&b, "%3.0f%% %s of %s done, %s/s", 100*frac, formatSize(done), formatSize(p.total), formatSize(int64(rate)))
		if done < p.total && rate > 0 {
			eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", ETA %s", formatETA(eta))
		}
		fmt.Fprintf(&b, " · %s done", plural(int(pr.Done), "request"))
	} else {
		fmt.Fprintf(&b, "%d of %s done (%.0f/s) · %s read", pr.Done, plural(int(pr.Taken), "request"), float64(pr.Done)/secs, formatSize(p.read()))
	}
	fmt.Fprintf(&b, " · %s", formatETA(elapsed))
	return b.String()
}

func formatETA(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
