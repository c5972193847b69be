/* The what-if replay of one connection: see whatif.h. */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>

#include "whatif.h"

#define WI_REACT_NS 1000000ll /* a post this close after a completion came from its callback */

#define WI_PUSH(arr, n, cap, val)                                        \
	do {                                                             \
		if ((n) == (cap)) {                                      \
			size_t nc_ = (cap) ? (cap)*2 : 64;               \
			void *p_ = realloc((arr), nc_ * sizeof(*(arr))); \
			if (!p_)                                         \
				return -ENOMEM;                          \
			(arr) = p_;                                      \
			(cap) = nc_;                                     \
		}                                                        \
		(arr)[(n)++] = (val);                                    \
	} while (0)
/* --- collecting ---------------------------------------------------------------------------- */

int64_t wi_timer_ms(const struct otr_event *ev)
{
	/* Event set 3 names it in conn_open and conn_state; its starts are mostly derived from
	 * fills, whose deadline may carry a restart of the same fill, so those do not count. */
	uint64_t ns = ev->kind == OTR_CONN_OPEN	   ? ev->u.open.push_timer_ns
		      : ev->kind == OTR_CONN_STATE ? ev->u.state.push_timer_ns
						   : 0;
	if (ns)
		return (int64_t)((ns + 500000) / 1000000);
	if (ev->kind != OTR_TIMER_START || ev->derived || ev->u.timer.deadline_ns <= ev->ts_raw)
		return -1;
	return (int64_t)((ev->u.timer.deadline_ns - ev->ts_raw + 500000) / 1000000);
}

void wi_conn_init(struct wi_conn *c, int64_t t_first)
{
	c->t_first = t_first;
	c->timer_ms = -1;
}

void wi_conn_fini(struct wi_conn *c)
{
	free(c->posts);
	free(c->items);
	free(c->comps);
	c->posts = NULL;
	c->items = NULL;
	c->comps = NULL;
	c->nposts = c->capposts = c->nitems = c->capitems = c->ncomps = c->capcomps = 0;
}

int wi_conn_event(struct wi_conn *c, const struct otr_event *ev)
{
	int64_t t = (int64_t)ev->ts_raw;

	if (ev->kind == OTR_SEGMENT_PAYLOAD)
		return 0; /* stream bytes (opt-in): the replay needs only the queue's events */
	c->t_last = t;
	if (c->timer_ms < 0)
		c->timer_ms = wi_timer_ms(ev); /* a start, or set 3's conn_open or conn_state */
	/* A post right after a completion, with nothing else of the connection between, was
	 * made from the completion callback (offrx-recv reposts there): replay it when the
	 * same request completes, whatever its time then. */
	if (ev->kind != OTR_POST && ev->kind != OTR_COMPLETE && ev->kind != OTR_COMPLETE_CALL)
		c->in_callback = false;

	switch (ev->kind) {
	case OTR_CONN_OPEN:
		c->irs = ev->u.open.isn;
		break;
	case OTR_POST: {
		struct wi_post po = {
			.req = ev->req,
			.t = t,
			.buf_len = ev->u.post.buf_len,
			.prefill = ev->u.post.prefill,
			.no_push = ev->u.post.no_push,
		};
		/* ... unless that request is not replayed (posted before the trace began). */
		if (c->in_callback && t - c->last_comp_t <= WI_REACT_NS && c->first_req &&
		    c->last_comp_req >= c->first_req)
			po.trigger = c->last_comp_req;
		if (!c->first_req)
			c->first_req = ev->req;
		WI_PUSH(c->posts, c->nposts, c->capposts, po);
		if (!po.trigger) {
			struct wi_item it = { .kind = WI_POST, .t = t, .post = c->nposts - 1 };
			WI_PUSH(c->items, c->nitems, c->capitems, it);
		}
		break;
	}
	case OTR_FILL: {
		struct wi_item *last = c->nitems ? &c->items[c->nitems - 1] : NULL;
		if (!c->first_req || ev->req < c->first_req)
			break; /* its request was posted before the trace (or window) began */
		/* One segment spread over several requests: fills with one timestamp and
		 * contiguous sequence numbers are one arrival; PSH sits on its last byte. */
		if (last && last->kind == WI_ARRIVAL && last->t == t &&
		    last->seq_end == ev->u.fill.seq) {
			last->bytes += ev->u.fill.bytes;
			last->seq_end = ev->u.fill.seq + ev->u.fill.bytes;
			last->psh = ev->u.fill.psh;
		} else {
			struct wi_item it = { .kind = WI_ARRIVAL,
					      .t = t,
					      .bytes = ev->u.fill.bytes,
					      .seq_end = ev->u.fill.seq + ev->u.fill.bytes,
					      .psh = ev->u.fill.psh };
			WI_PUSH(c->items, c->nitems, c->capitems, it);
		}
		break;
	}
	case OTR_DISCONNECT: {
		struct wi_item it = { .kind = WI_DISCONNECT, .t = t, .reason = ev->u.close.reason };
		WI_PUSH(c->items, c->nitems, c->capitems, it);
		break;
	}
	case OTR_TIMER_START:
		break; /* its value: below */
	case OTR_TIMER_EXPIRE:
		c->expire_req = ev->req;
		c->expire_late = ev->ts_raw > ev->u.timer.deadline_ns
					 ? (int64_t)(ev->ts_raw - ev->u.timer.deadline_ns)
					 : 0;
		break;
	case OTR_COMPLETE_CALL:
		c->calls++;
		break;
	case OTR_COMPLETE: {
		struct wi_comp cp = {
			.req = ev->req,
			.t = t,
			.reason = ev->u.complete.reason,
			.status = ev->u.complete.status,
			.bytes = ev->u.complete.bytes,
			.p2c = (int64_t)ev->u.complete.post_to_complete_ns,
			.lf2c = ev->u.complete.last_fill_to_complete_ns,
			.late = ev->u.complete.reason == OTR_CR_PUSH_TIMER &&
						c->expire_req == ev->req
					? c->expire_late
					: -1,
		};
		c->in_callback = true;
		c->last_comp_t = t;
		c->last_comp_req = ev->req;
		if (c->first_req && ev->req >= c->first_req)
			WI_PUSH(c->comps, c->ncomps, c->capcomps, cp);
		break;
	}
	case OTR_INDICATE:
		c->indicated += ev->u.indicate.consumed;
		break;
	default:
		break;
	}
	return 0;
}

/* --- replaying ----------------------------------------------------------------------------- */

static int wi_cmp_react(const void *a, const void *b, void *ctx)
{
	const struct wi_post *posts = ctx;
	uint64_t x = posts[*(const size_t *)a].trigger, y = posts[*(const size_t *)b].trigger;

	if (x != y)
		return x < y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void wi_post_one(struct wi_replay *r, size_t i)
{
	const struct wi_post *po = &r->c->posts[i];
	struct wi_slot *s = &r->slots[i];
	uint32_t len = po->buf_len + po->prefill; /* buf_len is data_len at post */

	if (s->seg.base)
		return;
	s->seg.base = calloc(1, len ? len : 1);
	if (!s->seg.base) {
		r->oom = true;
		return;
	}
	s->seg.len = len;
	offrx_req_init(&s->req, &s->seg, 1, i);
	s->req.data_len = po->buf_len;
	s->req.bytes_transferred = po->prefill;
	s->req.flags = po->no_push ? OFFRX_REQ_NO_PUSH : 0;
	offrx_post_recv(r->conn, &s->req);
}

static void wi_on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	struct wi_replay *r = ctx;
	const struct wi_post *posts = r->c->posts;

	(void)conn;
	while (reqs) {
		struct offrx_recv_req *q = reqs;
		uint64_t id = posts[q->cookie].req; /* the recorded id (triggers are those) */
		size_t lo = 0, hi = r->nreact;

		reqs = q->next;
		free(r->slots[q->cookie].seg.base);
		r->slots[q->cookie].seg.base = NULL;
		if (r->done)
			continue;
		while (lo < hi) { /* the first callback post this completion triggers */
			size_t mid = (lo + hi) / 2;
			if (posts[r->react[mid]].trigger < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < r->nreact && posts[r->react[lo]].trigger == id; lo++)
			wi_post_one(r, r->react[lo]);
	}
}

/* Indicated data is taken whole, as offrx-recv does, and returned after the call. */
static int wi_on_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
			  uint64_t *consumed, void *ctx)
{
	struct wi_replay *r = ctx;
	struct offrx_ind_buf *last = bufs;

	(void)conn;
	while (last->next)
		last = last->next;
	last->next = r->to_return;
	r->to_return = bufs;
	*consumed = total;
	return OFFRX_SUCCESS;
}

static void wi_on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	struct wi_replay *r = ctx;

	(void)conn;
	if (r && ev->held) {
		struct offrx_ind_buf *last = ev->held;
		while (last->next)
			last = last->next;
		last->next = r->to_return;
		r->to_return = ev->held;
	}
}

static void wi_on_new(struct offrx_conn *conn, void *user)
{
	offrx_conn_set_context(conn, user);
}

static void wi_observe(const struct offrx_event *ev, void *ctx)
{
	struct wi_replay *r = ctx;

	if (r->done)
		return;
	if (ev->kind == OFFRX_E_COMPLETE_CALL) {
		r->calls++;
		return;
	}
	if (ev->kind != OFFRX_E_COMPLETE)
		return;
	if (r->ncomps == r->capcomps) {
		size_t nc = r->capcomps ? r->capcomps * 2 : 64;
		void *p = realloc(r->comps, nc * sizeof(*r->comps));
		if (!p) {
			r->oom = true;
			return;
		}
		r->comps = p;
		r->capcomps = nc;
	}
	/* The replay numbers its posts from 1, the recording from the first one replayed (a
	 * window that starts in the middle of a connection): the same order, offset. */
	r->comps[r->ncomps++] = (struct wi_comp){
		.req = ev->req_id + (r->c->first_req ? r->c->first_req - 1 : 0),
		.t = (int64_t)ev->ts_ns + r->base,
		.reason = (int)ev->reason,
		.status = ev->status,
		.bytes = (uint32_t)ev->bytes,
		.p2c = (int64_t)(ev->ts_ns - ev->t_post_ns),
		.lf2c = ev->t_last_fill_ns && ev->total ? (int64_t)(ev->ts_ns - ev->t_last_fill_ns)
							: -1,
	};
}

static void wi_return(struct wi_replay *r)
{
	if (r->to_return) {
		offrx_return_indicated(r->eng, r->to_return);
		r->to_return = NULL;
	}
}

static void wi_goto(struct wi_replay *r, int64_t t)
{
	uint64_t v = (uint64_t)(t - r->base), now = offrx_mem_now(r->eng);

	if (v > now)
		offrx_mem_advance(r->eng, v - now);
	wi_return(r);
}

/* Replay one connection with one push timer; the completions land in r->comps. */
int wi_replay_conn(const struct wi_conn *c, uint64_t timer_ns, struct wi_replay *r)
{
	static const struct offrx_callbacks cbs = {
		.conn_new = wi_on_new,
		.recv_complete = wi_on_complete,
		.recv_indicate = wi_on_indicate,
		.conn_event = wi_on_event,
	};
	struct offrx_engine_opts o = {
		.sz = sizeof(o),
		.push_timer_ns = timer_ns,
		.cb = &cbs,
		.user = r,
		.observer = wi_observe,
		.observer_ctx = r,
		.observer_mask =
			OFFRX_EVENT_BIT(OFFRX_E_COMPLETE) | OFFRX_EVENT_BIT(OFFRX_E_COMPLETE_CALL),
		.max_conns = 1,
	};
	uint8_t *data = NULL;
	size_t datacap = 0;
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->c = c;
	/* Whole seconds before the first event: the wheel keeps the trace's millisecond phase. */
	r->base = (c->t_first / 1000000000ll - 1) * 1000000000ll;
	if (r->base < 0)
		r->base = 0;
	r->slots = calloc(c->nposts ? c->nposts : 1, sizeof(*r->slots));
	r->react = calloc(c->nposts ? c->nposts : 1, sizeof(*r->react));
	if (!r->slots || !r->react)
		goto out;
	for (size_t i = 0; i < c->nposts; i++)
		if (c->posts[i].trigger)
			r->react[r->nreact++] = i;
	qsort_r(r->react, r->nreact, sizeof(*r->react), wi_cmp_react, c->posts);
	if (offrx_mem_engine_create(&o, &r->eng) != OFFRX_SUCCESS) {
		ret = -EINVAL;
		goto out;
	}
	offrx_mem_set_time(r->eng, (uint64_t)(c->t_first - r->base));
	if (offrx_mem_conn_open(r->eng, c->irs, &r->conn) != OFFRX_SUCCESS) {
		ret = -EINVAL;
		goto out_eng;
	}
	for (size_t i = 0; i < c->nitems && !r->oom; i++) {
		const struct wi_item *it = &c->items[i];

		wi_goto(r, it->t);
		switch (it->kind) {
		case WI_POST:
			wi_post_one(r, it->post);
			break;
		case WI_ARRIVAL:
			if (it->bytes > datacap) {
				free(data);
				datacap = it->bytes;
				if (!(data = calloc(1, datacap))) {
					r->oom = true;
					break;
				}
			}
			offrx_mem_deliver(r->conn, data, it->bytes, it->psh ? OFFRX_MEM_PSH : 0);
			break;
		case WI_DISCONNECT:
			if (it->reason == OFFRX_CLOSE_RST)
				offrx_mem_rst(r->conn);
			else if (it->reason == OFFRX_CLOSE_UPLOAD)
				offrx_conn_upload(r->conn);
			else
				offrx_mem_fin(r->conn);
			break;
		}
		wi_return(r);
	}
	/* Let the timers still running fire: past the trace's end, as the real run would. */
	offrx_mem_advance(r->eng, 2 * timer_ns + 1000000000ull);
	wi_return(r);
	ret = r->oom ? -ENOMEM : 0;
	r->done = true; /* destroying aborts what is left: not part of the prediction */
out_eng:
	if (offrx_engine_destroy(r->eng, NULL) != OFFRX_SUCCESS) {
		wi_return(r); /* the abort handed back held data: return it, then again */
		offrx_engine_destroy(r->eng, NULL);
	}
out:
	free(data);
	if (r->slots)
		for (size_t i = 0; i < c->nposts; i++)
			free(r->slots[i].seg.base);
	free(r->slots);
	free(r->react);
	r->slots = NULL;
	r->react = NULL;
	return ret;
}

/* --- summing up ---------------------------------------------------------------------------- */

int wi_stats_add(struct wi_stats *s, const struct wi_comp *cp, size_t n, uint64_t calls,
		 double seconds)
{
	if (!s->p2c && !(s->p2c = otr_hist_new()))
		return -ENOMEM;
	if (!s->lf2c && !(s->lf2c = otr_hist_new()))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)cp[i].reason < OFFRX_COMPLETE_REASONS)
			s->by[cp[i].reason]++;
		s->completed++;
		if (otr_hist_record(s->p2c, cp[i].p2c > 0 ? (uint64_t)cp[i].p2c : 0, false))
			return -ENOMEM;
		if (cp[i].lf2c >= 0 && otr_hist_record(s->lf2c, (uint64_t)cp[i].lf2c, false))
			return -ENOMEM;
	}
	s->calls += calls;
	s->seconds += seconds;
	return 0;
}

void wi_stats_free(struct wi_stats *s)
{
	otr_hist_free(s->p2c);
	otr_hist_free(s->lf2c);
	memset(s, 0, sizeof(*s));
}

static int64_t wi_p99(const struct otr_hist *h)
{
	return h && otr_hist_count(h) ? (int64_t)otr_hist_percentile(h, 99) : -1;
}

int whatif_replay_conn(const struct wi_conn *c, uint64_t timer_ns, struct wi_result *out)
{
	struct wi_replay r;
	struct wi_stats s = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	out->p2c_p99_ns = out->lf2c_p99_ns = -1;
	ret = wi_replay_conn(c, timer_ns, &r);
	if (!ret)
		ret = wi_stats_add(&s, r.comps, r.ncomps, r.calls, 0);
	free(r.comps);
	if (ret) {
		wi_stats_free(&s);
		return ret;
	}
	out->completed = s.completed;
	out->filled = s.by[OTR_CR_FILLED];
	out->psh = s.by[OTR_CR_PSH];
	out->by_timer = s.by[OTR_CR_PUSH_TIMER];
	out->data_completed = out->filled + out->psh + out->by_timer;
	out->timer_share =
		out->data_completed ? (double)out->by_timer / (double)out->data_completed : 0;
	out->p2c_p99_ns = wi_p99(s.p2c);
	out->lf2c_p99_ns = wi_p99(s.lf2c);
	wi_stats_free(&s);
	return 0;
}
