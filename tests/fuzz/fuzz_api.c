/* Fuzz harness: the public API used the way an application may, from inside its callbacks
 * too, on the in-memory link (issue 13, item 5).
 *
 * The input is a script, decoded byte by byte (any input decodes; missing bytes read as 0):
 * a configuration byte, then operations on up to four connections: open, deliver stream
 * bytes (with or without PSH), post lists of requests (push or no-push, prefill, two-segment
 * chains), move the clock, return held buffers, upload, FIN, RST, close, destroy. Each
 * callback reads actions from the input as well and may post, return buffers (those on offer
 * included), upload, disconnect or deliver on its connection, move the clock, close another
 * connection, or try destroy and closing its own connection (both must be refused).
 *
 * The byte at stream offset o of connection id k is always stream_byte(k, o). Asserted: every
 * request completes exactly once, in posting order per connection (R14, R17); the bytes the
 * application gets (completions, consumed indications, hand-backs) are the stream in order
 * with nothing lost (at the end, all that was stored) or repeated; bytes outside a request's
 * free space are never written; buffers the application holds do not change; no ACK is past
 * the bytes stored (R24); upcalls of a connection never nest (R18, R19) and none runs inside a
 * post (R01); INVALID_STATE comes exactly for requests posted after the disconnect or upload
 * was indicated (R25); a buffer on offer cannot be returned inside its indication (R22);
 * destroy is refused from callbacks and while buffers are out, with their count (R23), and
 * frees the engine once none is. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx_mem.h>

#include "fuzz.h"

#define NCONNS	     4
#define MAX_OPENS    16
#define NSLOTS	     48
#define SLOT_MEM     2048
#define MAX_OPS	     2000
#define MAX_DELIVER  3000
#define MAX_HELD     4096
#define MAX_CB_DEPTH 3 /* callbacks that act from inside callbacks, at most this deep */

/* --- the input ----------------------------------------------------------------------------- */

static struct {
	const uint8_t *p;
	size_t n;
} in;

static uint8_t rd8(void)
{
	if (!in.n)
		return 0;
	in.n--;
	return *in.p++;
}

static uint16_t rd16(void)
{
	uint16_t hi = rd8();
	return (uint16_t)(hi << 8 | rd8());
}

static uint8_t stream_byte(uint64_t conn_id, uint64_t off)
{
	uint64_t x = off * 0x9E3779B97F4A7C15ull ^ conn_id * 0xC2B2AE3D27D4EB4Full;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	return (uint8_t)(x >> 56 ^ x);
}

/* --- state --------------------------------------------------------------------------------- */

struct fconn;

struct slot {
	struct offrx_recv_req req;
	struct offrx_seg segs[2];
	uint8_t mem[SLOT_MEM];
	bool posted;
	bool after_end; /* posted after the disconnect or upload was indicated */
	struct fconn *fc;
	uint32_t off, len, prefill, chain;
};

struct fconn {
	struct offrx_conn *oc; /* NULL once closed */
	uint64_t id;
	bool used, closed;
	uint64_t sent;	    /* stream bytes the engine stored (what it may acknowledge) */
	uint64_t inflight;  /* bytes of a delivery under way (its callbacks may see them) */
	uint64_t delivered; /* stream bytes the application got, in order */
	bool ended;	    /* DISCONNECT or UPLOAD_DONE seen */
	bool rst, uploaded;
	int ind_mode; /* 0 accept, 1 partial, 2 refuse, 3 bogus */
	uint32_t ind_take;
	uint32_t fifo[NSLOTS], fhead, fn; /* posted slots, in posting order */
	bool in_upcall;
	uint32_t events_closed;
};

struct held {
	struct offrx_ind_buf *b;
	uint64_t conn_id, off; /* the stream offset of its first byte */
	uint32_t len;
};

static struct {
	struct offrx_engine *eng;
	bool destroyed;
	struct fconn conns[NCONNS];
	uint32_t opens;
	struct slot slots[NSLOTS];
	struct held held[MAX_HELD];
	uint32_t nheld;
	bool posting;
	uint32_t depth; /* callbacks running */
	uint64_t push_ns;
	uint8_t data[MAX_DELIVER];
	uint8_t canary[SLOT_MEM];
	struct offrx_ind_buf *offered; /* the buffers of the indication that runs */
} h;

/* --- the application ----------------------------------------------------------------------- */

static void take_bytes(struct fconn *fc, const uint8_t *p, uint64_t n, const char *how)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != stream_byte(fc->id, fc->delivered + i))
			FUZZ_FAIL("conn %llu: %s byte at stream offset %llu is %02x, want %02x",
				  (unsigned long long)fc->id, how,
				  (unsigned long long)(fc->delivered + i), p[i],
				  stream_byte(fc->id, fc->delivered + i));
	fc->delivered += n;
	if (fc->delivered > fc->sent + fc->inflight)
		FUZZ_FAIL("conn %llu: %llu bytes delivered, only %llu offered",
			  (unsigned long long)fc->id, (unsigned long long)fc->delivered,
			  (unsigned long long)(fc->sent + fc->inflight));
}

/* Keep buffers the application now holds; off is the stream offset of the first. */
static void hold_bufs(struct fconn *fc, struct offrx_ind_buf *b, uint64_t off)
{
	for (; b; b = b->next) {
		FUZZ_CHECK(h.nheld < MAX_HELD);
		h.held[h.nheld++] = (struct held){ b, fc->id, off, b->len };
		off += b->len;
	}
}

static uint32_t app_held_count(void)
{
	return h.nheld;
}

/* Return held buffers [from, from + n): they must be as they were given (R22). */
static void return_held(uint32_t from, uint32_t n)
{
	if (from >= h.nheld || !n)
		return;
	if (n > h.nheld - from)
		n = h.nheld - from;
	struct offrx_ind_buf *list = NULL;
	for (uint32_t i = from + n; i-- > from;) {
		struct held *x = &h.held[i];
		FUZZ_CHECK(x->b->len == x->len);
		for (uint32_t k = 0; k < x->len; k++)
			if (x->b->data[k] != stream_byte(x->conn_id, x->off + k))
				FUZZ_FAIL("conn %llu: a held buffer changed at stream offset %llu",
					  (unsigned long long)x->conn_id,
					  (unsigned long long)(x->off + k));
		x->b->next = list;
		list = x->b;
	}
	FUZZ_CHECK(offrx_return_indicated(h.eng, list) == OFFRX_SUCCESS);
	memmove(&h.held[from], &h.held[from + n], (h.nheld - from - n) * sizeof(h.held[0]));
	h.nheld -= n;
	/* The same buffer again is not the application's any more. */
	if (n == 1) {
		list->next = NULL;
		FUZZ_CHECK(offrx_return_indicated(h.eng, list) == OFFRX_INVALID_PARAMETER);
	}
}

static void post_list(struct fconn *fc);
static void act(struct fconn *fc, bool in_callback);

static void enter(struct fconn *fc)
{
	FUZZ_CHECK(!fc->in_upcall); /* R18, R19: a connection's upcalls never nest */
	FUZZ_CHECK(!h.posting);	    /* R01: nothing is handed up inside a post */
	fc->in_upcall = true;
	h.depth++;
}

static void leave(struct fconn *fc)
{
	fc->in_upcall = false;
	h.depth--;
}

/* Inside a callback: maybe do something more, as the input says. */
static void maybe_act(struct fconn *fc)
{
	uint8_t n = h.depth <= MAX_CB_DEPTH ? rd8() % 4 : 0;
	while (n--)
		act(fc, true);
}

static void on_complete(struct offrx_conn *c, struct offrx_recv_req *reqs, void *ctx)
{
	struct fconn *fc = ctx;
	FUZZ_CHECK(fc && fc->oc == c);
	enter(fc);
	for (struct offrx_recv_req *r = reqs, *next; r; r = next) {
		next = r->next;
		uint64_t idx = r->cookie;
		FUZZ_CHECK(idx < NSLOTS);
		struct slot *s = &h.slots[idx];
		FUZZ_CHECK(r == &s->req && s->posted && s->fc == fc); /* R17 */
		FUZZ_CHECK(fc->fn > 0 && fc->fifo[fc->fhead] == idx); /* R14 */
		fc->fhead = (fc->fhead + 1) % NSLOTS;
		fc->fn--;
		s->posted = false;
		int st = r->status;
		/* R25: INVALID_STATE exactly for posts after the indication. */
		if ((st == OFFRX_INVALID_STATE) != s->after_end)
			FUZZ_FAIL("conn %llu: request %llu posted %s the disconnect was indicated "
				  "completed %s",
				  (unsigned long long)fc->id, (unsigned long long)offrx_req_id(r),
				  s->after_end ? "after" : "before", offrx_status_str(st));
		if (st == OFFRX_UPLOAD_IN_PROGRESS)
			FUZZ_CHECK(fc->uploaded);
		if (st == OFFRX_REQUEST_ABORTED)
			FUZZ_CHECK(fc->rst);
		FUZZ_CHECK(st == OFFRX_SUCCESS || st == OFFRX_REQUEST_ABORTED ||
			   st == OFFRX_UPLOAD_IN_PROGRESS || st == OFFRX_INVALID_STATE);
		FUZZ_CHECK(r->bytes_placed <= s->len - s->prefill); /* R15 */
		FUZZ_CHECK(r->bytes_transferred == s->prefill + r->bytes_placed);
		FUZZ_CHECK(r->data_offset == s->off + r->bytes_placed);
		FUZZ_CHECK(r->data_len == s->len - r->bytes_placed);
		uint32_t start = s->off + s->prefill, end = start + r->bytes_placed;
		if (memcmp(s->mem, h.canary, start) ||
		    memcmp(s->mem + end, h.canary + end, s->chain - end))
			FUZZ_FAIL("conn %llu: a request byte outside [%u, %u) was written",
				  (unsigned long long)fc->id, start, end);
		take_bytes(fc, s->mem + start, r->bytes_placed, "completed");
	}
	maybe_act(fc);
	leave(fc);
}

static int on_indicate(struct offrx_conn *c, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct fconn *fc = ctx;
	FUZZ_CHECK(fc && fc->oc == c && bufs && total > 0);
	enter(fc);
	uint64_t sum = 0;
	for (struct offrx_ind_buf *b = bufs; b; b = b->next)
		sum += b->len;
	FUZZ_CHECK(sum == total);
	/* R22: on offer, not yet ours: a return is refused and changes nothing. */
	if (rd8() & 1)
		FUZZ_CHECK(offrx_return_indicated(h.eng, bufs) == OFFRX_INVALID_PARAMETER);
	struct offrx_ind_buf *outer = h.offered;
	h.offered = bufs;
	maybe_act(fc);
	h.offered = outer;
	uint64_t take = 0;
	int res;
	switch (fc->ind_mode) {
	case 0:
		take = total;
		res = OFFRX_SUCCESS;
		break;
	case 1:
		take = fc->ind_take < total ? fc->ind_take : total;
		res = take == total ? OFFRX_SUCCESS : OFFRX_PARTIALLY_ACCEPTED;
		break;
	case 2:
		res = OFFRX_NOT_ACCEPTED;
		break;
	default:
		*consumed = total + 1; /* not an answer: the engine keeps everything */
		leave(fc);
		return 12345;
	}
	uint64_t off = fc->delivered, left = take;
	for (struct offrx_ind_buf *b = bufs; b && left; b = b->next) {
		uint64_t k = b->len < left ? b->len : left;
		take_bytes(fc, b->data, k, "indicated");
		left -= k;
	}
	*consumed = take;
	if (res != OFFRX_NOT_ACCEPTED)
		hold_bufs(fc, bufs, off); /* R22: ours until returned */
	leave(fc);
	return res;
}

static void on_event(struct offrx_conn *c, const struct offrx_conn_event *ev, void *ctx)
{
	struct fconn *fc = ctx;
	FUZZ_CHECK(fc && fc->oc == c);
	enter(fc);
	/* R24: the receive state is the bytes stored (a delivery may be under way). */
	FUZZ_CHECK(ev->bytes_received >= fc->sent && ev->bytes_received <= fc->sent + fc->inflight);
	FUZZ_CHECK(ev->rcv_nxt == 1001u + (uint32_t)ev->bytes_received);
	if (ev->type == OFFRX_EV_CLOSED) {
		FUZZ_CHECK(!ev->held && fc->ended);
		fc->events_closed++;
		leave(fc);
		return;
	}
	FUZZ_CHECK(ev->type == OFFRX_EV_DISCONNECT || ev->type == OFFRX_EV_UPLOAD_DONE);
	FUZZ_CHECK(!fc->ended); /* once (R25) */
	fc->ended = true;
	uint64_t sum = 0, off = fc->delivered;
	for (struct offrx_ind_buf *b = ev->held; b; b = b->next) {
		take_bytes(fc, b->data, b->len, "handed back");
		sum += b->len;
	}
	FUZZ_CHECK(sum == ev->held_bytes);
	/* Everything stored reached the application now, or is in buffers it holds. */
	FUZZ_CHECK(fc->delivered == ev->bytes_received);
	hold_bufs(fc, ev->held, off);
	maybe_act(fc);
	leave(fc);
}

static const struct offrx_callbacks cbs = {
	.recv_complete = on_complete,
	.recv_indicate = on_indicate,
	.conn_event = on_event,
};

/* --- operations ---------------------------------------------------------------------------- */

static struct fconn *pick_conn(void)
{
	struct fconn *fc = &h.conns[rd8() % NCONNS];
	return fc->used && !fc->closed ? fc : NULL;
}

static void open_conn(void)
{
	struct fconn *fc = NULL;
	for (int i = 0; i < NCONNS && !fc; i++)
		if (!h.conns[i].used || h.conns[i].closed)
			fc = &h.conns[i];
	if (!fc || h.opens >= MAX_OPENS)
		return;
	memset(fc, 0, sizeof(*fc));
	h.opens++;
	FUZZ_CHECK(offrx_mem_conn_open(h.eng, 1000, &fc->oc) == OFFRX_SUCCESS);
	fc->used = true;
	fc->id = offrx_conn_id(fc->oc);
	offrx_conn_set_context(fc->oc, fc);
}

static void deliver(struct fconn *fc)
{
	if (fc->inflight)
		return; /* a delivery on it is under way, up the stack */
	uint32_t len = rd16() % MAX_DELIVER;
	uint32_t flags = rd8() & 1 ? OFFRX_MEM_PSH : 0;
	for (uint32_t i = 0; i < len; i++)
		h.data[i] = stream_byte(fc->id, fc->sent + i);
	bool ended = fc->ended;
	fc->inflight = len ? len : 1;
	uint64_t stored = offrx_mem_deliver(fc->oc, h.data, len, flags);
	fc->inflight = 0;
	FUZZ_CHECK(stored <= len);
	if (ended) /* after the disconnect or upload nothing is stored */
		FUZZ_CHECK(stored == 0);
	fc->sent += stored;
	if (fc->closed) { /* a callback closed it: all it stored reached the application */
		FUZZ_CHECK(fc->delivered == fc->sent);
		return;
	}
	struct offrx_mem_link_stats ls;
	FUZZ_CHECK(offrx_mem_link_stats(fc->oc, &ls) == OFFRX_SUCCESS);
	FUZZ_CHECK(ls.last_ack_seq == 1001u + (uint32_t)fc->sent); /* R24: no ACK past stored */
}

static void post_list(struct fconn *fc)
{
	uint32_t n = 1 + rd8() % 3, got = 0;
	uint32_t idx[3];
	for (uint32_t i = 0; i < NSLOTS && got < n; i++) {
		uint32_t k = (rd8() + i) % NSLOTS;
		bool dup = false;
		for (uint32_t j = 0; j < got; j++)
			dup |= idx[j] == k;
		if (!h.slots[k].posted && !dup)
			idx[got++] = k;
	}
	if (!got)
		return;
	struct offrx_recv_req *head = NULL, **tail = &head;
	for (uint32_t j = 0; j < got; j++) {
		struct slot *s = &h.slots[idx[j]];
		uint8_t b = rd8();
		s->chain = 1 + rd16() % SLOT_MEM;
		uint32_t split = b & 1 ? rd16() % (s->chain + 1) : s->chain;
		memcpy(s->mem, h.canary, SLOT_MEM);
		s->segs[0] = (struct offrx_seg){ s->mem, split };
		s->segs[1] = (struct offrx_seg){ s->mem + split, s->chain - split };
		FUZZ_CHECK(offrx_req_init(&s->req, s->segs, split < s->chain ? 2 : 1, idx[j]) ==
			   OFFRX_SUCCESS);
		s->off = b & 2 ? rd16() % (s->chain / 2 + 1) : 0;
		s->len = s->chain - s->off - (b & 4 ? rd16() % (s->chain - s->off + 1) : 0);
		s->prefill = b & 8 ? rd16() % (s->len + 1) : 0;
		s->req.data_offset = s->off;
		s->req.data_len = s->len;
		s->req.bytes_transferred = s->prefill;
		s->req.flags = b & 16 ? OFFRX_REQ_NO_PUSH : 0;
		s->fc = fc;
		*tail = &s->req;
		tail = &s->req.next;
	}
	*tail = NULL;
	h.posting = true;
	int rc = offrx_post_recv(fc->oc, head);
	h.posting = false;
	FUZZ_CHECK(rc == OFFRX_PENDING); /* R01 */
	for (uint32_t j = 0; j < got; j++) {
		struct slot *s = &h.slots[idx[j]];
		s->posted = true;
		s->after_end = fc->ended;
		FUZZ_CHECK(fc->fn < NSLOTS);
		fc->fifo[(fc->fhead + fc->fn++) % NSLOTS] = idx[j];
	}
}

static void close_conn(struct fconn *fc, bool in_callback)
{
	int rc = offrx_mem_conn_close(fc->oc);
	if (fc->in_upcall) {
		FUZZ_CHECK(rc == OFFRX_INVALID_STATE); /* not from its own upcall */
		return;
	}
	FUZZ_CHECK(rc == OFFRX_SUCCESS);
	/* Closing resets it first: every request came back, every stored byte reached us. */
	FUZZ_CHECK(fc->ended && fc->events_closed == 1 && fc->fn == 0);
	if (!fc->inflight) /* else the delivery under way checks it when it returns */
		FUZZ_CHECK(fc->delivered == fc->sent);
	fc->closed = true;
	fc->oc = NULL;
	(void)in_callback;
}

static void try_destroy(void)
{
	uint32_t out = 12345;
	int rc = offrx_engine_destroy(h.eng, &out);
	if (h.depth) {
		FUZZ_CHECK(rc == OFFRX_INVALID_STATE); /* not from a callback */
		return;
	}
	/* Every connection was reset: all is handed back, nothing lost (R24, R25). */
	for (int i = 0; i < NCONNS; i++) {
		struct fconn *fc = &h.conns[i];
		if (fc->used && !fc->closed) {
			FUZZ_CHECK(fc->ended && fc->fn == 0);
			FUZZ_CHECK(fc->delivered == fc->sent);
		}
	}
	FUZZ_CHECK(out == app_held_count()); /* R23 */
	if (rc == OFFRX_SUCCESS) {
		FUZZ_CHECK(out == 0);
		for (int i = 0; i < NCONNS; i++)
			if (h.conns[i].used && !h.conns[i].closed) {
				FUZZ_CHECK(h.conns[i].events_closed == 1);
				h.conns[i].closed = true;
			}
		h.destroyed = true;
		return;
	}
	FUZZ_CHECK(rc == OFFRX_INVALID_STATE && out > 0);
}

/* One operation; inside a callback on its connection fc (the others are picked as usual). */
static void act(struct fconn *cb, bool in_callback)
{
	if (h.destroyed)
		return;
	uint8_t op = rd8();
	struct fconn *fc = in_callback && (op & 0x80) ? cb : pick_conn();
	switch (op % 13) {
	case 0:
		if (!in_callback)
			open_conn();
		break;
	case 1:
	case 2:
		if (fc)
			deliver(fc);
		break;
	case 3:
	case 4:
		if (fc)
			post_list(fc);
		break;
	case 5: {
		uint64_t ns = (uint64_t)rd8() * h.push_ns / 128;
		offrx_mem_advance(h.eng, ns);
		break;
	}
	case 6:
		if (fc) {
			fc->ind_mode = rd8() % 4;
			fc->ind_take = rd16();
		}
		break;
	case 7:
		return_held(rd8() % (h.nheld + 1), 1 + rd8() % 8);
		if (in_callback && h.offered && (rd8() & 1))
			FUZZ_CHECK(offrx_return_indicated(h.eng, h.offered) ==
				   OFFRX_INVALID_PARAMETER);
		break;
	case 8:
		if (fc) {
			/* What may come back is allowed before the call: its completions come
			 * inside it. Taken back if the call is refused. */
			bool set = !fc->uploaded;
			fc->uploaded = true;
			int rc = offrx_conn_upload(fc->oc);
			if (rc != OFFRX_SUCCESS) {
				FUZZ_CHECK(rc == OFFRX_INVALID_STATE);
				if (set)
					fc->uploaded = false;
			}
		}
		break;
	case 9:
	case 10:
		if (fc) {
			bool rst = op % 13 == 10, set = rst && !fc->rst;
			if (rst)
				fc->rst = true;
			int rc = rst ? offrx_mem_rst(fc->oc) : offrx_mem_fin(fc->oc);
			if (rc != OFFRX_SUCCESS) {
				FUZZ_CHECK(rc == OFFRX_INVALID_STATE);
				if (set)
					fc->rst = false;
			}
		}
		break;
	case 11:
		if (fc) {
			if (!fc->ended && !fc->uploaded && !fc->in_upcall)
				fc->rst = true; /* closing an open connection resets it */
			close_conn(fc, in_callback);
		}
		break;
	case 12:
		if (!in_callback || (rd8() & 1)) {
			if (!h.depth)
				for (int i = 0; i < NCONNS; i++) /* destroy resets: as RST */
					if (h.conns[i].used && !h.conns[i].closed &&
					    !h.conns[i].ended && !h.conns[i].uploaded)
						h.conns[i].rst = true;
			try_destroy();
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&h, 0, sizeof(h));
	in.p = data;
	in.n = size;
	for (uint32_t i = 0; i < SLOT_MEM; i++)
		h.canary[i] = (uint8_t)(0xA5 ^ i * 7);

	uint8_t cfg = rd8();
	static const uint32_t chunks[4] = { 64, 128, 512, 4096 };
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	o.chunk_size = chunks[cfg & 3];
	o.pool_bytes = (uint64_t)o.chunk_size * (2 + (cfg >> 2 & 7) * 5);
	o.hold_bytes_per_conn = (uint64_t)o.chunk_size * (1 + (cfg >> 5) * 3);
	h.push_ns = 200 * 1000 * 1000;
	o.push_timer_ns = h.push_ns;
	FUZZ_CHECK(offrx_mem_engine_create(&o, &h.eng) == OFFRX_SUCCESS);

	for (int i = 0; in.n && i < MAX_OPS && !h.destroyed; i++)
		act(NULL, false);

	/* The end: give everything back and destroy; after at most one more round of
	 * hand-backs the engine must go, with every request and byte accounted for. */
	in.n = 0;
	for (int round = 0; round < 3 && !h.destroyed; round++) {
		return_held(0, h.nheld);
		for (int i = 0; i < NCONNS; i++)
			if (h.conns[i].used && !h.conns[i].closed && !h.conns[i].ended &&
			    !h.conns[i].uploaded)
				h.conns[i].rst = true;
		try_destroy();
	}
	FUZZ_CHECK(h.destroyed);
	for (int i = 0; i < NSLOTS; i++)
		FUZZ_CHECK(!h.slots[i].posted); /* R17: every request came back */
	for (int i = 0; i < NCONNS; i++)
		if (h.conns[i].used)
			FUZZ_CHECK(h.conns[i].delivered == h.conns[i].sent);
	return 0;
}
