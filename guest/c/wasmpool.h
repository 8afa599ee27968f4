/*
 * wasmpool.h - the C guest SDK for wasmpool filters (header-only, C99).
 *
 * A wasmpool filter reads request frames from stdin and writes zero or more
 * reply frames per request to stdout. This header does the framing and the
 * buffering; you write one handler, called once per request:
 *
 *     #include "wasmpool.h"
 *
 *     // linelen: reply to each line with its length in bytes.
 *     static int linelen(const unsigned char *req, size_t len,
 *                        wp_replies *w, void *arg) {
 *         (void)req; (void)arg;
 *         return wp_reply_u64(w, len);
 *     }
 *
 *     int main(void) {
 *         wp_serve(wp_framing_lines(), linelen, NULL);
 *         return 0;
 *     }
 *
 * Build (Debian: clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32):
 *
 *     clang-14 --target=wasm32-wasi --sysroot=/usr -Oz -Wl,--strip-all \
 *         -I guest/c -o linelen.wasm main.c
 *
 * The contract is the Go SDK's (package github.com/wasmpool/wasmpool/guest):
 *
 *   - Framings: lines (a last line without '\n' at EOF is still a frame),
 *     zero (NUL-terminated), lenpfx (8-byte little-endian length, then the
 *     payload) and fixed:N (records of exactly N bytes). wp_parse_framing
 *     reads their names ("lines", "zero", "lenpfx", "fixed:N").
 *   - The request payload passed to the handler is valid only during the
 *     call; wp_reply copies what it is given.
 *   - Replies are buffered and written with read()/write() on fds 0 and 1
 *     (no stdio): the buffer is flushed before every read of stdin, when it
 *     holds 64 KiB, when a reply has waited 10 ms while the guest works
 *     through a batch of requests already read, and at the end. Do not
 *     write to stdout with stdio yourself; use stderr for diagnostics.
 *   - wp_reply refuses a lines or zero payload that contains its terminator
 *     and a fixed:N payload that is not N bytes long. Unlike the Go SDK the
 *     error is sticky: the request fails even if the handler ignores the
 *     return value of wp_reply.
 *   - A handler returns 0 on success. A non-zero return (or a failed
 *     wp_reply) ends the run: wp_serve writes "guest: request N: MESSAGE"
 *     to stderr (N counts from 1, MESSAGE is what the handler gave to
 *     wp_fail, or "handler failed") and exits with status 1.
 *   - A lenpfx or fixed frame cut short by EOF, and a request larger than
 *     the maximum frame size (default WP_DEFAULT_MAX_FRAME, 64 MiB), are
 *     errors too: message on stderr, exit status 1.
 *   - At EOF of stdin wp_serve flushes and returns; return 0 from main.
 *   - The framing given to wp_serve is the default. A pool passes its own
 *     framings in the environment (WASMPOOL_FRAMES, WASMPOOL_REPLY_FRAMES)
 *     and wp_serve adopts them. A guest whose records mean something only in
 *     its own framings sets wp_options.strict: then other framings from the
 *     pool end it at start with "guest: this guest reads fixed:4 requests;
 *     the pool sends lines" on stderr and exit status 1 (wp_from_env).
 *   - A wasm guest built with this header exports the session marker, a
 *     no-op function named "wasmpool_session" (abi.SessionMarker), by which
 *     a host runs it in one long-lived instance per kid.
 *
 * All functions are static (but the weak session marker); include the
 * header in one translation unit. wp_serve_options takes separate request
 * and reply framings, a maximum frame size and strictness (wp_options,
 * made with wp_options_init); wp_serve_args takes the default framing from
 * argv[1]; wp_run is wp_serve on any pair of file descriptors, without the
 * environment, returning the error message instead of exiting (for tests
 * and native use); wp_die reports an error of your own the same way and
 * exits 1. The header also builds natively (gcc or clang, -std=c99), for
 * tests or native kids.
 */
#ifndef WASMPOOL_H
#define WASMPOOL_H

/* clock_gettime for native builds with -std=c99 (include this header
 * first); wasm builds read the WASI clock directly. */
#if !defined(__wasi__) && !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200112L
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__wasi__)
#include <wasi/api.h>
#else
#include <time.h>
#endif

/* WP_DEFAULT_MAX_FRAME is abi.DefaultMaxFrame: the largest request accepted
 * when wp_options.max_frame is 0. */
#define WP_DEFAULT_MAX_FRAME ((size_t)64 << 20)
/* WP_FLUSH_AT is the buffered reply size written even before the next read. */
#define WP_FLUSH_AT ((size_t)64 << 10)
/* WP_LENPFX_HEADER is the size of a lenpfx length header. */
#define WP_LENPFX_HEADER 8
/* WP_MAX_DELAY_NS bounds how long a reply waits in the buffer while the
 * guest works through the rest of a batch of requests: 10 ms. */
#define WP_MAX_DELAY_NS ((uint64_t)10000000)

#if defined(__GNUC__) || defined(__clang__)
#define WP__UNUSED __attribute__((unused))
#else
#define WP__UNUSED
#endif
#define WP_API static WP__UNUSED

/* Framing kinds. */
enum wp_kind { WP_LINES, WP_ZERO, WP_LENPFX, WP_FIXED };

/* wp_framing says how a byte stream is cut into frames; size is N for
 * fixed:N and 0 otherwise. */
typedef struct wp_framing {
	enum wp_kind kind;
	size_t size;
} wp_framing;

WP_API wp_framing wp_framing_lines(void) { wp_framing f = {WP_LINES, 0}; return f; }
WP_API wp_framing wp_framing_zero(void) { wp_framing f = {WP_ZERO, 0}; return f; }
WP_API wp_framing wp_framing_lenpfx(void) { wp_framing f = {WP_LENPFX, 0}; return f; }
WP_API wp_framing wp_framing_fixed(size_t n) { wp_framing f = {WP_FIXED, n}; return f; }

/* wp_replies writes reply frames; the handler gets one. Its fields are
 * private. */
typedef struct wp_replies {
	wp_framing f;
	int fd;
	unsigned char *buf;
	size_t len;
	int failed;        /* a sticky error is in msg */
	int write_failed;  /* writing stdout failed: stop for good */
	uint64_t flushed;  /* when replies were last written, in ns */
	char msg[200];
} wp_replies;

/* wp_handler handles one request of len bytes at req (valid only during
 * the call). It returns 0 on success. */
typedef int (*wp_handler)(const unsigned char *req, size_t len, wp_replies *w, void *arg);

/* wp_options tune wp_run and wp_serve_options. Set every field: start
 * from wp_options_init(requests), which zeroes the others. */
typedef struct wp_options {
	wp_framing requests;
	const wp_framing *replies; /* NULL: the same as requests */
	size_t max_frame;          /* 0: WP_DEFAULT_MAX_FRAME; (size_t)-1: no limit */
	int strict;                /* non-zero: refuse other framings from the pool (wp_from_env) */
} wp_options;

/* wp_options_init returns options with request and reply framing f, the
 * default maximum frame size and strict off. */
WP_API wp_options wp_options_init(wp_framing f) {
	wp_options o;
	o.requests = f;
	o.replies = NULL;
	o.max_frame = 0;
	o.strict = 0;
	return o;
}

/* ---- small helpers without stdio ---- */

/* wp_utoa writes v in decimal to dst (at least 20 bytes, not terminated)
 * and returns the number of digits. */
WP_API size_t wp_utoa(char *dst, uint64_t v) {
	char tmp[20];
	size_t n = 0, i;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
	return n;
}

/* message builder on a fixed buffer, truncating */
typedef struct wp__str {
	char *p;
	size_t len, cap;
} wp__str;

static WP__UNUSED void wp__cat(wp__str *s, const char *t) {
	size_t n = strlen(t);
	if (s->len + n > s->cap - 1) n = s->cap - 1 - s->len;
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = 0;
}

static WP__UNUSED void wp__catu(wp__str *s, uint64_t v) {
	char d[21];
	d[wp_utoa(d, v)] = 0;
	wp__cat(s, d);
}

static WP__UNUSED void wp__catframing(wp__str *s, wp_framing f) {
	switch (f.kind) {
	case WP_LINES: wp__cat(s, "lines"); break;
	case WP_ZERO: wp__cat(s, "zero"); break;
	case WP_LENPFX: wp__cat(s, "lenpfx"); break;
	default: wp__cat(s, "fixed:"); wp__catu(s, f.size); break;
	}
}

static WP__UNUSED void wp__caterrno(wp__str *s, int e) {
	switch (e) {
	case EPIPE: wp__cat(s, "broken pipe"); break;
	case EBADF: wp__cat(s, "bad file descriptor"); break;
	case EIO: wp__cat(s, "input/output error"); break;
	case ENOSPC: wp__cat(s, "no space left on device"); break;
	default: wp__cat(s, "errno "); wp__catu(s, (uint64_t)e); break;
	}
}

/* wp_parse_framing parses "lines", "zero", "lenpfx" or "fixed:N" (N ≥ 1)
 * into *f. It returns 0, or -1 for an invalid name. */
WP_API int wp_parse_framing(const char *name, wp_framing *f) {
	if (strcmp(name, "lines") == 0) { *f = wp_framing_lines(); return 0; }
	if (strcmp(name, "zero") == 0) { *f = wp_framing_zero(); return 0; }
	if (strcmp(name, "lenpfx") == 0) { *f = wp_framing_lenpfx(); return 0; }
	if (strncmp(name, "fixed:", 6) == 0) {
		const char *p = name + 6;
		size_t n = 0;
		if (*p == 0) return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9') return -1;
			if (n > ((size_t)-1 - 9) / 10) return -1;
			n = n * 10 + (size_t)(*p - '0');
		}
		if (n < 1) return -1;
		*f = wp_framing_fixed(n);
		return 0;
	}
	return -1;
}

/* wp__same reports whether a and b are the same framing. */
static WP__UNUSED int wp__same(wp_framing a, wp_framing b) {
	return a.kind == b.kind && (a.kind != WP_FIXED || a.size == b.size);
}

/* wp__env_framing reads the framing named by the environment variable
 * name into *f: 1 if it is set, 0 if it is unset or empty, -1 (with a
 * message in s) if it holds no framing name. */
static WP__UNUSED int wp__env_framing(const char *name, wp_framing *f, wp__str *s) {
	const char *v = getenv(name);
	if (v == NULL || *v == 0) return 0;
	if (wp_parse_framing(v, f) == 0) return 1;
	wp__cat(s, name);
	wp__cat(s, ": frames: invalid framing \"");
	wp__cat(s, v);
	wp__cat(s, strncmp(v, "fixed:", 6) == 0 ? "\": fixed:N needs a record size N >= 1"
	                                        : "\": want lines, zero, lenpfx or fixed:N");
	return -1;
}

/* wp__mismatch writes "this guest VERB OWN WHAT POOL" to s and returns -1. */
static WP__UNUSED int wp__mismatch(wp__str *s, const char *verb, wp_framing own, const char *what, wp_framing pool) {
	wp__cat(s, "this guest ");
	wp__cat(s, verb);
	wp__catframing(s, own);
	wp__cat(s, what);
	wp__catframing(s, pool);
	return -1;
}

/* WP_FRAMES_ENV and WP_REPLY_FRAMES_ENV are abi.FramesEnv and
 * abi.ReplyFramesEnv: the environment variables in which a pool passes its
 * request and reply framings. */
#define WP_FRAMES_ENV "WASMPOOL_FRAMES"
#define WP_REPLY_FRAMES_ENV "WASMPOOL_REPLY_FRAMES"

/* wp_from_env replaces the framings of *opt with those the pool passes in
 * WASMPOOL_FRAMES and WASMPOOL_REPLY_FRAMES; opt's framings are the
 * defaults, kept when the variables are unset or empty (the guest runs
 * outside a pool, or under an older host). A missing reply variable means
 * the request framing when that is set. The reply framing is stored in
 * *replies, and opt->replies points there. It returns 0, or -1 with a
 * message in err (a buffer of errlen bytes) when a variable holds no
 * framing name or, with opt->strict, when the pool's framings differ from
 * opt's ("this guest reads fixed:4 requests; the pool sends lines").
 * wp_serve_options calls it. */
WP_API int wp_from_env(wp_options *opt, wp_framing *replies, char *err, size_t errlen) {
	wp__str s = {err, 0, errlen};
	wp_framing own_req = opt->requests, own_rep = opt->replies ? *opt->replies : opt->requests;
	wp_framing req = own_req, rep = own_rep;
	int req_set, rep_set;
	if (errlen > 0) err[0] = 0;
	if ((req_set = wp__env_framing(WP_FRAMES_ENV, &req, &s)) < 0) return -1;
	if ((rep_set = wp__env_framing(WP_REPLY_FRAMES_ENV, &rep, &s)) < 0) return -1;
	if (!req_set && !rep_set) return 0;
	if (req_set && !rep_set) rep = req;
	if (opt->strict && !wp__same(req, own_req))
		return wp__mismatch(&s, "reads ", own_req, " requests; the pool sends ", req);
	if (opt->strict && !wp__same(rep, own_rep))
		return wp__mismatch(&s, "writes ", own_rep, " replies; the pool reads ", rep);
	opt->requests = req;
	*replies = rep;
	opt->replies = replies;
	return 0;
}

/* ---- small frames ----
 * Most frames are a few bytes. Under a wasm runtime memchr and memcpy are
 * calls into libc loops, which cost more than the bytes they touch, so
 * short runs are scanned and copied inline. */

#define WP__SHORT 16

/* wp__find returns the first byte c in p[0:n], or NULL. */
static WP__UNUSED const unsigned char *wp__find(const unsigned char *p, unsigned char c, size_t n) {
	size_t i, m = n < WP__SHORT ? n : WP__SHORT;
	for (i = 0; i < m; i++)
		if (p[i] == c) return p + i;
	if (n <= WP__SHORT) return NULL;
	return (const unsigned char *)memchr(p + WP__SHORT, c, n - WP__SHORT);
}

/* wp__copy copies n bytes from src to dst (which do not overlap). */
static WP__UNUSED void wp__copy(unsigned char *dst, const unsigned char *src, size_t n) {
	size_t i;
	if (n > WP__SHORT) {
		memcpy(dst, src, n);
		return;
	}
	for (i = 0; i < n; i++) dst[i] = src[i];
}

/* ---- the clock ---- */

/* wp__now returns a monotonic time in nanoseconds. */
static WP__UNUSED uint64_t wp__now(void) {
#if defined(__wasi__)
	__wasi_timestamp_t t = 0;
	if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1000, &t) != 0) return 0;
	return (uint64_t)t;
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* wp__pacer tells when buffered replies have waited WP_MAX_DELAY_NS.
 * Reading the clock is a host call, so it reads it only every so many
 * requests, about once a millisecond whatever a request costs (as the Go
 * SDK does). */
typedef struct wp__pacer {
	unsigned every, n;
	uint64_t last_check;
} wp__pacer;

static WP__UNUSED int wp__due(wp__pacer *p, uint64_t flushed) {
	uint64_t now, gap;
	if (++p->n < p->every) return 0;
	p->n = 0;
	now = wp__now();
	if (p->last_check == 0) p->every = 1;
	gap = now - p->last_check;
	if (gap < 1000000u) {
		p->every = p->every * 2 < 4096 ? p->every * 2 : 4096;
	} else if (gap > 2000000u) {
		p->every = p->every / 2 > 1 ? p->every / 2 : 1;
	}
	p->last_check = now;
	return now - flushed >= WP_MAX_DELAY_NS;
}

/* ---- replies ---- */

static WP__UNUSED int wp__write_all(int fd, const unsigned char *p, size_t n) {
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR) continue;
			return errno ? errno : EIO;
		}
		if (k == 0) return EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static WP__UNUSED int wp__write_failed(wp_replies *w, int e) {
	wp__str s = {w->msg, 0, sizeof w->msg};
	wp__cat(&s, "write to stdout: ");
	wp__caterrno(&s, e);
	w->failed = w->write_failed = 1;
	return -1;
}

/* wp_flush writes the buffered replies. It returns 0, or -1 after a write
 * error. */
WP_API int wp_flush(wp_replies *w) {
	int e;
	if (w->write_failed) return -1;
	if (w->len == 0) return 0;
	e = wp__write_all(w->fd, w->buf, w->len);
	w->len = 0;
	w->flushed = wp__now();
	if (e) return wp__write_failed(w, e);
	return 0;
}

/* wp_fail records msg as the handler's error and returns -1, so a handler
 * can end with: return wp_fail(w, "bad request"); */
WP_API int wp_fail(wp_replies *w, const char *msg) {
	if (!w->failed) {
		wp__str s = {w->msg, 0, sizeof w->msg};
		wp__cat(&s, msg);
		w->failed = 1;
	}
	return -1;
}

/* wp_reply writes one reply frame with the n bytes at p. It returns 0, or
 * -1 when p cannot be framed (a lines or zero payload containing its
 * terminator, a fixed payload of the wrong size) or writing failed; the
 * error is sticky and fails the current request. */
WP_API int wp_reply(wp_replies *w, const void *p, size_t n) {
	unsigned char hdr[WP_LENPFX_HEADER];
	size_t hlen = 0, tlen = 0, need, i;
	unsigned char term = w->f.kind == WP_ZERO ? 0 : '\n';
	if (w->failed) return -1;
	switch (w->f.kind) {
	case WP_LINES:
	case WP_ZERO:
		if (wp__find((const unsigned char *)p, term, n) != NULL) {
			wp__str s = {w->msg, 0, sizeof w->msg};
			wp__cat(&s, "frames: payload contains the frame terminator (");
			wp__catframing(&s, w->f);
			wp__cat(&s, ", ");
			wp__catu(&s, n);
			wp__cat(&s, "-byte payload)");
			w->failed = 1;
			return -1;
		}
		tlen = 1;
		break;
	case WP_LENPFX:
		for (i = 0; i < WP_LENPFX_HEADER; i++) hdr[i] = (unsigned char)((uint64_t)n >> (8 * i));
		hlen = WP_LENPFX_HEADER;
		break;
	default:
		if (n != w->f.size) {
			wp__str s = {w->msg, 0, sizeof w->msg};
			wp__cat(&s, "frames: payload size does not match the fixed frame size: ");
			wp__catu(&s, n);
			wp__cat(&s, " bytes for ");
			wp__catframing(&s, w->f);
			w->failed = 1;
			return -1;
		}
		break;
	}
	need = hlen + n + tlen;
	if (need > WP_FLUSH_AT) {
		/* a large frame: write it through without copying */
		int e;
		if (wp_flush(w) != 0) return -1;
		if ((e = wp__write_all(w->fd, hdr, hlen)) != 0 ||
		    (e = wp__write_all(w->fd, (const unsigned char *)p, n)) != 0 ||
		    (e = wp__write_all(w->fd, &term, tlen)) != 0)
			return wp__write_failed(w, e);
		return 0;
	}
	if (w->len + need > 2 * WP_FLUSH_AT && wp_flush(w) != 0) return -1;
	wp__copy(w->buf + w->len, hdr, hlen);
	w->len += hlen;
	wp__copy(w->buf + w->len, (const unsigned char *)p, n);
	w->len += n;
	if (tlen) w->buf[w->len++] = term;
	if (w->len >= WP_FLUSH_AT) return wp_flush(w);
	return 0;
}

/* wp_reply_str writes the NUL-terminated string s as one reply frame. */
WP_API int wp_reply_str(wp_replies *w, const char *s) { return wp_reply(w, s, strlen(s)); }

/* wp_reply_u64 writes v in decimal as one reply frame. */
WP_API int wp_reply_u64(wp_replies *w, uint64_t v) {
	char d[20];
	return wp_reply(w, d, wp_utoa(d, v));
}

/* ---- the request loop ---- */

static WP__UNUSED void wp__too_large(wp__str *s, const char *what, uint64_t n, size_t max) {
	wp__cat(s, "frames: frame too large: ");
	wp__cat(s, what);
	wp__catu(s, n);
	wp__cat(s, *what ? " bytes, the limit is " : " bytes or more, the limit is ");
	wp__catu(s, max);
}

static WP__UNUSED void wp__truncated(wp__str *s, size_t got, uint64_t want, const char *what) {
	wp__cat(s, "frames: truncated frame at EOF: ");
	wp__catu(s, got);
	wp__cat(s, " of ");
	wp__catu(s, want);
	wp__cat(s, what);
}

/* wp_run reads request frames from fd in until EOF, calls h for each and
 * writes the replies to fd out. It returns 0 at EOF, or -1 with a message
 * (as "request N: ...", "reading request N: ...", "writing replies: ...")
 * in err, a buffer of errlen bytes. */
WP_API int wp_run(int in, int out, const wp_options *opt, wp_handler h, void *arg, char *err, size_t errlen) {
	wp_replies w;
	wp_framing f = opt->requests;
	size_t max = opt->max_frame ? opt->max_frame : WP_DEFAULT_MAX_FRAME;
	unsigned char *buf = NULL, term = f.kind == WP_ZERO ? 0 : '\n';
	size_t cap = 0, start = 0, end = 0, scanned = 0;
	uint64_t count = 0;
	int eof = 0, rc = -1;
	wp__str s = {err, 0, errlen};
	wp__pacer pace = {0, 0, 0};

	if (errlen > 0) err[0] = 0;
	memset(&w, 0, sizeof w);
	w.f = opt->replies ? *opt->replies : f;
	w.fd = out;
	if (f.kind == WP_FIXED && f.size < 1) {
		wp__cat(&s, "frames: invalid framing fixed:0: fixed:N needs a record size N >= 1");
		return -1;
	}
	if (w.f.kind == WP_FIXED && w.f.size < 1) {
		wp__cat(&s, "frames: invalid framing fixed:0: fixed:N needs a record size N >= 1");
		return -1;
	}
	w.flushed = wp__now();
	w.buf = (unsigned char *)malloc(2 * WP_FLUSH_AT);
	if (w.buf == NULL) {
		wp__cat(&s, "out of memory");
		return -1;
	}
	for (;;) {
		unsigned char *data = buf + start;
		size_t avail = end - start, adv = 0, flen = 0, need = 0;
		const unsigned char *frame = NULL;

		switch (f.kind) {
		case WP_LINES:
		case WP_ZERO: {
			unsigned char *t = avail > scanned ? (unsigned char *)wp__find(data + scanned, term, avail - scanned) : NULL;
			if (t != NULL) {
				flen = (size_t)(t - data);
				if (flen > max) {
					wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
					wp__too_large(&s, "", flen, max);
					goto done;
				}
				frame = data;
				adv = flen + 1;
			} else if (avail > max) {
				wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
				wp__too_large(&s, "", avail, max);
				goto done;
			} else if (eof && avail > 0) {
				frame = data;
				flen = adv = avail;
			} else {
				scanned = avail;
			}
			break;
		}
		case WP_LENPFX:
			if (avail < WP_LENPFX_HEADER) {
				if (eof && avail > 0) {
					wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
					wp__truncated(&s, avail, WP_LENPFX_HEADER, " length-header bytes");
					goto done;
				}
				need = WP_LENPFX_HEADER;
			} else {
				uint64_t n = 0;
				int i;
				for (i = WP_LENPFX_HEADER - 1; i >= 0; i--) n = n << 8 | data[i];
				if (n > max) {
					wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
					wp__too_large(&s, "a length header of ", n, max);
					goto done;
				}
				if (avail < WP_LENPFX_HEADER + n) {
					if (eof) {
						wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
						wp__truncated(&s, avail - WP_LENPFX_HEADER, n, " payload bytes");
						goto done;
					}
					need = WP_LENPFX_HEADER + (size_t)n;
				} else {
					frame = data + WP_LENPFX_HEADER;
					flen = (size_t)n;
					adv = WP_LENPFX_HEADER + flen;
				}
			}
			break;
		default:
			if (f.size > max) {
				wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
				wp__too_large(&s, "", f.size, max);
				goto done;
			}
			if (avail < f.size) {
				if (eof && avail > 0) {
					wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": ");
					wp__truncated(&s, avail, f.size, " record bytes");
					goto done;
				}
				need = f.size;
			} else {
				frame = data;
				flen = adv = f.size;
			}
			break;
		}

		if (adv > 0) {
			int hr;
			start += adv;
			scanned = 0;
			count++;
			hr = h(frame, flen, &w, arg);
			if (hr != 0 || w.failed) {
				wp_flush(&w);
				wp__cat(&s, "request "); wp__catu(&s, count); wp__cat(&s, ": ");
				wp__cat(&s, w.failed ? w.msg : "handler failed");
				goto done;
			}
			/* replies that waited long enough while a batch is worked through */
			if (w.len > 0 && wp__due(&pace, w.flushed) && wp_flush(&w) != 0) {
				wp__cat(&s, "writing replies: ");
				wp__cat(&s, w.msg);
				goto done;
			}
			continue;
		}
		if (eof) break;

		/* fill: flush the replies, make room, read more */
		if (wp_flush(&w) != 0) {
			wp__cat(&s, "writing replies: ");
			wp__cat(&s, w.msg);
			goto done;
		}
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
		}
		if (end == cap || need > cap) {
			size_t size = cap * 2 > ((size_t)64 << 10) ? cap * 2 : ((size_t)64 << 10);
			size_t limit = max > (size_t)-1 - 16 ? (size_t)-1 : max + WP_LENPFX_HEADER + 1;
			unsigned char *nb;
			if (size < need) size = need;
			if (size > limit) size = limit > cap + 1 ? limit : cap + 1;
			nb = (unsigned char *)realloc(buf, size);
			if (nb == NULL) {
				wp__cat(&s, "reading request "); wp__catu(&s, count + 1);
				wp__cat(&s, ": out of memory for a buffer of ");
				wp__catu(&s, size);
				wp__cat(&s, " bytes");
				goto done;
			}
			buf = nb;
			cap = size;
		}
		for (;;) {
			ssize_t k = read(in, buf + end, cap - end);
			if (k < 0) {
				if (errno == EINTR) continue;
				wp__cat(&s, "reading request "); wp__catu(&s, count + 1); wp__cat(&s, ": read stdin: ");
				wp__caterrno(&s, errno);
				goto done;
			}
			if (k == 0) eof = 1;
			end += (size_t)k;
			break;
		}
	}
	if (wp_flush(&w) != 0) {
		wp__cat(&s, "writing replies: ");
		wp__cat(&s, w.msg);
		goto done;
	}
	rc = 0;
done:
	if (rc != 0) wp_flush(&w); /* the replies so far, as the Go SDK does */
	free(buf);
	free(w.buf);
	return rc;
}

/* wp_die writes "guest: MESSAGE" to stderr and exits with status 1. */
WP_API void wp_die(const char *msg) {
	static const char prefix[] = "guest: ";
	wp__write_all(2, (const unsigned char *)prefix, sizeof prefix - 1);
	wp__write_all(2, (const unsigned char *)msg, strlen(msg));
	wp__write_all(2, (const unsigned char *)"\n", 1);
	exit(1);
}

/* wp_serve_options runs h over stdin and stdout with the given options and
 * returns at EOF. The framings of opt are defaults: when the pool passes
 * its own in the environment, wp_serve_options adopts them, or, with
 * opt->strict, refuses other ones (see wp_from_env). On an error it writes
 * "guest: MESSAGE" to stderr and exits with status 1. */
WP_API void wp_serve_options(const wp_options *opt, wp_handler h, void *arg) {
	char err[256];
	wp_options o = *opt;
	wp_framing replies;
	if (wp_from_env(&o, &replies, err, sizeof err) != 0) wp_die(err);
	if (wp_run(0, 1, &o, h, arg, err, sizeof err) != 0) wp_die(err);
}

/* wp_serve is wp_serve_options with framing f for requests and replies. */
WP_API void wp_serve(wp_framing f, wp_handler h, void *arg) {
	wp_options opt = wp_options_init(f);
	wp_serve_options(&opt, h, arg);
}

/* wp_serve_args is wp_serve with the framing named by argv[1] ("lines" when
 * there is no argument); an invalid name is reported and exits 1. */
WP_API void wp_serve_args(int argc, char **argv, wp_handler h, void *arg) {
	wp_framing f = wp_framing_lines();
	if (argc > 1 && wp_parse_framing(argv[1], &f) != 0) {
		char err[200];
		wp__str s = {err, 0, sizeof err};
		wp__cat(&s, "frames: invalid framing \"");
		wp__cat(&s, argv[1]);
		wp__cat(&s, "\": want lines, zero, lenpfx or fixed:N");
		wp_die(err);
	}
	wp_serve(f, h, arg);
}

/* ---- the session marker ----
 * A module that exports a function named "wasmpool_session"
 * (abi.SessionMarker) keeps the session contract (replies flushed before
 * every read of stdin), so a host runs it in one long-lived instance per
 * kid rather than a fresh instance per batch. Every wasm guest built with
 * this header exports it; nobody calls it. It is weak, so a program that
 * includes the header in more than one translation unit still links. */
#if defined(__wasm__) && defined(__has_attribute)
#if __has_attribute(export_name)
void wp_session_marker(void) __attribute__((export_name("wasmpool_session"), weak));
void wp_session_marker(void) {}
#endif
#endif

#endif /* WASMPOOL_H */
