// Package host runs a pool of sandboxed WebAssembly kids and streams framed
// requests and replies through it.
//
// A kid is this program's own binary re-executed in kid mode: it runs one
// WASI module with wazero, fed from the parent's request pipe, replying on
// a pipe of its own. Kid mode is detected when package host initializes, so
// a program that imports host needs no plumbing in its main function.
//
//	pool, err := host.New(ctx, host.Config{Module: "filter.wasm", Kids: 4})
//	if err != nil { ... }
//	defer pool.Close()
//	for reply, err := range pool.Run(ctx, slices.Values(requests)) {
//		if err != nil { ... }      // a *KidError, a *RequestError, or final
//		use(reply.Data)            // valid until the next iteration
//	}
//
// The parent compiles the module once into a compilation cache directory
// that kids load from (a module already checked there is not loaded again),
// then runs one dispatch loop: it polls every kid's
// pipes, writes batches of request frames to whichever kid can take them and
// reads whatever replies are ready, cut with package frames.
//
// A module may describe itself in a wasmpool custom section (see package
// abi): New takes its framings and one-reply mode where the Config says
// nothing, and refuses to start without the directories and variables it
// declares it needs (a *GrantError); Config.WithSection says what New will
// run with, and Config.IgnoreSection skips it all. Package host/inspect
// reads modules and their sections.
//
// Byte streams go through Filter, which the wasmpool command uses: it cuts
// a reader into frames (or batches of them) and writes the replies to a
// writer, yielding only errors:
//
//	for err := range pool.Filter(ctx, os.Stdout, os.Stdin) { log.Print(err) }
//
// Kids run the module in one of two ways (Config.Instances). A module that
// declares the session contract (the guest SDKs make every module export
// abi.SessionMarker) gets one long-lived instance per kid, fed request
// after request. Any other WASI program gets a fresh instance per batch of
// whole frames, its stdin the batch and then EOF: read-ahead, buffered
// output, any number of replies per request all work. A failed batch is
// split until the failing record stands alone; only that record fails.
// Batch kids stay up from one run to the next.
//
// Four modes say how replies relate to requests (Config.Mode; Auto, the
// zero value, is Ordered for a module that declares one-to-one, else
// Stream):
//   - Stream: a guest may reply 0, 1 or many frames per request; replies come
//     in arrival order.
//   - Tagged: exactly one reply per request, in arrival order, each with the
//     index of its request.
//   - Ordered: exactly one reply per request, in input order, through a
//     bounded reorder window.
//   - Keep: any number of replies per request, in input order, by batch
//     (batch instances only).
//
// Fork-join is the other model, procpool's forkJoin: [ForkJoin] runs one
// fresh instance of the module per part of a range, at most Config.Kids at
// once, and waits for them all. Each part's guest gets its range and
// number as its last arguments (LO HI PART) and in its environment; its
// output goes to a writer per attempt, so that a retry starts clean. It
// takes a Config, not a Pool: it starts kids of its own (a Pool's are
// long-lived sessions) and may run beside a Pool's Run.
//
//	parts := host.NSplit(1_000_000, 4) // [0,250000) … [750000,1000000)
//	outs := make([]bytes.Buffer, len(parts))
//	res, err := host.ForkJoin(ctx, host.Config{Module: "sum.wasm", Kids: 2}, parts,
//		host.ForkJoinOptions{Stdout: func(part int) (io.Writer, error) {
//			outs[part].Reset() // called per attempt: a retry starts clean
//			return &outs[part], nil
//		}})
//	if err != nil { ... }  // a *PartError naming the first part that failed
//	join(outs)             // res[i] has each part's exit status and stderr tail
//
// Kids may run on other machines too (Config.Remotes): each [Remote]
// says how to start a command there with its stdio connected (ssh HOST;
// srun in a Slurm job, see [SSH], [Srun] and [AllocateSlurm]), and its
// kids run "wasmpool kid" ([ServeKid]) at that end, which takes the
// kid's spec, and the module once per machine, over the stream. To the
// pool such a kid is like a local one: its requests, replies, progress
// and exit status cross the connection, and a lost connection is a dead
// kid, whose requests are retried or reported. One pool may mix kids
// here and there.
//
//	cfg := host.Config{Module: "f.wasm", Kids: 2}
//	far, _ := host.SSH("8/user@big", nil) // 8 kids on big, as parallel -S says it
//	cfg.Remotes = []host.Remote{far}
//
// Kids need Linux 5.6 or later (openat2, pidfd_open, prctl). The package
// builds on other systems, so that a program importing it compiles there,
// but New returns an error wrapping ErrUnsupported.
//
// Faults are values, not hangs: a kid that exits, traps or is killed is
// reported as a *KidError and replaced, and in the one-reply modes each of
// its unanswered requests is retried or reported as a *RequestError.
package host
