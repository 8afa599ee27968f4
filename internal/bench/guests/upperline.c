/* upperline: upper.c a line at a time (fgets/fputs): an ordinary stdio
 * line filter whose own work per line (libc's line scanning and copies,
 * 1 KiB stdio buffers) is most of what it costs under wasm. */
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
