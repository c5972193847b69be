/* offrx-indicate: the indicate path (R20-R22). Nothing is posted up front, so the engine offers
 * received data in its own buffers. This program takes only part of each offer (at most TAKE
 * bytes), keeps the buffers it was given, and returns them after the callback. The engine keeps
 * what was not taken, in order, and does not offer it again until the application posts a
 * request (R21): so after a partial take this program posts one request, which the refused
 * bytes fill first; when it completes, offers resume. Every byte is counted exactly once.
 *
 *   ip netns exec offrx-eng offrx-indicate eng0 5201 1000
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx.h>
#include "num.h"

static volatile int stop;
static uint64_t take_max;
static struct offrx_ind_buf *held; /* buffers we hold, to return after the callback */
static unsigned long long took, handed_back, offers, via_request;
static struct offrx_conn *refused_on; /* a connection waiting for a post (R21) */
static struct offrx_recv_req req;
static struct offrx_seg seg;
static unsigned char buf[4096];
static int req_busy;

static void keep(struct offrx_ind_buf *bufs)
{
	while (bufs) {
		struct offrx_ind_buf *nx = bufs->next;
		bufs->next = held;
		held = bufs;
		bufs = nx;
	}
}

/* Nothing is posted: the engine offers its buffers. Take some; say how much. */
static int on_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	uint64_t n = total < take_max ? total : take_max;
	offers++;
	took += n;
	*consumed = n;
	printf("conn %llu: offered %llu bytes in %s, took %llu\n",
	       (unsigned long long)offrx_conn_id(conn), (unsigned long long)total,
	       bufs->next ? "several buffers" : "one buffer", (unsigned long long)n);
	fflush(stdout);
	if (n < total)
		refused_on = conn; /* the rest waits for a post */
	if (n == 0)
		return OFFRX_NOT_ACCEPTED; /* the buffers stay the engine's */
	keep(bufs);			   /* ours now, until we return them (R22) */
	(void)ctx;
	return n == total ? OFFRX_SUCCESS : OFFRX_PARTIALLY_ACCEPTED;
}

/* The request we post after a partial take: the refused bytes come first. */
static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		via_request += r->bytes_placed;
		printf("conn %llu: a posted request got %u bytes (the refused ones first)\n",
		       (unsigned long long)offrx_conn_id(conn), r->bytes_placed);
		req_busy = 0;
	}
	fflush(stdout);
	(void)ctx;
}

/* On disconnect the engine hands back what it still held, so nothing is lost. */
static void on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	if (ev->type != OFFRX_EV_DISCONNECT)
		return;
	handed_back += ev->held_bytes;
	if (refused_on == conn)
		refused_on = NULL;
	printf("conn %llu: closed; %llu bytes received = %llu taken from offers + %llu through "
	       "posted requests + %llu handed back with the disconnect\n",
	       (unsigned long long)offrx_conn_id(conn), (unsigned long long)ev->bytes_received,
	       took, via_request, (unsigned long long)ev->held_bytes);
	fflush(stdout);
	keep(ev->held);
	(void)ctx;
}

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: offrx-indicate IFACE PORT TAKE   (take at most TAKE bytes of each "
		   "offer; as root)\n"
		   "Receive on TCP port PORT of IFACE with nothing posted, so the engine offers\n"
		   "the data in its own buffers (indicate, R20-R22); take at most TAKE bytes of\n"
		   "each offer and post one request for the rest. Ctrl-C stops.\n"
		   "  -h, --help   this text\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 4) {
		usage(stderr);
		return 2;
	}
	uint64_t port_n;
	if (num_u64(argv[2], 1, 65535, &port_n) || num_u64(argv[3], 0, UINT64_MAX, &take_max)) {
		fprintf(stderr,
			"offrx-indicate: give a port from 1 to 65535 and a byte count, "
			"not '%s' '%s'\n",
			argv[2], argv[3]);
		return 2;
	}
	uint16_t port = (uint16_t)port_n;
	static const struct offrx_callbacks cbs = { .recv_indicate = on_indicate,
						    .recv_complete = on_complete,
						    .conn_event = on_event };
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	o.ifname = argv[1];
	o.ports = &port;
	o.nports = 1;
	struct offrx_engine *eng;
	if (offrx_engine_create(&o, &eng) != OFFRX_SUCCESS)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("receiving on %s port %u, taking at most %llu bytes per offer\n", argv[1], port,
	       (unsigned long long)take_max);
	fflush(stdout);
	while (!stop) {
		offrx_engine_poll(eng, 100);
		/* Return buffers outside the callbacks, from the engine's thread. */
		if (held) {
			offrx_return_indicated(eng, held);
			held = NULL;
		}
		/* Refused bytes wait for a post (R21): post one request for them. */
		if (refused_on && !req_busy) {
			seg = (struct offrx_seg){ buf, sizeof(buf) };
			offrx_req_init(&req, &seg, 1, 0);
			req_busy = 1;
			offrx_post_recv(refused_on, &req);
			refused_on = NULL;
		}
	}
	uint32_t out;
	if (offrx_engine_destroy(eng, &out) != OFFRX_SUCCESS) {
		/* R23: the engine will not go while we hold its buffers. Give them back. */
		offrx_return_indicated(eng, held);
		held = NULL;
		offrx_engine_destroy(eng, &out);
	}
	printf("%llu offers, %llu bytes taken, %llu through requests, %llu handed back\n", offers,
	       took, via_request, handed_back);
	return 0;
}
