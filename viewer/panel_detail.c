/* One connection's detail: its figures, the what if, the queue as a row of boxes, the recent
 * completions and the latency histogram by reason. */
#define _GNU_SOURCE
#include "panel.h"

#include <inttypes.h>
#include <time.h>

static void draw_box(struct ui *u, WINDOW *w, int y, int x, const struct otr_req *q, bool timer,
		     int64_t left_ns, bool head)
{
	attr_t frame = head ? u->st[S_VALUE] : u->st[S_DIM];
	char t[32], a[16], b[16];
	ui_frame_box(u, w, y, x, 5, BOX_W, frame);
	snprintf(t, sizeof(t), " req %" PRIu64 " ", q->id);
	ui_put(w, y, x + 1, frame | A_BOLD, "%.*s", BOX_W - 2, t);
	bool unknown = q->flags & OTR_REQ_PLACEHOLDER;
	ui_put_bar(u, w, y + 1, x + 1, BOX_W - 2, unknown ? 0 : q->fill, q->len,
		   q->no_push ? u->st[S_INFO] : 0);
	if (unknown)
		snprintf(t, sizeof(t), "?/?");
	else
		snprintf(t, sizeof(t), "%s/%s", fmt_bytes(a, sizeof(a), q->fill),
			 fmt_bytes(b, sizeof(b), q->len));
	ui_put(w, y + 2, x + 1, u->st[S_NORMAL], "%-*.*s", BOX_W - 2, BOX_W - 2, t);
	int xx = ui_put(w, y + 3, x + 1, q->no_push ? u->st[S_INFO] : u->st[S_GOOD], "%s",
			q->no_push ? "nopush" : "push");
	if (timer && left_ns >= 0)
		ui_put(w, y + 3, xx + 1, u->st[S_WARN] | A_BOLD, "T-%s",
		       fmt_dur(t, sizeof(t), left_ns));
}

/* A completion's time: from the trace start in a replay, the clock time live. */
static void when(const struct ui *u, int64_t ts, char *b, size_t n)
{
	if (!u->sn.st.live && u->sn.st.trace_start_ns != OTR_TS_NONE) {
		fmt_rel(b, n, ts - u->sn.st.trace_start_ns);
		return;
	}
	time_t t = (time_t)(ts / 1000000000);
	struct tm tm;
	char hms[16];
	localtime_r(&t, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	snprintf(b, n, "%s.%03lld", hms, (long long)(ts / 1000000 % 1000));
}

static void detail_draw(struct panel *p, struct ui *u)
{
	WINDOW *w = p->win;
	werase(w);
	const struct vdetail *d = u->sn.d;
	if (!d || !d->valid) {
		ui_put(w, 1, 2, u->st[S_WARN],
		       "the connection is no longer in the model "
		       "(Esc: back to the list)");
		return;
	}
	const struct vrow *r = &d->row;
	char a[32], b[32], c[32];
	int y = 0, x;
	ui_fill_line(w, y, u->st[S_TITLE]);
	x = ui_put(w, y, 0, u->st[S_TITLE] | A_BOLD, " conn %" PRIu64, r->id);
	x = ui_put(w, y, x, u->st[S_TITLE], " (pid %" PRIu64 ")  %s > %s  %s", r->vpid, r->remote,
		   r->local, row_state_name(r));
	if (r->stale)
		x = ui_put(w, y, x, u->st[S_TITLE] | A_BOLD, " since %s (its session is gone)",
			   fmt_clock(a, sizeof(a), r->stale_since_ns));
	x = ui_put(w, y, x, u->st[S_TITLE], "%s  mss %u",
		   r->suspect ? " (suspect: events missing)" : "", d->mss);
	ui_put(w, y, x, u->st[S_TITLE], "   Esc: back  up/down: other connections");
	y++;
	x = ui_put(w, y, 1, u->st[S_LABEL], "rate ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%sB/s", fmt_bytes(a, sizeof(a), r->rate_bps));
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "posted ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%" PRIu64, r->posted);
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "completed ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%" PRIu64, r->completed);
	x = ui_put(w, y, x, u->st[S_DIM], " (");
	for (int k = 1, first = 1; k < OTR_REASONS; k++) {
		if (!d->completed_by[k])
			continue;
		x = ui_put(w, y, x, k == OTR_CR_PUSH_TIMER ? u->st[S_WARN] : u->st[S_DIM],
			   "%s%s %" PRIu64, first ? "" : ", ", otr_complete_reason_name(k),
			   d->completed_by[k]);
		first = 0;
	}
	x = ui_put(w, y, x, u->st[S_DIM], ")");
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "indicated ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%" PRIu64, r->indicated);
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "batches ");
	ui_put(w, y, x, u->st[S_VALUE], "%" PRIu64 " (max %" PRIu64 ")", d->complete_calls,
	       d->max_batch);
	y++;
	x = ui_put(w, y, 1, u->st[S_LABEL], "push timer ");
	x = ui_put(w, y, x, u->st[S_VALUE],
		   "starts %" PRIu64 " restarts %" PRIu64 " expiries %" PRIu64, d->timer_starts,
		   d->timer_restarts, d->timer_expiries);
	x = ui_put(w, y, x + 2, u->st[S_LABEL],
		   "time lost to the push timer, last %.0fs: ", d->horizon_ns / 1e9);
	ui_put(w, y, x, d->rates.push_timer_lost_ns ? u->st[S_WARN] | A_BOLD : u->st[S_VALUE],
	       "%s (%" PRIu64 " of %" PRIu64 " completions by the timer)",
	       fmt_dur(a, sizeof(a), d->rates.push_timer_lost_ns), d->rates.push_timer_completions,
	       d->rates.completions);
	y++;
	const struct vs_whatif *wi = &d->wi;
	x = ui_put(w, y, 1, u->st[S_LABEL], "what if ");
	if (wi->valid && wi->vpid == r->vpid && wi->id == r->id) {
		/* the window first: what the figures are over */
		x = ui_put(w, y, x - 1, u->st[S_DIM], ", last %s (%u completions%s): ",
			   fmt_dur(a, sizeof(a), wi->to_ns - wi->from_ns), wi->ncomps,
			   wi->truncated ? ", cut at the history limit" : "");
		for (int k = 0; k < 2; k++) {
			const struct vs_whatif_run *v = &wi->v[k];
			x = ui_put(w, y, x, u->st[S_VALUE],
				   "%stimer %s: push-timer %.0f%%, lf p99 %s, post p99 %s",
				   k ? " | " : "", fmt_dur(a, sizeof(a), v->timer_ns),
				   v->share * 100, fmt_dur(b, sizeof(b), v->lf_p99_ns),
				   fmt_dur(c, sizeof(c), v->p2c_p99_ns));
		}
	} else if (wi->done && wi->vpid == r->vpid && wi->id == r->id && !wi->timer_known) {
		ui_put(w, y, x, u->st[S_DIM],
		       "no push-timer start seen from this engine yet: its timer value is unknown");
	} else if (wi->done && wi->vpid == r->vpid && wi->id == r->id) {
		ui_put(w, y, x, u->st[S_DIM],
		       "not enough recent history to replay (%u events of this connection kept, "
		       "none a post)",
		       wi->nevents);
	} else {
		ui_put(w, y, x, u->st[S_DIM], "replaying the recent history in the background");
	}
	y += 2;

	/* the queue, as a row of boxes */
	int fit = (p->w - 1) / (BOX_W + 1);
	x = ui_put(w, y, 1, u->st[S_LABEL] | A_BOLD, "Queue");
	ui_put(w, y, x, u->st[S_DIM],
	       " (%" PRIu32 " posted, oldest first; the push timer guards the "
	       "request marked T-)",
	       r->depth);
	y++;
	if (!r->depth) {
		ui_put(w, y + 2, 3, u->st[S_DIM],
		       r->indicated ? "empty: the engine indicates data "
				      "from its own buffers"
				    : "empty");
	} else if (fit > 0) {
		uint32_t show = r->depth > (uint32_t)fit ? (uint32_t)fit - 1 : r->depth;
		if (show > d->nreq)
			show = d->nreq;
		for (uint32_t i = 0; i < show; i++)
			draw_box(u, w, y, 1 + (int)i * (BOX_W + 1), &d->reqs[i],
				 d->timer_req == d->reqs[i].id, r->timer_left_ns, i == 0);
		if (show < r->depth)
			ui_put(w, y + 2, 2 + (int)show * (BOX_W + 1), u->st[S_DIM],
			       "+%" PRIu32 " more", r->depth - show);
	}
	y += 6;

	/* the rest: recent completions, then the histogram */
	int first_bin = VD_NBINS, last_bin = -1;
	for (int i = 0; i < VD_NBINS; i++)
		for (int k = 0; k < VD_NCLS; k++)
			if (d->bins[i][k]) {
				first_bin = i < first_bin ? i : first_bin;
				last_bin = i;
			}
	int hist_h = last_bin >= 0 ? last_bin - first_bin + 3 : 2;
	int room = p->h - y;
	int recent_h = room - hist_h - 1;
	if (recent_h > (int)d->nrecent + 1)
		recent_h = (int)d->nrecent + 1;
	if (recent_h < 2)
		recent_h = room >= hist_h + 3 ? 2 : 0;
	if (recent_h > 0) {
		ui_put(w, y, 1, u->st[S_LABEL] | A_BOLD, "Recent completions");
		ui_put(w, y, 20, u->st[S_DIM], "%-12s %6s  %-13s %-13s %9s %10s %10s", "time",
		       "req", "reason", "status", "bytes", "post>done", "wait");
		y++;
		for (int i = 0; i < recent_h - 1 && i < (int)d->nrecent; i++, y++) {
			const struct otr_completion *e = &d->recent[i];
			attr_t ea = e->reason == OTR_CR_PUSH_TIMER ? u->st[S_WARN]
				    : e->reason >= OTR_CR_ABORT	   ? u->st[S_ALERT]
								   : u->st[S_NORMAL];
			when(u, e->ts_ns, a, sizeof(a));
			ui_put(w, y, 20, ea,
			       "%-12s %6" PRIu64 "  %-13s %-13s %9" PRIu32 " %10s %10s", a, e->req,
			       otr_complete_reason_name(e->reason), otr_status_name(e->status),
			       e->bytes, fmt_dur(b, sizeof(b), (int64_t)e->post_ns),
			       fmt_dur(c, sizeof(c), e->last_fill_ns));
		}
		y++;
	}

	/* latency (post -> complete) by reason, as horizontal stacked bars */
	if (y >= p->h)
		return;
	static const char *const glyph_utf8[VD_NCLS] = { "\u2588", "\u2593", "\u2592" };
	static const char *const glyph_ascii[VD_NCLS] = { "#", "=", "~" };
	const attr_t ca[VD_NCLS] = { u->st[S_GOOD], u->st[S_INFO], u->st[S_WARN] };
	x = ui_put(w, y, 1, u->st[S_LABEL] | A_BOLD, "Latency post>complete");
	for (int k = 0; k < VD_NCLS; k++) {
		x = ui_put_run(w, y, x + 2, ca[k], u->utf8 ? glyph_utf8[k] : glyph_ascii[k], 2);
		x = ui_put(w, y, x + 1, u->st[S_NORMAL], "%s n=%" PRIu64, vd_cls_name(k), d->n[k]);
		if (d->n[k])
			x = ui_put(w, y, x, u->st[S_DIM], " p50 %s p99 %s",
				   fmt_dur(a, sizeof(a), (int64_t)d->p50[k]),
				   fmt_dur(b, sizeof(b), (int64_t)d->p99[k]));
	}
	y++;
	if (last_bin < 0) {
		ui_put(w, y, 3, u->st[S_DIM], "no completion yet");
		return;
	}
	uint64_t most = 1;
	for (int i = first_bin; i <= last_bin; i++) {
		uint64_t s = d->bins[i][0] + d->bins[i][1] + d->bins[i][2];
		most = s > most ? s : most;
	}
	int barw = p->w - 12 - 10 - 2;
	for (int i = first_bin; i <= last_bin && y < p->h; i++, y++) {
		uint64_t s = d->bins[i][0] + d->bins[i][1] + d->bins[i][2];
		x = ui_put(w, y, 1, u->st[S_LABEL], "%10s ", vd_bin_label[i]);
		for (int k = 0; k < VD_NCLS; k++) {
			int cells = (int)((double)d->bins[i][k] * barw / (double)most + 0.5);
			if (d->bins[i][k] && !cells)
				cells = 1;
			x = ui_put_run(w, y, x, ca[k], u->utf8 ? glyph_utf8[k] : glyph_ascii[k],
				       cells);
		}
		if (s)
			ui_put(w, y, x + 1, u->st[S_DIM], "%" PRIu64, s);
	}
}

static int detail_key(struct panel *p, struct ui *u, int ch)
{
	switch (ch) {
	case 27: /* Esc */
	case KEY_BACKSPACE:
	case 127:
	case '\b':
		u->main = &u->list;
		u->list.dirty = true;
		return KH_HANDLED | KH_REDRAW;
	case KEY_UP:
	case 'k':
		u->want_snap = true;
		return ui_move_sel(u, -1);
	case KEY_DOWN:
	case 'j':
		u->want_snap = true;
		return ui_move_sel(u, 1);
	}
	return 0;
}

const struct panel_ops panel_detail_ops = { "detail", detail_draw, detail_key };
