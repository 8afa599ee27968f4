/* ppbench: the benchmarks' C guest, the same filter as the Go guest in
 * examples/ppbench/guest. Its first argument picks the work:
 *
 *   echo    lines in, the same lines out (procpool's ppBench)
 *   upper   lines in, the same lines upper-cased (ASCII) out
 *   sha256  requests of 4096 bytes in (fixed:4096), one line per request
 *           out: the hex SHA-256
 *
 * Built by guestbuild.C for wasm32-wasi; it also builds natively with any
 * C99 compiler (cc -O2 -I guest/c), for comparisons. See guest/c/wasmpool.h. */
#include "wasmpool.h"

static int echo(const unsigned char *req, size_t len, wp_replies *w, void *arg) {
	(void)arg;
	return wp_reply(w, req, len);
}

static unsigned char *ubuf;
static size_t ucap;

static int upper(const unsigned char *req, size_t len, wp_replies *w, void *arg) {
	size_t i;
	(void)arg;
	if (len > ucap) {
		unsigned char *nb = (unsigned char *)realloc(ubuf, len);
		if (nb == NULL) return wp_fail(w, "out of memory");
		ubuf = nb;
		ucap = len;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = req[i];
		ubuf[i] = (c >= 'a' && c <= 'z') ? (unsigned char)(c - ('a' - 'A')) : c;
	}
	return wp_reply(w, ubuf, len);
}

/* SHA-256 (FIPS 180-4), plain portable C. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* One 64-byte block. The rounds are written out sixteen at a time, naming
 * the working variables in turn instead of shifting them each round, and
 * the message schedule is a ring of the last 16 words (w[i & 15]): with
 * constant indices a compiler keeps it and the working variables in
 * registers (or wasm locals) rather than in memory. The same rounds and
 * schedule as the textbook loop over w[64]. */
#define ROUND(k, wk, a, b, c, d, e, f, g, h) \
	t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + (k) + (wk); \
	d += t1; \
	h = t1 + (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))
#define LOAD(i) w[i]
#define SCHED(i) (w[i] += (ROR(w[((i) + 1) & 15], 7) ^ ROR(w[((i) + 1) & 15], 18) ^ (w[((i) + 1) & 15] >> 3)) + \
	w[((i) + 9) & 15] + (ROR(w[((i) + 14) & 15], 17) ^ ROR(w[((i) + 14) & 15], 19) ^ (w[((i) + 14) & 15] >> 10)))
#define ROUNDS16(j, W) \
	ROUND(K[(j) + 0], W(0), a, b, c, d, e, f, g, hh); \
	ROUND(K[(j) + 1], W(1), hh, a, b, c, d, e, f, g); \
	ROUND(K[(j) + 2], W(2), g, hh, a, b, c, d, e, f); \
	ROUND(K[(j) + 3], W(3), f, g, hh, a, b, c, d, e); \
	ROUND(K[(j) + 4], W(4), e, f, g, hh, a, b, c, d); \
	ROUND(K[(j) + 5], W(5), d, e, f, g, hh, a, b, c); \
	ROUND(K[(j) + 6], W(6), c, d, e, f, g, hh, a, b); \
	ROUND(K[(j) + 7], W(7), b, c, d, e, f, g, hh, a); \
	ROUND(K[(j) + 8], W(8), a, b, c, d, e, f, g, hh); \
	ROUND(K[(j) + 9], W(9), hh, a, b, c, d, e, f, g); \
	ROUND(K[(j) + 10], W(10), g, hh, a, b, c, d, e, f); \
	ROUND(K[(j) + 11], W(11), f, g, hh, a, b, c, d, e); \
	ROUND(K[(j) + 12], W(12), e, f, g, hh, a, b, c, d); \
	ROUND(K[(j) + 13], W(13), d, e, f, g, hh, a, b, c); \
	ROUND(K[(j) + 14], W(14), c, d, e, f, g, hh, a, b); \
	ROUND(K[(j) + 15], W(15), b, c, d, e, f, g, hh, a)

static void sha256_block(uint32_t h[8], const unsigned char *p) {
	uint32_t w[16], a, b, c, d, e, f, g, hh, t1;
	int i;
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	ROUNDS16(0, LOAD);
	for (i = 16; i < 64; i += 16) {
		ROUNDS16(i, SCHED);
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256(const unsigned char *p, size_t n, unsigned char out[32]) {
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	unsigned char tail[128];
	size_t i, rest, tn;
	uint64_t bits = (uint64_t)n * 8;
	for (i = 0; i + 64 <= n; i += 64) sha256_block(h, p + i);
	rest = n - i;
	memcpy(tail, p + i, rest);
	tail[rest] = 0x80;
	tn = rest + 1 + 8 <= 64 ? 64 : 128;
	memset(tail + rest + 1, 0, tn - rest - 1);
	for (i = 0; i < 8; i++) tail[tn - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, tail);
	if (tn == 128) sha256_block(h, tail + 64);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

static int hash(const unsigned char *req, size_t len, wp_replies *w, void *arg) {
	static const char hexd[] = "0123456789abcdef";
	unsigned char sum[32];
	char hx[64];
	int i;
	(void)arg;
	sha256(req, len, sum);
	for (i = 0; i < 32; i++) {
		hx[2 * i] = hexd[sum[i] >> 4];
		hx[2 * i + 1] = hexd[sum[i] & 15];
	}
	return wp_reply(w, hx, sizeof hx);
}

int main(int argc, char **argv) {
	const char *mode;
	if (argc > 1 && strcmp(argv[1], "--") == 0) { /* what a CLI may pass on before guest arguments */
		argc--;
		argv++;
	}
	mode = argc > 1 ? argv[1] : "echo";
	wp_framing lines = wp_framing_lines();
	if (strcmp(mode, "echo") == 0) {
		wp_serve(lines, echo, NULL);
	} else if (strcmp(mode, "upper") == 0) {
		wp_serve(lines, upper, NULL);
	} else if (strcmp(mode, "sha256") == 0) {
		wp_options opt = wp_options_init(wp_framing_fixed(4096));
		opt.replies = &lines;
		wp_serve_options(&opt, hash, NULL);
	} else {
		static const char msg[] = "ppbench: unknown mode: want echo, upper or sha256\n";
		write(2, msg, sizeof msg - 1);
		return 2;
	}
	return 0;
}
