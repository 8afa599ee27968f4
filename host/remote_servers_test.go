package host_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/remotetest"
)

// sshRemote is a Remote of kids kids behind the test's own sshd: this
// test binary, serving as "wasmpool kid", with the test's remote cache.
func sshRemote(t *testing.T, s *remotetest.SSH, hostAlias string, kids int) host.Remote {
	r, err := host.SSH(hostAlias, s.Command)
	if err != nil {
		panic(err)
	}
	r.Kids = kids
	r.Wasmpool = append([]string{"env"}, farEnd(t, remoteCache)...)
	return r
}

// TestSSH runs pools whose kids are all, or half, behind a real sshd on
// loopback, in session and batch instances, Stream and ordered: the
// replies are those of local kids.
func TestSSH(t *testing.T) {
	s := remotetest.SSHD(t)
	reqs := lines(20000, 11)
	for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
		for _, mode := range []host.Mode{host.Stream, host.Ordered} {
			for _, local := range []int{0, 1} {
				name := inst.String() + "/" + mode.String() + "/" + map[int]string{0: "all-remote", 1: "half"}[local]
				t.Run(name, func(t *testing.T) {
					cfg := host.Config{Kids: local, Mode: mode, Instances: inst, BatchSize: 16 << 10,
						Remotes: []host.Remote{sshRemote(t, s, s.Hosts[0], 2-local)}}
					checkSameReplies(t, newPool(t, cfg, "echo"), reqs, mode == host.Ordered)
				})
			}
		}
	}
}

// checkSameReplies runs reqs through the echo guest's pool p and checks
// every request got its reply, in order if ordered, and every kid took
// part.
func checkSameReplies(t *testing.T, p *host.Pool, reqs [][]byte, ordered bool) {
	t.Helper()
	o := collect(t, p, reqs)
	if o.fatal != nil || len(o.reqErrs) > 0 || len(o.kidErrs) > 0 {
		t.Fatalf("fatal %v, request errors %v, kid errors %v", o.fatal, o.reqErrs, o.kidErrs)
	}
	got := make([]string, len(o.replies))
	for i, r := range o.replies {
		got[i] = string(r.Data)
	}
	want := make([]string, len(reqs))
	for i, r := range reqs {
		want[i] = string(r)
	}
	if !ordered {
		slices.Sort(got)
		slices.Sort(want)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d replies, want %d, or not the same", len(got), len(want))
	}
	if s := p.Stats(); slices.Contains(s.PerKid, 0) {
		t.Errorf("a kid did nothing: %v", s.PerKid)
	}
}

// TestSSHKills kills, mid-run, a remote kid's guest process, then the
// whole sshd with its sessions: every request still gets its reply once
// (the kids here carry on), and nothing is left running.
func TestSSHKills(t *testing.T) {
	for _, fault := range []string{"kill the guest's process", "kill sshd"} {
		for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
			t.Run(fault+"/"+inst.String(), func(t *testing.T) {
				s := remotetest.SSHD(t)
				var stderr strings.Builder
				p := newPool(t, host.Config{Kids: 1, Mode: host.Ordered, Instances: inst, BatchSize: 4 << 10, Retries: 3,
					Remotes: []host.Remote{sshRemote(t, s, s.Hosts[0], 2)}, Stderr: &lockedWriter{w: &stderr}}, "echo")
				checkFaultLosesNothing(t, p, lines(30000, 13), func() bool {
					if fault == "kill sshd" {
						if len(remoteProcs(t, true)) < 2 {
							return false // strike once both remote kids run
						}
						s.KillAll()
						return true
					}
					return killRemote(t, 2)
				})
				t.Logf("the pool said: %s", stderr.String())
			})
		}
	}
}

// TestSlurm runs a pool whose kids are job steps of a Slurm allocation
// on the test's own one-node cluster.
func TestSlurm(t *testing.T) {
	c := remotetest.Slurm(t)
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // for salloc, srun and scancel, here and in the bridges
	}
	job, err := host.AllocateSlurm(context.Background(), 2, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Logs())
	}
	t.Cleanup(func() { job.Release() })
	reqs := lines(20000, 17)
	for _, inst := range []host.Instances{host.SessionInstances, host.BatchInstances} {
		for _, mode := range []host.Mode{host.Stream, host.Ordered} {
			t.Run(inst.String()+"/"+mode.String(), func(t *testing.T) {
				r := host.Srun(job.ID, 2, nil)
				r.Wasmpool = append([]string{"env"}, farEnd(t, remoteCache)...)
				cfg := host.Config{Mode: mode, Instances: inst, BatchSize: 16 << 10, Remotes: []host.Remote{r}}
				checkSameReplies(t, newPool(t, cfg, "echo"), reqs, mode == host.Ordered)
			})
		}
	}
	t.Run("timeout", func(t *testing.T) {
		r := host.Srun(job.ID, 2, nil)
		r.Wasmpool = append([]string{"env"}, farEnd(t, remoteCache)...)
		p := newPool(t, host.Config{Mode: host.Ordered, Instances: host.BatchInstances, Timeout: 500 * time.Millisecond,
			Remotes: []host.Remote{r}}, "loop")
		o := collect(t, p, requests(100, 20))
		if got := failedIndices(o); fmt.Sprint(got) != "[20]" || !errors.Is(o.reqErrs[0], host.ErrTimeout) {
			t.Errorf("failed requests %v, want [20], timed out (%v)", got, o.reqErrs)
		}
		p.Close()
		checkNoRemoteKids(t)
	})
	for _, fault := range []string{"kill the guest's process", "scancel a step"} {
		t.Run(fault, func(t *testing.T) {
			r := host.Srun(job.ID, 2, nil)
			r.Wasmpool = append([]string{"env"}, farEnd(t, remoteCache)...)
			p := newPool(t, host.Config{Kids: 1, Mode: host.Ordered, Instances: host.BatchInstances, BatchSize: 4 << 10,
				Retries: 3, Remotes: []host.Remote{r}}, "echo")
			checkFaultLosesNothing(t, p, lines(30000, 19), func() bool {
				if fault == "kill the guest's process" {
					return killRemote(t, 2)
				}
				if len(remoteProcs(t, true)) < 2 {
					return false // strike once both steps run their guests
				}
				steps, err := c.Cmd("squeue", "--steps", "--noheader", "--format=%i", "--jobs="+job.ID).Output()
				if err != nil {
					t.Fatalf("squeue: %v", err)
				}
				f := strings.Fields(string(steps))
				if len(f) == 0 {
					return false
				}
				t.Logf("scancel %s (of %v)", f[0], f)
				return c.Cmd("scancel", f[0]).Run() == nil
			})
		})
	}
	if err := job.Release(); err != nil {
		t.Error(err)
	}
}
