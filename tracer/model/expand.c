/* Event set 3's derived events (trace_event.h, otr_expand; docs/TRACEPOINTS.md "Event set 3").
 * Per connection it keeps what the derivations need: the queued requests (bytes, length,
 * mode, whether a PSH already finished them), the push timer, and the completion call that
 * runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace_event.h"

enum { CALL_NONE, CALL_OPEN, CALL_BRACKETED };

struct xreq {
	uint64_t id;
	uint32_t len, bytes;
	bool no_push, fin; /* fin: a PSH finished it; its complete is still to come */
};

struct xconn {
	uint64_t vpid, conn;
	struct xconn *next;
	uint8_t set; /* the event set its conn_open or conn_state named; 0 not seen */
	bool synced; /* the queue below is whole: conn_open or a conn_state listing all */
	bool timer;  /* the push timer runs */
	uint64_t deadline, guard;
	uint8_t call; /* CALL_*: a set-3 completion call its complete events opened */
	uint32_t call_count, call_seen;
	struct xreq *q;
	uint32_t head, n, cap; /* q[head .. head + n) */
};

#define XBUCKETS_MIN 1024u /* a power of two; the table doubles past one connection a bucket */

struct otr_expand {
	struct xconn **b;
	size_t nb, n; /* buckets (0 until the first connection), connections */
};

struct otr_expand *otr_expand_new(void)
{
	return calloc(1, sizeof(struct otr_expand));
}

void otr_expand_reset(struct otr_expand *x)
{
	for (size_t i = 0; i < x->nb; i++) {
		while (x->b[i]) {
			struct xconn *c = x->b[i];
			x->b[i] = c->next;
			free(c->q);
			free(c);
		}
	}
	x->n = 0;
}

void otr_expand_free(struct otr_expand *x)
{
	if (!x)
		return;
	otr_expand_reset(x);
	free(x->b);
	free(x);
}

static size_t bucket_of(size_t nb, uint64_t vpid, uint64_t conn)
{
	uint64_t h = (vpid * 0x9E3779B97F4A7C15ull) ^ (conn * 0xC2B2AE3D27D4EB4Full);
	return (size_t)(h ^ (h >> 29)) & (nb - 1);
}

/* Where (vpid, conn) is or would be linked; NULL only when the table cannot be made. */
static struct xconn **slot(struct otr_expand *x, uint64_t vpid, uint64_t conn)
{
	if (!x->nb) {
		if (!(x->b = calloc(XBUCKETS_MIN, sizeof(*x->b))))
			return NULL;
		x->nb = XBUCKETS_MIN;
	}
	struct xconn **pp = &x->b[bucket_of(x->nb, vpid, conn)];
	while (*pp && ((*pp)->vpid != vpid || (*pp)->conn != conn))
		pp = &(*pp)->next;
	return pp;
}

/* One connection a bucket at most, so a lookup stays short at any count (10,000
 * connections walked chains of ten when the table was fixed). Failing to grow only slows. */
static void grow(struct otr_expand *x)
{
	if (x->n <= x->nb)
		return;
	size_t nb = x->nb * 2;
	struct xconn **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < x->nb; i++) {
		while (x->b[i]) {
			struct xconn *c = x->b[i];
			x->b[i] = c->next;
			size_t k = bucket_of(nb, c->vpid, c->conn);
			c->next = b[k];
			b[k] = c;
		}
	}
	free(x->b);
	x->b = b;
	x->nb = nb;
}

static struct xreq *q_at(struct xconn *c, uint32_t i)
{
	return &c->q[c->head + i];
}

static struct xreq *q_find(struct xconn *c, uint64_t id)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (q_at(c, i)->id == id)
			return q_at(c, i);
	return NULL;
}

static int q_push(struct xconn *c, const struct xreq *r)
{
	if (c->head + c->n == c->cap) {
		if (c->head) {
			memmove(c->q, c->q + c->head, c->n * sizeof(*c->q));
			c->head = 0;
		} else {
			uint32_t cap = c->cap ? c->cap * 2 : 16;
			struct xreq *q = realloc(c->q, cap * sizeof(*q));
			if (!q)
				return -ENOMEM;
			c->q = q;
			c->cap = cap;
		}
	}
	c->q[c->head + c->n++] = *r;
	return 0;
}

static void q_remove(struct xconn *c, uint64_t id)
{
	for (uint32_t i = 0; i < c->n; i++) {
		if (q_at(c, i)->id != id)
			continue;
		if (i == 0) {
			c->head++;
		} else {
			memmove(q_at(c, i), q_at(c, i + 1), (c->n - i - 1) * sizeof(*c->q));
		}
		if (--c->n == 0)
			c->head = 0;
		return;
	}
}

/* What keeps the engine's push timer running (its push_loaded): a push-mode request that
 * holds bytes, is not full and was not finished by a PSH. */
static bool loaded(struct xconn *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		const struct xreq *r = q_at(c, i);
		if (!r->no_push && !r->fin && r->bytes > 0 && r->bytes < r->len)
			return true;
	}
	return false;
}

/* R10 on a PSH, as the engine runs it: the leading requests that are full or push-mode
 * holding bytes are finished; a no-push or an empty one stops the run. */
static void psh_finish(struct xconn *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		struct xreq *r = q_at(c, i);
		if (r->fin)
			continue;
		if (r->bytes >= r->len || (!r->no_push && r->bytes > 0))
			r->fin = true;
		else
			break;
	}
}

static struct otr_event *derive(struct otr_event *d, enum otr_kind kind, const struct otr_event *at,
				uint64_t req)
{
	otr_event_at(d, kind, at, req);
	d->derived = 1;
	return d;
}

static void reset_conn(struct xconn *c)
{
	c->timer = false;
	c->deadline = c->guard = 0;
	c->call = CALL_NONE;
	c->call_count = c->call_seen = 0;
	c->head = c->n = 0;
}

/* One event of connection c (pp: where c is linked): its derived events, *before of them
 * before it. */
static size_t expand_conn(struct otr_expand *x, struct xconn *c, struct xconn **pp,
			  const struct otr_event *ev, struct otr_event *der, size_t *before)
{
	size_t n = 0;
	/* A call that its complete events opened ended before this event, unless this is its
	 * complete_end or a post made inside it (which brackets it: its complete_end follows). */
	bool end_after = false;
	if (c->call == CALL_OPEN && c->call_seen >= c->call_count) {
		if (ev->kind == OTR_POST && ev->u.post.in_call == 2) {
			end_after = true; /* the call's last event: it ended right after it */
			c->call = CALL_NONE;
		} else if (ev->kind == OTR_POST && ev->u.post.in_call) {
			c->call = CALL_BRACKETED;
		} else if (ev->kind != OTR_COMPLETE_END) {
			derive(&der[n++], OTR_COMPLETE_END, ev, 0)->u.call.count = c->call_count;
			c->call = CALL_NONE;
		}
	}
	/* The stop: the timer runs and nothing keeps it, before any event but a fill (the
	 * fills of one arrival come together; the engine stops the timer after them) or before
	 * a fill that starts it again. */
	if (c->set >= 3 && c->synced && c->timer && (ev->kind != OTR_FILL || ev->u.fill.start) &&
	    ev->kind != OTR_TIMER_CANCEL && !loaded(c)) {
		struct otr_event *d = derive(&der[n++], OTR_TIMER_CANCEL, ev, c->guard);
		const struct xreq *g = q_find(c, c->guard);
		d->u.timer.deadline_ns = c->deadline;
		d->u.timer.bytes = g ? g->bytes : 0;
		c->timer = false;
	}

	struct xreq r;
	uint32_t listed;
	switch (ev->kind) {
	case OTR_CONN_OPEN:
		reset_conn(c);
		c->set = ev->u.open.event_set ? ev->u.open.event_set : 1;
		c->synced = true;
		break;
	case OTR_CONN_STATE:
		reset_conn(c);
		c->set = ev->u.state.event_set ? ev->u.state.event_set : 1;
		/* listed as the trace says, at most what the event holds (a damaged or hostile
		 * trace may say more: the model clamps it the same way) */
		listed = ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
		c->synced = ev->u.state.depth <= listed;
		for (uint32_t i = 0; i < listed && c->synced; i++) {
			const struct otr_state_req *s = &ev->u.state.reqs[i];
			r = (struct xreq){ .id = s->id, .len = s->len, .bytes = s->fill };
			r.no_push = s->no_push;
			if (q_push(c, &r))
				c->synced = false;
		}
		c->timer = ev->u.state.deadline_ns != 0;
		c->deadline = ev->u.state.deadline_ns;
		c->guard = c->n ? q_at(c, 0)->id : 0;
		break;
	case OTR_CONN_CLOSE:
		*pp = c->next;
		x->n--;
		free(c->q);
		free(c);
		break;
	case OTR_POST:
		r = (struct xreq){ .id = ev->req, .len = ev->u.post.buf_len };
		r.bytes = ev->u.post.prefill;
		r.no_push = ev->u.post.no_push;
		if (q_push(c, &r))
			c->synced = false;
		break;
	case OTR_FILL: {
		struct xreq *f = q_find(c, ev->req);
		if (f)
			f->bytes = ev->u.fill.total;
		if (ev->u.fill.psh)
			psh_finish(c);
		if (ev->u.fill.deadline_ns) {
			c->timer = true;
			c->deadline = ev->u.fill.deadline_ns;
			c->guard = ev->req;
		}
		if (ev->u.fill.start) {
			struct otr_event *d = derive(&der[n++], OTR_TIMER_START, ev, ev->req);
			d->u.timer.deadline_ns = ev->u.fill.deadline_ns;
			d->u.timer.bytes = ev->u.fill.total;
		}
		break;
	}
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
		c->timer = true;
		c->deadline = ev->u.timer.deadline_ns;
		c->guard = ev->req;
		break;
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE:
		c->timer = false;
		break;
	case OTR_COMPLETE:
		if (ev->u.complete.call) {
			derive(&der[n++], OTR_COMPLETE_CALL, ev, 0)->u.call.count =
				ev->u.complete.call;
			c->call = CALL_OPEN;
			c->call_count = ev->u.complete.call;
			c->call_seen = 0;
		}
		c->call_seen++;
		q_remove(c, ev->req);
		break;
	case OTR_COMPLETE_END:
		c->call = CALL_NONE;
		break;
	default:
		break;
	}
	/* The derived events of the event itself (a start) come after it. */
	*before = ev->kind == OTR_FILL && ev->u.fill.start ? n - 1 : n;
	if (ev->kind == OTR_COMPLETE && ev->u.complete.call)
		*before = n; /* complete_call before its first complete */
	if (end_after)
		derive(&der[n++], OTR_COMPLETE_END, ev, 0)->u.call.count = c->call_count;
	return n;
}

/* The fill a set-4 complete carries, as its own (derived) event. */
static void folded_fill(const struct otr_event *ev, struct otr_event *f)
{
	derive(f, OTR_FILL, ev, ev->req);
	f->u.fill.bytes = ev->u.complete.fill.bytes;
	f->u.fill.total = ev->u.complete.fill.total;
	f->u.fill.buf_len = ev->u.complete.fill.buf_len;
	f->u.fill.seq = ev->u.complete.fill.seq;
	f->u.fill.psh = ev->u.complete.fill.psh;
	f->u.fill.segs = ev->u.complete.fill.segs;
	f->u.fill.deadline_ns = ev->u.complete.fill.deadline_ns;
	f->u.fill.start = ev->u.complete.fill.start;
}

size_t otr_expand(struct otr_expand *x, const struct otr_event *ev, struct otr_event *der,
		  size_t *before)
{
	*before = 0;
	if (ev->derived)
		return 0;
	if (ev->kind == OTR_DISCARDED || ev->kind == OTR_SOURCE) {
		/* Events may be missing: no stop is derived until a snapshot makes a queue whole
		 * again. */
		for (size_t i = 0; i < x->nb; i++)
			for (struct xconn *c = x->b[i]; c; c = c->next)
				c->synced = false;
		return 0;
	}
	if (!ev->conn || ev->kind == OTR_DROP || ev->kind == OTR_XSK_STATS ||
	    ev->kind == OTR_SEGMENT_PAYLOAD)
		return 0;
	struct xconn **pp = slot(x, ev->vpid, ev->conn), *c = pp ? *pp : NULL;
	if (!c) {
		if (!pp || ev->kind == OTR_CONN_CLOSE || !(c = calloc(1, sizeof(*c))))
			return 0;
		c->vpid = ev->vpid;
		c->conn = ev->conn;
		*pp = c;
		x->n++;
		grow(x);
		pp = slot(x, ev->vpid, ev->conn); /* the table may have moved */
	}

	size_t n = 0;
	if (ev->kind == OTR_COMPLETE && ev->u.complete.fill.segs) {
		/* Set 4: the fill that completed the request, as the trace had it before: a fill
		 * event right before its complete, with the complete's time (a fill's time is
		 * when the engine sent it). Its own derived events go around it. */
		struct otr_event f;
		size_t b;
		folded_fill(ev, &f);
		n = expand_conn(x, c, pp, &f, der, &b);
		memmove(&der[b + 1], &der[b], (n - b) * sizeof(*der));
		der[b] = f;
		n++;
	}
	size_t b;
	size_t k = expand_conn(x, c, pp, ev, der + n, &b);
	*before = n + b;
	return n + k;
}
