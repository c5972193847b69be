/* The Chrome trace event writer (JSON Object Format: {"traceEvents":[...]}; Perfetto and
 * chrome://tracing open it), over the JSON write buffer. offrx-export --format chrome writes a
 * whole trace with it, offrx-view's `e` key the recent completions on screen. The caller
 * writes the document around the events and each event's fields after the head. */
#ifndef OFFRX_CHROME_TRACE_H
#define OFFRX_CHROME_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "jw.h"

struct ct_writer {
	struct jw_out *o;
	bool first; /* no event written yet: no separator */
};

static inline void ct_init(struct ct_writer *w, struct jw_out *o)
{
	w->o = o;
	w->first = true;
}

/* An event's head, after a separator: {"ph":"PH","pid":PID,"tid":TID,"name":"NAME"; the
 * caller adds the rest and the closing brace. */
void ct_head(struct ct_writer *w, char ph, uint64_t pid, uint64_t tid, const char *name);
/* A whole metadata event: {"ph":"M",...,"name":"WHAT","args":{"name":"NAME"}}
 * (what: "process_name", "thread_name"). */
void ct_meta(struct ct_writer *w, uint64_t pid, uint64_t tid, const char *what, const char *name);
/* ,"KEY":US: a time or duration in ns, written in microseconds (the format's unit). */
void ct_us(struct ct_writer *w, const char *key, int64_t ns);

#endif /* OFFRX_CHROME_TRACE_H */
