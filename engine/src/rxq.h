/* rxq: the receive core. Per-connection queues of posted requests, push timers, completion
 * and indication, keeping the Chimney receive rules R01..R27 (docs/SEMANTICS.md).
 *
 * It does no I/O and reads time only through an injected clock, so it runs the same on the
 * AF_XDP link, on the in-memory link of the tests, and in trace replays. The caller (api.c)
 * embeds a struct rxq_conn in each connection and supplies the upcalls in struct rxq_ops.
 */
#ifndef OFFRX_RXQ_H
#define OFFRX_RXQ_H

#include <offrx/offrx.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pool.h"
#include "timer_wheel.h"
#include "trace.h"

struct rxq;
struct rxq_conn;
struct offrx_trace_sink;

/* Upcalls from the core to the layer that owns the connections. Called with no lock held,
 * serialized per connection (R18) and never nested (R19). */
struct rxq_ops {
	void (*complete)(struct rxq_conn *c, struct offrx_recv_req *reqs);
	int (*indicate)(struct rxq_conn *c, struct offrx_ind_buf *bufs, uint64_t total,
			uint64_t *consumed);
	void (*event)(struct rxq_conn *c, const struct offrx_conn_event *ev);
	/* The link sends a pending delayed ACK now (R26). May be NULL. */
	void (*flush_ack)(struct rxq_conn *c);
	/* Whether an indicate upcall is wanted for this connection. */
	bool (*can_indicate)(struct rxq_conn *c);
};

struct rxq_cfg {
	uint64_t push_timer_ns;
	uint64_t timer_tick_ns;
	uint32_t timer_slots;
	uint32_t chunk_size;
	uint64_t pool_bytes;
	uint64_t hold_bytes_per_conn;
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	offrx_observer_fn observer;
	void *observer_ctx;
	uint32_t observer_mask;		      /* OFFRX_EVENT_BIT()s; 0: all */
	const struct offrx_trace_sink *trace; /* NULL: nothing traced (trace.h) */
	const struct rxq_ops *ops;
};

struct rxq {
	struct rxq_cfg cfg;
	struct timer_wheel tw;
	struct rxq_pool pool;
	/* Connections with work a post left for the engine thread (R01: never complete inside
	 * the post call). */
	pthread_mutex_t defer_lock;
	struct rxq_conn *defer_head;
	struct rxq_conn *starved_head; /* waiting for a lent buffer to come back */
	/* A receive batch is open (rxq_batch_begin): fills wait for its end to reach the trace
	 * sink, and connections holding one are listed from fill_head. Engine thread only. */
	bool batching;
	struct rxq_conn *fill_head;
	uint64_t timers_fired;
	uint32_t indicated_out;
};

enum rxq_conn_state {
	RXQ_OPEN = 0,
	RXQ_DISCONNECTED, /* FIN or RST seen and indicated: posts get INVALID_STATE */
	RXQ_UPLOADED,	  /* upload done and indicated: posts get INVALID_STATE */
	RXQ_ENDING,	  /* FIN, RST or upload seen, its event not yet handed up: posts
			   * complete after the event, as the queue did (end_status) */
};

struct rxq_conn {
	struct rxq *q;
	pthread_mutex_t lock;
	uint64_t id;
	uint16_t local_port; /* the link's, set at open: offrx:complete carries it (0: none) */
	enum rxq_conn_state state;
	uint32_t rcv_nxt; /* TCP receive-next: irs + 1 + bytes stored */
	uint64_t rcv_bytes;

	/* Posted requests, FIFO (R03). The head is the only one that can be partly filled. */
	struct offrx_recv_req *head, *tail;
	uint32_t depth;
	uint32_t push_loaded; /* queued push-mode requests holding bytes (they need the timer) */
	uint64_t posted_free; /* room left in queued requests */
	uint64_t next_req_id;

	/* Requests completed and not yet handed up, in order, linked through next (R14). */
	struct offrx_recv_req *done_head, *done_tail;
	/* RXQ_ENDING: requests posted before the event was handed up; they join the done list
	 * once it is (R25: INVALID_STATE only for posts after the indication). */
	struct offrx_recv_req *late_head, *late_tail;
	enum rxq_conn_state end_state; /* what RXQ_ENDING becomes when the event is handed up */
	int32_t end_status;
	uint16_t end_reason;

	/* Data held in engine buffers: arrived with nothing posted, or refused (R20, R21). */
	struct rxq_chunk *held_head, *held_tail;
	uint64_t held_bytes;
	/* R24: the right edge of the window the link promised the peer (rxq_promise), and the
	 * free pool chunks reserved so that no other connection can take what it promised. */
	uint32_t promise_edge;
	bool promised;
	uint32_t resv;

	/* The push timer: one per connection. deadline 0 means not running. */
	struct tw_entry timer;
	uint64_t deadline;

	bool in_upcall;	 /* an upcall of this connection runs: others wait (R18, R19) */
	bool indicating; /* held data is lent to an indicate upcall */
	bool suppressed; /* refused data waits for a post (R21) */
	bool posted_during_indicate;
	bool deferred; /* on q->defer list */
	bool starved;  /* on q->starved list */
	struct rxq_conn *starved_next;
	bool ev_pending;
	struct rxq_conn *defer_next;
	struct offrx_conn_event ev;

	uint32_t indicated_out;
	struct offrx_conn_stats st;

	/* The trace sink's fill not yet emitted: this request's placements of the current
	 * receive batch, summed, with the push timer restart they caused (trace.h). Emitted
	 * before any other traced event of the connection and at the batch end. */
	struct offrx_trace_fill fill;
	bool fill_on;
	bool fill_listed; /* on q->fill_head's list (engine thread) */
	struct rxq_conn *fill_next;
	/* Event set 3: what the trace has said of the completion call running (RXQ_CALL_*;
	 * changed under the lock but for the opening), and the post made inside it that waits
	 * to learn whether it is the call's last traced event (rxq.c, call_post). */
	uint8_t call_trace;
	struct offrx_event call_held;
};

int rxq_init(struct rxq *q, const struct rxq_cfg *cfg);
void rxq_fini(struct rxq *q);
uint64_t rxq_now(const struct rxq *q);

void rxq_conn_init(struct rxq *q, struct rxq_conn *c, uint64_t id, uint32_t irs);
/* Tear down: a connection still open is reset first (rxq_disconnect with rst: requests
 * complete REQUEST_ABORTED, held data goes to the application with the event), then the
 * timer stops (with its cancel event) and the reservations go back. Engine thread only. */
void rxq_conn_fini(struct rxq_conn *c);

/* Validate and queue a list of requests (R01..R08). Never completes anything inside the call:
 * completions it makes ready are handed up by the engine thread (rxq_run_deferred). */
int rxq_post(struct rxq_conn *c, struct offrx_recv_req *reqs);

/* Store up to len in-order bytes (R03, R05, R08..R12); returns the bytes stored (R24).
 * seq is the TCP sequence of the first byte, for traces. Engine thread; hands up before
 * returning. */
uint64_t rxq_deliver(struct rxq_conn *c, const uint8_t *data, uint64_t len, bool psh);

/* Bytes the connection can store right now (R24): room in posted requests, plus engine
 * buffers within its budget that no other connection was promised. */
uint64_t rxq_space(const struct rxq_conn *c);
/* The link advertised a window up to sequence edge (receive-next + window): reserve engine
 * buffers for what posted requests do not cover, so another connection cannot take them and
 * data inside the window is stored (R24). Windows never shrink: an edge left of an earlier one
 * changes nothing. Returns the window promised now (edge - receive-next). */
uint32_t rxq_promise(struct rxq_conn *c, uint32_t edge);

/* A receive batch: the link delivers a burst of segments between these two calls, and the
 * trace sink gets one fill per request for the whole burst (rxq_deliver outside a batch is a
 * batch of its own). Engine thread. */
void rxq_batch_begin(struct rxq *q);
void rxq_batch_end(struct rxq *q);

/* Run due push timers (R10). Engine thread. */
void rxq_advance(struct rxq *q);
/* The earliest timer deadline at or before limit (UINT64_MAX: none), for virtual clocks. */
uint64_t rxq_next_due(struct rxq *q, uint64_t limit);
/* Hand up what posts left ready. Engine thread. */
void rxq_run_deferred(struct rxq *q);

/* FIN (rst = false) or RST (R25). Engine thread. */
int rxq_disconnect(struct rxq_conn *c, bool rst);
/* Upload (R26). Engine thread. */
int rxq_upload(struct rxq_conn *c);
/* Return lent buffers (R22). Engine thread. */
int rxq_return(struct rxq *q, struct offrx_ind_buf *bufs);

/* Hand up whatever is ready on this connection (completions, indication, event), looping
 * until nothing is left, unless an upcall of the connection is already running. */
void rxq_flush(struct rxq_conn *c);

/* A connection's queue at one moment, for conn_state snapshots (at most max requests listed). */
struct rxq_snap {
	uint32_t depth, listed;
	uint64_t deadline, held, window, bytes;
	uint32_t indicated_out, rcv_nxt;
};
void rxq_snapshot(struct rxq_conn *c, struct rxq_snap *s, uint64_t *ids, uint32_t *lens,
		  uint32_t *fills, uint8_t *no_push, uint32_t max);

/* Note a connection opening or closing in the event stream (conn_open, conn_close). */
void rxq_note_conn(struct rxq_conn *c, enum offrx_event_kind kind, uint32_t reason);

#endif
