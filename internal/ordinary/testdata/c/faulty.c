// faulty: copies its input line by line (fgets, fputs, full buffering)
// and fails on the line that asks it to:
//
//	EXIT  exits with status 3
//	TRAP  traps (__builtin_trap)
//	LOOP  spins for ever
//	BOMB  allocates until malloc fails, then aborts
//	SLOW  waits a second, then goes on (it is copied too)
//
// With the argument "start" it exits 1 before reading anything; with
// "each" it exits 1 after reading its first line, whatever it is.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *volatile sink; // where the bomb's blocks go, so that none is optimized away

int main(int argc, char **argv) {
	const char *when = argc > 1 ? argv[1] : "";
	if (strcmp(when, "start") == 0)
		return 1;
	char buf[4096];
	while (fgets(buf, sizeof buf, stdin)) {
		if (strcmp(when, "each") == 0)
			return 1;
		if (strcmp(buf, "EXIT\n") == 0)
			exit(3);
		if (strcmp(buf, "TRAP\n") == 0)
			__builtin_trap();
		if (strcmp(buf, "LOOP\n") == 0) {
			volatile unsigned spin = 0;
			for (;;)
				spin++;
		}
		if (strcmp(buf, "BOMB\n") == 0) {
			for (;;) {
				char *p = malloc(1 << 16);
				if (!p)
					abort();
				memset(p, 1, 1 << 16);
				*(void **)p = sink;
				sink = p;
			}
		}
		if (strcmp(buf, "SLOW\n") == 0) {
			struct timespec second = {1, 0};
			nanosleep(&second, NULL);
		}
		if (fputs(buf, stdout) == EOF)
			return 1;
	}
	return 0;
}
