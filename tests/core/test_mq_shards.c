/* An engine of several receive queues is one engine (a shard) per queue (engine/README.md).
 * The pieces that make them one engine, on in-memory shards: ids unique over the shards, a
 * returned buffer going back to the shard that lent it, the owner-aware turn lock, the sums,
 * one destroy for all, and offrx_post_recv from a foreign thread to a connection of queue 1
 * (its completions on queue 1's thread). The wire side (threads, sockets, moved flows) is
 * tests/e2e's test_mq_queues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static struct offrx_engine *shards_new_cb(struct offrx_engine **sh,
					  const struct offrx_callbacks *cb)
{
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = cb };
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

static struct offrx_engine *shards_new(struct offrx_engine **sh)
{
	return shards_new_cb(sh, &cbs);
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

/* --- offrx_post_recv from any thread, to a connection of queue 1 ----------------------------- */

#define FQ_REQS 3000
#define FQ_LEN	64

struct fq {
	struct offrx_conn *conn;
	pthread_t q1_thread; /* queue 1's engine thread */
	struct offrx_recv_req req[FQ_REQS];
	struct offrx_seg seg[FQ_REQS];
	uint8_t buf[FQ_REQS][FQ_LEN];
	uint32_t completed, times[FQ_REQS];
	uint32_t off_thread, out_of_order, bad_bytes, bad_status;
	uint64_t sent; /* stream bytes queue 1 has taken (held until posted for) */
};

static uint8_t fq_byte(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 8));
}

static void fq_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	(void)conn;
	struct fq *f = ctx;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		if (!pthread_equal(pthread_self(), f->q1_thread))
			f->off_thread++; /* a callback of queue 1's connection on another thread */
		uint64_t i = r->cookie;
		if (i != f->completed)
			f->out_of_order++;
		if (r->status != OFFRX_SUCCESS || r->bytes_transferred != FQ_LEN)
			f->bad_status++;
		for (uint32_t k = 0; i < FQ_REQS && k < r->bytes_transferred; k++)
			if (f->buf[i][k] != fq_byte(i * FQ_LEN + k))
				f->bad_bytes++;
		if (i < FQ_REQS)
			f->times[i]++;
		f->completed++;
	}
}

static const struct offrx_callbacks fq_cbs = { .recv_complete = fq_complete };

struct fq_engine_thread {
	struct offrx_engine *s;
	struct fq *f;
	int turn_rc; /* engine_turn_enter's refusal, if any (no cmocka assert off the main thread)
		      */
	bool timed_out;
};

static double fq_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Queue 1's engine thread, as offrx_engine_run runs a shard: in its turn, the link delivers
 * the stream (as much as the posted requests hold) and the deferred work runs. */
static void *fq_queue1(void *arg)
{
	struct fq_engine_thread *t = arg;
	struct fq *f = t->f;
	uint8_t chunk[1000];
	uint64_t sent = 0, total = (uint64_t)FQ_REQS * FQ_LEN;
	double t0 = fq_now();
	while (__atomic_load_n(&f->completed, __ATOMIC_RELAXED) < FQ_REQS) {
		if (fq_now() - t0 > 20) { /* bounded: a lost request must fail, not hang */
			t->timed_out = true;
			break;
		}
		t->turn_rc = engine_turn_enter(t->s);
		if (t->turn_rc)
			break;
		uint64_t n = total - sent > sizeof(chunk) ? sizeof(chunk) : total - sent, got = 0;
		for (uint64_t k = 0; k < n; k++)
			chunk[k] = fq_byte(sent + k);
		if (n)
			got = offrx_mem_deliver(f->conn, chunk, n, 0);
		sent += got;
		__atomic_store_n(&f->sent, sent, __ATOMIC_RELEASE);
		offrx_mem_advance(t->s, 0); /* what the posts left for the engine thread */
		engine_turn_leave(t->s);
		if (!got)
			sched_yield();
	}
	return NULL;
}

static void test_mq_R04_post_from_a_foreign_thread_to_queue_1(void **state)
{
	(void)state;
	struct offrx_engine *sh[NSHARDS], *eng = shards_new_cb(sh, &fq_cbs);
	struct fq *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(offrx_mem_conn_open(sh[1], 77, &f->conn), OFFRX_SUCCESS);
	offrx_conn_set_context(f->conn, f);
	for (uint32_t i = 0; i < FQ_REQS; i++) {
		f->seg[i] = (struct offrx_seg){ .base = f->buf[i], .len = FQ_LEN };
		assert_int_equal(offrx_req_init(&f->req[i], &f->seg[i], 1, i), OFFRX_SUCCESS);
		f->req[i].flags = OFFRX_REQ_NO_PUSH; /* complete when full: no timing in play */
	}
	struct fq_engine_thread t = { .s = sh[1], .f = f };
	pthread_t q1;
	assert_int_equal(pthread_create(&q1, NULL, fq_queue1, &t), 0);
	f->q1_thread = q1;
	/* This thread is no engine thread of the connection: it posts every request, one at a
	 * time while queue 1's thread delivers; every other one from inside queue 0's turn, as a
	 * callback of a queue 0 connection would (a post is never refused there). Most wait for
	 * their bytes to be held first, so the post itself fills them: their completion is work
	 * the post leaves for queue 1's thread (R01), never run on this one. */
	double t0 = fq_now();
	for (uint32_t i = 0; i < FQ_REQS; i++) {
		bool in_q0 = i % 2;
		while (i % 8 != 7 &&
		       __atomic_load_n(&f->sent, __ATOMIC_ACQUIRE) < (uint64_t)(i + 1) * FQ_LEN &&
		       fq_now() - t0 < 20)
			sched_yield();
		if (in_q0)
			assert_int_equal(engine_turn_enter(sh[0]), 0);
		assert_int_equal(offrx_post_recv(f->conn, &f->req[i]), OFFRX_PENDING);
		if (in_q0)
			engine_turn_leave(sh[0]);
	}
	pthread_join(q1, NULL);
	assert_int_equal(t.turn_rc, 0);
	assert_false(t.timed_out);
	assert_int_equal(f->completed, FQ_REQS); /* every request back, none lost */
	for (uint32_t i = 0; i < FQ_REQS; i++)
		assert_int_equal(f->times[i], 1); /* each exactly once */
	assert_int_equal(f->off_thread, 0);	  /* always on queue 1's thread */
	assert_int_equal(f->out_of_order, 0);	  /* in posting order (R14) */
	assert_int_equal(f->bad_status, 0);
	assert_int_equal(f->bad_bytes, 0);		/* the stream, byte-exact */
	assert_int_equal(offrx_conn_queue(f->conn), 0); /* in-memory shards have no queue */
	assert_int_equal(offrx_mem_fin(f->conn), OFFRX_SUCCESS);
	assert_int_equal(offrx_mem_conn_close(f->conn), OFFRX_SUCCESS);
	assert_int_equal(offrx_engine_destroy(eng, NULL), OFFRX_SUCCESS);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mq_conn_ids_unique_over_shards),
		cmocka_unit_test(test_mq_R22_return_goes_to_the_lending_shard),
		cmocka_unit_test(test_mq_turn_lock_owner_aware),
		cmocka_unit_test(test_mq_R04_post_from_a_foreign_thread_to_queue_1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
