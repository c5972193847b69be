/* The engine on the wire: frames from the AF_XDP link are parsed (pkt.c), fed through the TCP
 * receive state (tcp_rx.c) into the receive core, and the segments TCP sends go back out
 * through the link's TX ring. One thread drives it with offrx_engine_poll(). Over several
 * receive queues, it is one such engine (a shard) per queue, each on its own thread
 * (offrx_engine_run), sharing the XDP program and a directory of which queue owns which flow
 * (engine/README.md). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "link_xsk.h"
#include "pkt.h"
#include "privs.h"
#include "tcp_rx.h"
#include "trace.h"

#define RX_BUDGET 256 /* frames per poll before timers get their turn */
#define MAX_PORTS 64

/* Frames of a shard's connections that arrived on another queue wait here for its thread: a
 * ring of INBOX_SLOTS copies. Full, a frame is dropped (tcp.moved_full) and not ACKed, so the
 * peer sends it again. */
#define INBOX_SLOTS 256
#define INBOX_FRAME 4096

struct inbox {
	pthread_mutex_t lock;
	uint8_t *buf; /* INBOX_SLOTS * INBOX_FRAME */
	uint32_t len[INBOX_SLOTS];
	uint32_t head, count;
};

/* Which queue owns which flow, shared by the shards of an engine of several queues: written
 * when a queue takes a flow (SYN) and lets it go, read when a segment finds no flow on the
 * queue it arrived on. */
#define FLOW_BUCKETS 4096

struct flow_ent {
	struct flow_ent *next;
	uint8_t raddr[16], laddr[16];
	uint16_t rport, lport;
	uint32_t shard;
};

struct wire_mq {
	pthread_mutex_t lock;
	struct flow_ent *buckets[FLOW_BUCKETS];
	struct wire *w[OFFRX_MAX_QUEUES];
	uint32_t n;
	volatile int abort; /* offrx_engine_run: a shard failed, every thread stops */
};

struct wire {
	struct xsk_link *link;
	struct tcp_rx *tcp;
	struct pkt_drop_counters pdrops;
	uint64_t tx_errors;
	unsigned int parse_flags;
	uint16_t ports[MAX_PORTS];
	uint32_t nports;
	char ifname[IF_NAMESIZE];
	void (*log)(int level, const char *msg, void *user);
	void *log_user;
	bool warned_partial;
	char driver[32];	       /* ethtool -i's driver name, "" when unknown */
	uint64_t wscale_clamped;       /* SYNs that offered a window scale above 14 */
	struct privs privs;	       /* offrx_engine_drop_privileges() */
	struct offrx_engine_info info; /* offrx_engine_info() */
	/* An engine of several queues (mq NULL for one): this shard's queue, its CPU (-1: not
	 * pinned), frames handed over, and the frame being fed to TCP (for foreign()). */
	struct wire_mq *mq;
	uint32_t shard, queue;
	int32_t cpu;
	struct inbox inbox;
	uint64_t moved_out, moved_in;
	uint64_t run_cpu_ns; /* CPU time of the threads that ran it in offrx_engine_run, ended */
	const struct xsk_frame *cur;
	uint8_t txbuf[PKT_BUILD_MAX];
};

static void default_log(int level, const char *msg, void *user)
{
	(void)user;
	static const char *const what[] = { "error", "warning", "info" };
	fprintf(stderr, "offrx: %s: %s\n", what[level < 0 || level > 2 ? 0 : level], msg);
}

static void logf_(struct wire *w, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->log(level, msg, w->log_user);
}

static uint64_t mono_ns(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wire_xmit(void *ctx, const struct pkt_tcp_build *seg)
{
	struct wire *w = ctx;
	int len = pkt_build_tcp(w->txbuf, sizeof(w->txbuf), seg);
	if (len < 0) {
		w->tx_errors++;
		return;
	}
	int err = xsk_link_tx(w->link, w->txbuf, (uint32_t)len);
	if (err == -EAGAIN) { /* every TX frame in flight: push them out and try once more */
		xsk_link_tx_flush(w->link);
		err = xsk_link_tx(w->link, w->txbuf, (uint32_t)len);
	}
	if (err)
		w->tx_errors++; /* an ACK lost here is repaired by the next one */
}

/* RFC 7323 2.3: a window scale above 14 is used as 14 and the error SHOULD be logged. The
 * first few are named, then every 1000th, so that a flood of them cannot flood the log. */
static void check_wscale(struct wire *w, const struct pkt_info *seg)
{
	if (!(seg->flags & PKT_TCP_SYN) || !(seg->opts.present & PKT_OPT_WSCALE) ||
	    seg->opts.wscale_sent <= PKT_WSCALE_MAX)
		return;
	uint64_t n = ++w->wscale_clamped;
	if (n > 8 && n % 1000)
		return;
	char addr[INET6_ADDRSTRLEN] = "?";
	if (seg->family == PKT_AF_INET)
		inet_ntop(AF_INET, seg->src_addr + PKT_ADDR_V4_OFF, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, seg->src_addr, addr, sizeof(addr));
	logf_(w, 1,
	      "a SYN from %s port %u offered window scale %u; using %u as RFC 7323 section 2.3 "
	      "asks (%llu such SYNs so far)",
	      addr, seg->src_port, seg->opts.wscale_sent, PKT_WSCALE_MAX, (unsigned long long)n);
}

/* A local kernel sender whose veth has tx checksum offload on sends partial checksums; say so
 * once, plainly, instead of dropping its segments in silence. */
static void check_partial_csum(struct wire *w)
{
	uint64_t partial = w->pdrops.n[PKT_DROP_TCP_PARTIAL_CSUM];
	uint64_t good = w->pdrops.n[PKT_DROP_NONE];
	if (w->warned_partial || partial < 2 || partial < good)
		return;
	w->warned_partial = true;
	logf_(w, 1,
	      "%llu of %llu TCP segments on %s carry partial checksums: the sender's veth has tx "
	      "checksum offload on. Run `ethtool -K <its veth> tx off` on the sending side (in "
	      "its namespace); scripts/netns does this for its topology",
	      (unsigned long long)partial, (unsigned long long)(partial + good), w->ifname);
}

static const struct link_ops wire_link_ops;

#define NAPI_PATH_MAX (32 + IF_NAMESIZE)

static void napi_path(const struct wire *w, char path[NAPI_PATH_MAX])
{
	snprintf(path, NAPI_PATH_MAX, "/sys/class/net/%s/threaded", w->ifname);
}

/* The interface's NAPI threading, napi_path(): read into *on (0 or 1); 0 or a negative
 * errno. */
static int napi_threaded_get(const struct wire *w, int *on)
{
	char path[NAPI_PATH_MAX], buf[8] = "";
	napi_path(w, path);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int err = fgets(buf, sizeof(buf), f) ? 0 : -EIO;
	fclose(f);
	if (!err)
		*on = buf[0] == '1';
	return err;
}

static int napi_threaded_set(const struct wire *w, int on)
{
	char path[NAPI_PATH_MAX];
	napi_path(w, path);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int err = fputs(on ? "1\n" : "0\n", f) == EOF ? -errno : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* offrx_engine_opts.napi_threaded, after the XDP program is attached: a veth runs NAPI only
 * then, and refuses the setting before. A failure costs speed, not correctness: warn. */
static void napi_setup(struct wire *w, uint32_t mode)
{
	struct offrx_engine_info *in = &w->info;
	char path[NAPI_PATH_MAX];
	int was = 0, err = napi_threaded_get(w, &was);
	bool veth = !strcmp(w->driver, "veth");

	napi_path(w, path);
	in->napi_threaded = !err && was;
	if (mode == OFFRX_NAPI_LEAVE || (mode == OFFRX_NAPI_AUTO && (!veth || was))) {
		snprintf(in->napi_why, sizeof(in->napi_why), "%s, as the interface has it (%s)",
			 in->napi_threaded ? "in a kernel thread" : "in softirq",
			 mode == OFFRX_NAPI_LEAVE ? "left as it is"
			 : veth			  ? "already threaded"
						  : "not a veth: left as it is");
	} else {
		err = napi_threaded_set(w, 1);
		if (err) {
			logf_(w, 1,
			      "could not run %s's NAPI threaded (%s: %s); receiving anyway, with "
			      "the "
			      "driver's receive work on the sender's CPU",
			      w->ifname, path, strerror(-err));
			snprintf(in->napi_why, sizeof(in->napi_why),
				 "in softirq (setting %s failed: %s)", path, strerror(-err));
			return;
		}
		in->napi_threaded = 1;
		in->napi_restore = mode == OFFRX_NAPI_AUTO;
		snprintf(in->napi_why, sizeof(in->napi_why), "in a kernel thread (%s = 1%s)", path,
			 in->napi_restore ? ", put back to 0 when the engine is destroyed" : "");
	}
	logf_(w, 2, "%s: NAPI runs %s", w->ifname, in->napi_why);
}

/* Put back what napi_setup() changed for the engine's lifetime only (OFFRX_NAPI_AUTO); before
 * the XDP program is detached, while the NAPI it set up still exists. */
static void napi_restore(struct wire *w)
{
	if (!w->info.napi_restore)
		return;
	char path[NAPI_PATH_MAX];
	int err = napi_threaded_set(w, 0);
	napi_path(w, path);
	if (err)
		logf_(w, 1, "could not put %s's NAPI back in softirq (%s: %s)", w->ifname, path,
		      strerror(-err));
	w->info.napi_restore = 0;
}

/* --- several queues: the flow directory and the hand-over inbox --------------------------- */

static uint32_t flow_bucket(const uint8_t *raddr, const uint8_t *laddr, uint16_t rport,
			    uint16_t lport)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)rport << 16 | lport), x;
	for (int i = 0; i < 16; i += 8) {
		memcpy(&x, raddr + i, 8);
		h = (h ^ x) * 0x100000001b3ull;
		memcpy(&x, laddr + i, 8);
		h = (h ^ x) * 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32)) & (FLOW_BUCKETS - 1);
}

static struct flow_ent **flow_find(struct wire_mq *mq, const uint8_t *raddr, const uint8_t *laddr,
				   uint16_t rport, uint16_t lport)
{
	struct flow_ent **pp = &mq->buckets[flow_bucket(raddr, laddr, rport, lport)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->rport == rport && (*pp)->lport == lport &&
		    !memcmp((*pp)->raddr, raddr, 16) && !memcmp((*pp)->laddr, laddr, 16))
			break;
	return pp;
}

/* tcp_rx_cfg.flow: this shard took (or let go of) a flow. */
static void wire_flow(void *ctx, const uint8_t *raddr, const uint8_t *laddr, uint16_t rport,
		      uint16_t lport, bool add)
{
	struct wire *w = ctx;
	pthread_mutex_lock(&w->mq->lock);
	struct flow_ent **pp = flow_find(w->mq, raddr, laddr, rport, lport);
	if (add && !*pp) {
		struct flow_ent *e = calloc(1, sizeof(*e));
		if (e) { /* without it, the flow's frames on other queues get RSTs, as before */
			memcpy(e->raddr, raddr, 16);
			memcpy(e->laddr, laddr, 16);
			e->rport = rport;
			e->lport = lport;
			e->shard = w->shard;
			*pp = e;
		}
	} else if (!add && *pp && (*pp)->shard == w->shard) {
		struct flow_ent *e = *pp;
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&w->mq->lock);
}

/* tcp_rx_cfg.foreign: a segment of no flow of this shard; if another shard has the flow, a copy
 * of the frame goes to its inbox. */
static int wire_foreign(void *ctx, const struct pkt_info *seg)
{
	struct wire *w = ctx;
	int owner = -1;
	pthread_mutex_lock(&w->mq->lock);
	struct flow_ent *e =
		*flow_find(w->mq, seg->src_addr, seg->dst_addr, seg->src_port, seg->dst_port);
	if (e)
		owner = (int)e->shard;
	pthread_mutex_unlock(&w->mq->lock);
	if (owner < 0 || (uint32_t)owner == w->shard || !w->cur || w->cur->len > INBOX_FRAME)
		return TCP_FOREIGN_NONE;
	struct inbox *in = &w->mq->w[owner]->inbox;
	pthread_mutex_lock(&in->lock);
	bool room = in->count < INBOX_SLOTS;
	if (room) {
		uint32_t slot = (in->head + in->count) % INBOX_SLOTS;
		memcpy(in->buf + (size_t)slot * INBOX_FRAME, w->cur->data, w->cur->len);
		in->len[slot] = w->cur->len;
		in->count++;
	}
	pthread_mutex_unlock(&in->lock);
	if (!room)
		return TCP_FOREIGN_FULL;
	w->moved_out++;
	return TCP_FOREIGN_MOVED;
}

static bool inbox_pending(struct wire *w)
{
	return w->mq && __atomic_load_n(&w->inbox.count, __ATOMIC_RELAXED) != 0;
}

/* Feed one frame to TCP (the shard's turn, inside a receive batch). */
static void frame_input(struct offrx_engine *eng, struct wire *w, const struct xsk_frame *f)
{
	struct pkt_info seg;
	enum pkt_drop d = pkt_parse(f->data, f->len, w->parse_flags, &seg);
	pkt_drop_count(&w->pdrops, d);
	if (d == PKT_DROP_NONE) {
		check_wscale(w, &seg);
		w->cur = f;
		tcp_rx_input(w->tcp, &seg);
		w->cur = NULL;
		return;
	}
	if (offrx_trace_on(eng->q.cfg.trace, OFFRX_T_DROP))
		eng->q.cfg.trace->drop((int)d, 0, f->len);
	if (d == PKT_DROP_TCP_PARTIAL_CSUM)
		check_partial_csum(w);
}

/* The frames other shards handed over. The slots counted stay untouched by the producers
 * until the count drops, so they are read without the lock. */
static uint32_t inbox_drain(struct offrx_engine *eng, struct wire *w)
{
	struct inbox *in = &w->inbox;
	pthread_mutex_lock(&in->lock);
	uint32_t n = in->count, head = in->head;
	pthread_mutex_unlock(&in->lock);
	if (!n)
		return 0;
	rxq_batch_begin(&eng->q);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t slot = (head + i) % INBOX_SLOTS;
		struct xsk_frame f = { .data = in->buf + (size_t)slot * INBOX_FRAME,
				       .len = in->len[slot] };
		frame_input(eng, w, &f);
	}
	rxq_batch_end(&eng->q);
	tcp_rx_batch_end(w->tcp);
	pthread_mutex_lock(&in->lock);
	in->head = (in->head + n) % INBOX_SLOTS;
	in->count -= n;
	pthread_mutex_unlock(&in->lock);
	w->moved_in += n;
	return n;
}

/* --- driving the engine ------------------------------------------------------------------ */

/* The CPU time of the calling thread (the shard's, under offrx_engine_run), for xsk_stats; 0 if
 * the clock cannot be read. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One turn of one shard, its turn lock held: receive, timers, ACKs. */
static int shard_turn(struct offrx_engine *eng, struct wire *w)
{
	struct xsk_frame f[XSK_LINK_BATCH];
	int handled = w->mq ? (int)inbox_drain(eng, w) : 0;
	uint32_t n = xsk_link_rx(w->link, f, XSK_LINK_BATCH);
	while (n) {
		/* One receive batch: the trace gets one fill per request for the burst. */
		rxq_batch_begin(&eng->q);
		for (uint32_t i = 0; i < n; i++)
			frame_input(eng, w, &f[i]);
		rxq_batch_end(&eng->q);
		xsk_link_rx_done(w->link, f, n);
		tcp_rx_batch_end(w->tcp);
		handled += (int)n;
		if (handled >= RX_BUDGET)
			break;
		n = xsk_link_rx(w->link, f, XSK_LINK_BATCH);
	}
	rxq_run_deferred(&eng->q);
	rxq_advance(&eng->q);
	tcp_rx_tick(w->tcp);
	xsk_link_tx_flush(w->link);
	if (engine_trace_tick(eng) && offrx_trace_on(eng->q.cfg.trace, OFFRX_T_XSK_STATS)) {
		struct xsk_link_stats ls;
		xsk_link_stats(w->link, &ls);
		struct offrx_trace_xsk ts = {
			.rx_frames = ls.rx_frames,
			.tx_frames = ls.tx_frames,
			.rx_dropped = ls.rx_dropped,
			.rx_ring_full = ls.rx_ring_full,
			.fill_ring_empty = ls.rx_fill_ring_empty_descs,
			.tx_ring_empty = ls.tx_ring_empty_descs,
			.invalid_descs = ls.rx_invalid_descs + ls.tx_invalid_descs,
			.xdp_redirected = ls.xdp_redirected,
			.xdp_passed = ls.xdp_passed,
			.tx_full = ls.tx_full + w->tx_errors,
			.queue = w->queue,
			.thread_cpu_ns = thread_cpu_ns(),
		};
		eng->q.cfg.trace->xsk_stats(&ts);
	}
	return handled;
}

/* Wait (outside the turn: the socket's RX side is this thread's alone) up to timeout_ms, at
 * most 1 ms so the timers keep time, then take a turn. */
static int shard_poll(struct offrx_engine *eng, int timeout_ms)
{
	struct wire *w = eng->link_priv;
	if (timeout_ms && !inbox_pending(w)) {
		int wait = timeout_ms < 0 || timeout_ms > 1 ? 1 : timeout_ms;
		int rc = xsk_link_wait(w->link, wait);
		if (rc < 0 && rc != -EINTR)
			return rc;
	}
	if (engine_turn_enter(eng))
		return -EDEADLK; /* called from a callback of another queue */
	int handled = shard_turn(eng, w);
	engine_turn_leave(eng);
	return handled;
}

int offrx_engine_poll(struct offrx_engine *eng, int timeout_ms)
{
	if (!eng || eng->link != &wire_link_ops)
		return -EINVAL;
	if (!eng->shards)
		return shard_poll(eng, timeout_ms);
	/* Every queue in turn on this thread; when none had anything, wait on them all. */
	int total = 0;
	for (uint32_t i = 0; i < eng->nshards; i++) {
		int rc = shard_poll(eng->shards[i], 0);
		if (rc < 0)
			return rc;
		total += rc;
	}
	if (total || !timeout_ms)
		return total;
	struct pollfd p[OFFRX_MAX_QUEUES];
	for (uint32_t i = 0; i < eng->nshards; i++) {
		struct wire *w = eng->shards[i]->link_priv;
		p[i] = (struct pollfd){ .fd = xsk_link_fd(w->link), .events = POLLIN };
	}
	if (poll(p, eng->nshards, 1) < 0 && errno != EINTR)
		return -errno;
	for (uint32_t i = 0; i < eng->nshards; i++) {
		int rc = shard_poll(eng->shards[i], 0);
		if (rc < 0)
			return rc;
		total += rc;
	}
	return total;
}

static int pin_cpu(pthread_t t, int32_t cpu)
{
	if (cpu < 0)
		return 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

struct runner {
	struct offrx_engine *eng;
	const volatile int *stop;
	pthread_t thread;
	int rc;
};

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	struct wire *w = r->eng->link_priv;
	struct timespec c0, c1;
	bool timed = !clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	while (!*r->stop && !(w->mq && __atomic_load_n(&w->mq->abort, __ATOMIC_RELAXED))) {
		int rc = shard_poll(r->eng, 100);
		if (rc < 0 && rc != -EINTR) {
			r->rc = rc;
			if (w->mq)
				__atomic_store_n(&w->mq->abort, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	/* What this thread spent on the queue (offrx_queue_stats.thread_cpu_ns): read once here,
	 * not per turn, so the data path pays no system call for it. */
	if (timed && !clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1))
		w->run_cpu_ns += (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000u +
				 (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
	return NULL;
}

int offrx_engine_run(struct offrx_engine *eng, const volatile int *stop)
{
	if (!eng || !stop || eng->link != &wire_link_ops)
		return -EINVAL;
	struct wire *w0 = eng->link_priv;
	uint32_t n = eng->shards ? eng->nshards : 1;
	struct runner r[OFFRX_MAX_QUEUES];
	cpu_set_t before;
	bool restore = false;
	int err = 0;

	if (w0->cpu >= 0) {
		restore = !pthread_getaffinity_np(pthread_self(), sizeof(before), &before);
		err = pin_cpu(pthread_self(), w0->cpu);
		if (err)
			logf_(w0, 1,
			      "could not pin queue %u's thread to CPU %d (%s); running unpinned",
			      w0->queue, w0->cpu, strerror(-err));
	}
	if (w0->mq)
		w0->mq->abort = 0;
	uint32_t started = 1;
	for (uint32_t i = 0; i < n; i++)
		r[i] = (struct runner){ .eng = n > 1 ? eng->shards[i] : eng, .stop = stop };
	for (; started < n; started++) {
		struct wire *w = r[started].eng->link_priv;
		err = -pthread_create(&r[started].thread, NULL, runner_main, &r[started]);
		if (err) {
			logf_(w0, 0, "cannot start the thread of queue %u: %s", w->queue,
			      strerror(-err));
			__atomic_store_n(&w0->mq->abort, 1, __ATOMIC_RELAXED);
			break;
		}
		char name[16]; /* "offrx-q<queue>": top -H, ps -L and /proc/PID/task/TID/comm */
		snprintf(name, sizeof(name), "offrx-q%u", w->queue);
		pthread_setname_np(r[started].thread, name);
		err = pin_cpu(r[started].thread, w->cpu);
		if (err)
			logf_(w0, 1,
			      "could not pin queue %u's thread to CPU %d (%s); running unpinned",
			      w->queue, w->cpu, strerror(-err));
		err = 0;
	}
	if (!err)
		runner_main(&r[0]);
	int rc = err ? err : r[0].rc;
	for (uint32_t i = 1; i < started; i++) {
		pthread_join(r[i].thread, NULL);
		if (!rc)
			rc = r[i].rc;
	}
	if (restore)
		pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
	return rc;
}

uint32_t offrx_conn_queue(const struct offrx_conn *conn)
{
	if (!conn || conn->eng->link != &wire_link_ops)
		return 0;
	return ((const struct wire *)conn->eng->link_priv)->queue;
}

int offrx_engine_queue_stats(struct offrx_engine *eng, uint32_t index,
			     struct offrx_queue_stats *out)
{
	if (!eng || !out || eng->link != &wire_link_ops ||
	    out->sz < offsetof(struct offrx_queue_stats, fill_ring_empty) +
			      sizeof(out->fill_ring_empty) ||
	    index >= (eng->shards ? eng->nshards : 1))
		return OFFRX_INVALID_PARAMETER;
	struct offrx_engine *s = eng->shards ? eng->shards[index] : eng;
	struct wire *w = s->link_priv;
	struct offrx_queue_stats q = { .sz = sizeof(q) };
	struct xsk_link_stats ls;
	xsk_link_stats(w->link, &ls);
	q.queue = w->queue;
	q.zerocopy = xsk_link_zerocopy(w->link);
	q.conns = s->nconns;
	q.conns_total = (uint32_t)s->conns_total;
	if (engine_turn_enter(s) == 0) { /* the connection list is the shard thread's */
		q.bytes_received = engine_bytes_received(s);
		engine_turn_leave(s);
	}
	q.rx_frames = ls.rx_frames;
	q.moved_out = w->moved_out;
	q.moved_in = w->moved_in;
	q.rx_dropped = ls.rx_dropped;
	q.rx_ring_full = ls.rx_ring_full;
	q.fill_ring_empty = ls.rx_fill_ring_empty_descs;
	q.cpu = w->cpu;
	q.thread_cpu_ns = w->run_cpu_ns;
	size_t sz = out->sz < sizeof(q) ? out->sz : sizeof(q);
	memcpy(out, &q, sz);
	out->sz = sz;
	return OFFRX_SUCCESS;
}

/* --- link operations --------------------------------------------------------------------- */

static void wire_shutdown(struct offrx_engine *eng)
{
	struct wire *w = eng->link_priv;
	tcp_rx_abort_all(w->tcp); /* peers get an RST rather than a silent engine */
	if (w->link) /* NULL when the link failed to open inside offrx_engine_create() */
		xsk_link_tx_flush(w->link);
}

static void wire_destroy(struct offrx_engine *eng)
{
	struct wire *w = eng->link_priv;
	if (!w)
		return;
	tcp_rx_destroy(w->tcp);
	/* Detaching the XDP program needs the capabilities a dropped thread kept permitted. */
	uint64_t eff = privs_raise(&w->privs);
	if (w->link)
		napi_restore(w);
	xsk_link_close(w->link);
	privs_restore(eff);
	if (w->mq) {
		free(w->inbox.buf);
		pthread_mutex_destroy(&w->inbox.lock);
		w->mq->w[w->shard] = NULL;
	}
	if (w->mq && w->shard == 0) { /* the first shard is freed last */
		for (uint32_t b = 0; b < FLOW_BUCKETS; b++)
			while (w->mq->buckets[b]) {
				struct flow_ent *e = w->mq->buckets[b];
				w->mq->buckets[b] = e->next;
				free(e);
			}
		pthread_mutex_destroy(&w->mq->lock);
		free(w->mq);
	}
	free(w);
	eng->link_priv = NULL;
}

static uint32_t wire_drops(const struct offrx_engine *eng, const char **names, uint64_t *counts,
			   uint32_t max)
{
	static char pkt_names[PKT_DROP__COUNT][40], tcp_names[TCP_DROP__COUNT][40];
	const struct wire *w = eng->link_priv;
	uint32_t n = 0;
#define PUT(name, value)                     \
	do {                                 \
		if (n < max) {               \
			names[n] = (name);   \
			counts[n] = (value); \
		}                            \
		n++;                         \
	} while (0)
	for (int i = 1; i < PKT_DROP__COUNT; i++) {
		snprintf(pkt_names[i], sizeof(pkt_names[i]), "pkt.%s", pkt_drop_str(i));
		PUT(pkt_names[i], w->pdrops.n[i]);
	}
	struct tcp_rx_stats ts;
	tcp_rx_stats(w->tcp, &ts);
	for (int i = 1; i < TCP_DROP__COUNT; i++) {
		snprintf(tcp_names[i], sizeof(tcp_names[i]), "tcp.%s", tcp_drop_str(i));
		PUT(tcp_names[i], ts.drops[i]);
	}
	struct xsk_link_stats ls;
	xsk_link_stats(w->link, &ls);
	PUT("link.fault_dropped", ls.fault_dropped);
	/* Not a drop: counted here so that runs can report the faults they injected. */
	PUT("link.fault_reordered", ls.fault_reordered);
	PUT("link.tx_full", ls.tx_full + w->tx_errors);
	/* Not a drop either: frames of a connection of another queue, handed to it. */
	PUT("mq.moved", w->moved_out);
	PUT("xsk.rx_dropped", ls.rx_dropped);
	PUT("xsk.rx_ring_full", ls.rx_ring_full);
	PUT("xsk.rx_fill_ring_empty", ls.rx_fill_ring_empty_descs);
	PUT("xsk.rx_invalid_descs", ls.rx_invalid_descs);
	PUT("xsk.tx_invalid_descs", ls.tx_invalid_descs);
#undef PUT
	return n;
}

static bool wire_map_read_ok(void *ctx)
{
	struct xsk_link_stats ls;
	return xsk_link_stats(ctx, &ls) != -EPERM;
}

int offrx_engine_drop_privileges(struct offrx_engine *eng, uint32_t flags)
{
	if (!eng || eng->link != &wire_link_ops || flags)
		return OFFRX_INVALID_PARAMETER;
	struct wire *w = eng->link_priv;
	if (w->privs.dropped)
		return OFFRX_SUCCESS;
	char msg[320];
	uint64_t teardown = 1ull << CAP_NET_ADMIN;
	if (xsk_link_detach_needs_sys_admin(w->link))
		teardown |= 1ull << CAP_SYS_ADMIN;
	if (privs_drop(&w->privs, teardown, wire_map_read_ok, w->link, msg, sizeof(msg))) {
		logf_(w, 0, "dropping privileges: %s", msg);
		return OFFRX_INVALID_STATE;
	}
	logf_(w, 2, "%s", msg);
	return OFFRX_SUCCESS;
}

static void wire_names(const struct offrx_conn *conn, char *local, char *remote, size_t len)
{
	tcp_rx_conn_names(conn, local, remote, len);
}

static void wire_info(const struct offrx_conn *conn, struct link_conn_info *out)
{
	tcp_rx_conn_info(conn, out);
	out->queue = ((const struct wire *)conn->eng->link_priv)->queue;
}

static const struct link_ops wire_link_ops = {
	.name = "wire",
	.flush_ack = tcp_rx_flush_ack,
	.conn_free = tcp_rx_conn_free,
	.shutdown = wire_shutdown,
	.destroy = wire_destroy,
	.drops = wire_drops,
	.names = wire_names,
	.info = wire_info,
};

int offrx_engine_info(const struct offrx_engine *eng, struct offrx_engine_info *out)
{
	if (!eng || !out || eng->link != &wire_link_ops ||
	    out->sz < offsetof(struct offrx_engine_info, rcv_wnd_max) + sizeof(out->rcv_wnd_max))
		return OFFRX_INVALID_PARAMETER;
	const struct wire *w = eng->link_priv;
	struct offrx_engine_info in = w->info;
	in.nqueues = eng->shards ? eng->nshards : 1;
	for (uint32_t i = 0; i < in.nqueues; i++) {
		const struct offrx_engine *s = eng->shards ? eng->shards[i] : eng;
		in.zerocopy += xsk_link_zerocopy(((const struct wire *)s->link_priv)->link);
	}
	size_t sz = out->sz < sizeof(in) ? out->sz : sizeof(in);
	memcpy(out, &in, sz);
	out->sz = sz;
	return OFFRX_SUCCESS;
}

/* --- creation ---------------------------------------------------------------------------- */

/* The share of the link's burst a window chosen by the engine fills: the rest is margin for
 * segments shorter than full (a sender's odd writes, retransmissions) and for frames of other
 * connections. */
#define WND_BURST_NUM 7
#define WND_BURST_DEN 8

/* The receive window cap (rcv_wnd_max): the application's, or, when it left it 0, the most
 * that fits WND_BURST_NUM/WND_BURST_DEN of the frames the link holds in one burst, each
 * frame carrying the least payload a full segment may: MTU less IPv6 and TCP headers and the
 * timestamp option. Says what it chose in w->info and in one info line. Link options that
 * xsk_link_open() will refuse leave the cap as given: the open says what is wrong. */
static void window_choose(struct wire *w, uint32_t rcv_wnd_max, const struct xsk_link_opts *lo,
			  int mtu, bool say)
{
	struct offrx_engine_info *in = &w->info;
	struct xsk_link_burst b;
	in->sz = sizeof(*in);
	in->rcv_wnd_max = rcv_wnd_max;
	if (xsk_link_burst(lo, &b))
		return;
	in->burst_frames = b.frames;
	snprintf(w->driver, sizeof(w->driver), "%s", b.driver);
	if (rcv_wnd_max) {
		in->rcv_wnd_max = rcv_wnd_max;
		snprintf(in->rcv_wnd_why, sizeof(in->rcv_wnd_why),
			 "%u bytes, as set (rcv_wnd_max); the link holds %u frames (%s)",
			 rcv_wnd_max, b.frames, b.what);
	} else {
		uint32_t payload = (uint32_t)mtu - 40 - 20 - 12;
		uint32_t frames = b.frames * WND_BURST_NUM / WND_BURST_DEN;
		in->rcv_wnd_auto = 1;
		in->rcv_wnd_max = (frames ? frames : 1) * payload;
		snprintf(in->rcv_wnd_why, sizeof(in->rcv_wnd_why),
			 "%u bytes, chosen for the link: %u segments of %u bytes, %u/%u of %s; "
			 "rcv_wnd_max (offrx-recv --window) sets another",
			 in->rcv_wnd_max, frames, payload, WND_BURST_NUM, WND_BURST_DEN, b.what);
	}
	if (say)
		logf_(w, 2, "%s: receive window at most %s", w->ifname, in->rcv_wnd_why);
}

static int iface_mtu(const char *ifname)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	int rc = ioctl(fd, SIOCGIFMTU, &ifr) ? -errno : ifr.ifr_mtu;
	close(fd);
	return rc;
}

/* What every shard of one engine shares from the options, checked once. */
struct shard_common {
	const struct offrx_engine_opts *opts, *later;
	int mtu;
	uint32_t n;
	struct wire_mq *mq;    /* NULL for one queue */
	struct xsk_link *prog; /* the first shard's link, which attached the program */
};

/* One shard: the wire state, an engine, TCP and the link on one queue (index of c->n). Returns
 * OFFRX_SUCCESS and *out, or a status with nothing left (for the first shard of several, the
 * directory c->mq goes too). */
static int shard_create(const struct shard_common *c, uint32_t queue, int32_t cpu, uint32_t index,
			struct offrx_engine **out)
{
	const struct offrx_engine_opts *opts = c->opts;
	struct wire *w = calloc(1, sizeof(*w));
	if (!w)
		return OFFRX_RESOURCES;
	w->log = opts->log ? opts->log : default_log;
	w->log_user = opts->user;
	snprintf(w->ifname, sizeof(w->ifname), "%s", opts->ifname);
	memcpy(w->ports, opts->ports, opts->nports * sizeof(uint16_t));
	w->nports = opts->nports;
	w->parse_flags = opts->no_csum_verify ? PKT_PARSE_NO_TCP_CSUM | PKT_PARSE_NO_IP4_CSUM : 0;
	w->queue = queue;
	w->cpu = cpu;
	w->shard = index;

	struct offrx_engine *eng;
	int err = engine_create_traced(opts, &wire_link_ops, mono_ns, NULL, offrx_trace_default(),
				       &eng);
	if (err) {
		logf_(w, 0, "engine options refused (%s)", strerror(-err));
		free(w);
		if (c->mq && index == 0)
			free(c->mq);
		return err == -ENOMEM ? OFFRX_RESOURCES : OFFRX_INVALID_PARAMETER;
	}
	eng->link_priv = w;
	if (c->mq) {
		w->mq = c->mq;
		c->mq->w[index] = w;
		pthread_mutex_init(&w->inbox.lock, NULL);
		engine_shard_init(eng, index, c->n);
		w->inbox.buf = malloc((size_t)INBOX_SLOTS * INBOX_FRAME);
		if (!w->inbox.buf) {
			logf_(w, 0, "out of memory for queue %u's hand-over inbox", queue);
			goto out_eng;
		}
	}

	struct xsk_link_opts lo = {
		.sz = sizeof(lo),
		.ifname = w->ifname,
		.queue = queue,
		.ports = w->ports,
		.nports = w->nports,
		.frames = opts->umem_frames,
		.xdp_mode =
			opts->xdp_mode == OFFRX_XDP_SKB ? XSK_LINK_MODE_SKB : XSK_LINK_MODE_NATIVE,
		.busy_poll = opts->busy_poll != 0,
		.fault_drop_pct = opts->fault_drop_pct,
		.fault_reorder_pct = opts->fault_reorder_pct,
		.fault_seed = opts->fault_seed + index,
		.share_prog = c->prog,
	};
	window_choose(w, c->later->rcv_wnd_max, &lo, c->mtu, index == 0);

	struct tcp_rx_cfg tc = {
		.ports = w->ports,
		.nports = w->nports,
		.mss = (uint16_t)(c->mtu - 40),
		.max_conns = eng->max_conns,
		.max_halfopen = opts->max_halfopen,
		.delack_ns = opts->delack_ns,
		.idle_ns = opts->idle_ns,
		.ooo_max = opts->ooo_bytes,
		.wnd_max = w->info.rcv_wnd_max,
		.xmit = wire_xmit,
		.xmit_ctx = w,
		.flow = c->mq ? wire_flow : NULL,
		.foreign = c->mq ? wire_foreign : NULL,
	};
	err = tcp_rx_create(&tc, eng, &w->tcp);
	if (err) {
		logf_(w, 0, "cannot set up TCP state: %s", strerror(-err));
		goto out_eng;
	}

	char why[256] = "";
	err = xsk_link_open(&lo, &w->link, why, sizeof(why));
	if (err) {
		logf_(w, 0, "%s", why[0] ? why : strerror(-err));
		goto out_eng;
	}
	*out = eng;
	return OFFRX_SUCCESS;

out_eng:
	offrx_engine_destroy(eng, NULL); /* wire_destroy frees w (and the first shard's mq) */
	return OFFRX_RESOURCES;
}

/* opts.queues (or opts.queue) and opts.cpus, checked: the count, or 0 with the reason logged. */
static uint32_t queues_check(struct wire *lw, const struct offrx_engine_opts *later,
			     const uint32_t **queues)
{
	uint32_t n = later->nqueues ? later->nqueues : 1;
	*queues = later->nqueues ? later->queues : &later->queue;
	if (later->nqueues && (!later->queues || later->nqueues > OFFRX_MAX_QUEUES)) {
		logf_(lw, 0, "nqueues is %u with queues %s: give 1 to %d queues", later->nqueues,
		      later->queues ? "set" : "NULL", OFFRX_MAX_QUEUES);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < i; k++)
			if ((*queues)[i] == (*queues)[k]) {
				logf_(lw, 0, "queue %u is listed twice in queues: list each once",
				      (*queues)[i]);
				return 0;
			}
	if (later->ncpus && (later->ncpus != n || !later->cpus)) {
		logf_(lw, 0,
		      "ncpus is %u for %u queues: give one CPU per queue (-1: not pinned), or none",
		      later->ncpus, n);
		return 0;
	}
	for (uint32_t i = 0; i < later->ncpus; i++)
		if (later->cpus[i] >= CPU_SETSIZE) {
			logf_(lw, 0, "cpus[%u] is %d: past the %d CPUs a cpu_set_t holds", i,
			      later->cpus[i], CPU_SETSIZE);
			return 0;
		}
	return n;
}

int offrx_engine_create(const struct offrx_engine_opts *opts, struct offrx_engine **out)
{
	if (!opts || !out || opts->sz < offsetof(struct offrx_engine_opts, log) + sizeof(opts->log))
		return OFFRX_INVALID_PARAMETER;
	*out = NULL;
	/* The fields past log, added since, only as far as the caller's struct has them (the
	 * rest stay 0: their defaults); read them from here. */
	struct offrx_engine_opts later = { 0 };
	memcpy(&later, opts, opts->sz < sizeof(later) ? opts->sz : sizeof(later));
	struct wire *lw = calloc(1, sizeof(*lw)); /* for the log, until there are shards */
	if (!lw)
		return OFFRX_RESOURCES;
	lw->log = opts->log ? opts->log : default_log;
	lw->log_user = opts->user;
	int ret = OFFRX_INVALID_PARAMETER;
	if (!opts->ifname || !opts->ifname[0] || strlen(opts->ifname) >= IF_NAMESIZE) {
		logf_(lw, 0, "no interface given (or a name longer than %d bytes): set ifname",
		      IF_NAMESIZE - 1);
		goto out_lw;
	}
	if (!opts->ports || !opts->nports || opts->nports > MAX_PORTS) {
		logf_(lw, 0, "give between 1 and %d local ports to accept connections on (got %u)",
		      MAX_PORTS, opts->nports);
		goto out_lw;
	}
	if (later.napi_threaded > OFFRX_NAPI_LEAVE) {
		logf_(lw, 0,
		      "napi_threaded is %u; use OFFRX_NAPI_AUTO (0), OFFRX_NAPI_THREADED (1) or "
		      "OFFRX_NAPI_LEAVE (2)",
		      later.napi_threaded);
		goto out_lw;
	}
	const uint32_t *queues;
	uint32_t n = queues_check(lw, &later, &queues);
	if (!n)
		goto out_lw;
	int mtu = iface_mtu(opts->ifname);
	if (mtu < 0) {
		logf_(lw, 0, "interface %s: %s (is it in this network namespace?)", opts->ifname,
		      strerror(-mtu));
		goto out_lw;
	}
	if (mtu < 576 || mtu > 3500) {
		logf_(lw, 0,
		      "interface %s has MTU %d; offrx supports 576 to 3500 (AF_XDP frames on veth "
		      "are capped near 3500 bytes)",
		      opts->ifname, mtu);
		goto out_lw;
	}

	struct shard_common c = { .opts = opts, .later = &later, .mtu = mtu, .n = n };
	struct offrx_engine *eng, **sh = NULL;
	if (n == 1) {
		ret = shard_create(&c, queues[0], later.ncpus ? later.cpus[0] : -1, 0, &eng);
		if (ret != OFFRX_SUCCESS)
			goto out_lw;
	} else {
		c.mq = calloc(1, sizeof(*c.mq));
		sh = calloc(n, sizeof(*sh));
		ret = OFFRX_RESOURCES;
		if (!c.mq || !sh) {
			free(c.mq);
			free(sh);
			goto out_lw;
		}
		pthread_mutex_init(&c.mq->lock, NULL);
		c.mq->n = n;
		for (uint32_t i = 0; i < n; i++) {
			ret = shard_create(&c, queues[i], later.ncpus ? later.cpus[i] : -1, i,
					   &sh[i]);
			if (ret != OFFRX_SUCCESS) {
				if (i == 0) { /* it took the directory with it */
					free(sh);
					goto out_lw;
				}
				for (uint32_t k = 0; k < i; k++) {
					sh[k]->shards = sh;
					sh[k]->nshards = i;
				}
				offrx_engine_destroy(sh[0], NULL); /* frees sh */
				goto out_lw;
			}
			if (i == 0)
				c.prog = ((struct wire *)sh[0]->link_priv)->link;
		}
		for (uint32_t i = 0; i < n; i++) {
			sh[i]->shards = sh;
			sh[i]->nshards = n;
		}
		eng = sh[0];
	}
	struct wire *w = eng->link_priv;
	napi_setup(w, later.napi_threaded);
	if (n > 1) {
		char list[OFFRX_MAX_QUEUES * 16] = "";
		size_t len = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct wire *wi = sh[i]->link_priv;
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u (%s)",
						i ? ", " : "", wi->queue,
						xsk_link_zerocopy(wi->link) ? "zero-copy" : "copy");
		}
		logf_(w, 2, "%s: receiving on %u queues, one thread each: %s", w->ifname, n, list);
	} else {
		/* Said either way: which mode a queue got is the first question on a real NIC. */
		logf_(w, 2, "%s: queue %u bound in %s", w->ifname, w->queue,
		      xsk_link_zerocopy(w->link) ? "zero-copy mode"
						 : "copy mode (the driver has no AF_XDP zero-copy "
						   "here, as on a veth)");
	}
	free(lw);
	*out = eng;
	return OFFRX_SUCCESS;

out_lw:
	free(lw);
	return ret;
}
