/* The engine's trace sink: how tracing reaches the core, as the observer does. The core (rxq,
 * api) and the wire (wire, tcp_rx) call the sink they were given and never a tracepoint: the
 * LTTng sink (trace.c, built into liboffrx when OFFRX_TRACING=LTTNG) is the only code that
 * calls lttng-ust. A NULL sink traces nothing, so one build of the core serves the traced
 * engine and the replays that must not write made-up events into a user's session.
 *
 * offrx_trace_on() costs one load and a branch when no one listens (the sink points at the
 * LTTng tracepoints' own state words), as a direct tracepoint check does; only then does the
 * caller build the event and make the sink's indirect call. */
#ifndef OFFRX_TRACE_H
#define OFFRX_TRACE_H

#include <offrx/offrx.h>
#include <stdbool.h>

/* The argument structs of offrx:conn_state, offrx:fill and offrx:xsk_stats: plain C, no
 * lttng-ust header. */
#include "../../tracer/provider/offrx_tp_state.h"

struct link_conn_info;

/* What a sink can be asked to trace besides the core's events (enum offrx_event_kind). */
enum offrx_trace_what {
	OFFRX_T_CONN_STATE = 64, /* offrx:conn_state snapshots */
	OFFRX_T_DROP,		 /* offrx:drop */
	OFFRX_T_XSK_STATS,	 /* offrx:xsk_stats */
	OFFRX_T_SEGMENT_PAYLOAD, /* offrx:segment_payload */
	OFFRX_T_WHAT_MAX	 /* one past the last what, of either enum */
};

struct offrx_trace_sink {
	/* Per what (an enum offrx_event_kind or an enum offrx_trace_what): a word that is
	 * non-zero while someone listens (set by whoever enables the listening: for the LTTng
	 * sink, lttng-ust), or NULL for never. OFFRX_E_CONN_OPEN asks for conn_open (with the
	 * link's addresses). */
	const int *on[OFFRX_T_WHAT_MAX];
	/* One core event (never OFFRX_E_CONN_OPEN: that one goes through conn_open, nor
	 * OFFRX_E_FILL: the core sums a batch's fills and hands them to fill, nor
	 * OFFRX_E_COMPLETE: complete, with the connection's local port). */
	void (*event)(const struct offrx_event *ev);
	/* call: not 0 on the first request of a completion call, its count (set 3: the
	 * complete opens the call). For OFFRX_E_POST, event() finds in ev->reason 1 when the
	 * post came while a completion call of its connection was open (set 3: in_call). fill:
	 * not NULL when the request's last fill of the receive batch that completed it rides
	 * on this complete instead of going to fill() (set 4). */
	void (*complete)(const struct offrx_event *ev, uint16_t local_port, uint32_t call,
			 const struct offrx_trace_fill *fill);
	void (*fill)(const struct offrx_trace_fill *f);
	void (*conn_open)(uint64_t conn, const struct link_conn_info *ci, uint64_t push_timer_ns);
	void (*conn_state)(const struct offrx_tp_state *st);
	void (*drop)(int reason, uint64_t conn, uint32_t frame_len);
	void (*xsk_stats)(const struct offrx_trace_xsk *s);
	void (*segment_payload)(uint64_t conn, uint32_t seq, uint32_t len, const uint8_t *data,
				uint32_t n);
};

static inline bool offrx_trace_on(const struct offrx_trace_sink *t, int what)
{
	const int *w = t && (unsigned int)what < OFFRX_T_WHAT_MAX ? t->on[what] : NULL;
	return w && __builtin_expect(__atomic_load_n(w, __ATOMIC_RELAXED) != 0, 0);
}

/* The sink engines created through the public calls (offrx_engine_create,
 * offrx_mem_engine_create) use. The library links exactly one definition: trace.c in liboffrx
 * (the LTTng sink, or none when OFFRX_TRACING=NONE), trace_none.c (none) in offrx_core, the
 * core the replays and the fuzzers link. */
const struct offrx_trace_sink *offrx_trace_default(void);

#endif
