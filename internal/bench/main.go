// Command bench runs wasmpool's benchmark suite: every case side by side in
// one run on this machine, each figure the median of several runs, with the
// ratios that the project's targets are stated in. It writes a Markdown
// report between markers in docs/benchmarks.md (the analysis around the
// markers is kept) and a bar chart in docs/benchmarks.svg.
//
//	go run ./internal/bench              # full run, 7–10 minutes on 2 cores
//	go run ./internal/bench -smoke       # under a minute: checks every case runs (CI)
//	go run ./internal/bench -only dispatch,cpu -runs 3
//
// The cases (see docs/benchmarks.md for what each measures):
//   - dispatch: procpool's ppBench, amortized overhead per job;
//   - lines: a line filter (upper-case 1M lines) against tr, GNU parallel,
//     xargs and an in-process loop;
//   - batch: ordinary C and Go filters under batch instances over 400 MB
//     of lines, from a file and a pipe, against GNU parallel running the
//     same programs natively and against session instances;
//   - cpu: SHA-256 over 4 KiB requests, 1 and 2 kids, wasm and native;
//   - startup: kid start-up with a cold and a warm compilation cache;
//   - memory: resident memory of an idle kid per guest language;
//   - forkjoin: host.ForkJoin over 2 kids against one instance, CPU-bound;
//   - remote: kids behind ssh (a real sshd on loopback) against local
//     kids: start-up, cold and warm, and line-filter throughput.
//
// A case whose tool is not installed (python3, parallel, clang for C
// guests) is skipped and says so, unless WASMPOOL_REQUIRE_TOOLCHAINS is set
// (as in CI) and the missing tool is a guest toolchain; a case that fails
// to run makes the command exit with status 1, after the report is written.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

var sections = []struct {
	name string
	run  func(*env, *report)
}{
	{"dispatch", benchDispatch},
	{"lines", benchLines},
	{"batch", benchBatch},
	{"cpu", benchCPU},
	{"startup", benchStartup},
	{"memory", benchMemory},
	{"forkjoin", benchForkJoin},
	{"remote", benchRemote},
}

func main() {
	smoke := flag.Bool("smoke", false, "a short run that checks that every case works (for CI): few jobs, one run each; writes no report unless -out is given")
	runs := flag.Int("runs", 0, "runs per case; the median is reported (default 5, 1 with -smoke)")
	out := flag.String("out", "", "the Markdown report to update (default docs/benchmarks.md; none with -smoke)")
	svg := flag.String("svg", "", "the SVG chart to write (default: the report's name with .svg)")
	only := flag.String("only", "", "comma-separated sections to run: dispatch, lines, batch, cpu, startup, memory, forkjoin, remote")
	keep := flag.Bool("keep", false, "keep the temporary directory (built guests, inputs, outputs)")
	match := flag.String("case", "", "run only the cases whose name contains `text` (for profiling)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (the pools' parent side) to `file`")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *runs <= 0 {
		*runs = 5
		if *smoke {
			*runs = 1
		}
	}
	if *out == "" && !*smoke {
		*out = "docs/benchmarks.md"
	}
	if *svg == "" && *out != "" {
		*svg = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".svg"
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	for s := range want {
		known := false
		for _, sec := range sections {
			known = known || sec.name == s
		}
		if !known {
			fmt.Fprintf(os.Stderr, "bench: -only: unknown section %q\n", s)
			os.Exit(2)
		}
	}

	start := time.Now()
	e, err := setup(ctx, *smoke, *runs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	e.match = *match
	if *keep {
		fmt.Fprintf(os.Stderr, "bench: keeping %s\n", e.tmp)
	} else {
		defer os.RemoveAll(e.tmp)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(2)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	rep := newReport(e)
	for _, sec := range sections {
		if len(want) > 0 && !want[sec.name] {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		logf("== %s", sec.name)
		t0 := time.Now()
		sec.run(e, rep)
		logf("== %s took %v", sec.name, time.Since(t0).Round(time.Millisecond))
	}
	rep.elapsed = time.Since(start)
	pprof.StopCPUProfile()

	fmt.Println(rep.markdown())
	if *out != "" {
		if err := rep.update(*out); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			rep.failures = append(rep.failures, err.Error())
		} else {
			logf("wrote %s", *out)
		}
	}
	if *svg != "" {
		if err := os.WriteFile(*svg, []byte(rep.svg()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			rep.failures = append(rep.failures, err.Error())
		} else {
			logf("wrote %s", *svg)
		}
	}
	logf("done in %v", time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		rep.failures = append(rep.failures, "interrupted")
	}
	if len(rep.failures) > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d case(s) failed:\n", len(rep.failures))
		for _, f := range rep.failures {
			fmt.Fprintf(os.Stderr, "  %s\n", f)
		}
		if !*keep {
			os.RemoveAll(e.tmp)
		}
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
