package remotetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SSHHosts are the host aliases of the client configuration an [SSH]
// writes; all of them reach the same sshd on 127.0.0.1.
var SSHHosts = []string{"wasmpool-test", "wasmpool-test2"}

const (
	sshdPath        = "/usr/sbin/sshd"
	sshStartTimeout = 20 * time.Second
	sshStartTries   = 5 // fresh ports to try when the picked one was taken meanwhile
)

// SSH is a running sshd of its own, listening on 127.0.0.1:Port, with a
// client configuration that logs in to it as the current user (root)
// with a throw-away key and checks a throw-away host key.
type SSH struct {
	// Command is the client command to put before a host and a remote
	// command: {"ssh", "-F", Config}. ssh joins the remote command's
	// words with spaces and hands them to the remote login shell, so
	// quote for sh (or pass one word holding a whole script).
	Command []string
	// Hosts are the host aliases the client configuration knows
	// (SSHHosts); all of them reach this sshd.
	Hosts []string
	// Port is sshd's TCP port on 127.0.0.1.
	Port int
	// User is the user the client logs in as (the current user).
	User string
	// Dir holds the keys, both configurations and sshd's log.
	Dir string
	// Config is the path of the client configuration (ssh -F).
	Config string

	d *daemon

	mu        sync.Mutex
	orphans   []proc // what ran under the listener when it was killed
	closeOnce sync.Once
}

// SSHD starts an sshd for the test and waits until it takes logins. It
// skips the test (fails it when WASMPOOL_REQUIRE_TOOLCHAINS is set) if
// sshd or ssh is missing or the test does not run as root. The test's
// Cleanup kills sshd and every process of its sessions and waits for
// them. Any number of SSHD instances may run at once.
func SSHD(t testing.TB) *SSH {
	t.Helper()
	need(t, sshPkgs, sshProgs...)
	s, err := startSSHD(t.TempDir(), t.Logf)
	if err != nil {
		t.Fatalf("remotetest: sshd: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// ErrUnavailable is StartSSHD's error when the programs it needs are not
// installed or it does not run as root; the message says what to install.
var ErrUnavailable = errors.New("remotetest: unavailable")

var (
	sshPkgs  = "openssh-server openssh-client"
	sshProgs = []string{sshdPath, "ssh", "ssh-keygen"}
)

// StartSSHD is SSHD for programs that are not tests (benchmarks): it
// starts an sshd with its keys, configurations and log in dir (which
// must exist and is left in place), waits until it takes logins, and
// returns it; the caller must Close it. Without sshd, ssh or root it
// returns an error wrapping ErrUnavailable.
func StartSSHD(dir string) (*SSH, error) {
	if why := unavailable(sshPkgs, sshProgs...); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, why)
	}
	s, err := startSSHD(dir, func(string, ...any) {})
	if err != nil {
		return nil, fmt.Errorf("remotetest: sshd: %w", err)
	}
	return s, nil
}

// Close kills sshd, every process under it and every process of one of
// its sessions still running, and waits for them; SSHD's Cleanup does it
// for a test. Close may be called more than once.
func (s *SSH) Close() { s.closeOnce.Do(s.cleanup) }

// startSSHD makes the keys in dir and starts sshd, trying fresh ports
// while the one picked was taken meanwhile (logf tells of each). On an
// error it leaves nothing running.
func startSSHD(dir string, logf func(string, ...any)) (*SSH, error) {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation chroot
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("current user: %v", err)
	}
	s := &SSH{Hosts: slices.Clone(SSHHosts), User: u.Username, Dir: dir}
	s.Config = filepath.Join(s.Dir, "ssh_config")
	s.Command = []string{"ssh", "-F", s.Config}
	for _, k := range []string{"host_ed25519", "id_ed25519"} {
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wasmpool-"+k,
			"-f", filepath.Join(s.Dir, k)).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("ssh-keygen %s: %v: %s", k, err, out)
		}
	}
	hostPub, err := s.read("host_ed25519.pub")
	if err != nil {
		return nil, err
	}
	clientPub, err := s.read("id_ed25519.pub")
	if err != nil {
		return nil, err
	}
	if err := s.write("authorized_keys", clientPub); err != nil {
		return nil, err
	}
	for try := 1; ; try++ {
		err := s.start(hostPub)
		if err == nil {
			return s, nil
		}
		var busy errPortTaken
		if !errors.As(err, &busy) || try == sshStartTries {
			s.Close()
			return nil, err
		}
		logf("remotetest: sshd: %v; trying another port", err)
	}
}

// errPortTaken says a daemon could not bind a port picked for it: some
// other process took it meanwhile.
type errPortTaken struct{ what string }

func (e errPortTaken) Error() string { return e.what + ": address already in use" }

// start writes the configurations for a fresh port, starts sshd and
// waits for a login to succeed.
func (s *SSH) start(hostPub string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Port = port
	for _, f := range [][2]string{{"sshd_config", s.sshdConfig()}, {"ssh_config", s.clientConfig()},
		{"known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub)}} {
		if err := s.write(f[0], f[1]); err != nil {
			return err
		}
	}

	// -D: stay in the foreground, -e: log to stderr (the log file).
	log := filepath.Join(s.Dir, fmt.Sprintf("sshd.%d.log", port))
	d, err := startDaemon("sshd", log, nil, sshdPath, "-D", "-e", "-f", filepath.Join(s.Dir, "sshd_config"))
	if err != nil {
		return err
	}
	s.d = d

	deadline := time.Now().Add(sshStartTimeout)
	var last string
	for time.Now().Before(deadline) {
		// Failures are quick (connection refused), a login on a loaded
		// machine may be slow: give it all the time left, unless sshd
		// exits (another server on the port may never answer).
		ctx, cancel := watch(deadline, d)
		out, err := s.command(ctx, s.Hosts[0], "true").CombinedOutput()
		cancel()
		if err == nil {
			return nil
		}
		last = fmt.Sprintf("ssh %s true: %v: %s", s.Hosts[0], err, bytes.TrimSpace(out))
		if d.exited() {
			if strings.Contains(d.logText(), "Address already in use") {
				return errPortTaken{fmt.Sprintf("sshd: port %d", s.Port)}
			}
			return fmt.Errorf("sshd exited (%v) before taking logins; its log:\n%s", d.err, d.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no login within %v (last: %s); sshd's log:\n%s", sshStartTimeout, last, d.logText())
}

func (s *SSH) sshdConfig() string {
	c := fmt.Sprintf(`# written by wasmpool's internal/remotetest
ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
PermitUserEnvironment no
LoginGraceTime 30
MaxStartups 200
LogLevel INFO
`, s.Port, filepath.Join(s.Dir, "host_ed25519"), filepath.Join(s.Dir, "sshd.pid"),
		filepath.Join(s.Dir, "authorized_keys"))
	if sshdHasPenalties() {
		// OpenSSH 9.8 on refuses a source address for a while after
		// crashed or unauthenticated sessions: KillAll would trip it.
		c += "PerSourcePenalties no\n"
	}
	return c
}

func (s *SSH) clientConfig() string {
	return fmt.Sprintf(`# written by wasmpool's internal/remotetest
Host %s
	HostName 127.0.0.1
	Port %d
	User %s
	IdentityFile %s
	IdentitiesOnly yes
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	UpdateHostKeys no
	BatchMode yes
	LogLevel ERROR
	ControlMaster no
	ControlPath none
	RequestTTY no
	EscapeChar none
	ForwardAgent no
	ForwardX11 no
	ConnectTimeout 10
`, strings.Join(s.Hosts, " "), s.Port, s.User, filepath.Join(s.Dir, "id_ed25519"),
		filepath.Join(s.Dir, "known_hosts"))
}

// sshdHasPenalties reports whether sshd is OpenSSH 9.8 or later, which
// knows (and enables by default) PerSourcePenalties.
var sshdHasPenalties = sync.OnceValue(func() bool {
	out, _ := exec.Command(sshdPath, "-V").CombinedOutput() // "OpenSSH_9.2p1 Debian-2, OpenSSL ..."
	m := regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	return major > 9 || major == 9 && minor >= 8
})

// Cmd returns the command that runs remote (joined with spaces by ssh,
// run by the remote login shell) on host, one of Hosts.
func (s *SSH) Cmd(host string, remote ...string) *exec.Cmd {
	return s.command(context.Background(), host, remote...)
}

func (s *SSH) command(ctx context.Context, host string, remote ...string) *exec.Cmd {
	args := append(append(append([]string{}, s.Command[1:]...), host), remote...)
	return exec.CommandContext(ctx, s.Command[0], args...)
}

// PID returns the process id of the listening sshd.
func (s *SSH) PID() int { return s.d.cmd.Process.Pid }

// Log returns what sshd has logged so far.
func (s *SSH) Log() string { return s.d.logText() }

// Kill kills the listening sshd and waits for it: new connections are
// refused, while established ones go on (each has an sshd process of its
// own). See KillAll.
func (s *SSH) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killListener()
}

// killListener kills the listener, first noting the processes under it
// (once it is gone they belong to init, and no tree leads to them); it
// stops the listener first so that it forks no process meanwhile.
// s.mu is held.
func (s *SSH) killListener() {
	if !s.d.exited() {
		_ = s.d.cmd.Process.Signal(syscall.SIGSTOP)
		s.orphans = append(s.orphans, descendants(s.PID())...)
	}
	s.d.kill()
}

// KillAll kills the listening sshd and every sshd process serving a
// connection, so that established connections drop at once (their
// clients see the connection closed and exit with status 255). The
// remote commands of those sessions are left to notice it themselves
// (end of input, a broken pipe); the test's Cleanup kills those still
// running.
func (s *SSH) KillAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killListener()
	var daemons []proc
	for _, p := range s.orphans {
		if strings.HasPrefix(p.comm, "sshd") { // sshd, sshd-session (OpenSSH 9.8 on)
			daemons = append(daemons, p)
		}
	}
	signalAll(daemons, syscall.SIGKILL)
	waitGone(daemons, 5*time.Second)
}

// cleanup kills sshd, every process under it and every process of one
// of its sessions (those sshd set SSH_CONNECTION for, ending in its
// port) still running, and waits for them.
func (s *SSH) cleanup() {
	if s.d == nil {
		return
	}
	s.mu.Lock()
	s.killListener()
	victims := s.orphans
	s.mu.Unlock()
	suffix := fmt.Sprintf(" 127.0.0.1 %d", s.Port)
	victims = append(victims, withEnv(func(kv string) bool {
		return strings.HasPrefix(kv, "SSH_CONNECTION=") && strings.HasSuffix(kv, suffix)
	})...)
	signalAll(victims, syscall.SIGKILL)
	waitGone(victims, 5*time.Second)
}

func (s *SSH) read(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	return string(b), err
}

func (s *SSH) write(name, text string) error {
	return os.WriteFile(filepath.Join(s.Dir, name), []byte(text), 0o600)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// What follows is shared by SSHD and Slurm: the check for the daemons'
// binaries, running a daemon, and finding the processes it left.

// need skips the test, or fails it when WASMPOOL_REQUIRE_TOOLCHAINS is
// set, unless every program of progs is installed and the test runs as
// root. pkgs names the Debian packages that bring the programs.
func need(t testing.TB, pkgs string, progs ...string) {
	t.Helper()
	why := unavailable(pkgs, progs...)
	if why == "" {
		return
	}
	if os.Getenv("WASMPOOL_REQUIRE_TOOLCHAINS") != "" {
		t.Fatalf("remotetest: %s (WASMPOOL_REQUIRE_TOOLCHAINS is set)", why)
	}
	t.Skipf("remotetest: %s", why)
}

// unavailable says why the programs progs (brought by the Debian
// packages pkgs) cannot run daemons here: some are not installed, or
// this process is not root; "" when they can.
func unavailable(pkgs string, progs ...string) string {
	var missing []string
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Sprintf("%s not found (apt-get install %s)", strings.Join(missing, ", "), pkgs)
	case os.Geteuid() != 0:
		return fmt.Sprintf("%s must run as root", strings.Join(progs, ", "))
	}
	return ""
}

// daemon is a server process started in the foreground, its output going
// to a log file.
type daemon struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returned
	err  error         // Wait's error, once done is closed
}

// startDaemon starts argv with env (nil: the test's), stdout and stderr
// appended to log. The daemon gets SIGKILL when the test binary dies
// without cleaning up (a panic, a -timeout): Pdeathsig, which fires when
// the thread that started it exits, and Go ends threads only under a
// goroutine that exits while locked to its thread.
func startDaemon(name, log string, env []string, argv ...string) (*daemon, error) {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &daemon{name: name, log: log, cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// watch returns a context that ends at deadline or when one of ds exits.
func watch(deadline time.Time, ds ...*daemon) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	for _, d := range ds {
		go func() {
			select {
			case <-d.done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill kills the daemon with SIGKILL and waits for it.
func (d *daemon) kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop sends sig, waits up to grace for the daemon to exit, then kills it.
func (d *daemon) stop(sig syscall.Signal, grace time.Duration) {
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(grace):
		d.kill()
	}
}

// logText returns the daemon's log, its last 16 KiB when longer.
func (d *daemon) logText() string {
	b, err := os.ReadFile(d.log)
	if err != nil {
		return fmt.Sprintf("(%s's log: %v)", d.name, err)
	}
	if len(b) > 16<<10 {
		b = append([]byte("…"), b[len(b)-16<<10:]...)
	}
	return string(b)
}

// proc is one process as /proc/PID/stat shows it; start (in clock ticks
// since boot) tells it from a later process with the same pid.
type proc struct {
	pid, ppid int
	comm      string
	state     byte
	start     uint64
}

func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	// "pid (comm) state ppid ... starttime(22) ...": comm may hold
	// spaces and parentheses, so split at the last ')'.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return proc{}, false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 20 {
		return proc{}, false
	}
	p := proc{pid: pid, comm: s[open+1 : end], state: f[0][0]}
	p.ppid, _ = strconv.Atoi(f[1])
	p.start, _ = strconv.ParseUint(f[19], 10, 64)
	return p, true
}

func allProcs() []proc {
	ents, _ := os.ReadDir("/proc")
	var ps []proc
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if p, ok := readProc(pid); ok {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// descendants returns the processes below pid (children, their
// children, ...), not pid itself.
func descendants(pid int) []proc {
	kids := map[int][]proc{}
	for _, p := range allProcs() {
		kids[p.ppid] = append(kids[p.ppid], p)
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		for _, k := range kids[queue[0]] {
			out = append(out, k)
			queue = append(queue, k.pid)
		}
		queue = queue[1:]
	}
	return out
}

// withEnv returns the processes (other than this one) with an
// environment entry ("NAME=value") for which match is true.
func withEnv(match func(kv string) bool) []proc {
	var out []proc
	for _, p := range allProcs() {
		if p.pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(b, []byte{0}) {
			if match(string(kv)) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// alive reports whether p still runs (a zombie does not).
func (p proc) alive() bool {
	q, ok := readProc(p.pid)
	return ok && q.start == p.start && q.state != 'Z' && q.state != 'X'
}

func signalAll(ps []proc, sig syscall.Signal) {
	for _, p := range ps {
		if p.alive() {
			_ = syscall.Kill(p.pid, sig)
		}
	}
}

// waitGone waits up to d for every process of ps to end, and reports
// whether they did.
func waitGone(ps []proc, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		busy := false
		for _, p := range ps {
			if p.alive() {
				busy = true
				break
			}
		}
		if !busy {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
