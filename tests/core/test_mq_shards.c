/* An engine of several receive queues is one engine (a shard) per queue (engine/README.md).
 * The pieces that make them one engine, on in-memory shards: ids unique over the shards, a
 * returned buffer going back to the shard that lent it, the owner-aware turn lock, the sums,
 * and one destroy for all. The wire side (threads, sockets, moved flows) is tests/e2e's
 * test_mq_queues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>

#include "engine.h"

#define NSHARDS 2

/* Indicated buffers the callback accepted, of every shard, in one list. */
static struct offrx_ind_buf *taken;

static int take_all(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		    uint64_t *consumed, void *ctx)
{
	(void)conn;
	(void)ctx;
	struct offrx_ind_buf *last = bufs;
	while (last->next)
		last = last->next;
	last->next = taken;
	taken = bufs;
	*consumed = total;
	return OFFRX_SUCCESS;
}

static const struct offrx_callbacks cbs = { .recv_indicate = take_all };

/* NSHARDS in-memory engines made shards of one, as offrx_engine_create() does on the wire. */
static struct offrx_engine *shards_new(struct offrx_engine **sh)
{
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	struct offrx_engine **array = calloc(NSHARDS, sizeof(*array));
	assert_non_null(array);
	for (uint32_t i = 0; i < NSHARDS; i++) {
		assert_int_equal(offrx_mem_engine_create(&o, &array[i]), OFFRX_SUCCESS);
		engine_shard_init(array[i], i, NSHARDS);
	}
	for (uint32_t i = 0; i < NSHARDS; i++) {
		array[i]->shards = array;
		array[i]->nshards = NSHARDS;
		sh[i] = array[i];
	}
	return array[0];
}

static void test_mq_conn_ids_unique_over_shards(void **state)
{
	(void)state;
	struct offrx_engine *sh[NSHARDS], *eng = shards_new(sh);
	uint64_t seen[3 * NSHARDS];
	uint32_t n = 0;
	for (uint32_t k = 0; k < 3; k++)
		for (uint32_t i = 0; i < NSHARDS; i++) {
			struct offrx_conn *c;
			assert_int_equal(offrx_mem_conn_open(sh[i], 1000, &c), OFFRX_SUCCESS);
			uint64_t id = offrx_conn_id(c);
			assert_int_equal(id % NSHARDS, i); /* the shard is in the id */
			for (uint32_t j = 0; j < n; j++)
				assert_true(seen[j] != id);
			seen[n++] = id;
		}
	struct offrx_engine_stats st;
	assert_int_equal(offrx_engine_stats(eng, &st), OFFRX_SUCCESS);
	assert_int_equal(st.conns, 3 * NSHARDS); /* summed over the shards */
	assert_int_equal(st.conns_total, 3 * NSHARDS);
	assert_int_equal(offrx_engine_destroy(eng, NULL), OFFRX_SUCCESS); /* frees every shard */
}

static void test_mq_R22_return_goes_to_the_lending_shard(void **state)
{
	(void)state;
	struct offrx_engine *sh[NSHARDS], *eng = shards_new(sh);
	static const char data[3000] = "x";
	taken = NULL;
	for (uint32_t i = 0; i < NSHARDS; i++) {
		struct offrx_conn *c;
		assert_int_equal(offrx_mem_conn_open(sh[i], 1, &c), OFFRX_SUCCESS);
		assert_int_equal(offrx_mem_deliver(c, data, sizeof(data), 0), sizeof(data));
	}
	struct offrx_engine_stats st;
	assert_int_equal(offrx_engine_stats(eng, &st), OFFRX_SUCCESS);
	assert_true(st.indicated_out >= NSHARDS); /* buffers of both shards are out */
	uint32_t out = 0;
	assert_int_equal(offrx_engine_destroy(eng, &out), OFFRX_INVALID_STATE); /* R23 */
	assert_int_equal(out, st.indicated_out);
	/* One list with the buffers of both shards, through the handle the application holds. */
	assert_int_equal(offrx_return_indicated(eng, taken), OFFRX_SUCCESS);
	assert_int_equal(offrx_engine_stats(eng, &st), OFFRX_SUCCESS);
	assert_int_equal(st.indicated_out, 0);
	assert_int_equal(sh[0]->q.indicated_out + sh[1]->q.indicated_out, 0);
	/* A pointer no shard lent is refused. */
	struct offrx_ind_buf bogus = { 0 };
	assert_int_equal(offrx_return_indicated(eng, &bogus), OFFRX_INVALID_PARAMETER);
	assert_int_equal(offrx_engine_destroy(eng, NULL), OFFRX_SUCCESS);
}

struct other {
	struct offrx_engine *s;
	int rc;
};

static void *enter_from_other_thread(void *arg)
{
	struct other *o = arg;
	o->rc = engine_turn_enter(o->s);
	if (!o->rc)
		engine_turn_leave(o->s);
	return NULL;
}

static void test_mq_turn_lock_owner_aware(void **state)
{
	(void)state;
	struct offrx_engine *sh[NSHARDS], *eng = shards_new(sh);
	assert_int_equal(engine_turn_enter(sh[0]), 0);
	/* Inside shard 0's turn (its callbacks): shard 0 again is fine, shard 1 is refused. */
	assert_int_equal(engine_turn_enter(sh[0]), 0);
	engine_turn_leave(sh[0]);
	assert_int_equal(engine_turn_enter(sh[1]), -EDEADLK);
	/* Another thread, in no turn, may take shard 1's. */
	struct other o = { .s = sh[1], .rc = -1 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, enter_from_other_thread, &o), 0);
	pthread_join(t, NULL);
	assert_int_equal(o.rc, 0);
	engine_turn_leave(sh[0]);
	assert_false(sh[0]->turn_owned);
	assert_int_equal(engine_turn_enter(sh[1]), 0); /* out of every turn now */
	engine_turn_leave(sh[1]);
	assert_int_equal(offrx_engine_destroy(eng, NULL), OFFRX_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mq_conn_ids_unique_over_shards),
		cmocka_unit_test(test_mq_R22_return_goes_to_the_lending_shard),
		cmocka_unit_test(test_mq_turn_lock_owner_aware),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
