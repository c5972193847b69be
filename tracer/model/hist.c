/* Log-linear latency histograms (hist.h). The index math is HdrHistogram's with 256
 * sub-buckets (two significant digits) over 1 us units; counts live in 32-entry chunks
 * allocated on first use, since a connection's latencies rarely span more than a few (a
 * histogram with one chunk takes about 400 bytes instead of 20 KiB). */
#include "hist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS   8 /* 256 sub-buckets: 2 * 10^2 values at unit resolution */
#define HALF_MAG   (SUB_BITS - 1)
#define HALF_COUNT (1u << HALF_MAG)
#define SUB_MASK   ((1ull << SUB_BITS) - 1)
#define HIGHEST_U  (OTR_HIST_HIGHEST_NS / OTR_HIST_LOWEST_NS)
#define BUCKETS	   19 /* smallest b with 256 << (b - 1) > HIGHEST_U (6e7 < 2^26) */
#define COUNTS_LEN ((BUCKETS + 1) * HALF_COUNT)
#define CHUNK	   32
#define NCHUNKS	   (COUNTS_LEN / CHUNK)

_Static_assert((SUB_MASK + 1) << (BUCKETS - 1) > HIGHEST_U, "buckets cover the range");
_Static_assert((SUB_MASK + 1) << (BUCKETS - 2) <= HIGHEST_U, "no bucket to spare");
_Static_assert(COUNTS_LEN % CHUNK == 0, "chunks tile the counts");
_Static_assert(NCHUNKS < 256, "a chunk's place fits the map");

struct otr_hist {
	uint64_t count, suspect, clamped, min, max;
	double sum;
	uint64_t (*chunks)[CHUNK]; /* in order of first use */
	uint8_t nchunks;
	uint8_t map[NCHUNKS]; /* counts[i] is chunks[map[i / CHUNK] - 1][i % CHUNK]; 0: none */
};

static const uint64_t *chunk_of(const struct otr_hist *h, unsigned c)
{
	return h->map[c] ? h->chunks[h->map[c] - 1] : NULL;
}

static unsigned index_of(uint64_t u)
{
	unsigned bucket = 64 - (unsigned)__builtin_clzll(u | SUB_MASK) - (HALF_MAG + 1);
	uint64_t sub = u >> bucket;
	return ((bucket + 1) << HALF_MAG) + (unsigned)(sub - HALF_COUNT);
}

/* The largest nanosecond value that lands in counts[i]. */
static uint64_t top_of(unsigned i)
{
	int bucket = (int)(i >> HALF_MAG) - 1;
	uint64_t sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;
	if (bucket < 0) {
		sub -= HALF_COUNT;
		bucket = 0;
	}
	uint64_t lo = sub << bucket;
	return (lo + (1ull << bucket)) * OTR_HIST_LOWEST_NS - 1;
}

struct otr_hist *otr_hist_new(void)
{
	return calloc(1, sizeof(struct otr_hist));
}

void otr_hist_free(struct otr_hist *h)
{
	if (!h)
		return;
	free(h->chunks);
	free(h);
}

static int add_at(struct otr_hist *h, unsigned i, uint64_t n)
{
	uint8_t *slot = &h->map[i / CHUNK];
	if (!*slot) {
		uint64_t(*c)[CHUNK] = realloc(h->chunks, (h->nchunks + 1u) * sizeof(*c));
		if (!c)
			return -ENOMEM;
		memset(c[h->nchunks], 0, sizeof(*c));
		h->chunks = c;
		*slot = ++h->nchunks;
	}
	h->chunks[*slot - 1][i % CHUNK] += n;
	return 0;
}

int otr_hist_record(struct otr_hist *h, uint64_t ns, bool suspect)
{
	uint64_t u = ns / OTR_HIST_LOWEST_NS;
	bool clamp = u > HIGHEST_U;
	if (add_at(h, index_of(clamp ? HIGHEST_U : u), 1))
		return -ENOMEM;
	if (!h->count || ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->count++;
	h->sum += (double)ns;
	h->suspect += suspect;
	h->clamped += clamp;
	return 0;
}

int otr_hist_merge(struct otr_hist *dst, const struct otr_hist *src)
{
	if (!src || !src->count)
		return 0;
	for (unsigned c = 0; c < NCHUNKS; c++) {
		const uint64_t *counts = chunk_of(src, c);
		for (unsigned k = 0; counts && k < CHUNK; k++)
			if (counts[k] && add_at(dst, c * CHUNK + k, counts[k]))
				return -ENOMEM;
	}
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	dst->suspect += src->suspect;
	dst->clamped += src->clamped;
	return 0;
}

uint64_t otr_hist_count(const struct otr_hist *h)
{
	return h ? h->count : 0;
}

uint64_t otr_hist_suspect(const struct otr_hist *h)
{
	return h ? h->suspect : 0;
}

uint64_t otr_hist_clamped(const struct otr_hist *h)
{
	return h ? h->clamped : 0;
}

uint64_t otr_hist_min(const struct otr_hist *h)
{
	return h && h->count ? h->min : 0;
}

uint64_t otr_hist_max(const struct otr_hist *h)
{
	return h && h->count ? h->max : 0;
}

double otr_hist_mean(const struct otr_hist *h)
{
	return h && h->count ? h->sum / (double)h->count : 0.0;
}

static uint64_t rank_of(const struct otr_hist *h, double p)
{
	if (p <= 0)
		return 1;
	double r = ceil(p / 100.0 * (double)h->count);
	return r < 1 ? 1 : r >= (double)h->count ? h->count : (uint64_t)r;
}

void otr_hist_percentiles(const struct otr_hist *h, const double *ps, uint64_t *out, unsigned n)
{
	unsigned j = 0;
	if (!h || !h->count) {
		for (; j < n; j++)
			out[j] = 0;
		return;
	}
	uint64_t seen = 0, want = rank_of(h, ps[0]);
	for (unsigned c = 0; c < NCHUNKS && j < n; c++) {
		const uint64_t *counts = chunk_of(h, c);
		for (unsigned k = 0; counts && k < CHUNK && j < n; k++) {
			seen += counts[k];
			while (j < n && seen >= want) {
				uint64_t v = top_of(c * CHUNK + k);
				out[j] = ps[j] >= 100 || v > h->max ? h->max : v;
				if (++j < n)
					want = rank_of(h, ps[j]);
			}
		}
	}
	for (; j < n; j++)
		out[j] = h->max;
}

uint64_t otr_hist_percentile(const struct otr_hist *h, double p)
{
	uint64_t v;
	otr_hist_percentiles(h, &p, &v, 1);
	return v;
}
