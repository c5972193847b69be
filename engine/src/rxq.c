/* rxq: the receive core (see rxq.h). Rule IDs in comments refer to docs/SEMANTICS.md.
 *
 * Locking: each connection has a mutex that guards its queues; the timer wheel and the buffer
 * pool have their own (taken after a connection's, never before). Upcalls run with no lock
 * held, one at a time per connection, through rxq_flush's in_upcall gate.
 */
#include "rxq.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mutant.h"
#include "seq.h"
#include "trace.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define unlikely(x)			__builtin_expect(!!(x), 0)
#define MIN(a, b)			((a) < (b) ? (a) : (b))

/* Upper bound on segments in one request, so validating a post is bounded. */
#define RXQ_MAX_SEGS 65536u

/* The engine's area inside a request (MiniportReserved): queueing needs no allocation. */
struct rxq_req_priv {
	struct offrx_recv_req *qnext;
	struct rxq_conn *conn;
	uint64_t id;
	uint64_t t_post, t_last;
	uint32_t state;
	uint32_t cap; /* bytes the engine may place: data_len - prefill */
	uint32_t placed;
	uint32_t prefill;
	uint32_t buf_len; /* data_len at post */
	uint32_t seg_idx; /* where the next byte goes */
	uint32_t seg_off;
	uint16_t reason;
	uint8_t loaded; /* counted in conn->push_loaded */
};

_Static_assert(sizeof(struct rxq_req_priv) <= sizeof(((struct offrx_recv_req *)0)->reserved),
	       "request private area does not fit in reserved");

enum {
	REQ_IDLE = 0,
	REQ_QUEUED = 0x51554555,     /* "QUEU" */
	REQ_DONE = 0x444f4e45,	     /* "DONE": completed, not yet handed up */
	REQ_VALIDATING = 0x56414c49, /* "VALI": inside a post being checked */
};

static inline struct rxq_req_priv *priv(struct offrx_recv_req *r)
{
	return (struct rxq_req_priv *)(void *)r->reserved;
}

uint64_t offrx_req_id(const struct offrx_recv_req *req)
{
	return req ? ((const struct rxq_req_priv *)(const void *)req->reserved)->id : 0;
}

uint64_t rxq_now(const struct rxq *q)
{
	return q->cfg.clock(q->cfg.clock_ctx);
}

/* --- events ------------------------------------------------------------------------------ */

/* Someone listens for events of this kind: an in-process observer or the trace sink. */
static inline bool observed(const struct rxq *q, enum offrx_event_kind kind)
{
	return q->cfg.observer && (q->cfg.observer_mask & OFFRX_EVENT_BIT(kind));
}

static inline bool listening(const struct rxq *q, enum offrx_event_kind kind)
{
	return unlikely(observed(q, kind)) || offrx_trace_on(q->cfg.trace, kind);
}

/* Event set 3: a completion call's complete events open it (the first carries the count);
 * the trace shows its end only when a post came while it ran (R19). The first such post
 * waits (call_held) until the call's end or the connection's next traced event: at the end it
 * goes out with in_call 2 (the call ended right after it: no complete_end), before another
 * event with in_call 1 (the call goes on: the posts after it carry in_call 1 and a
 * complete_end follows the callback). Any other traced event of the connection while the
 * call is open and no post came first tells the readers the call had ended before it, so a
 * post after that one is no longer in_call. docs/TRACEPOINTS.md "Event set 3". */
enum { RXQ_CALL_NONE, RXQ_CALL_OPEN, RXQ_CALL_HELD, RXQ_CALL_BRACKETED };

static uint8_t call_state(const struct rxq_conn *c)
{
	return __atomic_load_n(&c->call_trace, __ATOMIC_RELAXED);
}

static void call_set(struct rxq_conn *c, uint8_t st)
{
	__atomic_store_n(&c->call_trace, st, __ATOMIC_RELAXED);
}

static void call_held_out(struct rxq_conn *c, uint8_t in_call)
{
	c->call_held.reason = in_call;
	c->q->cfg.trace->event(&c->call_held);
}

/* Another traced event of c (c locked). */
static void call_other(struct rxq_conn *c)
{
	uint8_t st = call_state(c);
	if (st == RXQ_CALL_OPEN) {
		call_set(c, RXQ_CALL_NONE);
	} else if (st == RXQ_CALL_HELD) {
		call_held_out(c, 1);
		call_set(c, RXQ_CALL_BRACKETED);
	}
}

/* A traced post (c locked): its in_call, or held (false: not to be sent now). */
static bool call_post(struct rxq_conn *c, struct offrx_event *ev)
{
	switch (call_state(c)) {
	case RXQ_CALL_OPEN:
		c->call_held = *ev;
		call_set(c, RXQ_CALL_HELD);
		return false;
	case RXQ_CALL_HELD:
		call_held_out(c, 1);
		call_set(c, RXQ_CALL_BRACKETED);
		ev->reason = 1;
		return true;
	case RXQ_CALL_BRACKETED:
		ev->reason = 1;
		return true;
	default:
		ev->reason = 0;
		return true;
	}
}

/* The completion callback returned (c unlocked): true when a complete_end must follow. */
static bool call_end(struct rxq_conn *c)
{
	pthread_mutex_lock(&c->lock);
	uint8_t st = call_state(c);
	call_set(c, RXQ_CALL_NONE);
	if (st == RXQ_CALL_HELD)
		call_held_out(c, 2); /* the call's last event: its end is implied */
	pthread_mutex_unlock(&c->lock);
	return st == RXQ_CALL_BRACKETED;
}

/* The trace sink's pending fill of c goes out (c locked): before any other traced event of
 * c, so the trace stays in causal order, and at the end of the receive batch. */
static void fill_flush(struct rxq_conn *c)
{
	if (!c->fill_on)
		return;
	c->fill_on = false;
	call_other(c);
	c->q->cfg.trace->fill(&c->fill);
}

/* An event from a context that holds no connection lock (no fill can be pending for it: see
 * rxq_flush and rxq_return). */
static void emit(struct rxq *q, struct offrx_event *ev)
{
	if (observed(q, ev->kind))
		q->cfg.observer(ev, q->cfg.observer_ctx);
	if (ev->kind != OFFRX_E_CONN_OPEN && offrx_trace_on(q->cfg.trace, ev->kind))
		q->cfg.trace->event(ev);
}

/* An event of connection c, c locked: its pending fill goes first. */
static void emit_c(struct rxq_conn *c, struct offrx_event *ev, bool to_sink)
{
	struct rxq *q = c->q;
	if (observed(q, ev->kind))
		q->cfg.observer(ev, q->cfg.observer_ctx);
	if (to_sink && ev->kind != OFFRX_E_CONN_OPEN && offrx_trace_on(q->cfg.trace, ev->kind)) {
		fill_flush(c);
		if (ev->kind != OFFRX_E_POST)
			call_other(c);
		else if (!call_post(c, ev)) /* ev->reason: in_call (the observer has had it) */
			return;
		q->cfg.trace->event(ev);
	}
}

/* Timer events name the request the timer guards: r, or else the head. to_sink false: the
 * sink's pending fill carries this one (a restart). */
static void emit_timer(struct rxq_conn *c, enum offrx_event_kind kind, uint64_t now,
		       uint64_t deadline, struct offrx_recv_req *r, bool to_sink)
{
	if (to_sink ? !listening(c->q, kind) : !observed(c->q, kind))
		return;
	struct offrx_event ev = { .kind = kind, .ts_ns = now, .conn_id = c->id };
	ev.deadline_ns = deadline;
	if (!r)
		r = c->head;
	if (r) {
		struct rxq_req_priv *p = priv(r);
		ev.req_id = p->id;
		ev.bytes = p->prefill + p->placed;
		ev.buf_len = p->buf_len;
	}
	emit_c(c, &ev, to_sink);
}

/* --- the push timer (R07, R08, R10, R12, R13) --------------------------------------------- */

static void timer_start(struct rxq_conn *c, uint64_t now, struct offrx_recv_req *r)
{
	c->deadline = now + c->q->cfg.push_timer_ns;
	/* An entry still filed (lazily cancelled or restarted) is filed no later than the new
	 * deadline, so it will be looked at in time and refiled. */
	if (!c->timer.in_wheel)
		tw_insert(&c->q->tw, &c->timer, c->deadline);
	/* R08 after bytes placed in the request it guards: the sink's pending fill of those
	 * bytes carries the start (event set 3), so the trace needs no event of its own. */
	struct offrx_recv_req *g = r ? r : c->head;
	bool folded = c->fill_on && g && c->fill.req == priv(g)->id;
	if (folded) {
		c->fill.deadline_ns = c->deadline;
		c->fill.start = 1;
	}
	emit_timer(c, OFFRX_E_TIMER_START, now, c->deadline, r, !folded);
}

static void timer_restart(struct rxq_conn *c, uint64_t now)
{
	c->deadline = now + c->q->cfg.push_timer_ns;
	/* R12 after bytes placed in the request the timer guards: the sink's pending fill of
	 * those bytes carries the restart, so the trace needs no event of its own for it. */
	bool folded = c->fill_on && c->head && c->fill.req == priv(c->head)->id;
	if (folded)
		c->fill.deadline_ns = c->deadline;
	emit_timer(c, OFFRX_E_TIMER_RESTART, now, c->deadline, NULL, !folded);
}

/* derived: the stop because no push-mode request holds bytes and is not full any more,
 * which the readers derive from the fills and completions (event set 3): no event of its
 * own. The stops of a disconnect, an upload or a close are traced. */
static void timer_cancel(struct rxq_conn *c, uint64_t now, bool derived)
{
	if (!c->deadline)
		return;
	uint64_t d = c->deadline;
	c->deadline = 0;
	emit_timer(c, OFFRX_E_TIMER_CANCEL, now, d, NULL, !derived);
}

/* --- the request queue ------------------------------------------------------------------- */

static inline uint32_t req_bytes(struct offrx_recv_req *r)
{
	return priv(r)->prefill + priv(r)->placed;
}

static inline bool req_full(struct offrx_recv_req *r)
{
	return priv(r)->placed == priv(r)->cap;
}

static void mark_loaded(struct rxq_conn *c, struct offrx_recv_req *r)
{
	struct rxq_req_priv *p = priv(r);
	if (!p->loaded && !(r->flags & OFFRX_REQ_NO_PUSH) && req_bytes(r) > 0 && !req_full(r)) {
		p->loaded = 1;
		c->push_loaded++;
	}
}

static struct offrx_recv_req *queue_pop(struct rxq_conn *c)
{
	struct offrx_recv_req *r = c->head;
	struct rxq_req_priv *p = priv(r);
	c->head = p->qnext;
	if (!c->head)
		c->tail = NULL;
	p->qnext = NULL;
	c->depth--;
	c->posted_free -= p->cap - p->placed;
	if (p->loaded) {
		p->loaded = 0;
		c->push_loaded--;
	}
	return r;
}

/* Write the completion fields (R15, R16) and append to a list in order (R14). */
static void req_finish_to(struct offrx_recv_req **head, struct offrx_recv_req **tail,
			  struct offrx_recv_req *r, int status, uint16_t reason)
{
	struct rxq_req_priv *p = priv(r);
	p->state = REQ_DONE;
	p->reason = reason;
	r->status = status;
	r->bytes_transferred = p->prefill + p->placed + (OFFRX_MUTANT(9) && p->placed);
	r->bytes_placed = p->placed;
	r->data_offset += p->placed;
	r->data_len -= p->placed;
	r->next = NULL;
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

static void req_finish(struct rxq_conn *c, struct offrx_recv_req *r, int status, uint16_t reason)
{
	req_finish_to(&c->done_head, &c->done_tail, r, status, reason);
}

/* R09: filled requests complete at once, but only from the head, so order holds (R14). */
static void complete_filled(struct rxq_conn *c)
{
	while (c->head && req_full(c->head))
		req_finish(c, queue_pop(c), OFFRX_SUCCESS, OFFRX_CR_FILLED);
}

/* R10: on PSH or timer expiry, complete the leading push-mode requests that hold bytes. A
 * no-push request (R11) or an empty one stops the run, since nothing may overtake it. */
static void complete_pushed(struct rxq_conn *c, uint16_t reason)
{
	while (c->head) {
		struct offrx_recv_req *r = c->head;
		if (req_full(r))
			req_finish(c, queue_pop(c), OFFRX_SUCCESS, OFFRX_CR_FILLED);
		else if ((!(r->flags & OFFRX_REQ_NO_PUSH) || OFFRX_MUTANT(4)) && req_bytes(r) > 0)
			req_finish(c, queue_pop(c), OFFRX_SUCCESS, reason);
		else
			break;
	}
}

/* Copy up to n bytes into the request's segments at its cursor (R02). */
static uint32_t req_place(struct offrx_recv_req *r, const uint8_t *src, uint64_t n)
{
	struct rxq_req_priv *p = priv(r);
	uint32_t room = p->cap - p->placed;
	uint32_t todo = (uint32_t)MIN(n, (uint64_t)room);
	uint32_t done = 0;
	while (done < todo) {
		struct offrx_seg *s = &r->segs[p->seg_idx];
		uint32_t k = MIN(todo - done, s->len - p->seg_off);
		if (k) /* empty segments may have a NULL base */
			memcpy((uint8_t *)s->base + p->seg_off, src + done, k);
		done += k;
		p->seg_off += k;
		if (p->seg_off == s->len) {
			p->seg_idx++;
			p->seg_off = 0;
		}
	}
	p->placed += done;
	return done;
}

/* The observer gets every placement; the trace sink one fill per request per receive batch,
 * summed in c->fill until it goes out (fill_flush). A PSH ends a fill. */
static void emit_fill(struct rxq_conn *c, struct offrx_recv_req *r, uint32_t n, uint32_t seq,
		      bool psh, uint64_t now)
{
	struct rxq *q = c->q;
	struct rxq_req_priv *p = priv(r);
	if (unlikely(observed(q, OFFRX_E_FILL))) {
		struct offrx_event ev = { .kind = OFFRX_E_FILL, .ts_ns = now, .conn_id = c->id };
		ev.req_id = p->id;
		ev.bytes = n;
		ev.total = p->prefill + p->placed;
		ev.buf_len = p->buf_len;
		ev.seq = seq;
		ev.flags = psh;
		q->cfg.observer(&ev, q->cfg.observer_ctx);
	}
	if (!offrx_trace_on(q->cfg.trace, OFFRX_E_FILL))
		return;
	struct offrx_trace_fill *f = &c->fill;
	if (c->fill_on && (f->req != p->id || f->psh || f->seq + f->bytes != seq))
		fill_flush(c);
	if (!c->fill_on) {
		c->fill_on = true;
		f->conn = c->id;
		f->req = p->id;
		f->buf_len = p->buf_len;
		f->seq = seq;
		f->bytes = f->segs = 0;
		f->deadline_ns = 0;
		f->start = 0;
	}
	f->bytes += n;
	f->total = p->prefill + p->placed;
	f->segs++;
	f->psh = psh;
}

/* Place bytes into the queued requests, completing the ones that fill. Returns the bytes
 * placed; *first_push tells whether a push-mode request got its first byte (R08). */
static uint64_t place(struct rxq_conn *c, const uint8_t *src, uint64_t len, uint32_t seq, bool psh,
		      uint64_t now, bool *first_push)
{
	uint64_t done = 0;
	while (done < len && c->head) {
		struct offrx_recv_req *r = c->head, *nx = priv(r)->qnext;
		if (OFFRX_MUTANT(20) && (r->flags & OFFRX_REQ_NO_PUSH) && nx && !req_full(nx))
			r = nx; /* past a no-push head */
		bool was_empty = req_bytes(r) == 0;
		uint32_t n = req_place(r, src + done, len - done);
		c->posted_free -= n;
		if (n) {
			priv(r)->t_last = now;
			emit_fill(c, r, n, seq + (uint32_t)done, psh && done + n == len, now);
			if (was_empty && !(r->flags & OFFRX_REQ_NO_PUSH))
				*first_push = true;
			mark_loaded(c, r);
		}
		done += n;
		if (!OFFRX_MUTANT(1) || done < len) /* 1: filled by a segment's end, it waits */
			complete_filled(c);
		if (!n && c->head == r)
			break; /* cannot happen: the head is never full */
	}
	return done;
}

/* --- engine buffers (R05, R20, R21) ------------------------------------------------------ */

/* Room left in the held tail chunk, where the next held bytes go. Appending to a chunk an
 * indication lent is safe (the views end where the data did), so no room is lost to one. */
static uint32_t tail_room(const struct rxq_conn *c)
{
	const struct rxq_chunk *t = c->held_tail;
	return t ? c->q->pool.chunk_size - t->fill : 0;
}

/* Engine-buffer bytes this connection may fill: within its budget, in its tail chunk, its
 * reserved chunks and the chunks no connection reserved (R24). */
static uint64_t hold_room(const struct rxq_conn *c)
{
	const struct rxq *q = c->q;
	uint64_t budget = q->cfg.hold_bytes_per_conn;
	if (c->held_bytes >= budget)
		return 0;
	budget -= c->held_bytes;
	uint64_t avail = pool_free_bytes((struct rxq_pool *)&q->pool) +
			 (uint64_t)c->resv * q->pool.chunk_size + tail_room(c);
	return MIN(budget, avail);
}

/* R24: keep as many chunks reserved as the promised window needs beyond the room in posted
 * requests and in the tail chunk; give back the rest. A connection no longer open needs none.
 * What cannot be reserved leaves the promise short, which happens only when a tail chunk the
 * promise counted on left the connection (an indication consumed all of it) while the
 * application holds every other chunk: data inside the window may then be refused (never
 * acknowledged, so never lost; the wire counts it as no_room). */
static void resv_settle(struct rxq_conn *c)
{
	struct rxq_pool *pool = &c->q->pool;
	uint64_t need = 0;
	if (c->state == RXQ_OPEN && c->promised && seq_gt(c->promise_edge, c->rcv_nxt)) {
		uint64_t owed = c->promise_edge - c->rcv_nxt;
		uint64_t budget = c->q->cfg.hold_bytes_per_conn;
		uint64_t hold = owed > c->posted_free ? owed - c->posted_free : 0;
		hold = MIN(hold, budget > c->held_bytes ? budget - c->held_bytes : 0);
		uint32_t tail = tail_room(c);
		if (hold > tail)
			need = (hold - tail + pool->chunk_size - 1) / pool->chunk_size;
	}
	if (need > c->resv) {
		c->resv += pool_reserve(pool, (uint32_t)(need - c->resv));
	} else if (need < c->resv) {
		pool_unreserve(pool, c->resv - (uint32_t)need);
		c->resv = (uint32_t)need;
	}
}

static uint32_t adv_window(const struct rxq_conn *c);

uint32_t rxq_promise(struct rxq_conn *c, uint32_t edge)
{
	pthread_mutex_lock(&c->lock);
	if (!c->promised || seq_gt(edge, c->promise_edge)) {
		c->promise_edge = edge;
		c->promised = true;
	}
	resv_settle(c);
	uint32_t wnd = adv_window(c);
	pthread_mutex_unlock(&c->lock);
	return wnd;
}

static uint64_t hold_append(struct rxq_conn *c, const uint8_t *src, uint64_t n)
{
	struct rxq_pool *pool = &c->q->pool;
	n = MIN(n, hold_room(c));
	uint64_t done = 0;
	while (done < n) {
		struct rxq_chunk *t = c->held_tail;
		if (!t || t->fill == pool->chunk_size) {
			/* A chunk this connection reserved first, else one nobody did (R24). */
			t = pool_chunk_get(pool, c->resv > 0);
			if (!t)
				break;
			if (c->resv)
				c->resv--;
			if (c->held_tail)
				c->held_tail->next = t;
			else
				c->held_head = t;
			c->held_tail = t;
		}
		uint32_t k = (uint32_t)MIN(n - done, (uint64_t)(pool->chunk_size - t->fill));
		memcpy(t->data + t->fill, src + done, k);
		t->fill += k;
		t->len += k;
		done += k;
	}
	c->held_bytes += done;
	return done;
}

/* Drop n bytes from the front of the held data. */
static void hold_consume(struct rxq_conn *c, uint64_t n)
{
	while (n && c->held_head) {
		struct rxq_chunk *h = c->held_head;
		uint32_t k = (uint32_t)MIN(n, (uint64_t)h->len);
		h->off += k;
		h->len -= k;
		c->held_bytes -= k;
		n -= k;
		if (h->len == 0) {
			c->held_head = h->next;
			if (!c->held_head)
				c->held_tail = NULL;
			h->next = NULL;
			pool_chunk_put(&c->q->pool, h);
		}
	}
}

/* R21: held data goes into posted requests first, in order. */
static void drain_held(struct rxq_conn *c, uint64_t now)
{
	bool first_push = false;
	while (c->held_head && c->head) {
		struct rxq_chunk *h = c->held_head;
		uint32_t seq = c->rcv_nxt - (uint32_t)c->held_bytes;
		uint64_t n = place(c, h->data + h->off, h->len, seq, false, now, &first_push);
		hold_consume(c, n);
	}
	if (c->push_loaded == 0)
		timer_cancel(c, now, true); /* what it guarded completed */
	else if (first_push && !c->deadline)
		timer_start(c, now, NULL); /* R08 */
}

static uint64_t space_locked(const struct rxq_conn *c)
{
	if (c->state != RXQ_OPEN)
		return 0;
	return c->posted_free + hold_room(c);
}

uint64_t rxq_space(const struct rxq_conn *c)
{
	/* Posts on other threads change what this reads (R04): take the lock. */
	pthread_mutex_lock((pthread_mutex_t *)&c->lock);
	uint64_t s = space_locked(c);
	pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
	return s;
}

/* --- deferral: work a post leaves for the engine thread (R01) ---------------------------- */

static void defer(struct rxq_conn *c)
{
	struct rxq *q = c->q;
	pthread_mutex_lock(&q->defer_lock);
	if (!c->deferred) {
		c->deferred = true;
		c->defer_next = q->defer_head;
		q->defer_head = c;
	}
	pthread_mutex_unlock(&q->defer_lock);
}

static void undefer(struct rxq_conn *c)
{
	struct rxq *q = c->q;
	pthread_mutex_lock(&q->defer_lock);
	if (c->deferred) {
		struct rxq_conn **pp = &q->defer_head;
		while (*pp && *pp != c)
			pp = &(*pp)->defer_next;
		if (*pp)
			*pp = c->defer_next;
		c->deferred = false;
	}
	pthread_mutex_unlock(&q->defer_lock);
}

/* An indication found no descriptor: wait on q's starved list until buffers come back. */
static void starve(struct rxq_conn *c)
{
	struct rxq *q = c->q;
	pthread_mutex_lock(&q->defer_lock);
	if (!c->starved) {
		c->starved = true;
		c->starved_next = q->starved_head;
		q->starved_head = c;
	}
	pthread_mutex_unlock(&q->defer_lock);
}

/* Buffers came back: every starved connection gets another turn on the next engine run. */
static void wake_starved(struct rxq *q)
{
	pthread_mutex_lock(&q->defer_lock);
	struct rxq_conn *c = q->starved_head;
	q->starved_head = NULL;
	pthread_mutex_unlock(&q->defer_lock);
	while (c) {
		struct rxq_conn *nx = c->starved_next;
		c->starved = false;
		c->starved_next = NULL;
		defer(c);
		c = nx;
	}
}

void rxq_run_deferred(struct rxq *q)
{
	for (;;) {
		pthread_mutex_lock(&q->defer_lock);
		struct rxq_conn *c = q->defer_head;
		if (c) {
			q->defer_head = c->defer_next;
			c->deferred = false;
		}
		pthread_mutex_unlock(&q->defer_lock);
		if (!c)
			return;
		rxq_flush(c);
	}
}

/* --- posting (R01..R08) ------------------------------------------------------------------ */

static int validate_req(struct offrx_recv_req *r)
{
	struct rxq_req_priv *p = priv(r);
	if (p->state == REQ_QUEUED || p->state == REQ_DONE || p->state == REQ_VALIDATING)
		return -EBUSY;
	if (r->flags & ~OFFRX_REQ_NO_PUSH)
		return -EINVAL;
	if (r->nsegs > RXQ_MAX_SEGS || (r->nsegs && !r->segs))
		return -EINVAL;
	uint64_t chain = 0;
	for (uint32_t i = 0; i < r->nsegs; i++) {
		if (r->segs[i].len && !r->segs[i].base)
			return -EINVAL;
		chain += r->segs[i].len;
	}
	/* The buffer must lie inside the chain; a chain longer than the buffer is fine (the
	 * bytes past data_len are never written). */
	uint64_t end = (uint64_t)r->data_offset + r->data_len;
	if (end > chain || end > UINT32_MAX) /* data_offset must stay a valid 32-bit offset */
		return -EINVAL;
	if (r->bytes_transferred > r->data_len)
		return -EINVAL;
	return 0;
}

/* Check every request before queueing any: a bad post queues nothing, loses nothing. */
static int validate_list(struct offrx_recv_req *reqs)
{
	uint64_t marked = 0;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		if (validate_req(r)) {
			/* Walk back over exactly the requests marked, even if the list loops. */
			for (r = reqs; marked--; r = r->next)
				priv(r)->state = REQ_IDLE;
			return OFFRX_INVALID_PARAMETER;
		}
		priv(r)->state = REQ_VALIDATING; /* a request listed twice is caught here */
		marked++;
	}
	return 0;
}

static void req_enqueue_init(struct rxq_conn *c, struct offrx_recv_req *r, uint64_t now)
{
	struct rxq_req_priv *p = priv(r);
	memset(p, 0, sizeof(*p));
	p->conn = c;
	p->id = ++c->next_req_id;
	p->t_post = now;
	p->prefill = r->bytes_transferred;
	p->buf_len = r->data_len;
	p->cap = r->data_len - r->bytes_transferred;
	/* Point the cursor at the first free byte: data_offset + prefill into the chain. */
	uint64_t skip = (uint64_t)r->data_offset + p->prefill;
	uint32_t i = 0;
	while (i < r->nsegs && skip >= r->segs[i].len) {
		skip -= r->segs[i].len;
		i++;
	}
	p->seg_idx = i;
	p->seg_off = (uint32_t)skip;
	p->state = REQ_QUEUED;
}

static void emit_post(struct rxq_conn *c, struct offrx_recv_req *r, uint64_t now)
{
	if (!listening(c->q, OFFRX_E_POST))
		return;
	struct rxq_req_priv *p = priv(r);
	struct offrx_event ev = { .kind = OFFRX_E_POST, .ts_ns = now, .conn_id = c->id };
	ev.req_id = p->id;
	ev.buf_len = p->buf_len;
	ev.bytes = p->prefill;
	ev.count = c->depth;
	ev.flags = r->flags;
	emit_c(c, &ev, true);
}

int rxq_post(struct rxq_conn *c, struct offrx_recv_req *reqs)
{
	if (!c || !reqs)
		return OFFRX_INVALID_PARAMETER;
	int err = validate_list(reqs);
	if (err)
		return err;

	uint64_t now = rxq_now(c->q);
	pthread_mutex_lock(&c->lock);
	struct offrx_recv_req *r = reqs, *next;
	for (; r; r = next) {
		next = r->next;
		req_enqueue_init(c, r, now);
		c->st.posted++;
		if (c->state == RXQ_ENDING && !OFFRX_MUTANT(17)) {
			emit_post(c, r, now);
			/* Posted after the engine saw the FIN, RST or upload, before it told the
			 * application: outstanding at the indication, so it completes as the queue
			 * did (R25, R26), right after the event (never ahead of older requests). */
			req_finish_to(&c->late_head, &c->late_tail, r, c->end_status,
				      c->end_reason);
			continue;
		}
		if (c->state != RXQ_OPEN && !OFFRX_MUTANT(17)) {
			emit_post(c, r, now);
			/* R25: posted after the disconnect (or the upload) was indicated. */
			req_finish(c, r, OFFRX_INVALID_STATE, OFFRX_CR_INVALID_STATE);
			continue;
		}
		priv(r)->qnext = NULL;
		if (c->tail)
			priv(c->tail)->qnext = r;
		else
			c->head = r;
		c->tail = r;
		c->depth++;
		c->posted_free += priv(r)->cap;
		emit_post(c, r, now);
		mark_loaded(c, r);
		/* R07: push mode with bytes already in the buffer starts the timer at once. */
		if (priv(r)->loaded && !c->deadline && !OFFRX_MUTANT(6))
			timer_start(c, now, r);
	}
	if (c->state == RXQ_OPEN) {
		if (c->indicating) {
			c->posted_during_indicate = true; /* drained once the indication returns */
		} else {
			c->suppressed = false; /* R21 */
			drain_held(c, now);
		}
		complete_filled(c);
		if (c->push_loaded == 0)
			timer_cancel(c, now, true);
		resv_settle(c); /* room in requests now backs part of the promise */
	}
	fill_flush(c); /* held data drained here: a post is no receive batch */
	bool work = c->done_head || c->held_bytes;
	pthread_mutex_unlock(&c->lock);
	if (work && OFFRX_MUTANT(11) && c->in_upcall) {
		c->in_upcall = false; /* the gate forgotten: the flush nests */
		rxq_flush(c);
	} else if (work)
		defer(c); /* R01: handed up by the engine thread, never inside this call */
	return OFFRX_PENDING;
}

/* --- arrivals (R03, R05, R08..R12, R24) -------------------------------------------------- */

static void timer_expire(struct rxq_conn *c, uint64_t now)
{
	emit_timer(c, OFFRX_E_TIMER_EXPIRE, now, c->deadline, NULL, true);
	c->deadline = 0;
	c->q->timers_fired++;
	complete_pushed(c, OFFRX_CR_PUSH_TIMER);
	/* The timer stays stopped: the next byte placed (R08) or push post with prefill (R07)
	 * starts it again. */
}

/* After an arrival: R12 restart, R08 start, or stop when nothing needs the timer. */
static void timer_settle(struct rxq_conn *c, uint64_t now, bool was_running)
{
	if (c->push_loaded == 0)
		timer_cancel(c, now, true);
	else if (c->deadline && was_running) {
		if (!OFFRX_MUTANT(5))
			timer_restart(c, now);
	} else if (!c->deadline && !OFFRX_MUTANT(7))
		/* R08, and a push request that holds bytes but lost its timer to an expiry that
		 * could not complete it (a no-push request ahead of it): data is flowing again. */
		timer_start(c, now, NULL);
}

uint64_t rxq_deliver(struct rxq_conn *c, const uint8_t *data, uint64_t len, bool psh)
{
	uint64_t now = rxq_now(c->q);
	pthread_mutex_lock(&c->lock);
	if (c->state != RXQ_OPEN || (len && !data)) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	/* A timer that is already due fires before the new data is looked at: the bytes it
	 * covers were there first. */
	if (c->deadline && c->deadline <= now)
		timer_expire(c, now);

	bool was_running = c->deadline != 0, first_push = false;
	uint64_t stored = 0;
	uint32_t seq = c->rcv_nxt;
	/* FIFO (R03): bytes go to requests only when nothing older waits in engine buffers. */
	if (!c->held_bytes && !c->indicating && !OFFRX_MUTANT(19))
		stored = place(c, data, len, seq, psh, now, &first_push);
	if (stored < len)
		stored += hold_append(c, data + stored, len - stored);
	c->rcv_bytes += stored;
	c->rcv_nxt += (uint32_t)stored;
	c->st.bytes_received += stored;

	/* PSH belongs to the segment's last byte: it counts only if that byte was stored. */
	if (psh && len && stored == len && !OFFRX_MUTANT(2))
		complete_pushed(c, OFFRX_CR_PSH);
	if (stored)
		timer_settle(c, now, was_running);
	resv_settle(c);
	if (c->fill_on) {
		if (!c->q->batching) {
			fill_flush(c); /* a batch of its own */
		} else if (!c->fill_listed) {
			c->fill_listed = true; /* rxq_batch_end emits it */
			c->fill_next = c->q->fill_head;
			c->q->fill_head = c;
		}
	}
	bool work = c->done_head || c->held_bytes;
	pthread_mutex_unlock(&c->lock);
	if (work)
		rxq_flush(c);
	return stored;
}

void rxq_batch_begin(struct rxq *q)
{
	q->batching = true;
}

void rxq_batch_end(struct rxq *q)
{
	q->batching = false;
	while (q->fill_head) {
		struct rxq_conn *c = q->fill_head;
		q->fill_head = c->fill_next;
		c->fill_next = NULL;
		c->fill_listed = false;
		pthread_mutex_lock(&c->lock);
		fill_flush(c);
		pthread_mutex_unlock(&c->lock);
	}
}

/* Take c off the batch's list of pending fills (it is going away). */
static void fill_unlist(struct rxq_conn *c)
{
	if (!c->fill_listed)
		return;
	for (struct rxq_conn **pp = &c->q->fill_head; *pp; pp = &(*pp)->fill_next)
		if (*pp == c) {
			*pp = c->fill_next;
			break;
		}
	c->fill_listed = false;
	c->fill_next = NULL;
}

void rxq_advance(struct rxq *q)
{
	uint64_t now = rxq_now(q);
	struct tw_entry *e, *next;
	tw_collect(&q->tw, now, &e);
	for (; e; e = next) {
		next = e->next;
		struct rxq_conn *c = container_of(e, struct rxq_conn, timer);
		pthread_mutex_lock(&c->lock);
		e->in_wheel = false;
		e->next = e->prev = NULL;
		if (c->deadline &&
		    c->deadline > now + (OFFRX_MUTANT(3) ? c->q->cfg.push_timer_ns / 2 : 0)) {
			tw_insert(&q->tw, e, c->deadline); /* restarted since it was filed */
		} else if (c->deadline) {
			timer_expire(c, now);
			resv_settle(c); /* completed requests no longer back the promise */
			defer(c);
		}
		pthread_mutex_unlock(&c->lock);
	}
	/* Upcalls only after the whole list is walked: a callback may close a connection. */
	rxq_run_deferred(q);
}

uint64_t rxq_next_due(struct rxq *q, uint64_t limit)
{
	return tw_next_due(&q->tw, limit);
}

/* --- upcalls (R14, R18..R22) ------------------------------------------------------------- */

/* One completion call: filled or failed requests, and at most one partial, which ends it. */
static struct offrx_recv_req *take_batch(struct rxq_conn *c, uint32_t *n)
{
	struct offrx_recv_req *first = c->done_head, *last = first;
	*n = 1;
	for (;;) {
		struct rxq_req_priv *p = priv(last);
		bool partial = last->status == OFFRX_SUCCESS && p->placed < p->cap;
		if ((partial && !OFFRX_MUTANT(8)) || !last->next)
			break;
		last = last->next;
		(*n)++;
	}
	c->done_head = last->next;
	if (!c->done_head)
		c->done_tail = NULL;
	last->next = NULL;
	return first;
}

/* folded: the first request's last fill, taken from the sink's pending fill to ride on its
 * complete (event set 4), or NULL. */
static void hand_up_completions(struct rxq_conn *c, struct offrx_recv_req *batch, uint32_t n,
				const struct offrx_trace_fill *folded)
{
	struct rxq *q = c->q;
	/* The trace sink gets no complete_call (event set 3): the call's first complete carries
	 * its count. The observer gets complete_call, complete and complete_end as ever. */
	bool sink = offrx_trace_on(q->cfg.trace, OFFRX_E_COMPLETE);
	bool on = sink || observed(q, OFFRX_E_COMPLETE) || observed(q, OFFRX_E_COMPLETE_CALL);
	if (folded && !sink)
		q->cfg.trace->fill(folded); /* complete stopped being traced since: on its own */
	uint64_t now = on ? rxq_now(q) : 0;
	if (sink && call_state(c) != RXQ_CALL_NONE) { /* a call inside a call (never, R19) */
		pthread_mutex_lock(&c->lock);
		call_other(c);
		pthread_mutex_unlock(&c->lock);
	}
	if (observed(q, OFFRX_E_COMPLETE_CALL)) {
		struct offrx_event ev = { .kind = OFFRX_E_COMPLETE_CALL, .ts_ns = now };
		ev.conn_id = c->id;
		ev.count = n;
		q->cfg.observer(&ev, q->cfg.observer_ctx);
	}
	for (struct offrx_recv_req *r = batch; r; r = r->next) {
		struct rxq_req_priv *p = priv(r);
		if (on) {
			struct offrx_event ev = { .kind = OFFRX_E_COMPLETE, .ts_ns = now };
			ev.conn_id = c->id;
			ev.req_id = p->id;
			ev.bytes = r->bytes_transferred;
			ev.total = p->placed;
			ev.buf_len = p->buf_len;
			ev.status = r->status;
			ev.reason = p->reason;
			ev.t_post_ns = p->t_post;
			ev.t_last_fill_ns = p->t_last;
			if (observed(q, OFFRX_E_COMPLETE))
				q->cfg.observer(&ev, q->cfg.observer_ctx);
			if (sink)
				q->cfg.trace->complete(&ev, c->local_port, r == batch ? n : 0,
						       r == batch ? folded : NULL);
		}
		c->st.completed++;
		c->st.bytes_completed += r->bytes_placed;
		if (p->reason < OFFRX_COMPLETE_REASONS)
			c->st.completed_by[p->reason]++;
		p->state = REQ_IDLE; /* the application's again: it may post it from the callback */
	}
	if (sink)
		call_set(c, RXQ_CALL_OPEN);
	c->st.complete_calls++;
	q->cfg.ops->complete(c, batch);
	bool bracketed = sink && call_end(c);
	bool obs_end = observed(q, OFFRX_E_COMPLETE_END);
	bool sink_end = bracketed && offrx_trace_on(q->cfg.trace, OFFRX_E_COMPLETE_END);
	if (obs_end || sink_end) {
		/* It brackets the callback with the call's first complete: posts made inside
		 * show (R19). The sink gets it only when such a post was traced. */
		struct offrx_event ev = { .kind = OFFRX_E_COMPLETE_END, .ts_ns = rxq_now(q) };
		ev.conn_id = c->id;
		ev.count = n;
		if (obs_end)
			q->cfg.observer(&ev, q->cfg.observer_ctx);
		if (sink_end)
			q->cfg.trace->event(&ev);
	}
}

/* Lend the held data as descriptors, in order, linked through pub.next for the application
 * and through lent_next for the engine. For an indication, NULL if the descriptor pool is dry
 * (the data waits for a return); a hand-back uses each chunk's reserved descriptor and cannot
 * fail. */
static struct rxq_desc *lend_held(struct rxq_conn *c, uint32_t *n, bool handback)
{
	struct rxq_desc *first = NULL, *prev = NULL;
	*n = 0;
	for (struct rxq_chunk *h = c->held_head; h; h = h->next) {
		struct rxq_desc *d =
			handback ? pool_desc_get_reserved(&c->q->pool, h, h->off, h->len)
				 : pool_desc_get(&c->q->pool, h, h->off, h->len);
		if (!d) {
			while (first) {
				struct rxq_desc *nx = first->lent_next;
				pool_desc_put(&c->q->pool, first);
				first = nx;
			}
			*n = 0;
			return NULL;
		}
		d->conn = c;
		d->conn_id = c->id;
		d->lent_next = NULL;
		if (prev) {
			prev->pub.next = &d->pub;
			prev->lent_next = d;
		} else {
			first = d;
		}
		prev = d;
		(*n)++;
	}
	return first;
}

/* The lent descriptors become the application's (R22): it may return them from now on. */
static void give_to_app(struct rxq_conn *c, struct rxq_desc *d, uint32_t n)
{
	c->indicated_out += n;
	c->q->indicated_out += n;
	for (; d; d = d->lent_next)
		d->state = DESC_OUT;
}

static void take_back(struct rxq_conn *c, struct rxq_desc *d)
{
	while (d) {
		struct rxq_desc *nx = d->lent_next;
		pool_desc_put(&c->q->pool, d);
		d = nx;
	}
}

/* R20..R22: offer held data; keep what is not consumed, in order. Called locked, with the
 * upcall gate held; unlocks around the callback. */
static void indicate_held(struct rxq_conn *c)
{
	struct rxq *q = c->q;
	uint32_t n;
	struct rxq_desc *lent = lend_held(c, &n, false);
	if (!lent) {
		starve(c); /* woken by the next return */
		return;
	}
	/* On offer, not yet the application's: a return of one of them inside the callback is
	 * refused (INVALID_PARAMETER) instead of freeing what the engine still lends (R22). */
	for (struct rxq_desc *d = lent; d; d = d->lent_next)
		d->state = DESC_OFFERED;
	struct offrx_ind_buf *bufs = &lent->pub;
	uint64_t total = c->held_bytes, consumed = 0;
	uint64_t ind_id = bufs->id;
	if (listening(q, OFFRX_E_INDICATE_CALL)) {
		struct offrx_event ev = { .kind = OFFRX_E_INDICATE_CALL, .ts_ns = rxq_now(q) };
		ev.conn_id = c->id;
		ev.req_id = ind_id;
		ev.bytes = total;
		ev.count = n;
		emit_c(c, &ev, true);
	}
	c->indicating = true;
	c->posted_during_indicate = false;
	pthread_mutex_unlock(&c->lock);

	int res = q->cfg.ops->indicate(c, bufs, total, &consumed);

	pthread_mutex_lock(&c->lock);
	uint64_t now = rxq_now(q);
	switch (res) {
	case OFFRX_SUCCESS:
		consumed = total;
		break;
	case OFFRX_PARTIALLY_ACCEPTED:
		if (consumed <= total)
			break;
		/* more than offered is not an answer: keep everything */
		__attribute__((fallthrough));
	default:
		res = OFFRX_NOT_ACCEPTED;
		consumed = 0;
		break;
	}
	if (res == OFFRX_NOT_ACCEPTED && !OFFRX_MUTANT(13))
		take_back(c, lent); /* the engine keeps the buffers and the data */
	else
		give_to_app(c, lent, n); /* R22: the application's until returned */
	hold_consume(c, OFFRX_MUTANT(12) ? total : consumed);
	c->st.indications++;
	c->st.bytes_indicated += total;
	c->st.bytes_consumed += consumed;
	if (consumed < total && !c->posted_during_indicate && !OFFRX_MUTANT(14))
		c->suppressed = true; /* R21 */
	c->indicating = false;
	if (listening(q, OFFRX_E_INDICATE)) {
		struct offrx_event ev = { .kind = OFFRX_E_INDICATE,
					  .ts_ns = now,
					  .conn_id = c->id };
		ev.req_id = ind_id;
		ev.bytes = total;
		ev.total = consumed;
		ev.status = res;
		ev.count = n;
		emit_c(c, &ev, true);
	}
	if (c->head && c->state == RXQ_OPEN) {
		drain_held(c, now);
		complete_filled(c);
	}
	fill_flush(c); /* the drain's fills: an indication is no receive batch */
	resv_settle(c);
}

static void hand_up_event(struct rxq_conn *c)
{
	struct offrx_conn_event ev = c->ev;
	uint32_t n = 0;
	/* Whatever the engine still holds goes with the event, so nothing is lost (R25, R26). */
	ev.held_bytes = c->held_bytes;
	struct rxq_desc *lent = c->held_bytes ? lend_held(c, &n, true) : NULL;
	ev.held = lent ? &lent->pub : NULL;
	if (lent) {
		give_to_app(c, lent, n);
		hold_consume(c, c->held_bytes);
	}
	ev.indicated_out = c->indicated_out;
	c->ev_pending = false;
	if (c->state == RXQ_ENDING) {
		/* From here on the application knows: posts get INVALID_STATE (R25). Those made
		 * while the event was pending follow it, in posting order (R14). */
		c->state = c->end_state;
		if (c->late_head) {
			if (c->done_tail)
				c->done_tail->next = c->late_head;
			else
				c->done_head = c->late_head;
			c->done_tail = c->late_tail;
			c->late_head = c->late_tail = NULL;
		}
	}
	if (listening(c->q, OFFRX_E_HANDBACK)) {
		/* Every byte the trace saw stored is accounted for: filled, indicated or this. */
		struct offrx_event hb = { .kind = OFFRX_E_HANDBACK, .ts_ns = rxq_now(c->q) };
		hb.conn_id = c->id;
		hb.reason = ev.reason;
		hb.bytes = ev.held_bytes;
		emit_c(c, &hb, true);
	}
	pthread_mutex_unlock(&c->lock);
	c->q->cfg.ops->event(c, &ev);
	pthread_mutex_lock(&c->lock);
}

void rxq_flush(struct rxq_conn *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->in_upcall) {
		/* R19: an upcall of this connection is running (we are inside it, or another
		 * thread is); it loops until nothing is left. */
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->in_upcall = true;
	for (;;) {
		if (c->done_head) {
			uint32_t n;
			/* The fills that finished them come first. Set 4: the first request's own
			 * pending fill rides on its complete instead (docs/TRACEPOINTS.md). */
			struct offrx_trace_fill fold, *folded = NULL;
			if (c->fill_on && c->fill.req == priv(c->done_head)->id &&
			    offrx_trace_on(c->q->cfg.trace, OFFRX_E_COMPLETE)) {
				fold = c->fill;
				c->fill_on = false;
				folded = &fold;
			} else {
				fill_flush(c);
			}
			struct offrx_recv_req *batch = take_batch(c, &n);
			pthread_mutex_unlock(&c->lock);
			hand_up_completions(c, batch, n, folded);
			pthread_mutex_lock(&c->lock);
			continue;
		}
		if (c->ev_pending) {
			hand_up_event(c);
			continue;
		}
		if (c->state == RXQ_OPEN && c->held_bytes && !c->head && !c->suppressed &&
		    c->q->cfg.ops->can_indicate(c)) {
			uint64_t before = c->st.indications;
			indicate_held(c);
			if (c->st.indications != before)
				continue;
		}
		break;
	}
	c->in_upcall = false;
	pthread_mutex_unlock(&c->lock);
}

/* --- disconnect, upload, return (R22, R23, R25, R26) ------------------------------------- */

static void abort_queue(struct rxq_conn *c, int status, uint16_t reason)
{
	while (c->head)
		req_finish(c, queue_pop(c), status, reason);
}

static void set_event(struct rxq_conn *c, enum offrx_conn_event_type type,
		      enum offrx_close_reason reason, uint32_t wnd)
{
	memset(&c->ev, 0, sizeof(c->ev));
	c->ev.type = type;
	c->ev.reason = reason;
	c->ev.rcv_nxt = c->rcv_nxt;
	c->ev.rcv_wnd = wnd;
	c->ev.bytes_received = c->rcv_bytes;
	c->ev_pending = true;
}

/* The window last advertised to the peer (as the link promised it: capped, scaled, never
 * shrunk), for the upload and disconnect events (R26). */
static uint32_t adv_window(const struct rxq_conn *c)
{
	return c->promised && seq_gt(c->promise_edge, c->rcv_nxt) ? c->promise_edge - c->rcv_nxt
								  : 0;
}

static void emit_conn(struct rxq_conn *c, enum offrx_event_kind kind, uint32_t reason, uint64_t now)
{
	if (!listening(c->q, kind))
		return;
	struct offrx_event ev = { .kind = kind, .ts_ns = now, .conn_id = c->id };
	ev.reason = reason;
	ev.bytes = c->rcv_bytes;
	emit_c(c, &ev, true);
}

void rxq_snapshot(struct rxq_conn *c, struct rxq_snap *s, uint64_t *ids, uint32_t *lens,
		  uint32_t *fills, uint8_t *no_push, uint32_t max)
{
	pthread_mutex_lock(&c->lock);
	fill_flush(c); /* the snapshot shows the fills: they come before it */
	s->depth = c->depth;
	s->listed = 0;
	for (struct offrx_recv_req *r = c->head; r && s->listed < max; r = priv(r)->qnext) {
		ids[s->listed] = priv(r)->id;
		lens[s->listed] = priv(r)->buf_len;
		fills[s->listed] = req_bytes(r);
		no_push[s->listed] = (r->flags & OFFRX_REQ_NO_PUSH) != 0;
		s->listed++;
	}
	s->deadline = c->deadline;
	s->held = c->held_bytes;
	s->window = space_locked(c);
	s->bytes = c->rcv_bytes;
	s->indicated_out = c->indicated_out;
	s->rcv_nxt = c->rcv_nxt;
	pthread_mutex_unlock(&c->lock);
}

void rxq_note_conn(struct rxq_conn *c, enum offrx_event_kind kind, uint32_t reason)
{
	if (listening(c->q, kind))
		emit_conn(c, kind, reason, rxq_now(c->q));
}

int rxq_disconnect(struct rxq_conn *c, bool rst)
{
	uint64_t now = rxq_now(c->q);
	pthread_mutex_lock(&c->lock);
	if (c->state != RXQ_OPEN) {
		pthread_mutex_unlock(&c->lock);
		return OFFRX_INVALID_STATE; /* indicated once only (R25) */
	}
	c->state = RXQ_ENDING; /* RXQ_DISCONNECTED once the event is handed up */
	c->end_state = RXQ_DISCONNECTED;
	c->end_status = rst ? OFFRX_REQUEST_ABORTED : OFFRX_SUCCESS;
	c->end_reason = rst ? OFFRX_CR_ABORT : OFFRX_CR_DISCONNECT;
	timer_cancel(c, now, false);
	if (rst)
		abort_queue(c, OFFRX_REQUEST_ABORTED, OFFRX_CR_ABORT);
	else
		abort_queue(c, OFFRX_MUTANT(10) ? OFFRX_REQUEST_ABORTED : OFFRX_SUCCESS,
			    OFFRX_MUTANT(16) ? OFFRX_CR_ABORT : OFFRX_CR_DISCONNECT);
	resv_settle(c); /* the promise ends with the connection */
	set_event(c, OFFRX_EV_DISCONNECT, rst ? OFFRX_CLOSE_RST : OFFRX_CLOSE_FIN, adv_window(c));
	emit_conn(c, OFFRX_E_DISCONNECT, c->ev.reason, now);
	pthread_mutex_unlock(&c->lock);
	rxq_flush(c);
	return OFFRX_SUCCESS;
}

int rxq_upload(struct rxq_conn *c)
{
	uint64_t now = rxq_now(c->q);
	pthread_mutex_lock(&c->lock);
	if (c->state != RXQ_OPEN) {
		pthread_mutex_unlock(&c->lock);
		return OFFRX_INVALID_STATE;
	}
	c->state = RXQ_ENDING; /* RXQ_UPLOADED once UPLOAD_DONE is handed up */
	c->end_state = RXQ_UPLOADED;
	c->end_status = OFFRX_UPLOAD_IN_PROGRESS;
	c->end_reason = OFFRX_CR_UPLOAD;
	if (!OFFRX_MUTANT(18))
		timer_cancel(c, now, false);
	/* The queue completes before the lock drops: a post racing with the upload lands
	 * behind it, never ahead of older requests (R14). */
	abort_queue(c, OFFRX_UPLOAD_IN_PROGRESS, OFFRX_CR_UPLOAD);
	resv_settle(c);
	emit_conn(c, OFFRX_E_UPLOAD, OFFRX_CLOSE_UPLOAD, now);
	pthread_mutex_unlock(&c->lock);
	if (c->q->cfg.ops->flush_ack)
		c->q->cfg.ops->flush_ack(c); /* R26: pending delayed ACKs go out first */
	pthread_mutex_lock(&c->lock);
	/* The window handed back is the one the peer was last told, after that ACK (R26). */
	set_event(c, OFFRX_EV_UPLOAD_DONE, OFFRX_CLOSE_UPLOAD, adv_window(c));
	pthread_mutex_unlock(&c->lock);
	rxq_flush(c);
	return OFFRX_SUCCESS;
}

int rxq_return(struct rxq *q, struct offrx_ind_buf *bufs)
{
	enum { DESC_RETURNING = 0x52455455 };
	struct offrx_ind_buf *b;
	uint64_t marked = 0;
	/* Check the whole list first (and catch a buffer listed twice): all or nothing. */
	for (b = bufs; b; b = b->next) {
		struct rxq_desc *d = pool_desc_from_pub(&q->pool, b);
		if (!d) {
			for (b = bufs; marked--; b = b->next)
				((struct rxq_desc *)b)->state = DESC_OUT;
			return OFFRX_INVALID_PARAMETER;
		}
		d->state = DESC_RETURNING;
		marked++;
	}
	bool on = listening(q, OFFRX_E_RETURN);
	uint64_t now = on ? rxq_now(q) : 0;
	for (b = bufs; b;) {
		struct offrx_ind_buf *nx = b->next;
		struct rxq_desc *d = (struct rxq_desc *)b;
		struct rxq_conn *c = d->conn;
		if (on) {
			struct offrx_event ev = { .kind = OFFRX_E_RETURN, .ts_ns = now };
			ev.conn_id = d->conn_id;
			ev.req_id = b->id;
			ev.total = b->len;
			if (c && offrx_trace_on(q->cfg.trace, OFFRX_E_RETURN) &&
			    call_state(c) != RXQ_CALL_NONE) {
				pthread_mutex_lock(&c->lock);
				call_other(c); /* a post held, or the call's end, before it */
				pthread_mutex_unlock(&c->lock);
			}
			emit(q, &ev);
		}
		if (c)
			c->indicated_out--;
		q->indicated_out--;
		pool_desc_put(&q->pool, d);
		b = nx;
	}
	wake_starved(q);
	return OFFRX_SUCCESS;
}

/* --- lifetime ---------------------------------------------------------------------------- */

static uint64_t mono_zero(void *ctx)
{
	(void)ctx;
	return 0;
}

int rxq_init(struct rxq *q, const struct rxq_cfg *cfg)
{
	memset(q, 0, sizeof(*q));
	q->cfg = *cfg;
	if (!q->cfg.observer_mask)
		q->cfg.observer_mask = ~0u;
	if (!q->cfg.clock)
		q->cfg.clock = mono_zero;
	int err = tw_init(&q->tw, cfg->timer_tick_ns, cfg->timer_slots);
	if (err)
		return err;
	err = pool_init(&q->pool, cfg->pool_bytes, cfg->chunk_size);
	if (err) {
		tw_fini(&q->tw);
		return err;
	}
	pthread_mutex_init(&q->defer_lock, NULL);
	return 0;
}

void rxq_fini(struct rxq *q)
{
	pool_fini(&q->pool);
	tw_fini(&q->tw);
	pthread_mutex_destroy(&q->defer_lock);
}

void rxq_conn_init(struct rxq *q, struct rxq_conn *c, uint64_t id, uint32_t irs)
{
	memset(c, 0, sizeof(*c));
	c->q = q;
	c->id = id;
	c->rcv_nxt = irs + 1;
	pthread_mutex_init(&c->lock, NULL);
}

void rxq_conn_fini(struct rxq_conn *c)
{
	/* Still open: reset it, so its requests complete and the data it stored (and so
	 * acknowledged) reaches the application with the event, never dropped (R24, R25). */
	if (c->state == RXQ_OPEN)
		rxq_disconnect(c, true);
	uint64_t now = rxq_now(c->q);
	fill_unlist(c);
	pthread_mutex_lock(&c->lock);
	fill_flush(c);
	timer_cancel(c, now, false); /* with its event, like a disconnect's */
	if (c->timer.in_wheel)
		tw_remove(&c->q->tw, &c->timer);
	abort_queue(c, OFFRX_REQUEST_ABORTED, OFFRX_CR_ABORT);
	pthread_mutex_unlock(&c->lock);
	rxq_flush(c); /* what is left, the event of a disconnect a callback made included */

	pthread_mutex_lock(&c->lock);
	if (c->state == RXQ_ENDING) /* cannot happen outside an upcall of the connection */
		c->state = c->end_state;
	resv_settle(c);
	hold_consume(c, c->held_bytes);
	/* Buffers still lent keep their chunk; they no longer count against this connection. */
	if (c->indicated_out) {
		struct rxq_pool *p = &c->q->pool;
		for (uint32_t i = 0; i < p->ndescs; i++)
			if (p->descs[i].state == DESC_OUT && p->descs[i].conn == c)
				p->descs[i].conn = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	undefer(c);
	pthread_mutex_lock(&c->q->defer_lock);
	for (struct rxq_conn **pp = &c->q->starved_head; *pp; pp = &(*pp)->starved_next)
		if (*pp == c) {
			*pp = c->starved_next;
			break;
		}
	pthread_mutex_unlock(&c->q->defer_lock);
	pthread_mutex_destroy(&c->lock);
}
