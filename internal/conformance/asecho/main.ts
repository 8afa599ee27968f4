// echo: a conformance guest. Usage: echo [-strict] [REQUESTS [REPLIES]]
// with framing names (lines, zero, lenpfx, fixed:N; lines by default,
// REPLIES defaults to REQUESTS; the pool's framings in the environment
// override them, unless -strict). It replies to each request with the
// same bytes, fails the request "wasmpool:fail" with a handler error, and
// works 20 ms before it replies to "wasmpool:sleep".
import { args, serveOptions, Framing, Options, Replies, writeStderr } from "../../../guest/assemblyscript/wasmpool";

function framing(name: string): Framing {
  const f = Framing.parse(name);
  if (f === null) {
    writeStderr("guest: echo: bad framing " + name + "\n");
    process.exit(1);
  }
  return f as Framing;
}

const a = args();
const opt = new Options();
if (a.length > 1 && a[1] == "-strict") {
  opt.strict = true;
  a.splice(1, 1);
}
if (a.length > 1) opt.requests = framing(a[1]);
if (a.length > 2) opt.replies = framing(a[2]);

function is(req: Uint8Array, s: string): bool {
  if (req.length != s.length) return false;
  for (let i = 0; i < req.length; i++) {
    if (<i32>req[i] != s.charCodeAt(i)) return false;
  }
  return true;
}

serveOptions(opt, (req: Uint8Array, w: Replies): void => {
  if (is(req, "wasmpool:fail")) {
    w.fail("echo: asked to fail");
    return;
  }
  if (is(req, "wasmpool:sleep")) {
    // AssemblyScript has no sleep: spin on the clock.
    const end = process.hrtime() + 20_000_000;
    while (process.hrtime() < end) {}
  }
  w.reply(req);
});
