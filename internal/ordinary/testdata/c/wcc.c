// wcc: reads all of its input and writes one line: how many bytes and
// how many newlines it read. Run per batch, it shows the batches.
#include <stdio.h>

int main(void) {
	char buf[4096];
	size_t n, bytes = 0, lines = 0;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		bytes += n;
		for (size_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	printf("%zu %zu\n", bytes, lines);
	return ferror(stdin) ? 1 : 0;
}
