/* The Chrome trace event writer: see chrome_trace.h. */
#include "chrome_trace.h"

#include <string.h>

void ct_head(struct ct_writer *w, char ph, uint64_t pid, uint64_t tid, const char *name)
{
	struct jw_out *o = w->o;

	if (w->first)
		w->first = false;
	else
		jw_lit(o, ",\n");
	jw_lit(o, "{\"ph\":\"");
	jw_putc(o, ph);
	jw_lit(o, "\",\"pid\":");
	jw_put_u64(o, pid);
	jw_lit(o, ",\"tid\":");
	jw_put_u64(o, tid);
	jw_lit(o, ",\"name\":");
	jw_put_str(o, name);
}

void ct_meta(struct ct_writer *w, uint64_t pid, uint64_t tid, const char *what, const char *name)
{
	ct_head(w, 'M', pid, tid, what);
	jw_lit(w->o, ",\"args\":{\"name\":");
	jw_put_str(w->o, name);
	jw_lit(w->o, "}}");
}

void ct_us(struct ct_writer *w, const char *key, int64_t ns)
{
	jw_putc(w->o, ',');
	jw_put_str(w->o, key);
	jw_putc(w->o, ':');
	jw_put_us(w->o, ns);
}
