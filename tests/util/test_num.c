/* util/num.h: the number parser every program uses. What it takes and what it refuses, and
 * why (not a number, out of range, a bad suffix). */
#include <stdint.h>
#include <stdio.h>

#include "num.h"

static int failed;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			failed++;                                            \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

static void test_u64(void)
{
	uint64_t v = 0;

	CHECK(num_u64("42", 0, 100, &v) == NUM_OK && v == 42, "42");
	CHECK(num_u64("18446744073709551615", 0, UINT64_MAX, &v) == NUM_OK && v == UINT64_MAX,
	      "UINT64_MAX");
	CHECK(num_u64("18446744073709551616", 0, UINT64_MAX, &v) == NUM_RANGE, "past 64 bits");
	CHECK(num_u64("101", 0, 100, &v) == NUM_RANGE, "above max");
	CHECK(num_u64("0", 1, 100, &v) == NUM_RANGE, "below min");
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.5", "x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(num_u64(bad[i], 0, UINT64_MAX, &v) == NUM_NOT_A_NUMBER, "'%s'", bad[i]);
}

static void test_i64(void)
{
	int64_t v = 0;

	CHECK(num_i64("-5", -10, 10, &v) == NUM_OK && v == -5, "-5");
	CHECK(num_i64("-11", -10, 10, &v) == NUM_RANGE, "below min");
	CHECK(num_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v) == NUM_RANGE, "past");
	CHECK(num_i64("-", -10, 10, &v) == NUM_NOT_A_NUMBER, "a lone sign");
	CHECK(num_i64("5s", -10, 10, &v) == NUM_NOT_A_NUMBER, "trailing text");
}

static void test_size(void)
{
	uint64_t v = 0;

	CHECK(num_size("4096", 0, UINT64_MAX, &v) == NUM_OK && v == 4096, "4096");
	CHECK(num_size("4096B", 0, UINT64_MAX, &v) == NUM_OK && v == 4096, "4096B");
	CHECK(num_size("512k", 0, UINT64_MAX, &v) == NUM_OK && v == 512 << 10, "512k");
	CHECK(num_size("4M", 0, UINT64_MAX, &v) == NUM_OK && v == 4 << 20, "4M");
	CHECK(num_size("4MiB", 0, UINT64_MAX, &v) == NUM_OK && v == 4 << 20, "4MiB");
	CHECK(num_size("1G", 0, UINT64_MAX, &v) == NUM_OK && v == 1 << 30, "1G");
	CHECK(num_size("4T", 0, UINT64_MAX, &v) == NUM_BAD_SUFFIX, "4T");
	CHECK(num_size("4Mx", 0, UINT64_MAX, &v) == NUM_NOT_A_NUMBER, "4Mx");
	CHECK(num_size("M", 0, UINT64_MAX, &v) == NUM_NOT_A_NUMBER, "M");
	CHECK(num_size("17179869184G", 0, UINT64_MAX, &v) == NUM_RANGE, "2^64 bytes");
	CHECK(num_size("2K", 0, 1024, &v) == NUM_RANGE, "the bytes above max");
}

static void test_double(void)
{
	double v = 0;

	CHECK(num_double("2.5", 0, 10, &v) == NUM_OK && v == 2.5, "2.5");
	CHECK(num_double(".5", 0, 10, &v) == NUM_OK && v == 0.5, ".5");
	CHECK(num_double("11", 0, 10, &v) == NUM_RANGE, "above max");
	static const char *const bad[] = { "", "inf", "nan", "0x1p3", "1e", "2.5s", "." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(num_double(bad[i], -1e300, 1e300, &v) == NUM_NOT_A_NUMBER, "'%s'", bad[i]);
	CHECK(num_double("1e999", -1e300, 1e300, &v) == NUM_RANGE, "1e999");
}

static void test_duration(void)
{
	int64_t ns = 0;

	CHECK(num_duration("2", &ns) == NUM_OK && ns == 2000000000, "2 (s)");
	CHECK(num_duration("1.5s", &ns) == NUM_OK && ns == 1500000000, "1.5s");
	CHECK(num_duration("200ms", &ns) == NUM_OK && ns == 200000000, "200ms");
	CHECK(num_duration("750us", &ns) == NUM_OK && ns == 750000, "750us");
	CHECK(num_duration("1000ns", &ns) == NUM_OK && ns == 1000, "1000ns");
	CHECK(num_duration("2m", &ns) == NUM_OK && ns == 120000000000, "2m");
	CHECK(num_duration("2min", &ns) == NUM_OK && ns == 120000000000, "2min");
	CHECK(num_duration("-1s", &ns) == NUM_RANGE, "negative");
	CHECK(num_duration("1e10s", &ns) == NUM_RANGE, "past 9e18 ns");
	CHECK(num_duration("3h", &ns) == NUM_BAD_SUFFIX, "3h");
	CHECK(num_duration("ms", &ns) == NUM_NOT_A_NUMBER, "ms alone");
	CHECK(num_duration("nan", &ns) == NUM_NOT_A_NUMBER, "nan");
}

int main(void)
{
	test_u64();
	test_i64();
	test_size();
	test_double();
	test_duration();
	if (failed)
		fprintf(stderr, "%d check(s) failed\n", failed);
	else
		printf("test_num: all checks pass\n");
	return failed ? 1 : 0;
}
