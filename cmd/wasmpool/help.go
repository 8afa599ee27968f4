package main

// helpPage is a command's help: hand-written prose around the list of its
// flags, which comes from the command's flag table (each option's usage),
// so that a flag is described once, where it is defined.
type helpPage struct {
	head  string          // usage lines, what the command does, examples
	flags func() *flagSet // the command's flags; nil if it takes none
	tail  string          // after the flag list
}

var helps = map[string]helpPage{
	"run":      {head: runHelpHead, flags: func() *flagSet { return newRunFlags().fs }, tail: runHelpTail},
	"inspect":  {head: inspectHelpHead, flags: func() *flagSet { return inspectFlags(new(bool)) }, tail: inspectHelpTail},
	"describe": {head: describeHelpHead, flags: func() *flagSet { return newDescribeFlags().fs }, tail: describeHelpTail},
	"forkjoin": {head: forkJoinHelp},
	"version":  {head: versionHelp},
}

// help returns the help of a command.
func help(cmd string) string {
	h := helps[cmd]
	if h.flags == nil {
		return h.head
	}
	return h.head + "\n" + h.flags().usage() + h.tail
}

const usage = `wasmpool runs WebAssembly filters in parallel, sandboxed: like parallel
--pipe for wasm modules. It cuts its input into frames (lines, NUL-separated
names, length-prefixed or fixed-size records), streams them through a pool
of long-lived kid processes that each run the module under wazero, and
writes their replies to stdout. A guest sees no file, no environment
variable and no network unless granted. It runs wasm modules only, not
native commands: for those, use xargs -P or parallel.

Usage:
  wasmpool run [flags] module.wasm [-- guest args...]
  wasmpool forkjoin -n PARTS (--len N | --split FILE) [flags] module.wasm [-- args...]
  wasmpool inspect [--json] module.wasm
  wasmpool describe [flags] -o out.wasm module.wasm
  wasmpool version
  wasmpool help [command]

Examples:
  wasmpool run linelen.wasm < words.txt
  find . -type f -print0 | wasmpool run -0 --dir .:/data:ro only.wasm -- -any png,jpeg
  wasmpool forkjoin -n 8 --len 100000 forkjoin.wasm -- sumsq
  wasmpool inspect linelen.wasm

Exit status: 0 all good; 1 some requests failed or a kid died; 2 usage or
set-up error; 130 interrupted (SIGINT), 143 terminated (SIGTERM).

Run 'wasmpool help COMMAND' for a command's flags and examples.
`

const runHelpHead = `Usage: wasmpool run [flags] module.wasm [-- guest args...]

Reads requests from stdin (or the -i files), cuts them into frames, streams
them through N kids running module.wasm, and writes the replies to stdout.
Each kid is a process of its own running the module under wazero; its guest
sees no file, no environment variable and no network unless granted below.
Flags may come before or after the module; arguments after -- go to the
guest. A -- before the module ends the flags: the module is the word after
it, and guest arguments then follow a second -- (run -- m.wasm -- args). A
module with a wasmpool section (see 'wasmpool help describe') sets the
framings, --ordered and the grants it needs; flags override it.

Examples:
  # the length of each line, 4 kids, output in input order
  wasmpool run -j 4 --ordered linelen.wasm < words.txt > lengths.txt

  # NUL-separated names from find, as xargs -0 takes them; the guest sees
  # this directory as its root, read-only, and replies with the name of
  # each image (PNG, JPEG, GIF)
  find . -type f -print0 |
    wasmpool run -0 --reply-frames lines --dir .:/:ro only.wasm -- -any image

  # two inputs, limits per kid, a summary at the end
  wasmpool run -i a.txt -i b.txt --mem 64MiB --timeout 2s --stats linelen.wasm

  # the files under src that contain TODO, NUL-separated as grep -rlZ TODO
  # src prints them, with a progress bar
  find src -type f -print0 |
    wasmpool run -0 --dir .:/:ro --progress grl.wasm -- TODO
`

const runHelpTail = `
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

const forkJoinHelp = `Usage: wasmpool forkjoin -n PARTS --len N [flags] module.wasm [-- args...]
       wasmpool forkjoin -n PARTS --split FILE [flags] module.wasm [-- args...]

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
  # sum of squares of 1..10^5 in 8 parts (examples/forkjoin's guest prints
  # its part's sum; the parent adds them)
  wasmpool forkjoin -n 8 --len 100000 forkjoin.wasm -- sumsq |
    awk '{ s += $1 } END { print s }'

  # each part writes into a granted directory, as procpool's example
  wasmpool forkjoin -n 5 --len 100 --dir out:/out forkjoin.wasm -- files /out

  # a file cut at line boundaries, one output file per part
  wasmpool forkjoin -n 4 --split big.log -o 'lengths.{part}' linelen.wasm

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

Other machines (as for run; see docs/remote.md):
  -S, --sshlogin [N/]HOST
                         run N parts at a time on HOST over ssh; ':' is this
                         machine. Without -n, one part per kid, wherever
                         they run. Repeatable
  --ssh CMD              the ssh command (default: ssh)
  --slurm[=N]            run N parts at a time as Slurm job steps
  --srun CMD             the srun command (default: srun)
  --remote-wasmpool CMD  what runs wasmpool there (default: wasmpool)

Sandbox (nothing is granted by default):
  --dir HOST[:GUEST][:ro]
                         grant a directory of the machine where the part
                         runs (as for run). Repeatable
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

const inspectHelpHead = `Usage: wasmpool inspect [--json] module.wasm

Describes a module: its imports and exports, the WASI version it needs, its
memory limits, whether it is a filter (exports _start), how long it takes
to compile, its custom sections and wasmpool section, and every problem
that will stop it from running as a kid.

Examples:
  wasmpool inspect linelen.wasm
  wasmpool inspect --json linelen.wasm | jq .problems
`

const inspectHelpTail = `
Exit status: 0 the module can run as a kid; 1 it has problems (listed);
2 it cannot be read or is not a WebAssembly module.
`

const describeHelpHead = `Usage: wasmpool describe [flags] -o out.wasm module.wasm
       wasmpool describe module.wasm

Writes a copy of a module with a wasmpool custom section that says how to
run it: its framings, whether it replies exactly once per request, and the
directories and environment variables it needs. 'wasmpool run' then needs
no flags for them. This is how Go guests get the section (Go's linker cannot
emit custom sections); C and Rust guests can emit it themselves (see the
documentation of package github.com/wasmpool/wasmpool/abi). Any wasmpool
section the module had is replaced: the new one holds exactly what the flags
say. Without -o and flags, describe prints the module's section.

Examples:
  # a 1:1 line filter
  wasmpool describe --frames lines --one-to-one -o linelen.wasm linelen.wasm

  # NUL-separated paths in, lines out (0 or 1 per path), needs its data
  # read-only at /data
  wasmpool describe -0 --reply-frames lines --needs-dir /data:ro \
    -o sniff.wasm only.wasm

  # show what a module declares
  wasmpool describe sniff.wasm
`

const describeHelpTail = `
Exit status: 0 written (or printed); 1 the module has no section to print;
2 usage error, or the module cannot be read or written.
`

const versionHelp = `Usage: wasmpool version

Prints the versions of wasmpool, of its host–guest protocol and custom
section format, of the wazero runtime it embeds, and of Go.

Example:
  wasmpool version
`
