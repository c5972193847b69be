/* The public API (offrx.h) over the receive core: engine and connection objects, the layer
 * stack (R27), and the routing of core upcalls to the application's callbacks. Internal
 * functions return 0 or a negative errno; public ones return enum offrx_status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "trace.h"

#define DEFAULT_PUSH_TIMER_NS (500ull * 1000 * 1000) /* R13: the Chimney default */
#define DEFAULT_MAX_CONNS     4096u
#define DEFAULT_CHUNK_SIZE    4096u
#define DEFAULT_POOL_BYTES    (16ull << 20)
#define DEFAULT_HOLD_BYTES    (256ull << 10)
#define DEFAULT_TICK_NS	      (1000ull * 1000)
#define TIMER_SLOTS	      4096u
#define DEFAULT_SNAPSHOT_NS   (500ull * 1000 * 1000)

static inline struct offrx_conn *conn_of(struct rxq_conn *rc)
{
	return (struct offrx_conn *)rc; /* rc is the first member */
}

/* --- upcalls from the core --------------------------------------------------------------- */

static void deliver_up(struct offrx_conn *conn, uint32_t from, struct offrx_recv_req *reqs)
{
	if (from < conn->nlayers) {
		struct offrx_layer *l = &conn->layers[from];
		if (l->ops->complete)
			l->ops->complete(l, reqs, l->ctx);
		else
			offrx_layer_complete_up(l, reqs);
		return;
	}
	if (conn->eng->cb.recv_complete)
		conn->eng->cb.recv_complete(conn, reqs, conn->ctx);
}

static void up_complete(struct rxq_conn *rc, struct offrx_recv_req *reqs)
{
	struct offrx_engine *eng = conn_of(rc)->eng;
	eng->upcall_depth++;
	deliver_up(conn_of(rc), 0, reqs);
	eng->upcall_depth--;
}

static int up_indicate(struct rxq_conn *rc, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed)
{
	struct offrx_conn *conn = conn_of(rc);
	conn->eng->upcall_depth++;
	int res = conn->eng->cb.recv_indicate(conn, bufs, total, consumed, conn->ctx);
	conn->eng->upcall_depth--;
	return res;
}

static bool up_can_indicate(struct rxq_conn *rc)
{
	return conn_of(rc)->eng->cb.recv_indicate != NULL;
}

static void up_event(struct rxq_conn *rc, const struct offrx_conn_event *ev)
{
	struct offrx_conn *conn = conn_of(rc);
	if (conn->eng->cb.conn_event) {
		conn->eng->upcall_depth++;
		conn->eng->cb.conn_event(conn, ev, conn->ctx);
		conn->eng->upcall_depth--;
	} else if (ev->held) {
		/* Nobody to hand the held data to: it goes back at once (the trace's handback
		 * event counts it), so the buffers do not keep the engine from being freed. */
		rxq_return(&conn->eng->q, ev->held);
	}
}

static void up_flush_ack(struct rxq_conn *rc)
{
	struct offrx_conn *conn = conn_of(rc);
	if (conn->eng->link->flush_ack)
		conn->eng->link->flush_ack(conn);
}

static const struct rxq_ops api_rxq_ops = {
	.complete = up_complete,
	.indicate = up_indicate,
	.event = up_event,
	.flush_ack = up_flush_ack,
	.can_indicate = up_can_indicate,
};

/* --- engine ------------------------------------------------------------------------------ */

int engine_create(const struct offrx_engine_opts *opts, const struct link_ops *link,
		  uint64_t (*clock)(void *ctx), void *clock_ctx, struct offrx_engine **out)
{
	return engine_create_traced(opts, link, clock, clock_ctx, NULL, out);
}

int engine_create_traced(const struct offrx_engine_opts *opts, const struct link_ops *link,
			 uint64_t (*clock)(void *ctx), void *clock_ctx,
			 const struct offrx_trace_sink *trace, struct offrx_engine **out)
{
	struct offrx_engine_opts o = { 0 };
	if (!out || !link)
		return -EINVAL;
	*out = NULL;
	if (opts) {
		/* Take what the caller's struct has; a newer library's fields stay zero. */
		if (opts->sz == 0 || opts->sz > sizeof(o))
			return -EINVAL;
		memcpy(&o, opts, opts->sz);
	}
	struct rxq_cfg cfg = {
		.push_timer_ns = o.push_timer_ns ? o.push_timer_ns : DEFAULT_PUSH_TIMER_NS,
		.timer_tick_ns = o.timer_tick_ns ? o.timer_tick_ns : DEFAULT_TICK_NS,
		.timer_slots = TIMER_SLOTS,
		.chunk_size = o.chunk_size ? o.chunk_size : DEFAULT_CHUNK_SIZE,
		.pool_bytes = o.pool_bytes ? o.pool_bytes : DEFAULT_POOL_BYTES,
		.hold_bytes_per_conn =
			o.hold_bytes_per_conn ? o.hold_bytes_per_conn : DEFAULT_HOLD_BYTES,
		.clock = clock,
		.clock_ctx = clock_ctx,
		.observer = o.observer,
		.observer_ctx = o.observer_ctx,
		.observer_mask = o.observer_mask,
		.trace = trace,
		.ops = &api_rxq_ops,
	};
	if (cfg.chunk_size < 64 || cfg.pool_bytes < cfg.chunk_size)
		return -EINVAL;

	struct offrx_engine *eng = calloc(1, sizeof(*eng));
	if (!eng)
		return -ENOMEM;
	int err = rxq_init(&eng->q, &cfg);
	if (err) {
		free(eng);
		return err;
	}
	if (o.cb)
		eng->cb = *o.cb;
	eng->user = o.user;
	eng->link = link;
	eng->max_conns = o.max_conns ? o.max_conns : DEFAULT_MAX_CONNS;
	eng->snapshot_ns = o.snapshot_ns ? o.snapshot_ns : DEFAULT_SNAPSHOT_NS;
	eng->trace_payload = o.trace_payload_bytes < OFFRX_TRACE_PAYLOAD_MAX
				     ? o.trace_payload_bytes
				     : OFFRX_TRACE_PAYLOAD_MAX;
	eng->id_stride = 1;
	eng->nshards = 1;
	pthread_mutex_init(&eng->turn_lock, NULL);
	*out = eng;
	return 0;
}

void engine_shard_init(struct offrx_engine *eng, uint32_t index, uint32_t n)
{
	eng->shard = index;
	eng->id_stride = n;
	eng->id_base = index;
	eng->q.pool.next_desc_id = index;
	eng->q.pool.desc_id_stride = n;
}

/* The shards of the engine the application holds: its array, or *one (set to eng) for an
 * engine of one queue. */
static struct offrx_engine **shards_of(const struct offrx_engine *eng, uint32_t *n,
				       struct offrx_engine **one)
{
	if (eng->shards) {
		*n = eng->nshards;
		return eng->shards;
	}
	*one = (struct offrx_engine *)eng;
	*n = 1;
	return one;
}

static bool turn_mine(struct offrx_engine *s)
{
	/* Only this thread stores its own id there, so a match is never stale. */
	return __atomic_load_n(&s->turn_owned, __ATOMIC_ACQUIRE) &&
	       pthread_equal(__atomic_load_n(&s->turn_owner, __ATOMIC_RELAXED), pthread_self());
}

int engine_turn_enter(struct offrx_engine *s)
{
	if (s->nshards < 2)
		return 0;
	if (turn_mine(s)) {
		s->turn_depth++;
		return 0;
	}
	/* Holding another shard's turn (inside its callbacks) and waiting for this one could
	 * wait forever for a thread that waits for ours: refuse instead. */
	for (uint32_t i = 0; i < s->nshards; i++)
		if (s->shards[i] != s && turn_mine(s->shards[i]))
			return -EDEADLK;
	pthread_mutex_lock(&s->turn_lock);
	__atomic_store_n(&s->turn_owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&s->turn_owned, true, __ATOMIC_RELEASE);
	s->turn_depth = 1;
	return 0;
}

void engine_turn_leave(struct offrx_engine *s)
{
	if (s->nshards < 2 || --s->turn_depth)
		return;
	__atomic_store_n(&s->turn_owned, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->turn_lock);
}

int engine_conn_open(struct offrx_engine *eng, uint32_t irs, struct offrx_conn **out,
		     void *link_priv)
{
	if (eng->nconns >= eng->max_conns)
		return -ENOSPC;
	struct offrx_conn *conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	rxq_conn_init(&eng->q, &conn->rc, eng->id_base + ++eng->conns_total * eng->id_stride, irs);
	conn->eng = eng;
	conn->link_priv = link_priv;
	conn->next = eng->conns;
	if (eng->conns)
		eng->conns->prev = conn;
	eng->conns = conn;
	eng->nconns++;
	rxq_note_conn(&conn->rc, OFFRX_E_CONN_OPEN, 0);
	/* Asked once, whether or not anyone listens now: a session (a flight recorder) may
	 * start later, and offrx:complete names the local port its triggers match. */
	struct link_conn_info ci = { .local_addr = "-", .remote_addr = "-" };
	if (eng->link->info)
		eng->link->info(conn, &ci);
	conn->rc.local_port = ci.local_port;
	const struct offrx_trace_sink *trace = eng->q.cfg.trace;
	if (offrx_trace_on(trace, OFFRX_E_CONN_OPEN))
		trace->conn_open(conn->rc.id, &ci, eng->q.cfg.push_timer_ns);
	*out = conn;
	if (eng->cb.conn_new) {
		eng->upcall_depth++;
		eng->cb.conn_new(conn, eng->user);
		eng->upcall_depth--;
	}
	/* Posts made in conn_new (or data the link has not yet fed) may have left work. */
	rxq_run_deferred(&eng->q);
	return 0;
}

/* One connection's conn_state. */
static void snapshot_conn(struct offrx_engine *eng, struct offrx_conn *c)
{
	const struct offrx_trace_sink *trace = eng->q.cfg.trace;
	struct offrx_tp_state st;
	struct rxq_snap sn;
	rxq_snapshot(&c->rc, &sn, st.ids, st.lens, st.fills, st.no_push, OFFRX_TP_STATE_MAX);
	st.conn = c->rc.id;
	st.depth = sn.depth;
	st.listed = sn.listed;
	st.deadline_ns = sn.deadline;
	st.held_bytes = sn.held;
	st.window = sn.window;
	st.bytes = sn.bytes;
	st.indicated_out = sn.indicated_out;
	st.rcv_nxt = sn.rcv_nxt;
	st.push_timer_ns = eng->q.cfg.push_timer_ns;
	struct link_conn_info ci = { .local_addr = "-", .remote_addr = "-" };
	if (eng->link->info)
		eng->link->info(c, &ci);
	st.local_addr = ci.local_addr;
	st.remote_addr = ci.remote_addr;
	st.local_port = ci.local_port;
	st.remote_port = ci.remote_port;
	st.queue = ci.queue;
	trace->conn_state(&st);
}

/* The conn_state snapshots, spread over the period: each call dumps the share of the
 * connections that the time since the last call is of snapshot_ns, in list order from where
 * the last call stopped. Every connection is dumped once a period (a new one, put at the
 * list's head, within two: its conn_open told its state), and no call dumps them all at once:
 * 10,000 connections dumped in one go held the engine thread for milliseconds, twice a
 * second, and push timers due meanwhile fired late. */
static void snapshot_share(struct offrx_engine *eng, uint64_t now)
{
	if (!eng->snap_last) {
		eng->snap_last = now; /* conn_open told every state so far */
		return;
	}
	uint64_t dt = now - eng->snap_last, n;
	eng->snap_last = now;
	if (dt >= eng->snapshot_ns) {
		n = eng->nconns; /* a period or more since the last call: all of them */
		eng->snap_owed = 0;
	} else {
		/* nconns * dt < 2^64: dt < snapshot_ns, a few seconds, and nconns < 2^32 */
		eng->snap_owed += (uint64_t)eng->nconns * dt;
		n = eng->snap_owed / eng->snapshot_ns;
		eng->snap_owed %= eng->snapshot_ns;
		if (n > eng->nconns)
			n = eng->nconns;
	}
	struct offrx_conn *c = eng->snap_next;
	for (; n; n--) {
		if (!c && !(c = eng->conns))
			break;
		snapshot_conn(eng, c);
		c = c->next;
	}
	eng->snap_next = c;
}

bool engine_trace_tick(struct offrx_engine *eng)
{
	uint64_t now = rxq_now(&eng->q);
	if (offrx_trace_on(eng->q.cfg.trace, OFFRX_T_CONN_STATE))
		snapshot_share(eng, now);
	if (now - eng->last_snapshot < eng->snapshot_ns)
		return false;
	eng->last_snapshot = now; /* a period: the caller's per-period events (xsk_stats) */
	return true;
}

int engine_conn_close(struct offrx_conn *conn, enum offrx_close_reason reason)
{
	if (conn->rc.in_upcall)
		return -EBUSY;
	struct offrx_engine *eng = conn->eng;
	rxq_conn_fini(&conn->rc);
	rxq_note_conn(&conn->rc, OFFRX_E_CONN_CLOSE, reason);
	if (eng->cb.conn_event) {
		struct offrx_conn_event ev = { .type = OFFRX_EV_CLOSED, .reason = reason };
		ev.rcv_nxt = conn->rc.rcv_nxt;
		ev.bytes_received = conn->rc.rcv_bytes;
		ev.indicated_out = conn->rc.indicated_out;
		eng->upcall_depth++;
		eng->cb.conn_event(conn, &ev, conn->ctx);
		eng->upcall_depth--;
	}
	if (eng->snap_next == conn)
		eng->snap_next = conn->next;
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		eng->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	eng->nconns--;
	if (eng->link->conn_free)
		eng->link->conn_free(conn);
	free(conn);
	return 0;
}

/* Reset every connection still open, so the data it stored (and so acknowledged) reaches the
 * application with its disconnect event (R24, R25). Callbacks may close or open connections:
 * start over after each one. */
static void reset_open_conns(struct offrx_engine *eng)
{
	for (;;) {
		struct offrx_conn *c = eng->conns;
		while (c && c->rc.state != RXQ_OPEN)
			c = c->next;
		if (!c)
			return;
		rxq_disconnect(&c->rc, true);
	}
}

static uint32_t indicated_sum(struct offrx_engine **sh, uint32_t n)
{
	uint32_t out = 0;
	for (uint32_t i = 0; i < n; i++)
		out += sh[i]->q.indicated_out;
	return out;
}

/* Free one engine (a shard of several, or the only one) once nothing is out. */
static void engine_free(struct offrx_engine *eng)
{
	while (eng->conns)
		engine_conn_close(eng->conns, OFFRX_CLOSE_NONE);
	if (eng->link->destroy)
		eng->link->destroy(eng);
	rxq_fini(&eng->q);
	pthread_mutex_destroy(&eng->turn_lock);
	free(eng);
}

int offrx_engine_destroy(struct offrx_engine *eng, uint32_t *out_indicated)
{
	if (!eng)
		return OFFRX_INVALID_PARAMETER;
	struct offrx_engine *one, **sh;
	uint32_t n;
	sh = shards_of(eng, &n, &one);
	for (uint32_t i = 0; i < n; i++) {
		if (sh[i]->upcall_depth) {
			if (out_indicated)
				*out_indicated = indicated_sum(sh, n);
			return OFFRX_INVALID_STATE; /* from inside a callback: nothing is touched */
		}
	}
	/* First every held byte goes to the application: the link resets its connections (the
	 * wire sends RSTs), the core the ones left. Then, R23: nothing is released while the
	 * application holds engine buffers, those handed back just now included. The shards of
	 * an engine of several queues do so on this thread, one after the other. */
	for (uint32_t i = 0; i < n; i++) {
		if (sh[i]->link->shutdown)
			sh[i]->link->shutdown(sh[i]);
		reset_open_conns(sh[i]);
		rxq_run_deferred(&sh[i]->q);
	}
	uint32_t out = indicated_sum(sh, n);
	if (out_indicated)
		*out_indicated = out;
	if (out)
		return OFFRX_INVALID_STATE;
	/* The last shard first: the first holds what the others share (the XDP program). */
	struct offrx_engine **array = eng->shards;
	for (uint32_t i = n; i-- > 0;)
		engine_free(sh[i]);
	free(array);
	return OFFRX_SUCCESS;
}

int offrx_engine_stats(const struct offrx_engine *eng, struct offrx_engine_stats *out)
{
	if (!eng || !out)
		return OFFRX_INVALID_PARAMETER;
	memset(out, 0, sizeof(*out));
	struct offrx_engine *one, **sh;
	uint32_t n;
	sh = shards_of(eng, &n, &one);
	for (uint32_t i = 0; i < n; i++) {
		struct offrx_engine *s = sh[i];
		/* The connection list changes on the shard's thread: walk it in no turn but ours
		 * (inside another queue's callback, that shard's bytes are left out). */
		bool walk = engine_turn_enter(s) == 0;
		out->conns += s->nconns;
		out->conns_total += (uint32_t)s->conns_total;
		out->pool_chunks += s->q.pool.nchunks;
		out->pool_free_chunks += __atomic_load_n(&s->q.pool.nfree, __ATOMIC_RELAXED);
		out->indicated_out += s->q.indicated_out;
		out->timers_fired += s->q.timers_fired;
		for (const struct offrx_conn *c = walk ? s->conns : NULL; c; c = c->next)
			out->bytes_received += c->rc.rcv_bytes;
		if (walk)
			engine_turn_leave(s);
	}
	return OFFRX_SUCCESS;
}

uint64_t engine_bytes_received(struct offrx_engine *s)
{
	uint64_t b = 0;
	for (const struct offrx_conn *c = s->conns; c; c = c->next)
		b += c->rc.rcv_bytes;
	return b;
}

/* --- requests ---------------------------------------------------------------------------- */

int offrx_req_init(struct offrx_recv_req *req, struct offrx_seg *segs, uint32_t nsegs,
		   uint64_t cookie)
{
	if (!req || (nsegs && !segs))
		return OFFRX_INVALID_PARAMETER;
	uint64_t len = 0;
	for (uint32_t i = 0; i < nsegs; i++)
		len += segs[i].len;
	if (len > UINT32_MAX)
		return OFFRX_INVALID_PARAMETER;
	memset(req, 0, sizeof(*req));
	req->segs = segs;
	req->nsegs = nsegs;
	req->data_len = (uint32_t)len;
	req->cookie = cookie;
	return OFFRX_SUCCESS;
}

/* --- connections ------------------------------------------------------------------------- */

int offrx_post_recv(struct offrx_conn *conn, struct offrx_recv_req *reqs)
{
	if (!conn || !reqs)
		return OFFRX_INVALID_PARAMETER;
	if (conn->nlayers) {
		struct offrx_layer *top = &conn->layers[conn->nlayers - 1];
		if (top->ops->post)
			return top->ops->post(top, reqs, top->ctx);
		return offrx_layer_post_down(top, reqs);
	}
	return rxq_post(&conn->rc, reqs);
}

/* The shard whose pool lent b, or NULL: an address test only (rxq_return checks the rest). */
static struct offrx_engine *shard_of_buf(struct offrx_engine **sh, uint32_t n,
					 const struct offrx_ind_buf *b)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct rxq_pool *p = &sh[i]->q.pool;
		uintptr_t a = (uintptr_t)b, lo = (uintptr_t)p->descs;
		if (a >= lo && a < lo + (uintptr_t)p->ndescs * sizeof(struct rxq_desc))
			return sh[i];
	}
	return NULL;
}

static int return_on(struct offrx_engine *s, struct offrx_ind_buf *bufs)
{
	if (engine_turn_enter(s))
		return OFFRX_INVALID_STATE;
	int rc = rxq_return(&s->q, bufs);
	engine_turn_leave(s);
	return rc;
}

int offrx_return_indicated(struct offrx_engine *eng, struct offrx_ind_buf *bufs)
{
	if (!eng || !bufs)
		return OFFRX_INVALID_PARAMETER;
	if (!eng->shards)
		return rxq_return(&eng->q, bufs);
	/* Each buffer goes back to the queue whose pool lent it: the whole list at once when it
	 * is of one queue (all or nothing, as for one queue), else queue by queue. */
	struct offrx_engine **sh = eng->shards, *first = shard_of_buf(sh, eng->nshards, bufs);
	bool mixed = false;
	for (struct offrx_ind_buf *b = bufs; b; b = b->next) {
		struct offrx_engine *s = shard_of_buf(sh, eng->nshards, b);
		if (!s)
			return OFFRX_INVALID_PARAMETER;
		mixed |= s != first;
	}
	if (!mixed)
		return return_on(first, bufs);
	struct offrx_ind_buf *head[OFFRX_MAX_QUEUES] = { 0 }, **tail[OFFRX_MAX_QUEUES];
	for (uint32_t i = 0; i < eng->nshards; i++)
		tail[i] = &head[i];
	for (struct offrx_ind_buf *b = bufs, *nx; b; b = nx) {
		nx = b->next;
		uint32_t i = shard_of_buf(sh, eng->nshards, b)->shard;
		*tail[i] = b;
		tail[i] = &b->next;
	}
	int rc = OFFRX_SUCCESS;
	for (uint32_t i = 0; i < eng->nshards; i++) {
		*tail[i] = NULL;
		int r = head[i] ? return_on(sh[i], head[i]) : OFFRX_SUCCESS;
		if (r != OFFRX_SUCCESS)
			rc = r;
	}
	return rc;
}

int offrx_conn_upload(struct offrx_conn *conn)
{
	if (!conn)
		return OFFRX_INVALID_PARAMETER;
	if (engine_turn_enter(conn->eng))
		return OFFRX_INVALID_STATE;
	int rc = rxq_upload(&conn->rc);
	engine_turn_leave(conn->eng);
	return rc;
}

void offrx_conn_set_context(struct offrx_conn *conn, void *ctx)
{
	if (conn)
		conn->ctx = ctx;
}

void *offrx_conn_context(const struct offrx_conn *conn)
{
	return conn ? conn->ctx : NULL;
}

uint64_t offrx_conn_id(const struct offrx_conn *conn)
{
	return conn ? conn->rc.id : 0;
}

void offrx_conn_names(const struct offrx_conn *conn, char *local, char *remote, size_t len)
{
	if (!local || !remote || !len)
		return;
	if (conn && conn->eng->link->names) {
		conn->eng->link->names(conn, local, remote, len);
		return;
	}
	snprintf(local, len, "%s:%llu", conn ? conn->eng->link->name : "-",
		 (unsigned long long)offrx_conn_id(conn));
	snprintf(remote, len, "-");
}

uint32_t offrx_engine_drops(const struct offrx_engine *eng, const char **names, uint64_t *counts,
			    uint32_t max)
{
	if (!eng || !eng->link->drops || (max && (!names || !counts)))
		return 0;
	if (!eng->shards)
		return eng->link->drops(eng, names, counts, max);
	/* Every shard lists the same reasons in the same order: sum them. */
	uint64_t *one = max ? calloc(max, sizeof(*one)) : NULL;
	const char **nm = max ? calloc(max, sizeof(*nm)) : NULL;
	if (max && (!one || !nm)) {
		free(one);
		free(nm);
		return 0;
	}
	uint32_t n = eng->link->drops(eng->shards[0], names, counts, max);
	for (uint32_t i = 1; i < eng->nshards; i++) {
		eng->link->drops(eng->shards[i], nm, one, max);
		for (uint32_t k = 0; k < n && k < max; k++)
			counts[k] += one[k];
	}
	free(one);
	free(nm);
	return n;
}

uint32_t offrx_engine_queue_drops(const struct offrx_engine *eng, uint32_t index,
				  const char **names, uint64_t *counts, uint32_t max)
{
	if (!eng || !eng->link->drops || (max && (!names || !counts)))
		return 0;
	if (!eng->shards)
		return index == 0 ? eng->link->drops(eng, names, counts, max) : 0;
	if (index >= eng->nshards)
		return 0;
	return eng->link->drops(eng->shards[index], names, counts, max);
}

uint64_t offrx_conn_space(const struct offrx_conn *conn)
{
	return conn ? rxq_space(&conn->rc) : 0;
}

int offrx_conn_stats(const struct offrx_conn *conn, struct offrx_conn_stats *out)
{
	if (!conn || !out)
		return OFFRX_INVALID_PARAMETER;
	struct rxq_conn *rc = (struct rxq_conn *)&conn->rc;
	pthread_mutex_lock(&rc->lock);
	*out = rc->st;
	out->queue_depth = rc->depth;
	out->indicated_out = rc->indicated_out;
	out->held_bytes = rc->held_bytes;
	out->timer_deadline_ns = rc->deadline;
	pthread_mutex_unlock(&rc->lock);
	return OFFRX_SUCCESS;
}

/* --- layers (R27) ------------------------------------------------------------------------ */

int offrx_layer_push(struct offrx_conn *conn, const struct offrx_layer_ops *ops, void *ctx,
		     struct offrx_layer **out)
{
	if (!conn || !ops || ops->sz == 0 || ops->sz > sizeof(struct offrx_layer_ops))
		return OFFRX_INVALID_PARAMETER;
	if (conn->nlayers >= OFFRX_MAX_LAYERS)
		return OFFRX_RESOURCES;
	struct offrx_layer *l = &conn->layers[conn->nlayers];
	l->ops = ops;
	l->ctx = ctx;
	l->conn = conn;
	l->index = conn->nlayers++;
	if (out)
		*out = l;
	return OFFRX_SUCCESS;
}

int offrx_layer_post_down(struct offrx_layer *layer, struct offrx_recv_req *reqs)
{
	if (!layer || !reqs)
		return OFFRX_INVALID_PARAMETER;
	struct offrx_conn *conn = layer->conn;
	if (layer->index == 0)
		return rxq_post(&conn->rc, reqs);
	struct offrx_layer *below = &conn->layers[layer->index - 1];
	if (below->ops->post)
		return below->ops->post(below, reqs, below->ctx);
	return offrx_layer_post_down(below, reqs);
}

void offrx_layer_complete_up(struct offrx_layer *layer, struct offrx_recv_req *reqs)
{
	if (layer && reqs)
		deliver_up(layer->conn, layer->index + 1, reqs);
}

struct offrx_conn *offrx_layer_conn(const struct offrx_layer *layer)
{
	return layer ? layer->conn : NULL;
}
