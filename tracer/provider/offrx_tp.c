/* Defines the probes of the offrx tracepoint provider (offrx_tp.h): this file does nothing else. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "offrx_tp.h"
