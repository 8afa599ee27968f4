package main

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/examples/ppbench/work"
	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/guestbuild"
	"github.com/wasmpool/wasmpool/internal/remotetest"
)

// The remote case: kids behind ssh (host.SSH, `wasmpool run -S`) against
// local kids in the same run, over a real sshd on loopback
// (internal/remotetest), so that what it shows is what the remote path
// itself costs, with no network in it: ssh's login and encryption, the
// bridge process in front of each remote kid here and the relay
// ("wasmpool kid") behind it there, and the copies between them.

// remoteStart measures one pool start with one kid (local or remote, as
// cfg says): host.New, then from New's return to the first reply of the
// ppbench guest's echo.
func remoteStart(e *env, cfg host.Config) (newDur, first time.Duration, err error) {
	cfg.Framing, cfg.Stderr = frames.Lines, e.stderr
	t0 := time.Now()
	pool, err := host.New(e.ctx, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer pool.Close()
	t1 := time.Now()
	newDur = t1.Sub(t0)
	replies := 0
	for r, err := range pool.Run(e.ctx, repeat([]byte("x"), 1)) {
		if err != nil {
			return 0, 0, err
		}
		if replies == 0 {
			first = time.Since(t1)
		}
		if replies++; string(r.Data) != "x" {
			return 0, 0, fmt.Errorf("reply %q, want %q", r.Data, "x")
		}
	}
	if replies != 1 {
		return 0, 0, fmt.Errorf("%d replies, want 1", replies)
	}
	return newDur, first, nil
}

// treeCPU returns the CPU time process pid and every descendant it (or
// they) waited for have used: for the listening sshd, everything that ran
// at the far end of its sessions once they have ended (sshd-session, the
// login shell, the relay "wasmpool kid" and the kid it ran), which is no
// child of the command measured. 0 without a pid.
func treeCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	st, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(st[statUtime]+st[statStime]+st[statCutime]+st[statCstime]) * clockTick, nil
}

// fileMD5 returns the MD5 of the file at path, in hex.
func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func benchRemote(e *env, rep *report) {
	lines := 2_500_000
	if e.smoke {
		lines = 50_000
	}
	// The sshd, and the figures' reason to be skipped without it.
	sshSkip := ""
	var sshd *remotetest.SSH
	dir := filepath.Join(e.tmp, "sshd")
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		sshd, err = remotetest.StartSSHD(dir)
	}
	switch {
	case err == nil:
		defer sshd.Close()
	case errors.Is(err, remotetest.ErrUnavailable) && os.Getenv("WASMPOOL_REQUIRE_TOOLCHAINS") == "":
		sshSkip = "skipped: " + firstLine(strings.TrimPrefix(err.Error(), remotetest.ErrUnavailable.Error()+": "))
	default:
		sshSkip = "fail: " + err.Error()
	}
	host1 := ""
	var sshCmd []string
	if sshd != nil {
		host1, sshCmd = sshd.Hosts[0], sshd.Command
		logf("remote: sshd on 127.0.0.1:%d", sshd.Port)
	}
	// The far end's wasmpool: the CLI built for the run, with a cache of
	// its own (warm: filled once before the runs; cold: a fresh one per
	// start).
	remoteWarm := filepath.Join(e.tmp, "remote-xdg")
	farEnd := func(xdg string) []string { return []string{"XDG_CACHE_HOME=" + xdg, e.cli} }
	remote := func(kids int, xdg string) (host.Remote, error) {
		r, err := host.SSH(fmt.Sprintf("%d/%s", kids, host1), sshCmd)
		r.Wasmpool = farEnd(xdg)
		return r, err
	}

	// Kid start-up. metrics: New ms, New's return → first reply ms, total ms.
	type guest struct{ name, module, skip string }
	guests := []guest{
		{"C guest", e.cWasm, e.missing("c-wasm")},
		{"Go guest", e.goWasm, e.missing("go-wasm")},
	}
	if e.smoke {
		guests = guests[:1] // a few seconds in all: the C guest's start-ups only
	}
	startCase := func(g guest, where string, cold bool) *bcase {
		name := g.name + ", " + where
		if cold {
			name += ", cold cache"
		} else {
			name += ", warm cache"
		}
		skip := g.skip
		if where != "local" {
			skip = orSkip(sshSkip, skip, e.missing("cli"))
		}
		return &bcase{name: name, skip: skip, run: func() ([]float64, error) {
			cfg := host.Config{Module: g.module, Args: []string{"echo"}, CacheDir: e.cache}
			cacheDir := remoteWarm
			if cold {
				d, done, err := coldCache(e)
				if err != nil {
					return nil, err
				}
				defer done()
				cacheDir = d
			}
			if where == "local" {
				cfg.Kids = 1
				if cold {
					cfg.CacheDir = cacheDir
				}
			} else {
				r, err := remote(1, cacheDir)
				if err != nil {
					return nil, err
				}
				cfg.Remotes = []host.Remote{r}
			}
			n, f, err := remoteStart(e, cfg)
			return []float64{ms(n), ms(f), ms(n + f)}, err
		}}
	}
	type startRow struct{ local, remote *bcase }
	var startRows []startRow
	var starts []*bcase
	for _, g := range guests {
		for _, cold := range []bool{true, false} {
			r := startRow{startCase(g, "local", cold), startCase(g, "over ssh", cold)}
			startRows = append(startRows, r)
			starts = append(starts, r.local, r.remote)
		}
	}
	// What ssh alone costs: a login and a command that does nothing (the
	// remote login shell reads ~/.bashrc first, as for the kids).
	sshTrue := &bcase{name: "`ssh HOST true`", skip: sshSkip, run: func() ([]float64, error) {
		t0 := time.Now()
		out, err := sshd.Cmd(host1, "true").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("ssh %s true: %v: %s", host1, err, firstLine(string(out)))
		}
		d := time.Since(t0)
		return []float64{0, ms(d), ms(d)}, nil
	}}
	// The share of it that is root's ~/.bashrc here (pyenv init), which
	// bash runs before a command from sshd: the same, run locally.
	bashSkip := ""
	if _, err := exec.LookPath("bash"); err != nil {
		bashSkip = "skipped: bash is not installed"
	}
	bashrc := &bcase{name: "`bash -c '. ~/.bashrc; true'`, locally", skip: bashSkip, run: func() ([]float64, error) {
		t0 := time.Now()
		out, err := exec.Command("bash", "-c", ". ~/.bashrc; true").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("bash -c '. ~/.bashrc': %v: %s", err, firstLine(string(out)))
		}
		d := time.Since(t0)
		return []float64{0, ms(d), ms(d)}, nil
	}}
	// Warm the far end's cache with both modules (and check the remote
	// path works at all before timing it).
	if sshSkip == "" && e.missing("cli") == "" {
		for _, g := range guests {
			if g.skip != "" {
				continue
			}
			r, err := remote(1, remoteWarm)
			if err == nil {
				_, _, err = remoteStart(e, host.Config{Module: g.module, Args: []string{"echo"}, CacheDir: e.cache, Remotes: []host.Remote{r}})
			}
			if err != nil {
				sshSkip = "fail: warming the remote cache with " + g.name + ": " + err.Error()
				for _, c := range starts {
					if strings.Contains(c.name, "over ssh") {
						c.skip = sshSkip
					}
				}
				sshTrue.skip = sshSkip
				break
			}
		}
	}
	startAll := append(append([]*bcase{}, starts...), sshTrue, bashrc)
	measure(e, "remote", startAll, func(m []float64) string {
		return fmt.Sprintf("New %.1f ms, then first reply %.1f ms, total %.1f ms", m[0], m[1], m[2])
	})
	rep.failed(startAll...)

	// Throughput: the C upper-caser of the batch case under batch
	// instances, and the ppbench C guest's upper under session instances,
	// 2 kids here or 2 behind ssh, through the CLI.
	bin := filepath.Join(e.tmp, "bin-remote")
	upper, upSkip := "", ""
	if err := os.MkdirAll(bin, 0o755); err != nil {
		upSkip = "fail: " + err.Error()
	} else {
		upper, upSkip = speedBuild(e, e.missing("cli"), func() (string, error) {
			return guestbuild.C(bin, filepath.Join(e.root, "internal/bench/guests/upper.c"), "-O2")
		})
	}
	in := filepath.Join(e.tmp, "remote-lines.txt")
	sessSkip := e.missing("cli", "c-wasm")
	logf("remote: writing %d lines", lines)
	ref, err := makeLines(in, lines)
	if err != nil {
		rep.failures = append(rep.failures, "remote: "+err.Error())
		return
	}
	// What an upper-caser must write: the same lines upper-cased (count
	// and checksum), and with -k these very bytes (MD5).
	var want streamRef
	wantMD5 := ""
	if b, err := os.ReadFile(in); err != nil {
		upSkip, sessSkip = orSkip(upSkip, "fail: "+err.Error()), "fail: "+err.Error()
	} else {
		up := work.Upper(nil, b)
		wantMD5 = fmt.Sprintf("%x", md5.Sum(up))
		for line := range bytes.Lines(up) {
			want.add(bytes.TrimSuffix(line, []byte("\n")))
		}
	}
	out := filepath.Join(outDir(e.tmp), fmt.Sprintf("wasmpool-bench-remote-%d.out", os.Getpid()))
	defer os.Remove(out)
	md5s := map[*bcase]map[string]bool{} // the outputs' MD5s seen, per case
	// metrics: wall s, the command's CPU s, its children's, the whole
	// machine's CPU s during the run
	row := func(name, skip string, ordered bool, argv ...string) *bcase {
		c := &bcase{name: name, skip: skip}
		md5s[c] = map[string]bool{}
		far := 0 // the pid whose tree is the far end
		if sshd != nil && strings.Contains(name, "-S ") {
			far = sshd.PID()
		}
		c.run = func() ([]float64, error) {
			f0, err := treeCPU(far)
			if err != nil {
				return nil, err
			}
			u, err := cmdline{argv: argv, env: []string{"XDG_CACHE_HOME=" + e.xdg}}.run(out)
			// The sessions end as the command does; their sshd-session
			// processes are reaped by the listener a moment later.
			deadline := time.Now().Add(2 * time.Second)
			for far != 0 && len(childrenOf(strconv.Itoa(far))) > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			f1, ferr := treeCPU(far)
			if err == nil {
				err = ferr
			}
			if err == nil {
				err = checkOutput(out, want, ordered)
			}
			if err == nil {
				var sum string
				if sum, err = fileMD5(out); err == nil {
					md5s[c][sum] = true
					if ordered && sum != wantMD5 {
						err = fmt.Errorf("output MD5 %s, want %s", sum, wantMD5)
					}
				}
			}
			os.Remove(out)
			return []float64{u.wall.Seconds(), u.self.Seconds(), u.kids.Seconds(), (f1 - f0).Seconds(), (u.self + u.kids + f1 - f0).Seconds()}, err
		}
		return c
	}
	wp := func(args ...string) []string { return append([]string{e.cli, "run"}, args...) }
	sshArgs := []string{"-S", "2/" + host1, "--ssh", strings.Join(sshCmd, " "), "--remote-wasmpool", strings.Join(farEnd(remoteWarm), " ")}
	remSkip := orSkip(sshSkip, upSkip)
	type pair struct {
		local, remote *bcase
		ordered       bool
	}
	pairs := []pair{
		{row("`wasmpool run -j 2 -i FILE` upper.wasm", upSkip, false, wp("-j", "2", "-i", in, upper)...),
			row("`wasmpool run -S 2/HOST -i FILE` upper.wasm", remSkip, false, wp(append(sshArgs, "-i", in, upper)...)...), false},
		{row("`wasmpool run -j 2 -k -i FILE` upper.wasm", upSkip, true, wp("-j", "2", "-k", "-i", in, upper)...),
			row("`wasmpool run -S 2/HOST -k -i FILE` upper.wasm", remSkip, true, wp(append(sshArgs, "-k", "-i", in, upper)...)...), true},
		{row("`wasmpool run -j 2 --instance session -i FILE` ppbench C -- upper", sessSkip, false, wp("-j", "2", "--instance", "session", "-i", in, e.cWasm, "--", "upper")...),
			row("`wasmpool run -S 2/HOST --instance session -i FILE` ppbench C -- upper", orSkip(sshSkip, sessSkip), false,
				wp(append(sshArgs, "--instance", "session", "-i", in, e.cWasm, "--", "upper")...)...), false},
	}
	if e.smoke {
		pairs = pairs[1:] // input order (checked by MD5) and session instances
	}
	var through []*bcase
	for _, p := range pairs {
		through = append(through, p.local, p.remote)
	}
	measure(e, "remote", through, func(m []float64) string {
		return fmt.Sprintf("%.3f s (%.0f MB/s), CPU: command %.2f s, its children %.2f s, far end %.2f s, all %.2f s", m[0], float64(ref.size)/m[0]/1e6, m[1], m[2], m[3], m[4])
	})
	rep.failed(through...)

	// The report.
	label := func(c *bcase) string { return c.name }
	t := &table{
		title: "Remote kids: start-up over loopback ssh",
		note: "One kid, one request: ms from before host.New to its return (New), from there to the first reply, and in all; " +
			"the ppbench guest's echo, session instance. Local = a kid on this machine; over ssh = `host.SSH(\"1/HOST\", ssh -F CFG)` to an sshd of " +
			"internal/remotetest on 127.0.0.1, the far end's `wasmpool kid` being the CLI built for the run. Cold cache = an empty compilation cache " +
			"(local) or an empty remote XDG_CACHE_HOME (over ssh: the module is sent and compiled there; this end's cache is warm); warm = both caches hold it. " +
			"The remote login shell is root's bash, which reads ~/.bashrc (here: pyenv init) before every command: see the `ssh HOST true` rows. " +
			"× local = total over ssh ÷ total of the local row above it.",
		head: []string{"case", "New ms", "→ first reply ms", "total ms", "× local", "runs (min–max total ms)"},
	}
	for _, r := range startRows {
		t.rows = append(t.rows,
			[]string{label(r.local), cell(r.local, 0, "%.1f"), cell(r.local, 1, "%.1f"), cell(r.local, 2, "%.1f"), "–", spreadCellf(r.local, 2, "%.1f")},
			[]string{label(r.remote), cell(r.remote, 0, "%.1f"), cell(r.remote, 1, "%.1f"), cell(r.remote, 2, "%.1f"), ratioCell(r.remote.med(2), r.local.med(2)), spreadCellf(r.remote, 2, "%.1f")})
	}
	for _, c := range []*bcase{sshTrue, bashrc} {
		t.rows = append(t.rows, []string{c.name, "–", "–", cell(c, 2, "%.1f"), "–", spreadCellf(c, 2, "%.1f")})
	}
	rep.tables = append(rep.tables, t)

	mbs := func(c *bcase) float64 { return float64(ref.size) / c.med(0) / 1e6 }
	same := func(p pair) string {
		if !p.local.ok() || !p.remote.ok() {
			return "–"
		}
		all := map[string]bool{}
		for s := range md5s[p.local] {
			all[s] = true
		}
		for s := range md5s[p.remote] {
			all[s] = true
		}
		switch {
		case len(all) == 1:
			for s := range all {
				return "yes, MD5 " + s[:8] + "…"
			}
		case !p.ordered:
			return "same lines, in another order"
		}
		return fmt.Sprintf("no: %d MD5s", len(all))
	}
	t = &table{
		title: fmt.Sprintf("Remote kids: line-filter throughput, 2 kids over loopback ssh, %.0f MB", float64(ref.size)/1e6),
		note: fmt.Sprintf("%d lines, %.0f MB, upper-cased by internal/bench/guests/upper.c (batch instances, the CLI's default) or the ppbench C guest's upper (session instances), "+
			"with 2 local kids (`-j 2`) or 2 kids behind ssh (`-S 2/HOST --ssh 'ssh -F CFG' --remote-wasmpool 'XDG_CACHE_HOME=WARM wasmpool'`, the module in the far end's cache). "+
			"MB/s = input bytes ÷ wall time, start-up included. CPU (10 ms ticks of /proc/PID/stat): the command's own, its children's (local: the kids; over ssh: the bridges and the ssh clients), "+
			"the far end's (over ssh: what the test sshd and its sessions' processes used, sshd-session, bash, the relay `wasmpool kid` and its kid), and all three. "+
			"× local = remote MB/s ÷ local MB/s. Every output is checked (the same lines; with -k the same bytes: MD5 of the input upper-cased); "+
			"Identical = every run of both rows wrote the same MD5 (unordered rows: the same lines, checked, in the order the kids finished).",
			lines, float64(ref.size)/1e6),
		head: []string{"case", "MB/s", "× local", "command CPU s", "children CPU s", "far end CPU s", "all CPU s", "identical output", "runs (min–max s)"},
	}
	var bars []bar
	for _, p := range pairs {
		for i, c := range []*bcase{p.local, p.remote} {
			ratio, ident := "–", "–"
			if i == 1 {
				ratio, ident = ratioCell(mbs(p.remote), mbs(p.local)), same(p)
			}
			farCell := "–"
			if i == 1 {
				farCell = cell(c, 3, "%.2f")
			}
			t.rows = append(t.rows, []string{c.name, num(mbs(c), "%.0f"), ratio, cell(c, 1, "%.2f"), cell(c, 2, "%.2f"), farCell, cell(c, 4, "%.2f"), ident, spreadCellf(c, 0, "%.2f")})
			if c.ok() {
				bars = append(bars, bar{label: strings.ReplaceAll(c.name, "`", ""), value: mbs(c)})
			}
		}
	}
	rep.tables = append(rep.tables, t)
	rep.panels = append(rep.panels, panel{title: "Remote kids over loopback ssh: MB/s (higher is better)", unit: "MB/s", bars: bars})
}
