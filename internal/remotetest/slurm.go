package remotetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Where Debian puts the daemons (/usr/sbin may not be in PATH).
const (
	mungedPath    = "/usr/sbin/munged"
	slurmctldPath = "/usr/sbin/slurmctld"
	slurmdPath    = "/usr/sbin/slurmd"
)

const (
	slurmStartTimeout = 60 * time.Second
	slurmStartTries   = 3 // fresh ports to try when a picked one was taken meanwhile
	// slurmCPUs is the least number of CPUs the node claims to have
	// (slurmd's config_overrides lets it claim more than the machine's).
	slurmCPUs = 8
)

// Cluster is a running one-node Slurm cluster of its own: munged,
// slurmctld and slurmd on loopback ports, with its configuration, state
// and logs in a temporary directory.
type Cluster struct {
	// Env is what Slurm's clients (srun, salloc, sinfo, squeue,
	// scancel) need in their environment to talk to this cluster:
	// SLURM_CONF=Conf. Add it to a clean environment (see Cmd): SLURM_*
	// variables inherited from a real job would point srun elsewhere.
	Env []string
	// Nodes is the number of nodes (1), CPUs the number of CPUs the node
	// offers (at least 8, more than the machine may have: Slurm's CPUs
	// are what it hands out, not what runs them).
	Nodes, CPUs int
	// Node is the node's name (the short host name).
	Node string
	// Dir holds the configuration, the state, the spool and the logs.
	Dir string
	// Conf is the path of slurm.conf.
	Conf string

	munged, ctld, slurmd *daemon
}

// Slurm starts a Slurm cluster for the test and waits until it runs
// steps. It skips the test (fails it when WASMPOOL_REQUIRE_TOOLCHAINS
// is set) if the daemons or clients are missing or the test does not
// run as root. The test's Cleanup cancels every job, stops the daemons
// and kills every process the cluster started, and waits for them.
// Clusters are independent of each other: several may run at once.
func Slurm(t testing.TB) *Cluster {
	t.Helper()
	need(t, "slurm-wlm munge", mungedPath, slurmctldPath, slurmdPath, "srun", "salloc", "sinfo", "squeue", "scancel")
	host, err := os.Hostname()
	if err != nil {
		t.Fatalf("remotetest: slurm: host name: %v", err)
	}
	host, _, _ = strings.Cut(host, ".")
	c := &Cluster{Nodes: 1, CPUs: max(slurmCPUs, runtime.NumCPU()), Node: host, Dir: t.TempDir()}
	c.Conf = filepath.Join(c.Dir, "slurm.conf")
	c.Env = []string{"SLURM_CONF=" + c.Conf}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("remotetest: slurm: "+format+"\n%s", append(args, c.Logs())...)
	}
	for _, d := range []string{"state", "spool"} {
		if err := os.Mkdir(filepath.Join(c.Dir, d), 0o755); err != nil {
			fail("%v", err)
		}
	}
	key := make([]byte, 1024) // what mungekey makes: random bytes, mode 0400
	rand.Read(key)
	if err := os.WriteFile(c.path("munge.key"), key, 0o400); err != nil {
		fail("munge key: %v", err)
	}
	if err := os.WriteFile(c.path("plugstack.conf"), nil, 0o644); err != nil {
		fail("%v", err)
	}
	t.Cleanup(c.cleanup)

	c.munged, err = startDaemon("munged", c.path("munged.log"), c.environ(), mungedPath, "-F", "--force",
		"--socket="+c.path("munge.socket"), "--key-file="+c.path("munge.key"),
		"--pid-file="+c.path("munged.pid"), "--log-file="+c.path("munged.log"),
		"--seed-file="+c.path("munged.seed"))
	if err != nil {
		fail("%v", err)
	}
	deadline := time.Now().Add(slurmStartTimeout)
	for {
		if _, err := os.Stat(c.path("munge.socket")); err == nil {
			break
		}
		if c.munged.exited() || time.Now().After(deadline) {
			fail("munged made no socket")
		}
		time.Sleep(10 * time.Millisecond)
	}

	for try := 1; ; try++ {
		err := c.start(deadline)
		if err == nil {
			return c
		}
		var busy errPortTaken
		if !errors.As(err, &busy) || try == slurmStartTries {
			fail("%v", err)
		}
		t.Logf("remotetest: slurm: %v; trying other ports", err)
		c.slurmd.stop(syscall.SIGTERM, 5*time.Second)
		c.ctld.stop(syscall.SIGTERM, 5*time.Second)
	}
}

// start writes slurm.conf for fresh ports, starts slurmctld and slurmd
// and waits until the node is idle and runs a step.
func (c *Cluster) start(deadline time.Time) error {
	ctldPort, err := freePort()
	if err != nil {
		return err
	}
	slurmdPort := ctldPort
	for slurmdPort == ctldPort {
		if slurmdPort, err = freePort(); err != nil {
			return err
		}
	}
	if err := os.WriteFile(c.Conf, []byte(c.config(ctldPort, slurmdPort)), 0o644); err != nil {
		return err
	}
	env := c.environ()
	// -D: stay in the foreground; -i: ignore the state a try before
	// this one may have left.
	if c.ctld, err = startDaemon("slurmctld", c.path(fmt.Sprintf("slurmctld.%d.log", ctldPort)), env, slurmctldPath, "-D", "-i"); err != nil {
		return err
	}
	if c.slurmd, err = startDaemon("slurmd", c.path(fmt.Sprintf("slurmd.%d.out", slurmdPort)), env, slurmdPath, "-D", "-N", c.Node); err != nil {
		return err
	}

	var last string
	for {
		for _, d := range []*daemon{c.munged, c.ctld, c.slurmd} {
			if d.exited() {
				if d != c.munged && strings.Contains(d.logText(), "Address already in use") {
					return errPortTaken{fmt.Sprintf("%s: port %d or %d", d.name, ctldPort, slurmdPort)}
				}
				return fmt.Errorf("%s exited (%v) before the cluster was up", d.name, d.err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not up within %v (last: %s)", slurmStartTimeout, last)
		}
		// A client's wait for an answer ends when a daemon exits: the
		// port may be another server's that never answers.
		ctx, cancel := watch(earliest(deadline, 5*time.Second), c.munged, c.ctld, c.slurmd)
		out, err := c.command(ctx, "sinfo", "-h", "-o", "%T").CombinedOutput()
		cancel()
		state := string(bytes.TrimSpace(out))
		last = fmt.Sprintf("sinfo: %q %v", state, err)
		if err == nil && state == "idle" {
			ctx, cancel := watch(earliest(deadline, 20*time.Second), c.munged, c.ctld, c.slurmd)
			out, err := c.command(ctx, "srun", "--immediate=10", "-n1", "true").CombinedOutput()
			cancel()
			if err == nil {
				c.waitIdle(deadline)
				return nil
			}
			last = fmt.Sprintf("srun -n1 true: %v: %s", err, bytes.TrimSpace(out))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// earliest returns deadline or, if sooner, now plus d.
func earliest(deadline time.Time, d time.Duration) time.Time {
	if t := time.Now().Add(d); t.Before(deadline) {
		return t
	}
	return deadline
}

// waitIdle waits (until deadline at most) for the node to be idle again:
// while it is completing a job, the next one waits ("queued and waiting
// for resources") however many CPUs are free.
func (c *Cluster) waitIdle(deadline time.Time) {
	for time.Now().Before(deadline) {
		out, err := c.run(5*time.Second, "sinfo", "-h", "-o", "%T")
		if err == nil && string(bytes.TrimSpace(out)) == "idle" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// config returns slurm.conf. Not tracking memory (CR_CPU) lets steps of
// one CPU each share an allocation; config_overrides lets the node claim
// CPUs the machine does not have; KillWait=1 makes scancel quick.
func (c *Cluster) config(ctldPort, slurmdPort int) string {
	return fmt.Sprintf(`# written by wasmpool's internal/remotetest
ClusterName=wasmpooltest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[4]s
StateSaveLocation=%[5]s
SlurmdSpoolDir=%[6]s
SlurmctldPidFile=%[7]s
SlurmdPidFile=%[8]s
SlurmdLogFile=%[9]s
PlugStackConfig=%[10]s
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
KillWait=1
InactiveLimit=0
MinJobAge=10
NodeName=%[1]s NodeAddr=127.0.0.1 CPUs=%[11]d Boards=1 SocketsPerBoard=1 CoresPerSocket=%[11]d ThreadsPerCore=1 RealMemory=1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`, c.Node, ctldPort, slurmdPort, c.path("munge.socket"), c.path("state"), c.path("spool"),
		c.path("slurmctld.pid"), c.path("slurmd.pid"), c.path("slurmd.log"), c.path("plugstack.conf"), c.CPUs)
}

// Cmd returns the command name args with the test's environment, less
// its SLURM_* variables, plus Env.
func (c *Cluster) Cmd(name string, args ...string) *exec.Cmd {
	return c.command(context.Background(), name, args...)
}

func (c *Cluster) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") {
			env = append(env, kv)
		}
	}
	return append(env, c.Env...)
}

// run runs a client command with a time limit and returns its combined
// output.
func (c *Cluster) run(limit time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return c.command(ctx, name, args...).CombinedOutput()
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.environ()
	return cmd
}

var grantedRE = regexp.MustCompile(`Granted job allocation (\d+)`)

// Alloc allocates tasks CPUs (salloc --no-shell -n tasks) and returns the
// job's id; the test's Cleanup cancels the job. Run steps in it with
// "srun --jobid=ID -n1 --exact CMD": up to tasks such steps run at once,
// more wait for a CPU ("--overlap" instead lets any number run at once).
func (c *Cluster) Alloc(t testing.TB, tasks int) string {
	t.Helper()
	out, err := c.run(30*time.Second, "salloc", "--no-shell", "-J", "wasmpool-test", "-n", fmt.Sprint(tasks))
	m := grantedRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("remotetest: slurm: salloc -n %d: %v: %s", tasks, err, bytes.TrimSpace(out))
	}
	id := string(m[1])
	t.Cleanup(func() {
		if out, err := c.run(10*time.Second, "scancel", id); err != nil {
			t.Logf("remotetest: slurm: scancel %s: %v: %s", id, err, out)
		}
	})
	return id
}

// Logs returns the daemons' logs (their last 16 KiB each). slurmd and
// slurmstepd log to slurmd.log; slurmd.PORT.out has what slurmd wrote
// before it read its configuration (and the same again).
func (c *Cluster) Logs() string {
	var b strings.Builder
	logs := []*daemon{c.munged, c.ctld}
	if c.slurmd != nil {
		logs = append(logs, &daemon{name: "slurmd and slurmstepd", log: c.path("slurmd.log")})
		if c.slurmd.exited() {
			logs = append(logs, c.slurmd)
		}
	}
	for _, d := range logs {
		if d != nil {
			fmt.Fprintf(&b, "--- %s (%s):\n%s\n", d.name, d.log, d.logText())
		}
	}
	return b.String()
}

// cleanup cancels every job, waits (briefly) for their steps to end,
// stops the daemons and kills whatever is left of the cluster's
// processes: every process with this cluster's SLURM_CONF in its
// environment (the daemons pass it to slurmstepd, srun to the tasks).
func (c *Cluster) cleanup() {
	if c.ctld != nil && !c.ctld.exited() {
		c.run(10*time.Second, "scancel", "--partition=test")
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			out, err := c.run(5*time.Second, "squeue", "-h", "-o", "%i")
			if err != nil || len(bytes.TrimSpace(out)) == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, d := range []*daemon{c.slurmd, c.ctld, c.munged} {
		if d != nil {
			d.stop(syscall.SIGTERM, 10*time.Second)
		}
	}
	left := withEnv(func(kv string) bool { return kv == c.Env[0] })
	signalAll(left, syscall.SIGKILL)
	waitGone(left, 5*time.Second)
}

func (c *Cluster) path(name string) string { return filepath.Join(c.Dir, name) }
