/* --listen HOST:PORT: the events as Prometheus metrics, served at /metrics (exporters/http.c).
 * Counters, gauges and classic histograms per engine (vpid) and local port, or per connection
 * with --per-conn (capped). The reading loop feeds tracer/model (queue depth, held bytes, the
 * connection's port, each completion's timing) and adds to rows under a lock; a scrape copies
 * the rows under that lock and formats the copy on the HTTP thread, so the reading loop waits
 * at most for a copy. Enum names come from the model's name functions (offrx_names.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "model.h"

/* Histogram buckets for 10 us .. 10 s: the upper bound in ns and as the le label. */
/* clang-format off */
#define MET_BUCKETS(FN)						\
	FN(10000ull, "0.00001")	FN(25000ull, "0.000025")	FN(50000ull, "0.00005")	\
	FN(100000ull, "0.0001")	FN(250000ull, "0.00025")	FN(500000ull, "0.0005")	\
	FN(1000000ull, "0.001")	FN(2500000ull, "0.0025")	FN(5000000ull, "0.005")	\
	FN(10000000ull, "0.01")	FN(25000000ull, "0.025")	FN(50000000ull, "0.05")	\
	FN(100000000ull, "0.1")	FN(250000000ull, "0.25")	FN(500000000ull, "0.5")	\
	FN(1000000000ull, "1.0") FN(2500000000ull, "2.5")	FN(5000000000ull, "5.0")	\
	FN(10000000000ull, "10.0")
/* clang-format on */
#define MET_B_NS_(ns, le) ns,
#define MET_B_LE_(ns, le) le,
static const uint64_t bucket_ns[] = { MET_BUCKETS(MET_B_NS_) };
static const char *const bucket_le[] = { MET_BUCKETS(MET_B_LE_) };
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

/* Completion statuses by index (value - the smallest), the last index for values the table
 * lacks; drop reasons by value, 0 for values the table lacks. */
#define STATUS_MIN OFFRX_NAMES_MIN(OFFRX_STATUS_LIST)
#define NSTATUS	   (OFFRX_NAMES_MAX(OFFRX_STATUS_LIST) - STATUS_MIN + 2)
#define NDROP	   (OFFRX_NAMES_MAX(OFFRX_DROP_REASON_LIST) + 1)

#define MAX_PORT_ROWS 1024 /* (engine, port) pairs; past that, one "other" row */

enum { LAT_POST, LAT_LAST_FILL, NLAT };

struct mhist {
	uint64_t b[NBUCKETS + 1]; /* per bucket, not cumulative; the last: above 10 s */
	uint64_t count, sum_ns;
};

enum row_kind { ROW_PORT = 1, ROW_CONN, ROW_OVERFLOW };

struct mrow {
	enum row_kind kind;
	uint64_t vpid, conn; /* conn: ROW_CONN only */
	uint16_t port;	     /* 0: tied to no connection, or the port is not known yet */
	bool closed;	     /* ROW_CONN: its connection closed (the row may be folded) */
	uint64_t closed_seq;
	uint64_t completions[OTR_REASONS][NSTATUS];
	uint64_t bytes, expiries, drops[NDROP];
	int64_t open, posted, held; /* gauges: the sums of the connections' contributions */
	struct mhist lat[NLAT][OTR_REASONS];
};

/* One receive queue of an engine: its socket's counters and thread CPU time from its last
 * xsk_stats, and (as of then) its connections from the model. */
struct mqueue {
	uint64_t vpid;
	uint32_t queue;
	bool has_cpu;
	uint64_t rx_frames, rx_dropped, rx_ring_full, fill_ring_empty, cpu_ns;
	uint64_t completed;
	int64_t open;
};

/* What the HTTP thread reads besides the rows. */
struct mglobal {
	struct mqueue q[OTR_QUEUES_MAX]; /* by engine, then queue */
	uint32_t nq;
	uint64_t events, discarded, lost_packets, conn_overflow, port_overflow;
	int64_t last_ns; /* the last event's time (Unix ns for LTTng traces); 0 before any */
	bool done;	 /* the input ended: the values are final */
};

/* A connection the reading loop follows: its row and what it adds to the row's gauges. */
struct mconn {
	struct conn_key k;
	uint32_t row;
	uint16_t port;
	int64_t open, posted, held;
};

struct metrics {
	struct otr_model *m;
	struct oex_ctab conns; /* struct mconn, open connections */
	unsigned per_conn;     /* 0: rows per (vpid, port) */
	uint64_t close_seq;
	uint32_t last_drop_row; /* a cache for drops tied to no connection */

	pthread_mutex_t lock; /* guards rows, nrows and g against the HTTP thread */
	struct mrow *rows;    /* cap rows, never moved: indexes stay valid */
	uint32_t nrows, cap;
	struct mglobal g;

	struct oex_http *http;
};

/* --- rows (the reading loop, under the lock) -------------------------------------------------- */

static uint32_t new_row(struct metrics *s, enum row_kind kind, uint64_t vpid, uint16_t port,
			uint64_t conn)
{
	struct mrow *r = &s->rows[s->nrows];

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->vpid = vpid;
	r->port = port;
	r->conn = conn;
	return s->nrows++;
}

static uint32_t nports(const struct metrics *s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->nrows; i++)
		n += s->rows[i].kind == ROW_PORT;
	return n;
}

/* The (vpid, port) row, made if needed; past MAX_PORT_ROWS the overflow row. */
static uint32_t port_row(struct metrics *s, uint64_t vpid, uint16_t port)
{
	uint32_t over = UINT32_MAX;

	for (uint32_t i = 0; i < s->nrows; i++) {
		const struct mrow *r = &s->rows[i];
		if (r->kind == ROW_PORT && r->vpid == vpid && r->port == port)
			return i;
		if (r->kind == ROW_OVERFLOW)
			over = i;
	}
	if (nports(s) < MAX_PORT_ROWS)
		return new_row(s, ROW_PORT, vpid, port, 0);
	s->g.port_overflow++;
	return over != UINT32_MAX ? over : new_row(s, ROW_OVERFLOW, 0, 0, 0);
}

static void hist_add(struct mhist *d, const struct mhist *a)
{
	for (size_t i = 0; i <= NBUCKETS; i++)
		d->b[i] += a->b[i];
	d->count += a->count;
	d->sum_ns += a->sum_ns;
}

/* A closed connection's counters into its port's row (conn="other"), to reuse its slot. */
static void fold(struct metrics *s, uint32_t i)
{
	struct mrow *r = &s->rows[i];
	struct mrow *p = &s->rows[port_row(s, r->vpid, r->port)];

	for (int a = 0; a < OTR_REASONS; a++)
		for (int b = 0; b < NSTATUS; b++)
			p->completions[a][b] += r->completions[a][b];
	for (int d = 0; d < NDROP; d++)
		p->drops[d] += r->drops[d];
	p->bytes += r->bytes;
	p->expiries += r->expiries;
	for (int l = 0; l < NLAT; l++)
		for (int a = 0; a < OTR_REASONS; a++)
			hist_add(&p->lat[l][a], &r->lat[l][a]);
}

/* A row of its own for a new connection (--per-conn): a new one while under the cap, else the
 * row of the connection that closed first, folded into its port's row first; else (all open)
 * its port's row. */
static uint32_t conn_row(struct metrics *s, uint64_t vpid, uint16_t port, uint64_t conn)
{
	uint32_t n = 0, oldest = UINT32_MAX;

	for (uint32_t i = 0; i < s->nrows; i++) {
		const struct mrow *r = &s->rows[i];
		if (r->kind != ROW_CONN)
			continue;
		n++;
		if (r->closed &&
		    (oldest == UINT32_MAX || r->closed_seq < s->rows[oldest].closed_seq))
			oldest = i;
	}
	if (n < s->per_conn)
		return new_row(s, ROW_CONN, vpid, port, conn); /* cap leaves room for it */
	if (oldest != UINT32_MAX) {
		struct mrow *r = &s->rows[oldest];
		fold(s, oldest);
		memset(r, 0, sizeof(*r));
		r->kind = ROW_CONN;
		r->vpid = vpid;
		r->port = port;
		r->conn = conn;
		return oldest;
	}
	s->g.conn_overflow++;
	return port_row(s, vpid, port);
}

/* The local port of a connection: from its conn_open (the main loop keeps it even from
 * before --from), or from the model (a conn_state names it when attached late). 0: unknown. */
static uint16_t port_of(const struct oex_run *run, const struct otr_conn *c, uint64_t vpid,
			uint64_t conn)
{
	const struct oex_conninfo *ci = oex_conninfo(run, vpid, conn);

	if (ci && ci->local_port)
		return ci->local_port;
	return c ? c->local_port : 0;
}

static void contribute(struct mrow *r, const struct mconn *t, int sign)
{
	r->open += sign * t->open;
	r->posted += sign * t->posted;
	r->held += sign * t->held;
}

/* The connection's record, made (with its row) when first seen. NULL: out of memory. */
static struct mconn *track(struct metrics *s, const struct oex_run *run, const struct otr_conn *c,
			   uint64_t vpid, uint64_t conn)
{
	struct mconn *t = oex_ctab_get(&s->conns, vpid, conn);
	uint16_t port = port_of(run, c, vpid, conn);

	if (!t) {
		if (!(t = oex_ctab_add(&s->conns, vpid, conn)))
			return NULL;
		t->port = port;
		t->row = s->per_conn ? conn_row(s, vpid, port, conn) : port_row(s, vpid, port);
	} else if (!t->port && port) {
		/* The port became known (a conn_state after a late attach): from now on the
		 * connection counts under it. */
		struct mrow *r = &s->rows[t->row];
		t->port = port;
		if (r->kind == ROW_CONN) {
			r->port = port;
		} else {
			contribute(r, t, -1);
			t->row = port_row(s, vpid, port);
			contribute(&s->rows[t->row], t, 1);
		}
	}
	return t;
}

static void hist_record(struct mhist *h, uint64_t ns)
{
	size_t i = 0;

	while (i < NBUCKETS && ns > bucket_ns[i])
		i++;
	h->b[i]++;
	h->count++;
	h->sum_ns += ns;
}

static int status_index(int status)
{
	if (status >= STATUS_MIN && status - STATUS_MIN < NSTATUS - 1 &&
	    strcmp(otr_status_name(status), "?"))
		return status - STATUS_MIN;
	return NSTATUS - 1;
}

static int drop_index(int reason)
{
	return reason > 0 && reason < NDROP && strcmp(otr_drop_reason_name(reason), "?") ? reason
											 : 0;
}

static void on_complete(struct mrow *r, const struct otr_conn *c, const struct otr_event *ev)
{
	int reason = ev->u.complete.reason;
	int ri = reason > 0 && reason < OTR_REASONS ? reason : 0;
	const struct otr_completion *e = c ? otr_conn_recent(c, 0) : NULL;

	r->completions[ri][status_index(ev->u.complete.status)]++;
	r->bytes += ev->u.complete.bytes;
	if (!e || e->req != ev->req || e->ts_ns != ev->ts_ns)
		return; /* the model could not keep it (out of memory) */
	hist_record(&r->lat[LAT_POST][ri], e->post_ns);
	if (e->last_fill_ns >= 0)
		hist_record(&r->lat[LAT_LAST_FILL][ri], (uint64_t)e->last_fill_ns);
}

/* A connection's event: the counters, then its contribution to the gauges as the model now
 * sees it. */
static int conn_event(struct metrics *s, const struct oex_run *run, const struct otr_event *ev)
{
	const struct otr_conn *c = otr_model_conn(s->m, ev->vpid, ev->conn);
	struct mconn *t = oex_ctab_get(&s->conns, ev->vpid, ev->conn);
	struct mrow *r;

	/* A connection the model does not follow (a return after its close) and the close of
	 * one never seen: nothing to count. */
	if (!t && (!c || ev->kind == OTR_CONN_CLOSE))
		return 0;
	if (!(t = track(s, run, c, ev->vpid, ev->conn)))
		return -ENOMEM;
	r = &s->rows[t->row];
	switch (ev->kind) {
	case OTR_COMPLETE:
		on_complete(r, c, ev);
		break;
	case OTR_TIMER_EXPIRE:
		r->expiries++;
		break;
	case OTR_DROP:
		r->drops[drop_index(ev->u.drop.reason)]++;
		break;
	default:
		break;
	}
	contribute(r, t, -1);
	if (ev->kind == OTR_CONN_CLOSE || !c || c->state == OTR_CS_CLOSED) {
		if (r->kind == ROW_CONN) {
			r->closed = true;
			r->closed_seq = ++s->close_seq;
		}
		oex_ctab_del(&s->conns, t);
		return 0;
	}
	t->open = 1;
	t->posted = c->depth;
	t->held = (int64_t)c->held_bytes;
	contribute(r, t, 1);
	return 0;
}

/* At an xsk_stats (every 500 ms per queue): the queues from the model, under the lock. */
static void queues_update(struct metrics *s)
{
	struct otr_queue q[OTR_QUEUES_MAX];
	size_t n = otr_model_queues(s->m, OTR_TS_NONE, q, OTR_QUEUES_MAX);

	s->g.nq = 0;
	for (size_t i = 0; i < n && i < OTR_QUEUES_MAX; i++) {
		if (!q[i].has_xsk)
			continue; /* a queue is shown once its own counters are known */
		s->g.q[s->g.nq++] = (struct mqueue){
			.vpid = q[i].vpid,
			.queue = q[i].queue,
			.has_cpu = q[i].thread_cpu_ns != 0,
			.rx_frames = q[i].rx_frames,
			.rx_dropped = q[i].rx_dropped,
			.rx_ring_full = q[i].rx_ring_full,
			.fill_ring_empty = q[i].fill_ring_empty,
			.cpu_ns = q[i].thread_cpu_ns,
			.completed = q[i].completed,
			.open = (int64_t)q[i].conns_open,
		};
	}
}

static int metrics_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct metrics *s = w->priv;
	int ret = otr_model_feed(s->m, ev);
	uint16_t port;

	pthread_mutex_lock(&s->lock);
	s->g.events += !ev->derived; /* the trace's, not those event set 3 derives */
	if (ev->ts_ns > s->g.last_ns)
		s->g.last_ns = ev->ts_ns;
	switch (ev->kind) {
	case OTR_DISCARDED:
		s->g.discarded += ev->u.discarded.count;
		s->g.lost_packets += ev->u.discarded.packets;
		break;
	case OTR_XSK_STATS:
		queues_update(s);
		break;
	case OTR_SOURCE:
	case OTR_UNKNOWN:
		break;
	case OTR_DROP:
		if (ev->conn && oex_ctab_get(&s->conns, ev->vpid, ev->conn)) {
			ret |= conn_event(s, w->run, ev);
			break;
		}
		/* Tied to no connection we follow: its port's row if the main loop knows the
		 * connection, else the engine's row for port "" (most often: a cache). */
		port = ev->conn ? port_of(w->run, NULL, ev->vpid, ev->conn) : 0;
		if (s->last_drop_row >= s->nrows || s->rows[s->last_drop_row].vpid != ev->vpid ||
		    s->rows[s->last_drop_row].port != port ||
		    s->rows[s->last_drop_row].kind != ROW_PORT)
			s->last_drop_row = port_row(s, ev->vpid, port);
		s->rows[s->last_drop_row].drops[drop_index(ev->u.drop.reason)]++;
		break;
	default:
		if (ev->conn)
			ret |= conn_event(s, w->run, ev);
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret ? -ENOMEM : 0;
}

/* --- the exposition (the HTTP thread, on a copy) --------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f), fputc(*v, f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_label(FILE *f, const char *name, const char *v, bool comma)
{
	if (comma)
		fputc(',', f);
	fprintf(f, "%s=\"", name);
	put_label_value(f, v);
	fputc('"', f);
}

/* A row's own labels: vpid, port and, with --per-conn, conn. */
static void put_row_labels(FILE *f, const struct mrow *r, bool per_conn)
{
	char v[32];

	if (r->kind == ROW_OVERFLOW) {
		put_label(f, "vpid", "other", false);
		put_label(f, "port", "other", true);
	} else {
		snprintf(v, sizeof(v), "%" PRIu64, r->vpid);
		put_label(f, "vpid", v, false);
		if (r->port)
			snprintf(v, sizeof(v), "%u", r->port);
		else
			v[0] = '\0';
		put_label(f, "port", v, true);
	}
	if (per_conn) {
		if (r->kind == ROW_CONN)
			snprintf(v, sizeof(v), "%" PRIu64, r->conn);
		else
			snprintf(v, sizeof(v), "other");
		put_label(f, "conn", v, true);
	}
}

/* HELP and TYPE. A counter's family is named without _total in OpenMetrics, with it in the
 * Prometheus text format. */
static void family(FILE *f, bool om, const char *name, const char *type, const char *help)
{
	bool counter = !strcmp(type, "counter");

	fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, counter && !om ? "_total" : "", help,
		name, counter && !om ? "_total" : "", type);
}

static void put_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static const char *reason_name(int ri)
{
	return ri ? otr_complete_reason_name(ri) : "other";
}

static void put_hists(FILE *f, bool om, bool per_conn, const struct mrow *rows, uint32_t n, int lat,
		      const char *name, const char *help)
{
	family(f, om, name, "histogram", help);
	for (uint32_t i = 0; i < n; i++) {
		for (int ri = 0; ri < OTR_REASONS; ri++) {
			const struct mhist *h = &rows[i].lat[lat][ri];
			uint64_t cum = 0;
			if (!h->count)
				continue;
			for (size_t b = 0; b <= NBUCKETS; b++) {
				cum += h->b[b];
				fprintf(f, "%s_bucket{", name);
				put_row_labels(f, &rows[i], per_conn);
				put_label(f, "reason", reason_name(ri), true);
				put_label(f, "le", b < NBUCKETS ? bucket_le[b] : "+Inf", true);
				fprintf(f, "} %" PRIu64 "\n", cum);
			}
			fprintf(f, "%s_count{", name);
			put_row_labels(f, &rows[i], per_conn);
			put_label(f, "reason", reason_name(ri), true);
			fprintf(f, "} %" PRIu64 "\n%s_sum{", h->count, name);
			put_row_labels(f, &rows[i], per_conn);
			put_label(f, "reason", reason_name(ri), true);
			fputs("} ", f);
			put_seconds(f, h->sum_ns);
			fputc('\n', f);
		}
	}
}

/* One value per row: a counter (uint64_t) or a gauge (int64_t) at offset off of struct mrow. */
static void put_per_row(FILE *f, bool om, bool per_conn, const struct mrow *rows, uint32_t n,
			const char *name, const char *type, const char *help, size_t off)
{
	bool counter = !strcmp(type, "counter");

	family(f, om, name, type, help);
	for (uint32_t i = 0; i < n; i++) {
		const char *p = (const char *)&rows[i] + off;
		fprintf(f, "%s%s{", name, counter ? "_total" : "");
		put_row_labels(f, &rows[i], per_conn);
		if (counter)
			fprintf(f, "} %" PRIu64 "\n", *(const uint64_t *)(const void *)p);
		else
			fprintf(f, "} %" PRId64 "\n", *(const int64_t *)(const void *)p);
	}
}

static void put_global(FILE *f, bool om, const char *name, const char *type, const char *help,
		       uint64_t v)
{
	family(f, om, name, type, help);
	fprintf(f, "%s%s %" PRIu64 "\n", name, strcmp(type, "counter") ? "" : "_total", v);
}

/* One family of per-queue series (labels vpid and queue); cpu: the thread CPU time, in
 * seconds, of the queues that report it. */
static void put_per_queue(FILE *f, bool om, const struct mglobal *g, const char *name,
			  const char *type, const char *help, size_t off, bool cpu)
{
	bool counter = !strcmp(type, "counter");

	family(f, om, name, type, help);
	for (uint32_t i = 0; i < g->nq; i++) {
		const struct mqueue *q = &g->q[i];
		if (cpu && !q->has_cpu)
			continue;
		fprintf(f, "%s%s{vpid=\"%" PRIu64 "\",queue=\"%" PRIu32 "\"} ", name,
			counter ? "_total" : "", q->vpid, q->queue);
		if (cpu)
			put_seconds(f, q->cpu_ns);
		else if (counter)
			fprintf(f, "%" PRIu64, *(const uint64_t *)((const char *)q + off));
		else
			fprintf(f, "%" PRId64, *(const int64_t *)((const char *)q + off));
		fputc('\n', f);
	}
}

static void render_queues(FILE *f, bool om, const struct mglobal *g)
{
	put_per_queue(f, om, g, "offrx_queue_rx_frames", "counter",
		      "Frames the receive queue's AF_XDP socket received (its last xsk_stats).",
		      offsetof(struct mqueue, rx_frames), false);
	put_per_queue(f, om, g, "offrx_queue_rx_dropped", "counter",
		      "Frames the receive queue's socket dropped (XDP_STATISTICS rx_dropped).",
		      offsetof(struct mqueue, rx_dropped), false);
	put_per_queue(f, om, g, "offrx_queue_rx_ring_full", "counter",
		      "Frames dropped because the receive queue's RX ring was full.",
		      offsetof(struct mqueue, rx_ring_full), false);
	put_per_queue(f, om, g, "offrx_queue_fill_ring_empty", "counter",
		      "Times the kernel found the receive queue's fill ring empty.",
		      offsetof(struct mqueue, fill_ring_empty), false);
	put_per_queue(f, om, g, "offrx_queue_thread_cpu_seconds", "counter",
		      "CPU time of the engine thread running the receive queue (its rate is the "
		      "thread's CPU share); absent for engines before queues.",
		      0, true);
	put_per_queue(f, om, g, "offrx_queue_completions", "counter",
		      "Requests completed on the receive queue's connections (as of its last "
		      "xsk_stats).",
		      offsetof(struct mqueue, completed), false);
	put_per_queue(f, om, g, "offrx_queue_open_connections", "gauge",
		      "Connections open on the receive queue (as of its last xsk_stats).",
		      offsetof(struct mqueue, open), false);
}

static void render_text(FILE *f, bool om, bool per_conn, const struct mrow *rows, uint32_t n,
			const struct mglobal *g)
{
	int success = status_index(0);

	family(f, om, "offrx_completions", "counter",
	       "Requests completed, by completion reason and status.");
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 1; k <= OTR_REASONS; k++) {
			int ri = k % OTR_REASONS; /* the named reasons, then "other" */
			for (int si = 0; si < NSTATUS; si++) {
				uint64_t v = rows[i].completions[ri][si];
				/* Each named reason's SUCCESS is always there, so that rates and
				 * shares have a series from the first scrape. */
				if (!v && (!ri || si != success))
					continue;
				fputs("offrx_completions_total{", f);
				put_row_labels(f, &rows[i], per_conn);
				put_label(f, "reason", reason_name(ri), true);
				put_label(f, "status",
					  si < NSTATUS - 1 ? otr_status_name(si + STATUS_MIN)
							   : "other",
					  true);
				fprintf(f, "} %" PRIu64 "\n", v);
			}
		}
	}
	put_per_row(f, om, per_conn, rows, n, "offrx_completed_bytes", "counter",
		    "Bytes of the completed requests (prefilled bytes too).",
		    offsetof(struct mrow, bytes));
	put_per_row(f, om, per_conn, rows, n, "offrx_push_timer_expiries", "counter",
		    "Push timer expiries.", offsetof(struct mrow, expiries));

	family(f, om, "offrx_drops", "counter",
	       "Frames or segments the engine dropped, by reason (port is empty for drops tied "
	       "to no connection).");
	for (uint32_t i = 0; i < n; i++) {
		for (int d = 0; d < NDROP; d++) {
			if (!rows[i].drops[d])
				continue;
			fputs("offrx_drops_total{", f);
			put_row_labels(f, &rows[i], per_conn);
			put_label(f, "reason", d ? otr_drop_reason_name(d) : "other", true);
			fprintf(f, "} %" PRIu64 "\n", rows[i].drops[d]);
		}
	}

	put_per_row(f, om, per_conn, rows, n, "offrx_open_connections", "gauge",
		    "Connections open now (disconnected but not yet closed ones too).",
		    offsetof(struct mrow, open));
	put_per_row(f, om, per_conn, rows, n, "offrx_posted_requests", "gauge",
		    "Requests posted and not completed yet.", offsetof(struct mrow, posted));
	put_per_row(f, om, per_conn, rows, n, "offrx_held_bytes", "gauge",
		    "Bytes the engine holds for the connections, as of their last conn_state "
		    "snapshot.",
		    offsetof(struct mrow, held));

	render_queues(f, om, g);
	put_hists(f, om, per_conn, rows, n, LAT_POST, "offrx_post_to_complete_seconds",
		  "Time from a request's post to its completion, by completion reason.");
	put_hists(f, om, per_conn, rows, n, LAT_LAST_FILL, "offrx_last_fill_to_complete_seconds",
		  "Time from the last bytes placed in a request to its completion (the wait for "
		  "a push), by completion reason; requests completed empty are not counted.");

	put_global(f, om, "offrx_trace_discarded_events", "counter",
		   "Events the tracer discarded (its buffers were full): the metrics miss them.",
		   g->discarded);
	put_global(f, om, "offrx_trace_lost_packets", "counter",
		   "Trace packets lost (the metrics miss their events).", g->lost_packets);
	put_global(f, om, "offrx_export_events", "counter", "Trace events read and counted.",
		   g->events);
	put_global(f, om, "offrx_export_per_conn_overflow", "counter",
		   "Connections counted under conn=\"other\": --per-conn's cap was reached and "
		   "no closed connection's series could make room.",
		   g->conn_overflow);
	put_global(f, om, "offrx_export_port_overflow", "counter",
		   "Connections counted under vpid=\"other\": more (engine, port) pairs than "
		   "offrx-export keeps.",
		   g->port_overflow);
	put_global(f, om, "offrx_export_input_done", "gauge",
		   "1 once the input ended (an offline trace read, a live session destroyed): the "
		   "values are final.",
		   g->done);
	family(f, om, "offrx_export_last_event_timestamp_seconds", "gauge",
	       "Time of the last event read (Unix time for LTTng traces; 0 before any).");
	fputs("offrx_export_last_event_timestamp_seconds ", f);
	put_seconds(f, g->last_ns > 0 ? (uint64_t)g->last_ns : 0);
	fputc('\n', f);
	if (om)
		fputs("# EOF\n", f);
}

/* The HTTP thread's callback: a copy of the rows under the lock, the text from the copy. */
static int metrics_render(void *arg, bool om, char **text, size_t *len)
{
	struct metrics *s = arg;
	struct mrow *rows = NULL;
	struct mglobal g;
	uint32_t n;
	FILE *f;

	pthread_mutex_lock(&s->lock);
	n = s->nrows;
	rows = malloc((n ? n : 1) * sizeof(*rows));
	if (rows)
		memcpy(rows, s->rows, n * sizeof(*rows));
	g = s->g;
	pthread_mutex_unlock(&s->lock);
	if (!rows)
		return -ENOMEM;

	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (!f) {
		free(rows);
		return -ENOMEM;
	}
	render_text(f, om, s->per_conn != 0, rows, n, &g);
	free(rows);
	if (fclose(f) || !*text) {
		free(*text);
		return -ENOMEM;
	}
	return 0;
}

/* --- the writer ------------------------------------------------------------------------------- */

static int metrics_begin(struct oex_writer *w)
{
	(void)w;
	return 0;
}

static int metrics_end(struct oex_writer *w)
{
	struct metrics *s = w->priv;

	pthread_mutex_lock(&s->lock);
	s->g.done = true;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void metrics_free(struct oex_writer *w)
{
	struct metrics *s = w->priv;

	if (!s)
		return;
	oex_http_stop(s->http); /* first: its thread reads the rows */
	otr_model_free(s->m);
	oex_ctab_fini(&s->conns, NULL);
	pthread_mutex_destroy(&s->lock);
	free(s->rows);
	free(s);
	w->priv = NULL;
}

static const struct oex_writer_ops metrics_ops = {
	.name = "metrics",
	.begin = metrics_begin,
	.event = metrics_event,
	.end = metrics_end,
	.free = metrics_free,
};

int oex_metrics_new(struct oex_writer *w, const char *listen, unsigned per_conn, char *err,
		    size_t errlen)
{
	/* The rows keep the counts: the model needs no closed connection, and one completion
	 * per connection (the one just fed) for its timing. */
	struct otr_model_opts mo = { .sz = sizeof(mo), .max_closed = 16, .recent = 1 };
	struct metrics *s = calloc(1, sizeof(*s));

	if (!s)
		goto nomem;
	w->ops = &metrics_ops;
	w->priv = s;
	pthread_mutex_init(&s->lock, NULL);
	oex_ctab_init(&s->conns, sizeof(struct mconn));
	s->per_conn = per_conn;
	s->cap = MAX_PORT_ROWS + 1 + per_conn;
	s->rows = calloc(s->cap, sizeof(*s->rows)); /* untouched pages cost nothing */
	s->m = otr_model_new(&mo);
	if (!s->rows || !s->m)
		goto nomem;
	s->http = oex_http_start(listen, metrics_render, s, err, errlen);
	if (!s->http) {
		metrics_free(w);
		return -EINVAL;
	}
	fprintf(stderr, "offrx-export: serving metrics at http://%s/metrics\n",
		oex_http_where(s->http));
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	metrics_free(w);
	return -ENOMEM;
}
