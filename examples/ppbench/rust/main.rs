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

fn block(h: &mut [u32; 8], p: &[u8]) {
    let mut w = [0u32; 64];
    for i in 0..16 {
        w[i] = u32::from_be_bytes([p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3]]);
    }
    for i in 16..64 {
        let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
        let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = *h;
    for i in 0..64 {
        let t1 = hh
            .wrapping_add(e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25))
            .wrapping_add((e & f) ^ (!e & g))
            .wrapping_add(K[i])
            .wrapping_add(w[i]);
        let t2 = (a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22))
            .wrapping_add((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
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
        block(&mut h, c);
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let n = if rest.len() + 1 + 8 <= 64 { 64 } else { 128 };
    tail[n - 8..n].copy_from_slice(&((p.len() as u64) * 8).to_be_bytes());
    for c in tail[..n].chunks_exact(64) {
        block(&mut h, c);
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
            let opt = Options { requests: Framing::Fixed(4096), replies: Some(Framing::Lines), max_frame: 0 };
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
