/* linelen: reply to each input line with its length in bytes, in decimal
 * (lines framing), like examples/linelen/guest. Built by
 * guestbuild.C; see guest/c/wasmpool.h. */
#include "wasmpool.h"

static int linelen(const unsigned char *line, size_t len, wp_replies *w, void *arg) {
	(void)line;
	(void)arg;
	return wp_reply_u64(w, len);
}

int main(void) {
	wp_serve(wp_framing_lines(), linelen, NULL);
	return 0;
}
