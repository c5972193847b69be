/* The exporters' request rings (fifo.h). */
#include "fifo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int oex_fifo_push(struct oex_fifo *f, const void *rec, size_t esize)
{
	f->esize = (uint32_t)esize;
	if (f->n == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 8;
		uint8_t *q = malloc((size_t)cap * esize);
		if (!q)
			return -ENOMEM;
		for (uint32_t i = 0; i < f->n; i++)
			memcpy(q + (size_t)i * esize, oex_fifo_at(f, i), esize);
		free(f->q);
		f->q = q;
		f->cap = cap;
		f->head = 0;
	}
	memcpy(oex_fifo_at(f, f->n++), rec, esize);
	return 0;
}

int64_t oex_fifo_find(const struct oex_fifo *f, uint64_t id)
{
	for (uint32_t i = 0; i < f->n; i++) {
		uint64_t rid;
		memcpy(&rid, oex_fifo_at(f, i), sizeof(rid));
		if (rid == id)
			return i;
	}
	return -1;
}

void oex_fifo_remove(struct oex_fifo *f, uint32_t at)
{
	if (at == 0) {
		f->head = (f->head + 1) & (f->cap - 1);
	} else {
		for (uint32_t i = at; i + 1 < f->n; i++)
			memcpy(oex_fifo_at(f, i), oex_fifo_at(f, i + 1), f->esize);
	}
	f->n--;
}

void oex_fifo_clear(struct oex_fifo *f)
{
	f->n = 0;
	f->head = 0;
}

void oex_fifo_free(struct oex_fifo *f)
{
	free(f->q);
	memset(f, 0, sizeof(*f));
}
