/* upper: an ordinary stdio filter that upper-cases the ASCII letters of
 * its input, a block at a time (fread/fwrite, 64 KiB): lines come out as
 * they went in, upper-cased. It knows nothing of wasmpool: no SDK, no
 * flushing before reads. The batch benchmark builds it for wasm32-wasi
 * (clang -O2) and natively (cc -O2), to run it under wasmpool and GNU
 * parallel alike. upperline.c does the same a line at a time. */
#include <stdio.h>

int main(void) {
	static char buf[1 << 16];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 'a' - 'A';
		}
		if (fwrite(buf, 1, n, stdout) != n) return 1;
	}
	return ferror(stdin) || fflush(stdout) != 0;
}
