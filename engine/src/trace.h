/* The single switch between the engine and its tracepoints (OFFRX_TRACING=LTTNG|NONE).
 * offrx_tp_on(kind) costs one load and a branch per call site when no session listens (the
 * kind is a constant there, so the switch folds away); only then does the core build a
 * struct offrx_event and hand it to offrx_tp_emit(). With NONE everything compiles to nothing;
 * CI builds both, so the arguments stay type-checked in the LTTNG build. */
#ifndef OFFRX_TRACE_H
#define OFFRX_TRACE_H

#include <offrx/offrx.h>
#include <stdbool.h>

#ifdef OFFRX_TRACING_LTTNG
#include "offrx_tp.h"
#define OFFRX_TP_ON(name)      lttng_ust_tracepoint_enabled(offrx, name)
#define OFFRX_TP_DO(name, ...) lttng_ust_do_tracepoint(offrx, name, __VA_ARGS__)
#else
/* The arguments are referenced (no unused-variable warnings) but never evaluated. */
static inline void offrx_tp_none(int unused, ...)
{
	(void)unused;
}
#define OFFRX_TP_ON(name)      0
#define OFFRX_TP_DO(name, ...) ((void)(0 && (offrx_tp_none(0, __VA_ARGS__), 0)))
/* The snapshot struct, without lttng-ust (offrx_tp.h includes it in the LTTNG build). */
#include "../../tracer/provider/offrx_tp_state.h"
#endif

static inline bool offrx_tp_on(enum offrx_event_kind kind)
{
	switch (kind) {
	case OFFRX_E_POST:
		return OFFRX_TP_ON(post);
	case OFFRX_E_FILL:
		return OFFRX_TP_ON(fill);
	case OFFRX_E_TIMER_START:
		return OFFRX_TP_ON(push_timer_start);
	case OFFRX_E_TIMER_RESTART:
		return OFFRX_TP_ON(push_timer_restart);
	case OFFRX_E_TIMER_CANCEL:
		return OFFRX_TP_ON(push_timer_cancel);
	case OFFRX_E_TIMER_EXPIRE:
		return OFFRX_TP_ON(push_timer_expire);
	case OFFRX_E_COMPLETE:
		return OFFRX_TP_ON(complete);
	case OFFRX_E_COMPLETE_CALL:
		return OFFRX_TP_ON(complete_call);
	case OFFRX_E_INDICATE:
		return OFFRX_TP_ON(indicate);
	case OFFRX_E_RETURN:
		return OFFRX_TP_ON(return );
	case OFFRX_E_DISCONNECT:
	case OFFRX_E_UPLOAD:
		return OFFRX_TP_ON(disconnect);
	case OFFRX_E_CONN_CLOSE:
		return OFFRX_TP_ON(conn_close);
	case OFFRX_E_COMPLETE_END:
		return OFFRX_TP_ON(complete_end);
	case OFFRX_E_INDICATE_CALL:
		return OFFRX_TP_ON(indicate_call);
	case OFFRX_E_HANDBACK:
		return OFFRX_TP_ON(handback);
	case OFFRX_E_CONN_OPEN:
		return false; /* emitted by the engine with the link's addresses */
	}
	return false;
}

/* Hand one event to its tracepoint (engine/src/trace.c). */
void offrx_tp_emit(const struct offrx_event *ev);

#endif
