/* The in-memory link (offrx_mem.h): a virtual clock and direct byte delivery, so the core runs
 * in tests, the scenario demo and replays exactly as on the wire, minus the wire. Each
 * delivery is acknowledged the way the TCP layer would: up to the bytes stored (R24). */
#include <errno.h>
#include <stdlib.h>

#include <offrx/offrx_mem.h>

#include "engine.h"
#include "trace.h"

struct mem_engine {
	uint64_t now;
};

static uint64_t mem_clock(void *ctx)
{
	return __atomic_load_n(&((struct mem_engine *)ctx)->now, __ATOMIC_ACQUIRE);
}

static struct offrx_mem_link_stats *mem_conn(struct offrx_conn *conn)
{
	return conn->link_priv;
}

/* What an ACK advertises: the space the engine has now (R24), promised to the core so it
 * reserves engine buffers for it; like a TCP receiver, never left of an earlier edge. */
static uint32_t advertise(struct offrx_conn *conn)
{
	uint64_t w = rxq_space(&conn->rc);
	uint32_t wnd = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
	return rxq_promise(&conn->rc, conn->rc.rcv_nxt + wnd);
}

static void mem_flush_ack(struct offrx_conn *conn)
{
	struct offrx_mem_link_stats *ls = mem_conn(conn);
	ls->ack_flushes++;
	ls->acks++;
	ls->last_ack_seq = conn->rc.rcv_nxt;
	ls->last_wnd = advertise(conn);
}

static void mem_conn_free(struct offrx_conn *conn)
{
	free(conn->link_priv);
	conn->link_priv = NULL;
}

static void mem_destroy(struct offrx_engine *eng)
{
	free(eng->link_priv);
	eng->link_priv = NULL;
}

static const struct link_ops mem_link_ops = {
	.name = "mem",
	.flush_ack = mem_flush_ack,
	.conn_free = mem_conn_free,
	.destroy = mem_destroy,
};

static int to_status(int err)
{
	switch (err) {
	case 0:
		return OFFRX_SUCCESS;
	case -ENOMEM:
	case -ENOSPC:
		return OFFRX_RESOURCES;
	case -EBUSY:
		return OFFRX_INVALID_STATE;
	default:
		return OFFRX_INVALID_PARAMETER;
	}
}

int offrx_mem_engine_create(const struct offrx_engine_opts *opts, struct offrx_engine **out)
{
	struct mem_engine *me = calloc(1, sizeof(*me));
	if (!me)
		return OFFRX_RESOURCES;
	/* Traced in liboffrx (scenarios recorded under LTTng), not in the replays (trace.h). */
	int err = engine_create_traced(opts, &mem_link_ops, mem_clock, me, offrx_trace_default(),
				       out);
	if (err) {
		free(me);
		return to_status(err);
	}
	(*out)->link_priv = me;
	return OFFRX_SUCCESS;
}

int offrx_mem_conn_open(struct offrx_engine *eng, uint32_t irs, struct offrx_conn **out)
{
	if (!eng || !out || eng->link != &mem_link_ops)
		return OFFRX_INVALID_PARAMETER;
	struct offrx_mem_link_stats *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return OFFRX_RESOURCES;
	int err = engine_conn_open(eng, irs, out, ls);
	if (err) {
		free(ls);
		return to_status(err);
	}
	ls->last_wnd = advertise(*out); /* the SYN-ACK's window */
	return OFFRX_SUCCESS;
}

uint64_t offrx_mem_deliver(struct offrx_conn *conn, const void *data, uint64_t len, uint32_t flags)
{
	if (!conn)
		return 0;
	struct offrx_engine *eng = conn->eng;
	uint64_t stored = rxq_deliver(&conn->rc, data, len, flags & OFFRX_MEM_PSH);
	struct offrx_mem_link_stats *ls = mem_conn(conn);
	if (ls) {
		ls->acks++;
		ls->last_ack_seq = conn->rc.rcv_nxt;
		ls->last_wnd = advertise(conn);
	}
	rxq_run_deferred(&eng->q);
	return stored;
}

int offrx_mem_fin(struct offrx_conn *conn)
{
	return conn ? rxq_disconnect(&conn->rc, false) : OFFRX_INVALID_PARAMETER;
}

int offrx_mem_rst(struct offrx_conn *conn)
{
	return conn ? rxq_disconnect(&conn->rc, true) : OFFRX_INVALID_PARAMETER;
}

int offrx_mem_conn_close(struct offrx_conn *conn)
{
	if (!conn)
		return OFFRX_INVALID_PARAMETER;
	return to_status(engine_conn_close(conn, OFFRX_CLOSE_NONE));
}

void offrx_mem_advance(struct offrx_engine *eng, uint64_t ns)
{
	if (!eng || eng->link != &mem_link_ops)
		return;
	struct mem_engine *me = eng->link_priv;
	uint64_t target = me->now + ns;
	rxq_run_deferred(&eng->q);
	/* Step from deadline to deadline so every timer fires at its own time. */
	for (;;) {
		uint64_t due = rxq_next_due(&eng->q, target);
		if (due == UINT64_MAX)
			break;
		if (due > me->now)
			__atomic_store_n(&me->now, due, __ATOMIC_RELEASE);
		rxq_advance(&eng->q);
	}
	__atomic_store_n(&me->now, target, __ATOMIC_RELEASE);
	rxq_advance(&eng->q);
	engine_trace_tick(eng);
}

void offrx_mem_set_time(struct offrx_engine *eng, uint64_t now_ns)
{
	if (!eng || eng->link != &mem_link_ops)
		return;
	struct mem_engine *me = eng->link_priv;
	if (now_ns > me->now)
		__atomic_store_n(&me->now, now_ns, __ATOMIC_RELEASE);
}

uint64_t offrx_mem_now(const struct offrx_engine *eng)
{
	return eng && eng->link == &mem_link_ops ? mem_clock(eng->link_priv) : 0;
}

int offrx_mem_link_stats(const struct offrx_conn *conn, struct offrx_mem_link_stats *out)
{
	if (!conn || !out || !conn->link_priv)
		return OFFRX_INVALID_PARAMETER;
	*out = *(const struct offrx_mem_link_stats *)conn->link_priv;
	return OFFRX_SUCCESS;
}
