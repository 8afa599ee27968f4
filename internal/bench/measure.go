package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// bcase is one benchmark case: a function measuring one sample of a
// section's metrics, run several times.
type bcase struct {
	name    string
	note    string // shown beside the name in the report
	skip    string // why it does not run; "fail: ..." when a build failed
	run     func() ([]float64, error)
	samples [][]float64
	err     error
}

func (c *bcase) ok() bool { return c.err == nil && c.skip == "" && len(c.samples) > 0 }

// med returns the median of metric i over the runs, NaN if there is none.
func (c *bcase) med(i int) float64 {
	if !c.ok() {
		return math.NaN()
	}
	var v []float64
	for _, s := range c.samples {
		v = append(v, s[i])
	}
	return median(v)
}

// spread returns the smallest and largest value of metric i.
func (c *bcase) spread(i int) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range c.samples {
		lo, hi = min(lo, s[i]), max(hi, s[i])
	}
	return lo, hi
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// measure runs every case e.runs times, interleaved (run 1 of every case,
// then run 2, ...), so that the noise of a shared machine falls on all
// cases alike and ratios within a run stay meaningful.
func measure(e *env, section string, cases []*bcase, show func([]float64) string) {
	for _, c := range cases {
		if strings.HasPrefix(c.skip, "fail: ") {
			c.err = errors.New(strings.TrimPrefix(c.skip, "fail: "))
			c.skip = ""
		}
		if c.skip == "" && c.err == nil && !strings.Contains(c.name, e.match) {
			c.skip = "not chosen by -case"
			continue
		}
		if c.skip != "" {
			logf("%s: %s: %s", section, c.name, firstLine(c.skip))
		}
	}
	for r := 1; r <= e.runs; r++ {
		for _, c := range cases {
			if c.skip != "" || c.err != nil {
				continue
			}
			if err := e.ctx.Err(); err != nil {
				return
			}
			t0 := time.Now()
			m, err := c.run()
			took := time.Since(t0)
			if err != nil {
				if tail := strings.TrimSpace(e.stderr.take()); tail != "" {
					err = fmt.Errorf("%w\nkid stderr:\n%s", err, tail)
				}
				c.err = err
				logf("%s: %s: FAILED: %v", section, c.name, err)
				continue
			}
			c.samples = append(c.samples, m)
			logf("%s: %s: run %d/%d: %s [%v]", section, c.name, r, e.runs, show(m), took.Round(time.Millisecond))
		}
	}
}

// timing is one pass of requests through a pool.
type timing struct {
	newDur  time.Duration // host.New: compile (from the cache) and start the kids
	first   time.Duration // from New's return to the first reply
	total   time.Duration // from before New to the end of the run (kids reaped)
	replies int
	bytes   int64
	sum     uint64 // sumHash of the replies, when asked for
}

// pass creates a pool, streams requests through it, and times it all. With
// hash set it sums a hash of every reply (an order-free checksum).
func pass(ctx context.Context, cfg host.Config, requests iter.Seq[[]byte], hash bool) (timing, error) {
	var t timing
	t0 := time.Now()
	pool, err := host.New(ctx, cfg)
	if err != nil {
		return t, err
	}
	defer pool.Close()
	t1 := time.Now()
	t.newDur = t1.Sub(t0)
	for r, err := range pool.Run(ctx, requests) {
		if err != nil {
			return t, err
		}
		if t.replies == 0 {
			t.first = time.Since(t1)
		}
		t.replies++
		t.bytes += int64(len(r.Data))
		if hash {
			t.sum += lineHash(r.Data)
		}
	}
	t.total = time.Since(t0)
	return t, nil
}

// lineHash hashes one line; summing the hashes of many lines gives a
// checksum that does not depend on their order.
func lineHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// repeat yields payload n times.
func repeat(payload []byte, n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for range n {
			if !yield(payload) {
				return
			}
		}
	}
}

// cpuMark is a reading of the CPU time used by this process and by its
// children that were waited for (kids are reaped by the end of a run).
// CPU time, unlike wall time, is not inflated when other work shares the
// machine (much, anyway: caches and frequency still are).
type cpuMark struct{ self, kids time.Duration }

func cpuNow() cpuMark {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	return cpuMark{cpuTime(self), cpuTime(kids)}
}

func cpuTime(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// since returns the CPU time used since m, by this process and by reaped
// children.
func (m cpuMark) since() (self, kids time.Duration) {
	n := cpuNow()
	return n.self - m.self, n.kids - m.kids
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
