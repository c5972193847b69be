/* One decoded offrx trace event: what tracer/reader hands to its consumers (the model, the
 * viewer, the exporters) instead of bt_* objects. Plain data, fixed size, copyable; field
 * meanings are those of docs/TRACEPOINTS.md. */
#ifndef OFFRX_TRACE_EVENT_H
#define OFFRX_TRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <offrx/offrx.h>    /* OFFRX_TRACE_PAYLOAD_MAX; the enums' lists (offrx_names.h) */
#include "offrx_tp_state.h" /* OFFRX_TP_STATE_MAX (no lttng-ust in it) */

#define OTR_STATE_MAX	OFFRX_TP_STATE_MAX	/* requests a conn_state lists */
#define OTR_PAYLOAD_MAX OFFRX_TRACE_PAYLOAD_MAX /* bytes a segment_payload carries */
/* The newest trace event set this reader knows (docs/TRACEPOINTS.md "Event sets"): set 1 (a
 * fill and a push_timer_restart per segment; no event_set field), set 2, and sets 3 and 4
 * (whose derived events otr_expand() adds) are all read. */
#define OTR_EVENT_SET OFFRX_TRACE_EVENT_SET

enum otr_kind {
	OTR_UNKNOWN = 0,
	OTR_CONN_OPEN,
	OTR_CONN_CLOSE,
	OTR_DISCONNECT,
	OTR_POST,
	OTR_FILL,
	OTR_TIMER_START,
	OTR_TIMER_RESTART,
	OTR_TIMER_CANCEL,
	OTR_TIMER_EXPIRE,
	OTR_COMPLETE,
	OTR_COMPLETE_CALL,
	OTR_INDICATE,
	OTR_RETURN,
	OTR_CONN_STATE,
	OTR_DROP,
	OTR_XSK_STATS,
	OTR_SEGMENT_PAYLOAD, /* only when the engine was asked to trace payload */
	OTR_COMPLETE_END,    /* after the completion callback returned: u.call */
	OTR_INDICATE_CALL,   /* before the indicate callback: u.indicate (offered, nbufs) */
	OTR_HANDBACK,	     /* held data handed back with a disconnect/upload: u.close */
	/* Not tracepoints: what the reader learned about the stream itself. */
	OTR_DISCARDED, /* the tracer discarded events (or lost packets) in a time range */
	OTR_SOURCE,    /* the source (re)connected, ended, or failed: see u.source */
	OTR_KIND__COUNT
};

/* enum values as in the trace: OFFRX_COMPLETE_REASON_LIST (offrx_names.h) */
enum otr_complete_reason {
#define OTR_CR_ENUM_(id, name, v) OTR_CR_##id = (v),
	OFFRX_COMPLETE_REASON_LIST(OTR_CR_ENUM_)
#undef OTR_CR_ENUM_
};

enum otr_source_state {
	OTR_SRC_CONNECTED = 1, /* live: attached (again) to the relayd */
	OTR_SRC_LOST,	       /* live: the relayd went away or the graph ended; reconnecting */
	OTR_SRC_END,	       /* offline: the trace ended; live: the session was destroyed */
	OTR_SRC_ERROR,	       /* cannot read on: u.source.msg says why */
};

struct otr_state_req {
	uint64_t id;
	uint32_t len, fill;
	uint8_t no_push;
};

struct otr_event {
	enum otr_kind kind;
	int64_t ts_ns;	 /* nanoseconds from the clock's origin (Unix epoch for LTTng traces) */
	uint64_t ts_raw; /* the raw clock value: CLOCK_MONOTONIC ns for LTTng, comparable with
			  * the deadline_ns fields */
	uint64_t vpid;	 /* the engine's process (vpid context), 0 if the trace lacks it */
	uint64_t conn;	 /* connection id within the process; 0 if none */
	uint64_t req;	 /* request id (post, fill, timer, complete), indication id
			  * (indicate), buffer id (return) */
	uint8_t derived; /* not in the trace: otr_expand() derived it (event set 3) */
	union {
		struct {
			char local_addr[48], remote_addr[48];
			uint16_t local_port, remote_port, mss;
			uint32_t isn;
			uint8_t wscale;
			uint8_t event_set; /* 0: set 1 (the field came with set 2) */
			uint32_t queue;	   /* the receive queue; 0 also in traces without it */
			/* set 3: the connection's push timer; 0 unknown */
			uint64_t push_timer_ns;
		} open;
		struct {
			int reason; /* close_reason (OFFRX_CLOSE_REASON_LIST) */
			uint64_t bytes;
		} close; /* OTR_CONN_CLOSE, OTR_DISCONNECT and OTR_HANDBACK */
		struct {
			uint32_t buf_len, prefill, depth;
			bool no_push;
			uint8_t in_call; /* set 3: inside an open completion call (R19) */
		} post;
		struct {
			uint32_t bytes, total, buf_len, seq;
			bool psh;
			uint32_t segs; /* placements summed (set 2; 0 in set 1: one segment) */
			/* set 2: the push timer's restart (R12) these bytes caused, raw clock, or 0
			 * (set 1 traces have push_timer_restart events instead) */
			uint64_t deadline_ns;
			/* set 3: the push timer was stopped and started (R08) with these bytes, to
			 * deadline_ns (after any restart the same fill carries) */
			uint8_t start;
		} fill;
		struct {
			uint64_t deadline_ns; /* raw clock, like ts_raw */
			uint32_t bytes;
			/* set 2: the engine's clock when it acted (raw clock), or 0; ts_raw is
			 * when the tracer stamped the event, later by any delay in between */
			uint64_t at_ns;
		} timer;
		struct {
			int status; /* offrx status (OFFRX_STATUS_LIST) */
			uint32_t bytes, placed;
			int reason; /* enum otr_complete_reason */
			uint64_t post_to_complete_ns;
			int64_t last_fill_to_complete_ns; /* -1: nothing was placed */
			uint16_t local_port; /* the connection's; 0: unknown (older traces) */
			uint32_t call;	     /* set 3: not 0 on a call's first request, its count */
			/* set 4: the request's last fill of the receive batch that completed it,
			 * carried here instead of traced on its own (segs 0: none); as u.fill.
			 * otr_expand() derives it as a fill event right before this one. */
			struct {
				uint32_t bytes, total, buf_len, seq, segs;
				uint64_t deadline_ns;
				uint8_t psh, start;
			} fill;
		} complete;
		struct {
			uint32_t count;
		} call; /* OTR_COMPLETE_CALL and OTR_COMPLETE_END */
		struct {
			uint64_t offered, consumed;
			int result;
			uint32_t nbufs;
		} indicate; /* OTR_INDICATE; OTR_INDICATE_CALL sets offered and nbufs */
		struct {
			uint32_t bytes;
		} ret;
		struct {
			uint32_t depth, listed, indicated_out, rcv_nxt;
			uint64_t deadline_ns, held_bytes, window, bytes;
			/* empty in traces of engines before the 4-tuple was added */
			char local_addr[48], remote_addr[48];
			uint16_t local_port, remote_port;
			uint8_t event_set; /* 0: set 1 */
			uint32_t queue;	   /* the receive queue; 0 also in traces without it */
			/* set 3: the connection's push timer; 0 unknown */
			uint64_t push_timer_ns;
			struct otr_state_req reqs[OTR_STATE_MAX];
		} state;
		struct {
			int reason; /* drop_reason (OFFRX_DROP_REASON_LIST) */
			uint32_t frame_len;
		} drop;
		struct {
			uint64_t rx_frames, tx_frames, rx_dropped, rx_ring_full, fill_ring_empty,
				tx_ring_empty, invalid_descs, xdp_redirected, xdp_passed, tx_full;
			uint32_t queue;		/* 0 also in traces without it (one queue) */
			uint64_t thread_cpu_ns; /* the queue thread's CPU time; 0: unknown */
		} xsk;
		struct {
			uint32_t seq, len; /* the segment's sequence and payload length */
			uint32_t n;	   /* bytes held below: min(len, the engine's N) */
			uint8_t bytes[OTR_PAYLOAD_MAX];
		} payload;
		struct {
			uint64_t count;		/* events discarded (0 if unknown) */
			uint64_t packets;	/* packets lost */
			int64_t from_ns, to_ns; /* the window, from origin; 0 if unknown */
		} discarded;
		struct {
			enum otr_source_state state;
			char msg[160];
		} source;
	} u;
};

/* One payload field of an event kind: its name in the trace and in offrx-events/1 JSON,
 * where it lands in struct otr_event, and how to read it. The reader (babeltrace2) and the
 * JSON exporter and its parser walk the same table, so a field added here reaches all three. */
enum otr_field_type {
	OTR_F_U,     /* unsigned integer of size 1, 2, 4 or 8 */
	OTR_F_UZ,    /* the same, from a later event set: 0 stands for absent (older traces), so
		      * JSON leaves it out when 0 */
	OTR_F_I,     /* signed integer of size 4 or 8 */
	OTR_F_BOOL,  /* bool */
	OTR_F_STR,   /* char[size], NUL-terminated */
	OTR_F_SEQ,   /* a sequence landing in each struct otr_state_req of u.state.reqs: off and
		      * size are the member's; the first OTR_F_SEQ of a kind sets u.state.listed */
	OTR_F_BYTES, /* segment_payload's bytes: u.payload.bytes, length in u.payload.n */
	/* integers (int) with names: */
	OTR_F_STATUS,  /* otr_status_name */
	OTR_F_CREASON, /* otr_complete_reason_name */
	OTR_F_CLOSE,   /* otr_close_reason_name */
	OTR_F_DROP,    /* otr_drop_reason_name */
};

struct otr_field {
	const char *name;
	uint16_t off;
	uint8_t size, type; /* type: enum otr_field_type */
};

#define OTR_FIELDS_MAX 20 /* most fields of one kind (room for one more) */

/* The fields of kind k in the tracepoint's order, *n of them (0 for kinds with no payload
 * fields: unknown, source). */
const struct otr_field *otr_event_fields(enum otr_kind k, size_t *n);

/* An event of kind for request req of at's connection, at at's time, its payload zeroed (a
 * fill's, a timer's or a call's): what otr_fill_restart() and otr_expand() derive. */
void otr_event_at(struct otr_event *d, enum otr_kind kind, const struct otr_event *at,
		  uint64_t req);

/* The push_timer_restart a fill of event set 2 implies (its deadline_ns, the request it
 * guards, its time): true with *restart set, false when the fill restarted nothing (or
 * started the timer: set 3's start, which otr_expand() hands on as its own event). Apply it
 * right after the fill: it stands for the restart event set 1 traced there. */
bool otr_fill_restart(const struct otr_event *fill, struct otr_event *restart);

/* Event set 3 (docs/TRACEPOINTS.md "Event set 3") leaves out what a reader derives exactly:
 * the push timer's R08 start (a fill's start), its stop when no push-mode request holds
 * bytes and is not full (no push_timer_cancel), the completion call's complete_call (its
 * first complete's call) and its complete_end unless a post came inside it (in_call). The
 * expander puts them back, marked derived, so every consumer reads a set-3 trace as a set-2
 * one; traces of sets 1 and 2 pass unchanged. Set 4 also carries the fill that completed a
 * request on that request's complete (u.complete.fill): the expander puts it back as a fill
 * event, with the complete's time, right before the complete (and its complete_call). The one place
 * that derives them: the reader (tracer/reader) feeds every decoded event through one, as do tests
 * that feed the model from an engine directly. Not thread-safe. */
#define OTR_EXPAND_MAX 8 /* derived events one input event can bring */
struct otr_expand;
struct otr_expand *otr_expand_new(void); /* NULL: out of memory */
void otr_expand_free(struct otr_expand *x);
void otr_expand_reset(struct otr_expand *x); /* forget every connection (a new stream) */
/* Feed one event in stream order: writes the derived events it brings to der[] (at most
 * OTR_EXPAND_MAX) and returns how many; the first *before of them come before ev, the rest
 * right after it. Out of memory for a connection's state: it derives nothing more for that
 * connection until its next conn_open or conn_state. */
size_t otr_expand(struct otr_expand *x, const struct otr_event *ev, struct otr_event *der,
		  size_t *before);

/* Stable names: "post", "push_timer_expire", ... (the event names without "offrx:"). */
const char *otr_kind_name(enum otr_kind k);
enum otr_kind otr_kind_from_name(const char *name); /* OTR_UNKNOWN if not ours */
/* The names of the enums' values, from offrx_names.h; "?" for a value the table lacks. */
const char *otr_complete_reason_name(int reason); /* "filled", ... */
const char *otr_close_reason_name(int reason);	  /* "none", "fin", ... */
const char *otr_status_name(int status);	  /* "SUCCESS", ... */
const char *otr_drop_reason_name(int reason);	  /* "tcp_bad_csum", ... */

#endif
