/* Drawing primitives the panels share: clipped text, runs of a glyph, bars and frames. */
#define _GNU_SOURCE
#include "panel.h"

#include <stdarg.h>
#include <string.h>

/* ---- drawing helpers ---- */

/* Text at y, x clipped to the window; returns the column after it. */
int ui_put(WINDOW *w, int y, int x, attr_t a, const char *fmt, ...)
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
int ui_put_run(WINDOW *w, int y, int x, attr_t a, const char *glyph, int n)
{
	int maxx = getmaxx(w);
	wattrset(w, a);
	for (int i = 0; i < n && x < maxx; i++, x++)
		mvwaddstr(w, y, x, glyph);
	wattrset(w, A_NORMAL);
	return x;
}

void ui_fill_line(WINDOW *w, int y, attr_t a)
{
	wattrset(w, a);
	wmove(w, y, 0);
	for (int x = 0; x < getmaxx(w); x++)
		waddch(w, ' ');
	wattrset(w, A_NORMAL);
}

/* A fill bar of width cells for fill/len; "-" cells when there is no request. */
int ui_put_bar(struct ui *u, WINDOW *w, int y, int x, int width, uint32_t fill, uint32_t len,
	       attr_t a)
{
	int full = len ? (int)((uint64_t)fill * (uint64_t)width / len) : 0;
	if (fill && !full)
		full = 1; /* a byte is there: show it */
	if (full > width)
		full = width;
	x = ui_put_run(w, y, x, a ? a : u->st[S_GOOD], u->utf8 ? "\u2588" : "#", full);
	return ui_put_run(w, y, x, u->st[S_BAR_BG], u->utf8 ? "\u2591" : ".", width - full);
}

/* A frame of h x wd cells: Unicode box lines in a UTF-8 locale, else ASCII (ACS glyphs are
 * not text a terminal capture shows). */
void ui_frame_box(struct ui *u, WINDOW *w, int y, int x, int h, int wd, attr_t a)
{
	const char *const *g;
	static const char *const gu[] = {
		"\u250c", "\u2500", "\u2510", "\u2502", "\u2514", "\u2518"
	};
	static const char *const ga[] = { "+", "-", "+", "|", "+", "+" };
	g = u->utf8 ? gu : ga;
	ui_put_run(w, y, x, a, g[0], 1);
	ui_put_run(w, y, x + 1, a, g[1], wd - 2);
	ui_put_run(w, y, x + wd - 1, a, g[2], 1);
	for (int r = 1; r < h - 1; r++) {
		ui_put_run(w, y + r, x, a, g[3], 1);
		ui_put_run(w, y + r, x + wd - 1, a, g[3], 1);
	}
	ui_put_run(w, y + h - 1, x, a, g[4], 1);
	ui_put_run(w, y + h - 1, x + 1, a, g[1], wd - 2);
	ui_put_run(w, y + h - 1, x + wd - 1, a, g[5], 1);
}
