/* Numbers from the command line and from text files, parsed one way for every program: the
 * whole string must be the number (no sign where none is allowed, no trailing text, no empty
 * string), and the answer says why not. The caller words the message: it knows the option. */
#ifndef OFFRX_NUM_H
#define OFFRX_NUM_H

#include <stdint.h>

/* The results: 0, or one of these (negative). */
enum {
	NUM_OK = 0,
	NUM_NOT_A_NUMBER = -1, /* empty, a sign, a letter, trailing text */
	NUM_RANGE = -2,	       /* a number, outside [min, max] (or past 64 bits) */
	NUM_BAD_SUFFIX = -3,   /* num_size: a suffix other than K, M, G (KiB, MB, ...) */
};

/* A decimal whole number from min to max. */
int num_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A decimal whole number, optionally signed, from min to max. */
int num_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* A size: a whole number with an optional K, M or G suffix (powers of 1024), which may be
 * followed by "i" and then "B" ("4M", "4MiB", "512k", "4096B" is 4096); min and max apply to
 * the bytes. */
int num_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A finite decimal number (strtod's syntax, no inf or nan) from min to max. */
int num_double(const char *s, double min, double max, double *out);

/* A duration in ns: a decimal number of seconds, or with a unit: "1.5s", "200ms", "750us",
 * "1000ns", "2m" or "2min" (minutes), "7" (seconds). Not negative, at most 9e18 ns. */
int num_duration(const char *s, int64_t *ns);

#endif /* OFFRX_NUM_H */
