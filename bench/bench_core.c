/* offrx-bench-core: how fast the receive core places segments and completes requests, on one
 * core, with no I/O (the in-memory link). Prints numbers, never judges them.
 *
 *   1448-byte arrivals into 64 KiB push requests, and into 4 KiB requests;
 *   the same with tiny (64-byte) arrivals, to show the per-segment cost without the copy;
 *   memory per idle connection.
 *
 * The completion callback reposts each request at once, so the queue never runs dry. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <offrx/offrx_mem.h>

#include "bench_util.h"

#define DEPTH 8

struct bench_conn {
	struct offrx_conn *conn;
	struct offrx_recv_req reqs[DEPTH];
	struct offrx_seg segs[DEPTH];
	uint64_t completed;
};

static void repost(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct bench_conn *b = ctx;
	struct offrx_recv_req *r = reqs;
	while (r) {
		struct offrx_recv_req *next = r->next;
		b->completed++;
		if (r->status != OFFRX_SUCCESS) {
			r = next; /* disconnected: stop reposting */
			continue;
		}
		/* Reset the buffer to its full size and post it again (R19: from the callback). */
		uint32_t i = (uint32_t)(r - b->reqs);
		offrx_req_init(r, &b->segs[i], 1, 0);
		offrx_post_recv(conn, r);
		r = next;
	}
}

static const struct offrx_callbacks cbs = { .recv_complete = repost };

struct result {
	double seconds;
	uint64_t segments, completions;
};

static struct result run(uint32_t req_size, uint32_t seg_size, uint32_t flags, double secs)
{
	struct offrx_engine *eng;
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs };
	if (offrx_mem_engine_create(&o, &eng) != OFFRX_SUCCESS) {
		fprintf(stderr, "offrx-bench-core: cannot create an engine\n");
		exit(1);
	}
	struct bench_conn *b = calloc(1, sizeof(*b));
	offrx_mem_conn_open(eng, 1, &b->conn);
	offrx_conn_set_context(b->conn, b);
	uint8_t *mem = malloc((size_t)req_size * DEPTH);
	memset(mem, 0, (size_t)req_size * DEPTH);
	for (int i = 0; i < DEPTH; i++) {
		b->segs[i] = (struct offrx_seg){ mem + (size_t)i * req_size, req_size };
		offrx_req_init(&b->reqs[i], &b->segs[i], 1, 0);
		b->reqs[i].flags = flags;
		offrx_post_recv(b->conn, &b->reqs[i]);
	}
	offrx_mem_advance(eng, 0);
	uint8_t seg[2048];
	memset(seg, 0xA5, sizeof(seg));

	struct result r = { 0 };
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < 4096; i++)
			offrx_mem_deliver(b->conn, seg, seg_size, 0);
		r.segments += 4096;
		t = now_s();
	} while (t - t0 < secs);
	r.seconds = t - t0;
	r.completions = b->completed;
	offrx_mem_fin(b->conn);
	offrx_engine_destroy(eng, NULL);
	free(mem);
	free(b);
	return r;
}

static void report(const char *name, struct result r, uint32_t seg_size)
{
	double sps = (double)r.segments / r.seconds;
	printf("%-44s %8.2f M segments/s  %8.3f M completions/s  %6.2f GB/s  %5.1f ns/segment\n",
	       name, sps / 1e6, (double)r.completions / r.seconds / 1e6, sps * seg_size / 1e9,
	       1e9 / sps);
	fflush(stdout);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void idle_memory(uint32_t n)
{
	struct offrx_engine *eng;
	struct offrx_engine_opts o = { .sz = sizeof(o), .max_conns = n };
	offrx_mem_engine_create(&o, &eng);
	size_t before = heap_in_use();
	struct offrx_conn *c;
	for (uint32_t i = 0; i < n; i++)
		offrx_mem_conn_open(eng, i, &c);
	size_t after = heap_in_use();
	printf("%-44s %8.0f bytes per idle connection (%u connections, heap delta)\n", "memory",
	       (double)(after - before) / n, n);
	offrx_engine_destroy(eng, NULL);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: offrx-bench-core [--seconds S]\n"
		   "Measures the receive core on one core with no I/O: segment placements and\n"
		   "completions per second, and memory per idle connection. Prints numbers only.\n"
		   "  -s, --seconds S   time per case (default 1.0)\n"
		   "  -h, --help        this text\n");
}

int main(int argc, char **argv)
{
	double secs = 1.0;
	static const struct option opts[] = { { "seconds", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int ch;
	while ((ch = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			secs = atof(optarg);
			if (secs <= 0) {
				fprintf(stderr,
					"offrx-bench-core: --seconds wants a positive number, "
					"not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	printf("offrx core benchmark: one connection, %d requests kept posted, %.1f s per case\n",
	       DEPTH, secs);
	printf("target: >= 10 M segment placements/s (10 Gbit/s is ~0.86 M segments/s)\n\n");
	report("1448 B arrivals -> 64 KiB push requests", run(65536, 1448, 0, secs), 1448);
	report("1448 B arrivals -> 4 KiB push requests", run(4096, 1448, 0, secs), 1448);
	report("1448 B arrivals -> 64 KiB no-push requests",
	       run(65536, 1448, OFFRX_REQ_NO_PUSH, secs), 1448);
	report("64 B arrivals -> 64 KiB push requests", run(65536, 64, 0, secs), 64);
	idle_memory(10000);
	return 0;
}
