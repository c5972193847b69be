/* The footer: the keys, the filter in force or being typed (in force as typed while it
 * parses), and the status messages. */
#define _GNU_SOURCE
#include "panel.h"

#include <string.h>

static void footer_draw(struct panel *p, struct ui *u)
{
	WINDOW *w = p->win;
	werase(w);
	if (u->editing) {
		int x = ui_put(w, 0, 0, u->st[S_SORT], "Filter: ");
		x = ui_put(w, 0, x, u->st[S_VALUE], "%s", u->edit);
		x = ui_put(w, 0, x, u->st[S_SEL], " "); /* the cursor */
		if (u->edit_err[0])
			ui_put(w, 0, x + 1, u->st[S_ALERT], "%s", u->edit_err);
		else
			ui_put(w, 0, x + 1, u->st[S_DIM],
			       "(all words match: port, address, timer, open/closed/stale, pid:N, "
			       "id:N; "
			       "Enter: apply  Esc: cancel  ^U: clear)");
		return;
	}
	if (u->status[0] && ui_mono_ns() < u->status_until) {
		ui_put(w, 0, 0, u->status_alert ? u->st[S_ALERT] : u->st[S_INFO] | A_BOLD, "%s",
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
		x = ui_put(w, 0, x, u->st[S_WARN] | A_BOLD, "filter: %s", u->v.filter) + 1;
	if (u->sn.nrows)
		x = ui_put(w, 0, x, u->v.filter[0] ? u->st[S_WARN] : u->st[S_DIM], "%zu/%zu shown",
			   u->v.norder, u->sn.nrows) +
		    2;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		x = ui_put(w, 0, x, u->st[S_VALUE] | A_BOLD, "%s", keys[i][0]);
		x = ui_put(w, 0, x, u->st[S_DIM], " %s", keys[i][1]);
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

const struct panel_ops panel_footer_ops = { "footer", footer_draw, footer_key };
