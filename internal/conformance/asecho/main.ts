// echo: a conformance guest. Usage: echo [REQUESTS [REPLIES]] with framing
// names (lines, zero, lenpfx, fixed:N; lines by default, REPLIES defaults
// to REQUESTS). It replies to each request with the same bytes, and fails
// the request "wasmpool:fail" with a handler error.
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
if (a.length > 1) opt.requests = framing(a[1]);
if (a.length > 2) opt.replies = framing(a[2]);

serveOptions(opt, (req: Uint8Array, w: Replies): void => {
  if (req.length == 13 && String.UTF8.decode(req.buffer.slice(req.byteOffset, req.byteOffset + 13)) == "wasmpool:fail") {
    w.fail("echo: asked to fail");
    return;
  }
  w.reply(req);
});
