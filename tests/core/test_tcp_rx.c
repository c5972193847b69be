/* TCP receive state over the core, on a virtual clock with a scripted peer: handshake,
 * delayed ACK, window (R24), out-of-order reassembly, overlaps, RST and SYN per RFC 5961,
 * zero-window probes, a SYN flood, FIN with pending requests (R25). Segments are built with
 * make_segment(peer, seq_offset, len, flags), so each test reads like the exchange it checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "pkt.h"
#include "tcp_rx.h"

#define MS	 (1000ull * 1000)
#define MAX_OUT	 20000
#define PEER_ISN 0xfffff000u /* close to the wrap, so sequence arithmetic is exercised */

/* Each segment a test feeds is a receive batch of its own, as if it arrived alone. */
#define tcp_rx_input(rx, seg) (tcp_rx_input(rx, seg), tcp_rx_batch_end(rx))

static uint64_t vnow;
static struct pkt_tcp_build out[MAX_OUT];
static uint32_t nout;
static struct offrx_engine *eng;
static struct tcp_rx *rx;

/* The application: posts `post_n` requests of `post_len` on each new connection, checks every
 * byte it gets against the peer's stream. */
static uint32_t post_n = 2, post_len = 4096, post_flags;
static uint64_t app_bytes, completions, aborted, events_disc, events_closed;
static uint8_t app_stream[1 << 20];
static struct offrx_conn *last_conn;
/* Set by a test: held data handed back with an event is kept (in kept_back), not returned. */
static bool keep_handed_back;
static struct offrx_ind_buf *kept_back;
static uint64_t kept_bytes;
static uint32_t last_rcv_wnd;

struct slot {
	struct offrx_recv_req req;
	struct offrx_seg seg;
	uint8_t buf[65536];
};
static struct slot slots[64];
static uint32_t nslots;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 131 + (off >> 9) + 7);
}

static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return vnow;
}

static void xmit(void *ctx, const struct pkt_tcp_build *b)
{
	(void)ctx;
	if (nout < MAX_OUT)
		out[nout++] = *b;
}

static void post_one(struct offrx_conn *c, uint32_t len, uint32_t flags)
{
	struct slot *s = &slots[nslots++ % 64];
	s->seg = (struct offrx_seg){ s->buf, len };
	offrx_req_init(&s->req, &s->seg, 1, 0);
	s->req.flags = flags;
	assert_int_equal(offrx_post_recv(c, &s->req), OFFRX_PENDING);
}

static void on_new(struct offrx_conn *c, void *user)
{
	(void)user;
	last_conn = c;
	for (uint32_t i = 0; i < post_n; i++)
		post_one(c, post_len, post_flags);
}

static void on_complete(struct offrx_conn *c, struct offrx_recv_req *reqs, void *ctx)
{
	(void)c;
	(void)ctx;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		completions++;
		if (r->status == OFFRX_REQUEST_ABORTED)
			aborted++;
		const uint8_t *p = (const uint8_t *)r->segs[0].base;
		for (uint32_t i = 0; i < r->bytes_transferred; i++) {
			if (app_bytes < sizeof(app_stream))
				app_stream[app_bytes] = p[i];
			app_bytes++;
		}
	}
}

static void on_event(struct offrx_conn *c, const struct offrx_conn_event *ev, void *ctx)
{
	(void)c;
	(void)ctx;
	if (ev->type == OFFRX_EV_DISCONNECT)
		events_disc++;
	if (ev->type != OFFRX_EV_CLOSED)
		last_rcv_wnd = ev->rcv_wnd;
	/* Held data handed back with the event continues the stream; the buffers are ours. */
	for (struct offrx_ind_buf *b = ev->held; b; b = b->next) {
		for (uint32_t i = 0; i < b->len; i++) {
			if (app_bytes < sizeof(app_stream))
				app_stream[app_bytes] = b->data[i];
			app_bytes++;
		}
		kept_bytes += b->len;
	}
	if (ev->held && keep_handed_back) {
		struct offrx_ind_buf *last = ev->held;
		while (last->next)
			last = last->next;
		last->next = kept_back;
		kept_back = ev->held;
	} else if (ev->held) {
		assert_int_equal(offrx_return_indicated(eng, ev->held), OFFRX_SUCCESS);
	}
	if (ev->type == OFFRX_EV_CLOSED) {
		events_closed++;
		if (last_conn == c)
			last_conn = NULL;
	}
}

static const struct offrx_callbacks cbs = {
	.conn_new = on_new,
	.recv_complete = on_complete,
	.conn_event = on_event,
};

static void setup_with(uint64_t hold, uint32_t halfopen)
{
	vnow = 1000 * MS;
	nout = 0;
	app_bytes = completions = aborted = events_disc = events_closed = 0;
	last_conn = NULL;
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	o.hold_bytes_per_conn = hold;
	assert_int_equal(engine_create(&o, &tcp_rx_link_ops, vclock, NULL, &eng), 0);
	static const uint16_t ports[] = { 5201 };
	struct tcp_rx_cfg cfg = { .ports = ports, .nports = 1, .xmit = xmit };
	cfg.max_halfopen = halfopen;
	assert_int_equal(tcp_rx_create(&cfg, eng, &rx), 0);
}

static int setup(void **state)
{
	(void)state;
	post_n = 2;
	post_len = 4096;
	post_flags = 0;
	setup_with(0, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcp_rx_destroy(rx);
	assert_int_equal(offrx_engine_destroy(eng, NULL), OFFRX_SUCCESS);
	return 0;
}

/* --- the peer ---------------------------------------------------------------------------- */

struct peer {
	uint16_t port;
	uint32_t isn;
	uint64_t sent; /* stream bytes sent in order so far */
	uint8_t payload[70000];
};

static struct pkt_info make_base(const struct peer *p, uint8_t flags)
{
	struct pkt_info s;
	memset(&s, 0, sizeof(s));
	s.family = PKT_AF_INET;
	s.src_addr[10] = s.src_addr[11] = 0xff;
	s.dst_addr[10] = s.dst_addr[11] = 0xff;
	memcpy(s.src_addr + 12, "\x0a\x4d\x00\x02", 4);
	memcpy(s.dst_addr + 12, "\x0a\x4d\x00\x01", 4);
	s.src_port = p->port;
	s.dst_port = 5201;
	s.flags = flags;
	s.window = 65535;
	return s;
}

/* The segment factory: len stream bytes starting seq_offset bytes after the next in-order
 * byte, with flags (ACK is added), acknowledging the engine's SYN-ACK. */
static struct pkt_info make_segment(struct peer *p, int64_t seq_offset, uint32_t len, uint8_t flags)
{
	struct pkt_info s = make_base(p, flags | PKT_TCP_ACK);
	uint64_t off = p->sent + (uint64_t)seq_offset;
	s.seq = p->isn + 1 + (uint32_t)off;
	s.ack = out[0].seq + 1; /* filled properly by the caller when it matters */
	for (uint32_t i = 0; i < len; i++)
		p->payload[i] = pattern(off + i);
	s.payload = p->payload;
	s.payload_len = len;
	return s;
}

static uint32_t our_iss;

static void send_in_order(struct peer *p, uint32_t len, uint8_t flags)
{
	struct pkt_info s = make_segment(p, 0, len, flags);
	s.ack = our_iss + 1;
	tcp_rx_input(rx, &s);
	p->sent += len;
}

static const struct pkt_tcp_build *last_out(void)
{
	return nout ? &out[nout - 1] : NULL;
}

static void handshake(struct peer *p, uint16_t port)
{
	p->port = port;
	p->isn = PEER_ISN;
	p->sent = 0;
	struct pkt_info syn = make_base(p, PKT_TCP_SYN);
	syn.seq = p->isn;
	syn.opts.present = PKT_OPT_MSS | PKT_OPT_WSCALE | PKT_OPT_SACK_PERM | PKT_OPT_TS;
	syn.opts.mss = 1460;
	syn.opts.wscale = 7;
	syn.opts.ts_val = 1234;
	uint32_t before = nout;
	tcp_rx_input(rx, &syn);
	assert_int_equal(nout, before + 1);
	const struct pkt_tcp_build *sa = last_out();
	assert_int_equal(sa->flags, PKT_TCP_SYN | PKT_TCP_ACK);
	assert_int_equal(sa->ack, p->isn + 1);
	our_iss = sa->seq;
	struct pkt_info ack = make_base(p, PKT_TCP_ACK);
	ack.seq = p->isn + 1;
	ack.ack = our_iss + 1;
	tcp_rx_input(rx, &ack);
}

static uint32_t acked(void)
{
	for (uint32_t i = nout; i-- > 0;)
		if (out[i].flags & PKT_TCP_ACK)
			return out[i].ack - (PEER_ISN + 1);
	return 0;
}

static void check_app_stream(void)
{
	for (uint64_t i = 0; i < app_bytes && i < sizeof(app_stream); i++)
		if (app_stream[i] != pattern(i))
			fail_msg("app byte %llu is %02x, want %02x", (unsigned long long)i,
				 app_stream[i], pattern(i));
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_handshake_offers_what_the_peer_offered(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40000);
	const struct pkt_tcp_build *sa = &out[0];
	assert_true(sa->opts.present & PKT_OPT_MSS);
	assert_int_equal(sa->opts.mss, 1460);
	assert_true(sa->opts.present & PKT_OPT_WSCALE);
	assert_int_equal(sa->opts.wscale, 7);
	assert_true(sa->opts.present & PKT_OPT_SACK_PERM);
	assert_true(sa->opts.present & PKT_OPT_TS);
	assert_int_equal(sa->opts.ts_ecr, 1234);
	assert_non_null(last_conn); /* established: the application was told */
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.conns_opened, 1);
	assert_int_equal(st.halfopen, 0);
}

static void test_no_wscale_offered_means_none_in_synack(void **state)
{
	(void)state;
	struct peer p = { .port = 40001, .isn = 5 };
	struct pkt_info syn = make_base(&p, PKT_TCP_SYN);
	syn.seq = 5;
	tcp_rx_input(rx, &syn);
	assert_int_equal(out[0].opts.present & (PKT_OPT_WSCALE | PKT_OPT_SACK_PERM | PKT_OPT_TS),
			 0);
	assert_true(out[0].opts.present & PKT_OPT_MSS);
}

static void test_delayed_ack_every_second_full_segment(void **state)
{
	(void)state;
	post_n = 4;
	struct peer p;
	handshake(&p, 40002);
	uint32_t base = nout;
	/* Full-sized here means what the peer sends: 1448 bytes with timestamps on. */
	send_in_order(&p, 1448, 0);
	assert_int_equal(nout, base); /* one segment: the ACK waits */
	send_in_order(&p, 1448, 0);
	assert_int_equal(nout, base + 1);
	assert_int_equal(acked(), 2896);
	send_in_order(&p, 100, 0);
	assert_int_equal(nout, base + 1);
	vnow += 39 * MS;
	tcp_rx_tick(rx);
	assert_int_equal(nout, base + 1);
	vnow += 1 * MS;
	tcp_rx_tick(rx);
	assert_int_equal(nout, base + 2); /* the delayed ACK after 40 ms */
	assert_int_equal(acked(), 2996);
}

static void test_R24_never_acks_more_than_stored(void **state)
{
	(void)state;
	teardown(NULL);
	post_n = 1;
	post_len = 2000;
	setup_with(4096, 0); /* 2000 in the request + 4096 of engine budget */
	struct peer p;
	handshake(&p, 40003);
	/* A sender that ignores the window: 8000 bytes back to back. */
	for (int i = 0; i < 8; i++) {
		struct pkt_info s = make_segment(&p, i * 1000, 1000, 0);
		s.ack = our_iss + 1;
		tcp_rx_input(rx, &s);
	}
	tcp_rx_flush_ack(last_conn);
	struct offrx_conn_stats cs;
	offrx_conn_stats(last_conn, &cs);
	/* Every byte acknowledged is in the request or in engine buffers. */
	assert_int_equal(acked(), cs.bytes_received);
	assert_true(cs.bytes_received <= 2000 + 4096);
	for (uint32_t i = 0; i < nout; i++)
		if (out[i].flags & PKT_TCP_ACK && !(out[i].flags & PKT_TCP_SYN))
			assert_true(((uint64_t)out[i].window << 7) <= 4096 + 2000);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_true(st.drops[TCP_DROP_NO_ROOM] + st.drops[TCP_DROP_OUT_OF_WINDOW] +
			    st.drops[TCP_DROP_ZERO_WINDOW] >
		    0);
	check_app_stream();
}

/* rcv_wnd_max caps what we advertise (like SO_RCVBUF), SYN-ACK included, whatever the core
 * could store; data up to the cap is stored and acknowledged as usual. */
static void test_window_cap_is_never_exceeded(void **state)
{
	(void)state;
	teardown(NULL);
	post_n = 4;
	post_len = 65536;
	vnow = 1000 * MS;
	nout = 0;
	app_bytes = completions = aborted = events_disc = events_closed = 0;
	last_conn = NULL;
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	assert_int_equal(engine_create(&o, &tcp_rx_link_ops, vclock, NULL, &eng), 0);
	static const uint16_t ports[] = { 5201 };
	struct tcp_rx_cfg cfg = { .ports = ports, .nports = 1, .xmit = xmit };
	cfg.wnd_max = 20000;
	assert_int_equal(tcp_rx_create(&cfg, eng, &rx), 0);
	struct peer p;
	handshake(&p, 40004);
	assert_true(offrx_conn_space(last_conn) > 200000); /* the core could take far more */
	for (int i = 0; i < 40; i++)
		send_in_order(&p, 1000, 0);
	tcp_rx_flush_ack(last_conn);
	for (uint32_t i = 0; i < nout; i++) {
		uint64_t wnd =
			out[i].flags & PKT_TCP_SYN ? out[i].window : (uint64_t)out[i].window << 7;
		assert_true(wnd <= 20000);
		assert_true(wnd > 0);
	}
	assert_int_equal(acked(), 40000); /* all of it stored and acknowledged */
	check_app_stream();
}

static void test_out_of_order_then_filled(void **state)
{
	(void)state;
	post_n = 1;
	post_len = 3000;
	struct peer p;
	handshake(&p, 40004);
	struct pkt_info s2 = make_segment(&p, 1000, 1000, 0);
	s2.ack = our_iss + 1;
	uint32_t base = nout;
	tcp_rx_input(rx, &s2);
	assert_int_equal(nout, base + 1); /* a gap: duplicate ACK at once */
	assert_int_equal(acked(), 0);
	assert_true(last_out()->opts.present & PKT_OPT_SACK);
	assert_int_equal(last_out()->opts.sack[0].left, PEER_ISN + 1 + 1000);
	assert_int_equal(last_out()->opts.sack[0].right, PEER_ISN + 1 + 2000);
	struct pkt_info s3 = make_segment(&p, 2000, 1000, PKT_TCP_PSH);
	s3.ack = our_iss + 1;
	tcp_rx_input(rx, &s3);
	send_in_order(&p, 1000, 0);
	assert_int_equal(acked(), 3000);
	assert_int_equal(app_bytes, 3000);
	assert_int_equal(completions, 1);
	check_app_stream();
}

static void test_overlapping_segments_first_data_wins(void **state)
{
	(void)state;
	post_n = 1;
	post_len = 2000;
	struct peer p;
	handshake(&p, 40005);
	struct pkt_info a = make_segment(&p, 1000, 1000, 0); /* [1000, 2000) correct */
	a.ack = our_iss + 1;
	tcp_rx_input(rx, &a);
	struct pkt_info b = make_segment(&p, 500, 1000, 0); /* [500, 1500) */
	b.ack = our_iss + 1;
	memset(p.payload + 500, 0xEE, 500); /* its overlap with a carries different bytes */
	tcp_rx_input(rx, &b);
	send_in_order(&p, 500, 0);
	assert_int_equal(acked(), 2000);
	assert_int_equal(app_bytes, 2000);
	check_app_stream(); /* 0xEE never reached the application */
}

static void test_rst_with_wrong_sequence_gets_a_challenge_ack(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40006);
	send_in_order(&p, 100, 0);
	struct pkt_info rst = make_segment(&p, 10, 0, PKT_TCP_RST);
	rst.flags = PKT_TCP_RST;
	uint32_t base = nout;
	tcp_rx_input(rx, &rst);
	assert_int_equal(nout, base + 1);
	assert_int_equal(last_out()->flags, PKT_TCP_ACK);
	assert_int_equal(acked(), 100);
	assert_non_null(last_conn); /* still alive */
	struct pkt_info far = make_segment(&p, 10000000, 0, 0);
	far.flags = PKT_TCP_RST;
	tcp_rx_input(rx, &far);
	assert_int_equal(nout, base + 1); /* outside the window: ignored, no reply */
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_RST_CHALLENGED], 1);
	assert_int_equal(st.drops[TCP_DROP_RST_OUTSIDE], 1);
	/* The exact RST ends it: outstanding requests are aborted (R25). */
	struct pkt_info exact = make_segment(&p, 0, 0, 0);
	exact.flags = PKT_TCP_RST;
	tcp_rx_input(rx, &exact);
	assert_null(last_conn);
	assert_int_equal(events_disc, 1);
	assert_true(aborted >= 1);
}

static void test_syn_on_established_gets_a_challenge_ack(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40007);
	struct pkt_info syn = make_base(&p, PKT_TCP_SYN);
	syn.seq = 12345;
	uint32_t base = nout;
	tcp_rx_input(rx, &syn);
	assert_int_equal(nout, base + 1);
	assert_int_equal(last_out()->flags, PKT_TCP_ACK);
	assert_non_null(last_conn);
}

static void test_zero_window_probe_is_answered_with_window_zero(void **state)
{
	(void)state;
	teardown(NULL);
	post_n = 0;
	setup_with(1024, 0); /* nothing posted, no indicate callback: 1 KiB of engine budget */
	struct peer p;
	handshake(&p, 40008);
	send_in_order(&p, 1024, PKT_TCP_PSH);
	tcp_rx_flush_ack(last_conn);
	assert_int_equal(acked(), 1024);
	assert_int_equal(last_out()->window, 0);
	uint32_t base = nout;
	send_in_order(&p, 1, 0); /* the probe */
	p.sent--;
	assert_int_equal(nout, base + 1);
	assert_int_equal(last_out()->window, 0);
	assert_int_equal(acked(), 1024);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_ZERO_WINDOW], 1);
	/* A post opens the window: the next tick sends a window update. */
	post_one(last_conn, 4096, 0);
	vnow += 2 * MS;
	offrx_engine_stats(eng, &(struct offrx_engine_stats){ 0 });
	rxq_run_deferred(&eng->q);
	tcp_rx_tick(rx);
	assert_true(last_out()->window > 0);
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.window_updates, 1);
}

static void test_syn_flood_of_ten_thousand_is_bounded(void **state)
{
	(void)state;
	teardown(NULL);
	setup_with(0, 1024);
	for (uint32_t i = 0; i < 10000; i++) {
		struct peer p = { .port = (uint16_t)(10000 + i) };
		struct pkt_info syn = make_base(&p, PKT_TCP_SYN);
		syn.seq = i * 7919;
		tcp_rx_input(rx, &syn);
	}
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.halfopen, 1024);
	assert_int_equal(st.drops[TCP_DROP_SYN_FLOOD], 10000 - 1024);
	assert_int_equal(st.synacks_out, 1024);
	/* Unanswered SYN-ACKs are sent three times, then the entries go. */
	for (int i = 0; i < 40; i++) {
		vnow += 100 * MS;
		tcp_rx_tick(rx);
	}
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.halfopen, 0);
	assert_int_equal(st.synacks_out, 3 * 1024);
	/* A real client still gets in afterwards. */
	struct peer p;
	handshake(&p, 40009);
	assert_non_null(last_conn);
}

static void test_R25_fin_with_pending_requests(void **state)
{
	(void)state;
	post_n = 3;
	struct peer p;
	handshake(&p, 40010);
	send_in_order(&p, 5000, 0);
	struct offrx_conn *c = last_conn;
	struct pkt_info fin = make_segment(&p, 0, 0, PKT_TCP_FIN);
	fin.ack = our_iss + 1;
	tcp_rx_input(rx, &fin);
	/* 4096 completed filled; the 904-byte partial and the empty one complete SUCCESS. */
	assert_int_equal(completions, 3);
	assert_int_equal(aborted, 0);
	assert_int_equal(app_bytes, 5000);
	assert_int_equal(events_disc, 1);
	const struct pkt_tcp_build *f = last_out();
	assert_int_equal(f->flags, PKT_TCP_FIN | PKT_TCP_ACK);
	assert_int_equal(f->ack, PEER_ISN + 1 + 5000 + 1);
	/* Until the peer acknowledges our FIN, posts complete INVALID_STATE. */
	struct slot *s = &slots[nslots++ % 64];
	s->seg = (struct offrx_seg){ s->buf, 100 };
	offrx_req_init(&s->req, &s->seg, 1, 0);
	assert_int_equal(offrx_post_recv(c, &s->req), OFFRX_PENDING);
	rxq_run_deferred(&eng->q);
	assert_int_equal(s->req.status, OFFRX_INVALID_STATE);
	struct pkt_info last = make_base(&p, PKT_TCP_ACK);
	last.seq = PEER_ISN + 1 + 5000 + 1;
	last.ack = f->seq + 1;
	tcp_rx_input(rx, &last);
	assert_int_equal(events_closed, 1);
	check_app_stream();
}

/* R23 on the wire: destroy resets the connections (RST to the peer) and hands the held data
 * to the application first, then counts the buffers out; it does not free the pool under
 * them. The link here shuts down the way the AF_XDP engine's does (wire.c). */
static void wire_like_shutdown(struct offrx_engine *e)
{
	(void)e;
	tcp_rx_abort_all(rx);
}

static void wire_like_destroy(struct offrx_engine *e)
{
	(void)e;
	tcp_rx_destroy(rx);
	rx = NULL;
}

static void test_R23_destroy_on_the_wire_hands_held_data_back_before_counting(void **state)
{
	(void)state;
	static struct link_ops wire_like;
	wire_like = tcp_rx_link_ops;
	wire_like.shutdown = wire_like_shutdown;
	wire_like.destroy = wire_like_destroy;
	static const struct offrx_callbacks no_posts = { .conn_new = on_new,
							 .recv_complete = on_complete,
							 .conn_event = on_event };
	vnow = 1000 * MS;
	nout = 0;
	app_bytes = completions = aborted = events_disc = events_closed = kept_bytes = 0;
	post_n = 0; /* nothing posted, no indicate callback: the data is held */
	keep_handed_back = true;
	kept_back = NULL;
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &no_posts };
	assert_int_equal(engine_create(&o, &wire_like, vclock, NULL, &eng), 0);
	static const uint16_t ports[] = { 5201 };
	struct tcp_rx_cfg cfg = { .ports = ports, .nports = 1, .xmit = xmit };
	assert_int_equal(tcp_rx_create(&cfg, eng, &rx), 0);
	struct peer p;
	handshake(&p, 40030);
	send_in_order(&p, 3000, 0);
	assert_int_equal(acked(), 3000);
	uint32_t out_bufs = 0;
	assert_int_equal(offrx_engine_destroy(eng, &out_bufs), OFFRX_INVALID_STATE);
	assert_true(last_out()->flags & PKT_TCP_RST);
	assert_int_equal(events_disc, 1);
	assert_int_equal(events_closed, 1);
	assert_int_equal(kept_bytes, 3000); /* everything acknowledged reached the application */
	assert_true(out_bufs >= 1);
	check_app_stream();
	assert_int_equal(offrx_return_indicated(eng, kept_back), OFFRX_SUCCESS);
	kept_back = NULL;
	keep_handed_back = false;
	assert_int_equal(offrx_engine_destroy(eng, &out_bufs), OFFRX_SUCCESS);
	assert_int_equal(out_bufs, 0);
	eng = NULL;
	post_n = 2;
}

/* R26 on the wire: the upload hands back the window the peer was last told (scaled, never
 * shrunk), not the engine's space at that moment. */
static void test_R26_upload_on_the_wire_hands_back_the_window_the_peer_was_told(void **state)
{
	(void)state;
	post_n = 1;
	post_len = 3000;
	struct peer p;
	handshake(&p, 40031);
	send_in_order(&p, 1448, 0);
	send_in_order(&p, 1448, 0);  /* an ACK goes out */
	post_one(last_conn, 777, 0); /* more space, not yet advertised */
	assert_int_equal(offrx_conn_upload(last_conn), OFFRX_SUCCESS); /* flushes an ACK */
	/* The furthest right edge any ACK announced, less receive-next. */
	uint32_t edge = 0, nxt = PEER_ISN + 1 + 2896;
	bool any = false;
	for (uint32_t i = 0; i < nout; i++) {
		if (!(out[i].flags & PKT_TCP_ACK))
			continue;
		uint32_t wnd =
			out[i].flags & PKT_TCP_SYN ? out[i].window : (uint32_t)out[i].window << 7;
		uint32_t e = out[i].ack + wnd;
		if (!any || (int32_t)(e - edge) > 0)
			edge = e;
		any = true;
	}
	assert_true(any);
	assert_int_equal(last_rcv_wnd, edge - nxt);
	assert_true(last_rcv_wnd != offrx_conn_space(last_conn) || last_rcv_wnd == 0);
	check_app_stream();
}

static void test_segment_for_no_connection_gets_rst(void **state)
{
	(void)state;
	struct peer p = { .port = 40011 };
	struct pkt_info s = make_base(&p, PKT_TCP_ACK);
	s.seq = 77;
	s.ack = 99;
	tcp_rx_input(rx, &s);
	assert_int_equal(nout, 1);
	assert_int_equal(out[0].flags, PKT_TCP_RST);
	assert_int_equal(out[0].seq, 99);
}

static void test_old_duplicate_is_acked_and_not_redelivered(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40012);
	send_in_order(&p, 1000, PKT_TCP_PSH);
	struct pkt_info dup = make_segment(&p, -1000, 1000, 0);
	dup.ack = our_iss + 1;
	uint32_t base = nout;
	tcp_rx_input(rx, &dup);
	assert_int_equal(nout, base + 1);
	assert_int_equal(acked(), 1000);
	assert_int_equal(app_bytes, 1000);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_DUPLICATE], 1);
	check_app_stream();
}

/* Segments that arrive in one receive batch earn one cumulative ACK at its end, not one per
 * two segments (as Linux ACKs a GRO super-segment). */
static void test_one_cumulative_ack_per_receive_batch(void **state)
{
	(void)state;
	post_len = 65536;
	struct peer p;
	handshake(&p, 40016);
	uint32_t base = nout;
	for (int i = 0; i < 6; i++) {
		struct pkt_info s = make_segment(&p, 0, 1448, 0);
		s.ack = our_iss + 1;
		(tcp_rx_input)(rx, &s); /* the real call: no batch end in between */
		p.sent += 1448;
	}
	assert_int_equal(nout, base); /* nothing yet */
	tcp_rx_batch_end(rx);
	assert_int_equal(nout, base + 1);
	assert_int_equal(acked(), 6 * 1448);
	tcp_rx_batch_end(rx); /* nothing more owed */
	assert_int_equal(nout, base + 1);
}

/* RFC 9293 3.10.7.4 (fifth check) and RFC 5961 5.2: data that acknowledges bytes we never
 * sent is not taken; an ACK says where we are. */
static void test_ack_of_data_never_sent_is_dropped(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40013);
	struct pkt_info s = make_segment(&p, 0, 100, PKT_TCP_PSH);
	s.ack = our_iss + 1 + 5000;
	uint32_t base = nout;
	tcp_rx_input(rx, &s);
	assert_int_equal(nout, base + 1);
	assert_int_equal(acked(), 0);
	assert_int_equal(app_bytes, 0);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_BAD_ACK], 1);
	send_in_order(&p, 100, PKT_TCP_PSH); /* the right ACK value is taken */
	assert_int_equal(app_bytes, 100);
	check_app_stream();
}

/* RFC 2018 section 4: the first SACK block holds the segment that triggered the ACK. */
static void test_sack_blocks_start_with_the_latest_arrival(void **state)
{
	(void)state;
	post_len = 8192;
	struct peer p;
	handshake(&p, 40014);
	struct pkt_info a = make_segment(&p, 1000, 1000, 0);
	a.ack = our_iss + 1;
	tcp_rx_input(rx, &a);
	struct pkt_info b = make_segment(&p, 3000, 1000, 0);
	b.ack = our_iss + 1;
	tcp_rx_input(rx, &b);
	const struct pkt_tcp_build *ack = last_out();
	assert_int_equal(ack->opts.nr_sack, 2);
	assert_int_equal(ack->opts.sack[0].left, PEER_ISN + 1 + 3000);
	assert_int_equal(ack->opts.sack[1].left, PEER_ISN + 1 + 1000);
	struct pkt_info c2 = make_segment(&p, 2000, 1000, 0); /* joins both into one block */
	c2.ack = our_iss + 1;
	tcp_rx_input(rx, &c2);
	ack = last_out();
	assert_int_equal(ack->opts.nr_sack, 1);
	assert_int_equal(ack->opts.sack[0].left, PEER_ISN + 1 + 1000);
	assert_int_equal(ack->opts.sack[0].right, PEER_ISN + 1 + 4000);
}

/* RFC 5961 3.2 in SYN-RECEIVED: an in-window RST that is not exact is challenged, and the
 * half-open connection survives to complete its handshake. */
static void test_rst_in_syn_received_is_challenged(void **state)
{
	(void)state;
	struct peer p = { .port = 40015, .isn = PEER_ISN };
	struct pkt_info syn = make_base(&p, PKT_TCP_SYN);
	syn.seq = p.isn;
	tcp_rx_input(rx, &syn);
	our_iss = last_out()->seq;
	struct pkt_info rst = make_base(&p, PKT_TCP_RST);
	rst.seq = p.isn + 1 + 100;
	uint32_t base = nout;
	tcp_rx_input(rx, &rst);
	assert_int_equal(nout, base + 1);
	assert_int_equal(last_out()->flags, PKT_TCP_ACK);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_RST_CHALLENGED], 1);
	assert_int_equal(st.halfopen, 1);
	struct pkt_info ack = make_base(&p, PKT_TCP_ACK);
	ack.seq = p.isn + 1;
	ack.ack = our_iss + 1;
	tcp_rx_input(rx, &ack);
	assert_non_null(last_conn);
}

/* RFC 7323 5.3 (PAWS): a timestamp older than TS.Recent marks an old duplicate; it is
 * dropped with an ACK, its bytes are not taken, and a later segment is. */
static void test_paws_drops_a_timestamp_from_the_past(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40016);
	struct pkt_info s = make_segment(&p, 0, 100, PKT_TCP_PSH);
	s.ack = our_iss + 1;
	s.opts.present = PKT_OPT_TS;
	s.opts.ts_val = 5000;
	tcp_rx_input(rx, &s);
	p.sent += 100;
	struct pkt_info old = make_segment(&p, 0, 100, PKT_TCP_PSH);
	old.ack = our_iss + 1;
	old.opts.present = PKT_OPT_TS;
	old.opts.ts_val = 4999;
	uint32_t base = nout;
	tcp_rx_input(rx, &old);
	assert_int_equal(nout, base + 1);
	assert_int_equal(last_out()->flags, PKT_TCP_ACK);
	assert_int_equal(acked(), 100);
	assert_int_equal(last_out()->opts.ts_ecr, 5000);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_PAWS], 1);
	old.opts.ts_val = 5001; /* the same bytes, now with a fresh clock */
	tcp_rx_input(rx, &old);
	p.sent += 100;
	tcp_rx_flush_ack(last_conn);
	assert_int_equal(acked(), 200);
	assert_int_equal(app_bytes, 200);
	check_app_stream();
}

/* RFC 9293 3.10.7.2 allows queueing a SYN's text; we do not: the SYN-ACK acknowledges the
 * SYN only, the drop is counted, and the bytes sent again after the handshake are taken. */
static void test_syn_data_is_not_acknowledged(void **state)
{
	(void)state;
	struct peer p = { .port = 40017, .isn = PEER_ISN };
	struct pkt_info syn = make_segment(&p, 0, 100, PKT_TCP_PSH);
	syn.flags = PKT_TCP_SYN | PKT_TCP_PSH;
	syn.seq = p.isn;
	syn.ack = 0;
	tcp_rx_input(rx, &syn);
	assert_int_equal(last_out()->flags, PKT_TCP_SYN | PKT_TCP_ACK);
	assert_int_equal(last_out()->ack, p.isn + 1);
	our_iss = last_out()->seq;
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_SYN_DATA], 1);
	struct pkt_info ack = make_base(&p, PKT_TCP_ACK);
	ack.seq = p.isn + 1;
	ack.ack = our_iss + 1;
	tcp_rx_input(rx, &ack);
	assert_int_equal(app_bytes, 0);
	send_in_order(&p, 100, PKT_TCP_PSH);
	tcp_rx_flush_ack(last_conn);
	assert_int_equal(acked(), 100);
	assert_int_equal(app_bytes, 100);
	check_app_stream();
}

/* RFC 9293 3.10.7.4, seventh check: text after the peer's FIN is ignored, never ACKed. */
static void test_data_after_fin_is_ignored(void **state)
{
	(void)state;
	struct peer p;
	handshake(&p, 40018);
	send_in_order(&p, 100, PKT_TCP_PSH | PKT_TCP_FIN);
	assert_int_equal(last_out()->flags, PKT_TCP_FIN | PKT_TCP_ACK);
	assert_int_equal(acked(), 101);
	struct pkt_info late = make_segment(&p, 1, 50, PKT_TCP_PSH);
	late.ack = our_iss + 1;
	uint32_t base = nout;
	tcp_rx_input(rx, &late);
	assert_int_equal(nout, base + 1);
	assert_int_equal(acked(), 101);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_AFTER_FIN], 1);
	assert_int_equal(app_bytes, 100);
}

/* A storm of 1-byte segments with a hole between each: the out-of-order store is bounded by
 * what the pieces cost (bytes plus a fixed cost each), not by their bytes alone; the rest is
 * dropped as ooo_full and nothing is acknowledged until the holes are filled. */
static void test_one_byte_pieces_with_holes_are_bounded(void **state)
{
	(void)state;
	post_len = 32768;
	struct peer p;
	handshake(&p, 40019);
	const uint32_t n = 5000, kept = (256u << 10) / (1 + 64);
	for (uint32_t k = 0; k < n; k++) {
		struct pkt_info s = make_segment(&p, 2 * k + 1, 1, 0);
		s.ack = our_iss + 1;
		tcp_rx_input(rx, &s);
		assert_int_equal(acked(), 0);
	}
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_OOO_FULL], n - kept);
	for (uint32_t off = 0; off < 2 * n + 1; off += 1000) {
		uint32_t len = 2 * n + 1 - off < 1000 ? 2 * n + 1 - off : 1000;
		struct pkt_info s = make_segment(&p, off, len, PKT_TCP_PSH);
		s.ack = our_iss + 1;
		tcp_rx_input(rx, &s);
	}
	tcp_rx_flush_ack(last_conn);
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.drops[TCP_DROP_OOO_FULL], n - kept);
	assert_int_equal(acked(), 2 * n + 1);
	assert_int_equal(st.bytes_stored, 2 * n + 1);
	check_app_stream();
}

/* Our window is rounded down to the scale (2^7 here): after one byte the rounded window would
 * end left of the edge the SYN-ACK advertised. RFC 9293 3.8.6 (SHLD-14): do not shrink it; the
 * peer may fill the first window, and all of it is stored. Bytes past the edge are counted. */
static void test_window_edge_never_moves_left(void **state)
{
	(void)state;
	teardown(NULL);
	post_n = 0;
	setup_with(1024, 0); /* nothing posted: 1 KiB of engine budget, SYN-ACK window 1024 */
	struct peer p;
	handshake(&p, 40020);
	send_in_order(&p, 1, 0);
	tcp_rx_flush_ack(last_conn);
	assert_int_equal(acked(), 1);
	assert_int_equal(last_out()->window, 1023 >> 7); /* 896 bytes: left of the first edge */
	struct pkt_info s = make_segment(&p, 0, 1100, PKT_TCP_PSH); /* 77 bytes past the edge */
	s.ack = our_iss + 1;
	tcp_rx_input(rx, &s);
	p.sent += 1023;
	tcp_rx_flush_ack(last_conn);
	assert_int_equal(acked(), 1024);
	struct tcp_rx_stats st;
	tcp_rx_stats(rx, &st);
	assert_int_equal(st.bytes_stored, 1024);
	assert_int_equal(st.drops[TCP_DROP_OUT_OF_WINDOW], 1);
	assert_int_equal(st.drops[TCP_DROP_NO_ROOM], 0);
}

/* RFC 6691: the MSS offered is the MTU less the fixed IP and TCP headers, and IPv6's header
 * is 20 bytes longer than IPv4's. */
static void test_mss_over_ipv6_is_20_less(void **state)
{
	(void)state;
	struct peer p = { .port = 40021, .isn = PEER_ISN };
	struct pkt_info syn = make_base(&p, PKT_TCP_SYN);
	syn.family = PKT_AF_INET6;
	memset(syn.src_addr, 0, 16);
	memset(syn.dst_addr, 0, 16);
	syn.src_addr[0] = syn.dst_addr[0] = 0xfd;
	syn.src_addr[15] = 2;
	syn.dst_addr[15] = 1;
	syn.seq = p.isn;
	syn.opts.present = PKT_OPT_MSS;
	syn.opts.mss = 1440;
	tcp_rx_input(rx, &syn);
	assert_int_equal(last_out()->flags, PKT_TCP_SYN | PKT_TCP_ACK);
	assert_int_equal(last_out()->opts.mss, 1460 - 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_offers_what_the_peer_offered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_wscale_offered_means_none_in_synack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delayed_ack_every_second_full_segment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R24_never_acks_more_than_stored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_then_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_segments_first_data_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rst_with_wrong_sequence_gets_a_challenge_ack,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_on_established_gets_a_challenge_ack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_probe_is_answered_with_window_zero,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_flood_of_ten_thousand_is_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R25_fin_with_pending_requests, setup,
						teardown),
		cmocka_unit_test(test_R23_destroy_on_the_wire_hands_held_data_back_before_counting),
		cmocka_unit_test_setup_teardown(
			test_R26_upload_on_the_wire_hands_back_the_window_the_peer_was_told, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_segment_for_no_connection_gets_rst, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_old_duplicate_is_acked_and_not_redelivered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_cumulative_ack_per_receive_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_of_data_never_sent_is_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_start_with_the_latest_arrival,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_in_syn_received_is_challenged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_paws_drops_a_timestamp_from_the_past, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_syn_data_is_not_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_after_fin_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_byte_pieces_with_holes_are_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window_edge_never_moves_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_cap_is_never_exceeded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mss_over_ipv6_is_20_less, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
