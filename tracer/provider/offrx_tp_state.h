/* The arguments of offrx:conn_state (one connection's queue at a moment: a tracepoint takes
 * too few arguments to pass these one by one) and offrx:fill. Plain C with no lttng-ust
 * header, so the engine fills the same structs whether tracing is compiled in or out. */
#ifndef OFFRX_TP_STATE_H
#define OFFRX_TP_STATE_H

#include <stdint.h>

/* The trace's event set (docs/TRACEPOINTS.md "Event sets"), in conn_open and conn_state:
 * 2 since fills are summed per receive batch and carry the push timer restart they caused;
 * 3 since a fill also carries the R08 start, the readers derive the push timer's stop when
 * nothing needs it, and one complete opens a completion call (complete_end only when a post
 * came inside it); 4 since the fill that completes a request rides on the complete it causes
 * (the complete's fill_* fields). Traces without the field
 * are set 1 (a fill and a push_timer_restart per segment). */
#define OFFRX_TRACE_EVENT_SET 4

/* Most requests a conn_state snapshot lists (depth says how many are queued in all). */
#define OFFRX_TP_STATE_MAX 64

struct offrx_tp_state {
	uint64_t conn;
	uint32_t depth, listed; /* queued requests, and how many of them are listed below */
	uint64_t ids[OFFRX_TP_STATE_MAX];
	uint32_t lens[OFFRX_TP_STATE_MAX];
	uint32_t fills[OFFRX_TP_STATE_MAX];
	uint8_t no_push[OFFRX_TP_STATE_MAX];
	uint64_t deadline_ns, held_bytes, window, bytes;
	uint32_t indicated_out, rcv_nxt;
	uint64_t push_timer_ns; /* the connection's push timer (R13): set 3 */
	/* The 4-tuple again, so a reader that attached after conn_open can name the connection. */
	const char *local_addr, *remote_addr;
	uint16_t local_port, remote_port;
	uint32_t queue; /* the receive queue running the connection (0: one queue) */
};

/* The argument of offrx:fill: a request's placements of one receive batch, summed. */
struct offrx_trace_fill {
	uint64_t conn, req;
	uint32_t bytes;	      /* placed by this fill */
	uint32_t total;	      /* in the request after it (prefill included) */
	uint32_t buf_len;     /* the request's data_len at post */
	uint32_t seq;	      /* TCP sequence of the first byte */
	uint32_t segs;	      /* placements summed: segments, or held chunks drained */
	uint8_t psh;	      /* the last byte carried PSH (a PSH ends a fill) */
	uint64_t deadline_ns; /* the push timer restarted after these bytes (R12), to this; or 0 */
	uint8_t start;	      /* set 3: the timer was stopped and started (R08) with these bytes */
};

/* The argument of offrx:complete (more than a tracepoint takes one by one). fill: set 4, the
 * request's last fill of the receive batch that completed it, not traced on its own but
 * carried here (NULL: none). */
struct offrx_trace_complete {
	uint64_t conn, req;
	int status;
	uint32_t bytes, placed;
	int reason;
	uint64_t post_to_complete_ns;
	int64_t last_fill_to_complete_ns; /* -1: nothing was placed */
	uint16_t local_port;
	uint32_t call; /* not 0 on a call's first request: the call's count */
	const struct offrx_trace_fill *fill;
};

/* The argument of offrx:xsk_stats: one queue's AF_XDP link counters (more than a tracepoint
 * takes one by one). */
struct offrx_trace_xsk {
	uint64_t rx_frames, tx_frames, rx_dropped, rx_ring_full, fill_ring_empty, tx_ring_empty,
		invalid_descs, xdp_redirected, xdp_passed, tx_full;
	uint32_t queue;		/* the receive queue these counters are of */
	uint64_t thread_cpu_ns; /* CPU time of the thread running the queue (0: unknown) */
};

#endif
