// upper: upper-cases its input, line by line with fgets and fputs through
// stdio's default (full) buffering. Lines longer than its buffer are
// taken in pieces, which changes nothing: the filter is byte by byte.
#include <ctype.h>
#include <stdio.h>

int main(void) {
	char buf[256];
	while (fgets(buf, sizeof buf, stdin)) {
		for (char *p = buf; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (fputs(buf, stdout) == EOF)
			return 1;
	}
	return ferror(stdin) ? 1 : 0;
}
