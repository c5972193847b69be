/* --verify: checks a trace against the Chimney receive rules of docs/SEMANTICS.md and lists
 * each violation with its rule ID, connection, request and time. It replays every connection
 * the way the engine runs it (the table "How --verify judges each rule" in SEMANTICS.md): the
 * queue of posted requests, the requests the engine has finished but not yet handed up (with
 * the reason they must come back with), the push timer, the stream position of the next byte
 * the application gets, the upcalls in progress and the indicated buffers that are out.
 * Streaming: connections are forgotten when they close. Where the tracer lost events, a
 * connection's checks pause from the start of the loss until its next conn_state snapshot,
 * and violations found inside a loss window are not counted: the verdict covers the windows
 * without loss, and says so. Traces of engines without complete_end, indicate_call or
 * handback events are judged on what they show; the report names the rules that could not
 * be judged for lack of those events. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fifo.h"

#define VIOL_KEEP     10000 /* violations listed one by one; the rest are counted */
#define OUTSTAND_LIST 20    /* connections listed one by one under "outstanding" */

/* offrx statuses (docs/TRACEPOINTS.md) */
enum {
	ST_SUCCESS = 0,
	ST_PARTIAL = 2,
	ST_NOT_ACCEPTED = 3,
	ST_ABORTED = -1,
	ST_UPLOAD = -2,
	ST_INVALID_STATE = -3,
};
enum { CL_FIN = 1, CL_RST = 2, CL_UPLOAD = 4 };

struct vreq {
	uint64_t id;
	uint32_t len, base, fills; /* base: prefill, or the fill a snapshot reported */
	bool no_push, from_post;   /* from_post: every fill of it was seen */
	uint8_t fin;		   /* finished by the engine: the reason it must come back with */
	uint8_t alt_fin; /* ... or this one (posted between a disconnect and its hand-up) */
	int64_t fin_ns;
	uint64_t fin_deadline; /* finished by an expiry: its deadline (raw clock) */
};

/* What an engine process traces: judged per process, since one trace may hold engines of
 * several versions (per-UID buffers record every engine of the user). */
struct vproc {
	struct conn_key k;
	bool have_end, have_icall, have_handback;
};

struct vbuf {
	uint64_t id; /* an indicated buffer the application holds */
};

enum arrival { ARR_NONE, ARR_FILLING, ARR_SETTLING };

struct vconn {
	struct conn_key k;
	struct vproc *proc;
	struct oex_fifo q;    /* posted, not finished: in posting order */
	struct oex_fifo done; /* finished by the engine, not yet handed up: in order */
	struct oex_fifo bufs; /* indicated buffers out (struct vbuf) */
	bool synced;	      /* conn_open or a snapshot seen: the queue is known */
	bool tainted;	      /* events may be missing: checks wait for a snapshot */
	bool base_at_post;    /* synced on an empty snapshot: ids before the next post unknown */
	bool closed, disconnected, teardown, from_open;
	bool ending; /* disconnected, the application not yet told (no handback event yet) */
	int disc_reason;
	int64_t tainted_since;
	uint64_t base_id;    /* requests up to this id were posted before we could see them */
	uint64_t max_posted; /* highest id posted */
	/* the push timer */
	bool timer_on;
	bool just_cancelled; /* the last event was a push_timer_cancel */
	bool timer_nopush;   /* the last start or restart named a no-push request */
	uint64_t timer_req;
	bool just_expired; /* ... a push_timer_expire: an arrival that found it due follows */
	uint64_t deadline;
	/* an arrival (or a drain) in progress: its fills, then the timer's settling */
	enum arrival arr;
	bool arr_was_running, arr_first_push, arr_restarted, arr_maybe_drain, arr_ran;
	uint64_t arr_req;
	int64_t arr_ns;
	enum otr_kind last_op; /* the last event that was not a fill or a timer event */
	uint64_t pend_r07;     /* a prefilled push request posted with the timer stopped */
	/* the last event was a set-2 fill's restart, and that fill filled its request */
	bool fold_full;
	bool expect_call; /* an arrival or expiry finished requests: their call is next */
	/* upcalls */
	bool call_known, call_open, call_partial;
	uint32_t call_count, call_seen;
	bool in_ind, ind_posted, posts_since_ind, suppressed;
	uint64_t ind_id, ind_offered;
	uint32_t ind_nbufs;
	/* the stream: the sequence of the next byte the application gets */
	bool pos_known;
	uint32_t pos;
	uint64_t delivered;  /* bytes given to the application: placed, consumed, handed back */
	uint64_t kept;	     /* bytes an indication left unconsumed: the engine still holds them */
	int64_t ind_out;     /* buffers out, for old traces and snapshots */
	bool handback_bufs;  /* a hand-back lent buffers whose ids the trace does not name */
	uint64_t max_ind_id; /* the highest buffer id an indication lent this connection */
	struct oex_fifo hb_back; /* ids of hand-back buffers returned (struct vbuf) */
	uint64_t posted, completed;
};

struct viol {
	const char *rule;
	uint64_t vpid, conn, req;
	int64_t ts_ns;
	uint64_t ts_raw;
	char msg[240];
};

struct verify {
	struct oex_ctab conns;
	struct oex_ctab procs; /* struct vproc, by vpid */
	struct viol *v;
	size_t nv, capv;
	uint64_t violations, suppressed, unverifiable;
	uint64_t conns_seen, conns_closed, posts, completes, expiries, calls, indications, returns;
	bool have_end, have_icall, have_handback; /* the engine emits these events */
	/* outstanding at the end, for the report */
	uint64_t out_conns, out_reqs, out_bufs, unverified_conns;
};

/* --- queues ------------------------------------------------------------------------------- */

static struct vreq *q_at(struct oex_fifo *f, uint32_t i)
{
	return oex_fifo_at(f, i);
}

static int q_push(struct oex_fifo *f, const struct vreq *r)
{
	return oex_fifo_push(f, r, sizeof(*r));
}

static void vconn_free(void *rec)
{
	struct vconn *c = rec;
	oex_fifo_free(&c->q);
	oex_fifo_free(&c->done);
	oex_fifo_free(&c->bufs);
	oex_fifo_free(&c->hb_back);
}

static bool q_find_id(struct vconn *c, uint64_t id)
{
	return oex_fifo_find(&c->q, id) >= 0;
}

static uint32_t held(const struct vreq *r)
{
	return r->base + r->fills;
}

/* A push-mode request that holds bytes and is not full: what the push timer is for. */
static bool loaded(const struct vreq *r)
{
	return !r->no_push && held(r) > 0 && held(r) < r->len;
}

static uint32_t n_loaded(struct vconn *c)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->q.n; i++)
		n += loaded(q_at(&c->q, i));
	return n;
}

/* The rule a request finished for this reason keeps by coming back with it. */
static const char *rule_of(int reason)
{
	switch (reason) {
	case OTR_CR_FILLED:
		return "R09";
	case OTR_CR_PSH:
	case OTR_CR_PUSH_TIMER:
		return "R10";
	case OTR_CR_UPLOAD:
		return "R26";
	default:
		return "R25"; /* disconnect, abort after a RST, invalid state */
	}
}

static int status_of(int reason)
{
	switch (reason) {
	case OTR_CR_ABORT:
		return ST_ABORTED;
	case OTR_CR_UPLOAD:
		return ST_UPLOAD;
	case OTR_CR_INVALID_STATE:
		return ST_INVALID_STATE;
	default:
		return ST_SUCCESS;
	}
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

/* --- the engine's moves, replayed --------------------------------------------------------- */

static void finish(struct oex_writer *w, struct vconn *c, uint32_t at, int reason,
		   const struct otr_event *ev)
{
	struct vreq r = *q_at(&c->q, at);

	oex_fifo_remove(&c->q, at);
	r.fin = (uint8_t)reason;
	r.fin_ns = ev->ts_ns;
	r.fin_deadline = reason == OTR_CR_PUSH_TIMER ? ev->u.timer.deadline_ns : 0;
	if (q_push(&c->done, &r)) {
		c->tainted = true; /* out of memory: stop judging this connection */
		c->tainted_since = ev->ts_ns;
	}
	(void)w;
}

/* R09: filled requests at the head complete at once (only from the head: R14). */
static void finish_filled(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	while (c->q.n && held(q_at(&c->q, 0)) >= q_at(&c->q, 0)->len)
		finish(w, c, 0, OTR_CR_FILLED, ev);
}

/* R10: PSH or an expiry completes the leading push-mode requests that hold bytes; a no-push
 * or an empty request stops the run (R11, R14). */
static void finish_pushed(struct oex_writer *w, struct vconn *c, int reason,
			  const struct otr_event *ev)
{
	while (c->q.n) {
		struct vreq *r = q_at(&c->q, 0);
		if (held(r) >= r->len)
			finish(w, c, 0, OTR_CR_FILLED, ev);
		else if (!r->no_push && held(r) > 0)
			finish(w, c, 0, reason, ev);
		else
			break;
	}
}

static void timer_invariant(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	if (!c->timer_on || c->teardown || n_loaded(c))
		return;
	if (c->timer_nopush) {
		violation(w, c, ev, "R11", c->timer_req,
			  "the push timer runs for a no-push request and no push-mode request "
			  "holds bytes");
		c->timer_on = false; /* once */
		return;
	}
	for (uint32_t i = 0; i < c->q.n; i++) {
		struct vreq *r = q_at(&c->q, i);
		if (r->no_push && held(r) > 0 && held(r) < r->len) {
			violation(w, c, ev, "R11", r->id,
				  "the push timer runs while only no-push requests hold bytes "
				  "(this one %u of %u)",
				  held(r), r->len);
			c->timer_on = false; /* once */
			return;
		}
	}
	violation(w, c, ev, "R08", c->q.n ? q_at(&c->q, 0)->id : 0,
		  "the push timer runs though no push-mode request holds bytes");
	c->timer_on = false;
}

/* The fills of one arrival (or drain) are over and the timer has settled: R08, R12. */
static void settle(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	if (c->arr == ARR_NONE)
		return;
	c->arr = ARR_NONE;
	if (c->teardown || c->disconnected)
		return;
	/* A timer started or restarted here and then cancelled was stopped by what followed
	 * (a disconnect or an upload cancels it before its own event). */
	if (!c->timer_on && c->arr_ran)
		return;
	if (!c->timer_on && c->arr_first_push && n_loaded(c)) {
		violation(w, c, ev, "R08", c->arr_req,
			  "the first byte was placed in a push-mode request but the push timer "
			  "did not start");
		return;
	}
	if (!c->arr_maybe_drain && c->done.n)
		c->expect_call = true; /* R09, R10: handed up right after the arrival */
	if (c->arr_maybe_drain || !n_loaded(c))
		return; /* a drain after a post settles without a restart */
	if (!c->timer_on)
		violation(w, c, ev, "R08", c->arr_req,
			  "data arrived for a push-mode request holding bytes but the push timer "
			  "did not start");
	else if (c->arr_was_running && !c->arr_restarted)
		violation(w, c, ev, "R12", c->arr_req,
			  "data arrived while the push timer ran but the timer was not restarted");
}

/* An arrival or an expiry that finished requests hands them up at once: the connection's next
 * engine step is their completion call. Returns true when it was not. */
static bool check_call(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	bool missed = c->expect_call && ev->kind != OTR_COMPLETE_CALL && c->done.n && !c->teardown;

	c->expect_call = false;
	if (missed) {
		const struct vreq *r = q_at(&c->done, 0);
		violation(w, c, ev, rule_of(r->fin), r->id,
			  "finished (%s) %.6f s earlier but not handed back at once: %s came first",
			  otr_complete_reason_name(r->fin), (double)(ev->ts_ns - r->fin_ns) / 1e9,
			  otr_kind_name(ev->kind));
	}
	return missed;
}

/* Before any event that is neither a fill nor a timer event: what the last step owed. */
static void step_over(struct oex_writer *w, struct vconn *c, const struct otr_event *ev, bool fill)
{
	if (c->pend_r07) {
		if (!c->timer_on && !c->disconnected && q_find_id(c, c->pend_r07))
			violation(
				w, c, ev, "R07", c->pend_r07,
				"a push-mode request posted with bytes already in it but the push "
				"timer did not start");
		c->pend_r07 = 0;
	}
	if (fill)
		return;
	if (ev->kind == OTR_DISCONNECT && c->just_cancelled) {
		/* A disconnect or an upload stops the timer before its own event: judge what came
		 * before as if that cancel were not there yet. */
		c->timer_on = true;
		settle(w, c, ev);
		c->timer_on = false;
	} else {
		settle(w, c, ev);
	}
	/* Posts and returns may come from any callback first; an arrival made inside an upcall
	 * of the connection is handed up once that upcall ended. */
	if (ev->kind != OTR_POST && ev->kind != OTR_RETURN && ev->kind != OTR_COMPLETE_END &&
	    ev->kind != OTR_INDICATE && check_call(w, c, ev))
		return;
	if (ev->kind == OTR_DISCONNECT)
		return;
	timer_invariant(w, c, ev);
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
	if (q_find_id(c, ev->req) || oex_fifo_find(&c->done, ev->req) >= 0)
		violation(w, c, ev, "R17", ev->req, "posted again while still queued");
	else if (ev->req <= c->max_posted && ev->req > c->base_id)
		violation(w, c, ev, "R17", ev->req,
			  "posted with the id of an earlier request (highest so far %" PRIu64 ")",
			  c->max_posted);
	if (ev->req > c->max_posted)
		c->max_posted = ev->req;
	if (r.base > r.len)
		violation(w, c, ev, "R15", ev->req, "posted with %u bytes in a %u-byte buffer",
			  r.base, r.len);
	if (c->in_ind)
		c->ind_posted = true;
	c->posts_since_ind = true;
	if (c->disconnected) {
		/* R25: posted after the disconnect: it comes back with INVALID_STATE. */
		r.fin = OTR_CR_INVALID_STATE;
		r.fin_ns = ev->ts_ns;
		/* Before the application was told (its handback event), an engine may complete it
		 * as the queue was: it was outstanding at the indication. */
		if (c->ending)
			r.alt_fin = c->disc_reason == CL_RST	  ? OTR_CR_ABORT
				    : c->disc_reason == CL_UPLOAD ? OTR_CR_UPLOAD
								  : OTR_CR_DISCONNECT;
		if (q_push(&c->done, &r))
			c->tainted = true;
		return;
	}
	c->suppressed = false; /* R21: a post lets refused data out again */
	if (q_push(&c->q, &r)) {
		c->tainted = true; /* out of memory: stop judging this connection */
		return;
	}
	if (loaded(&r) && !c->timer_on && !c->pend_r07)
		c->pend_r07 = r.id; /* R07: the timer starts with the post */
	finish_filled(w, c, ev);
}

static void on_fill(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	uint32_t bytes = ev->u.fill.bytes;
	int64_t at;
	struct vreq *r;

	if (c->arr == ARR_SETTLING && c->fold_full && c->pos_known && ev->u.fill.seq == c->pos) {
		c->arr = ARR_FILLING; /* the same batch, on into the next request (on_timer) */
		/* Those bytes came while the timer ran (the fill before restarted or, in event
		 * set 3, started it): their fill carries their own restart (R12). */
		c->arr_was_running = c->timer_on;
		c->arr_restarted = false;
	}
	c->fold_full = false;
	if (c->arr == ARR_SETTLING)
		settle(w, c, ev);
	if (c->arr == ARR_NONE) {
		if (!c->just_expired) /* a new arrival: what the last one finished is handed up */
			check_call(w, c, ev);
		c->arr = ARR_FILLING;
		c->arr_was_running = c->timer_on;
		c->arr_first_push = false;
		c->arr_restarted = false;
		c->arr_ran = false;
		c->arr_req = ev->req;
		c->arr_ns = ev->ts_ns;
		/* Fills right after a post or an indication may be held data drained into the
		 * new requests: those settle the timer without restarting it. */
		c->arr_maybe_drain = c->last_op == OTR_POST || c->last_op == OTR_INDICATE ||
				     c->last_op == OTR_UNKNOWN || c->in_ind;
	}
	if (c->disconnected)
		violation(w, c, ev, c->disc_reason == CL_UPLOAD ? "R26" : "R25", ev->req,
			  "%u bytes placed after the %s", bytes,
			  c->disc_reason == CL_UPLOAD ? "upload" : "disconnect");
	/* R03, R20, R21: the application gets the stream in order, each byte once. */
	if (c->pos_known && ev->u.fill.seq != c->pos && checking(c)) {
		if (c->kept)
			violation(w, c, ev, "R20", ev->req,
				  "placed %u bytes from sequence %u, but the %" PRIu64
				  " bytes an indication left unconsumed start at %u",
				  bytes, ev->u.fill.seq, c->kept, c->pos);
		else
			violation(w, c, ev, "R03", ev->req,
				  "placed %u bytes from sequence %u, but the next byte the "
				  "application has not had is %u",
				  bytes, ev->u.fill.seq, c->pos);
	}
	c->kept = c->kept > bytes ? c->kept - bytes : 0;
	c->pos = ev->u.fill.seq + bytes;
	c->pos_known = true;
	c->delivered += bytes;

	at = oex_fifo_find(&c->q, ev->req);
	if (at < 0) {
		int64_t d = oex_fifo_find(&c->done, ev->req);
		if (d >= 0) {
			struct vreq *f = q_at(&c->done, (uint32_t)d);
			violation(w, c, ev, rule_of(f->fin), ev->req,
				  "%u bytes placed in a request that should have completed (%s) "
				  "%.6f s earlier",
				  bytes, otr_complete_reason_name(f->fin),
				  (double)(ev->ts_ns - f->fin_ns) / 1e9);
			f->fills += bytes;
		} else if (ev->req > c->base_id) {
			violation(w, c, ev, "R03", ev->req,
				  "%u bytes placed in a request that is not queued", bytes);
		}
		return;
	}
	if (at > 0)
		violation(w, c, ev, "R03", ev->req,
			  "bytes placed here while req %" PRIu64 ", posted earlier, holds only %u "
			  "of %u bytes",
			  q_at(&c->q, 0)->id, held(q_at(&c->q, 0)), q_at(&c->q, 0)->len);
	r = q_at(&c->q, (uint32_t)at);
	if (held(r) == 0 && bytes && !r->no_push)
		c->arr_first_push = true;
	r->fills += bytes;
	if (r->from_post && ev->u.fill.total != held(r))
		violation(w, c, ev, "R15", ev->req,
			  "the fill says the request holds %u bytes, its prefill and fills make %u",
			  ev->u.fill.total, held(r));
	if (held(r) > r->len)
		violation(w, c, ev, "R15", ev->req, "%u bytes placed in a %u-byte buffer", held(r),
			  r->len);
	finish_filled(w, c, ev);
	if (ev->u.fill.psh)
		finish_pushed(w, c, OTR_CR_PSH, ev);
}

/* folded: a restart a fill of event set 2 carried (see on_fill for what may follow it). */
static void on_timer(struct oex_writer *w, struct vconn *c, const struct otr_event *ev, bool folded)
{
	struct verify *vf = w->priv;
	const char *name = otr_kind_name(ev->kind);

	if (c->arr == ARR_FILLING)
		c->arr = ARR_SETTLING;
	/* A set-2 fill sums a request's segments of one receive batch and carries the last
	 * restart among them: when those bytes filled the request, the segment that did so may
	 * have gone on into the next request, whose fill then follows in the same arrival. */
	c->fold_full = folded && oex_fifo_find(&c->q, ev->req) < 0;
	if (ev->kind != OTR_TIMER_CANCEL && c->disconnected && !c->teardown)
		violation(w, c, ev, c->disc_reason == CL_UPLOAD ? "R26" : "R25", ev->req,
			  "%s after the connection was %s", name,
			  c->disc_reason == CL_UPLOAD ? "uploaded" : "disconnected");
	if (ev->kind == OTR_TIMER_START || ev->kind == OTR_TIMER_RESTART) {
		int64_t at = oex_fifo_find(&c->q, ev->req);
		c->timer_nopush = at >= 0 && q_at(&c->q, (uint32_t)at)->no_push;
		c->timer_req = ev->req;
	}
	switch (ev->kind) {
	case OTR_TIMER_START:
		if (c->arr != ARR_NONE)
			c->arr_ran = true;
		c->pend_r07 = 0; /* started, as R07 wants */
		c->timer_on = true;
		c->deadline = ev->u.timer.deadline_ns;
		break;
	case OTR_TIMER_RESTART:
		if (!c->timer_on && c->arr != ARR_NONE && c->arr_first_push && !c->arr_was_running)
			/* the engine restarts only a running timer: the start is what is missing */
			violation(w, c, ev, "R08", ev->req,
				  "the first byte was placed in a push-mode request but the push "
				  "timer "
				  "did not start (a restart follows with none running)");
		else if (!c->timer_on)
			violation(w, c, ev, "R12", ev->req,
				  "push_timer_restart while no push timer runs");
		c->timer_on = true;
		c->deadline = ev->u.timer.deadline_ns;
		if (c->arr != ARR_NONE)
			c->arr_restarted = c->arr_ran = true;
		break;
	case OTR_TIMER_CANCEL:
		c->timer_on = false;
		break;
	default:
		vf->expiries++;
		if (!c->timer_on)
			violation(w, c, ev, "R10", ev->req,
				  "the push timer expired but none was running");
		else if (c->deadline != ev->u.timer.deadline_ns)
			violation(w, c, ev, "R10", ev->req,
				  "the push timer expired with deadline %" PRIu64
				  " but the running one's was %" PRIu64,
				  ev->u.timer.deadline_ns, c->deadline);
		/* By the engine's own clock when it expired the timer (set 2), which a delay
		 * between the engine and the tracer cannot hide; else by the event's time. */
		if (ev->u.timer.at_ns && ev->u.timer.at_ns < ev->u.timer.deadline_ns)
			violation(w, c, ev, "R10", ev->req,
				  "the engine expired the push timer %" PRIu64
				  " ns before its deadline (its clock %" PRIu64 " < %" PRIu64 ")",
				  ev->u.timer.deadline_ns - ev->u.timer.at_ns, ev->u.timer.at_ns,
				  ev->u.timer.deadline_ns);
		else if (ev->ts_raw < ev->u.timer.deadline_ns)
			violation(w, c, ev, "R10", ev->req,
				  "the push timer expired %" PRIu64
				  " ns before its deadline (raw %" PRIu64 " < %" PRIu64 ")",
				  ev->u.timer.deadline_ns - ev->ts_raw, ev->ts_raw,
				  ev->u.timer.deadline_ns);
		c->timer_on = false;
		finish_pushed(w, c, OTR_CR_PUSH_TIMER, ev);
		if (c->done.n)
			c->expect_call = true; /* handed up right after the expiry */
		break;
	}
}

static void on_call(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->calls++;
	if (c->call_open && c->proc->have_end)
		violation(w, c, ev, "R19", 0,
			  "a completion call (count %u) began inside the previous one (count %u), "
			  "before its complete_end",
			  ev->u.call.count, c->call_count);
	else if (c->call_known && c->call_seen != c->call_count)
		violation(w, c, ev, "R14", 0,
			  "the previous completion call announced %u requests and carried %u",
			  c->call_count, c->call_seen);
	if (c->in_ind && c->proc->have_icall)
		violation(w, c, ev, "R18", 0,
			  "a completion call began inside an indication of the connection");
	if (!ev->u.call.count)
		violation(w, c, ev, "R14", 0, "a completion call with no request");
	c->call_known = true;
	c->call_open = true;
	c->call_partial = false;
	c->call_count = ev->u.call.count;
	c->call_seen = 0;
}

static void on_call_end(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->have_end = c->proc->have_end = true;
	if (!c->call_open)
		violation(w, c, ev, "R19", 0, "complete_end with no completion call running");
	else if (ev->u.call.count != c->call_count || c->call_seen != c->call_count)
		violation(w, c, ev, "R14", 0,
			  "the completion call announced %u requests, carried %u and ended with %u",
			  c->call_count, c->call_seen, ev->u.call.count);
	c->call_open = false;
	c->call_known = false;
}

static void on_complete(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	int reason = ev->u.complete.reason, status = ev->u.complete.status;
	uint32_t bytes = ev->u.complete.bytes, placed = ev->u.complete.placed;
	struct vreq r;
	int64_t at;
	bool expected = false;

	vf->completes++;
	c->completed++;
	if (!c->call_known)
		violation(w, c, ev, "R01", ev->req,
			  "handed back outside a completion call (no complete_call announced it)");
	else if (++c->call_seen > c->call_count)
		violation(w, c, ev, "R01", ev->req,
			  "completion number %u of a call that announced %u: handed back outside "
			  "the call",
			  c->call_seen, c->call_count);

	at = oex_fifo_find(&c->done, ev->req);
	if (at >= 0) {
		r = *q_at(&c->done, (uint32_t)at);
		if (at > 0)
			violation(w, c, ev, "R14", ev->req,
				  "completed before req %" PRIu64 ", which the engine finished "
				  "earlier (%s)",
				  q_at(&c->done, 0)->id,
				  otr_complete_reason_name(q_at(&c->done, 0)->fin));
		oex_fifo_remove(&c->done, (uint32_t)at);
		expected = true;
		if (reason != r.fin && reason != r.alt_fin &&
		    !(r.fin == OTR_CR_PSH && reason == OTR_CR_FILLED && bytes >= r.len))
			violation(w, c, ev, rule_of(r.fin), ev->req,
				  "completed by %s, but it was finished by %s %.6f s earlier",
				  otr_complete_reason_name(reason), otr_complete_reason_name(r.fin),
				  (double)(ev->ts_ns - r.fin_ns) / 1e9);
	} else if ((at = oex_fifo_find(&c->q, ev->req)) >= 0) {
		r = *q_at(&c->q, (uint32_t)at);
		oex_fifo_remove(&c->q, (uint32_t)at);
		if (reason == OTR_CR_ABORT && status == ST_ABORTED && !c->disconnected && !at &&
		    !c->done.n) {
			/* The connection is being torn down: the engine aborted its whole queue,
			 * and what is posted from here on comes back with INVALID_STATE. */
			c->teardown = true;
			c->disconnected = true;
			c->disc_reason = 0;
			c->timer_on = false;
			expected = true;
			while (c->q.n)
				finish(w, c, 0, OTR_CR_ABORT, ev);
		}
		if ((at > 0 || c->done.n) && reason != OTR_CR_ABORT)
			violation(w, c, ev, "R14", ev->req,
				  "completed while req %" PRIu64 ", posted earlier, is still "
				  "outstanding",
				  c->done.n ? q_at(&c->done, 0)->id : q_at(&c->q, 0)->id);
		else if (expected)
			;
		else if ((reason == OTR_CR_PSH || reason == OTR_CR_PUSH_TIMER) && r.no_push)
			violation(w, c, ev, "R11", ev->req,
				  "a no-push request completed by %s with %u of %u bytes",
				  otr_complete_reason_name(reason), bytes, r.len);
		else if (reason == OTR_CR_PSH)
			violation(w, c, ev, "R10", ev->req,
				  "completed by psh, but no segment with PSH ended in it or in a "
				  "request before it");
		else if (reason == OTR_CR_PUSH_TIMER)
			violation(w, c, ev, "R10", ev->req,
				  "completed by push_timer with no push_timer_expire for it");
		else if (reason == OTR_CR_FILLED && held(&r) < r.len)
			violation(w, c, ev, r.no_push ? "R11" : "R09", ev->req,
				  "completed as filled holding %u of %u bytes", held(&r), r.len);
		else if (reason == OTR_CR_FILLED)
			violation(w, c, ev, "R15", ev->req,
				  "completed as filled; its fills make %u of %u bytes", held(&r),
				  r.len);
		else
			violation(w, c, ev, reason == OTR_CR_UPLOAD ? "R26" : "R25", ev->req,
				  "completed by %s but the connection was not %s",
				  otr_complete_reason_name(reason),
				  reason == OTR_CR_UPLOAD ? "uploaded" : "disconnected");
	} else {
		if (!checking(c) || ev->req <= c->base_id)
			vf->unverifiable++;
		else if (ev->req <= c->max_posted)
			violation(w, c, ev, "R17", ev->req, "completed a second time (%s, %s)",
				  otr_complete_reason_name(reason), otr_status_name(status));
		else
			violation(w, c, ev, "R17", ev->req, "completed but never posted (%s, %s)",
				  otr_complete_reason_name(reason), otr_status_name(status));
		return;
	}
	(void)expected;

	/* R14: a call carries filled or failed requests and at most one partial, last. */
	if (c->call_partial)
		violation(w, c, ev, "R14", ev->req,
			  "carried after a partially filled request in the same completion call");
	if (status == ST_SUCCESS && bytes < r.len)
		c->call_partial = true;
	/* R16: the status goes with the reason. */
	if (status != status_of(reason))
		violation(w, c, ev, "R16", ev->req, "completed by %s with status %s (expected %s)",
			  otr_complete_reason_name(reason), otr_status_name(status),
			  otr_status_name(status_of(reason)));
	/* R10: a push_timer completion comes at or after the deadline of its expiry. */
	if (reason == OTR_CR_PUSH_TIMER && ev->ts_raw < r.fin_deadline)
		violation(w, c, ev, "R10", ev->req,
			  "completed by push_timer %" PRIu64 " ns before the deadline (raw %" PRIu64
			  " < %" PRIu64 ")",
			  r.fin_deadline - ev->ts_raw, ev->ts_raw, r.fin_deadline);
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
}

/* Buffers one connection is followed with at most: far past any real pool (1 GiB held in the
 * default 4 KiB chunks), and a bound on what a damaged or hostile trace can make the verifier
 * allocate (a count field of 4 billion would otherwise be followed buffer by buffer). */
#define VERIFY_LENT_MAX (1u << 18)

/* The engine lends n of its buffers, ids first on: follow each until it comes back (R22). A
 * trace that names more than VERIFY_LENT_MAX out at once is not followed: the connection is
 * no longer judged, as when events are missing. */
static void lend(struct vconn *c, const struct otr_event *ev, uint64_t first, uint32_t n)
{
	if ((uint64_t)c->bufs.n + n > VERIFY_LENT_MAX) {
		if (!c->tainted) {
			c->tainted = true;
			c->tainted_since = ev->ts_ns;
		}
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vbuf b = { .id = first + i };
		if (oex_fifo_push(&c->bufs, &b, sizeof(b))) {
			c->tainted = true; /* out of memory: stop judging this connection */
			c->tainted_since = ev->ts_ns;
			return;
		}
	}
	c->ind_out += n;
}

static void on_indicate_call(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->have_icall = c->proc->have_icall = true;
	if (c->in_ind)
		violation(w, c, ev, "R18", ev->req, "an indication began inside another one");
	if (c->call_open && c->proc->have_end)
		violation(w, c, ev, "R18", ev->req,
			  "an indication began inside a completion call of the connection");
	if (c->q.n)
		violation(w, c, ev, "R05", ev->req,
			  "engine buffers indicated while %u request%s (req %" PRIu64
			  " first) %s posted",
			  c->q.n, c->q.n == 1 ? "" : "s", q_at(&c->q, 0)->id,
			  c->q.n == 1 ? "is" : "are");
	if (c->suppressed)
		violation(w, c, ev, "R21", ev->req,
			  "refused data indicated again with no post since the refusal");
	else if (ev->u.indicate.offered < c->kept)
		violation(w, c, ev, "R20", ev->req,
			  "offers %" PRIu64 " bytes, but the last indication left %" PRIu64
			  " unconsumed",
			  ev->u.indicate.offered, c->kept);
	if (c->disconnected)
		violation(w, c, ev, c->disc_reason == CL_UPLOAD ? "R26" : "R25", ev->req,
			  "an indication after the disconnect");
	c->in_ind = true;
	c->ind_posted = false;
	c->ind_id = ev->req;
	c->ind_nbufs = ev->u.indicate.nbufs;
	c->ind_offered = ev->u.indicate.offered;
	if (c->ind_nbufs && ev->req + c->ind_nbufs - 1 > c->max_ind_id)
		c->max_ind_id = ev->req + c->ind_nbufs - 1;
	/* Lent now: a return inside the callback is a return of these (R22). */
	lend(c, ev, ev->req, c->ind_nbufs);
}

static void on_indicate(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	uint64_t offered = ev->u.indicate.offered, consumed = ev->u.indicate.consumed;
	int res = ev->u.indicate.result;
	bool icall = c->in_ind;

	vf->indications++;
	if (!icall && !c->proc->have_icall && c->disconnected)
		violation(w, c, ev, c->disc_reason == CL_UPLOAD ? "R26" : "R25", ev->req,
			  "an indication after the disconnect");
	if (icall && (ev->req != c->ind_id || offered != c->ind_offered ||
		      ev->u.indicate.nbufs != c->ind_nbufs))
		violation(w, c, ev, "R20", ev->req,
			  "the indication's answer names %" PRIu64 " bytes in %u buffers from "
			  "%" PRIu64 ", the offer was %" PRIu64 " in %u from %" PRIu64,
			  offered, ev->u.indicate.nbufs, ev->req, c->ind_offered, c->ind_nbufs,
			  c->ind_id);
	if ((res == ST_SUCCESS && consumed != offered) ||
	    (res == ST_NOT_ACCEPTED && consumed != 0) ||
	    (res == ST_PARTIAL && consumed > offered) ||
	    (res != ST_SUCCESS && res != ST_NOT_ACCEPTED && res != ST_PARTIAL) || !offered ||
	    !ev->u.indicate.nbufs)
		violation(w, c, ev, "R20", ev->req,
			  "an indication of %" PRIu64
			  " bytes in %u buffers answered %s with %" PRIu64 " consumed",
			  offered, ev->u.indicate.nbufs, otr_status_name(res), consumed);
	if (!icall && res != ST_NOT_ACCEPTED) {
		/* An older trace: the buffers are known to be lent only now. Returns made inside
		 * the callback came first: they settle against these. */
		lend(c, ev, ev->req, ev->u.indicate.nbufs);
	} else if (icall && res == ST_NOT_ACCEPTED) {
		/* The engine took its buffers back. */
		for (uint32_t i = 0; i < c->ind_nbufs; i++) {
			int64_t at = oex_fifo_find(&c->bufs, c->ind_id + i);
			if (at >= 0) {
				oex_fifo_remove(&c->bufs, (uint32_t)at);
				c->ind_out--;
			}
		}
	}
	if (c->pos_known)
		c->pos += (uint32_t)consumed;
	c->delivered += consumed;
	c->kept = consumed < offered ? offered - consumed : 0;
	/* R21: what was refused waits for a post, unless one came during the indication. */
	if (consumed < offered && !(icall ? c->ind_posted : c->posts_since_ind))
		c->suppressed = true;
	c->posts_since_ind = false;
	c->in_ind = false;
}

static void on_return(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;
	int64_t at = oex_fifo_find(&c->bufs, ev->req);

	vf->returns++;
	if (at >= 0) {
		oex_fifo_remove(&c->bufs, (uint32_t)at);
		c->ind_out--;
	} else if (c->handback_bufs && ev->req > c->max_ind_id &&
		   oex_fifo_find(&c->hb_back, ev->req) < 0) {
		/* data a disconnect or upload handed back: its buffers are not named, but they
		 * were lent after every indication's, and come back once */
		struct vbuf b = { .id = ev->req };
		if (oex_fifo_push(&c->hb_back, &b, sizeof(b)))
			c->tainted = true;
	} else if (c->disconnected && !c->proc->have_handback) {
		/* an older engine's hand-back */
	} else if (!c->proc->have_icall && c->ind_out <= 0 && !c->closed) {
		/* An older trace: perhaps returned inside the indication whose event follows. */
		c->ind_out--;
		struct vbuf b = { .id = ev->req };
		(void)b;
	} else {
		violation(w, c, ev, "R22", ev->req,
			  "buffer %" PRIu64 " returned but the application does not hold it (never "
			  "indicated, or returned already)",
			  ev->req);
	}
}

static void on_handback(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->have_handback = c->proc->have_handback = true;
	c->ending = false;
	c->kept = 0;
	if (!c->disconnected && !c->teardown)
		violation(w, c, ev, "R26", 0,
			  "held data handed back (%" PRIu64 " bytes) with no disconnect or upload",
			  ev->u.close.bytes);
	if (ev->u.close.bytes)
		c->handback_bufs = true;
	if (c->pos_known)
		c->pos += (uint32_t)ev->u.close.bytes;
	c->delivered += ev->u.close.bytes;
}

static void on_disconnect(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	int reason = ev->u.close.reason, fin;
	const char *rule = reason == CL_UPLOAD ? "R26" : "R25";

	if (c->disconnected)
		violation(w, c, ev, rule, 0, "a second disconnect (%s) after %s",
			  otr_close_reason_name(reason), otr_close_reason_name(c->disc_reason));
	if (c->timer_on)
		violation(w, c, ev, rule, c->q.n ? q_at(&c->q, 0)->id : 0,
			  "the push timer still runs at the %s", otr_close_reason_name(reason));
	c->timer_on = false;
	c->disconnected = true;
	c->ending = true;
	c->disc_reason = reason;
	fin = reason == CL_RST	    ? OTR_CR_ABORT
	      : reason == CL_UPLOAD ? OTR_CR_UPLOAD
				    : OTR_CR_DISCONNECT;
	while (c->q.n)
		finish(w, c, 0, fin, ev);
}

static void on_state(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	uint32_t listed = ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
	bool agree = c->q.n == ev->u.state.depth && listed <= c->q.n;
	uint32_t stream = ev->u.state.rcv_nxt - (uint32_t)ev->u.state.held_bytes;
	struct verify *vf = w->priv;

	for (uint32_t i = 0; agree && i < listed; i++) {
		const struct vreq *r = q_at(&c->q, i);
		const struct otr_state_req *s = &ev->u.state.reqs[i];
		agree = r->id == s->id && r->len == s->len && held(r) == s->fill &&
			r->no_push == s->no_push;
	}
	if (checking(c)) {
		if (!agree) {
			const char *rule = "R03";
			uint64_t req = c->q.n ? q_at(&c->q, 0)->id : 0;
			for (uint32_t i = 0; i < listed; i++) {
				int64_t d = oex_fifo_find(&c->done, ev->u.state.reqs[i].id);
				if (d >= 0) {
					rule = rule_of(q_at(&c->done, (uint32_t)d)->fin);
					req = ev->u.state.reqs[i].id;
					break;
				}
			}
			violation(w, c, ev, rule, req,
				  "the engine's snapshot lists %u queued requests (first %" PRIu64
				  ") but the events leave %u (first %" PRIu64 ")",
				  ev->u.state.depth, listed ? ev->u.state.reqs[0].id : 0, c->q.n,
				  c->q.n ? q_at(&c->q, 0)->id : 0);
		} else if (!c->disconnected && !c->handback_bufs &&
			   ev->u.state.indicated_out != c->ind_out) {
			violation(w, c, ev, "R23", 0,
				  "the engine reports %u indicated buffers out, the indicate and "
				  "return events leave %" PRId64,
				  ev->u.state.indicated_out, c->ind_out);
		}
		if (agree && ev->u.state.held_bytes && ev->u.state.depth)
			violation(w, c, ev, "R05", listed ? ev->u.state.reqs[0].id : 0,
				  "the engine holds %" PRIu64 " bytes in its own buffers while %u "
				  "requests are posted",
				  ev->u.state.held_bytes, ev->u.state.depth);
		if (agree && c->timer_on && !ev->u.state.deadline_ns && ev->ts_raw >= c->deadline &&
		    !c->teardown)
			violation(w, c, ev, "R10", listed ? ev->u.state.reqs[0].id : 0,
				  "the push timer was due at %" PRIu64
				  " and the engine's is stopped, but no push_timer_expire came",
				  c->deadline);
		else if (agree && (ev->u.state.deadline_ns != 0) != c->timer_on && !c->teardown)
			violation(w, c, ev, "R08", listed ? ev->u.state.reqs[0].id : 0,
				  "the engine's push timer is %s, the timer events leave it %s",
				  ev->u.state.deadline_ns ? "running" : "stopped",
				  c->timer_on ? "running" : "stopped");
		if (agree && c->pos_known && stream != c->pos && !c->disconnected)
			violation(w, c, ev, "R03", 0,
				  "the application has had the stream up to %u, the engine says "
				  "%u (receive-next %u less %" PRIu64 " held)",
				  c->pos, stream, ev->u.state.rcv_nxt, ev->u.state.held_bytes);
		if (agree)
			goto sync_rest;
	}
	/* Take the engine's word: the queue, and from here on every check again. */
	oex_fifo_clear(&c->q);
	for (uint32_t i = 0; i < listed; i++) {
		const struct otr_state_req *s = &ev->u.state.reqs[i];
		struct vreq r = {
			.id = s->id, .len = s->len, .base = s->fill, .no_push = s->no_push
		};
		int64_t d = oex_fifo_find(&c->done, s->id);
		if (d >= 0)
			oex_fifo_remove(&c->done, (uint32_t)d);
		if (q_push(&c->q, &r))
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
	if (c->tainted || !c->synced) {
		/* The buffers out are unknown by id: returns of them are not judged. */
		oex_fifo_clear(&c->bufs);
		c->handback_bufs = c->handback_bufs || ev->u.state.indicated_out;
		c->call_known = c->call_open = c->in_ind = false;
		c->arr = ARR_NONE;
		c->pend_r07 = 0;
		c->suppressed = false;
		c->from_open = false;
	}
	c->synced = true;
	c->tainted = false;
sync_rest:
	c->timer_on = ev->u.state.deadline_ns != 0;
	c->deadline = ev->u.state.deadline_ns;
	if (!c->disconnected) {
		c->pos = stream;
		c->kept = ev->u.state.held_bytes;
		c->pos_known = true;
	}
	(void)vf;
}

static void on_close(struct oex_writer *w, struct vconn *c, const struct otr_event *ev)
{
	struct verify *vf = w->priv;

	vf->conns_closed++;
	if (c->call_known && c->call_seen != c->call_count)
		violation(w, c, ev, "R14", 0,
			  "the last completion call announced %u and carried %u", c->call_count,
			  c->call_seen);
	if (c->done.n) {
		const struct vreq *r = q_at(&c->done, 0);
		violation(w, c, ev, "R17", r->id,
			  "finished by %s %.6f s before conn_close but never handed back",
			  otr_complete_reason_name(r->fin), (double)(ev->ts_ns - r->fin_ns) / 1e9);
	}
	if (c->q.n) {
		const struct vreq *r = q_at(&c->q, 0);
		violation(w, c, ev, "R17", r->id,
			  "%u request%s (req %" PRIu64 "%s) never completed before conn_close",
			  c->q.n, c->q.n > 1 ? "s" : "", r->id, c->q.n > 1 ? " and later" : "");
	}
	/* R25, R26: every byte stored went to the application: placed, consumed or handed
	 * back. Judged when the engine traces its hand-backs. */
	if (c->proc->have_handback && c->from_open && c->disconnected && !c->teardown &&
	    c->delivered != ev->u.close.bytes)
		violation(w, c, ev, c->disc_reason == CL_UPLOAD ? "R26" : "R25", 0,
			  "the engine stored %" PRIu64 " bytes but placed, indicated and handed "
			  "back %" PRIu64,
			  ev->u.close.bytes, c->delivered);
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
		return 0;
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
		c->last_op = OTR_UNKNOWN;
	}
	if (ev->kind == OTR_CONN_OPEN && (c->posted || c->completed || c->closed)) {
		/* The same key again: a new process reused the vpid, or a new engine in it. */
		vconn_free(c);
		oex_ctab_del(&vf->conns, c);
		c = oex_ctab_add(&vf->conns, ev->vpid, ev->conn);
		if (!c)
			return -ENOMEM;
		vf->conns_seen++;
	}
	if (!c->proc) {
		c->proc = oex_ctab_get(&vf->procs, ev->vpid, 0);
		if (!c->proc && !(c->proc = oex_ctab_add(&vf->procs, ev->vpid, 0)))
			return -ENOMEM;
	}
	switch (ev->kind) {
	case OTR_FILL:
		step_over(w, c, ev, true);
		break;
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE:
		if (ev->kind == OTR_TIMER_EXPIRE)
			step_over(w, c, ev, false);
		break;
	case OTR_COMPLETE:
		/* a completion's events follow its call: the call already stepped over */
		break;
	default:
		step_over(w, c, ev, false);
		break;
	}
	switch (ev->kind) {
	case OTR_CONN_OPEN:
		c->synced = true;
		c->from_open = true;
		break;
	case OTR_POST:
		on_post(w, c, ev);
		break;
	case OTR_FILL: {
		struct otr_event rs;
		on_fill(w, c, ev);
		if (otr_fill_restart(ev, &rs)) /* event set 2: the restart rides on the fill */
			on_timer(w, c, &rs, true);
		break;
	}
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE:
		/* event set 3: a start derived from a fill rides on it, as a set-2 restart does */
		on_timer(w, c, ev, ev->kind == OTR_TIMER_START && ev->derived);
		break;
	case OTR_COMPLETE_CALL:
		on_call(w, c, ev);
		break;
	case OTR_COMPLETE_END:
		on_call_end(w, c, ev);
		break;
	case OTR_COMPLETE:
		on_complete(w, c, ev);
		break;
	case OTR_INDICATE_CALL:
		on_indicate_call(w, c, ev);
		break;
	case OTR_INDICATE:
		on_indicate(w, c, ev);
		break;
	case OTR_RETURN:
		on_return(w, c, ev);
		break;
	case OTR_HANDBACK:
		on_handback(w, c, ev);
		break;
	case OTR_DISCONNECT:
		on_disconnect(w, c, ev);
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
	if (ev->kind != OTR_FILL && !(ev->kind == OTR_TIMER_START && ev->derived))
		c->fold_full = false; /* a fill's derived start (set 3) is part of the fill */
	c->just_cancelled = ev->kind == OTR_TIMER_CANCEL;
	c->just_expired = ev->kind == OTR_TIMER_EXPIRE;
	if (ev->kind != OTR_FILL && ev->kind != OTR_TIMER_START && ev->kind != OTR_TIMER_RESTART &&
	    ev->kind != OTR_TIMER_CANCEL && ev->kind != OTR_TIMER_EXPIRE &&
	    ev->kind != OTR_COMPLETE)
		c->last_op = ev->kind;
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
	struct jw_out *o = run->out;
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
	jw_puts(o, line);
	jw_puts(o, "rules: R01 R03 R05 R07 R08 R09 R10 R11 R12 R14 R15 R16 R17 R18 R19 R20 R21 "
		   "R22 R23 R25 R26 (docs/SEMANTICS.md, \"How --verify judges each rule\")\n");
	if (vf->completes || vf->indications || vf->conns_closed) {
		char miss[400] = "";
		if (vf->calls && !vf->have_end)
			strcat(miss, " R19 and R18 (no complete_end: the trace cannot show a call "
				     "nested in a completion callback);");
		if (vf->indications && !vf->have_icall)
			strcat(miss, " R05 at indications, R18, and R22 for returns made inside "
				     "an indication (no indicate_call);");
		if ((vf->conns_closed) && !vf->have_handback)
			strcat(miss, " R25/R26 hand-back of held data (no handback);");
		if (*miss) {
			snprintf(line, sizeof(line),
				 "not judged for lack of events (a trace of an older engine):%s\n",
				 miss);
			jw_puts(o, line);
		}
	}

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
		jw_puts(o, line);
		for (uint32_t i = 0; i < run->nloss; i++) {
			snprintf(line, sizeof(line),
				 "  loss window %+.9f s .. %+.9f s: %" PRIu64 " events, %" PRIu64
				 " packets\n",
				 run->loss[i].from_ns ? oex_rel_s(run, run->loss[i].from_ns) : 0.0,
				 oex_rel_s(run, run->loss[i].to_ns), run->loss[i].count,
				 run->loss[i].packets);
			jw_puts(o, line);
		}
	} else {
		jw_puts(o, "no loss: the verdict covers the whole trace\n");
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
				jw_puts(o, line);
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
				 c->q.n ? " (req " : "", c->q.n ? q_at(&c->q, 0)->id : 0,
				 c->q.n ? (c->q.n > 1 ? " and later)" : ")") : "",
				 c->ind_out > 0 ? c->ind_out : 0, c->ind_out == 1 ? "" : "s");
			jw_puts(o, line);
		}
	}
	if (listed > OUTSTAND_LIST) {
		snprintf(line, sizeof(line), "  ... and %" PRIu64 " more connections\n",
			 listed - OUTSTAND_LIST);
		jw_puts(o, line);
	}
	snprintf(line, sizeof(line),
		 "outstanding at the end (not violations): %" PRIu64 " requests on %" PRIu64
		 " open connections, %" PRIu64 " indicated buffers; %" PRIu64
		 " connections not verifiable to the end; %" PRIu64
		 " completions of requests posted before the trace\n",
		 vf->out_reqs, vf->out_conns, vf->out_bufs, vf->unverified_conns, vf->unverifiable);
	jw_puts(o, line);

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
		jw_puts(o, line);
	}
	if (vf->violations > vf->nv) {
		snprintf(line, sizeof(line), "... and %" PRIu64 " more violations\n",
			 vf->violations - vf->nv);
		jw_puts(o, line);
	}
	if (run->end == OEX_END_ERROR) {
		snprintf(line, sizeof(line),
			 "INCOMPLETE: the input failed after %" PRIu64
			 " events (%.900s): the verdict "
			 "covers what was read\n",
			 run->events, run->error);
		jw_puts(o, line);
	} else if (!oex_complete(run)) {
		jw_puts(o, "INCOMPLETE: interrupted before the end of the trace\n");
	}
	if (vf->violations)
		snprintf(line, sizeof(line), "verdict: FAIL, %" PRIu64 " violation%s%s\n",
			 vf->violations, vf->violations == 1 ? "" : "s",
			 run->nloss_all ? " outside the loss windows" : "");
	else
		snprintf(line, sizeof(line), "verdict: OK, no violation%s\n",
			 run->nloss_all ? " outside the loss windows" : "");
	jw_puts(o, line);
	return vf->violations ? OEX_EXIT_VIOLATIONS : 0;
}

static void verify_free(struct oex_writer *w)
{
	struct verify *vf = w->priv;

	if (!vf)
		return;
	oex_ctab_fini(&vf->conns, vconn_free);
	oex_ctab_fini(&vf->procs, NULL);
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
	oex_ctab_init(&vf->procs, sizeof(struct vproc));
	w->ops = &verify_ops;
	w->priv = vf;
	return 0;
}
