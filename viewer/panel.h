/* offrx-view's screen, inside: the panels and the state they share. Each panel is a file
 * (panel_header.c, panel_conns.c, panel_detail.c, panel_footer.c, panel_help.c) behind a small
 * vtable; ui.c lays them out, dispatches the keys and paces the frames; draw.c has the drawing
 * primitives. Panels draw u->sn (a struct vsnap), never the model. */
#ifndef OFFRX_VIEW_PANEL_H
#define OFFRX_VIEW_PANEL_H

#include "view.h"

#include <curses.h>

/* What a key handler returns: bits. 0: not this panel's key. */
enum { KH_HANDLED = 1, KH_REDRAW = 2, KH_QUIT = 4 };

#define BOX_W 16 /* a request's box in the detail's queue */

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

/* The panels' vtables (panel_*.c). */
extern const struct panel_ops panel_header_ops, panel_list_ops, panel_detail_ops, panel_footer_ops,
	panel_help_ops;

/* ---- ui.c ---- */

int64_t ui_mono_ns(void);
/* A message on the footer for 6 seconds (alert: in the alert style). */
void ui_set_status(struct ui *u, bool alert, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The header's lines: HEADER_LINES, then one per receive queue as room allows. */
#define HEADER_LINES 4
int ui_header_lines(const struct ui *u);

/* ---- panel_conns.c ---- */

/* Move the list's selection by delta rows as shown (clamped); the detail's up/down too. */
int ui_move_sel(struct ui *u, long delta);

/* ---- draw.c ---- */

/* Text at y, x clipped to the window; returns the column after it. */
int ui_put(WINDOW *w, int y, int x, attr_t a, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* n cells of one glyph (a UTF-8 string or an ASCII character); returns the column after. */
int ui_put_run(WINDOW *w, int y, int x, attr_t a, const char *glyph, int n);
void ui_fill_line(WINDOW *w, int y, attr_t a);
/* A fill bar of width cells for fill/len; "-" cells when there is no request. */
int ui_put_bar(struct ui *u, WINDOW *w, int y, int x, int width, uint32_t fill, uint32_t len,
	       attr_t a);
/* A frame of h x wd cells: Unicode box lines in a UTF-8 locale, else ASCII. */
void ui_frame_box(struct ui *u, WINDOW *w, int y, int x, int h, int wd, attr_t a);

#endif /* OFFRX_VIEW_PANEL_H */
