/* The source thread: pulls decoded events from tracer/reader and feeds the model under the
 * lock, in batches. A replay is paced by event time x speed against a replay clock that
 * pausing stops and seeking moves; live, it attaches to a relayd (picking an offrx session
 * when none was named) and attaches again when the session comes back. */
#include "view.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "whatif.h"

#ifdef OFFRX_VIEW_SESSION
#include "session.h"
#endif

#define BATCH	      128  /* events fed per lock */
#define RETRY_MS      2000 /* waiting for a relayd or a session */
#define POLL_MS	      100
#define LIVE_SLACK_NS 50000000LL

#define VS_WI_RING   8192
#define VS_WI_EVENTS 256 /* of the watched connection, replayed */
#define VS_WI_U	     48	 /* the part of otr_event.u the replay reads */

struct vs_wi_ev {
	uint64_t vpid, conn, req, ts_raw;
	int kind;
	uint32_t isn;
	unsigned char u[VS_WI_U];
};
_Static_assert(offsetof(struct otr_event, u.complete.last_fill_to_complete_ns) + 8 -
			       offsetof(struct otr_event, u) <=
		       VS_WI_U,
	       "the completion fits the what-if ring");
_Static_assert(sizeof(((struct otr_event *)0)->u) >= VS_WI_U, "otr_event.u is large enough");

struct vsource {
	pthread_mutex_t lock; /* the model and the fields below */
	pthread_cond_t cond;  /* pause, seek, stop */
	pthread_t thread;
	bool started;
	struct otr_model *m;
	struct vs_opts o;
	char input[512];
	char relay[512]; /* auto pick: the relayd asked for its sessions */
	struct vs_status st;
	uint64_t version; /* atomic */
	bool stop;
	/* the replay clock */
	bool anchored;
	int64_t anchor_wall, anchor_trace, hold_pos, last_fed;
	bool seek_back;
	int64_t seek_to;
	bool finished;
	/* what if: the last VS_WI_RING events of any connection, from which a low-priority thread
	 * replays the watched one's (its detail is shown) with half and double the push timer */
	struct vs_wi_ev *ring;
	uint64_t ring_n; /* events ever pushed (since the last seek back) */
	bool wi_watch;
	uint64_t wi_key[2], wi_done_n;
	struct vs_whatif wi;
	pthread_t wi_thread;
	bool wi_started;
	/* the thread's own */
	struct otr_event batch[BATCH];
	unsigned nbatch;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct otr_model *new_model(const struct vs_opts *o)
{
	struct otr_model_opts mo = { .sz = sizeof(mo),
				     .recent = o->recent ? o->recent : VD_MAX_RECENT,
				     .lost_horizon_ns = o->horizon_ns };
	return otr_model_new(&mo);
}

static void setmsg(struct vsource *s, enum vs_state state, const char *msg)
{
	pthread_mutex_lock(&s->lock);
	s->st.state = state;
	if (msg)
		snprintf(s->st.msg, sizeof(s->st.msg), "%s", msg);
	__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
}

static bool stopping(struct vsource *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* Sleep up to ms, cut short by vs_stop(), vs_pause() or vs_seek(). Lock held. */
static void wait_locked(struct vsource *s, int64_t ms)
{
	if (s->stop)
		return;
	if (ms < 0) {
		pthread_cond_wait(&s->cond, &s->lock);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

static void sleep_ms(struct vsource *s, int64_t ms)
{
	pthread_mutex_lock(&s->lock);
	wait_locked(s, ms);
	pthread_mutex_unlock(&s->lock);
}

/* ---- what if ---- */

static void wi_push(struct vsource *s, const struct otr_event *ev) /* lock held */
{
	if (!s->ring || !ev->conn)
		return;
	struct vs_wi_ev *r = &s->ring[s->ring_n++ % VS_WI_RING];
	r->vpid = ev->vpid;
	r->conn = ev->conn;
	r->req = ev->req;
	r->ts_raw = ev->ts_raw;
	r->kind = ev->kind;
	r->isn = ev->kind == OTR_CONN_OPEN ? ev->u.open.isn : 0;
	memcpy(r->u, &ev->u, VS_WI_U);
}

static void wi_unpack(const struct vs_wi_ev *r, struct otr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = r->kind;
	ev->vpid = r->vpid;
	ev->conn = r->conn;
	ev->req = r->req;
	ev->ts_raw = r->ts_raw;
	memcpy(&ev->u, r->u, VS_WI_U);
	if (r->kind == OTR_CONN_OPEN)
		ev->u.open.isn = r->isn;
}

static void wi_fill(struct vs_whatif_run *o, uint64_t timer_ns, const struct wi_result *res)
{
	o->timer_ns = (int64_t)timer_ns;
	o->completed = res->completed;
	o->share = res->timer_share;
	o->lf_p99_ns = res->lf2c_p99_ns;
	o->p2c_p99_ns = res->p2c_p99_ns;
}

/* Every second, replay the watched connection's recent history off the lock. */
static void *whatif_main(void *arg)
{
	struct vsource *s = arg;
	struct vs_wi_ev *buf = malloc(VS_WI_EVENTS * sizeof(*buf));
	struct otr_event *ev = malloc(sizeof(*ev));

	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19); /* the UI first */
	pthread_mutex_lock(&s->lock);
	while (buf && ev && !s->stop) {
		wait_locked(s, 1000);
		if (s->stop)
			break;
		if (!s->wi_watch || s->wi_done_n == s->ring_n)
			continue;
		uint64_t key[2] = { s->wi_key[0], s->wi_key[1] }, timer_ns = 0;
		size_t n = 0;
		s->wi_done_n = s->ring_n;
		uint64_t lo = s->ring_n > VS_WI_RING ? s->ring_n - VS_WI_RING : 0;
		/* The push timer is the engine's: the latest start on any of its connections
		 * tells its value, also for a connection whose own history has none. */
		uint64_t engine_timer_ns = 0;
		for (uint64_t i = s->ring_n; i > lo; i--) {
			const struct vs_wi_ev *r = &s->ring[(i - 1) % VS_WI_RING];
			if (r->vpid != key[0])
				continue;
			if (r->conn == key[1] && n < VS_WI_EVENTS)
				buf[n++] = *r;
			if (!engine_timer_ns) {
				wi_unpack(r, ev);
				if (ev->kind == OTR_TIMER_START &&
				    ev->u.timer.deadline_ns > ev->ts_raw)
					engine_timer_ns =
						(ev->u.timer.deadline_ns - ev->ts_raw + 500000) /
						1000000 * 1000000;
			}
		}
		timer_ns = engine_timer_ns;
		pthread_mutex_unlock(&s->lock);

		struct vs_whatif w = { .vpid = key[0], .id = key[1], .nevents = (uint32_t)n };
		w.timer_known = timer_ns >= 2000000;
		w.done = true;
		struct wi_result half, dbl;
		if (n && timer_ns >= 2000000) {
			struct wi_conn c;
			int ret = 0;
			memset(&c, 0, sizeof(c));
			c.k.vpid = key[0];
			c.k.conn = key[1];
			for (size_t i = n; i-- > 0 && !ret;) { /* oldest first */
				wi_unpack(&buf[i], ev);
				if (i == n - 1)
					wi_conn_init(&c, (int64_t)ev->ts_raw);
				ret = wi_conn_event(&c, ev);
			}
			if (!ret && c.nposts && !whatif_replay_conn(&c, timer_ns / 2, &half) &&
			    !whatif_replay_conn(&c, timer_ns * 2, &dbl)) {
				w.valid = true;
				w.timer_ns = (int64_t)timer_ns;
				wi_fill(&w.v[0], timer_ns / 2, &half);
				wi_fill(&w.v[1], timer_ns * 2, &dbl);
			}
			wi_conn_fini(&c);
		}

		pthread_mutex_lock(&s->lock);
		if (s->wi_watch && s->wi_key[0] == key[0] && s->wi_key[1] == key[1]) {
			s->wi = w;
			__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&s->lock);
	free(buf);
	free(ev);
	return NULL;
}

void vs_whatif_watch(struct vsource *s, const uint64_t *key)
{
	if (!key) {
		s->wi_watch = false;
		return;
	}
	if (s->wi_watch && s->wi_key[0] == key[0] && s->wi_key[1] == key[1])
		return;
	s->wi_watch = true;
	s->wi_key[0] = key[0];
	s->wi_key[1] = key[1];
	s->wi_done_n = UINT64_MAX;
	memset(&s->wi, 0, sizeof(s->wi));
}

void vs_whatif(const struct vsource *s, struct vs_whatif *out)
{
	*out = s->wi;
}

static void flush(struct vsource *s)
{
	if (!s->nbatch)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->nbatch; i++) {
		const struct otr_event *ev = &s->batch[i];
		otr_model_feed(s->m, ev);
		wi_push(s, ev);
		if (ev->kind != OTR_SOURCE && ev->ts_ns > s->last_fed)
			s->last_fed = ev->ts_ns;
		if (ev->kind != OTR_SOURCE && s->st.live && s->st.state != VS_LIVE)
			s->st.state = VS_LIVE; /* events flow: the session is there */
		if (ev->kind == OTR_SOURCE && s->st.live) {
			if (ev->u.source.state == OTR_SRC_CONNECTED)
				/* attached to the relayd, the session not there yet */
				s->st.state = strstr(ev->u.source.msg, "waiting for session")
						      ? VS_WAITING
						      : VS_LIVE;
			else if (ev->u.source.state == OTR_SRC_LOST)
				s->st.state = VS_RECONNECTING;
			snprintf(s->st.msg, sizeof(s->st.msg), "%s", ev->u.source.msg);
		}
	}
	s->st.fed += s->nbatch;
	s->nbatch = 0;
	__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
}

static struct otr_event *slot(struct vsource *s)
{
	if (s->nbatch == BATCH)
		flush(s);
	return &s->batch[s->nbatch];
}

/* ---- replay ---- */

/* The trace time the replay may have reached at wall time now. Lock held. */
static int64_t allowed_pos(const struct vsource *s, int64_t now)
{
	if (!s->anchored)
		return INT64_MIN;
	if (s->st.paused)
		return s->hold_pos;
	if (s->o.speed <= 0)
		return INT64_MAX;
	return s->anchor_trace + (int64_t)((double)(now - s->anchor_wall) * s->o.speed);
}

/* The replay clock shown: where the replay is. Lock held. */
static int64_t replay_pos(const struct vsource *s)
{
	if (!s->anchored)
		return OTR_TS_NONE;
	if (s->st.end_ns != OTR_TS_NONE && !s->seek_back)
		return s->st.end_ns;
	int64_t p = allowed_pos(s, mono_ns());
	if (p == INT64_MAX || p < s->last_fed)
		p = s->last_fed; /* as fast as possible, or the reader is behind the clock */
	return p;
}

static int open_reader(struct vsource *s, struct otr_reader **r)
{
	char err[512];
	struct otr_reader_opts ro = { .sz = sizeof(ro), .input = s->input };
	int ret = otr_reader_open(&ro, r, err, sizeof(err));
	if (ret) {
		pthread_mutex_lock(&s->lock);
		s->st.state = VS_ERROR;
		s->st.err = ret;
		snprintf(s->st.msg, sizeof(s->st.msg), "%s", err);
		s->finished = true;
		__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&s->lock);
	}
	return ret;
}

/* Wait, at the end of a replay, for a seek back (true) or the stop (false). */
static bool wait_at_end(struct vsource *s)
{
	pthread_mutex_lock(&s->lock);
	while (!s->stop && !s->seek_back)
		wait_locked(s, -1);
	bool again = !s->stop;
	pthread_mutex_unlock(&s->lock);
	return again;
}

static void replay(struct vsource *s)
{
	struct otr_reader *r = NULL;
	int64_t to_abs = INT64_MAX;
again:
	if (open_reader(s, &r))
		return;
	for (;;) {
		struct otr_event *ev = slot(s);
		int n = otr_reader_next(r, ev, POLL_MS);
		if (stopping(s))
			break;
		if (n == 0) {
			flush(s);
			continue;
		}
		if (n < 0 || (ev->kind != OTR_SOURCE && ev->ts_ns > to_abs)) {
			flush(s);
			pthread_mutex_lock(&s->lock);
			if (n < 0 && n != -ENODATA) {
				s->st.state = VS_ERROR;
				s->st.err = n;
				snprintf(s->st.msg, sizeof(s->st.msg), "%s", otr_reader_error(r));
			} else {
				s->st.state = VS_ENDED;
				if (n < 0)
					snprintf(s->st.msg, sizeof(s->st.msg), "%s",
						 otr_reader_error(r));
				else
					snprintf(s->st.msg, sizeof(s->st.msg),
						 "replay stopped at --to");
			}
			s->st.end_ns = n < 0 || !s->anchored ? s->last_fed : to_abs;
			if (s->st.paused)
				s->hold_pos = s->st.end_ns;
			s->finished = true;
			__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&s->lock);
			if (s->st.state == VS_ERROR && s->o.once)
				break;
			if (!wait_at_end(s))
				break;
			otr_reader_close(r);
			r = NULL;
			goto back;
		}
		if (ev->kind == OTR_SOURCE) {
			s->nbatch++;
			continue;
		}
		pthread_mutex_lock(&s->lock);
		if (!s->anchored) {
			s->st.trace_start_ns = ev->ts_ns;
			s->anchored = true;
			s->anchor_wall = mono_ns();
			s->anchor_trace = ev->ts_ns + s->o.from_ns;
			s->hold_pos = s->anchor_trace;
			if (s->o.to_ns >= 0)
				to_abs = ev->ts_ns + s->o.to_ns;
		}
		/* Pace: an event is fed once the replay clock has reached its time. */
		for (;;) {
			if (s->stop || s->seek_back)
				break;
			int64_t now = mono_ns(), allow = allowed_pos(s, now);
			if (ev->ts_ns <= allow)
				break;
			pthread_mutex_unlock(&s->lock);
			flush(s);
			if (ev != &s->batch[0]) { /* it waits alone at the head of the batch */
				s->batch[0] = *ev;
				ev = &s->batch[0];
			}
			pthread_mutex_lock(&s->lock);
			int64_t ms = -1;
			if (!s->st.paused) {
				double wait = (double)(ev->ts_ns - allow) / s->o.speed / 1e6;
				ms = wait > POLL_MS ? POLL_MS : (int64_t)wait + 1;
			}
			wait_locked(s, ms);
		}
		bool back = s->seek_back;
		pthread_mutex_unlock(&s->lock);
		if (stopping(s))
			break;
		if (back) {
			s->nbatch = 0;
			otr_reader_close(r);
			r = NULL;
			goto back;
		}
		s->nbatch++;
	}
	flush(s);
	otr_reader_close(r);
	return;
back:
	/* Seek back: a new model, replayed from the start up to the new position. */
	pthread_mutex_lock(&s->lock);
	struct otr_model *m = new_model(&s->o);
	if (m) {
		otr_model_free(s->m);
		s->m = m;
	}
	s->seek_back = false;
	s->ring_n = 0;
	s->last_fed = INT64_MIN;
	s->st.end_ns = OTR_TS_NONE;
	s->st.state = VS_REPLAY;
	s->st.fed = 0;
	s->finished = false;
	if (s->st.paused) {
		s->hold_pos = s->seek_to;
	} else {
		s->anchor_wall = mono_ns();
		s->anchor_trace = s->seek_to;
	}
	__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	goto again;
}

/* ---- live ---- */

static const char *url_session(const char *url)
{
	const char *p = strrchr(url, '/');
	return p ? p + 1 : url;
}

static void live_timer_lookup(struct vsource *s)
{
#ifdef OFFRX_VIEW_SESSION
	/* Only a local relayd's sessions belong to our session daemon. */
	const char *h = s->input + strlen("net://");
	if (strncmp(h, "localhost", 9) && strncmp(h, "127.0.0.1", 9))
		return;
	struct offrx_session_info *info = calloc(1, sizeof(*info));
	char err[256];
	if (info && !offrx_session_status(url_session(s->input), info, err, sizeof(err)) &&
	    info->live) {
		pthread_mutex_lock(&s->lock);
		s->st.live_timer_us = info->live_timer_us;
		pthread_mutex_unlock(&s->lock);
	}
	free(info);
#else
	(void)s;
#endif
}

/* Auto mode: the newest session whose name starts with "offrx" on the local relayd.
 * 1 found (s->input set), 0 none yet, < 0 no relayd; msg says which. */
static int pick_session(struct vsource *s, char *msg, size_t len)
{
	char **urls = NULL, err[512];
	size_t n = 0;
	int ret = otr_list_sessions(s->relay, &urls, &n, err, sizeof(err));
	if (ret < 0) {
		snprintf(msg, len,
			 "no lttng-relayd at %s (%s): start a live session with 'offrx-recv "
			 "--trace-live' or 'offrx-trace start --live'",
			 s->relay, err);
		return ret;
	}
	const char *pick = NULL;
	char names[256] = "";
	for (size_t i = 0; i < n; i++) {
		const char *name = url_session(urls[i]);
		if (!strncmp(name, "offrx", 5))
			pick = urls[i];
		size_t l = strlen(names);
		if (l < sizeof(names) - 2)
			snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "", name);
	}
	if (pick) {
		snprintf(s->input, sizeof(s->input), "%s", pick);
		ret = 1;
	} else {
		snprintf(msg, len,
			 "waiting for an offrx live session on lttng-relayd at %s (it serves: "
			 "%s): start one with 'offrx-recv --trace-live' or 'offrx-trace start "
			 "--live'",
			 s->relay, n ? names : "no session");
		ret = 0;
	}
	otr_free_sessions(urls, n);
	return ret;
}

static void fail(struct vsource *s, int err, const char *msg)
{
	pthread_mutex_lock(&s->lock);
	s->st.state = VS_ERROR;
	s->st.err = err;
	snprintf(s->st.msg, sizeof(s->st.msg), "%s", msg);
	s->finished = true;
	__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
}

static void live(struct vsource *s)
{
	char msg[768];
	while (!stopping(s)) {
		if (s->st.auto_pick) {
			int ret = pick_session(s, msg, sizeof(msg));
			if (ret <= 0) {
				if (s->o.once) {
					fail(s, ret ? ret : -ENOENT, msg);
					return;
				}
				char m2[900];
				snprintf(m2, sizeof(m2), "%s; retrying every %d s", msg,
					 RETRY_MS / 1000);
				setmsg(s, VS_WAITING, m2);
				sleep_ms(s, RETRY_MS);
				continue;
			}
			pthread_mutex_lock(&s->lock);
			snprintf(s->st.where, sizeof(s->st.where), "%s", s->input);
			pthread_mutex_unlock(&s->lock);
		}
		struct otr_reader *r = NULL;
		struct otr_reader_opts ro = { .sz = sizeof(ro),
					      .input = s->input,
					      .session_wait_ms = s->o.once ? 3000 : -1 };
		int ret = otr_reader_open(&ro, &r, msg, sizeof(msg));
		if (ret) {
			if (s->o.once) {
				fail(s, ret, msg);
				return;
			}
			char m2[900];
			snprintf(m2, sizeof(m2), "%s; retrying every %d s", msg, RETRY_MS / 1000);
			setmsg(s, VS_WAITING, m2);
			sleep_ms(s, RETRY_MS);
			continue;
		}
		snprintf(msg, sizeof(msg), "attaching to %s", s->input);
		setmsg(s, VS_CONNECTING, msg);
		live_timer_lookup(s);
		for (;;) {
			struct otr_event *ev = slot(s);
			int n = otr_reader_next(r, ev, POLL_MS);
			if (stopping(s))
				break;
			if (n == 1) {
				s->nbatch++;
				continue;
			}
			flush(s);
			if (n == 0)
				continue;
			snprintf(msg, sizeof(msg), "%s", otr_reader_error(r));
			if (n == -ENODATA && s->st.auto_pick && !s->o.once) {
				char m2[900];
				snprintf(m2, sizeof(m2), "%s; waiting for the next offrx session",
					 msg);
				setmsg(s, VS_WAITING, m2);
				sleep_ms(s, RETRY_MS);
			} else if (n == -ENODATA) {
				pthread_mutex_lock(&s->lock);
				s->st.state = VS_ENDED;
				snprintf(s->st.msg, sizeof(s->st.msg), "%s", msg);
				s->finished = true;
				__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
				pthread_mutex_unlock(&s->lock);
				otr_reader_close(r);
				return;
			} else if (s->o.once) {
				fail(s, n, msg);
				otr_reader_close(r);
				return;
			} else {
				char m2[900];
				snprintf(m2, sizeof(m2), "%s; retrying every %d s", msg,
					 RETRY_MS / 1000);
				setmsg(s, VS_WAITING, m2);
				sleep_ms(s, RETRY_MS);
			}
			break;
		}
		otr_reader_close(r);
	}
	flush(s);
}

static void *source_main(void *arg)
{
	struct vsource *s = arg;
	if (s->st.live)
		live(s);
	else
		replay(s);
	return NULL;
}

int vs_start(const struct vs_opts *o, struct vsource **out, char *err, size_t errlen)
{
	struct vsource *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->o = *o;
	if (!s->o.horizon_ns)
		s->o.horizon_ns = 10000000000LL;
	s->m = new_model(&s->o);
	if (!s->m) {
		free(s);
		snprintf(err, errlen, "out of memory for the model");
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* No input, or a relayd without a session (net://HOST[:PORT]): pick the offrx one. */
	s->st.auto_pick = !o->input || (otr_input_is_live(o->input) && !strstr(o->input, "/host/"));
	snprintf(s->relay, sizeof(s->relay), "%s", o->input ? o->input : VIEW_LOCAL_RELAYD);
	s->st.live = !o->input || otr_input_is_live(o->input);
	s->st.speed = o->speed;
	s->st.paused = o->start_paused;
	s->st.trace_start_ns = s->st.pos_ns = s->st.end_ns = OTR_TS_NONE;
	s->last_fed = INT64_MIN;
	s->st.state = s->st.live ? VS_CONNECTING : VS_REPLAY;
	snprintf(s->input, sizeof(s->input), "%s", o->input ? o->input : VIEW_LOCAL_RELAYD);
	snprintf(s->st.where, sizeof(s->st.where), "%s", s->input);
	int ret = pthread_create(&s->thread, NULL, source_main, s);
	if (ret) {
		snprintf(err, errlen, "cannot start the source thread: %s", strerror(ret));
		vs_stop(s);
		return -ret;
	}
	s->started = true;
	/* what if: without it (no memory, no thread) the detail just lacks the line */
	if ((s->ring = calloc(VS_WI_RING, sizeof(*s->ring))) &&
	    !pthread_create(&s->wi_thread, NULL, whatif_main, s))
		s->wi_started = true;
	*out = s;
	return 0;
}

int vs_start_fed(const struct vs_opts *o, struct vsource **out)
{
	struct vs_opts fo = *o;
	fo.input = "(fed by the caller)";
	struct vsource *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = fo;
	if (!s->o.horizon_ns)
		s->o.horizon_ns = 10000000000LL;
	if (!(s->m = new_model(&s->o))) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->st.trace_start_ns = s->st.pos_ns = s->st.end_ns = OTR_TS_NONE;
	s->st.state = VS_ENDED;
	s->last_fed = INT64_MIN;
	snprintf(s->input, sizeof(s->input), "%s", fo.input);
	snprintf(s->st.where, sizeof(s->st.where), "%s", fo.input);
	s->finished = true;
	*out = s;
	return 0;
}

void vs_feed(struct vsource *s, const struct otr_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind != OTR_SOURCE && !s->anchored) {
			s->anchored = true;
			s->st.trace_start_ns = ev[i].ts_ns;
		}
		s->batch[s->nbatch++] = ev[i];
		if (s->nbatch == BATCH)
			flush(s);
	}
	flush(s);
	pthread_mutex_lock(&s->lock);
	s->st.end_ns = s->last_fed;
	pthread_mutex_unlock(&s->lock);
}

void vs_stop(struct vsource *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->thread, NULL);
	if (s->wi_started)
		pthread_join(s->wi_thread, NULL);
	free(s->ring);
	otr_model_free(s->m);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void vs_lock(struct vsource *s)
{
	pthread_mutex_lock(&s->lock);
}

void vs_unlock(struct vsource *s)
{
	pthread_mutex_unlock(&s->lock);
}

const struct otr_model *vs_model(const struct vsource *s)
{
	return s->m;
}

void vs_status(const struct vsource *s, struct vs_status *out)
{
	*out = s->st;
	if (!s->st.live)
		out->pos_ns = replay_pos(s);
}

int64_t vs_now(const struct vsource *s)
{
	if (!s->st.live) {
		int64_t p = replay_pos(s);
		return p == OTR_TS_NONE ? OTR_TS_NONE : p;
	}
	/* Live: the wall clock, less what the live timer holds back, but never before the
	 * last event (so a burst that just arrived is in the window). */
	struct otr_model_totals t;
	otr_model_totals(s->m, OTR_TS_NONE, &t);
	if (t.last_ts_ns == OTR_TS_NONE)
		return OTR_TS_NONE;
	int64_t slack =
		(s->st.live_timer_us ? s->st.live_timer_us : 100000) * 1000LL + LIVE_SLACK_NS;
	int64_t w = wall_ns() - slack;
	return w > t.last_ts_ns ? w : t.last_ts_ns;
}

uint64_t vs_version(const struct vsource *s)
{
	return __atomic_load_n(&s->version, __ATOMIC_ACQUIRE);
}

void vs_pause(struct vsource *s, bool paused)
{
	pthread_mutex_lock(&s->lock);
	if (paused != s->st.paused) {
		int64_t now = mono_ns();
		if (paused) {
			int64_t p = replay_pos(s);
			s->hold_pos = p == OTR_TS_NONE ? s->anchor_trace : p;
		} else {
			s->anchor_wall = now;
			s->anchor_trace = s->hold_pos;
		}
		s->st.paused = paused;
		pthread_cond_broadcast(&s->cond);
		__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
}

int vs_seek(struct vsource *s, int64_t delta)
{
	if (s->st.live)
		return -ENOTSUP;
	pthread_mutex_lock(&s->lock);
	if (!s->anchored) {
		pthread_mutex_unlock(&s->lock);
		return -EAGAIN;
	}
	int64_t cur = replay_pos(s), to = cur + delta;
	if (to < s->st.trace_start_ns)
		to = s->st.trace_start_ns;
	if (s->st.end_ns != OTR_TS_NONE && to > s->st.end_ns)
		to = s->st.end_ns;
	if (to < s->last_fed) {
		s->seek_back = true;
		s->seek_to = to;
	} else if (s->st.paused) {
		s->hold_pos = to;
	} else {
		s->anchor_wall = mono_ns();
		s->anchor_trace = to;
	}
	pthread_cond_broadcast(&s->cond);
	__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

bool vs_finished(const struct vsource *s)
{
	return __atomic_load_n(&s->finished, __ATOMIC_ACQUIRE);
}
