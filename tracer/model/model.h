/* The queue model: per-connection receive state rebuilt from decoded offrx events
 * (trace_event.h), the way docs/TRACEPOINTS.md "Rebuilding a queue" says, with latency
 * histograms, rates and recent completions for the viewer and the exporters. No I/O, no clock:
 * time is the events' time. Not thread-safe: one thread feeds, and readers hold the same lock
 * (the viewer reads once per frame). Pointers it hands out stay valid until the next feed. */
#ifndef OFFRX_MODEL_H
#define OFFRX_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "trace_event.h"

#define OTR_TS_NONE INT64_MIN /* a time the model does not know; as now_ns: the last event's */
/* completed_by[] index: enum otr_complete_reason, 0 for others */
#define OTR_REASONS  (OFFRX_NAMES_MAX(OFFRX_COMPLETE_REASON_LIST) + 1)
#define OTR_ADDR_LEN 48

struct otr_model_opts {
	size_t sz;		 /* sizeof(struct otr_model_opts) */
	uint32_t recent;	 /* completions kept per connection (default 32) */
	uint32_t max_closed;	 /* closed connections kept before eviction (default 1024) */
	uint32_t max_queue;	 /* requests tracked per connection (default 65536) */
	int64_t rate_window_ns;	 /* window of the rates (default 1 s) */
	int64_t lost_horizon_ns; /* horizon of "time lost to the push timer" (default 10 s) */
};

enum otr_conn_state {
	OTR_CS_OPEN = 1,
	OTR_CS_DISCONNECTED, /* disconnect event seen: disc_reason is fin, rst or upload */
	OTR_CS_CLOSED,	     /* conn_close seen: kept until max_closed newer ones closed */
};

enum otr_lat {
	OTR_LAT_POST,	    /* post -> complete (the event's post_to_complete_ns) */
	OTR_LAT_FIRST_BYTE, /* first byte in the request (post if prefilled) -> complete */
	OTR_LAT_LAST_FILL,  /* last fill -> complete: time spent waiting for a push */
	OTR_LAT__COUNT
};

enum otr_hclass { OTR_HC_ALL, OTR_HC_FILLED, OTR_HC_PSH, OTR_HC_PUSH_TIMER, OTR_HC__COUNT };

#define OTR_REQ_SNAPSHOT    0x1 /* adopted from a conn_state: times before it unknown */
#define OTR_REQ_PLACEHOLDER 0x2 /* beyond the 64 a conn_state lists: len, fill unknown */

struct otr_req {
	uint64_t id;
	uint32_t len, fill, prefill;
	uint8_t no_push, flags;
	int64_t post_ns, first_fill_ns, last_fill_ns; /* OTR_TS_NONE: unknown or none yet */
	uint64_t deadline_ns; /* raw clock (like ts_raw); 0 unless the push timer guards it */
};

struct otr_completion {
	uint64_t req;
	int64_t ts_ns;
	int status, reason;
	uint32_t bytes, placed;
	uint64_t post_ns;      /* post -> complete */
	int64_t first_byte_ns; /* first byte -> complete; -1 unknown or none */
	int64_t last_fill_ns;  /* last fill -> complete; -1 nothing placed */
	bool suspect;	       /* recorded while the connection was suspect */
	bool unknown;	       /* the model did not know the request (attached late, resynced) */
};

struct otr_conn {
	uint64_t vpid, id;
	char local_addr[OTR_ADDR_LEN], remote_addr[OTR_ADDR_LEN]; /* "?" if attached late */
	uint16_t local_port, remote_port, mss;
	int32_t queue; /* the receive queue running it; -1 until its conn_open or conn_state */
	enum otr_conn_state state;
	int disc_reason, close_reason;	    /* close_reason values (otr_close_reason_name) */
	int64_t open_ns, close_ns, last_ns; /* OTR_TS_NONE if not seen */

	/* The queue, oldest first: otr_conn_req(c, 0 .. depth - 1). */
	uint32_t depth;
	uint64_t timer_deadline_ns, timer_req; /* raw clock; 0: stopped */
	uint32_t ind_out_bufs;		       /* indicated buffers not returned yet */
	uint64_t ind_out_bytes;
	uint64_t held_bytes, window, rcv_nxt, stream_bytes; /* from the last conn_state */

	/* Counters since the model first saw the connection. */
	uint64_t events, posted, completed, completed_by[OTR_REASONS], errors;
	uint64_t bytes_placed, bytes_completed; /* fill bytes; complete bytes (prefill too) */
	uint64_t indications, indicated_bytes, consumed_bytes, returned_bufs;
	uint64_t complete_calls, max_batch, psh_fills, drops;
	uint64_t timer_starts, timer_restarts, timer_cancels, timer_expiries;

	/* Trust. */
	bool synced;  /* conn_open or a conn_state seen: the queue is complete */
	bool suspect; /* events may be missing (discarded, source lost) until a snapshot */
	int64_t suspect_since_ns;
	uint64_t suspect_completions, unknown, resyncs, snapshots, overflow;
	int64_t last_snapshot_ns;

	/* Latency per completion: [metric][class]; NULL until a value lands there. */
	const struct otr_hist *hist[OTR_LAT__COUNT][OTR_HC__COUNT];
	uint64_t recent_count; /* entries in otr_conn_recent() */
};

struct otr_rates {
	double bytes_per_s, completions_per_s; /* over rate_window_ns */
	/* Over lost_horizon_ns: */
	int64_t push_timer_lost_ns; /* sum of last fill -> complete of push_timer completions */
	uint64_t completions, push_timer_completions;
	double push_timer_share; /* push_timer_completions / completions, 0 if none */
};

struct otr_model_totals {
	uint64_t events, events_by_kind[OTR_KIND__COUNT];
	double events_per_s, bytes_per_s, completions_per_s, completions_per_s_by[OTR_REASONS];
	uint64_t completed, completed_by[OTR_REASONS], bytes_placed;
	struct otr_rates horizon; /* the rates above plus the push timer, over all connections */
	uint64_t discarded_events, discarded_packets, discards; /* OTR_DISCARDED: sums, ranges */
	uint64_t resyncs, unknown, suspect_completions, drops, nomem;
	uint64_t conns, conns_open, conns_closed, conns_evicted; /* held now; evicted ever */
	int64_t first_ts_ns, last_ts_ns; /* OTR_TS_NONE before any event; last: for live lag */
	uint64_t last_ts_raw;
	bool source_lost; /* OTR_SOURCE lost or error, not connected again since */
	int source_state; /* enum otr_source_state of the last OTR_SOURCE; 0 none */
};

/* NULL opts: the defaults. NULL if out of memory or opts->sz is 0. */
struct otr_model *otr_model_new(const struct otr_model_opts *o);
void otr_model_free(struct otr_model *m);

/* Apply one event. 0, or -ENOMEM: the event was counted (totals.nomem) but its effect on the
 * connection may be partial; that connection is suspect until its next conn_state. */
int otr_model_feed(struct otr_model *m, const struct otr_event *ev);

/* Connections, open and kept closed ones, oldest first. Fills up to max; returns how many
 * there are. */
size_t otr_model_conns(const struct otr_model *m, const struct otr_conn **out, size_t max);
const struct otr_conn *otr_model_conn(const struct otr_model *m, uint64_t vpid, uint64_t conn);

/* now_ns: the time the rates are for (a reader's "now" on the trace clock); OTR_TS_NONE for
 * the last event's time. */
void otr_model_totals(const struct otr_model *m, int64_t now_ns, struct otr_model_totals *out);
void otr_conn_rates(const struct otr_model *m, const struct otr_conn *c, int64_t now_ns,
		    struct otr_rates *out);
/* Latencies over all connections (evicted ones included). */
const struct otr_hist *otr_model_hist(const struct otr_model *m, enum otr_lat lat,
				      enum otr_hclass cls);
/* One receive queue of one engine process (the queue of conn_open, conn_state and xsk_stats;
 * traces of older engines have queue 0 only): its connections and its engine thread. */
#define OTR_QUEUES_MAX 64 /* (process, queue) pairs kept; more are left out */
struct otr_queue {
	uint64_t vpid;
	uint32_t queue;
	uint64_t conns, conns_open; /* its connections the model holds now */
	/* By its connections since the model learned their queue: */
	uint64_t completed, bytes_placed, drops; /* drops: offrx:drop events */
	double bytes_per_s, completions_per_s;	 /* over rate_window_ns */
	/* From its last xsk_stats (has_xsk: one was seen): */
	bool has_xsk;
	int64_t xsk_ts_ns;
	uint64_t rx_frames, rx_dropped, rx_ring_full, fill_ring_empty, thread_cpu_ns;
	/* Between its last two xsk_stats; -1: unknown (one seen, or no thread_cpu_ns): */
	double rx_frames_per_s, cpu_share; /* cpu_share: the engine thread's, 0..1 */
	int64_t fill_ring_empty_new;	   /* fill_ring_empty's growth; -1 unknown */
	double cpu_share_all; /* the same from its first xsk_stats to its last; -1 unknown */
};

/* What the queue lost: frames its socket dropped (rx_dropped: no room in the UMEM or a bad
 * descriptor; rx_ring_full: the RX ring was full) and its connections' offrx:drop events. */
static inline uint64_t otr_queue_drops(const struct otr_queue *q)
{
	return q->rx_dropped + q->rx_ring_full + q->drops;
}

/* The queues seen, by process then queue: fills up to max, returns how many there are. now_ns
 * as for otr_model_totals. */
size_t otr_model_queues(const struct otr_model *m, int64_t now_ns, struct otr_queue *out,
			size_t max);

/* The last event of kind OTR_XSK_STATS, OTR_DISCARDED or OTR_SOURCE; NULL if none or other. */
const struct otr_event *otr_model_last(const struct otr_model *m, enum otr_kind kind);

/* The i-th queued request, 0 the oldest; NULL past depth. */
const struct otr_req *otr_conn_req(const struct otr_conn *c, uint32_t i);
/* The i-th most recent completion, 0 the newest; NULL past recent_count. */
const struct otr_completion *otr_conn_recent(const struct otr_conn *c, uint32_t i);

const char *otr_conn_state_name(enum otr_conn_state s); /* "open", "disconnected", "closed" */

#endif
