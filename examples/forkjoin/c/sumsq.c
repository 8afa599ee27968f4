/* sumsq: the fork-join example's sumsq part in C: print the sum of the
 * squares of LO+1..HI, exact in 128 bits for HI <= 2^32, LO HI PART being
 * the last three arguments (a leading "sumsq", as the Go guest takes, is
 * ignored). Built by guestbuild.C; a plain WASI program, no wasmpool.h. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "sumsq: want LO HI PART\n");
		return 1;
	}
	char *end1, *end2;
	unsigned long long lo = strtoull(argv[argc - 3], &end1, 10);
	unsigned long long hi = strtoull(argv[argc - 2], &end2, 10);
	if (*end1 || *end2 || lo > hi || hi > 4294967296ULL) {
		fprintf(stderr, "sumsq: bad range %s %s\n", argv[argc - 3], argv[argc - 2]);
		return 1;
	}
	unsigned __int128 sum = 0;
	for (unsigned long long i = lo + 1; i <= hi; i++)
		sum += i * i;
	char digits[40];
	int n = 0;
	do {
		digits[n++] = (char)('0' + (int)(sum % 10));
		sum /= 10;
	} while (sum > 0);
	while (n > 0)
		putchar(digits[--n]);
	putchar('\n');
	return 0;
}
