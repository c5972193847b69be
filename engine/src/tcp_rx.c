/* tcp_rx: TCP receive state over the receive core (see tcp_rx.h). Section numbers refer to
 * RFC 9293 unless another RFC is named. */
#include "tcp_rx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"
#include "trace.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* What one out-of-order piece costs on top of its bytes (its header and the allocator's):
 * charged against ooo_max, so that a storm of 1-byte segments with holes between them is
 * bounded in memory and in the work of walking the list, not only in payload bytes. */
#define OOO_PIECE_COST 64

struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq; /* of data[off] */
	uint32_t len, off;
	bool psh, fin;
	uint8_t data[];
};

struct tcp_conn {
	struct tcp_conn *hnext;	      /* hash bucket chain */
	struct tcp_conn *next, *prev; /* all connections, for timer scans */
	struct tcp_conn *dnext;	      /* delayed-ACK list */
	struct tcp_conn *anext;	      /* ACK-at-batch-end list */
	struct tcp_rx *rx;
	struct offrx_conn *oc;	   /* NULL while SYN_RCVD */
	struct pkt_tcp_build tmpl; /* our replies: addresses, ports, MACs, VLAN */
	enum tcp_state state;
	uint32_t irs, iss, snd_nxt, rcv_nxt; /* rcv_nxt counts the peer's FIN */
	uint32_t adv_edge;  /* furthest right edge ever advertised: what we accept up to */
	uint32_t last_edge; /* right edge of the window last advertised (window updates) */
	uint8_t rcv_wscale; /* our shift, 0 if the peer did not offer scaling */
	bool ts_ok, sack_ok, delack_queued, ack_queued;
	uint32_t ts_recent;
	uint32_t unacked_bytes;
	uint32_t rcv_mss; /* largest payload received: what a "full-sized segment" is here */
	uint64_t delack_at;
	uint64_t last_rx, synack_at;
	uint8_t synack_tries;
	struct ooo_seg *ooo;
	uint32_t ooo_bytes;  /* payload plus OOO_PIECE_COST per piece */
	uint32_t ooo_recent; /* a sequence number inside the block last added (RFC 2018 4) */
};

struct tcp_rx {
	struct tcp_rx_cfg cfg;
	struct offrx_engine *eng;
	struct tcp_conn **buckets;
	uint32_t nbuckets;
	struct tcp_conn *all;
	struct tcp_conn *delack;
	struct tcp_conn *ack_batch; /* connections owed an ACK when this receive batch ends */
	uint32_t nconns, nhalfopen;
	uint64_t secret;
	uint64_t last_scan, last_wscan;
	struct tcp_rx_stats st;
};

const char *tcp_drop_str(enum tcp_drop d)
{
	const char *name = offrx_drop_reason_name(OFFRX_DROP_TCP_BASE + (int)d);

	if (d == TCP_DROP_NONE)
		return "none";
	return (unsigned int)d < TCP_DROP__COUNT && name ? name : "unknown";
}

static void count_drop(struct tcp_rx *rx, enum tcp_drop why)
{
	rx->st.drops[why]++;
	const struct offrx_trace_sink *trace = rx->eng->q.cfg.trace;
	if (offrx_trace_on(trace, OFFRX_T_DROP))
		trace->drop(OFFRX_DROP_TCP_BASE + (int)why, 0, 0);
}

static uint64_t now_ns(const struct tcp_rx *rx)
{
	return rxq_now(&rx->eng->q);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t tuple_hash(const struct tcp_rx *rx, const uint8_t *raddr, const uint8_t *laddr,
			   uint16_t rport, uint16_t lport)
{
	uint64_t h = rx->secret ^ ((uint64_t)rport << 16 | lport);
	uint64_t w;
	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, raddr + i, 8);
		h = mix64(h ^ w);
		memcpy(&w, laddr + i, 8);
		h = mix64(h ^ w);
	}
	return h;
}

/* --- the connection table ------------------------------------------------------------- */

static struct tcp_conn **bucket_of(struct tcp_rx *rx, const uint8_t *raddr, const uint8_t *laddr,
				   uint16_t rport, uint16_t lport)
{
	return &rx->buckets[tuple_hash(rx, raddr, laddr, rport, lport) & (rx->nbuckets - 1)];
}

static struct tcp_conn *lookup(struct tcp_rx *rx, const struct pkt_info *s)
{
	struct tcp_conn *c = *bucket_of(rx, s->src_addr, s->dst_addr, s->src_port, s->dst_port);
	for (; c; c = c->hnext)
		if (c->tmpl.dst_port == s->src_port && c->tmpl.src_port == s->dst_port &&
		    !memcmp(c->tmpl.dst_addr, s->src_addr, 16) &&
		    !memcmp(c->tmpl.src_addr, s->dst_addr, 16))
			return c;
	return NULL;
}

static bool our_port(const struct tcp_rx *rx, uint16_t port)
{
	for (uint32_t i = 0; i < rx->cfg.nports; i++)
		if (rx->cfg.ports[i] == port)
			return true;
	return false;
}

static void ooo_free(struct tcp_conn *c)
{
	while (c->ooo) {
		struct ooo_seg *n = c->ooo->next;
		free(c->ooo);
		c->ooo = n;
	}
	c->ooo_bytes = 0;
}

static void delack_unlink(struct tcp_conn *c)
{
	if (!c->delack_queued)
		return;
	for (struct tcp_conn **pp = &c->rx->delack; *pp; pp = &(*pp)->dnext)
		if (*pp == c) {
			*pp = c->dnext;
			break;
		}
	c->delack_queued = false;
}

static void ack_batch_unlink(struct tcp_conn *c)
{
	if (!c->ack_queued)
		return;
	for (struct tcp_conn **pp = &c->rx->ack_batch; *pp; pp = &(*pp)->anext)
		if (*pp == c) {
			*pp = c->anext;
			break;
		}
	c->ack_queued = false;
}

/* Unlink and free the TCP state (the engine connection, if any, is freed by the caller). */
static void conn_release(struct tcp_conn *c)
{
	struct tcp_rx *rx = c->rx;
	struct tcp_conn **pp = bucket_of(rx, c->tmpl.dst_addr, c->tmpl.src_addr, c->tmpl.dst_port,
					 c->tmpl.src_port);
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	if (c->prev)
		c->prev->next = c->next;
	else
		rx->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	delack_unlink(c);
	ack_batch_unlink(c);
	if (c->state == TCP_SYN_RCVD)
		rx->nhalfopen--;
	if (rx->cfg.flow)
		rx->cfg.flow(rx->cfg.xmit_ctx, c->tmpl.dst_addr, c->tmpl.src_addr, c->tmpl.dst_port,
			     c->tmpl.src_port, false);
	rx->nconns--;
	rx->st.conns_closed++;
	ooo_free(c);
	free(c);
}

/* Close the connection: the engine side first (it hands up what is left), then ours. */
static void conn_close(struct tcp_conn *c, enum offrx_close_reason reason)
{
	c->state = TCP_CLOSED;
	if (c->oc)
		engine_conn_close(c->oc, reason); /* calls tcp_rx_conn_free */
	else
		conn_release(c);
}

void tcp_rx_conn_free(struct offrx_conn *oc)
{
	struct tcp_conn *c = oc->link_priv;
	oc->link_priv = NULL;
	if (c) {
		c->oc = NULL;
		conn_release(c);
	}
}

/* --- output ------------------------------------------------------------------------------ */

/* The window we can offer: what the core can store now (R24), in our scaled units. */
static uint16_t window_field(struct tcp_conn *c, uint32_t *edge)
{
	uint64_t space;
	if (c->oc)
		space = rxq_space(&c->oc->rc);
	else /* handshake: data will land in engine buffers until the application posts */
		space = c->rx->eng->q.cfg.hold_bytes_per_conn;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_SYN_RCVD)
		space = 0;
	if (c->rx->cfg.wnd_max && space > c->rx->cfg.wnd_max)
		space = c->rx->cfg.wnd_max; /* the application's cap (rcv_wnd_max) */
	uint64_t max = (uint64_t)0xffff << c->rcv_wscale;
	if (space > max)
		space = max;
	uint16_t field = (uint16_t)(space >> c->rcv_wscale); /* rounds down: never offer more */
	*edge = c->rcv_nxt + ((uint32_t)field << c->rcv_wscale);
	return field;
}

/* A window rounded down to our scale can end left of the edge already advertised: keep
 * accepting up to the old edge (RFC 9293 3.8.6, SHLD-14: do not shrink the window; RFC 7323
 * 2.4). What the core cannot store of it is counted as no_room and never acknowledged. */
static void note_edge(struct tcp_conn *c, uint32_t edge)
{
	c->last_edge = edge;
	if (seq_gt(edge, c->adv_edge))
		c->adv_edge = edge;
	if (c->oc) /* the core keeps engine buffers for what we promised (R24) */
		rxq_promise(&c->oc->rc, c->adv_edge);
}

/* The MSS we offer: cfg.mss is the link MTU less 40 (IPv4 and TCP headers); an IPv6 header is
 * 20 bytes longer (RFC 6691: effective MTU less the fixed IP and TCP headers). */
static uint16_t our_mss(const struct tcp_conn *c)
{
	uint16_t mss = c->rx->cfg.mss;
	return c->tmpl.family == PKT_AF_INET6 && mss > 20 + 536 ? (uint16_t)(mss - 20) : mss;
}

static void send_seg(struct tcp_conn *c, uint8_t flags, uint32_t seq, bool with_window)
{
	struct tcp_rx *rx = c->rx;
	struct pkt_tcp_build b = c->tmpl;
	b.flags = flags;
	b.seq = seq;
	b.ack = (flags & PKT_TCP_ACK) ? c->rcv_nxt : 0;
	memset(&b.opts, 0, sizeof(b.opts));
	if (with_window) {
		uint32_t edge;
		b.window = window_field(c, &edge);
		note_edge(c, edge);
	}
	if (flags & PKT_TCP_SYN) {
		b.opts.present |= PKT_OPT_MSS;
		b.opts.mss = our_mss(c);
		b.window = (uint16_t)MIN(rx->eng->q.cfg.hold_bytes_per_conn, 0xffffu);
		if (rx->cfg.wnd_max && b.window > rx->cfg.wnd_max)
			b.window = (uint16_t)rx->cfg.wnd_max;
		/* a SYN-ACK's window is never scaled */
		c->adv_edge = c->last_edge = c->rcv_nxt + b.window;
		if (c->rcv_wscale) {
			b.opts.present |= PKT_OPT_WSCALE;
			b.opts.wscale = c->rcv_wscale;
		}
		if (c->sack_ok)
			b.opts.present |= PKT_OPT_SACK_PERM;
	}
	if (c->ts_ok) {
		b.opts.present |= PKT_OPT_TS;
		b.opts.ts_val = (uint32_t)(now_ns(rx) / 1000000);
		b.opts.ts_ecr = c->ts_recent;
	}
	/* SACK blocks for what the out-of-order store holds (RFC 2018): we never drop it. */
	if (c->sack_ok && c->ooo && (flags & PKT_TCP_ACK) && !(flags & PKT_TCP_SYN)) {
		/* Merge the stored pieces into blocks; the block holding the latest arrival goes
		 * first (RFC 2018 section 4), the others follow in sequence order. */
		struct pkt_sack_block all[64];
		uint32_t n = 0, first = 0;
		for (struct ooo_seg *o = c->ooo; o && n < 64; o = o->next) {
			uint32_t l = o->seq, r = o->seq + o->len;
			if (n && all[n - 1].right == l)
				all[n - 1].right = r;
			else
				all[n++] = (struct pkt_sack_block){ l, r };
			if (seq_geq(c->ooo_recent, l) && seq_lt(c->ooo_recent, r))
				first = n - 1;
		}
		uint8_t max = c->ts_ok ? 3 : 4, k = 0;
		b.opts.sack[k++] = all[first];
		for (uint32_t i = 0; i < n && k < max; i++)
			if (i != first)
				b.opts.sack[k++] = all[i];
		b.opts.nr_sack = k;
		b.opts.present |= PKT_OPT_SACK;
	}
	rx->cfg.xmit(rx->cfg.xmit_ctx, &b);
}

static void send_ack(struct tcp_conn *c)
{
	send_seg(c, PKT_TCP_ACK, c->snd_nxt, true);
	c->unacked_bytes = 0;
	delack_unlink(c);
	ack_batch_unlink(c);
	c->rx->st.acks_out++;
}

/* Owe an ACK at the end of this receive batch: one cumulative ACK per batch and connection,
 * as Linux sends one per GRO super-segment, rather than one per two segments (RFC 1122
 * 4.2.3.2 asks for at least that; within a batch the segments arrived together). */
static void ack_at_batch_end(struct tcp_conn *c)
{
	if (c->ack_queued)
		return;
	c->anext = c->rx->ack_batch;
	c->rx->ack_batch = c;
	c->ack_queued = true;
}

void tcp_rx_batch_end(struct tcp_rx *rx)
{
	while (rx->ack_batch) {
		struct tcp_conn *c = rx->ack_batch;
		rx->ack_batch = c->anext;
		c->ack_queued = false;
		if (c->state == TCP_ESTABLISHED)
			send_ack(c);
	}
}

/* A reply to a segment that has no connection (3.10.7.1). */
static void send_rst_for(struct tcp_rx *rx, const struct pkt_info *s)
{
	struct pkt_tcp_build b;
	pkt_tcp_build_reply(&b, s);
	if (s->flags & PKT_TCP_ACK) {
		b.flags = PKT_TCP_RST;
		b.seq = s->ack;
	} else {
		b.flags = PKT_TCP_RST | PKT_TCP_ACK;
		b.seq = 0;
		b.ack = s->seq + s->payload_len + !!(s->flags & PKT_TCP_SYN) +
			!!(s->flags & PKT_TCP_FIN);
	}
	rx->cfg.xmit(rx->cfg.xmit_ctx, &b);
	rx->st.rsts_out++;
}

static void queue_delack(struct tcp_conn *c)
{
	if (c->delack_queued)
		return;
	c->delack_at = now_ns(c->rx) + c->rx->cfg.delack_ns;
	c->dnext = c->rx->delack;
	c->rx->delack = c;
	c->delack_queued = true;
}

/* --- passive open (3.10.7.2, 3.10.7.3) --------------------------------------------------- */

static void syn_received(struct tcp_rx *rx, const struct pkt_info *s)
{
	/* 3.10.7.2 lets a listener queue a SYN's text for later; we do not: a half-open entry
	 * holds no buffer, so a flood of SYNs with data costs no memory (RFC 4987). Nothing of it
	 * is acknowledged (the SYN-ACK covers the SYN alone) and the peer sends it again once
	 * the connection is established, as it does without TCP Fast Open (RFC 7413 2). */
	if (s->payload_len)
		count_drop(rx, TCP_DROP_SYN_DATA);
	if (rx->nhalfopen >= rx->cfg.max_halfopen) {
		count_drop(rx, TCP_DROP_SYN_FLOOD); /* bounded: a flood costs a counter */
		return;
	}
	if (rx->nconns >= rx->cfg.max_conns + rx->cfg.max_halfopen) {
		count_drop(rx, TCP_DROP_CONN_LIMIT);
		return;
	}
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		count_drop(rx, TCP_DROP_CONN_LIMIT);
		return;
	}
	c->rx = rx;
	pkt_tcp_build_reply(&c->tmpl, s);
	c->state = TCP_SYN_RCVD;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	/* RFC 6528: ISN from a keyed hash of the tuple plus a clock. */
	c->iss = (uint32_t)(tuple_hash(rx, s->src_addr, s->dst_addr, s->src_port, s->dst_port) +
			    now_ns(rx) / 4000);
	c->snd_nxt = c->iss + 1;
	if (s->opts.present & PKT_OPT_WSCALE)
		c->rcv_wscale = rx->cfg.wscale; /* RFC 7323 2.2: only if the peer offered it */
	c->sack_ok = s->opts.present & PKT_OPT_SACK_PERM;
	if (s->opts.present & PKT_OPT_TS) {
		c->ts_ok = true;
		c->ts_recent = s->opts.ts_val;
	}
	c->last_rx = c->synack_at = now_ns(rx);
	c->synack_tries = 1;
	struct tcp_conn **b = bucket_of(rx, s->src_addr, s->dst_addr, s->src_port, s->dst_port);
	c->hnext = *b;
	*b = c;
	c->next = rx->all;
	if (rx->all)
		rx->all->prev = c;
	rx->all = c;
	rx->nconns++;
	rx->nhalfopen++;
	rx->st.halfopen++;
	if (rx->cfg.flow)
		rx->cfg.flow(rx->cfg.xmit_ctx, s->src_addr, s->dst_addr, s->src_port, s->dst_port,
			     true);
	send_seg(c, PKT_TCP_SYN | PKT_TCP_ACK, c->iss, false);
	rx->st.synacks_out++;
}

static bool establish(struct tcp_conn *c)
{
	struct tcp_rx *rx = c->rx;
	struct offrx_conn *oc;
	if (engine_conn_open(rx->eng, c->irs, &oc, c) != 0) {
		count_drop(rx, TCP_DROP_CONN_LIMIT);
		send_seg(c, PKT_TCP_RST, c->snd_nxt, false);
		rx->st.rsts_out++;
		conn_release(c);
		return false;
	}
	c->oc = oc;
	c->state = TCP_ESTABLISHED;
	/* The SYN-ACK's window was promised before the core had the connection (R24); both
	 * count receive-next from irs + 1, so the edge is the same. */
	rxq_promise(&oc->rc, c->adv_edge);
	rx->nhalfopen--;
	rx->st.conns_opened++;
	return true;
}

/* --- data, FIN, out of order (3.10.7.4) -------------------------------------------------- */

static void fin_received(struct tcp_conn *c)
{
	c->rcv_nxt++;
	/* R25: outstanding requests complete, the disconnect is indicated once. */
	rxq_disconnect(&c->oc->rc, false);
	/* We have nothing to send: acknowledge their FIN with ours. */
	send_seg(c, PKT_TCP_FIN | PKT_TCP_ACK, c->snd_nxt, true);
	c->snd_nxt++;
	c->unacked_bytes = 0;
	delack_unlink(c);
	c->state = TCP_LAST_ACK;
	c->rx->st.fins_out++;
}

/* Hand in-order bytes to the core; returns the bytes it stored (R24: only those are ACKed). */
static uint32_t store(struct tcp_conn *c, const uint8_t *data, uint32_t len, bool psh)
{
	uint64_t n = rxq_deliver(&c->oc->rc, data, len, psh);
	c->rcv_nxt += (uint32_t)n;
	c->unacked_bytes += (uint32_t)n;
	c->rx->st.bytes_stored += n;
	if (n < len)
		count_drop(c->rx, TCP_DROP_NO_ROOM);
	return (uint32_t)n;
}

/* Move what the out-of-order store holds at rcv_nxt into the core. */
static void ooo_drain(struct tcp_conn *c)
{
	while (c->ooo && c->state == TCP_ESTABLISHED && seq_leq(c->ooo->seq, c->rcv_nxt)) {
		struct ooo_seg *o = c->ooo;
		uint32_t skip = c->rcv_nxt - o->seq;
		if (skip >= o->len && !(o->fin && skip == o->len)) {
			c->ooo = o->next;
			c->ooo_bytes -= o->len + OOO_PIECE_COST;
			free(o);
			continue;
		}
		uint32_t want = o->len - skip;
		uint32_t n = want ? store(c, o->data + o->off + skip, want, o->psh) : 0;
		if (n < want) { /* the core is full: keep the rest for later */
			o->off += skip + n;
			o->seq += skip + n;
			c->ooo_bytes -= skip + n;
			o->len -= skip + n;
			return;
		}
		bool fin = o->fin;
		c->ooo = o->next;
		c->ooo_bytes -= o->len + OOO_PIECE_COST;
		free(o);
		if (fin)
			fin_received(c);
	}
}

/* Keep [seq, seq + len) where nothing is stored yet: first data wins on overlap. */
static void ooo_insert(struct tcp_conn *c, uint32_t seq, const uint8_t *data, uint32_t len,
		       bool psh, bool fin)
{
	struct ooo_seg **pp = &c->ooo;
	uint32_t end = seq + len;
	while (len || fin) {
		while (*pp && seq_leq((*pp)->seq + (*pp)->len, seq))
			pp = &(*pp)->next; /* stored pieces wholly before us */
		uint32_t piece_end = end;
		if (*pp && seq_lt((*pp)->seq, end)) {
			if (seq_leq((*pp)->seq, seq)) { /* we start inside a stored piece */
				uint32_t covered = (*pp)->seq + (*pp)->len - seq;
				if (covered >= len) {
					len = 0;
					if (fin && !(*pp)->fin && (*pp)->seq + (*pp)->len == end)
						(*pp)->fin = true;
					return;
				}
				data += covered;
				seq += covered;
				len -= covered;
				continue;
			}
			piece_end = (*pp)->seq; /* up to the next stored piece */
		}
		uint32_t plen = piece_end - seq;
		bool pfin = fin && piece_end == end;
		if (c->ooo_bytes + plen + OOO_PIECE_COST > c->rx->cfg.ooo_max) {
			count_drop(c->rx, TCP_DROP_OOO_FULL);
			return;
		}
		struct ooo_seg *o = malloc(sizeof(*o) + plen);
		if (!o) {
			count_drop(c->rx, TCP_DROP_OOO_FULL);
			return;
		}
		o->seq = seq;
		o->len = plen;
		o->off = 0;
		o->psh = psh && piece_end == end;
		o->fin = pfin;
		if (plen) { /* a bare FIN comes with data == NULL: no arithmetic on it */
			memcpy(o->data, data, plen);
			data += plen;
		}
		o->next = *pp;
		*pp = o;
		pp = &o->next;
		c->ooo_bytes += plen + OOO_PIECE_COST;
		seq += plen;
		len -= plen;
		if (pfin)
			fin = false;
		if (!len)
			return;
	}
}

/* RFC 5961 3.2 and 4.2: an RST or SYN that is not exactly right gets a challenge ACK. */
static void challenge_ack(struct tcp_conn *c, enum tcp_drop why)
{
	count_drop(c->rx, why);
	c->rx->st.challenge_acks++;
	send_ack(c);
}

static void established_input(struct tcp_conn *c, const struct pkt_info *s)
{
	struct tcp_rx *rx = c->rx;
	uint32_t seq = s->seq, len = s->payload_len;
	const uint8_t *data = s->payload;
	bool fin = s->flags & PKT_TCP_FIN;
	uint32_t wnd = seq_gt(c->adv_edge, c->rcv_nxt) ? c->adv_edge - c->rcv_nxt : 0;

	if (s->flags & PKT_TCP_RST) {
		if (seq == c->rcv_nxt) {
			if (c->state == TCP_ESTABLISHED)
				rxq_disconnect(&c->oc->rc, true); /* R25: REQUEST_ABORTED */
			conn_close(c, OFFRX_CLOSE_RST);
		} else if (seq_geq(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + (wnd ? wnd : 1))) {
			challenge_ack(c, TCP_DROP_RST_CHALLENGED);
		} else {
			count_drop(rx, TCP_DROP_RST_OUTSIDE);
		}
		return;
	}
	/* RFC 7323 5.3 R1 (PAWS), before the sequence check and for every segment but an RST:
	 * a timestamp older than TS.Recent marks an old duplicate. Drop it and say where we are.
	 * (The 24-day idle exception cannot arise: the idle timeout is far shorter.) */
	if (c->ts_ok && (s->opts.present & PKT_OPT_TS) && seq_lt(s->opts.ts_val, c->ts_recent)) {
		count_drop(rx, TCP_DROP_PAWS);
		send_ack(c);
		return;
	}
	if (s->flags & PKT_TCP_SYN) {
		challenge_ack(c, TCP_DROP_SYN_CHALLENGED);
		return;
	}
	/* 3.10.7.4, first check: is any of the segment inside the window? */
	uint32_t seglen = len + fin;
	bool ok;
	if (seglen == 0)
		ok = wnd ? seq_geq(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd)
			 : seq == c->rcv_nxt;
	else
		ok = wnd && seq_lt(seq, c->rcv_nxt + wnd) && seq_gt(seq + seglen, c->rcv_nxt);
	if (!ok) {
		/* Old duplicates, zero-window probes and segments past the window are answered
		 * with an ACK that says where we are. */
		if (seglen && seq_leq(seq + seglen, c->rcv_nxt))
			count_drop(rx, TCP_DROP_DUPLICATE);
		else if (c->state == TCP_LAST_ACK && seglen)
			count_drop(rx, TCP_DROP_AFTER_FIN); /* seventh check: ignore the text */
		else if (!wnd && seglen)
			count_drop(rx, TCP_DROP_ZERO_WINDOW);
		else
			count_drop(rx, TCP_DROP_OUT_OF_WINDOW);
		send_ack(c);
		return;
	}
	if (!(s->flags & PKT_TCP_ACK)) {
		count_drop(rx, TCP_DROP_NO_ACK);
		return;
	}
	/* 3.10.7.4, fifth check, and RFC 5961 5.2: we send no data, so an acceptable ACK lies
	 * between what we have sent less a window's worth and snd_nxt. Anything past snd_nxt
	 * acknowledges something we never sent: answer with an ACK and drop the segment. */
	if (seq_gt(s->ack, c->snd_nxt) || seq_lt(s->ack, c->iss - (1u << 30))) {
		count_drop(rx, TCP_DROP_BAD_ACK);
		send_ack(c);
		return;
	}
	if (c->state == TCP_LAST_ACK) {
		bool text = seglen && seq_gt(seq + seglen, c->rcv_nxt);
		if (text)
			count_drop(rx, TCP_DROP_AFTER_FIN); /* seventh check: ignore the text */
		if (s->ack == c->snd_nxt)
			conn_close(c, OFFRX_CLOSE_FIN); /* our FIN is acknowledged */
		else if (text)
			send_ack(c);
		return;
	}
	/* RFC 7323 4.3: remember the peer's clock from segments that cover rcv_nxt. */
	if (c->ts_ok && (s->opts.present & PKT_OPT_TS) && seq_leq(seq, c->rcv_nxt))
		c->ts_recent = s->opts.ts_val;

	/* Trim what we already have and what lies past the window. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;
		if (skip > len) { /* only the FIN is new */
			skip = len;
		}
		data += skip;
		len -= skip;
		seq += skip;
	}
	if (seq_gt(seq + len, c->rcv_nxt + wnd)) {
		count_drop(rx, TCP_DROP_OUT_OF_WINDOW); /* the part past the window */
		len = c->rcv_nxt + wnd - seq;
		fin = false;
	}
	if (!len && !fin)
		return; /* a pure ACK or window probe answer: nothing to do */

	if (seq != c->rcv_nxt) {
		c->ooo_recent = seq;
		ooo_insert(c, seq, data, len, s->flags & PKT_TCP_PSH, fin);
		send_ack(c); /* a gap: tell the sender at once (duplicate ACK, SACK) */
		return;
	}
	bool had_ooo = c->ooo != NULL;
	if (s->payload_len > c->rcv_mss)
		c->rcv_mss = MIN(s->payload_len, (uint32_t)rx->cfg.mss);
	uint32_t n = store(c, data, len, (s->flags & PKT_TCP_PSH) != 0);
	if (n == len) {
		if (fin && !c->ooo)
			fin_received(c);
		else if (fin)
			ooo_insert(c, seq + len, NULL, 0, false, true);
		ooo_drain(c);
	}
	if (c->state != TCP_ESTABLISHED)
		return; /* the FIN went out with its ACK */
	/* At once when a gap was being filled or the core could not take everything; after
	 * every second full-sized segment, at the end of the receive batch; otherwise after the
	 * delayed-ACK timeout. */
	if (had_ooo || n < len)
		send_ack(c);
	else if (c->unacked_bytes >= 2u * (c->rcv_mss ? c->rcv_mss : rx->cfg.mss))
		ack_at_batch_end(c);
	else
		queue_delack(c);
}

void tcp_rx_input(struct tcp_rx *rx, const struct pkt_info *s)
{
	rx->st.segs_in++;
	rx->st.bytes_in += s->payload_len;
	if (!our_port(rx, s->dst_port)) {
		count_drop(rx, TCP_DROP_NOT_OUR_PORT);
		return;
	}
	struct tcp_conn *c = lookup(rx, s);
	if (!c && rx->cfg.foreign) {
		/* Another queue's flow (RSS moved it): its queue's thread takes it. */
		int f = rx->cfg.foreign(rx->cfg.xmit_ctx, s);
		if (f == TCP_FOREIGN_FULL)
			count_drop(rx, TCP_DROP_MOVED_FULL);
		if (f != TCP_FOREIGN_NONE)
			return;
	}
	if (!c) {
		if (s->flags & PKT_TCP_RST) {
			count_drop(rx, TCP_DROP_NO_CONN);
			return;
		}
		if ((s->flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN) {
			syn_received(rx, s);
			return;
		}
		count_drop(rx, TCP_DROP_NO_CONN);
		send_rst_for(rx, s);
		return;
	}
	c->last_rx = now_ns(rx);
	if (c->state == TCP_SYN_RCVD) {
		if (s->flags & PKT_TCP_RST) {
			/* RFC 5961 3.2 holds here too: exact resets, in-window ones are challenged.
			 */
			uint32_t wnd = c->adv_edge - c->rcv_nxt;
			if (s->seq == c->rcv_nxt)
				conn_release(c);
			else if (seq_gt(s->seq, c->rcv_nxt) && seq_lt(s->seq, c->rcv_nxt + wnd))
				challenge_ack(c, TCP_DROP_RST_CHALLENGED);
			else
				count_drop(rx, TCP_DROP_RST_OUTSIDE);
			return;
		}
		if (s->flags & PKT_TCP_SYN) {
			if (s->payload_len)
				count_drop(rx, TCP_DROP_SYN_DATA);
			if (s->seq == c->irs) /* our SYN-ACK was lost: send it again */
				send_seg(c, PKT_TCP_SYN | PKT_TCP_ACK, c->iss, false);
			else
				count_drop(rx, TCP_DROP_BAD_HANDSHAKE);
			return;
		}
		if (!(s->flags & PKT_TCP_ACK) || s->ack != c->iss + 1) {
			count_drop(rx, TCP_DROP_BAD_HANDSHAKE);
			if (s->flags & PKT_TCP_ACK)
				send_rst_for(rx, s);
			return;
		}
		if (!establish(c))
			return;
	}
	/* Payload reaches the trace only when the application asked (trace_payload_bytes). */
	if (s->payload_len && c->oc && rx->eng->trace_payload &&
	    offrx_trace_on(rx->eng->q.cfg.trace, OFFRX_T_SEGMENT_PAYLOAD))
		rx->eng->q.cfg.trace->segment_payload(offrx_conn_id(c->oc), s->seq, s->payload_len,
						      s->payload,
						      MIN(s->payload_len, rx->eng->trace_payload));
	established_input(c, s);
}

/* --- timers ------------------------------------------------------------------------------ */

void tcp_rx_tick(struct tcp_rx *rx)
{
	tcp_rx_batch_end(rx);
	uint64_t now = now_ns(rx);
	for (struct tcp_conn **pp = &rx->delack; *pp;) {
		struct tcp_conn *c = *pp;
		if (c->delack_at <= now) {
			*pp = c->dnext;
			c->delack_queued = false;
			send_ack(c);
		} else {
			pp = &c->dnext;
		}
	}
	/* Window updates: a connection whose window we advertised as small gets a fresh ACK
	 * once the application has posted (or returned) enough to matter. */
	bool wscan = now - rx->last_wscan >= 1000 * 1000;
	if (wscan)
		rx->last_wscan = now;
	for (struct tcp_conn *c = wscan ? rx->all : NULL; c; c = c->next) {
		if (c->state != TCP_ESTABLISHED || !c->oc)
			continue;
		uint32_t adv = seq_gt(c->last_edge, c->rcv_nxt) ? c->last_edge - c->rcv_nxt : 0;
		if (adv >= 4u * rx->cfg.mss)
			continue;
		uint32_t edge;
		(void)window_field(c, &edge);
		uint32_t now_wnd = edge - c->rcv_nxt;
		if (now_wnd >= adv + 2u * rx->cfg.mss || (adv == 0 && now_wnd >= rx->cfg.mss)) {
			send_ack(c);
			rx->st.window_updates++;
		}
	}
	if (now - rx->last_scan < 100 * 1000 * 1000ull)
		return;
	rx->last_scan = now;
	for (struct tcp_conn *c = rx->all, *n; c; c = n) {
		n = c->next;
		if (c->state == TCP_SYN_RCVD && now - c->synack_at >= rx->cfg.synack_rto_ns) {
			if (c->synack_tries >= 3) {
				conn_release(c);
				continue;
			}
			c->synack_tries++;
			c->synack_at = now;
			send_seg(c, PKT_TCP_SYN | PKT_TCP_ACK, c->iss, false);
			rx->st.synacks_out++;
		} else if (c->state == TCP_LAST_ACK &&
			   now - c->last_rx >= 3 * rx->cfg.synack_rto_ns) {
			conn_close(c, OFFRX_CLOSE_FIN); /* their ACK of our FIN never came */
		} else if (rx->cfg.idle_ns && c->state == TCP_ESTABLISHED &&
			   now - c->last_rx >= rx->cfg.idle_ns) {
			send_seg(c, PKT_TCP_RST | PKT_TCP_ACK, c->snd_nxt, false);
			rx->st.rsts_out++;
			rxq_disconnect(&c->oc->rc, true);
			conn_close(c, OFFRX_CLOSE_IDLE);
		}
	}
}

void tcp_rx_abort_all(struct tcp_rx *rx)
{
	while (rx->all) {
		struct tcp_conn *c = rx->all;
		if (c->state != TCP_CLOSED) {
			send_seg(c, PKT_TCP_RST | PKT_TCP_ACK, c->snd_nxt, false);
			rx->st.rsts_out++;
		}
		if (c->oc && c->state == TCP_ESTABLISHED)
			rxq_disconnect(&c->oc->rc, true);
		conn_close(c, OFFRX_CLOSE_RST);
	}
}

void tcp_rx_flush_ack(struct offrx_conn *oc)
{
	struct tcp_conn *c = oc->link_priv;
	if (c && c->delack_queued)
		send_ack(c);
}

const struct link_ops tcp_rx_link_ops = {
	.name = "tcp",
	.flush_ack = tcp_rx_flush_ack,
	.conn_free = tcp_rx_conn_free,
};

/* --- lifetime ---------------------------------------------------------------------------- */

int tcp_rx_create(const struct tcp_rx_cfg *cfg, struct offrx_engine *eng, struct tcp_rx **out)
{
	if (!cfg || !eng || !out || !cfg->xmit || !cfg->nports)
		return -EINVAL;
	struct tcp_rx *rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->cfg = *cfg;
	if (!rx->cfg.mss)
		rx->cfg.mss = 1460;
	if (!rx->cfg.wscale)
		rx->cfg.wscale = 7;
	if (rx->cfg.wscale > PKT_WSCALE_MAX)
		rx->cfg.wscale = PKT_WSCALE_MAX;
	if (!rx->cfg.max_conns)
		rx->cfg.max_conns = 4096;
	if (!rx->cfg.max_halfopen)
		rx->cfg.max_halfopen = 1024;
	if (!rx->cfg.delack_ns)
		rx->cfg.delack_ns = 40ull * 1000 * 1000;
	if (!rx->cfg.synack_rto_ns)
		rx->cfg.synack_rto_ns = 1000ull * 1000 * 1000;
	if (!rx->cfg.ooo_max)
		rx->cfg.ooo_max = 256u << 10;
	uint64_t want = 2ull * (rx->cfg.max_conns + rx->cfg.max_halfopen);
	rx->nbuckets = 64;
	while (rx->nbuckets < want)
		rx->nbuckets <<= 1;
	rx->buckets = calloc(rx->nbuckets, sizeof(*rx->buckets));
	if (!rx->buckets) {
		free(rx);
		return -ENOMEM;
	}
	rx->eng = eng;
	rx->secret = mix64((uint64_t)(uintptr_t)rx ^ rxq_now(&eng->q) ^ 0x6f66667278ull);
	*out = rx;
	return 0;
}

void tcp_rx_destroy(struct tcp_rx *rx)
{
	if (!rx)
		return;
	while (rx->all)
		conn_close(rx->all, OFFRX_CLOSE_NONE);
	free(rx->buckets);
	free(rx);
}

void tcp_rx_stats(const struct tcp_rx *rx, struct tcp_rx_stats *out)
{
	*out = rx->st;
	out->halfopen = rx->nhalfopen;
}

static void name_of(const uint8_t *addr, uint8_t family, uint16_t port, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (family == PKT_AF_INET) {
		inet_ntop(AF_INET, addr + PKT_ADDR_V4_OFF, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, port);
	}
}

static void addr_of(const uint8_t *addr, uint8_t family, char *out, size_t len)
{
	if (family == PKT_AF_INET)
		inet_ntop(AF_INET, addr + PKT_ADDR_V4_OFF, out, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, out, (socklen_t)len);
}

void tcp_rx_conn_info(const struct offrx_conn *oc, struct link_conn_info *out)
{
	const struct tcp_conn *c = oc->link_priv;
	if (!c)
		return;
	addr_of(c->tmpl.src_addr, c->tmpl.family, out->local_addr, sizeof(out->local_addr));
	addr_of(c->tmpl.dst_addr, c->tmpl.family, out->remote_addr, sizeof(out->remote_addr));
	out->local_port = c->tmpl.src_port;
	out->remote_port = c->tmpl.dst_port;
	out->isn = c->irs;
	out->mss = our_mss(c);
	out->wscale = c->rcv_wscale;
}

void tcp_rx_conn_names(const struct offrx_conn *oc, char *local, char *remote, size_t len)
{
	const struct tcp_conn *c = oc ? oc->link_priv : NULL;
	if (!c) {
		snprintf(local, len, "-");
		snprintf(remote, len, "-");
		return;
	}
	name_of(c->tmpl.src_addr, c->tmpl.family, c->tmpl.src_port, local, len);
	name_of(c->tmpl.dst_addr, c->tmpl.family, c->tmpl.dst_port, remote, len);
}
