package main

var helps = map[string]string{
	"run":      runHelp,
	"forkjoin": forkJoinHelp,
	"inspect":  inspectHelp,
	"describe": describeHelp,
	"version":  versionHelp,
}

const usage = `wasmpool runs a WebAssembly filter over a stream, on every core, each
worker a sandboxed process: a drop-in for xargs -P and parallel --pipe whose
workers see no file, no environment variable and no network unless granted.

Usage:
  wasmpool run [flags] module.wasm [-- guest args...]
  wasmpool forkjoin -n PARTS (--len N | --split FILE) [flags] module.wasm [-- args...]
  wasmpool inspect [--json] module.wasm
  wasmpool describe [flags] -o out.wasm module.wasm
  wasmpool version
  wasmpool help [command]

Examples:
  wasmpool run linelen.wasm < words.txt
  find . -name '*.txt' -print0 | wasmpool run -0 --dir .:/src:ro wc.wasm
  wasmpool forkjoin -n 8 --len 1000000 sum.wasm
  wasmpool inspect filter.wasm

Exit status: 0 all good; 1 some requests failed or a kid died; 2 usage or
set-up error; 130 interrupted (SIGINT), 143 terminated (SIGTERM).

Run 'wasmpool help COMMAND' for a command's flags and examples.
`

const runHelp = `Usage: wasmpool run [flags] module.wasm [-- guest args...]

Reads requests from stdin (or the -i files), cuts them into frames, streams
them through N kids running module.wasm, and writes the replies to stdout.
Each kid is a process of its own running the module under wazero; its guest
sees no file, no environment variable and no network unless granted below.
Flags may come before or after the module; arguments after -- go to the
guest. A module with a wasmpool section (see 'wasmpool help describe') sets
the framings, --ordered and the grants it needs; flags override it.

Examples:
  # the length of each line, 4 kids, output in input order
  wasmpool run -j 4 --ordered linelen.wasm < words.txt > lengths.txt

  # NUL-separated names from find, as xargs -0 takes them; the guest reads
  # the files under /src, read-only
  find . -name '*.txt' -print0 | wasmpool run -0 --dir .:/src:ro wc.wasm

  # two inputs, limits per kid, guest arguments, a summary at the end
  wasmpool run -i a.log -i b.log --mem 64MiB --timeout 2s --stats grep.wasm -- ERROR

  # length-prefixed binary records in, lines out, with a progress bar
  wasmpool run --frames lenpfx --reply-frames lines --progress decode.wasm < records.bin

Framing:
  --frames FRAMING       request framing: lines, zero, lenpfx or fixed:N
                         (default: the module's section, else lines)
  -0, --null             the same as --frames zero (find -print0, xargs -0)
  --reply-frames FRAMING reply framing (default: the module's, else --frames)
  --ordered              the guest replies exactly once per request; output
                         comes in input order, and a request whose kid died
                         is retried. The default when the module's section
                         says one-to-one; --ordered=false turns it off
  --max-frame SIZE       the largest request or reply (default 64MiB); a
                         larger request is reported and skipped

Kids:
  -j, --jobs N           number of kids (default: the number of CPUs)
  --mem SIZE             cap each kid's linear memory, e.g. 64MiB (≤ 4GiB)
  --timeout DURATION     wall time per request, e.g. 500ms, 2s, 1m; the kid is
                         killed and replaced, the request reported timed out
  --max-requests N       replace each kid after N requests (leaky guests)
  --retries N            with --ordered, how often a request of a kid that
                         died is given to another (default 1)
  --cache-dir DIR        compile cache (default: the user cache directory,
                         $XDG_CACHE_HOME or ~/.cache, + /wasmpool); safe to
                         share between wasmpool processes

Sandbox (nothing is granted by default):
  --dir HOST[:GUEST][:ro]
                         grant the host directory HOST, seen by the guest at
                         GUEST (default: HOST's absolute path); :ro makes it
                         read-only. Repeatable
  --env NAME=VALUE       give the guest an environment variable; --env NAME
                         passes this process's value. Repeatable
  --ignore-section       ignore the module's wasmpool section

Input and output:
  -i, --input FILE       read requests from FILE (- for stdin) instead of
                         stdin. Repeatable: files are read in order, each
                         framed on its own
  --progress[=WHEN]      progress on stderr: bytes done of the total with
                         rate and ETA when the input size is known, counts
                         otherwise. WHEN is auto (the default: only when
                         stderr is a terminal and stdout is not), always or
                         never
  --failed FILE          write every request that ended in an error to FILE,
                         in the input framing, to fix and run again alone
  --stats                print a summary on stderr at the end: requests,
                         replies, failures, kid restarts, wall time, requests
                         per kid
  -h, --help             show this help

Sizes are bytes with an optional unit: 65536, 512KiB, 64MiB, 1GiB (K, M, G
are the same as KiB, MiB, GiB; kB, MB, GB are powers of 1000).

Everything wasmpool itself writes to stderr starts with "wasmpool: "; a
guest's stderr lines start with "kid N: ". Requests are numbered from 1 in
messages, so with lines framing a request's number is its line number.

Exit status: 0 all good; 1 some requests failed or a kid died; 2 usage or
set-up error (bad flag, unusable module, missing grant); 130 interrupted
(SIGINT: the kids get a second for the requests they hold, then are
killed), 143 terminated (SIGTERM). A second signal exits at once.
`

const forkJoinHelp = `Usage: wasmpool forkjoin -n PARTS --len N [flags] module.wasm [-- guest args...]
       wasmpool forkjoin -n PARTS --split FILE [flags] module.wasm [-- guest args...]

Fork-join, as procpool's forkJoin and nSplit: cuts the range 0..N (--len)
into PARTS equal parts, the remainder in the last (with N < PARTS, the
first parts are empty and the last holds all), runs one fresh instance of
module.wasm per part, -j at a time, and waits for them all. Each part's
guest gets its half-open range and number as its last three arguments,
LO HI PART, after the guest args, and in its environment as WASMPOOL_LO,
WASMPOOL_HI and WASMPOOL_PART, with WASMPOOL_PARTS. With --split FILE the
parts are of the file instead, cut at frame boundaries (--frames): each
guest reads its part's bytes on stdin, and LO and HI are byte offsets.

The parts' stdout is printed in part order: part 0 as it comes, the others
from temporary files once the parts before them are done. With -o, each
part writes its own file instead.

Examples:
  # sum of squares of 1..10^9 in 8 parts; the guest prints its part's sum
  wasmpool forkjoin -n 8 --len 1000000000 sumsq.wasm | paste -sd+ | bc

  # each part writes into a granted directory, as procpool's example
  wasmpool forkjoin -n 5 --len 100 --dir out:/out numbers.wasm

  # a file cut at line boundaries, one output file per part
  wasmpool forkjoin -n 4 --split big.log -o 'counts.{part}' wc.wasm

Parts:
  -n, --parts PARTS      number of parts (default: -j)
  --len N                split the range 0..N
  --split FILE           split a regular file into parts of whole frames,
                         each part's bytes on its guest's stdin
  --frames FRAMING       the frames --split keeps whole: lines (default, or
                         the module's section), zero, lenpfx or fixed:N
  -o, --output PATTERN   write part P's stdout to PATTERN with {part}
                         replaced by P, zero-padded to the width of PARTS-1
                         (-o 'out.{part}': out.00 … out.11)
  --fail-fast            at the first part that fails, kill the others and
                         start no more

Kids:
  -j, --jobs N           parts run at once (default: the number of CPUs)
  --mem SIZE             cap each guest's linear memory, e.g. 64MiB
  --timeout DURATION     wall time per part; the kid is killed and the part
                         fails, unretried
  --retries N            how often a failed part runs again in a new kid
                         (default 1; 0 never). Without -o, part 0 is not
                         retried once it has printed something
  --cache-dir DIR        compile cache (as for run)

Sandbox (nothing is granted by default):
  --dir HOST[:GUEST][:ro]
                         grant a host directory (as for run). Repeatable
  --env NAME=VALUE       give the guest an environment variable; --env NAME
                         passes this process's value. Repeatable
  --ignore-section       ignore the module's wasmpool section (the grants it
                         needs, its framing for --split)
  -h, --help             show this help

Every part's stderr lines start with "part P: "; a part that fails is named
on a line of its own with why, as "wasmpool: part P [LO, HI): ...".

Exit status: 0 every part exited 0; 1 a part failed, was stopped or its
output could not be written; 2 usage or set-up error; 130 interrupted
(SIGINT: the kids are killed), 143 terminated (SIGTERM).
`

const inspectHelp = `Usage: wasmpool inspect [--json] module.wasm

Describes a module: its imports and exports, the WASI version it needs, its
memory limits, whether it is a filter (exports _start), how long it takes
to compile, its custom sections and wasmpool section, and every problem
that will stop it from running as a kid.

Examples:
  wasmpool inspect linelen.wasm
  wasmpool inspect --json filter.wasm | jq .problems

Flags:
  --json                 print the description as JSON
  -h, --help             show this help

Exit status: 0 the module can run as a kid; 1 it has problems (listed);
2 it cannot be read or is not a WebAssembly module.
`

const describeHelp = `Usage: wasmpool describe [flags] -o out.wasm module.wasm
       wasmpool describe module.wasm

Writes a copy of a module with a wasmpool custom section that says how to
run it: its framings, whether it replies exactly once per request, and the
directories and environment variables it needs. 'wasmpool run' then needs
no flags for them. This is how Go guests get the section (Go's linker cannot
emit custom sections); C and Rust guests can emit it themselves (see the
documentation of package github.com/wasmpool/wasmpool/abi). Any wasmpool section the module had
is replaced: the new one holds exactly what the flags say. Without -o and
flags, describe prints the module's section.

Examples:
  # a 1:1 line filter
  wasmpool describe --frames lines --one-to-one -o linelen.wasm linelen.wasm

  # NUL-separated paths in, lines out, needs its data read-only at /data
  wasmpool describe -0 --reply-frames lines --needs-dir /data:ro -o sniff.wasm sniff.wasm

  # show what a module declares
  wasmpool describe filter.wasm

Flags:
  -o, --output FILE      the module to write (it may be the input itself)
  --frames FRAMING       the request framing: lines, zero, lenpfx or fixed:N
  -0, --null             the same as --frames zero
  --reply-frames FRAMING the reply framing, when it differs
  --one-to-one           the guest replies exactly once per request, in order
  --session              the guest flushes its replies before every blocking
                         read, so one instance may serve many requests (the
                         guest SDKs say so by themselves)
  --needs-dir PATH[:ro|:rw][:optional]
                         the guest uses a directory at the guest path PATH,
                         read-only (the default) or read-write. Repeatable
  --needs-env NAME[:optional]
                         the guest reads the environment variable NAME.
                         Repeatable
  --from FILE            start from the section text in FILE (- for stdin);
                         the flags above then change it
  --remove               remove the wasmpool section instead
  -h, --help             show this help

Exit status: 0 written (or printed); 1 the module has no section to print;
2 usage error, or the module cannot be read or written.
`

const versionHelp = `Usage: wasmpool version

Prints the versions of wasmpool, of its host–guest protocol and custom
section format, of the wazero runtime it embeds, and of Go.

Example:
  wasmpool version
`
