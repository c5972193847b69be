/* The header panel: what is read and its state, events and connections, completions per second
 * by reason, and the push timer over the horizon (or what the source says). */
#define _GNU_SOURCE
#include "panel.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void header_draw(struct panel *p, struct ui *u)
{
	WINDOW *w = p->win;
	const struct vsnap *sn = &u->sn;
	const struct vs_status *st = &sn->st;
	const struct otr_model_totals *t = &sn->t;
	char a[32], b[32], c[32], sb[64];
	werase(w);

	/* 1: what, where, state */
	ui_fill_line(w, 0, u->st[S_TITLE]);
	int x = ui_put(w, 0, 0, u->st[S_TITLE] | A_BOLD, " offrx-view ");
	const char *state = vs_state_name(st, sb, sizeof(sb));
	attr_t sa = st->state == VS_ERROR ? u->st[S_ALERT]
		    : st->state == VS_WAITING || st->state == VS_RECONNECTING || st->paused
			    ? u->st[S_WARN]
			    : u->st[S_TITLE];
	x = ui_put(w, 0, x, sa | A_BOLD, "[%s]", state);
	x = ui_put(w, 0, x + 1, u->st[S_TITLE], "%s", st->where);
	if (st->live && st->fr_snap[0]) /* a flight recorder saved a snapshot: when and why */
		x = ui_put(w, 0, x + 2, u->st[S_WARN] | A_BOLD, "snapshot %s", st->fr_snap);
	char right[96] = "";
	if (!st->live && st->trace_start_ns != OTR_TS_NONE && st->pos_ns != OTR_TS_NONE) {
		fmt_rel(a, sizeof(a), st->pos_ns - st->trace_start_ns);
		if (st->end_ns != OTR_TS_NONE)
			snprintf(right, sizeof(right), "trace time %s of %s ", a,
				 fmt_rel(b, sizeof(b), st->end_ns - st->trace_start_ns));
		else
			snprintf(right, sizeof(right), "trace time %s ", a);
	} else if (st->live) {
		time_t now = (time_t)(sn->wall_ns / 1000000000);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(right, sizeof(right), "%H:%M:%S ", &tm);
	}
	int rx = p->w - (int)strlen(right);
	if (rx > x + 1)
		ui_put(w, 0, rx, u->st[S_TITLE], "%s", right);

	/* 2: events, connections, bytes, discarded, lag */
	x = ui_put(w, 1, 1, u->st[S_LABEL], "events ");
	x = ui_put(w, 1, x, u->st[S_VALUE], "%s/s", fmt_count(a, sizeof(a), t->events_per_s));
	x = ui_put(w, 1, x, u->st[S_DIM], " (%s)", fmt_count(b, sizeof(b), (double)t->events));
	x = ui_put(w, 1, x + 2, u->st[S_LABEL], "conns ");
	x = ui_put(w, 1, x, u->st[S_VALUE], "%" PRIu64, t->conns);
	x = ui_put(w, 1, x, u->st[S_DIM], " (%" PRIu64 " open)", t->conns_open);
	x = ui_put(w, 1, x + 2, u->st[S_LABEL], "bytes ");
	x = ui_put(w, 1, x, u->st[S_VALUE], "%sB/s", fmt_bytes(a, sizeof(a), t->bytes_per_s));
	x = ui_put(w, 1, x + 2, u->st[S_LABEL], "discarded ");
	x = ui_put(w, 1, x,
		   t->discarded_events || t->discarded_packets ? u->st[S_ALERT] : u->st[S_VALUE],
		   "%" PRIu64, t->discarded_events);
	if (t->discarded_packets)
		x = ui_put(w, 1, x, u->st[S_ALERT], " +%" PRIu64 " packets", t->discarded_packets);
	if (st->live) {
		x = ui_put(w, 1, x + 2, u->st[S_LABEL], "lag ");
		if (t->last_ts_ns == OTR_TS_NONE) {
			x = ui_put(w, 1, x, u->st[S_DIM], "-");
		} else {
			int64_t lag = sn->wall_ns - t->last_ts_ns;
			int64_t timer = st->live_timer_us ? st->live_timer_us * 1000LL : 100000000;
			x = ui_put(w, 1, x,
				   lag > 4 * timer + 500000000 ? u->st[S_WARN] : u->st[S_VALUE],
				   "%s", fmt_dur(a, sizeof(a), lag < 0 ? 0 : lag));
		}
		if (st->live_timer_us)
			x = ui_put(w, 1, x, u->st[S_DIM], " (live timer %s)",
				   fmt_dur(b, sizeof(b), st->live_timer_us * 1000LL));
		else
			x = ui_put(w, 1, x, u->st[S_DIM], " (live timer ?)");
	}

	/* 3: completions per second by reason */
	x = ui_put(w, 2, 1, u->st[S_LABEL], "completions ");
	x = ui_put(w, 2, x, u->st[S_VALUE], "%s/s", fmt_count(a, sizeof(a), t->completions_per_s));
	x = ui_put(w, 2, x, u->st[S_DIM], " (%s)", fmt_count(b, sizeof(b), (double)t->completed));
	for (int k = 1; k < OTR_REASONS; k++) {
		if (k > OTR_CR_PUSH_TIMER && !t->completed_by[k])
			continue;
		attr_t va = k == OTR_CR_PUSH_TIMER && t->completions_per_s_by[k] > 0 ? u->st[S_WARN]
			    : k >= OTR_CR_ABORT ? u->st[S_ALERT]
						: u->st[S_VALUE];
		x = ui_put(w, 2, x + 2, u->st[S_LABEL], "%s ", otr_complete_reason_name(k));
		x = ui_put(w, 2, x, va, "%s/s",
			   fmt_count(c, sizeof(c), t->completions_per_s_by[k]));
	}

	/* 4: the push timer over the horizon, or what the source says */
	if (st->state == VS_WAITING || st->state == VS_ERROR || st->state == VS_RECONNECTING ||
	    st->state == VS_CONNECTING) {
		ui_put(w, 3, 1, st->state == VS_ERROR ? u->st[S_ALERT] : u->st[S_WARN], "%s",
		       st->msg);
	} else {
		const struct otr_rates *h = &t->horizon;
		x = ui_put(w, 3, 1, u->st[S_LABEL], "push timer (last %.0fs) ",
			   sn->horizon_ns / 1e9);
		x = ui_put(w, 3, x, h->push_timer_completions ? u->st[S_WARN] : u->st[S_VALUE],
			   "%" PRIu64 " of %" PRIu64 " completions (%.0f%%), %s lost waiting",
			   h->push_timer_completions, h->completions, h->push_timer_share * 100,
			   fmt_dur(a, sizeof(a), h->push_timer_lost_ns));
		if (t->drops)
			x = ui_put(w, 3, x + 2, u->st[S_WARN], "drops %" PRIu64, t->drops);
		if (t->resyncs || t->unknown)
			x = ui_put(w, 3, x + 2, u->st[S_DIM],
				   "resyncs %" PRIu64 " unknown %" PRIu64, t->resyncs, t->unknown);
		if (st->state == VS_ENDED && st->msg[0])
			ui_put(w, 3, x + 2, st->session_ended ? u->st[S_WARN] : u->st[S_DIM],
			       "| %s", st->msg);
		else if (st->nmarks)
			ui_put(w, 3, x + 2, u->st[S_DIM],
			       "| rows marked stale: their session is gone");
	}
}

static int header_key(struct panel *p, struct ui *u, int ch)
{
	return 0;
}

const struct panel_ops panel_header_ops = { "header", header_draw, header_key };
