/* --batch: the screen's content as text snapshots, like top -b. One line per fact, words of
 * key=value (values never hold spaces, except the message's, which is last and quoted), then
 * the connection table with one whitespace-separated row per connection, then the queue of
 * the busiest connection. The format is documented in docs/offrx-view.1 (BATCH OUTPUT). */
#include "view.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char *state_word(enum vs_state s)
{
	static const char *const w[] = { [VS_STARTING] = "starting",
					 [VS_WAITING] = "waiting",
					 [VS_CONNECTING] = "connecting",
					 [VS_LIVE] = "live",
					 [VS_RECONNECTING] = "reconnecting",
					 [VS_REPLAY] = "replay",
					 [VS_ENDED] = "ended",
					 [VS_ERROR] = "error" };
	return (unsigned)s < sizeof(w) / sizeof(w[0]) && w[s] ? w[s] : "?";
}

static void print_row(FILE *f, const struct vrow *r)
{
	char head[32] = "-", timer[24] = "-", flags[32] = "-";
	if (r->timer_bound || r->suspect || r->stale)
		snprintf(flags, sizeof(flags), "%s%s%s%s%s", r->timer_bound ? "timer-bound" : "",
			 r->timer_bound && r->suspect ? "," : "", r->suspect ? "suspect" : "",
			 (r->timer_bound || r->suspect) && r->stale ? "," : "",
			 r->stale ? "stale" : "");
	if (r->has_head)
		snprintf(head, sizeof(head), "%" PRIu32 "/%" PRIu32, r->head_fill, r->head_len);
	if (r->timer_left_ns >= 0)
		snprintf(timer, sizeof(timer), "%.1f", r->timer_left_ns / 1e6);
	char rxq[16] = "-";
	if (r->queue >= 0)
		snprintf(rxq, sizeof(rxq), "%" PRId32, r->queue);
	fprintf(f,
		"%" PRIu64 " %" PRIu64 " %s %s %s %s %" PRIu32 " %s %s %s %" PRIu64 " %" PRIu64
		" %" PRIu64 " %.0f %" PRIu64 " %" PRIu64 " %.0f %s\n",
		r->vpid, r->id, r->remote, r->local, row_state_name(r), rxq, r->depth, head,
		vmode_name(r->mode), timer, r->posted, r->completed, r->indicated, r->rate_bps,
		r->p50_ns / 1000, r->p99_ns / 1000, r->tshare * 100.0, flags);
}

/* The what-if replay of the busiest connection: its window (times from the trace start in a
 * replay, so that offrx-export --what-if --from/--to/--conn replays the same events), then one
 * line per push timer. */
static void print_whatif(FILE *f, const struct vsnap *sn, const struct vs_whatif *wi)
{
	int64_t origin = sn->st.trace_start_ns != OTR_TS_NONE ? sn->st.trace_start_ns : 0;
	fprintf(f, "whatif pid=%" PRIu64 " id=%" PRIu64 " state=%s", wi->vpid, wi->id,
		wi->valid	   ? "replayed"
		: !wi->timer_known ? "timer-unknown"
		: !wi->nevents	   ? "no-history"
				   : "no-post");
	if (wi->timer_known)
		fprintf(f, " timer_ms=%.0f", wi->timer_ns / 1e6);
	if (wi->nevents)
		fprintf(f, " from_ns=%" PRId64 " to_ns=%" PRId64, wi->from_ns - origin,
			wi->to_ns - origin);
	fprintf(f, " events=%" PRIu32 " completions=%" PRIu32 " truncated=%s\n", wi->nevents,
		wi->ncomps, wi->truncated ? "yes" : "no");
	for (int k = 0; wi->valid && k < 2; k++) {
		const struct vs_whatif_run *v = &wi->v[k];
		fprintf(f,
			"whatif_run timer_ms=%.0f completed=%" PRIu64 " filled=%" PRIu64
			" psh=%" PRIu64 " push_timer=%" PRIu64 " share=%.3f",
			v->timer_ns / 1e6, v->completed, v->filled, v->psh, v->by_timer, v->share);
		/* milliseconds rounded to the microsecond, as offrx-export's JSON has them */
		if (v->lf_p99_ns >= 0)
			fprintf(f, " lf_p99_ms=%.3f", (double)((v->lf_p99_ns + 500) / 1000) / 1e3);
		else
			fprintf(f, " lf_p99_ms=-");
		if (v->p2c_p99_ns >= 0)
			fprintf(f, " post_p99_ms=%.3f\n",
				(double)((v->p2c_p99_ns + 500) / 1000) / 1e3);
		else
			fprintf(f, " post_p99_ms=-\n");
	}
}

void batch_print(FILE *f, const struct vsnap *sn, const struct vview *v, unsigned iteration,
		 bool final)
{
	const struct vs_status *st = &sn->st;
	const struct otr_model_totals *t = &sn->t;
	char ts[32], rel[32];
	time_t w = (time_t)(sn->wall_ns / 1000000000);
	struct tm tm;
	gmtime_r(&w, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

	fprintf(f, "offrx-view snapshot=%u time=%s final=%s\n", iteration, ts,
		final ? "yes" : "no");
	fprintf(f, "source where=%s kind=%s state=%s paused=%s speed=%g", st->where,
		st->live ? "live" : "replay", state_word(st->state), st->paused ? "yes" : "no",
		st->speed);
	if (!st->live && st->trace_start_ns != OTR_TS_NONE && st->pos_ns != OTR_TS_NONE)
		fprintf(f, " trace_time=%s",
			fmt_rel(rel, sizeof(rel), st->pos_ns - st->trace_start_ns));
	if (st->live && st->session_ended)
		fprintf(f, " session=ended");
	if (st->live && st->fr_snap[0])
		fprintf(f, " fr_snapshot=\"%s\"", st->fr_snap);
	if (st->nmarks)
		fprintf(f, " stale_since=%s",
			fmt_clock(rel, sizeof(rel), st->marks[st->nmarks - 1].wall_ns));
	fprintf(f, "\n");
	fprintf(f,
		"events total=%" PRIu64 " per_s=%.1f discarded=%" PRIu64
		" discarded_packets=%" PRIu64 " unknown=%" PRIu64 " resyncs=%" PRIu64 "\n",
		t->events, t->events_per_s, t->discarded_events, t->discarded_packets, t->unknown,
		t->resyncs);
	fprintf(f,
		"conns total=%" PRIu64 " open=%" PRIu64 " closed=%" PRIu64 " evicted=%" PRIu64
		" shown=%zu\n",
		t->conns, t->conns_open, t->conns_closed, t->conns_evicted, v->norder);
	fprintf(f, "bytes placed=%" PRIu64 " per_s=%.0f\n", t->bytes_placed, t->bytes_per_s);
	fprintf(f, "completions total=%" PRIu64 " per_s=%.1f", t->completed, t->completions_per_s);
	for (int k = 1; k < OTR_REASONS; k++)
		fprintf(f, " %s=%" PRIu64, otr_complete_reason_name(k), t->completed_by[k]);
	fprintf(f, "\n");
	fprintf(f, "completions_per_s");
	for (int k = 1; k < OTR_REASONS; k++)
		fprintf(f, " %s=%.1f", otr_complete_reason_name(k), t->completions_per_s_by[k]);
	fprintf(f, "\n");
	fprintf(f,
		"push_timer horizon_s=%.0f completions=%" PRIu64 " by_timer=%" PRIu64
		" share=%.3f lost_ms=%.1f\n",
		sn->horizon_ns / 1e9, t->horizon.completions, t->horizon.push_timer_completions,
		t->horizon.push_timer_share, t->horizon.push_timer_lost_ns / 1e6);
	if (st->live) {
		if (t->last_ts_ns != OTR_TS_NONE)
			fprintf(f, "live lag_ms=%.0f", (sn->wall_ns - t->last_ts_ns) / 1e6);
		else
			fprintf(f, "live lag_ms=-");
		if (st->live_timer_us)
			fprintf(f, " live_timer_ms=%.0f\n", st->live_timer_us / 1e3);
		else
			fprintf(f, " live_timer_ms=-\n");
	}
	if (st->msg[0])
		fprintf(f, "message text=\"%s\"\n", st->msg);
	for (size_t i = 0; i < sn->nqueues; i++) {
		const struct otr_queue *q = &sn->queues[i];
		fprintf(f,
			"rxq pid=%" PRIu64 " queue=%" PRIu32 " conns=%" PRIu64 " open=%" PRIu64
			" completions=%" PRIu64 " completions_per_s=%.1f bytes_per_s=%.0f"
			" drops=%" PRIu64,
			q->vpid, q->queue, q->conns, q->conns_open, q->completed,
			q->completions_per_s, q->bytes_per_s, otr_queue_drops(q));
		if (q->has_xsk)
			fprintf(f, " rx_frames=%" PRIu64 " fill_ring_empty=%" PRIu64, q->rx_frames,
				q->fill_ring_empty);
		if (q->cpu_share >= 0)
			fprintf(f, " cpu_pct=%.1f", q->cpu_share * 100);
		else
			fprintf(f, " cpu_pct=-");
		fprintf(f, "\n");
	}

	fprintf(f, "table rows=%zu sort=%s%s\n", v->norder, vcol_name[v->sort],
		v->invert ? "-inverted" : "");
	for (int c = 0; c < VC__COUNT; c++)
		fprintf(f, "%s ", vcol_name[c]);
	fprintf(f, "FLAGS\n");
	for (size_t i = 0; i < v->norder; i++)
		print_row(f, &sn->rows[v->order[i]]);

	if (sn->d && sn->d->valid) {
		const struct vdetail *d = sn->d;
		fprintf(f,
			"queue pid=%" PRIu64 " id=%" PRIu64 " depth=%" PRIu32 " shown=%" PRIu32
			"\n",
			d->row.vpid, d->row.id, d->row.depth, d->nreq);
		for (uint32_t i = 0; i < d->nreq; i++) {
			const struct otr_req *q = &d->reqs[i];
			char timer[24] = "-";
			if (d->timer_req == q->id && d->row.timer_left_ns >= 0)
				snprintf(timer, sizeof(timer), "%.1f", d->row.timer_left_ns / 1e6);
			fprintf(f,
				"req id=%" PRIu64 " len=%" PRIu32 " fill=%" PRIu32
				" mode=%s timer_ms=%s\n",
				q->id, q->len, q->fill, q->no_push ? "nopush" : "push", timer);
		}
	} else {
		fprintf(f, "queue none\n");
	}
	if (sn->d && sn->d->valid && sn->d->wi.done && sn->d->wi.vpid == sn->d->row.vpid &&
	    sn->d->wi.id == sn->d->row.id)
		print_whatif(f, sn, &sn->d->wi);
	fprintf(f, "end\n");
	fflush(f);
}
