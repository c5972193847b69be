/* The connection list: one row per connection, the columns dropped by priority when the
 * screen is narrow, the sort column marked, the selection followed across sorts and filters. */
#define _GNU_SOURCE
#include "panel.h"

#include <inttypes.h>
#include <string.h>

struct colspec {
	enum vcol col;
	int width; /* 0: computed (addresses) */
	bool left;
	int drop; /* dropped first when the screen is narrow: higher first */
};

static const struct colspec colspecs[VC__COUNT] = {
	{ VC_PID, 7, false, 9 },   { VC_ID, 5, false, 0 },     { VC_REMOTE, 0, true, 0 },
	{ VC_LOCAL, 0, true, 6 },  { VC_STATE, 6, true, 0 },   { VC_RXQ, 3, false, 6 },
	{ VC_DEPTH, 4, false, 0 }, { VC_HEAD, 15, true, 2 },   { VC_MODE, 6, true, 5 },
	{ VC_TIMER, 7, false, 3 }, { VC_POSTED, 7, false, 8 }, { VC_DONE, 7, false, 1 },
	{ VC_IND, 5, false, 7 },   { VC_RATE, 8, false, 1 },   { VC_P50, 7, false, 4 },
	{ VC_P99, 7, false, 2 },   { VC_TSHARE, 6, false, 3 },
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
	ui_put(w, y, x, a, "%s", buf);
}

static void draw_row(struct ui *u, WINDOW *w, int y, const struct vrow *r, const struct layout *l,
		     bool sel)
{
	attr_t base = sel				      ? u->st[S_SEL]
		      : r->state == OTR_CS_CLOSED || r->stale ? u->st[S_DIM]
		      : r->timer_bound			      ? u->st[S_WARN]
							      : u->st[S_NORMAL];
	if (sel)
		ui_fill_line(w, y, base);
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
		case VC_RXQ:
			r->queue >= 0 ? (void)snprintf(b, sizeof(b), "%" PRId32, r->queue)
				      : (void)(s = "-");
			break;
		case VC_DEPTH:
			snprintf(b, sizeof(b), "%" PRIu32, r->depth);
			break;
		case VC_HEAD:
			if (!r->has_head) {
				s = "-";
				break;
			}
			ui_put_bar(u, w, y, x, 10, r->head_fill, r->head_len,
				   sel			  ? base
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

	ui_fill_line(w, 0, u->st[S_TITLE]);
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
			ui_put(w, 0, ax, a, "%s", arrow);
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
			ui_put(w, y++, 2, a, "%.*s", (int)n, msg + at);
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

/* Move the selection by delta rows of the list as shown (clamped). */
int ui_move_sel(struct ui *u, long delta)
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
		return ui_move_sel(u, -1);
	case KEY_DOWN:
	case 'j':
		return ui_move_sel(u, 1);
	case KEY_PPAGE:
		return ui_move_sel(u, -page);
	case KEY_NPAGE:
		return ui_move_sel(u, page);
	case KEY_HOME:
	case 'g':
		return ui_move_sel(u, -(long)u->v.norder);
	case KEY_END:
	case 'G':
		return ui_move_sel(u, (long)u->v.norder);
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

const struct panel_ops panel_list_ops = { "list", list_draw, list_key };
