/* Fuzz harness: TCP receive state (tcp_rx) over the receive core (rxq), on a virtual clock.
 *
 * The input is a script, decoded byte by byte (any input decodes; missing bytes read as 0):
 * two configuration bytes, then operations on up to four peers (three IPv4, one IPv6):
 * handshakes, segments (sequence offset, length, flags, MSS/wscale/SACK/timestamp options),
 * posts of requests (push or no-push, sizes, prefill, two-segment chains), clock advances,
 * returns of indicated buffers, uploads, FIN and RST. The application's answers to
 * indications come from the input too. README.md, "Fuzzing", says how to run it.
 *
 * The byte at sequence number s of peer port p is always stream_byte(p, s), whatever the
 * segment, so every byte that reaches the application can be checked. Asserted here:
 * every request completes exactly once and in posting order per connection, the bytes
 * delivered (completions + indications + hand-back at disconnect or upload) are the stream
 * in order from the peer's ISN + 1 with nothing skipped or repeated, never past what the peer
 * has sent, bytes outside a request's free space are never written, indicated buffers are not
 * changed while the application holds them, and no ACK acknowledges more than was stored
 * (R24): never past what was sent, the engine's own count, or what finally came out. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz.h"
#include "pkt.h"
#include "tcp_rx.h"

#define NPEERS	    4
#define NSLOTS	    32
#define SLOT_MEM    6144
#define MAX_OPS	    3000
#define MAX_SEG	    4096
#define MAX_REPOSTS 4000
#define NIV	    64 /* sent sequence ranges remembered per peer */
#define NSYN	    16 /* SYN sequence numbers remembered per peer */
#define NFIN	    32 /* FIN sequence numbers remembered per peer */
#define LOCAL_PORT  5201
#define MS	    (1000ull * 1000)

/* --- the input ----------------------------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static struct rd in;

static uint8_t rd8(void)
{
	if (!in.n)
		return 0;
	in.n--;
	return *in.p++;
}

static uint16_t rd16(void)
{
	uint16_t hi = rd8();
	return (uint16_t)(hi << 8 | rd8());
}

static uint32_t rd32(void)
{
	uint32_t hi = rd16();
	return hi << 16 | rd16();
}

/* --- the stream ---------------------------------------------------------------------------- */

static uint8_t stream_byte(uint16_t port, uint32_t seq)
{
	uint32_t x = seq * 0x9E3779B1u ^ (uint32_t)port * 0x85EBCA77u;
	x ^= x >> 15;
	x *= 0x2C1B3C6Du;
	x ^= x >> 12;
	return (uint8_t)x;
}

/* --- state --------------------------------------------------------------------------------- */

enum slot_state { SLOT_FREE = 0, SLOT_POSTED };

struct slot {
	struct offrx_recv_req req;
	struct offrx_seg segs[2];
	uint8_t mem[SLOT_MEM];
	enum slot_state state;
	struct peer *peer;
	uint32_t gen; /* the connection incarnation it was posted on */
	uint32_t off, len, prefill, chain, flags;
	bool repost;
};

struct span {
	uint64_t lo, hi; /* [lo, hi) in the 32-bit sequence space, hi <= 2^32 */
};

struct peer {
	uint16_t port;
	uint8_t family;
	/* What the peer sent. */
	uint32_t next_seq; /* its stream's next in-order byte */
	uint32_t ts;
	bool have_synack;
	uint32_t iss;	  /* the engine's ISN from its last SYN-ACK */
	uint8_t our_ws;	  /* the window scale that SYN-ACK announced, 0 if none */
	uint32_t our_fin; /* the engine's FIN sequence, valid if have_fin */
	bool have_fin;
	struct span iv[NIV];
	uint32_t niv;
	bool iv_overflow;
	uint32_t syn_seq[NSYN], nsyn;
	uint32_t fin_seq[NFIN], nfin;
	bool fin_overflow;
	/* The engine connection, while open. */
	struct offrx_conn *oc;
	uint32_t gen, irs;
	uint64_t delivered; /* stream bytes the application got, in order */
	uint64_t acked;	    /* highest ACK, as stream offset (FIN included) */
	bool acked_any;
	bool disc, fin_disc, uploaded;
	uint64_t end_bytes; /* bytes_received of the disconnect or upload event */
	uint32_t fifo[NSLOTS], fhead, fn;
	bool in_upcall;
};

struct held {
	struct offrx_ind_buf *b;
	uint32_t hash;
};

static struct {
	struct offrx_engine *eng;
	struct tcp_rx *rx;
	uint64_t now;
	struct peer peers[NPEERS];
	struct slot slots[NSLOTS];
	struct held *held;
	size_t nheld, capheld;
	uint32_t reposts;
	uint32_t gen;
	uint64_t completions, indications, conns;
	uint64_t last_ev_ns;
	bool teardown;
	uint8_t seg_buf[MAX_SEG];
	uint8_t canary[SLOT_MEM]; /* what a request's memory holds before a post */
} h;

static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return h.now;
}

static struct peer *peer_by_port(uint16_t port)
{
	for (int i = 0; i < NPEERS; i++)
		if (h.peers[i].port == port)
			return &h.peers[i];
	return NULL;
}

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
	uint32_t x = 2166136261u;
	for (uint32_t i = 0; i < n; i++)
		x = (x ^ p[i]) * 16777619u;
	return x;
}

/* --- sent ranges --------------------------------------------------------------------------- */

static void span_add_lin(struct peer *p, uint64_t lo, uint64_t hi)
{
	uint32_t i = 0, j;
	if (p->iv_overflow)
		return;
	while (i < p->niv && p->iv[i].hi < lo)
		i++;
	j = i;
	while (j < p->niv && p->iv[j].lo <= hi) {
		if (p->iv[j].lo < lo)
			lo = p->iv[j].lo;
		if (p->iv[j].hi > hi)
			hi = p->iv[j].hi;
		j++;
	}
	if (i == j) {
		if (p->niv == NIV) {
			p->iv_overflow = true; /* too fragmented: stop judging coverage */
			return;
		}
		memmove(&p->iv[i + 1], &p->iv[i], (p->niv - i) * sizeof(p->iv[0]));
		p->niv++;
	} else if (j - i > 1) {
		memmove(&p->iv[i + 1], &p->iv[j], (p->niv - j) * sizeof(p->iv[0]));
		p->niv -= j - i - 1;
	}
	p->iv[i] = (struct span){ lo, hi };
}

static void span_add(struct peer *p, uint32_t seq, uint32_t len)
{
	uint64_t end = (uint64_t)seq + len;
	if (!len)
		return;
	if (end > (1ull << 32)) {
		span_add_lin(p, seq, 1ull << 32);
		span_add_lin(p, 0, end - (1ull << 32));
	} else {
		span_add_lin(p, seq, end);
	}
}

static bool covered_lin(const struct peer *p, uint64_t lo, uint64_t hi)
{
	for (uint32_t i = 0; i < p->niv; i++)
		if (p->iv[i].lo <= lo && hi <= p->iv[i].hi)
			return true;
	return false;
}

/* Every byte of [seq, seq + len) was sent at least once. */
static bool covered(const struct peer *p, uint32_t seq, uint64_t len)
{
	if (p->iv_overflow || !len)
		return true;
	if (len > (1ull << 32))
		return false;
	uint64_t end = (uint64_t)seq + len;
	if (end > (1ull << 32))
		return covered_lin(p, seq, 1ull << 32) && covered_lin(p, 0, end - (1ull << 32));
	return covered_lin(p, seq, end);
}

static bool fin_sent_at(const struct peer *p, uint32_t seq)
{
	if (p->fin_overflow)
		return true;
	for (uint32_t i = 0; i < p->nfin; i++)
		if (p->fin_seq[i] == seq)
			return true;
	return false;
}

/* --- the application ----------------------------------------------------------------------- */

/* The next len bytes the application gets on this connection must be the stream's. */
static void take_bytes(struct peer *p, const uint8_t *data, uint32_t len, const char *how)
{
	for (uint32_t i = 0; i < len; i++) {
		uint32_t seq = p->irs + 1 + (uint32_t)(p->delivered + i);
		if (data[i] != stream_byte(p->port, seq))
			FUZZ_FAIL("port %u: %s byte at stream offset %llu is %02x, the peer sent "
				  "%02x (a byte lost, repeated or misplaced)",
				  p->port, how, (unsigned long long)(p->delivered + i), data[i],
				  stream_byte(p->port, seq));
	}
	p->delivered += len;
	if (!covered(p, p->irs + 1, p->delivered))
		FUZZ_FAIL("port %u: %llu bytes delivered but the peer never sent all of them",
			  p->port, (unsigned long long)p->delivered);
}

static void hold_buf(struct offrx_ind_buf *b)
{
	if (h.nheld == h.capheld) {
		size_t cap = h.capheld ? h.capheld * 2 : 256;
		struct held *n = realloc(h.held, cap * sizeof(*n));
		FUZZ_CHECK(n != NULL);
		h.held = n;
		h.capheld = cap;
	}
	h.held[h.nheld++] = (struct held){ b, fnv(b->data, b->len) };
}

static void post_slot(struct peer *p, uint32_t i);

static void on_complete(struct offrx_conn *c, struct offrx_recv_req *reqs, void *ctx)
{
	struct peer *p = ctx;
	FUZZ_CHECK(p && p->oc == c);
	FUZZ_CHECK(!p->in_upcall); /* R18, R19: never nested */
	p->in_upcall = true;
	for (struct offrx_recv_req *r = reqs, *next; r; r = next) {
		next = r->next;
		uint64_t idx = r->cookie;
		FUZZ_CHECK(idx < NSLOTS);
		struct slot *s = &h.slots[idx];
		FUZZ_CHECK(r == &s->req);
		/* R17: completed once, on the connection it was posted on. */
		FUZZ_CHECK(s->state == SLOT_POSTED && s->peer == p && s->gen == p->gen);
		/* R03, R14: in posting order. */
		FUZZ_CHECK(p->fn > 0 && p->fifo[p->fhead] == idx);
		p->fhead = (p->fhead + 1) % NSLOTS;
		p->fn--;
		s->state = SLOT_FREE;
		h.completions++;
		int st = r->status;
		FUZZ_CHECK(st == OFFRX_SUCCESS || st == OFFRX_REQUEST_ABORTED ||
			   st == OFFRX_UPLOAD_IN_PROGRESS || st == OFFRX_INVALID_STATE);
		/* R15 */
		FUZZ_CHECK(r->bytes_placed <= s->len - s->prefill);
		FUZZ_CHECK(r->bytes_transferred == s->prefill + r->bytes_placed);
		FUZZ_CHECK(r->data_offset == s->off + r->bytes_placed);
		FUZZ_CHECK(r->data_len == s->len - r->bytes_placed);
		if (st == OFFRX_INVALID_STATE)
			FUZZ_CHECK(r->bytes_placed == 0);
		/* The placed bytes sit after the prefill (the two segments are contiguous in
		 * s->mem); nothing else in the chain changed. */
		uint32_t start = s->off + s->prefill, end = start + r->bytes_placed;
		if (memcmp(s->mem, h.canary, start) ||
		    memcmp(s->mem + end, h.canary + end, s->chain - end))
			FUZZ_FAIL("port %u: a request byte outside the placed range [%u, %u) of "
				  "%u was written",
				  p->port, start, end, s->chain);
		take_bytes(p, s->mem + start, r->bytes_placed, "completed");
		if (s->repost && st == OFFRX_SUCCESS && h.reposts < MAX_REPOSTS && !h.teardown) {
			h.reposts++;
			post_slot(p, (uint32_t)idx); /* R19: posting from the completion upcall */
		}
	}
	p->in_upcall = false;
}

static int on_indicate(struct offrx_conn *c, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct peer *p = ctx;
	uint64_t sum = 0;
	FUZZ_CHECK(p && p->oc == c);
	FUZZ_CHECK(!p->in_upcall);
	FUZZ_CHECK(p->fn == 0); /* R05: only with nothing posted */
	p->in_upcall = true;	/* a post from here must not start a completion call (R18) */
	for (struct offrx_ind_buf *b = bufs; b; b = b->next)
		sum += b->len;
	FUZZ_CHECK(sum == total && total > 0);
	uint8_t ans = rd8();
	uint64_t take = total;
	int res = OFFRX_SUCCESS;
	if (ans & 0x10) { /* post from inside the indication: that data waits for it */
		uint32_t i;
		for (i = 0; i < NSLOTS && h.slots[i].state != SLOT_FREE; i++)
			;
		if (i < NSLOTS) {
			struct slot *s = &h.slots[i];
			s->off = s->prefill = 0;
			s->len = s->chain = 1 + rd8() * 16u;
			s->flags = (ans & 0x20) ? OFFRX_REQ_NO_PUSH : 0;
			s->repost = false;
			s->segs[0] = (struct offrx_seg){ s->mem, s->chain };
			s->segs[1] = (struct offrx_seg){ s->mem + s->chain, 0 };
			post_slot(p, i);
		}
	}
	if (ans % 4 == 2) {
		p->in_upcall = false;
		*consumed = 0;
		return OFFRX_NOT_ACCEPTED; /* R21: kept until the next post */
	}
	if (ans % 4 == 3 && total >= 2) {
		take = 1 + (total - 1) * rd8() / 256;
		res = take < total ? OFFRX_PARTIALLY_ACCEPTED : OFFRX_SUCCESS;
	}
	h.indications++;
	uint64_t left = take;
	for (struct offrx_ind_buf *b = bufs; b; b = b->next) {
		uint32_t n = left < b->len ? (uint32_t)left : b->len;
		take_bytes(p, b->data, n, "indicated");
		left -= n;
	}
	for (struct offrx_ind_buf *b = bufs; b; b = b->next)
		hold_buf(b); /* R22: the application's until returned */
	p->in_upcall = false;
	*consumed = take;
	return res;
}

static void on_event(struct offrx_conn *c, const struct offrx_conn_event *ev, void *ctx)
{
	struct peer *p = ctx;
	FUZZ_CHECK(p && p->oc == c);
	switch (ev->type) {
	case OFFRX_EV_DISCONNECT:
	case OFFRX_EV_UPLOAD_DONE: {
		/* R25: once; R26: after an upload the connection takes nothing more. */
		FUZZ_CHECK(!p->disc && !p->uploaded);
		if (ev->type == OFFRX_EV_DISCONNECT) {
			p->disc = true;
			p->fin_disc = ev->reason == OFFRX_CLOSE_FIN;
		} else {
			p->uploaded = true;
		}
		FUZZ_CHECK(ev->rcv_nxt == p->irs + 1 + (uint32_t)ev->bytes_received);
		uint64_t held = 0;
		for (struct offrx_ind_buf *b = ev->held; b; b = b->next) {
			take_bytes(p, b->data, b->len, "handed back");
			held += b->len;
			hold_buf(b);
		}
		FUZZ_CHECK(held == ev->held_bytes);
		/* Nothing stored is lost: requests, indications and the hand-back hold it all
		 * (requests complete before the event, R25, R26). */
		if (p->delivered != ev->bytes_received)
			FUZZ_FAIL("port %u: the engine stored %llu bytes, the application got %llu",
				  p->port, (unsigned long long)ev->bytes_received,
				  (unsigned long long)p->delivered);
		p->end_bytes = ev->bytes_received;
		break;
	}
	case OFFRX_EV_CLOSED:
		FUZZ_CHECK(p->fn == 0); /* R17: everything posted came back */
		if (p->disc || p->uploaded) {
			FUZZ_CHECK(p->delivered == p->end_bytes);
			/* R24: what was acknowledged came out, the FIN aside. */
			bool fin = fin_sent_at(p, p->irs + 1 + (uint32_t)p->delivered);
			if (p->acked_any && p->acked > p->delivered + fin)
				FUZZ_FAIL("port %u: acknowledged %llu stream bytes, only %llu were "
					  "stored",
					  p->port, (unsigned long long)p->acked,
					  (unsigned long long)p->delivered);
		} else {
			FUZZ_CHECK(h.teardown); /* only the engine going away closes silently */
		}
		p->oc = NULL;
		break;
	default:
		FUZZ_FAIL("unknown event type %d", (int)ev->type);
	}
}

static void on_new(struct offrx_conn *c, void *user)
{
	(void)user;
	struct link_conn_info ci;
	memset(&ci, 0, sizeof(ci));
	tcp_rx_conn_info(c, &ci);
	struct peer *p = peer_by_port(ci.remote_port);
	FUZZ_CHECK(p && !p->oc);
	bool syn_seen = false;
	for (uint32_t i = 0; i < p->nsyn && i < NSYN; i++)
		syn_seen |= p->syn_seq[i] == ci.isn;
	FUZZ_CHECK(syn_seen || p->nsyn > NSYN);
	p->oc = c;
	h.conns++;
	p->gen = ++h.gen;
	p->irs = ci.isn;
	p->delivered = p->acked = p->end_bytes = 0;
	p->acked_any = p->disc = p->fin_disc = p->uploaded = false;
	p->fhead = p->fn = 0;
	offrx_conn_set_context(c, p);
}

static const struct offrx_callbacks cbs_indicate = {
	.conn_new = on_new,
	.recv_complete = on_complete,
	.recv_indicate = on_indicate,
	.conn_event = on_event,
};

static const struct offrx_callbacks cbs_no_indicate = {
	.conn_new = on_new,
	.recv_complete = on_complete,
	.conn_event = on_event,
};

/* The engine's event stream (what its tracepoints carry): sane on its own terms. */
static void observe(const struct offrx_event *ev, void *ctx)
{
	(void)ctx;
	FUZZ_CHECK(ev->kind >= OFFRX_E_POST && ev->kind <= OFFRX_E_HANDBACK);
	FUZZ_CHECK(ev->ts_ns >= h.last_ev_ns && ev->ts_ns <= h.now);
	h.last_ev_ns = ev->ts_ns;
	switch (ev->kind) {
	case OFFRX_E_FILL:
		FUZZ_CHECK(ev->bytes > 0 && ev->total <= ev->buf_len);
		break;
	case OFFRX_E_COMPLETE:
		FUZZ_CHECK(offrx_complete_reason_name((int)ev->reason) != NULL);
		FUZZ_CHECK(ev->bytes <= ev->buf_len && ev->t_post_ns <= ev->ts_ns);
		break;
	case OFFRX_E_TIMER_START:
	case OFFRX_E_TIMER_RESTART:
		FUZZ_CHECK(ev->deadline_ns > ev->ts_ns);
		break;
	case OFFRX_E_TIMER_EXPIRE:
		FUZZ_CHECK(ev->deadline_ns <= ev->ts_ns); /* R10: never early */
		break;
	case OFFRX_E_INDICATE:
		FUZZ_CHECK(ev->total <= ev->bytes); /* consumed <= offered */
		break;
	default:
		break;
	}
}

/* --- what the engine sends ----------------------------------------------------------------- */

static void xmit(void *ctx, const struct pkt_tcp_build *b)
{
	(void)ctx;
	struct peer *p = peer_by_port(b->dst_port);
	FUZZ_CHECK(b->src_port == LOCAL_PORT);
	if (!p)
		return;
	FUZZ_CHECK(b->family == p->family);
	if (b->flags & PKT_TCP_RST)
		return; /* a reset answers a segment; its ACK field is not a claim of storage */
	if ((b->flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK)) {
		bool ok = false;
		for (uint32_t i = 0; i < p->nsyn && i < NSYN; i++)
			ok |= p->syn_seq[i] + 1 == b->ack;
		FUZZ_CHECK(ok || p->nsyn > NSYN); /* a SYN-ACK answers a SYN the peer sent */
		p->have_synack = true;
		p->iss = b->seq;
		p->our_ws = (b->opts.present & PKT_OPT_WSCALE) ? b->opts.wscale : 0;
		p->have_fin = false;
		return;
	}
	FUZZ_CHECK(!(b->flags & PKT_TCP_SYN));
	if (b->flags & PKT_TCP_FIN) {
		p->have_fin = true;
		p->our_fin = b->seq;
	}
	if (!(b->flags & PKT_TCP_ACK) || !p->oc)
		return;
	/* R24: an ACK number never runs past what was stored. */
	uint64_t o = (uint32_t)(b->ack - (p->irs + 1));
	uint64_t stored = p->oc->rc.rcv_bytes;
	/* The FIN takes a sequence number too: rcv_nxt counts it once it is accepted (also
	 * after an upload, when the core stores nothing more). */
	bool fin = o == stored + 1 && fin_sent_at(p, p->irs + 1 + (uint32_t)stored);
	if (o > stored && !fin)
		FUZZ_FAIL("port %u: ACK %u acknowledges %llu stream bytes, the core stored %llu",
			  p->port, b->ack, (unsigned long long)o, (unsigned long long)stored);
	if (!covered(p, p->irs + 1, fin ? o - 1 : o) || (fin && !fin_sent_at(p, b->ack - 1)))
		FUZZ_FAIL("port %u: ACK %u acknowledges bytes (or a FIN) the peer never sent",
			  p->port, b->ack);
	/* R24: the window offers no more than the core can store right now. */
	uint64_t space = rxq_space(&p->oc->rc), wnd = (uint64_t)b->window << p->our_ws;
	if (wnd > space)
		FUZZ_FAIL("port %u: window %llu advertised, the core can store %llu", p->port,
			  (unsigned long long)wnd, (unsigned long long)space);
	if (p->acked_any && o < p->acked)
		FUZZ_FAIL("port %u: ACK went backwards from offset %llu to %llu", p->port,
			  (unsigned long long)p->acked, (unsigned long long)o);
	p->acked = o;
	p->acked_any = true;
}

/* --- driving ------------------------------------------------------------------------------- */

static void poll_engine(void)
{
	tcp_rx_batch_end(h.rx);
	rxq_run_deferred(&h.eng->q);
	rxq_advance(&h.eng->q);
	tcp_rx_tick(h.rx);
}

/* Move the clock, stepping through every timer deadline on the way, as the link would. */
static void advance(uint64_t ns)
{
	uint64_t target = h.now + ns;
	rxq_run_deferred(&h.eng->q);
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t due = rxq_next_due(&h.eng->q, target);
		if (due == UINT64_MAX)
			break;
		FUZZ_CHECK(due <= target);
		if (due > h.now)
			h.now = due;
		rxq_advance(&h.eng->q);
		tcp_rx_tick(h.rx);
	}
	h.now = target;
	poll_engine();
}

static struct pkt_info make_seg(struct peer *p, uint8_t flags, uint32_t seq, uint32_t len)
{
	struct pkt_info s;
	memset(&s, 0, sizeof(s));
	s.family = p->family;
	if (p->family == PKT_AF_INET) {
		s.src_addr[10] = s.src_addr[11] = s.dst_addr[10] = s.dst_addr[11] = 0xff;
		memcpy(s.src_addr + 12, "\x0a\x4d\x00\x02", 4);
		memcpy(s.dst_addr + 12, "\x0a\x4d\x00\x01", 4);
	} else {
		s.src_addr[0] = s.dst_addr[0] = 0xfd;
		s.src_addr[1] = s.dst_addr[1] = 0x77;
		s.src_addr[15] = 2;
		s.dst_addr[15] = 1;
	}
	s.src_port = p->port;
	s.dst_port = LOCAL_PORT;
	s.flags = flags;
	s.seq = seq;
	s.ack = p->have_fin ? p->our_fin + 1 : p->iss + 1;
	s.window = 65535;
	if (len > MAX_SEG)
		len = MAX_SEG;
	for (uint32_t i = 0; i < len; i++)
		h.seg_buf[i] = stream_byte(p->port, seq + i);
	s.payload = h.seg_buf;
	s.payload_len = len;
	return s;
}

static void send_seg(struct peer *p, struct pkt_info *s)
{
	if (s->flags & PKT_TCP_SYN) {
		p->syn_seq[p->nsyn % NSYN] = s->seq;
		p->nsyn++;
	}
	/* The SYN takes the first sequence number; data after it. */
	uint32_t dseq = s->seq + !!(s->flags & PKT_TCP_SYN);
	span_add(p, dseq, s->payload_len);
	if (s->flags & PKT_TCP_FIN) {
		if (p->nfin < NFIN)
			p->fin_seq[p->nfin++] = dseq + s->payload_len;
		else
			p->fin_overflow = true;
	}
	if (s->flags & PKT_TCP_SYN) /* a SYN's data is at seq + 1: rebuild it so */
		for (uint32_t i = 0; i < s->payload_len; i++)
			h.seg_buf[i] = stream_byte(p->port, dseq + i);
	tcp_rx_input(h.rx, s);
}

static void opts_from(struct peer *p, struct pkt_info *s, uint8_t bits)
{
	if (bits & 1) {
		s->opts.present |= PKT_OPT_MSS;
		s->opts.mss = (bits & 0x20) ? rd16() : 1460;
	}
	if (bits & 2) {
		s->opts.present |= PKT_OPT_WSCALE;
		s->opts.wscale = (uint8_t)(rd8() % (PKT_WSCALE_MAX + 1));
	}
	if (bits & 4)
		s->opts.present |= PKT_OPT_SACK_PERM;
	if (bits & 8) {
		s->opts.present |= PKT_OPT_TS;
		/* Mostly forward, sometimes backwards (PAWS territory). */
		p->ts += (bits & 0x40) ? (uint32_t)(int8_t)rd8() : 1;
		s->opts.ts_val = p->ts;
		s->opts.ts_ecr = rd8();
	}
	if (bits & 0x10) {
		s->opts.present |= PKT_OPT_SACK;
		s->opts.nr_sack = (uint8_t)(1 + rd8() % PKT_SACK_MAX);
		for (unsigned int i = 0; i < s->opts.nr_sack; i++) {
			s->opts.sack[i].left = p->iss + rd16();
			s->opts.sack[i].right = s->opts.sack[i].left + rd16();
		}
	}
}

static struct peer *pick_peer(void)
{
	return &h.peers[rd8() % NPEERS];
}

static void op_open(void)
{
	struct peer *p = pick_peer();
	uint32_t isn = rd32();
	uint8_t bits = rd8();
	struct pkt_info syn = make_seg(p, PKT_TCP_SYN, isn, 0);
	opts_from(p, &syn, bits);
	p->have_synack = false;
	send_seg(p, &syn);
	tcp_rx_batch_end(h.rx);
	if (!p->have_synack)
		return;
	p->next_seq = isn + 1;
	struct pkt_info ack = make_seg(p, PKT_TCP_ACK, isn + 1, 0);
	if (syn.opts.present & PKT_OPT_TS) {
		ack.opts.present = PKT_OPT_TS;
		ack.opts.ts_val = ++p->ts;
	}
	send_seg(p, &ack);
	tcp_rx_batch_end(h.rx);
}

static void op_syn_raw(void)
{
	struct peer *p = pick_peer();
	uint8_t fl = rd8();
	uint32_t seq = (fl & 0x80) ? p->next_seq - 1 : rd32();
	uint32_t len = (fl & 0x40) ? rd8() : 0;
	struct pkt_info s = make_seg(p, (uint8_t)(PKT_TCP_SYN | (fl & 0x39)), seq, len);
	opts_from(p, &s, rd8());
	send_seg(p, &s);
}

static void op_data(void)
{
	struct peer *p = pick_peer();
	uint32_t len = rd16() % (MAX_SEG + 1);
	uint8_t fl = rd8();
	uint8_t flags = PKT_TCP_ACK | (fl & PKT_TCP_PSH) | (fl & PKT_TCP_FIN);
	struct pkt_info s = make_seg(p, flags, p->next_seq, len);
	if (fl & 0x80)
		opts_from(p, &s, 8); /* a timestamp, as Linux sends */
	send_seg(p, &s);
	p->next_seq += len + !!(flags & PKT_TCP_FIN);
	if (fl & 0x40)
		tcp_rx_batch_end(h.rx);
}

static void op_seg(void)
{
	struct peer *p = pick_peer();
	uint8_t mode = rd8();
	int32_t off = (int16_t)rd16();
	uint32_t len = rd16() % (MAX_SEG + 1);
	uint8_t flags = rd8();
	uint32_t base;
	switch (mode & 3) {
	case 0:
		base = p->next_seq;
		break;
	case 1:
		base = p->oc ? p->irs + 1 + (uint32_t)p->acked : p->next_seq;
		break;
	case 2:
		base = p->oc ? p->irs + 1 + (uint32_t)p->delivered : p->next_seq;
		break;
	default:
		base = rd32();
		break;
	}
	struct pkt_info s = make_seg(p, flags, base + (uint32_t)off, len);
	if (mode & 4)
		s.ack = rd32();
	if (mode & 8)
		s.window = rd16();
	if (mode & 0x10)
		opts_from(p, &s, rd8());
	send_seg(p, &s);
	if (mode & 0x20)
		tcp_rx_batch_end(h.rx);
}

static void post_slot(struct peer *p, uint32_t i)
{
	struct slot *s = &h.slots[i];
	memcpy(s->mem, h.canary, s->chain);
	offrx_req_init(&s->req, s->segs, s->segs[1].len ? 2 : 1, i);
	s->req.data_offset = s->off;
	s->req.data_len = s->len;
	s->req.bytes_transferred = s->prefill;
	s->req.flags = s->flags;
	s->state = SLOT_POSTED;
	s->peer = p;
	s->gen = p->gen;
	FUZZ_CHECK(p->fn < NSLOTS);
	p->fifo[(p->fhead + p->fn) % NSLOTS] = i;
	p->fn++;
	int rc = offrx_post_recv(p->oc, &s->req);
	if (rc != OFFRX_PENDING)
		FUZZ_FAIL("port %u: a valid post returned %d, not PENDING (R01)", p->port, rc);
}

static void op_post(void)
{
	struct peer *p = pick_peer();
	uint8_t nreq = 1 + rd8() % 3;
	struct offrx_recv_req *list = NULL, **tail = &list;
	uint32_t idx[3], n = 0;
	for (uint8_t k = 0; k < nreq; k++) {
		uint8_t fl = rd8();
		uint32_t len = rd16() % (SLOT_MEM - 16 + 1);
		uint32_t i;
		for (i = 0; i < NSLOTS && h.slots[i].state != SLOT_FREE; i++)
			;
		bool used = false;
		for (uint32_t j = 0; j < n; j++)
			used |= idx[j] == i;
		if (!p->oc || i == NSLOTS || used)
			continue;
		struct slot *s = &h.slots[i];
		s->off = fl & 0x10 ? fl & 7 : 0;
		s->len = len;
		s->prefill = fl & 0x20 ? (len ? rd8() % (len + 1) : 0) : 0;
		s->repost = fl & 0x40;
		s->chain = s->off + s->len + (fl & 0x80 ? 3 : 0);
		uint32_t split = fl & 8 ? rd16() % (s->chain + 1) : s->chain;
		s->segs[0] = (struct offrx_seg){ s->mem, split };
		s->segs[1] = (struct offrx_seg){ s->mem + split, s->chain - split };
		memcpy(s->mem, h.canary, s->chain);
		offrx_req_init(&s->req, s->segs, s->segs[1].len ? 2 : 1, i);
		s->req.data_offset = s->off;
		s->req.data_len = s->len;
		s->req.bytes_transferred = s->prefill;
		s->flags = fl & 1 ? OFFRX_REQ_NO_PUSH : 0;
		s->req.flags = s->flags;
		s->state = SLOT_POSTED;
		s->peer = p;
		s->gen = p->gen;
		idx[n++] = i;
		*tail = &s->req;
		tail = &s->req.next;
	}
	if (!list)
		return;
	for (uint32_t j = 0; j < n; j++) {
		p->fifo[(p->fhead + p->fn) % NSLOTS] = idx[j];
		p->fn++;
	}
	int rc = offrx_post_recv(p->oc, list);
	if (rc != OFFRX_PENDING)
		FUZZ_FAIL("port %u: a valid post of %u requests returned %d (R01)", p->port, n, rc);
}

/* A post the engine must refuse whole, queueing nothing (a prefill past the buffer). */
static void op_post_bad(void)
{
	struct peer *p = pick_peer();
	uint32_t i;
	for (i = 0; i < NSLOTS && h.slots[i].state != SLOT_FREE; i++)
		;
	if (!p->oc || i == NSLOTS)
		return;
	struct slot *s = &h.slots[i];
	s->segs[0] = (struct offrx_seg){ s->mem, 100 };
	offrx_req_init(&s->req, s->segs, 1, i);
	if (rd8() & 1)
		s->req.bytes_transferred = 101;
	else
		s->req.data_offset = 1;
	FUZZ_CHECK(offrx_post_recv(p->oc, &s->req) == OFFRX_INVALID_PARAMETER);
}

static void return_bufs(size_t k)
{
	if (k > h.nheld)
		k = h.nheld;
	if (!k)
		return;
	for (size_t i = 0; i < k; i++) {
		struct held *x = &h.held[h.nheld - k + i];
		if (fnv(x->b->data, x->b->len) != x->hash)
			FUZZ_FAIL("an indicated buffer (id %llu) changed while the application "
				  "held it (R22)",
				  (unsigned long long)x->b->id);
		x->b->next = i + 1 < k ? h.held[h.nheld - k + i + 1].b : NULL;
	}
	int rc = offrx_return_indicated(h.eng, h.held[h.nheld - k].b);
	FUZZ_CHECK(rc == OFFRX_SUCCESS); /* R22: returning always succeeds */
	h.nheld -= k;
}

static void op_return(void)
{
	uint8_t k = rd8();
	return_bufs(k == 0 ? h.nheld : k % 16);
}

static void op_upload(void)
{
	struct peer *p = pick_peer();
	if (!p->oc)
		return;
	bool was_open = !p->disc && !p->uploaded;
	int rc = offrx_conn_upload(p->oc);
	FUZZ_CHECK(was_open ? rc == OFFRX_SUCCESS : rc != OFFRX_SUCCESS);
	FUZZ_CHECK(!was_open || p->uploaded);
}

static void op_rst(void)
{
	struct peer *p = pick_peer();
	uint8_t mode = rd8();
	uint32_t at = p->oc ? p->irs + 1 + (uint32_t)p->acked : p->next_seq;
	if (mode & 1)
		at += 1 + rd16();
	struct pkt_info s = make_seg(p, (uint8_t)(PKT_TCP_RST | (mode & PKT_TCP_ACK)), at, 0);
	send_seg(p, &s);
}

static void op_fin(void)
{
	struct peer *p = pick_peer();
	struct pkt_info s = make_seg(p, PKT_TCP_FIN | PKT_TCP_ACK, p->next_seq, 0);
	send_seg(p, &s);
	p->next_seq++;
	tcp_rx_batch_end(h.rx);
}

static void op_ack_fin(void)
{
	struct peer *p = pick_peer();
	struct pkt_info s = make_seg(p, PKT_TCP_ACK, p->next_seq, 0);
	send_seg(p, &s);
}

static void op_advance(void)
{
	static const uint64_t steps[8] = { MS / 10,  MS,       5 * MS,	  40 * MS,
					   100 * MS, 500 * MS, 1000 * MS, 3100 * MS };
	uint8_t b = rd8();
	advance(steps[b & 7] * (1 + (b >> 6)));
}

/* --- one input ----------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t holds[4] = { 4096, 16384, 65536, 262144 };
	static const uint32_t chunks[4] = { 64, 256, 1024, 4096 };
	static const uint16_t ports[] = { LOCAL_PORT };

	free(h.held);
	memset(&h, 0, sizeof(h));
	in = (struct rd){ data, size };
	h.now = 1000 * MS;
	for (uint32_t k = 0; k < SLOT_MEM; k++)
		h.canary[k] = (uint8_t)(0xA5 ^ k);
	for (int i = 0; i < NPEERS; i++) {
		h.peers[i].port = (uint16_t)(40000 + i);
		h.peers[i].family = i == NPEERS - 1 ? PKT_AF_INET6 : PKT_AF_INET;
	}

	uint8_t c0 = rd8(), c1 = rd8();
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	o.cb = (c0 & 0x20) ? &cbs_no_indicate : &cbs_indicate;
	o.hold_bytes_per_conn = holds[c0 & 3];
	o.chunk_size = chunks[(c0 >> 2) & 3];
	/* A small pool: running out is a path worth fuzzing, and setting up a large one would
	 * cost more than most inputs. */
	o.pool_bytes = (uint64_t)o.chunk_size * ((c0 & 0x10) ? 48 : 256);
	o.push_timer_ns = (1 + (uint64_t)(c1 & 0x3f) * 16) * MS;
	/* c1 & 0x80: tables smaller than the peers (SYN flood, connection limit, and an
	 * engine that refuses the connection at the end of the handshake). */
	o.max_conns = (c1 & 0x80) ? 1 : 8;
	o.observer = observe;
	FUZZ_CHECK(engine_create(&o, &tcp_rx_link_ops, vclock, NULL, &h.eng) == 0);
	struct tcp_rx_cfg cfg = { .ports = ports, .nports = 1, .xmit = xmit };
	cfg.max_conns = (c1 & 0x80) ? 2 : 4;
	cfg.max_halfopen = (c1 & 0x80) ? 1 : 4;
	cfg.ooo_max = (c0 & 0x40) ? 2048 : 65536;
	cfg.idle_ns = (c0 & 0x80) ? 2000 * MS : 0;
	FUZZ_CHECK(tcp_rx_create(&cfg, h.eng, &h.rx) == 0);

	for (int ops = 0; in.n && ops < MAX_OPS; ops++) {
		switch (rd8() % 16) {
		case 0:
		case 1:
			op_open();
			break;
		case 2:
			op_syn_raw();
			break;
		case 3:
		case 4:
			op_data();
			break;
		case 5:
			op_seg();
			break;
		case 6:
		case 7:
			op_post();
			break;
		case 8:
			op_advance();
			break;
		case 9:
			poll_engine();
			break;
		case 10:
			op_return();
			break;
		case 11:
			op_upload();
			break;
		case 12:
			op_rst();
			break;
		case 13:
			op_fin();
			break;
		case 14:
			op_ack_fin();
			break;
		default:
			op_post_bad();
			break;
		}
	}

	if (getenv("OFFRX_FUZZ_VERBOSE")) /* what the input did, for writing seeds */
		for (int i = 0; i < NPEERS; i++)
			fprintf(stderr,
				"fuzz_tcp: port %u: %s, delivered %llu, acked %llu%s%s; totals: "
				"%llu connections, %llu completions, %llu indications\n",
				h.peers[i].port, h.peers[i].oc ? "open" : "no connection",
				(unsigned long long)h.peers[i].delivered,
				(unsigned long long)h.peers[i].acked,
				h.peers[i].disc ? ", disconnected" : "",
				h.peers[i].uploaded ? ", uploaded" : "",
				(unsigned long long)h.conns, (unsigned long long)h.completions,
				(unsigned long long)h.indications);

	/* The application takes every connection back (R26) so that everything stored comes
	 * out, returns what it holds (R23), and only then does the engine go away. */
	poll_engine();
	h.teardown = true;
	if (c1 & 0x40) {
		tcp_rx_abort_all(h.rx); /* the engine going away: RST, requests aborted (R25) */
		for (int i = 0; i < NPEERS; i++)
			FUZZ_CHECK(!h.peers[i].oc);
	}
	for (int i = 0; i < NPEERS; i++)
		if (h.peers[i].oc && !h.peers[i].disc && !h.peers[i].uploaded)
			FUZZ_CHECK(offrx_conn_upload(h.peers[i].oc) == OFFRX_SUCCESS);
	poll_engine();
	return_bufs(h.nheld);
	tcp_rx_destroy(h.rx);
	uint32_t out = 0;
	int rc = offrx_engine_destroy(h.eng, &out);
	if (rc != OFFRX_SUCCESS)
		FUZZ_FAIL("engine destroy refused (%d) with %u indicated buffers out, all returned",
			  rc, out);
	for (int i = 0; i < NSLOTS; i++)
		if (h.slots[i].state != SLOT_FREE)
			FUZZ_FAIL("request slot %d was posted and never completed (R17)", i);
	free(h.held);
	h.held = NULL;
	return 0;
}
