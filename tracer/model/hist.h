/* Latency histograms for the model: log-linear buckets in the HdrHistogram layout with two
 * significant digits (relative error under 1 %), values 1 us .. 60 s in nanoseconds, counts
 * allocated a chunk at a time so that thousands of mostly-empty histograms stay small.
 * Mergeable; no I/O. A NULL histogram reads as empty. */
#ifndef OFFRX_MODEL_HIST_H
#define OFFRX_MODEL_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define OTR_HIST_LOWEST_NS  1000ull	   /* resolution below 256 us: 1 us */
#define OTR_HIST_HIGHEST_NS 60000000000ull /* larger values count here (and in clamped) */

struct otr_hist;

struct otr_hist *otr_hist_new(void); /* NULL if out of memory */
void otr_hist_free(struct otr_hist *h);

/* Count one value. suspect: recorded while the model may have missed events; such values
 * are counted like the others and also in otr_hist_suspect(). 0 or -ENOMEM (nothing counted). */
int otr_hist_record(struct otr_hist *h, uint64_t ns, bool suspect);
/* dst += src. 0 or -ENOMEM (dst may then hold part of src). */
int otr_hist_merge(struct otr_hist *dst, const struct otr_hist *src);

uint64_t otr_hist_count(const struct otr_hist *h);
uint64_t otr_hist_suspect(const struct otr_hist *h); /* values recorded as suspect */
uint64_t otr_hist_clamped(const struct otr_hist *h); /* values above OTR_HIST_HIGHEST_NS */
uint64_t otr_hist_min(const struct otr_hist *h);     /* exact; 0 when empty */
uint64_t otr_hist_max(const struct otr_hist *h);     /* exact; 0 when empty */
double otr_hist_mean(const struct otr_hist *h);	     /* exact; 0 when empty */

/* The value at percentile p (0..100): the top of the bucket holding the ceil(p% * count)-th
 * smallest value, within the bucket precision of it and never above max. 0 when empty. */
uint64_t otr_hist_percentile(const struct otr_hist *h, double p);
/* n percentiles in one pass; ps must be ascending. */
void otr_hist_percentiles(const struct otr_hist *h, const double *ps, uint64_t *out, unsigned n);

#endif
