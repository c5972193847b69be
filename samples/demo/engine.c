/* offrx-demo's engine thread: enters the engine namespace, creates the engine on eng0 with every
 * demo port, and keeps each connection's requests posted with the configuration its local port
 * asks for, hashing what it receives. The observer adds up latencies per pattern.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

/* One connection as the application sees it. */
struct ethread;

struct dconn {
	struct demo *d;
	struct ethread *t;
	struct offrx_conn *conn;
	uint64_t id;
	enum demo_pattern pattern;
	uint32_t queue;
	const struct demo_pattern_cfg *cfg;
	struct offrx_recv_req reqs[DEMO_MAX_DEPTH];
	struct offrx_seg segs[DEMO_MAX_DEPTH];
	uint8_t *mem;
	EVP_MD_CTX *sha;
	uint64_t bytes;
	bool ended; /* the disconnect (or upload) was indicated: no more posts */
	uint64_t first_fill_ns[DEMO_FILL_RING]; /* by request id */
	char local[80], remote[80];
};

/* Engine-thread state the callbacks reach through the engine's user pointer. The observer has
 * only a connection id, so connections are found through this table. */
struct ethread {
	struct demo *d;
	struct dconn *slots[DEMO_CONN_SLOTS];
	struct offrx_ind_buf *to_return;
};

static struct dconn *slot_of(struct ethread *t, uint64_t id)
{
	struct dconn *c = t->slots[id % DEMO_CONN_SLOTS];
	return c && c->id == id ? c : NULL;
}

/* The engine passes its options' user pointer (our thread state) to the log too. */
static void on_log(int level, const char *msg, void *user)
{
	struct demo *d = ((struct ethread *)user)->d;
	static const char *lv[] = { "error", "warning", "info" };

	pthread_mutex_lock(&d->lock);
	if (level == 0 || (level == 1 && !d->engine_err[0]))
		snprintf(d->engine_err, sizeof(d->engine_err), "%s", msg);
	pthread_mutex_unlock(&d->lock);
	if (d->log_fd >= 0)
		dprintf(d->log_fd, "engine %s: %s\n", level < 3 ? lv[level] : "?", msg);
	/* while the viewer has the terminal, the log keeps it; said after the viewer exits */
	if (!d->viewer_active)
		fprintf(stderr, DEMO_PROG ": engine %s: %s\n", level < 3 ? lv[level] : "?", msg);
}

/* Runs inside the engine, on its thread: numbers only. */
static void observe(const struct offrx_event *ev, void *ctx)
{
	struct ethread *t = ctx;
	struct dconn *c = slot_of(t, ev->conn_id);

	if (!c)
		return;
	if (ev->kind == OFFRX_E_FILL) {
		if (ev->total == ev->bytes) /* the request's first bytes (no prefill here) */
			c->first_fill_ns[ev->req_id % DEMO_FILL_RING] = ev->ts_ns;
		return;
	}
	if (ev->kind != OFFRX_E_COMPLETE || !ev->bytes)
		return;
	struct demo_agg *a = &t->d->agg[c->pattern];
	uint64_t first = c->first_fill_ns[ev->req_id % DEMO_FILL_RING];
	c->first_fill_ns[ev->req_id % DEMO_FILL_RING] = 0; /* the next request here starts anew */
	if (first && ev->ts_ns >= first) {
		uint64_t lat = ev->ts_ns - first;
		a->lat_n++;
		a->lat_sum_ns += lat;
		if (lat > a->lat_max_ns)
			a->lat_max_ns = lat;
	}
	if (ev->reason == OFFRX_CR_PUSH_TIMER && ev->ts_ns >= ev->t_last_fill_ns) {
		uint64_t w = ev->ts_ns - ev->t_last_fill_ns;
		a->timer_n++;
		a->timer_sum_ns += w;
		if (w > a->timer_max_ns)
			a->timer_max_ns = w;
	}
}

static void post(struct dconn *c, uint32_t i)
{
	struct offrx_recv_req *r = &c->reqs[i];

	c->segs[i] = (struct offrx_seg){ c->mem + (size_t)i * c->cfg->buf_size, c->cfg->buf_size };
	offrx_req_init(r, &c->segs[i], 1, i);
	r->flags = c->cfg->flags;
	offrx_post_recv(c->conn, r);
}

static void take(struct dconn *c, const uint8_t *p, uint64_t n)
{
	if (!n)
		return;
	EVP_DigestUpdate(c->sha, p, n);
	c->bytes += n;
}

static enum demo_pattern pattern_of_port(const char *local)
{
	const char *colon = strrchr(local, ':');
	unsigned port = colon ? (unsigned)atoi(colon + 1) : 0;

	for (int p = 0; p < P_COUNT; p++)
		if (demo_patterns[p].port == port)
			return (enum demo_pattern)p;
	return P_CHURN; /* not reached: the engine accepts only the demo's ports */
}

static void on_new(struct offrx_conn *conn, void *user)
{
	struct ethread *t = user;
	struct dconn *c = calloc(1, sizeof(*c));

	if (!c)
		return; /* no context: the data waits, the connection is reset at the end */
	c->d = t->d;
	c->t = t;
	c->conn = conn;
	c->id = offrx_conn_id(conn);
	c->queue = offrx_conn_queue(conn);
	offrx_conn_names(conn, c->local, c->remote, sizeof(c->local));
	c->pattern = pattern_of_port(c->local);
	c->cfg = &demo_patterns[c->pattern];
	c->mem = malloc((size_t)c->cfg->buf_size * c->cfg->depth);
	c->sha = EVP_MD_CTX_new();
	if (!c->mem || !c->sha) {
		free(c->mem);
		EVP_MD_CTX_free(c->sha);
		free(c);
		return;
	}
	EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL);
	t->slots[c->id % DEMO_CONN_SLOTS] = c;
	offrx_conn_set_context(conn, c);
	pthread_mutex_lock(&t->d->lock);
	t->d->open_conns++;
	t->d->conns_total++;
	pthread_mutex_unlock(&t->d->lock);
	for (uint32_t i = 0; i < c->cfg->depth; i++)
		post(c, i);
}

static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct dconn *c = ctx;

	(void)conn;
	while (reqs) {
		struct offrx_recv_req *r = reqs;
		uint32_t i = (uint32_t)r->cookie;

		reqs = r->next;
		take(c, c->mem + (size_t)i * c->cfg->buf_size, r->bytes_placed);
		/* A request reposted in the FIN's completions comes back after the disconnect
		 * event (SUCCESS, empty): once that is seen, posting again would only earn
		 * INVALID_STATE (R25). */
		if (r->status == OFFRX_SUCCESS && !c->ended)
			post(c, i);
	}
}

static void keep_to_return(struct ethread *t, struct offrx_ind_buf *bufs)
{
	struct offrx_ind_buf *last = bufs;

	while (last->next)
		last = last->next;
	last->next = t->to_return; /* ours until returned, after the callback (R22) */
	t->to_return = bufs;
}

static int on_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	struct dconn *c = ctx;

	if (!c) {
		*consumed = 0;
		return OFFRX_NOT_ACCEPTED;
	}
	for (struct offrx_ind_buf *b = bufs; b; b = b->next)
		take(c, b->data, b->len);
	*consumed = total;
	keep_to_return(c->t, bufs);
	return OFFRX_SUCCESS;
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* How a connection ended, for the report: a close reason's name (offrx_names.h), "-" for none. */
static const char *closed_by(enum offrx_close_reason reason)
{
	const char *name = offrx_close_reason_name((int)reason);

	return reason == OFFRX_CLOSE_NONE ? "-" : name ? name : "?";
}

static void on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	struct dconn *c = ctx;

	if (!c)
		return;
	if (ev->held) { /* data the engine still held comes back with a disconnect */
		for (struct offrx_ind_buf *b = ev->held; b; b = b->next)
			take(c, b->data, b->len);
		keep_to_return(c->t, ev->held);
	}
	if (ev->type != OFFRX_EV_CLOSED) {
		c->ended = true;
		return;
	}

	struct demo *d = c->d;
	struct demo_result *r = calloc(1, sizeof(*r));
	struct offrx_conn_stats st;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	offrx_conn_stats(conn, &st);
	EVP_DigestFinal_ex(c->sha, md, &mdlen);
	if (r) {
		hex(md, mdlen, r->sha);
		r->id = c->id;
		r->pattern = c->pattern;
		r->queue = c->queue;
		r->bytes = c->bytes;
		r->completed = st.completed;
		memcpy(r->completed_by, st.completed_by, sizeof(r->completed_by));
		snprintf(r->local, sizeof(r->local), "%s", c->local);
		snprintf(r->remote, sizeof(r->remote), "%s", c->remote);
		snprintf(r->closed_by, sizeof(r->closed_by), "%s", closed_by(ev->reason));
	}
	pthread_mutex_lock(&d->lock);
	struct demo_agg *a = &d->agg[c->pattern];
	a->conns++;
	a->bytes += c->bytes;
	for (int k = 0; k < OFFRX_COMPLETE_REASONS; k++)
		a->completed_by[k] += st.completed_by[k];
	if (r) {
		*d->results_tail = r;
		d->results_tail = &r->next;
	}
	d->open_conns--;
	pthread_mutex_unlock(&d->lock);

	c->t->slots[c->id % DEMO_CONN_SLOTS] = NULL;
	offrx_conn_set_context(conn, NULL);
	EVP_MD_CTX_free(c->sha);
	free(c->mem);
	free(c);
}

static const struct offrx_callbacks cbs = {
	.conn_new = on_new,
	.recv_complete = on_complete,
	.recv_indicate = on_indicate,
	.conn_event = on_event,
};

static void set_state(struct demo *d, int state)
{
	pthread_mutex_lock(&d->lock);
	d->engine_state = state;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void return_held(struct ethread *t)
{
	if (t->to_return) {
		offrx_return_indicated(t->d->eng, t->to_return);
		t->to_return = NULL;
	}
}

/* The XDP program and the AF_XDP socket belong to the namespace of the thread that creates
 * them, and detaching must happen there too: this thread enters the engine namespace and stays
 * in it, while the rest of the process (the session daemon's clients, the children it forks)
 * stays in the machine's namespace. */
static void *engine_main(void *arg)
{
	struct ethread *t = arg;
	struct demo *d = t->d;
	char path[128];
	uint16_t ports[P_COUNT];
	uint32_t nports = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", d->eng_ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		snprintf(d->engine_err, sizeof(d->engine_err), "cannot enter namespace %s (%s): %s",
			 d->eng_ns, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		set_state(d, -1);
		free(t);
		return NULL;
	}
	close(fd);
	for (int p = 0; p < P_COUNT; p++)
		if (d->o.scenario < 0 || d->o.scenario == p)
			ports[nports++] = demo_patterns[p].port;

	uint32_t queues[DEMO_MAX_QUEUES];
	for (uint32_t i = 0; i < d->o.queues; i++)
		queues[i] = i;
	struct offrx_engine_opts o = {
		.sz = sizeof(o),
		.cb = &cbs,
		.user = t,
		.push_timer_ns = (uint64_t)d->o.push_timer_ms * 1000000ull,
		.observer = observe,
		.observer_ctx = t,
		.observer_mask = OFFRX_EVENT_BIT(OFFRX_E_FILL) | OFFRX_EVENT_BIT(OFFRX_E_COMPLETE),
		.ifname = "eng0",
		.ports = ports,
		.nports = nports,
		.log = on_log,
		.trace_payload_bytes = d->o.trace_payload_bytes,
		/* Every queue of the veth, one AF_XDP socket each; offrx_engine_poll below runs
		 * them all in turn on this thread, so the callbacks need no lock of their own. */
		.queues = queues,
		.nqueues = d->o.queues,
	};
	if (offrx_engine_create(&o, &d->eng) != OFFRX_SUCCESS) {
		d->eng = NULL;
		if (!d->engine_err[0])
			snprintf(d->engine_err, sizeof(d->engine_err),
				 "offrx_engine_create on eng0 failed without a message");
		set_state(d, -1);
		free(t);
		return NULL;
	}
	/* Attached and bound: this thread, the only one that parses frames, keeps no effective
	 * capability from here on; the main thread keeps its own for the namespaces and the
	 * session. destroy, below on this thread, raises what detaching the program needs. */
	if (!d->o.keep_caps && offrx_engine_drop_privileges(d->eng, 0) != OFFRX_SUCCESS) {
		offrx_engine_destroy(d->eng, NULL);
		d->eng = NULL;
		set_state(d, -1); /* the log said why */
		free(t);
		return NULL;
	}
	set_state(d, 1);
	while (!d->engine_stop) {
		int rc = offrx_engine_poll(d->eng, 50);
		return_held(t);
		if (rc < 0 && rc != -EINTR) {
			snprintf(d->engine_err, sizeof(d->engine_err), "offrx_engine_poll: %s",
				 strerror(-rc));
			d->engine_failed_mid_run = 1;
			break;
		}
	}
	struct offrx_engine_info info = { .sz = sizeof(info) };
	offrx_engine_info(d->eng, &info);
	d->nqueues = 0;
	for (uint32_t i = 0; i < info.nqueues && i < DEMO_MAX_QUEUES; i++) {
		struct offrx_queue_stats q = { .sz = sizeof(q) };
		if (offrx_engine_queue_stats(d->eng, i, &q) != OFFRX_SUCCESS)
			break;
		d->queues[d->nqueues++] = (struct demo_queue){ .queue = q.queue,
							       .conns_total = q.conns_total,
							       .zerocopy = q.zerocopy,
							       .rx_frames = q.rx_frames,
							       .moved = q.moved_in };
	}
	const char *names[64];
	uint64_t counts[64];
	uint32_t nd = offrx_engine_drops(d->eng, names, counts, 64);
	size_t off = 0;
	for (uint32_t i = 0; i < nd && i < 64; i++) {
		d->drops_total += counts[i];
		if (counts[i] && off < sizeof(d->drops_text))
			off += (size_t)snprintf(d->drops_text + off, sizeof(d->drops_text) - off,
						"%s%s %" PRIu64, off ? ", " : "", names[i],
						counts[i]);
	}
	/* Open connections are reset; their CLOSED events record them. */
	uint32_t out = 0;
	if (offrx_engine_destroy(d->eng, &out) != OFFRX_SUCCESS) {
		return_held(t);
		offrx_engine_destroy(d->eng, &out);
	}
	d->eng = NULL;
	free(t);
	return NULL;
}

int demo_engine_start(struct demo *d)
{
	struct ethread *t = calloc(1, sizeof(*t));
	int state;

	if (!t) {
		snprintf(d->engine_err, sizeof(d->engine_err), "out of memory");
		return -1;
	}
	t->d = d;
	d->engine_state = 0;
	d->engine_stop = 0;
	if (pthread_create(&d->thread, NULL, engine_main, t)) {
		snprintf(d->engine_err, sizeof(d->engine_err), "cannot start the engine thread");
		free(t);
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	while (d->engine_state == 0)
		pthread_cond_wait(&d->cond, &d->lock);
	state = d->engine_state;
	pthread_mutex_unlock(&d->lock);
	if (state < 0) {
		pthread_join(d->thread, NULL);
		return -1;
	}
	d->engine_up = true;
	return 0;
}

void demo_engine_stop(struct demo *d)
{
	if (!d->engine_up)
		return;
	d->engine_stop = 1;
	pthread_join(d->thread, NULL);
	d->engine_up = false;
}

int demo_open_conns(struct demo *d)
{
	pthread_mutex_lock(&d->lock);
	int n = d->open_conns;
	pthread_mutex_unlock(&d->lock);
	return n;
}
