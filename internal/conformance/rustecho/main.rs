//! echo: a conformance guest. Usage: echo [-strict] [REQUESTS [REPLIES]]
//! with framing names (lines, zero, lenpfx, fixed:N; lines by default,
//! REPLIES defaults to REQUESTS; the pool's framings in the environment
//! override them, unless -strict). It replies to each request with the
//! same bytes, fails the request "wasmpool:fail" with a handler error, and
//! sleeps 20 ms before it replies to "wasmpool:sleep".

use wasmpool::{serve_options, Error, Framing, Options, Replies};

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let strict = args.get(1).map(|a| a == "-strict").unwrap_or(false);
    if strict {
        args.remove(1);
    }
    let framing = |i: usize| match args.get(i) {
        None => None,
        Some(name) => match Framing::parse(name) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("guest: echo: {}", e);
                std::process::exit(1)
            }
        },
    };
    let opt = Options {
        requests: framing(1).unwrap_or(Framing::Lines),
        replies: framing(2),
        strict,
        ..Options::default()
    };
    serve_options(&opt, |req: &[u8], w: &mut Replies| {
        if req == b"wasmpool:fail" {
            return Err(Error::new("echo: asked to fail"));
        }
        if req == b"wasmpool:sleep" {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        w.reply(req)
    });
}
