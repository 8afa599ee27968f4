// cat: copies stdin to stdout through stdio's buffers.
#include <stdio.h>

int main(void) {
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
	return ferror(stdin) ? 1 : 0;
}
