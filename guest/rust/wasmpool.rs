//! wasmpool — the Rust guest SDK for wasmpool filters.
//!
//! A wasmpool filter reads request frames from stdin and writes zero or
//! more reply frames per request to stdout. This module does the framing
//! and the buffering; you write one handler, called once per request:
//!
//! ```ignore
//! use wasmpool::{serve, Framing, Replies};
//!
//! // linelen: reply to each line with its length in bytes.
//! fn main() {
//!     serve(Framing::Lines, |line: &[u8], w: &mut Replies| {
//!         w.reply(line.len().to_string().as_bytes())
//!     });
//! }
//! ```
//!
//! The module has no dependencies and builds with Rust 1.63 (Debian 12's
//! rustc and libstd-rust-dev-wasm32) without cargo. Compile it as a
//! library once, then the program against it:
//!
//! ```text
//! F="--edition 2021 --target wasm32-wasi -C opt-level=s -C panic=abort"
//! rustc $F --crate-type rlib --crate-name wasmpool -o libwasmpool.rlib guest/rust/wasmpool.rs
//! rustc $F -C strip=symbols --extern wasmpool=libwasmpool.rlib -o linelen.wasm main.rs
//! ```
//!
//! (guestbuild.Rust does exactly this.) With cargo, point a `[lib]` with
//! `path = "guest/rust/wasmpool.rs"` at it, or `#[path = "…"] mod wasmpool;`.
//!
//! The contract is the Go SDK's (package github.com/wasmpool/wasmpool/guest):
//!
//! - Framings: lines (a last line without '\n' at EOF is still a frame),
//!   zero (NUL-terminated), lenpfx (8-byte little-endian length, then the
//!   payload) and fixed:N (records of exactly N bytes); [`Framing::parse`]
//!   reads their names.
//! - The request slice is valid only during the handler call;
//!   [`Replies::reply`] copies what it is given.
//! - Replies are buffered and written to fd 1 with `write`, requests read
//!   from fd 0 with `read` (no `std::io::stdout` line buffering): the buffer
//!   is flushed before every read of stdin, when it holds 64 KiB, when a
//!   reply has waited 10 ms while the guest works through a batch of
//!   requests already read, and at the end. Do not print to stdout
//!   yourself; use stderr (`eprintln!`).
//! - [`Replies::reply`] refuses a lines or zero payload that contains its
//!   terminator and a fixed:N payload that is not N bytes long.
//! - A handler error ends the run: [`serve`] writes `guest: request N: ERROR`
//!   (N counts from 1) to stderr and exits with status 1. So does a lenpfx
//!   or fixed frame cut short by EOF, or a request larger than the maximum
//!   frame size ([`DEFAULT_MAX_FRAME`], 64 MiB, unless set in [`Options`]).
//! - At EOF [`serve`] flushes and returns.
//! - The framing given to [`serve`] is the default. A pool passes its own
//!   framings in the environment (`WASMPOOL_FRAMES`,
//!   `WASMPOOL_REPLY_FRAMES`) and [`serve`] adopts them. A guest whose
//!   records mean something only in its own framings sets
//!   [`Options::strict`]: then other framings from the pool end it at start
//!   with "guest: this guest reads fixed:4 requests; the pool sends lines"
//!   on stderr and exit status 1 ([`from_env`]).
//! - A guest built on this module exports the session marker, a no-op
//!   function named `wasmpool_session` (abi.SessionMarker), by which a host
//!   runs it in one long-lived instance per kid.
//!
//! A panic aborts the guest (build with `-C panic=abort`): a wasm trap;
//! replies still in the buffer are lost (the Go SDK writes them first).

#![allow(dead_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// The largest request accepted when [`Options::max_frame`] is 0:
/// abi.DefaultMaxFrame, 64 MiB.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// The size of a lenpfx length header.
pub const LENPFX_HEADER: usize = 8;

/// Buffered replies are written at this size even before the next read.
const FLUSH_AT: usize = 64 << 10;

/// How long a reply may wait in the buffer while the guest works through
/// the rest of a batch of requests.
const MAX_DELAY: Duration = Duration::from_millis(10);

/// Tells when buffered replies have waited MAX_DELAY. Reading the clock is
/// a host call, so it reads it only every so many requests, about once a
/// millisecond whatever a request costs (as the Go SDK does).
struct Pacer {
    every: u32,
    n: u32,
    last_check: Option<Instant>,
}

impl Pacer {
    fn due(&mut self, flushed: Instant) -> bool {
        self.n += 1;
        if self.n < self.every {
            return false;
        }
        self.n = 0;
        let now = Instant::now();
        match self.last_check {
            None => self.every = 1,
            Some(last) => {
                let gap = now.saturating_duration_since(last);
                if gap < Duration::from_millis(1) {
                    self.every = std::cmp::min(2 * self.every, 4096);
                } else if gap > Duration::from_millis(2) {
                    self.every = std::cmp::max(self.every / 2, 1);
                }
            }
        }
        self.last_check = Some(now);
        now.saturating_duration_since(flushed) >= MAX_DELAY
    }
}

/// How a byte stream is cut into frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A frame is the bytes before '\n'; a last frame without '\n' at EOF
    /// is still a frame.
    Lines,
    /// The same with the NUL byte as terminator.
    Zero,
    /// An 8-byte little-endian length, then that many bytes.
    LenPfx,
    /// Records of exactly N bytes, N ≥ 1.
    Fixed(usize),
}

impl Framing {
    /// Parses "lines", "zero", "lenpfx" or "fixed:N".
    pub fn parse(name: &str) -> Result<Framing, Error> {
        match name {
            "lines" => return Ok(Framing::Lines),
            "zero" => return Ok(Framing::Zero),
            "lenpfx" => return Ok(Framing::LenPfx),
            _ => {}
        }
        if let Some(n) = name.strip_prefix("fixed:") {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(size) = n.parse::<usize>() {
                    if size >= 1 {
                        return Ok(Framing::Fixed(size));
                    }
                }
            }
            return Err(Error::new(format!(
                "frames: invalid framing {:?}: fixed:N needs a record size N ≥ 1",
                name
            )));
        }
        Err(Error::new(format!(
            "frames: invalid framing {:?}: want lines, zero, lenpfx or fixed:N",
            name
        )))
    }

    fn terminator(self) -> u8 {
        if self == Framing::Zero {
            0
        } else {
            b'\n'
        }
    }

    fn validate(self) -> Result<(), Error> {
        if self == Framing::Fixed(0) {
            return Err(Error::new(
                "frames: invalid framing fixed:0: fixed:N needs a record size N ≥ 1",
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Framing::Lines => f.write_str("lines"),
            Framing::Zero => f.write_str("zero"),
            Framing::LenPfx => f.write_str("lenpfx"),
            Framing::Fixed(n) => write!(f, "fixed:{}", n),
        }
    }
}

impl std::str::FromStr for Framing {
    type Err = Error;
    fn from_str(s: &str) -> Result<Framing, Error> {
        Framing::parse(s)
    }
}

/// An error with a message; handlers may return it, a `String`, a
/// `Box<dyn std::error::Error>` or anything else that implements Display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    msg: String,
}

impl Error {
    /// Returns an error with the message msg.
    pub fn new<S: Into<String>>(msg: S) -> Error {
        Error { msg: msg.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::new(e.to_string())
    }
}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error::new(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Error {
        Error::new(s)
    }
}

/// Writes reply frames in the reply framing; the handler gets one.
pub struct Replies<'a> {
    framing: Framing,
    buf: Vec<u8>,
    w: &'a mut dyn Write,
    err: Option<Error>,
    flushed: Instant,
}

impl<'a> Replies<'a> {
    /// The reply framing.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Writes one reply frame. It fails if p cannot be framed (a lines or
    /// zero payload containing its terminator, a fixed payload of the wrong
    /// size) or if writing to stdout failed.
    pub fn reply(&mut self, p: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        match self.framing {
            Framing::Lines | Framing::Zero => {
                let t = self.framing.terminator();
                if p.contains(&t) {
                    return Err(Error::new(format!(
                        "frames: payload contains the frame terminator ({}, {}-byte payload)",
                        self.framing,
                        p.len()
                    )));
                }
                self.put(&[], p, &[t])
            }
            Framing::LenPfx => self.put(&(p.len() as u64).to_le_bytes(), p, &[]),
            Framing::Fixed(n) => {
                if p.len() != n {
                    return Err(Error::new(format!(
                        "frames: payload size does not match the fixed frame size: {} bytes for {}",
                        p.len(),
                        self.framing
                    )));
                }
                self.put(&[], p, &[])
            }
        }
    }

    fn put(&mut self, head: &[u8], p: &[u8], tail: &[u8]) -> Result<(), Error> {
        let need = head.len() + p.len() + tail.len();
        if need > FLUSH_AT {
            // A large frame: write it through without copying.
            self.flush()?;
            let r = self
                .w
                .write_all(head)
                .and_then(|_| self.w.write_all(p))
                .and_then(|_| self.w.write_all(tail));
            return self.check(r);
        }
        // One reservation and inline copies of short runs, not three
        // extend_from_slice calls, each a call of memcpy (a loop in wasm).
        self.buf.reserve(need);
        let len = self.buf.len();
        // SAFETY: the buffer has room for need more bytes, and the three
        // copies write exactly need bytes past len.
        unsafe {
            let dst = self.buf.as_mut_ptr().add(len);
            copy_bytes(dst, head);
            copy_bytes(dst.add(head.len()), p);
            copy_bytes(dst.add(head.len() + p.len()), tail);
            self.buf.set_len(len + need);
        }
        if self.buf.len() >= FLUSH_AT {
            return self.flush();
        }
        Ok(())
    }

    fn check(&mut self, r: io::Result<()>) -> Result<(), Error> {
        if let Err(e) = r {
            let e = Error::new(format!("write to stdout: {}", e));
            self.err = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    /// Writes the buffered replies.
    pub fn flush(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.w.write_all(&self.buf);
        self.buf.clear();
        self.flushed = Instant::now();
        self.check(r)
    }
}

/// Copies src to dst, which has room for it and does not overlap it. Under
/// a wasm runtime a call of memcpy costs more than the few bytes of most
/// frames, so runs of up to 16 bytes are copied inline (in two overlapping
/// words).
#[inline(always)]
unsafe fn copy_bytes(dst: *mut u8, src: &[u8]) {
    use std::ptr::{copy_nonoverlapping, read_unaligned, write_unaligned};
    let (s, n) = (src.as_ptr(), src.len());
    if n > 16 {
        copy_nonoverlapping(s, dst, n);
    } else if n >= 8 {
        let a = read_unaligned(s as *const u64);
        let b = read_unaligned(s.add(n - 8) as *const u64);
        write_unaligned(dst as *mut u64, a);
        write_unaligned(dst.add(n - 8) as *mut u64, b);
    } else if n >= 4 {
        let a = read_unaligned(s as *const u32);
        let b = read_unaligned(s.add(n - 4) as *const u32);
        write_unaligned(dst as *mut u32, a);
        write_unaligned(dst.add(n - 4) as *mut u32, b);
    } else if n > 0 {
        *dst = *s;
        *dst.add(n / 2) = *s.add(n / 2);
        *dst.add(n - 1) = *s.add(n - 1);
    }
}

/// Options tune [`run`] and [`serve_options`]. The default reads and
/// replies in lines framing.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The request framing.
    pub requests: Framing,
    /// The reply framing; None means the request framing.
    pub replies: Option<Framing>,
    /// The largest request; 0 means [`DEFAULT_MAX_FRAME`], `usize::MAX`
    /// no limit.
    pub max_frame: usize,
    /// The guest reads and writes only the framings above (its records
    /// mean something only in them): when the pool passes other framings
    /// in the environment, [`serve_options`] reports both and exits 1
    /// instead of adopting them. [`run`] ignores it; see [`from_env`].
    pub strict: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            requests: Framing::Lines,
            replies: None,
            max_frame: 0,
            strict: false,
        }
    }
}

/// The environment variable in which a pool passes its request framing
/// (abi.FramesEnv).
pub const FRAMES_ENV: &str = "WASMPOOL_FRAMES";

/// The environment variable in which a pool passes its reply framing
/// (abi.ReplyFramesEnv).
pub const REPLY_FRAMES_ENV: &str = "WASMPOOL_REPLY_FRAMES";

/// The framing named by the environment variable name; None when it is
/// unset or empty.
fn env_framing(name: &str) -> Result<Option<Framing>, Error> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            let v = v.to_string_lossy();
            Framing::parse(&v)
                .map(Some)
                .map_err(|e| Error::new(format!("{}: {}", name, e)))
        }
    }
}

/// Returns opt with the framings that the pool passes in the environment
/// variables [`FRAMES_ENV`] (the request framing) and [`REPLY_FRAMES_ENV`]
/// (the reply framing): the framings in opt are the defaults, kept when
/// the variables are unset or empty (the guest runs outside a pool, or
/// under an older host). A missing reply variable means the request
/// framing when that is set. With `opt.strict`, a pool framing other than
/// opt's is an error ("this guest reads fixed:4 requests; the pool sends
/// lines"); so is a value that is not a framing name, strict or not.
/// [`serve_options`] calls it.
pub fn from_env(opt: &Options) -> Result<Options, Error> {
    let env_req = env_framing(FRAMES_ENV)?;
    let env_rep = env_framing(REPLY_FRAMES_ENV)?;
    if env_req.is_none() && env_rep.is_none() {
        return Ok(*opt);
    }
    let own_req = opt.requests;
    let own_rep = opt.replies.unwrap_or(opt.requests);
    let req = env_req.unwrap_or(own_req);
    let rep = env_rep.unwrap_or(if env_req.is_some() { req } else { own_rep });
    if opt.strict && req != own_req {
        return Err(Error::new(format!(
            "this guest reads {} requests; the pool sends {}",
            own_req, req
        )));
    }
    if opt.strict && rep != own_rep {
        return Err(Error::new(format!(
            "this guest writes {} replies; the pool reads {}",
            own_rep, rep
        )));
    }
    Ok(Options {
        requests: req,
        replies: if rep == req { None } else { Some(rep) },
        ..*opt
    })
}

fn too_large(n: usize, max: usize) -> Error {
    Error::new(format!(
        "frames: frame too large: {} bytes or more, the limit is {}",
        n, max
    ))
}

fn truncated(got: usize, want: u64, what: &str) -> Error {
    Error::new(format!(
        "frames: truncated frame at EOF: {} of {} {}",
        got, want, what
    ))
}

/// Reads request frames from r until EOF, calls h for each and writes its
/// replies to w. It returns Ok at EOF, or the first error: a bad request
/// frame ("reading request N: …"), a handler error ("request N: …", N
/// counting from 1) or a write error ("writing replies: …").
pub fn run<R, W, E, F>(r: &mut R, w: &mut W, opt: &Options, h: F) -> Result<(), Error>
where
    R: Read + ?Sized,
    W: Write,
    E: fmt::Display,
    F: FnMut(&[u8], &mut Replies) -> Result<(), E>,
{
    opt.requests.validate()?;
    let reply_framing = opt.replies.unwrap_or(opt.requests);
    reply_framing.validate()?;
    let mut out = Replies {
        framing: reply_framing,
        buf: Vec::with_capacity(FLUSH_AT + 64),
        w,
        err: None,
        flushed: Instant::now(),
    };
    let r = serve_loop(r, &mut out, opt, h);
    if r.is_err() {
        // The replies so far, as the Go SDK does.
        let _ = out.flush();
    }
    r
}

fn serve_loop<R, E, F>(r: &mut R, out: &mut Replies, opt: &Options, mut h: F) -> Result<(), Error>
where
    R: Read + ?Sized,
    E: fmt::Display,
    F: FnMut(&[u8], &mut Replies) -> Result<(), E>,
{
    let f = opt.requests;
    let max = if opt.max_frame == 0 {
        DEFAULT_MAX_FRAME
    } else {
        opt.max_frame
    };
    let mut buf: Vec<u8> = Vec::new();
    let (mut start, mut end, mut scanned) = (0usize, 0usize, 0usize);
    let mut count: u64 = 0;
    let mut eof = false;
    let mut pace = Pacer {
        every: 0,
        n: 0,
        last_check: None,
    };
    let t = f.terminator();
    let reading = |count: u64, e: Error| Error::new(format!("reading request {}: {}", count + 1, e));

    loop {
        let data = &buf[start..end];
        let avail = data.len();
        // (offset of the payload in data, its length, bytes consumed)
        let mut frame: Option<(usize, usize, usize)> = None;
        let mut need = 0usize;
        match f {
            Framing::Lines | Framing::Zero => {
                let found = if avail > scanned {
                    data[scanned..].iter().position(|&b| b == t).map(|i| scanned + i)
                } else {
                    None
                };
                if let Some(i) = found {
                    if i > max {
                        return Err(reading(count, too_large(i, max)));
                    }
                    frame = Some((0, i, i + 1));
                } else if avail > max {
                    return Err(reading(count, too_large(avail, max)));
                } else if eof && avail > 0 {
                    frame = Some((0, avail, avail));
                } else {
                    scanned = avail;
                }
            }
            Framing::LenPfx => {
                if avail < LENPFX_HEADER {
                    if eof && avail > 0 {
                        return Err(reading(
                            count,
                            truncated(avail, LENPFX_HEADER as u64, "length-header bytes"),
                        ));
                    }
                    need = LENPFX_HEADER;
                } else {
                    let mut hdr = [0u8; 8];
                    hdr.copy_from_slice(&data[..LENPFX_HEADER]);
                    let n = u64::from_le_bytes(hdr);
                    if n > max as u64 {
                        return Err(reading(
                            count,
                            Error::new(format!(
                                "frames: frame too large: a length header of {} bytes, the limit is {}",
                                n, max
                            )),
                        ));
                    }
                    let n = n as usize;
                    if avail < LENPFX_HEADER + n {
                        if eof {
                            return Err(reading(
                                count,
                                truncated(avail - LENPFX_HEADER, n as u64, "payload bytes"),
                            ));
                        }
                        need = LENPFX_HEADER + n;
                    } else {
                        frame = Some((LENPFX_HEADER, n, LENPFX_HEADER + n));
                    }
                }
            }
            Framing::Fixed(size) => {
                if size > max {
                    return Err(reading(count, too_large(size, max)));
                }
                if avail < size {
                    if eof && avail > 0 {
                        return Err(reading(count, truncated(avail, size as u64, "record bytes")));
                    }
                    need = size;
                } else {
                    frame = Some((0, size, size));
                }
            }
        }

        if let Some((off, len, adv)) = frame {
            let payload = &buf[start + off..start + off + len];
            start += adv;
            scanned = 0;
            count += 1;
            if let Err(e) = h(payload, out) {
                let _ = out.flush();
                return Err(Error::new(format!("request {}: {}", count, e)));
            }
            // Replies that waited long enough while a batch is worked through.
            if !out.buf.is_empty() && pace.due(out.flushed) {
                if let Err(e) = out.flush() {
                    return Err(Error::new(format!("writing replies: {}", e)));
                }
            }
            continue;
        }
        if eof {
            break;
        }

        // Fill: flush the replies, make room, read more.
        if let Err(e) = out.flush() {
            return Err(Error::new(format!("writing replies: {}", e)));
        }
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() || need > buf.len() {
            let mut size = std::cmp::max(2 * buf.len(), 64 << 10);
            if size < need {
                size = need;
            }
            let limit = max.saturating_add(LENPFX_HEADER + 1);
            if size > limit {
                size = std::cmp::max(limit, buf.len() + 1);
            }
            buf.resize(size, 0);
        }
        loop {
            match r.read(&mut buf[end..]) {
                Ok(0) => eof = true,
                Ok(k) => end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(reading(count, Error::new(format!("read stdin: {}", e))));
                }
            }
            break;
        }
    }
    if let Err(e) = out.flush() {
        return Err(Error::new(format!("writing replies: {}", e)));
    }
    Ok(())
}

/// A file descriptor read and written with the C library's read and write,
/// without std's buffering.
struct Fd(i32);

extern "C" {
    fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

impl Read for Fd {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        let n = unsafe { read(self.0, b.as_mut_ptr(), b.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl Write for Fd {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = unsafe { write(self.0, b.as_ptr(), b.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs h over stdin and stdout with the same framing for requests and
/// replies, and returns at EOF. f is the default: when the pool passes its
/// framings in the environment, serve adopts them (see [`from_env`]). On an
/// error it writes a line to stderr and exits with status 1.
pub fn serve<E, F>(f: Framing, h: F)
where
    E: fmt::Display,
    F: FnMut(&[u8], &mut Replies) -> Result<(), E>,
{
    serve_options(
        &Options {
            requests: f,
            ..Options::default()
        },
        h,
    )
}

/// [`serve`] with separate reply framing, limits and [`Options::strict`].
pub fn serve_options<E, F>(opt: &Options, h: F)
where
    E: fmt::Display,
    F: FnMut(&[u8], &mut Replies) -> Result<(), E>,
{
    let opt = match from_env(opt) {
        Ok(opt) => opt,
        Err(e) => die(&e),
    };
    if let Err(e) = run(&mut Fd(0), &mut Fd(1), &opt, h) {
        die(&e);
    }
}

/// [`serve`] with the default framing named by the first program argument
/// ("lines" when there is none); an invalid name is reported and exits 1.
pub fn serve_args<E, F>(h: F)
where
    E: fmt::Display,
    F: FnMut(&[u8], &mut Replies) -> Result<(), E>,
{
    let f = match std::env::args().nth(1) {
        None => Framing::Lines,
        Some(name) => match Framing::parse(&name) {
            Ok(f) => f,
            Err(e) => die(&e),
        },
    };
    serve(f, h)
}

fn die(e: &Error) -> ! {
    let msg = format!("guest: {}\n", e);
    let _ = Fd(2).write_all(msg.as_bytes());
    std::process::exit(1)
}

/// The session marker (abi.SessionMarker): a module that exports a
/// function named `wasmpool_session` keeps the session contract (replies
/// flushed before every read of stdin), so a host runs it in one
/// long-lived instance per kid rather than a fresh instance per batch.
/// rustc exports the `#[no_mangle]` functions of every crate a wasm32-wasi
/// program links, so every guest built on this module exports it; nobody
/// calls it.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn wasmpool_session() {}
