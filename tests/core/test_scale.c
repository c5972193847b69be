/* Scale: 10,000 connections, each with a push timer running at once. Every timer fires at its
 * own deadline (not before, and within one wheel tick after), every request completes exactly
 * once with the right bytes, and restarting all of them costs no wheel churn. And engines made
 * and destroyed one after the other (a what-if replay each) give their memory back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
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

/* The process's resident set, in KiB (statm). */
static long rss_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Each engine touches its whole pool at creation (16 MiB by default). A viewer that replays
 * what-ifs makes and destroys one engine per replay: the process must not keep a pool after its
 * engine is gone. (From malloc it did: the first pool's free raised glibc's mmap threshold and
 * the next pools came from the heap, which kept them.) */
static void test_destroyed_engines_give_their_pool_back(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* ASan's allocator keeps freed memory in quarantine: RSS says nothing here */
#endif
	/* A larger block freed first, as a viewer frees its frames' and queues' arrays: glibc
	 * then serves smaller large blocks from the heap, and keeps them there once freed. */
	char *big = malloc(32u << 20);
	assert_non_null(big);
	big[0] = 1;
	free(big);
	struct offrx_engine_opts o = { .sz = sizeof(o), .pool_bytes = 16u << 20 };
	struct offrx_engine *e;
	long before = rss_kib();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(offrx_mem_engine_create(&o, &e), OFFRX_SUCCESS);
		assert_int_equal(offrx_engine_destroy(e, NULL), OFFRX_SUCCESS);
	}
	long grew = rss_kib() - before;
	print_message("RSS after 4 engines of a 16 MiB pool made and destroyed: %+ld KiB\n", grew);
	assert_true(grew < 8 * 1024); /* a pool kept would be 16 MiB */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R10_R12_ten_thousand_connections_with_timers),
		cmocka_unit_test(test_destroyed_engines_give_their_pool_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
