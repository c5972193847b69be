/* offrx: the public API of the offload receive engine (liboffrx).
 *
 * An application posts receive requests (app-owned buffers) on a connection; the engine fills
 * them with the connection's byte stream and hands them back through a completion callback,
 * keeping the TCP Chimney receive rules R01..R27 (see docs/SEMANTICS.md). With nothing posted,
 * the engine indicates data in its own buffers instead.
 *
 * Threading: the engine runs its link, timers and upcalls on the thread that drives it
 * (offrx_engine_poll or, for the in-memory link, the offrx_mem_* calls). Posting is safe from
 * any thread; posts on one connection are serialized by the engine, posts on different
 * connections run concurrently (R04). Completion and indicate upcalls of one connection never
 * overlap or nest (R18, R19).
 *
 * An engine on the wire over several receive queues (offrx_engine_opts.queues) is one engine
 * per queue, each run by a thread of its own (offrx_engine_run). A connection belongs to the
 * queue its SYN arrived on: every callback of that connection (conn_new included) runs on that
 * queue's thread, so callbacks of different connections may run at the same time on different
 * threads. The calls this header marks "engine thread only" are then safe from any thread
 * that is not inside a callback of another queue (they wait for the queue's current turn to
 * end), and from the connection's own callbacks.
 */
#ifndef OFFRX_OFFRX_H
#define OFFRX_OFFRX_H

#include <stddef.h>
#include <stdint.h>

#include "offrx_names.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status of a call or of a completed request: OFFRX_SUCCESS, OFFRX_PENDING, ...; flow values
 * are positive, errors negative. Each member, its value and its meaning: OFFRX_STATUS_LIST in
 * offrx_names.h. */
enum offrx_status {
#define OFFRX_STATUS_ENUM_(id, name, v) OFFRX_##id = (v),
	OFFRX_STATUS_LIST(OFFRX_STATUS_ENUM_)
#undef OFFRX_STATUS_ENUM_
};

/* A short, stable name for a status ("SUCCESS", "REQUEST_ABORTED", ...; "UNKNOWN" for a value
 * that is none). offrx_names.h has the names of the other enums. */
const char *offrx_status_str(int status);

struct offrx_engine; /* opaque: one engine (link, connections, timers, buffer pool) */
struct offrx_conn;   /* opaque: one offloaded connection */
struct offrx_layer;  /* opaque: one layer stacked on a connection (R27) */

/* One piece of a request's buffer, like an MDL or an ibv_sge. */
struct offrx_seg {
	void *base;
	uint32_t len;
};

/* Request flags. */
#define OFFRX_REQ_NO_PUSH 0x1u /* no-push mode: no push timer, PSH ignored, completes when full */

/* Size of the engine's private area inside each request (MiniportReserved). */
#define OFFRX_REQ_RESERVED_WORDS 12

/* A receive request: app-owned, describes exactly one buffer made of a chain of segments.
 *
 * The buffer is the data_len bytes that start data_offset bytes into the segment chain. The
 * first bytes_transferred of them are already occupied when the request is posted (prefill);
 * the engine places new bytes right after them, in order, across the segments (R02).
 *
 * At completion the engine writes status and bytes_transferred (the total valid bytes:
 * prefill plus bytes placed), and advances the data start by the bytes it placed: data_offset
 * grows and data_len shrinks by bytes_placed (R15).
 *
 * Initialize a request with offrx_req_init() (or zero it) before its first post; after its
 * completion it may be changed and posted again. */
struct offrx_recv_req {
	struct offrx_recv_req *next; /* links requests of one post, and of one completion */
	struct offrx_seg *segs;	     /* the chain; not copied, must stay valid until completion */
	uint32_t nsegs;
	uint32_t flags;		    /* OFFRX_REQ_NO_PUSH */
	uint32_t data_offset;	    /* in/out: start of the buffer within the chain */
	uint32_t data_len;	    /* in/out: length of the buffer */
	uint32_t bytes_transferred; /* in: prefill; out: valid bytes in the buffer */
	uint32_t bytes_placed;	    /* out: bytes the engine placed */
	int32_t status;		    /* out: enum offrx_status */
	uint32_t pad_;
	uint64_t cookie; /* the application's; never touched by the engine */
	uint64_t reserved[OFFRX_REQ_RESERVED_WORDS]; /* the engine's queue area; do not touch */
};

/* Fill in a request for one post: zeroes it, then sets the chain and the buffer length to the
 * sum of the segment lengths. Returns OFFRX_INVALID_PARAMETER on NULL or on a length overflow. */
int offrx_req_init(struct offrx_recv_req *req, struct offrx_seg *segs, uint32_t nsegs,
		   uint64_t cookie);

/* The engine's id of a posted request: per connection, starting at 1, in posting order.
 * 0 before the request's first post. Trace events name requests by this id. */
uint64_t offrx_req_id(const struct offrx_recv_req *req);

/* An engine-owned buffer handed to the application by an indication (R20) or by an upload
 * or disconnect (the data the engine still held). The bytes are read-only. */
struct offrx_ind_buf {
	struct offrx_ind_buf *next;
	const uint8_t *data;
	uint32_t len;
	uint32_t pad_;
	uint64_t id; /* engine-unique, for traces */
};

/* Why a connection ended or changed hands. */
enum offrx_conn_event_type {
	OFFRX_EV_DISCONNECT = 1,  /* FIN or RST; once per connection (R25) */
	OFFRX_EV_UPLOAD_DONE = 2, /* the upload the application asked for is complete (R26) */
	OFFRX_EV_CLOSED = 3,	  /* the connection object is about to be freed */
};

/* Why a connection ended: OFFRX_CLOSE_NONE, OFFRX_CLOSE_FIN, ... (OFFRX_CLOSE_REASON_LIST in
 * offrx_names.h). */
enum offrx_close_reason {
#define OFFRX_CLOSE_ENUM_(id, name, v) OFFRX_CLOSE_##id = (v),
	OFFRX_CLOSE_REASON_LIST(OFFRX_CLOSE_ENUM_)
#undef OFFRX_CLOSE_ENUM_
};

/* The connection's receive state handed back with an upload (R26) or a disconnect, together
 * with the data the engine held and had not delivered, so nothing is lost. */
struct offrx_conn_event {
	enum offrx_conn_event_type type;
	enum offrx_close_reason reason;
	uint32_t rcv_nxt;	 /* TCP receive-next (the sequence after the last byte stored) */
	uint32_t rcv_wnd;	 /* the window last advertised to the peer, in bytes (what it may
				  * still send past rcv_nxt) */
	uint64_t bytes_received; /* bytes of the stream stored by the engine, in all */
	uint64_t held_bytes;	 /* bytes in `held`, in order, starting at rcv_nxt - held_bytes */
	struct offrx_ind_buf *held; /* app-owned until returned with offrx_return_indicated() */
	uint32_t indicated_out;	    /* indicated buffers of this connection not yet returned */
};

/* The application's callbacks. Each gets the connection and the context given to
 * offrx_conn_set_context() (or NULL). All run on the engine's thread (on an engine of several
 * queues, the thread of the connection's queue), never nested within another upcall of the
 * same connection, and free to call the API: they may post. */
struct offrx_callbacks {
	/* A new connection is established: start posting here if you like. */
	void (*conn_new)(struct offrx_conn *conn, void *engine_user);
	/* Completed requests, linked through next, in posting order (R14). The requests are the
	 * application's again. */
	void (*recv_complete)(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx);
	/* Data in engine buffers, with nothing posted (R20). Set *consumed and return
	 * OFFRX_SUCCESS (all consumed), OFFRX_PARTIALLY_ACCEPTED (*consumed bytes, from the
	 * start) or OFFRX_NOT_ACCEPTED (none; not indicated again until the next post, R21). With
	 * SUCCESS or PARTIALLY_ACCEPTED the buffers are the application's until it returns them
	 * (R22). If NULL, data waits for a post. */
	int (*recv_indicate)(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
			     uint64_t *consumed, void *ctx);
	/* Disconnect, upload done, closed. If NULL, data handed back with an event is returned
	 * to the engine at once (the application did not ask for it). */
	void (*conn_event)(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx);
};

/* What the engine does, as events for an in-process observer. The same events go to the
 * LTTng tracepoints (offrx:post, offrx:fill, ...), but for fills: the observer gets every
 * placement and every push timer restart, the trace one fill per request per receive batch
 * with the restart in it (docs/TRACEPOINTS.md). The observer is for tests, demos and replays
 * that want the events without a tracing session. */
enum offrx_event_kind {
	OFFRX_E_POST = 1,
	OFFRX_E_FILL,
	OFFRX_E_TIMER_START,
	OFFRX_E_TIMER_RESTART,
	OFFRX_E_TIMER_CANCEL,
	OFFRX_E_TIMER_EXPIRE,
	OFFRX_E_COMPLETE,
	OFFRX_E_COMPLETE_CALL,
	OFFRX_E_INDICATE,
	OFFRX_E_RETURN,
	OFFRX_E_DISCONNECT,
	OFFRX_E_UPLOAD,
	OFFRX_E_CONN_OPEN,
	OFFRX_E_CONN_CLOSE,
	OFFRX_E_COMPLETE_END,  /* the recv_complete callback returned (pairs with COMPLETE_CALL) */
	OFFRX_E_INDICATE_CALL, /* before the recv_indicate callback (INDICATE follows, after it) */
	OFFRX_E_HANDBACK,      /* held data handed to the application with a disconnect or upload */
};

/* Why a request completed: OFFRX_CR_FILLED, OFFRX_CR_PSH, ... (OFFRX_COMPLETE_REASON_LIST in
 * offrx_names.h). */
enum offrx_complete_reason {
#define OFFRX_CR_ENUM_(id, name, v) OFFRX_CR_##id = (v),
	OFFRX_COMPLETE_REASON_LIST(OFFRX_CR_ENUM_)
#undef OFFRX_CR_ENUM_
};

struct offrx_event {
	enum offrx_event_kind kind;
	uint64_t ts_ns; /* engine clock */
	uint64_t conn_id;
	uint64_t req_id;  /* request (post, fill, timer, complete) or indication id */
	uint64_t bytes;	  /* fill: placed now; complete: bytes_transferred; indicate(_call):
			   * offered; handback: bytes handed back */
	uint64_t total;	  /* fill: bytes in the request after; indicate: consumed; return: bytes */
	uint32_t buf_len; /* request capacity (data_len at post) */
	uint32_t count;	  /* post: queue depth after; complete_call/_end: requests in the call;
			   * indicate(_call): buffers offered */
	uint64_t deadline_ns;	 /* timer events: the deadline */
	uint64_t t_post_ns;	 /* complete: when the request was posted */
	uint64_t t_last_fill_ns; /* complete: when bytes were last placed (valid if total > 0) */
	uint32_t seq;		 /* fill: TCP sequence of the first byte */
	int32_t status;		 /* complete: status; indicate: the application's answer */
	uint32_t reason; /* complete: enum offrx_complete_reason; close, disconnect, handback:
			  * enum offrx_close_reason */
	uint32_t flags;	 /* post: OFFRX_REQ_NO_PUSH; fill: 1 if PSH seen */
};

typedef void (*offrx_observer_fn)(const struct offrx_event *ev, void *ctx);

/* For offrx_engine_opts.observer_mask: the engine builds events only of the kinds asked for. */
#define OFFRX_EVENT_BIT(kind) (1u << (kind))

/* Engine creation options. Set sz = sizeof(struct offrx_engine_opts) so the library can grow
 * the struct without breaking callers; zero means "default" for every field. */
struct offrx_engine_opts {
	size_t sz;
	uint64_t push_timer_ns;	      /* R13: default 500 ms */
	uint32_t max_conns;	      /* default 4096 */
	uint32_t chunk_size;	      /* engine buffer size, default 4096 */
	uint64_t pool_bytes;	      /* engine buffer pool, default 16 MiB, resident at once */
	uint64_t hold_bytes_per_conn; /* engine bytes one connection may hold, default 256 KiB */
	uint64_t timer_tick_ns;	      /* timer wheel granularity, default 1 ms */
	const struct offrx_callbacks *cb;
	void *user; /* passed to conn_new */
	offrx_observer_fn observer;
	void *observer_ctx;
	uint32_t observer_mask; /* kinds the observer wants: OFFRX_EVENT_BIT(kind) | ...; 0: all */
	uint64_t
		snapshot_ns; /* period of offrx:conn_state snapshots when tracing; default 500 ms */

	/* The engine on the wire (offrx_engine_create); the in-memory link ignores these. */
	const char *ifname;    /* interface to receive on, e.g. "eng0" */
	uint32_t queue;	       /* its rx queue, default 0 */
	const uint16_t *ports; /* local TCP ports to accept connections on (host order) */
	uint32_t nports;
	uint32_t xdp_mode;	  /* OFFRX_XDP_NATIVE (default) or OFFRX_XDP_SKB */
	uint32_t umem_frames;	  /* AF_XDP frame budget, a power of two; default 4096 */
	uint32_t busy_poll;	  /* 1: spin on the rings instead of sleeping in poll() */
	uint32_t max_halfopen;	  /* half-open connections (SYN flood bound); default 1024 */
	uint64_t delack_ns;	  /* delayed ACK; default 40 ms */
	uint64_t idle_ns;	  /* close connections idle this long; 0: never */
	uint32_t ooo_bytes;	  /* out-of-order bytes kept per connection; default 256 KiB */
	uint32_t no_csum_verify;  /* 1: trust checksums (only for NICs that verified them) */
	double fault_drop_pct;	  /* link fault injector: drop this % of received frames */
	double fault_reorder_pct; /* ... and deliver this % one frame late */
	uint64_t fault_seed;
	/* Warnings and errors, one sentence each (level: 0 error, 1 warning, 2 info). Default:
	 * printed on stderr with an "offrx: " prefix. */
	void (*log)(int level, const char *msg, void *user);
	/* Payload in the trace: 0 (the default) puts no byte of any stream into the trace. N > 0
	 * adds an offrx:segment_payload event with the first N bytes of every data segment the
	 * engine on the wire accepts for a connection, for debugging only (a trace then holds
	 * the application's data). Capped at OFFRX_TRACE_PAYLOAD_MAX. */
	uint32_t trace_payload_bytes;
	/* The most receive window the engine on the wire advertises per connection, in bytes;
	 * like SO_RCVBUF for a kernel socket. 0 (the default): the engine picks a window the
	 * link can hold, 7/8 of the frames it holds in one burst filled with full segments (a
	 * veth holds 256 frames for an XDP program; a NIC, its RX ring as `ethtool -g` shows
	 * it; at most the AF_XDP RX ring), logs its choice and reports it in
	 * offrx_engine_info(). A window beyond what the link holds lets the sender overrun it:
	 * frames are dropped before the engine sees them (on a veth the sending side counts
	 * them: `ip -s link`, TX dropped). Never more than the connection can store (R24). */
	uint32_t rcv_wnd_max;
	/* Where the interface's receive work (NAPI: for a veth, running the XDP program and
	 * copying each frame into the socket) runs, /sys/class/net/IF/threaded:
	 * OFFRX_NAPI_AUTO (0, the default): on a veth, whose NAPI exists only while an XDP
	 * program is attached, in a kernel thread of its own while the engine is attached, so
	 * the scheduler can move it off the sender's CPU; the engine puts the interface's
	 * previous setting back when it is destroyed. Any other driver is left as it is.
	 * OFFRX_NAPI_THREADED (1): in a kernel thread, on any driver; the setting stays after
	 * the engine exits, as an ethtool setting would.
	 * OFFRX_NAPI_LEAVE (2): the interface is left as it is.
	 * offrx_engine_info() says what the engine found and did. */
	uint32_t napi_threaded;
	/* The receive queues of ifname to receive on, one engine thread each (nqueues of
	 * them, at most OFFRX_MAX_QUEUES, each below 64); nqueues 0 (the default): queue
	 * alone. The XDP program steers each frame to the socket of the queue it arrived on
	 * (RSS picks the queue). A connection stays on the queue its SYN came in on; its
	 * frames that arrive on another queue later (RSS changed) are handed to its queue's
	 * thread and counted (offrx_engine_drops: "mq.moved"). Every queue has its own AF_XDP
	 * socket and UMEM (umem_frames each), buffer pool (pool_bytes each) and connection
	 * table (max_conns each). */
	const uint32_t *queues;
	uint32_t nqueues;
	/* CPUs to pin the queues' threads to in offrx_engine_run: cpus[i] for queues[i]
	 * (negative: not pinned); ncpus 0: none pinned. */
	uint32_t ncpus;
	const int32_t *cpus;
};

#define OFFRX_MAX_QUEUES 64

#define OFFRX_NAPI_AUTO	    0
#define OFFRX_NAPI_THREADED 1
#define OFFRX_NAPI_LEAVE    2

#define OFFRX_TRACE_PAYLOAD_MAX 256

#define OFFRX_XDP_NATIVE 0
#define OFFRX_XDP_SKB	 1

/* Create an engine that receives TCP over an AF_XDP socket on opts->ifname, accepting
 * connections on opts->ports. Loads and attaches the offrx XDP program (only our ports are
 * redirected; everything else goes to the kernel). Needs root: CAP_NET_ADMIN, CAP_NET_RAW,
 * CAP_SYS_ADMIN and CAP_IPC_LOCK (or RLIMIT_MEMLOCK large enough for the UMEM).
 * Returns OFFRX_SUCCESS, or OFFRX_INVALID_PARAMETER / OFFRX_RESOURCES with the reason logged
 * through opts->log. */
int offrx_engine_create(const struct offrx_engine_opts *opts, struct offrx_engine **out);

/* What the engine on the wire chose by itself, for reports. */
struct offrx_engine_info {
	size_t sz;		/* sizeof(struct offrx_engine_info) */
	uint32_t rcv_wnd_max;	/* the receive window cap in force, in bytes */
	uint32_t rcv_wnd_auto;	/* 1: the engine chose it (opts.rcv_wnd_max was 0) */
	uint32_t burst_frames;	/* frames the link holds in one burst, the choice's basis */
	char rcv_wnd_why[256];	/* the choice in words, as the engine logged it */
	uint32_t napi_threaded; /* 1: the interface's NAPI runs in a kernel thread (see
				 * opts.napi_threaded), 0: in softirq, on the CPU that raised it */
	uint32_t napi_restore;	/* 1: the engine turned it on and turns it off at destroy */
	char napi_why[128];	/* the same in words, as the engine logged it */
	uint32_t nqueues;	/* receive queues (offrx_engine_queue_stats for each) */
	uint32_t zerocopy;	/* queues whose socket is bound in zero-copy mode */
};

/* Fill *out (set out->sz first; a smaller, older struct gets the fields it has). Returns
 * OFFRX_SUCCESS, or OFFRX_INVALID_PARAMETER for NULL, a too-small sz, or an engine that is
 * not on the wire. */
int offrx_engine_info(const struct offrx_engine *eng, struct offrx_engine_info *out);

/* Least privilege: once offrx_engine_create() returned, the engine on the wire needs no
 * capability to receive. Call this on the thread that drives the engine (Linux keeps
 * capabilities per thread; other threads keep theirs): it empties that thread's effective,
 * inheritable, ambient and bounding sets and sets no_new_privs. CAP_NET_ADMIN (and
 * CAP_SYS_ADMIN when the program sits in libxdp's dispatcher), if the thread had them, stay in
 * the permitted set only: the engine raises them inside offrx_engine_destroy() (call it on the
 * same thread) to detach its XDP program, and nowhere else. On kernels before 6.5, which
 * refuse any bpf() call without CAP_BPF, CAP_BPF also stays effective so the engine can read
 * its XDP statistics. A thread started before this call (lttng-ust's listeners, for one) keeps
 * its capabilities: it reads no network input. Logs one info line saying what was dropped and
 * kept. flags: 0 (reserved). Returns OFFRX_SUCCESS (also when called again),
 * OFFRX_INVALID_PARAMETER (not a wire engine, or flags set), or OFFRX_INVALID_STATE with the
 * reason logged when the kernel refused. */
int offrx_engine_drop_privileges(struct offrx_engine *eng, uint32_t flags);

/* Run one turn of the engine: receive a batch of frames (waiting up to timeout_ms for the
 * first), feed them through TCP to the connections, run timers, send ACKs. Returns the number
 * of frames handled, or a negative errno. Callbacks run inside this call. On an engine of
 * several queues, one turn of every queue in turn, all on the calling thread (waiting, when
 * none had a frame, on all their sockets at once); not while offrx_engine_run() runs. */
int offrx_engine_poll(struct offrx_engine *eng, int timeout_ms);

/* Poll until *stop becomes non-zero (set it from a signal handler). On an engine of several
 * queues, the calling thread runs the first queue and one thread started here runs each of
 * the others (each pinned to opts.cpus[i] when given; the calling thread too, for this call
 * only); it returns once all have stopped: 0, or the first negative errno one of them met
 * (which stops the others). */
int offrx_engine_run(struct offrx_engine *eng, const volatile int *stop);

/* One receive queue of an engine on the wire, for reports. */
struct offrx_queue_stats {
	size_t sz;	   /* sizeof(struct offrx_queue_stats) */
	uint32_t queue;	   /* the interface's queue number */
	uint32_t zerocopy; /* 1: the socket is bound in zero-copy mode, 0: copy mode */
	uint32_t conns, conns_total;
	uint64_t bytes_received; /* by its open connections */
	uint64_t rx_frames;	 /* frames its socket delivered */
	uint64_t moved_out;	 /* frames of another queue's connection, handed over to it */
	uint64_t moved_in;	 /* frames of its connections that arrived on another queue */
	uint64_t rx_dropped, rx_ring_full, fill_ring_empty; /* the socket's XDP_STATISTICS */
	int32_t cpu; /* the CPU its thread is pinned to in offrx_engine_run, or -1 */
	uint32_t pad_;
	/* CPU time its threads spent in offrx_engine_run calls that have returned (0 for
	 * offrx_engine_poll): the cost of one queue. The threads offrx_engine_run starts are
	 * named "offrx-q<queue>". */
	uint64_t thread_cpu_ns;
};

/* Fill *out (set out->sz first) for queue index (0 .. offrx_engine_info().nqueues - 1, in the
 * order of opts.queues). Returns OFFRX_SUCCESS, or OFFRX_INVALID_PARAMETER (NULL, sz too
 * small, index out of range, not an engine on the wire). */
int offrx_engine_queue_stats(struct offrx_engine *eng, uint32_t index,
			     struct offrx_queue_stats *out);

/* The connection's local and remote "address:port" (IPv6 in brackets). */
void offrx_conn_names(const struct offrx_conn *conn, char *local, char *remote, size_t len);

/* Drop counters by reason, every frame or segment the engine refused, for reports: fills up to
 * max names ("pkt.tcp_bad_csum", "tcp.out_of_window", "xsk.rx_ring_full", ...) and counts,
 * and returns how many reasons there are. Summed over the queues of an engine of several. */
uint32_t offrx_engine_drops(const struct offrx_engine *eng, const char **names, uint64_t *counts,
			    uint32_t max);
/* The same for one queue (index as in offrx_engine_queue_stats); 0 for a bad index. */
uint32_t offrx_engine_queue_drops(const struct offrx_engine *eng, uint32_t index,
				  const char **names, uint64_t *counts, uint32_t max);

/* Post a list of receive requests (linked through next) on a connection (R02).
 * Always returns OFFRX_PENDING for a valid post: every request comes back exactly once through
 * recv_complete, never inside this call (R01, R17). After a disconnect was indicated (its
 * conn_event callback started), the requests complete with OFFRX_INVALID_STATE (R25); posted
 * between the FIN or RST and that callback (in the completion of the queue, say), they are
 * still outstanding at the indication and complete like the queue did (SUCCESS after a FIN,
 * REQUEST_ABORTED after a RST), right after the event. Returns OFFRX_INVALID_PARAMETER and
 * queues nothing when the connection or any request is invalid (NULL, already queued, chain
 * shorter than data_offset + data_len, prefill larger than the buffer, length overflow).
 * May be called from any thread and from inside a completion callback (R19). */
int offrx_post_recv(struct offrx_conn *conn, struct offrx_recv_req *reqs);

/* Return engine buffers the application got from indications, uploads or disconnects (R22).
 * One call may carry buffers of several indications and connections. Returns OFFRX_SUCCESS,
 * or OFFRX_INVALID_PARAMETER (nothing returned) if any buffer is not one the application
 * holds: a buffer on offer inside the recv_indicate callback that offers it is not yet the
 * application's (it is once the callback accepts it). Engine thread only. An indication that
 * waited because every buffer view was lent out resumes on the engine's next run. */
int offrx_return_indicated(struct offrx_engine *eng, struct offrx_ind_buf *bufs);

/* Upload a connection: stop its push timer, flush a delayed ACK, complete outstanding
 * requests with OFFRX_UPLOAD_IN_PROGRESS (with the bytes they hold), and hand back the held
 * data with the receive state (receive-next and the window last advertised to the peer) in an
 * OFFRX_EV_UPLOAD_DONE event (R26). The connection takes no more data. Requests posted while
 * the upload is in progress (until the UPLOAD_DONE callback starts) complete with
 * OFFRX_UPLOAD_IN_PROGRESS after the older ones; requests posted after that complete with
 * OFFRX_INVALID_STATE. Engine thread only. */
int offrx_conn_upload(struct offrx_conn *conn);

/* Attach the application's context to a connection; it is passed to every callback. */
void offrx_conn_set_context(struct offrx_conn *conn, void *ctx);
void *offrx_conn_context(const struct offrx_conn *conn);
/* The engine-unique id of a connection (as in trace events). */
uint64_t offrx_conn_id(const struct offrx_conn *conn);
/* The receive queue a connection lives on (its callbacks run on that queue's thread); 0 for
 * the in-memory link. */
uint32_t offrx_conn_queue(const struct offrx_conn *conn);

/* Bytes the engine can store on this connection right now: free space in posted requests plus
 * what its engine-buffer budget allows. The advertised TCP window never exceeds it (R24). */
uint64_t offrx_conn_space(const struct offrx_conn *conn);

/* Slots of offrx_conn_stats.completed_by[], one per value of enum offrx_complete_reason (and
 * slot 0, unused): fixed by the ABI, so a complete reason added to the table must stay below it
 * (status.c checks). */
#define OFFRX_COMPLETE_REASONS 8

/* Per-connection counters, readable at any time from the engine thread. */
struct offrx_conn_stats {
	uint64_t posted, completed, complete_calls;
	uint64_t bytes_received, bytes_completed, bytes_indicated, bytes_consumed;
	uint64_t completed_by[OFFRX_COMPLETE_REASONS]; /* indexed by enum offrx_complete_reason */
	uint64_t indications;
	uint32_t queue_depth;
	uint32_t indicated_out;
	uint64_t held_bytes;
	uint64_t timer_deadline_ns; /* 0: not running */
};
int offrx_conn_stats(const struct offrx_conn *conn, struct offrx_conn_stats *out);

/* A layer stacked between application and engine (R27): an intermediate driver. Its post
 * hook sees every request the application posts and must pass it down unchanged with
 * offrx_layer_post_down(); its complete hook sees every completion and must pass it up with
 * offrx_layer_complete_up(). A NULL hook passes through. */
struct offrx_layer_ops {
	size_t sz; /* sizeof(struct offrx_layer_ops) */
	int (*post)(struct offrx_layer *layer, struct offrx_recv_req *reqs, void *ctx);
	void (*complete)(struct offrx_layer *layer, struct offrx_recv_req *reqs, void *ctx);
};

/* Stack a layer on top of a connection: from now on offrx_post_recv(conn) enters the new
 * top layer first and completions leave through it last. Engine thread, before the first post
 * is the expected time; returns OFFRX_RESOURCES past 8 layers. */
int offrx_layer_push(struct offrx_conn *conn, const struct offrx_layer_ops *ops, void *ctx,
		     struct offrx_layer **out);
int offrx_layer_post_down(struct offrx_layer *layer, struct offrx_recv_req *reqs);
void offrx_layer_complete_up(struct offrx_layer *layer, struct offrx_recv_req *reqs);
struct offrx_conn *offrx_layer_conn(const struct offrx_layer *layer);

/* Engine-wide counters (summed over the queues of an engine of several). */
struct offrx_engine_stats {
	uint32_t conns;
	uint32_t conns_total;
	uint64_t pool_chunks, pool_free_chunks;
	uint32_t indicated_out; /* buffers held by the application (R23) */
	uint64_t timers_fired;
	uint64_t bytes_received;
};
int offrx_engine_stats(const struct offrx_engine *eng, struct offrx_engine_stats *out);

/* Free the engine. First every open connection is reset, as by a RST (the engine on the wire
 * sends one): its requests complete with REQUEST_ABORTED and the data the engine held for it
 * reaches the application in an OFFRX_EV_DISCONNECT event (reason OFFRX_CLOSE_RST), so nothing
 * stored, and so acknowledged, is dropped. Then, while any engine buffer is still out
 * (indicated or handed back, those of this call included) the engine releases nothing and
 * returns OFFRX_INVALID_STATE (R23); *out_indicated (if not NULL) says how many: return them
 * and call again. Refused (INVALID_STATE, nothing touched) from inside a callback. */
int offrx_engine_destroy(struct offrx_engine *eng, uint32_t *out_indicated);

#ifdef __cplusplus
}
#endif
#endif /* OFFRX_OFFRX_H */
