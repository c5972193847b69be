/* The queue model (tracer/model): scenarios built from synthetic events by a small factory
 * that fills each event the way the engine would (post times, fill totals, the latencies a
 * complete carries), so each test reads as the trace it stands for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"

#define US   1000LL
#define MS   (1000 * US)
#define SEC  (1000 * MS)
#define T0   (1700000000LL * SEC) /* event times are from the Unix epoch */
#define RAW0 (42 * SEC)		  /* and the raw clock is CLOCK_MONOTONIC */
#define REQS 1024

/* --- the event factory -------------------------------------------------------------------- */

struct scen {
	struct otr_model *m;
	uint64_t vpid, conn;
	int64_t t; /* now, from the epoch */
	struct {
		int64_t post, last_fill;
		uint32_t len, prefill, placed;
	} req[REQS]; /* what the engine knows of each request id (shared by the conns) */
};

static struct scen *scen_new(const struct otr_model_opts *o)
{
	struct scen *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->m = otr_model_new(o);
	assert_non_null(s->m);
	s->vpid = 1000;
	s->conn = 1;
	s->t = T0;
	return s;
}

static void scen_free(struct scen *s)
{
	otr_model_free(s->m);
	free(s);
}

static uint64_t raw(const struct scen *s, int64_t after)
{
	return (uint64_t)(s->t - T0 + RAW0 + after);
}

static void advance(struct scen *s, int64_t ns)
{
	s->t += ns;
}

static struct otr_event *ev(struct scen *s, enum otr_kind k)
{
	static struct otr_event e;
	memset(&e, 0, sizeof(e));
	e.kind = k;
	e.ts_ns = s->t;
	e.ts_raw = raw(s, 0);
	e.vpid = s->vpid;
	e.conn = s->conn;
	return &e;
}

static void feed(struct scen *s, const struct otr_event *e)
{
	assert_int_equal(otr_model_feed(s->m, e), 0);
}

static void open_conn(struct scen *s, const char *local, uint16_t lport, const char *remote,
		      uint16_t rport)
{
	struct otr_event *e = ev(s, OTR_CONN_OPEN);
	strcpy(e->u.open.local_addr, local);
	strcpy(e->u.open.remote_addr, remote);
	e->u.open.local_port = lport;
	e->u.open.remote_port = rport;
	e->u.open.mss = 1460;
	feed(s, e);
}

static void close_conn(struct scen *s, int reason)
{
	struct otr_event *e = ev(s, OTR_CONN_CLOSE);
	e->u.close.reason = reason;
	feed(s, e);
}

static void post(struct scen *s, uint64_t req, uint32_t len, uint32_t prefill, bool no_push)
{
	s->req[req].post = s->t;
	s->req[req].len = len;
	s->req[req].prefill = prefill;
	s->req[req].placed = 0;
	struct otr_event *e = ev(s, OTR_POST);
	e->req = req;
	e->u.post.buf_len = len;
	e->u.post.prefill = prefill;
	e->u.post.no_push = no_push;
	feed(s, e);
}

static void fill(struct scen *s, uint64_t req, uint32_t bytes, bool psh)
{
	s->req[req].placed += bytes;
	s->req[req].last_fill = s->t;
	struct otr_event *e = ev(s, OTR_FILL);
	e->req = req;
	e->u.fill.bytes = bytes;
	e->u.fill.total = s->req[req].prefill + s->req[req].placed;
	e->u.fill.buf_len = s->req[req].len;
	e->u.fill.psh = psh;
	feed(s, e);
}

static void complete(struct scen *s, uint64_t req, int reason)
{
	struct otr_event *e = ev(s, OTR_COMPLETE);
	e->req = req;
	e->u.complete.status = reason == OTR_CR_ABORT ? -1 : 0;
	e->u.complete.reason = reason;
	e->u.complete.placed = s->req[req].placed;
	e->u.complete.bytes = s->req[req].prefill + s->req[req].placed;
	e->u.complete.post_to_complete_ns = (uint64_t)(s->t - s->req[req].post);
	e->u.complete.last_fill_to_complete_ns =
		s->req[req].placed ? s->t - s->req[req].last_fill : -1;
	feed(s, e);
}

static void timer(struct scen *s, enum otr_kind k, uint64_t req, uint64_t deadline)
{
	struct otr_event *e = ev(s, k);
	e->req = req;
	e->u.timer.deadline_ns = deadline;
	feed(s, e);
}

static void snapshot(struct scen *s, uint32_t depth, uint64_t deadline, uint32_t ind_out,
		     uint64_t held, const struct otr_state_req *reqs, uint32_t listed)
{
	struct otr_event *e = ev(s, OTR_CONN_STATE);
	e->u.state.depth = depth;
	e->u.state.listed = listed;
	e->u.state.deadline_ns = deadline;
	e->u.state.indicated_out = ind_out;
	e->u.state.held_bytes = held;
	if (listed)
		memcpy(e->u.state.reqs, reqs, listed * sizeof(*reqs));
	feed(s, e);
}

static void discarded(struct scen *s, uint64_t count, int64_t from, int64_t to)
{
	struct otr_event *e = ev(s, OTR_DISCARDED);
	e->conn = 0;
	e->u.discarded.count = count;
	e->u.discarded.from_ns = from;
	e->u.discarded.to_ns = to;
	feed(s, e);
}

static void source(struct scen *s, enum otr_source_state st)
{
	struct otr_event *e = ev(s, OTR_SOURCE);
	e->conn = 0;
	e->u.source.state = st;
	feed(s, e);
}

static const struct otr_conn *conn(struct scen *s)
{
	const struct otr_conn *c = otr_model_conn(s->m, s->vpid, s->conn);
	assert_non_null(c);
	return c;
}

static uint64_t head_id(const struct otr_conn *c)
{
	const struct otr_req *r = otr_conn_req(c, 0);
	assert_non_null(r);
	return r->id;
}

/* --- queue rebuilding --------------------------------------------------------------------- */

static void test_queue_rebuilt_fifo_with_fills(void **state)
{
	struct scen *s = scen_new(NULL);
	open_conn(s, "10.0.0.1", 5000, "10.0.0.2", 40000);
	post(s, 1, 100, 0, false);
	post(s, 2, 100, 0, false);
	post(s, 3, 100, 10, true);
	const struct otr_conn *c = conn(s);
	assert_string_equal(c->remote_addr, "10.0.0.2");
	assert_int_equal(c->remote_port, 40000);
	assert_true(c->synced);
	assert_int_equal(c->depth, 3);
	assert_int_equal(otr_conn_req(c, 2)->id, 3);
	assert_int_equal(otr_conn_req(c, 2)->no_push, 1);
	assert_int_equal(otr_conn_req(c, 2)->fill, 10);

	advance(s, MS);
	fill(s, 1, 100, false);
	fill(s, 2, 40, true);
	assert_int_equal(otr_conn_req(c, 0)->fill, 100);
	assert_int_equal(otr_conn_req(c, 1)->fill, 40);
	assert_int_equal(otr_conn_req(c, 1)->first_fill_ns, s->t);
	complete(s, 1, OTR_CR_FILLED);
	assert_int_equal(c->depth, 2);
	assert_int_equal(head_id(c), 2);
	post(s, 4, 100, 0, false);
	complete(s, 2, OTR_CR_PSH);
	fill(s, 3, 90, false);
	complete(s, 3, OTR_CR_FILLED);
	assert_int_equal(c->depth, 1);
	assert_int_equal(head_id(c), 4);
	/* Out of order (never from the engine, but the model must not lose track): only
	 * that request leaves. */
	post(s, 5, 100, 0, false);
	post(s, 6, 100, 0, false);
	complete(s, 5, OTR_CR_DISCONNECT);
	assert_int_equal(c->depth, 2);
	assert_int_equal(otr_conn_req(c, 0)->id, 4);
	assert_int_equal(otr_conn_req(c, 1)->id, 6);
	complete(s, 4, OTR_CR_DISCONNECT);
	complete(s, 6, OTR_CR_DISCONNECT);

	assert_int_equal(c->depth, 0);
	assert_null(otr_conn_req(c, 0));
	assert_int_equal(c->posted, 6);
	assert_int_equal(c->completed, 6);
	assert_int_equal(c->completed_by[OTR_CR_FILLED], 2);
	assert_int_equal(c->completed_by[OTR_CR_PSH], 1);
	assert_int_equal(c->bytes_placed, 230);
	assert_int_equal(c->bytes_completed, 240);
	assert_int_equal(c->psh_fills, 1);
	assert_int_equal(c->unknown, 0);
	assert_int_equal(c->resyncs, 0);
	scen_free(s);
	(void)state;
}

static void test_timer_deadline_follows_the_guarded_request(void **state)
{
	struct scen *s = scen_new(NULL);
	open_conn(s, "a", 1, "b", 2);
	post(s, 1, 1000, 0, false);
	post(s, 2, 1000, 0, false);
	fill(s, 1, 10, false);
	timer(s, OTR_TIMER_START, 1, raw(s, 500 * MS));
	const struct otr_conn *c = conn(s);
	assert_int_equal(c->timer_req, 1);
	assert_int_equal(c->timer_deadline_ns, raw(s, 500 * MS));
	assert_int_equal(otr_conn_req(c, 0)->deadline_ns, raw(s, 500 * MS));
	assert_int_equal(otr_conn_req(c, 1)->deadline_ns, 0);
	advance(s, 100 * MS);
	fill(s, 1, 10, false);
	timer(s, OTR_TIMER_RESTART, 1, raw(s, 500 * MS));
	assert_int_equal(otr_conn_req(c, 0)->deadline_ns, raw(s, 500 * MS));
	advance(s, 500 * MS);
	timer(s, OTR_TIMER_EXPIRE, 1, raw(s, 0));
	assert_int_equal(c->timer_deadline_ns, 0);
	assert_int_equal(otr_conn_req(c, 0)->deadline_ns, 0);
	complete(s, 1, OTR_CR_PUSH_TIMER);
	/* Request 2 gets bytes and the timer; request 2 fills with no timer event after: the
	 * timer still runs, and now guards request 3. */
	post(s, 3, 1000, 0, false);
	fill(s, 2, 10, false);
	timer(s, OTR_TIMER_START, 2, raw(s, 500 * MS));
	fill(s, 2, 990, false);
	fill(s, 3, 5, false);
	complete(s, 2, OTR_CR_FILLED);
	assert_int_equal(c->timer_req, 3);
	assert_int_equal(otr_conn_req(c, 0)->deadline_ns, raw(s, 500 * MS));
	timer(s, OTR_TIMER_CANCEL, 3, raw(s, 500 * MS));
	assert_int_equal(c->timer_deadline_ns, 0);
	assert_int_equal(otr_conn_req(c, 0)->deadline_ns, 0);
	assert_int_equal(c->timer_cancels, 1);
	assert_int_equal(c->timer_starts, 2);
	assert_int_equal(c->timer_restarts, 1);
	assert_int_equal(c->timer_expiries, 1);
	scen_free(s);
	(void)state;
}

/* --- latencies ---------------------------------------------------------------------------- */

static void assert_near(uint64_t got, uint64_t want)
{
	uint64_t tol = want / 100 > US ? want / 100 : US;
	if (got + tol < want || got > want + tol)
		fail_msg("%llu is not within %llu of %llu", (unsigned long long)got,
			 (unsigned long long)tol, (unsigned long long)want);
}

static void test_R10_push_timer_latency_share_and_time_lost(void **state)
{
	struct otr_model_opts o = { .sz = sizeof(o), .lost_horizon_ns = 10 * SEC };
	struct scen *s = scen_new(&o);
	open_conn(s, "a", 1, "b", 2);
	/* Request 1: two small fills, then nothing until the push timer fires 500 ms later. */
	post(s, 1, 1000, 0, false);
	advance(s, 10 * MS);
	fill(s, 1, 100, false);
	advance(s, 10 * MS);
	fill(s, 1, 100, false);
	advance(s, 500 * MS);
	complete(s, 1, OTR_CR_PUSH_TIMER);
	/* Request 2: filled in one go; request 3: pushed by PSH 2 ms after the post. */
	post(s, 2, 100, 0, false);
	advance(s, 3 * MS);
	fill(s, 2, 100, false);
	complete(s, 2, OTR_CR_FILLED);
	post(s, 3, 100, 0, false);
	advance(s, 2 * MS);
	fill(s, 3, 50, true);
	complete(s, 3, OTR_CR_PSH);

	const struct otr_conn *c = conn(s);
	const struct otr_completion *r = otr_conn_recent(c, 2);
	assert_non_null(r);
	assert_int_equal(r->req, 1);
	assert_int_equal(r->post_ns, 520 * MS);
	assert_int_equal(r->first_byte_ns, 510 * MS);
	assert_int_equal(r->last_fill_ns, 500 * MS);
	assert_false(r->suspect);
	assert_int_equal(otr_conn_recent(c, 0)->req, 3);
	assert_null(otr_conn_recent(c, 3));

	const struct otr_hist *h = c->hist[OTR_LAT_LAST_FILL][OTR_HC_PUSH_TIMER];
	assert_int_equal(otr_hist_count(h), 1);
	assert_near(otr_hist_percentile(h, 50), 500 * MS);
	assert_int_equal(otr_hist_count(c->hist[OTR_LAT_POST][OTR_HC_ALL]), 3);
	assert_near(otr_hist_percentile(c->hist[OTR_LAT_POST][OTR_HC_PSH], 99), 2 * MS);
	assert_near(otr_hist_percentile(c->hist[OTR_LAT_FIRST_BYTE][OTR_HC_FILLED], 50), 0);
	assert_int_equal(otr_hist_count(otr_model_hist(s->m, OTR_LAT_POST, OTR_HC_ALL)), 3);
	assert_near(
		otr_hist_percentile(otr_model_hist(s->m, OTR_LAT_LAST_FILL, OTR_HC_PUSH_TIMER), 50),
		500 * MS);

	struct otr_rates rt;
	otr_conn_rates(s->m, c, OTR_TS_NONE, &rt);
	assert_int_equal(rt.push_timer_lost_ns, 500 * MS);
	assert_int_equal(rt.completions, 3);
	assert_int_equal(rt.push_timer_completions, 1);
	assert_true(rt.push_timer_share > 0.333 && rt.push_timer_share < 0.334);
	struct otr_model_totals t;
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	assert_int_equal(t.horizon.push_timer_lost_ns, 500 * MS);
	assert_int_equal(t.completed_by[OTR_CR_PUSH_TIMER], 1);
	/* Past the horizon, the loss is forgotten. */
	otr_conn_rates(s->m, c, s->t + 11 * SEC, &rt);
	assert_int_equal(rt.push_timer_lost_ns, 0);
	assert_int_equal(rt.completions, 0);
	scen_free(s);
	(void)state;
}

static void test_rates_over_the_window(void **state)
{
	struct scen *s = scen_new(NULL); /* 1 s window */
	open_conn(s, "a", 1, "b", 2);
	for (uint64_t i = 1; i <= 40; i++) { /* 1000 bytes and one completion every 50 ms */
		advance(s, 50 * MS);
		post(s, i, 1000, 0, false);
		fill(s, i, 1000, false);
		complete(s, i, OTR_CR_FILLED);
	}
	struct otr_rates rt;
	otr_conn_rates(s->m, conn(s), s->t + 25 * MS, &rt);
	assert_true(rt.bytes_per_s > 18000 && rt.bytes_per_s < 22000);
	assert_true(rt.completions_per_s > 18 && rt.completions_per_s < 22);
	struct otr_model_totals t;
	otr_model_totals(s->m, s->t + 25 * MS, &t);
	assert_true(t.bytes_per_s > 18000 && t.bytes_per_s < 22000);
	assert_true(t.completions_per_s_by[OTR_CR_FILLED] > 18);
	assert_true(t.events_per_s > 54 && t.events_per_s < 66);
	assert_int_equal(t.last_ts_ns, s->t);
	otr_conn_rates(s->m, conn(s), s->t + 5 * SEC, &rt);
	assert_true(rt.bytes_per_s == 0 && rt.completions_per_s == 0);
	scen_free(s);
	(void)state;
}

/* --- receive queues (#17) ----------------------------------------------------------------- */

static void open_on_queue(struct scen *s, uint64_t conn, uint32_t queue)
{
	s->conn = conn;
	struct otr_event *e = ev(s, OTR_CONN_OPEN);
	strcpy(e->u.open.local_addr, "10.0.0.1");
	strcpy(e->u.open.remote_addr, "10.0.0.2");
	e->u.open.local_port = 5201;
	e->u.open.remote_port = (uint16_t)(40000 + conn);
	e->u.open.queue = queue;
	feed(s, e);
}

static void xsk(struct scen *s, uint32_t queue, uint64_t rx, uint64_t fre, uint64_t cpu)
{
	struct otr_event *e = ev(s, OTR_XSK_STATS);
	e->conn = 0;
	e->u.xsk.rx_frames = rx;
	e->u.xsk.fill_ring_empty = fre;
	e->u.xsk.rx_dropped = queue; /* tells the queues' counters apart */
	e->u.xsk.queue = queue;
	e->u.xsk.thread_cpu_ns = cpu;
	feed(s, e);
}

static const struct otr_queue *find_queue(const struct otr_queue *q, size_t n, uint32_t queue)
{
	for (size_t i = 0; i < n; i++)
		if (q[i].queue == queue)
			return &q[i];
	fail_msg("queue %u not in the model's %zu queues", queue, n);
	return NULL;
}

/* Connections on two queues: each queue counts its own connections' bytes, completions and
 * drops, and its xsk_stats give the frame rate, fill-ring growth and the thread's CPU share. */
static void test_queues_count_their_connections_and_thread(void **state)
{
	struct scen *s = scen_new(NULL);
	open_on_queue(s, 1, 0);
	open_on_queue(s, 2, 1);
	open_on_queue(s, 3, 1);
	xsk(s, 0, 100, 5, 1 * SEC);
	xsk(s, 1, 200, 7, 2 * SEC);
	uint64_t id = 1;
	for (int i = 0; i < 10; i++) {
		advance(s, 40 * MS);
		for (uint64_t c = 1; c <= 3; c++, id++) {
			s->conn = c;
			post(s, id, 1000, 0, false);
			fill(s, id, (uint32_t)(c * 100), false);
			complete(s, id, OTR_CR_PSH);
		}
	}
	s->conn = 3;
	struct otr_event *d = ev(s, OTR_DROP);
	d->u.drop.reason = 1;
	feed(s, d);
	advance(s, 100 * MS);			/* 500 ms after the first xsk_stats */
	xsk(s, 0, 600, 5, 1 * SEC + 50 * MS);	/* 10% of a CPU */
	xsk(s, 1, 1200, 9, 2 * SEC + 250 * MS); /* 50% */

	assert_int_equal(conn(s)->queue, 1);
	s->conn = 1;
	assert_int_equal(conn(s)->queue, 0);
	struct otr_queue q[4];
	assert_int_equal(otr_model_queues(s->m, OTR_TS_NONE, q, 4), 2);
	assert_int_equal(q[0].queue, 0); /* by queue */
	assert_int_equal(q[1].queue, 1);
	const struct otr_queue *q0 = find_queue(q, 2, 0), *q1 = find_queue(q, 2, 1);
	assert_int_equal(q0->conns, 1);
	assert_int_equal(q1->conns, 2);
	assert_int_equal(q0->completed, 10);
	assert_int_equal(q1->completed, 20);
	assert_int_equal(q0->bytes_placed, 10 * 100);
	assert_int_equal(q1->bytes_placed, 10 * (200 + 300));
	assert_int_equal(q0->drops, 0);
	assert_int_equal(q1->drops, 1);
	assert_true(q1->completions_per_s > 1.9 * q0->completions_per_s);
	assert_true(q0->bytes_per_s > 0 && q1->bytes_per_s > 4.9 * q0->bytes_per_s);
	assert_true(q0->has_xsk && q1->has_xsk);
	assert_int_equal(q0->rx_dropped, 0);
	assert_int_equal(q1->rx_dropped, 1);
	assert_true(fabs(q0->cpu_share - 0.1) < 1e-9);
	assert_true(fabs(q1->cpu_share - 0.5) < 1e-9);
	assert_true(fabs(q1->cpu_share_all - 0.5) < 1e-9);
	assert_true(fabs(q0->rx_frames_per_s - 1000) < 1e-6);
	assert_true(fabs(q1->rx_frames_per_s - 2000) < 1e-6);
	assert_int_equal(q0->fill_ring_empty_new, 0);
	assert_int_equal(q1->fill_ring_empty_new, 2);

	/* A connection attached late learns its queue from its conn_state. */
	s->conn = 9;
	post(s, ++id, 1000, 0, false);
	assert_int_equal(conn(s)->queue, -1);
	struct otr_event *st = ev(s, OTR_CONN_STATE);
	st->u.state.depth = 1;
	st->u.state.listed = 1;
	st->u.state.reqs[0] = (struct otr_state_req){ .id = id, .len = 1000 };
	st->u.state.queue = 1;
	feed(s, st);
	assert_int_equal(conn(s)->queue, 1);
	otr_model_queues(s->m, OTR_TS_NONE, q, 4);
	assert_int_equal(find_queue(q, 2, 1)->conns, 3);
	scen_free(s);
	(void)state;
}

/* A trace of an engine before queues: every connection and xsk_stats is queue 0, and the CPU
 * share is unknown (no thread_cpu_ns). */
static void test_queues_of_an_older_trace_are_queue_0(void **state)
{
	struct scen *s = scen_new(NULL);
	open_conn(s, "a", 1, "b", 2);
	xsk(s, 0, 10, 0, 0);
	advance(s, 500 * MS);
	xsk(s, 0, 20, 0, 0);
	struct otr_queue q[2];
	assert_int_equal(otr_model_queues(s->m, OTR_TS_NONE, q, 2), 1);
	assert_int_equal(q[0].queue, 0);
	assert_int_equal(q[0].conns, 1);
	assert_true(q[0].cpu_share < 0);
	assert_true(fabs(q[0].rx_frames_per_s - 20) < 1e-6);
	assert_int_equal(conn(s)->queue, 0);
	scen_free(s);
	(void)state;
}

static void test_recent_completions_ring_keeps_the_newest(void **state)
{
	struct otr_model_opts o = { .sz = sizeof(o), .recent = 5 };
	struct scen *s = scen_new(&o);
	open_conn(s, "a", 1, "b", 2);
	for (uint64_t i = 1; i <= 12; i++) {
		post(s, i, 10, 0, false);
		advance(s, (int64_t)i * MS);
		fill(s, i, 10, false);
		complete(s, i, OTR_CR_FILLED);
	}
	const struct otr_conn *c = conn(s);
	assert_int_equal(c->recent_count, 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(otr_conn_recent(c, i)->req, 12 - i);
	assert_int_equal(otr_conn_recent(c, 0)->post_ns, 12 * MS);
	assert_null(otr_conn_recent(c, 5));
	scen_free(s);
	(void)state;
}

/* --- histograms --------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static void test_hist_percentiles_match_a_sort(void **state)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v)), st = 88172645463325252ull;
	struct otr_hist *h = otr_hist_new(), *a = otr_hist_new(), *b = otr_hist_new();
	for (int i = 0; i < N; i++) {
		/* log-uniform over 100 ns .. 60 s, so every bucket size is exercised */
		double e = 2.0 + 8.778 * (double)(rnd(&st) >> 11) / 9007199254740992.0;
		v[i] = (uint64_t)pow(10.0, e);
		assert_int_equal(otr_hist_record(h, v[i], i % 10 == 0), 0);
		assert_int_equal(otr_hist_record(i % 2 ? a : b, v[i], false), 0);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	assert_int_equal(otr_hist_count(h), N);
	assert_int_equal(otr_hist_suspect(h), N / 10);
	assert_int_equal(otr_hist_min(h), v[0]);
	assert_int_equal(otr_hist_max(h), v[N - 1]);
	assert_int_equal(otr_hist_merge(a, b), 0);
	const double ps[] = { 0.1, 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
	uint64_t got[9];
	otr_hist_percentiles(h, ps, got, 9);
	for (int i = 0; i < 9; i++) {
		size_t rank = (size_t)ceil(ps[i] / 100.0 * N);
		assert_near(got[i], v[rank - 1]);
		assert_int_equal(otr_hist_percentile(h, ps[i]), got[i]);
		assert_int_equal(otr_hist_percentile(a, ps[i]), got[i]); /* merged == whole */
	}
	assert_int_equal(otr_hist_count(a), N);
	/* Beyond the range: counted at the top, max still exact. */
	assert_int_equal(otr_hist_record(h, 120 * SEC, false), 0);
	assert_int_equal(otr_hist_clamped(h), 1);
	assert_int_equal(otr_hist_percentile(h, 100), 120 * SEC);
	assert_int_equal(otr_hist_percentile(NULL, 50), 0);
	otr_hist_free(h);
	otr_hist_free(a);
	otr_hist_free(b);
	free(v);
	(void)state;
}

static void test_hist_percentile_is_the_ceil_rank(void **state)
{
	struct otr_hist *h = otr_hist_new();
	for (uint64_t i = 1; i <= 10; i++)
		assert_int_equal(otr_hist_record(h, i * MS, false), 0);
	assert_near(otr_hist_percentile(h, 50), 5 * MS);
	assert_near(otr_hist_percentile(h, 50.5), 6 * MS);
	assert_near(otr_hist_percentile(h, 0), 1 * MS);
	assert_true(otr_hist_mean(h) > 5.49 * MS && otr_hist_mean(h) < 5.51 * MS);
	assert_int_equal(otr_hist_percentile(h, 100), 10 * MS);
	struct otr_hist *low = otr_hist_new();
	assert_int_equal(otr_hist_record(low, 10 * US, true), 0);
	assert_int_equal(otr_hist_merge(h, low), 0);
	assert_int_equal(otr_hist_min(h), 10 * US);
	assert_int_equal(otr_hist_count(h), 11);
	assert_int_equal(otr_hist_suspect(h), 1);
	assert_near(otr_hist_percentile(h, 0), 10 * US);
	otr_hist_free(low);
	otr_hist_free(h);
	(void)state;
}

/* --- resync ------------------------------------------------------------------------------- */

static void test_resync_late_attach_adopts_the_snapshot(void **state)
{
	struct scen *s = scen_new(NULL);
	/* Attached mid-stream: request 6 completes and 7 is filled, neither ever seen posted. */
	s->req[6] = (typeof(s->req[6])){
		.post = s->t - 30 * MS, .len = 500, .placed = 500, .last_fill = s->t - MS
	};
	complete(s, 6, OTR_CR_FILLED);
	s->req[7].len = 500;
	s->req[7].placed = 100;
	fill(s, 7, 100, false);
	const struct otr_conn *c = conn(s);
	assert_string_equal(c->local_addr, "?");
	assert_false(c->synced);
	assert_int_equal(c->unknown, 2);
	assert_int_equal(c->depth, 0);
	assert_int_equal(c->completed, 1); /* its latencies come with the event */
	assert_true(otr_conn_recent(c, 0)->unknown);

	advance(s, MS);
	const struct otr_state_req q[] = { { 7, 500, 200, 0 }, { 8, 500, 0, 1 } };
	snapshot(s, 2, raw(s, 400 * MS), 3, 1234, q, 2);
	assert_true(c->synced);
	assert_int_equal(c->resyncs, 1);
	assert_int_equal(c->depth, 2);
	for (uint32_t i = 0; i < 2; i++) {
		const struct otr_req *r = otr_conn_req(c, i);
		assert_int_equal(r->id, q[i].id);
		assert_int_equal(r->len, q[i].len);
		assert_int_equal(r->fill, q[i].fill);
		assert_int_equal(r->no_push, q[i].no_push);
		assert_true(r->flags & OTR_REQ_SNAPSHOT);
	}
	assert_int_equal(c->timer_deadline_ns, raw(s, 400 * MS));
	assert_int_equal(otr_conn_req(c, 0)->deadline_ns, raw(s, 400 * MS));
	assert_int_equal(c->ind_out_bufs, 3);
	assert_int_equal(c->held_bytes, 1234);

	/* From there on the events apply; a snapshot that agrees is no resync. */
	s->req[7].placed = 200;
	fill(s, 7, 300, false);
	assert_int_equal(otr_conn_req(c, 0)->fill, 500);
	complete(s, 7, OTR_CR_FILLED);
	assert_int_equal(c->depth, 1);
	assert_int_equal(c->unknown, 2);
	const struct otr_state_req q2[] = { { 8, 500, 0, 1 } };
	snapshot(s, 1, 0, 0, 0, q2, 1);
	assert_int_equal(c->resyncs, 1);
	assert_int_equal(c->snapshots, 2);
	assert_int_equal(c->timer_deadline_ns, 0);
	struct otr_model_totals t;
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	assert_int_equal(t.resyncs, 1);
	assert_int_equal(t.unknown, 2);
	scen_free(s);
	(void)state;
}

/* A snapshot from an engine that sends the 4-tuple names a connection seen only from its
 * middle; one from an older engine (empty addresses) leaves "?"; conn_open's names stay. */
static void test_resync_late_attach_names_the_connection_from_the_snapshot(void **state)
{
	struct scen *s = scen_new(NULL);
	struct otr_event *e = ev(s, OTR_CONN_STATE);
	e->u.state.depth = 0;
	feed(s, e); /* an older engine's snapshot */
	const struct otr_conn *c = conn(s);
	assert_string_equal(c->local_addr, "?");
	assert_string_equal(c->remote_addr, "?");

	advance(s, 500 * MS);
	e = ev(s, OTR_CONN_STATE);
	strcpy(e->u.state.local_addr, "10.77.0.1");
	strcpy(e->u.state.remote_addr, "10.77.0.2");
	e->u.state.local_port = 5201;
	e->u.state.remote_port = 40001;
	feed(s, e);
	assert_string_equal(c->local_addr, "10.77.0.1");
	assert_int_equal(c->local_port, 5201);
	assert_string_equal(c->remote_addr, "10.77.0.2");
	assert_int_equal(c->remote_port, 40001);
	scen_free(s);

	s = scen_new(NULL);
	open_conn(s, "a", 1, "b", 2);
	c = conn(s);
	e = ev(s, OTR_CONN_STATE);
	strcpy(e->u.state.local_addr, "other");
	strcpy(e->u.state.remote_addr, "other");
	feed(s, e);
	assert_string_equal(c->local_addr, "a");
	assert_string_equal(c->remote_addr, "b");
	assert_int_equal(c->remote_port, 2);
	scen_free(s);
	(void)state;
}

static void test_resync_disagreeing_snapshot_after_a_gap(void **state)
{
	struct scen *s = scen_new(NULL);
	open_conn(s, "a", 1, "b", 2);
	post(s, 1, 100, 0, false);
	post(s, 2, 100, 0, false);
	int64_t posted2 = s->t;
	post(s, 3, 100, 0, false);
	advance(s, MS);
	fill(s, 1, 60, false);
	discarded(s, 17, s->t, s->t + MS);
	/* Lost: request 1 completed, 2 got 30 bytes, 4 was posted. */
	advance(s, 2 * MS);
	const struct otr_state_req q[] = { { 2, 100, 30, 0 }, { 3, 100, 0, 0 }, { 4, 200, 0, 1 } };
	snapshot(s, 3, 0, 0, 0, q, 3);
	const struct otr_conn *c = conn(s);
	assert_int_equal(c->resyncs, 1);
	assert_int_equal(c->depth, 3);
	assert_int_equal(head_id(c), 2);
	assert_int_equal(otr_conn_req(c, 0)->fill, 30);
	assert_int_equal(otr_conn_req(c, 0)->post_ns, posted2); /* what it knew is kept */
	assert_false(otr_conn_req(c, 0)->flags & OTR_REQ_SNAPSHOT);
	assert_int_equal(otr_conn_req(c, 2)->id, 4);
	assert_int_equal(otr_conn_req(c, 2)->len, 200);
	assert_int_equal(otr_conn_req(c, 2)->post_ns, OTR_TS_NONE);
	assert_false(c->suspect);

	/* A deep queue: the snapshot lists 64, the rest follow with consecutive ids. */
	struct otr_state_req deep[OTR_STATE_MAX];
	for (int i = 0; i < OTR_STATE_MAX; i++)
		deep[i] = (struct otr_state_req){ (uint64_t)(10 + i), 100, 0, 0 };
	snapshot(s, 100, 0, 0, 0, deep, OTR_STATE_MAX);
	assert_int_equal(c->resyncs, 2);
	assert_int_equal(c->depth, 100);
	assert_int_equal(otr_conn_req(c, 99)->id, 109);
	assert_true(otr_conn_req(c, 99)->flags & OTR_REQ_PLACEHOLDER);
	assert_false(otr_conn_req(c, 63)->flags & OTR_REQ_PLACEHOLDER);
	s->req[80].len = 300;
	fill(s, 80, 20, false);
	assert_int_equal(otr_conn_req(c, 70)->len, 300);
	assert_false(otr_conn_req(c, 70)->flags & OTR_REQ_PLACEHOLDER);
	assert_int_equal(c->unknown, 0);
	scen_free(s);
	(void)state;
}

/* --- suspect ------------------------------------------------------------------------------ */

static void test_discarded_marks_suspect_until_the_next_snapshot(void **state)
{
	struct scen *s = scen_new(NULL);
	s->conn = 1;
	open_conn(s, "a", 1, "b", 2);
	post(s, 1, 100, 0, false);
	post(s, 2, 100, 0, false);
	fill(s, 1, 100, false);
	complete(s, 1, OTR_CR_FILLED);
	s->conn = 2;
	open_conn(s, "a", 1, "c", 3);
	s->conn = 3;
	open_conn(s, "a", 1, "d", 4);
	close_conn(s, 1);

	advance(s, MS);
	int64_t from = s->t - 500 * US;
	discarded(s, 42, from, s->t);
	s->conn = 1;
	const struct otr_conn *a = conn(s);
	s->conn = 2;
	const struct otr_conn *b = conn(s);
	s->conn = 3;
	assert_false(conn(s)->suspect); /* closed before: nothing of it was lost */
	assert_true(a->suspect && b->suspect);
	assert_int_equal(a->suspect_since_ns, from);

	s->conn = 1;
	fill(s, 2, 100, false);
	complete(s, 2, OTR_CR_FILLED);
	assert_int_equal(a->suspect_completions, 1);
	assert_true(otr_conn_recent(a, 0)->suspect);
	assert_false(otr_conn_recent(a, 1)->suspect);
	assert_int_equal(otr_hist_suspect(a->hist[OTR_LAT_POST][OTR_HC_ALL]), 1);
	assert_int_equal(otr_hist_count(a->hist[OTR_LAT_POST][OTR_HC_ALL]), 2);

	snapshot(s, 0, 0, 0, 0, NULL, 0);
	assert_false(a->suspect);
	assert_int_equal(a->suspect_since_ns, OTR_TS_NONE);
	assert_true(b->suspect);
	post(s, 3, 100, 0, false);
	fill(s, 3, 100, false);
	complete(s, 3, OTR_CR_FILLED);
	assert_int_equal(a->suspect_completions, 1);
	assert_false(otr_conn_recent(a, 0)->suspect);

	struct otr_model_totals t;
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	assert_int_equal(t.discards, 1);
	assert_int_equal(t.discarded_events, 42);
	assert_int_equal(t.suspect_completions, 1);
	assert_int_equal(otr_model_last(s->m, OTR_DISCARDED)->u.discarded.count, 42);
	scen_free(s);
	(void)state;
}

static void test_source_lost_marks_suspect(void **state)
{
	struct scen *s = scen_new(NULL);
	open_conn(s, "a", 1, "b", 2);
	source(s, OTR_SRC_LOST);
	struct otr_model_totals t;
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	assert_true(t.source_lost);
	assert_true(conn(s)->suspect);
	/* A connection first seen after the gap may have lost events too. */
	s->conn = 9;
	post(s, 5, 10, 0, false);
	assert_true(conn(s)->suspect);
	source(s, OTR_SRC_CONNECTED);
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	assert_false(t.source_lost);
	assert_int_equal(t.source_state, OTR_SRC_CONNECTED);
	s->conn = 1;
	assert_true(conn(s)->suspect);
	snapshot(s, 0, 0, 0, 0, NULL, 0);
	assert_false(conn(s)->suspect);
	scen_free(s);
	(void)state;
}

/* --- connections -------------------------------------------------------------------------- */

static void test_connections_keyed_by_process_and_id(void **state)
{
	struct scen *s = scen_new(NULL);
	s->vpid = 100;
	open_conn(s, "10.0.0.1", 80, "10.0.0.9", 1111);
	post(s, 1, 100, 0, false);
	s->vpid = 200;
	open_conn(s, "10.0.0.1", 81, "10.0.0.8", 2222);
	post(s, 2, 100, 0, false);
	post(s, 3, 100, 0, false);
	complete(s, 2, OTR_CR_ABORT);

	const struct otr_conn *a = otr_model_conn(s->m, 100, 1);
	const struct otr_conn *b = otr_model_conn(s->m, 200, 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(a->remote_port, 1111);
	assert_int_equal(b->remote_port, 2222);
	assert_int_equal(a->depth, 1);
	assert_int_equal(a->completed, 0);
	assert_int_equal(b->depth, 1);
	assert_int_equal(b->errors, 1);
	assert_null(otr_model_conn(s->m, 300, 1));
	const struct otr_conn *all[4];
	assert_int_equal(otr_model_conns(s->m, all, 4), 2);
	assert_ptr_equal(all[0], a);
	assert_ptr_equal(all[1], b);
	scen_free(s);
	(void)state;
}

static void test_closed_connections_are_evicted_oldest_first(void **state)
{
	struct otr_model_opts o = { .sz = sizeof(o), .max_closed = 4 };
	struct scen *s = scen_new(&o);
	s->conn = 1000;
	open_conn(s, "a", 1, "b", 2); /* stays open throughout */
	for (uint64_t i = 1; i <= 10; i++) {
		s->conn = i;
		open_conn(s, "a", 1, "b", 2);
		advance(s, MS);
		close_conn(s, 1);
	}
	struct otr_model_totals t;
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	assert_int_equal(t.conns, 5);
	assert_int_equal(t.conns_open, 1);
	assert_int_equal(t.conns_closed, 4);
	assert_int_equal(t.conns_evicted, 6);
	for (uint64_t i = 1; i <= 6; i++)
		assert_null(otr_model_conn(s->m, s->vpid, i));
	for (uint64_t i = 7; i <= 10; i++)
		assert_int_equal(otr_model_conn(s->m, s->vpid, i)->state, OTR_CS_CLOSED);
	assert_non_null(otr_model_conn(s->m, s->vpid, 1000));
	/* A late return for an evicted connection does not bring it back. */
	s->conn = 2;
	struct otr_event *e = ev(s, OTR_RETURN);
	e->u.ret.bytes = 10;
	feed(s, e);
	assert_null(otr_model_conn(s->m, s->vpid, 2));
	const struct otr_conn *all[8];
	assert_int_equal(otr_model_conns(s->m, all, 8), 5);
	assert_int_equal(all[0]->id, 1000);
	assert_int_equal(all[1]->id, 7);
	scen_free(s);
	(void)state;
}

static void test_R22_indications_outstanding_until_returned(void **state)
{
	struct scen *s = scen_new(NULL);
	open_conn(s, "a", 1, "b", 2);
	struct otr_event *e = ev(s, OTR_INDICATE);
	e->u.indicate.offered = 3000;
	e->u.indicate.consumed = 3000;
	e->u.indicate.result = 0;
	e->u.indicate.nbufs = 3;
	feed(s, e);
	e = ev(s, OTR_INDICATE);
	e->u.indicate.offered = 500;
	e->u.indicate.result = 3; /* NOT_ACCEPTED: the engine keeps its buffers */
	e->u.indicate.nbufs = 1;
	feed(s, e);
	e = ev(s, OTR_RETURN);
	e->u.ret.bytes = 1000;
	feed(s, e);
	const struct otr_conn *c = conn(s);
	assert_int_equal(c->indications, 2);
	assert_int_equal(c->ind_out_bufs, 2);
	assert_int_equal(c->ind_out_bytes, 2000);
	assert_int_equal(c->consumed_bytes, 3000);
	scen_free(s);
	(void)state;
}

/* Random events over a few connections, known requests or not: the queue stays sorted by id
 * with depth entries, and a snapshot always brings it back to the truth. */
static void test_random_events_never_corrupt_the_queue(void **state)
{
	struct scen *s = scen_new(NULL);
	uint64_t st = 0x9e3779b97f4a7c15ull;
	static const enum otr_kind kinds[] = { OTR_POST,	OTR_FILL,	  OTR_COMPLETE,
					       OTR_TIMER_START, OTR_TIMER_CANCEL, OTR_CONN_STATE,
					       OTR_DISCARDED,	OTR_RETURN,	  OTR_CONN_CLOSE,
					       OTR_CONN_OPEN,	OTR_INDICATE,	  OTR_DISCONNECT };
	for (int i = 0; i < 200000; i++) {
		s->conn = 1 + rnd(&st) % 4;
		advance(s, (int64_t)(rnd(&st) % MS));
		struct otr_event *e = ev(s, kinds[rnd(&st) % 12]);
		e->req = rnd(&st) % 40;
		e->u.post.buf_len = (uint32_t)(rnd(&st) % 2000);
		if (e->kind == OTR_FILL) {
			e->u.fill.bytes = (uint32_t)(rnd(&st) % 100);
			e->u.fill.total = (uint32_t)(rnd(&st) % 2000);
		} else if (e->kind == OTR_COMPLETE) {
			e->u.complete.reason = (int)(rnd(&st) % 10) - 1;
			e->u.complete.last_fill_to_complete_ns = (int64_t)(rnd(&st) % SEC) - 1000;
			e->u.complete.post_to_complete_ns = rnd(&st) % (100 * SEC);
		} else if (e->kind == OTR_CONN_STATE) {
			e->u.state.depth = (uint32_t)(rnd(&st) % 80);
			e->u.state.listed = e->u.state.depth < 64 ? e->u.state.depth : 64;
			for (uint32_t k = 0; k < e->u.state.listed; k++)
				e->u.state.reqs[k] = (struct otr_state_req){ 30 + k, 100, 5, 0 };
		}
		feed(s, e);
		const struct otr_conn *c = otr_model_conn(s->m, s->vpid, s->conn);
		if (!c)
			continue;
		for (uint32_t k = 1; k < c->depth; k++)
			assert_true(otr_conn_req(c, k - 1)->id < otr_conn_req(c, k)->id);
		assert_null(otr_conn_req(c, c->depth));
		if (e->kind == OTR_CONN_STATE && e->u.state.listed) {
			assert_int_equal(c->depth, e->u.state.depth);
			assert_int_equal(head_id(c), 30);
			assert_false(c->suspect);
		}
	}
	scen_free(s);
	(void)state;
}

/* 10,000 connections, 100 events each, interleaved: every one ends with its own counts. */
static void test_ten_thousand_connections_a_million_events(void **state)
{
	enum { CONNS = 10000, ROUNDS = 33 };
	struct otr_model *m = otr_model_new(NULL);
	struct otr_event e;
	int64_t t = T0;
	memset(&e, 0, sizeof(e));
	for (uint64_t c = 1; c <= CONNS; c++) {
		e.kind = OTR_CONN_OPEN;
		e.vpid = 1 + c % 3;
		e.conn = c;
		e.ts_ns = t += US;
		strcpy(e.u.open.remote_addr, "10.1.2.3");
		assert_int_equal(otr_model_feed(m, &e), 0);
	}
	for (uint64_t r = 1; r <= ROUNDS; r++) {
		for (int step = 0; step < 3; step++) {
			for (uint64_t c = 1; c <= CONNS; c++) {
				memset(&e, 0, sizeof(e));
				e.vpid = 1 + c % 3;
				e.conn = c;
				e.req = r;
				e.ts_ns = t += 100;
				if (step == 0) {
					e.kind = OTR_POST;
					e.u.post.buf_len = 1000;
				} else if (step == 1) {
					e.kind = OTR_FILL;
					e.u.fill.bytes = e.u.fill.total = (uint32_t)(c % 1000 + 1);
					e.u.fill.buf_len = 1000;
				} else {
					e.kind = OTR_COMPLETE;
					e.u.complete.reason = OTR_CR_PSH;
					e.u.complete.bytes = e.u.complete.placed =
						(uint32_t)(c % 1000 + 1);
					e.u.complete.post_to_complete_ns = 2 * CONNS * 100;
					e.u.complete.last_fill_to_complete_ns = CONNS * 100;
				}
				assert_int_equal(otr_model_feed(m, &e), 0);
			}
		}
	}
	struct otr_model_totals tot;
	otr_model_totals(m, OTR_TS_NONE, &tot);
	assert_int_equal(tot.events, CONNS * (1 + 3 * ROUNDS));
	assert_int_equal(tot.conns, CONNS);
	assert_int_equal(tot.unknown, 0);
	assert_int_equal(tot.completed_by[OTR_CR_PSH], CONNS * ROUNDS);
	const struct otr_hist *h = otr_model_hist(m, OTR_LAT_FIRST_BYTE, OTR_HC_PSH);
	assert_int_equal(otr_hist_count(h), CONNS * ROUNDS);
	assert_near(otr_hist_percentile(h, 50), CONNS * 100);
	for (uint64_t c = 1; c <= CONNS; c++) {
		const struct otr_conn *p = otr_model_conn(m, 1 + c % 3, c);
		assert_non_null(p);
		assert_int_equal(p->events, 1 + 3 * ROUNDS);
		assert_int_equal(p->completed, ROUNDS);
		assert_int_equal(p->depth, 0);
		assert_int_equal(p->bytes_placed, ROUNDS * (c % 1000 + 1));
	}
	assert_null(otr_model_conn(m, 1 + 2 % 3, 1)); /* conn 1 belongs to vpid 2 only */
	otr_model_free(m);
	(void)state;
}

/* The expander (event set 3's derived events) at 10,000 connections, interleaved: every
 * connection's push timer starts on its fill, and its stop is derived before the next event
 * of that connection alone, after a PSH completed the request. Its table grows past its first
 * 1,024 buckets; closed connections leave it, and one that opens again starts afresh. */
static void test_expander_ten_thousand_connections(void **state)
{
	enum { CONNS = 10000 };
	struct otr_expand *x = otr_expand_new();
	struct otr_event e, der[OTR_EXPAND_MAX];
	size_t before, n;
	int64_t t = T0;
	assert_non_null(x);
	for (int round = 0; round < 2; round++) {
		for (int step = 0; step < 5; step++) {
			for (uint64_t c = 1; c <= CONNS; c++) {
				memset(&e, 0, sizeof(e));
				e.vpid = 1 + c % 3;
				e.conn = c;
				e.req = 1;
				e.ts_ns = t += 100;
				switch (step) {
				case 0:
					e.kind = OTR_CONN_OPEN;
					e.u.open.event_set = 3;
					break;
				case 1:
					e.kind = OTR_POST;
					e.u.post.buf_len = 1000;
					break;
				case 2:
					e.kind = OTR_FILL;
					e.u.fill.bytes = e.u.fill.total = 100;
					e.u.fill.buf_len = 1000;
					e.u.fill.start = 1;
					e.u.fill.deadline_ns = (uint64_t)t + 500 * MS + c;
					break;
				case 3:
					e.kind = OTR_COMPLETE;
					e.u.complete.reason = OTR_CR_PSH;
					e.u.complete.bytes = e.u.complete.placed = 100;
					break;
				default:
					e.kind = OTR_CONN_CLOSE;
					break;
				}
				n = otr_expand(x, &e, der, &before);
				if (step == 2) { /* the start, after the fill */
					assert_int_equal(n, 1);
					assert_int_equal(before, 0);
					assert_int_equal(der[0].kind, OTR_TIMER_START);
					assert_int_equal(der[0].conn, c);
				} else if (step == 4) { /* the stop, before the close */
					assert_int_equal(n, 1);
					assert_int_equal(before, 1);
					assert_int_equal(der[0].kind, OTR_TIMER_CANCEL);
					assert_int_equal(der[0].vpid, 1 + c % 3);
					assert_int_equal(der[0].conn, c);
					assert_int_equal(der[0].u.timer.deadline_ns,
							 e.ts_ns - 2 * CONNS * 100 + 500 * MS + c);
				} else {
					assert_int_equal(n, 0);
				}
			}
		}
	}
	otr_expand_free(x);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_rebuilt_fifo_with_fills),
		cmocka_unit_test(test_timer_deadline_follows_the_guarded_request),
		cmocka_unit_test(test_R10_push_timer_latency_share_and_time_lost),
		cmocka_unit_test(test_rates_over_the_window),
		cmocka_unit_test(test_queues_count_their_connections_and_thread),
		cmocka_unit_test(test_queues_of_an_older_trace_are_queue_0),
		cmocka_unit_test(test_recent_completions_ring_keeps_the_newest),
		cmocka_unit_test(test_hist_percentiles_match_a_sort),
		cmocka_unit_test(test_hist_percentile_is_the_ceil_rank),
		cmocka_unit_test(test_resync_late_attach_adopts_the_snapshot),
		cmocka_unit_test(test_resync_late_attach_names_the_connection_from_the_snapshot),
		cmocka_unit_test(test_resync_disagreeing_snapshot_after_a_gap),
		cmocka_unit_test(test_discarded_marks_suspect_until_the_next_snapshot),
		cmocka_unit_test(test_source_lost_marks_suspect),
		cmocka_unit_test(test_connections_keyed_by_process_and_id),
		cmocka_unit_test(test_closed_connections_are_evicted_oldest_first),
		cmocka_unit_test(test_R22_indications_outstanding_until_returned),
		cmocka_unit_test(test_random_events_never_corrupt_the_queue),
		cmocka_unit_test(test_ten_thousand_connections_a_million_events),
		cmocka_unit_test(test_expander_ten_thousand_connections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
