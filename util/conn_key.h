/* A connection of a trace: the engine's process (vpid) and its connection id. The key of the
 * exporters' per-connection tables and of the what-if replay's records, one type for both. */
#ifndef OFFRX_CONN_KEY_H
#define OFFRX_CONN_KEY_H

#include <stdint.h>

struct conn_key {
	uint64_t vpid, conn;
};

#endif /* OFFRX_CONN_KEY_H */
