/* The reader: a worker thread runs the babeltrace2 graph with bt_graph_run_once() and hands
 * decoded events to the consumer through a bounded queue (it blocks when the queue is full,
 * it never drops). Live, it re-attaches when the relayd goes away or the graph ends early,
 * and says so with OTR_SOURCE events. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reader_int.h"

#define IDLE_MIN_MS	   5	/* live: first sleep after the graph said AGAIN */
#define IDLE_MAX_MS	   40	/* live: longest; with the 100 ms live timer, < 1 s latency */
#define SESSION_CHECK_MS   1000 /* live, idle: how often to ask the relayd about the session */
#define DRAIN_MS	   1000 /* live: quiet time after the session left the relayd's list */
#define BACKOFF_FIRST_MS   100	/* live: first wait before attaching again */
#define BACKOFF_MAX_MS	   2000
#define BACKOFF_RESET_MS   5000 /* live: an attachment that lasted this long was a good one */
#define SESSION_LIST_CHARS 200	/* of other session names quoted in messages */

struct otr_reader {
	/* Set by open, then read-only. */
	bool live;
	char input[4096];
	struct otr_live_url url;
	uint32_t cap;
	bool reconnect;
	int64_t session_wait_ms; /* < 0: forever */
	bt_logging_level lvl;
	struct otr_plugins plugins;
	bt_interrupter *intr;
	char **traces;
	size_t ntraces;
	struct otr_salvage salv; /* damaged stream files, and their trimmed copies */

	/* The worker's. */
	bt_graph *graph;
	struct otr_decoder dec;
	struct otr_event tmp;
	int64_t last_ts_ns;
	uint64_t last_ts_raw;
	pthread_t thread;
	bool started;

	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t can_pop, can_push, wake;
	struct otr_event *ring;
	uint64_t head, tail; /* events popped, pushed: the ring slot is the count % cap */
	bool stop;
	int done; /* 0 while running, then what otr_reader_next returns once the queue is empty */
	char err[1024];

	struct otr_reader_stats st; /* stat_add() by the worker */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static bool stopping(struct otr_reader *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

/* Queue one event; blocks while the queue is full. -ECANCELED when the reader closes. The
 * consumer is woken by wake_consumer(), once per batch, or here when the queue is full. */
static int push(struct otr_reader *r, const struct otr_event *ev)
{
	int ret = 0;

	pthread_mutex_lock(&r->mu);
	while (r->tail - r->head == r->cap && !r->stop) {
		pthread_cond_signal(&r->can_pop);
		pthread_cond_wait(&r->can_push, &r->mu);
	}
	if (r->stop) {
		ret = -ECANCELED;
		goto end;
	}
	memcpy(&r->ring[r->tail % r->cap], ev, otr_event_used(ev->kind));
	r->tail++;
end:
	pthread_mutex_unlock(&r->mu);
	return ret;
}

/* A decoded event with the events event set 3 leaves to readers (otr_expand), in order. */
static int push_expanded(struct otr_reader *r, const struct otr_event *ev)
{
	size_t before = 0, n = r->dec.x ? otr_expand(r->dec.x, ev, r->dec.der, &before) : 0;

	for (size_t i = 0; i < before; i++)
		if (push(r, &r->dec.der[i]))
			return -ECANCELED;
	if (push(r, ev))
		return -ECANCELED;
	for (size_t i = before; i < n; i++)
		if (push(r, &r->dec.der[i]))
			return -ECANCELED;
	return 0;
}

static void wake_consumer(struct otr_reader *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->tail != r->head)
		pthread_cond_signal(&r->can_pop);
	pthread_mutex_unlock(&r->mu);
}

/* An OTR_SOURCE event, stamped with the time of the last event before it. */
static int push_source(struct otr_reader *r, enum otr_source_state state, const char *msg)
{
	struct otr_event *ev = &r->tmp;

	memset(ev, 0, sizeof(*ev));
	ev->kind = OTR_SOURCE;
	ev->ts_ns = r->last_ts_ns;
	ev->ts_raw = r->last_ts_raw;
	ev->u.source.state = state;
	snprintf(ev->u.source.msg, sizeof(ev->u.source.msg), "%s", msg);
	if (push(r, ev))
		return -ECANCELED;
	wake_consumer(r);
	return 0;
}

/* The worker is done: a last OTR_SOURCE event, then status for otr_reader_next(). */
static void finish(struct otr_reader *r, int status, enum otr_source_state state, const char *msg)
{
	if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
		return; /* said already (a refused trace stops the worker from inside a batch) */
	if (!stopping(r))
		push_source(r, state, msg);
	pthread_mutex_lock(&r->mu);
	snprintf(r->err, sizeof(r->err), "%s", msg);
	r->done = status;
	pthread_cond_broadcast(&r->can_pop);
	pthread_mutex_unlock(&r->mu);
}

static void finishf(struct otr_reader *r, int status, enum otr_source_state state, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
static void finishf(struct otr_reader *r, int status, enum otr_source_state state, const char *fmt,
		    ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(r, status, state, msg);
}

/* Sleep ms on the worker, cut short by otr_reader_close(). */
static void idle_wait(struct otr_reader *r, int ms)
{
	struct timespec until = deadline_in(ms);

	pthread_mutex_lock(&r->mu);
	if (!r->stop)
		pthread_cond_timedwait(&r->wake, &r->mu, &until);
	pthread_mutex_unlock(&r->mu);
}

/* The simple sink's consume function: decode a batch, queue what is ours. */
static bt_graph_simple_sink_component_consume_func_status consume(bt_message_iterator *it,
								  void *user)
{
	struct otr_reader *r = user;
	bt_graph_simple_sink_component_consume_func_status status =
		BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
	bt_message_array_const msgs;
	uint64_t count = 0;

	switch (bt_message_iterator_next(it, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
	default:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	for (uint64_t i = 0; i < count; i++) {
		if (status == BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK) {
			switch (otr_decode(&r->dec, msgs[i], &r->tmp)) {
			case OTR_DECODE_OK:
				if (r->tmp.ts_ns || r->tmp.ts_raw) {
					r->last_ts_ns = r->tmp.ts_ns;
					r->last_ts_raw = r->tmp.ts_raw;
				}
				if (push_expanded(r, &r->tmp))
					/* closing: end the graph, the worker sees stop */
					status =
						BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
				break;
			case OTR_DECODE_SKIP:
				break;
			case OTR_DECODE_NOMEM:
				status =
					BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
				break;
			case OTR_DECODE_NEWER:
				finishf(r, -EPROTO, OTR_SRC_ERROR,
					"%s was written by an engine with trace event set %u; this "
					"offrx reads event sets 1 to %d: read it with the offrx of "
					"that engine or a newer one",
					r->input, r->dec.newer_set, OTR_EVENT_SET);
				__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
				status = BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
				break;
			}
		}
		bt_message_put_ref(msgs[i]);
	}
	wake_consumer(r);
	return status;
}

static void run_offline(struct otr_reader *r)
{
	bt_graph_run_once_status st;
	char why[1024], damage[900];

	for (;;) {
		if (stopping(r))
			goto stopped;
		st = bt_graph_run_once(r->graph);
		if (st == BT_GRAPH_RUN_ONCE_STATUS_OK)
			continue;
		if (st == BT_GRAPH_RUN_ONCE_STATUS_AGAIN) {
			idle_wait(r, 1);
			continue;
		}
		if (stopping(r))
			goto stopped;
		if (st == BT_GRAPH_RUN_ONCE_STATUS_END)
			break;
		otr_bt_error_take(why, sizeof(why), 2);
		otr_salvage_describe(&r->salv, damage, sizeof(damage));
		finishf(r, -EIO, OTR_SRC_ERROR,
			"cannot read on in the trace %s after %llu events: %s%s%s", r->input,
			(unsigned long long)r->st.events,
			st == BT_GRAPH_RUN_ONCE_STATUS_MEMORY_ERROR ? "out of memory"
			: why[0]				    ? why
								    : "babeltrace2 failed",
			damage[0] ? "; also, " : "", damage);
		return;
	}
	if (r->salv.ndamage) {
		/* What was whole has been read: the end is an error all the same, the trace is
		 * not all there. */
		otr_salvage_describe(&r->salv, damage, sizeof(damage));
		finishf(r, -EIO, OTR_SRC_ERROR,
			"the trace %s is damaged (%llu offrx events read, up to the damage): %s",
			r->input, (unsigned long long)r->st.offrx_events, damage);
		return;
	}
	if (!__atomic_load_n(&r->st.offrx_events, __ATOMIC_RELAXED) && !r->dec.offrx_unknown) {
		if (r->st.events)
			finishf(r, -ENOMSG, OTR_SRC_ERROR,
				"no offrx events in %s: its %llu events come from other providers "
				"(%s, ...): record with 'offrx-trace start' or enable 'offrx:*'",
				r->input, (unsigned long long)r->st.events, r->dec.other_name);
		else
			finishf(r, -ENOMSG, OTR_SRC_ERROR,
				"no offrx events in %s: the trace holds no event at all (did the "
				"engine run while the session was started?)",
				r->input);
		return;
	}
	finishf(r, -ENODATA, OTR_SRC_END, "end of the trace %s (%llu offrx events)", r->input,
		(unsigned long long)r->st.offrx_events);
	return;
stopped:
	finish(r, -ECANCELED, OTR_SRC_END, "the reader was closed");
}

/* Does the relayd list our session? 1 yes, 0 no (others named in list), < 0 unreachable. */
static int session_listed(struct otr_reader *r, char *list, size_t listlen, char *why,
			  size_t whylen)
{
	struct otr_live_url u;
	char **urls, dummy[8];
	size_t n;
	int ret = otr_query_sessions(&r->plugins, r->url.relay, r->intr, r->lvl, &urls, &n, why,
				     whylen);

	if (ret < 0)
		return ret;
	ret = 0;
	if (listlen)
		list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (otr_live_url_parse(urls[i], &u, true, dummy, sizeof(dummy)))
			continue;
		if (!strcmp(u.session, r->url.session) && !strcmp(u.hostname, r->url.hostname))
			ret = 1;
		else if (listlen && strlen(list) < SESSION_LIST_CHARS)
			snprintf(list + strlen(list), listlen - strlen(list), "%s%s/%s",
				 list[0] ? ", " : "", u.hostname, u.session);
	}
	otr_paths_free(urls, n);
	return ret;
}

enum live_status {
	LIVE_RUNNING = 0,     /* nothing to report: go on */
	LIVE_STOPPED = 1,     /* the reader is closing */
	LIVE_ENDED = 2,	      /* the session ended on the relayd */
	LIVE_LOST = -1,	      /* lost the relayd or the attachment (why says how): attach again */
	LIVE_NO_SESSION = -2, /* the session did not appear in time */
};

/* What the live worker keeps across attachments. */
struct live_state {
	int64_t wait_end; /* give up waiting for a never-seen session then; < 0: never */
	bool ever_seen;	  /* the session was listed, or sent events, at some point */
	bool lost;	  /* a loss was reported: the next attachment is a reconnection */
	bool seen;	  /* ... in this attachment */
	int64_t gone_since;
	uint64_t gone_events;
	char list[SESSION_LIST_CHARS + 64]; /* the other sessions the relayd serves */
};

static void no_session_why(struct otr_reader *r, const struct live_state *ls, char *why,
			   size_t whylen)
{
	snprintf(why, whylen,
		 "no session '%s' of host '%s' on lttng-relayd at %s (it serves: %s): check the "
		 "URL with 'offrx-trace-dump --list %s'",
		 r->url.session, r->url.hostname, r->url.relay,
		 ls->list[0] ? ls->list : "no session", r->url.relay);
}

/*
 * While the graph idles, ask the relayd about the session now and then. src.ctf.lttng-live
 * with session-not-found-action=continue does not end when the session is destroyed (it
 * waits for another of that name), so a session the relayd stopped listing, and that sent
 * nothing for DRAIN_MS more, is over; one never seen in time was never there.
 */
static enum live_status idle_check(struct otr_reader *r, struct live_state *ls, uint64_t events,
				   char *why, size_t whylen)
{
	int64_t t = now_ms();
	char qwhy[512];
	int listed = session_listed(r, ls->list, sizeof(ls->list), qwhy, sizeof(qwhy));

	bt_current_thread_clear_error(); /* an unanswered query: the graph will say more */
	if (listed == 1) {
		ls->seen = ls->ever_seen = true;
		ls->gone_since = 0;
	} else if (listed == 0 && ls->seen) {
		if (!ls->gone_since || events != ls->gone_events) {
			ls->gone_since = t;
			ls->gone_events = events;
		} else if (t - ls->gone_since >= DRAIN_MS) {
			return LIVE_ENDED;
		}
	} else if (listed == 0 && !ls->ever_seen && ls->wait_end >= 0 && t >= ls->wait_end) {
		no_session_why(r, ls, why, whylen);
		return LIVE_NO_SESSION;
	}
	return LIVE_RUNNING;
}

/* The graph ended or failed: say why, asking the relayd when the graph just ended. */
static enum live_status graph_stopped(struct otr_reader *r, struct live_state *ls,
				      bt_graph_run_once_status st, char *why, size_t whylen)
{
	char qwhy[512];
	int listed;

	if (st != BT_GRAPH_RUN_ONCE_STATUS_END) {
		otr_bt_error_take(qwhy, sizeof(qwhy), 1);
		if (strstr(qwhy, "already a viewer attached"))
			snprintf(why, whylen,
				 "another viewer is attached to session '%s' (lttng-relayd serves "
				 "one per session): close it",
				 r->url.session);
		else
			snprintf(why, whylen, "lost lttng-relayd at %s (%s)", r->url.relay,
				 qwhy[0] ? qwhy : "babeltrace2 failed");
		return LIVE_LOST;
	}
	/* Ended: the session is gone, or the relayd, or babeltrace2 2.0 ended the graph on a
	 * late message. */
	listed = session_listed(r, ls->list, sizeof(ls->list), why, whylen);
	if (listed < 0)
		return LIVE_LOST;
	if (listed == 1) {
		snprintf(why, whylen,
			 "the lttng-live graph ended while lttng-relayd at %s still serves session "
			 "'%s' (babeltrace2 2.0 ends it on a late message)",
			 r->url.relay, r->url.session);
		return LIVE_LOST;
	}
	if (ls->seen)
		return LIVE_ENDED;
	snprintf(why, whylen,
		 "lttng-relayd at %s ended the attachment before session '%s' appeared",
		 r->url.relay, r->url.session);
	return LIVE_LOST;
}

static enum live_status run_attached(struct otr_reader *r, struct live_state *ls, char *why,
				     size_t whylen)
{
	uint64_t events0 = __atomic_load_n(&r->st.events, __ATOMIC_RELAXED);
	int64_t last_check = now_ms();
	int idle = IDLE_MIN_MS;
	enum live_status ls_st;
	bt_graph_run_once_status st;

	ls->gone_since = 0;
	for (;;) {
		uint64_t events;

		if (stopping(r))
			return LIVE_STOPPED;
		st = bt_graph_run_once(r->graph);
		events = __atomic_load_n(&r->st.events, __ATOMIC_RELAXED) +
			 __atomic_load_n(&r->st.discarded_events, __ATOMIC_RELAXED);
		if (!ls->seen && events != events0)
			ls->seen = ls->ever_seen = true;
		if (st == BT_GRAPH_RUN_ONCE_STATUS_OK) {
			idle = IDLE_MIN_MS;
			continue;
		}
		if (st != BT_GRAPH_RUN_ONCE_STATUS_AGAIN)
			return stopping(r) ? LIVE_STOPPED : graph_stopped(r, ls, st, why, whylen);
		if (now_ms() - last_check >= SESSION_CHECK_MS) {
			last_check = now_ms();
			ls_st = idle_check(r, ls, events, why, whylen);
			if (ls_st != LIVE_RUNNING)
				return ls_st;
		}
		idle_wait(r, idle);
		if (idle < IDLE_MAX_MS)
			idle += IDLE_MIN_MS;
	}
}

/* One attachment: ask the relayd, build the graph, say so, run it until it stops. */
static enum live_status attach(struct otr_reader *r, struct live_state *ls, char *why,
			       size_t whylen)
{
	char msg[sizeof(((struct otr_event *)0)->u.source.msg)];
	enum live_status st;
	int listed;

	listed = session_listed(r, ls->list, sizeof(ls->list), why, whylen);
	if (listed < 0)
		return LIVE_LOST;
	if (!listed && !ls->ever_seen && ls->wait_end >= 0 && now_ms() >= ls->wait_end) {
		no_session_why(r, ls, why, whylen);
		return LIVE_NO_SESSION;
	}
	if (otr_graph_live(&r->plugins, r->input, r->intr, r->lvl, consume, r, &r->graph, why,
			   whylen))
		return LIVE_LOST;
	otr_decoder_reset(&r->dec);
	if (ls->lost)
		stat_add(&r->st.reconnects, 1);
	if (listed)
		snprintf(msg, sizeof(msg), "%s session '%s' on lttng-relayd at %s",
			 ls->lost ? "attached again to" : "attached to", r->url.session,
			 r->url.relay);
	else
		snprintf(msg, sizeof(msg),
			 "connected%s to lttng-relayd at %s; waiting for session '%s' (it serves: "
			 "%s)",
			 ls->lost ? " again" : "", r->url.relay, r->url.session,
			 ls->list[0] ? ls->list : "no session");
	ls->lost = false;
	ls->seen = listed == 1;
	ls->ever_seen |= ls->seen;
	st = push_source(r, OTR_SRC_CONNECTED, msg) ? LIVE_STOPPED
						    : run_attached(r, ls, why, whylen);
	BT_GRAPH_PUT_REF_AND_RESET(r->graph);
	return st;
}

/* Attach, and attach again with backoff after each loss, until the session ends, the reader
 * closes, or (without reconnection) the first loss. */
static void run_live(struct otr_reader *r)
{
	struct live_state ls = { .wait_end = r->session_wait_ms < 0
						     ? -1
						     : now_ms() + r->session_wait_ms };
	char why[1024], msg[1200];
	unsigned int attempt = 0;
	int delay = 0;

	for (;;) {
		int64_t t_attach = now_ms();
		enum live_status st = attach(r, &ls, why, sizeof(why));

		bt_current_thread_clear_error();
		if (st == LIVE_STOPPED || stopping(r)) {
			finish(r, -ECANCELED, OTR_SRC_END, "the reader was closed");
			return;
		}
		if (st == LIVE_ENDED) {
			finishf(r, -ENODATA, OTR_SRC_END,
				"live session '%s' ended: lttng-relayd at %s no longer serves it",
				r->url.session, r->url.relay);
			return;
		}
		if (st == LIVE_NO_SESSION) {
			finish(r, -ENOENT, OTR_SRC_ERROR, why);
			return;
		}
		if (!r->reconnect) {
			finishf(r, -EIO, OTR_SRC_ERROR, "%s (reconnection is off)", why);
			return;
		}
		/* An attachment that lasted starts the backoff afresh; one that failed at once
		 * (a relayd that accepts and drops us) keeps it growing. */
		if (now_ms() - t_attach >= BACKOFF_RESET_MS)
			attempt = delay = 0;
		attempt++;
		delay = !delay ? BACKOFF_FIRST_MS : delay * 2;
		if (delay > BACKOFF_MAX_MS)
			delay = BACKOFF_MAX_MS;
		snprintf(msg, sizeof(msg), "%s; attaching again in %d ms (attempt %u)", why, delay,
			 attempt);
		if (push_source(r, OTR_SRC_LOST, msg)) {
			finish(r, -ECANCELED, OTR_SRC_END, "the reader was closed");
			return;
		}
		ls.lost = true;
		idle_wait(r, delay);
	}
}

static void *worker(void *arg)
{
	struct otr_reader *r = arg;

	if (r->live)
		run_live(r);
	else
		run_offline(r);
	BT_GRAPH_PUT_REF_AND_RESET(r->graph);
	return NULL;
}

static void reader_free(struct otr_reader *r)
{
	BT_GRAPH_PUT_REF_AND_RESET(r->graph);
	BT_INTERRUPTER_PUT_REF_AND_RESET(r->intr);
	otr_plugins_put(&r->plugins);
	otr_decoder_fini(&r->dec);
	otr_paths_free(r->traces, r->ntraces);
	otr_salvage_fini(&r->salv);
	pthread_cond_destroy(&r->can_pop);
	pthread_cond_destroy(&r->can_push);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->mu);
	free(r->ring);
	free(r);
}

static int init_sync(struct otr_reader *r)
{
	pthread_condattr_t ca;
	int ret;

	ret = pthread_mutex_init(&r->mu, NULL);
	if (ret)
		return -ret;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->can_pop, &ca);
	pthread_cond_init(&r->can_push, &ca);
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

int otr_reader_open(const struct otr_reader_opts *o, struct otr_reader **out, char *err,
		    size_t errlen)
{
	struct otr_reader_opts opts = { 0 };
	struct otr_reader *r = NULL;
	char **urls;
	size_t n;
	int ret;

	*out = NULL;
	if (!o || o->sz < offsetof(struct otr_reader_opts, queue_events) || !o->input ||
	    !o->input[0]) {
		snprintf(err, errlen, "no input: give a trace directory or a net:// live URL");
		return -EINVAL;
	}
	memcpy(&opts, o, o->sz < sizeof(opts) ? o->sz : sizeof(opts));
	r = calloc(1, sizeof(*r));
	if (!r || init_sync(r)) {
		free(r);
		snprintf(err, errlen, "out of memory opening the reader");
		return -ENOMEM;
	}
	r->live = otr_input_is_live(opts.input);
	snprintf(r->input, sizeof(r->input), "%s", opts.input);
	r->cap = opts.queue_events ? opts.queue_events : OTR_READER_DEFAULT_QUEUE;
	r->reconnect = !opts.no_live_reconnect;
	r->session_wait_ms =
		!opts.session_wait_ms ? OTR_READER_DEFAULT_SESSION_WAIT_MS : opts.session_wait_ms;
	r->lvl = opts.bt_verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE;
	otr_decoder_init(&r->dec, &r->st);
	r->ring = calloc(r->cap, sizeof(*r->ring));
	r->intr = bt_interrupter_create();
	if (!r->ring || !r->intr) {
		snprintf(err, errlen, "out of memory for a queue of %u events (%zu bytes each)",
			 r->cap, sizeof(*r->ring));
		ret = -ENOMEM;
		goto end;
	}

	if (r->live) {
		ret = otr_live_url_parse(r->input, &r->url, true, err, errlen);
		if (ret)
			goto end;
		ret = otr_plugins_load(&r->plugins, err, errlen);
		if (ret)
			goto end;
		/* Fail now if nobody answers there; a missing session is awaited (worker). */
		ret = otr_query_sessions(&r->plugins, r->url.relay, r->intr, r->lvl, &urls, &n, err,
					 errlen);
		if (ret < 0) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l,
				 ": start it ('lttng-relayd --daemonize'; 'offrx-trace start "
				 "--live' "
				 "does) or check the URL");
			goto end;
		}
		otr_paths_free(urls, n);
	} else {
		ret = otr_find_traces(r->input, &r->traces, &r->ntraces, err, errlen);
		if (ret < 0)
			goto end;
		ret = otr_salvage(&r->salv, r->traces, r->ntraces, err, errlen);
		if (ret)
			goto end;
		ret = otr_plugins_load(&r->plugins, err, errlen);
		if (ret)
			goto end;
		ret = otr_graph_offline(&r->plugins, r->traces, r->ntraces, r->intr, r->lvl,
					consume, r, &r->graph, err, errlen);
		if (ret)
			goto end;
	}
	ret = -pthread_create(&r->thread, NULL, worker, r);
	if (ret) {
		snprintf(err, errlen, "cannot start the reader's thread: %s", strerror(-ret));
		goto end;
	}
	r->started = true;
	*out = r;
end:
	if (ret)
		reader_free(r);
	return ret;
}

int otr_reader_next(struct otr_reader *r, struct otr_event *ev, int timeout_ms)
{
	struct timespec until;
	int ret = 0;

	if (timeout_ms > 0)
		until = deadline_in(timeout_ms);
	pthread_mutex_lock(&r->mu);
	while (r->tail == r->head && !r->done && timeout_ms) {
		if (timeout_ms < 0)
			pthread_cond_wait(&r->can_pop, &r->mu);
		else if (pthread_cond_timedwait(&r->can_pop, &r->mu, &until))
			break;
	}
	if (r->tail != r->head) {
		const struct otr_event *slot = &r->ring[r->head % r->cap];
		memcpy(ev, slot, otr_event_used(slot->kind));
		if (r->tail - r->head++ == r->cap)
			pthread_cond_signal(&r->can_push);
		ret = 1;
	} else {
		ret = r->done;
	}
	pthread_mutex_unlock(&r->mu);
	return ret;
}

const char *otr_reader_error(const struct otr_reader *r)
{
	return r->err;
}

size_t otr_reader_damage(const struct otr_reader *r, const struct otr_damage **out)
{
	*out = r->salv.damage;
	return r->salv.ndamage;
}

void otr_reader_stats(const struct otr_reader *r, struct otr_reader_stats *out)
{
	out->events = __atomic_load_n(&r->st.events, __ATOMIC_RELAXED);
	out->offrx_events = __atomic_load_n(&r->st.offrx_events, __ATOMIC_RELAXED);
	out->other_events = __atomic_load_n(&r->st.other_events, __ATOMIC_RELAXED);
	out->discarded_events = __atomic_load_n(&r->st.discarded_events, __ATOMIC_RELAXED);
	out->lost_packets = __atomic_load_n(&r->st.lost_packets, __ATOMIC_RELAXED);
	out->reconnects = __atomic_load_n(&r->st.reconnects, __ATOMIC_RELAXED);
}

void otr_reader_close(struct otr_reader *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r->can_push);
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->mu);
	bt_interrupter_set(r->intr);
	if (r->started)
		pthread_join(r->thread, NULL);
	reader_free(r);
}

int otr_list_sessions(const char *url, char ***urls, size_t *n, char *err, size_t errlen)
{
	struct otr_live_url u;
	struct otr_plugins p;
	int ret;

	*urls = NULL;
	*n = 0;
	ret = otr_live_url_parse(url, &u, false, err, errlen);
	if (ret)
		return ret;
	ret = otr_plugins_load(&p, err, errlen);
	if (ret)
		return ret;
	ret = otr_query_sessions(&p, u.relay, NULL, BT_LOGGING_LEVEL_NONE, urls, n, err, errlen);
	otr_plugins_put(&p);
	return ret;
}

void otr_free_sessions(char **urls, size_t n)
{
	otr_paths_free(urls, n);
}

const char *otr_source_state_name(enum otr_source_state s)
{
	switch (s) {
	case OTR_SRC_CONNECTED:
		return "connected";
	case OTR_SRC_LOST:
		return "lost";
	case OTR_SRC_END:
		return "end";
	case OTR_SRC_ERROR:
		return "error";
	}
	return "?";
}
