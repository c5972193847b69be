/* The engine object and the connection object, shared by api.c and the links. A link creates
 * the engine with engine_create(), opens connections with engine_conn_open(), feeds them
 * through the rxq_* calls, and drives timers with rxq_advance(). */
#ifndef OFFRX_ENGINE_H
#define OFFRX_ENGINE_H

#include <offrx/offrx.h>

#include "rxq.h"

#define OFFRX_MAX_LAYERS 8

/* What a link knows of a connection, for the conn_open event. */
struct link_conn_info {
	char local_addr[48], remote_addr[48];
	uint16_t local_port, remote_port;
	uint32_t isn;
	uint16_t mss;
	uint8_t wscale;
	uint32_t queue; /* the receive queue whose shard runs the connection (0: one queue) */
};

struct link_ops {
	const char *name;
	void (*flush_ack)(struct offrx_conn *conn); /* send a pending delayed ACK (R26) */
	void (*conn_free)(struct offrx_conn *conn); /* free conn->link_priv */
	void (*shutdown)(struct offrx_engine *eng); /* before the connections are closed */
	void (*destroy)(struct offrx_engine *eng);  /* after */
	uint32_t (*drops)(const struct offrx_engine *eng, const char **names, uint64_t *counts,
			  uint32_t max);
	void (*names)(const struct offrx_conn *conn, char *local, char *remote, size_t len);
	void (*info)(const struct offrx_conn *conn, struct link_conn_info *out);
};

struct offrx_layer {
	const struct offrx_layer_ops *ops;
	void *ctx;
	struct offrx_conn *conn;
	uint32_t index; /* 0 sits right on the engine */
};

struct offrx_conn {
	struct rxq_conn rc; /* first */
	struct offrx_engine *eng;
	void *ctx;
	struct offrx_layer layers[OFFRX_MAX_LAYERS];
	uint32_t nlayers;
	struct offrx_conn *next, *prev;
	void *link_priv; /* the link's per-connection state */
};

struct offrx_engine {
	struct rxq q;
	struct offrx_callbacks cb;
	void *user;
	const struct link_ops *link;
	void *link_priv;
	uint32_t max_conns, nconns;
	uint32_t upcall_depth;		     /* application code is running: destroy must wait */
	uint64_t snapshot_ns, last_snapshot; /* conn_state period (tracing) */
	/* conn_state snapshots are spread over the period (engine_trace_tick): the next
	 * connection to dump (NULL: the list's head), when the last share was dumped, and the
	 * part of a connection owed (in connection-nanoseconds, below snapshot_ns) */
	struct offrx_conn *snap_next;
	uint64_t snap_last, snap_owed;
	uint64_t conns_total;
	struct offrx_conn *conns;
	uint32_t trace_payload; /* opts.trace_payload_bytes, capped: 0 = no payload traced */
	/* Connection ids are id_base + n * id_stride (n = 1, 2, ...): unique over the queues
	 * of an engine of several (1 and 0 for one). */
	uint64_t id_stride, id_base;
	/* An engine of several receive queues (link on the wire): the application holds
	 * shards[0]; shards[i] runs queue i with its own link, connections and timers, on its
	 * own thread. Every shard points at the one array (shards[0] frees it). NULL / 1 for an
	 * engine of one queue, which takes no turn lock. */
	struct offrx_engine **shards;
	uint32_t nshards, shard;
	/* The turn lock of a shard of several: held by the thread running the shard's turn
	 * (callbacks included) and by an application call that needs the engine thread; owner
	 * aware, so a callback may call the API on its own shard. engine_turn_enter(). */
	pthread_mutex_t turn_lock;
	pthread_t turn_owner;
	uint32_t turn_depth;
	bool turn_owned;
};

/* Take shard s's turn lock (nothing for an engine of one queue). Returns 0, or -EDEADLK when
 * the calling thread is inside the turn of another shard of the engine (a callback of another
 * queue), where waiting could deadlock. */
int engine_turn_enter(struct offrx_engine *s);
void engine_turn_leave(struct offrx_engine *s);
/* Make eng (created by engine_create*) shard index of n, which share the application's
 * callbacks; shards[0] holds the array. */
void engine_shard_init(struct offrx_engine *eng, uint32_t index, uint32_t n);
/* Bytes stored by the engine's open connections (its thread, or its turn held). */
uint64_t engine_bytes_received(struct offrx_engine *s);

/* Fill defaults into opts, check them, and create an engine on the given link and clock,
 * tracing through the given sink (trace.h; NULL: nothing traced). engine_create traces
 * nothing: links made up by tests use it. */
int engine_create_traced(const struct offrx_engine_opts *opts, const struct link_ops *link,
			 uint64_t (*clock)(void *ctx), void *clock_ctx,
			 const struct offrx_trace_sink *trace, struct offrx_engine **out);
int engine_create(const struct offrx_engine_opts *opts, const struct link_ops *link,
		  uint64_t (*clock)(void *ctx), void *clock_ctx, struct offrx_engine **out);
/* Open a connection (the link's handshake is done) with the link's state for it; calls
 * conn_new. */
int engine_conn_open(struct offrx_engine *eng, uint32_t irs, struct offrx_conn **out,
		     void *link_priv);
/* Emit conn_state snapshots when their period has come; returns true when it had (links add
 * their own periodic events then). */
bool engine_trace_tick(struct offrx_engine *eng);
/* Free a connection; refused (INVALID_STATE) from inside one of its own upcalls. */
int engine_conn_close(struct offrx_conn *conn, enum offrx_close_reason reason);

#endif
