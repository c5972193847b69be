/* The posting and push-timer rules (R01..R13 of docs/SEMANTICS.md), one scenario per case, on
 * the in-memory link and its virtual clock. Times are checked to the nanosecond against the
 * observer's TIMER_* events and the completion log; bytes against the stream pattern.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* --- helpers ----------------------------------------------------------------------------- */

static uint64_t now_ns(const struct sc *s)
{
	return offrx_mem_now(s->eng);
}

/* The nth (0-based) observer event of a kind on a connection, or NULL. */
static const struct offrx_event *nth_event(const struct sc *s, enum offrx_event_kind kind,
					   uint64_t conn_id, uint32_t n)
{
	for (uint32_t i = 0; i < s->nevents; i++) {
		const struct offrx_event *ev = &s->events[i];
		if (ev->kind == kind && ev->conn_id == conn_id && n-- == 0)
			return ev;
	}
	return NULL;
}

/* Assert the chain holds the stream bytes [stream_off, stream_off + n) at chain_off. */
static void assert_chain_holds(const struct offrx_recv_req *r, uint64_t chain_off, uint64_t conn_id,
			       uint64_t stream_off, uint64_t n)
{
	uint64_t pos = 0;
	for (uint32_t i = 0; i < r->nsegs && n; i++) {
		const uint8_t *b = r->segs[i].base;
		for (uint32_t k = 0; k < r->segs[i].len && n; k++, pos++) {
			if (pos < chain_off)
				continue;
			if (b[k] != sc_pattern(conn_id, stream_off))
				fail_msg("chain byte %llu (segment %u, offset %u) is %02x, want "
					 "stream "
					 "byte %llu = %02x",
					 (unsigned long long)pos, i, k, b[k],
					 (unsigned long long)stream_off,
					 sc_pattern(conn_id, stream_off));
			stream_off++;
			n--;
		}
	}
	if (n)
		fail_msg("chain ends %llu bytes short", (unsigned long long)n);
}

/* Assert n bytes of a segment still hold the harness's fill (0xEE): the engine never wrote them. */
static void assert_untouched(const struct offrx_seg *seg, uint32_t from, uint32_t n)
{
	const uint8_t *b = seg->base;
	for (uint32_t k = from; k < from + n; k++)
		if (b[k] != 0xEE)
			fail_msg("byte %u of a segment outside the buffer was written (%02x)", k,
				 b[k]);
}

/* Assert a request completed exactly once with this status, byte count and reason. */
static const struct sc_done *assert_done(const struct sc *s, const struct offrx_recv_req *r,
					 int status, uint32_t bytes, uint32_t reason)
{
	const struct sc_done *d = sc_done_of(s, r);
	assert_non_null(d);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(d->status, status);
	assert_int_equal(d->bytes, bytes);
	assert_int_equal(d->reason, reason);
	return d;
}

static uint64_t timer_deadline(const struct sc_conn *c)
{
	struct offrx_conn_stats st;
	assert_int_equal(offrx_conn_stats(c->conn, &st), OFFRX_SUCCESS);
	return st.timer_deadline_ns;
}

/* --- R01: posting returns PENDING, completions never run inside the post ---------------- */

static void test_R01_post_returns_pending(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = sc_req(1000, 0, 0);
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(s->upcalls_during_post, 0);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R01_zero_length_request_completes_after_post_returns(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *z = sc_req(0, 0, 0);
	assert_int_equal(sc_post(c, z), OFFRX_PENDING);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(s->upcalls_during_post, 0);
	advance_ms(s, 0); /* the engine runs */
	const struct sc_done *d = assert_done(s, z, OFFRX_SUCCESS, 0, OFFRX_CR_FILLED);
	assert_int_equal(d->placed, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R01_held_data_filling_request_completes_after_post_returns(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 1500, 0), 1500); /* held: nothing posted, indication refused */
	assert_int_equal(c->app_off, 0);
	struct offrx_recv_req *a = sc_req(1000, 0, 0), *b = sc_req(500, OFFRX_REQ_NO_PUSH, 0);
	a->next = b;
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(s->ndone, 0); /* both are full already, but not handed back inside post */
	assert_int_equal(s->upcalls_during_post, 0);
	advance_ms(s, 0);
	assert_int_equal(s->ndone, 2);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_done(s, b, OFFRX_SUCCESS, 500, OFFRX_CR_FILLED);
	assert_ptr_equal(s->done[0].req, a);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R02: a post carries a list; a request is one buffer over a segment chain ----------- */

static void test_R02_one_post_carries_a_linked_list(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r1 = sc_req(100, 0, 0), *r2 = sc_req(200, 0, 0),
			      *r3 = sc_req(300, OFFRX_REQ_NO_PUSH, 0);
	r1->next = r2;
	r2->next = r3;
	assert_int_equal(sc_post(c, r1), OFFRX_PENDING);
	assert_int_equal(sc_count_events(s, OFFRX_E_POST, c->id), 3);
	assert_int_equal(offrx_req_id(r1), 1);
	assert_int_equal(offrx_req_id(r2), 2);
	assert_int_equal(offrx_req_id(r3), 3);
	struct offrx_conn_stats st;
	assert_int_equal(offrx_conn_stats(c->conn, &st), OFFRX_SUCCESS);
	assert_int_equal(st.queue_depth, 3);
	assert_int_equal(offrx_conn_space(c->conn) >= 600, 1);

	assert_int_equal(deliver(c, 600, 0), 600);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, r1);
	assert_ptr_equal(s->done[1].req, r2);
	assert_ptr_equal(s->done[2].req, r3);
	assert_done(s, r1, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_done(s, r2, OFFRX_SUCCESS, 200, OFFRX_CR_FILLED);
	assert_done(s, r3, OFFRX_SUCCESS, 300, OFFRX_CR_FILLED);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R02_segment_chain_fills_in_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 7, 0, 13, 1, 64 }; /* 85 bytes, an empty segment inside */
	struct offrx_recv_req *r = sc_req_segs(lens, 5, 0);
	assert_int_equal(r->data_len, 85);
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	/* Deliveries that straddle segment boundaries. */
	assert_int_equal(deliver(c, 5, 0), 5);
	assert_int_equal(deliver(c, 10, 0), 10);
	assert_int_equal(deliver(c, 6, 0), 6);
	assert_null(sc_done_of(s, r));
	assert_int_equal(deliver(c, 64, 0), 64);
	assert_done(s, r, OFFRX_SUCCESS, 85, OFFRX_CR_FILLED);
	assert_chain_holds(r, 0, c->id, 0, 7);	 /* segment 0 */
	assert_chain_holds(r, 7, c->id, 7, 13);	 /* segment 2 */
	assert_chain_holds(r, 20, c->id, 20, 1); /* segment 3 */
	assert_chain_holds(r, 21, c->id, 21, 64);
	assert_int_equal(((uint8_t *)r->segs[4].base)[63], sc_pattern(c->id, 84));
	sc_check_stream(c);
	sc_free(s);
}

static void test_R02_buffer_starts_at_data_offset_inside_chain(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 10, 20, 30 };
	struct offrx_recv_req *r = sc_req_segs(lens, 3, OFFRX_REQ_NO_PUSH);
	r->data_offset = 15; /* the buffer is chain bytes [15, 55) */
	r->data_len = 40;
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	assert_int_equal(deliver(c, 100, 0), 100); /* 60 bytes left over, indicated */
	assert_done(s, r, OFFRX_SUCCESS, 40, OFFRX_CR_FILLED);
	assert_untouched(&r->segs[0], 0, 10);
	assert_untouched(&r->segs[1], 0, 5);
	assert_chain_holds(r, 15, c->id, 0, 40);
	assert_untouched(&r->segs[2], 25, 5); /* past data_len */
	assert_int_equal(r->data_offset, 55);
	assert_int_equal(r->data_len, 0);
	assert_int_equal(c->indications, 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R02_prefill_kept_and_new_bytes_follow_it_across_segments(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 8, 8 };
	struct offrx_recv_req *r = sc_req_segs(lens, 2, OFFRX_REQ_NO_PUSH);
	memset(r->segs[0].base, 'P', 5);
	r->bytes_transferred = 5;
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	assert_int_equal(deliver(c, 11, 0), 11);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 16, OFFRX_CR_FILLED);
	assert_int_equal(d->placed, 11);
	assert_memory_equal(r->segs[0].base, "PPPPP", 5);
	assert_chain_holds(r, 5, c->id, 0, 11);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R03: FIFO queueing and placement ---------------------------------------------------- */

static void test_R03_oldest_request_gets_first_bytes(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100), *b = post_nopush(c, 200),
			      *d = post_push(c, 300);
	assert_int_equal(deliver(c, 600, 0), 600);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_ptr_equal(s->done[2].req, d);
	assert_true(s->done[0].req_id < s->done[1].req_id);
	assert_true(s->done[1].req_id < s->done[2].req_id);
	assert_chain_holds(a, 0, c->id, 0, 100);
	assert_chain_holds(b, 0, c->id, 100, 200);
	assert_chain_holds(d, 0, c->id, 300, 300);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R03_partial_head_is_topped_up_before_next_request(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100);
	assert_int_equal(deliver(c, 60, 0), 60);
	struct offrx_recv_req *b = post_push(c, 100);
	assert_int_equal(deliver(c, 80, 0), 80); /* 40 finish a, 40 go to b */
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_null(sc_done_of(s, b));
	assert_chain_holds(a, 0, c->id, 0, 100);
	assert_chain_holds(b, 0, c->id, 100, 40);
	const struct offrx_event *f = sc_last_event(s, OFFRX_E_FILL);
	assert_int_equal(f->req_id, offrx_req_id(b));
	assert_int_equal(f->bytes, 40);
	assert_int_equal(f->seq, 1000 + 1 + 100); /* irs 1000: the 101st byte */
	assert_int_equal(deliver(c, 10, OFFRX_MEM_PSH), 10);
	assert_done(s, b, OFFRX_SUCCESS, 50, OFFRX_CR_PSH);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R04: concurrent posts ---------------------------------------------------------------- */

/* The harness's recorder is not thread-safe (its observer grows an array), so the threaded
 * scenarios drive an engine of their own: posting threads only post, the test thread is the
 * engine thread (deliveries, timers, every upcall). */
#define MT_LEN	     64u
#define MT_MAX_CONNS 2

struct mt_req {
	struct offrx_recv_req req; /* first: a completed request is its mt_req */
	struct offrx_seg seg;
	uint8_t buf[MT_LEN];
	uint32_t times_completed;
};

struct mt_conn {
	struct mt *m;
	struct offrx_conn *conn;
	uint64_t id;
	uint8_t *stream; /* the bytes the peer sends */
	uint64_t stream_len;
	uint64_t completed;
	uint64_t last_done_id;
	uint64_t post_events, last_post_id; /* under m->lock */
};

struct mt {
	struct offrx_engine *eng;
	struct mt_conn conns[MT_MAX_CONNS];
	pthread_t engine_thread;
	pthread_mutex_t lock; /* the observer runs on the posting threads too */
	uint32_t off_thread_upcalls;
	uint32_t errors; /* first one kept in first_error */
	char first_error[200];
};

struct mt_poster {
	struct mt_conn *mc;
	struct mt_req *reqs;
	uint32_t n;
	int bad_rc;
	int *left;	       /* posters still running */
	pthread_barrier_t *go; /* all start together, for the most overlap */
};

static void mt_fail(struct mt *m, const char *what, uint64_t a, uint64_t b)
{
	if (m->errors++ == 0)
		snprintf(m->first_error, sizeof(m->first_error), "%s (%llu, %llu)", what,
			 (unsigned long long)a, (unsigned long long)b);
}

static void mt_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct mt_conn *mc = ctx;
	struct mt *m = mc->m;
	if (!pthread_equal(pthread_self(), m->engine_thread))
		m->off_thread_upcalls++;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		struct mt_req *q = (struct mt_req *)r;
		uint64_t id = offrx_req_id(r);
		q->times_completed++;
		mc->completed++;
		if (id != mc->last_done_id + 1)
			mt_fail(m, "completion out of order: got id, want", id,
				mc->last_done_id + 1);
		mc->last_done_id = id;
		if (r->status != OFFRX_SUCCESS || r->bytes_transferred != MT_LEN ||
		    r->bytes_placed != MT_LEN)
			mt_fail(m, "request not filled: id, bytes", id, r->bytes_transferred);
		/* FIFO: the request with id k holds stream bytes [(k-1)*LEN, k*LEN). */
		for (uint32_t i = 0; i < MT_LEN; i++)
			if (q->buf[i] != sc_pattern(mc->id, (id - 1) * MT_LEN + i)) {
				mt_fail(m, "wrong byte: id, offset", id, i);
				break;
			}
	}
	(void)conn;
}

static void mt_observer(const struct offrx_event *ev, void *ctx)
{
	struct mt *m = ctx;
	if (ev->kind != OFFRX_E_POST)
		return;
	pthread_mutex_lock(&m->lock);
	for (uint32_t j = 0; j < MT_MAX_CONNS; j++) {
		struct mt_conn *mc = &m->conns[j];
		if (mc->conn && mc->id == ev->conn_id) {
			/* Posts on one connection are serialized: ids are handed out in order. */
			if (ev->req_id != mc->last_post_id + 1)
				mt_fail(m, "post event out of order: got id, want", ev->req_id,
					mc->last_post_id + 1);
			mc->last_post_id = ev->req_id;
			mc->post_events++;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

static const struct offrx_callbacks mt_callbacks = {
	.recv_complete = mt_complete, /* no recv_indicate: data waits for posts */
};

static struct mt *mt_new(uint32_t nconns, uint64_t stream_len)
{
	struct mt *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	pthread_mutex_init(&m->lock, NULL);
	m->engine_thread = pthread_self();
	struct offrx_engine_opts o = {
		.sz = sizeof(o), .cb = &mt_callbacks, .observer = mt_observer, .observer_ctx = m
	};
	assert_int_equal(offrx_mem_engine_create(&o, &m->eng), OFFRX_SUCCESS);
	for (uint32_t j = 0; j < nconns; j++) {
		struct mt_conn *mc = &m->conns[j];
		mc->m = m;
		assert_int_equal(offrx_mem_conn_open(m->eng, 5000 * j, &mc->conn), OFFRX_SUCCESS);
		offrx_conn_set_context(mc->conn, mc);
		mc->id = offrx_conn_id(mc->conn);
		mc->stream_len = stream_len;
		mc->stream = malloc(stream_len);
		assert_non_null(mc->stream);
		for (uint64_t i = 0; i < stream_len; i++)
			mc->stream[i] = sc_pattern(mc->id, i);
	}
	return m;
}

static void mt_free(struct mt *m)
{
	assert_int_equal(offrx_engine_destroy(m->eng, NULL), OFFRX_SUCCESS);
	for (uint32_t j = 0; j < MT_MAX_CONNS; j++)
		free(m->conns[j].stream);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct mt_req *mt_reqs(uint32_t n)
{
	struct mt_req *v = calloc(n, sizeof(*v));
	assert_non_null(v);
	for (uint32_t i = 0; i < n; i++) {
		v[i].seg.base = v[i].buf;
		v[i].seg.len = MT_LEN;
		assert_int_equal(offrx_req_init(&v[i].req, &v[i].seg, 1, i), OFFRX_SUCCESS);
		v[i].req.flags = OFFRX_REQ_NO_PUSH; /* complete when full: no timing in play */
	}
	return v;
}

static void *mt_post_all(void *arg)
{
	struct mt_poster *p = arg;
	pthread_barrier_wait(p->go);
	for (uint32_t i = 0; i < p->n; i++) {
		int rc = offrx_post_recv(p->mc->conn, &p->reqs[i].req);
		if (rc != OFFRX_PENDING && !p->bad_rc)
			p->bad_rc = rc ? rc : -1000;
	}
	__atomic_fetch_sub(p->left, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Feed every connection its whole stream, taking what the engine can store each time; while
 * posters are still running, wait for them to make room. */
static void mt_deliver_all(struct mt *m, uint32_t nconns, const int *posters_left)
{
	uint64_t sent[MT_MAX_CONNS] = { 0 };
	for (;;) {
		bool left = false, progress = false;
		for (uint32_t j = 0; j < nconns; j++) {
			struct mt_conn *mc = &m->conns[j];
			uint64_t n = mc->stream_len - sent[j];
			if (!n)
				continue;
			left = true;
			n = n > 1000 ? 1000 : n;
			uint64_t got = offrx_mem_deliver(mc->conn, mc->stream + sent[j], n, 0);
			sent[j] += got;
			progress |= got != 0;
		}
		offrx_mem_advance(m->eng, 0); /* hand up what the posts left ready */
		if (!left)
			break;
		if (!progress) {
			if (__atomic_load_n(posters_left, __ATOMIC_ACQUIRE) == 0)
				fail_msg("the engine stores nothing more and no post is coming");
			sched_yield();
		}
	}
}

static void test_R04_posts_on_two_connections_run_concurrently(void **state)
{
	enum { N = 5000 };
	struct mt *m = mt_new(2, (uint64_t)N * MT_LEN);
	struct mt_req *reqs[2] = { mt_reqs(N), mt_reqs(N) };
	int posters_left = 2;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 3);
	struct mt_poster p[2] = { { &m->conns[0], reqs[0], N, 0, &posters_left, &go },
				  { &m->conns[1], reqs[1], N, 0, &posters_left, &go } };
	pthread_t t[2];
	for (int j = 0; j < 2; j++)
		assert_int_equal(pthread_create(&t[j], NULL, mt_post_all, &p[j]), 0);
	pthread_barrier_wait(&go);
	/* The engine thread takes data, hands up completions and runs timers while both
	 * connections are posted to; the stream is larger than one connection may hold. */
	mt_deliver_all(m, 2, &posters_left);
	for (int j = 0; j < 2; j++)
		assert_int_equal(pthread_join(t[j], NULL), 0);
	pthread_barrier_destroy(&go);
	offrx_mem_advance(m->eng, 0);

	if (m->errors)
		fail_msg("%u error(s); first: %s", m->errors, m->first_error);
	assert_int_equal(m->off_thread_upcalls, 0); /* R01: never inside a post */
	for (int j = 0; j < 2; j++) {
		assert_int_equal(p[j].bad_rc, 0);
		assert_int_equal(m->conns[j].post_events, N);
		assert_int_equal(m->conns[j].completed, N);
		assert_int_equal(m->conns[j].last_done_id, N);
		for (uint32_t i = 0; i < N; i++) {
			/* One poster per connection: its i-th post got id i + 1. */
			assert_int_equal(offrx_req_id(&reqs[j][i].req), i + 1);
			assert_int_equal(reqs[j][i].times_completed, 1);
		}
	}
	mt_free(m);
	free(reqs[0]);
	free(reqs[1]);
}

static void test_R04_posts_on_one_connection_are_serialized(void **state)
{
	enum { N = 3000 };
	struct mt *m = mt_new(1, 2ull * N * MT_LEN);
	struct mt_conn *mc = &m->conns[0];
	struct mt_req *reqs[2] = { mt_reqs(N), mt_reqs(N) };
	int posters_left = 2;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct mt_poster p[2] = { { mc, reqs[0], N, 0, &posters_left, &go },
				  { mc, reqs[1], N, 0, &posters_left, &go } };
	pthread_t t[2];
	for (int j = 0; j < 2; j++)
		assert_int_equal(pthread_create(&t[j], NULL, mt_post_all, &p[j]), 0);
	for (int j = 0; j < 2; j++)
		assert_int_equal(pthread_join(t[j], NULL), 0);
	pthread_barrier_destroy(&go);
	if (m->errors)
		fail_msg("%u error(s); first: %s", m->errors, m->first_error);
	assert_int_equal(mc->post_events, 2 * N);
	struct offrx_conn_stats st;
	assert_int_equal(offrx_conn_stats(mc->conn, &st), OFFRX_SUCCESS);
	assert_int_equal(st.queue_depth, 2 * N);
	assert_int_equal(st.posted, 2 * N);
	/* Every id 1..2N handed out once; each poster's own requests in its posting order. */
	uint8_t *seen = calloc(2 * N + 1, 1);
	for (int j = 0; j < 2; j++) {
		assert_int_equal(p[j].bad_rc, 0);
		uint64_t prev = 0;
		for (uint32_t i = 0; i < N; i++) {
			uint64_t id = offrx_req_id(&reqs[j][i].req);
			assert_in_range(id, 1, 2 * N);
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			assert_true(id > prev);
			prev = id;
		}
	}
	free(seen);

	mt_deliver_all(m, 1, &posters_left);
	if (m->errors)
		fail_msg("%u error(s); first: %s", m->errors, m->first_error);
	assert_int_equal(mc->completed, 2 * N);
	for (int j = 0; j < 2; j++)
		for (uint32_t i = 0; i < N; i++)
			assert_int_equal(reqs[j][i].times_completed, 1);
	mt_free(m);
	free(reqs[0]);
	free(reqs[1]);
}

static void test_R04_post_while_earlier_requests_outstanding(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100);
	assert_int_equal(deliver(c, 30, 0), 30); /* a outstanding, partly filled, timer running */
	struct offrx_recv_req *b = sc_req(100, 0, 0), *d = sc_req(100, OFFRX_REQ_NO_PUSH, 0);
	b->next = d;
	assert_int_equal(sc_post(c, b), OFFRX_PENDING);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(offrx_req_id(b), 2);
	assert_int_equal(offrx_req_id(d), 3);
	assert_int_equal(deliver(c, 200, 0), 200); /* 70 finish a, 100 fill b, 30 into d */
	assert_int_equal(s->ndone, 2);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_done(s, b, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	struct offrx_recv_req *e = post_push(c, 100); /* behind d, which is outstanding */
	assert_int_equal(deliver(c, 90, 0), 90);      /* 70 fill d, 20 into e */
	assert_done(s, d, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	advance_ms(s, 500);
	assert_done(s, e, OFFRX_SUCCESS, 20, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(s->ndone, 4);
	assert_ptr_equal(s->done[3].req, e);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R05: posted requests take data; indication only with nothing posted ----------------- */

static void test_R05_posted_requests_take_data_without_indication(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000);
	assert_int_equal(deliver(c, 600, 0), 600);
	assert_int_equal(c->indications, 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_INDICATE, c->id), 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_FILL, c->id), 1);
	struct offrx_conn_stats st;
	assert_int_equal(offrx_conn_stats(c->conn, &st), OFFRX_SUCCESS);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(deliver(c, 400, 0), 400);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(c->indications, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R05_data_indicated_only_when_nothing_posted(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 500, 0), 500);
	assert_int_equal(c->indications, 1);
	assert_int_equal(c->app_off, 500);
	assert_int_equal(sc_last_event(s, OFFRX_E_INDICATE)->bytes, 500);
	struct offrx_recv_req *a = post_push(c, 300);
	assert_int_equal(deliver(c, 300, 0), 300);
	assert_done(s, a, OFFRX_SUCCESS, 300, OFFRX_CR_FILLED);
	assert_int_equal(c->indications, 1); /* a took them */
	assert_int_equal(deliver(c, 200, 0), 200);
	assert_int_equal(c->indications, 2); /* nothing posted again */
	assert_int_equal(c->app_off, 1000);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R06: push mode is the default; the mode is per request ------------------------------ */

static void test_R06_push_is_the_default_mode(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	uint8_t buf[256];
	struct offrx_seg seg = { buf, sizeof(buf) };
	struct offrx_recv_req r;
	assert_int_equal(offrx_req_init(&r, &seg, 1, 42), OFFRX_SUCCESS);
	assert_int_equal(r.flags, 0);
	assert_int_equal(sc_post(c, &r), OFFRX_PENDING);
	assert_int_equal(sc_last_event(s, OFFRX_E_POST)->flags, 0);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 1);
	advance_ms(s, 500);
	const struct sc_done *d = assert_done(s, &r, OFFRX_SUCCESS, 100, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->cookie, 42);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R06_mode_is_per_request(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *np = post_nopush(c, 100), *p = post_push(c, 100);
	assert_int_equal(nth_event(s, OFFRX_E_POST, c->id, 0)->flags, OFFRX_REQ_NO_PUSH);
	assert_int_equal(nth_event(s, OFFRX_E_POST, c->id, 1)->flags, 0);
	assert_int_equal(deliver(c, 50, 0), 50); /* into the no-push head: no timer */
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 0);
	advance_ms(s, 100);
	assert_int_equal(deliver(c, 100, 0), 100); /* fills np, 50 into p: p's timer starts */
	assert_done(s, np, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	const struct offrx_event *t = sc_last_event(s, OFFRX_E_TIMER_START);
	assert_non_null(t);
	assert_int_equal(t->req_id, offrx_req_id(p));
	assert_int_equal(t->deadline_ns, 600 * MS);
	advance_ms(s, 500);
	const struct sc_done *d = assert_done(s, p, OFFRX_SUCCESS, 50, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 600 * MS);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R07: prefill starts the push timer at post ----------------------------------------- */

static void test_R07_prefill_starts_timer_at_post(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	advance_ms(s, 100);
	struct offrx_recv_req *r = post_prefilled(c, 1000, 200);
	const struct offrx_event *t = sc_last_event(s, OFFRX_E_TIMER_START);
	assert_non_null(t);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 1);
	assert_int_equal(t->ts_ns, 100 * MS);
	assert_int_equal(t->deadline_ns, 600 * MS);
	assert_int_equal(t->req_id, offrx_req_id(r));
	assert_int_equal(t->bytes, 200);
	assert_int_equal(timer_deadline(c), 600 * MS);
	advance_ms(s, 499);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 200, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->placed, 0);
	assert_int_equal(d->t_ns, 600 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R07_prefilled_request_reports_prefill_plus_placed(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_prefilled(c, 1000, 200);
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_START)->deadline_ns, 500 * MS);
	advance_ms(s, 100);
	assert_int_equal(deliver(c, 300, 0), 300); /* restarts (R12): deadline 600 */
	advance_ms(s, 499);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 500, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->placed, 300);
	assert_int_equal(d->t_ns, 600 * MS);
	assert_chain_holds(r, 200, c->id, 0, 300); /* after the prefill */
	assert_int_equal(r->data_offset, 300);	   /* advanced by the placed bytes */
	assert_int_equal(r->data_len, 700);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R07_prefill_timer_does_not_outlive_filled_request(void **state)
{
	/* Prefilled, then filled: it completes as filled, and its timer is not left running for
	 * the next request, whose own timer starts with its first byte (R08). */
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_prefilled(c, 100, 40);
	struct offrx_recv_req *n = post_push(c, 100);
	advance_ms(s, 200);
	assert_int_equal(deliver(c, 60, 0), 60);
	assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	advance_ms(s, 1000);
	assert_null(sc_done_of(s, n)); /* empty: nothing for a push timer to complete */
	assert_int_equal(deliver(c, 10, 0), 10);
	const struct offrx_event *t = sc_last_event(s, OFFRX_E_TIMER_START);
	assert_int_equal(t->ts_ns, 1200 * MS);
	assert_int_equal(t->deadline_ns, 1700 * MS);
	advance_ms(s, 500);
	assert_done(s, n, OFFRX_SUCCESS, 10, OFFRX_CR_PUSH_TIMER);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R08: zero prefill: the timer starts with the first byte placed --------------------- */

static void test_R08_timer_starts_at_first_byte(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 0);
	assert_int_equal(timer_deadline(c), 0);
	advance_ms(s, 1000);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 100, 0), 100);
	const struct offrx_event *t = sc_last_event(s, OFFRX_E_TIMER_START);
	assert_non_null(t);
	assert_int_equal(t->ts_ns, 1000 * MS);
	assert_int_equal(t->deadline_ns, 1500 * MS);
	assert_int_equal(t->req_id, offrx_req_id(r));
	advance_ms(s, 499);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 1500 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R08_timer_starts_when_held_data_lands_at_post(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 100, 0), 100); /* held at t=0 */
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 0);
	advance_ms(s, 200);
	struct offrx_recv_req *r = post_push(c, 1000); /* the held bytes land now */
	const struct offrx_event *t = sc_last_event(s, OFFRX_E_TIMER_START);
	assert_non_null(t);
	assert_int_equal(t->ts_ns, 200 * MS);
	assert_int_equal(t->deadline_ns, 700 * MS);
	advance_ms(s, 499);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_PUSH_TIMER);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R08_timer_starts_at_first_byte_after_prefilled_request_completed(void **state)
{
	/* A request posted full (prefill == length) completes at once; no timer of its own may
	 * outlive it and stand in for the next request's, which starts when its first byte
	 * lands. */
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 300, 0), 300); /* held */
	advance_ms(s, 100);
	struct offrx_recv_req *full = post_prefilled(c, 100, 100);
	advance_ms(s, 0);
	const struct sc_done *d = assert_done(s, full, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_int_equal(d->placed, 0);
	advance_ms(s, 200);
	struct offrx_recv_req *r = post_push(c, 1000); /* t=300: the held bytes land */
	assert_int_equal(timer_deadline(c), 800 * MS);
	advance_ms(s, 499); /* t=799 */
	assert_null(sc_done_of(s, r));
	advance_ms(s, 1);
	d = assert_done(s, r, OFFRX_SUCCESS, 300, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 800 * MS);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R09: a filled request completes at once --------------------------------------------- */

static void test_R09_filled_push_request_completes_at_once(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000);
	advance_ms(s, 50);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(d->placed, 1000);
	assert_int_equal(d->t_ns, 50 * MS);
	advance_ms(s, 2000);
	assert_int_equal(s->ndone, 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R09_filled_nopush_request_completes_at_once(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_nopush(c, 1000);
	advance_ms(s, 50);
	assert_int_equal(deliver(c, 400, 0), 400);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 50);
	assert_int_equal(deliver(c, 600, 0), 600);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(d->t_ns, 100 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R09_filled_before_timer_expiry_completes_at_once(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000);
	assert_int_equal(deliver(c, 400, 0), 400); /* timer running, deadline 500 */
	advance_ms(s, 100);
	assert_int_equal(deliver(c, 600, 0), 600);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(d->t_ns, 100 * MS);
	assert_int_equal(timer_deadline(c), 0); /* nothing left to push */
	advance_ms(s, 1000);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R09_one_delivery_fills_several_requests(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100), *b = post_nopush(c, 100),
			      *d = post_push(c, 100);
	assert_int_equal(deliver(c, 250, 0), 250);
	assert_int_equal(s->ndone, 2);
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_done(s, b, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_null(sc_done_of(s, d));
	advance_ms(s, 500);
	assert_done(s, d, OFFRX_SUCCESS, 50, OFFRX_CR_PUSH_TIMER);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R09_fully_prefilled_request_completes_at_once(void **state)
{
	const uint32_t modes[] = { 0, OFFRX_REQ_NO_PUSH };
	for (int k = 0; k < 2; k++) {
		struct sc *s = sc_new(NULL);
		struct sc_conn *c = sc_open(s);
		advance_ms(s, 5);
		struct offrx_recv_req *r = sc_req(100, modes[k], 100);
		assert_int_equal(sc_post(c, r), OFFRX_PENDING);
		assert_int_equal(s->ndone, 0); /* R01 */
		advance_ms(s, 0);
		const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
		assert_int_equal(d->placed, 0);
		assert_int_equal(d->t_ns, 5 * MS);
		sc_check_stream(c);
		sc_free(s);
	}
}

/* --- R10: a partial push request completes on expiry or PSH ------------------------------ */

static void test_R10_partial_request_completes_on_timer_expiry(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 4096), *n = post_push(c, 4096);
	advance_ms(s, 10);
	assert_int_equal(deliver(c, 3000, 0), 3000);
	advance_ms(s, 499); /* t=509 */
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	assert_int_equal(s->ndone, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 3000, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->placed, 3000);
	assert_int_equal(d->t_ns, 510 * MS);
	const struct offrx_event *x = sc_last_event(s, OFFRX_E_TIMER_EXPIRE);
	assert_non_null(x);
	assert_int_equal(x->ts_ns, 510 * MS);
	assert_int_equal(x->req_id, offrx_req_id(r));
	assert_null(sc_done_of(s, n)); /* empty: not "partially filled" */
	advance_ms(s, 5000);
	assert_null(sc_done_of(s, n));
	sc_check_stream(c);
	sc_free(s);
}

static void test_R10_partial_request_completes_on_psh(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 4096);
	advance_ms(s, 20);
	assert_int_equal(deliver(c, 300, OFFRX_MEM_PSH), 300);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 300, OFFRX_CR_PSH);
	assert_int_equal(d->t_ns, 20 * MS);
	advance_ms(s, 2000);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R10_psh_after_partial_data_stops_the_timer(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 4096), *n = post_push(c, 4096);
	assert_int_equal(deliver(c, 100, 0), 100);
	advance_ms(s, 100);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 50, OFFRX_MEM_PSH), 50);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 150, OFFRX_CR_PSH);
	assert_int_equal(d->t_ns, 100 * MS);
	assert_int_equal(timer_deadline(c), 0);
	advance_ms(s, 1000);
	assert_int_equal(s->ndone, 1);
	assert_null(sc_done_of(s, n));
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R10_psh_spanning_requests_completes_filled_then_partial(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100), *b = post_push(c, 100),
			      *n = post_push(c, 100);
	assert_int_equal(deliver(c, 150, OFFRX_MEM_PSH), 150);
	assert_int_equal(s->ndone, 2);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_done(s, b, OFFRX_SUCCESS, 50, OFFRX_CR_PSH);
	assert_null(sc_done_of(s, n));
	sc_check_stream(c);
	sc_free(s);
}

static void test_R10_prefilled_request_behind_nopush_head_completes_on_timer(void **state)
{
	/* p's prefill timer (R07) expires while a no-push head it may not overtake holds it
	 * back. Once the head fills and p gets more bytes, p is a partially filled push request
	 * again: a push timer must run for it and complete it. */
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *np = post_nopush(c, 100);
	struct offrx_recv_req *p = sc_req(1000, 0, 10);
	assert_int_equal(sc_post(c, p), OFFRX_PENDING);
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_START)->deadline_ns, 500 * MS);
	assert_int_equal(deliver(c, 60, 0), 60);
	advance_ms(s, 600); /* expired at 500: nothing may complete (np is no-push) */
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 60, 0), 60); /* t=600: fills np, 20 bytes into p */
	assert_done(s, np, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_int_not_equal(timer_deadline(c), 0);
	advance_ms(s, 500);
	const struct sc_done *d = assert_done(s, p, OFFRX_SUCCESS, 30, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->placed, 20);
	assert_true(d->t_ns <= 1100 * MS);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R11: no-push requests: no timer, PSH ignored, complete when filled ------------------ */

static void test_R11_nopush_ignores_psh_and_runs_no_timer(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 300, OFFRX_MEM_PSH), 300);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 10 * 1000);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 300, OFFRX_MEM_PSH), 300);
	advance_ms(s, 10 * 1000);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_RESTART, c->id), 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 0);
	assert_int_equal(timer_deadline(c), 0);
	assert_int_equal(deliver(c, 400, 0), 400);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(d->t_ns, 20 * 1000 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R11_nopush_prefill_starts_no_timer(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = sc_req(1000, OFFRX_REQ_NO_PUSH, 200);
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 0);
	assert_int_equal(timer_deadline(c), 0);
	advance_ms(s, 2000);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 800, 0), 800);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(d->placed, 800);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R11_nopush_head_is_not_completed_by_the_timer_of_a_later_one(void **state)
{
	/* The no-push head stays until filled even while a later push request's timer runs. */
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *np = post_nopush(c, 100);
	struct offrx_recv_req *p = sc_req(100, 0, 10); /* push, prefilled: its timer starts */
	assert_int_equal(sc_post(c, p), OFFRX_PENDING);
	assert_int_equal(deliver(c, 60, OFFRX_MEM_PSH), 60);
	advance_ms(s, 2000);
	assert_null(sc_done_of(s, np));
	assert_null(sc_done_of(s, p)); /* may not overtake np (order) */
	assert_int_equal(deliver(c, 40, 0), 40);
	assert_done(s, np, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R11_nopush_partial_completes_on_disconnect(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 300, OFFRX_MEM_PSH), 300);
	advance_ms(s, 1000);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_done(s, r, OFFRX_SUCCESS, 300, OFFRX_CR_DISCONNECT);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R12: data restarts a running timer --------------------------------------------------- */

static void test_R12_data_restarts_running_timer(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 4096);
	assert_int_equal(deliver(c, 100, 0), 100); /* start: deadline 500 */
	advance_ms(s, 300);
	assert_int_equal(deliver(c, 100, 0), 100); /* restart: deadline 800 */
	advance_ms(s, 200);			   /* t=500, the first deadline */
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 200);
	assert_int_equal(deliver(c, 100, 0), 100); /* t=700, restart: deadline 1200 */
	advance_ms(s, 100);			   /* t=800, the second deadline */
	assert_int_equal(s->ndone, 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 1);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_RESTART, c->id), 2);
	const struct offrx_event *r1 = nth_event(s, OFFRX_E_TIMER_RESTART, c->id, 0);
	const struct offrx_event *r2 = nth_event(s, OFFRX_E_TIMER_RESTART, c->id, 1);
	assert_int_equal(r1->ts_ns, 300 * MS);
	assert_int_equal(r1->deadline_ns, 800 * MS);
	assert_int_equal(r2->ts_ns, 700 * MS);
	assert_int_equal(r2->deadline_ns, 1200 * MS);
	assert_int_equal(r2->req_id, offrx_req_id(r));
	assert_int_equal(timer_deadline(c), 1200 * MS);
	advance_ms(s, 399); /* t=1199 */
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 300, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 1200 * MS);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R12_restart_in_one_big_clock_step(void **state)
{
	/* One clock step passes the first deadline, another passes the restarted one: the
	 * request completes at the restarted deadline, not at the old one nor at the step's end. */
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 4096);
	assert_int_equal(deliver(c, 100, 0), 100);
	advance_ms(s, 450);
	assert_int_equal(deliver(c, 100, 0), 100); /* deadline 950 */
	advance_ms(s, 499);			   /* t=949, past 500 */
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 3000);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 200, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 950 * MS);
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_EXPIRE)->ts_ns, 950 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R12_data_into_next_request_restarts_timer(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100), *b = post_push(c, 1000);
	assert_int_equal(deliver(c, 50, 0), 50); /* deadline 500 */
	advance_ms(s, 200);
	assert_int_equal(deliver(c, 100, 0), 100); /* fills a; 50 into b: deadline 700 */
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_int_equal(timer_deadline(c), 700 * MS);
	advance_ms(s, 300); /* t=500 */
	assert_null(sc_done_of(s, b));
	advance_ms(s, 199);
	assert_null(sc_done_of(s, b));
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, b, OFFRX_SUCCESS, 50, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 700 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R12_data_restarts_prefill_timer(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_prefilled(c, 1000, 10); /* deadline 500 */
	advance_ms(s, 400);
	assert_int_equal(deliver(c, 90, 0), 90);
	const struct offrx_event *t = sc_last_event(s, OFFRX_E_TIMER_RESTART);
	assert_non_null(t);
	assert_int_equal(t->ts_ns, 400 * MS);
	assert_int_equal(t->deadline_ns, 900 * MS);
	advance_ms(s, 499);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->placed, 90);
	assert_int_equal(d->t_ns, 900 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R12_timer_started_again_after_expiry(void **state)
{
	/* After an expiry the timer is stopped; the next byte starts it anew (R08), it does not
	 * keep the old deadline. */
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000), *b = post_push(c, 1000);
	assert_int_equal(deliver(c, 10, 0), 10);
	advance_ms(s, 500);
	assert_done(s, a, OFFRX_SUCCESS, 10, OFFRX_CR_PUSH_TIMER);
	advance_ms(s, 250);
	assert_int_equal(deliver(c, 20, 0), 20); /* t=750 */
	assert_int_equal(timer_deadline(c), 1250 * MS);
	advance_ms(s, 499);
	assert_null(sc_done_of(s, b));
	advance_ms(s, 1);
	assert_done(s, b, OFFRX_SUCCESS, 20, OFFRX_CR_PUSH_TIMER);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R13: the push timer is configurable, 500 ms by default ----------------------------- */

static void test_R13_default_push_timer_is_500ms(void **state)
{
	struct offrx_engine_opts zero = { .sz = sizeof(zero) }; /* 0: the default */
	for (int k = 0; k < 2; k++) {
		struct sc *s = sc_new(k ? &zero : NULL);
		struct sc_conn *c = sc_open(s);
		struct offrx_recv_req *r = post_push(c, 1000);
		advance_ms(s, 7);
		assert_int_equal(deliver(c, 1, 0), 1);
		assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_START)->deadline_ns, 507 * MS);
		advance_ms(s, 499);
		assert_int_equal(s->ndone, 0);
		advance_ms(s, 1);
		const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 1, OFFRX_CR_PUSH_TIMER);
		assert_int_equal(d->t_ns, 507 * MS);
		sc_check_stream(c);
		sc_free(s);
	}
}

static void test_R13_configured_push_timer_50ms(void **state)
{
	struct offrx_engine_opts o = { .sz = sizeof(o), .push_timer_ns = 50 * MS };
	struct sc *s = sc_new(&o);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000), *p = NULL;
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_START)->deadline_ns, 50 * MS);
	advance_ms(s, 49);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 50 * MS);

	/* The configured value also drives restarts (R12) and prefill timers (R07). */
	struct offrx_recv_req *q = post_push(c, 1000);
	assert_int_equal(deliver(c, 10, 0), 10); /* t=50: deadline 100 */
	advance_ms(s, 30);
	assert_int_equal(deliver(c, 10, 0), 10); /* t=80: deadline 130 */
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_RESTART)->deadline_ns, 130 * MS);
	advance_ms(s, 49);
	assert_null(sc_done_of(s, q));
	advance_ms(s, 1);
	d = assert_done(s, q, OFFRX_SUCCESS, 20, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 130 * MS);
	p = post_prefilled(c, 1000, 5); /* t=130: deadline 180 */
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_START)->deadline_ns, 180 * MS);
	advance_ms(s, 50);
	d = assert_done(s, p, OFFRX_SUCCESS, 5, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 180 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R13_long_push_timer_beyond_timer_wheel_span(void **state)
{
	/* 10 s is longer than one turn of a 4096-slot, 1 ms wheel. */
	struct offrx_engine_opts o = { .sz = sizeof(o), .push_timer_ns = 10000 * MS };
	struct sc *s = sc_new(&o);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000), *b = post_push(c, 1000);
	assert_int_equal(deliver(c, 10, 0), 10);
	for (int i = 0; i < 99; i++)
		advance_ms(s, 101); /* t=9999 in odd steps */
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	const struct sc_done *d = assert_done(s, a, OFFRX_SUCCESS, 10, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 10000 * MS);

	assert_int_equal(deliver(c, 10, 0), 10); /* t=10000: deadline 20000, one big step */
	advance_ms(s, 9999);
	assert_null(sc_done_of(s, b));
	advance_ms(s, 1);
	d = assert_done(s, b, OFFRX_SUCCESS, 10, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(d->t_ns, 20000 * MS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R13_push_timer_off_the_tick_never_fires_early(void **state)
{
	struct offrx_engine_opts o = { .sz = sizeof(o), .push_timer_ns = 2500 * 1000 };
	struct sc *s = sc_new(&o);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000);
	advance_ns(s, 300 * 1000);
	assert_int_equal(deliver(c, 10, 0), 10); /* t=0.3 ms: deadline 2.8 ms */
	assert_int_equal(sc_last_event(s, OFFRX_E_TIMER_START)->deadline_ns, 2800 * 1000);
	while (s->ndone == 0 && now_ns(s) < 10 * MS)
		advance_ns(s, 100 * 1000);
	const struct sc_done *d = assert_done(s, r, OFFRX_SUCCESS, 10, OFFRX_CR_PUSH_TIMER);
	assert_true(d->t_ns <= 2800 * 1000 + 1 * MS); /* at most one tick late */
	assert_true(d->t_ns >= 2800 * 1000);
	sc_check_stream(c);
	sc_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R01_post_returns_pending),
		cmocka_unit_test(test_R01_zero_length_request_completes_after_post_returns),
		cmocka_unit_test(test_R01_held_data_filling_request_completes_after_post_returns),
		cmocka_unit_test(test_R02_one_post_carries_a_linked_list),
		cmocka_unit_test(test_R02_segment_chain_fills_in_order),
		cmocka_unit_test(test_R02_buffer_starts_at_data_offset_inside_chain),
		cmocka_unit_test(test_R02_prefill_kept_and_new_bytes_follow_it_across_segments),
		cmocka_unit_test(test_R03_oldest_request_gets_first_bytes),
		cmocka_unit_test(test_R03_partial_head_is_topped_up_before_next_request),
		cmocka_unit_test(test_R04_posts_on_two_connections_run_concurrently),
		cmocka_unit_test(test_R04_posts_on_one_connection_are_serialized),
		cmocka_unit_test(test_R04_post_while_earlier_requests_outstanding),
		cmocka_unit_test(test_R05_posted_requests_take_data_without_indication),
		cmocka_unit_test(test_R05_data_indicated_only_when_nothing_posted),
		cmocka_unit_test(test_R06_push_is_the_default_mode),
		cmocka_unit_test(test_R06_mode_is_per_request),
		cmocka_unit_test(test_R07_prefill_starts_timer_at_post),
		cmocka_unit_test(test_R07_prefilled_request_reports_prefill_plus_placed),
		cmocka_unit_test(test_R07_prefill_timer_does_not_outlive_filled_request),
		cmocka_unit_test(test_R08_timer_starts_at_first_byte),
		cmocka_unit_test(test_R08_timer_starts_when_held_data_lands_at_post),
		cmocka_unit_test(
			test_R08_timer_starts_at_first_byte_after_prefilled_request_completed),
		cmocka_unit_test(test_R09_filled_push_request_completes_at_once),
		cmocka_unit_test(test_R09_filled_nopush_request_completes_at_once),
		cmocka_unit_test(test_R09_filled_before_timer_expiry_completes_at_once),
		cmocka_unit_test(test_R09_one_delivery_fills_several_requests),
		cmocka_unit_test(test_R09_fully_prefilled_request_completes_at_once),
		cmocka_unit_test(test_R10_partial_request_completes_on_timer_expiry),
		cmocka_unit_test(test_R10_partial_request_completes_on_psh),
		cmocka_unit_test(test_R10_psh_after_partial_data_stops_the_timer),
		cmocka_unit_test(test_R10_psh_spanning_requests_completes_filled_then_partial),
		cmocka_unit_test(test_R10_prefilled_request_behind_nopush_head_completes_on_timer),
		cmocka_unit_test(test_R11_nopush_ignores_psh_and_runs_no_timer),
		cmocka_unit_test(test_R11_nopush_prefill_starts_no_timer),
		cmocka_unit_test(test_R11_nopush_head_is_not_completed_by_the_timer_of_a_later_one),
		cmocka_unit_test(test_R11_nopush_partial_completes_on_disconnect),
		cmocka_unit_test(test_R12_data_restarts_running_timer),
		cmocka_unit_test(test_R12_restart_in_one_big_clock_step),
		cmocka_unit_test(test_R12_data_into_next_request_restarts_timer),
		cmocka_unit_test(test_R12_data_restarts_prefill_timer),
		cmocka_unit_test(test_R12_timer_started_again_after_expiry),
		cmocka_unit_test(test_R13_default_push_timer_is_500ms),
		cmocka_unit_test(test_R13_configured_push_timer_50ms),
		cmocka_unit_test(test_R13_long_push_timer_beyond_timer_wheel_span),
		cmocka_unit_test(test_R13_push_timer_off_the_tick_never_fires_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
