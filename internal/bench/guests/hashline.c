/* hashline: a CPU-bound line filter in ordinary stdio C. For each line
 * (without its newline) it runs ROUNDS passes of 64-bit FNV-1a over the
 * line's bytes, the hash carried from pass to pass, and prints the result
 * as 16 hex digits. ROUNDS is the first argument (default 32). The
 * benchmark computes the same hash in Go to check every reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	static char line[1 << 16];
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 32;
	while (fgets(line, sizeof line, stdin)) {
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] == '\n') n--;
		unsigned long long h = 14695981039346656037ULL;
		for (long r = 0; r < rounds; r++) {
			for (size_t i = 0; i < n; i++) {
				h ^= (unsigned char)line[i];
				h *= 1099511628211ULL;
			}
		}
		if (printf("%016llx\n", h) < 0) return 1;
	}
	return ferror(stdin) || fflush(stdout) != 0;
}
