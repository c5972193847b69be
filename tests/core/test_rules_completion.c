/* Completion, indication, window, disconnect, upload and layer rules (R14..R27), each as a
 * scenario on the in-memory link. Every test ends with a stream check, so a lost, doubled or
 * reordered byte fails it as well as a wrong status or a wrong completion call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "scenario.h"

#define IRS_NEXT 1001u /* sc_open uses irs 1000: receive-next starts at 1001 */

/* R14: a completion call carries filled requests and at most one partial one, which ends it.
 * The observer emits COMPLETE_CALL(count) followed by one COMPLETE per request of the call. */
static void assert_calls_well_formed(const struct sc *s)
{
	for (uint32_t i = 0; i < s->nevents; i++) {
		const struct offrx_event *call = &s->events[i];
		if (call->kind != OFFRX_E_COMPLETE_CALL)
			continue;
		assert_true(call->count >= 1);
		assert_true(i + call->count < s->nevents);
		for (uint32_t k = 1; k <= call->count; k++) {
			const struct offrx_event *ev = &s->events[i + k];
			assert_int_equal(ev->kind, OFFRX_E_COMPLETE);
			assert_int_equal(ev->conn_id, call->conn_id);
			bool partial = ev->status == OFFRX_SUCCESS && ev->bytes < ev->buf_len;
			if (partial && k < call->count)
				fail_msg("completion call at event %u: partial request %llu is not "
					 "last",
					 i, (unsigned long long)ev->req_id);
		}
	}
}

/* Index of the first observer event of a kind at or after from, or UINT32_MAX. */
static uint32_t event_index(const struct sc *s, enum offrx_event_kind kind, uint32_t from)
{
	for (uint32_t i = from; i < s->nevents; i++)
		if (s->events[i].kind == kind)
			return i;
	return UINT32_MAX;
}

static void assert_done(const struct sc *s, const struct offrx_recv_req *r, int status,
			uint32_t bytes, uint32_t reason)
{
	const struct sc_done *d = sc_done_of(s, r);
	assert_non_null(d);
	assert_int_equal(sc_times_completed(s, r), 1);
	assert_int_equal(d->status, status);
	assert_int_equal(d->bytes, bytes);
	assert_int_equal(d->reason, reason);
}

/* Tiny engine budget: chunk 64 bytes, pool and per-connection hold as given. */
static struct sc *sc_new_tiny(uint64_t pool_bytes, uint64_t hold_bytes)
{
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.chunk_size = 64;
	o.pool_bytes = pool_bytes;
	o.hold_bytes_per_conn = hold_bytes;
	return sc_new(&o);
}

/* --- R14: order and shape of completion calls ------------------------------------------- */

static void test_R14_completions_keep_posting_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r[5];
	for (uint32_t i = 0; i < 5; i++)
		r[i] = (i % 2) ? post_nopush(c, 100 * (i + 1)) : post_push(c, 100 * (i + 1));
	/* 1500 bytes fill all five, delivered in pieces that straddle request boundaries. */
	assert_int_equal(deliver(c, 250, 0), 250);
	assert_int_equal(deliver(c, 777, 0), 777);
	assert_int_equal(deliver(c, 473, 0), 473);
	assert_int_equal(s->ndone, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_ptr_equal(s->done[i].req, r[i]);
		assert_int_equal(s->done[i].req_id, i + 1);
		assert_int_equal(s->done[i].bytes, 100 * (i + 1));
		assert_int_equal(s->done[i].status, OFFRX_SUCCESS);
		if (i)
			assert_true(s->done[i].call >= s->done[i - 1].call);
	}
	assert_calls_well_formed(s);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R14_one_call_carries_filled_requests_and_one_partial(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000), *b = post_push(c, 1000),
			      *d = post_push(c, 1000);
	assert_int_equal(deliver(c, 2500, OFFRX_MEM_PSH), 2500);
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->max_batch, 3);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_ptr_equal(s->done[2].req, d);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_done(s, b, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_done(s, d, OFFRX_SUCCESS, 500, OFFRX_CR_PSH);
	assert_int_equal(sc_count_events(s, OFFRX_E_COMPLETE_CALL, c->id), 1);
	assert_int_equal(sc_last_event(s, OFFRX_E_COMPLETE_CALL)->count, 3);
	assert_calls_well_formed(s);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R14_partial_request_ends_the_call(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	/* A partial push request, then a zero-length one that is complete as soon as it heads
	 * the queue: both finish on the same PSH, but the partial one ends its call. */
	struct offrx_recv_req *a = post_push(c, 1000), *z = sc_req(0, 0, 0);
	assert_int_equal(sc_post(c, z), OFFRX_PENDING);
	assert_int_equal(deliver(c, 300, OFFRX_MEM_PSH), 300);
	assert_int_equal(s->ndone, 2);
	assert_done(s, a, OFFRX_SUCCESS, 300, OFFRX_CR_PSH);
	assert_done(s, z, OFFRX_SUCCESS, 0, OFFRX_CR_FILLED);
	assert_int_equal(sc_done_of(s, a)->call + 1, sc_done_of(s, z)->call);
	assert_calls_well_formed(s);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R14_fin_splits_partials_into_calls_in_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000), *b = post_push(c, 1000),
			      *d = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 300, 0), 300);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_ptr_equal(s->done[2].req, d);
	/* Each is partial (or empty), so each ends its own call. */
	assert_int_equal(s->done[1].call, s->done[0].call + 1);
	assert_int_equal(s->done[2].call, s->done[1].call + 1);
	assert_int_equal(s->max_batch, 1);
	assert_calls_well_formed(s);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R14_one_post_spread_over_several_calls_in_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = sc_req(1000, 0, 0), *b = sc_req(1000, 0, 0),
			      *d = sc_req(1000, 0, 0);
	a->next = b;
	b->next = d;
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(deliver(c, 500, OFFRX_MEM_PSH), 500);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(deliver(c, 1000, OFFRX_MEM_PSH), 1000);
	assert_int_equal(s->ndone, 2);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_ptr_equal(s->done[2].req, d);
	assert_int_equal(s->done[0].call, 1);
	assert_int_equal(s->done[1].call, 2);
	assert_int_equal(s->done[2].call, 3);
	assert_done(s, a, OFFRX_SUCCESS, 500, OFFRX_CR_PSH);
	assert_done(s, b, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_done(s, d, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_calls_well_formed(s);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R15: bytes reported, data start advanced ------------------------------------------- */

static void test_R15_completion_reports_bytes_and_advances_data_start(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_prefilled(c, 1000, 200);
	assert_int_equal(deliver(c, 300, OFFRX_MEM_PSH), 300);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(r->status, OFFRX_SUCCESS);
	assert_int_equal(r->bytes_transferred, 500); /* prefill plus placed */
	assert_int_equal(r->bytes_placed, 300);
	assert_int_equal(r->data_offset, 300);
	assert_int_equal(r->data_len, 700);
	/* The prefill was left alone and the new bytes follow it. */
	const uint8_t *p = r->segs[0].base;
	for (uint32_t i = 0; i < 200; i++)
		assert_int_equal(p[i], 0xEE);
	for (uint32_t i = 0; i < 300; i++)
		assert_int_equal(p[200 + i], sc_pattern(c->id, i));
	for (uint32_t i = 500; i < 1000; i++)
		assert_int_equal(p[i], 0xEE);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R15_data_start_advances_across_segments(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint32_t lens[] = { 100, 100, 100 };
	struct offrx_recv_req *r = sc_req_segs(lens, 3, 0);
	r->data_offset = 50;
	r->data_len = 250;
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	assert_int_equal(deliver(c, 120, OFFRX_MEM_PSH), 120);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(r->bytes_transferred, 120);
	assert_int_equal(r->bytes_placed, 120);
	assert_int_equal(r->data_offset, 170);
	assert_int_equal(r->data_len, 130);
	const uint8_t *s0 = r->segs[0].base, *s1 = r->segs[1].base, *s2 = r->segs[2].base;
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(s0[i], 0xEE);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(s0[50 + i], sc_pattern(c->id, i));
	for (uint32_t i = 0; i < 70; i++)
		assert_int_equal(s1[i], sc_pattern(c->id, 50 + i));
	for (uint32_t i = 70; i < 100; i++)
		assert_int_equal(s1[i], 0xEE);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(s2[i], 0xEE);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R15_filled_request_reports_full_length(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(r->bytes_placed, 1000);
	assert_int_equal(r->data_offset, 1000);
	assert_int_equal(r->data_len, 0);
	struct offrx_conn_stats st = conn_stats(c);
	assert_int_equal(st.bytes_completed, 1000);
	assert_int_equal(st.completed, 1);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R16: statuses ---------------------------------------------------------------------- */

static void test_R16_success_advances_receive_next_and_window(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_push(c, 1000);
	uint64_t space = offrx_conn_space(c->conn);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_done(s, r, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	struct offrx_mem_link_stats ls = link_stats(c);
	assert_int_equal(ls.last_ack_seq, IRS_NEXT + 1000);
	assert_int_equal(ls.last_wnd, space - 1000);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R16_rst_completes_request_aborted_with_valid_bytes(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000), *b = post_push(c, 1000);
	assert_int_equal(deliver(c, 300, 0), 300);
	assert_int_equal(offrx_mem_rst(c->conn), OFFRX_SUCCESS);
	assert_done(s, a, OFFRX_REQUEST_ABORTED, 300, OFFRX_CR_ABORT);
	assert_done(s, b, OFFRX_REQUEST_ABORTED, 0, OFFRX_CR_ABORT);
	assert_int_equal(a->bytes_placed, 300);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R16_upload_completes_upload_in_progress(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 250, 0), 250);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_done(s, a, OFFRX_UPLOAD_IN_PROGRESS, 250, OFFRX_CR_UPLOAD);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R16_post_after_disconnect_completes_invalid_state(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	struct offrx_recv_req *r = post_push(c, 1000);
	assert_int_equal(s->ndone, 0); /* R01: not inside the post */
	advance_ms(s, 0);
	assert_done(s, r, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_int_equal(r->bytes_placed, 0);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R17: exactly once ------------------------------------------------------------------ */

static void test_R17_zero_length_request_completes_once(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *z = sc_req(0, 0, 0);
	assert_int_equal(sc_post(c, z), OFFRX_PENDING);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 0);
	assert_done(s, z, OFFRX_SUCCESS, 0, OFFRX_CR_FILLED);
	/* Behind a partial request it waits its turn, then still completes once. */
	struct offrx_recv_req *a = post_push(c, 100), *z2 = sc_req(0, OFFRX_REQ_NO_PUSH, 0);
	assert_int_equal(sc_post(c, z2), OFFRX_PENDING);
	assert_int_equal(deliver(c, 50, 0), 50);
	advance_ms(s, 0);
	assert_null(sc_done_of(s, z2));
	advance_ms(s, 500);
	assert_done(s, a, OFFRX_SUCCESS, 50, OFFRX_CR_PUSH_TIMER);
	assert_done(s, z2, OFFRX_SUCCESS, 0, OFFRX_CR_FILLED);
	advance_ms(s, 2000);
	assert_int_equal(sc_times_completed(s, z), 1);
	assert_int_equal(sc_times_completed(s, z2), 1);
	assert_int_equal(s->ndone, 3);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R17_every_request_completes_once_across_fin(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r[6];
	r[0] = post_push(c, 500);
	r[1] = post_nopush(c, 500);
	r[2] = post_prefilled(c, 500, 100);
	assert_int_equal(deliver(c, 700, 0), 700);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	r[3] = post_push(c, 500);
	r[4] = sc_req(0, 0, 0);
	assert_int_equal(sc_post(c, r[4]), OFFRX_PENDING);
	r[5] = post_nopush(c, 10);
	advance_ms(s, 1000);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(sc_times_completed(s, r[i]), 1);
	assert_int_equal(s->ndone, 6);
	assert_done(s, r[0], OFFRX_SUCCESS, 500, OFFRX_CR_FILLED);
	assert_done(s, r[1], OFFRX_SUCCESS, 200, OFFRX_CR_DISCONNECT);
	assert_done(s, r[2], OFFRX_SUCCESS, 100, OFFRX_CR_DISCONNECT);
	for (uint32_t i = 3; i < 6; i++)
		assert_int_equal(sc_done_of(s, r[i])->status, OFFRX_INVALID_STATE);
	struct offrx_conn_stats st = conn_stats(c);
	assert_int_equal(st.posted, 6);
	assert_int_equal(st.completed, 6);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R17_every_request_completes_once_across_upload(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 500), *b = post_push(c, 500);
	struct offrx_recv_req *z = sc_req(0, 0, 0);
	assert_int_equal(sc_post(c, z), OFFRX_PENDING);
	assert_int_equal(deliver(c, 600, 0), 600);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	struct offrx_recv_req *late = post_push(c, 500);
	advance_ms(s, 1000);
	assert_done(s, a, OFFRX_SUCCESS, 500, OFFRX_CR_FILLED);
	assert_done(s, b, OFFRX_UPLOAD_IN_PROGRESS, 100, OFFRX_CR_UPLOAD);
	assert_done(s, z, OFFRX_UPLOAD_IN_PROGRESS, 0, OFFRX_CR_UPLOAD);
	assert_done(s, late, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_int_equal(s->ndone, 4);
	sc_check_stream(c);
	sc_free(s);
}

/* Completions that happen inside sc_free, counted where they outlive the scenario. */
static uint32_t aborted_at_destroy;

static void count_aborted(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	for (struct offrx_recv_req *r = reqs; r; r = r->next)
		if (r->status == OFFRX_REQUEST_ABORTED)
			aborted_at_destroy++;
}

static void test_R17_requests_outstanding_at_destroy_complete_aborted(void **state)
{
	aborted_at_destroy = 0;
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = count_aborted;
	post_push(c, 500);
	post_nopush(c, 500);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(s->ndone, 0);
	sc_check(s);
	sc_free(s);
	assert_int_equal(aborted_at_destroy, 2);
}

/* --- R18, R19: serialized upcalls, posting from the completion callback ------------------- */

static struct {
	uint32_t calls;
	uint32_t limit;
	uint32_t indications_seen;
	struct offrx_recv_req *posted[8];
	uint32_t nposted;
	int post_rc[8];
} hook;

static void hook_reset(uint32_t limit)
{
	memset(&hook, 0, sizeof(hook));
	hook.limit = limit;
}

/* Post one fresh 1000-byte push request from inside the callback, hook.limit times. */
static void post_fresh_from_callback(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	hook.calls++;
	hook.indications_seen = c->indications;
	if (hook.nposted >= hook.limit)
		return;
	struct offrx_recv_req *r = sc_req(1000, 0, 0);
	hook.post_rc[hook.nposted] = offrx_post_recv(c->conn, r);
	hook.posted[hook.nposted++] = r;
}

static void test_R19_post_from_completion_callback_completes_later_not_nested(void **state)
{
	hook_reset(1);
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = post_fresh_from_callback;
	struct offrx_recv_req *a = post_push(c, 1000);
	/* 500 bytes more than a holds: they must go into the request posted from the callback,
	 * not to an indication (R05), and that request completes in a later call. */
	assert_int_equal(deliver(c, 1500, 0), 1500);
	assert_int_equal(hook.nposted, 1);
	assert_int_equal(hook.post_rc[0], OFFRX_PENDING);
	assert_int_equal(c->indications, 0);
	assert_int_equal(s->ndone, 1);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	struct offrx_recv_req *b = hook.posted[0];
	assert_null(sc_done_of(s, b));
	advance_ms(s, 500);
	assert_done(s, b, OFFRX_SUCCESS, 500, OFFRX_CR_PUSH_TIMER);
	assert_true(sc_done_of(s, b)->call > sc_done_of(s, a)->call);
	assert_int_equal(s->nested, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void repost_zero_once(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	hook.calls++;
	if (hook.nposted >= hook.limit)
		return;
	struct offrx_recv_req *z = sc_req(0, 0, 0);
	hook.posted[hook.nposted] = z;
	hook.post_rc[hook.nposted++] = offrx_post_recv(c->conn, z);
}

static void test_R19_complete_request_posted_from_callback_comes_in_a_second_call(void **state)
{
	hook_reset(1);
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = repost_zero_once;
	struct offrx_recv_req *a = post_push(c, 100);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(hook.post_rc[0], OFFRX_PENDING);
	struct offrx_recv_req *z = hook.posted[0];
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_done(s, z, OFFRX_SUCCESS, 0, OFFRX_CR_FILLED);
	assert_int_equal(sc_done_of(s, z)->call, sc_done_of(s, a)->call + 1);
	assert_int_equal(hook.calls, 2);
	assert_int_equal(s->nested, 0);
	sc_check_stream(c);
	sc_free(s);
}

/* Re-post the request just completed until hook.limit re-posts. It is the application's
 * again: it only rewinds the buffer fields the completion advanced (no offrx_req_init). */
static void repost_same(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	hook.calls++;
	if (hook.nposted >= hook.limit)
		return;
	assert_null(reqs->next);
	struct offrx_recv_req *r = reqs;
	r->data_offset = 0;
	r->data_len = r->segs[0].len;
	r->bytes_transferred = 0;
	hook.post_rc[hook.nposted] = offrx_post_recv(c->conn, r);
	hook.posted[hook.nposted++] = r;
}

static void test_R19_reposting_the_completed_request_streams_without_nesting(void **state)
{
	hook_reset(4);
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = repost_same;
	struct offrx_recv_req *a = post_nopush(c, 1000);
	/* One delivery of five buffers' worth: a fills, the rest waits in engine buffers and goes
	 * into a each time it is posted again from its own completion. */
	assert_int_equal(deliver(c, 5000, 0), 5000);
	assert_int_equal(hook.nposted, 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(hook.post_rc[i], OFFRX_PENDING);
	assert_int_equal(sc_times_completed(s, a), 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_ptr_equal(s->done[i].req, a);
		assert_int_equal(s->done[i].bytes, 1000);
		assert_int_equal(s->done[i].call, i + 1);
		assert_int_equal(s->done[i].req_id, i + 1);
	}
	assert_int_equal(c->indications, 0);
	assert_int_equal(s->nested, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void deliver_from_callback(struct sc_conn *c, struct offrx_recv_req *reqs)
{
	hook.calls++;
	if (hook.nposted >= hook.limit)
		return;
	hook.nposted++;
	hook.post_rc[0] = (int)deliver(c, 400, OFFRX_MEM_PSH);
}

static void test_R19_data_arriving_inside_the_callback_completes_after_it_returns(void **state)
{
	hook_reset(1);
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = deliver_from_callback;
	struct offrx_recv_req *a = post_push(c, 100), *b = post_push(c, 1000);
	/* a completes on its push timer; its callback delivers 400 bytes with PSH, which
	 * complete b, but only in a second call once the first has returned. */
	assert_int_equal(deliver(c, 50, 0), 50);
	advance_ms(s, 500);
	assert_int_equal(hook.post_rc[0], 400);
	assert_done(s, a, OFFRX_SUCCESS, 50, OFFRX_CR_PUSH_TIMER);
	assert_done(s, b, OFFRX_SUCCESS, 400, OFFRX_CR_PSH);
	assert_int_equal(sc_done_of(s, b)->call, sc_done_of(s, a)->call + 1);
	assert_int_equal(s->nested, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R18_completion_and_indication_run_one_after_the_other(void **state)
{
	hook_reset(0);
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->on_complete = post_fresh_from_callback; /* limit 0: only records */
	struct offrx_recv_req *a = post_push(c, 1000);
	assert_int_equal(deliver(c, 1500, 0), 1500);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	/* The 500 left over is indicated only after the completion call returned. */
	assert_int_equal(hook.indications_seen, 0);
	assert_int_equal(c->indications, 1);
	uint32_t call = event_index(s, OFFRX_E_COMPLETE_CALL, 0);
	uint32_t ind = event_index(s, OFFRX_E_INDICATE, 0);
	assert_true(call < ind && ind != UINT32_MAX);
	assert_int_equal(s->nested, 0);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R20..R23: indicate and return ------------------------------------------------------ */

static void test_R20_indicates_when_nothing_posted_and_accept_takes_all(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 700, 0), 700);
	assert_int_equal(c->indications, 1);
	assert_int_equal(c->app_off, 700);
	assert_non_null(c->held_bufs);
	const struct offrx_event *ev = sc_last_event(s, OFFRX_E_INDICATE);
	assert_non_null(ev);
	assert_int_equal(ev->bytes, 700);
	assert_int_equal(ev->total, 700);
	assert_int_equal(ev->status, OFFRX_SUCCESS);
	struct offrx_conn_stats st = conn_stats(c);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(st.bytes_indicated, 700);
	assert_int_equal(st.bytes_consumed, 700);
	assert_int_equal(st.indicated_out, c->held_nbufs);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R20_partial_accept_keeps_the_rest_in_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_PARTIAL;
	c->ind_take = 300;
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_int_equal(c->indications, 1);
	assert_int_equal(c->app_off, 300);
	const struct offrx_event *ev = sc_last_event(s, OFFRX_E_INDICATE);
	assert_int_equal(ev->status, OFFRX_PARTIALLY_ACCEPTED);
	assert_int_equal(ev->total, 300);
	assert_int_equal(conn_stats(c).held_bytes, 700);
	/* The rest comes next, in order, into a posted request. */
	struct offrx_recv_req *r = post_nopush(c, 700);
	advance_ms(s, 0);
	assert_done(s, r, OFFRX_SUCCESS, 700, OFFRX_CR_FILLED);
	assert_int_equal(conn_stats(c).held_bytes, 0);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R21_refused_data_waits_for_a_post_then_fills_it_first(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_int_equal(c->indications, 1);
	/* More data and time: still not indicated again. */
	assert_int_equal(deliver(c, 500, OFFRX_MEM_PSH), 500);
	advance_ms(s, 2000);
	assert_int_equal(c->indications, 1);
	assert_int_equal(c->app_off, 0);
	assert_int_equal(conn_stats(c).held_bytes, 1500);
	/* A post takes the oldest bytes first. */
	struct offrx_recv_req *a = post_nopush(c, 600);
	advance_ms(s, 0);
	assert_done(s, a, OFFRX_SUCCESS, 600, OFFRX_CR_FILLED);
	assert_int_equal(c->app_off, 600);
	/* After the post the rest may be indicated again; refused again, it waits again. */
	uint32_t ind = c->indications;
	assert_true(ind <= 2);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(c->indications, ind);
	struct offrx_recv_req *b = post_nopush(c, 1000);
	advance_ms(s, 0);
	assert_done(s, b, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(c->app_off, 1600);
	assert_int_equal(conn_stats(c).held_bytes, 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R21_partially_accepted_rest_is_not_indicated_until_a_post(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_PARTIAL;
	c->ind_take = 100;
	assert_int_equal(deliver(c, 400, 0), 400);
	assert_int_equal(c->indications, 1);
	assert_int_equal(deliver(c, 400, 0), 400);
	advance_ms(s, 1000);
	assert_int_equal(c->indications, 1);
	assert_int_equal(c->app_off, 100);
	struct offrx_recv_req *r = post_push(c, 2000);
	advance_ms(s, 0);
	assert_int_equal(conn_stats(c).held_bytes, 0);
	advance_ms(s, 500);
	assert_done(s, r, OFFRX_SUCCESS, 700, OFFRX_CR_PUSH_TIMER);
	assert_int_equal(c->indications, 1);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R22_one_return_carries_buffers_of_several_indications(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(deliver(c, 100 + i, 0), 100 + i);
	assert_int_equal(c->indications, 3);
	assert_true(c->held_nbufs >= 3);
	assert_int_equal(engine_indicated_out(s), c->held_nbufs);
	assert_int_equal(offrx_return_indicated(s->eng, c->held_bufs), OFFRX_SUCCESS);
	c->held_bufs = NULL;
	c->held_nbufs = 0;
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(conn_stats(c).indicated_out, 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_RETURN, c->id), 3);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R22_one_return_carries_buffers_of_several_connections(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c1 = sc_open(s), *c2 = sc_open(s);
	assert_int_equal(deliver(c1, 300, 0), 300);
	assert_int_equal(deliver(c2, 200, 0), 200);
	assert_int_equal(deliver(c1, 50, 0), 50);
	uint32_t n = c1->held_nbufs + c2->held_nbufs;
	assert_int_equal(engine_indicated_out(s), n);
	struct offrx_ind_buf *t = c1->held_bufs;
	while (t->next)
		t = t->next;
	t->next = c2->held_bufs;
	assert_int_equal(offrx_return_indicated(s->eng, c1->held_bufs), OFFRX_SUCCESS);
	c1->held_bufs = c2->held_bufs = NULL;
	c1->held_nbufs = c2->held_nbufs = 0;
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(conn_stats(c1).indicated_out, 0);
	assert_int_equal(conn_stats(c2).indicated_out, 0);
	sc_check_stream(c1);
	sc_check_stream(c2);
	sc_free(s);
}

static void test_R22_returned_buffers_are_reused(void **state)
{
	struct sc *s = sc_new_tiny(256, 4096);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(offrx_conn_space(c->conn), 256);
	assert_int_equal(deliver(c, 256, 0), 256);
	assert_int_equal(c->app_off, 256);
	/* Every chunk is lent out: nothing more can be stored until they come back. */
	assert_int_equal(offrx_conn_space(c->conn), 0);
	assert_int_equal(deliver(c, 10, 0), 0);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	assert_int_equal(offrx_conn_space(c->conn), 256);
	assert_int_equal(deliver(c, 256, 0), 256);
	assert_int_equal(c->app_off, 512);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	struct offrx_engine_stats es;
	assert_int_equal(offrx_engine_stats(s->eng, &es), OFFRX_SUCCESS);
	assert_int_equal(es.pool_free_chunks, es.pool_chunks);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R23_destroy_refused_while_buffers_are_out(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(deliver(c, 500, 0), 500);
	assert_int_equal(deliver(c, 500, 0), 500);
	uint32_t n = c->held_nbufs;
	assert_true(n >= 2);
	uint32_t out = 0;
	assert_int_equal(offrx_engine_destroy(s->eng, &out), OFFRX_INVALID_STATE);
	assert_int_equal(out, n);
	/* The connection was reset first (nothing held, so the event carries nothing); nothing
	 * was released: the connection still answers, a post completes INVALID_STATE. */
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->last_ev.reason, OFFRX_CLOSE_RST);
	assert_int_equal(c->last_ev.held_bytes, 0);
	struct offrx_recv_req *r = post_nopush(c, 100);
	assert_int_equal(deliver(c, 100, 0), 0);
	advance_ms(s, 0);
	assert_done(s, r, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_int_equal(conn_stats(c).indicated_out, n);
	assert_int_equal(offrx_engine_destroy(s->eng, &out), OFFRX_INVALID_STATE);
	assert_int_equal(out, n);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	sc_check_stream(c);
	sc_free(s); /* destroy now succeeds (sc_free asserts it) */
}

static void test_R23_buffers_of_a_closed_connection_still_hold_the_engine(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 900, 0), 900);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->last_ev.held_bytes, 900);
	uint32_t n = c->held_nbufs;
	assert_true(n >= 1);
	assert_int_equal(offrx_mem_conn_close(c->conn), OFFRX_SUCCESS);
	c->conn = NULL;
	uint32_t out = 0;
	assert_int_equal(offrx_engine_destroy(s->eng, &out), OFFRX_INVALID_STATE);
	assert_int_equal(out, n);
	assert_int_equal(engine_indicated_out(s), n);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	assert_int_equal(engine_indicated_out(s), 0);
	assert_int_equal(c->app_off, 900);
	sc_check(s);
	sc_free(s);
}

/* --- R24: window and acknowledgment ----------------------------------------------------- */

static void test_R24_space_is_room_in_requests_plus_engine_budget(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	const uint64_t budget = 256 << 10; /* default hold per connection */
	assert_int_equal(offrx_conn_space(c->conn), budget);
	post_push(c, 1000);
	post_prefilled(c, 1000, 400);
	assert_int_equal(offrx_conn_space(c->conn), budget + 1600);
	assert_int_equal(deliver(c, 300, 0), 300);
	assert_int_equal(offrx_conn_space(c->conn), budget + 1300);
	assert_int_equal(link_stats(c).last_wnd, budget + 1300);
	assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + 300);
	advance_ms(s, 500); /* the push timer hands both back, so the stream can be checked */
	assert_int_equal(s->ndone, 2);
	assert_int_equal(offrx_conn_space(c->conn), budget);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R24_tiny_budget_stores_and_acks_only_what_fits(void **state)
{
	struct sc *s = sc_new_tiny(512, 256);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(offrx_conn_space(c->conn), 256);
	assert_int_equal(deliver(c, 1000, 0), 256);
	assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + 256);
	assert_int_equal(offrx_conn_space(c->conn), 0);
	assert_int_equal(link_stats(c).last_wnd, 0);
	assert_int_equal(make_segment(c, 0, 100, 0), 0);
	assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + 256);
	/* A post takes the held bytes, and the window grows by what is really free. */
	struct offrx_recv_req *a = post_nopush(c, 500);
	advance_ms(s, 0);
	uint64_t space = offrx_conn_space(c->conn);
	assert_int_equal(space, 244 + 256);
	assert_int_equal(deliver(c, 1000, 0), space);
	assert_int_equal(c->stored, 756);
	assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + 756);
	assert_done(s, a, OFFRX_SUCCESS, 500, OFFRX_CR_FILLED);
	/* Whatever is advertised can be delivered in full. */
	c->ind_mode = SC_IND_ACCEPT;
	struct offrx_recv_req *b = post_nopush(c, 300);
	advance_ms(s, 0);
	for (uint32_t i = 0; i < 4; i++) {
		uint64_t w = offrx_conn_space(c->conn);
		assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + (uint32_t)c->stored);
		if (w)
			assert_int_equal(deliver(c, w, 0), w);
		assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	}
	assert_non_null(sc_done_of(s, b));
	/* Everything acknowledged reached the application. */
	assert_int_equal(conn_stats(c).held_bytes, 0);
	assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + (uint32_t)c->stored);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R24_shared_pool_limits_the_next_connection(void **state)
{
	struct sc *s = sc_new_tiny(512, 4096);
	struct sc_conn *c1 = sc_open(s), *c2 = sc_open(s);
	c1->ind_mode = SC_IND_REFUSE;
	c2->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c1, 1000, 0), 512);
	assert_int_equal(offrx_conn_space(c2->conn), 0);
	assert_int_equal(deliver(c2, 100, 0), 0);
	assert_int_equal(link_stats(c2).last_ack_seq, IRS_NEXT);
	/* A posted request is room of its own. */
	struct offrx_recv_req *r = post_nopush(c2, 100);
	assert_int_equal(offrx_conn_space(c2->conn), 100);
	assert_int_equal(deliver(c2, 150, 0), 100);
	assert_done(s, r, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	assert_int_equal(link_stats(c2).last_ack_seq, IRS_NEXT + 100);
	/* c1's bytes are drained into a request: the pool is free again for c2. */
	struct offrx_recv_req *big = post_nopush(c1, 512);
	advance_ms(s, 0);
	assert_done(s, big, OFFRX_SUCCESS, 512, OFFRX_CR_FILLED);
	assert_int_equal(offrx_conn_space(c2->conn), 512);
	sc_check_stream(c1);
	sc_check_stream(c2);
	sc_free(s);
}

/* --- R25: disconnect -------------------------------------------------------------------- */

static void test_R25_fin_completes_outstanding_success_with_their_bytes(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_nopush(c, 1000), *b = post_push(c, 1000);
	assert_int_equal(deliver(c, 400, 0), 400);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_done(s, a, OFFRX_SUCCESS, 400, OFFRX_CR_DISCONNECT);
	assert_done(s, b, OFFRX_SUCCESS, 0, OFFRX_CR_DISCONNECT);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->last_ev.reason, OFFRX_CLOSE_FIN);
	assert_int_equal(c->last_ev.rcv_nxt, IRS_NEXT + 400);
	assert_int_equal(c->last_ev.bytes_received, 400);
	assert_int_equal(c->last_ev.held_bytes, 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_DISCONNECT, c->id), 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R25_disconnect_is_indicated_once(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_INVALID_STATE);
	assert_int_equal(offrx_mem_rst(c->conn), OFFRX_INVALID_STATE);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_INVALID_STATE);
	advance_ms(s, 1000);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->events[OFFRX_EV_UPLOAD_DONE], 0);
	assert_int_equal(sc_count_events(s, OFFRX_E_DISCONNECT, c->id), 1);
	/* Data after the disconnect is not stored (nor acknowledged). */
	assert_int_equal(deliver(c, 100, 0), 0);
	assert_int_equal(offrx_conn_space(c->conn), 0);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R25_posts_after_fin_complete_invalid_state_in_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	struct offrx_recv_req *a = sc_req(100, 0, 0), *b = sc_req(100, 0, 30), *d = sc_req(0, 0, 0);
	a->next = b;
	b->next = d;
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 0);
	assert_int_equal(s->ndone, 3);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_ptr_equal(s->done[2].req, d);
	assert_done(s, a, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_done(s, b, OFFRX_INVALID_STATE, 30, OFFRX_CR_INVALID_STATE);
	assert_done(s, d, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R25_rst_aborts_outstanding_and_is_indicated_once(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 500), *b = post_nopush(c, 500);
	assert_int_equal(deliver(c, 700, 0), 700);
	assert_done(s, a, OFFRX_SUCCESS, 500, OFFRX_CR_FILLED);
	assert_int_equal(offrx_mem_rst(c->conn), OFFRX_SUCCESS);
	assert_done(s, b, OFFRX_REQUEST_ABORTED, 200, OFFRX_CR_ABORT);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->last_ev.reason, OFFRX_CLOSE_RST);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_INVALID_STATE);
	struct offrx_recv_req *late = post_push(c, 10);
	advance_ms(s, 0);
	assert_done(s, late, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R25_held_data_is_handed_back_with_the_fin(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_PARTIAL;
	c->ind_take = 200;
	assert_int_equal(deliver(c, 800, 0), 800);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->last_ev.held_bytes, 600);
	assert_int_equal(c->last_ev.rcv_nxt, IRS_NEXT + 800);
	assert_int_equal(c->app_off, 800);
	assert_int_equal(c->last_ev.indicated_out, c->held_nbufs);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R25_held_data_is_handed_back_with_the_rst(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 5000, 0), 5000);
	assert_int_equal(offrx_mem_rst(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->last_ev.reason, OFFRX_CLOSE_RST);
	assert_int_equal(c->last_ev.held_bytes, 5000);
	assert_int_equal(c->app_off, 5000);
	assert_int_equal(conn_stats(c).held_bytes, 0);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R26: upload ------------------------------------------------------------------------ */

static void test_R26_upload_stops_timer_and_flushes_delayed_ack(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000);
	assert_int_equal(deliver(c, 400, 0), 400);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 1);
	assert_int_equal(link_stats(c).ack_flushes, 0);
	uint64_t space = offrx_conn_space(c->conn);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_CANCEL, c->id), 1);
	assert_int_equal(conn_stats(c).timer_deadline_ns, 0);
	struct offrx_mem_link_stats ls = link_stats(c);
	assert_int_equal(ls.ack_flushes, 1);
	assert_int_equal(ls.last_ack_seq, IRS_NEXT + 400);
	assert_done(s, a, OFFRX_UPLOAD_IN_PROGRESS, 400, OFFRX_CR_UPLOAD);
	assert_int_equal(c->events[OFFRX_EV_UPLOAD_DONE], 1);
	assert_int_equal(c->last_ev.reason, OFFRX_CLOSE_UPLOAD);
	assert_int_equal(c->last_ev.rcv_nxt, IRS_NEXT + 400);
	assert_int_equal(c->last_ev.rcv_wnd, space);
	assert_int_equal(c->last_ev.bytes_received, 400);
	/* The timer is gone for good. */
	advance_ms(s, 3000);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 0);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(link_stats(c).ack_flushes, 1);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_INVALID_STATE);
	assert_int_equal(c->events[OFFRX_EV_UPLOAD_DONE], 1);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R26_upload_completes_prefilled_request_with_its_bytes(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_prefilled(c, 1000, 100), *b = post_nopush(c, 100);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, c->id), 1); /* R07 */
	advance_ms(s, 100);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_done(s, a, OFFRX_UPLOAD_IN_PROGRESS, 100, OFFRX_CR_UPLOAD);
	assert_done(s, b, OFFRX_UPLOAD_IN_PROGRESS, 0, OFFRX_CR_UPLOAD);
	assert_int_equal(a->bytes_placed, 0);
	advance_ms(s, 1000);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, c->id), 0);
	assert_int_equal(s->ndone, 2);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R26_upload_hands_back_held_data_and_receive_state(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_PARTIAL;
	c->ind_take = 100;
	struct offrx_recv_req *a = post_nopush(c, 1000);
	assert_int_equal(deliver(c, 1300, 0), 1300);
	assert_done(s, a, OFFRX_SUCCESS, 1000, OFFRX_CR_FILLED);
	assert_int_equal(c->indications, 1);
	assert_int_equal(conn_stats(c).held_bytes, 200);
	uint64_t space = offrx_conn_space(c->conn);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->events[OFFRX_EV_UPLOAD_DONE], 1);
	const struct offrx_conn_event *ev = &c->last_ev;
	assert_int_equal(ev->type, OFFRX_EV_UPLOAD_DONE);
	assert_int_equal(ev->held_bytes, 200);
	assert_int_equal(ev->rcv_nxt, IRS_NEXT + 1300);
	assert_int_equal(ev->rcv_wnd, space);
	assert_int_equal(ev->bytes_received, 1300);
	/* Bytes in requests + consumed from indications + handed back == bytes stored. */
	struct offrx_conn_stats st = conn_stats(c);
	assert_int_equal(st.bytes_completed + st.bytes_consumed + ev->held_bytes, c->stored);
	assert_int_equal(st.held_bytes, 0);
	/* No more data, no more posts. */
	assert_int_equal(deliver(c, 100, 0), 0);
	struct offrx_recv_req *late = post_push(c, 100);
	advance_ms(s, 0);
	assert_done(s, late, OFFRX_INVALID_STATE, 0, OFFRX_CR_INVALID_STATE);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R26_upload_with_nothing_posted_hands_back_everything(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	c->ind_mode = SC_IND_REFUSE;
	assert_int_equal(deliver(c, 9000, 0), 9000);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->last_ev.held_bytes, 9000);
	assert_int_equal(c->last_ev.rcv_nxt, IRS_NEXT + 9000);
	assert_int_equal(link_stats(c).ack_flushes, 1);
	assert_int_equal(link_stats(c).last_ack_seq, IRS_NEXT + 9000);
	assert_int_equal(s->ndone, 0);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

/* Partial accepts leave the application holding descriptors that cover data the engine
 * still holds; a tiny pool (4 chunks of 64 bytes) has few descriptors to lend. Leaves `held`
 * bytes held on c, with every descriptor lent. */
static void hold_with_descriptors_lent(struct sc *s, struct sc_conn *c, uint64_t *held)
{
	c->ind_mode = SC_IND_PARTIAL;
	c->ind_take = 10;
	assert_int_equal(deliver(c, 256, 0), 256);
	for (uint32_t i = 0; i < 3; i++) {
		struct offrx_recv_req *r = post_nopush(c, 10);
		advance_ms(s, 0);
		assert_int_equal(sc_times_completed(s, r), 1);
	}
	*held = conn_stats(c).held_bytes;
	assert_true(*held > 0);
	assert_int_equal(*held + c->app_off, 256);
}

static void test_R26_upload_hands_back_held_data_while_the_app_holds_buffers(void **state)
{
	struct sc *s = sc_new_tiny(256, 4096);
	struct sc_conn *c = sc_open(s);
	uint64_t held;
	hold_with_descriptors_lent(s, c, &held);
	assert_int_equal(offrx_conn_upload(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->events[OFFRX_EV_UPLOAD_DONE], 1);
	assert_int_equal(c->last_ev.held_bytes, held);
	/* Nothing lost: the bytes reported held must come with the event. */
	sc_check(s);
	assert_int_equal(c->app_off, c->stored);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R25_fin_hands_back_held_data_while_the_app_holds_buffers(void **state)
{
	struct sc *s = sc_new_tiny(256, 4096);
	struct sc_conn *c = sc_open(s);
	uint64_t held;
	hold_with_descriptors_lent(s, c, &held);
	assert_int_equal(offrx_mem_fin(c->conn), OFFRX_SUCCESS);
	assert_int_equal(c->events[OFFRX_EV_DISCONNECT], 1);
	assert_int_equal(c->last_ev.held_bytes, held);
	sc_check(s);
	assert_int_equal(c->app_off, c->stored);
	assert_int_equal(sc_return_all(c), OFFRX_SUCCESS);
	sc_check_stream(c);
	sc_free(s);
}

/* --- R27: layers ------------------------------------------------------------------------ */

struct layer_trace {
	int ev[64]; /* layer id * 10 + 1 for a post seen, + 2 for a completion seen */
	uint32_t n;
};

struct layer_rec {
	int id;
	struct layer_trace *tr;
	struct sc *s;
	struct offrx_layer *self;
	struct offrx_recv_req *down[32], *up[32];
	uint32_t ndown, nup;
	uint32_t app_done_before, app_done_after;
	int last_rc;
};

static int rec_post(struct offrx_layer *layer, struct offrx_recv_req *reqs, void *ctx)
{
	struct layer_rec *l = ctx;
	assert_ptr_equal(layer, l->self);
	for (struct offrx_recv_req *r = reqs; r && l->ndown < 32; r = r->next)
		l->down[l->ndown++] = r;
	if (l->tr->n < 64)
		l->tr->ev[l->tr->n++] = l->id * 10 + 1;
	l->last_rc = offrx_layer_post_down(layer, reqs);
	return l->last_rc;
}

static void rec_complete(struct offrx_layer *layer, struct offrx_recv_req *reqs, void *ctx)
{
	struct layer_rec *l = ctx;
	assert_ptr_equal(layer, l->self);
	for (struct offrx_recv_req *r = reqs; r && l->nup < 32; r = r->next)
		l->up[l->nup++] = r;
	if (l->tr->n < 64)
		l->tr->ev[l->tr->n++] = l->id * 10 + 2;
	l->app_done_before = l->s->ndone;
	offrx_layer_complete_up(layer, reqs);
	l->app_done_after = l->s->ndone;
}

static const struct offrx_layer_ops rec_ops = {
	.sz = sizeof(struct offrx_layer_ops),
	.post = rec_post,
	.complete = rec_complete,
};

static const struct offrx_layer_ops null_ops = {
	.sz = sizeof(struct offrx_layer_ops),
};

static void test_R27_layer_passes_the_same_requests_down_and_up_in_order(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct layer_trace tr = { 0 };
	struct layer_rec l = { .id = 1, .tr = &tr, .s = s };
	assert_int_equal(offrx_layer_push(c->conn, &rec_ops, &l, &l.self), OFFRX_SUCCESS);
	assert_ptr_equal(offrx_layer_conn(l.self), c->conn);
	struct offrx_recv_req *a = sc_req(100, 0, 0), *b = sc_req(200, 0, 0);
	a->next = b;
	assert_int_equal(sc_post(c, a), OFFRX_PENDING);
	assert_int_equal(l.last_rc, OFFRX_PENDING);
	struct offrx_recv_req *d = post_nopush(c, 300);
	assert_int_equal(l.ndown, 3);
	assert_ptr_equal(l.down[0], a);
	assert_ptr_equal(l.down[1], b);
	assert_ptr_equal(l.down[2], d);
	/* The engine queued the very objects the layer passed down. */
	assert_int_equal(offrx_req_id(a), 1);
	assert_int_equal(offrx_req_id(b), 2);
	assert_int_equal(offrx_req_id(d), 3);
	assert_int_equal(deliver(c, 450, OFFRX_MEM_PSH), 450);
	assert_int_equal(l.nup, 2);
	assert_int_equal(deliver(c, 150, 0), 150);
	assert_int_equal(l.nup, 3);
	assert_ptr_equal(l.up[0], a);
	assert_ptr_equal(l.up[1], b);
	assert_ptr_equal(l.up[2], d);
	assert_int_equal(s->ndone, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_ptr_equal(s->done[i].req, l.up[i]);
	assert_int_equal(l.app_done_after, 3); /* the app saw it inside complete_up */
	assert_int_equal(l.app_done_before, 2);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R27_two_stacked_layers_keep_the_order_of_the_stack(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct layer_trace tr = { 0 };
	struct layer_rec l1 = { .id = 1, .tr = &tr, .s = s }, l2 = { .id = 2, .tr = &tr, .s = s };
	assert_int_equal(offrx_layer_push(c->conn, &rec_ops, &l1, &l1.self), OFFRX_SUCCESS);
	assert_int_equal(offrx_layer_push(c->conn, &rec_ops, &l2, &l2.self), OFFRX_SUCCESS);
	struct offrx_recv_req *a = post_push(c, 100), *b = post_push(c, 100);
	assert_int_equal(deliver(c, 200, 0), 200);
	/* Down: top (2) then bottom (1), per post; up: bottom then top, one call for both. */
	const int want[] = { 21, 11, 21, 11, 12, 22 };
	assert_int_equal(tr.n, 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(tr.ev[i], want[i]);
	assert_int_equal(l1.ndown, 2);
	assert_int_equal(l2.ndown, 2);
	assert_int_equal(l1.nup, 2);
	assert_int_equal(l2.nup, 2);
	assert_ptr_equal(l1.down[0], a);
	assert_ptr_equal(l2.down[1], b);
	assert_ptr_equal(l1.up[0], a);
	assert_ptr_equal(l1.up[1], b);
	assert_ptr_equal(l2.up[0], a);
	assert_ptr_equal(l2.up[1], b);
	assert_ptr_equal(s->done[0].req, a);
	assert_ptr_equal(s->done[1].req, b);
	assert_int_equal(l1.app_done_before, 0);
	assert_int_equal(l1.app_done_after, 2);
	sc_check_stream(c);
	sc_free(s);
}

static void test_R27_layer_with_null_hooks_passes_through(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct layer_trace tr = { 0 };
	struct layer_rec top = { .id = 2, .tr = &tr, .s = s };
	struct offrx_layer *bottom = NULL;
	assert_int_equal(offrx_layer_push(c->conn, &null_ops, NULL, &bottom), OFFRX_SUCCESS);
	assert_non_null(bottom);
	assert_int_equal(offrx_layer_push(c->conn, &rec_ops, &top, &top.self), OFFRX_SUCCESS);
	struct offrx_recv_req *a = post_push(c, 100);
	assert_int_equal(top.last_rc, OFFRX_PENDING);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(top.nup, 1);
	assert_ptr_equal(top.up[0], a);
	assert_done(s, a, OFFRX_SUCCESS, 100, OFFRX_CR_FILLED);
	/* A connection whose only layer has no hooks behaves as with no layer. */
	struct sc_conn *c2 = sc_open(s);
	assert_int_equal(offrx_layer_push(c2->conn, &null_ops, NULL, NULL), OFFRX_SUCCESS);
	struct offrx_recv_req *b = post_push(c2, 100);
	assert_int_equal(deliver(c2, 60, OFFRX_MEM_PSH), 60);
	assert_done(s, b, OFFRX_SUCCESS, 60, OFFRX_CR_PSH);
	sc_check_stream(c);
	sc_check_stream(c2);
	sc_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R14_completions_keep_posting_order),
		cmocka_unit_test(test_R14_one_call_carries_filled_requests_and_one_partial),
		cmocka_unit_test(test_R14_partial_request_ends_the_call),
		cmocka_unit_test(test_R14_fin_splits_partials_into_calls_in_order),
		cmocka_unit_test(test_R14_one_post_spread_over_several_calls_in_order),
		cmocka_unit_test(test_R15_completion_reports_bytes_and_advances_data_start),
		cmocka_unit_test(test_R15_data_start_advances_across_segments),
		cmocka_unit_test(test_R15_filled_request_reports_full_length),
		cmocka_unit_test(test_R16_success_advances_receive_next_and_window),
		cmocka_unit_test(test_R16_rst_completes_request_aborted_with_valid_bytes),
		cmocka_unit_test(test_R16_upload_completes_upload_in_progress),
		cmocka_unit_test(test_R16_post_after_disconnect_completes_invalid_state),
		cmocka_unit_test(test_R17_zero_length_request_completes_once),
		cmocka_unit_test(test_R17_every_request_completes_once_across_fin),
		cmocka_unit_test(test_R17_every_request_completes_once_across_upload),
		cmocka_unit_test(test_R17_requests_outstanding_at_destroy_complete_aborted),
		cmocka_unit_test(test_R18_completion_and_indication_run_one_after_the_other),
		cmocka_unit_test(test_R19_post_from_completion_callback_completes_later_not_nested),
		cmocka_unit_test(
			test_R19_complete_request_posted_from_callback_comes_in_a_second_call),
		cmocka_unit_test(test_R19_reposting_the_completed_request_streams_without_nesting),
		cmocka_unit_test(
			test_R19_data_arriving_inside_the_callback_completes_after_it_returns),
		cmocka_unit_test(test_R20_indicates_when_nothing_posted_and_accept_takes_all),
		cmocka_unit_test(test_R20_partial_accept_keeps_the_rest_in_order),
		cmocka_unit_test(test_R21_refused_data_waits_for_a_post_then_fills_it_first),
		cmocka_unit_test(test_R21_partially_accepted_rest_is_not_indicated_until_a_post),
		cmocka_unit_test(test_R22_one_return_carries_buffers_of_several_indications),
		cmocka_unit_test(test_R22_one_return_carries_buffers_of_several_connections),
		cmocka_unit_test(test_R22_returned_buffers_are_reused),
		cmocka_unit_test(test_R23_destroy_refused_while_buffers_are_out),
		cmocka_unit_test(test_R23_buffers_of_a_closed_connection_still_hold_the_engine),
		cmocka_unit_test(test_R24_space_is_room_in_requests_plus_engine_budget),
		cmocka_unit_test(test_R24_tiny_budget_stores_and_acks_only_what_fits),
		cmocka_unit_test(test_R24_shared_pool_limits_the_next_connection),
		cmocka_unit_test(test_R25_fin_completes_outstanding_success_with_their_bytes),
		cmocka_unit_test(test_R25_disconnect_is_indicated_once),
		cmocka_unit_test(test_R25_posts_after_fin_complete_invalid_state_in_order),
		cmocka_unit_test(test_R25_rst_aborts_outstanding_and_is_indicated_once),
		cmocka_unit_test(test_R25_held_data_is_handed_back_with_the_fin),
		cmocka_unit_test(test_R25_held_data_is_handed_back_with_the_rst),
		cmocka_unit_test(test_R26_upload_stops_timer_and_flushes_delayed_ack),
		cmocka_unit_test(test_R26_upload_completes_prefilled_request_with_its_bytes),
		cmocka_unit_test(test_R26_upload_hands_back_held_data_and_receive_state),
		cmocka_unit_test(test_R26_upload_with_nothing_posted_hands_back_everything),
		cmocka_unit_test(test_R26_upload_hands_back_held_data_while_the_app_holds_buffers),
		cmocka_unit_test(test_R25_fin_hands_back_held_data_while_the_app_holds_buffers),
		cmocka_unit_test(test_R27_layer_passes_the_same_requests_down_and_up_in_order),
		cmocka_unit_test(test_R27_two_stacked_layers_keep_the_order_of_the_stack),
		cmocka_unit_test(test_R27_layer_with_null_hooks_passes_through),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
