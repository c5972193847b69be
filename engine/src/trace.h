/* The single switch between the engine and its tracepoints (OFFRX_TRACING=LTTNG|NONE).
 * The core builds a struct offrx_event only when someone listens (an observer or an enabled
 * tracepoint) and hands it here. The LTTng-UST provider plugs in behind these two functions;
 * until it does, both configurations compile the same type-checked calls. */
#ifndef OFFRX_TRACE_H
#define OFFRX_TRACE_H

#include <offrx/offrx.h>
#include <stdbool.h>

static inline bool offrx_trace_enabled(void)
{
	return false;
}

static inline void offrx_trace_emit(const struct offrx_event *ev)
{
	(void)ev;
}

#endif
