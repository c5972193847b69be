/* The hard cases of the receive core: requests spanning many segments, segments spanning
 * many requests and chains, zero-length buffers, prefill equal to the buffer, PSH on the byte
 * that fills a request, and the timer falling due on the same tick as new data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "scenario.h"

/* A 64 KiB push request made of 16 segments of uneven sizes (some empty) filled by 1448-byte
 * arrivals: every byte lands in order, and only the last arrival completes it. */
static void test_R02_request_spanning_many_segments(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	uint32_t lens[16], total = 0;
	for (int i = 0; i < 16; i++) {
		lens[i] = (i % 5 == 3) ? 0 : 1000 + (uint32_t)i * 517;
		total += lens[i];
	}
	struct offrx_recv_req *r = sc_req_segs(lens, 16, 0);
	assert_int_equal(sc_post(c, r), OFFRX_PENDING);
	uint64_t sent = 0;
	while (sent + 1448 < total) {
		assert_int_equal(deliver(c, 1448, 0), 1448);
		sent += 1448;
		assert_int_equal(s->ndone, 0);
	}
	assert_int_equal(deliver(c, total - sent, 0), total - sent);
	const struct sc_done *d = sc_done_of(s, r);
	assert_non_null(d);
	assert_int_equal(d->bytes, total);
	assert_int_equal(d->reason, OFFRX_CR_FILLED);
	sc_check_stream(c);
	sc_free(s);
}

/* One 30000-byte arrival across ten requests, each a chain of three segments: all filled ones
 * complete in one call, in order, and the last keeps its partial bytes until PSH. */
static void test_R14_segment_spanning_many_requests_and_chains(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r[10];
	uint32_t cap = 0;
	for (int i = 0; i < 10; i++) {
		uint32_t lens[3] = { 700 + (uint32_t)i * 13, 1, 2300 };
		r[i] = sc_req_segs(lens, 3, 0);
		cap += r[i]->data_len;
		if (i)
			r[i - 1]->next = r[i];
	}
	assert_int_equal(sc_post(c, r[0]), OFFRX_PENDING);
	uint32_t last_len = r[9]->data_len;
	assert_int_equal(deliver(c, cap - 100, 0), cap - 100);
	assert_int_equal(s->ndone, 9);
	assert_int_equal(s->calls, 1); /* one call for all nine filled requests */
	for (int i = 0; i < 9; i++) {
		assert_ptr_equal(s->done[i].req, r[i]);
		assert_int_equal(s->done[i].reason, OFFRX_CR_FILLED);
	}
	assert_int_equal(deliver(c, 0, OFFRX_MEM_PSH), 0);
	assert_int_equal(deliver(c, 50, OFFRX_MEM_PSH), 50);
	const struct sc_done *d = sc_done_of(s, r[9]);
	assert_non_null(d);
	assert_int_equal(d->bytes, last_len - 50);
	assert_int_equal(d->reason, OFFRX_CR_PSH);
	sc_check_stream(c);
	sc_free(s);
}

/* A zero-length buffer completes at once with 0 bytes and SUCCESS, after the requests before
 * it, and takes no data. */
static void test_R17_zero_length_buffer_completes_with_zero_bytes(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 1000);
	struct offrx_recv_req *z = sc_req(0, 0, 0);
	struct offrx_recv_req *b = post_push(c, 1000);
	(void)b;
	assert_int_equal(sc_post(c, z), OFFRX_PENDING);
	advance_ms(s, 0);
	assert_null(sc_done_of(s, z)); /* behind a, which is still empty */
	assert_int_equal(deliver(c, 1500, 0), 1500);
	assert_non_null(sc_done_of(s, a));
	const struct sc_done *dz = sc_done_of(s, z);
	assert_null(dz); /* posted after b: waits for b (FIFO, R14) */
	assert_int_equal(deliver(c, 500, 0), 500);
	dz = sc_done_of(s, z);
	assert_non_null(dz);
	assert_int_equal(dz->status, OFFRX_SUCCESS);
	assert_int_equal(dz->bytes, 0);
	assert_true(sc_done_of(s, b)->call <= dz->call);
	assert_true(s->done[1].req == b && s->done[2].req == z);
	/* Alone at the head, a zero-length request completes on the next engine run. */
	struct offrx_recv_req *z2 = sc_req(0, OFFRX_REQ_NO_PUSH, 0);
	assert_int_equal(sc_post(c, z2), OFFRX_PENDING);
	assert_null(sc_done_of(s, z2));
	advance_ms(s, 0);
	assert_non_null(sc_done_of(s, z2));
	assert_int_equal(sc_times_completed(s, z2), 1);
	sc_check_stream(c);
	sc_free(s);
}

/* Prefill equal to the buffer size: the request is already full, completes at once as filled
 * with bytes_transferred = prefill and nothing placed, and runs no timer. */
static void test_R07_prefill_equal_to_buffer_size_completes_as_filled(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *r = post_prefilled(c, 4096, 4096);
	advance_ms(s, 0);
	const struct sc_done *d = sc_done_of(s, r);
	assert_non_null(d);
	assert_int_equal(d->status, OFFRX_SUCCESS);
	assert_int_equal(d->bytes, 4096);
	assert_int_equal(d->placed, 0);
	assert_int_equal(d->reason, OFFRX_CR_FILLED);
	assert_int_equal(r->data_len, 4096);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_START, 0), 0);
	/* The next request gets the stream from its first byte. */
	struct offrx_recv_req *n = post_nopush(c, 100);
	assert_int_equal(deliver(c, 100, 0), 100);
	assert_int_equal(sc_done_of(s, n)->bytes, 100);
	sc_check_stream(c);
	sc_free(s);
}

/* PSH on the exact byte that fills a request: it completes once, as filled; the next request
 * is left alone (it holds nothing) and the timer is not left running. */
static void test_R09_psh_on_the_byte_that_fills(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 2000), *b = post_push(c, 2000);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	assert_int_equal(deliver(c, 1000, OFFRX_MEM_PSH), 1000);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(sc_done_of(s, a)->reason, OFFRX_CR_FILLED);
	assert_int_equal(sc_times_completed(s, a), 1);
	assert_null(sc_done_of(s, b));
	struct offrx_conn_stats st;
	offrx_conn_stats(c->conn, &st);
	assert_int_equal(st.timer_deadline_ns, 0);
	advance_ms(s, 2000);
	assert_int_equal(s->ndone, 1);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, 0), 0);
	sc_check_stream(c);
	sc_free(s);
}

/* Data arriving on the very tick the timer falls due, handled before the timer pass: the due
 * timer fires first for the bytes that were there, the new bytes go to the next request with
 * a timer of their own (R08), and no request completes twice. */
static void test_R12_timer_due_on_same_tick_as_new_data(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 4096), *b = post_push(c, 4096);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	offrx_mem_set_time(s->eng, 500 * MS); /* the deadline, no timer pass yet */
	assert_int_equal(s->ndone, 0);
	assert_int_equal(deliver(c, 700, 0), 700);
	const struct sc_done *da = sc_done_of(s, a);
	assert_non_null(da);
	assert_int_equal(da->bytes, 1000);
	assert_int_equal(da->reason, OFFRX_CR_PUSH_TIMER);
	assert_null(sc_done_of(s, b));
	const struct offrx_event *st = sc_last_event(s, OFFRX_E_TIMER_START);
	assert_non_null(st);
	assert_int_equal(st->deadline_ns, 1000 * MS);
	advance_ms(s, 499);
	assert_null(sc_done_of(s, b));
	advance_ms(s, 1);
	assert_int_equal(sc_done_of(s, b)->bytes, 700);
	assert_int_equal(sc_times_completed(s, a), 1);
	assert_int_equal(sc_times_completed(s, b), 1);
	assert_int_equal(sc_count_events(s, OFFRX_E_TIMER_EXPIRE, 0), 2);
	sc_check_stream(c);
	sc_free(s);
}

/* The other order on the same tick: the timer pass runs at the deadline, then the data comes.
 * The outcome is the same. */
static void test_R10_timer_pass_at_deadline_then_data(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 4096), *b = post_push(c, 4096);
	assert_int_equal(deliver(c, 1000, 0), 1000);
	advance_ms(s, 500);
	assert_int_equal(sc_done_of(s, a)->bytes, 1000);
	assert_int_equal(deliver(c, 700, 0), 700);
	assert_null(sc_done_of(s, b));
	assert_int_equal(sc_done_of(s, a)->reason, OFFRX_CR_PUSH_TIMER);
	advance_ms(s, 500);
	assert_int_equal(sc_done_of(s, b)->bytes, 700);
	assert_int_equal(sc_times_completed(s, a), 1);
	sc_check_stream(c);
	sc_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R02_request_spanning_many_segments),
		cmocka_unit_test(test_R14_segment_spanning_many_requests_and_chains),
		cmocka_unit_test(test_R17_zero_length_buffer_completes_with_zero_bytes),
		cmocka_unit_test(test_R07_prefill_equal_to_buffer_size_completes_as_filled),
		cmocka_unit_test(test_R09_psh_on_the_byte_that_fills),
		cmocka_unit_test(test_R12_timer_due_on_same_tick_as_new_data),
		cmocka_unit_test(test_R10_timer_pass_at_deadline_then_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
