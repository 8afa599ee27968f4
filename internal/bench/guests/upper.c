/* upper: an ordinary stdio line filter, upper-cases ASCII letters line by
 * line (fgets/fputs). It knows nothing of wasmpool: no SDK, no flushing
 * before reads. The batch benchmark builds it for wasm32-wasi (clang -O2)
 * and natively (cc -O2) to run it under wasmpool and GNU parallel alike. */
#include <stdio.h>

int main(void) {
	static char line[1 << 16];
	while (fgets(line, sizeof line, stdin)) {
		for (char *p = line; *p; p++) {
			if (*p >= 'a' && *p <= 'z') *p -= 'a' - 'A';
		}
		if (fputs(line, stdout) == EOF) return 1;
	}
	return ferror(stdin) || fflush(stdout) != 0;
}
