/* echo: a conformance guest. Usage: echo [-strict] [REQUESTS [REPLIES]]
 * with framing names (lines, zero, lenpfx, fixed:N; lines by default,
 * REPLIES defaults to REQUESTS; the pool's framings in the environment
 * override them, unless -strict). It replies to each request with the same
 * bytes, fails the request "wasmpool:fail" with a handler error, and sleeps
 * 20 ms before it replies to "wasmpool:sleep". */
#include "wasmpool.h"

#include <time.h>

static int echo(const unsigned char *req, size_t len, wp_replies *w, void *arg) {
	(void)arg;
	if (len == 13 && memcmp(req, "wasmpool:fail", 13) == 0) return wp_fail(w, "echo: asked to fail");
	if (len == 14 && memcmp(req, "wasmpool:sleep", 14) == 0) {
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	return wp_reply(w, req, len);
}

int main(int argc, char **argv) {
	wp_options opt = wp_options_init(wp_framing_lines());
	wp_framing replies;
	if (argc > 1 && strcmp(argv[1], "-strict") == 0) {
		opt.strict = 1;
		argc--;
		argv++;
	}
	if (argc > 1 && wp_parse_framing(argv[1], &opt.requests) != 0) wp_die("echo: bad request framing");
	if (argc > 2) {
		if (wp_parse_framing(argv[2], &replies) != 0) wp_die("echo: bad reply framing");
		opt.replies = &replies;
	}
	wp_serve_options(&opt, echo, NULL);
	return 0;
}
