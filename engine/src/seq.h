/* Wrap-safe TCP sequence number arithmetic.
 *
 * Sequence numbers live in a 2^32 circle (RFC 9293 section 3.4, formerly RFC 793 section 3.3):
 * "a < b" means b lies less than 2^31 ahead of a. Every comparison of two sequence numbers in
 * the engine goes through these helpers, never through plain < on uint32_t.
 */
#ifndef OFFRX_SEQ_H
#define OFFRX_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* Signed distance from b to a: positive when a is ahead of b. The conversion of a value above
 * INT32_MAX wraps modulo 2^32 with GCC and Clang, which is what makes the comparison wrap-safe.
 * Meaningless when the two are 2^31 apart (RFC 9293 section 3.4 keeps windows below that).
 */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}

#endif /* OFFRX_SEQ_H */
