/* No trace sink (trace.h): the default of offrx_core, the receive core the replays and the
 * fuzzers link. A replay must not write made-up events into a session that records this
 * user's engines, so its engines trace nothing. */
#include "trace.h"

const struct offrx_trace_sink *offrx_trace_default(void)
{
	return NULL;
}
