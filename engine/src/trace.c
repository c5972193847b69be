/* The LTTng sink (trace.h): from the engine's events to the offrx tracepoints of
 * tracer/provider/offrx_tp.h. The only engine file that calls lttng-ust; built into liboffrx,
 * which installs this sink in the engines it creates. With OFFRX_TRACING=NONE it installs none. */
#include "trace.h"

#include "engine.h"

#ifdef OFFRX_TRACING_LTTNG
#include "offrx_tp.h"
/* The tracepoint's state word, which lttng_ust_tracepoint_enabled() reads. */
#define TP_STATE(name)	 (&lttng_ust_tracepoint_offrx___##name.state)
#define TP_DO(name, ...) lttng_ust_do_tracepoint(offrx, name, __VA_ARGS__)

static void lttng_event(const struct offrx_event *ev)
{
	switch (ev->kind) {
	case OFFRX_E_POST:
		TP_DO(post, ev->conn_id, ev->req_id, ev->buf_len, (uint32_t)ev->bytes,
		      (uint8_t)(ev->flags & OFFRX_REQ_NO_PUSH), ev->count, (uint8_t)ev->reason);
		break;
	case OFFRX_E_FILL:
		break; /* summed per receive batch by the core: lttng_fill */
	case OFFRX_E_TIMER_START:
		TP_DO(push_timer_start, ev->conn_id, ev->req_id, ev->deadline_ns,
		      (uint32_t)ev->bytes, ev->ts_ns);
		break;
	case OFFRX_E_TIMER_RESTART:
		TP_DO(push_timer_restart, ev->conn_id, ev->req_id, ev->deadline_ns,
		      (uint32_t)ev->bytes, ev->ts_ns);
		break;
	case OFFRX_E_TIMER_CANCEL:
		TP_DO(push_timer_cancel, ev->conn_id, ev->req_id, ev->deadline_ns,
		      (uint32_t)ev->bytes, ev->ts_ns);
		break;
	case OFFRX_E_TIMER_EXPIRE:
		TP_DO(push_timer_expire, ev->conn_id, ev->req_id, ev->deadline_ns,
		      (uint32_t)ev->bytes, ev->ts_ns);
		break;
	case OFFRX_E_COMPLETE:
		break; /* with the connection's port: lttng_complete */
	case OFFRX_E_COMPLETE_CALL:
		TP_DO(complete_call, ev->conn_id, ev->count);
		break;
	case OFFRX_E_INDICATE:
		TP_DO(indicate, ev->conn_id, ev->req_id, ev->bytes, ev->total, ev->status,
		      ev->count);
		break;
	case OFFRX_E_RETURN:
		TP_DO(return, ev->conn_id, ev->req_id, (uint32_t)ev->total);
		break;
	case OFFRX_E_DISCONNECT:
	case OFFRX_E_UPLOAD:
		TP_DO(disconnect, ev->conn_id, (int)ev->reason, ev->bytes);
		break;
	case OFFRX_E_CONN_CLOSE:
		TP_DO(conn_close, ev->conn_id, (int)ev->reason, ev->bytes);
		break;
	case OFFRX_E_COMPLETE_END:
		TP_DO(complete_end, ev->conn_id, ev->count);
		break;
	case OFFRX_E_INDICATE_CALL:
		TP_DO(indicate_call, ev->conn_id, ev->req_id, ev->bytes, ev->count);
		break;
	case OFFRX_E_HANDBACK:
		TP_DO(handback, ev->conn_id, (int)ev->reason, ev->bytes);
		break;
	case OFFRX_E_CONN_OPEN:
		break; /* conn_open, with the link's addresses */
	}
}

static void lttng_complete(const struct offrx_event *ev, uint16_t local_port, uint32_t call,
			   const struct offrx_trace_fill *fill)
{
	struct offrx_trace_complete c = {
		.conn = ev->conn_id,
		.req = ev->req_id,
		.status = ev->status,
		.bytes = (uint32_t)ev->bytes,
		.placed = (uint32_t)ev->total,
		.reason = (int)ev->reason,
		.post_to_complete_ns = ev->ts_ns - ev->t_post_ns,
		/* -1 when nothing was placed (then there is no last fill) */
		.last_fill_to_complete_ns =
			ev->total ? (int64_t)(ev->ts_ns - ev->t_last_fill_ns) : -1,
		.local_port = local_port,
		.call = call,
		.fill = fill,
	};
	TP_DO(complete, &c);
}

static void lttng_fill(const struct offrx_trace_fill *f)
{
	TP_DO(fill, f);
}

static void lttng_conn_open(uint64_t conn, const struct link_conn_info *ci, uint64_t push_timer_ns)
{
	TP_DO(conn_open, conn, ci->local_addr, ci->local_port, ci->remote_addr, ci->remote_port,
	      ci->isn, ci->mss, ci->wscale, ci->queue, push_timer_ns);
}

static void lttng_conn_state(const struct offrx_tp_state *st)
{
	TP_DO(conn_state, st);
}

static void lttng_drop(int reason, uint64_t conn, uint32_t frame_len)
{
	TP_DO(drop, reason, conn, frame_len);
}

static void lttng_xsk_stats(const struct offrx_trace_xsk *s)
{
	TP_DO(xsk_stats, s);
}

static void lttng_segment_payload(uint64_t conn, uint32_t seq, uint32_t len, const uint8_t *data,
				  uint32_t n)
{
	TP_DO(segment_payload, conn, seq, len, data, n);
}

static const struct offrx_trace_sink lttng_sink = {
	.on = {
		[OFFRX_E_POST] = TP_STATE(post),
		[OFFRX_E_FILL] = TP_STATE(fill),
		[OFFRX_E_TIMER_START] = TP_STATE(push_timer_start),
		[OFFRX_E_TIMER_RESTART] = TP_STATE(push_timer_restart),
		[OFFRX_E_TIMER_CANCEL] = TP_STATE(push_timer_cancel),
		[OFFRX_E_TIMER_EXPIRE] = TP_STATE(push_timer_expire),
		[OFFRX_E_COMPLETE] = TP_STATE(complete),
		[OFFRX_E_COMPLETE_CALL] = NULL, /* set 3: the first complete carries it */
		[OFFRX_E_INDICATE] = TP_STATE(indicate),
		[OFFRX_E_RETURN] = TP_STATE(return ),
		[OFFRX_E_DISCONNECT] = TP_STATE(disconnect),
		[OFFRX_E_UPLOAD] = TP_STATE(disconnect),
		[OFFRX_E_CONN_CLOSE] = TP_STATE(conn_close),
		[OFFRX_E_COMPLETE_END] = TP_STATE(complete_end),
		[OFFRX_E_INDICATE_CALL] = TP_STATE(indicate_call),
		[OFFRX_E_HANDBACK] = TP_STATE(handback),
		[OFFRX_E_CONN_OPEN] = TP_STATE(conn_open),
		[OFFRX_T_CONN_STATE] = TP_STATE(conn_state),
		[OFFRX_T_DROP] = TP_STATE(drop),
		[OFFRX_T_XSK_STATS] = TP_STATE(xsk_stats),
		[OFFRX_T_SEGMENT_PAYLOAD] = TP_STATE(segment_payload),
	},
	.event = lttng_event,
	.complete = lttng_complete,
	.fill = lttng_fill,
	.conn_open = lttng_conn_open,
	.conn_state = lttng_conn_state,
	.drop = lttng_drop,
	.xsk_stats = lttng_xsk_stats,
	.segment_payload = lttng_segment_payload,
};

const struct offrx_trace_sink *offrx_trace_default(void)
{
	return &lttng_sink;
}
#else
const struct offrx_trace_sink *offrx_trace_default(void)
{
	return NULL; /* OFFRX_TRACING=NONE: no tracepoints in this build */
}
#endif
