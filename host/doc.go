// Package host runs a pool of sandboxed WebAssembly kids and streams framed
// requests and replies through it.
//
// A kid is this program's own binary re-executed in kid mode: it runs one
// WASI module with wazero, whose stdin is the request pipe and whose stdout
// is the reply pipe. Kid mode is detected when package host initializes, so
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
// Three modes say how replies relate to requests (Config.Mode; Auto, the
// zero value, is Ordered for a module that declares one-to-one, else
// Stream):
//   - Stream: a guest may reply 0, 1 or many frames per request; replies come
//     in arrival order.
//   - Tagged: exactly one reply per request, in arrival order, each with the
//     index of its request.
//   - Ordered: exactly one reply per request, in input order, through a
//     bounded reorder window.
//
// Kids need Linux 5.6 or later (openat2, pidfd_open, prctl). The package
// builds on other systems, so that a program importing it compiles there,
// but New returns an error wrapping ErrUnsupported.
//
// Faults are values, not hangs: a kid that exits, traps or is killed is
// reported as a *KidError and replaced, and in the one-reply modes each of
// its unanswered requests is retried or reported as a *RequestError.
package host
