/* The queue model (model.h): connections in an open-addressed hash keyed by (vpid, conn), each
 * with its queue in a ring ordered by request id (ids grow in posting order, so a lookup is an
 * offset from the head or a binary search), windowed counters for the rates, lazily allocated
 * histograms and a ring of recent completions. Every event is O(1) but for a discard or a
 * lost source, which marks every connection suspect, and a conn_state that disagrees. */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIN_SLOTS 10 /* a window is 10 slots: rates are exact to a tenth of it */
#define QUEUE_MIN 8
#define TAB_MIN	  64

#define container_of(p, T, m) ((T *)((char *)(p)-offsetof(T, m)))

enum { CR_BYTES, CR_COMPL, CR__N };				  /* per-connection rate window */
enum { HZ_LOST, HZ_PT, HZ_ALL, HZ__N };				  /* push-timer horizon window */
enum { TR_EVENTS, TR_BYTES, TR_BY, TR__N = TR_BY + OTR_REASONS }; /* model rate window */
enum { QR_BYTES, QR_COMPL, QR__N };				  /* per-queue rate window */

struct win {
	int64_t epoch[WIN_SLOTS]; /* the slot number each slot holds; INT64_MIN: empty */
	int64_t cur_lo, cur_hi;	  /* the times of the slot written last: no division */
	uint32_t cur;
};

struct conn_priv {
	struct otr_conn pub;
	struct conn_priv *prev, *next;	 /* all connections, oldest first */
	struct conn_priv *cprev, *cnext; /* closed ones, in closing order */
	struct otr_req *q;		 /* ring of pub.depth requests from qhead */
	uint32_t qhead, qcap;		 /* qcap: a power of two */
	struct otr_completion *rc;	 /* recent completions */
	uint32_t rc_cap, rc_pos;	 /* rc_pos: next slot written */
	struct win rate_w, hz_w;
	uint64_t rate_v[WIN_SLOTS][CR__N], hz_v[WIN_SLOTS][HZ__N];
	int qi; /* its queue's index in otr_model.queues; -1: not known yet */
};

struct queue_priv {
	struct otr_queue pub; /* the counters and the last xsk_stats; rates on demand */
	struct win rate_w;
	uint64_t rate_v[WIN_SLOTS][QR__N];
	int64_t first_ts_ns; /* its first xsk_stats with a thread CPU time */
	uint64_t first_cpu_ns;
};

/* A slot holds its key, so a probe reads the table alone, not every connection it passes
 * (at 10,000 connections each of those was a cache miss). c NULL: empty. */
struct tab_slot {
	uint64_t vpid, id;
	struct conn_priv *c;
};

struct otr_model {
	struct otr_model_opts o;
	struct tab_slot *tab; /* open addressing, linear probing, load <= 1/2 */
	size_t tab_cap;
	struct conn_priv *first, *last, *cfirst, *clast, *cache;
	bool ever_suspect;
	struct otr_model_totals t; /* counters; the rates are computed on demand */
	struct win rate_w, hz_w;
	uint64_t rate_v[WIN_SLOTS][TR__N], hz_v[WIN_SLOTS][HZ__N];
	struct otr_hist *hist[OTR_LAT__COUNT][OTR_HC__COUNT];
	struct otr_event last_xsk, last_disc, last_src;
	struct queue_priv queues[OTR_QUEUES_MAX]; /* in the order first seen */
	uint32_t nqueues;
};

/* --- windows ------------------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return a % b < 0 ? q - 1 : q;
}

static void win_init(struct win *w)
{
	for (int i = 0; i < WIN_SLOTS; i++)
		w->epoch[i] = INT64_MIN;
	w->cur_lo = w->cur_hi = INT64_MIN;
}

/* The values of the slot holding time ts, emptied first if it held an older slot. */
static uint64_t *win_slot(struct win *w, uint64_t *v, unsigned nv, int64_t span, int64_t ts)
{
	if (ts >= w->cur_lo && ts < w->cur_hi)
		return v + (size_t)w->cur * nv;
	int64_t width = span / WIN_SLOTS, n = floor_div(ts, width);
	int s = (int)(n - floor_div(n, WIN_SLOTS) * WIN_SLOTS);
	uint64_t *vals = v + (size_t)s * nv;
	if (w->epoch[s] != n) {
		if (w->epoch[s] > n)
			return NULL; /* time went back more than a window: drop it */
		w->epoch[s] = n;
		memset(vals, 0, nv * sizeof(*vals));
	}
	w->cur = (uint32_t)s;
	w->cur_lo = n * width;
	w->cur_hi = w->cur_lo + width;
	return vals;
}

static void win_add(struct win *w, uint64_t *v, unsigned nv, int64_t span, int64_t ts, unsigned k,
		    uint64_t add)
{
	uint64_t *vals = win_slot(w, v, nv, span, ts);
	if (vals)
		vals[k] += add;
}

/* Sums over the slots of the window ending at now; returns the seconds they cover. */
static double win_sum(const struct win *w, const uint64_t *v, unsigned nv, int64_t span,
		      int64_t now, uint64_t *sum)
{
	int64_t width = span / WIN_SLOTS, n = floor_div(now, width);
	memset(sum, 0, nv * sizeof(*sum));
	for (int s = 0; s < WIN_SLOTS; s++)
		if (w->epoch[s] <= n && w->epoch[s] > n - WIN_SLOTS)
			for (unsigned k = 0; k < nv; k++)
				sum[k] += v[(size_t)s * nv + k];
	/* The current slot has run only from its start to now. */
	int64_t covered = (WIN_SLOTS - 1) * width + (now - n * width) + 1;
	return (double)covered / 1e9;
}

/* --- the connection table ----------------------------------------------------------------- */

static uint64_t key_hash(uint64_t vpid, uint64_t id)
{
	uint64_t x = vpid * 0x9e3779b97f4a7c15ull ^ id;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static size_t slot_of(const struct otr_model *m, uint64_t vpid, uint64_t id)
{
	size_t mask = m->tab_cap - 1, i = key_hash(vpid, id) & mask;
	while (m->tab[i].c && (m->tab[i].vpid != vpid || m->tab[i].id != id))
		i = (i + 1) & mask;
	return i;
}

static struct conn_priv *lookup(struct otr_model *m, uint64_t vpid, uint64_t id)
{
	struct conn_priv *c = m->cache;
	if (c && c->pub.id == id && c->pub.vpid == vpid)
		return c;
	c = m->tab[slot_of(m, vpid, id)].c;
	if (c)
		m->cache = c;
	return c;
}

static int tab_grow(struct otr_model *m)
{
	size_t cap = m->tab_cap * 2;
	struct tab_slot *old = m->tab, *tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	size_t old_cap = m->tab_cap;
	m->tab = tab;
	m->tab_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].c)
			tab[slot_of(m, old[i].vpid, old[i].id)] = old[i];
	free(old);
	return 0;
}

/* Backward-shift deletion: no tombstones, so lookups stay short under churn. */
static void tab_delete(struct otr_model *m, struct conn_priv *c)
{
	size_t mask = m->tab_cap - 1, i = slot_of(m, c->pub.vpid, c->pub.id), j = i;
	m->tab[i].c = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->tab[j].c)
			break;
		size_t k = key_hash(m->tab[j].vpid, m->tab[j].id) & mask;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			m->tab[i] = m->tab[j];
			m->tab[j].c = NULL;
			i = j;
		}
	}
}

/* --- requests ----------------------------------------------------------------------------- */

static struct otr_req *q_at(const struct conn_priv *c, uint32_t i)
{
	return &c->q[(c->qhead + i) & (c->qcap - 1)];
}

/* Index of request id in the queue, or -1. */
static int64_t q_find(const struct conn_priv *c, uint64_t id)
{
	uint32_t n = c->pub.depth;
	if (!n)
		return -1;
	uint64_t h = q_at(c, 0)->id;
	if (id >= h && id - h < n && q_at(c, (uint32_t)(id - h))->id == id)
		return (int64_t)(id - h); /* ids without gaps: the usual case */
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (q_at(c, mid)->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && q_at(c, lo)->id == id ? (int64_t)lo : -1;
}

/* A ring of at least n slots holding nothing; the caller fills it and sets depth. */
static struct otr_req *q_alloc(uint32_t n, uint32_t *cap)
{
	uint32_t c = QUEUE_MIN;
	while (c < n)
		c *= 2;
	*cap = c;
	return malloc((size_t)c * sizeof(struct otr_req));
}

static int q_make_room(const struct otr_model *m, struct conn_priv *c)
{
	if (c->pub.depth >= m->o.max_queue)
		return -ENOSPC;
	if (c->pub.depth < c->qcap)
		return 0;
	uint32_t cap;
	struct otr_req *q = q_alloc(c->pub.depth + 1, &cap);
	if (!q)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->pub.depth; i++)
		q[i] = *q_at(c, i);
	free(c->q);
	c->q = q;
	c->qcap = cap;
	c->qhead = 0;
	return 0;
}

/* Insert r at index at (0..depth), shifting the later ones back; room is made already. */
static void q_insert(struct conn_priv *c, uint32_t at, const struct otr_req *r)
{
	for (uint32_t i = c->pub.depth; i > at; i--)
		*q_at(c, i) = *q_at(c, i - 1);
	*q_at(c, at) = *r;
	c->pub.depth++;
}

static void q_remove(struct conn_priv *c, uint32_t at)
{
	if (at == 0) {
		c->qhead = (c->qhead + 1) & (c->qcap - 1);
	} else {
		for (uint32_t i = at; i + 1 < c->pub.depth; i++)
			*q_at(c, i) = *q_at(c, i + 1);
	}
	c->pub.depth--;
}

static struct otr_req *q_find_req(const struct conn_priv *c, uint64_t id)
{
	int64_t i = q_find(c, id);
	return i < 0 ? NULL : q_at(c, (uint32_t)i);
}

/* --- connections -------------------------------------------------------------------------- */

static void conn_free(struct conn_priv *c)
{
	for (int l = 0; l < OTR_LAT__COUNT; l++)
		for (int k = 0; k < OTR_HC__COUNT; k++)
			otr_hist_free((struct otr_hist *)c->pub.hist[l][k]);
	free(c->q);
	free(c->rc);
	free(c);
}

static void closed_unlink(struct otr_model *m, struct conn_priv *c)
{
	if (c->pub.state != OTR_CS_CLOSED)
		return;
	*(c->cprev ? &c->cprev->cnext : &m->cfirst) = c->cnext;
	*(c->cnext ? &c->cnext->cprev : &m->clast) = c->cprev;
	m->t.conns_closed--;
}

/* Forget c entirely: table, lists, memory. */
static void conn_drop(struct otr_model *m, struct conn_priv *c)
{
	closed_unlink(m, c);
	*(c->prev ? &c->prev->next : &m->first) = c->next;
	*(c->next ? &c->next->prev : &m->last) = c->prev;
	tab_delete(m, c);
	if (m->cache == c)
		m->cache = NULL;
	m->t.conns--;
	conn_free(c);
}

static void mark_suspect(struct conn_priv *c, int64_t since)
{
	if (c->pub.suspect)
		return;
	c->pub.suspect = true;
	c->pub.suspect_since_ns = since;
}

/* A connection the model has not seen: from conn_open, or attached late ("?" addresses). */
static struct conn_priv *conn_new(struct otr_model *m, const struct otr_event *ev)
{
	if ((m->t.conns + 1) * 2 > m->tab_cap && tab_grow(m))
		return NULL;
	struct conn_priv *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	struct otr_conn *p = &c->pub;
	p->vpid = ev->vpid;
	p->id = ev->conn;
	strcpy(p->local_addr, "?");
	strcpy(p->remote_addr, "?");
	p->state = OTR_CS_OPEN;
	p->open_ns = p->close_ns = p->last_ns = OTR_TS_NONE;
	p->suspect_since_ns = p->last_snapshot_ns = OTR_TS_NONE;
	p->queue = -1;
	c->qi = -1;
	win_init(&c->rate_w);
	win_init(&c->hz_w);
	/* Attached late after a gap: what it did in the gap is unknown. */
	if (ev->kind != OTR_CONN_OPEN && m->ever_suspect)
		mark_suspect(c, ev->ts_ns);
	m->tab[slot_of(m, p->vpid, p->id)] = (struct tab_slot){ p->vpid, p->id, c };
	c->prev = m->last;
	*(m->last ? &m->last->next : &m->first) = c;
	m->last = c;
	m->cache = c;
	m->t.conns++;
	return c;
}

static void conn_close(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	if (c->pub.state == OTR_CS_CLOSED)
		return;
	c->pub.state = OTR_CS_CLOSED;
	c->pub.close_reason = ev->u.close.reason;
	c->pub.close_ns = ev->ts_ns;
	c->pub.stream_bytes = ev->u.close.bytes;
	c->cnext = NULL;
	c->cprev = m->clast;
	*(m->clast ? &m->clast->cnext : &m->cfirst) = c;
	m->clast = c;
	m->t.conns_closed++;
	while (m->t.conns_closed > m->o.max_closed) {
		conn_drop(m, m->cfirst);
		m->t.conns_evicted++;
	}
}

/* --- queues ------------------------------------------------------------------------------- */

/* The index of (vpid, queue) in m->queues, added if new; -1 when OTR_QUEUES_MAX are taken. */
static int queue_index(struct otr_model *m, uint64_t vpid, uint32_t queue)
{
	for (uint32_t i = 0; i < m->nqueues; i++)
		if (m->queues[i].pub.vpid == vpid && m->queues[i].pub.queue == queue)
			return (int)i;
	if (m->nqueues == OTR_QUEUES_MAX)
		return -1;
	struct queue_priv *q = &m->queues[m->nqueues];
	memset(q, 0, sizeof(*q));
	q->pub.vpid = vpid;
	q->pub.queue = queue;
	win_init(&q->rate_w);
	return (int)m->nqueues++;
}

/* The connection runs on queue (its conn_open or conn_state says). */
static void conn_set_queue(struct otr_model *m, struct conn_priv *c, uint32_t queue)
{
	if (c->pub.queue == (int32_t)queue && c->qi >= 0)
		return;
	c->pub.queue = (int32_t)queue;
	c->qi = queue_index(m, c->pub.vpid, queue);
}

/* Add to the queue of c's rate window k, if its queue is known. */
static void queue_add(struct otr_model *m, const struct conn_priv *c, int64_t ts, unsigned k,
		      uint64_t n)
{
	if (c->qi < 0)
		return;
	struct queue_priv *q = &m->queues[c->qi];
	win_add(&q->rate_w, &q->rate_v[0][0], QR__N, m->o.rate_window_ns, ts, k, n);
	if (k == QR_BYTES)
		q->pub.bytes_placed += n;
	else
		q->pub.completed += n;
}

static void on_xsk(struct otr_model *m, const struct otr_event *ev)
{
	int i = queue_index(m, ev->vpid, ev->u.xsk.queue);
	if (i < 0)
		return;
	struct otr_queue *q = &m->queues[i].pub;
	if (!m->queues[i].first_cpu_ns && ev->u.xsk.thread_cpu_ns) {
		m->queues[i].first_ts_ns = ev->ts_ns;
		m->queues[i].first_cpu_ns = ev->u.xsk.thread_cpu_ns;
	}
	int64_t dt = ev->ts_ns - q->xsk_ts_ns;
	bool prev = q->has_xsk && dt > 0;
	q->rx_frames_per_s =
		prev && ev->u.xsk.rx_frames >= q->rx_frames
			? (double)(ev->u.xsk.rx_frames - q->rx_frames) * 1e9 / (double)dt
			: -1;
	q->cpu_share = prev && q->thread_cpu_ns && ev->u.xsk.thread_cpu_ns >= q->thread_cpu_ns
			       ? (double)(ev->u.xsk.thread_cpu_ns - q->thread_cpu_ns) / (double)dt
			       : -1;
	q->fill_ring_empty_new = prev && ev->u.xsk.fill_ring_empty >= q->fill_ring_empty
					 ? (int64_t)(ev->u.xsk.fill_ring_empty - q->fill_ring_empty)
					 : -1;
	q->has_xsk = true;
	q->xsk_ts_ns = ev->ts_ns;
	q->rx_frames = ev->u.xsk.rx_frames;
	q->rx_dropped = ev->u.xsk.rx_dropped;
	q->rx_ring_full = ev->u.xsk.rx_ring_full;
	q->fill_ring_empty = ev->u.xsk.fill_ring_empty;
	q->thread_cpu_ns = ev->u.xsk.thread_cpu_ns;
}

/* --- events ------------------------------------------------------------------------------- */

static void set_addr(char *dst, const char *src)
{
	size_t n = strnlen(src, OTR_ADDR_LEN - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int on_open(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	/* The same key again: a new process reused the vpid, or a connection seen before its
	 * conn_open only through later events (cannot happen in order, but costs nothing). */
	if (c && c->pub.open_ns != OTR_TS_NONE) {
		conn_drop(m, c);
		c = NULL;
	}
	if (!c && !(c = conn_new(m, ev)))
		return -ENOMEM;
	struct otr_conn *p = &c->pub;
	set_addr(p->local_addr, ev->u.open.local_addr);
	set_addr(p->remote_addr, ev->u.open.remote_addr);
	p->local_port = ev->u.open.local_port;
	p->remote_port = ev->u.open.remote_port;
	p->mss = ev->u.open.mss;
	conn_set_queue(m, c, ev->u.open.queue);
	p->open_ns = ev->ts_ns;
	p->last_ns = ev->ts_ns;
	p->events++;
	if (!p->depth)
		p->synced = true; /* seen from its start */
	return 0;
}

static int on_post(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	struct otr_conn *p = &c->pub;
	struct otr_req r = {
		.id = ev->req,
		.len = ev->u.post.buf_len,
		.fill = ev->u.post.prefill,
		.prefill = ev->u.post.prefill,
		.no_push = ev->u.post.no_push,
		.post_ns = ev->ts_ns,
		.first_fill_ns = ev->u.post.prefill ? ev->ts_ns : OTR_TS_NONE,
		.last_fill_ns = OTR_TS_NONE,
	};
	p->posted++;
	struct otr_req *same = q_find_req(c, r.id);
	if (same) { /* a placeholder from a snapshot, or the post seen twice */
		*same = r;
		return 0;
	}
	int err = q_make_room(m, c);
	if (err) {
		p->overflow++;
		p->synced = false;
		return err == -ENOSPC ? 0 : err;
	}
	uint32_t at = p->depth;
	while (at && q_at(c, at - 1)->id > r.id)
		at--; /* ids grow in posting order: only a resync puts later ones before */
	q_insert(c, at, &r);
	return 0;
}

static void unknown(struct otr_model *m, struct conn_priv *c)
{
	c->pub.unknown++;
	m->t.unknown++;
}

static void count_bytes(struct otr_model *m, struct conn_priv *c, int64_t ts, uint64_t n)
{
	win_add(&c->rate_w, &c->rate_v[0][0], CR__N, m->o.rate_window_ns, ts, CR_BYTES, n);
	win_add(&m->rate_w, &m->rate_v[0][0], TR__N, m->o.rate_window_ns, ts, TR_BYTES, n);
	queue_add(m, c, ts, QR_BYTES, n);
}

static void on_fill(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	struct otr_conn *p = &c->pub;
	p->bytes_placed += ev->u.fill.bytes;
	m->t.bytes_placed += ev->u.fill.bytes;
	p->psh_fills += ev->u.fill.psh;
	count_bytes(m, c, ev->ts_ns, ev->u.fill.bytes);
	struct otr_req *r = q_find_req(c, ev->req);
	if (!r) {
		unknown(m, c);
		return;
	}
	/* The first byte is the one that found the request empty (a resync may not know when
	 * bytes already in it came). */
	if (r->first_fill_ns == OTR_TS_NONE && ev->u.fill.total == ev->u.fill.bytes)
		r->first_fill_ns = ev->ts_ns;
	r->last_fill_ns = ev->ts_ns;
	r->fill = ev->u.fill.total;
	r->len = ev->u.fill.buf_len;
	r->flags &= (uint8_t)~OTR_REQ_PLACEHOLDER; /* its length and fill are known now */
}

static void timer_set(struct otr_model *m, struct conn_priv *c, uint64_t req, uint64_t deadline)
{
	struct otr_req *r;
	if (c->pub.timer_req && (r = q_find_req(c, c->pub.timer_req)))
		r->deadline_ns = 0;
	c->pub.timer_req = deadline ? req : 0;
	c->pub.timer_deadline_ns = deadline;
	if (deadline && req) {
		if ((r = q_find_req(c, req)))
			r->deadline_ns = deadline;
		else
			unknown(m, c);
	}
}

static void on_timer(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	struct otr_conn *p = &c->pub;
	switch (ev->kind) {
	case OTR_TIMER_START:
		p->timer_starts++;
		timer_set(m, c, ev->req, ev->u.timer.deadline_ns);
		break;
	case OTR_TIMER_RESTART:
		p->timer_restarts++;
		timer_set(m, c, ev->req, ev->u.timer.deadline_ns);
		break;
	case OTR_TIMER_CANCEL:
		p->timer_cancels++;
		timer_set(m, c, 0, 0);
		break;
	default:
		p->timer_expiries++;
		timer_set(m, c, 0, 0);
		break;
	}
}

static void recent_push(struct otr_model *m, struct conn_priv *c, const struct otr_completion *e)
{
	uint32_t max = m->o.recent;
	if (!max)
		return;
	/* Grow while not wrapped (rc_pos == count until the ring reaches max). */
	if (c->rc_pos == c->rc_cap && c->rc_cap < max) {
		uint32_t cap = c->rc_cap ? c->rc_cap * 2 : 4;
		if (cap > max)
			cap = max;
		struct otr_completion *rc = realloc(c->rc, cap * sizeof(*rc));
		if (!rc) {
			m->t.nomem++;
			return;
		}
		c->rc = rc;
		c->rc_cap = cap;
	}
	if (c->rc_pos == c->rc_cap)
		c->rc_pos = 0; /* full at max: overwrite the oldest */
	c->rc[c->rc_pos++] = *e;
	if (c->pub.recent_count < c->rc_cap)
		c->pub.recent_count++;
}

static int record(struct otr_hist **slot, uint64_t v, bool suspect)
{
	if (!*slot && !(*slot = otr_hist_new()))
		return -ENOMEM;
	return otr_hist_record(*slot, v, suspect);
}

static int record_lat(struct otr_model *m, struct conn_priv *c, enum otr_lat l, int cls, uint64_t v,
		      bool suspect)
{
	struct otr_hist **ch = (struct otr_hist **)&c->pub.hist[l][0];
	int err = record(&ch[OTR_HC_ALL], v, suspect) | record(&m->hist[l][OTR_HC_ALL], v, suspect);
	if (cls != OTR_HC_ALL)
		err |= record(&ch[cls], v, suspect) | record(&m->hist[l][cls], v, suspect);
	return err ? -ENOMEM : 0;
}

static void hz_count(uint64_t *slot, bool push_timer, uint64_t lost)
{
	if (!slot)
		return;
	slot[HZ_ALL]++;
	slot[HZ_PT] += push_timer;
	slot[HZ_LOST] += lost;
}

static int on_complete(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	struct otr_conn *p = &c->pub;
	int reason = ev->u.complete.reason;
	int ri = reason > 0 && reason < OTR_REASONS ? reason : 0;
	int cls = ri >= OTR_CR_FILLED && ri <= OTR_CR_PUSH_TIMER ? ri : OTR_HC_ALL;
	struct otr_completion e = {
		.req = ev->req,
		.ts_ns = ev->ts_ns,
		.status = ev->u.complete.status,
		.reason = reason,
		.bytes = ev->u.complete.bytes,
		.placed = ev->u.complete.placed,
		.post_ns = ev->u.complete.post_to_complete_ns,
		.first_byte_ns = -1,
		.last_fill_ns = ev->u.complete.last_fill_to_complete_ns,
		.suspect = p->suspect,
	};
	int64_t at = q_find(c, ev->req);
	if (at >= 0) {
		const struct otr_req *r = q_at(c, (uint32_t)at);
		if (r->first_fill_ns != OTR_TS_NONE && ev->ts_ns >= r->first_fill_ns)
			e.first_byte_ns = ev->ts_ns - r->first_fill_ns;
		bool guard = p->timer_req == r->id;
		q_remove(c, (uint32_t)at);
		/* Still running: the engine stopped it otherwise (its timer events come before
		 * the completion is handed up), so it now guards the next request. */
		if (guard)
			timer_set(m, c, p->depth ? q_at(c, 0)->id : 0, p->timer_deadline_ns);
	} else {
		/* Its latencies are in the event itself, so they still count. */
		e.unknown = true;
		unknown(m, c);
	}
	p->completed++;
	p->completed_by[ri]++;
	p->errors += e.status < 0;
	p->bytes_completed += e.bytes;
	m->t.completed++;
	m->t.completed_by[ri]++;
	if (e.suspect) {
		p->suspect_completions++;
		m->t.suspect_completions++;
	}

	int err = record_lat(m, c, OTR_LAT_POST, cls, e.post_ns, e.suspect);
	if (e.first_byte_ns >= 0)
		err |= record_lat(m, c, OTR_LAT_FIRST_BYTE, cls, (uint64_t)e.first_byte_ns,
				  e.suspect);
	if (e.last_fill_ns >= 0)
		err |= record_lat(m, c, OTR_LAT_LAST_FILL, cls, (uint64_t)e.last_fill_ns,
				  e.suspect);
	recent_push(m, c, &e);

	int64_t ts = ev->ts_ns, rw = m->o.rate_window_ns, hz = m->o.lost_horizon_ns;
	win_add(&c->rate_w, &c->rate_v[0][0], CR__N, rw, ts, CR_COMPL, 1);
	queue_add(m, c, ts, QR_COMPL, 1);
	win_add(&m->rate_w, &m->rate_v[0][0], TR__N, rw, ts, TR_BY + (unsigned)ri, 1);
	uint64_t *hc = win_slot(&c->hz_w, &c->hz_v[0][0], HZ__N, hz, ts);
	uint64_t *hm = win_slot(&m->hz_w, &m->hz_v[0][0], HZ__N, hz, ts);
	bool pt = reason == OTR_CR_PUSH_TIMER;
	uint64_t lost = pt && e.last_fill_ns > 0 ? (uint64_t)e.last_fill_ns : 0;
	hz_count(hc, pt, lost);
	hz_count(hm, pt, lost);
	return err ? -ENOMEM : 0;
}

static void on_indicate(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	struct otr_conn *p = &c->pub;
	p->indications++;
	p->indicated_bytes += ev->u.indicate.offered;
	p->consumed_bytes += ev->u.indicate.consumed;
	count_bytes(m, c, ev->ts_ns, ev->u.indicate.consumed);
	if (ev->u.indicate.result != 3) { /* NOT_ACCEPTED: the engine kept its buffers (R20) */
		p->ind_out_bufs += ev->u.indicate.nbufs;
		p->ind_out_bytes += ev->u.indicate.offered;
	}
}

static void on_return(struct conn_priv *c, const struct otr_event *ev)
{
	struct otr_conn *p = &c->pub;
	p->returned_bufs++;
	p->ind_out_bufs -= p->ind_out_bufs > 0;
	p->ind_out_bytes -= ev->u.ret.bytes < p->ind_out_bytes ? ev->u.ret.bytes : p->ind_out_bytes;
}

static bool snapshot_agrees(const struct conn_priv *c, const struct otr_event *ev)
{
	uint32_t listed = ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
	if (c->pub.depth != ev->u.state.depth || listed > c->pub.depth)
		return false;
	for (uint32_t i = 0; i < listed; i++) {
		const struct otr_req *r = q_at(c, i);
		const struct otr_state_req *s = &ev->u.state.reqs[i];
		if (r->id != s->id || r->len != s->len || r->fill != s->fill ||
		    r->no_push != s->no_push || (r->flags & OTR_REQ_PLACEHOLDER))
			return false;
	}
	return true;
}

/* Take the snapshot's queue, keeping what the model knew of the requests in it. Requests
 * beyond the listed ones are assumed to follow with consecutive ids (ids are given in
 * posting order and only queued posts exist while open); fills and posts correct them. */
static int adopt(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev)
{
	uint32_t listed = ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
	uint32_t n = ev->u.state.depth;
	if (n < listed)
		n = listed;
	if (!listed)
		n = 0; /* nothing to name the requests by */
	if (n > m->o.max_queue) {
		n = m->o.max_queue;
		c->pub.overflow++;
	}
	uint32_t cap;
	struct otr_req *q = q_alloc(n, &cap);
	if (!q)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct otr_state_req *s = &ev->u.state.reqs[i < listed ? i : listed - 1];
		uint64_t id = i < listed ? s->id : s->id + (i - listed + 1);
		const struct otr_req *old = q_find_req(c, id);
		struct otr_req r = {
			.id = id,
			.flags = OTR_REQ_SNAPSHOT,
			.post_ns = OTR_TS_NONE,
			.first_fill_ns = OTR_TS_NONE,
			.last_fill_ns = OTR_TS_NONE,
		};
		if (old && !(old->flags & OTR_REQ_PLACEHOLDER))
			r = *old;
		else if (i >= listed)
			r.flags |= OTR_REQ_PLACEHOLDER;
		if (i < listed) {
			r.len = s->len;
			r.fill = s->fill;
			r.no_push = s->no_push;
		}
		r.deadline_ns = 0;
		q[i] = r;
	}
	free(c->q);
	c->q = q;
	c->qcap = cap;
	c->qhead = 0;
	c->pub.depth = n;
	c->pub.timer_req = 0;
	return 0;
}

static int on_state(struct otr_model *m, struct conn_priv *c, const struct otr_event *ev,
		    bool created)
{
	struct otr_conn *p = &c->pub;
	int err = 0;
	if (created || !snapshot_agrees(c, ev)) {
		err = adopt(m, c, ev);
		p->resyncs++;
		m->t.resyncs++;
	}
	/* The guard is the head: the timer runs for the oldest partly filled request. */
	timer_set(m, c, p->depth ? q_at(c, 0)->id : 0, ev->u.state.deadline_ns);
	p->ind_out_bufs = ev->u.state.indicated_out;
	if (!p->ind_out_bufs)
		p->ind_out_bytes = 0;
	p->held_bytes = ev->u.state.held_bytes;
	p->window = ev->u.state.window;
	p->rcv_nxt = ev->u.state.rcv_nxt;
	p->stream_bytes = ev->u.state.bytes;
	conn_set_queue(m, c, ev->u.state.queue);
	/* Attached after conn_open: the snapshot names the connection (engines since the 4-tuple
	 * was added to conn_state; older traces leave it empty, and "?" stays). */
	if (!strcmp(p->local_addr, "?") && ev->u.state.local_addr[0] &&
	    strcmp(ev->u.state.local_addr, "-")) {
		set_addr(p->local_addr, ev->u.state.local_addr);
		set_addr(p->remote_addr, ev->u.state.remote_addr);
		p->local_port = ev->u.state.local_port;
		p->remote_port = ev->u.state.remote_port;
	}
	p->snapshots++;
	p->last_snapshot_ns = ev->ts_ns;
	if (!err) {
		p->synced = true;
		p->suspect = false;
		p->suspect_since_ns = OTR_TS_NONE;
	}
	return err;
}

static void all_suspect(struct otr_model *m, int64_t since)
{
	m->ever_suspect = true;
	for (struct conn_priv *c = m->first; c; c = c->next)
		if (c->pub.state != OTR_CS_CLOSED)
			mark_suspect(c, since);
}

static int on_conn_event(struct otr_model *m, const struct otr_event *ev)
{
	struct conn_priv *c = lookup(m, ev->vpid, ev->conn);
	bool created = false;
	switch (ev->kind) {
	case OTR_CONN_OPEN:
		return on_open(m, c, ev);
	case OTR_CONN_CLOSE:
	case OTR_RETURN:
	case OTR_DROP:
		/* Not worth a connection of their own: the connection is gone, or the event
		 * does not say which request state it touches. */
		if (!c) {
			if (ev->kind != OTR_DROP)
				m->t.unknown++;
			return 0;
		}
		break;
	default:
		if (!c) {
			if (!(c = conn_new(m, ev)))
				return -ENOMEM;
			created = true;
		}
		break;
	}
	struct otr_conn *p = &c->pub;
	p->events++;
	p->last_ns = ev->ts_ns;
	int err = 0;
	switch (ev->kind) {
	case OTR_CONN_CLOSE:
		conn_close(m, c, ev);
		break;
	case OTR_DISCONNECT:
		if (p->state == OTR_CS_OPEN)
			p->state = OTR_CS_DISCONNECTED;
		p->disc_reason = ev->u.close.reason;
		p->stream_bytes = ev->u.close.bytes;
		break;
	case OTR_POST:
		err = on_post(m, c, ev);
		break;
	case OTR_FILL: {
		struct otr_event rs;
		on_fill(m, c, ev);
		if (otr_fill_restart(ev, &rs)) /* event set 2: the restart rides on the fill */
			on_timer(m, c, &rs);
		break;
	}
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE:
		on_timer(m, c, ev);
		break;
	case OTR_COMPLETE:
		err = on_complete(m, c, ev);
		break;
	case OTR_COMPLETE_CALL:
		p->complete_calls++;
		if (ev->u.call.count > p->max_batch)
			p->max_batch = ev->u.call.count;
		break;
	case OTR_INDICATE:
		on_indicate(m, c, ev);
		break;
	case OTR_RETURN:
		on_return(c, ev);
		break;
	case OTR_CONN_STATE:
		err = on_state(m, c, ev, created);
		break;
	case OTR_DROP:
		p->drops++;
		if (c->qi >= 0)
			m->queues[c->qi].pub.drops++;
		break;
	default:
		break;
	}
	if (err)
		mark_suspect(c, ev->ts_ns);
	return err;
}

int otr_model_feed(struct otr_model *m, const struct otr_event *ev)
{
	struct otr_model_totals *t = &m->t;
	unsigned k = (unsigned)ev->kind < OTR_KIND__COUNT ? (unsigned)ev->kind : OTR_UNKNOWN;
	if (!ev->derived) { /* the trace's events: not those event set 3 leaves to readers */
		t->events++;
		t->events_by_kind[k]++;
	}
	if (t->first_ts_ns == OTR_TS_NONE)
		t->first_ts_ns = ev->ts_ns;
	if (ev->ts_ns > t->last_ts_ns) {
		t->last_ts_ns = ev->ts_ns;
		t->last_ts_raw = ev->ts_raw;
	}
	if (!ev->derived)
		win_add(&m->rate_w, &m->rate_v[0][0], TR__N, m->o.rate_window_ns, ev->ts_ns,
			TR_EVENTS, 1);

	int err = 0;
	switch ((enum otr_kind)k) {
	case OTR_UNKNOWN:
	case OTR_KIND__COUNT:
	case OTR_SEGMENT_PAYLOAD: /* stream bytes (opt-in): nothing in the queue model */
		break;
	case OTR_XSK_STATS:
		m->last_xsk = *ev;
		on_xsk(m, ev);
		break;
	case OTR_DROP:
		t->drops++;
		if (ev->conn)
			err = on_conn_event(m, ev);
		break;
	case OTR_DISCARDED:
		t->discards++;
		t->discarded_events += ev->u.discarded.count;
		t->discarded_packets += ev->u.discarded.packets;
		m->last_disc = *ev;
		all_suspect(m, ev->u.discarded.from_ns && ev->u.discarded.from_ns <= ev->ts_ns
				       ? ev->u.discarded.from_ns
				       : ev->ts_ns);
		break;
	case OTR_SOURCE:
		t->source_state = ev->u.source.state;
		m->last_src = *ev;
		if (ev->u.source.state == OTR_SRC_LOST || ev->u.source.state == OTR_SRC_ERROR) {
			t->source_lost = true;
			all_suspect(m, ev->ts_ns);
		} else if (ev->u.source.state == OTR_SRC_CONNECTED) {
			t->source_lost = false; /* connections stay suspect until their snapshot */
		}
		break;
	default:
		err = on_conn_event(m, ev);
		break;
	}
	if (err)
		t->nomem++;
	return err;
}

/* --- the model ---------------------------------------------------------------------------- */

struct otr_model *otr_model_new(const struct otr_model_opts *o)
{
	struct otr_model_opts d = {
		.sz = sizeof(d),
		.recent = 32,
		.max_closed = 1024,
		.max_queue = 65536,
		.rate_window_ns = 1000000000,
		.lost_horizon_ns = 10000000000,
	};
	if (o) {
		if (!o->sz) {
			errno = EINVAL;
			return NULL;
		}
		struct otr_model_opts in = { 0 };
		memcpy(&in, o, o->sz < sizeof(in) ? o->sz : sizeof(in));
		if (in.recent)
			d.recent = in.recent;
		if (in.max_closed)
			d.max_closed = in.max_closed;
		if (in.max_queue)
			d.max_queue = in.max_queue;
		if (in.rate_window_ns >= WIN_SLOTS)
			d.rate_window_ns = in.rate_window_ns;
		if (in.lost_horizon_ns >= WIN_SLOTS)
			d.lost_horizon_ns = in.lost_horizon_ns;
	}
	struct otr_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->o = d;
	m->tab_cap = TAB_MIN;
	m->tab = calloc(m->tab_cap, sizeof(*m->tab));
	if (!m->tab) {
		free(m);
		return NULL;
	}
	m->t.first_ts_ns = m->t.last_ts_ns = OTR_TS_NONE;
	win_init(&m->rate_w);
	win_init(&m->hz_w);
	return m;
}

void otr_model_free(struct otr_model *m)
{
	if (!m)
		return;
	for (struct conn_priv *c = m->first, *n; c; c = n) {
		n = c->next;
		conn_free(c);
	}
	for (int l = 0; l < OTR_LAT__COUNT; l++)
		for (int k = 0; k < OTR_HC__COUNT; k++)
			otr_hist_free(m->hist[l][k]);
	free(m->tab);
	free(m);
}

size_t otr_model_conns(const struct otr_model *m, const struct otr_conn **out, size_t max)
{
	size_t n = 0;
	for (const struct conn_priv *c = m->first; c && n < max; c = c->next)
		out[n++] = &c->pub;
	return m->t.conns;
}

const struct otr_conn *otr_model_conn(const struct otr_model *m, uint64_t vpid, uint64_t conn)
{
	const struct conn_priv *c = m->tab[slot_of(m, vpid, conn)].c;
	return c ? &c->pub : NULL;
}

static int64_t now_or_last(const struct otr_model *m, int64_t now)
{
	return now != OTR_TS_NONE ? now : m->t.last_ts_ns != OTR_TS_NONE ? m->t.last_ts_ns : 0;
}

static void horizon(const struct otr_model *m, const struct win *w, const uint64_t *v, int64_t now,
		    struct otr_rates *out)
{
	uint64_t s[HZ__N];
	win_sum(w, v, HZ__N, m->o.lost_horizon_ns, now, s);
	out->push_timer_lost_ns = (int64_t)s[HZ_LOST];
	out->completions = s[HZ_ALL];
	out->push_timer_completions = s[HZ_PT];
	out->push_timer_share = s[HZ_ALL] ? (double)s[HZ_PT] / (double)s[HZ_ALL] : 0.0;
}

void otr_model_totals(const struct otr_model *m, int64_t now_ns, struct otr_model_totals *out)
{
	int64_t now = now_or_last(m, now_ns);
	uint64_t s[TR__N];
	*out = m->t;
	double secs = win_sum(&m->rate_w, &m->rate_v[0][0], TR__N, m->o.rate_window_ns, now, s);
	out->events_per_s = (double)s[TR_EVENTS] / secs;
	out->bytes_per_s = (double)s[TR_BYTES] / secs;
	out->completions_per_s = 0;
	for (int r = 0; r < OTR_REASONS; r++) {
		out->completions_per_s_by[r] = (double)s[TR_BY + r] / secs;
		out->completions_per_s += out->completions_per_s_by[r];
	}
	out->conns_open = m->t.conns - m->t.conns_closed;
	horizon(m, &m->hz_w, &m->hz_v[0][0], now, &out->horizon);
	out->horizon.bytes_per_s = out->bytes_per_s;
	out->horizon.completions_per_s = out->completions_per_s;
}

void otr_conn_rates(const struct otr_model *m, const struct otr_conn *pc, int64_t now_ns,
		    struct otr_rates *out)
{
	const struct conn_priv *c = container_of(pc, const struct conn_priv, pub);
	int64_t now = now_or_last(m, now_ns);
	uint64_t s[CR__N];
	double secs = win_sum(&c->rate_w, &c->rate_v[0][0], CR__N, m->o.rate_window_ns, now, s);
	out->bytes_per_s = (double)s[CR_BYTES] / secs;
	out->completions_per_s = (double)s[CR_COMPL] / secs;
	horizon(m, &c->hz_w, &c->hz_v[0][0], now, out);
}

static int queue_cmp(const void *a, const void *b)
{
	const struct otr_queue *x = a, *y = b;
	if (x->vpid != y->vpid)
		return x->vpid < y->vpid ? -1 : 1;
	return x->queue < y->queue ? -1 : x->queue > y->queue;
}

size_t otr_model_queues(const struct otr_model *m, int64_t now_ns, struct otr_queue *out,
			size_t max)
{
	int64_t now = now_or_last(m, now_ns);
	size_t n = m->nqueues < max ? m->nqueues : max;
	for (size_t i = 0; i < m->nqueues; i++) {
		const struct queue_priv *q = &m->queues[i];
		if (i >= n)
			continue;
		uint64_t s[QR__N];
		double secs =
			win_sum(&q->rate_w, &q->rate_v[0][0], QR__N, m->o.rate_window_ns, now, s);
		out[i] = q->pub;
		out[i].bytes_per_s = (double)s[QR_BYTES] / secs;
		out[i].completions_per_s = (double)s[QR_COMPL] / secs;
		out[i].conns = out[i].conns_open = 0;
		int64_t span = q->pub.xsk_ts_ns - q->first_ts_ns;
		out[i].cpu_share_all =
			q->first_cpu_ns && span > 0 && q->pub.thread_cpu_ns >= q->first_cpu_ns
				? (double)(q->pub.thread_cpu_ns - q->first_cpu_ns) / (double)span
				: -1;
	}
	for (const struct conn_priv *c = m->first; c; c = c->next)
		if (c->qi >= 0 && (size_t)c->qi < n) {
			out[c->qi].conns++;
			out[c->qi].conns_open += c->pub.state != OTR_CS_CLOSED;
		}
	qsort(out, n, sizeof(*out), queue_cmp);
	return m->nqueues;
}

const struct otr_hist *otr_model_hist(const struct otr_model *m, enum otr_lat lat,
				      enum otr_hclass cls)
{
	if ((unsigned)lat >= OTR_LAT__COUNT || (unsigned)cls >= OTR_HC__COUNT)
		return NULL;
	return m->hist[lat][cls];
}

const struct otr_event *otr_model_last(const struct otr_model *m, enum otr_kind kind)
{
	const struct otr_event *e = kind == OTR_XSK_STATS   ? &m->last_xsk
				    : kind == OTR_DISCARDED ? &m->last_disc
				    : kind == OTR_SOURCE    ? &m->last_src
							    : NULL;
	return e && e->kind == kind ? e : NULL;
}

const struct otr_req *otr_conn_req(const struct otr_conn *pc, uint32_t i)
{
	const struct conn_priv *c = container_of(pc, const struct conn_priv, pub);
	return i < pc->depth ? q_at(c, i) : NULL;
}

const struct otr_completion *otr_conn_recent(const struct otr_conn *pc, uint32_t i)
{
	const struct conn_priv *c = container_of(pc, const struct conn_priv, pub);
	if (i >= pc->recent_count)
		return NULL;
	uint32_t at = (c->rc_pos + c->rc_cap - 1 - i) % c->rc_cap;
	return &c->rc[at];
}

const char *otr_conn_state_name(enum otr_conn_state s)
{
	switch (s) {
	case OTR_CS_OPEN:
		return "open";
	case OTR_CS_DISCONNECTED:
		return "disconnected";
	case OTR_CS_CLOSED:
		return "closed";
	}
	return "?";
}
