// Package kidside is the kid's side of a wasmpool pool: the process that the
// parent (package host) re-executes in kid mode to run one WASI module with
// wazero. It sets the process up once — confinement, runtime, the module
// loaded from the parent's compilation cache, the guest's grants — and then
// runs instances of the module in one of three ways (Spec.Instance):
//
//   - Session: one long-lived instance whose stdin is the request pipe and
//     whose stdout is the reply pipe, for guests that keep the session
//     contract (they flush their replies before every blocking read). The
//     feed hands the guest whole frames and reports its progress.
//   - Batch: a fresh instance per batch of whole frames: its stdin is the
//     batch, then EOF; its stdout and stderr are kept and sent back whole
//     with its exit status, so any ordinary WASI program works and a failed
//     batch leaves no partial output.
//   - Once: one instance on the process's own stdin and stdout, then exit
//     with its status (fork-join parts).
//
// The parent starts a kid with [Main] (from package host's init); the
// descriptors and message formats the two sides share are defined here.
//
//	os.Exit(kidside.Main(os.Getenv(abi.KidEnv)))
package kidside
