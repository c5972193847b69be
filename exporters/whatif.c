/* offrx-export --what-if push-timer=V,...: replay each connection's recorded posts and arrivals
 * through the engine's own receive core (the in-memory link on a virtual clock) once per push
 * timer value, and report what the completions would have been. The recorded timer is
 * replayed too, and its match with the trace is the fidelity that says how far to trust it. */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>

#include "export.h"
#include "hist.h"
#include "num.h"

#define WI_MAX_VALUES	 16
#define WI_MISMATCH_LIST 20
#define WI_TOL_NS	 1000000ll /* the engine's timer granularity: 1 ms */
/* A real expiry runs a poll tick plus a scheduling delay late (on a busy two-core machine, tens
 * of ms). The trace says by how much: push_timer_expire carries the deadline, so a recorded
 * push-timer completion is compared at its deadline (its time less that lateness). Only a trace
 * without the expiry event falls back to forgiving up to WI_LATE_NS. Only time is forgiven: ids,
 * reasons and bytes must match exactly. */
#define WI_LATE_NS    10000000ll
#define WI_DEFAULT_MS 500 /* R13 */

static const char *const wi_caveat =
	"replay holds the recorded arrivals fixed: a real sender might react to different "
	"completion times (window and ACK changes) and send at other times";

#include "whatif.h"

struct wi_priv {
	struct oex_ctab conns; /* struct wi_conn */
	uint64_t values_ms[WI_MAX_VALUES];
	unsigned nvalues;
	bool json;
	int64_t recorded_ms; /* --recorded-push-timer-ms; -1: from the trace */
	int64_t trace_ms;    /* the first timer value the trace shows; -1 */
	uint64_t discarded, lost_packets, source_lost, posts;
	bool oom;
};

/* --- collecting ---------------------------------------------------------------------------- */

static int wi_begin(struct oex_writer *w)
{
	(void)w;
	return 0;
}

static struct wi_conn *wi_conn_of(struct wi_priv *p, const struct otr_event *ev)
{
	struct wi_conn *c = oex_ctab_get(&p->conns, ev->vpid, ev->conn);

	if (c)
		return c;
	c = oex_ctab_add(&p->conns, ev->vpid, ev->conn);
	if (!c)
		return NULL;
	wi_conn_init(c, (int64_t)ev->ts_raw);
	return c;
}

static int wi_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct wi_priv *p = w->priv;
	struct wi_conn *c;

	if (ev->kind == OTR_DISCARDED) {
		p->discarded += ev->u.discarded.count ? ev->u.discarded.count : 1;
		p->lost_packets += ev->u.discarded.packets;
		return 0;
	}
	if (ev->kind == OTR_SOURCE) {
		if (ev->u.source.state == OTR_SRC_LOST)
			p->source_lost++;
		return 0;
	}
	if (!ev->conn)
		return 0;
	if (!(c = wi_conn_of(p, ev)))
		return -ENOMEM;
	if (ev->kind == OTR_POST)
		p->posts++;
	if (p->trace_ms < 0)
		p->trace_ms = wi_timer_ms(ev);
	return wi_conn_event(c, ev);
}

/* --- statistics ---------------------------------------------------------------------------- */

static double wi_ms(uint64_t ns)
{
	return round((double)ns / 1e3) / 1e3;
}

static json_t *wi_lat_json(const struct otr_hist *h)
{
	static const double ps[] = { 50, 99 };
	uint64_t v[2];

	otr_hist_percentiles(h, ps, v, 2);
	return json_pack("{s:I,s:f,s:f,s:f}", "count", (json_int_t)otr_hist_count(h), "p50",
			 wi_ms(v[0]), "p99", wi_ms(v[1]), "max", wi_ms(otr_hist_max(h)));
}

static double wi_rate(const struct wi_stats *s)
{
	return s->seconds > 0 ? (double)s->calls / s->seconds : 0;
}

static json_t *wi_stats_json(const struct wi_stats *s, const struct wi_stats *base)
{
	json_t *by = json_object(), *j;

	/* every complete reason of offrx_names.h (1, 2, ...: exporters/summary.c checks) */
	for (int r = 1; r <= OFFRX_NAMES_MAX(OFFRX_COMPLETE_REASON_LIST); r++)
		json_object_set_new(by, otr_complete_reason_name(r),
				    json_integer((json_int_t)s->by[r]));
	j = json_pack("{s:I,s:o,s:o,s:o,s:I,s:f}", "completed", (json_int_t)s->completed,
		      "completed_by", by, "post_to_complete_ms", wi_lat_json(s->p2c),
		      "last_fill_to_complete_ms", wi_lat_json(s->lf2c), "complete_calls",
		      (json_int_t)s->calls, "complete_calls_per_s",
		      round(wi_rate(s) * 1000) / 1000);
	if (base) {
		json_t *ch = json_pack("{s:I,s:f,s:f,s:f}", "push_timer",
				       (json_int_t)s->by[OTR_CR_PUSH_TIMER] -
					       (json_int_t)base->by[OTR_CR_PUSH_TIMER],
				       "post_to_complete_p99_ms",
				       wi_ms(otr_hist_percentile(s->p2c, 99)) -
					       wi_ms(otr_hist_percentile(base->p2c, 99)),
				       "last_fill_to_complete_p99_ms",
				       wi_ms(otr_hist_percentile(s->lf2c, 99)) -
					       wi_ms(otr_hist_percentile(base->lf2c, 99)),
				       "complete_calls_per_s",
				       round((wi_rate(s) - wi_rate(base)) * 1000) / 1000);
		json_object_set_new(j, "change", ch);
	}
	return j;
}

static void wi_table_row(struct jw_out *o, const char *label, const struct wi_stats *s,
			 const struct wi_stats *base)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line),
		     "  %-22s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		     "  %8.1f %8.1f %8.1f  %8.1f %8.1f  %8.2f",
		     label, s->completed, s->by[OTR_CR_FILLED], s->by[OTR_CR_PSH],
		     s->by[OTR_CR_PUSH_TIMER], wi_ms(otr_hist_percentile(s->p2c, 50)),
		     wi_ms(otr_hist_percentile(s->p2c, 99)), wi_ms(otr_hist_max(s->p2c)),
		     wi_ms(otr_hist_percentile(s->lf2c, 50)),
		     wi_ms(otr_hist_percentile(s->lf2c, 99)), wi_rate(s));
	jw_putn(o, line, (size_t)n);
	if (base)
		n = snprintf(
			line, sizeof(line), "  (timer %+" PRId64 ", p99 %+.1f ms, calls/s %+.2f)",
			(int64_t)s->by[OTR_CR_PUSH_TIMER] - (int64_t)base->by[OTR_CR_PUSH_TIMER],
			wi_ms(otr_hist_percentile(s->p2c, 99)) -
				wi_ms(otr_hist_percentile(base->p2c, 99)),
			wi_rate(s) - wi_rate(base));
	else
		n = 0;
	jw_putn(o, line, (size_t)n);
	jw_putc(o, '\n');
}

/* --- the report ---------------------------------------------------------------------------- */

struct wi_mismatch {
	uint64_t vpid, conn, req;
	struct wi_comp rec, rep;
	bool replayed; /* false: not completed in the replay */
};

/* The whole report, built connection by connection. */
struct wi_report {
	unsigned nv;			  /* [0] the recorded value, then the what-if values */
	uint64_t vals[WI_MAX_VALUES + 1]; /* ms */
	const char *source;		  /* where vals[0] comes from */
	struct wi_stats tot[WI_MAX_VALUES + 1], rec_tot;
	struct wi_mismatch mm[WI_MISMATCH_LIST];
	uint64_t compared, matched, nmm, nconns;
	json_t *jconns;
};

/* One connection replayed with every value. */
struct wi_conn_result {
	double secs;
	struct wi_stats rec;			 /* recorded */
	struct wi_stats pred[WI_MAX_VALUES + 1]; /* predicted, as rep->vals */
	uint64_t ms[WI_MAX_VALUES + 1];		 /* the value each ran with */
};

static void wi_conn_result_free(struct wi_conn_result *cr)
{
	wi_stats_free(&cr->rec);
	for (unsigned v = 0; v <= WI_MAX_VALUES; v++)
		wi_stats_free(&cr->pred[v]);
}

static const struct wi_comp *wi_find(const struct wi_replay *r, uint64_t req)
{
	for (size_t i = 0; i < r->ncomps; i++) /* nearly in order: found at once */
		if (r->comps[i].req == req)
			return &r->comps[i];
	return NULL;
}

static const char *wi_refusal(const struct wi_priv *p, const struct oex_run *run, char *buf,
			      size_t len)
{
	if (!oex_complete(run))
		snprintf(buf, len,
			 "the input was not read to its end (%.600s): a prediction from part "
			 "of it would mislead",
			 run->end == OEX_END_ERROR ? run->error : oex_end_name(run->end));
	else if (p->discarded || p->lost_packets)
		snprintf(buf, len,
			 "the tracer discarded %" PRIu64 " events (%" PRIu64
			 " packets lost) in the window: the posts and arrivals replay needs are "
			 "incomplete. Record again with more sub-buffers (offrx-trace start "
			 "--num-subbuf 16), or pick a loss-free window with --from/--to",
			 p->discarded, p->lost_packets);
	else if (p->source_lost)
		snprintf(buf, len,
			 "the live source was lost %" PRIu64 " time(s): events are missing",
			 p->source_lost);
	else if (!p->posts)
		snprintf(buf, len,
			 "the trace holds no offrx:post event%s: there are no requests to replay "
			 "(was the application indicating only, or the window too narrow?)",
			 run->from_ns != OEX_TS_NONE || run->to_ns != OEX_TS_NONE ? " in the window"
										  : "");
	else
		return NULL;
	return buf;
}

/* The values to replay: the recorded one first (the option, the trace, or R13's default). */
static void wi_values(const struct wi_priv *p, struct wi_report *rep)
{
	rep->source = "trace";
	if (p->recorded_ms >= 0) {
		rep->vals[0] = (uint64_t)p->recorded_ms;
		rep->source = "option";
	} else if (p->trace_ms >= 0) {
		rep->vals[0] = (uint64_t)p->trace_ms;
	} else {
		rep->vals[0] = WI_DEFAULT_MS;
		rep->source = "default (the trace started no push timer; give "
			      "--recorded-push-timer-ms)";
	}
	memcpy(rep->vals + 1, p->values_ms, p->nvalues * sizeof(*rep->vals));
	rep->nv = p->nvalues + 1;
}

/* --- score: the fidelity run against the recording ---------------------------------------- */

/* Each recorded completion against the replay's of the same request: same reason, bytes and
 * status, time within WI_TOL_NS (a push-timer completion at its recorded expiry's deadline;
 * without that event, up to WI_LATE_NS late). */
static void wi_score(struct wi_report *rep, const struct wi_conn *c, const struct wi_replay *r)
{
	for (size_t i = 0; i < c->ncomps; i++) {
		const struct wi_comp *a = &c->comps[i], *b = wi_find(r, a->req);
		int64_t dt = b ? b->t - (a->late > 0 ? a->t - a->late : a->t) : 0;

		rep->compared++;
		if (b && a->reason == b->reason && a->bytes == b->bytes && a->status == b->status &&
		    (llabs(dt) <= WI_TOL_NS || (a->reason == OTR_CR_PUSH_TIMER && a->late < 0 &&
						dt < 0 && -dt <= WI_LATE_NS))) {
			rep->matched++;
			continue;
		}
		if (rep->nmm++ < WI_MISMATCH_LIST)
			rep->mm[rep->nmm - 1] = (struct wi_mismatch){
				c->k.vpid, c->k.conn, a->req, *a, b ? *b : (struct wi_comp){ 0 },
				b != NULL,
			};
	}
}

/* --- replay: one connection with every value ---------------------------------------------- */

static int wi_replay_all(const struct wi_priv *p, struct wi_report *rep, const struct wi_conn *c,
			 struct wi_conn_result *cr)
{
	cr->secs = (double)(c->t_last - c->t_first) / 1e9;
	if (wi_stats_add(&cr->rec, c->comps, c->ncomps, c->calls, cr->secs) ||
	    wi_stats_add(&rep->rec_tot, c->comps, c->ncomps, c->calls, cr->secs))
		return -ENOMEM;
	for (unsigned v = 0; v < rep->nv; v++) {
		/* A connection replays with its own recorded value when the trace shows one
		 * (several engines may run with different timers). */
		uint64_t ms = v == 0 && p->recorded_ms < 0 && c->timer_ms >= 0
				      ? (uint64_t)c->timer_ms
				      : rep->vals[v];
		struct wi_replay r;
		int ret = wi_replay_conn(c, ms * 1000000ull, &r);

		if (!ret && v == 0)
			wi_score(rep, c, &r);
		if (!ret && (wi_stats_add(&cr->pred[v], r.comps, r.ncomps, r.calls, cr->secs) ||
			     wi_stats_add(&rep->tot[v], r.comps, r.ncomps, r.calls, cr->secs)))
			ret = -ENOMEM;
		free(r.comps);
		if (ret)
			return ret;
		cr->ms[v] = ms;
	}
	return 0;
}

/* --- render -------------------------------------------------------------------------------- */

static void wi_table_head(struct jw_out *o, const char *title)
{
	char line[512];

	snprintf(line, sizeof(line), "%s\n  %-22s %6s %6s %6s %6s  %8s %8s %8s  %8s %8s  %8s\n",
		 title, "run", "done", "filled", "psh", "timer", "p50 ms", "p99 ms", "max ms",
		 "lf p50", "lf p99", "calls/s");
	jw_puts(o, line);
}

/* The recorded row and one row per value, under the given title. */
static void wi_table(struct jw_out *o, const char *title, const struct wi_stats *rec,
		     const struct wi_stats *pred, const uint64_t *ms, unsigned nv)
{
	char label[64];

	wi_table_head(o, title);
	wi_table_row(o, "recorded", rec, NULL);
	for (unsigned v = 0; v < nv; v++) {
		if (v == 0)
			snprintf(label, sizeof(label), "replay %" PRIu64 " ms (rec.)", ms[0]);
		else
			snprintf(label, sizeof(label), "what if %" PRIu64 " ms", ms[v]);
		wi_table_row(o, label, &pred[v], v ? rec : NULL);
	}
}

static void wi_render_conn(const struct wi_priv *p, struct wi_report *rep, struct jw_out *o,
			   const struct wi_conn *c, const struct wi_conn_result *cr)
{
	json_t *jp = json_array();

	for (unsigned v = 0; v < rep->nv; v++) {
		json_t *pj = wi_stats_json(&cr->pred[v], &cr->rec);
		json_object_set_new(pj, "push_timer_ms", json_integer((json_int_t)cr->ms[v]));
		json_object_set_new(pj, "fidelity_run", json_boolean(v == 0));
		json_array_append_new(jp, pj);
	}
	json_array_append_new(rep->jconns,
			      json_pack("{s:I,s:I,s:f,s:o,s:o}", "vpid", (json_int_t)c->k.vpid,
					"conn", (json_int_t)c->k.conn, "seconds",
					round(cr->secs * 1e6) / 1e6, "recorded",
					wi_stats_json(&cr->rec, NULL), "predictions", jp));
	if (!p->json) {
		char title[128];
		snprintf(title, sizeof(title), "conn %" PRIu64 ":%" PRIu64 " (%.3f s)", c->k.vpid,
			 c->k.conn, cr->secs);
		wi_table(o, title, &cr->rec, cr->pred, cr->ms, rep->nv);
	}
}

static json_t *wi_comp_json(const struct wi_comp *cp)
{
	return json_pack("{s:s,s:i,s:I,s:f}", "reason", otr_complete_reason_name(cp->reason),
			 "status", cp->status, "bytes", (json_int_t)cp->bytes, "t_ms",
			 (double)cp->t / 1e6);
}

static void wi_render_json(const struct wi_report *rep, const struct oex_run *run, struct jw_out *o,
			   double fid)
{
	json_t *doc = json_object(), *jt = json_array(), *jm = json_array();

	for (unsigned v = 0; v < rep->nv; v++) {
		json_t *t = wi_stats_json(&rep->tot[v], &rep->rec_tot);
		json_object_set_new(t, "push_timer_ms", json_integer((json_int_t)rep->vals[v]));
		json_object_set_new(t, "fidelity_run", json_boolean(v == 0));
		json_array_append_new(jt, t);
	}
	for (uint64_t i = 0; i < rep->nmm && i < WI_MISMATCH_LIST; i++) {
		const struct wi_mismatch *m = &rep->mm[i];
		json_t *x = json_pack("{s:I,s:I,s:I,s:o}", "vpid", (json_int_t)m->vpid, "conn",
				      (json_int_t)m->conn, "req", (json_int_t)m->req, "recorded",
				      wi_comp_json(&m->rec));
		json_object_set_new(x, "replay", m->replayed ? wi_comp_json(&m->rep) : json_null());
		json_array_append_new(jm, x);
	}
	json_object_set_new(doc, "schema", json_string("offrx-whatif/1"));
	json_object_set_new(doc, "input", json_string(run->input));
	json_object_set_new(doc, "recorded_push_timer_ms", json_integer((json_int_t)rep->vals[0]));
	json_object_set_new(doc, "recorded_push_timer_source", json_string(rep->source));
	json_object_set_new(doc, "fidelity", json_real(fid));
	json_object_set_new(doc, "fidelity_detail",
			    json_pack("{s:I,s:I,s:I,s:o}", "compared", (json_int_t)rep->compared,
				      "matched", (json_int_t)rep->matched, "tolerance_ms",
				      (json_int_t)(WI_TOL_NS / 1000000), "mismatches", jm));
	json_object_set_new(doc, "caveat", json_string(wi_caveat));
	json_object_set_new(doc, "recorded", wi_stats_json(&rep->rec_tot, NULL));
	json_object_set_new(doc, "totals", jt);
	json_object_set(doc, "connections", rep->jconns);
	oex_put_json(o, doc);
	jw_putc(o, '\n');
	json_decref(doc);
}

static void wi_render_text(const struct wi_report *rep, struct jw_out *o, double fid)
{
	char line[1024];

	snprintf(line, sizeof(line), "\nall %" PRIu64 " connection(s)", rep->nconns);
	wi_table(o, line, &rep->rec_tot, rep->tot, rep->vals, rep->nv);
	snprintf(line, sizeof(line),
		 "\nrecorded push timer: %" PRIu64 " ms (%s)\n"
		 "fidelity: %.4f (%" PRIu64 " of %" PRIu64
		 " recorded completions reproduced: same request, reason, status, bytes, "
		 "time within %lld ms;\n  a recorded push-timer completion is timed at the "
		 "deadline its expiry event carries: the engine ran it late by a poll tick plus "
		 "scheduling delay)\n",
		 rep->vals[0], rep->source, fid, rep->matched, rep->compared, WI_TOL_NS / 1000000);
	jw_puts(o, line);
	for (uint64_t i = 0; i < rep->nmm && i < WI_MISMATCH_LIST; i++) {
		const struct wi_mismatch *m = &rep->mm[i];
		snprintf(line, sizeof(line),
			 "  mismatch %" PRIu64 ":%" PRIu64 " req %" PRIu64
			 ": recorded %s %u bytes at %.3f ms, replay ",
			 m->vpid, m->conn, m->req, otr_complete_reason_name(m->rec.reason),
			 m->rec.bytes, (double)m->rec.t / 1e6);
		jw_puts(o, line);
		if (m->replayed)
			snprintf(line, sizeof(line), "%s %u bytes at %.3f ms (%+.3f ms)\n",
				 otr_complete_reason_name(m->rep.reason), m->rep.bytes,
				 (double)m->rep.t / 1e6, (double)(m->rep.t - m->rec.t) / 1e6);
		else
			snprintf(line, sizeof(line), "did not complete it\n");
		jw_puts(o, line);
	}
	jw_puts(o, "caveat: ");
	jw_puts(o, wi_caveat);
	jw_puts(o, ".\n(lf: last fill to complete; calls/s: completion calls per second, "
		   "the cost side)\n");
}

/* The report: refuse an input it cannot trust; else replay every connection with every
 * value, score the recorded value's run, and render JSON or the tables. */
static int wi_end(struct oex_writer *w)
{
	struct wi_priv *p = w->priv;
	struct oex_run *run = w->run;
	struct jw_out *o = run->out;
	struct wi_report *rep = calloc(1, sizeof(*rep));
	struct wi_conn_result *cr = calloc(1, sizeof(*cr));
	size_t pos = 0;
	struct wi_conn *c;
	char why[1024];
	int ret = OEX_EXIT_INPUT;

	if (wi_refusal(p, run, why, sizeof(why))) {
		fprintf(stderr, "offrx-export: --what-if refused: %s\n", why);
		goto out;
	}
	if (!rep || !cr || !(rep->jconns = json_array()))
		goto oom;
	wi_values(p, rep);
	while ((c = oex_ctab_next(&p->conns, &pos))) {
		if (!c->nposts)
			continue;
		rep->nconns++;
		memset(cr, 0, sizeof(*cr));
		if (wi_replay_all(p, rep, c, cr)) {
			wi_conn_result_free(cr);
			goto oom;
		}
		wi_render_conn(p, rep, o, c, cr);
		wi_conn_result_free(cr);
	}
	double fid = rep->compared ? (double)rep->matched / (double)rep->compared : 1.0;
	if (p->json)
		wi_render_json(rep, run, o, fid);
	else
		wi_render_text(rep, o, fid);
	ret = OEX_EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "offrx-export: --what-if: out of memory\n");
out:
	if (rep) {
		for (unsigned v = 0; v <= WI_MAX_VALUES; v++)
			wi_stats_free(&rep->tot[v]);
		wi_stats_free(&rep->rec_tot);
		json_decref(rep->jconns);
	}
	free(rep);
	free(cr);
	return ret;
}

static void wi_conn_free(void *rec)
{
	wi_conn_fini(rec);
}

static void wi_free(struct oex_writer *w)
{
	struct wi_priv *p = w->priv;

	if (!p)
		return;
	oex_ctab_fini(&p->conns, wi_conn_free);
	free(p);
	w->priv = NULL;
}

static const struct oex_writer_ops wi_ops = {
	.name = "whatif",
	.begin = wi_begin,
	.event = wi_event,
	.end = wi_end,
	.free = wi_free,
};

int oex_whatif_parse(const char *spec, uint64_t *values, unsigned *n, char *err, size_t errlen)
{
	const char *s;

	*n = 0;
	if (strncmp(spec, "push-timer=", 11)) {
		snprintf(err, errlen,
			 "--what-if %s: give push-timer=MS[,MS...], like push-timer=50,100,200",
			 spec);
		return -EINVAL;
	}
	s = spec + 11;
	for (;;) {
		const char *comma = strchr(s, ',');
		char one[24];
		uint64_t v;
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len : sizeof(one) - 1),
			 s);
		if (len >= sizeof(one) || num_u64(one, 1, 600000, &v)) {
			snprintf(err, errlen,
				 "--what-if %s: each value is a push timer in milliseconds, 1 to "
				 "600000",
				 spec);
			return -EINVAL;
		}
		if (*n == WI_MAX_VALUES) {
			snprintf(err, errlen, "--what-if %s: at most %d values", spec,
				 WI_MAX_VALUES);
			return -EINVAL;
		}
		values[(*n)++] = v;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int oex_whatif_new(struct oex_writer *w, const uint64_t *values_ms, unsigned n, bool json,
		   int64_t recorded_ms)
{
	struct wi_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	oex_ctab_init(&p->conns, sizeof(struct wi_conn));
	memcpy(p->values_ms, values_ms, n * sizeof(*values_ms));
	p->nvalues = n;
	p->json = json;
	p->recorded_ms = recorded_ms;
	p->trace_ms = -1;
	w->ops = &wi_ops;
	w->priv = p;
	return 0;
}
