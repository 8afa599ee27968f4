// wasmpool.ts — the AssemblyScript guest SDK for wasmpool filters.
//
// A wasmpool filter reads request frames from stdin and writes zero or more
// reply frames per request to stdout. This module does the framing and the
// buffering; you write one handler, called once per request:
//
//     import { serve, Framing, Replies } from "../../../guest/assemblyscript/wasmpool";
//
//     // linelen: reply to each line with its length in bytes.
//     serve(Framing.lines(), (line: Uint8Array, w: Replies): void => {
//       w.replyDecimal(<u64>line.length);
//     });
//
// Top-level statements run in the module's _start (asconfig.json sets
// exportStart). Build with AssemblyScript 0.28 and @assemblyscript/wasi-shim
// (installed by .ci/install-toolchains into internal/guestbuild/npm):
//
//     asc main.ts --config guest/assemblyscript/asconfig.json -o main.wasm
//
// (guestbuild.AssemblyScript does this.) Import this file by a relative path.
//
// The contract is the Go SDK's (package github.com/wasmpool/wasmpool/guest):
//
//   - Framings: lines (a last line without '\n' at EOF is still a frame),
//     zero (NUL-terminated), lenpfx (8-byte little-endian length, then the
//     payload) and fixed:N (records of exactly N bytes); Framing.parse reads
//     their names.
//   - The request is a Uint8Array view of the input buffer, valid only
//     during the handler call; reply copies what it is given.
//   - Replies are buffered and written with WASI fd_write on fd 1, requests
//     read with fd_read on fd 0: the buffer is flushed before every read of
//     stdin, when it holds 64 KiB, when a reply has waited 10 ms while the
//     guest works through a batch of requests already read, and at the end. Do not write to stdout
//     yourself (the shim's console.log does!): use console.error or
//     writeStderr.
//   - reply refuses a lines or zero payload that contains its terminator
//     and a fixed:N payload that is not N bytes long; AssemblyScript has no
//     exceptions to catch, so the error is sticky: the request fails even if
//     the handler ignores reply's result.
//   - A handler fails with w.fail(message). Then serve writes
//     "guest: request N: MESSAGE" (N counts from 1) to stderr and exits with
//     status 1. So does a lenpfx or fixed frame cut short by EOF, or a
//     request larger than the maximum frame size (DEFAULT_MAX_FRAME, 64 MiB,
//     unless set in Options).
//   - At EOF serve flushes and returns.
//   - The framing given to serve is the default. A pool passes its own
//     framings in the environment (WASMPOOL_FRAMES, WASMPOOL_REPLY_FRAMES)
//     and serve adopts them. A guest whose records mean something only in
//     its own framings sets Options.strict: then other framings from the
//     pool end it at start with "guest: this guest reads fixed:4 requests;
//     the pool sends lines" on stderr and exit status 1 (fromEnv).
//   - A guest built with asconfig.json exports the session marker, a no-op
//     function named wasmpool_session (abi.SessionMarker), by which a host
//     runs it in one long-lived instance per kid: the config adds
//     session.ts as an entry file, since only the exports of entry files
//     are the module's. A build with a config of its own adds the line
//         export { wasmpool_session } from "…/guest/assemblyscript/session";
//     to its entry file instead.

// The WASI calls this module uses, declared here so that it depends on no
// particular layout of the shim.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_read")
declare function wasi_fd_read(fd: u32, iovs: usize, iovsLen: usize, nread: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function wasi_fd_write(fd: u32, iovs: usize, iovsLen: usize, nwritten: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
declare function wasi_proc_exit(code: u32): void;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
declare function wasi_clock_time_get(id: u32, precision: u64, time: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "args_sizes_get")
declare function wasi_args_sizes_get(argc: usize, argvBufSize: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "args_get")
declare function wasi_args_get(argv: usize, argvBuf: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function wasi_environ_sizes_get(count: usize, bufSize: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "environ_get")
declare function wasi_environ_get(environ: usize, environBuf: usize): u16;

const ERRNO_INTR: u16 = 27;
const ERRNO_PIPE: u16 = 64;

/** The largest request accepted when Options.maxFrame is 0: 64 MiB. */
export const DEFAULT_MAX_FRAME: i32 = 64 << 20;
/** The size of a lenpfx length header. */
export const LENPFX_HEADER: i32 = 8;
const FLUSH_AT: i32 = 64 << 10;

// A scratch area for iovecs and result counts: [buf, len, result].
const scratch: usize = memory.data(16);

// MAX_DELAY_NS bounds how long a reply waits in the buffer while the guest
// works through the rest of a batch of requests: 10 ms.
const MAX_DELAY_NS: u64 = 10_000_000;

/** A monotonic time in nanoseconds. */
function now(): u64 {
  const t = memory.data(8);
  if (wasi_clock_time_get(1, 1000, t) != 0) return 0; // 1: MONOTONIC
  return load<u64>(t);
}

// Pacer tells when buffered replies have waited MAX_DELAY_NS. Reading the
// clock is a host call, so it reads it only every so many requests, about
// once a millisecond whatever a request costs (as the Go SDK does).
class Pacer {
  every: u32 = 0;
  n: u32 = 0;
  lastCheck: u64 = 0;

  due(flushed: u64): bool {
    if (++this.n < this.every) return false;
    this.n = 0;
    const t = now();
    if (this.lastCheck == 0) this.every = 1;
    const gap = t - this.lastCheck;
    if (gap < 1_000_000) {
      this.every = min(2 * this.every, 4096);
    } else if (gap > 2_000_000) {
      this.every = max(this.every / 2, 1);
    }
    this.lastCheck = t;
    return t - flushed >= MAX_DELAY_NS;
  }
}

export const LINES: i32 = 0;
export const ZERO: i32 = 1;
export const LENPFX: i32 = 2;
export const FIXED: i32 = 3;

/** How a byte stream is cut into frames. */
export class Framing {
  constructor(public kind: i32, public size: i32 = 0) {}

  static lines(): Framing { return new Framing(LINES); }
  static zero(): Framing { return new Framing(ZERO); }
  static lenpfx(): Framing { return new Framing(LENPFX); }
  static fixed(n: i32): Framing { return new Framing(FIXED, n); }

  /** Parses "lines", "zero", "lenpfx" or "fixed:N"; null if invalid. */
  static parse(name: string): Framing | null {
    if (name == "lines") return Framing.lines();
    if (name == "zero") return Framing.zero();
    if (name == "lenpfx") return Framing.lenpfx();
    if (name.startsWith("fixed:")) {
      const digits = name.substring(6);
      if (digits.length == 0 || digits.length > 10) return null;
      let n: i64 = 0;
      for (let i = 0; i < digits.length; i++) {
        const c = digits.charCodeAt(i);
        if (c < 48 || c > 57) return null;
        n = n * 10 + (c - 48);
      }
      if (n < 1 || n > i32.MAX_VALUE) return null;
      return Framing.fixed(<i32>n);
    }
    return null;
  }

  toString(): string {
    if (this.kind == LINES) return "lines";
    if (this.kind == ZERO) return "zero";
    if (this.kind == LENPFX) return "lenpfx";
    return "fixed:" + this.size.toString();
  }

  terminator(): u8 { return this.kind == ZERO ? 0 : 10; }

  /** Whether f is the same framing. */
  equals(f: Framing): bool {
    return this.kind == f.kind && (this.kind != FIXED || this.size == f.size);
  }
}

/** Options tune run and serveOptions. */
export class Options {
  /** The request framing. */
  requests: Framing = Framing.lines();
  /** The reply framing; null means the request framing. */
  replies: Framing | null = null;
  /** The largest request; 0 means DEFAULT_MAX_FRAME, a negative value no
   * limit (but the 4 GiB of wasm32 memory). */
  maxFrame: i32 = 0;
  /** The guest reads and writes only the framings above (its records mean
   * something only in them): when the pool passes other framings in the
   * environment, serveOptions reports both and exits 1 instead of adopting
   * them. run ignores it; see fromEnv. */
  strict: bool = false;
}

/** The environment variable in which a pool passes its request framing
 * (abi.FramesEnv). */
export const FRAMES_ENV = "WASMPOOL_FRAMES";
/** The environment variable in which a pool passes its reply framing
 * (abi.ReplyFramesEnv). */
export const REPLY_FRAMES_ENV = "WASMPOOL_REPLY_FRAMES";

/** The value of the environment variable name; null when it is unset. */
export function getenv(name: string): string | null {
  const sizes = memory.data(16);
  if (wasi_environ_sizes_get(sizes, sizes + sizeof<usize>()) != 0) return null;
  const count = <i32>load<usize>(sizes);
  const bufSize = load<usize>(sizes, sizeof<usize>());
  const ptrs = heap.alloc(<usize>count * sizeof<usize>());
  const data = heap.alloc(bufSize);
  const key = String.UTF8.encode(name + "=");
  const keyLen = <usize>key.byteLength;
  let value: string | null = null;
  if (wasi_environ_get(ptrs, data) == 0) {
    for (let i = 0; i < count && value === null; i++) {
      const p = load<usize>(ptrs + <usize>i * sizeof<usize>());
      let e = p;
      while (load<u8>(e) != 0) e++;
      if (e - p >= keyLen && memory.compare(p, changetype<usize>(key), keyLen) == 0) {
        value = String.UTF8.decodeUnsafe(p + keyLen, e - p - keyLen);
      }
    }
  }
  heap.free(ptrs);
  heap.free(data);
  return value;
}

/** Adopts into opt the framings that the pool passes in the environment
 * variables FRAMES_ENV (the request framing) and REPLY_FRAMES_ENV (the
 * reply framing): opt's framings are the defaults, kept when the variables
 * are unset or empty (the guest runs outside a pool, or under an older
 * host). A missing reply variable means the request framing when that is
 * set. Returns null, or an error, and leaves opt as it was, when a variable
 * holds no framing name or, with opt.strict, when the pool's framings
 * differ from opt's ("this guest reads fixed:4 requests; the pool sends
 * lines"). serveOptions calls it. */
export function fromEnv(opt: Options): string | null {
  const reqName = getenv(FRAMES_ENV), repName = getenv(REPLY_FRAMES_ENV);
  const ownReq = opt.requests;
  const ownRepOpt = opt.replies;
  const ownRep = ownRepOpt === null ? ownReq : ownRepOpt;
  let req: Framing = ownReq, rep: Framing = ownRep;
  let reqSet = false, repSet = false;
  if (reqName !== null && reqName.length > 0) {
    const f = Framing.parse(reqName);
    if (f === null) return envError(FRAMES_ENV, reqName);
    req = f; reqSet = true;
  }
  if (repName !== null && repName.length > 0) {
    const f = Framing.parse(repName);
    if (f === null) return envError(REPLY_FRAMES_ENV, repName);
    rep = f; repSet = true;
  }
  if (!reqSet && !repSet) return null;
  if (reqSet && !repSet) rep = req;
  if (opt.strict && !req.equals(ownReq)) {
    return "this guest reads " + ownReq.toString() + " requests; the pool sends " + req.toString();
  }
  if (opt.strict && !rep.equals(ownRep)) {
    return "this guest writes " + ownRep.toString() + " replies; the pool reads " + rep.toString();
  }
  opt.requests = req;
  opt.replies = rep.equals(req) ? null : rep;
  return null;
}

function envError(name: string, value: string): string {
  return name + ": frames: invalid framing \"" + value + (value.startsWith("fixed:")
    ? "\": fixed:N needs a record size N ≥ 1"
    : "\": want lines, zero, lenpfx or fixed:N");
}

/** Writes all n bytes at p to fd; returns 0 or a WASI errno. */
function writeAll(fd: u32, p: usize, n: usize): u16 {
  while (n > 0) {
    store<usize>(scratch, p);
    store<usize>(scratch, n, sizeof<usize>());
    const e = wasi_fd_write(fd, scratch, 1, scratch + 2 * sizeof<usize>());
    if (e == ERRNO_INTR) continue;
    if (e != 0) return e;
    const k = load<usize>(scratch, 2 * sizeof<usize>());
    if (k == 0) return 29; // EIO
    p += k;
    n -= k;
  }
  return 0;
}

function errnoText(e: u16): string {
  if (e == ERRNO_PIPE) return "broken pipe";
  return "errno " + e.toString();
}

/** Writes s, UTF-8 encoded, to stderr. */
export function writeStderr(s: string): void {
  const b = String.UTF8.encode(s);
  writeAll(2, changetype<usize>(b), <usize>b.byteLength);
}

/** Writes reply frames in the reply framing; the handler gets one. */
export class Replies {
  private buf: usize;
  private len: i32 = 0;
  /** The first error (sticky), or null. */
  error: string | null = null;
  private writeFailed: bool = false;
  /** When replies were last written (ns). */
  flushed: u64 = now();

  constructor(public framing: Framing, private fd: u32) {
    this.buf = heap.alloc(<usize>(2 * FLUSH_AT));
  }

  /** Records message as the handler's error: the request fails. */
  fail(message: string): void {
    if (this.error === null) this.error = message;
  }

  /** Writes one reply frame; false on an error (see error). */
  reply(p: Uint8Array): bool {
    return this.replyRaw(p.dataStart, p.byteLength);
  }

  /** Writes the UTF-8 bytes of s as one reply frame. */
  replyString(s: string): bool {
    const b = String.UTF8.encode(s);
    return this.replyRaw(changetype<usize>(b), b.byteLength);
  }

  /** Writes v in decimal as one reply frame. */
  replyDecimal(v: u64): bool {
    const tmp = memory.data(24);
    let n = 0;
    do {
      store<u8>(tmp + 23 - n, <u8>(48 + v % 10));
      v /= 10;
      n++;
    } while (v != 0);
    return this.replyRaw(tmp + 24 - n, n);
  }

  /** Writes one reply frame of n bytes at p (raw memory). */
  replyRaw(p: usize, n: i32): bool {
    if (this.error !== null) return false;
    const f = this.framing;
    let head = 0, tail = 0;
    if (f.kind == LINES || f.kind == ZERO) {
      const t = f.terminator();
      for (let i = 0; i < n; i++) {
        if (load<u8>(p + <usize>i) == t) {
          this.error = "frames: payload contains the frame terminator (" + f.toString() + ", " + n.toString() + "-byte payload)";
          return false;
        }
      }
      tail = 1;
    } else if (f.kind == LENPFX) {
      head = LENPFX_HEADER;
    } else if (n != f.size) {
      this.error = "frames: payload size does not match the fixed frame size: " + n.toString() + " bytes for " + f.toString();
      return false;
    }
    const need = head + n + tail;
    if (need > FLUSH_AT) {
      // A large frame: write it through without copying the payload.
      if (!this.flush()) return false;
      const hdr = memory.data(16);
      store<u64>(hdr, <u64>n);
      store<u8>(hdr, f.terminator(), 8);
      let e = writeAll(this.fd, hdr, <usize>head);
      if (e == 0) e = writeAll(this.fd, p, <usize>n);
      if (e == 0) e = writeAll(this.fd, hdr + 8, <usize>tail);
      if (e != 0) return this.writeError(e);
      return true;
    }
    if (this.len + need > 2 * FLUSH_AT && !this.flush()) return false;
    let q = this.buf + <usize>this.len;
    if (head > 0) { store<u64>(q, <u64>n); q += 8; }
    memory.copy(q, p, <usize>n);
    q += <usize>n;
    if (tail > 0) store<u8>(q, f.terminator());
    this.len += need;
    if (this.len >= FLUSH_AT) return this.flush();
    return true;
  }

  private writeError(e: u16): bool {
    this.writeFailed = true;
    if (this.error === null) this.error = "write to stdout: " + errnoText(e);
    return false;
  }

  /** The number of bytes buffered. */
  get buffered(): i32 { return this.len; }

  /** Writes the buffered replies; false on a write error. */
  flush(): bool {
    if (this.writeFailed) return false;
    if (this.len == 0) return true;
    const e = writeAll(this.fd, this.buf, <usize>this.len);
    this.len = 0;
    this.flushed = now();
    if (e != 0) return this.writeError(e);
    return true;
  }
}

/** A handler: called once per request; fails with w.fail(message). */
export type Handler = (req: Uint8Array, w: Replies) => void;

function tooLarge(n: i64, max: i32): string {
  return "frames: frame too large: " + n.toString() + " bytes or more, the limit is " + max.toString();
}

function truncated(got: i32, want: i64, what: string): string {
  return "frames: truncated frame at EOF: " + got.toString() + " of " + want.toString() + " " + what;
}

/**
 * Reads request frames from fd inFd until EOF, calls h for each and writes
 * its replies to fd outFd. Returns null at EOF, or the first error:
 * "reading request N: …", "request N: …" or "writing replies: …".
 */
export function run(inFd: u32, outFd: u32, opt: Options, h: Handler): string | null {
  const f = opt.requests;
  const rf = opt.replies;
  const replyFraming = rf === null ? f : rf;
  if ((f.kind == FIXED && f.size < 1) || (replyFraming.kind == FIXED && replyFraming.size < 1)) {
    return "frames: invalid framing fixed:0: fixed:N needs a record size N ≥ 1";
  }
  const out = new Replies(replyFraming, outFd);
  const err = loop(inFd, out, opt, h);
  if (err !== null) out.flush(); // the replies so far, as the Go SDK does
  return err;
}

function loop(inFd: u32, out: Replies, opt: Options, h: Handler): string | null {
  const f = opt.requests;
  const maxFrame = opt.maxFrame == 0 ? DEFAULT_MAX_FRAME : opt.maxFrame < 0 ? i32.MAX_VALUE - 16 : opt.maxFrame;
  let buf = new ArrayBuffer(0);
  let view: Uint8Array | null = null;
  const pace = new Pacer();
  let start = 0, end = 0, scanned = 0, count: i64 = 0;
  let eof = false;
  const t = f.terminator();

  while (true) {
    const data = changetype<usize>(buf) + <usize>start;
    const avail = end - start;
    let off = -1, flen = 0, adv = 0, need = 0;
    if (f.kind == LINES || f.kind == ZERO) {
      let i = scanned;
      while (i < avail && load<u8>(data + <usize>i) != t) i++;
      if (i < avail) {
        if (i > maxFrame) return "reading request " + (count + 1).toString() + ": " + tooLarge(i, maxFrame);
        off = 0; flen = i; adv = i + 1;
      } else if (avail > maxFrame) {
        return "reading request " + (count + 1).toString() + ": " + tooLarge(avail, maxFrame);
      } else if (eof && avail > 0) {
        off = 0; flen = avail; adv = avail;
      } else {
        scanned = avail;
      }
    } else if (f.kind == LENPFX) {
      if (avail < LENPFX_HEADER) {
        if (eof && avail > 0) {
          return "reading request " + (count + 1).toString() + ": " + truncated(avail, LENPFX_HEADER, "length-header bytes");
        }
        need = LENPFX_HEADER;
      } else {
        const n = load<u64>(data);
        if (n > <u64>maxFrame) {
          return "reading request " + (count + 1).toString() + ": frames: frame too large: a length header of " +
            n.toString() + " bytes, the limit is " + maxFrame.toString();
        }
        const ni = <i32>n;
        if (avail < LENPFX_HEADER + ni) {
          if (eof) {
            return "reading request " + (count + 1).toString() + ": " + truncated(avail - LENPFX_HEADER, ni, "payload bytes");
          }
          need = LENPFX_HEADER + ni;
        } else {
          off = LENPFX_HEADER; flen = ni; adv = LENPFX_HEADER + ni;
        }
      }
    } else {
      if (f.size > maxFrame) return "reading request " + (count + 1).toString() + ": " + tooLarge(f.size, maxFrame);
      if (avail < f.size) {
        if (eof && avail > 0) {
          return "reading request " + (count + 1).toString() + ": " + truncated(avail, f.size, "record bytes");
        }
        need = f.size;
      } else {
        off = 0; flen = f.size; adv = f.size;
      }
    }

    if (off >= 0) {
      // One view of the input buffer, moved from request to request (a
      // new view per request costs an allocation and GC work).
      if (view === null || view!.buffer != buf) {
        view = Uint8Array.wrap(buf, start + off, flen);
      } else {
        store<usize>(changetype<usize>(view), changetype<usize>(buf) + <usize>(start + off), offsetof<Uint8Array>("dataStart"));
        store<i32>(changetype<usize>(view), flen, offsetof<Uint8Array>("byteLength"));
      }
      const req = view!;
      start += adv;
      scanned = 0;
      count++;
      h(req, out);
      const err = out.error;
      if (err !== null) {
        out.flush();
        return "request " + count.toString() + ": " + err;
      }
      // Replies that waited long enough while a batch is worked through.
      if (out.buffered > 0 && pace.due(out.flushed) && !out.flush()) {
        return "writing replies: " + (out.error as string);
      }
      continue;
    }
    if (eof) break;

    // Fill: flush the replies, make room, read more.
    if (!out.flush()) return "writing replies: " + (out.error as string);
    if (start > 0) {
      memory.copy(changetype<usize>(buf), changetype<usize>(buf) + <usize>start, <usize>(end - start));
      end -= start;
      start = 0;
    }
    const cap = buf.byteLength;
    if (end == cap || need > cap) {
      let size = max(2 * cap, 64 << 10);
      if (size < need) size = need;
      const limit = maxFrame + LENPFX_HEADER + 1;
      if (size > limit) size = limit > cap + 1 ? limit : cap + 1;
      const nb = new ArrayBuffer(size);
      memory.copy(changetype<usize>(nb), changetype<usize>(buf), <usize>end);
      buf = nb;
    }
    while (true) {
      store<usize>(scratch, changetype<usize>(buf) + <usize>end);
      store<usize>(scratch, <usize>(buf.byteLength - end), sizeof<usize>());
      const e = wasi_fd_read(inFd, scratch, 1, scratch + 2 * sizeof<usize>());
      if (e == ERRNO_INTR) continue;
      if (e != 0) return "reading request " + (count + 1).toString() + ": read stdin: " + errnoText(e);
      const k = <i32>load<usize>(scratch, 2 * sizeof<usize>());
      if (k == 0) eof = true;
      end += k;
      break;
    }
  }
  if (!out.flush()) return "writing replies: " + (out.error as string);
  return null;
}

function die(msg: string): void {
  writeStderr("guest: " + msg + "\n");
  wasi_proc_exit(1);
}

/** Runs h over stdin and stdout with the given options; returns at EOF,
 * exits with status 1 after a message on stderr on an error. opt's
 * framings are defaults: when the pool passes its own in the environment,
 * serveOptions adopts them, or, with opt.strict, refuses other ones (see
 * fromEnv). */
export function serveOptions(opt: Options, h: Handler): void {
  const o = new Options();
  o.requests = opt.requests;
  o.replies = opt.replies;
  o.maxFrame = opt.maxFrame;
  o.strict = opt.strict;
  let err = fromEnv(o);
  if (err !== null) {
    die(err);
    return;
  }
  err = run(0, 1, o, h);
  if (err !== null) die(err);
}

/** serveOptions with framing f for requests and replies (the default: see
 * serveOptions). */
export function serve(f: Framing, h: Handler): void {
  const opt = new Options();
  opt.requests = f;
  serveOptions(opt, h);
}

/** The program's arguments (argv[0] first). */
export function args(): string[] {
  const sizes = memory.data(16);
  if (wasi_args_sizes_get(sizes, sizes + sizeof<usize>()) != 0) return [];
  const argc = <i32>load<usize>(sizes);
  const bufSize = load<usize>(sizes, sizeof<usize>());
  const ptrs = heap.alloc(<usize>argc * sizeof<usize>());
  const data = heap.alloc(bufSize);
  const out = new Array<string>(0);
  if (wasi_args_get(ptrs, data) == 0) {
    for (let i = 0; i < argc; i++) {
      const p = load<usize>(ptrs + <usize>i * sizeof<usize>());
      let e = p;
      while (load<u8>(e) != 0) e++;
      out.push(String.UTF8.decodeUnsafe(p, e - p));
    }
  }
  heap.free(ptrs);
  heap.free(data);
  return out;
}

/** serve with the default framing named by the first program argument ("lines"
 * when there is none); an invalid name is reported and exits 1. */
export function serveArgs(h: Handler): void {
  const a = args();
  let f: Framing | null = Framing.lines();
  if (a.length > 1) {
    f = Framing.parse(a[1]);
    if (f === null) {
      die("frames: invalid framing \"" + a[1] + "\": want lines, zero, lenpfx or fixed:N");
      return;
    }
  }
  serve(f as Framing, h);
}
