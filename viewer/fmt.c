/* Numbers for people, shared by the screen and the batch output, and the parsing of the
 * durations --from, --to and --interval take. */
#include "view.h"

#include "num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *fmt_dur(char *b, size_t n, int64_t ns)
{
	if (ns < 0)
		snprintf(b, n, "-");
	else if (ns < 1000)
		snprintf(b, n, "%lldns", (long long)ns);
	else if (ns < 1000000)
		snprintf(b, n, "%lldus", (long long)(ns / 1000));
	else if (ns < 10000000)
		snprintf(b, n, "%.2fms", ns / 1e6);
	else if (ns < 1000000000 && ns % 1000000 == 0)
		snprintf(b, n, "%lldms", (long long)(ns / 1000000));
	else if (ns < 1000000000)
		snprintf(b, n, "%.1fms", ns / 1e6);
	else if (ns < 100000000000LL)
		snprintf(b, n, "%.2fs", ns / 1e9);
	else
		snprintf(b, n, "%.0fs", ns / 1e9);
	return b;
}

static char *scaled(char *b, size_t n, double v, double base, const char *const *units)
{
	int u = 0;
	while (fabs(v) >= base * 0.9995 && units[u + 1]) {
		v /= base;
		u++;
	}
	if (!u)
		snprintf(b, n, "%.0f%s", v, units[0]);
	else
		snprintf(b, n, v < 9.995 ? "%.2f%s" : v < 99.95 ? "%.1f%s" : "%.0f%s", v, units[u]);
	return b;
}

char *fmt_bytes(char *b, size_t n, double v)
{
	static const char *const u[] = { "", "K", "M", "G", "T", NULL };
	return scaled(b, n, v, 1024, u);
}

char *fmt_count(char *b, size_t n, double v)
{
	static const char *const u[] = { "", "k", "M", "G", NULL };
	if (v > 0 && v < 10 && v != floor(v)) {
		snprintf(b, n, "%.1f", v);
		return b;
	}
	return scaled(b, n, v, 1000, u);
}

char *fmt_rel(char *b, size_t n, int64_t ns)
{
	if (ns == OTR_TS_NONE)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%s%lld.%03llds", ns < 0 ? "-" : "+", llabs(ns) / 1000000000LL,
			 (llabs(ns) / 1000000) % 1000);
	return b;
}

int parse_dur(const char *s, int64_t *ns)
{
	int r = num_duration(s, ns);
	return r == NUM_RANGE ? -ERANGE : r ? -EINVAL : 0;
}

const char *vs_state_name(const struct vs_status *st, char *b, size_t n)
{
	const char *s = "?";
	switch (st->state) {
	case VS_STARTING:
		s = "starting";
		break;
	case VS_WAITING:
		s = "waiting";
		break;
	case VS_CONNECTING:
		s = "connecting";
		break;
	case VS_LIVE:
		s = "live";
		break;
	case VS_RECONNECTING:
		s = "reconnecting";
		break;
	case VS_REPLAY:
		if (st->speed > 0)
			snprintf(b, n, "replay x%g", st->speed);
		else
			snprintf(b, n, "replay max");
		s = b;
		break;
	case VS_ENDED:
		s = "ended";
		break;
	case VS_ERROR:
		s = "error";
		break;
	}
	if (st->live && st->session_ended &&
	    (st->state == VS_WAITING || st->state == VS_ENDED || st->state == VS_RECONNECTING))
		s = "session ended";
	if ((st->paused || st->seeking) && st->state != VS_ERROR && st->state != VS_WAITING) {
		char base[32];
		snprintf(base, sizeof(base), "%s", s);
		snprintf(b, n, "%s%s%s", base, st->paused ? ", paused" : "",
			 st->seeking ? ", seeking" : "");
		return b;
	}
	return s;
}

const char *vmode_name(enum vmode m)
{
	switch (m) {
	case VM_PUSH:
		return "push";
	case VM_NOPUSH:
		return "nopush";
	case VM_MIXED:
		return "mixed";
	case VM_NONE:
		break;
	}
	return "-";
}

const char *row_state_name(const struct vrow *r)
{
	if (r->stale)
		return "stale";
	switch (r->state) {
	case OTR_CS_OPEN:
		return "open";
	case OTR_CS_DISCONNECTED: {
		/* the disconnect's close reason: rst or upload; any other shows as fin */
		bool kept =
			r->disc_reason == OFFRX_CLOSE_RST || r->disc_reason == OFFRX_CLOSE_UPLOAD;

		return otr_close_reason_name(kept ? r->disc_reason : OFFRX_CLOSE_FIN);
	}
	case OTR_CS_CLOSED:
		return "closed";
	}
	return "?";
}

char *fmt_clock(char *b, size_t n, int64_t wall_ns)
{
	time_t t = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(b, n, "%H:%M:%S", &tm);
	return b;
}
