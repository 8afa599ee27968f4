// dropdup: writes 0, 1 or 2 lines per input line: drops the lines that
// hold an 'x', writes twice those that hold a 'd', once the others.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

int main(void) {
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (memchr(line, 'x', (size_t)n))
			continue;
		int times = memchr(line, 'd', (size_t)n) ? 2 : 1;
		for (int i = 0; i < times; i++)
			if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
	}
	free(line);
	return ferror(stdin) ? 1 : 0;
}
