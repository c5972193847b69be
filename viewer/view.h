/* offrx-view internals: the source thread (source.c) that feeds the model, the snapshot the
 * panels draw from (snap.c), the text formats shared by the screen and --batch (fmt.c), the
 * Perfetto export (export.c) and the curses front end (ui.c and its panels, panel.h). Panels
 * never see the reader or the model: they draw a struct vsnap, taken from the model under the
 * source's lock. */
#ifndef OFFRX_VIEW_H
#define OFFRX_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "reader.h"

#define VIEW_LOCAL_RELAYD "net://localhost"

/* ---- source.c: the thread that reads events and feeds the model ---- */

enum vs_state {
	VS_STARTING,	 /* nothing read yet */
	VS_WAITING,	 /* no relayd, or no offrx session on it yet: retrying */
	VS_CONNECTING,	 /* live: reader open, not attached yet */
	VS_LIVE,	 /* live: attached */
	VS_RECONNECTING, /* live: lost the relayd, attaching again */
	VS_REPLAY,	 /* replaying a recorded trace */
	VS_ENDED,	 /* the trace (or --to, or the live session) ended */
	VS_ERROR,	 /* cannot read on: msg says why */
};

struct vs_opts {
	const char *input; /* a trace directory, a net:// URL, or NULL: the local relayd */
	double speed;	   /* replay: 1 is trace speed, 0 as fast as possible */
	int64_t from_ns;   /* replay: start showing at trace start + from_ns */
	int64_t to_ns;	   /* replay: stop at trace start + to_ns; < 0: the end */
	bool once;	   /* batch: fail instead of waiting for a relayd or a session */
	bool start_paused;
	int64_t horizon_ns; /* "time lost to the push timer" horizon */
	uint32_t recent;    /* completions kept per connection */
	/* what if: the history replayed holds at least the last whatif_window_ns of a
	 * connection's events or its last whatif_comps completions, whichever holds more
	 * (0: 10 s, 50) */
	int64_t whatif_window_ns;
	uint32_t whatif_comps;
};

/* Live: when the source lost the session (the relayd went away, the session was destroyed or
 * is not on the relayd after it came back), a mark: the connections still open whose last
 * event is at or before ts_ns are stale (frozen, not live) since wall_ns. */
#define VS_MARKS 8
struct vs_mark {
	int64_t ts_ns, wall_ns;
};

struct vs_status {
	enum vs_state state;
	bool session_ended; /* live: the session is gone (the rows it fed are stale) */
	unsigned nmarks;
	struct vs_mark marks[VS_MARKS]; /* oldest first */
	bool live, auto_pick, paused;
	bool seeking; /* replay: a step back replays from the start; the screen waits for it */
	double speed;
	char where[512];		/* the trace directory or live URL being read */
	char msg[1024];			/* what the source last said (errors, waiting, ...) */
	int err;			/* VS_ERROR: the negative errno */
	int64_t trace_start_ns, pos_ns; /* OTR_TS_NONE until known; pos: the replay clock */
	int64_t end_ns;			/* replay: where it ended (OTR_TS_NONE: running) */
	uint32_t live_timer_us;		/* 0: unknown */
	uint64_t fed;			/* events fed to the model */
	struct otr_reader_stats rs;
	/* live: the newest flight-recorder snapshot (offrx-trace start --flight-recorder), when
	 * and why: "14:30:12 wait-gt-150ms"; "" none */
	char fr_snap[192];
};

struct vsource;

int vs_start(const struct vs_opts *o, struct vsource **out, char *err, size_t errlen);
void vs_stop(struct vsource *s); /* joins the thread, frees the model */
/* For tests: a source without a thread (a replay that ended), fed by the caller. */
int vs_start_fed(const struct vs_opts *o, struct vsource **out);
void vs_feed(struct vsource *s, const struct otr_event *ev, size_t n);
void vs_lock(struct vsource *s);
void vs_unlock(struct vsource *s);
/* Under the lock: */
const struct otr_model *vs_model(const struct vsource *s);
void vs_status(const struct vsource *s, struct vs_status *out);
int64_t vs_now(const struct vsource *s); /* "now" on the trace clock, for rates and timers */
/* Any time: */
uint64_t vs_version(const struct vsource *s); /* grows with every change of the model */
void vs_pause(struct vsource *s, bool paused);
/* Replay: move the replay clock by delta_ns (back: replays from the start up to there). 0, or
 * -ENOTSUP live. */
int vs_seek(struct vsource *s, int64_t delta_ns);
/* Replay ended or failed, or live failed for good (batch). */
bool vs_finished(const struct vsource *s);

/* What if: the watched connection's recent history (vs_opts.whatif_window_ns or whatif_comps
 * completions, whichever holds more) replayed in the background, every second, through the
 * engine's core (whatif/whatif.h, as offrx-export --what-if does) with half and double the
 * push timer it runs with; the recorded arrivals are held fixed. */
struct vs_whatif_run {
	int64_t timer_ns;
	uint64_t completed, filled, psh, by_timer;
	double share;		       /* push_timer / (filled + psh + push_timer) completions */
	int64_t lf_p99_ns, p2c_p99_ns; /* -1: none */
};
struct vs_whatif {
	bool valid;	  /* a result for (vpid, id) */
	bool timer_known; /* a push_timer_start of this engine told the timer's value */
	bool done;	  /* the background replay ran for (vpid, id): valid, or why not */
	bool truncated;	  /* the history was cut at its size limit: the window is shorter */
	uint64_t vpid, id;
	int64_t timer_ns;	   /* the current push timer */
	uint32_t nevents;	   /* of the connection, replayed */
	uint32_t ncomps;	   /* recorded completions of the requests replayed */
	int64_t from_ns, to_ns;	   /* the window replayed: its first and last event (trace clock) */
	struct vs_whatif_run v[2]; /* timer / 2, timer * 2 */
};
/* Replay the connection key (vpid, id) now, on the caller's thread (takes the lock). 0 or
 * -ENOMEM; out says what came of it. */
int vs_whatif_compute(struct vsource *s, const uint64_t *key, struct vs_whatif *out);
/* Under the lock: watch this connection (vpid, id), or none (NULL); its latest result. */
void vs_whatif_watch(struct vsource *s, const uint64_t *key);
void vs_whatif(const struct vsource *s, struct vs_whatif *out);

/* ---- snap.c: what the panels draw ---- */

enum vcol {
	VC_PID,
	VC_ID,
	VC_REMOTE,
	VC_LOCAL,
	VC_STATE,
	VC_RXQ, /* the receive queue running the connection */
	VC_DEPTH,
	VC_HEAD,
	VC_MODE,
	VC_TIMER,
	VC_POSTED,
	VC_DONE,
	VC_IND,
	VC_RATE,
	VC_P50,
	VC_P99,
	VC_TSHARE,
	VC__COUNT
};

enum vmode { VM_NONE, VM_PUSH, VM_NOPUSH, VM_MIXED };

struct vrow {
	uint64_t vpid, id;
	char remote[OTR_ADDR_LEN + 8], local[OTR_ADDR_LEN + 8]; /* "addr:port" */
	uint16_t rport, lport;
	int32_t queue; /* the receive queue; -1 unknown (attached late, before a conn_state) */
	enum otr_conn_state state;
	int disc_reason, close_reason;
	uint32_t depth;
	bool has_head;
	uint32_t head_len, head_fill;
	enum vmode mode;
	int64_t timer_left_ns; /* < 0: no timer running */
	uint64_t posted, completed, indicated, by_timer;
	uint64_t data_completed; /* by filled, psh or push_timer */
	double rate_bps, compl_per_s;
	uint64_t p50_ns, p99_ns; /* post -> complete */
	double tshare; /* push_timer / (filled + psh + push_timer) completions, 0..1 (lifetime) */
	bool timer_bound, suspect;
	bool stale;		/* live: its session is gone (vs_mark): frozen figures */
	int64_t stale_since_ns; /* CLOCK_REALTIME */
	uint64_t hist_n;	/* completions the percentiles are for (a cache key) */
};

#define VD_MAX_REQ    256
#define VD_MAX_RECENT 64
#define VD_NBINS      12
#define VD_NCLS	      3 /* filled, psh, push_timer */

struct vdetail {
	bool valid;
	struct vrow row;
	uint16_t mss;
	uint32_t nreq; /* of row.depth, the first nreq are in reqs[] */
	struct otr_req reqs[VD_MAX_REQ];
	uint64_t timer_req;
	uint32_t nrecent;
	struct otr_completion recent[VD_MAX_RECENT];
	uint64_t bins[VD_NBINS][VD_NCLS]; /* post -> complete, by reason */
	uint64_t n[VD_NCLS], p50[VD_NCLS], p99[VD_NCLS], max[VD_NCLS];
	struct otr_rates rates; /* over the horizon */
	int64_t horizon_ns;
	uint64_t completed_by[OTR_REASONS], timer_starts, timer_restarts, timer_expiries;
	uint64_t bytes_completed, held_bytes, window, ind_out_bufs, resyncs, unknown;
	uint64_t complete_calls, max_batch;
	int64_t open_ns, close_ns;
	struct vs_whatif wi; /* valid when for this connection */
};

struct vsnap {
	struct vs_status st;
	struct otr_model_totals t;
	int64_t now_ns;	  /* trace clock */
	int64_t now_raw;  /* the same on the raw (monotonic) clock of deadlines */
	int64_t wall_ns;  /* CLOCK_REALTIME when taken */
	uint64_t version; /* vs_version() when taken */
	uint64_t seq;	  /* snapshots taken */
	struct vrow *rows;
	size_t nrows, cap;
	struct vdetail *d; /* the connection snap_take() was asked for, if any */
	/* percentile cache of the previous snapshot, by connection */
	struct vrow *prev;
	size_t nprev, prevcap;
	uint64_t *pidx; /* hash of prev rows: index + 1, 0 empty */
	size_t pcap;
	int64_t horizon_ns;
	/* The receive queues, by process then queue (the header's queue lines). */
	struct otr_queue queues[OTR_QUEUES_MAX];
	size_t nqueues;
};

/* A filter: words separated by spaces (or commas), each one term; a row shows when every term
 * matches. The syntax is in docs/offrx-view.1 (FILTER) and the help overlay. */
#define VF_TEXT	 128
#define VF_TERMS 16
enum vterm_kind {
	VT_TIMER, /* timer: timer-bound */
	VT_STATE, /* open, fin, rst, upload, closed, stale */
	VT_PID,	  /* pid:N */
	VT_ID,	  /* id:N */
	VT_PORT,  /* N or port:N, local or remote */
	VT_QUEUE, /* q:N: on receive queue N */
	VT_ADDR,  /* a part of an address: hex digits, '.', ':', brackets */
};
struct vterm {
	enum vterm_kind kind;
	uint64_t n;	    /* pid, id, port */
	char text[VF_TEXT]; /* the word as typed (the state name, the address part) */
};
struct vfilter {
	unsigned n;
	struct vterm t[VF_TERMS];
};
/* Parse a filter. 0, or -EINVAL with a sentence in err naming the term that is wrong (an
 * unknown key, a number that is not one) and what to write instead; f is then empty. */
int filter_parse(const char *text, struct vfilter *f, char *err, size_t errlen);
/* The terms in force, normalised: one space between them ("pid:5913 timer"). */
void filter_text(const struct vfilter *f, char *buf, size_t len);

/* The view's choices over a snapshot: which rows show, in which order. */
struct vview {
	enum vcol sort;
	bool invert;
	char filter[VF_TEXT]; /* the filter in force (it parses: view_set_filter) */
	uint32_t *order;      /* indexes into snap->rows, filtered and sorted */
	size_t norder, ocap;
	uint64_t sorted_seq; /* the snapshot order[] is for */
	bool sorted_dirty;
};

void snap_init(struct vsnap *sn, int64_t horizon_ns);
void snap_free(struct vsnap *sn);
/* Under the source's lock. detail_key: the connection whose detail to take, or NULL. */
int snap_take(struct vsnap *sn, struct vsource *s, const uint64_t *detail_key);
/* Under the source's lock: the detail of one connection alone (vpid, id). */
int snap_detail(struct vsnap *sn, struct vsource *s, const uint64_t *key);
/* Filter and sort rows into v->order (once per snapshot version or view change). */
int view_order(struct vview *v, const struct vsnap *sn);
void view_free(struct vview *v);
/* Put a filter in force: 0, or -EINVAL (err says why) and the filter in force stays. */
int view_set_filter(struct vview *v, const char *text, char *err, size_t errlen);
bool row_matches(const struct vrow *r, const struct vfilter *f);
int row_cmp(const struct vrow *a, const struct vrow *b, enum vcol c);
/* The busiest connection shown (highest rate, then deepest queue, then most completions):
 * its index in rows, -1 if none. */
long snap_busiest(const struct vsnap *sn, const struct vview *v);

extern const char *const vcol_name[VC__COUNT]; /* column titles (batch and screen) */
/* Latency bin edges (ns) of vdetail.bins: bin i holds [edge[i], edge[i + 1]). */
extern const uint64_t vd_bin_edge[VD_NBINS + 1];
extern const char *const vd_bin_label[VD_NBINS];
/* A latency class's name: its completion reason's, from the name table ("filled", ...). */
const char *vd_cls_name(int k);

/* ---- fmt.c: numbers for people ---- */

char *fmt_dur(char *b, size_t n, int64_t ns); /* "812us", "1.2ms", "3.40s", "-" */
char *fmt_bytes(char *b, size_t n, double v); /* "12.3M", "512", "1.0G" */
char *fmt_count(char *b, size_t n, double v); /* "12.3k", "999" */
char *fmt_rel(char *b, size_t n, int64_t ns); /* "+12.345s" */
int parse_dur(const char *s, int64_t *ns);    /* "1.5s", "200ms", "30us", "2m", "7" (s) */
const char *vs_state_name(const struct vs_status *st, char *b, size_t n); /* "replay x2" */
const char *vmode_name(enum vmode m);
const char *row_state_name(const struct vrow *r);    /* "open", "fin", "rst", "closed", "stale" */
char *fmt_clock(char *b, size_t n, int64_t wall_ns); /* "10:02:03", local time */

/* ---- batch.c: text snapshots (like top -b) ---- */

void batch_print(FILE *f, const struct vsnap *sn, const struct vview *v, unsigned iteration,
		 bool final);

/* ---- export.c: Chrome trace event JSON (Perfetto opens it) ---- */

/* The recent completions of the given connections (keys: vpid, id pairs). Writes a new file
 * in dir; its path goes to path. 0 or -errno with a sentence in err. */
int export_perfetto(struct vsource *s, const uint64_t *keys, size_t nkeys, const char *dir,
		    char *path, size_t pathlen, size_t *nevents, char *err, size_t errlen);

/* ---- ui.c: the curses front end (its panels: panel.h) ---- */

struct ui_opts {
	bool no_color;
	enum vcol sort;
	bool invert;
	const char *filter;
	int64_t horizon_ns;
	const char *export_dir;
	int64_t step_ns; /* left/right step */
};
/* Runs until q or a signal; returns the exit status. */
int ui_run(struct vsource *s, const struct ui_opts *o);

#endif /* OFFRX_VIEW_H */
