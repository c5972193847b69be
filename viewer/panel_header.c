/* The header panel: what is read and its state, events and connections, completions per second
 * by reason, and the push timer over the horizon (or what the source says). */
#define _GNU_SOURCE
#include "panel.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void queue_lines(struct panel *p, struct ui *u);

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
	queue_lines(p, u);
}

/* One receive queue, htop-like: its engine thread's CPU meter, then its connections' rate and
 * completions, what it lost and how often its fill ring ran empty. */
static void queue_line(struct ui *u, WINDOW *w, int y, const struct otr_queue *q, bool pids)
{
	char a[32], b[32], pct[16];
	int x = ui_put(w, y, 1, u->st[S_LABEL], "q%-2" PRIu32, q->queue);
	if (pids)
		x = ui_put(w, y, x + 1, u->st[S_DIM], "pid %" PRIu64, q->vpid);
	/* [|||||     45.0%]: the thread's CPU share between its last two xsk_stats */
	enum { METER = 20 };
	double share = q->cpu_share > 1 ? 1 : q->cpu_share;
	int full = share > 0 ? (int)(share * METER + 0.5) : 0;
	if (q->cpu_share >= 0)
		snprintf(pct, sizeof(pct), "%.1f%%", q->cpu_share * 100);
	else
		snprintf(pct, sizeof(pct), "cpu ?");
	int plen = (int)strlen(pct);
	if (full > METER - plen)
		full = METER - plen;
	x = ui_put(w, y, x + 1, u->st[S_LABEL] | A_BOLD, "[");
	x = ui_put_run(w, y, x,
		       share >= 0.9   ? u->st[S_ALERT]
		       : share >= 0.6 ? u->st[S_WARN]
				      : u->st[S_GOOD],
		       "|", full);
	x = ui_put_run(w, y, x, u->st[S_NORMAL], " ", METER - plen - full);
	x = ui_put(w, y, x, q->cpu_share >= 0 ? u->st[S_VALUE] : u->st[S_DIM], "%s", pct);
	x = ui_put(w, y, x, u->st[S_LABEL] | A_BOLD, "]");
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "conns ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%" PRIu64, q->conns);
	x = ui_put(w, y, x, u->st[S_DIM], " (%" PRIu64 " open)", q->conns_open);
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "rate ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%sB/s", fmt_bytes(a, sizeof(a), q->bytes_per_s));
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "completions ");
	x = ui_put(w, y, x, u->st[S_VALUE], "%s/s", fmt_count(a, sizeof(a), q->completions_per_s));
	x = ui_put(w, y, x, u->st[S_DIM], " (%s)", fmt_count(b, sizeof(b), (double)q->completed));
	uint64_t drops = otr_queue_drops(q);
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "drops ");
	x = ui_put(w, y, x, drops ? u->st[S_WARN] : u->st[S_VALUE], "%" PRIu64, drops);
	x = ui_put(w, y, x + 2, u->st[S_LABEL], "fill-ring empty ");
	if (q->has_xsk)
		x = ui_put(w, y, x, q->fill_ring_empty_new > 0 ? u->st[S_WARN] : u->st[S_VALUE],
			   "%" PRIu64, q->fill_ring_empty);
	else
		x = ui_put(w, y, x, u->st[S_DIM], "-");
	if (q->rx_frames_per_s >= 0) {
		x = ui_put(w, y, x + 2, u->st[S_LABEL], "frames ");
		ui_put(w, y, x, u->st[S_VALUE], "%s/s",
		       fmt_count(a, sizeof(a), q->rx_frames_per_s));
	}
}

/* The queue lines under the four lines of the header: as many as ui_header_lines() made room
 * for, the last one saying how many more there are when not all fit. */
static void queue_lines(struct panel *p, struct ui *u)
{
	const struct vsnap *sn = &u->sn;
	int room = p->h - HEADER_LINES;
	bool pids = sn->nqueues && sn->queues[0].vpid != sn->queues[sn->nqueues - 1].vpid;
	for (int i = 0; i < room && (size_t)i < sn->nqueues; i++) {
		if (i == room - 1 && (size_t)room < sn->nqueues) {
			ui_put(p->win, HEADER_LINES + i, 1, u->st[S_DIM],
			       "+%zu more queues (a taller terminal shows them)",
			       sn->nqueues - (size_t)i);
			break;
		}
		queue_line(u, p->win, HEADER_LINES + i, &sn->queues[i], pids);
	}
}

static int header_key(struct panel *p, struct ui *u, int ch)
{
	return 0;
}

const struct panel_ops panel_header_ops = { "header", header_draw, header_key };
