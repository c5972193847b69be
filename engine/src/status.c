/* Names of statuses, for messages and traces: the table is OFFRX_STATUS_LIST (offrx_names.h). */
#include <offrx/offrx.h>

/* offrx_conn_stats.completed_by[] is ABI: every complete reason must index it. */
_Static_assert(OFFRX_NAMES_MIN(OFFRX_COMPLETE_REASON_LIST) >= 0 &&
		       OFFRX_NAMES_MAX(OFFRX_COMPLETE_REASON_LIST) < OFFRX_COMPLETE_REASONS,
	       "a complete reason past offrx_conn_stats.completed_by[]: the struct is ABI, so "
	       "count such reasons elsewhere");

const char *offrx_status_str(int status)
{
	const char *name = offrx_status_name(status);

	return name ? name : "UNKNOWN";
}
