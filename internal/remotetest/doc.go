// Package remotetest starts real servers on this machine for tests of
// remote kids: an sshd of its own ([SSHD]) for kids started with
// "ssh HOST CMD", and a one-node Slurm cluster of its own ([Slurm]) for
// kids started with "srun CMD". Both listen on 127.0.0.1 only, keep
// their keys, configuration, state and logs in t.TempDir(), leave the
// system's sshd, munged and Slurm (and their configuration) alone, and
// are gone when the test ends: Cleanup kills every process they started,
// including the remote commands, and waits for them.
//
//	s := remotetest.SSHD(t)
//	cmd := exec.Command(s.Command[0], append(s.Command[1:], s.Hosts[0], "/bin/cat")...)
//	// or: cmd := s.Cmd(s.Hosts[0], "/bin/cat")
//
//	c := remotetest.Slurm(t)
//	cmd := exec.Command("srun", "-n1", "/bin/cat")
//	cmd.Env = append(os.Environ(), c.Env...)
//	// or: cmd := c.Cmd("srun", "-n1", "/bin/cat")
//	id := c.Alloc(t, 2) // then: srun --jobid=ID -n1 --exact CMD, twice at once
//
// Programs that are not tests (the benchmarks) start an sshd with
// [StartSSHD](dir) and stop it with [SSH.Close]; without sshd or root it
// returns an error wrapping [ErrUnavailable].
//
// Both need root and the daemons: Debian's openssh-server (with
// openssh-client) and slurm-wlm with munge (.ci/run installs them).
// Without them a test skips, saying what to install; with
// WASMPOOL_REQUIRE_TOOLCHAINS set it fails instead. Any number of either
// may run at once (each picks free ports); start-up takes well under a
// second for sshd and about a second for Slurm on an idle 2-core machine.
// Cleanups run last registered first: a Cleanup of the test's own that
// waits for a client (ssh, srun) registered after SSHD or Slurm runs
// before the servers are stopped, and may wait for ever.
//
// # ssh
//
// The client configuration (SSH.Config, used as "ssh -F Config") maps
// the aliases in SSH.Hosts to 127.0.0.1 and the port, logs in as the
// current user with a throw-away ed25519 key, checks a throw-away host
// key (StrictHostKeyChecking yes), and never asks anything (BatchMode),
// shares no connection (ControlMaster no) and has no escape character
// and no tty: the session is a clean 8-bit pipe both ways. sshd sets no
// variables and accepts none from the client.
//
// What a remote command sees is an ordinary login's: the user's login
// shell runs it ("sh -c" of the words ssh joined with spaces, so quote
// for sh), in the home directory, with sshd's default environment and
// PATH — and bash reads ~/.bashrc first, so whatever that does costs
// every command. Pass absolute paths. The exit status of the remote
// command is ssh's; a remote command killed by a signal, or a connection
// lost, gives 255.
//
// [SSH.Kill] kills the listener only: established sessions go on. To drop
// them, [SSH.KillAll] also kills every per-connection sshd process (found
// under the listener in /proc); their clients exit 255 at once, and the
// remote commands get end of input or a broken pipe (or are killed at
// Cleanup).
//
// # Slurm
//
// The cluster is munged (its own key and socket), slurmctld and slurmd,
// all in the foreground as root, with one node named after the short host
// name at 127.0.0.1, one partition "test", no accounting, no cgroups
// (proctrack/linuxproc, task/none) and CPUs but no memory as consumable
// resources (select/cons_tres with CR_CPU). The node claims Cluster.CPUs
// CPUs, at least 8 even on a 2-core machine (SlurmdParameters=
// config_overrides), so that tests can ask for more tasks than there are
// cores. Clients need only SLURM_CONF (Cluster.Env); Cluster.Cmd also
// drops SLURM_* variables the test may have inherited from a real job.
//
// A task runs with srun's environment and in srun's working directory
// (unlike an ssh session), plus SLURM_* variables. srun's stdin and
// stdout are a clean 8-bit pipe to the task's; srun's exit status is the
// task's (128+N for a task killed by signal N), and srun then says so on
// its stderr ("srun: error: NODE: task 0: Exited with exit code 7", even
// with --quiet). Without --quiet, srun also tells on stderr when a job
// has to wait ("srun: job 2 queued and waiting for resources"), as it
// may for a moment after another job while the node completes it,
// whatever the free CPUs. Do not use -u/--unbuffered: it makes the
// task's stdout a pty.
//
// Steps in one allocation: a step without flags takes every CPU of the
// allocation, so a second one waits ("step creation temporarily
// disabled") until the first ends. With --exact a step of -n1 takes one
// CPU: in an allocation of N tasks, N such steps run at once, and more
// wait for a CPU. With --overlap any number run at once, sharing the
// CPUs. So one kid per step is "srun --jobid=ID -n1 --exact CMD" in an
// allocation of as many tasks as kids.
package remotetest
