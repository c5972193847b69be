/* Names of statuses, for messages and traces. */
#include <offrx/offrx.h>

const char *offrx_status_str(int status)
{
	switch (status) {
	case OFFRX_SUCCESS:
		return "SUCCESS";
	case OFFRX_PENDING:
		return "PENDING";
	case OFFRX_PARTIALLY_ACCEPTED:
		return "PARTIALLY_ACCEPTED";
	case OFFRX_NOT_ACCEPTED:
		return "NOT_ACCEPTED";
	case OFFRX_REQUEST_ABORTED:
		return "REQUEST_ABORTED";
	case OFFRX_UPLOAD_IN_PROGRESS:
		return "UPLOAD_IN_PROGRESS";
	case OFFRX_INVALID_STATE:
		return "INVALID_STATE";
	case OFFRX_INVALID_PARAMETER:
		return "INVALID_PARAMETER";
	case OFFRX_RESOURCES:
		return "RESOURCES";
	}
	return "UNKNOWN";
}
