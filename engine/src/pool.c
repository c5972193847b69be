/* The engine's bounded buffer pool (see pool.h). Everything is allocated once at init so the
 * receive path never calls malloc. */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int pool_init(struct rxq_pool *p, uint64_t bytes, uint32_t chunk_size)
{
	memset(p, 0, sizeof(*p));
	if (chunk_size < 64 || bytes < chunk_size)
		return -EINVAL;
	uint64_t n = bytes / chunk_size;
	if (n > (1u << 24))
		return -EINVAL;
	p->nchunks = (uint32_t)n;
	p->chunk_size = chunk_size;
	p->desc_id_stride = 1;
	/* Lent descriptors outnumber chunks only through partial accepts; twice is plenty and
	 * running out just delays an indication. */
	p->ngeneral = p->nchunks * 2;
	p->ndescs = p->ngeneral + p->nchunks;
	/* Mapped, not malloc'ed: unmapped again at fini. From malloc, a block this large (16
	 * MiB by default) raises glibc's mmap threshold once freed, and the next engine's pool
	 * then comes from the heap and stays in the process's RSS after its engine is gone: a
	 * viewer replaying what-ifs (an engine per replay) grew by one pool in a step. */
	p->mem_bytes = (size_t)n * chunk_size;
	p->mem = mmap(NULL, p->mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	if (p->mem == MAP_FAILED)
		p->mem = NULL;
	p->chunks = calloc(p->nchunks, sizeof(*p->chunks));
	p->descs = calloc(p->ndescs, sizeof(*p->descs));
	if (!p->mem || !p->chunks || !p->descs) {
		pool_fini(p);
		return -ENOMEM;
	}
	/* Touch every page now: the receive path then takes no page fault on a chunk's first use,
	 * and the engine's memory is what it reserved from the start, not a high-water mark that
	 * climbs with the load (which a leak check would read as growth). */
	memset(p->mem, 0, (size_t)n * chunk_size);
	for (uint32_t i = p->nchunks; i-- > 0;) {
		p->chunks[i].data = p->mem + (size_t)i * chunk_size;
		p->chunks[i].next = p->free;
		p->free = &p->chunks[i];
	}
	p->nfree = p->nchunks;
	for (uint32_t i = p->ngeneral; i-- > 0;) {
		p->descs[i].pub.next = p->dfree ? &p->dfree->pub : NULL;
		p->dfree = &p->descs[i];
	}
	p->ndfree = p->ngeneral;
	pthread_mutex_init(&p->lock, NULL);
	return 0;
}

void pool_fini(struct rxq_pool *p)
{
	if (p->mem)
		munmap(p->mem, p->mem_bytes);
	free(p->chunks);
	free(p->descs);
	if (p->nchunks)
		pthread_mutex_destroy(&p->lock);
	memset(p, 0, sizeof(*p));
}

struct rxq_chunk *pool_chunk_get(struct rxq_pool *p, bool reserved)
{
	pthread_mutex_lock(&p->lock);
	struct rxq_chunk *c = reserved || p->nfree > p->nresv ? p->free : NULL;
	if (c) {
		if (reserved)
			__atomic_store_n(&p->nresv, p->nresv - 1, __ATOMIC_RELAXED);
		p->free = c->next;
		__atomic_store_n(&p->nfree, p->nfree - 1, __ATOMIC_RELAXED);
		c->next = NULL;
		c->off = c->len = c->fill = 0;
		c->refs = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return c;
}

uint32_t pool_reserve(struct rxq_pool *p, uint32_t n)
{
	pthread_mutex_lock(&p->lock);
	uint32_t avail = p->nfree - p->nresv;
	if (n > avail)
		n = avail;
	__atomic_store_n(&p->nresv, p->nresv + n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pool_unreserve(struct rxq_pool *p, uint32_t n)
{
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->nresv, p->nresv - n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
}

static void chunk_put_locked(struct rxq_pool *p, struct rxq_chunk *c)
{
	if (--c->refs == 0) {
		c->next = p->free;
		p->free = c;
		__atomic_store_n(&p->nfree, p->nfree + 1, __ATOMIC_RELAXED);
	}
}

void pool_chunk_put(struct rxq_pool *p, struct rxq_chunk *c)
{
	pthread_mutex_lock(&p->lock);
	chunk_put_locked(p, c);
	pthread_mutex_unlock(&p->lock);
}

static void desc_lend(struct rxq_pool *p, struct rxq_desc *d, struct rxq_chunk *c, uint32_t off,
		      uint32_t len)
{
	d->pub.next = NULL;
	d->pub.data = c->data + off;
	d->pub.len = len;
	d->pub.id = p->next_desc_id += p->desc_id_stride;
	d->chunk = c;
	d->state = DESC_OUT;
	c->refs++;
}

struct rxq_desc *pool_desc_get(struct rxq_pool *p, struct rxq_chunk *c, uint32_t off, uint32_t len)
{
	pthread_mutex_lock(&p->lock);
	struct rxq_desc *d = p->dfree;
	if (d) {
		p->dfree = (struct rxq_desc *)d->pub.next;
		p->ndfree--;
		desc_lend(p, d, c, off, len);
	}
	pthread_mutex_unlock(&p->lock);
	return d;
}

struct rxq_desc *pool_desc_get_reserved(struct rxq_pool *p, struct rxq_chunk *c, uint32_t off,
					uint32_t len)
{
	pthread_mutex_lock(&p->lock);
	struct rxq_desc *d = &p->descs[p->ngeneral + (uint32_t)(c - p->chunks)];
	desc_lend(p, d, c, off, len);
	pthread_mutex_unlock(&p->lock);
	return d;
}

void pool_desc_put(struct rxq_pool *p, struct rxq_desc *d)
{
	pthread_mutex_lock(&p->lock);
	chunk_put_locked(p, d->chunk);
	d->chunk = NULL;
	d->conn = NULL;
	d->state = DESC_FREE;
	if (d < p->descs + p->ngeneral) {
		d->pub.next = p->dfree ? &p->dfree->pub : NULL;
		p->dfree = d;
		p->ndfree++;
	}
	pthread_mutex_unlock(&p->lock);
}

struct rxq_desc *pool_desc_from_pub(struct rxq_pool *p, const struct offrx_ind_buf *b)
{
	/* Compare addresses as integers: a pointer from outside the array must not be
	 * dereferenced, and pointer arithmetic across objects is undefined. */
	uintptr_t a = (uintptr_t)b, lo = (uintptr_t)p->descs;
	uintptr_t hi = lo + (uintptr_t)p->ndescs * sizeof(struct rxq_desc);
	if (!b || a < lo || a >= hi || (a - lo) % sizeof(struct rxq_desc) != 0)
		return NULL;
	struct rxq_desc *d = &p->descs[(a - lo) / sizeof(struct rxq_desc)];
	return d->state == DESC_OUT ? d : NULL;
}

uint64_t pool_free_bytes(struct rxq_pool *p)
{
	uint32_t f = __atomic_load_n(&p->nfree, __ATOMIC_RELAXED);
	uint32_t r = __atomic_load_n(&p->nresv, __ATOMIC_RELAXED);
	return f > r ? (uint64_t)(f - r) * p->chunk_size : 0;
}
