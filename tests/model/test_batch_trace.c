/* Event sets 2 and 3 against the engine (issue 15): the core traces one fill per request per
 * receive batch, with the push timer restart it caused folded in (set 2), and the R08 start
 * too, no stop the readers can derive, and one complete opening each completion call (set 3).
 * The model rebuilt from those events, through the expander every reader runs (otr_expand),
 * must hold every request's fill level, the timer's deadline and every completion exactly as
 * the engine does, at the end of every batch and after every other call.
 *
 * The engine is the in-memory one with a trace sink of this test's own in place of LTTng: it
 * turns what the core hands the sink into decoded events (struct otr_event) as the reader
 * would, field for field as engine/src/trace.c passes them to the tracepoints, and feeds the
 * model at once. Batches are opened and closed around several deliveries as the wire does
 * around a burst of frames (rxq_batch_begin/end). The engine's own state is read with
 * rxq_snapshot (the conn_state snapshot's source) and the completions the application got.
 *
 *   test_batch_trace                      the unit tests
 *   test_batch_trace --jsonl FILE N       also writes the events of N random scenarios as
 *                                         offrx-events/1 lines (vpid = seed), for
 *                                         offrx-export --verify --input-jsonl
 *                                         (tests/verify/run_batched.sh) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>

#include "engine.h"
#include "model.h"

#define MS	   1000000ull
#define PUSH_NS	   (50 * MS)
#define VPID	   7
#define MAX_REQS   64
#define MAX_COMPL  4096
#define STREAM_LEN 4096

/* --- the test's trace sink: the core's calls as decoded events, into the model ------------- */

struct world {
	struct offrx_engine *eng;
	struct offrx_conn *conn;
	struct otr_model *m;
	uint64_t sink_events[OTR_KIND__COUNT];	  /* what the engine traced */
	uint64_t derived_events[OTR_KIND__COUNT]; /* what the expander added */
	struct otr_expand *x;
	uint64_t obs_fills, obs_restarts;
	uint64_t folded; /* completes that carried their request's last fill (set 4) */
	/* what the application got back, in order */
	struct {
		uint64_t req;
		uint32_t bytes;
		int status;
	} done[MAX_COMPL];
	uint32_t ndone;
	/* the application's requests and their buffers */
	struct offrx_recv_req reqs[MAX_REQS];
	struct offrx_seg segs[MAX_REQS];
	uint8_t *bufs[MAX_REQS];
	bool busy[MAX_REQS];
	uint32_t ind_held;
	struct offrx_ind_buf *held[256];
	uint64_t rng;
	uint32_t repost;  /* not 0: the completion callback posts a request of this length */
	uint32_t reposts; /* ... this many per call (1 if 0) */
	bool in_cb;	  /* the completion callback runs */
	bool call_open;	  /* the events handed on say: a completion call runs */
	uint8_t stream[STREAM_LEN];
};

static struct world *W; /* the sink has no context argument */
static const int on = 1;
static FILE *jsonl;	  /* --jsonl: where the events go too */
static uint64_t seed_now; /* the vpid of the scenario's lines */

/* One event as offrx-export's jsonl writes it: the field table, enums by name, the set-2
 * fields left out when 0. */
static void put_jsonl(const struct otr_event *e)
{
	size_t n;
	const struct otr_field *f = otr_event_fields(e->kind, &n);
	fprintf(jsonl, "{\"ts_ns\":%lld,\"ts_raw\":%llu,\"event\":\"%s\",\"vpid\":%llu%s",
		(long long)e->ts_ns, (unsigned long long)e->ts_raw, otr_kind_name(e->kind),
		(unsigned long long)seed_now, e->derived ? ",\"derived\":true" : "");
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)e + f[i].off;
		uint64_t u = 0;
		int64_t v = 0;
		if (f[i].type == OTR_F_STR) {
			fprintf(jsonl, ",\"%s\":\"%s\"", f[i].name, p);
			continue;
		}
		if (f[i].type == OTR_F_SEQ || f[i].type == OTR_F_BYTES)
			continue;	  /* conn_state and segment_payload: not traced here */
		memcpy(&u, p, f[i].size); /* little-endian: the low bytes */
		if (f[i].type == OTR_F_I || f[i].type >= OTR_F_STATUS)
			v = f[i].size == 4 ? (int64_t)(int32_t)u : (int64_t)u;
		if (f[i].type == OTR_F_UZ && !u)
			continue;
		fprintf(jsonl, ",\"%s\":", f[i].name);
		switch (f[i].type) {
		case OTR_F_BOOL:
			fputs(u & 0xff ? "true" : "false", jsonl);
			break;
		case OTR_F_I:
			fprintf(jsonl, "%lld", (long long)v);
			break;
		case OTR_F_STATUS:
			fprintf(jsonl, "\"%s\"", otr_status_name((int)v));
			break;
		case OTR_F_CREASON:
			fprintf(jsonl, "\"%s\"", otr_complete_reason_name((int)v));
			break;
		case OTR_F_CLOSE:
			fprintf(jsonl, "\"%s\"", otr_close_reason_name((int)v));
			break;
		case OTR_F_DROP:
			fprintf(jsonl, "\"%s\"", otr_drop_reason_name((int)v));
			break;
		default:
			fprintf(jsonl, "%llu", (unsigned long long)u);
			break;
		}
	}
	fputs("}\n", jsonl);
}

static void feed_one(const struct otr_event *e)
{
	if (e->derived)
		W->derived_events[e->kind]++;
	/* R19 as the events show it: calls do not nest, and a post made inside the callback
	 * shows between its complete_call and complete_end */
	if (e->kind == OTR_COMPLETE_CALL) {
		assert_false(W->call_open);
		W->call_open = true;
	} else if (e->kind == OTR_COMPLETE_END) {
		if (!W->call_open)
			fail_msg("a complete_end (%s) with no completion call open",
				 e->derived ? "derived" : "traced");
		W->call_open = false;
	} else if (e->kind == OTR_POST && W->in_cb && !W->call_open) {
		fail_msg("req %llu posted inside the completion callback shows outside its call",
			 (unsigned long long)e->req);
	}
	if (jsonl)
		put_jsonl(e);
	assert_int_equal(otr_model_feed(W->m, e), 0);
}

/* An event as the reader hands it on: with the events set 3 leaves to readers. */
static void feed(struct otr_event *e)
{
	static struct otr_event der[OTR_EXPAND_MAX];
	size_t before;
	e->vpid = VPID;
	e->ts_raw = offrx_mem_now(W->eng);
	e->ts_ns = (int64_t)e->ts_raw;
	W->sink_events[e->kind]++;
	size_t n = otr_expand(W->x, e, der, &before);
	for (size_t i = 0; i < before; i++)
		feed_one(&der[i]);
	feed_one(e);
	for (size_t i = before; i < n; i++)
		feed_one(&der[i]);
}

static void sink_event_port(const struct offrx_event *ev, uint16_t local_port, uint32_t call,
			    const struct offrx_trace_fill *fill)
{
	struct otr_event e;
	memset(&e, 0, sizeof(e));
	e.conn = ev->conn_id;
	e.req = ev->req_id;
	switch (ev->kind) {
	case OFFRX_E_POST:
		e.kind = OTR_POST;
		e.u.post.buf_len = ev->buf_len;
		e.u.post.prefill = (uint32_t)ev->bytes;
		e.u.post.no_push = (ev->flags & OFFRX_REQ_NO_PUSH) != 0;
		e.u.post.depth = ev->count;
		e.u.post.in_call = (uint8_t)ev->reason; /* as trace.c passes it */
		break;
	case OFFRX_E_TIMER_START:
	case OFFRX_E_TIMER_RESTART:
	case OFFRX_E_TIMER_CANCEL:
	case OFFRX_E_TIMER_EXPIRE:
		e.kind = ev->kind == OFFRX_E_TIMER_START     ? OTR_TIMER_START
			 : ev->kind == OFFRX_E_TIMER_RESTART ? OTR_TIMER_RESTART
			 : ev->kind == OFFRX_E_TIMER_CANCEL  ? OTR_TIMER_CANCEL
							     : OTR_TIMER_EXPIRE;
		e.u.timer.deadline_ns = ev->deadline_ns;
		e.u.timer.bytes = (uint32_t)ev->bytes;
		break;
	case OFFRX_E_COMPLETE:
		e.kind = OTR_COMPLETE;
		e.u.complete.status = ev->status;
		e.u.complete.bytes = (uint32_t)ev->bytes;
		e.u.complete.placed = (uint32_t)ev->total;
		e.u.complete.reason = (int)ev->reason;
		e.u.complete.post_to_complete_ns = ev->ts_ns - ev->t_post_ns;
		e.u.complete.last_fill_to_complete_ns =
			ev->total ? (int64_t)(ev->ts_ns - ev->t_last_fill_ns) : -1;
		e.u.complete.local_port = local_port;
		e.u.complete.call = call;
		if (fill) { /* set 4: as trace.c writes it */
			assert_int_equal(fill->req, ev->req_id);
			assert_true(fill->segs >= 1);
			e.u.complete.fill.bytes = fill->bytes;
			e.u.complete.fill.total = fill->total;
			e.u.complete.fill.buf_len = fill->buf_len;
			e.u.complete.fill.seq = fill->seq;
			e.u.complete.fill.psh = fill->psh;
			e.u.complete.fill.segs = fill->segs;
			e.u.complete.fill.deadline_ns = fill->deadline_ns;
			e.u.complete.fill.start = fill->start;
			W->folded++;
		}
		break;
	case OFFRX_E_COMPLETE_CALL:
	case OFFRX_E_COMPLETE_END:
		e.kind = ev->kind == OFFRX_E_COMPLETE_CALL ? OTR_COMPLETE_CALL : OTR_COMPLETE_END;
		e.u.call.count = ev->count;
		break;
	case OFFRX_E_INDICATE:
	case OFFRX_E_INDICATE_CALL:
		e.kind = ev->kind == OFFRX_E_INDICATE ? OTR_INDICATE : OTR_INDICATE_CALL;
		e.u.indicate.offered = ev->bytes;
		e.u.indicate.consumed = ev->kind == OFFRX_E_INDICATE ? ev->total : 0;
		e.u.indicate.result = ev->kind == OFFRX_E_INDICATE ? ev->status : 0;
		e.u.indicate.nbufs = ev->count;
		break;
	case OFFRX_E_RETURN:
		e.kind = OTR_RETURN;
		e.u.ret.bytes = (uint32_t)ev->total;
		break;
	case OFFRX_E_DISCONNECT:
	case OFFRX_E_UPLOAD:
	case OFFRX_E_CONN_CLOSE:
	case OFFRX_E_HANDBACK:
		e.kind = ev->kind == OFFRX_E_CONN_CLOSE ? OTR_CONN_CLOSE
			 : ev->kind == OFFRX_E_HANDBACK ? OTR_HANDBACK
							: OTR_DISCONNECT;
		e.u.close.reason = (int)ev->reason;
		e.u.close.bytes = ev->bytes;
		break;
	case OFFRX_E_FILL:
		fail_msg(
			"the core handed the sink a fill through event(): fills go through fill()");
		return;
	default:
		return;
	}
	feed(&e);
}

static void sink_event(const struct offrx_event *ev)
{
	if (ev->kind == OFFRX_E_COMPLETE)
		fail_msg("the core handed the sink a completion through event(): they go "
			 "through complete(), with the port");
	sink_event_port(ev, 0, 0, NULL);
}

static void sink_complete(const struct offrx_event *ev, uint16_t local_port, uint32_t call,
			  const struct offrx_trace_fill *fill)
{
	sink_event_port(ev, local_port, call, fill);
}

static void sink_fill(const struct offrx_trace_fill *f)
{
	struct otr_event e;
	memset(&e, 0, sizeof(e));
	e.kind = OTR_FILL;
	e.conn = f->conn;
	e.req = f->req;
	e.u.fill.bytes = f->bytes;
	e.u.fill.total = f->total;
	e.u.fill.buf_len = f->buf_len;
	e.u.fill.seq = f->seq;
	e.u.fill.psh = f->psh;
	e.u.fill.segs = f->segs;
	e.u.fill.deadline_ns = f->deadline_ns;
	e.u.fill.start = f->start;
	assert_true(f->segs >= 1);
	assert_true(!f->start || f->deadline_ns);
	feed(&e);
}

static void sink_conn_open(uint64_t conn, const struct link_conn_info *ci, uint64_t push_timer_ns)
{
	struct otr_event e;
	(void)ci;
	memset(&e, 0, sizeof(e));
	e.kind = OTR_CONN_OPEN;
	e.conn = conn;
	e.u.open.event_set = OFFRX_TRACE_EVENT_SET;
	e.u.open.push_timer_ns = push_timer_ns;
	feed(&e);
}

static void sink_conn_state(const struct offrx_tp_state *st)
{
	(void)st; /* the test reads the engine through rxq_snapshot itself */
}

static const struct offrx_trace_sink test_sink = {
	.on = {
		[OFFRX_E_POST] = &on, [OFFRX_E_FILL] = &on, [OFFRX_E_TIMER_START] = &on,
		[OFFRX_E_TIMER_RESTART] = &on, [OFFRX_E_TIMER_CANCEL] = &on,
		[OFFRX_E_TIMER_EXPIRE] = &on, [OFFRX_E_COMPLETE] = &on,
		[OFFRX_E_COMPLETE_CALL] = &on, [OFFRX_E_INDICATE] = &on, [OFFRX_E_RETURN] = &on,
		[OFFRX_E_DISCONNECT] = &on, [OFFRX_E_UPLOAD] = &on, [OFFRX_E_CONN_CLOSE] = &on,
		[OFFRX_E_COMPLETE_END] = &on, [OFFRX_E_INDICATE_CALL] = &on,
		[OFFRX_E_HANDBACK] = &on, [OFFRX_E_CONN_OPEN] = &on,
	},
	.event = sink_event,
	.complete = sink_complete,
	.fill = sink_fill,
	.conn_open = sink_conn_open,
	.conn_state = sink_conn_state,
};

/* The observer sees every placement and restart (per segment): counted to show the saving. */
static void observer(const struct offrx_event *ev, void *ctx)
{
	(void)ctx;
	W->obs_fills += ev->kind == OFFRX_E_FILL;
	W->obs_restarts += ev->kind == OFFRX_E_TIMER_RESTART;
}

/* --- the application ------------------------------------------------------------------------ */

static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	(void)conn;
	(void)ctx;
	W->in_cb = true;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		assert_true(W->ndone < MAX_COMPL);
		W->done[W->ndone].req = offrx_req_id(r);
		W->done[W->ndone].bytes = r->bytes_transferred;
		W->done[W->ndone].status = r->status;
		W->ndone++;
		W->busy[r - W->reqs] = false;
	}
	for (uint32_t k = 0; W->repost && k < (W->reposts ? W->reposts : 1); k++) {
		/* R19: a post from inside the callback */
		int i = 0;
		while (i < MAX_REQS && W->busy[i])
			i++;
		assert_true(i < MAX_REQS);
		free(W->bufs[i]);
		W->bufs[i] = calloc(1, W->repost);
		W->segs[i] = (struct offrx_seg){ .base = W->bufs[i], .len = W->repost };
		assert_int_equal(offrx_req_init(&W->reqs[i], &W->segs[i], 1, (uint64_t)i),
				 OFFRX_SUCCESS);
		W->busy[i] = true;
		assert_int_equal(offrx_post_recv(conn, &W->reqs[i]), OFFRX_PENDING);
	}
	W->in_cb = false;
}

static int on_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	(void)conn;
	(void)ctx;
	if (W->ind_held + 16 > 256 || (W->rng & 3) == 0)
		return OFFRX_NOT_ACCEPTED;
	*consumed = total;
	for (struct offrx_ind_buf *b = bufs; b; b = b->next)
		W->held[W->ind_held++] = b;
	return OFFRX_SUCCESS;
}

static uint64_t rnd(void)
{
	W->rng ^= W->rng >> 12;
	W->rng ^= W->rng << 25;
	W->rng ^= W->rng >> 27;
	return W->rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static void world_new(struct world *w, uint64_t seed)
{
	static const struct offrx_callbacks cb = {
		.recv_complete = on_complete,
		.recv_indicate = on_indicate,
	};
	memset(w, 0, sizeof(*w));
	W = w;
	w->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	for (uint32_t i = 0; i < STREAM_LEN; i++)
		w->stream[i] = (uint8_t)i;
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.push_timer_ns = PUSH_NS;
	o.cb = &cb;
	o.observer = observer;
	o.observer_mask = OFFRX_EVENT_BIT(OFFRX_E_FILL) | OFFRX_EVENT_BIT(OFFRX_E_TIMER_RESTART);
	assert_int_equal(offrx_mem_engine_create(&o, &w->eng), OFFRX_SUCCESS);
	w->eng->q.cfg.trace = &test_sink; /* in place of LTTng: before any connection */
	w->m = otr_model_new(NULL);
	assert_non_null(w->m);
	w->x = otr_expand_new();
	assert_non_null(w->x);
	assert_int_equal(offrx_mem_conn_open(w->eng, 1000, &w->conn), OFFRX_SUCCESS);
}

static void world_free(struct world *w)
{
	if (w->ind_held) {
		for (uint32_t i = 0; i + 1 < w->ind_held; i++)
			w->held[i]->next = w->held[i + 1];
		w->held[w->ind_held - 1]->next = NULL;
		offrx_return_indicated(w->eng, w->held[0]);
	}
	offrx_engine_destroy(w->eng, NULL);
	otr_model_free(w->m);
	otr_expand_free(w->x);
	for (int i = 0; i < MAX_REQS; i++)
		free(w->bufs[i]);
}

/* The model's queue, timer and completions against the engine's, now. */
static void check(struct world *w, const char *when)
{
	static uint64_t ids[MAX_REQS];
	static uint32_t lens[MAX_REQS], fills[MAX_REQS];
	static uint8_t no_push[MAX_REQS];
	struct rxq_snap sn;
	rxq_snapshot(&w->conn->rc, &sn, ids, lens, fills, no_push, MAX_REQS);
	const struct otr_conn *mc = otr_model_conn(w->m, VPID, offrx_conn_id(w->conn));
	assert_non_null(mc);
	if (mc->depth != sn.depth)
		fail_msg("%s: the model queues %u requests, the engine %u", when, mc->depth,
			 sn.depth);
	for (uint32_t i = 0; i < sn.listed; i++) {
		const struct otr_req *r = otr_conn_req(mc, i);
		if (r->id != ids[i] || r->len != lens[i] || r->fill != fills[i])
			fail_msg("%s: queue slot %u: the model has req %llu holding %u of %u, the "
				 "engine req %llu holding %u of %u",
				 when, i, (unsigned long long)r->id, r->fill, r->len,
				 (unsigned long long)ids[i], fills[i], lens[i]);
	}
	if (mc->timer_deadline_ns != sn.deadline)
		fail_msg("%s: the model's push timer deadline is %llu, the engine's %llu", when,
			 (unsigned long long)mc->timer_deadline_ns,
			 (unsigned long long)sn.deadline);
	if (mc->completed != w->ndone)
		fail_msg("%s: the model saw %llu completions, the application got %u", when,
			 (unsigned long long)mc->completed, w->ndone);
	for (uint32_t i = 0; i < mc->recent_count && i < w->ndone; i++) {
		const struct otr_completion *c = otr_conn_recent(mc, i);
		uint32_t k = w->ndone - 1 - i;
		if (c->req != w->done[k].req || c->bytes != w->done[k].bytes ||
		    c->status != w->done[k].status || c->unknown)
			fail_msg("%s: completion %u: the model has req %llu (%u bytes, status %d), "
				 "the application got req %llu (%u bytes, status %d)",
				 when, k, (unsigned long long)c->req, c->bytes, c->status,
				 (unsigned long long)w->done[k].req, w->done[k].bytes,
				 w->done[k].status);
	}
}

static int post_one(struct world *w, uint32_t len, uint32_t prefill, bool no_push)
{
	int i = 0;
	while (i < MAX_REQS && w->busy[i])
		i++;
	if (i == MAX_REQS)
		return -1;
	free(w->bufs[i]);
	w->bufs[i] = calloc(1, len);
	w->segs[i] = (struct offrx_seg){ .base = w->bufs[i], .len = len };
	assert_int_equal(offrx_req_init(&w->reqs[i], &w->segs[i], 1, (uint64_t)i), OFFRX_SUCCESS);
	w->reqs[i].bytes_transferred = prefill;
	w->reqs[i].flags = no_push ? OFFRX_REQ_NO_PUSH : 0;
	w->busy[i] = true;
	assert_int_equal(offrx_post_recv(w->conn, &w->reqs[i]), OFFRX_PENDING);
	rxq_run_deferred(
		&w->eng->q); /* the engine thread's turn: what the post left is handed up */
	return i;
}

/* One receive batch of n segments, the last (or any) with PSH as asked. */
static void batch(struct world *w, uint32_t n, uint32_t seg, uint32_t psh_pct)
{
	rxq_batch_begin(&w->eng->q);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = 1 + below(seg);
		uint32_t flags = below(100) < psh_pct ? OFFRX_MEM_PSH : 0;
		offrx_mem_deliver(w->conn, w->stream, len, flags);
		/* a segment's time within the burst: the clock moves a little */
		offrx_mem_set_time(w->eng, offrx_mem_now(w->eng) + below(3000));
	}
	rxq_batch_end(&w->eng->q);
}

/* --- the tests ------------------------------------------------------------------------------- */

/* A bulk burst into one large request: one fill for the whole batch, the restarts it caused
 * folded into it (no push_timer_restart event), the queue and deadline exact. */
static void bulk_batch_is_one_fill(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	world_new(w, 1);
	post_one(w, 1 << 20, 0, false);
	check(w, "after the post");
	rxq_batch_begin(&w->eng->q);
	for (int i = 0; i < 32; i++) {
		offrx_mem_deliver(w->conn, w->stream, 1448, 0);
		offrx_mem_set_time(w->eng, offrx_mem_now(w->eng) + 2000);
	}
	rxq_batch_end(&w->eng->q);
	check(w, "after the first batch");
	rxq_batch_begin(&w->eng->q);
	for (int i = 0; i < 32; i++) {
		offrx_mem_deliver(w->conn, w->stream, 1448, 0);
		offrx_mem_set_time(w->eng, offrx_mem_now(w->eng) + 2000);
	}
	rxq_batch_end(&w->eng->q);
	check(w, "after the second batch");
	/* one fill per batch: the first carries the timer's start (set 3), the readers derive
	 * the start event from it */
	assert_int_equal(w->sink_events[OTR_FILL], 2);
	assert_int_equal(w->sink_events[OTR_TIMER_START], 0);
	assert_int_equal(w->derived_events[OTR_TIMER_START], 1);
	assert_int_equal(w->sink_events[OTR_TIMER_RESTART], 0);
	assert_int_equal(w->obs_fills, 64);
	assert_int_equal(w->obs_restarts, 63);
	const struct otr_conn *mc = otr_model_conn(w->m, VPID, offrx_conn_id(w->conn));
	assert_int_equal(mc->timer_starts, 1);
	assert_int_equal(mc->timer_restarts, 1); /* the second batch's: its last deadline */
	/* the timer expires: a push_timer completion the model sees as the application does */
	offrx_mem_advance(w->eng, PUSH_NS + MS);
	check(w, "after the expiry");
	assert_int_equal(w->ndone, 1);
	world_free(w);
	free(w);
}

/* Event sets 3 and 4 in offrx-recv's bulk: 4 requests of 64 KiB kept posted, each reposted
 * from the completion callback, writes of 64 KiB whose last segment carries PSH. Per request
 * the engine traces a post (in_call 2: the callback's last traced event, so its end is
 * implied), the fill of the first receive batch (it carries the timer's R08 start) and one
 * complete that opens the call and carries the second batch's fill (set 4); the readers
 * derive that fill, complete_call, complete_end, the start and the stop. Two posts inside a
 * callback: in_call 1 and a traced complete_end (R19). A callback that posts nothing gets no
 * complete_end either: the next event of the connection ends it. */
static void set4_events_per_request_R19(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	world_new(w, 3);
	for (int i = 0; i < 4; i++)
		post_one(w, 65536, 0, false);
	w->repost = 65536;
	uint64_t before = 0;
	for (int k = 0; k < OTR_KIND__COUNT; k++)
		before += w->sink_events[k];
	uint32_t done0 = w->ndone;
	uint64_t folded0 = w->folded, fills0 = w->sink_events[OTR_FILL];
	for (int wr = 0; wr < 16; wr++) { /* 16 writes of 64 KiB: 45 x 1448 + 376 with PSH */
		rxq_batch_begin(&w->eng->q);
		for (int i = 0; i < 46; i++) {
			offrx_mem_deliver(w->conn, w->stream, i < 45 ? 1448 : 65536 - 45 * 1448,
					  i < 45 ? 0 : OFFRX_MEM_PSH);
			offrx_mem_set_time(w->eng, offrx_mem_now(w->eng) + 2000);
			if (i == 22) { /* two receive batches per write */
				rxq_batch_end(&w->eng->q);
				rxq_batch_begin(&w->eng->q);
			}
		}
		rxq_batch_end(&w->eng->q);
		check(w, "after a write");
	}
	uint32_t reqs = w->ndone - done0;
	assert_int_equal(reqs, 16);
	uint64_t traced = 0;
	for (int k = 0; k < OTR_KIND__COUNT; k++)
		traced += w->sink_events[k];
	traced -= before;
	/* post, the first batch's fill, complete with the second batch's fill */
	assert_true(traced <= 3 * reqs);
	assert_int_equal(w->folded - folded0, reqs);
	assert_int_equal(w->sink_events[OTR_FILL] - fills0, reqs);
	assert_int_equal(w->derived_events[OTR_FILL], w->folded);
	assert_int_equal(w->sink_events[OTR_COMPLETE_CALL], 0);
	assert_int_equal(w->derived_events[OTR_COMPLETE_CALL], w->ndone);
	assert_int_equal(w->sink_events[OTR_COMPLETE_END], 0);
	assert_int_equal(w->derived_events[OTR_COMPLETE_END], reqs); /* after each in_call 2 */
	assert_int_equal(w->sink_events[OTR_TIMER_START], 0);
	assert_int_equal(w->sink_events[OTR_TIMER_CANCEL], 0);
	assert_int_equal(w->derived_events[OTR_TIMER_START], reqs);
	assert_int_equal(w->derived_events[OTR_TIMER_CANCEL], reqs);
	const struct otr_conn *mc = otr_model_conn(w->m, VPID, offrx_conn_id(w->conn));
	assert_int_equal(mc->complete_calls, w->ndone);
	/* Two posts inside each callback: the end is traced. */
	w->reposts = 2;
	rxq_batch_begin(&w->eng->q);
	for (int i = 0; i < 46; i++)
		offrx_mem_deliver(w->conn, w->stream, 1448, 0);
	rxq_batch_end(&w->eng->q);
	check(w, "after a callback with two posts");
	assert_int_equal(w->sink_events[OTR_COMPLETE_END], 1);
	/* A callback that posts nothing: its end is derived before the next event. */
	w->repost = 0;
	uint64_t ends = w->sink_events[OTR_COMPLETE_END];
	rxq_batch_begin(&w->eng->q);
	for (int i = 0; i < 46; i++)
		offrx_mem_deliver(w->conn, w->stream, 1448, 0);
	rxq_batch_end(&w->eng->q);
	assert_true(w->ndone > done0 + reqs);
	assert_int_equal(w->sink_events[OTR_COMPLETE_END], ends);
	post_one(w, 1000, 0, false); /* the connection's next event */
	assert_true(w->derived_events[OTR_COMPLETE_END] >= 1);
	check(w, "after a callback with no post");
	world_free(w);
	free(w);
}

/* Random scenarios: posts of every kind, batches of 1..40 segments with and without PSH,
 * time passing (expiries), indications, FIN: the model equals the engine after each step. */
static uint64_t nseeds = 60;

static void random_batches_rebuild_exactly(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	char when[128];
	for (uint64_t seed = 1; seed <= nseeds; seed++) {
		seed_now = seed;
		world_new(w, seed);
		for (int step = 0; step < 200; step++) {
			uint32_t op = below(100);
			if (op < 30) {
				uint32_t len = 1 + below(below(4) ? 6000 : 70000);
				uint32_t pre = below(4) == 0 ? below(len) : 0;
				post_one(w, len, pre, below(5) == 0);
				snprintf(when, sizeof(when), "seed %llu step %d: post",
					 (unsigned long long)seed, step);
			} else if (op < 80) {
				uint32_t n = 1 + below(below(3) ? 40 : 4);
				batch(w, n, below(2) ? 1448 : 300, below(3) ? 3 : 30);
				snprintf(when, sizeof(when), "seed %llu step %d: batch of %u",
					 (unsigned long long)seed, step, n);
			} else if (op < 97) {
				offrx_mem_advance(w->eng, below(2 * PUSH_NS));
				snprintf(when, sizeof(when), "seed %llu step %d: time",
					 (unsigned long long)seed, step);
			} else if (w->ind_held) {
				for (uint32_t i = 0; i + 1 < w->ind_held; i++)
					w->held[i]->next = w->held[i + 1];
				w->held[w->ind_held - 1]->next = NULL;
				offrx_return_indicated(w->eng, w->held[0]);
				w->ind_held = 0;
				snprintf(when, sizeof(when), "seed %llu step %d: return",
					 (unsigned long long)seed, step);
			} else {
				continue;
			}
			check(w, when);
		}
		offrx_mem_fin(w->conn);
		snprintf(when, sizeof(when), "seed %llu: FIN", (unsigned long long)seed);
		check(w, when);
		world_free(w);
	}
	free(w);
}

/* --- conn_state snapshots, spread over their period ------------------------------------------ */

enum { SNAP_CONNS = 1000 };
static uint32_t snap_seen[SNAP_CONNS + 1], snap_step;

static void snap_conn_state(const struct offrx_tp_state *st)
{
	assert_true(st->conn >= 1 && st->conn <= SNAP_CONNS);
	snap_seen[st->conn]++;
	snap_step++;
}

static const int snap_on = 1;
static const struct offrx_trace_sink snap_sink = {
	.on = { [OFFRX_T_CONN_STATE] = &snap_on },
	.conn_state = snap_conn_state,
};

/* 1,000 connections, a 500 ms period, time in 1 ms steps: each step dumps its share (2 or 3
 * connections, never all), and every connection is dumped once in each period; after a jump
 * of a period or more, all of them at once. (Dumping all 10,000 of a real engine in one go
 * held its thread for milliseconds and made push timers late.) */
static void conn_state_snapshots_spread_over_the_period(void **state)
{
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.push_timer_ns = PUSH_NS;
	o.snapshot_ns = 500 * MS;
	struct offrx_engine *eng;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_SUCCESS);
	eng->q.cfg.trace = &snap_sink;
	memset(snap_seen, 0, sizeof(snap_seen));
	offrx_mem_advance(eng, MS); /* the first tick: conn_open tells every state */
	struct offrx_conn *c;
	for (uint32_t i = 0; i < SNAP_CONNS; i++)
		assert_int_equal(offrx_mem_conn_open(eng, 1000 + i, &c), OFFRX_SUCCESS);
	for (uint32_t period = 1; period <= 3; period++) {
		for (uint32_t ms = 0; ms < 500; ms++) {
			snap_step = 0;
			offrx_mem_advance(eng, MS);
			assert_in_range(snap_step, 1, 3);
		}
		for (uint32_t i = 1; i <= SNAP_CONNS; i++)
			assert_in_range(snap_seen[i], period - 1, period + 1);
	}
	uint32_t total = 0;
	for (uint32_t i = 1; i <= SNAP_CONNS; i++)
		total += snap_seen[i];
	assert_int_equal(total, 3 * SNAP_CONNS); /* 500 steps of 2 a step, three times */
	memset(snap_seen, 0, sizeof(snap_seen));
	snap_step = 0;
	offrx_mem_advance(eng, 700 * MS);
	assert_int_equal(snap_step, SNAP_CONNS);
	for (uint32_t i = 1; i <= SNAP_CONNS; i++)
		assert_int_equal(snap_seen[i], 1);
	offrx_engine_destroy(eng, NULL);
	(void)state;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bulk_batch_is_one_fill),
		cmocka_unit_test(set4_events_per_request_R19),
		cmocka_unit_test(random_batches_rebuild_exactly),
		cmocka_unit_test(conn_state_snapshots_spread_over_the_period),
	};
	if (argc == 4 && !strcmp(argv[1], "--jsonl")) {
		const struct CMUnitTest one[] = { cmocka_unit_test(
			random_batches_rebuild_exactly) };
		jsonl = fopen(argv[2], "w");
		if (!jsonl) {
			perror(argv[2]);
			return 2;
		}
		nseeds = strtoull(argv[3], NULL, 10);
		fputs("{\"event\":\"header\",\"schema\":\"offrx-events/1\"}\n", jsonl);
		int rc = cmocka_run_group_tests(one, NULL, NULL);
		return fclose(jsonl) || rc ? 1 : 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--jsonl FILE SEEDS]\n", argv[0]);
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
