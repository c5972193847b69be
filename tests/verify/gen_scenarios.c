/* gen_scenarios: drives the engine's core on the in-memory link through random scenarios
 * (seeded, reproducible) while an LTTng session records, so `offrx-export --verify` can be
 * shown to raise no false alarm on correct behaviour (tests/verify/run_scenarios.sh).
 *
 *   gen_scenarios --seed S --count N     N scenarios, seeds S..S+N-1, each in a child process
 *                                        of its own (its vpid names the scenario in the trace)
 *   gen_scenarios --one SEED             one scenario in this process
 *
 * Each scenario is a fresh engine with 1 to 3 connections: posts (push, no-push, prefilled,
 * chains of segments, lists), arrivals with and without PSH, time, indications answered every
 * way (accepted, refused, partly), returns (inside callbacks too), reposts and new posts from
 * completion and indication callbacks, FIN, RST and upload, then teardown. It weights the
 * orders that are easy to misread: a push timer due when data arrives, a no-push head with a
 * prefilled push request behind it, a post inside a FIN's completion, a return inside an
 * indication.
 *
 * The virtual clock is the real CLOCK_MONOTONIC (the clock LTTng stamps events with): before
 * the engine's clock moves to T the generator waits until the real clock has passed T, so a
 * push-timer deadline compares with event times as on the wire (R10). With OFFRX_MUTANT=n in
 * the environment, a build linked to the mutant core (engine/src/mutant.h) runs fault n. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 3
#define MAX_HELD  256 /* buffers the application holds at once */
#define STREAM_SZ 8192

static uint8_t stream_bytes[STREAM_SZ];

/* --- randomness (xorshift64*, per scenario) ------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(uint32_t pct)
{
	return below(100) < pct;
}

/* --- the clock ---------------------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait until the real clock has reached t (so events stamped later carry ts_raw >= t). */
static void wait_until(uint64_t t)
{
	while (mono_ns() < t) {
		struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
				       .tv_nsec = (long)(t % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

/* --- the scenario's state ----------------------------------------------------------------- */

struct req_box {
	struct offrx_recv_req req;
	struct offrx_seg segs[3];
	uint8_t *mem;
	struct req_box *next_all;
	bool queued;
};

struct gconn {
	struct offrx_conn *conn;
	bool down;    /* FIN, RST or upload happened */
	bool closed;  /* released */
	int ind_mode; /* 0 random, else a fixed answer for a while */
};

struct world {
	struct offrx_engine *eng;
	struct gconn c[MAX_CONNS];
	uint32_t nconns;
	struct req_box *all;
	struct offrx_ind_buf *held[MAX_HELD]; /* buffers the application holds */
	uint32_t nheld;
	uint64_t push_ns, snap_ns;
	uint32_t in_complete, in_indicate;
	uint32_t ind_streak; /* indications since the last post */
	uint64_t completions, indications, errors;
};

static struct world W;

static struct gconn *gconn_of(struct offrx_conn *conn)
{
	for (uint32_t i = 0; i < W.nconns; i++)
		if (W.c[i].conn == conn)
			return &W.c[i];
	return NULL;
}

static struct req_box *new_req(void)
{
	struct req_box *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->next_all = W.all;
	W.all = b;
	return b;
}

/* Fill in a request: 1 to 3 segments, push or no-push, sometimes prefilled. */
static void shape_req(struct req_box *b)
{
	uint32_t nsegs = 1 + below(3), total = 0;
	uint32_t lens[3];
	for (uint32_t i = 0; i < nsegs; i++) {
		uint32_t kind = below(10);
		lens[i] = kind == 0 ? 0 : kind < 4 ? 1 + below(64) : 1 + below(1500);
		total += lens[i];
	}
	free(b->mem);
	b->mem = malloc(total ? total : 1);
	if (!b->mem)
		abort();
	uint32_t off = 0;
	for (uint32_t i = 0; i < nsegs; i++) {
		b->segs[i].base = lens[i] ? b->mem + off : NULL;
		b->segs[i].len = lens[i];
		off += lens[i];
	}
	offrx_req_init(&b->req, b->segs, nsegs, 0);
	if (chance(30))
		b->req.flags = OFFRX_REQ_NO_PUSH;
	if (total && chance(20))
		b->req.bytes_transferred = below(total + 1); /* prefill, sometimes full */
}

/* Post a list of 1 to 3 new (or recycled) requests. */
/* Post 1 to 3 requests; returns the room they have (bytes the engine may place). */
static uint64_t post_some(struct gconn *g, struct req_box *first)
{
	struct offrx_recv_req *head = NULL, **tail = &head;
	uint32_t n = 1 + below(3);
	uint64_t room = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct req_box *b = i == 0 && first ? first : new_req();
		shape_req(b);
		b->req.next = NULL;
		room += b->req.data_len - b->req.bytes_transferred;
		*tail = &b->req;
		tail = &b->req.next;
	}
	W.ind_streak = 0;
	int rc = offrx_post_recv(g->conn, head);
	if (rc != OFFRX_PENDING) {
		fprintf(stderr, "gen_scenarios: post returned %d (want PENDING)\n", rc);
		W.errors++;
	}
	return room;
}

static void keep_bufs(struct offrx_ind_buf *bufs)
{
	while (bufs) {
		struct offrx_ind_buf *nx = bufs->next;
		bufs->next = NULL;
		if (W.nheld < MAX_HELD) {
			W.held[W.nheld++] = bufs;
		} else {
			offrx_return_indicated(W.eng, bufs);
		}
		bufs = nx;
	}
}

/* Return some (or all) of the buffers the application holds, in one call. */
static void return_some(bool all)
{
	struct offrx_ind_buf *list = NULL;
	for (uint32_t i = 0; i < W.nheld;) {
		if (all || chance(50)) {
			struct offrx_ind_buf *b = W.held[i];
			b->next = list;
			list = b;
			W.held[i] = W.held[--W.nheld];
		} else {
			i++;
		}
	}
	if (list && offrx_return_indicated(W.eng, list) != OFFRX_SUCCESS) {
		fprintf(stderr, "gen_scenarios: a return was refused\n");
		W.errors++;
	}
}

/* --- callbacks ---------------------------------------------------------------------------- */

static void cb_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct gconn *g = gconn_of(conn);
	(void)ctx;
	W.in_complete++;
	for (struct offrx_recv_req *r = reqs, *nx; r; r = nx) {
		nx = r->next;
		W.completions++;
		struct req_box *b = (struct req_box *)r;
		/* Repost it from the callback (also after a FIN: INVALID_STATE comes back). */
		if (g && !g->closed && chance(30))
			post_some(g, b);
	}
	if (g && !g->closed && chance(15))
		post_some(g, NULL);
	if (W.nheld && chance(20))
		return_some(false);
	W.in_complete--;
}

static int cb_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct gconn *g = gconn_of(conn);
	int ans;
	(void)ctx;
	W.in_indicate++;
	W.indications++;
	/* A return inside the indication: buffers of earlier ones (weighted). */
	if (W.nheld && chance(40))
		return_some(false);
	if (g && chance(20))
		post_some(g, NULL);
	uint32_t k = g && g->ind_mode ? (uint32_t)g->ind_mode : below(3) + 1;
	/* An application offered the same data again and again gives in (an engine that
	 * forgot a refusal, R21, would otherwise loop here). */
	if (++W.ind_streak > 50)
		k = 1;
	if (k == 1 || total < 2) {
		ans = OFFRX_SUCCESS;
		*consumed = total;
	} else if (k == 2) {
		ans = OFFRX_PARTIALLY_ACCEPTED;
		*consumed = 1 + below((uint32_t)(total - 1));
	} else {
		ans = OFFRX_NOT_ACCEPTED;
		*consumed = 0;
	}
	if (ans != OFFRX_NOT_ACCEPTED)
		keep_bufs(bufs);
	W.in_indicate--;
	return ans;
}

static void cb_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	(void)conn;
	(void)ctx;
	if (ev->held)
		keep_bufs(ev->held);
}

/* --- one scenario ------------------------------------------------------------------------- */

/* Move the clock to t in steps of at most 200 us, each once the real clock is there: events
 * then carry a ts_raw close to the engine's time. (An early expiry shows by the engine's own
 * clock too: push_timer_expire's at_ns, whatever delays the stamp.) */
static void advance_to(uint64_t t)
{
	uint64_t now = offrx_mem_now(W.eng);
	while (now < t) {
		uint64_t step = t - now < 200000 ? t - now : 200000;
		wait_until(now + step);
		offrx_mem_advance(W.eng, step);
		now += step;
	}
}

static uint64_t deliver(struct gconn *g, bool psh)
{
	uint32_t len = chance(10) ? 1 + below(8) : 1 + below(3000);
	uint32_t off = below(STREAM_SZ - len);
	return offrx_mem_deliver(g->conn, stream_bytes + off, len, psh ? OFFRX_MEM_PSH : 0);
}

static int run_one(uint64_t seed)
{
	static const struct offrx_callbacks cb = {
		.recv_complete = cb_complete,
		.recv_indicate = cb_indicate,
		.conn_event = cb_event,
	};
	struct offrx_engine_opts o = { .sz = sizeof(o) };
	int rc;

	alarm(20); /* a core that hangs (a seeded fault) ends the scenario, not the run */
	rng = seed * 0x9E3779B97F4A7C15ull + 0x1234567;
	if (!rng)
		rng = 1;
	memset(&W, 0, sizeof(W));
	W.push_ns = (2 + below(3)) * 1000000ull; /* 2 to 4 ms */
	o.push_timer_ns = W.push_ns;
	o.snapshot_ns = W.snap_ns = (1 + below(4)) * 1000000ull;
	o.chunk_size = chance(50) ? 256 : 2048;
	o.hold_bytes_per_conn = chance(30) ? 2048 : 65536;
	o.pool_bytes = 1 << 20;
	o.timer_tick_ns = 250000;
	o.cb = &cb;
	rc = offrx_mem_engine_create(&o, &W.eng);
	if (rc != OFFRX_SUCCESS) {
		fprintf(stderr, "gen_scenarios: engine create: %d\n", rc);
		return 1;
	}
	/* The engine's clock is the real monotonic clock from here on (see the top). */
	offrx_mem_set_time(W.eng, mono_ns());
	offrx_mem_advance(W.eng, 0);
	W.nconns = 1 + below(MAX_CONNS);
	for (uint32_t i = 0; i < W.nconns; i++) {
		if (offrx_mem_conn_open(W.eng, (uint32_t)rnd(), &W.c[i].conn) != OFFRX_SUCCESS) {
			fprintf(stderr, "gen_scenarios: conn open failed\n");
			return 1;
		}
		offrx_conn_set_context(W.c[i].conn, NULL);
	}
	uint32_t steps = 20 + below(60);
	for (uint32_t s = 0; s < steps; s++) {
		struct gconn *g = &W.c[below(W.nconns)];
		uint32_t op = below(100);
		if (g->closed)
			continue;
		if (op < 25) {
			/* Sometimes a segment then fills them to the last byte (R09). */
			struct offrx_conn_stats st;
			bool empty = !g->down && offrx_conn_stats(g->conn, &st) == OFFRX_SUCCESS &&
				     !st.queue_depth && !st.held_bytes;
			uint64_t room = post_some(g, NULL);
			if (empty && room && room < STREAM_SZ && chance(30)) {
				/* after a snapshot: an arrival, not held data drained by the post
				 */
				advance_to(offrx_mem_now(W.eng) + W.snap_ns);
				offrx_mem_deliver(g->conn, stream_bytes, room,
						  chance(50) ? OFFRX_MEM_PSH : 0);
			}
		} else if (op < 30) {
			/* a no-push head with a prefilled push request behind it */
			struct req_box *a = new_req(), *b = new_req();
			shape_req(a);
			shape_req(b);
			a->req.flags = OFFRX_REQ_NO_PUSH;
			a->req.bytes_transferred = 0;
			b->req.flags = 0;
			if (b->req.data_len > 1)
				b->req.bytes_transferred = 1 + below(b->req.data_len - 1);
			a->req.next = &b->req;
			b->req.next = NULL;
			offrx_post_recv(g->conn, &a->req);
		} else if (op < 60) {
			if (!g->down)
				deliver(g, chance(40));
		} else if (op < 68) {
			/* a push timer due when data arrives: the clock passes the deadline with no
			 * timer pass, then the segment comes */
			struct offrx_conn_stats st;
			if (!g->down && offrx_conn_stats(g->conn, &st) == OFFRX_SUCCESS &&
			    st.timer_deadline_ns) {
				uint64_t t = st.timer_deadline_ns + below(500000);
				wait_until(t);
				offrx_mem_set_time(W.eng, t);
				deliver(g, chance(30));
			}
		} else if (op < 82) {
			uint64_t dt = below((uint32_t)(2 * W.push_ns));
			advance_to(offrx_mem_now(W.eng) + dt);
		} else if (op < 88) {
			if (W.nheld)
				return_some(chance(30));
		} else if (op < 91) {
			g->ind_mode = (int)below(4); /* 0: random answers again */
		} else if (op < 96 || s + 5 > steps) {
			if (!g->down && s > 10) {
				uint32_t how = below(10);
				g->down = true;
				if (how < 5)
					offrx_mem_fin(g->conn);
				else if (how < 8)
					offrx_mem_rst(g->conn);
				else
					offrx_conn_upload(g->conn);
				if (chance(50))
					post_some(g,
						  NULL); /* after the disconnect: INVALID_STATE */
			}
		} else {
			advance_to(offrx_mem_now(W.eng) + W.push_ns + below(1000000));
		}
	}
	/* The end: time passes, buffers come back, connections go away. */
	advance_to(offrx_mem_now(W.eng) + W.push_ns + 1000000);
	for (uint32_t i = 0; i < W.nconns; i++) {
		struct gconn *g = &W.c[i];
		struct offrx_conn_stats st;
		/* Held data goes back to the application with a FIN (R25); a connection with
		 * nothing held may also be torn down open (its requests abort). */
		if (!g->down && (offrx_conn_stats(g->conn, &st) != OFFRX_SUCCESS || st.held_bytes ||
				 chance(50))) {
			offrx_mem_fin(g->conn);
			g->down = true;
		}
		advance_to(offrx_mem_now(W.eng) + 100000);
		if (g->down && offrx_mem_conn_close(g->conn) == OFFRX_SUCCESS)
			g->closed = true;
	}
	return_some(true);
	advance_to(offrx_mem_now(W.eng) + 100000);
	uint32_t out = 0;
	rc = offrx_engine_destroy(W.eng, &out);
	if (rc != OFFRX_SUCCESS) {
		fprintf(stderr, "gen_scenarios: destroy refused (%d, %u buffers out)\n", rc, out);
		return 1;
	}
	while (W.all) {
		struct req_box *nx = W.all->next_all;
		free(W.all->mem);
		free(W.all);
		W.all = nx;
	}
	return W.errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, count = 1;
	bool one = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--one") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			one = true;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoull(argv[++i], NULL, 0);
		} else {
			fprintf(stderr,
				"usage: gen_scenarios --seed S --count N | --one SEED\n"
				"  (unknown argument '%s')\n",
				argv[i]);
			return 2;
		}
	}
	for (uint32_t i = 0; i < STREAM_SZ; i++)
		stream_bytes[i] = (uint8_t)(i * 131 + 7);
	if (one)
		return run_one(seed);
	/* One child per scenario: its vpid names the scenario in the trace. */
	uint64_t failed = 0;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("gen_scenarios: readlink /proc/self/exe");
		return 1;
	}
	self[n] = 0;
	for (uint64_t k = 0; k < count; k++) {
		char arg[32];
		snprintf(arg, sizeof(arg), "%" PRIu64, seed + k);
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("gen_scenarios: fork");
			return 1;
		}
		if (pid == 0) {
			/* By its own path, not /proc/self/exe: the process name (the trace's
			 * procname, which run_scenarios.sh filters on) comes from it. */
			execl(self, argv[0], "--one", arg, (char *)NULL);
			_exit(127);
		}
		printf("scenario seed %s vpid %d\n", arg, (int)pid);
		int st;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "gen_scenarios: scenario seed %s failed (status %d)\n", arg,
				st);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
