/* Scale: 10,000 connections, each with a push timer running at once. Every timer fires at its
 * own deadline (not before, and within one wheel tick after), every request completes exactly
 * once with the right bytes, and restarting all of them costs no wheel churn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <offrx/offrx_mem.h>

#define NCONNS 10000
#define MS     (1000ull * 1000)

struct slot {
	struct offrx_conn *conn;
	struct offrx_recv_req req;
	struct offrx_seg seg;
	uint8_t buf[256];
	uint32_t completions;
	uint64_t done_at;
	uint64_t last_arrival;
	uint32_t bytes;
};

static struct offrx_engine *eng;
static struct slot *slots;

static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		struct slot *s = ctx;
		s->completions++;
		s->done_at = offrx_mem_now(eng);
		s->bytes = r->bytes_transferred;
	}
	(void)conn;
}

static const struct offrx_callbacks cbs = { .recv_complete = on_complete };

static void test_R10_R12_ten_thousand_connections_with_timers(void **state)
{
	(void)state;
	struct offrx_engine_opts o = { .sz = sizeof(o), .max_conns = NCONNS, .cb = &cbs };
	assert_int_equal(offrx_mem_engine_create(&o, &eng), OFFRX_SUCCESS);
	slots = calloc(NCONNS, sizeof(*slots));
	uint8_t data[64];
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)i;

	/* Open all, post one push request each, and start every timer at a different time:
	 * connection i gets its first byte at i * 37 us. */
	for (int i = 0; i < NCONNS; i++) {
		struct slot *s = &slots[i];
		assert_int_equal(offrx_mem_conn_open(eng, (uint32_t)i, &s->conn), OFFRX_SUCCESS);
		offrx_conn_set_context(s->conn, s);
		s->seg = (struct offrx_seg){ s->buf, sizeof(s->buf) };
		offrx_req_init(&s->req, &s->seg, 1, (uint64_t)i);
		assert_int_equal(offrx_post_recv(s->conn, &s->req), OFFRX_PENDING);
	}
	for (int i = 0; i < NCONNS; i++) {
		offrx_mem_set_time(eng, (uint64_t)i * 37000);
		struct slot *s = &slots[i];
		assert_int_equal(offrx_mem_deliver(s->conn, data, 10, 0), 10);
		s->last_arrival = offrx_mem_now(eng);
	}
	/* Half of them get more data 100 ms later: their timers restart (R12). */
	offrx_mem_advance(eng, 100 * MS - offrx_mem_now(eng) % MS);
	for (int i = 0; i < NCONNS; i += 2) {
		struct slot *s = &slots[i];
		assert_int_equal(offrx_mem_deliver(s->conn, data, 20, 0), 20);
		s->last_arrival = offrx_mem_now(eng);
	}
	/* Walk time in 1 ms steps until every timer has fired. */
	for (int step = 0; step < 2000; step++)
		offrx_mem_advance(eng, MS);

	struct offrx_engine_stats es;
	offrx_engine_stats(eng, &es);
	assert_int_equal(es.timers_fired, NCONNS);
	for (int i = 0; i < NCONNS; i++) {
		struct slot *s = &slots[i];
		assert_int_equal(s->completions, 1);
		assert_int_equal(s->bytes, i % 2 == 0 ? 30 : 10);
		uint64_t due = s->last_arrival + 500 * MS;
		if (s->done_at < due || s->done_at > due + MS)
			fail_msg("conn %d completed at %llu, due %llu", i,
				 (unsigned long long)s->done_at, (unsigned long long)due);
	}
	uint32_t out = 0;
	assert_int_equal(offrx_engine_destroy(eng, &out), OFFRX_SUCCESS);
	free(slots);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R10_R12_ten_thousand_connections_with_timers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
