/* offrx-recv: receive TCP streams through the offrx engine over AF_XDP, the way an application
 * would: keep --depth requests of --buf-size posted on every connection, repost each one as it
 * completes, and account for every byte (SHA-256 per connection, optionally a file).
 *
 *   offrx-recv --iface eng0 --port 5201 --out /tmp/rx --json
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <offrx/offrx.h>

#include "session.h"
#include "num.h"

#define MAX_DEPTH 256
#define MAX_PORTS 16

/* With several queues the callbacks run on one engine thread per queue: what they share
 * (the latency table, the buffers to return, the results) is taken under this lock. */
static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;

/* The names of a complete reason and of a close reason (offrx_names.h); "-" for none. */
static const char *reason_name(int k)
{
	const char *name = offrx_complete_reason_name(k);

	return name ? name : "-";
}

static const char *closed_by(enum offrx_close_reason reason)
{
	const char *name = offrx_close_reason_name((int)reason);

	return reason == OFFRX_CLOSE_NONE ? "-" : name ? name : "?";
}

/* What the observer measured for one connection: how long push-timer completions waited after
 * their last byte (the latency the push timer adds), and post-to-complete. */
struct lat {
	uint64_t id;
	uint64_t timer_n, timer_min_ns, timer_max_ns, timer_sum_ns;
	uint64_t p2c_n, p2c_max_ns, p2c_sum_ns;
};

#define MAX_LAT 16384 /* by id modulo: up to 16,384 open connections never share a slot */
static struct lat lats[MAX_LAT];

static struct lat *lat_of(uint64_t id)
{
	struct lat *l = &lats[id % MAX_LAT];
	if (l->id != id) {
		memset(l, 0, sizeof(*l));
		l->id = id;
	}
	return l;
}

/* Push-timer completions by how long after the timer they came (wait after the last byte less
 * the timer), over every connection: what "completes within timer + 5 ms" is checked on. */
static const double late_edges_ms[] = { 0, 1, 2, 5, 10, 20, 50 };
#define LATE_BUCKETS (sizeof(late_edges_ms) / sizeof(late_edges_ms[0]) + 1)
static uint64_t late_hist[LATE_BUCKETS], timer_ns = 500000000ull;
static int64_t late_max_ns = INT64_MIN;

/* Runs inside the engine: records numbers, calls nothing back. */
static void observe(const struct offrx_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->kind != OFFRX_E_COMPLETE)
		return;
	pthread_mutex_lock(&app_lock);
	struct lat *l = lat_of(ev->conn_id);
	uint64_t p2c = ev->ts_ns - ev->t_post_ns;
	l->p2c_n++;
	l->p2c_sum_ns += p2c;
	if (p2c > l->p2c_max_ns)
		l->p2c_max_ns = p2c;
	if (ev->reason == OFFRX_CR_PUSH_TIMER && ev->total) {
		uint64_t w = ev->ts_ns - ev->t_last_fill_ns;
		if (!l->timer_n || w < l->timer_min_ns)
			l->timer_min_ns = w;
		if (w > l->timer_max_ns)
			l->timer_max_ns = w;
		l->timer_sum_ns += w;
		l->timer_n++;
		int64_t late = (int64_t)w - (int64_t)timer_ns;
		unsigned b = 0;
		while (b < LATE_BUCKETS - 1 && late > late_edges_ms[b] * 1e6)
			b++;
		late_hist[b]++;
		if (late > late_max_ns)
			late_max_ns = late;
	}
	pthread_mutex_unlock(&app_lock);
}

struct rconn {
	struct offrx_conn *conn;
	uint64_t id;
	struct offrx_recv_req *reqs; /* --depth of each, allocated with the rconn */
	struct offrx_seg *segs;
	uint8_t *mem;
	EVP_MD_CTX *sha;
	FILE *out;
	uint64_t bytes, indicated;
	bool stall;	/* --stall-port: reads nothing after its first requests */
	bool ended;	/* the disconnect (or upload) is indicated: nothing more to post (R25) */
	uint32_t flags; /* request flags: --mode, or no-push on a --nopush-port */
	double t_open;
	uint32_t queue; /* the receive queue it lives on */
	char local[80], remote[80];
};

struct result {
	struct lat lat;
	uint64_t id, bytes, completed, by[OFFRX_COMPLETE_REASONS];
	uint32_t queue;
	double seconds;
	char sha[65], local[80], remote[80], close_reason[16];
	struct result *next;
};

static struct {
	uint32_t buf_size, depth, prefill, flags;
	const char *out_dir;
	bool json, quiet, no_hash;
	uint16_t stall_ports[MAX_PORTS]; /* --stall-port */
	uint32_t n_stall;
	uint32_t max_conns;
	uint16_t nopush_ports[MAX_PORTS];
	uint32_t n_nopush;
} cfg = { .buf_size = 65536, .depth = 4 };

static volatile int stop;
static struct offrx_engine *eng;
static struct offrx_ind_buf *to_return; /* indicated buffers, returned after each poll */
static struct result *results, **results_tail = &results;
static uint32_t closed;
static bool failed;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void said_stale(const char *name, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "offrx-recv: stopped session %s of a run that is gone\n", name);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGUSR1: print the drop counters now (tests read them between crafted segments). */
static volatile sig_atomic_t want_drops;

static void on_usr1(int sig)
{
	(void)sig;
	want_drops = 1;
}

static void take(struct rconn *rc, const uint8_t *p, uint64_t n)
{
	if (!n)
		return;
	if (!cfg.no_hash)
		EVP_DigestUpdate(rc->sha, p, n);
	if (rc->out && fwrite(p, 1, n, rc->out) != n) {
		fprintf(stderr, "offrx-recv: writing conn-%" PRIu64 ".bin: %s\n", rc->id,
			strerror(errno));
		failed = true;
		stop = 1;
	}
	rc->bytes += n;
}

static void post(struct rconn *rc, uint32_t i)
{
	struct offrx_recv_req *r = &rc->reqs[i];
	rc->segs[i] = (struct offrx_seg){ rc->mem + (size_t)i * cfg.buf_size, cfg.buf_size };
	offrx_req_init(r, &rc->segs[i], 1, i);
	r->flags = rc->flags;
	r->bytes_transferred = cfg.prefill; /* the application's own bytes, not the stream's */
	offrx_post_recv(rc->conn, r);
}

static void on_new(struct offrx_conn *conn, void *user)
{
	(void)user;
	struct rconn *rc =
		calloc(1, sizeof(*rc) + cfg.depth * (sizeof(*rc->reqs) + sizeof(*rc->segs)));
	rc->reqs = (struct offrx_recv_req *)(rc + 1);
	rc->segs = (struct offrx_seg *)(rc->reqs + cfg.depth);
	rc->conn = conn;
	rc->id = offrx_conn_id(conn);
	rc->mem = malloc((size_t)cfg.buf_size * cfg.depth);
	rc->sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(rc->sha, EVP_sha256(), NULL);
	rc->t_open = now_s();
	rc->queue = offrx_conn_queue(conn);
	offrx_conn_names(conn, rc->local, rc->remote, sizeof(rc->local));
	const char *lport = strrchr(rc->local, ':');
	for (uint32_t i = 0; lport && i < cfg.n_stall; i++)
		if ((unsigned)atoi(lport + 1) == cfg.stall_ports[i])
			rc->stall = true;
	rc->flags = cfg.flags;
	const char *colon = strrchr(rc->local, ':');
	for (uint32_t i = 0; colon && i < cfg.n_nopush; i++)
		if ((unsigned)atoi(colon + 1) == cfg.nopush_ports[i])
			rc->flags = OFFRX_REQ_NO_PUSH;
	if (cfg.out_dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/conn-%" PRIu64 ".bin", cfg.out_dir, rc->id);
		rc->out = fopen(path, "wb");
		if (!rc->out) {
			fprintf(stderr, "offrx-recv: cannot create %s: %s\n", path,
				strerror(errno));
			failed = true;
			stop = 1;
		}
	}
	offrx_conn_set_context(conn, rc);
	for (uint32_t i = 0; i < cfg.depth; i++)
		post(rc, i);
}

static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct rconn *rc = ctx;
	(void)conn;
	while (reqs) {
		struct offrx_recv_req *r = reqs;
		reqs = r->next;
		/* The bytes the engine placed follow the prefill; data_offset moved past them. */
		uint32_t i = (uint32_t)r->cookie;
		take(rc, rc->mem + (size_t)i * cfg.buf_size + cfg.prefill, r->bytes_placed);
		if (r->status == OFFRX_SUCCESS && !rc->stall && !rc->ended)
			post(rc, i);
	}
}

static int on_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct rconn *rc = ctx;
	(void)conn;
	if (rc->stall)
		return OFFRX_NOT_ACCEPTED; /* the engine keeps it: the window closes */
	struct offrx_ind_buf *last = bufs;
	for (struct offrx_ind_buf *b = bufs; b; b = b->next) {
		take(rc, b->data, b->len);
		last = b;
	}
	rc->indicated += total;
	*consumed = total;
	pthread_mutex_lock(&app_lock);
	last->next = to_return; /* ours until returned, after this callback (R22) */
	to_return = bufs;
	pthread_mutex_unlock(&app_lock);
	return OFFRX_SUCCESS;
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	struct rconn *rc = ctx;
	if (!rc)
		return;
	if (ev->held) { /* data the engine still held comes back with a disconnect */
		struct offrx_ind_buf *last = ev->held;
		for (struct offrx_ind_buf *b = ev->held; b; b = b->next) {
			take(rc, b->data, b->len);
			last = b;
		}
		pthread_mutex_lock(&app_lock);
		last->next = to_return;
		to_return = ev->held;
		pthread_mutex_unlock(&app_lock);
	}
	/* Posts after this would only come back INVALID_STATE (R25); the ones made before it, in
	 * the disconnect's own completions, come back after it as the queue did. */
	if (ev->type == OFFRX_EV_DISCONNECT || ev->type == OFFRX_EV_UPLOAD_DONE)
		rc->ended = true;
	if (ev->type != OFFRX_EV_CLOSED)
		return;
	struct result *res = calloc(1, sizeof(*res));
	struct offrx_conn_stats st;
	offrx_conn_stats(conn, &st);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(rc->sha, md, &mdlen);
	hex(md, mdlen, res->sha);
	res->id = rc->id;
	res->queue = rc->queue;
	res->bytes = rc->bytes;
	res->completed = st.completed;
	memcpy(res->by, st.completed_by, sizeof(res->by));
	res->seconds = now_s() - rc->t_open;
	pthread_mutex_lock(&app_lock);
	res->lat = *lat_of(rc->id);
	pthread_mutex_unlock(&app_lock);
	snprintf(res->local, sizeof(res->local), "%s", rc->local);
	snprintf(res->remote, sizeof(res->remote), "%s", rc->remote);
	snprintf(res->close_reason, sizeof(res->close_reason), "%s", closed_by(ev->reason));
	pthread_mutex_lock(&app_lock);
	if (cfg.json) { /* kept for the summary; otherwise a long run would grow without bound */
		*results_tail = res;
		results_tail = &res->next;
	}
	if (!cfg.quiet) {
		printf("conn %" PRIu64 " %s -> %s: %" PRIu64 " bytes in %.3f s (%.2f Gbit/s), "
		       "%" PRIu64 " completions (",
		       res->id, res->remote, res->local, res->bytes, res->seconds,
		       res->seconds > 0 ? res->bytes * 8 / res->seconds / 1e9 : 0.0,
		       res->completed);
		const char *sep = "";
		for (int r = 1; r < OFFRX_COMPLETE_REASONS; r++)
			if (res->by[r]) {
				printf("%s%s %" PRIu64, sep, reason_name(r), res->by[r]);
				sep = ", ";
			}
		printf("), closed by %s, sha256 %s\n", res->close_reason, res->sha);
		if (res->lat.timer_n)
			printf("conn %" PRIu64 " push timer: %" PRIu64 " completions waited "
			       "%.1f/%.1f/%.1f ms (min/avg/max) after their last byte\n",
			       res->id, res->lat.timer_n, res->lat.timer_min_ns / 1e6,
			       res->lat.timer_sum_ns / 1e6 / res->lat.timer_n,
			       res->lat.timer_max_ns / 1e6);
		fflush(stdout);
	}
	if (rc->out)
		fclose(rc->out);
	EVP_MD_CTX_free(rc->sha);
	free(rc->mem);
	free(rc);
	offrx_conn_set_context(conn, NULL);
	if (!cfg.json)
		free(res);
	if (cfg.max_conns && ++closed >= cfg.max_conns)
		stop = 1;
	pthread_mutex_unlock(&app_lock);
}

static const struct offrx_callbacks cbs = {
	.conn_new = on_new,
	.recv_complete = on_complete,
	.recv_indicate = on_indicate,
	.conn_event = on_event,
};

/* The drop counters as one JSON object: {"pkt.tcp_bad_csum":0,...}. */
static void print_drop_object(void)
{
	const char *names[64];
	uint64_t counts[64];
	uint32_t n = offrx_engine_drops(eng, names, counts, 64);
	printf("{");
	for (uint32_t i = 0; i < n && i < 64; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", names[i], counts[i]);
	printf("}");
}

/* "queues":[{...},...], one object per receive queue (offrx_engine_queue_stats). */
static void print_queues_json(uint32_t n)
{
	printf("\"queues\":[");
	for (uint32_t i = 0; i < n; i++) {
		struct offrx_queue_stats q = { .sz = sizeof(q) };
		if (offrx_engine_queue_stats(eng, i, &q) != OFFRX_SUCCESS)
			break;
		/* The CPU of the thread that ran the queue: one queue polled on this thread
		 * (offrx_engine_poll) spent this thread's. */
		uint64_t cpu_ns = q.thread_cpu_ns;
		struct timespec ts;
		if (n == 1 && !cpu_ns && !clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
			cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		printf("%s{\"queue\":%u,\"mode\":\"%s\",\"cpu\":%d,\"conns_total\":%u,"
		       "\"rx_frames\":%" PRIu64 ",\"moved_in\":%" PRIu64 ",\"moved_out\":%" PRIu64
		       ",\"rx_dropped\":%" PRIu64 ",\"fill_ring_empty\":%" PRIu64
		       ",\"thread_cpu_s\":%.6f}",
		       i ? "," : "", q.queue, q.zerocopy ? "zero-copy" : "copy", q.cpu,
		       q.conns_total, q.rx_frames, q.moved_in, q.moved_out, q.rx_dropped,
		       q.fill_ring_empty, (double)cpu_ns / 1e9);
	}
	printf("],");
}

static void print_json(double seconds)
{
	printf("{\"connections\":[");
	const char *sep = "";
	uint64_t total = 0;
	for (struct result *r = results; r; r = r->next) {
		printf("%s{\"id\":%" PRIu64 ",\"queue\":%u,\"local\":\"%s\",\"remote\":\"%s\","
		       "\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"sha256\":\"%s\",\"closed_by\":"
		       "\"%s\",\"completed\":%" PRIu64 ",\"completed_by\":{",
		       sep, r->id, r->queue, r->local, r->remote, r->bytes, r->seconds, r->sha,
		       r->close_reason, r->completed);
		for (int k = 1; k < OFFRX_COMPLETE_REASONS; k++)
			printf("%s\"%s\":%" PRIu64, k > 1 ? "," : "", reason_name(k), r->by[k]);
		const struct lat *l = &r->lat;
		printf("},\"push_timer_wait_ms\":{\"count\":%" PRIu64
		       ",\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f}",
		       l->timer_n, l->timer_min_ns / 1e6,
		       l->timer_n ? l->timer_sum_ns / 1e6 / l->timer_n : 0.0,
		       l->timer_max_ns / 1e6);
		printf(",\"post_to_complete_ms\":{\"avg\":%.3f,\"max\":%.3f}}",
		       l->p2c_n ? l->p2c_sum_ns / 1e6 / l->p2c_n : 0.0, l->p2c_max_ns / 1e6);
		sep = ",";
		total += r->bytes;
	}
	printf("],\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"push_timer_ms\":%.3f,"
	       "\"push_timer_late_ms\":{",
	       total, seconds, timer_ns / 1e6);
	for (unsigned b = 0; b < LATE_BUCKETS; b++) {
		if (b < LATE_BUCKETS - 1)
			printf("\"le%g\":", late_edges_ms[b]);
		else
			printf("\"gt%g\":", late_edges_ms[b - 1]);
		printf("%" PRIu64 ",", late_hist[b]);
	}
	printf("\"max\":%.3f},", late_max_ns == INT64_MIN ? 0.0 : late_max_ns / 1e6);
	struct offrx_engine_info info = { .sz = sizeof(info) };
	if (offrx_engine_info(eng, &info) == OFFRX_SUCCESS)
		printf("\"rcv_wnd_max\":%u,\"rcv_wnd_auto\":%s,\"burst_frames\":%u,"
		       "\"napi_threaded\":%s,\"napi_restore\":%s,",
		       info.rcv_wnd_max, info.rcv_wnd_auto ? "true" : "false", info.burst_frames,
		       info.napi_threaded ? "true" : "false", info.napi_restore ? "true" : "false");
	print_queues_json(info.nqueues ? info.nqueues : 1);
	printf("\"drops\":");
	print_drop_object();
	printf("}\n");
}

static void print_drops(void)
{
	const char *names[64];
	uint64_t counts[64];
	uint32_t n = offrx_engine_drops(eng, names, counts, 64);
	bool any = false;
	for (uint32_t i = 0; i < n && i < 64; i++)
		if (counts[i]) {
			fprintf(stderr, "%s %s %" PRIu64,
				any ? "," : "offrx-recv: drops:", names[i], counts[i]);
			any = true;
		}
	if (any)
		fprintf(stderr, "\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: offrx-recv --iface IF --port P [options]\n"
		"Receive TCP over AF_XDP with the offrx engine; print one line per connection as "
		"it\n"
		"closes (bytes, rate, completions by reason, SHA-256 of the stream). Needs "
		"root.\n\n"
		"  -i, --iface IF          interface (e.g. eng0 in the netns topology)\n"
		"  -p, --port P            local TCP port to accept on (repeatable)\n"
		"  -q, --queue Q           receive on rx queue Q alone (same as --queues Q)\n"
		"      --queues LIST       rx queues to receive on, one engine thread each:\n"
		"                          'all' (the default: every rx queue the interface\n"
		"                          has, /sys/class/net/IF/queues/rx-*; one on a plain\n"
		"                          veth), or numbers and ranges: 0-3, 0,2\n"
		"      --cpus LIST         pin the queues' threads, one CPU per queue in\n"
		"                          order (same syntax, no 'all'; e.g. --cpus 0,1)\n"
		"  -b, --buf-size N        bytes per receive request (default 65536)\n"
		"  -d, --depth D           requests kept posted per connection (default 4)\n"
		"  -m, --mode push|nopush  request mode (default push)\n"
		"      --prefill N         post push requests with N bytes already in them (R07)\n"
		"  -t, --push-timer-ms N   push timer (default 500)\n"
		"  -o, --out DIR           write each stream to DIR/conn-<id>.bin\n"
		"  -D, --duration S        stop after S seconds\n"
		"  -n, --max-conns N       stop after N connections have closed\n"
		"      --stall-port P      a slow reader on local port P (also give --port P):\n"
		"                          its requests are not posted again once complete and\n"
		"                          indicated data is refused, so its window closes\n"
		"      --conn-limit N      connections the engine holds at once, and half-open\n"
		"                          ones (defaults 4096 and 1024); raise for scale runs\n"
		"      --window BYTES      advertise at most BYTES of receive window per\n"
		"                          connection (like SO_RCVBUF). Default: the engine\n"
		"                          picks one the link can hold (7/8 of a veth's\n"
		"                          256-frame XDP ring, or of a NIC's RX ring, of full\n"
		"                          segments) and says so on stderr; larger windows let\n"
		"                          the sender overrun the link, which drops frames\n"
		"      --napi-threaded     run the interface's NAPI in a kernel thread once the\n"
		"                          XDP program is attached (/sys/class/net/IF/threaded),\n"
		"                          on any driver, and leave it so. Without it, on a\n"
		"                          veth only (whose NAPI exists only for the XDP\n"
		"                          program), the engine does so while it runs, freeing\n"
		"                          the sender's CPU, and puts the setting back at exit\n"
		"      --no-napi-threaded  leave the interface's NAPI as it is, veth too\n"
		"      --nopush-port P     requests on connections to local port P are no-push,\n"
		"                          whatever --mode says (repeatable)\n"
		"      --json              print a JSON summary on stdout at the end\n"
		"                          (SIGUSR1: the drop counters as {\"drops\":{...}})\n"
		"      --xdp-mode native|skb   XDP attach mode (default native)\n"
		"      --busy-poll         spin instead of sleeping in poll()\n"
		"      --fault-drop PCT    drop PCT%% of received frames (test the sender's "
		"recovery)\n"
		"      --fault-reorder PCT deliver PCT%% of received frames one frame late\n"
		"      --quiet             no per-connection lines\n"
		"      --no-hash           skip the SHA-256 of each stream (benchmarks: the\n"
		"                          engine's cost without the application's)\n"
		"      --trace             record this run in an LTTng session of its own "
		"(started\n"
		"                          here, stopped at exit) and print where the trace is\n"
		"      --trace-live        the same, live through a local lttng-relayd\n"
		"      --trace-payload N   put the first N bytes (0..256) of every data segment\n"
		"                          into the trace (offrx:segment_payload); default 0:\n"
		"                          no byte of any stream goes into a trace\n"
		"      --keep-caps         keep every capability while running (by default none\n"
		"                          stays effective once the XDP program is attached and\n"
		"                          the socket bound: see Privileges below)\n"
		"  -h, --help              this text\n\n"
		"Privileges: setup needs root, or CAP_NET_ADMIN (attach XDP), CAP_NET_RAW\n"
		"(the AF_XDP socket), CAP_SYS_ADMIN (bpffs, loading the program, reading\n"
		"programs by id) and CAP_IPC_LOCK (or a large enough `ulimit -l`: the UMEM).\n"
		"Once ready, the receiving thread keeps no effective capability, an empty\n"
		"bounding set and no_new_privs; only CAP_NET_ADMIN stays permitted (and\n"
		"CAP_SYS_ADMIN when libxdp's dispatcher holds the program), raised at exit to\n"
		"detach the XDP program. Reading the traces (offrx-view, offrx-export) needs\n"
		"no privilege.\n");
}

static uint32_t parse_u32(const char *opt, const char *v, uint32_t min, uint32_t max)
{
	uint64_t x;
	if (num_u64(v, min, max, &x)) {
		fprintf(stderr, "offrx-recv: %s wants a number from %u to %u, not '%s'\n", opt, min,
			max, v);
		exit(2);
	}
	return (uint32_t)x;
}

static double parse_pct(const char *opt, const char *v)
{
	double x;
	if (num_double(v, 0, 100, &x)) {
		fprintf(stderr, "offrx-recv: %s wants a percentage from 0 to 100, not '%s'\n", opt,
			v);
		exit(2);
	}
	return x;
}

/* A list of numbers up to max, "0-3" or "0,2" or "0-1,4", into out (at most OFFRX_MAX_QUEUES,
 * each once): how many, or -1 with a message. */
static int parse_list(const char *opt, const char *v, uint32_t *out, uint32_t max)
{
	char buf[512];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint64_t lo, hi;
		if (dash)
			*dash = '\0';
		if (num_u64(tok, 0, max, &lo) || num_u64(dash ? dash + 1 : tok, lo, max, &hi))
			goto bad;
		for (uint64_t x = lo; x <= hi; x++) {
			for (int i = 0; i < n; i++)
				if (out[i] == x)
					goto bad;
			if (n == OFFRX_MAX_QUEUES)
				goto bad;
			out[n++] = (uint32_t)x;
		}
	}
	if (n)
		return n;
bad:
	fprintf(stderr,
		"offrx-recv: %s wants numbers from 0 to %u and ranges (0-3, 0,2), each once, at "
		"most %d, not '%s'\n",
		opt, max, OFFRX_MAX_QUEUES, v);
	return -1;
}

/* --queues all: the interface's rx queues, 0 .. (entries rx-N of /sys/class/net/IF/queues) - 1;
 * 1 (queue 0) when sysfs does not say. */
static int rx_queue_count(const char *ifname, uint32_t *out)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	DIR *d = opendir(path);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += !strncmp(e->d_name, "rx-", 3);
	if (d)
		closedir(d);
	if (n > OFFRX_MAX_QUEUES) {
		fprintf(stderr,
			"offrx-recv: %s has %d rx queues, more than the %d the engine takes: give "
			"--queues, or lower the count with `ethtool -L %s combined N`\n",
			ifname, n, OFFRX_MAX_QUEUES, ifname);
		return -1;
	}
	if (n == 0)
		n = 1;
	for (int i = 0; i < n; i++)
		out[i] = (uint32_t)i;
	return n;
}

/* What the command line asks for (the engine's options, the receive side's are in cfg). */
struct recv_args {
	struct offrx_engine_opts o;
	uint16_t ports[MAX_PORTS];
	uint32_t nports;
	const char *queues_arg; /* --queues (or --queue): NULL is all */
	uint32_t queues[OFFRX_MAX_QUEUES], nqueues;
	int32_t cpus[OFFRX_MAX_QUEUES];
	uint32_t ncpus;
	double duration;
	bool trace, trace_live, keep_caps;
};

/* The command line into a and cfg. Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct recv_args *a)
{
	enum {
		O_PREFILL = 256,
		O_JSON,
		O_XDP,
		O_BUSY,
		O_FDROP,
		O_FREORDER,
		O_QUIET,
		O_TRACE,
		O_TRACE_LIVE,
		O_NO_HASH,
		O_CONN_LIMIT,
		O_NOPUSH_PORT
	};
	enum { O_KEEP_CAPS = 512, O_TRACE_PAYLOAD };
	enum { O_STALL_PORT = 600, O_WINDOW, O_NAPI_THREADED, O_NO_NAPI_THREADED };
	enum { O_QUEUES = 700, O_CPUS };
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "port", required_argument, NULL, 'p' },
		{ "queue", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "buf-size", required_argument, NULL, 'b' },
		{ "depth", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "prefill", required_argument, NULL, O_PREFILL },
		{ "push-timer-ms", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'D' },
		{ "max-conns", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, O_JSON },
		{ "xdp-mode", required_argument, NULL, O_XDP },
		{ "busy-poll", no_argument, NULL, O_BUSY },
		{ "fault-drop", required_argument, NULL, O_FDROP },
		{ "fault-reorder", required_argument, NULL, O_FREORDER },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "trace-live", no_argument, NULL, O_TRACE_LIVE },
		{ "no-hash", no_argument, NULL, O_NO_HASH },
		{ "conn-limit", required_argument, NULL, O_CONN_LIMIT },
		{ "nopush-port", required_argument, NULL, O_NOPUSH_PORT },
		{ "keep-caps", no_argument, NULL, O_KEEP_CAPS },
		{ "stall-port", required_argument, NULL, O_STALL_PORT },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "napi-threaded", no_argument, NULL, O_NAPI_THREADED },
		{ "no-napi-threaded", no_argument, NULL, O_NO_NAPI_THREADED },
		{ "trace-payload", required_argument, NULL, O_TRACE_PAYLOAD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "i:p:q:b:d:m:t:o:D:n:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'i':
			a->o.ifname = optarg;
			break;
		case 'p':
			if (a->nports == MAX_PORTS) {
				fprintf(stderr, "offrx-recv: at most %d ports\n", MAX_PORTS);
				return 2;
			}
			a->ports[a->nports++] = (uint16_t)parse_u32("--port", optarg, 1, 65535);
			break;
		case 'q':
			parse_u32("--queue", optarg, 0, 63);
			a->queues_arg = optarg;
			break;
		case O_QUEUES:
			a->queues_arg = optarg;
			break;
		case O_CPUS: {
			uint32_t cpus[OFFRX_MAX_QUEUES];
			int n = parse_list("--cpus", optarg, cpus, CPU_SETSIZE - 1);
			if (n < 0)
				return 2;
			for (int i = 0; i < n; i++)
				a->cpus[i] = (int32_t)cpus[i];
			a->ncpus = (uint32_t)n;
			break;
		}
		case 'b':
			cfg.buf_size = parse_u32("--buf-size", optarg, 0, 64u << 20);
			break;
		case 'd':
			cfg.depth = parse_u32("--depth", optarg, 0, MAX_DEPTH);
			break;
		case 'm':
			if (!strcmp(optarg, "push"))
				cfg.flags = 0;
			else if (!strcmp(optarg, "nopush"))
				cfg.flags = OFFRX_REQ_NO_PUSH;
			else {
				fprintf(stderr, "offrx-recv: --mode is push or nopush, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case O_PREFILL:
			cfg.prefill = parse_u32("--prefill", optarg, 0, 64u << 20);
			break;
		case 't':
			a->o.push_timer_ns =
				parse_u32("--push-timer-ms", optarg, 1, 600000) * 1000000ull;
			timer_ns = a->o.push_timer_ns;
			break;
		case 'o':
			cfg.out_dir = optarg;
			break;
		case 'D':
			if (num_double(optarg, 0, 1e9, &a->duration) || !(a->duration > 0)) {
				fprintf(stderr,
					"offrx-recv: --duration wants seconds > 0, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			cfg.max_conns = parse_u32("--max-conns", optarg, 1, 1u << 30);
			break;
		case O_JSON:
			cfg.json = true;
			break;
		case O_XDP:
			if (!strcmp(optarg, "native"))
				a->o.xdp_mode = OFFRX_XDP_NATIVE;
			else if (!strcmp(optarg, "skb"))
				a->o.xdp_mode = OFFRX_XDP_SKB;
			else {
				fprintf(stderr,
					"offrx-recv: --xdp-mode is native or skb, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case O_BUSY:
			a->o.busy_poll = 1;
			break;
		case O_FDROP:
			a->o.fault_drop_pct = parse_pct("--fault-drop", optarg);
			break;
		case O_FREORDER:
			a->o.fault_reorder_pct = parse_pct("--fault-reorder", optarg);
			break;
		case O_QUIET:
			cfg.quiet = true;
			break;
		case O_NO_HASH:
			cfg.no_hash = true;
			break;
		case O_KEEP_CAPS:
			a->keep_caps = true;
			break;
		case O_STALL_PORT:
			if (cfg.n_stall >= MAX_PORTS) {
				fprintf(stderr, "offrx-recv: at most %d --stall-port\n", MAX_PORTS);
				return 2;
			}
			cfg.stall_ports[cfg.n_stall++] =
				(uint16_t)parse_u32("--stall-port", optarg, 1, 65535);
			break;
		case O_TRACE_PAYLOAD:
			a->o.trace_payload_bytes =
				parse_u32("--trace-payload", optarg, 0, OFFRX_TRACE_PAYLOAD_MAX);
			break;
		case O_NAPI_THREADED:
			a->o.napi_threaded = OFFRX_NAPI_THREADED;
			break;
		case O_NO_NAPI_THREADED:
			a->o.napi_threaded = OFFRX_NAPI_LEAVE;
			break;
		case O_WINDOW:
			a->o.rcv_wnd_max = parse_u32("--window", optarg, 0, 1u << 30);
			break;
		case O_CONN_LIMIT:
			a->o.max_conns = parse_u32("--conn-limit", optarg, 1, 1u << 20);
			a->o.max_halfopen = a->o.max_conns;
			break;
		case O_NOPUSH_PORT:
			if (cfg.n_nopush == MAX_PORTS) {
				fprintf(stderr, "offrx-recv: at most %d --nopush-port\n",
					MAX_PORTS);
				return 2;
			}
			cfg.nopush_ports[cfg.n_nopush++] =
				(uint16_t)parse_u32("--nopush-port", optarg, 1, 65535);
			break;
		case O_TRACE_LIVE:
			a->trace_live = true;
			/* fall through */
			__attribute__((fallthrough));
		case O_TRACE:
			a->trace = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!a->o.ifname || !a->nports) {
		fprintf(stderr, "offrx-recv: --iface and at least one --port are needed\n");
		usage(stderr);
		return 2;
	}
	if (cfg.prefill > cfg.buf_size) {
		fprintf(stderr, "offrx-recv: --prefill %u is larger than --buf-size %u\n",
			cfg.prefill, cfg.buf_size);
		return 2;
	}
	int nq = a->queues_arg && strcmp(a->queues_arg, "all")
			 ? parse_list("--queues", a->queues_arg, a->queues, 63)
			 : rx_queue_count(a->o.ifname, a->queues);
	if (nq < 0)
		return 2;
	a->nqueues = (uint32_t)nq;
	if (a->ncpus && a->ncpus != a->nqueues) {
		fprintf(stderr,
			"offrx-recv: --cpus lists %u CPUs for %u queues: give one per queue, in "
			"the "
			"order of --queues\n",
			a->ncpus, a->nqueues);
		return 2;
	}
	a->o.queues = a->queues;
	a->o.nqueues = a->nqueues;
	a->o.cpus = a->cpus;
	a->o.ncpus = a->ncpus;
	a->o.ports = a->ports;
	a->o.nports = a->nports;
	a->o.fault_seed = 1;
	return -1;
}

/* --trace: the session this run records into. */
struct recv_trace {
	bool on;
	char session[64], where[4096];
};

/* Start the session (after stopping those of runs that are gone). 0, or the exit status. */
static int trace_start(const struct recv_args *a, struct recv_trace *t)
{
	char why[512];

	t->on = a->trace;
	if (!t->on)
		return 0;
#ifndef OFFRX_TRACING_LTTNG
	fprintf(stderr, "offrx-recv: --trace: this build has no tracepoints "
			"(OFFRX_TRACING=NONE); rebuild with the default OFFRX_TRACING=LTTNG\n");
	return 2;
#endif
	/* A run killed outright (SIGKILL) leaves its session recording, and a per-UID session
	 * records every later engine too: stop the sessions of runs that are gone. */
	offrx_session_reap("offrx-recv", said_stale, NULL);
	snprintf(t->session, sizeof(t->session), "offrx-recv-%d", (int)getpid());
	struct offrx_session_opts so = { .size = sizeof(so),
					 .name = t->session,
					 .live = a->trace_live };
	if (offrx_session_start(&so, t->where, sizeof(t->where), why, sizeof(why))) {
		fprintf(stderr, "offrx-recv: --trace: %s\n", why);
		t->on = false;
		return 1;
	}
	fprintf(stderr, "offrx-recv: tracing to %s (session %s)\n", t->where, t->session);
	return 0;
}

/* Stop the session and say where the trace is. report: false when the run failed early. */
static void trace_stop(struct recv_trace *t, bool report)
{
	struct offrx_session_info info;
	char why[512];

	if (!t->on)
		return;
	t->on = false;
	if (!report) {
		offrx_session_stop(t->session, false, NULL, why, sizeof(why));
		return;
	}
	if (offrx_session_stop(t->session, false, &info, why, sizeof(why))) {
		fprintf(stderr, "offrx-recv: stopping the trace: %s\n", why);
		failed = true;
		return;
	}
	uint64_t lost = 0;
	for (unsigned i = 0; i < info.nr_channels; i++)
		lost += info.channels[i].discarded + info.channels[i].lost_packets;
	fprintf(stderr, "offrx-recv: trace in %s%s\n", t->where,
		lost ? " (some events were discarded: see offrx-trace --help)" : "");
}

/* The engine (attached and bound), capabilities dropped, signals. 0, or the exit status. */
static int set_up(struct recv_args *a)
{
	if (offrx_engine_create(&a->o, &eng) != OFFRX_SUCCESS)
		return 1; /* the engine said why */
	/* Attached and bound: from here on the frames we parse come from the network, so this
	 * thread keeps no effective capability (the engine logs what it dropped and kept). */
	if (!a->keep_caps && offrx_engine_drop_privileges(eng, 0) != OFFRX_SUCCESS) {
		fprintf(stderr, "offrx-recv: could not drop capabilities (see above); pass "
				"--keep-caps to run with them anyway\n");
		offrx_engine_destroy(eng, NULL);
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction su = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &su, NULL);
	return 0;
}

/* Several queues: offrx_engine_run on a thread of its own (it starts one per queue), while
 * the main thread returns indicated buffers and watches the clock and the signals. */
static int engine_rc;

static void *engine_main(void *arg)
{
	(void)arg;
	/* This thread runs the first queue (the engine names the others' threads). */
	char name[16];
	struct offrx_queue_stats q = { .sz = sizeof(q) };
	if (offrx_engine_queue_stats(eng, 0, &q) == OFFRX_SUCCESS) {
		snprintf(name, sizeof(name), "offrx-q%u", q.queue);
		pthread_setname_np(pthread_self(), name);
	}
	engine_rc = offrx_engine_run(eng, &stop);
	stop = 1;
	return NULL;
}

/* The buffers the callbacks took, given back (any thread outside the callbacks may). */
static void return_taken(void)
{
	pthread_mutex_lock(&app_lock);
	struct offrx_ind_buf *bufs = to_return;
	to_return = NULL;
	pthread_mutex_unlock(&app_lock);
	if (bufs)
		offrx_return_indicated(eng, bufs);
}

/* Poll the engine until Ctrl-C, --duration or --max-conns; the seconds it ran. */
static double run(const struct recv_args *a)
{
	/* Printed even with --quiet: it says the engine is ready (the XDP program, the socket
	 * and the port map are all in place), which scripts wait for. */
	if (a->nqueues > 1) {
		char list[OFFRX_MAX_QUEUES * 4] = "";
		size_t len = 0;
		for (uint32_t i = 0; i < a->nqueues; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u",
						i ? "," : "", a->queues[i]);
		fprintf(stderr,
			"offrx-recv: receiving on %s queues %s port %u%s (Ctrl-C to stop)\n",
			a->o.ifname, list, a->ports[0], a->nports > 1 ? " and more" : "");
	} else {
		fprintf(stderr, "offrx-recv: receiving on %s port %u%s (Ctrl-C to stop)\n",
			a->o.ifname, a->ports[0], a->nports > 1 ? " and more" : "");
	}
	double t0 = now_s();
	pthread_t runner;
	bool threads = a->nqueues > 1;
	if (threads && pthread_create(&runner, NULL, engine_main, NULL)) {
		fprintf(stderr, "offrx-recv: cannot start the engine's thread\n");
		failed = true;
		return 0;
	}
	while (!stop) {
		int rc = 0;
		if (threads) {
			struct timespec tick = { 0, 1000000 }; /* the engine threads do the work */
			nanosleep(&tick, NULL);
		} else {
			rc = offrx_engine_poll(eng, 100);
		}
		if (want_drops) {
			want_drops = 0;
			printf("{\"drops\":");
			print_drop_object();
			printf("}\n");
			fflush(stdout);
		}
		return_taken();
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "offrx-recv: engine: %s\n", strerror(-rc));
			failed = true;
			break;
		}
		if (a->duration > 0 && now_s() - t0 >= a->duration)
			break;
	}
	if (threads) {
		stop = 1;
		pthread_join(runner, NULL);
		return_taken();
		if (engine_rc < 0) {
			fprintf(stderr, "offrx-recv: engine: %s\n", strerror(-engine_rc));
			failed = true;
		}
	}
	return now_s() - t0;
}

/* The drops and --json lines, the engine destroyed (open connections are reset: their
 * CLOSED events finish their lines), the trace stopped. */
static void report(double seconds, struct recv_trace *t)
{
	if (!cfg.quiet)
		print_drops();
	if (cfg.json)
		print_json(seconds);
	uint32_t out = 0;
	if (offrx_engine_destroy(eng, &out) != OFFRX_SUCCESS) {
		return_taken();
		offrx_engine_destroy(eng, &out);
	}
	trace_stop(t, true);
	while (results) {
		struct result *r = results;
		results = r->next;
		free(r);
	}
}

int main(int argc, char **argv)
{
	struct recv_args a = { .o = { .sz = sizeof(a.o), .cb = &cbs, .observer = observe } };
	struct recv_trace t = { 0 };
	int status;

	a.o.observer_mask = OFFRX_EVENT_BIT(OFFRX_E_COMPLETE); /* latencies: nothing else */
	/* Make the latency table resident now: touched slot by slot as connection ids grow, its
	 * 1 MiB would show as RSS growth for the first 16,384 connections of a long run. */
	memset(lats, 0, sizeof(lats));
	signal(SIGPIPE, SIG_IGN); /* a daemon that goes away (relayd, sessiond) is an error, not
				   * a reason to die */
	if ((status = parse_args(argc, argv, &a)) >= 0)
		return status;
	if (cfg.out_dir && mkdir(cfg.out_dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "offrx-recv: cannot create %s: %s\n", cfg.out_dir, strerror(errno));
		return 1;
	}
	if ((status = trace_start(&a, &t)))
		return status;
	if ((status = set_up(&a))) {
		trace_stop(&t, false);
		return status;
	}
	report(run(&a), &t);
	return failed ? 1 : 0;
}
