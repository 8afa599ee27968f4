package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/wasmpool/wasmpool/host"
)

// remoteFlags place kids on other machines: -S/--sshlogin and --ssh as
// GNU parallel has them, --slurm and --srun, and --remote-wasmpool.
type remoteFlags struct {
	logins   []string
	ssh      string
	slurm    int // kids as Slurm job steps; 0: the default number
	useSlurm bool
	srun     string
	wasmpool string
}

func (r *remoteFlags) add(fs *flagSet) {
	fs.heading("Other machines (see docs/remote.md)")
	fs.add(&option{long: "sshlogin", short: 'S', arg: "[N/]HOST", set: func(v string) error {
		if v == "" {
			return errors.New("empty sshlogin")
		}
		r.logins = append(r.logins, v)
		return nil
	}, usage: "run N kids on HOST over ssh (default N: -j); HOST is what ssh takes (user@host, a name from ~/.ssh/config). ':' is this machine; once -S is given, this machine runs kids only if ':' is among them. The remote needs only the same wasmpool release on its PATH; modules are sent once and cached there. Repeatable"})
	fs.add(&option{long: "ssh", arg: "CMD", set: nonEmpty(&r.ssh, "ssh command"),
		usage: "the ssh command, split at spaces (default: ssh), e.g. 'ssh -p 2222 -i key'"})
	fs.add(&option{long: "slurm", arg: "N", optional: true, set: func(v string) (err error) {
		r.useSlurm = true
		if v != "" && v != "true" {
			if r.slurm, err = parseCount(v); err == nil && r.slurm == 0 {
				err = errors.New("want a number of kids ≥ 1")
			}
		}
		return err
	}, usage: "run N kids as Slurm job steps (srun): in the job this runs in ($SLURM_JOB_ID; default N: $SLURM_NTASKS), or else in an allocation of N tasks asked for with salloc and given back at the end (default N: -j)"})
	fs.add(&option{long: "srun", arg: "CMD", set: nonEmpty(&r.srun, "srun command"),
		usage: "the srun command, split at spaces (default: srun), e.g. 'srun --mem-per-cpu=1G'; an allocation is asked for with salloc and the same options"})
	fs.add(&option{long: "remote-wasmpool", arg: "CMD", set: nonEmpty(&r.wasmpool, "command"),
		usage: "the command that runs wasmpool on the other machines (default: wasmpool, found on their PATH)"})
}

// place returns the number of kids on this machine and the Remotes, from
// the flags and -j (0 if not given); release gives back a Slurm
// allocation made for the run.
func (r *remoteFlags) place(ctx context.Context, jobs int) (local int, remotes []host.Remote, release func(), err error) {
	release = func() {}
	if len(r.logins) == 0 && !r.useSlurm {
		return jobs, nil, release, nil
	}
	var wasmpool []string
	if r.wasmpool != "" {
		wasmpool = strings.Fields(r.wasmpool)
	}
	perHost := jobs
	if perHost == 0 {
		perHost = defaultJobs()
	}
	for _, login := range r.logins {
		n, hostName, hasN := strings.Cut(login, "/")
		if !hasN {
			n, hostName = "", login
		}
		if hostName == ":" {
			k := perHost
			if hasN {
				if k, err = strconv.Atoi(n); err != nil || k < 1 {
					return 0, nil, release, fmt.Errorf("-S %s: %q is not a number of kids", login, n)
				}
			}
			local += k
			continue
		}
		if !hasN {
			login = fmt.Sprintf("%d/%s", perHost, login)
		}
		rem, err := host.SSH(login, fields(r.ssh))
		if err != nil {
			return 0, nil, release, fmt.Errorf("-S %s: %s", login, strings.TrimPrefix(err.Error(), host.ErrConfig.Error()+": "))
		}
		rem.Wasmpool = wasmpool
		remotes = append(remotes, rem)
	}
	if r.useSlurm {
		rem, rel, err := r.slurmRemote(ctx, jobs)
		if err != nil {
			return 0, nil, release, err
		}
		rem.Wasmpool = wasmpool
		remotes, release = append(remotes, rem), rel
	}
	return local, remotes, release, nil
}

// slurmRemote is the Remote of --slurm: steps of the job this runs in,
// or of an allocation it asks for.
func (r *remoteFlags) slurmRemote(ctx context.Context, jobs int) (host.Remote, func(), error) {
	srun := fields(r.srun)
	kids := r.slurm
	if id := os.Getenv("SLURM_JOB_ID"); id != "" {
		if kids == 0 {
			kids, _ = strconv.Atoi(os.Getenv("SLURM_NTASKS"))
		}
		if kids < 1 {
			kids = max(jobs, 1)
		}
		return host.Srun(id, kids, srun), func() {}, nil
	}
	if kids == 0 {
		kids = jobs
		if kids == 0 {
			kids = defaultJobs()
		}
	}
	var salloc []string
	if srun != nil {
		salloc = append([]string{"salloc"}, srun[1:]...)
	}
	job, err := host.AllocateSlurm(ctx, kids, salloc)
	if err != nil {
		return host.Remote{}, nil, fmt.Errorf("--slurm: %s", strings.TrimPrefix(err.Error(), "host: "))
	}
	return host.Srun(job.ID, kids, srun), func() { job.Release() }, nil
}

// defaultJobs is the number of kids -j means when not given.
func defaultJobs() int { return runtime.NumCPU() }

// fields splits a command at spaces; nil for none.
func fields(cmd string) []string {
	if cmd == "" {
		return nil
	}
	return strings.Fields(cmd)
}
