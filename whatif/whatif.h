/* The what-if replay of one connection (replay.c): its recorded posts, arrivals and
 * disconnects, collected from struct otr_event, replayed through the engine's own receive core
 * on the in-memory link with a chosen push timer. Used by offrx-export --what-if and offrx-view
 * (library offrx_whatif, README.md). */
#ifndef OFFRX_WHATIF_H
#define OFFRX_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <offrx/offrx.h>

#include "conn_key.h"
#include "hist.h"
#include "trace_event.h"

struct wi_post {
	uint64_t req; /* recorded id */
	int64_t t;
	uint32_t buf_len, prefill;
	bool no_push;
	uint64_t trigger; /* posted from the completion callback of this request; 0: timed */
};

enum wi_item_kind { WI_POST, WI_ARRIVAL, WI_DISCONNECT };

struct wi_item {
	enum wi_item_kind kind;
	int64_t t;
	uint64_t bytes; /* arrival */
	uint32_t seq_end;
	bool psh;
	int reason;  /* disconnect: close_reason */
	size_t post; /* WI_POST: index in posts */
};

struct wi_comp {
	uint64_t req;
	int64_t t;
	int reason, status;
	uint32_t bytes;
	int64_t p2c, lf2c; /* lf2c -1: nothing placed */
	/* A recorded push-timer completion: how late its expiry ran (the push_timer_expire
	 * event's time past the deadline it carries); -1 when the trace has no such event. */
	int64_t late;
};

struct wi_conn {
	struct conn_key k; /* first: the exporter keeps these in its table of conn_key records */
	uint32_t irs;
	uint64_t first_req; /* the first request seen posted; earlier ones are not replayed */
	int64_t t_first, t_last;
	struct wi_post *posts;
	size_t nposts, capposts;
	struct wi_item *items;
	size_t nitems, capitems;
	struct wi_comp *comps; /* recorded */
	size_t ncomps, capcomps;
	uint64_t calls;	     /* recorded complete_call events */
	int64_t last_comp_t; /* for telling callback posts */
	uint64_t last_comp_req;
	bool in_callback;
	int64_t timer_ms;    /* wi_timer_ms of its events; -1 if none */
	uint64_t expire_req; /* the last push_timer_expire: its request and lateness */
	int64_t expire_late;
	uint64_t indicated;
};

struct wi_slot {
	struct offrx_recv_req req;
	struct offrx_seg seg;
};

struct wi_replay {
	const struct wi_conn *c;
	struct offrx_engine *eng;
	struct offrx_conn *conn;
	int64_t base;	       /* trace time of virtual 0 */
	struct wi_slot *slots; /* one per recorded post */
	size_t *react;	       /* indices of callback posts, by trigger */
	size_t nreact;
	struct offrx_ind_buf *to_return;
	struct wi_comp *comps;
	size_t ncomps, capcomps;
	uint64_t calls;
	bool done, oom;
};

/* The push timer an event shows, in whole ms: push_timer_ns of a conn_open or conn_state
 * (event set 3), or an OTR_TIMER_START's deadline minus its time (not a derived one), rounded;
 * -1 for any other event (or a deadline not after it). The one place the value is
 * inferred: the replay's per-connection value, the exporter's and the viewer's per engine. */
int64_t wi_timer_ms(const struct otr_event *ev);

/* A connection's record: zeroed, then wi_conn_init with the time of its first event. */
void wi_conn_init(struct wi_conn *c, int64_t t_first);
/* Collect one event of the connection. 0, or -ENOMEM. */
int wi_conn_event(struct wi_conn *c, const struct otr_event *ev);
void wi_conn_fini(struct wi_conn *c); /* frees what it holds */
/* Replay one connection with one push timer; the completions land in r->comps (free it). */
int wi_replay_conn(const struct wi_conn *c, uint64_t timer_ns, struct wi_replay *r);

/* Completions summed up: counts by reason, latency histograms (the exporter's table and JSON,
 * and the viewer's line, read their percentiles from these, so both say the same). */
struct wi_stats {
	uint64_t by[OFFRX_COMPLETE_REASONS]; /* by reason (enum otr_complete_reason) */
	uint64_t completed, calls;
	struct otr_hist *p2c, *lf2c; /* post -> complete; last fill -> complete */
	double seconds;
};
/* Add n completions (and calls completion calls over seconds). 0 or -ENOMEM. */
int wi_stats_add(struct wi_stats *s, const struct wi_comp *cp, size_t n, uint64_t calls,
		 double seconds);
void wi_stats_free(struct wi_stats *s); /* and zero it */

struct wi_result {
	uint64_t completed, by_timer, data_completed; /* data: filled + psh + push_timer */
	uint64_t filled, psh;
	double timer_share;		 /* by_timer / data_completed; 0 if none */
	int64_t p2c_p99_ns, lf2c_p99_ns; /* otr_hist_percentile(99) of wi_stats; -1: none */
};
/* The replay of one connection summed up (through wi_stats): the push-timer share and p99
 * latencies. 0 or -errno. */
int whatif_replay_conn(const struct wi_conn *c, uint64_t timer_ns, struct wi_result *out);

#endif /* OFFRX_WHATIF_H */
