/* The curses front end. The screen is panels with small vtables (header, the main panel: the
 * connection list or one connection's detail, the footer, and the help overlay); a key handler
 * returns KH_* bits. Panels draw the snapshot (snap.c), never the model: the UI loop takes a
 * snapshot under the source's lock at most 10 times a second, and only when something changed,
 * then draws without the lock. */
#define _GNU_SOURCE
#include "view.h"

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { KH_HANDLED = 1, KH_REDRAW = 2, KH_QUIT = 4 };

#define MIN_COLS  60
#define MIN_LINES 12
#define HEADER_H  4
#define FRAME_NS  100000000LL  /* at most 10 frames a second */
#define IDLE_NS	  1000000000LL /* an idle source: one frame a second (lag, rates decay) */
#define BOX_W	  16

enum style {
	S_NORMAL,
	S_LABEL,
	S_VALUE,
	S_ALERT,
	S_GOOD,
	S_WARN,
	S_INFO,
	S_TITLE,
	S_SEL,
	S_DIM,
	S_SORT,
	S_BAR_BG,
	S__COUNT
};

struct ui;
struct panel;

struct panel_ops {
	const char *name;
	void (*draw)(struct panel *p, struct ui *u);
	int (*key)(struct panel *p, struct ui *u, int ch);
};

struct panel {
	const struct panel_ops *ops;
	WINDOW *win;
	int h, w;
	uint64_t drawn_seq; /* the snapshot it last drew */
	bool dirty;	    /* its own state changed: draw even without a new snapshot */
};

struct ui {
	struct vsource *s;
	const struct ui_opts *o;
	struct vsnap sn;
	struct vview v;
	struct panel header, list, detail, footer, help;
	struct panel *main;
	bool show_help, too_small, utf8, paused;
	attr_t st[S__COUNT];
	/* the list's cursor: the selected connection, followed across sorts */
	bool has_sel;
	uint64_t sel[2];
	size_t sel_pos, top;
	/* the filter being typed: edit[] (in force as typed while it parses), or why not */
	bool editing;
	char saved_filter[VF_TEXT], edit[VF_TEXT], edit_err[256];
	char status[512];
	int64_t status_until;
	bool status_alert;
	int64_t last_snap;
	uint64_t snap_version;
	bool want_snap;
	char last_export[4096];
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- drawing helpers ---- */

/* Text at y, x clipped to the window; returns the column after it. */
static int put(WINDOW *w, int y, int x, attr_t a, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int put(WINDOW *w, int y, int x, attr_t a, const char *fmt, ...)
{
	int maxx = getmaxx(w), maxy = getmaxy(w);
	if (y < 0 || y >= maxy || x >= maxx || x < 0)
		return x;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int n = (int)strlen(buf);
	if (n > maxx - x)
		n = maxx - x;
	wattrset(w, a);
	mvwaddnstr(w, y, x, buf, n);
	wattrset(w, A_NORMAL);
	return x + n;
}

/* n cells of one glyph (a UTF-8 string or an ASCII character) */
static int put_run(WINDOW *w, int y, int x, attr_t a, const char *glyph, int n)
{
	int maxx = getmaxx(w);
	wattrset(w, a);
	for (int i = 0; i < n && x < maxx; i++, x++)
		mvwaddstr(w, y, x, glyph);
	wattrset(w, A_NORMAL);
	return x;
}

static void fill_line(WINDOW *w, int y, attr_t a)
{
	wattrset(w, a);
	wmove(w, y, 0);
	for (int x = 0; x < getmaxx(w); x++)
		waddch(w, ' ');
	wattrset(w, A_NORMAL);
}

/* A fill bar of width cells for fill/len; "-" cells when there is no request. */
static int put_bar(struct ui *u, WINDOW *w, int y, int x, int width, uint32_t fill, uint32_t len,
		   attr_t a)
{
	int full = len ? (int)((uint64_t)fill * (uint64_t)width / len) : 0;
	if (fill && !full)
		full = 1; /* a byte is there: show it */
	if (full > width)
		full = width;
	x = put_run(w, y, x, a ? a : u->st[S_GOOD], u->utf8 ? "\u2588" : "#", full);
	return put_run(w, y, x, u->st[S_BAR_BG], u->utf8 ? "\u2591" : ".", width - full);
}

static void set_status(struct ui *u, bool alert, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_status(struct ui *u, bool alert, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->status, sizeof(u->status), fmt, ap);
	va_end(ap);
	u->status_alert = alert;
	u->status_until = mono_ns() + 6000000000LL;
	u->footer.dirty = true;
}

/* ---- header ---- */

static void header_draw(struct panel *p, struct ui *u)
{
	WINDOW *w = p->win;
	const struct vsnap *sn = &u->sn;
	const struct vs_status *st = &sn->st;
	const struct otr_model_totals *t = &sn->t;
	char a[32], b[32], c[32], sb[64];
	werase(w);

	/* 1: what, where, state */
	fill_line(w, 0, u->st[S_TITLE]);
	int x = put(w, 0, 0, u->st[S_TITLE] | A_BOLD, " offrx-view ");
	const char *state = vs_state_name(st, sb, sizeof(sb));
	attr_t sa = st->state == VS_ERROR ? u->st[S_ALERT]
		    : st->state == VS_WAITING || st->state == VS_RECONNECTING || st->paused
			    ? u->st[S_WARN]
			    : u->st[S_TITLE];
	x = put(w, 0, x, sa | A_BOLD, "[%s]", state);
	x = put(w, 0, x + 1, u->st[S_TITLE], "%s", st->where);
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
		put(w, 0, rx, u->st[S_TITLE], "%s", right);

	/* 2: events, connections, bytes, discarded, lag */
	x = put(w, 1, 1, u->st[S_LABEL], "events ");
	x = put(w, 1, x, u->st[S_VALUE], "%s/s", fmt_count(a, sizeof(a), t->events_per_s));
	x = put(w, 1, x, u->st[S_DIM], " (%s)", fmt_count(b, sizeof(b), (double)t->events));
	x = put(w, 1, x + 2, u->st[S_LABEL], "conns ");
	x = put(w, 1, x, u->st[S_VALUE], "%" PRIu64, t->conns);
	x = put(w, 1, x, u->st[S_DIM], " (%" PRIu64 " open)", t->conns_open);
	x = put(w, 1, x + 2, u->st[S_LABEL], "bytes ");
	x = put(w, 1, x, u->st[S_VALUE], "%sB/s", fmt_bytes(a, sizeof(a), t->bytes_per_s));
	x = put(w, 1, x + 2, u->st[S_LABEL], "discarded ");
	x = put(w, 1, x,
		t->discarded_events || t->discarded_packets ? u->st[S_ALERT] : u->st[S_VALUE],
		"%" PRIu64, t->discarded_events);
	if (t->discarded_packets)
		x = put(w, 1, x, u->st[S_ALERT], " +%" PRIu64 " packets", t->discarded_packets);
	if (st->live) {
		x = put(w, 1, x + 2, u->st[S_LABEL], "lag ");
		if (t->last_ts_ns == OTR_TS_NONE) {
			x = put(w, 1, x, u->st[S_DIM], "-");
		} else {
			int64_t lag = sn->wall_ns - t->last_ts_ns;
			int64_t timer = st->live_timer_us ? st->live_timer_us * 1000LL : 100000000;
			x = put(w, 1, x,
				lag > 4 * timer + 500000000 ? u->st[S_WARN] : u->st[S_VALUE], "%s",
				fmt_dur(a, sizeof(a), lag < 0 ? 0 : lag));
		}
		if (st->live_timer_us)
			x = put(w, 1, x, u->st[S_DIM], " (live timer %s)",
				fmt_dur(b, sizeof(b), st->live_timer_us * 1000LL));
		else
			x = put(w, 1, x, u->st[S_DIM], " (live timer ?)");
	}

	/* 3: completions per second by reason */
	x = put(w, 2, 1, u->st[S_LABEL], "completions ");
	x = put(w, 2, x, u->st[S_VALUE], "%s/s", fmt_count(a, sizeof(a), t->completions_per_s));
	x = put(w, 2, x, u->st[S_DIM], " (%s)", fmt_count(b, sizeof(b), (double)t->completed));
	for (int k = 1; k < OTR_REASONS; k++) {
		if (k > OTR_CR_PUSH_TIMER && !t->completed_by[k])
			continue;
		attr_t va = k == OTR_CR_PUSH_TIMER && t->completions_per_s_by[k] > 0 ? u->st[S_WARN]
			    : k >= OTR_CR_ABORT ? u->st[S_ALERT]
						: u->st[S_VALUE];
		x = put(w, 2, x + 2, u->st[S_LABEL], "%s ", otr_complete_reason_name(k));
		x = put(w, 2, x, va, "%s/s", fmt_count(c, sizeof(c), t->completions_per_s_by[k]));
	}

	/* 4: the push timer over the horizon, or what the source says */
	if (st->state == VS_WAITING || st->state == VS_ERROR || st->state == VS_RECONNECTING ||
	    st->state == VS_CONNECTING) {
		put(w, 3, 1, st->state == VS_ERROR ? u->st[S_ALERT] : u->st[S_WARN], "%s", st->msg);
	} else {
		const struct otr_rates *h = &t->horizon;
		x = put(w, 3, 1, u->st[S_LABEL], "push timer (last %.0fs) ", sn->horizon_ns / 1e9);
		x = put(w, 3, x, h->push_timer_completions ? u->st[S_WARN] : u->st[S_VALUE],
			"%" PRIu64 " of %" PRIu64 " completions (%.0f%%), %s lost waiting",
			h->push_timer_completions, h->completions, h->push_timer_share * 100,
			fmt_dur(a, sizeof(a), h->push_timer_lost_ns));
		if (t->drops)
			x = put(w, 3, x + 2, u->st[S_WARN], "drops %" PRIu64, t->drops);
		if (t->resyncs || t->unknown)
			x = put(w, 3, x + 2, u->st[S_DIM], "resyncs %" PRIu64 " unknown %" PRIu64,
				t->resyncs, t->unknown);
		if (st->state == VS_ENDED && st->msg[0])
			put(w, 3, x + 2, st->session_ended ? u->st[S_WARN] : u->st[S_DIM], "| %s",
			    st->msg);
		else if (st->nmarks)
			put(w, 3, x + 2, u->st[S_DIM],
			    "| rows marked stale: their session is gone");
	}
}

static int header_key(struct panel *p, struct ui *u, int ch)
{
	return 0;
}

/* ---- the connection list ---- */

struct colspec {
	enum vcol col;
	int width; /* 0: computed (addresses) */
	bool left;
	int drop; /* dropped first when the screen is narrow: higher first */
};

static const struct colspec colspecs[VC__COUNT] = {
	{ VC_PID, 7, false, 9 },    { VC_ID, 5, false, 0 },   { VC_REMOTE, 0, true, 0 },
	{ VC_LOCAL, 0, true, 6 },   { VC_STATE, 6, true, 0 }, { VC_DEPTH, 4, false, 0 },
	{ VC_HEAD, 15, true, 2 },   { VC_MODE, 6, true, 5 },  { VC_TIMER, 7, false, 3 },
	{ VC_POSTED, 7, false, 8 }, { VC_DONE, 7, false, 1 }, { VC_IND, 5, false, 7 },
	{ VC_RATE, 8, false, 1 },   { VC_P50, 7, false, 4 },  { VC_P99, 7, false, 2 },
	{ VC_TSHARE, 6, false, 3 },
};

struct layout {
	int width[VC__COUNT];
	bool shown[VC__COUNT];
};

static void list_layout(const struct ui *u, int cols, struct layout *l)
{
	int aw = 10, lw = 10;
	for (size_t i = 0; i < u->sn.nrows; i++) {
		int r = (int)strlen(u->sn.rows[i].remote), lo = (int)strlen(u->sn.rows[i].local);
		aw = r > aw ? r : aw;
		lw = lo > lw ? lo : lw;
	}
	aw = aw > 47 ? 47 : aw;
	lw = lw > 47 ? 47 : lw;
	int total = 0;
	for (int c = 0; c < VC__COUNT; c++) {
		l->width[c] = colspecs[c].width ? colspecs[c].width : c == VC_REMOTE ? aw : lw;
		l->shown[c] = true;
		total += l->width[c] + 1;
	}
	for (int level = 9; level > 0 && total > cols; level--)
		for (int c = 0; c < VC__COUNT && total > cols; c++)
			if (colspecs[c].drop == level && l->shown[c]) {
				l->shown[c] = false;
				total -= l->width[c] + 1;
			}
}

static void cell(struct ui *u, WINDOW *w, int y, int x, int width, bool left, attr_t a,
		 const char *s)
{
	char buf[128];
	snprintf(buf, sizeof(buf), left ? "%-*.*s" : "%*.*s", width, width, s);
	put(w, y, x, a, "%s", buf);
}

static void draw_row(struct ui *u, WINDOW *w, int y, const struct vrow *r, const struct layout *l,
		     bool sel)
{
	attr_t base = sel				      ? u->st[S_SEL]
		      : r->state == OTR_CS_CLOSED || r->stale ? u->st[S_DIM]
		      : r->timer_bound			      ? u->st[S_WARN]
							      : u->st[S_NORMAL];
	if (sel)
		fill_line(w, y, base);
	int x = 0;
	char b[64];
	for (int c = 0; c < VC__COUNT; c++) {
		if (!l->shown[c])
			continue;
		int wd = l->width[c];
		const char *s = b;
		b[0] = 0;
		switch ((enum vcol)c) {
		case VC_PID:
			snprintf(b, sizeof(b), "%" PRIu64, r->vpid);
			break;
		case VC_ID:
			snprintf(b, sizeof(b), "%" PRIu64 "%s", r->id, r->suspect ? "?" : "");
			break;
		case VC_REMOTE:
			s = r->remote;
			break;
		case VC_LOCAL:
			s = r->local;
			break;
		case VC_STATE:
			s = row_state_name(r);
			break;
		case VC_DEPTH:
			snprintf(b, sizeof(b), "%" PRIu32, r->depth);
			break;
		case VC_HEAD:
			if (!r->has_head) {
				s = "-";
				break;
			}
			put_bar(u, w, y, x, 10, r->head_fill, r->head_len,
				sel		       ? base
				: r->mode == VM_NOPUSH ? u->st[S_INFO]
						       : 0);
			snprintf(b, sizeof(b), "%3.0f%%",
				 r->head_len ? 100.0 * r->head_fill / r->head_len : 0.0);
			cell(u, w, y, x + 11, 4, false, base, b);
			x += wd + 1;
			continue;
		case VC_MODE:
			s = vmode_name(r->mode);
			break;
		case VC_TIMER:
			if (r->timer_left_ns > 0)
				fmt_dur(b, sizeof(b), r->timer_left_ns);
			else if (!r->timer_left_ns)
				s = "due";
			else
				s = "-";
			break;
		case VC_POSTED:
			fmt_count(b, sizeof(b), (double)r->posted);
			break;
		case VC_DONE:
			fmt_count(b, sizeof(b), (double)r->completed);
			break;
		case VC_IND:
			fmt_count(b, sizeof(b), (double)r->indicated);
			break;
		case VC_RATE:
			fmt_bytes(b, sizeof(b), r->rate_bps);
			break;
		case VC_P50:
			r->hist_n ? fmt_dur(b, sizeof(b), (int64_t)r->p50_ns) : (void)(s = "-");
			break;
		case VC_P99:
			r->hist_n ? fmt_dur(b, sizeof(b), (int64_t)r->p99_ns) : (void)(s = "-");
			break;
		case VC_TSHARE:
			if (r->data_completed)
				snprintf(b, sizeof(b), "%.0f%%", r->tshare * 100);
			else
				s = "-";
			break;
		case VC__COUNT:
			break;
		}
		attr_t a = base;
		if (!sel && c == VC_TIMER && r->timer_left_ns >= 0)
			a = u->st[S_WARN];
		if (!sel && c == VC_TSHARE && r->timer_bound)
			a = u->st[S_WARN] | A_BOLD;
		cell(u, w, y, x, wd, colspecs[c].left, a, s);
		x += wd + 1;
	}
}

/* Keep the selection on its connection across sorts and filters. */
static void follow_selection(struct ui *u, int rows)
{
	struct vview *v = &u->v;
	if (!v->norder) {
		u->sel_pos = u->top = 0;
		return;
	}
	if (u->has_sel) {
		size_t i;
		for (i = 0; i < v->norder; i++) {
			const struct vrow *r = &u->sn.rows[v->order[i]];
			if (r->vpid == u->sel[0] && r->id == u->sel[1])
				break;
		}
		if (i < v->norder)
			u->sel_pos = i;
	}
	if (u->sel_pos >= v->norder)
		u->sel_pos = v->norder - 1;
	const struct vrow *r = &u->sn.rows[v->order[u->sel_pos]];
	u->sel[0] = r->vpid;
	u->sel[1] = r->id;
	u->has_sel = true;
	if (u->sel_pos < u->top)
		u->top = u->sel_pos;
	if (rows > 0 && u->sel_pos >= u->top + (size_t)rows)
		u->top = u->sel_pos - (size_t)rows + 1;
	if (rows > 0 && u->top + (size_t)rows > v->norder)
		u->top = v->norder > (size_t)rows ? v->norder - (size_t)rows : 0;
}

static void list_draw(struct panel *p, struct ui *u)
{
	WINDOW *w = p->win;
	werase(w);
	view_order(&u->v, &u->sn);
	int rows = p->h - 1;
	follow_selection(u, rows);
	struct layout l;
	list_layout(u, p->w, &l);

	fill_line(w, 0, u->st[S_TITLE]);
	int x = 0;
	for (int c = 0; c < VC__COUNT; c++) {
		if (!l.shown[c])
			continue;
		bool sorted = u->v.sort == (enum vcol)c;
		attr_t a = sorted ? u->st[S_SORT] : u->st[S_TITLE];
		bool left = colspecs[c].left || c == VC_HEAD;
		const char *arrow = !sorted   ? ""
				    : u->utf8 ? (u->v.invert ? "\u25b2" : "\u25bc")
					      : (u->v.invert ? "^" : "v");
		int wd = l.width[c] - (sorted ? 1 : 0);
		cell(u, w, 0, x, wd, left, a, vcol_name[c]);
		if (sorted) {
			int ax = left ? x + (int)strlen(vcol_name[c]) : x + wd;
			if (left)
				cell(u, w, 0, ax, x + l.width[c] - ax, true, a, "");
			put(w, 0, ax, a, "%s", arrow);
		}
		x += l.width[c] + 1;
	}
	if (!u->v.norder) {
		const struct vs_status *st = &u->sn.st;
		const char *msg = u->sn.nrows ? "no connection matches the filter (/ to change it)"
				  : st->state == VS_WAITING || st->state == VS_ERROR ||
						  st->state == VS_CONNECTING
					  ? st->msg
				  : st->live ? "no connection yet: waiting for the engine's events"
					     : "no connection in the trace so far";
		/* wrap the message over the empty list */
		int y = 2, width = p->w - 4;
		size_t len = strlen(msg), at = 0;
		attr_t a = st->state == VS_ERROR ? u->st[S_ALERT] : u->st[S_WARN];
		while (at < len && y < p->h && width > 10) {
			size_t n = len - at;
			if (n > (size_t)width) {
				n = (size_t)width;
				while (n > 10 && msg[at + n] != ' ')
					n--;
			}
			put(w, y++, 2, a, "%.*s", (int)n, msg + at);
			at += n;
			while (msg[at] == ' ')
				at++;
		}
		return;
	}
	for (int i = 0; i < rows && u->top + (size_t)i < u->v.norder; i++) {
		size_t k = u->top + (size_t)i;
		draw_row(u, w, i + 1, &u->sn.rows[u->v.order[k]], &l, k == u->sel_pos);
	}
}

static int move_sel(struct ui *u, long delta)
{
	view_order(&u->v, &u->sn);
	long n = (long)u->v.norder;
	if (!n)
		return KH_HANDLED;
	long pos = (long)u->sel_pos + delta;
	pos = pos < 0 ? 0 : pos >= n ? n - 1 : pos;
	u->sel_pos = (size_t)pos;
	const struct vrow *r = &u->sn.rows[u->v.order[u->sel_pos]];
	u->sel[0] = r->vpid;
	u->sel[1] = r->id;
	u->has_sel = true;
	return KH_HANDLED | KH_REDRAW;
}

static int list_key(struct panel *p, struct ui *u, int ch)
{
	int page = p->h - 2 > 1 ? p->h - 2 : 1;
	switch (ch) {
	case KEY_UP:
	case 'k':
		return move_sel(u, -1);
	case KEY_DOWN:
	case 'j':
		return move_sel(u, 1);
	case KEY_PPAGE:
		return move_sel(u, -page);
	case KEY_NPAGE:
		return move_sel(u, page);
	case KEY_HOME:
	case 'g':
		return move_sel(u, -(long)u->v.norder);
	case KEY_END:
	case 'G':
		return move_sel(u, (long)u->v.norder);
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (!u->has_sel || !u->v.norder)
			return KH_HANDLED;
		u->main = &u->detail;
		u->want_snap = true;
		return KH_HANDLED | KH_REDRAW;
	}
	return 0;
}

/* ---- one connection's detail ---- */

/* A frame of h x wd cells: Unicode box lines in a UTF-8 locale, else ASCII (ACS glyphs are
 * not text a terminal capture shows). */
static void frame_box(struct ui *u, WINDOW *w, int y, int x, int h, int wd, attr_t a)
{
	const char *const *g;
	static const char *const gu[] = {
		"\u250c", "\u2500", "\u2510", "\u2502", "\u2514", "\u2518"
	};
	static const char *const ga[] = { "+", "-", "+", "|", "+", "+" };
	g = u->utf8 ? gu : ga;
	put_run(w, y, x, a, g[0], 1);
	put_run(w, y, x + 1, a, g[1], wd - 2);
	put_run(w, y, x + wd - 1, a, g[2], 1);
	for (int r = 1; r < h - 1; r++) {
		put_run(w, y + r, x, a, g[3], 1);
		put_run(w, y + r, x + wd - 1, a, g[3], 1);
	}
	put_run(w, y + h - 1, x, a, g[4], 1);
	put_run(w, y + h - 1, x + 1, a, g[1], wd - 2);
	put_run(w, y + h - 1, x + wd - 1, a, g[5], 1);
}

static void draw_box(struct ui *u, WINDOW *w, int y, int x, const struct otr_req *q, bool timer,
		     int64_t left_ns, bool head)
{
	attr_t frame = head ? u->st[S_VALUE] : u->st[S_DIM];
	char t[32], a[16], b[16];
	frame_box(u, w, y, x, 5, BOX_W, frame);
	snprintf(t, sizeof(t), " req %" PRIu64 " ", q->id);
	put(w, y, x + 1, frame | A_BOLD, "%.*s", BOX_W - 2, t);
	bool unknown = q->flags & OTR_REQ_PLACEHOLDER;
	put_bar(u, w, y + 1, x + 1, BOX_W - 2, unknown ? 0 : q->fill, q->len,
		q->no_push ? u->st[S_INFO] : 0);
	if (unknown)
		snprintf(t, sizeof(t), "?/?");
	else
		snprintf(t, sizeof(t), "%s/%s", fmt_bytes(a, sizeof(a), q->fill),
			 fmt_bytes(b, sizeof(b), q->len));
	put(w, y + 2, x + 1, u->st[S_NORMAL], "%-*.*s", BOX_W - 2, BOX_W - 2, t);
	int xx = put(w, y + 3, x + 1, q->no_push ? u->st[S_INFO] : u->st[S_GOOD], "%s",
		     q->no_push ? "nopush" : "push");
	if (timer && left_ns >= 0)
		put(w, y + 3, xx + 1, u->st[S_WARN] | A_BOLD, "T-%s",
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
		put(w, 1, 2, u->st[S_WARN],
		    "the connection is no longer in the model "
		    "(Esc: back to the list)");
		return;
	}
	const struct vrow *r = &d->row;
	char a[32], b[32], c[32];
	int y = 0, x;
	fill_line(w, y, u->st[S_TITLE]);
	x = put(w, y, 0, u->st[S_TITLE] | A_BOLD, " conn %" PRIu64, r->id);
	x = put(w, y, x, u->st[S_TITLE], " (pid %" PRIu64 ")  %s > %s  %s", r->vpid, r->remote,
		r->local, row_state_name(r));
	if (r->stale)
		x = put(w, y, x, u->st[S_TITLE] | A_BOLD, " since %s (its session is gone)",
			fmt_clock(a, sizeof(a), r->stale_since_ns));
	x = put(w, y, x, u->st[S_TITLE], "%s  mss %u",
		r->suspect ? " (suspect: events missing)" : "", d->mss);
	put(w, y, x, u->st[S_TITLE], "   Esc: back  up/down: other connections");
	y++;
	x = put(w, y, 1, u->st[S_LABEL], "rate ");
	x = put(w, y, x, u->st[S_VALUE], "%sB/s", fmt_bytes(a, sizeof(a), r->rate_bps));
	x = put(w, y, x + 2, u->st[S_LABEL], "posted ");
	x = put(w, y, x, u->st[S_VALUE], "%" PRIu64, r->posted);
	x = put(w, y, x + 2, u->st[S_LABEL], "completed ");
	x = put(w, y, x, u->st[S_VALUE], "%" PRIu64, r->completed);
	x = put(w, y, x, u->st[S_DIM], " (");
	for (int k = 1, first = 1; k < OTR_REASONS; k++) {
		if (!d->completed_by[k])
			continue;
		x = put(w, y, x, k == OTR_CR_PUSH_TIMER ? u->st[S_WARN] : u->st[S_DIM],
			"%s%s %" PRIu64, first ? "" : ", ", otr_complete_reason_name(k),
			d->completed_by[k]);
		first = 0;
	}
	x = put(w, y, x, u->st[S_DIM], ")");
	x = put(w, y, x + 2, u->st[S_LABEL], "indicated ");
	x = put(w, y, x, u->st[S_VALUE], "%" PRIu64, r->indicated);
	x = put(w, y, x + 2, u->st[S_LABEL], "batches ");
	put(w, y, x, u->st[S_VALUE], "%" PRIu64 " (max %" PRIu64 ")", d->complete_calls,
	    d->max_batch);
	y++;
	x = put(w, y, 1, u->st[S_LABEL], "push timer ");
	x = put(w, y, x, u->st[S_VALUE],
		"starts %" PRIu64 " restarts %" PRIu64 " expiries %" PRIu64, d->timer_starts,
		d->timer_restarts, d->timer_expiries);
	x = put(w, y, x + 2, u->st[S_LABEL],
		"time lost to the push timer, last %.0fs: ", d->horizon_ns / 1e9);
	put(w, y, x, d->rates.push_timer_lost_ns ? u->st[S_WARN] | A_BOLD : u->st[S_VALUE],
	    "%s (%" PRIu64 " of %" PRIu64 " completions by the timer)",
	    fmt_dur(a, sizeof(a), d->rates.push_timer_lost_ns), d->rates.push_timer_completions,
	    d->rates.completions);
	y++;
	const struct vs_whatif *wi = &d->wi;
	x = put(w, y, 1, u->st[S_LABEL], "what if ");
	if (wi->valid && wi->vpid == r->vpid && wi->id == r->id) {
		/* the window first: what the figures are over */
		x = put(w, y, x - 1, u->st[S_DIM], ", last %s (%u completions%s): ",
			fmt_dur(a, sizeof(a), wi->to_ns - wi->from_ns), wi->ncomps,
			wi->truncated ? ", cut at the history limit" : "");
		for (int k = 0; k < 2; k++) {
			const struct vs_whatif_run *v = &wi->v[k];
			x = put(w, y, x, u->st[S_VALUE],
				"%stimer %s: push-timer %.0f%%, lf p99 %s, post p99 %s",
				k ? " | " : "", fmt_dur(a, sizeof(a), v->timer_ns), v->share * 100,
				fmt_dur(b, sizeof(b), v->lf_p99_ns),
				fmt_dur(c, sizeof(c), v->p2c_p99_ns));
		}
	} else if (wi->done && wi->vpid == r->vpid && wi->id == r->id && !wi->timer_known) {
		put(w, y, x, u->st[S_DIM],
		    "no push-timer start seen from this engine yet: its timer value is unknown");
	} else if (wi->done && wi->vpid == r->vpid && wi->id == r->id) {
		put(w, y, x, u->st[S_DIM],
		    "not enough recent history to replay (%u events of this connection kept, "
		    "none a post)",
		    wi->nevents);
	} else {
		put(w, y, x, u->st[S_DIM], "replaying the recent history in the background");
	}
	y += 2;

	/* the queue, as a row of boxes */
	int fit = (p->w - 1) / (BOX_W + 1);
	x = put(w, y, 1, u->st[S_LABEL] | A_BOLD, "Queue");
	put(w, y, x, u->st[S_DIM],
	    " (%" PRIu32 " posted, oldest first; the push timer guards the "
	    "request marked T-)",
	    r->depth);
	y++;
	if (!r->depth) {
		put(w, y + 2, 3, u->st[S_DIM],
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
			put(w, y + 2, 2 + (int)show * (BOX_W + 1), u->st[S_DIM],
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
		put(w, y, 1, u->st[S_LABEL] | A_BOLD, "Recent completions");
		put(w, y, 20, u->st[S_DIM], "%-12s %6s  %-13s %-13s %9s %10s %10s", "time", "req",
		    "reason", "status", "bytes", "post>done", "wait");
		y++;
		for (int i = 0; i < recent_h - 1 && i < (int)d->nrecent; i++, y++) {
			const struct otr_completion *e = &d->recent[i];
			attr_t ea = e->reason == OTR_CR_PUSH_TIMER ? u->st[S_WARN]
				    : e->reason >= OTR_CR_ABORT	   ? u->st[S_ALERT]
								   : u->st[S_NORMAL];
			when(u, e->ts_ns, a, sizeof(a));
			put(w, y, 20, ea, "%-12s %6" PRIu64 "  %-13s %-13s %9" PRIu32 " %10s %10s",
			    a, e->req, otr_complete_reason_name(e->reason),
			    otr_status_name(e->status), e->bytes,
			    fmt_dur(b, sizeof(b), (int64_t)e->post_ns),
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
	x = put(w, y, 1, u->st[S_LABEL] | A_BOLD, "Latency post>complete");
	for (int k = 0; k < VD_NCLS; k++) {
		x = put_run(w, y, x + 2, ca[k], u->utf8 ? glyph_utf8[k] : glyph_ascii[k], 2);
		x = put(w, y, x + 1, u->st[S_NORMAL], "%s n=%" PRIu64, vd_cls_name[k], d->n[k]);
		if (d->n[k])
			x = put(w, y, x, u->st[S_DIM], " p50 %s p99 %s",
				fmt_dur(a, sizeof(a), (int64_t)d->p50[k]),
				fmt_dur(b, sizeof(b), (int64_t)d->p99[k]));
	}
	y++;
	if (last_bin < 0) {
		put(w, y, 3, u->st[S_DIM], "no completion yet");
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
		x = put(w, y, 1, u->st[S_LABEL], "%10s ", vd_bin_label[i]);
		for (int k = 0; k < VD_NCLS; k++) {
			int cells = (int)((double)d->bins[i][k] * barw / (double)most + 0.5);
			if (d->bins[i][k] && !cells)
				cells = 1;
			x = put_run(w, y, x, ca[k], u->utf8 ? glyph_utf8[k] : glyph_ascii[k],
				    cells);
		}
		if (s)
			put(w, y, x + 1, u->st[S_DIM], "%" PRIu64, s);
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
		return move_sel(u, -1);
	case KEY_DOWN:
	case 'j':
		u->want_snap = true;
		return move_sel(u, 1);
	}
	return 0;
}

/* ---- footer: keys, the filter being typed, messages ---- */

static void footer_draw(struct panel *p, struct ui *u)
{
	WINDOW *w = p->win;
	werase(w);
	if (u->editing) {
		int x = put(w, 0, 0, u->st[S_SORT], "Filter: ");
		x = put(w, 0, x, u->st[S_VALUE], "%s", u->edit);
		x = put(w, 0, x, u->st[S_SEL], " "); /* the cursor */
		if (u->edit_err[0])
			put(w, 0, x + 1, u->st[S_ALERT], "%s", u->edit_err);
		else
			put(w, 0, x + 1, u->st[S_DIM],
			    "(all words match: port, address, timer, open/closed/stale, pid:N, "
			    "id:N; "
			    "Enter: apply  Esc: cancel  ^U: clear)");
		return;
	}
	if (u->status[0] && mono_ns() < u->status_until) {
		put(w, 0, 0, u->status_alert ? u->st[S_ALERT] : u->st[S_INFO] | A_BOLD, "%s",
		    u->status);
		return;
	}
	static const char *const keys[][2] = {
		{ "?", "help" },   { "Enter", "detail" }, { "Tab", "panel" }, { "/", "filter" },
		{ "s<>", "sort" }, { "I", "invert" },	  { "p", "pause" },   { "<-->", "step" },
		{ "e", "export" }, { "q", "quit" },
	};
	int x = 0;
	/* the filter in force first: its terms, and what it leaves */
	if (u->v.filter[0])
		x = put(w, 0, x, u->st[S_WARN] | A_BOLD, "filter: %s", u->v.filter) + 1;
	if (u->sn.nrows)
		x = put(w, 0, x, u->v.filter[0] ? u->st[S_WARN] : u->st[S_DIM], "%zu/%zu shown",
			u->v.norder, u->sn.nrows) +
		    2;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		x = put(w, 0, x, u->st[S_VALUE] | A_BOLD, "%s", keys[i][0]);
		x = put(w, 0, x, u->st[S_DIM], " %s", keys[i][1]);
		x += 2;
	}
}

/* The text being typed: in force at once when it parses, else the error shows. */
static void edit_changed(struct ui *u)
{
	char err[sizeof(u->edit_err)];
	if (view_set_filter(&u->v, u->edit, err, sizeof(err)))
		snprintf(u->edit_err, sizeof(u->edit_err), "%s", err);
	else
		u->edit_err[0] = 0;
	u->list.dirty = true;
}

static int footer_key(struct panel *p, struct ui *u, int ch)
{
	if (!u->editing)
		return 0;
	size_t n = strlen(u->edit);
	if (ch == 27) { /* Esc: cancel, the filter before stays */
		view_set_filter(&u->v, u->saved_filter, u->edit_err, sizeof(u->edit_err));
		u->edit_err[0] = 0;
		u->editing = false;
		u->list.dirty = true;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		edit_changed(u);
		if (u->edit_err[0]) /* not applied: say why, keep editing */
			return KH_HANDLED | KH_REDRAW;
		u->editing = false;
		u->status[0] = 0; /* the footer shows the terms in force now */
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == '\b') {
		if (n)
			u->edit[n - 1] = 0;
		edit_changed(u);
	} else if (ch == 21) { /* ^U */
		u->edit[0] = 0;
		edit_changed(u);
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(u->edit)) {
		u->edit[n] = (char)ch;
		u->edit[n + 1] = 0;
		edit_changed(u);
	} else {
		return KH_HANDLED;
	}
	return KH_HANDLED | KH_REDRAW;
}

/* ---- help overlay ---- */

static const char *const help_lines[] = {
	"offrx-view: the receive path of offrx engines, from their LTTng trace",
	"",
	"  Up/Down PgUp/PgDn Home/End  move in the connection list (also j/k g/G)",
	"  Enter        the selected connection's detail: queue, completions, latency",
	"  Esc/Bksp     back to the list            Tab  switch list / detail",
	"  /            filter: edit the one in force (Enter applies, Esc cancels,",
	"               Ctrl-U clears). Words, all must match: a port (or port:N),",
	"               part of an address, timer (timer-bound), a state (open fin",
	"               rst upload closed stale), pid:N, id:N",
	"  s or >  <    sort on the next / previous column     I  invert the order",
	"  p or Space   pause: the screen freezes (a replay's clock stops too; live,",
	"               the model keeps running and resuming catches up)",
	"  Left/Right   step the replay clock back / forward 1 s (shift: 10 s)",
	"  e            export the visible connections' recent completions as",
	"               Chrome trace JSON (open it in ui.perfetto.dev)",
	"  Ctrl-L       redraw         ? or F1  this help         q  quit",
	"",
	"Rows: yellow = timer-bound (half or more of its completions by the push",
	"timer); an id with '?' is suspect (events were lost: discarded, late attach).",
	"HEAD: the oldest request's fill; TIMER: push timer time left; TIMER%: share",
	"of completions by the push timer; P50/P99: post to complete.",
	"",
	"Press any key to close.",
};

static void help_draw(struct panel *p, struct ui *u)
{
	int n = (int)(sizeof(help_lines) / sizeof(help_lines[0]));
	int hw = 0;
	for (int i = 0; i < n; i++)
		hw = (int)strlen(help_lines[i]) > hw ? (int)strlen(help_lines[i]) : hw;
	hw += 4;
	int hh = n + 2;
	if (hw > COLS)
		hw = COLS;
	if (hh > LINES)
		hh = LINES;
	if (p->win)
		delwin(p->win);
	p->win = newwin(hh, hw, (LINES - hh) / 2, (COLS - hw) / 2);
	if (!p->win)
		return;
	p->h = hh;
	p->w = hw;
	WINDOW *w = p->win;
	werase(w);
	frame_box(u, w, 0, 0, hh, hw, u->st[S_INFO]);
	put(w, 0, 2, u->st[S_INFO] | A_BOLD, " Help ");
	for (int i = 0; i < n && i + 1 < hh - 1; i++)
		put(w, i + 1, 2, i == 0 ? u->st[S_VALUE] | A_BOLD : u->st[S_NORMAL], "%.*s", hw - 4,
		    help_lines[i]);
}

static int help_key(struct panel *p, struct ui *u, int ch)
{
	u->show_help = false;
	u->main->dirty = u->header.dirty = u->footer.dirty = true;
	return KH_HANDLED | KH_REDRAW;
}

static const struct panel_ops header_ops = { "header", header_draw, header_key };
static const struct panel_ops list_ops = { "list", list_draw, list_key };
static const struct panel_ops detail_ops = { "detail", detail_draw, detail_key };
static const struct panel_ops footer_ops = { "footer", footer_draw, footer_key };
static const struct panel_ops help_ops = { "help", help_draw, help_key };

/* ---- the loop ---- */

static void styles(struct ui *u, bool color)
{
	attr_t *s = u->st;
	for (int i = 0; i < S__COUNT; i++)
		s[i] = A_NORMAL;
	if (color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);
		init_pair(2, COLOR_RED, -1);
		init_pair(3, COLOR_GREEN, -1);
		init_pair(4, COLOR_YELLOW, -1);
		init_pair(5, COLOR_BLACK, COLOR_CYAN);
		init_pair(6, COLOR_BLACK, COLOR_GREEN);
		init_pair(7, COLOR_BLUE, -1);
		init_pair(8, COLOR_BLACK, COLOR_YELLOW);
		init_pair(9, COLOR_WHITE, COLOR_RED);
		s[S_LABEL] = COLOR_PAIR(1);
		s[S_VALUE] = A_BOLD;
		s[S_ALERT] = COLOR_PAIR(9) | A_BOLD;
		s[S_GOOD] = COLOR_PAIR(3);
		s[S_WARN] = COLOR_PAIR(4);
		s[S_INFO] = COLOR_PAIR(1);
		s[S_TITLE] = COLOR_PAIR(5);
		s[S_SEL] = COLOR_PAIR(6);
		s[S_DIM] = COLOR_PAIR(7) | A_BOLD;
		s[S_SORT] = COLOR_PAIR(8) | A_BOLD;
		s[S_BAR_BG] = COLOR_PAIR(7);
	} else {
		s[S_VALUE] = A_BOLD;
		s[S_ALERT] = A_REVERSE | A_BOLD;
		s[S_WARN] = A_BOLD;
		s[S_TITLE] = A_REVERSE;
		s[S_SEL] = A_REVERSE | A_BOLD;
		s[S_DIM] = A_DIM;
		s[S_SORT] = A_REVERSE | A_BOLD | A_UNDERLINE;
		s[S_BAR_BG] = A_DIM;
	}
}

static void place(struct panel *p, int h, int w, int y, int x)
{
	if (p->win)
		delwin(p->win);
	p->win = h > 0 && w > 0 ? newwin(h, w, y, x) : NULL;
	p->h = h;
	p->w = w;
	p->dirty = true;
}

static void layout(struct ui *u)
{
	u->too_small = COLS < MIN_COLS || LINES < MIN_LINES;
	if (u->too_small)
		return;
	place(&u->header, HEADER_H, COLS, 0, 0);
	place(&u->list, LINES - HEADER_H - 1, COLS, HEADER_H, 0);
	place(&u->detail, LINES - HEADER_H - 1, COLS, HEADER_H, 0);
	place(&u->footer, 1, COLS, LINES - 1, 0);
}

static void draw_too_small(void)
{
	erase();
	char l1[64], l2[64];
	snprintf(l1, sizeof(l1), "terminal too small (%dx%d)", COLS, LINES);
	snprintf(l2, sizeof(l2), "offrx-view needs %dx%d; q quits", MIN_COLS, MIN_LINES);
	const char *lines[] = { l1, l2 };
	for (int i = 0; i < 2; i++) {
		int y = LINES / 2 - 1 + i, n = (int)strlen(lines[i]);
		if (n > COLS)
			n = COLS;
		if (y >= 0 && y < LINES && COLS > 0)
			mvaddnstr(y, COLS > n ? (COLS - n) / 2 : 0, lines[i], n);
	}
	refresh();
}

static void draw(struct ui *u, bool all)
{
	if (u->too_small) {
		draw_too_small();
		return;
	}
	struct panel *ps[] = { &u->header, u->main, &u->footer };
	bool any = false;
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		struct panel *p = ps[i];
		if (!p->win)
			continue;
		/* an idle panel (no new snapshot, no change of its own) is not drawn again */
		if (!all && !p->dirty && p->drawn_seq == u->sn.seq)
			continue;
		p->ops->draw(p, u);
		p->dirty = false;
		p->drawn_seq = u->sn.seq;
		if (all)
			touchwin(p->win);
		wnoutrefresh(p->win);
		any = true;
	}
	if (u->show_help) {
		u->help.ops->draw(&u->help, u);
		if (u->help.win) {
			touchwin(u->help.win);
			wnoutrefresh(u->help.win);
		}
		any = true;
	}
	if (any)
		doupdate();
}

static void take_snapshot(struct ui *u)
{
	uint64_t key[2] = { u->sel[0], u->sel[1] };
	vs_lock(u->s);
	snap_take(&u->sn, u->s, u->main == &u->detail && u->has_sel ? key : NULL);
	vs_unlock(u->s);
	u->last_snap = mono_ns();
	u->snap_version = u->sn.version;
	u->want_snap = false;
}

static bool timers_running(const struct vsnap *sn)
{
	for (size_t i = 0; i < sn->nrows; i++)
		if (sn->rows[i].timer_left_ns >= 0)
			return true;
	return false;
}

/* Is a new snapshot due? At most one a frame; only when the model changed or the clock moves
 * what is shown (a running replay, push timers counting down); once a second when idle. */
static bool snapshot_due(struct ui *u, int64_t now)
{
	if (u->want_snap)
		return true;
	if (now - u->last_snap < FRAME_NS)
		return false;
	const struct vs_status *st = &u->sn.st;
	/* live and paused: frozen. A paused replay's model moves only when stepped. */
	if (u->paused && st->live)
		return false;
	if (vs_version(u->s) != u->snap_version)
		return true;
	if (u->paused)
		return false;
	if (!st->live && st->state == VS_REPLAY)
		return true;
	if (st->live && st->state == VS_LIVE && timers_running(&u->sn))
		return true;
	return now - u->last_snap >= IDLE_NS;
}

static int do_export(struct ui *u)
{
	size_t n = 0, cap = u->main == &u->detail ? 1 : (size_t)(u->list.h > 1 ? u->list.h - 1 : 1);
	uint64_t *keys = calloc(cap * 2, sizeof(*keys));
	if (!keys)
		return KH_HANDLED;
	if (u->main == &u->detail && u->has_sel) {
		keys[0] = u->sel[0];
		keys[1] = u->sel[1];
		n = 1;
	} else {
		for (size_t i = u->top; i < u->v.norder && n < cap; i++, n++) {
			keys[2 * n] = u->sn.rows[u->v.order[i]].vpid;
			keys[2 * n + 1] = u->sn.rows[u->v.order[i]].id;
		}
	}
	char path[4096], err[512];
	size_t events = 0;
	if (export_perfetto(u->s, keys, n, u->o->export_dir, path, sizeof(path), &events, err,
			    sizeof(err)))
		set_status(u, true, "export failed: %s", err);
	else {
		set_status(u, false, "exported %zu completions of %zu connections to %s", events, n,
			   path);
		snprintf(u->last_export, sizeof(u->last_export), "%s", path);
	}
	free(keys);
	return KH_HANDLED | KH_REDRAW;
}

static int global_key(struct ui *u, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return KH_QUIT;
	case '?':
	case 'h':
	case KEY_F(1):
		u->show_help = true;
		return KH_HANDLED | KH_REDRAW;
	case 'p':
	case 'P':
	case ' ':
		u->paused = !u->paused;
		vs_pause(u->s, u->paused);
		u->sn.st.paused = u->paused; /* the header says so at once, even frozen */
		if (!u->paused)
			u->want_snap = true;
		u->header.dirty = true;
		set_status(u, false,
			   u->paused ? (u->sn.st.live ? "paused: the screen is frozen, the "
							"model keeps running (p resumes)"
						      : "paused: the replay clock stopped "
							"(Left/Right step, p resumes)")
				     : "resumed");
		return KH_HANDLED | KH_REDRAW;
	case KEY_LEFT:
	case KEY_RIGHT:
	case KEY_SLEFT:
	case KEY_SRIGHT: {
		int64_t step = u->o->step_ns ? u->o->step_ns : 1000000000LL;
		if (ch == KEY_SLEFT || ch == KEY_SRIGHT)
			step *= 10;
		if (ch == KEY_LEFT || ch == KEY_SLEFT)
			step = -step;
		int ret = vs_seek(u->s, step);
		if (ret == -ENOTSUP)
			set_status(u, true,
				   "stepping needs a recorded trace: live keeps only the "
				   "present (record with offrx-recv --trace)");
		else if (ret)
			set_status(u, true, "nothing to step through yet");
		else
			set_status(u, false, "replay clock %+.1f s%s", step / 1e9,
				   step < 0 ? ": replaying from the start" : "");
		u->want_snap = true;
		return KH_HANDLED | KH_REDRAW;
	}
	case '/':
		/* The filter in force, ready for one more term after it (words combine). */
		u->editing = true;
		snprintf(u->saved_filter, sizeof(u->saved_filter), "%s", u->v.filter);
		snprintf(u->edit, sizeof(u->edit), "%s%s", u->v.filter, u->v.filter[0] ? " " : "");
		u->edit_err[0] = 0;
		u->footer.dirty = true;
		return KH_HANDLED | KH_REDRAW;
	case 's':
	case '>':
	case '.':
		u->v.sort = (enum vcol)((u->v.sort + 1) % VC__COUNT);
		u->v.sorted_dirty = u->list.dirty = true;
		set_status(u, false, "sorted by %s", vcol_name[u->v.sort]);
		return KH_HANDLED | KH_REDRAW;
	case '<':
	case ',':
		u->v.sort = (enum vcol)((u->v.sort + VC__COUNT - 1) % VC__COUNT);
		u->v.sorted_dirty = u->list.dirty = true;
		set_status(u, false, "sorted by %s", vcol_name[u->v.sort]);
		return KH_HANDLED | KH_REDRAW;
	case 'I':
		u->v.invert = !u->v.invert;
		u->v.sorted_dirty = u->list.dirty = true;
		set_status(u, false, "sorted by %s, %s", vcol_name[u->v.sort],
			   u->v.invert ? "inverted" : "natural order");
		return KH_HANDLED | KH_REDRAW;
	case '\t':
	case KEY_BTAB:
		u->main = u->main == &u->list && u->has_sel ? &u->detail : &u->list;
		u->main->dirty = true;
		u->want_snap = true;
		return KH_HANDLED | KH_REDRAW;
	case 'e':
	case 'E':
		return do_export(u);
	case 12: /* ^L */
		clearok(curscr, TRUE);
		u->header.dirty = u->main->dirty = u->footer.dirty = true;
		return KH_HANDLED | KH_REDRAW;
	}
	return 0;
}

static int handle_key(struct ui *u, int ch)
{
	if (ch == KEY_RESIZE) {
		/* getch() refreshes stdscr, which the resize touched: flush it now, under the
		 * panels, or the next getch() would blank the screen over them. */
		werase(stdscr);
		wnoutrefresh(stdscr);
		layout(u);
		clearok(curscr, TRUE);
		return KH_HANDLED | KH_REDRAW;
	}
	if (u->too_small)
		return ch == 'q' || ch == 'Q' ? KH_QUIT : KH_HANDLED;
	if (u->show_help)
		return u->help.ops->key(&u->help, u, ch);
	if (u->editing)
		return u->footer.ops->key(&u->footer, u, ch);
	int r = u->main->ops->key(u->main, u, ch);
	if (r & KH_HANDLED)
		return r;
	return global_key(u, ch);
}

int ui_run(struct vsource *s, const struct ui_opts *o)
{
	struct ui u0 = { 0 }, *u = &u0;
	u->s = s;
	u->o = o;
	u->v.sort = o->sort;
	u->v.invert = o->invert;
	char ferr[256];
	if (o->filter && view_set_filter(&u->v, o->filter, ferr, sizeof(ferr))) {
		fprintf(stderr, "offrx-view: --filter: %s\n", ferr);
		return 2;
	}
	snap_init(&u->sn, o->horizon_ns ? o->horizon_ns : 10000000000LL);
	u->header.ops = &header_ops;
	u->list.ops = &list_ops;
	u->detail.ops = &detail_ops;
	u->footer.ops = &footer_ops;
	u->help.ops = &help_ops;
	u->main = &u->list;

	setlocale(LC_ALL, "");
	u->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!initscr()) {
		fprintf(stderr, "offrx-view: cannot start the terminal (TERM=%s); try --batch\n",
			getenv("TERM") ? getenv("TERM") : "unset");
		return 1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	timeout(50);
	const char *nc = getenv("NO_COLOR");
	styles(u, has_colors() && !o->no_color && !(nc && nc[0]));
	vs_lock(s);
	struct vs_status st;
	vs_status(s, &st);
	vs_unlock(s);
	u->paused = st.paused;
	layout(u);
	take_snapshot(u);
	draw(u, true);
	int status = 0;
	for (;;) {
		int ch = getch();
		if (got_signal)
			break;
		bool all = false;
		if (ch != ERR) {
			int r = handle_key(u, ch);
			if (r & KH_QUIT)
				break;
			if (ch == KEY_RESIZE || ch == 12)
				all = true;
			if (r & KH_REDRAW) {
				/* a key redraws at once what it changed */
				u->main->dirty = u->footer.dirty = true;
				if (ch == KEY_RESIZE)
					u->header.dirty = true;
			}
		}
		int64_t now = mono_ns();
		if (u->status[0] && now >= u->status_until) {
			u->status[0] = 0;
			u->footer.dirty = true;
		}
		if (snapshot_due(u, now))
			take_snapshot(u);
		if (u->show_help && ch != ERR)
			all = true;
		draw(u, all);
	}
	endwin();
	if (u->last_export[0])
		printf("offrx-view: the last export is %s\n", u->last_export);
	vs_lock(s);
	vs_status(s, &st);
	vs_unlock(s);
	if (st.state == VS_ERROR) {
		fprintf(stderr, "offrx-view: %s\n", st.msg);
		status = 1;
	}
	struct panel *ps[] = { &u->header, &u->list, &u->detail, &u->footer, &u->help };
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		if (ps[i]->win)
			delwin(ps[i]->win);
	snap_free(&u->sn);
	view_free(&u->v);
	return status;
}
