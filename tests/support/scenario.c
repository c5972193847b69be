/* Scenario harness for the core tests (see scenario.h). */
#include "scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Requests the harness allocated, to free at the end. */
struct sc_alloc {
	struct sc_alloc *next;
	struct offrx_recv_req req;
	struct offrx_seg segs[];
};
static struct sc_alloc *allocs;

static void sc_fail(struct sc *s, const char *fmt, ...)
{
	if (s->errors++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->first_error, sizeof(s->first_error), fmt, ap);
		va_end(ap);
	}
}

/* Check n bytes handed to the application against the stream at its offset. */
static void take_bytes(struct sc_conn *c, const uint8_t *p, uint64_t n, const char *what)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t want = sc_pattern(c->id, c->app_off + i);
		if (p[i] != want) {
			sc_fail(c->s, "conn %llu: %s byte at stream offset %llu is %02x, want %02x",
				(unsigned long long)c->id, what,
				(unsigned long long)(c->app_off + i), p[i], want);
			break;
		}
	}
	c->app_off += n;
}

/* Gather a completed request's placed bytes (they follow the prefill in the chain). */
static void take_request(struct sc_conn *c, struct offrx_recv_req *r)
{
	/* After completion data_offset was advanced by bytes_placed (R15): the placed bytes
	 * sit at [data_offset - placed + prefill, data_offset + prefill) in the chain. */
	uint32_t prefill = r->bytes_transferred - r->bytes_placed;
	uint64_t start = (uint64_t)r->data_offset - r->bytes_placed + prefill;
	uint64_t pos = 0, left = r->bytes_placed;
	uint8_t *tmp = malloc(left ? left : 1);
	uint64_t got = 0;
	for (uint32_t i = 0; i < r->nsegs && got < left; i++) {
		uint64_t a = pos, b = pos + r->segs[i].len;
		pos = b;
		if (b <= start)
			continue;
		uint64_t from = start > a ? start - a : 0;
		uint64_t k = r->segs[i].len - from;
		if (k > left - got)
			k = left - got;
		if (k)
			memcpy(tmp + got, (uint8_t *)r->segs[i].base + from, k);
		got += k;
	}
	if (got != left)
		sc_fail(c->s, "request %llu: chain holds %llu of %llu placed bytes",
			(unsigned long long)offrx_req_id(r), (unsigned long long)got,
			(unsigned long long)left);
	take_bytes(c, tmp, got, "completed");
	free(tmp);
}

static void enter(struct sc *s)
{
	if (s->in_upcall)
		s->nested++;
	if (s->posting)
		s->upcalls_during_post++;
	s->in_upcall = true;
}

static void cb_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct sc_conn *c = ctx;
	struct sc *s = c->s;
	enter(s);
	s->calls++;
	uint32_t n = 0;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		n++;
		if (s->ndone < SC_MAX_LOG) {
			struct sc_done *d = &s->done[s->ndone++];
			d->req = r;
			d->conn_id = c->id;
			d->req_id = offrx_req_id(r);
			d->cookie = r->cookie;
			d->status = r->status;
			d->bytes = r->bytes_transferred;
			d->placed = r->bytes_placed;
			d->call = s->calls;
			d->t_ns = offrx_mem_now(s->eng);
			/* The observer saw this request's complete event just before the call. */
			for (uint32_t i = s->nevents; i-- > 0;) {
				const struct offrx_event *ev = &s->events[i];
				if (ev->kind == OFFRX_E_COMPLETE && ev->conn_id == c->id &&
				    ev->req_id == d->req_id) {
					d->reason = ev->reason;
					break;
				}
			}
		}
		take_request(c, r);
	}
	if (n > s->max_batch)
		s->max_batch = n;
	if (c->on_complete)
		c->on_complete(c, reqs);
	(void)conn;
	s->in_upcall = false;
}

static void keep_bufs(struct sc_conn *c, struct offrx_ind_buf *bufs)
{
	while (bufs) {
		struct offrx_ind_buf *nx = bufs->next;
		bufs->next = c->held_bufs;
		c->held_bufs = bufs;
		c->held_nbufs++;
		bufs = nx;
	}
}

static int cb_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct sc_conn *c = ctx;
	struct sc *s = c->s;
	enter(s);
	c->indications++;
	if (c->on_indicate)
		c->on_indicate(c, bufs);
	uint64_t sum = 0;
	for (struct offrx_ind_buf *b = bufs; b; b = b->next)
		sum += b->len;
	if (sum != total)
		sc_fail(s, "indication offers %llu bytes in buffers but says %llu",
			(unsigned long long)sum, (unsigned long long)total);
	uint64_t take = 0;
	int res = OFFRX_NOT_ACCEPTED;
	switch (c->ind_mode) {
	case SC_IND_ACCEPT:
		take = total;
		res = OFFRX_SUCCESS;
		break;
	case SC_IND_PARTIAL:
		take = c->ind_take < total ? c->ind_take : total;
		res = take == total ? OFFRX_SUCCESS : OFFRX_PARTIALLY_ACCEPTED;
		break;
	case SC_IND_BOGUS:
		*consumed = total + 1;
		s->in_upcall = false;
		return 12345;
	default:
		break;
	}
	/* Consume take bytes from the front of the buffers, checking them. */
	uint64_t left = take;
	for (struct offrx_ind_buf *b = bufs; b && left; b = b->next) {
		uint64_t k = b->len < left ? b->len : left;
		take_bytes(c, b->data, k, "indicated");
		left -= k;
	}
	*consumed = take;
	if (res != OFFRX_NOT_ACCEPTED)
		keep_bufs(c, bufs); /* R22: ours until we return them */
	(void)conn;
	s->in_upcall = false;
	return res;
}

static void cb_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	struct sc_conn *c = ctx;
	if (!c)
		return;
	struct sc *s = c->s;
	enter(s);
	if (ev->type >= 1 && ev->type <= 3)
		c->events[ev->type]++;
	c->last_ev = *ev;
	/* Held data handed back with a disconnect or upload continues the stream. */
	uint64_t sum = 0;
	for (struct offrx_ind_buf *b = ev->held; b; b = b->next) {
		take_bytes(c, b->data, b->len, "handed back");
		sum += b->len;
	}
	if (sum != ev->held_bytes)
		sc_fail(s, "event hands back %llu bytes but says %llu", (unsigned long long)sum,
			(unsigned long long)ev->held_bytes);
	keep_bufs(c, ev->held);
	if (c->on_event)
		c->on_event(c, ev);
	(void)conn;
	s->in_upcall = false;
}

static void cb_new(struct offrx_conn *conn, void *user)
{
	(void)conn;
	(void)user;
}

static void observer(const struct offrx_event *ev, void *ctx)
{
	struct sc *s = ctx;
	if (s->nevents == s->cap_events) {
		s->cap_events = s->cap_events ? s->cap_events * 2 : 1024;
		s->events = realloc(s->events, s->cap_events * sizeof(*s->events));
	}
	s->events[s->nevents++] = *ev;
}

static const struct offrx_callbacks sc_callbacks = {
	.conn_new = cb_new,
	.recv_complete = cb_complete,
	.recv_indicate = cb_indicate,
	.conn_event = cb_event,
};

struct sc *sc_new(const struct offrx_engine_opts *opts)
{
	struct sc *s = calloc(1, sizeof(*s));
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	if (opts)
		o = *opts;
	o.sz = sizeof(o);
	o.cb = &sc_callbacks;
	o.observer = observer;
	o.observer_ctx = s;
	assert_int_equal(offrx_mem_engine_create(&o, &s->eng), OFFRX_SUCCESS);
	return s;
}

struct sc_conn *sc_open(struct sc *s)
{
	assert_true(s->nconns < SC_MAX_CONNS);
	struct sc_conn *c = &s->conns[s->nconns++];
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->ind_mode = SC_IND_ACCEPT;
	assert_int_equal(offrx_mem_conn_open(s->eng, 1000, &c->conn), OFFRX_SUCCESS);
	offrx_conn_set_context(c->conn, c);
	c->id = offrx_conn_id(c->conn);
	return c;
}

int sc_return_all(struct sc_conn *c)
{
	if (!c->held_bufs)
		return OFFRX_SUCCESS;
	int rc = offrx_return_indicated(c->s->eng, c->held_bufs);
	if (rc == OFFRX_SUCCESS) {
		c->held_bufs = NULL;
		c->held_nbufs = 0;
	}
	return rc;
}

void sc_free(struct sc *s)
{
	for (uint32_t i = 0; i < s->nconns; i++)
		sc_return_all(&s->conns[i]);
	uint32_t out = 0;
	/* Destroy resets open connections first; what they held comes back, to be returned. */
	if (offrx_engine_destroy(s->eng, &out) == OFFRX_INVALID_STATE) {
		for (uint32_t i = 0; i < s->nconns; i++)
			sc_return_all(&s->conns[i]);
		assert_int_equal(offrx_engine_destroy(s->eng, &out), OFFRX_SUCCESS);
	}
	while (allocs) {
		struct sc_alloc *a = allocs;
		allocs = a->next;
		for (uint32_t i = 0; i < a->req.nsegs; i++)
			free(a->segs[i].base);
		free(a);
	}
	free(s->events);
	free(s);
}

struct offrx_recv_req *sc_req_segs(const uint32_t *seg_lens, uint32_t nsegs, uint32_t flags)
{
	struct sc_alloc *a = calloc(1, sizeof(*a) + nsegs * sizeof(struct offrx_seg));
	for (uint32_t i = 0; i < nsegs; i++) {
		a->segs[i].base = seg_lens[i] ? malloc(seg_lens[i]) : NULL;
		a->segs[i].len = seg_lens[i];
		if (seg_lens[i])
			memset(a->segs[i].base, 0xEE, seg_lens[i]);
	}
	assert_int_equal(offrx_req_init(&a->req, a->segs, nsegs, 0), OFFRX_SUCCESS);
	a->req.flags = flags;
	a->next = allocs;
	allocs = a;
	return &a->req;
}

struct offrx_recv_req *sc_req(uint32_t len, uint32_t flags, uint32_t prefill)
{
	struct offrx_recv_req *r = sc_req_segs(&len, 1, flags);
	r->bytes_transferred = prefill;
	return r;
}

int sc_post(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	c->s->posting = true;
	int rc = offrx_post_recv(c->conn, reqs);
	c->s->posting = false;
	return rc;
}

static struct offrx_recv_req *post_one(struct sc_conn *c, uint32_t len, uint32_t flags,
				       uint32_t prefill)
{
	struct offrx_recv_req *r = sc_req(len, flags, prefill);
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	return r;
}

struct offrx_recv_req *post_push(struct sc_conn *c, uint32_t len)
{
	return post_one(c, len, 0, 0);
}

struct offrx_recv_req *post_nopush(struct sc_conn *c, uint32_t len)
{
	return post_one(c, len, OFFRX_REQ_NO_PUSH, 0);
}

struct offrx_recv_req *post_prefilled(struct sc_conn *c, uint32_t len, uint32_t prefill)
{
	return post_one(c, len, 0, prefill);
}

uint64_t make_segment(struct sc_conn *c, int64_t seq_offset, uint64_t len, uint32_t flags)
{
	uint8_t *buf = malloc(len ? len : 1);
	uint64_t start = c->stored + (uint64_t)seq_offset;
	for (uint64_t i = 0; i < len; i++)
		buf[i] = sc_pattern(c->id, start + i);
	uint64_t n = offrx_mem_deliver(c->conn, buf, len, flags);
	free(buf);
	c->sent += len;
	if (seq_offset == 0)
		c->stored += n;
	return n;
}

uint64_t deliver(struct sc_conn *c, uint64_t len, uint32_t flags)
{
	return make_segment(c, 0, len, flags);
}

void advance_ns(struct sc *s, uint64_t ns)
{
	offrx_mem_advance(s->eng, ns);
}

void advance_ms(struct sc *s, uint64_t ms)
{
	advance_ns(s, ms * MS);
}

uint32_t sc_count_events(const struct sc *s, enum offrx_event_kind kind, uint64_t conn_id)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nevents; i++)
		if (s->events[i].kind == kind && (!conn_id || s->events[i].conn_id == conn_id))
			n++;
	return n;
}

struct offrx_conn_stats conn_stats(const struct sc_conn *c)
{
	struct offrx_conn_stats st;
	assert_int_equal(offrx_conn_stats(c->conn, &st), OFFRX_SUCCESS);
	return st;
}

struct offrx_mem_link_stats link_stats(const struct sc_conn *c)
{
	struct offrx_mem_link_stats ls;
	assert_int_equal(offrx_mem_link_stats(c->conn, &ls), OFFRX_SUCCESS);
	return ls;
}

uint32_t engine_indicated_out(const struct sc *s)
{
	struct offrx_engine_stats es;
	assert_int_equal(offrx_engine_stats(s->eng, &es), OFFRX_SUCCESS);
	return es.indicated_out;
}

const struct offrx_event *sc_last_event(const struct sc *s, enum offrx_event_kind kind)
{
	for (uint32_t i = s->nevents; i-- > 0;)
		if (s->events[i].kind == kind)
			return &s->events[i];
	return NULL;
}

const struct sc_done *sc_done_of(const struct sc *s, const struct offrx_recv_req *r)
{
	for (uint32_t i = s->ndone; i-- > 0;)
		if (s->done[i].req == r)
			return &s->done[i];
	return NULL;
}

uint32_t sc_times_completed(const struct sc *s, const struct offrx_recv_req *r)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->ndone; i++)
		if (s->done[i].req == r)
			n++;
	return n;
}

void sc_check(const struct sc *s)
{
	if (s->errors)
		fail_msg("%u error(s) in callbacks; first: %s", s->errors, s->first_error);
	assert_int_equal(s->nested, 0);
	assert_int_equal(s->upcalls_during_post, 0);
}

void sc_check_stream(const struct sc_conn *c)
{
	sc_check(c->s);
	assert_int_equal(c->app_off, c->stored);
}
