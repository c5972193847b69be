/* Engine-owned receive buffers: a bounded pool of fixed-size chunks that hold data no request
 * was posted for, and of descriptors that lend views of chunks to the application (R20, R22).
 * A chunk is free when neither the engine (held data) nor any lent descriptor refers to it. */
#ifndef OFFRX_POOL_H
#define OFFRX_POOL_H

#include <offrx/offrx.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct rxq_chunk {
	struct rxq_chunk *next; /* held list of a connection, or the free list */
	uint8_t *data;
	uint32_t off, len; /* the engine's unconsumed bytes are data[off, off + len) */
	uint32_t fill;	   /* bytes written so far; appends go at data[fill] */
	uint16_t refs;	   /* 1 while on a held list, plus one per lent descriptor */
};

enum {
	DESC_FREE = 0,
	DESC_OUT = 0x44455343,	   /* "DESC": the application's until it returns it */
	DESC_OFFERED = 0x4f464652, /* "OFFR": on offer in an indication not yet answered: not
				    * the application's, so it cannot be returned (R22) */
};

struct rxq_desc {
	struct offrx_ind_buf pub; /* first: the application sees only this */
	struct rxq_chunk *chunk;
	void *conn; /* owning rxq_conn while it lives, for its indicated_out count */
	/* The next descriptor of the same offer or hand-back: the engine's own link, since the
	 * application may relink pub.next of buffers it holds. */
	struct rxq_desc *lent_next;
	uint64_t conn_id;
	uint32_t state;
};

struct rxq_pool {
	pthread_mutex_t lock;
	uint8_t *mem;
	size_t mem_bytes; /* mem's mapping */
	struct rxq_chunk *chunks;
	struct rxq_chunk *free;
	uint32_t nchunks, nfree, chunk_size;
	/* Free chunks promised to connections whose advertised window counts on them (R24):
	 * only the rest (nfree - nresv) may be taken without a reservation. */
	uint32_t nresv;
	/* descs[0, ngeneral) serve indications; descs[ngeneral + i] is chunk i's own, used only
	 * to hand held data back with a disconnect or upload, which therefore never fails: a
	 * chunk leaves every held list when handed back, so it has at most one such view out. */
	struct rxq_desc *descs;
	struct rxq_desc *dfree; /* through pub.next */
	uint32_t ndescs, ngeneral, ndfree;
	/* Descriptor ids: next_desc_id + desc_id_stride each (the shards of an engine of several
	 * queues start at their index and step by their number, so ids stay engine-unique). */
	uint64_t next_desc_id, desc_id_stride;
};

int pool_init(struct rxq_pool *p, uint64_t bytes, uint32_t chunk_size);
void pool_fini(struct rxq_pool *p);
/* A free chunk: one of the caller's reserved ones (reserved: the caller drops one of its
 * reservations) or one nobody reserved; NULL if there is none. */
struct rxq_chunk *pool_chunk_get(struct rxq_pool *p, bool reserved);
/* Reserve up to n free chunks nobody else reserved; returns how many it got. */
uint32_t pool_reserve(struct rxq_pool *p, uint32_t n);
void pool_unreserve(struct rxq_pool *p, uint32_t n);
/* Drop one reference; the chunk goes back to the free list at zero. */
void pool_chunk_put(struct rxq_pool *p, struct rxq_chunk *c);
/* Lend a view of c[off, off + len) as a descriptor (takes a chunk reference). */
struct rxq_desc *pool_desc_get(struct rxq_pool *p, struct rxq_chunk *c, uint32_t off, uint32_t len);
/* Lend a view through the chunk's reserved descriptor (for hand-backs; never fails). */
struct rxq_desc *pool_desc_get_reserved(struct rxq_pool *p, struct rxq_chunk *c, uint32_t off,
					uint32_t len);
/* Take a descriptor back (drops its chunk reference). */
void pool_desc_put(struct rxq_pool *p, struct rxq_desc *d);
/* The descriptor behind an application pointer, or NULL if it is not one of ours that is out. */
struct rxq_desc *pool_desc_from_pub(struct rxq_pool *p, const struct offrx_ind_buf *b);
/* Bytes in free chunks nobody reserved. */
uint64_t pool_free_bytes(struct rxq_pool *p);

#endif
