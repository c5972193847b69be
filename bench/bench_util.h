/* What every benchmark program needs: a monotonic clock in seconds, a stop flag set by
 * SIGINT/SIGTERM, and option parsers (over util/num.h) that name the option and the range it
 * wants. Static
 * functions in a header: each benchmark is one file and uses what it needs. */
#ifndef OFFRX_BENCH_UTIL_H
#define OFFRX_BENCH_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "num.h"

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

/* Option values through util/num.h, the one number parser: a whole number in [min, max], a
 * size (K/M/G suffixes) up to max, or seconds in (0, max]. Each exits 2 with a message naming
 * the program, the option and what it wants. */
static inline uint32_t bench_parse_u32(const char *prog, const char *opt, const char *v,
				       uint32_t min, uint32_t max)
{
	uint64_t x;

	if (num_u64(v, min, max, &x)) {
		fprintf(stderr, "%s: %s wants a number from %u to %u, not '%s'\n", prog, opt, min,
			max, v);
		exit(2);
	}
	return (uint32_t)x;
}

static inline uint64_t bench_parse_size(const char *prog, const char *opt, const char *v,
					uint64_t max)
{
	uint64_t x;

	if (num_size(v, 0, max, &x)) {
		fprintf(stderr,
			"%s: %s wants a size up to %llu bytes (K, M, G suffixes allowed), not "
			"'%s'\n",
			prog, opt, (unsigned long long)max, v);
		exit(2);
	}
	return x;
}

static inline double bench_parse_secs(const char *prog, const char *opt, const char *v, double max)
{
	double x;

	if (num_double(v, 0, max, &x) || !(x > 0)) {
		fprintf(stderr, "%s: %s wants seconds in (0, %g], not '%s'\n", prog, opt, max, v);
		exit(2);
	}
	return x;
}

#endif
