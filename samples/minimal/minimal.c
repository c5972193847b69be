/* offrx-minimal: the smallest useful receiver. It keeps two 16 KiB receive requests posted on
 * every connection and prints each completion: which request, how many bytes, and why the
 * engine handed it back (filled, PSH, push timer, disconnect, ...).
 *
 *   ip netns exec offrx-eng offrx-minimal eng0 5201
 *   ip netns exec offrx-peer offrx-send -p messages -c 3 10.77.0.1:5201
 *
 * offrx-minimal --mem runs the same callbacks on the in-memory link (no root, no network): the
 * build of an application against an installed liboffrx is checked with it (tests/install).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>

#define DEPTH 2
#define SIZE  16384

/* What we keep per connection: our requests and their buffers. */
struct conn_ctx {
	struct offrx_recv_req req[DEPTH];
	struct offrx_seg seg[DEPTH];
	unsigned char buf[DEPTH][SIZE];
};

static volatile int stop;

static void post(struct offrx_conn *conn, struct conn_ctx *cc, int i)
{
	cc->seg[i] = (struct offrx_seg){ cc->buf[i], SIZE };
	offrx_req_init(&cc->req[i], &cc->seg[i], 1, i); /* the cookie says which slot */
	offrx_post_recv(conn, &cc->req[i]);		/* always PENDING: it comes back later */
}

/* A new connection: give it buffers. */
static void on_new(struct offrx_conn *conn, void *user)
{
	struct conn_ctx *cc = calloc(1, sizeof(*cc));
	char local[64], remote[64];
	offrx_conn_names(conn, local, remote, sizeof(local));
	printf("conn %llu: %s -> %s\n", (unsigned long long)offrx_conn_id(conn), remote, local);
	offrx_conn_set_context(conn, cc);
	for (int i = 0; i < DEPTH; i++)
		post(conn, cc, i);
	(void)user;
}

/* Completed requests, oldest first. Print them and post each one again. */
static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct conn_ctx *cc = ctx;
	while (reqs) {
		struct offrx_recv_req *r = reqs;
		reqs = r->next;
		printf("conn %llu req %llu: %s, %u bytes\n",
		       (unsigned long long)offrx_conn_id(conn), (unsigned long long)offrx_req_id(r),
		       offrx_status_str(r->status), r->bytes_transferred);
		if (r->status == OFFRX_SUCCESS)
			post(conn, cc, (int)r->cookie);
	}
	fflush(stdout);
}

/* Disconnect and close: free what we allocated when the engine lets go. */
static void on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	if (ev->type == OFFRX_EV_DISCONNECT)
		printf("conn %llu: peer closed after %llu bytes\n",
		       (unsigned long long)offrx_conn_id(conn),
		       (unsigned long long)ev->bytes_received);
	if (ev->type == OFFRX_EV_CLOSED)
		free(ctx);
	fflush(stdout);
}

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: offrx-minimal IFACE PORT   (as root; Ctrl-C stops)\n"
		   "       offrx-minimal --mem\n"
		   "Receive on TCP port PORT of IFACE with the offrx engine, two 16 KiB requests\n"
		   "posted per connection, and print each completion: request, status, bytes.\n"
		   "  --mem        the same on the in-memory link: one connection, three 700-byte\n"
		   "               messages with PSH, then the peer closes (no root, no network)\n"
		   "  -h, --help   this text\n");
}

/* --mem: the callbacks above, driven by the in-memory link instead of a network. */
static int run_mem(const struct offrx_callbacks *cbs)
{
	static const char msg[700];
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = cbs };
	struct offrx_engine *eng;
	struct offrx_conn *conn;
	if (offrx_mem_engine_create(&o, &eng) != OFFRX_SUCCESS)
		return 1;
	printf("receiving on the in-memory link\n");
	if (offrx_mem_conn_open(eng, 1000, &conn) != OFFRX_SUCCESS) {
		offrx_engine_destroy(eng, NULL);
		return 1;
	}
	for (int i = 0; i < 3; i++)
		offrx_mem_deliver(conn, msg, sizeof(msg), OFFRX_MEM_PSH);
	offrx_mem_fin(conn);
	offrx_mem_conn_close(conn);
	return offrx_engine_destroy(eng, NULL) == OFFRX_SUCCESS ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	static const struct offrx_callbacks cbs = {
		.conn_new = on_new,
		.recv_complete = on_complete,
		.conn_event = on_event,
	};
	if (argc == 2 && !strcmp(argv[1], "--mem"))
		return run_mem(&cbs);
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	uint16_t port = (uint16_t)atoi(argv[2]);
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	o.ifname = argv[1];
	o.ports = &port;
	o.nports = 1;
	struct offrx_engine *eng;
	if (offrx_engine_create(&o, &eng) != OFFRX_SUCCESS)
		return 1; /* the engine printed why */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("receiving on %s port %u\n", argv[1], port);
	fflush(stdout);
	offrx_engine_run(eng, &stop);
	offrx_engine_destroy(eng, NULL); /* resets open connections, detaches the XDP program */
	return 0;
}
