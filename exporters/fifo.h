/* A FIFO ring of fixed-size records whose first member is a uint64_t id (a request id): the
 * exporters' per-connection request queues. Push at the tail, find by id from the head (FIFO:
 * almost always the head), remove anywhere. A zeroed struct is an empty ring. */
#ifndef OFFRX_EXPORT_FIFO_H
#define OFFRX_EXPORT_FIFO_H

#include <stddef.h>
#include <stdint.h>

struct oex_fifo {
	uint8_t *q;
	uint32_t head, n, cap; /* cap: a power of two */
	uint32_t esize;	       /* record size, set by the first push */
};

static inline void *oex_fifo_at(const struct oex_fifo *f, uint32_t i)
{
	return f->q + (size_t)((f->head + i) & (f->cap - 1)) * f->esize;
}

int oex_fifo_push(struct oex_fifo *f, const void *rec, size_t esize); /* 0 or -ENOMEM */
int64_t oex_fifo_find(const struct oex_fifo *f, uint64_t id);	      /* index, or -1 */
void oex_fifo_remove(struct oex_fifo *f, uint32_t at);
void oex_fifo_clear(struct oex_fifo *f); /* empty, keeping the memory */
void oex_fifo_free(struct oex_fifo *f);

#endif
