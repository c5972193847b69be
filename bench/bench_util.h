/* What every benchmark program needs: a monotonic clock in seconds, a stop flag set by
 * SIGINT/SIGTERM, and a number parser that names the option and the range it wants. Static
 * functions in a header: each benchmark is one file and uses what it needs. */
#ifndef OFFRX_BENCH_UTIL_H
#define OFFRX_BENCH_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Set by on_signal; the benchmark's loop ends when it becomes non-zero. */
static volatile sig_atomic_t stop;

static inline void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A decimal number in [min, max] for option opt of program prog; exits 2 with a message
 * naming both otherwise. */
static inline uint32_t bench_parse_u32(const char *prog, const char *opt, const char *v,
				       uint32_t min, uint32_t max)
{
	char *end;

	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || end == v || *end || x < min || x > max) {
		fprintf(stderr, "%s: %s wants a number from %u to %u, not '%s'\n", prog, opt, min,
			max, v);
		exit(2);
	}
	return (uint32_t)x;
}

#endif
