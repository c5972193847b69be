/* Shared by the fuzz harnesses of tests/fuzz: the libFuzzer entry point and the check that
 * turns a broken invariant into a crash libFuzzer reports (and the replay driver fails on). */
#ifndef OFFRX_FUZZ_H
#define OFFRX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* The same, with a sentence built from values. */
#define FUZZ_FAIL(...)                                                            \
	do {                                                                      \
		fprintf(stderr, "%s:%d: invariant broken: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                     \
		fputc('\n', stderr);                                              \
		abort();                                                          \
	} while (0)

#endif
