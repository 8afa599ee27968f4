//! linelen: reply to each input line with its length in bytes, in decimal
//! (lines framing), like examples/linelen/guest. Built by guestbuild.Rust;
//! see guest/rust/wasmpool.rs.

use wasmpool::{serve, Framing, Replies};

fn main() {
    let mut num = Vec::with_capacity(20);
    serve(Framing::Lines, |line: &[u8], w: &mut Replies| {
        num.clear();
        write_decimal(&mut num, line.len());
        w.reply(&num)
    });
}

fn write_decimal(dst: &mut Vec<u8>, mut v: usize) {
    let start = dst.len();
    loop {
        dst.push(b'0' + (v % 10) as u8);
        v /= 10;
        if v == 0 {
            break;
        }
    }
    dst[start..].reverse();
}
