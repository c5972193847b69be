/* --format chrome: Chrome Trace Event JSON for ui.perfetto.dev and chrome://tracing, written
 * as the events arrive ({"traceEvents":[ ... ],"metadata":{...}}, the metadata last). Each
 * connection is a synthetic process named by its 4-tuple, labelled with its receive queue and
 * sorted after the synthetic process of its queue ("queue N (vpid V)": the queue's xsk
 * counters and engine thread CPU share), so a queue's connections group under it (a
 * connection whose queue the trace never said sorts first); each request an async slice from its
 * post to its completion, named by the completion reason. The name is known only at the
 * completion, so both ends of a slice are written then (the viewers sort by ts). Memory is the
 * open connections and their queued requests, whatever the trace's length. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "chrome_trace.h"
#include "fifo.h"

struct creq {
	uint64_t id;
	int64_t post_ns;
	uint32_t len, fill, prefill;
	bool no_push;
};

/* conn 0: the engine process itself (drops without a connection, xsk_stats). */
struct cconn {
	struct conn_key k;
	uint32_t pid;
	struct oex_fifo q; /* requests in posting order */
	int64_t depth;	   /* the last queue depth shown */
	int64_t inflight;  /* bytes in queued requests, shown as "bytes in flight" */
	int64_t shown_depth, shown_inflight;
	int64_t prev_ns; /* a queue's process: its previous xsk_stats with a thread CPU time */
	uint64_t prev_cpu;
};

/* The sort index of queue q's process; its connections follow it (their pid added). */
#define QUEUE_SORT(q) (((uint64_t)(q) + 1) << 24)

struct chrome {
	struct oex_ctab conns, queues; /* queues: key (vpid, queue + 1) */
	uint32_t next_pid;
	struct ct_writer ct;
	uint64_t slices, open_at_end, not_completed, unknown_posts;
};

/* --- the queue of a connection ------------------------------------------------------------ */

static struct creq *q_at(struct cconn *c, uint32_t i)
{
	return oex_fifo_at(&c->q, i);
}

static int q_push(struct cconn *c, const struct creq *r)
{
	return oex_fifo_push(&c->q, r, sizeof(*r));
}

/* The queued request id, oldest first (FIFO: almost always the head); -1 if not queued. */
static int64_t q_find(struct cconn *c, uint64_t id)
{
	return oex_fifo_find(&c->q, id);
}

static void q_remove(struct cconn *c, uint32_t at)
{
	oex_fifo_remove(&c->q, at);
}

static void cconn_free(void *rec)
{
	oex_fifo_free(&((struct cconn *)rec)->q);
}

/* --- writing ------------------------------------------------------------------------------ */

/* ,"ts":T: microseconds from the trace start */
static void put_ts(struct chrome *ch, struct oex_run *run, int64_t ts_ns)
{
	ct_us(&ch->ct, "ts", ts_ns - run->t0_ns);
}

/* One thread per connection (tid 1): the caller adds the rest and the brace. */
static void put_head(struct chrome *ch, char ph, const struct cconn *c, const char *name)
{
	ct_head(&ch->ct, ph, c->pid, 1, name);
}

/* The synthetic process of receive queue queue of the engine vpid. */
static struct cconn *queue_get(struct oex_writer *w, uint64_t vpid, uint32_t queue)
{
	struct chrome *ch = w->priv;
	struct jw_out *o = w->run->out;
	struct cconn *c = oex_ctab_get(&ch->queues, vpid, (uint64_t)queue + 1);
	char name[96];

	if (c)
		return c;
	if (!(c = oex_ctab_add(&ch->queues, vpid, (uint64_t)queue + 1)))
		return NULL;
	c->pid = ++ch->next_pid;
	snprintf(name, sizeof(name), "queue %u (vpid %llu)", queue, (unsigned long long)vpid);
	ct_meta(&ch->ct, c->pid, 1, "process_name", name);
	put_head(ch, 'M', c, "process_sort_index");
	jw_lit(o, ",\"args\":{\"sort_index\":");
	jw_put_u64(o, QUEUE_SORT(queue));
	jw_lit(o, "}}");
	ct_meta(&ch->ct, c->pid, 1, "thread_name", "engine thread");
	return c;
}

static struct cconn *conn_get(struct oex_writer *w, const struct otr_event *ev, uint64_t conn)
{
	struct chrome *ch = w->priv;
	struct jw_out *o = w->run->out;
	struct cconn *c = oex_ctab_get(&ch->conns, ev->vpid, conn);
	const struct oex_conninfo *ci;
	char name[256], l[80], r[80];
	int64_t queue = -1; /* not known */

	if (c)
		return c;
	if (conn && ev->kind == OTR_CONN_OPEN)
		queue = ev->u.open.queue;
	else if (conn && ev->kind == OTR_CONN_STATE)
		queue = ev->u.state.queue;
	else if (conn && (ci = oex_conninfo(w->run, ev->vpid, conn)))
		queue = ci->queue;
	if (queue >= 0 && !queue_get(w, ev->vpid, (uint32_t)queue))
		return NULL;
	c = oex_ctab_add(&ch->conns, ev->vpid, conn);
	if (!c)
		return NULL;
	c->pid = ++ch->next_pid;
	if (!conn) {
		snprintf(name, sizeof(name), "offrx engine (vpid %llu)",
			 (unsigned long long)ev->vpid);
	} else if ((ci = oex_conninfo(w->run, ev->vpid, conn))) {
		/* conn_open came first (main keeps it even when it was before --from). */
		oex_fmt_endpoint(l, sizeof(l), ci->local_addr, ci->local_port);
		oex_fmt_endpoint(r, sizeof(r), ci->remote_addr, ci->remote_port);
		snprintf(name, sizeof(name), "conn %llu:%llu %s <- %s",
			 (unsigned long long)ev->vpid, (unsigned long long)conn, l, r);
	} else {
		snprintf(name, sizeof(name), "conn %llu:%llu (opened before the trace)",
			 (unsigned long long)ev->vpid, (unsigned long long)conn);
	}
	ct_meta(&ch->ct, c->pid, 1, "process_name", name);
	put_head(ch, 'M', c, "process_sort_index");
	jw_lit(o, ",\"args\":{\"sort_index\":");
	jw_put_u64(o, queue >= 0 ? QUEUE_SORT(queue) + c->pid : c->pid);
	jw_lit(o, "}}");
	if (queue >= 0) {
		snprintf(name, sizeof(name), "queue %u", (uint32_t)queue);
		put_head(ch, 'M', c, "process_labels");
		jw_lit(o, ",\"args\":{\"labels\":");
		jw_put_str(o, name);
		jw_lit(o, "}}");
	}
	ct_meta(&ch->ct, c->pid, 1, "thread_name", conn ? "requests" : "engine");
	return c;
}

static void counters(struct oex_writer *w, struct cconn *c, int64_t ts)
{
	struct chrome *ch = w->priv;
	struct jw_out *o = w->run->out;

	if (c->depth < 0)
		c->depth = 0;
	if (c->inflight < 0)
		c->inflight = 0;
	if (c->depth != c->shown_depth) {
		put_head(ch, 'C', c, "queue depth");
		put_ts(ch, w->run, ts);
		jw_lit(o, ",\"args\":{\"requests\":");
		jw_put_i64(o, c->depth);
		jw_lit(o, "}}");
		c->shown_depth = c->depth;
	}
	if (c->inflight != c->shown_inflight) {
		put_head(ch, 'C', c, "bytes in flight");
		put_ts(ch, w->run, ts);
		jw_lit(o, ",\"args\":{\"bytes\":");
		jw_put_i64(o, c->inflight);
		jw_lit(o, "}}");
		c->shown_inflight = c->inflight;
	}
}

/* Both ends of one request's slice. cat names the connection: the viewers key plain async ids
 * by category, not by process, and request ids restart at 1 on every connection. */
static void slice(struct oex_writer *w, struct cconn *c, const char *name, int64_t b_ns,
		  int64_t e_ns, const struct creq *r, const struct otr_event *done)
{
	struct chrome *ch = w->priv;
	struct jw_out *o = w->run->out;
	char cat[64];

	snprintf(cat, sizeof(cat), "conn %llu:%llu", (unsigned long long)c->k.vpid,
		 (unsigned long long)c->k.conn);
	/* A slice never ends before it begins, whatever a damaged trace says its
	 * post_to_complete_ns was (a garbage value read as negative put b after e). */
	if (b_ns > e_ns)
		b_ns = e_ns;
	for (int end = 0; end < 2; end++) {
		put_head(ch, end ? 'e' : 'b', c, name);
		jw_lit(o, ",\"cat\":");
		jw_put_str(o, cat);
		jw_lit(o, ",\"id\":");
		jw_put_u64(o, r->id);
		put_ts(ch, w->run, end ? e_ns : b_ns);
		if (end) {
			jw_putc(o, '}');
			continue;
		}
		jw_lit(o, ",\"args\":{\"req\":");
		jw_put_u64(o, r->id);
		jw_lit(o, ",\"length\":");
		jw_put_u64(o, r->len);
		if (done) {
			jw_lit(o, ",\"bytes\":");
			jw_put_u64(o, done->u.complete.bytes);
			jw_lit(o, ",\"placed\":");
			jw_put_u64(o, done->u.complete.placed);
			jw_lit(o, ",\"status\":");
			jw_put_str(o, otr_status_name(done->u.complete.status));
			jw_lit(o, ",\"reason\":");
			jw_put_str(o, otr_complete_reason_name(done->u.complete.reason));
			jw_lit(o, ",\"post_to_complete_us\":");
			jw_put_us(o, (int64_t)done->u.complete.post_to_complete_ns);
			if (done->u.complete.last_fill_to_complete_ns >= 0) {
				jw_lit(o, ",\"last_fill_to_complete_us\":");
				jw_put_us(o, done->u.complete.last_fill_to_complete_ns);
			}
		} else {
			jw_lit(o, ",\"bytes\":");
			jw_put_u64(o, r->fill);
			jw_lit(o, ",\"status\":\"PENDING\"");
		}
		jw_lit(o, ",\"no_push\":");
		jw_puts(o, r->no_push ? "true" : "false");
		if (r->prefill) {
			jw_lit(o, ",\"prefill\":");
			jw_put_u64(o, r->prefill);
		}
		if (r->post_ns == OEX_TS_NONE)
			jw_lit(o, ",\"post_seen\":false");
		jw_lit(o, "}}");
	}
	ch->slices++;
}

static void instant(struct oex_writer *w, struct cconn *c, const char *name, int64_t ts)
{
	struct chrome *ch = w->priv;

	put_head(ch, 'i', c, name);
	jw_lit(w->run->out, ",\"s\":\"t\"");
	put_ts(ch, w->run, ts);
}

static void on_complete(struct oex_writer *w, struct cconn *c, const struct otr_event *ev)
{
	struct chrome *ch = w->priv;
	int64_t at = q_find(c, ev->req);
	struct creq r = { .id = ev->req, .post_ns = OEX_TS_NONE };
	int64_t b_ns;

	if (at >= 0) {
		r = *q_at(c, (uint32_t)at);
		q_remove(c, (uint32_t)at);
		c->inflight -= r.fill;
		b_ns = r.post_ns;
	} else {
		/* Posted before the trace (or the window) began: the event knows when. */
		ch->unknown_posts++;
		r.len = ev->u.complete.bytes;
		b_ns = ev->ts_ns - (int64_t)ev->u.complete.post_to_complete_ns;
		if (b_ns < w->run->t0_ns)
			b_ns = w->run->t0_ns;
		c->inflight -= ev->u.complete.placed;
	}
	c->depth--;
	slice(w, c, otr_complete_reason_name(ev->u.complete.reason), b_ns, ev->ts_ns, &r, ev);
	counters(w, c, ev->ts_ns);
}

/* Requests still queued when their connection closes or the trace ends. */
static void close_open(struct oex_writer *w, struct cconn *c, const char *name, int64_t ts,
		       uint64_t *count)
{
	while (c->q.n) {
		struct creq r = *q_at(c, 0);
		q_remove(c, 0);
		slice(w, c, name, r.post_ns, ts > r.post_ns ? ts : r.post_ns, &r, NULL);
		(*count)++;
	}
}

static int chrome_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct chrome *ch = w->priv;
	struct oex_run *run = w->run;
	struct jw_out *o = run->out;
	struct cconn *c = NULL;
	int64_t at;

	switch (ev->kind) {
	case OTR_SEGMENT_PAYLOAD: /* stream bytes (opt-in): not part of the timeline */
		return 0;
	case OTR_DISCARDED:
	case OTR_SOURCE:
		/* Global instants: where the trace has holes, or the live source went away. */
		ct_head(&ch->ct, 'i', 0, 0,
			ev->kind == OTR_DISCARDED	     ? "events discarded"
			: ev->u.source.state == OTR_SRC_LOST ? "live source lost"
							     : "live source attached");
		jw_lit(o, ",\"s\":\"g\"");
		if (ev->kind == OTR_DISCARDED) {
			put_ts(ch, run, ev->ts_ns);
			jw_lit(o, ",\"args\":{\"count\":");
			jw_put_u64(o, ev->u.discarded.count);
			jw_lit(o, ",\"packets\":");
			jw_put_u64(o, ev->u.discarded.packets);
			jw_lit(o, "}}");
		} else {
			put_ts(ch, run, ev->ts_ns > run->t0_ns ? ev->ts_ns : run->t0_ns);
			jw_lit(o, ",\"args\":{\"message\":");
			jw_put_str(o, ev->u.source.msg);
			jw_lit(o, "}}");
		}
		return 0;
	case OTR_XSK_STATS:
		c = queue_get(w, ev->vpid, ev->u.xsk.queue);
		break;
	case OTR_DROP:
		c = conn_get(w, ev, ev->conn);
		break;
	case OTR_RETURN:
	case OTR_COMPLETE_CALL:
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
		/* Not drawn (the jsonl format has them): returns may even follow conn_close. */
		return 0;
	default:
		c = conn_get(w, ev, ev->conn);
		break;
	}
	if (!c)
		return -ENOMEM;

	switch (ev->kind) {
	case OTR_POST: {
		struct creq r = {
			.id = ev->req,
			.post_ns = ev->ts_ns,
			.len = ev->u.post.buf_len,
			.fill = ev->u.post.prefill,
			.prefill = ev->u.post.prefill,
			.no_push = ev->u.post.no_push,
		};
		if (q_push(c, &r))
			return -ENOMEM;
		c->depth = ev->u.post.depth;
		c->inflight += r.prefill;
		counters(w, c, ev->ts_ns);
		break;
	}
	case OTR_FILL:
		at = q_find(c, ev->req);
		if (at >= 0)
			q_at(c, (uint32_t)at)->fill = ev->u.fill.total;
		c->inflight += ev->u.fill.bytes;
		instant(w, c, "fill", ev->ts_ns);
		jw_lit(o, ",\"args\":{\"req\":");
		jw_put_u64(o, ev->req);
		jw_lit(o, ",\"bytes\":");
		jw_put_u64(o, ev->u.fill.bytes);
		jw_lit(o, ",\"total\":");
		jw_put_u64(o, ev->u.fill.total);
		jw_lit(o, ",\"psh\":");
		jw_puts(o, ev->u.fill.psh ? "true" : "false");
		jw_lit(o, "}}");
		counters(w, c, ev->ts_ns);
		break;
	case OTR_TIMER_EXPIRE:
		instant(w, c, "push timer expire", ev->ts_ns);
		jw_lit(o, ",\"args\":{\"req\":");
		jw_put_u64(o, ev->req);
		jw_lit(o, ",\"bytes\":");
		jw_put_u64(o, ev->u.timer.bytes);
		jw_lit(o, ",\"late_us\":");
		jw_put_us(o, (int64_t)(ev->ts_raw - ev->u.timer.deadline_ns));
		jw_lit(o, "}}");
		break;
	case OTR_COMPLETE:
		on_complete(w, c, ev);
		break;
	case OTR_INDICATE:
		instant(w, c, "indicate", ev->ts_ns);
		jw_lit(o, ",\"args\":{\"offered\":");
		jw_put_u64(o, ev->u.indicate.offered);
		jw_lit(o, ",\"consumed\":");
		jw_put_u64(o, ev->u.indicate.consumed);
		jw_lit(o, ",\"result\":");
		jw_put_str(o, otr_status_name(ev->u.indicate.result));
		jw_lit(o, "}}");
		break;
	case OTR_DISCONNECT:
		instant(w, c, "disconnect", ev->ts_ns);
		jw_lit(o, ",\"args\":{\"reason\":");
		jw_put_str(o, otr_close_reason_name(ev->u.close.reason));
		jw_lit(o, "}}");
		break;
	case OTR_DROP:
		instant(w, c, "drop", ev->ts_ns);
		jw_lit(o, ",\"args\":{\"reason\":");
		jw_put_str(o, otr_drop_reason_name(ev->u.drop.reason));
		jw_lit(o, ",\"frame_len\":");
		jw_put_u64(o, ev->u.drop.frame_len);
		jw_lit(o, "}}");
		break;
	case OTR_CONN_STATE: {
		/* The engine's own snapshot: the counters take its word. */
		uint32_t n =
			ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
		int64_t sum = 0;
		for (uint32_t i = 0; i < n; i++)
			sum += ev->u.state.reqs[i].fill;
		c->depth = ev->u.state.depth;
		if (n == ev->u.state.depth)
			c->inflight = sum;
		counters(w, c, ev->ts_ns);
		break;
	}
	case OTR_XSK_STATS:
		put_head(ch, 'C', c, "xsk");
		put_ts(ch, run, ev->ts_ns);
		jw_lit(o, ",\"args\":{\"rx_dropped\":");
		jw_put_u64(o, ev->u.xsk.rx_dropped);
		jw_lit(o, ",\"rx_ring_full\":");
		jw_put_u64(o, ev->u.xsk.rx_ring_full);
		jw_lit(o, ",\"fill_ring_empty\":");
		jw_put_u64(o, ev->u.xsk.fill_ring_empty);
		jw_lit(o, "}}");
		/* the queue's engine thread, since its previous xsk_stats */
		if (ev->u.xsk.thread_cpu_ns && c->prev_cpu &&
		    ev->u.xsk.thread_cpu_ns >= c->prev_cpu && ev->ts_ns > c->prev_ns) {
			put_head(ch, 'C', c, "engine thread CPU %");
			put_ts(ch, run, ev->ts_ns);
			jw_lit(o, ",\"args\":{\"cpu_pct\":");
			jw_put_double(o,
				      100.0 * (double)(ev->u.xsk.thread_cpu_ns - c->prev_cpu) /
					      (double)(ev->ts_ns - c->prev_ns),
				      1);
			jw_lit(o, "}}");
		}
		if (ev->u.xsk.thread_cpu_ns) {
			c->prev_cpu = ev->u.xsk.thread_cpu_ns;
			c->prev_ns = ev->ts_ns;
		}
		break;
	case OTR_CONN_CLOSE:
		close_open(w, c, "not completed", ev->ts_ns, &ch->not_completed);
		instant(w, c, "conn_close", ev->ts_ns);
		jw_lit(o, ",\"args\":{\"reason\":");
		jw_put_str(o, otr_close_reason_name(ev->u.close.reason));
		jw_lit(o, ",\"bytes\":");
		jw_put_u64(o, ev->u.close.bytes);
		jw_lit(o, "}}");
		c->depth = 0;
		c->inflight = 0;
		counters(w, c, ev->ts_ns);
		/* Its process stays named in the output; its state goes. */
		cconn_free(c);
		oex_ctab_del(&ch->conns, c);
		break;
	default:
		break; /* conn_open: conn_get() named the process */
	}
	return 0;
}

static int chrome_begin(struct oex_writer *w)
{
	struct chrome *ch = w->priv;

	ct_init(&ch->ct, w->run->out);
	jw_lit(w->run->out, "{\"traceEvents\":[\n");
	return 0;
}

static json_t *metadata(struct oex_writer *w)
{
	struct chrome *ch = w->priv;
	struct oex_run *run = w->run;
	bool complete = oex_complete(run);
	json_t *m = json_object(), *loss = json_array();

	for (uint32_t i = 0; i < run->nloss; i++)
		json_array_append_new(
			loss, json_pack("{s:f,s:f,s:I,s:I}", "from_us",
					run->loss[i].from_ns
						? (double)(run->loss[i].from_ns - run->t0_ns) / 1e3
						: 0.0,
					"to_us", (double)(run->loss[i].to_ns - run->t0_ns) / 1e3,
					"count", (json_int_t)run->loss[i].count, "packets",
					(json_int_t)run->loss[i].packets));
	json_object_set_new(m, "schema", json_string(OEX_SCHEMA_CHROME));
	json_object_set_new(m, "producer", json_string("offrx-export " OEX_VERSION));
	json_object_set_new(m, "input", json_string(run->input));
	json_object_set_new(m, "live", json_boolean(run->live));
	json_object_set_new(
		m, "clock",
		json_pack("{s:s,s:I,s:I,s:s}", "ts",
			  "microseconds since trace_start_ns (the first event of the trace)",
			  "trace_start_ns",
			  (json_int_t)(run->t0_ns == OEX_TS_NONE ? 0 : run->t0_ns),
			  "trace_start_raw", (json_int_t)run->t0_raw, "origin",
			  "trace_start_ns is nanoseconds since the Unix epoch; trace_start_raw the "
			  "same instant on the engine's CLOCK_MONOTONIC (deadline_ns values)"));
	json_object_set_new(m, "events", json_integer((json_int_t)run->events));
	json_object_set_new(m, "exported_events", json_integer((json_int_t)run->exported));
	json_object_set_new(m, "discarded_events", json_integer((json_int_t)run->discarded_events));
	json_object_set_new(m, "lost_packets", json_integer((json_int_t)run->lost_packets));
	json_object_set_new(m, "loss_windows", loss);
	json_object_set_new(m, "request_slices", json_integer((json_int_t)ch->slices));
	json_object_set_new(
		m, "open_at_end",
		json_pack("{s:I,s:s}", "requests", (json_int_t)ch->open_at_end, "note",
			  "requests still queued when the export ended: their slices end at the "
			  "last event and are named \"open at end\""));
	json_object_set_new(m, "not_completed_at_close",
			    json_integer((json_int_t)ch->not_completed));
	json_object_set_new(m, "posted_before_trace", json_integer((json_int_t)ch->unknown_posts));
	json_object_set_new(m, "complete", json_boolean(complete));
	json_object_set_new(m, "end", json_string(oex_end_name(run->end)));
	if (run->end == OEX_END_ERROR)
		json_object_set_new(m, "error", json_string(run->error));
	if (run->ndamage)
		json_object_set_new(m, "damaged", oex_damage_json(run));
	return m;
}

static int chrome_end(struct oex_writer *w)
{
	struct chrome *ch = w->priv;
	struct jw_out *o = w->run->out;
	struct cconn *c;
	size_t pos = 0;
	json_t *m;

	/* Closing a slice frees nothing in the table: iterate safely. */
	while ((c = oex_ctab_next(&ch->conns, &pos)))
		if (c->q.n)
			close_open(w, c, "open at end", w->run->last_ns, &ch->open_at_end);
	/* No displayTimeUnit: Perfetto reads "ns" there as the unit of ts, not of display. */
	jw_lit(o, "\n],\n\"metadata\":");
	m = metadata(w);
	if (!m || oex_put_json(o, m))
		jw_lit(o, "{\"complete\":false,\"error\":\"out of memory for the metadata\"}");
	json_decref(m);
	jw_lit(o, "}\n");
	return 0;
}

static void chrome_free(struct oex_writer *w)
{
	struct chrome *ch = w->priv;

	if (!ch)
		return;
	oex_ctab_fini(&ch->conns, cconn_free);
	oex_ctab_fini(&ch->queues, cconn_free);
	free(ch);
}

static const struct oex_writer_ops chrome_ops = {
	.name = "chrome",
	.begin = chrome_begin,
	.event = chrome_event,
	.end = chrome_end,
	.free = chrome_free,
};

int oex_chrome_new(struct oex_writer *w)
{
	struct chrome *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return -ENOMEM;
	oex_ctab_init(&ch->conns, sizeof(struct cconn));
	oex_ctab_init(&ch->queues, sizeof(struct cconn));
	w->ops = &chrome_ops;
	w->priv = ch;
	return 0;
}
