/* The API used from inside callbacks and around teardown, on the in-memory link: returns made
 * inside an indication (R22), posts made inside completions and events and racing with an
 * upload (R14, R25, R26), destroy and close with data held (R23, R24), the window handed back
 * (R26) and the window promised to several connections sharing one pool (R24). Each test ends
 * with a stream check, so a lost, doubled or reordered byte fails it too.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "scenario.h"

/* Index of the first observer event of a kind for a connection at or after from. */
static uint32_t event_at(const struct sc *s, enum offrx_event_kind kind, uint64_t conn,
			 uint32_t from)
{
	for (uint32_t i = from; i < s->nevents; i++)
		if (s->events[i].kind == kind && s->events[i].conn_id == conn)
			return i;
	return UINT32_MAX;
}

/* Index of the observer's complete event of request id req on conn. */
static uint32_t complete_at(const struct sc *s, uint64_t conn, uint64_t req)
{
	for (uint32_t i = 0; i < s->nevents; i++)
		if (s->events[i].kind == OFFRX_E_COMPLETE && s->events[i].conn_id == conn &&
		    s->events[i].req_id == req)
			return i;
	return UINT32_MAX;
}

/* The fixtures' state (one_conn, logging_conn, checked_end, below). */
struct one {
	struct sc *s;
	struct sc_conn *c;
};

/* Order of application upcalls: what each callback saw, in turn. */
enum { UP_COMPLETE = 1, UP_EVENT };
struct upcall_log {
	uint32_t n;
	struct {
		int kind;
		int status;			  /* completion: the request's status */
		const struct offrx_recv_req *req; /* completion */
		int ev_type;			  /* event */
	} e[256];
};

/* --- R22: a buffer on offer is not the application's until it accepts it ----------------- */

static int inside_rc;

static void return_what_is_offered(struct sc_conn *c, struct offrx_ind_buf *bufs)
{
	inside_rc = offrx_return_indicated(c->s->eng, bufs);
}

static void test_R22_returning_an_offered_buffer_inside_its_indication_is_refused(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	c->ind_mode = SC_IND_REFUSE;
	c->on_indicate = return_what_is_offered;
	inside_rc = 99;
	assert_int_equal(deliver(c, 3000, 0), 3000);
	assert_int_equal(c->indications, 1);
	assert_int_equal(inside_rc, OFFRX_INVALID_PARAMETER);
	assert_int_equal(sc_count_events(s, OFFRX_E_RETURN, c->id), 0);
	/* The engine kept the data, whole: the next post gets it (R21). */
	assert_int_equal(conn_stats(c).held_bytes, 3000);
	assert_int_equal(engine_indicated_out(s), 0);
	struct offrx_recv_req *r = post_nopush(c, 3000);
	advance_ms(s, 0);
	assert_non_null(sc_done_of(s, r));
	assert_int_equal(r->bytes_transferred, 3000);
}

static void test_R22_offered_buffers_become_returnable_once_accepted(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	c->on_indicate = return_what_is_offered; /* ind_mode accepts */
	inside_rc = 99;
	assert_int_equal(deliver(c, 5000, 0), 5000);
	assert_int_equal(inside_rc, OFFRX_INVALID_PARAMETER);
	assert_int_equal(c->held_nbufs, 2);
	assert_int_equal(engine_indicated_out(s), 2);
	/* Buffers of an earlier indication may be returned inside the next one. */
	c->on_indicate = NULL;
	struct offrx_ind_buf *earlier = c->held_bufs;
	c->held_bufs = NULL;
	c->held_nbufs = 0;
	assert_int_equal(offrx_return_indicated(s->eng, earlier), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
}

/* --- R23, R24: destroy and close never drop what was acknowledged ------------------------ */

static void test_R23_destroy_hands_held_bytes_back_then_refuses(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s), *d = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 3000, 0), 3000);
	assert_int_equal(conn_stats(c).held_bytes, 3000);
	struct offrx_recv_req *r = post_push(d, 1000);
	assert_int_equal(deliver(d, 10, 0), 10);
	uint32_t out = 0;
	assert_int_equal(offrx_engine_destroy(s->eng, &out), OFFRX_INVALID_STATE);
	/* Every held byte reached the application, with a disconnect as for a RST. */
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->last_ev.reason, OFFRX_CLOSE_RST);
	assert_int_equal(c->last_ev.held_bytes, 3000);
	assert_int_equal(c->app_off, 3000);
	assert_int_equal(out, c->held_nbufs);
	assert_true(out >= 1);
	const struct offrx_event *hb = sc_last_event(s, OFFRX_E_HANDBACK);
	assert_non_null(hb);
	assert_int_equal(event_at(s, OFFRX_E_HANDBACK, c->id, 0) != UINT32_MAX, 1);
	/* The other connection's request came back aborted with its bytes. */
	assert_int_equal(sc_done_of(s, r)->status, OFFRX_REQUEST_ABORTED);
	assert_int_equal(r->bytes_transferred, 10);
	/* Still refused, with the count, until the buffers come back. */
	assert_int_equal(offrx_engine_destroy(s->eng, &out), OFFRX_INVALID_STATE);
	assert_int_equal(out, c->held_nbufs);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check(s);
	sc_check_stream(c);
	sc_check_stream(d);
	sc_free(s); /* succeeds now (sc_free asserts it) */
}

static void test_R24_closing_an_open_connection_hands_its_data_and_timer_back(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 1);
	assert_int_equal(offrx_mem_conn_close(c->conn), OFFRX_SUCCESS);
	/* The timer's stop is in the event stream, the request came back once, aborted. */
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_CANCEL, c->id), 1);
	assert_int_equal(sc_done_of(s, r)->status, OFFRX_REQUEST_ABORTED);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->events[OFFRX_EV_CLOSED], 1);

	/* Held data of a connection closed while open comes back with its disconnect. */
	struct sc_conn *d = sc_open(s);
	d->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(d, 700, 0), 700);
	assert_int_equal(offrx_mem_conn_close(d->conn), OFFRX_SUCCESS);
	assert_int_equal(d->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(d->last_ev.type, OFFRX_EV_CLOSED);
	assert_int_equal(d->app_off, 700);
	c->conn = d->conn = NULL;
	assert_int_equal(sc_return_all(d), OFFRX_SUCCESS);
	sc_check(s);
	sc_free(s);
}

static void count_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	(void)conn;
	(void)reqs;
	(*(uint32_t *)offrx_conn_context(conn))++;
	(void)ctx;
}

static void test_R23_destroy_without_an_event_callback_still_frees_the_engine(void **state)
{
	/* No recv_indicate, no conn_event: held data waits for a post; destroy's reset hands it
	 * back to nobody, so it returns at once and the engine can go. */
	static const struct offrx_callbacks cbs = { .recv_complete = count_complete };
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	struct offrx_engine *eng;
	struct offrx_conn *conn;
	uint32_t completions = 0, out = 99;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_SUCCESS);
	assert_int_equal(offrx_mem_conn_open(eng, 1000, &conn), OFFRX_SUCCESS);
	offrx_conn_set_context(conn, &completions);
	static uint8_t data[2000];
	assert_int_equal(offrx_mem_deliver(conn, data, sizeof(data), 0), sizeof(data));
	struct offrx_conn_stats st;
	assert_int_equal(offrx_conn_stats(conn, &st), OFFRX_SUCCESS);
	assert_int_equal(st.held_bytes, 2000);
	assert_int_equal(offrx_engine_destroy(eng, &out), OFFRX_SUCCESS);
	assert_int_equal(out, 0);
	assert_int_equal(completions, 0);
}

/* --- R25: the disconnect is indicated before any INVALID_STATE ---------------------------- */

static struct upcall_log ulog;
static struct offrx_recv_req *reposts[8];
static uint32_t nreposts;

static void log_complete_and_repost(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		ulog.e[ulog.n].kind = UP_COMPLETE;
		ulog.e[ulog.n].status = r->status;
		ulog.e[ulog.n].req = r;
		ulog.n++;
	}
	/* The application reposts on every completion, as a simple receiver does. */
	if (nreposts < 4) {
		struct offrx_recv_req *n = sc_req(100, 0, 0);
		reposts[nreposts++] = n;
		assert_int_equal(offrx_post_recv(c->conn, n), OFFRX_PENDING);
	}
}

static void log_event_and_post(struct sc_conn *c, const struct offrx_conn_event *ev)
{
	ulog.e[ulog.n].kind = UP_EVENT;
	ulog.e[ulog.n].ev_type = ev->type;
	ulog.n++;
	if ((ev->type == OFFRX_EV_DISCONNECT || ev->type == OFFRX_EV_UPLOAD_DONE) && nreposts < 8) {
		struct offrx_recv_req *n = sc_req(100, 0, 0);
		reposts[nreposts++] = n;
		assert_int_equal(offrx_post_recv(c->conn, n), OFFRX_PENDING);
	}
}

/* The fixtures: one engine with one connection (as *state), its upcall log and reposts reset;
 * a test ends with the engine's checks and the connection's stream check, then frees it. */
static int one_conn(void **state)
{
	struct one *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->s = sc_new(NULL);
	f->c = sc_open(f->s);
	memset(&ulog, 0, sizeof(ulog));
	nreposts = 0;
	*state = f;
	return 0;
}

/* One connection whose application logs its upcalls and reposts from them. */
static int logging_conn(void **state)
{
	one_conn(state);
	struct one *f = *state;
	f->c->on_complete = log_complete_and_repost;
	f->c->on_event = log_event_and_post;
	return 0;
}

static int checked_end(void **state)
{
	struct one *f = *state;
	sc_check(f->s);
	sc_check_stream(f->c);
	sc_free(f->s);
	free(f);
	return 0;
}

static uint32_t upcall_index(int kind, const struct offrx_recv_req *req, int ev_type)
{
	for (uint32_t i = 0; i < ulog.n; i++)
		if (ulog.e[i].kind == kind && (kind != UP_COMPLETE || ulog.e[i].req == req) &&
		    (kind != UP_EVENT || ulog.e[i].ev_type == ev_type))
			return i;
	return UINT32_MAX;
}

static void check_no_invalid_state_before_event(int ev_type)
{
	uint32_t ev = upcall_index(UP_EVENT, NULL, ev_type);
	assert_true(ev != UINT32_MAX);
	for (uint32_t i = 0; i < ev; i++)
		if (ulog.e[i].kind == UP_COMPLETE && ulog.e[i].status == OFFRX_INVALID_STATE)
			fail_msg("upcall %u: INVALID_STATE before the event (upcall %u)", i, ev);
}

/* a completed before the disconnect was indicated, the repost made in its completion after it,
 * and no INVALID_STATE came before it. */
static void check_first_repost_after_the_disconnect(const struct offrx_recv_req *a)
{
	check_no_invalid_state_before_event(OFFRX_EV_DISCONNECT);
	uint32_t ev = upcall_index(UP_EVENT, NULL, OFFRX_EV_DISCONNECT);
	assert_true(upcall_index(UP_COMPLETE, a, 0) < ev);
	assert_true(upcall_index(UP_COMPLETE, reposts[0], 0) > ev);
}

static void test_R25_repost_in_fin_completion_comes_back_after_the_event(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	struct offrx_recv_req *a = post_push(c, 1000);
	assert_int_equal(deliver(c, 300, 0), 300);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	advance_ms(s, 0);
	/* a (300 bytes) -> its repost, made before the event -> the event -> the repost comes
	 * back as the queue did (SUCCESS, 0 bytes) -> a post made inside the event or after it
	 * completes INVALID_STATE (R25). */
	assert_int_equal(sc_done_of(s, a)->status, OFFRX_SUCCESS);
	assert_int_equal(a->bytes_transferred, 300);
	check_first_repost_after_the_disconnect(a);
	assert_int_equal(sc_done_of(s, reposts[0])->status, OFFRX_SUCCESS);
	assert_int_equal(sc_done_of(s, reposts[0])->reason, OFFRX_CR_DISCONNECT);
	assert_int_equal(reposts[0]->bytes_transferred, 0);
	/* The post inside the event callback, and the repost in the completion after it. */
	assert_true(nreposts >= 3);
	for (uint32_t i = 1; i < nreposts; i++) {
		assert_int_equal(sc_times_completed(s, reposts[i]), 1);
		assert_int_equal(sc_done_of(s, reposts[i])->status, OFFRX_INVALID_STATE);
	}
	/* In the trace: the handback marks the indication; INVALID_STATE only after it. */
	uint32_t hb = event_at(s, OFFRX_E_HANDBACK, c->id, 0);
	assert_true(hb != UINT32_MAX);
	for (uint32_t i = 0; i < hb; i++)
		assert_false(s->events[i].kind == OFFRX_E_COMPLETE &&
			     s->events[i].status == OFFRX_INVALID_STATE);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
}

static void test_R25_repost_in_rst_completion_comes_back_aborted_after_the_event(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	struct offrx_recv_req *a = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 10, 0), 10);
	assert_int_equal(offrx_mem_rst(c->conn), OFFRX_SUCCESS);
	advance_ms(s, 0);
	check_first_repost_after_the_disconnect(a);
	assert_int_equal(sc_done_of(s, reposts[0])->status, OFFRX_REQUEST_ABORTED);
}

/* --- R26: upload ------------------------------------------------------------------------ */

static void test_R26_posts_during_upload_complete_upload_in_progress_after_it_invalid(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	struct offrx_recv_req *a = post_push(c, 1000), *b = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 1200, 0), 1200);
	/* a filled (a repost follows it); b holds 200. */
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	advance_ms(s, 0);
	uint32_t ev = upcall_index(UP_EVENT, NULL, OFFRX_EV_UPLOAD_DONE);
	assert_true(ev != UINT32_MAX);
	assert_int_equal(sc_done_of(s, a)->status, OFFRX_SUCCESS);
	assert_int_equal(sc_done_of(s, b)->status, OFFRX_UPLOAD_IN_PROGRESS);
	assert_int_equal(b->bytes_transferred, 200);
	/* reposts[0] was posted after a's completion, before the upload: queued, then
	 * UPLOAD_IN_PROGRESS with the queue. reposts[1] was posted inside the upload's
	 * completions, before UPLOAD_DONE: UPLOAD_IN_PROGRESS, after the event. Posts inside
	 * the event or later: INVALID_STATE (the choice README documents). */
	assert_int_equal(sc_done_of(s, reposts[0])->status, OFFRX_UPLOAD_IN_PROGRESS);
	assert_true(upcall_index(UP_COMPLETE, reposts[0], 0) < ev);
	assert_int_equal(sc_done_of(s, reposts[1])->status, OFFRX_UPLOAD_IN_PROGRESS);
	assert_true(upcall_index(UP_COMPLETE, reposts[1], 0) > ev);
	for (uint32_t i = 2; i < nreposts; i++)
		assert_int_equal(sc_done_of(s, reposts[i])->status, OFFRX_INVALID_STATE);
	check_no_invalid_state_before_event(OFFRX_EV_UPLOAD_DONE);
}

static void test_R26_upload_hands_back_the_window_last_advertised(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	const uint32_t budget = 256 << 10;
	struct offrx_recv_req *a = post_push(c, 1000);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(link_stats(c).last_wnd, budget + 900);
	/* The push timer completes a with 100 bytes: the space shrinks by the 900 bytes a no
	 * longer offers, but the peer was told budget + 900 and may send them (never shrunk). */
	advance_ms(s, 500);
	assert_int_equal(sc_done_of(s, a)->bytes, 100);
	assert_int_equal(offrx_conn_space(c->conn), budget);
	post_nopush(c, 50000); /* more space, not advertised yet */
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->last_ev.type, OFFRX_EV_UPLOAD_DONE);
	assert_int_equal(c->last_ev.rcv_wnd, budget + 900);
	assert_int_equal(link_stats(c).last_wnd, budget + 900);
}

/* A post that lands while the upload has dropped its lock to flush the delayed ACK, as from
 * another thread at that moment: the link's flush_ack posts it. */
static struct offrx_recv_req *racing;

static void flush_ack_and_post(struct offrx_conn *conn)
{
	if (racing)
		assert_int_equal(offrx_post_recv(conn, racing), OFFRX_PENDING);
}

static uint64_t zero_clock(void *ctx)
{
	(void)ctx;
	return 0;
}

static struct offrx_recv_req *order[8];
static uint32_t norder;

static void record_order(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	(void)conn;
	(void)ctx;
	for (struct offrx_recv_req *r = reqs; r; r = r->next)
		if (norder < 8)
			order[norder++] = r;
}

static void test_R14_post_racing_with_upload_completes_after_older_requests(void **state)
{
	static const struct link_ops racy = { .name = "racy", .flush_ack = flush_ack_and_post };
	static const struct offrx_callbacks cbs = { .recv_complete = record_order };
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	struct offrx_engine *eng;
	struct offrx_conn *conn;
	assert_int_equal(engine_create(&o, &racy, zero_clock, NULL, &eng), 0);
	assert_int_equal(engine_conn_open(eng, 1000, &conn, NULL), 0);
	struct offrx_recv_req *old1 = sc_req(100, 0, 0), *old2 = sc_req(100, 0, 0);
	racing = sc_req(100, 0, 0);
	norder = 0;
	old1->next = old2;
	assert_int_equal(offrx_post_recv(conn, old1), OFFRX_PENDING);
	assert_int_equal(offrx_conn_upload(conn), OFFRX_SUCCESS);
	rxq_run_deferred(&eng->q);
	assert_int_equal(norder, 3);
	assert_ptr_equal(order[0], old1);
	assert_ptr_equal(order[1], old2);
	assert_ptr_equal(order[2], racing);
	assert_int_equal(old1->status, OFFRX_UPLOAD_IN_PROGRESS);
	assert_int_equal(racing->status, OFFRX_UPLOAD_IN_PROGRESS);
	racing = NULL;
	assert_int_equal(offrx_engine_destroy(eng, NULL), OFFRX_SUCCESS);
}

/* The same from a real second thread: it posts while the engine thread uploads. Whatever the
 * interleaving, completions keep posting order and each request comes back once. */
struct poster {
	struct offrx_conn *conn;
	struct offrx_recv_req *reqs[64];
	int started;
};

static void *post_many(void *arg)
{
	struct poster *p = arg;
	__atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 64; i++)
		assert_int_equal(offrx_post_recv(p->conn, p->reqs[i]), OFFRX_PENDING);
	return NULL;
}

static void test_R14_concurrent_posts_and_upload_keep_posting_order(void **state)
{
	for (int round = 0; round < 20; round++) {
		struct sc *s = sc_new(NULL);
		struct sc_conn *c = sc_open(s);
		struct poster p = { .conn = c->conn };
		for (int i = 0; i < 64; i++)
			p.reqs[i] = sc_req(10, OFFRX_REQ_NO_PUSH, 0);
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, post_many, &p), 0);
		while (!__atomic_load_n(&p.started, __ATOMIC_ACQUIRE))
			; /* the thread is about to post */
		assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
		pthread_join(t, NULL);
		advance_ms(s, 0);
		assert_int_equal(s->ndone, 64);
		for (int i = 0; i < 64; i++) {
			assert_ptr_equal(s->done[i].req, p.reqs[i]);
			assert_int_equal(sc_times_completed(s, p.reqs[i]), 1);
		}
		/* INVALID_STATE only after the event was indicated: never before an
		 * UPLOAD_IN_PROGRESS one (posting order holds across the two). */
		bool invalid = false;
		for (int i = 0; i < 64; i++) {
			if (s->done[i].status == OFFRX_INVALID_STATE)
				invalid = true;
			else
				assert_false(invalid);
		}
		sc_check(s);
		sc_free(s);
	}
}

/* --- R24: no connection's window promises space another can take ------------------------- */

/* An engine of 64-byte chunks: pool chunks in its pool, hold chunks held per connection. */
static struct sc *small_chunks(uint32_t pool, uint32_t hold)
{
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.chunk_size = 64;
	o.pool_bytes = 64 * pool;
	o.hold_bytes_per_conn = 64 * hold;
	return sc_new(&o);
}

static void test_R24_window_promised_to_one_connection_is_not_given_to_another(void **state)
{
	struct sc *s = small_chunks(8, 8); /* the pool shared */
	struct sc_conn *a = sc_open(s), *b = sc_open(s);
	a->ind_mode = b->ind_mode = SC_IND_REFUSE;
	uint32_t wa = link_stats(a).last_wnd, wb = link_stats(b).last_wnd;
	assert_int_equal(wa, 512);
	assert_int_equal(wb, 0); /* a was promised the whole pool */
	/* b sends past its window first: the engine must not store into a's promise. */
	assert_int_equal(deliver(b, 512, 0), 0);
	assert_int_equal(deliver(a, wa, 0), wa);
	assert_int_equal(a->stored, 512);
	/* Posting on b gives it a window of its own: request room needs no pool. */
	post_nopush(b, 300);
	advance_ms(s, 0);
	assert_int_equal(offrx_conn_space(b->conn), 300);
	assert_int_equal(deliver(b, 300, 0), 300);
	sc_check(s);
	sc_check_stream(b);
	sc_free(s);
}

static void test_R24_every_byte_inside_each_advertised_window_is_stored(void **state)
{
	struct sc *s = small_chunks(40, 16);
	struct sc_conn *c[6];
	for (int i = 0; i < 6; i++) {
		c[i] = sc_open(s);
		c[i]->ind_mode = SC_IND_REFUSE;
	}
	/* Round after round every connection sends exactly its advertised window, in pieces;
	 * all of it is stored. Returns of indicated buffers and posts free room as it goes. */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 6; i++) {
			uint32_t w = link_stats(c[i]).last_wnd;
			uint32_t piece = 1 + (uint32_t)(round * 7 + i * 13) % 97;
			if (!w) /* a zero-window probe: may be stored or not, and is ACKed */
				deliver(c[i], 1, 0);
			while (w) {
				uint32_t k = piece < w ? piece : w;
				uint64_t got = deliver(c[i], k, 0);
				if (got != k)
					fail_msg("round %d conn %d: %u of %u bytes inside the "
						 "window "
						 "advertised (%u) were stored",
						 round, i, (unsigned)got, k, w);
				w -= k;
				if (link_stats(c[i]).last_wnd < w)
					fail_msg("conn %d: window shrank from %u", i, w);
				w = link_stats(c[i]).last_wnd;
				if (round % 3 == 0)
					break;
			}
			if ((round + i) % 4 == 0)
				post_nopush(c[i], 200 + 50 * i);
		}
		advance_ms(s, 1);
	}
	/* What the engine still holds comes back with the FIN: the whole stream arrived. */
	for (int i = 0; i < 6; i++)
		assert_int_equal(offrx_mem_fin(c[i]->conn), OFFRX_SUCCESS);
	advance_ms(s, 0);
	sc_check(s);
	uint64_t total = 0;
	for (int i = 0; i < 6; i++) {
		assert_true(c[i]->stored > 0); /* a post gives even a starved one a window */
		total += c[i]->stored;
		sc_check_stream(c[i]);
	}
	assert_true(total > 64 * 40); /* more than the pool */
	sc_free(s);
}

/* --- the trace events that bracket callbacks ------------------------------------------- */

static void post_one_more(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	(void)reqs;
	if (nreposts < 1) {
		reposts[nreposts++] = sc_req(100, 0, 0);
		assert_int_equal(offrx_post_recv(c->conn, reposts[0]), OFFRX_PENDING);
	}
}

static void test_R19_complete_end_and_indicate_call_bracket_the_callbacks(void **state)
{
	struct one *f = *state;
	struct sc *s = f->s;
	struct sc_conn *c = f->c;
	c->on_complete = post_one_more;
	post_push(c, 100);
	assert_int_equal(deliver(c, 100, 0), 100);
	/* complete_call(1), complete, [post from inside], complete_end(1). */
	uint32_t call = event_at(s, OFFRX_E_COMPLETE_CALL, c->id, 0);
	uint32_t post = event_at(s, OFFRX_E_POST, c->id, call);
	uint32_t end = event_at(s, OFFRX_E_COMPLETE_END, c->id, call);
	assert_true(call < post && post < end && end != UINT32_MAX);
	assert_int_equal(s->events[end].count, s->events[call].count);
	assert_int_equal(sc_count_events(s, OFFRX_E_COMPLETE_CALL, c->id),
			 sc_count_events(s, OFFRX_E_COMPLETE_END, c->id));
	/* The repost fills, then data with nothing posted is indicated: indicate_call before
	 * the callback, indicate (with the answer) after, naming the same offer. */
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(deliver(c, 300, 0), 300);
	uint32_t ic = event_at(s, OFFRX_E_INDICATE_CALL, c->id, 0);
	uint32_t in = event_at(s, OFFRX_E_INDICATE, c->id, 0);
	assert_true(ic < in && in != UINT32_MAX);
	assert_int_equal(s->events[ic].req_id, s->events[in].req_id);
	assert_int_equal(s->events[ic].bytes, 300);
	assert_int_equal(s->events[ic].count, s->events[in].count);
	/* Every byte stored is placed, consumed from an indication or handed back. */
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 77, 0), 77);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	uint32_t hb = event_at(s, OFFRX_E_HANDBACK, c->id, 0);
	assert_true(hb != UINT32_MAX);
	assert_int_equal(s->events[hb].bytes, 77);
	assert_int_equal(s->events[hb].reason, OFFRX_CLOSE_FIN);
	uint64_t placed = 0, consumed = 0;
	for (uint32_t i = 0; i < s->nevents; i++) {
		if (s->events[i].kind == OFFRX_E_FILL && s->events[i].conn_id == c->id)
			placed += s->events[i].bytes;
		if (s->events[i].kind == OFFRX_E_INDICATE && s->events[i].conn_id == c->id)
			consumed += s->events[i].total;
	}
	assert_int_equal(placed + consumed + s->events[hb].bytes, c->stored);
	(void)complete_at;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_R22_returning_an_offered_buffer_inside_its_indication_is_refused,
			one_conn, checked_end),
		cmocka_unit_test_setup_teardown(
			test_R22_offered_buffers_become_returnable_once_accepted, one_conn,
			checked_end),
		cmocka_unit_test(test_R23_destroy_hands_held_bytes_back_then_refuses),
		cmocka_unit_test(test_R23_destroy_without_an_event_callback_still_frees_the_engine),
		cmocka_unit_test(test_R24_closing_an_open_connection_hands_its_data_and_timer_back),
		cmocka_unit_test_setup_teardown(
			test_R25_repost_in_fin_completion_comes_back_after_the_event, logging_conn,
			checked_end),
		cmocka_unit_test_setup_teardown(
			test_R25_repost_in_rst_completion_comes_back_aborted_after_the_event,
			logging_conn, checked_end),
		cmocka_unit_test_setup_teardown(
			test_R26_posts_during_upload_complete_upload_in_progress_after_it_invalid,
			logging_conn, checked_end),
		cmocka_unit_test_setup_teardown(
			test_R26_upload_hands_back_the_window_last_advertised, one_conn,
			checked_end),
		cmocka_unit_test(test_R14_post_racing_with_upload_completes_after_older_requests),
		cmocka_unit_test(test_R14_concurrent_posts_and_upload_keep_posting_order),
		cmocka_unit_test(
			test_R24_window_promised_to_one_connection_is_not_given_to_another),
		cmocka_unit_test(test_R24_every_byte_inside_each_advertised_window_is_stored),
		cmocka_unit_test_setup_teardown(
			test_R19_complete_end_and_indicate_call_bracket_the_callbacks, one_conn,
			checked_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
