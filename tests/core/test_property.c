/* Randomized property test of the receive core: random posts (chains, prefill, no-push,
 * zero-length), arrivals with and without PSH, timer advances, indicate answers, returns,
 * FIN, RST and uploads on several connections. After every step it checks that
 *   - every request completes exactly once (R17), and only through a callback (R01);
 *   - completions come in posting order per connection (R03, R14);
 *   - the bytes the application got equal the bytes stored, in order (R24, R25, R26);
 *   - a completion's reason fits its state: no request is both filled and timed out;
 *   - a push-timer completion comes no earlier than the timer allows (R10, R12);
 *   - no upcall nests inside another (R18, R19).
 * Seeds are fixed so a failure replays; OFFRX_PROPERTY_SEED and _STEPS override them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scenario.h"

#define NCONN	    4
#define NREQ	    64 /* requests per connection slot */
#define MAX_SEGS    4
#define TIMER_NS    (100 * MS)
#define STEP_MAX_NS (150 * MS)

struct preq {
	struct offrx_recv_req req;
	struct offrx_seg segs[MAX_SEGS];
	uint8_t *mem;
	uint32_t cap;	   /* data_len - prefill at post */
	uint32_t data_len; /* at post */
	uint32_t prefill;
	uint32_t completions;
	bool posted;
	uint64_t id;
};

struct pconn {
	struct offrx_conn *conn;
	uint64_t id;
	bool open; /* no disconnect or upload yet */
	uint64_t stored, app_off;
	uint64_t last_done_id;
	struct preq reqs[NREQ];
	struct offrx_ind_buf *held;
	int ind_mode; /* 0 accept, 1 partial, 2 refuse */
	uint64_t posted, completed;
};

struct world {
	struct offrx_engine *eng;
	struct pconn pc[NCONN];
	uint64_t rng;
	bool in_upcall;
	bool posting;
	uint32_t failures;
	char why[512];
	/* Observer's view of the last complete event, keyed by (conn, req). */
	uint64_t ev_conn, ev_req;
	uint32_t ev_reason;
	uint64_t ev_last_fill;
	uint64_t completes_by_reason[8];
	uint64_t total_posted, total_completed;
};

static struct world W;
static bool trace_on;

static void failf(const char *fmt, ...)
{
	if (trace_on)
		fprintf(stderr, "FAIL HERE\n");
	if (W.failures++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(W.why, sizeof(W.why), fmt, ap);
		va_end(ap);
	}
}

static uint64_t rnd(void)
{
	/* splitmix64: small, fast, and the same everywhere */
	uint64_t z = (W.rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static struct pconn *pc_of(void *ctx)
{
	return ctx;
}

static void check_bytes(struct pconn *p, const uint8_t *b, uint64_t n, const char *what)
{
	for (uint64_t i = 0; i < n; i++)
		if (b[i] != sc_pattern(p->id, p->app_off + i)) {
			failf("conn %llu: %s byte at %llu wrong", (unsigned long long)p->id, what,
			      (unsigned long long)(p->app_off + i));
			break;
		}
	p->app_off += n;
}

static void observer(const struct offrx_event *ev, void *ctx)
{
	(void)ctx;
	if (trace_on)
		fprintf(stderr,
			"t=%llu k=%d conn=%llu req=%llu bytes=%llu total=%llu dl=%llu r=%u\n",
			(unsigned long long)ev->ts_ns, ev->kind, (unsigned long long)ev->conn_id,
			(unsigned long long)ev->req_id, (unsigned long long)ev->bytes,
			(unsigned long long)ev->total, (unsigned long long)ev->deadline_ns,
			ev->reason);
	if (ev->kind == OFFRX_E_COMPLETE) {
		W.ev_conn = ev->conn_id;
		W.ev_req = ev->req_id;
		W.ev_reason = ev->reason;
		W.ev_last_fill = ev->t_last_fill_ns;
		if (ev->reason < 8)
			W.completes_by_reason[ev->reason]++;
		/* The reason must fit the request's state at completion. */
		bool full = ev->total == (uint64_t)ev->buf_len - (ev->bytes - ev->total);
		if (ev->reason == OFFRX_CR_FILLED && !full)
			failf("req %llu completed as filled but is not full",
			      (unsigned long long)ev->req_id);
		if ((ev->reason == OFFRX_CR_PUSH_TIMER || ev->reason == OFFRX_CR_PSH) && full)
			failf("req %llu full but completed by %u", (unsigned long long)ev->req_id,
			      ev->reason);
		if (ev->reason == OFFRX_CR_PUSH_TIMER && ev->total &&
		    ev->ts_ns < ev->t_last_fill_ns + TIMER_NS)
			failf("req %llu: push timer fired %llu ns after the last fill (< timer)",
			      (unsigned long long)ev->req_id,
			      (unsigned long long)(ev->ts_ns - ev->t_last_fill_ns));
	}
}

static void enter(void)
{
	if (W.in_upcall)
		failf("nested upcall");
	if (W.posting)
		failf("upcall inside a post");
	W.in_upcall = true;
}

static void cb_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct pconn *p = pc_of(ctx);
	enter();
	uint32_t partials = 0;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		struct preq *q = (struct preq *)r;
		uint64_t id = offrx_req_id(r);
		if (++q->completions != 1)
			failf("req %llu completed %u times", (unsigned long long)id,
			      q->completions);
		if (id <= p->last_done_id)
			failf("conn %llu: req %llu completed after %llu", (unsigned long long)p->id,
			      (unsigned long long)id, (unsigned long long)p->last_done_id);
		p->last_done_id = id;
		if (r->bytes_transferred != q->prefill + r->bytes_placed)
			failf("req %llu: bytes_transferred %u != prefill %u + placed %u",
			      (unsigned long long)id, r->bytes_transferred, q->prefill,
			      r->bytes_placed);
		if (r->bytes_placed > q->cap)
			failf("req %llu overfilled", (unsigned long long)id);
		if (r->status == OFFRX_SUCCESS && r->bytes_placed < q->cap)
			partials++;
		/* Gather the placed bytes from the chain and check them against the stream. */
		uint64_t start = q->prefill, pos = 0, got = 0;
		for (uint32_t i = 0; i < r->nsegs && got < r->bytes_placed; i++) {
			uint64_t a = pos, b = pos + r->segs[i].len;
			pos = b;
			if (b <= start)
				continue;
			uint64_t from = start > a ? start - a : 0;
			uint64_t k = r->segs[i].len - from;
			if (k > r->bytes_placed - got)
				k = r->bytes_placed - got;
			check_bytes(p, (uint8_t *)r->segs[i].base + from, k, "completed");
			got += k;
			start += k;
		}
		q->posted = false;
		p->completed++;
		W.total_completed++;
	}
	/* R14: at most one partial per call, and it ends the call. */
	if (partials > 1)
		failf("a completion call carried %u partial requests", partials);
	(void)conn;
	W.in_upcall = false;
}

static void keep(struct pconn *p, struct offrx_ind_buf *b)
{
	while (b) {
		struct offrx_ind_buf *nx = b->next;
		b->next = p->held;
		p->held = b;
		b = nx;
	}
}

static int cb_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct pconn *p = pc_of(ctx);
	enter();
	uint64_t take = 0;
	int res;
	switch (p->ind_mode) {
	case 0:
		take = total;
		res = OFFRX_SUCCESS;
		break;
	case 1:
		take = below(total);
		res = take ? OFFRX_PARTIALLY_ACCEPTED : OFFRX_NOT_ACCEPTED;
		break;
	default:
		res = OFFRX_NOT_ACCEPTED;
		break;
	}
	uint64_t left = take;
	for (struct offrx_ind_buf *b = bufs; b && left; b = b->next) {
		uint64_t k = b->len < left ? b->len : left;
		check_bytes(p, b->data, k, "indicated");
		left -= k;
	}
	*consumed = take;
	if (res != OFFRX_NOT_ACCEPTED)
		keep(p, bufs);
	(void)conn;
	W.in_upcall = false;
	return res;
}

static void cb_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	struct pconn *p = pc_of(ctx);
	if (!p)
		return;
	enter();
	for (struct offrx_ind_buf *b = ev->held; b; b = b->next)
		check_bytes(p, b->data, b->len, "handed back");
	keep(p, ev->held);
	(void)conn;
	W.in_upcall = false;
}

static const struct offrx_callbacks cbs = {
	.recv_complete = cb_complete,
	.recv_indicate = cb_indicate,
	.conn_event = cb_event,
};

static void conn_open(struct pconn *p)
{
	for (int i = 0; i < NREQ; i++)
		if (p->reqs[i].posted)
			failf("reopening a slot with request %d still posted", i);
	assert_int_equal(offrx_mem_conn_open(W.eng, (uint32_t)rnd(), &p->conn), OFFRX_SUCCESS);
	offrx_conn_set_context(p->conn, p);
	p->id = offrx_conn_id(p->conn);
	p->open = true;
	p->stored = p->app_off = 0;
	p->last_done_id = 0;
	p->ind_mode = (int)below(3);
}

static void return_held(struct pconn *p)
{
	if (p->held && offrx_return_indicated(W.eng, p->held) != OFFRX_SUCCESS)
		failf("return of held buffers refused");
	p->held = NULL;
}

static void check_conn_done(struct pconn *p)
{
	if (p->app_off != p->stored)
		failf("conn %llu: app got %llu of %llu stored bytes", (unsigned long long)p->id,
		      (unsigned long long)p->app_off, (unsigned long long)p->stored);
	if (p->completed != p->posted)
		failf("conn %llu: %llu of %llu requests completed", (unsigned long long)p->id,
		      (unsigned long long)p->completed, (unsigned long long)p->posted);
}

static void conn_close(struct pconn *p)
{
	offrx_mem_advance(W.eng, 0);
	check_conn_done(p);
	return_held(p);
	assert_int_equal(offrx_mem_conn_close(p->conn), OFFRX_SUCCESS);
	p->conn = NULL;
	p->posted = p->completed = 0;
}

static void op_post(struct pconn *p)
{
	struct offrx_recv_req *list = NULL, **tail = &list;
	int want = 1 + (int)below(3);
	for (int i = 0; i < NREQ && want; i++) {
		struct preq *q = &p->reqs[(i + below(NREQ)) % NREQ];
		if (q->posted)
			continue;
		uint32_t nsegs = 1 + (uint32_t)below(MAX_SEGS);
		uint32_t total = 0;
		free(q->mem);
		uint32_t lens[MAX_SEGS];
		for (uint32_t s = 0; s < nsegs; s++) {
			lens[s] = below(8) == 0 ? 0 : (uint32_t)below(3000);
			total += lens[s];
		}
		q->mem = malloc(total ? total : 1);
		uint32_t off = 0;
		for (uint32_t s = 0; s < nsegs; s++) {
			q->segs[s].base = lens[s] ? q->mem + off : NULL;
			q->segs[s].len = lens[s];
			off += lens[s];
		}
		offrx_req_init(&q->req, q->segs, nsegs, 0);
		q->prefill = below(6) == 0 ? (uint32_t)below(total + 1) : 0;
		q->req.bytes_transferred = q->prefill;
		q->req.flags = below(4) == 0 ? OFFRX_REQ_NO_PUSH : 0;
		q->data_len = total;
		q->cap = total - q->prefill;
		q->completions = 0;
		q->posted = true;
		*tail = &q->req;
		tail = &q->req.next;
		want--;
		p->posted++;
		W.total_posted++;
	}
	if (!list)
		return;
	W.posting = true;
	int rc = offrx_post_recv(p->conn, list);
	W.posting = false;
	if (rc != OFFRX_PENDING)
		failf("post returned %s", offrx_status_str(rc));
}

static void op_deliver(struct pconn *p)
{
	static uint8_t buf[9000];
	uint64_t len = 1 + below(below(4) == 0 ? sizeof(buf) : 1448);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = sc_pattern(p->id, p->stored + i);
	uint32_t flags = below(3) == 0 ? OFFRX_MEM_PSH : 0;
	uint64_t space = offrx_conn_space(p->conn);
	uint64_t n = offrx_mem_deliver(p->conn, buf, len, flags);
	if (p->open && n < len && n != space)
		failf("stored %llu of %llu though the window said %llu", (unsigned long long)n,
		      (unsigned long long)len, (unsigned long long)space);
	if (n > space)
		failf("stored %llu past the window %llu", (unsigned long long)n,
		      (unsigned long long)space);
	if (!p->open && n)
		failf("stored bytes after disconnect/upload");
	p->stored += n;
}

static void step(void)
{
	struct pconn *p = &W.pc[below(NCONN)];
	uint64_t dice = below(100);
	if (dice < 30) {
		op_post(p);
	} else if (dice < 70) {
		op_deliver(p);
	} else if (dice < 85) {
		offrx_mem_advance(W.eng, below(STEP_MAX_NS));
	} else if (dice < 90) {
		return_held(p);
	} else if (dice < 93) {
		p->ind_mode = (int)below(3);
	} else if (dice < 96) {
		if (p->open) {
			int rc = below(2) ? offrx_mem_fin(p->conn) : offrx_mem_rst(p->conn);
			if (rc != OFFRX_SUCCESS)
				failf("disconnect returned %s", offrx_status_str(rc));
			p->open = false;
		} else {
			conn_close(p);
			conn_open(p);
		}
	} else if (dice < 98) {
		if (p->open) {
			if (offrx_conn_upload(p->conn) != OFFRX_SUCCESS)
				failf("upload refused");
			p->open = false;
		}
	} else {
		offrx_mem_advance(W.eng, 0);
	}
}

static void run_seed(uint64_t seed, uint64_t steps)
{
	memset(&W, 0, sizeof(W));
	W.rng = seed;
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.push_timer_ns = TIMER_NS;
	o.cb = &cbs;
	o.observer = observer;
	o.chunk_size = 1024;
	o.pool_bytes = 256 << 10;
	o.hold_bytes_per_conn = 48 << 10;
	assert_int_equal(offrx_mem_engine_create(&o, &W.eng), OFFRX_SUCCESS);
	for (int i = 0; i < NCONN; i++)
		conn_open(&W.pc[i]);
	for (uint64_t i = 0; i < steps && !W.failures; i++)
		step();
	/* Wind down: every connection ends; everything posted must be back exactly once. */
	for (int i = 0; i < NCONN; i++) {
		struct pconn *p = &W.pc[i];
		if (p->open)
			offrx_mem_fin(p->conn);
		conn_close(p);
		for (int k = 0; k < NREQ; k++) {
			if (p->reqs[k].posted)
				failf("request slot %d never completed", k);
			free(p->reqs[k].mem);
		}
	}
	uint32_t out = 1;
	assert_int_equal(offrx_engine_destroy(W.eng, &out), OFFRX_SUCCESS);
	assert_int_equal(out, 0);
	if (W.failures)
		fail_msg("seed %llu: %u failure(s); first: %s", (unsigned long long)seed,
			 W.failures, W.why);
	assert_int_equal(W.total_posted, W.total_completed);
	/* The run must have exercised every way to complete, or it proves little. */
	assert_true(W.completes_by_reason[OFFRX_CR_FILLED] > 0);
	assert_true(W.completes_by_reason[OFFRX_CR_PSH] > 0);
	assert_true(W.completes_by_reason[OFFRX_CR_PUSH_TIMER] > 0);
	assert_true(W.completes_by_reason[OFFRX_CR_DISCONNECT] > 0);
	assert_true(W.completes_by_reason[OFFRX_CR_UPLOAD] > 0);
	assert_true(W.completes_by_reason[OFFRX_CR_ABORT] > 0);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void test_R17_R14_random_operations_keep_every_invariant(void **state)
{
	(void)state;
	uint64_t steps = env_u64("OFFRX_PROPERTY_STEPS", 40000);
	uint64_t only = env_u64("OFFRX_PROPERTY_SEED", 0);
	trace_on = env_u64("OFFRX_PROPERTY_TRACE", 0) != 0;
	if (only) {
		run_seed(only, steps);
		return;
	}
	for (uint64_t seed = 1; seed <= 40; seed++)
		run_seed(seed, steps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R17_R14_random_operations_keep_every_invariant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
