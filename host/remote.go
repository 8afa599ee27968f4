package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Remote places kids on another machine. Each of its kids is a process
// that runs Command, then Wasmpool, then "kid": a command whose stdin,
// stdout and stderr reach "wasmpool kid" there (ssh HOST, srun …). The
// kid takes its spec, and the module unless its cache holds it, over that
// stream; replies, progress and the exit status come back the same way.
// A remote kid that dies, or whose connection is lost, is a dead kid:
// its requests are retried or reported as for a local one.
//
// Dirs, like everything in the spec, name paths on the machine where the
// kid runs. See docs/remote.md.
type Remote struct {
	// Name says where the kids run, in messages; empty means Command.
	Name string
	// Kids is how many kids run there; 0 means 1.
	Kids int
	// Command starts a command on that machine with its stdio connected:
	// {"ssh", "host1"}, {"srun", "--jobid=42", "-n1", …}.
	Command []string
	// Wasmpool is the command that runs wasmpool there; nil means
	// "wasmpool", found on that machine's PATH. Over ssh these words are
	// joined into a shell command line, as ssh does.
	Wasmpool []string
}

func (r Remote) String() string {
	if r.Name != "" {
		return r.Name
	}
	return strings.Join(r.Command, " ")
}

// argv is what starts one of its kids.
func (r Remote) argv() []string {
	w := r.Wasmpool
	if w == nil {
		w = []string{"wasmpool"}
	}
	return append(append(slices.Clone(r.Command), w...), "kid")
}

// SSH returns the Remote of a GNU parallel sshlogin, "[N/]HOST": N kids
// (1 if not given) on HOST, started with the ssh command (nil means
// {"ssh"}). HOST is anything that command takes, user@host or a name
// from ssh_config. An sshlogin of ":" is this machine and is no Remote;
// SSH refuses it.
func SSH(login string, ssh []string) (Remote, error) {
	kids := 1
	host := login
	if n, h, ok := strings.Cut(login, "/"); ok {
		k, err := strconv.Atoi(n)
		if err != nil || k < 1 {
			return Remote{}, fmt.Errorf("%w: sshlogin %q: %q is not a number of kids", ErrConfig, login, n)
		}
		kids, host = k, h
	}
	switch {
	case host == "":
		return Remote{}, fmt.Errorf("%w: sshlogin %q names no host", ErrConfig, login)
	case host == ":":
		return Remote{}, fmt.Errorf("%w: sshlogin %q is this machine: give its kids as Config.Kids", ErrConfig, login)
	case strings.HasPrefix(host, "-"):
		return Remote{}, fmt.Errorf("%w: sshlogin %q: a host cannot start with '-'", ErrConfig, login)
	}
	if ssh == nil {
		ssh = []string{"ssh"}
	}
	// -T: no terminal, so the stream is binary-safe; -x: no X11; -a: no
	// agent; BatchMode: fail rather than prompt (a kid cannot answer, and
	// ssh would stop on the terminal); ConnectTimeout: a host that does
	// not answer is a dead kid within seconds. Options given in ssh come
	// first and win.
	cmd := append(slices.Clone(ssh), "-T", "-x", "-a", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "--", host)
	return Remote{Name: "ssh " + host, Kids: kids, Command: cmd}, nil
}

// Srun returns the Remote of kids run as Slurm job steps of job jobID,
// one task each, started with the srun command (nil means {"srun"}). The
// job is an allocation the caller holds (salloc, sbatch, or the job the
// caller runs in: $SLURM_JOB_ID).
func Srun(jobID string, kids int, srun []string) Remote {
	if srun == nil {
		srun = []string{"srun"}
	}
	cmd := append(slices.Clone(srun), "--jobid="+jobID, "--ntasks=1", "--nodes=1", "--exact", "--quiet", "--kill-on-bad-exit=1", "--input=all", "--")
	return Remote{Name: "slurm job " + jobID, Kids: kids, Command: cmd}
}

// SlurmJob is a Slurm allocation made for a pool's kids (see
// AllocateSlurm); Release gives it back.
type SlurmJob struct {
	ID      string
	scancel []string
}

// AllocateSlurm asks Slurm for an allocation of the given number of
// tasks, one CPU each, with salloc --no-shell (the salloc command given,
// nil meaning {"salloc"}, with any options of the user's), and returns
// it once granted; run the kids in it with Srun, then Release it. It
// waits, as salloc does, until the resources are free or ctx is done.
func AllocateSlurm(ctx context.Context, tasks int, salloc []string) (*SlurmJob, error) {
	if salloc == nil {
		salloc = []string{"salloc"}
	}
	argv := append(slices.Clone(salloc), "--no-shell", fmt.Sprintf("--ntasks=%d", tasks), "--cpus-per-task=1", "--job-name=wasmpool")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// SIGTERM, not SIGKILL: salloc then withdraws its pending request,
	// which would otherwise be granted later and held with no shell.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	m := grantedRE.FindSubmatch(stderr.Bytes())
	if m == nil {
		if err == nil {
			err = errors.New("it did not say which job it granted")
		}
		return nil, fmt.Errorf("host: %s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return &SlurmJob{ID: string(m[1]), scancel: []string{"scancel"}}, nil
}

var grantedRE = regexp.MustCompile(`Granted job allocation (\d+)`)

// Release ends the allocation (scancel), and with it any step still
// running in it.
func (j *SlurmJob) Release() error {
	out, err := exec.Command(j.scancel[0], append(j.scancel[1:], j.ID)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("host: scancel %s: %w: %s", j.ID, err, bytes.TrimSpace(out))
	}
	return nil
}
