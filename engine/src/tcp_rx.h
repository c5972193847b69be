/* tcp_rx: the TCP receive side of the engine, over the receive core (rxq).
 *
 * Passive open on the configured ports, sequence and ACK processing, a bounded out-of-order
 * store, delayed ACKs, window advertisement from what the core can really store (R24), FIN and
 * RST (RFC 5961). It sends no payload, only SYN-ACK, ACK, FIN and RST segments, through an
 * output callback. It takes parsed segments (pkt.h) and a clock, so tests drive it without a
 * link; the AF_XDP link feeds it on the wire.
 */
#ifndef OFFRX_TCP_RX_H
#define OFFRX_TCP_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "pkt.h"

/* Why tcp_rx refused a segment (or part of one): TCP_DROP_NONE, then the members of
 * OFFRX_TCP_DROP_LIST (offrx_names.h: values, stable short names, meanings). The trace
 * carries OFFRX_DROP_TCP_BASE + the value. */
/* clang-format off */
enum tcp_drop {
	TCP_DROP_NONE = 0,
#define TCP_DROP_ENUM_(id, name, v) TCP_DROP_##id = (v),
	OFFRX_TCP_DROP_LIST(TCP_DROP_ENUM_)
#undef TCP_DROP_ENUM_
	TCP_DROP__COUNT
};
/* clang-format on */
const char *tcp_drop_str(enum tcp_drop d);

enum tcp_state {
	TCP_SYN_RCVD = 1,
	TCP_ESTABLISHED,
	TCP_LAST_ACK, /* peer's FIN received and ACKed, our FIN sent */
	TCP_CLOSED,
};

struct tcp_rx_cfg {
	const uint16_t *ports; /* local ports we accept on (host order) */
	uint32_t nports;
	uint16_t mss;		/* MSS we advertise over IPv4 (IPv6: 20 less); default 1460 */
	uint8_t wscale;		/* our window scale shift; default 7 */
	uint32_t max_conns;	/* established connections; default 4096 */
	uint32_t max_halfopen;	/* SYN_RCVD entries; default 1024 */
	uint64_t delack_ns;	/* delayed ACK; default 40 ms */
	uint64_t synack_rto_ns; /* SYN-ACK retransmit; default 1 s, 3 tries */
	uint64_t idle_ns;	/* idle timeout; 0 = none */
	uint32_t ooo_max;	/* out-of-order store per connection: bytes plus a fixed cost
				 * per piece (OOO_PIECE_COST); default 256 KiB */
	uint32_t wnd_max;	/* most window advertised, in bytes; 0: what the core can store */
	/* Send one segment (header only). The build struct is valid during the call. */
	void (*xmit)(void *ctx, const struct pkt_tcp_build *seg);
	void *xmit_ctx;
	/* One queue of an engine of several (NULL for one queue): flow() hears of every flow
	 * this table takes (add) and lets go, so the queues share a directory of flows; a
	 * segment of no flow here goes to foreign() first, before the SYN and RST handling, and
	 * is done with unless it answers TCP_FOREIGN_NONE. Both get xmit_ctx. */
	void (*flow)(void *ctx, const uint8_t *raddr, const uint8_t *laddr, uint16_t rport,
		     uint16_t lport, bool add);
	int (*foreign)(void *ctx, const struct pkt_info *seg);
};

enum {
	TCP_FOREIGN_NONE = 0, /* no other queue has the flow: handle it here */
	TCP_FOREIGN_MOVED,    /* handed to the queue that has it */
	TCP_FOREIGN_FULL,     /* that queue takes no more now: dropped (TCP_DROP_MOVED_FULL) */
};

struct tcp_rx_stats {
	uint64_t segs_in, bytes_in, bytes_stored;
	uint64_t acks_out, synacks_out, rsts_out, fins_out, challenge_acks, window_updates;
	uint64_t conns_opened, conns_closed, halfopen;
	uint64_t drops[TCP_DROP__COUNT];
};

struct tcp_conn;
struct tcp_rx;

int tcp_rx_create(const struct tcp_rx_cfg *cfg, struct offrx_engine *eng, struct tcp_rx **out);
void tcp_rx_destroy(struct tcp_rx *rx);

/* One received segment, already parsed and checksum-verified. */
void tcp_rx_input(struct tcp_rx *rx, const struct pkt_info *seg);
/* The receive batch is over: send the cumulative ACKs it earned (one per connection). */
void tcp_rx_batch_end(struct tcp_rx *rx);

/* Timers: delayed ACKs, SYN-ACK retransmits, idle connections, window updates after posts.
 * Call after each receive batch and at least every millisecond or so. */
void tcp_rx_tick(struct tcp_rx *rx);

/* The link operations of an engine whose connections come from tcp_rx (flush_ack, conn_free);
 * engine_create() takes them for the AF_XDP engine and for tests on a virtual clock. */
extern const struct link_ops tcp_rx_link_ops;

/* Send a pending delayed ACK now (upload, R26). */
void tcp_rx_flush_ack(struct offrx_conn *conn);
/* Free the TCP state of a connection the engine is closing. */
void tcp_rx_conn_free(struct offrx_conn *conn);

void tcp_rx_stats(const struct tcp_rx *rx, struct tcp_rx_stats *out);

/* Reset every connection (RST to the peer; requests complete REQUEST_ABORTED) and close it:
 * the engine is going away. */
void tcp_rx_abort_all(struct tcp_rx *rx);

/* The connection's 4-tuple as "addr:port" strings, for messages and traces. */
void tcp_rx_conn_names(const struct offrx_conn *conn, char *local, char *remote, size_t len);
/* Addresses, ports, ISN, MSS and window scale, for the conn_open event. */
void tcp_rx_conn_info(const struct offrx_conn *conn, struct link_conn_info *out);

#endif
