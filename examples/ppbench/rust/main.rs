//! ppbench: the benchmarks' Rust guest, the same filter as the Go guest in
//! examples/ppbench/guest and the C guest in examples/ppbench/c. Its first
//! argument picks the work:
//!
//!   echo    lines in, the same lines out (procpool's ppBench)
//!   upper   lines in, the same lines upper-cased (ASCII) out
//!   sha256  requests of 4096 bytes in (fixed:4096), one line per request
//!           out: the hex SHA-256
//!
//! Built by guestbuild.Rust (rustc without cargo, no crates: the SHA-256
//! is written out here). See guest/rust/wasmpool.rs.

use wasmpool::{serve, serve_options, Error, Framing, Options, Replies};

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// One 64-byte block. The rounds are written out (sixteen per macro) and the
/// message schedule is a ring of the last 16 words (`w[i & 15]`): with
/// constant indices the compiler keeps it and the working variables in
/// registers (or wasm locals) instead of memory, and renames the working
/// variables instead of shifting them each round.
fn block(h: &mut [u32; 8], p: &[u8; 64]) {
    let word = |i: usize| u32::from_be_bytes([p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3]]);
    let mut w = [
        word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7),
        word(8), word(9), word(10), word(11), word(12), word(13), word(14), word(15),
    ];
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = *h;
    macro_rules! round {
        ($k:expr, $w:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {
            let t1 = $h
                .wrapping_add($e.rotate_right(6) ^ $e.rotate_right(11) ^ $e.rotate_right(25))
                .wrapping_add(($e & $f) ^ (!$e & $g))
                .wrapping_add($k)
                .wrapping_add($w);
            let t2 = ($a.rotate_right(2) ^ $a.rotate_right(13) ^ $a.rotate_right(22))
                .wrapping_add(($a & $b) ^ ($a & $c) ^ ($b & $c));
            $d = $d.wrapping_add(t1);
            $h = t1.wrapping_add(t2);
        };
    }
    // w[i] becomes word j + i of the schedule (for j ≥ 16).
    macro_rules! sched {
        ($i:expr) => {{
            let (w1, w14) = (w[($i + 1) & 15], w[($i + 14) & 15]);
            let s0 = w1.rotate_right(7) ^ w1.rotate_right(18) ^ (w1 >> 3);
            let s1 = w14.rotate_right(17) ^ w14.rotate_right(19) ^ (w14 >> 10);
            w[$i] = w[$i].wrapping_add(s0).wrapping_add(w[($i + 9) & 15]).wrapping_add(s1);
            w[$i]
        }};
    }
    macro_rules! rounds16 {
        ($j:expr, $w:ident) => {
            round!(K[$j], $w!(0), a, b, c, d, e, f, g, hh);
            round!(K[$j + 1], $w!(1), hh, a, b, c, d, e, f, g);
            round!(K[$j + 2], $w!(2), g, hh, a, b, c, d, e, f);
            round!(K[$j + 3], $w!(3), f, g, hh, a, b, c, d, e);
            round!(K[$j + 4], $w!(4), e, f, g, hh, a, b, c, d);
            round!(K[$j + 5], $w!(5), d, e, f, g, hh, a, b, c);
            round!(K[$j + 6], $w!(6), c, d, e, f, g, hh, a, b);
            round!(K[$j + 7], $w!(7), b, c, d, e, f, g, hh, a);
            round!(K[$j + 8], $w!(8), a, b, c, d, e, f, g, hh);
            round!(K[$j + 9], $w!(9), hh, a, b, c, d, e, f, g);
            round!(K[$j + 10], $w!(10), g, hh, a, b, c, d, e, f);
            round!(K[$j + 11], $w!(11), f, g, hh, a, b, c, d, e);
            round!(K[$j + 12], $w!(12), e, f, g, hh, a, b, c, d);
            round!(K[$j + 13], $w!(13), d, e, f, g, hh, a, b, c);
            round!(K[$j + 14], $w!(14), c, d, e, f, g, hh, a, b);
            round!(K[$j + 15], $w!(15), b, c, d, e, f, g, hh, a);
        };
    }
    macro_rules! load {
        ($i:expr) => {
            w[$i]
        };
    }
    rounds16!(0, load);
    rounds16!(16, sched);
    rounds16!(32, sched);
    rounds16!(48, sched);
    for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
        *x = x.wrapping_add(y);
    }
}

fn sha256(p: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut chunks = p.chunks_exact(64);
    for c in &mut chunks {
        block(&mut h, c.try_into().unwrap());
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let n = if rest.len() + 1 + 8 <= 64 { 64 } else { 128 };
    tail[n - 8..n].copy_from_slice(&((p.len() as u64) * 8).to_be_bytes());
    for c in tail[..n].chunks_exact(64) {
        block(&mut h, c.try_into().unwrap());
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(|a| a == "--").unwrap_or(false) {
        args.remove(0); // what a CLI may pass on before guest arguments
    }
    let mode = args.first().map(|s| s.as_str()).unwrap_or("echo");
    match mode {
        "echo" => serve(Framing::Lines, |req: &[u8], w: &mut Replies| w.reply(req)),
        "upper" => {
            let mut buf = Vec::new();
            serve(Framing::Lines, move |req: &[u8], w: &mut Replies| {
                buf.clear();
                buf.extend(req.iter().map(|c| c.to_ascii_uppercase()));
                w.reply(&buf)
            })
        }
        "sha256" => {
            let opt = Options { requests: Framing::Fixed(4096), replies: Some(Framing::Lines), ..Options::default() };
            serve_options(&opt, |req: &[u8], w: &mut Replies| -> Result<(), Error> {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut hx = [0u8; 64];
                for (i, b) in sha256(req).iter().enumerate() {
                    hx[2 * i] = HEX[(b >> 4) as usize];
                    hx[2 * i + 1] = HEX[(b & 15) as usize];
                }
                w.reply(&hx)
            })
        }
        _ => {
            eprintln!("ppbench: unknown mode {:?}: want echo, upper or sha256", mode);
            std::process::exit(2)
        }
    }
}
