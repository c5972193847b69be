/* The curses front end's loop: the panels (panel_*.c, the vtables of panel.h) laid out on the
 * screen, the key dispatch (the help overlay, then the filter being typed, then the main panel,
 * then the keys every panel shares), the status line, and the frame pacing: the UI loop takes a
 * snapshot (snap.c) under the source's lock at most 10 times a second, and only when something
 * changed, then draws without the lock; a panel with nothing new is not drawn again. */
#define _GNU_SOURCE
#include "panel.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_COLS  60
#define MIN_LINES 12
#define FRAME_NS  100000000LL  /* at most 10 frames a second */
#define IDLE_NS	  1000000000LL /* an idle source: one frame a second (lag, rates decay) */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

int64_t ui_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A message on the footer for 6 seconds (alert: in the alert style). */
void ui_set_status(struct ui *u, bool alert, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->status, sizeof(u->status), fmt, ap);
	va_end(ap);
	u->status_alert = alert;
	u->status_until = ui_mono_ns() + 6000000000LL;
	u->footer.dirty = true;
}

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

/* The list keeps at least this many lines when the header grows by its queue lines. */
#define LIST_MIN 6

int ui_header_lines(const struct ui *u)
{
	int room = LINES - HEADER_LINES - 1 - LIST_MIN;
	int q = (int)u->sn.nqueues;
	return HEADER_LINES + (q < room ? q : room > 0 ? room : 0);
}

static void layout(struct ui *u)
{
	u->too_small = COLS < MIN_COLS || LINES < MIN_LINES;
	if (u->too_small)
		return;
	int hh = ui_header_lines(u);
	place(&u->header, hh, COLS, 0, 0);
	place(&u->list, LINES - hh - 1, COLS, hh, 0);
	place(&u->detail, LINES - hh - 1, COLS, hh, 0);
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
	if (!u->too_small && u->header.win && u->header.h != ui_header_lines(u)) {
		layout(u); /* a queue came: the header grows by its line */
		clearok(curscr, TRUE);
	}
	u->last_snap = ui_mono_ns();
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
		ui_set_status(u, true, "export failed: %s", err);
	else {
		ui_set_status(u, false, "exported %zu completions of %zu connections to %s", events,
			      n, path);
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
		ui_set_status(u, false,
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
			ui_set_status(u, true,
				      "stepping needs a recorded trace: live keeps only the "
				      "present (record with offrx-recv --trace)");
		else if (ret)
			ui_set_status(u, true, "nothing to step through yet");
		else
			ui_set_status(u, false, "replay clock %+.1f s%s", step / 1e9,
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
		ui_set_status(u, false, "sorted by %s", vcol_name[u->v.sort]);
		return KH_HANDLED | KH_REDRAW;
	case '<':
	case ',':
		u->v.sort = (enum vcol)((u->v.sort + VC__COUNT - 1) % VC__COUNT);
		u->v.sorted_dirty = u->list.dirty = true;
		ui_set_status(u, false, "sorted by %s", vcol_name[u->v.sort]);
		return KH_HANDLED | KH_REDRAW;
	case 'I':
		u->v.invert = !u->v.invert;
		u->v.sorted_dirty = u->list.dirty = true;
		ui_set_status(u, false, "sorted by %s, %s", vcol_name[u->v.sort],
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
	u->header.ops = &panel_header_ops;
	u->list.ops = &panel_list_ops;
	u->detail.ops = &panel_detail_ops;
	u->footer.ops = &panel_footer_ops;
	u->help.ops = &panel_help_ops;
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
		int64_t now = ui_mono_ns();
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
