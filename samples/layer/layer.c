/* offrx-layer: a layer between the application and the engine (R27), like an intermediate
 * driver. It counts the bytes each connection receives and passes everything through: the
 * same request objects down, the same completions up, in order. The application below it is
 * offrx-minimal's, unchanged: it does not know the layer is there.
 *
 *   ip netns exec offrx-eng offrx-layer eng0 5201
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx.h>
#include "num.h"

#define DEPTH 2
#define SIZE  16384

/* --- the layer: sees every request going down and every completion coming up ------------- */

struct counter {
	unsigned long long posts, completions, bytes;
};

static int count_post(struct offrx_layer *layer, struct offrx_recv_req *reqs, void *ctx)
{
	struct counter *c = ctx;
	for (struct offrx_recv_req *r = reqs; r; r = r->next)
		c->posts++;
	return offrx_layer_post_down(layer, reqs); /* the same objects, unchanged */
}

static void count_complete(struct offrx_layer *layer, struct offrx_recv_req *reqs, void *ctx)
{
	struct counter *c = ctx;
	for (struct offrx_recv_req *r = reqs; r; r = r->next) {
		c->completions++;
		c->bytes += r->bytes_placed;
	}
	offrx_layer_complete_up(layer, reqs); /* up, in the order they came */
}

static const struct offrx_layer_ops counting_layer = {
	.sz = sizeof(counting_layer),
	.post = count_post,
	.complete = count_complete,
};

/* --- the application above it ------------------------------------------------------------ */

struct conn_ctx {
	struct counter layer_counts; /* the layer's, kept here for simplicity */
	struct offrx_recv_req req[DEPTH];
	struct offrx_seg seg[DEPTH];
	unsigned char buf[DEPTH][SIZE];
	unsigned long long app_bytes;
};

static volatile int stop;

static void post(struct offrx_conn *conn, struct conn_ctx *cc, int i)
{
	cc->seg[i] = (struct offrx_seg){ cc->buf[i], SIZE };
	offrx_req_init(&cc->req[i], &cc->seg[i], 1, i);
	offrx_post_recv(conn, &cc->req[i]); /* enters the layer first */
}

static void on_new(struct offrx_conn *conn, void *user)
{
	struct conn_ctx *cc = calloc(1, sizeof(*cc));
	offrx_conn_set_context(conn, cc);
	offrx_layer_push(conn, &counting_layer, &cc->layer_counts, NULL);
	for (int i = 0; i < DEPTH; i++)
		post(conn, cc, i);
	(void)user;
}

static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct conn_ctx *cc = ctx;
	while (reqs) {
		struct offrx_recv_req *r = reqs;
		reqs = r->next;
		cc->app_bytes += r->bytes_placed;
		if (r->status == OFFRX_SUCCESS)
			post(conn, cc, (int)r->cookie);
	}
}

static void on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	struct conn_ctx *cc = ctx;
	if (ev->type != OFFRX_EV_CLOSED)
		return;
	printf("conn %llu: the layer saw %llu posts, %llu completions, %llu bytes; the application "
	       "got %llu bytes\n",
	       (unsigned long long)offrx_conn_id(conn), cc->layer_counts.posts,
	       cc->layer_counts.completions, cc->layer_counts.bytes, cc->app_bytes);
	fflush(stdout);
	free(cc);
}

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: offrx-layer IFACE PORT   (as root; Ctrl-C stops)\n"
		   "offrx-minimal's receiver with a layer between it and the engine (R27) that\n"
		   "counts each connection's posts, completions and bytes, and prints them.\n"
		   "  -h, --help   this text\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	uint64_t port_n;
	if (num_u64(argv[2], 1, 65535, &port_n)) {
		fprintf(stderr, "offrx-layer: give a port from 1 to 65535, not '%s'\n", argv[2]);
		return 2;
	}
	uint16_t port = (uint16_t)port_n;
	static const struct offrx_callbacks cbs = { .conn_new = on_new,
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
	printf("receiving on %s port %u through a counting layer\n", argv[1], port);
	fflush(stdout);
	offrx_engine_run(eng, &stop);
	offrx_engine_destroy(eng, NULL);
	return 0;
}
