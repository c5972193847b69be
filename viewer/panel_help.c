/* The help overlay: the keys and what the rows and columns mean; any key closes it. */
#define _GNU_SOURCE
#include "panel.h"

#include <string.h>

static const char *const help_lines[] = {
	"offrx-view: the receive path of offrx engines, from their LTTng trace",
	"",
	"  Up/Down PgUp/PgDn Home/End  move in the connection list (also j/k g/G)",
	"  Enter        the selected connection's detail: queue, completions, latency",
	"  Esc/Bksp     back to the list            Tab  switch list / detail",
	"  /            filter: edit the one in force (Enter applies, Esc cancels,",
	"               Ctrl-U clears). Words, all must match: a port (or port:N),",
	"               part of an address, timer (timer-bound), a state (open fin",
	"               rst upload closed stale), pid:N, id:N, q:N (receive queue N)",
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
	"of completions by the push timer; P50/P99: post to complete; RXQ: the",
	"receive queue running it (Q: requests queued).",
	"Header, one line per receive queue: qN [its engine thread's CPU%],",
	"connections, bytes/s, completions/s, drops, fill-ring empty count, frames/s.",
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
	ui_frame_box(u, w, 0, 0, hh, hw, u->st[S_INFO]);
	ui_put(w, 0, 2, u->st[S_INFO] | A_BOLD, " Help ");
	for (int i = 0; i < n && i + 1 < hh - 1; i++)
		ui_put(w, i + 1, 2, i == 0 ? u->st[S_VALUE] | A_BOLD : u->st[S_NORMAL], "%.*s",
		       hw - 4, help_lines[i]);
}

static int help_key(struct panel *p, struct ui *u, int ch)
{
	u->show_help = false;
	u->main->dirty = u->header.dirty = u->footer.dirty = true;
	return KH_HANDLED | KH_REDRAW;
}

const struct panel_ops panel_help_ops = { "help", help_draw, help_key };
