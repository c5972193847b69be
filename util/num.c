/* The number parser of every program: see num.h. */
#include "num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int digits_start(const char *s, int sign_ok)
{
	if (sign_ok && *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

/* strtoull over the leading digits; *end after them. NUM_RANGE past 64 bits. */
static int leading_u64(const char *s, uint64_t *v, char **end)
{
	errno = 0;
	unsigned long long x = strtoull(s, end, 10);
	if (errno == ERANGE)
		return NUM_RANGE;
	*v = x;
	return NUM_OK;
}

int num_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	char *end;

	if (!s || !digits_start(s, 0))
		return NUM_NOT_A_NUMBER;
	if (leading_u64(s, &v, &end))
		return *end ? NUM_NOT_A_NUMBER : NUM_RANGE;
	if (*end)
		return NUM_NOT_A_NUMBER;
	if (v < min || v > max)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

int num_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;

	if (!s || !digits_start(s, 1))
		return NUM_NOT_A_NUMBER;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return NUM_NOT_A_NUMBER;
	if (errno == ERANGE || v < min || v > max)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

int num_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned shift = 0;
	uint64_t v;
	char *end;

	if (!s || !digits_start(s, 0))
		return NUM_NOT_A_NUMBER;
	if (leading_u64(s, &v, &end))
		return NUM_RANGE;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	}
	if (shift)
		end++;
	if (shift && *end == 'i')
		end++;
	if (*end == 'B' || (shift && *end == 'b'))
		end++;
	if (*end)
		return shift || (*end >= '0' && *end <= '9') ? NUM_NOT_A_NUMBER : NUM_BAD_SUFFIX;
	if (v > (UINT64_MAX >> shift))
		return NUM_RANGE;
	v <<= shift;
	if (v < min || v > max)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

/* strtod over the whole string: finite, no inf or nan, no hex. */
static int whole_double(const char *s, double *v, char **end)
{
	if (!s || !(digits_start(s, 1) || ((*s == '.' || *s == '-') && s[1])))
		return NUM_NOT_A_NUMBER;
	errno = 0;
	*v = strtod(s, end);
	if (*end == s)
		return NUM_NOT_A_NUMBER;
	for (const char *p = s; p < *end; p++)
		if (strchr("xXnNiI", *p)) /* hex, inf, nan */
			return NUM_NOT_A_NUMBER;
	if (errno == ERANGE || !isfinite(*v))
		return NUM_RANGE;
	return NUM_OK;
}

int num_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;
	int r = whole_double(s, &v, &end);

	if (r)
		return r;
	if (*end)
		return NUM_NOT_A_NUMBER;
	if (!(v >= min && v <= max))
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

int num_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = { { "", 1e9 }, { "s", 1e9 },  { "ms", 1e6 },  { "us", 1e3 },
		      { "ns", 1 }, { "m", 60e9 }, { "min", 60e9 } };
	char *end;
	double v;
	int r = whole_double(s, &v, &end);

	if (r)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v < 0 || v * units[i].mul > 9e18)
			return NUM_RANGE;
		*ns = (int64_t)(v * units[i].mul + 0.5);
		return NUM_OK;
	}
	return NUM_BAD_SUFFIX;
}
