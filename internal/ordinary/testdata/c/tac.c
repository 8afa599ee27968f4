// tac: reads all of its input, then writes its lines last first, each
// ended by a newline (a last line without one gets one).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	size_t n;
	if (!buf)
		return 2;
	while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			if (!(buf = realloc(buf, cap)))
				return 2;
		}
	}
	if (ferror(stdin))
		return 1;
	size_t end = len;
	if (end > 0 && buf[end - 1] == '\n')
		end--;
	if (len == 0)
		return 0;
	for (;;) {
		size_t start = end;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		fwrite(buf + start, 1, end - start, stdout);
		putchar('\n');
		if (start == 0)
			break;
		end = start - 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
