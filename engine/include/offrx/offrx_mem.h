/* offrx in-memory link: drive an engine without a network, on a virtual clock.
 *
 * For unit tests of the receive core, the scenario demo and trace replays: the caller opens
 * connections, delivers in-order stream bytes (with or without PSH), signals FIN, RST, and
 * moves time forward. Everything the real link does above the wire happens the same way.
 */
#ifndef OFFRX_OFFRX_MEM_H
#define OFFRX_OFFRX_MEM_H

#include <offrx/offrx.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Create an engine on an in-memory link; its clock starts at 0 ns and moves only with
 * offrx_mem_advance(). */
int offrx_mem_engine_create(const struct offrx_engine_opts *opts, struct offrx_engine **out);

/* Open a connection as if its handshake had just completed. irs is the peer's initial
 * sequence number (receive-next starts at irs + 1). Calls conn_new before returning. */
int offrx_mem_conn_open(struct offrx_engine *eng, uint32_t irs, struct offrx_conn **out);

#define OFFRX_MEM_PSH 0x1u

/* Deliver the next len bytes of the stream (in order). Returns how many were stored, which is
 * what a TCP receiver may acknowledge (R24): less than len when the engine has no room, and 0
 * after a disconnect or upload. Completions and indications run before it returns. */
uint64_t offrx_mem_deliver(struct offrx_conn *conn, const void *data, uint64_t len, uint32_t flags);

/* The peer closed (FIN) or reset (RST) the connection (R25). */
int offrx_mem_fin(struct offrx_conn *conn);
int offrx_mem_rst(struct offrx_conn *conn);

/* Release a connection that has disconnected or been uploaded (the engine keeps it until then
 * so the application can still post and get INVALID_STATE back). */
int offrx_mem_conn_close(struct offrx_conn *conn);

/* Move the virtual clock forward by ns and run every timer that falls due, each at its own
 * deadline (the clock steps from one deadline to the next). */
void offrx_mem_advance(struct offrx_engine *eng, uint64_t ns);
uint64_t offrx_mem_now(const struct offrx_engine *eng);
/* Move the clock to now_ns (never backwards) without a timer pass, as when one poll of a real
 * link handles an arrival before it looks at timers. A timer that is due fires on the next
 * offrx_mem_advance(), or first thing in an arrival that finds it due. */
void offrx_mem_set_time(struct offrx_engine *eng, uint64_t now_ns);

/* Counters of what the link would have done on a wire: ACKs it sent (with the last
 * acknowledged sequence and window) and delayed ACKs flushed by uploads. The window is the
 * engine's space when the ACK went out, but, as TCP asks, never ending left of an edge
 * already advertised; the engine keeps room for all of it (R24). */
struct offrx_mem_link_stats {
	uint64_t acks;
	uint32_t last_ack_seq;
	uint32_t last_wnd;
	uint64_t ack_flushes;
};
int offrx_mem_link_stats(const struct offrx_conn *conn, struct offrx_mem_link_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* OFFRX_OFFRX_MEM_H */
