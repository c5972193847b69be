/* --verify: checks a trace against the Chimney receive rules of docs/SEMANTICS.md and lists
 * each violation with its connection, request, time and rule ID. It rebuilds every queue from
 * the events, like tests/trace/check_trace.py, but streaming (connections are forgotten when
 * they close). Where the tracer lost events, a connection's checks pause from the start of the
 * loss until its next conn_state snapshot, and violations found inside a loss window are not
 * counted: the verdict covers the windows without loss, and says so. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fifo.h"

#define VIOL_KEEP     10000 /* violations listed one by one; the rest are counted */
#define OUTSTAND_LIST 20    /* connections listed one by one under "outstanding" */
#define NOT_ACCEPTED  3	    /* indicate result: the engine kept its buffers (R20) */

struct vreq {
	uint64_t id;
	uint32_t len, base, fills; /* base: prefill, or the fill a snapshot reported */
	bool no_push, from_post;   /* from_post: every fill of it was seen */
};

struct vconn {
	struct oex_ckey k;
	struct oex_fifo q; /* requests in posting order */
	bool synced;	   /* conn_open or a snapshot seen: the queue is known */
	bool tainted;	   /* events may be missing: checks wait for a snapshot */
	bool base_at_post; /* synced on an empty snapshot: ids before the next post unknown */
	bool closed, disconnected;
	int64_t tainted_since;
	uint64_t base_id;    /* requests up to this id were posted before we could see them */
	uint64_t max_posted; /* highest id posted */
	/* R10: the last expiry, until new data or a new timer */
	bool expired;
	uint64_t exp_deadline, exp_req;
	/* R19: the current completion call */
	bool call_known;
	uint32_t call_count, call_seen;
	int64_t call_ns;
	/* R22/R23 */
	int64_t ind_out;
	uint64_t handback_returns;
	uint64_t posted, completed;
};

struct viol {
	const char *rule;
	uint64_t vpid, conn, req;
	int64_t ts_ns;
	uint64_t ts_raw;
	char msg[200];
};

struct verify {
	struct oex_ctab conns;
	struct viol *v;
	size_t nv, capv;
	uint64_t violations, suppressed, unverifiable;
	uint64_t conns_seen, conns_closed, posts, completes, expiries, calls, indications, returns;
	/* outstanding at the end, for the report */
	uint64_t out_conns, out_reqs, out_bufs, unverified_conns;
};

/* --- the queue ---------------------------------------------------------------------------- */

static struct vreq *q_at(struct vconn *c, uint32_t i)
{
	return oex_fifo_at(&c->q, i);
}

static int q_push(struct vconn *c, const struct vreq *r)
{
	return oex_fifo_push(&c->q, r, sizeof(*r));
}

/* The queued request id, oldest first (FIFO: almost always the head); -1 if not queued. */
static int64_t q_find(struct vconn *c, uint64_t id)
{
	return oex_fifo_find(&c->q, id);
}

static void q_remove(struct vconn *c, uint32_t at)
{
	oex_fifo_remove(&c->q, at);
}

static void vconn_free(void *rec)
{
	oex_fifo_free(&((struct vconn *)rec)->q);
}

/* --- violations --------------------------------------------------------------------------- */

static bool checking(const struct vconn *c)
{
	return c->synced && !c->tainted;
}

static void violation(struct oex_writer *w, struct vconn *c, const struct otr_event *ev,
		      const char *rule, uint64_t req, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void violation(struct oex_writer *w, struct vconn *c, const struct otr_event *ev,
		      const char *rule, uint64_t req, const char *fmt, ...)
{
	struct verify *vf = w->priv;
	struct viol *v;
	va_list ap;

	if (!c->synced)
		return; /* seen from its middle: what came before is unknown, not wrong */
	if (c->tainted) {
		vf->suppressed++;
		return;
	}
	vf->violations++;
	if (vf->nv == vf->capv) {
		size_t cap = vf->capv ? vf->capv * 2 : 64;
		if (cap > VIOL_KEEP || !(v = realloc(vf->v, cap * sizeof(*v))))
			return; /* counted, not listed */
		vf->v = v;
		vf->capv = cap;
	}
	v = &vf->v[vf->nv++];
	v->rule = rule;
	v->vpid = c->k.vpid;
	v->conn = c->k.conn;
	v->req = req;
	v->ts_ns = ev->ts_ns;
	v->ts_raw = ev->ts_raw;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

/* Events were lost from from_ns on: what was found since may be their shadow. */
static void loss(struct oex_writer *w, int64_t from_ns)
{
	struct verify *vf = w->priv;
	struct vconn *c;
	size_t pos = 0;

	while (vf->nv && vf->v[vf->nv - 1].ts_ns >= from_ns) {
		vf->nv--;
		vf->violations--;
		vf->suppressed++;
	}
	while ((c = oex_ctab_next(&vf->conns, &pos)))
		if (!c->closed && !c->tainted) {
			c->tainted = true;
			c->tainted_since = from_ns;
		}
}

/* --- events ------------------------------------------------------------------------------- */

static void on_post(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	struct vreq r = {
		.id = ev->req,
		.len = ev->u.post.buf_len,
		.base = ev->u.post.prefill,
		.no_push = ev->u.post.no_push,
		.from_post = true,
	};

	vf->posts++;
	c->posted++;
	if (c->base_at_post) {
		c->base_id = ev->req - 1;
		c->base_at_post = false;
	}
	if (q_find(c, ev->req) >= 0)
		violation(w, c, ev, "R17", ev->req, "posted again while still queued");
	else if (ev->req <= c->max_posted && ev->req > c->base_id)
		violation(w, c, ev, "R17", ev->req,
			  "posted with the id of an earlier request (highest so far %" PRIu64 ")",
			  c->max_posted);
	if (ev->req > c->max_posted)
		c->max_posted = ev->req;
	if (q_push(c, &r))
		c->tainted = true; /* out of memory: stop judging this connection */
}

static void on_fill(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	int64_t at = q_find(c, ev->req);

	c->expired = false; /* new data: a later push_timer completion needs a new expiry */
	if (at < 0) {
		if (ev->req > c->base_id)
			violation(w, c, ev, "R03", ev->req,
				  "%u bytes placed in a request that is not queued",
				  ev->u.fill.bytes);
		return;
	}
	for (uint32_t i = 0; i < (uint32_t)at; i++) {
		struct vreq *e = q_at(c, i);
		if (e->base + e->fills < e->len) {
			violation(w, c, ev, "R03", ev->req,
				  "bytes placed here while req %" PRIu64
				  ", posted earlier, holds only %u of %u bytes",
				  e->id, e->base + e->fills, e->len);
			break;
		}
	}
	q_at(c, (uint32_t)at)->fills += ev->u.fill.bytes;
}

static void on_timer(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	int64_t at;

	switch (ev->kind) {
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
		at = q_find(c, ev->req);
		if (at >= 0 && q_at(c, (uint32_t)at)->no_push)
			violation(w, c, ev, "R11", ev->req,
				  "the push timer runs for a no-push request (%s)",
				  otr_kind_name(ev->kind));
		c->expired = false;
		break;
	case OTR_TIMER_CANCEL:
		c->expired = false;
		break;
	default:
		vf->expiries++;
		if (ev->ts_raw < ev->u.timer.deadline_ns)
			violation(w, c, ev, "R10", ev->req,
				  "the push timer expired %" PRIu64
				  " ns before its deadline (raw %" PRIu64 " < %" PRIu64 ")",
				  ev->u.timer.deadline_ns - ev->ts_raw, ev->ts_raw,
				  ev->u.timer.deadline_ns);
		c->expired = true;
		c->exp_deadline = ev->u.timer.deadline_ns;
		c->exp_req = ev->req;
		break;
	}
}

static void on_call(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->calls++;
	if (c->call_known && c->call_seen < c->call_count)
		violation(w, c, ev, "R19", 0,
			  "a completion call (count %u) began before the previous one ended: "
			  "that one announced %u and had delivered %u",
			  ev->u.call.count, c->call_count, c->call_seen);
	c->call_known = true;
	c->call_count = ev->u.call.count;
	c->call_seen = 0;
	c->call_ns = ev->ts_ns;
}

static void on_complete(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	int reason = ev->u.complete.reason;
	uint32_t bytes = ev->u.complete.bytes, placed = ev->u.complete.placed;
	struct vreq r;
	int64_t at;

	vf->completes++;
	c->completed++;
	if (c->call_known && ++c->call_seen > c->call_count)
		violation(w, c, ev, "R19", ev->req,
			  "completion number %u of a call that announced %u (nested or "
			  "unannounced completion)",
			  c->call_seen, c->call_count);

	at = q_find(c, ev->req);
	if (at < 0) {
		if (!checking(c) || ev->req <= c->base_id) {
			vf->unverifiable++;
		} else if (ev->req <= c->max_posted) {
			violation(w, c, ev, "R17", ev->req, "completed a second time (%s, %s)",
				  otr_complete_reason_name(reason),
				  otr_status_name(ev->u.complete.status));
		} else {
			violation(w, c, ev, "R17", ev->req, "completed but never posted (%s, %s)",
				  otr_complete_reason_name(reason),
				  otr_status_name(ev->u.complete.status));
		}
		return;
	}
	r = *q_at(c, (uint32_t)at);
	if (at > 0)
		violation(w, c, ev, "R14", ev->req,
			  "completed while req %" PRIu64
			  ", posted earlier, is still queued (FIFO order, R03/R14)",
			  q_at(c, 0)->id);
	q_remove(c, (uint32_t)at);

	/* R15: the bytes it reports are the bytes placed in it. */
	if (r.from_post && (placed != r.fills || bytes != r.base + placed))
		violation(w, c, ev, "R15", ev->req,
			  "reports %u bytes (%u placed) but its fills placed %u after a prefill "
			  "of %u",
			  bytes, placed, r.fills, r.base);
	else if (!r.from_post && bytes != r.base + r.fills)
		violation(w, c, ev, "R15", ev->req,
			  "reports %u bytes but held %u at the last snapshot and %u more were "
			  "placed since",
			  bytes, r.base, r.fills);

	/* R11: a no-push request completes full, or on abort, disconnect, upload, invalid state. */
	if (r.no_push) {
		if (reason == OTR_CR_PSH || reason == OTR_CR_PUSH_TIMER)
			violation(w, c, ev, "R11", ev->req,
				  "a no-push request completed by %s with %u of %u bytes",
				  otr_complete_reason_name(reason), bytes, r.len);
		else if (reason == OTR_CR_FILLED && bytes < r.len)
			violation(w, c, ev, "R11", ev->req,
				  "a no-push request completed as filled with %u of %u bytes",
				  bytes, r.len);
	}

	/* R10: a push_timer completion comes after an expiry, at or after its deadline. */
	if (reason == OTR_CR_PUSH_TIMER && !r.no_push) {
		if (!c->expired)
			violation(
				w, c, ev, "R10", ev->req,
				"completed by push_timer with no push_timer_expire since its last "
				"data");
		else if (ev->ts_raw < c->exp_deadline)
			violation(w, c, ev, "R10", ev->req,
				  "completed by push_timer %" PRIu64
				  " ns before the deadline (raw %" PRIu64 " < %" PRIu64 ")",
				  c->exp_deadline - ev->ts_raw, ev->ts_raw, c->exp_deadline);
	}
}

static void on_state(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	uint32_t listed = ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
	bool agree = c->q.n == ev->u.state.depth && listed <= c->q.n;

	for (uint32_t i = 0; agree && i < listed; i++) {
		const struct vreq *r = q_at(c, i);
		const struct otr_state_req *s = &ev->u.state.reqs[i];
		agree = r->id == s->id && r->len == s->len && r->base + r->fills == s->fill &&
			r->no_push == s->no_push;
	}
	if (checking(c)) {
		if (!agree)
			violation(w, c, ev, "R03", c->q.n ? q_at(c, 0)->id : 0,
				  "the engine's snapshot lists %u queued requests (first %" PRIu64
				  ") but the events leave %u (first %" PRIu64 ")",
				  ev->u.state.depth, listed ? ev->u.state.reqs[0].id : 0, c->q.n,
				  c->q.n ? q_at(c, 0)->id : 0);
		else if (!c->disconnected && ev->u.state.indicated_out != c->ind_out)
			violation(w, c, ev, "R23", 0,
				  "the engine reports %u indicated buffers out, the indicate and "
				  "return events leave %" PRId64,
				  ev->u.state.indicated_out, c->ind_out);
		if (agree)
			return;
	}
	/* Take the engine's word: the queue, and from here on every check again. */
	oex_fifo_clear(&c->q);
	for (uint32_t i = 0; i < listed; i++) {
		const struct otr_state_req *s = &ev->u.state.reqs[i];
		struct vreq r = {
			.id = s->id, .len = s->len, .base = s->fill, .no_push = s->no_push
		};
		if (q_push(c, &r))
			return;
		if (s->id > c->max_posted)
			c->max_posted = s->id;
	}
	if (ev->u.state.depth > listed) {
		/* More than the snapshot lists: the tail is unknown, so no verdict here. */
		c->synced = false;
		return;
	}
	if (listed) {
		c->base_id = ev->u.state.reqs[0].id - 1;
		c->base_at_post = false;
	} else {
		c->base_at_post = true;
		c->base_id = UINT64_MAX;
	}
	if (!c->disconnected)
		c->ind_out = ev->u.state.indicated_out;
	c->synced = true;
	c->tainted = false;
	c->call_known = false;
	c->expired = false;
}

static void on_close(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->conns_closed++;
	if (c->call_known && c->call_seen != c->call_count)
		violation(w, c, ev, "R19", 0,
			  "the last completion call announced %u and delivered %u", c->call_count,
			  c->call_seen);
	if (c->q.n) {
		const struct vreq *r = q_at(c, 0);
		violation(w, c, ev, "R17", r->id,
			  "%u request%s (req %" PRIu64 "%s) never completed before conn_close",
			  c->q.n, c->q.n > 1 ? "s" : "", r->id, c->q.n > 1 ? " and later" : "");
	}
	c->closed = true;
}

static int verify_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	struct vconn *c;

	switch (ev->kind) {
	case OTR_SEGMENT_PAYLOAD: /* stream bytes (opt-in): no rule is about them */
		return 0;
	case OTR_DISCARDED:
		loss(w, ev->u.discarded.from_ns ? ev->u.discarded.from_ns : w->run->t0_ns);
		return 0;
	case OTR_SOURCE:
		if (ev->u.source.state == OTR_SRC_LOST)
			loss(w, ev->ts_ns);
		return 0;
	case OTR_XSK_STATS:
		return 0;
	case OTR_DROP:
		if (!ev->conn)
			return 0;
		break;
	default:
		break;
	}
	c = oex_ctab_get(&vf->conns, ev->vpid, ev->conn);
	if (!c) {
		if (ev->kind == OTR_RETURN)
			return 0; /* a connection we never saw, or forgot when it closed clean */
		c = oex_ctab_add(&vf->conns, ev->vpid, ev->conn);
		if (!c)
			return -ENOMEM;
		vf->conns_seen++;
	}
	switch (ev->kind) {
	case OTR_CONN_OPEN:
		if (c->posted || c->completed || c->closed) {
			/* The same key again: a new process reused the vpid. */
			vconn_free(c);
			oex_ctab_del(&vf->conns, c);
			c = oex_ctab_add(&vf->conns, ev->vpid, ev->conn);
			if (!c)
				return -ENOMEM;
			vf->conns_seen++;
		}
		c->synced = true;
		break;
	case OTR_POST:
		on_post(w, c, ev);
		break;
	case OTR_FILL:
		on_fill(w, c, ev);
		break;
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE:
		on_timer(w, c, ev);
		break;
	case OTR_COMPLETE_CALL:
		on_call(w, c, ev);
		break;
	case OTR_COMPLETE:
		on_complete(w, c, ev);
		break;
	case OTR_INDICATE:
		vf->indications++;
		if (ev->u.indicate.result != NOT_ACCEPTED)
			c->ind_out += ev->u.indicate.nbufs;
		break;
	case OTR_RETURN:
		vf->returns++;
		if (c->ind_out > 0)
			c->ind_out--;
		else if (c->disconnected)
			c->handback_returns++; /* data a disconnect or upload handed back */
		else
			violation(w, c, ev, "R22", ev->req,
				  "buffer %" PRIu64 " returned while no indicated buffer of this "
				  "connection is out",
				  ev->req);
		break;
	case OTR_DISCONNECT:
		c->disconnected = true;
		break;
	case OTR_CONN_STATE:
		on_state(w, c, ev);
		break;
	case OTR_CONN_CLOSE:
		on_close(w, c, ev);
		break;
	default:
		break;
	}
	/* A closed connection is forgotten, unless it still has buffers out (R22: returns may
	 * follow its close). */
	if (c->closed && c->ind_out <= 0) {
		vconn_free(c);
		oex_ctab_del(&vf->conns, c);
	}
	return 0;
}

static int verify_begin(struct oex_writer *w)
{
	(void)w;
	return 0;
}

static void conn_name(char *buf, size_t len, uint64_t vpid, uint64_t conn)
{
	snprintf(buf, len, "%" PRIu64 ":%" PRIu64, vpid, conn);
}

static int cmp_viol(const void *a, const void *b)
{
	const struct viol *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static int verify_end(struct oex_writer *w)
{
	struct verify *vf = w->priv;
	struct oex_run *run = w->run;
	struct oex_out *o = run->out;
	struct vconn *c;
	size_t pos = 0;
	char line[1024], name[64];
	uint64_t listed = 0;

	snprintf(line, sizeof(line),
		 "offrx-export --verify %s\n"
		 "checked %" PRIu64 " events: connections %" PRIu64 " (%" PRIu64
		 " closed), posts %" PRIu64 ", completions %" PRIu64 " in %" PRIu64
		 " calls, push-timer expiries %" PRIu64 ", indications %" PRIu64
		 ", returns %" PRIu64 "\n",
		 run->input, run->exported, vf->conns_seen, vf->conns_closed, vf->posts,
		 vf->completes, vf->calls, vf->expiries, vf->indications, vf->returns);
	oex_puts(o, line);
	oex_puts(o, "rules: R17 each post completes once, R03/R14 FIFO, R15 bytes, R11 no-push, "
		    "R10 push-timer deadline, R19 no nested calls, R22/R23 indicated buffers\n");

	/* Loss first: it bounds what the rest means. */
	if (run->discarded_events || run->lost_packets || run->nloss_all) {
		snprintf(line, sizeof(line),
			 "LOSS: the tracer discarded %" PRIu64 " events and lost %" PRIu64
			 " packets in %u window%s; checks paused on the connections open then "
			 "until their next conn_state snapshot, and findings there (%" PRIu64
			 ") are not counted. The verdict covers the time outside these windows "
			 "only:\n",
			 run->discarded_events, run->lost_packets, run->nloss_all,
			 run->nloss_all == 1 ? "" : "s", vf->suppressed);
		oex_puts(o, line);
		for (uint32_t i = 0; i < run->nloss; i++) {
			snprintf(line, sizeof(line),
				 "  loss window %+.9f s .. %+.9f s: %" PRIu64 " events, %" PRIu64
				 " packets\n",
				 run->loss[i].from_ns ? oex_rel_s(run, run->loss[i].from_ns) : 0.0,
				 oex_rel_s(run, run->loss[i].to_ns), run->loss[i].count,
				 run->loss[i].packets);
			oex_puts(o, line);
		}
	} else {
		oex_puts(o, "no loss: the verdict covers the whole trace\n");
	}

	/* Outstanding at the end: not violations (the trace ended first). */
	while ((c = oex_ctab_next(&vf->conns, &pos))) {
		if (!c->q.n && c->ind_out <= 0 && (c->synced || c->closed))
			continue;
		conn_name(name, sizeof(name), c->k.vpid, c->k.conn);
		if (!c->closed && !checking(c)) {
			vf->unverified_conns++;
			if (listed++ < OUTSTAND_LIST) {
				snprintf(line, sizeof(line),
					 "  conn %s: not verified since %+.9f s (%s)\n", name,
					 c->tainted ? oex_rel_s(run, c->tainted_since) : 0.0,
					 c->tainted ? "events lost, no snapshot since"
						    : "seen from its middle, no snapshot yet");
				oex_puts(o, line);
			}
			continue;
		}
		if (c->q.n)
			vf->out_conns++;
		vf->out_reqs += c->q.n;
		vf->out_bufs += c->ind_out > 0 ? (uint64_t)c->ind_out : 0;
		if (listed++ < OUTSTAND_LIST) {
			snprintf(line, sizeof(line),
				 "  conn %s%s: %u request%s outstanding%s%" PRIu64 "%s, %" PRId64
				 " indicated buffer%s not returned\n",
				 name, c->closed ? " (closed)" : "", c->q.n, c->q.n == 1 ? "" : "s",
				 c->q.n ? " (req " : "", c->q.n ? q_at(c, 0)->id : 0,
				 c->q.n ? (c->q.n > 1 ? " and later)" : ")") : "",
				 c->ind_out > 0 ? c->ind_out : 0, c->ind_out == 1 ? "" : "s");
			oex_puts(o, line);
		}
	}
	if (listed > OUTSTAND_LIST) {
		snprintf(line, sizeof(line), "  ... and %" PRIu64 " more connections\n",
			 listed - OUTSTAND_LIST);
		oex_puts(o, line);
	}
	snprintf(line, sizeof(line),
		 "outstanding at the end (not violations): %" PRIu64 " requests on %" PRIu64
		 " open connections, %" PRIu64 " indicated buffers; %" PRIu64
		 " connections not verifiable to the end; %" PRIu64
		 " completions of requests posted before the trace\n",
		 vf->out_reqs, vf->out_conns, vf->out_bufs, vf->unverified_conns, vf->unverifiable);
	oex_puts(o, line);

	if (vf->nv)
		qsort(vf->v, vf->nv, sizeof(*vf->v), cmp_viol);
	for (size_t i = 0; i < vf->nv; i++) {
		const struct viol *v = &vf->v[i];
		conn_name(name, sizeof(name), v->vpid, v->conn);
		snprintf(line, sizeof(line),
			 "violation %s conn %s req %" PRIu64 " at %+.9f s (ts_ns %" PRId64
			 ", ts_raw %" PRIu64 "): %s\n",
			 v->rule, name, v->req, oex_rel_s(run, v->ts_ns), v->ts_ns, v->ts_raw,
			 v->msg);
		oex_puts(o, line);
	}
	if (vf->violations > vf->nv) {
		snprintf(line, sizeof(line), "... and %" PRIu64 " more violations\n",
			 vf->violations - vf->nv);
		oex_puts(o, line);
	}
	if (run->end == OEX_END_ERROR) {
		snprintf(line, sizeof(line),
			 "INCOMPLETE: the input failed after %" PRIu64
			 " events (%.900s): the verdict "
			 "covers what was read\n",
			 run->events, run->error);
		oex_puts(o, line);
	} else if (!oex_complete(run)) {
		oex_puts(o, "INCOMPLETE: interrupted before the end of the trace\n");
	}
	if (vf->violations)
		snprintf(line, sizeof(line), "verdict: FAIL, %" PRIu64 " violation%s%s\n",
			 vf->violations, vf->violations == 1 ? "" : "s",
			 run->nloss_all ? " outside the loss windows" : "");
	else
		snprintf(line, sizeof(line), "verdict: OK, no violation%s\n",
			 run->nloss_all ? " outside the loss windows" : "");
	oex_puts(o, line);
	return vf->violations ? OEX_EXIT_VIOLATIONS : 0;
}

static void verify_free(struct oex_writer *w)
{
	struct verify *vf = w->priv;

	if (!vf)
		return;
	oex_ctab_fini(&vf->conns, vconn_free);
	free(vf->v);
	free(vf);
}

static const struct oex_writer_ops verify_ops = {
	.name = "verify",
	.begin = verify_begin,
	.event = verify_event,
	.end = verify_end,
	.free = verify_free,
};

int oex_verify_new(struct oex_writer *w)
{
	struct verify *vf = calloc(1, sizeof(*vf));

	if (!vf)
		return -ENOMEM;
	oex_ctab_init(&vf->conns, sizeof(struct vconn));
	w->ops = &verify_ops;
	w->priv = vf;
	return 0;
}
