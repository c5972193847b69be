/* The argument of offrx:conn_state: one connection's queue at a moment (a tracepoint takes
 * too few arguments to pass these one by one). Plain C with no lttng-ust header, so the engine
 * fills the same struct whether tracing is compiled in or out. */
#ifndef OFFRX_TP_STATE_H
#define OFFRX_TP_STATE_H

#include <stdint.h>

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
	/* The 4-tuple again, so a reader that attached after conn_open can name the connection. */
	const char *local_addr, *remote_addr;
	uint16_t local_port, remote_port;
};

#endif
