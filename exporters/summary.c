/* --format summary and --format csv: per-connection counts and latencies, computed by
 * tracer/model. A connection's row is written when it closes (the model may then forget it,
 * so memory stays flat over many connections), the open ones at the end, then the trace's
 * totals: {"schema":"offrx-summary/1","connections":[...],"trace":{...},"complete":...}. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "model.h"

/* The connections written, grouped by receive queue (queue -1: not known). */
struct squeue {
	uint64_t vpid;
	int32_t queue;
	uint64_t completed, bytes;
	uint64_t *ids;
	size_t n, cap;
};

struct summary {
	struct otr_model *m;
	bool csv, first;
	uint64_t rows;
	struct squeue *q;
	size_t nq, qcap;
};

/* The CSV header: the complete reasons' columns are named by offrx_names.h, in value order. */
#define CSV_REASON_(id, name, v) name ","
/* clang-format off */
static const char csv_header[] =
	"vpid,id,local,remote,state,close_reason,posted,completed,outstanding,bytes,"
	OFFRX_COMPLETE_REASON_LIST(CSV_REASON_) "other,"
	"post_to_complete_p50_us,post_to_complete_p90_us,post_to_complete_p99_us,"
	"post_to_complete_max_us,last_fill_to_complete_p50_us,last_fill_to_complete_p90_us,"
	"last_fill_to_complete_p99_us,last_fill_to_complete_max_us,push_timer_expiries,"
	"push_timer_wait_us_total,push_timer_share_of_completions,queue\n";
/* clang-format on */
_Static_assert(
	OFFRX_NAMES_COUNT(OFFRX_COMPLETE_REASON_LIST) == OTR_REASONS - 1,
	"the CSV has a column for each value 1 .. OTR_REASONS - 1: the complete reasons must "
	"be 1, 2, ... with no gap, in value order");

struct lat {
	uint64_t count;
	double p[3], max; /* p50 p90 p99, microseconds */
};

static void lat_of(const struct otr_hist *h, struct lat *l)
{
	static const double ps[3] = { 50, 90, 99 };
	uint64_t v[3];

	l->count = otr_hist_count(h);
	otr_hist_percentiles(h, ps, v, 3);
	for (int i = 0; i < 3; i++)
		l->p[i] = (double)v[i] / 1e3;
	l->max = (double)otr_hist_max(h) / 1e3;
}

static json_t *lat_json(const struct lat *l)
{
	if (!l->count)
		return json_pack("{s:I,s:n,s:n,s:n,s:n}", "count", (json_int_t)0, "p50", "p90",
				 "p99", "max");
	return json_pack("{s:I,s:f,s:f,s:f,s:f}", "count", (json_int_t)l->count, "p50", l->p[0],
			 "p90", l->p[1], "p99", l->p[2], "max", l->max);
}

/* The wait for the push timer: last fill -> completion of the push_timer completions. The
 * histogram's mean is exact, so mean x count is the sum. */
static double pt_wait_us(const struct otr_conn *c)
{
	const struct otr_hist *h = c->hist[OTR_LAT_LAST_FILL][OTR_HC_PUSH_TIMER];

	return round(otr_hist_mean(h) * (double)otr_hist_count(h)) / 1e3;
}

static void endpoints(const struct oex_run *run, const struct otr_conn *c, char *l, char *r,
		      size_t len)
{
	const struct oex_conninfo *ci = oex_conninfo(run, c->vpid, c->id);

	if (strcmp(c->local_addr, "?") || !ci) {
		oex_fmt_endpoint(l, len, c->local_addr, c->local_port);
		oex_fmt_endpoint(r, len, c->remote_addr, c->remote_port);
	} else {
		/* conn_open was before --from: the main loop remembers it. */
		oex_fmt_endpoint(l, len, ci->local_addr, ci->local_port);
		oex_fmt_endpoint(r, len, ci->remote_addr, ci->remote_port);
	}
}

static void csv_lat(struct jw_out *o, const struct lat *l)
{
	for (int i = 0; i < 4; i++) {
		if (l->count)
			jw_put_double(o, i < 3 ? l->p[i] : l->max, 3);
		jw_putc(o, ',');
	}
}

/* Count c in its queue's group. */
static int group(struct summary *s, const struct otr_conn *c)
{
	struct squeue *g = NULL;
	for (size_t i = 0; i < s->nq && !g; i++)
		if (s->q[i].vpid == c->vpid && s->q[i].queue == c->queue)
			g = &s->q[i];
	if (!g) {
		if (s->nq == s->qcap) {
			size_t cap = s->qcap ? 2 * s->qcap : 8;
			struct squeue *q = realloc(s->q, cap * sizeof(*q));
			if (!q)
				return -ENOMEM;
			s->q = q;
			s->qcap = cap;
		}
		g = &s->q[s->nq++];
		*g = (struct squeue){ .vpid = c->vpid, .queue = c->queue };
	}
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		uint64_t *ids = realloc(g->ids, cap * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		g->ids = ids;
		g->cap = cap;
	}
	g->ids[g->n++] = c->id;
	g->completed += c->completed;
	g->bytes += c->bytes_completed;
	return 0;
}

static int row(struct oex_writer *w, const struct otr_conn *c)
{
	struct summary *s = w->priv;
	struct jw_out *o = w->run->out;
	char l[80], r[80];
	struct lat post, last;
	double share = c->completed
			       ? (double)c->completed_by[OTR_CR_PUSH_TIMER] / (double)c->completed
			       : 0.0;
	const char *close = c->state == OTR_CS_CLOSED ? otr_close_reason_name(c->close_reason)
			    : c->state == OTR_CS_DISCONNECTED
				    ? otr_close_reason_name(c->disc_reason)
				    : "";
	json_t *j, *by, *lat;
	int ret = 0;

	endpoints(w->run, c, l, r, sizeof(l));
	if (group(s, c))
		return -ENOMEM;
	lat_of(c->hist[OTR_LAT_POST][OTR_HC_ALL], &post);
	lat_of(c->hist[OTR_LAT_LAST_FILL][OTR_HC_ALL], &last);
	s->rows++;
	if (s->csv) {
		jw_put_u64(o, c->vpid);
		jw_putc(o, ',');
		jw_put_u64(o, c->id);
		jw_putc(o, ',');
		jw_puts(o, l);
		jw_putc(o, ',');
		jw_puts(o, r);
		jw_putc(o, ',');
		jw_puts(o, otr_conn_state_name(c->state));
		jw_putc(o, ',');
		jw_puts(o, close);
		jw_putc(o, ',');
		jw_put_u64(o, c->posted);
		jw_putc(o, ',');
		jw_put_u64(o, c->completed);
		jw_putc(o, ',');
		jw_put_u64(o, c->depth);
		jw_putc(o, ',');
		jw_put_u64(o, c->bytes_completed);
		jw_putc(o, ',');
		for (int i = 1; i < OTR_REASONS; i++) {
			jw_put_u64(o, c->completed_by[i]);
			jw_putc(o, ',');
		}
		jw_put_u64(o, c->completed_by[0]);
		jw_putc(o, ',');
		csv_lat(o, &post);
		csv_lat(o, &last);
		jw_put_u64(o, c->timer_expiries);
		jw_putc(o, ',');
		jw_put_double(o, pt_wait_us(c), 3);
		jw_putc(o, ',');
		jw_put_double(o, share, 6);
		jw_putc(o, ',');
		if (c->queue >= 0)
			jw_put_u64(o, (uint64_t)c->queue);
		jw_putc(o, '\n');
		return 0;
	}

	by = json_object();
	for (int i = 1; i < OTR_REASONS; i++)
		json_object_set_new(by, otr_complete_reason_name(i),
				    json_integer((json_int_t)c->completed_by[i]));
	json_object_set_new(by, "other", json_integer((json_int_t)c->completed_by[0]));
	lat = json_pack("{s:o,s:o}", "post_to_complete", lat_json(&post), "last_fill_to_complete",
			lat_json(&last));
	j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "id",
		      (json_int_t)c->id, "vpid", (json_int_t)c->vpid, "local", l, "remote", r,
		      "state", otr_conn_state_name(c->state), "close_reason", close, "posted",
		      (json_int_t)c->posted, "completed", (json_int_t)c->completed, "outstanding",
		      (json_int_t)c->depth, "bytes", (json_int_t)c->bytes_completed, "bytes_placed",
		      (json_int_t)c->bytes_placed, "completed_by", by, "latency_us", lat);
	if (!j)
		return -ENOMEM;
	json_object_set_new(j, "queue", c->queue >= 0 ? json_integer(c->queue) : json_null());
	json_object_set_new(
		j, "push_timer",
		json_pack("{s:I,s:I,s:I,s:I,s:f,s:f}", "starts", (json_int_t)c->timer_starts,
			  "restarts", (json_int_t)c->timer_restarts, "cancels",
			  (json_int_t)c->timer_cancels, "expiries", (json_int_t)c->timer_expiries,
			  "wait_us_total", pt_wait_us(c), "share_of_completions", share));
	json_object_set_new(j, "calls",
			    json_pack("{s:I,s:I,s:I,s:I,s:I}", "complete_calls",
				      (json_int_t)c->complete_calls, "max_batch",
				      (json_int_t)c->max_batch, "indications",
				      (json_int_t)c->indications, "indicated_bytes",
				      (json_int_t)c->indicated_bytes, "returned_bufs",
				      (json_int_t)c->returned_bufs));
	/* What the model could not vouch for: attached late, events lost, unknown requests. */
	json_object_set_new(j, "trust",
			    json_pack("{s:b,s:b,s:I,s:I,s:I}", "seen_from_open",
				      c->open_ns != OTR_TS_NONE, "suspect", c->suspect,
				      "suspect_completions", (json_int_t)c->suspect_completions,
				      "unknown_requests", (json_int_t)c->unknown, "resyncs",
				      (json_int_t)c->resyncs));
	if (!s->first)
		jw_lit(o, ",\n");
	s->first = false;
	if (oex_put_json(o, j))
		ret = -ENOMEM;
	json_decref(j);
	return ret;
}

static int summary_begin(struct oex_writer *w)
{
	struct summary *s = w->priv;
	struct jw_out *o = w->run->out;

	s->first = true;
	if (s->csv) {
		jw_puts(o, csv_header);
		return 0;
	}
	jw_lit(o, "{\"schema\":\"" OEX_SCHEMA_SUMMARY "\",\"producer\":\"offrx-export " OEX_VERSION
		  "\",\"input\":");
	jw_put_str(o, w->run->input);
	jw_lit(o, ",\n\"connections\":[\n");
	return 0;
}

static int summary_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct summary *s = w->priv;
	const struct otr_conn *c;
	int ret = otr_model_feed(s->m, ev);

	if (ret)
		return ret;
	if (ev->kind == OTR_CONN_CLOSE && (c = otr_model_conn(s->m, ev->vpid, ev->conn)) &&
	    c->state == OTR_CS_CLOSED)
		return row(w, c);
	return 0;
}

static json_t *queues_json(struct summary *s);

static int summary_end(struct oex_writer *w)
{
	struct summary *s = w->priv;
	struct oex_run *run = w->run;
	struct jw_out *o = run->out;
	struct otr_model_totals t;
	const struct otr_conn **cs;
	size_t n = otr_model_conns(s->m, NULL, 0);
	json_t *tr, *kinds;
	int ret = 0;

	/* The closed ones were written as they closed. */
	cs = calloc(n ? n : 1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	otr_model_conns(s->m, cs, n);
	for (size_t i = 0; i < n && !ret; i++)
		if (cs[i]->state != OTR_CS_CLOSED)
			ret = row(w, cs[i]);
	free(cs);
	if (s->csv)
		return ret;

	otr_model_totals(s->m, OTR_TS_NONE, &t);
	kinds = json_object();
	for (int k = 1; k < OTR_KIND__COUNT; k++)
		if (run->by_kind[k] && k != OTR_DISCARDED && k != OTR_SOURCE)
			json_object_set_new(kinds, otr_kind_name((enum otr_kind)k),
					    json_integer((json_int_t)run->by_kind[k]));
	tr = json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:f,s:I,s:I,s:I,s:o}", "events",
		       (json_int_t)run->events, "exported_events", (json_int_t)run->exported,
		       "discarded_events", (json_int_t)run->discarded_events, "lost_packets",
		       (json_int_t)run->lost_packets, "start_ns",
		       run->t0_ns == OEX_TS_NONE ? json_null() : json_integer(run->t0_ns), "end_ns",
		       run->t0_ns == OEX_TS_NONE ? json_null() : json_integer(run->last_ns),
		       "duration_s", oex_rel_s(run, run->last_ns), "connections",
		       (json_int_t)s->rows, "completed", (json_int_t)t.completed, "bytes_placed",
		       (json_int_t)t.bytes_placed, "events_by_kind", kinds);
	jw_lit(o, "\n],\n\"queues\":");
	json_t *qs = queues_json(s);
	if (!qs || oex_put_json(o, qs))
		ret = -ENOMEM;
	json_decref(qs);
	jw_lit(o, ",\n\"trace\":");
	if (!tr || oex_put_json(o, tr))
		ret = -ENOMEM;
	json_decref(tr);
	jw_lit(o, ",\n\"complete\":");
	jw_puts(o, oex_complete(run) ? "true" : "false");
	jw_lit(o, ",\"end\":");
	jw_put_str(o, oex_end_name(run->end));
	if (run->end == OEX_END_ERROR) {
		jw_lit(o, ",\"error\":");
		jw_put_str(o, run->error);
	}
	if (run->ndamage) {
		json_t *d = oex_damage_json(run);
		jw_lit(o, ",\"damaged\":");
		if (!d || oex_put_json(o, d))
			ret = -ENOMEM;
		json_decref(d);
	}
	jw_lit(o, "}\n");
	return ret;
}

static int squeue_cmp(const void *a, const void *b)
{
	const struct squeue *x = a, *y = b;
	if (x->vpid != y->vpid)
		return x->vpid < y->vpid ? -1 : 1;
	return (x->queue > y->queue) - (x->queue < y->queue);
}

static json_t *share_json(double v)
{
	return v >= 0 ? json_real(round(v * 1e6) / 1e6) : json_null();
}

/* "queues": the connections by receive queue, each queue's totals, its last xsk_stats and its
 * engine thread's CPU share over the trace. */
static json_t *queues_json(struct summary *s)
{
	struct otr_queue mq[OTR_QUEUES_MAX];
	size_t nm = otr_model_queues(s->m, OTR_TS_NONE, mq, OTR_QUEUES_MAX);
	json_t *a = json_array();

	nm = nm < OTR_QUEUES_MAX ? nm : OTR_QUEUES_MAX;
	if (s->nq) /* no connection: s->q is NULL, which qsort may not take */
		qsort(s->q, s->nq, sizeof(*s->q), squeue_cmp);
	for (size_t i = 0; a && i < s->nq; i++) {
		const struct squeue *g = &s->q[i];
		const struct otr_queue *q = NULL;
		for (size_t k = 0; k < nm && !q && g->queue >= 0; k++)
			if (mq[k].vpid == g->vpid && mq[k].queue == (uint32_t)g->queue)
				q = &mq[k];
		json_t *ids = json_array();
		for (size_t k = 0; ids && k < g->n; k++)
			json_array_append_new(ids, json_integer((json_int_t)g->ids[k]));
		json_t *e = json_pack("{s:I,s:o,s:I,s:o,s:I,s:I}", "vpid", (json_int_t)g->vpid,
				      "queue", g->queue >= 0 ? json_integer(g->queue) : json_null(),
				      "connections", (json_int_t)g->n, "conn_ids",
				      ids ? ids : json_null(), "completed",
				      (json_int_t)g->completed, "bytes", (json_int_t)g->bytes);
		if (!e) {
			json_decref(a);
			return NULL;
		}
		if (q) {
			json_object_set_new(e, "bytes_placed",
					    json_integer((json_int_t)q->bytes_placed));
			json_object_set_new(e, "drops",
					    json_integer((json_int_t)otr_queue_drops(q)));
			json_object_set_new(
				e, "xsk",
				q->has_xsk
					? json_pack("{s:I,s:I,s:I,s:I}", "rx_frames",
						    (json_int_t)q->rx_frames, "rx_dropped",
						    (json_int_t)q->rx_dropped, "rx_ring_full",
						    (json_int_t)q->rx_ring_full, "fill_ring_empty",
						    (json_int_t)q->fill_ring_empty)
					: json_null());
			json_object_set_new(e, "cpu_share", share_json(q->cpu_share_all));
		}
		json_array_append_new(a, e);
	}
	/* Queues the trace shows (xsk_stats) with no connection written. */
	for (size_t k = 0; a && k < nm; k++) {
		bool seen = false;
		for (size_t i = 0; i < s->nq && !seen; i++)
			seen = s->q[i].vpid == mq[k].vpid && s->q[i].queue == (int32_t)mq[k].queue;
		if (seen || !mq[k].has_xsk)
			continue;
		json_array_append_new(
			a, json_pack("{s:I,s:I,s:I,s:[],s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I},s:o}",
				     "vpid", (json_int_t)mq[k].vpid, "queue",
				     (json_int_t)mq[k].queue, "connections", (json_int_t)0,
				     "conn_ids", "completed", (json_int_t)0, "bytes", (json_int_t)0,
				     "bytes_placed", (json_int_t)mq[k].bytes_placed, "drops",
				     (json_int_t)otr_queue_drops(&mq[k]), "xsk", "rx_frames",
				     (json_int_t)mq[k].rx_frames, "rx_dropped",
				     (json_int_t)mq[k].rx_dropped, "rx_ring_full",
				     (json_int_t)mq[k].rx_ring_full, "fill_ring_empty",
				     (json_int_t)mq[k].fill_ring_empty, "cpu_share",
				     share_json(mq[k].cpu_share_all)));
	}
	return a;
}

static void summary_free(struct oex_writer *w)
{
	struct summary *s = w->priv;

	if (!s)
		return;
	otr_model_free(s->m);
	for (size_t i = 0; i < s->nq; i++)
		free(s->q[i].ids);
	free(s->q);
	free(s);
}

static const struct oex_writer_ops summary_ops = {
	.name = "summary",
	.begin = summary_begin,
	.event = summary_event,
	.end = summary_end,
	.free = summary_free,
};

int oex_summary_new(struct oex_writer *w, bool csv)
{
	/* Rows are written at close: the model need not keep many closed connections. */
	struct otr_model_opts mo = { .sz = sizeof(mo), .max_closed = 16, .recent = 1 };
	struct summary *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->m = otr_model_new(&mo);
	if (!s->m) {
		free(s);
		return -ENOMEM;
	}
	s->csv = csv;
	w->ops = &summary_ops;
	w->priv = s;
	return 0;
}
