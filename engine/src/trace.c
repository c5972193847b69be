/* From the engine's event struct to the offrx tracepoints (see trace.h). */
#include "trace.h"

void offrx_tp_emit(const struct offrx_event *ev)
{
	switch (ev->kind) {
	case OFFRX_E_POST:
		OFFRX_TP_DO(post, ev->conn_id, ev->req_id, ev->buf_len, (uint32_t)ev->bytes,
			    (uint8_t)(ev->flags & OFFRX_REQ_NO_PUSH), ev->count);
		break;
	case OFFRX_E_FILL:
		OFFRX_TP_DO(fill, ev->conn_id, ev->req_id, (uint32_t)ev->bytes, (uint32_t)ev->total,
			    ev->buf_len, ev->seq, (uint8_t)ev->flags);
		break;
	case OFFRX_E_TIMER_START:
		OFFRX_TP_DO(push_timer_start, ev->conn_id, ev->req_id, ev->deadline_ns,
			    (uint32_t)ev->bytes);
		break;
	case OFFRX_E_TIMER_RESTART:
		OFFRX_TP_DO(push_timer_restart, ev->conn_id, ev->req_id, ev->deadline_ns,
			    (uint32_t)ev->bytes);
		break;
	case OFFRX_E_TIMER_CANCEL:
		OFFRX_TP_DO(push_timer_cancel, ev->conn_id, ev->req_id, ev->deadline_ns,
			    (uint32_t)ev->bytes);
		break;
	case OFFRX_E_TIMER_EXPIRE:
		OFFRX_TP_DO(push_timer_expire, ev->conn_id, ev->req_id, ev->deadline_ns,
			    (uint32_t)ev->bytes);
		break;
	case OFFRX_E_COMPLETE: {
		/* last fill to complete: -1 when nothing was placed (then there is no last fill) */
		int64_t lf = ev->total ? (int64_t)(ev->ts_ns - ev->t_last_fill_ns) : -1;
		OFFRX_TP_DO(complete, ev->conn_id, ev->req_id, ev->status, (uint32_t)ev->bytes,
			    (uint32_t)ev->total, (int)ev->reason, ev->ts_ns - ev->t_post_ns, lf);
		break;
	}
	case OFFRX_E_COMPLETE_CALL:
		OFFRX_TP_DO(complete_call, ev->conn_id, ev->count);
		break;
	case OFFRX_E_INDICATE:
		OFFRX_TP_DO(indicate, ev->conn_id, ev->req_id, ev->bytes, ev->total, ev->status,
			    ev->count);
		break;
	case OFFRX_E_RETURN:
		OFFRX_TP_DO(return, ev->conn_id, ev->req_id, (uint32_t)ev->total);
		break;
	case OFFRX_E_DISCONNECT:
	case OFFRX_E_UPLOAD:
		OFFRX_TP_DO(disconnect, ev->conn_id, (int)ev->reason, ev->bytes);
		break;
	case OFFRX_E_CONN_CLOSE:
		OFFRX_TP_DO(conn_close, ev->conn_id, (int)ev->reason, ev->bytes);
		break;
	case OFFRX_E_COMPLETE_END:
		OFFRX_TP_DO(complete_end, ev->conn_id, ev->count);
		break;
	case OFFRX_E_INDICATE_CALL:
		OFFRX_TP_DO(indicate_call, ev->conn_id, ev->req_id, ev->bytes, ev->count);
		break;
	case OFFRX_E_HANDBACK:
		OFFRX_TP_DO(handback, ev->conn_id, (int)ev->reason, ev->bytes);
		break;
	case OFFRX_E_CONN_OPEN:
		break;
	}
	(void)ev;
}
