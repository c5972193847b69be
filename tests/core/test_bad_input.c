/* API misuse and hostile input: every bad call is refused with OFFRX_INVALID_PARAMETER (or gets
 * a defined status), nothing crashes, nothing is queued by a refused post, and no request or
 * byte is lost: a refused request can be fixed and posted, and then completes exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "scenario.h"

#define IRS_NEXT 1001u /* sc_open uses irs 1000 */

/* A refused post left nothing behind: nothing queued, counted or completed. */
static void assert_nothing_queued(struct sc *s, const struct sc_conn *c, uint32_t depth,
				  uint64_t posted, uint32_t ndone)
{
	advance_ms(s, 0);
	struct offrx_conn_stats st = conn_stats(c);
	assert_int_equal(st.queue_depth, depth);
	assert_int_equal(st.posted, posted);
	assert_int_equal(s->ndone, ndone);
}

/* Post r (which must be valid now), fill it and check it completes exactly once more. */
static void assert_completes_once(struct sc *s, struct sc_conn *c, struct offrx_recv_req *r)
{
	uint32_t before = sc_times_completed(s, r);
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	uint32_t room = r->data_len - r->bytes_transferred;
	if (room)
		assert_int_equal(deliver(c, room, 0), room);
	advance_ms(s, 0);
	assert_int_equal(sc_times_completed(s, r), before + 1);
	assert_int_equal(sc_done_of(s, r)->status, OFFRX_SUCCESS);
}

/* Buffers of the application, taken off the harness's list so a test can misuse them. */
static struct offrx_ind_buf *take_held(struct sc_conn *c)
{
	struct offrx_ind_buf *b = c->held_bufs;
	c->held_bufs = NULL;
	c->held_nbufs = 0;
	return b;
}

static uint32_t list_len(const struct offrx_ind_buf *b)
{
	uint32_t n = 0;
	for (; b; b = b->next)
		n++;
	return n;
}

/* --- NULL handles ----------------------------------------------------------------------- */

static void test_null_handles_are_refused_by_every_call(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = sc_req(100, 0, 0);
	struct offrx_conn_stats cst;
	struct offrx_engine_stats est;
	struct offrx_mem_link_stats ls;
	struct offrx_layer *layer = NULL;
	static const struct offrx_layer_ops ops = { .sz = sizeof(struct offrx_layer_ops) };
	uint8_t data[16] = { 0 };
	struct offrx_seg seg = { data, sizeof(data) };

	assert_int_equal(offrx_post_recv(NULL, r), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_post_recv(c->conn, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_return_indicated(NULL, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_return_indicated(s->eng, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_conn_upload(NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_conn_stats(NULL, &cst), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_conn_stats(c->conn, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_engine_stats(NULL, &est), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_engine_stats(s->eng, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_engine_destroy(NULL, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_layer_push(NULL, &ops, NULL, &layer), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_layer_push(c->conn, NULL, NULL, &layer), OFFRX_INVALID_PARAMETER);
	assert_null(layer);
	assert_int_equal(offrx_layer_post_down(NULL, r), OFFRX_INVALID_PARAMETER);
	offrx_layer_complete_up(NULL, r);
	assert_null(offrx_layer_conn(NULL));
	assert_int_equal(offrx_req_init(NULL, &seg, 1, 0), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_req_id(NULL), 0);
	assert_int_equal(offrx_conn_space(NULL), 0);
	assert_int_equal(offrx_conn_id(NULL), 0);
	assert_null(offrx_conn_context(NULL));
	offrx_conn_set_context(NULL, s);
	assert_int_equal(offrx_mem_engine_create(NULL, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_conn_open(NULL, 1, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_conn_open(s->eng, 1, NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_deliver(NULL, data, sizeof(data), 0), 0);
	assert_int_equal(offrx_mem_fin(NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_rst(NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_conn_close(NULL), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_link_stats(NULL, &ls), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_mem_link_stats(c->conn, NULL), OFFRX_INVALID_PARAMETER);
	offrx_mem_advance(NULL, MS);
	assert_int_equal(offrx_mem_now(NULL), 0);
	assert_string_equal(offrx_status_str(-99), "UNKNOWN");

	/* None of that touched the engine, the connection or the request. */
	struct offrx_engine_stats es;
	assert_int_equal(offrx_engine_stats(s->eng, &es), OFFRX_SUCCESS);
	assert_int_equal(es.conns, 1);
	assert_int_equal(conn_stats(c).posted, 0);
	assert_int_equal(offrx_req_id(r), 0);
	assert_completes_once(s, c, r);
	sc_check_stream(c);
	sc_free(s);
}

/* --- posting the same request again ----------------------------------------------------- */

static void test_post_twice_while_queued_is_refused_R17(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000);
	assert_int_equal(sc_post(c, a), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 1, 1, 0);
	assert_int_equal(offrx_req_id(a), 1);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	advance_ms(s, 1000);
	assert_int_equal(sc_times_completed(s, a), 1);
	assert_int_equal(sc_done_of(s, a)->status, OFFRX_SUCCESS);
	assert_int_equal(sc_done_of(s, a)->bytes, 1000);
	/* Once completed it is the application's again and may be posted anew. */
	assert_int_equal(offrx_req_init(a, a->segs, a->nsegs, 7), OFFRX_SUCCESS);
	assert_completes_once(s, c, a);
	assert_int_equal(sc_times_completed(s, a), 2);
	sc_check_stream(c);
	sc_free(s);
}

static void test_post_again_before_its_completion_is_handed_up_is_refused_R17(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	/* A zero-length request is complete at post, but handed up only later (R01). */
	struct offrx_recv_req *z = sc_req(0, 0, 0);
	assert_int_equal(sc_post(c, z), OFFRX_PENDING);
	assert_int_equal(sc_post(c, z), OFFRX_INVALID_PARAMETER);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 0);
	assert_int_equal(sc_times_completed(s, z), 1);
	assert_int_equal(conn_stats(c).posted, 1);
	advance_ms(s, 1000);
	assert_int_equal(sc_times_completed(s, z), 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_list_holding_a_queued_request_queues_nothing(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 100);
	struct offrx_recv_req *b = sc_req(100, 0, 0);
	b->next = a;
	assert_int_equal(sc_post(c, b), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 1, 1, 0);
	assert_int_equal(offrx_req_id(b), 0);
	b->next = NULL;
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_completes_once(s, c, b);
	assert_int_equal(sc_times_completed(s, a), 1);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	sc_check_stream(c);
	sc_free(s);
}

static void test_same_request_twice_in_one_list_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = sc_req(100, 0, 0), *b = sc_req(100, 0, 0);
	a->next = b;
	b->next = a; /* a, b, a, b, ... */
	assert_int_equal(sc_post(c, a), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	/* A request linked to itself. */
	struct offrx_recv_req *d = sc_req(100, 0, 0);
	d->next = d;
	assert_int_equal(sc_post(c, d), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	/* Unlinked, all three are fine. */
	a->next = b;
	b->next = NULL;
	d->next = NULL;
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(deliver(c, 200, 0), 200);
	assert_completes_once(s, c, d);
	assert_int_equal(sc_times_completed(s, a), 1);
	assert_int_equal(sc_times_completed(s, b), 1);
	assert_int_equal(s->ndone, 3);
	sc_check_stream(c);
	sc_free(s);
}

static void test_list_looping_back_on_itself_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r[4];
	for (uint32_t i = 0; i < 4; i++)
		r[i] = sc_req(50, 0, 0);
	r[0]->next = r[1];
	r[1]->next = r[2];
	r[2]->next = r[3];
	r[3]->next = r[1]; /* loops back to the second */
	assert_int_equal(sc_post(c, r[0]), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(offrx_req_id(r[i]), 0);
	r[3]->next = NULL;
	assert_int_equal(sc_post(c, r[0]), OFFRX_PENDING);
	assert_int_equal(deliver(c, 200, 0), 200);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(sc_times_completed(s, r[i]), 1);
		assert_ptr_equal(s->done[i].req, r[i]);
	}
	sc_check_stream(c);
	sc_free(s);
}

/* --- the buffer description --------------------------------------------------------------- */

static void test_chain_shorter_than_the_buffer_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 60, 40 };
	struct offrx_recv_req *r = sc_req_segs(lens, 2, 0);
	r->data_len = 101;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	r->data_len = 100;
	r->data_offset = 1;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	r->data_offset = 100;
	r->data_len = 1;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	r->data_offset = 10;
	r->data_len = 90;
	assert_completes_once(s, c, r);
	sc_check_stream(c);
	sc_free(s);
}

static void test_chain_longer_than_the_buffer_is_accepted_and_guard_bytes_stay(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 100, 200 };
	struct offrx_recv_req *r = sc_req_segs(lens, 2, 0);
	r->data_offset = 20;
	r->data_len = 150; /* chain bytes [20, 170) */
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	assert_int_equal(deliver(c, 400, OFFRX_MEM_PSH), 400);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(r->status, OFFRX_SUCCESS);
	assert_int_equal(r->bytes_transferred, 150);
	const uint8_t *s0 = r->segs[0].base, *s1 = r->segs[1].base;
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(s0[i], 0xEE);
	for (uint32_t i = 20; i < 100; i++)
		assert_int_equal(s0[i], sc_pattern(c->id, i - 20));
	for (uint32_t i = 0; i < 70; i++)
		assert_int_equal(s1[i], sc_pattern(c->id, 80 + i));
	for (uint32_t i = 70; i < 200; i++)
		assert_int_equal(s1[i], 0xEE);
	/* The other 250 bytes wait in the engine; take them. */
	assert_int_equal(conn_stats(c).held_bytes + c->app_off, 400);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_prefill_larger_than_the_buffer_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = sc_req(100, 0, 101);
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	r->bytes_transferred = UINT32_MAX;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	/* A prefill of exactly the buffer is a full request: it completes at once. */
	r->bytes_transferred = 100;
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	advance_ms(s, 0);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(r->status, OFFRX_SUCCESS);
	assert_int_equal(r->bytes_transferred, 100);
	assert_int_equal(r->bytes_placed, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_req_init_length_overflow_is_refused(void **state)
{
	static uint8_t byte;
	struct offrx_seg segs[3] = { { &byte, UINT32_MAX }, { &byte, 1 }, { &byte, 0 } };
	struct offrx_recv_req r;
	memset(&r, 0xA5, sizeof(r));
	assert_int_equal(offrx_req_init(&r, segs, 2, 1), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_req_init(&r, NULL, 2, 1), OFFRX_INVALID_PARAMETER);
	/* Exactly UINT32_MAX still fits. */
	assert_int_equal(offrx_req_init(&r, segs, 1, 1), OFFRX_SUCCESS);
	assert_int_equal(r.data_len, UINT32_MAX);
	segs[1].len = UINT32_MAX;
	segs[2].len = UINT32_MAX;
	assert_int_equal(offrx_req_init(&r, segs, 3, 1), OFFRX_INVALID_PARAMETER);
}

static void test_data_offset_plus_length_overflow_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	/* Within a short chain: the 32-bit sum wraps to a small number. */
	struct offrx_recv_req *r = sc_req(100, 0, 0);
	r->data_offset = UINT32_MAX - 10;
	r->data_len = 100; /* offset + len wraps to 89 */
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	r->data_offset = UINT32_MAX;
	r->data_len = 1;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	r->data_offset = 0;
	r->data_len = 100;
	assert_completes_once(s, c, r);

	/* A chain described as longer than 4 GiB (the first segment is never touched): the
	 * buffer starts at UINT32_MAX and its end is past 32 bits, so its data start could not
	 * be advanced at completion (R15). It must be refused, not queued. */
	static uint8_t never_touched;
	uint8_t tail[16];
	memset(tail, 0xEE, sizeof(tail));
	struct offrx_seg segs[2] = { { &never_touched, UINT32_MAX }, { tail, sizeof(tail) } };
	struct offrx_recv_req big;
	memset(&big, 0, sizeof(big));
	big.segs = segs;
	big.nsegs = 2;
	big.data_offset = UINT32_MAX;
	big.data_len = sizeof(tail);
	int rc = sc_post(c, &big);
	if (rc != OFFRX_INVALID_PARAMETER) {
		/* Accepted: fill it (only tail is written) to show what completion does. */
		uint64_t stored = deliver(c, sizeof(tail), 0);
		fail_msg("buffer at data_offset %u, data_len %u (end past 32 bits) was accepted "
			 "(%s); %llu bytes stored, completed %u time(s), data_offset after = %u",
			 UINT32_MAX, (unsigned)sizeof(tail), offrx_status_str(rc),
			 (unsigned long long)stored, sc_times_completed(s, &big), big.data_offset);
	}
	assert_nothing_queued(s, c, 0, 1, 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_segment_with_null_base_and_length_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 50, 50 };
	struct offrx_recv_req *r = sc_req_segs(lens, 2, 0);
	void *saved = r->segs[1].base;
	r->segs[1].base = NULL;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	/* Even when the buffer does not reach that segment. */
	r->data_len = 50;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	/* A chain pointer that is NULL while nsegs says there are segments. */
	struct offrx_seg *segs = r->segs;
	r->segs = NULL;
	assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	r->segs = segs;
	assert_nothing_queued(s, c, 0, 0, 0);
	r->segs[1].base = saved;
	r->data_len = 100;
	assert_completes_once(s, c, r);
	/* A NULL base with zero length is an empty segment, which is fine. */
	const uint32_t lens2[] = { 0, 30 };
	struct offrx_recv_req *e = sc_req_segs(lens2, 2, 0);
	assert_null(e->segs[0].base);
	assert_completes_once(s, c, e);
	sc_check_stream(c);
	sc_free(s);
}

static void test_unknown_flags_are_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = sc_req(100, 0, 0);
	const uint32_t bad[] = { 0x2, 0x80, 0x80000000u, OFFRX_REQ_NO_PUSH | 0x10 };
	for (uint32_t i = 0; i < 4; i++) {
		r->flags = bad[i];
		assert_int_equal(sc_post(c, r), OFFRX_INVALID_PARAMETER);
	}
	assert_nothing_queued(s, c, 0, 0, 0);
	r->flags = OFFRX_REQ_NO_PUSH;
	assert_completes_once(s, c, r);
	sc_check_stream(c);
	sc_free(s);
}

static void test_bad_request_in_a_list_queues_none_of_it(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = sc_req(100, 0, 0), *b = sc_req(100, 0, 0),
			      *d = sc_req(100, 0, 0);
	a->next = b;
	b->next = d;
	d->flags = 0x40;
	assert_int_equal(sc_post(c, a), OFFRX_INVALID_PARAMETER);
	assert_nothing_queued(s, c, 0, 0, 0);
	assert_int_equal(deliver(c, 50, 0), 50); /* indicated: nothing was posted */
	assert_int_equal(c->indications, 1);
	d->flags = 0;
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(deliver(c, 300, 0), 300);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[2].req, d);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_deliver_null_data_stores_nothing_R24(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 100);
	assert_int_equal(offrx_mem_deliver(c->conn, NULL, 50, OFFRX_MEM_PSH), 0);
	struct offrx_mem_link_stats ls;
	assert_int_equal(offrx_mem_link_stats(c->conn, &ls), OFFRX_SUCCESS);
	assert_int_equal(ls.last_ack_seq, IRS_NEXT);
	assert_int_equal(conn_stats(c).bytes_received, 0);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_times_completed(s, r), 1);
	sc_check_stream(c);
	sc_free(s);
}

/* --- returning buffers (R22) -------------------------------------------------------------- */

static void test_return_of_a_stack_buffer_is_refused_R22(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 100, 0), 100);
	uint32_t out = engine_indicated_out(s);
	assert_true(out >= 1);
	struct offrx_ind_buf fake = { .data = (const uint8_t *)"x", .len = 1 };
	assert_int_equal(offrx_return_indicated(s->eng, &fake), OFFRX_INVALID_PARAMETER);
	/* A copy of a real one is not the real one either. */
	struct offrx_ind_buf copy = *c->held_bufs;
	copy.next = NULL;
	assert_int_equal(offrx_return_indicated(s->eng, &copy), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), out);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_return_of_a_pointer_into_a_real_buffer_is_refused_R22(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 100, 0), 100);
	uint32_t out = engine_indicated_out(s);
	const size_t offs[] = { 1, 8, offsetof(struct offrx_ind_buf, len),
				offsetof(struct offrx_ind_buf, id) };
	for (uint32_t i = 0; i < 4; i++) {
		struct offrx_ind_buf *mid =
			(struct offrx_ind_buf *)(void *)((char *)c->held_bufs + offs[i]);
		assert_int_equal(offrx_return_indicated(s->eng, mid), OFFRX_INVALID_PARAMETER);
	}
	/* And a pointer to the data instead of the descriptor. */
	assert_int_equal(
		offrx_return_indicated(s->eng, (struct offrx_ind_buf *)(void *)c->held_bufs->data),
		OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), out);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_return_of_a_buffer_twice_is_refused_R22(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(c->held_nbufs, 1);
	struct offrx_ind_buf *b = take_held(c);
	assert_int_equal(offrx_return_indicated(s->eng, b), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(offrx_return_indicated(s->eng, b), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_RETURN, c->id), 1);
	/* The engine still works and lends buffers again. */
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(engine_indicated_out(s), 1);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_return_of_the_same_buffer_twice_in_one_list_is_refused_R22(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(c->held_nbufs, 2);
	struct offrx_ind_buf *b = take_held(c), *b2 = b->next;
	b2->next = b; /* b, b2, b, ... */
	assert_int_equal(offrx_return_indicated(s->eng, b), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), 2);
	b->next = b; /* b, b, ... */
	b2->next = NULL;
	assert_int_equal(offrx_return_indicated(s->eng, b), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), 2);
	b->next = b2;
	assert_int_equal(offrx_return_indicated(s->eng, b), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_return_list_with_one_bad_buffer_returns_nothing_R22(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(c->held_nbufs, 3);
	struct offrx_ind_buf *g = take_held(c);
	struct offrx_ind_buf *g1 = g, *g2 = g->next, *g3 = g->next->next;
	struct offrx_ind_buf fake = { 0 };
	/* good, bad, good, good */
	g1->next = &fake;
	fake.next = g2;
	assert_int_equal(offrx_return_indicated(s->eng, g1), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), 3);
	assert_int_equal(sc_count_events(s, OFFRX_E_RETURN, 0), 0);
	/* good, good, good, bad (last) */
	g1->next = g2;
	g3->next = &fake;
	fake.next = NULL;
	assert_int_equal(offrx_return_indicated(s->eng, g1), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s), 3);
	/* Then the good ones go back in one call. */
	g3->next = NULL;
	assert_int_equal(list_len(g1), 3);
	assert_int_equal(offrx_return_indicated(s->eng, g1), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(conn_stats(c).indicated_out, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_return_to_another_engine_is_refused_R22(void **state)
{
	struct sc *s1 = sc_new(NULL), *s2 = sc_new(NULL);
	struct sc_conn *c1 = sc_open(s1), *c2 = sc_open(s2);
	assert_int_equal(deliver(c1, 100, 0), 100);
	assert_int_equal(deliver(c2, 100, 0), 100);
	assert_int_equal(offrx_return_indicated(s2->eng, c1->held_bufs), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_return_indicated(s1->eng, c2->held_bufs), OFFRX_INVALID_PARAMETER);
	assert_int_equal(engine_indicated_out(s1), 1);
	assert_int_equal(engine_indicated_out(s2), 1);
	sc_check_stream(c1);
	sc_check_stream(c2);
	sc_free(s1);
	sc_free(s2);
}

/* --- indicate answers (R20) --------------------------------------------------------------- */

static void test_bogus_indicate_answer_is_not_accepted_and_loses_nothing_R20(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_BOGUS;
	assert_int_equal(deliver(c, 500, 0), 500);
	assert_int_equal(c->indications, 1);
	const struct offrx_event *ev = sc_last_event(s, OFFRX_E_INDICATE);
	assert_non_null(ev);
	assert_int_equal(ev->status, OFFRX_NOT_ACCEPTED);
	assert_int_equal(ev->total, 0);
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(conn_stats(c).held_bytes, 500);
	assert_int_equal(conn_stats(c).bytes_consumed, 0);
	/* Not accepted means not indicated again until a post (R21). */
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(c->indications, 1);
	struct offrx_recv_req *r = post_nopush(c, 600);
	advance_ms(s, 0);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(r->bytes_transferred, 600);
	assert_int_equal(c->app_off, 600);
	sc_check_stream(c);
	sc_free(s);
}

/* --- engine options ----------------------------------------------------------------------- */

static void test_engine_opts_size_zero_or_too_large_is_refused(void **state)
{
	struct offrx_engine *eng = (struct offrx_engine *)(void *)&eng;
	struct offrx_engine_opts o = { .sz = 0 };
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_INVALID_PARAMETER);
	assert_null(eng);
	o.sz = sizeof(o) + 8;
	eng = (struct offrx_engine *)(void *)&eng;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_INVALID_PARAMETER);
	assert_null(eng);
	o.sz = SIZE_MAX;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_INVALID_PARAMETER);
	assert_null(eng);
	/* An older, shorter struct is fine: the fields it lacks take their defaults. */
	o.sz = offsetof(struct offrx_engine_opts, max_conns);
	o.push_timer_ns = 20 * MS;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_SUCCESS);
	assert_non_null(eng);
	uint32_t out = 99;
	assert_int_equal(offrx_engine_destroy(eng, &out), OFFRX_SUCCESS);
	assert_int_equal(out, 0);
}

static void test_engine_opts_bad_chunk_or_pool_is_refused(void **state)
{
	struct offrx_engine *eng = NULL;
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.chunk_size = 63;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_INVALID_PARAMETER);
	assert_null(eng);
	o.chunk_size = 4096;
	o.pool_bytes = 4095;
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_INVALID_PARAMETER);
	assert_null(eng);
}

/* --- layers ------------------------------------------------------------------------------- */

static void test_layer_push_with_bad_ops_is_refused(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_layer *l = NULL;
	struct offrx_layer_ops ops = { .sz = 0 };
	assert_int_equal(offrx_layer_push(c->conn, &ops, NULL, &l), OFFRX_INVALID_PARAMETER);
	ops.sz = sizeof(ops) + 1;
	assert_int_equal(offrx_layer_push(c->conn, &ops, NULL, &l), OFFRX_INVALID_PARAMETER);
	assert_null(l);
	/* Past eight layers: RESOURCES, and the stack still works. */
	static const struct offrx_layer_ops pass = { .sz = sizeof(struct offrx_layer_ops) };
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(offrx_layer_push(c->conn, &pass, NULL, &l), OFFRX_SUCCESS);
	struct offrx_layer *top = l;
	assert_int_equal(offrx_layer_push(c->conn, &pass, NULL, &l), OFFRX_RESOURCES);
	assert_ptr_equal(l, top);
	assert_int_equal(offrx_layer_post_down(top, NULL), OFFRX_INVALID_PARAMETER);
	struct offrx_recv_req *r = post_push(c, 100);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_times_completed(s, r), 1);
	sc_check_stream(c);
	sc_free(s);
}

/* --- calls made from inside a callback ------------------------------------------------------ */

static struct {
	int rc;
	uint32_t calls;
	struct sc *s;
} inside;

static void close_from_callback(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	inside.calls++;
	inside.rc = offrx_mem_conn_close(c->conn);
}

static void test_close_from_inside_its_own_callback_is_refused(void **state)
{
	memset(&inside, 0, sizeof(inside));
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = close_from_callback;
	struct offrx_recv_req *a = post_push(c, 100), *b = post_push(c, 100);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(inside.calls, 1);
	assert_int_equal(inside.rc, OFFRX_INVALID_STATE);
	c->on_complete = NULL;
	/* The connection is intact: b still fills and completes. */
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_times_completed(s, a), 1);
	assert_int_equal(sc_times_completed(s, b), 1);
	sc_check_stream(c);
	sc_free(s);
}

static void destroy_from_callback(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	inside.calls++;
	inside.rc = offrx_engine_destroy(inside.s->eng, NULL);
}

static void test_destroy_from_inside_a_callback_is_refused_and_changes_nothing(void **state)
{
	memset(&inside, 0, sizeof(inside));
	struct sc *s = sc_new(NULL);
	inside.s = s;
	struct sc_conn *c1 = sc_open(s), *c2 = sc_open(s);
	struct offrx_recv_req *r2 = post_push(c2, 100);
	c1->on_complete = destroy_from_callback;
	struct offrx_recv_req *r1 = post_push(c1, 100);
	assert_int_equal(deliver(c1, 100, 0), 100);
	c1->on_complete = NULL;
	assert_int_equal(inside.calls, 1);
	assert_int_equal(inside.rc, OFFRX_INVALID_STATE);
	/* Refused means refused: both connections are still open, c2's request still queued. */
	struct offrx_engine_stats es;
	assert_int_equal(offrx_engine_stats(s->eng, &es), OFFRX_SUCCESS);
	if (es.conns != 2) {
		c2->conn = NULL;
		fail_msg("offrx_engine_destroy refused (%s) from c1's callback, but closed %u "
			 "other connection(s) first; c2's request completed %u time(s) "
			 "with %s",
			 offrx_status_str(inside.rc), 2 - es.conns, sc_times_completed(s, r2),
			 sc_done_of(s, r2) ? offrx_status_str(sc_done_of(s, r2)->status) : "-");
	}
	assert_int_equal(sc_times_completed(s, r2), 0);
	assert_int_equal(deliver(c2, 100, 0), 100);
	assert_int_equal(sc_times_completed(s, r1), 1);
	assert_int_equal(sc_times_completed(s, r2), 1);
	assert_int_equal(sc_done_of(s, r2)->status, OFFRX_SUCCESS);
	sc_check_stream(c1);
	sc_check_stream(c2);
	sc_free(s);
}

/* --- upload and disconnect out of turn ---------------------------------------------------- */

static void test_upload_and_disconnect_out_of_turn_get_invalid_state(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_INVALID_STATE);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_INVALID_STATE);
	assert_int_equal(offrx_mem_rst(c->conn), OFFRX_INVALID_STATE);
	assert_int_equal(c->events[OFFRX_EV_UPLOAD_DONE], 1);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 0);
	struct offrx_recv_req *r = post_push(c, 100);
	assert_int_equal(deliver(c, 100, OFFRX_MEM_PSH), 0);
	advance_ms(s, 0);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(sc_done_of(s, r)->status, OFFRX_INVALID_STATE);
	sc_check_stream(c);
	sc_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_handles_are_refused_by_every_call),
		cmocka_unit_test(test_post_twice_while_queued_is_refused_R17),
		cmocka_unit_test(test_post_again_before_its_completion_is_handed_up_is_refused_R17),
		cmocka_unit_test(test_list_holding_a_queued_request_queues_nothing),
		cmocka_unit_test(test_same_request_twice_in_one_list_is_refused),
		cmocka_unit_test(test_list_looping_back_on_itself_is_refused),
		cmocka_unit_test(test_chain_shorter_than_the_buffer_is_refused),
		cmocka_unit_test(
			test_chain_longer_than_the_buffer_is_accepted_and_guard_bytes_stay),
		cmocka_unit_test(test_prefill_larger_than_the_buffer_is_refused),
		cmocka_unit_test(test_req_init_length_overflow_is_refused),
		cmocka_unit_test(test_data_offset_plus_length_overflow_is_refused),
		cmocka_unit_test(test_segment_with_null_base_and_length_is_refused),
		cmocka_unit_test(test_unknown_flags_are_refused),
		cmocka_unit_test(test_bad_request_in_a_list_queues_none_of_it),
		cmocka_unit_test(test_deliver_null_data_stores_nothing_R24),
		cmocka_unit_test(test_return_of_a_stack_buffer_is_refused_R22),
		cmocka_unit_test(test_return_of_a_pointer_into_a_real_buffer_is_refused_R22),
		cmocka_unit_test(test_return_of_a_buffer_twice_is_refused_R22),
		cmocka_unit_test(test_return_of_the_same_buffer_twice_in_one_list_is_refused_R22),
		cmocka_unit_test(test_return_list_with_one_bad_buffer_returns_nothing_R22),
		cmocka_unit_test(test_return_to_another_engine_is_refused_R22),
		cmocka_unit_test(test_bogus_indicate_answer_is_not_accepted_and_loses_nothing_R20),
		cmocka_unit_test(test_engine_opts_size_zero_or_too_large_is_refused),
		cmocka_unit_test(test_engine_opts_bad_chunk_or_pool_is_refused),
		cmocka_unit_test(test_layer_push_with_bad_ops_is_refused),
		cmocka_unit_test(test_close_from_inside_its_own_callback_is_refused),
		cmocka_unit_test(
			test_destroy_from_inside_a_callback_is_refused_and_changes_nothing),
		cmocka_unit_test(test_upload_and_disconnect_out_of_turn_get_invalid_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
