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
#include "flight.h"
#include "session.h"
#endif

#define BATCH	      128  /* events fed per lock */
#define RETRY_MS      2000 /* waiting for a relayd or a session */
#define POLL_MS	      100
#define LIVE_SLACK_NS 50000000LL

/* What if: each connection's recent events (its history), from which the detail's line is
 * replayed. Kept: the last whatif_window_ns of them or, when that holds fewer than whatif_comps
 * completions, back to the post of the whatif_comps-th last one; at most VS_WI_CONN_MAX, and
 * all connections together about VS_WI_TOTAL (each at least VS_WI_CONN_MIN). */
#define VS_WI_WINDOW_NS 10000000000LL
#define VS_WI_COMPS	50
#define VS_WI_CONN_MAX	32768
#define VS_WI_CONN_MIN	64
#define VS_WI_TOTAL	(1u << 20) /* some 90 MiB */
#define VS_WI_POST_SLACK_NS \
	1000000LL	 /* a post's event may come a little before post + post_to_complete says */
#define VS_WI_U	      48 /* the part of otr_event.u the replay reads */
#define VS_WI_ENGINES 16 /* engines whose push timer is remembered */

struct vs_wi_ev {
	int64_t ts_ns;
	uint64_t ts_raw, req;
	int64_t post_ns; /* a completion: when its request was posted (ts_ns clock) */
	int kind;
	uint32_t isn;
	unsigned char u[VS_WI_U];
};
_Static_assert(offsetof(struct otr_event, u.complete.last_fill_to_complete_ns) + 8 -
			       offsetof(struct otr_event, u) <=
		       VS_WI_U,
	       "the completion fits the what-if history");
_Static_assert(offsetof(struct otr_event, u.indicate.nbufs) + 4 - offsetof(struct otr_event, u) <=
		       VS_WI_U,
	       "the indication fits the what-if history");
_Static_assert(sizeof(((struct otr_event *)0)->u) >= VS_WI_U, "otr_event.u is large enough");

/* One connection's history: a ring of events, oldest at head. */
struct vs_hist {
	uint64_t vpid, conn; /* conn 0: a free slot */
	struct vs_wi_ev *ev;
	size_t head, n, cap;
	bool truncated; /* the size limit dropped events the window wanted */
};

struct vsource {
	pthread_mutex_t lock; /* the model and the fields below */
	pthread_cond_t cond;  /* pause, seek, stop */
	pthread_t thread;
	bool started;
	struct otr_model *m;
	struct vs_opts o;
	char input[512];
	char relay[512];       /* auto pick: the relayd asked for its sessions */
	int64_t fr_checked_ns; /* live: when fr_snap_lookup last asked */
	struct vs_status st;
	uint64_t version; /* atomic */
	bool stop;
	/* the replay clock */
	bool anchored;
	int64_t anchor_wall, anchor_trace, hold_pos, last_fed;
	bool seek_back;
	int64_t seek_to;
	bool finished;
	/* seek back: the model rebuilt from the start, off screen until it reaches the new
	 * position (then it replaces m); shown_pos is where m is meanwhile */
	struct otr_model *m_next;
	int64_t shown_pos;
	/* what if: every connection's history (an open-addressed table), from which a
	 * low-priority thread replays the watched one's (its detail is shown) with half and
	 * double the push timer */
	struct vs_hist *hist;
	size_t hcap, hn;
	uint64_t hist_n;    /* events ever pushed (since the last seek back) */
	size_t hist_events; /* held now, all connections */
	struct {
		uint64_t vpid, timer_ns;
	} timers[VS_WI_ENGINES]; /* the latest push timer value each engine started */
	unsigned ntimers;
	bool wi_watch;
	uint64_t wi_key[2], wi_done_n;
	/* live: the source lost the session; the mark it left is taken back if the same
	 * session is attached again, kept once the session is known gone */
	bool mark_pending;
	bool repick; /* auto pick: the session is gone, pick the next one */
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

static size_t hist_slot(const struct vsource *s, uint64_t vpid, uint64_t conn)
{
	uint64_t x = (vpid * 0x9e3779b97f4a7c15ull) ^ (conn * 0xc2b2ae3d27d4eb4full);
	size_t h = (size_t)(x ^ (x >> 29)) & (s->hcap - 1);
	while (s->hist[h].conn && (s->hist[h].vpid != vpid || s->hist[h].conn != conn))
		h = (h + 1) & (s->hcap - 1);
	return h;
}

static struct vs_hist *hist_find(const struct vsource *s, uint64_t vpid, uint64_t conn)
{
	if (!s->hcap)
		return NULL;
	struct vs_hist *h = &s->hist[hist_slot(s, vpid, conn)];
	return h->conn ? h : NULL;
}

static void hist_clear(struct vsource *s)
{
	for (size_t i = 0; i < s->hcap; i++)
		free(s->hist[i].ev);
	free(s->hist);
	s->hist = NULL;
	s->hcap = s->hn = 0;
	s->hist_n = 0;
	s->hist_events = 0;
	s->ntimers = 0;
}

/* A table of cap slots holding the histories that keep(): the others are freed. */
static int hist_rehash(struct vsource *s, size_t cap, const struct otr_model *keep_in)
{
	struct vs_hist *old = s->hist;
	size_t ocap = s->hcap;
	struct vs_hist *t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->hist = t;
	s->hcap = cap;
	s->hn = 0;
	for (size_t i = 0; i < ocap; i++) {
		struct vs_hist *h = &old[i];
		if (!h->conn)
			continue;
		if (keep_in && !otr_model_conn(keep_in, h->vpid, h->conn)) {
			s->hist_events -= h->n;
			free(h->ev);
			continue;
		}
		s->hist[hist_slot(s, h->vpid, h->conn)] = *h;
		s->hn++;
	}
	free(old);
	return 0;
}

static const struct vs_wi_ev *hist_at(const struct vs_hist *h, size_t i)
{
	return &h->ev[(h->head + i) % h->cap];
}

/* Where the connection's what-if window starts (ts_ns): the last window_ns before its newest
 * event, or earlier, to the post of its comps-th last completion, whichever holds more.
 * INT64_MIN: all of it (fewer completions than that). */
static int64_t hist_window_start(const struct vsource *s, const struct vs_hist *h)
{
	if (!h->n)
		return INT64_MIN;
	int64_t newest = hist_at(h, h->n - 1)->ts_ns;
	int64_t w = newest - (s->o.whatif_window_ns ? s->o.whatif_window_ns : VS_WI_WINDOW_NS);
	uint32_t want = s->o.whatif_comps ? s->o.whatif_comps : VS_WI_COMPS, seen = 0;
	for (size_t i = h->n; i-- > 0;) {
		const struct vs_wi_ev *e = hist_at(h, i);
		if (e->kind != OTR_COMPLETE || ++seen < want)
			continue;
		int64_t p = e->post_ns - VS_WI_POST_SLACK_NS;
		return p < w ? p : w;
	}
	return INT64_MIN;
}

/* Drop a history's oldest event. Lock held. */
static void hist_drop(struct vsource *s, struct vs_hist *h)
{
	h->head = (h->head + 1) % h->cap;
	h->n--;
	s->hist_events--;
}

/* Keep what the window needs; grow; at the size limit, drop the oldest. Lock held. */
static int hist_room(struct vsource *s, struct vs_hist *h)
{
	size_t limit = VS_WI_TOTAL / (s->hn ? s->hn : 1);
	limit = limit > VS_WI_CONN_MAX	 ? VS_WI_CONN_MAX
		: limit < VS_WI_CONN_MIN ? VS_WI_CONN_MIN
					 : limit;
	if (h->n < h->cap && h->n < limit)
		return 0;
	int64_t w = hist_window_start(s, h);
	while (h->n && hist_at(h, 0)->ts_ns < w)
		hist_drop(s, h);
	/* grow while the window fills three quarters, so pruning stays rare */
	if ((h->n >= h->cap - h->cap / 4 || !h->cap) && h->cap < limit) {
		size_t cap = h->cap ? h->cap * 2 : VS_WI_CONN_MIN;
		struct vs_wi_ev *ev = malloc(cap * sizeof(*ev));
		if (!ev)
			return h->n < h->cap ? 0 : -ENOMEM;
		for (size_t i = 0; i < h->n; i++)
			ev[i] = *hist_at(h, i);
		free(h->ev);
		h->ev = ev;
		h->cap = cap;
		h->head = 0;
	}
	/* At the size limit: drop the oldest, an eighth of the room at once, so that the pushes
	 * after this one do not each walk the history for its window again (at 10,000
	 * connections every push did). */
	size_t room = h->cap < limit ? h->cap : limit;
	if (h->n >= room) {
		size_t keep = room - (room / 8 ? room / 8 : 1);
		while (h->n > keep)
			hist_drop(s, h);
		h->truncated = true;
	}
	return 0;
}

static void engine_timer_set(struct vsource *s, uint64_t vpid, uint64_t timer_ns)
{
	unsigned i;
	for (i = 0; i < s->ntimers && s->timers[i].vpid != vpid; i++)
		;
	if (i == s->ntimers) {
		if (s->ntimers == VS_WI_ENGINES)
			i = 0; /* many engines: forget the first one's */
		else
			s->ntimers++;
	}
	s->timers[i].vpid = vpid;
	s->timers[i].timer_ns = timer_ns;
}

static uint64_t engine_timer(const struct vsource *s, uint64_t vpid)
{
	for (unsigned i = 0; i < s->ntimers; i++)
		if (s->timers[i].vpid == vpid)
			return s->timers[i].timer_ns;
	return 0;
}

static void wi_push(struct vsource *s, const struct otr_event *ev) /* lock held */
{
	if (!ev->conn || ev->kind == OTR_SEGMENT_PAYLOAD || ev->kind == OTR_SOURCE)
		return; /* stream bytes: the replay reads only the queue's events */
	/* The push timer is the engine's: its latest start on any connection tells its value,
	 * also for a connection whose own history has none. */
	int64_t timer_ms = wi_timer_ms(ev);
	if (timer_ms >= 0)
		engine_timer_set(s, ev->vpid, (uint64_t)timer_ms * 1000000);
	if (s->hn * 2 >= s->hcap && hist_rehash(s, s->hcap ? s->hcap * 2 : 64, NULL))
		return;
	size_t slot = hist_slot(s, ev->vpid, ev->conn);
	struct vs_hist *h = &s->hist[slot];
	if (!h->conn) {
		h->vpid = ev->vpid;
		h->conn = ev->conn;
		s->hn++;
	}
	if (hist_room(s, h))
		return; /* out of memory: this event is missing from the what if */
	struct vs_wi_ev *r = &h->ev[(h->head + h->n++) % h->cap];
	r->ts_ns = ev->ts_ns;
	r->ts_raw = ev->ts_raw;
	r->req = ev->req;
	r->kind = ev->kind;
	r->isn = ev->kind == OTR_CONN_OPEN ? ev->u.open.isn : 0;
	r->post_ns = ev->kind == OTR_COMPLETE
			     ? ev->ts_ns - (int64_t)ev->u.complete.post_to_complete_ns
			     : 0;
	memcpy(r->u, &ev->u, VS_WI_U);
	s->hist_n++;
	s->hist_events++;
}

static void wi_unpack(const struct vs_hist *h, const struct vs_wi_ev *r, struct otr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = r->kind;
	ev->vpid = h->vpid;
	ev->conn = h->conn;
	ev->req = r->req;
	ev->ts_ns = r->ts_ns;
	ev->ts_raw = r->ts_raw;
	memcpy(&ev->u, r->u, VS_WI_U);
	if (r->kind == OTR_CONN_OPEN)
		ev->u.open.isn = r->isn;
}

static void wi_fill(struct vs_whatif_run *o, uint64_t timer_ns, const struct wi_result *res)
{
	o->timer_ns = (int64_t)timer_ns;
	o->completed = res->completed;
	o->filled = res->filled;
	o->psh = res->psh;
	o->by_timer = res->by_timer;
	o->share = res->timer_share;
	o->lf_p99_ns = res->lf2c_p99_ns;
	o->p2c_p99_ns = res->p2c_p99_ns;
}

int vs_whatif_compute(struct vsource *s, const uint64_t *key, struct vs_whatif *out)
{
	struct vs_whatif w = { .vpid = key[0], .id = key[1], .done = true };
	struct vs_wi_ev *buf = NULL;
	struct vs_hist hc = { .vpid = key[0], .conn = key[1] };
	struct otr_event *ev = malloc(sizeof(*ev));
	int ret = ev ? 0 : -ENOMEM;

	pthread_mutex_lock(&s->lock);
	const struct vs_hist *h = hist_find(s, key[0], key[1]);
	uint64_t timer_ns = engine_timer(s, key[0]);
	size_t n = 0;
	if (h && h->n && !ret) {
		int64_t start = hist_window_start(s, h);
		size_t first = 0;
		while (first < h->n && hist_at(h, first)->ts_ns < start)
			first++;
		if ((buf = malloc((h->n - first) * sizeof(*buf) + 1))) {
			for (size_t i = first; i < h->n; i++)
				buf[n++] = *hist_at(h, i);
			w.truncated = h->truncated;
		} else {
			ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&s->lock);

	w.nevents = (uint32_t)n;
	w.timer_known = timer_ns >= 2000000;
	if (n) {
		w.from_ns = buf[0].ts_ns;
		w.to_ns = buf[n - 1].ts_ns;
	}
	if (n && w.timer_known && !ret) {
		struct wi_conn c;
		struct wi_result half, dbl;
		memset(&c, 0, sizeof(c));
		c.k.vpid = key[0];
		c.k.conn = key[1];
		wi_conn_init(&c, (int64_t)buf[0].ts_raw);
		for (size_t i = 0; i < n && !ret; i++) { /* oldest first */
			wi_unpack(&hc, &buf[i], ev);
			ret = wi_conn_event(&c, ev);
		}
		w.ncomps = (uint32_t)c.ncomps;
		if (!ret && c.nposts && !(ret = whatif_replay_conn(&c, timer_ns / 2, &half)) &&
		    !(ret = whatif_replay_conn(&c, timer_ns * 2, &dbl))) {
			w.valid = true;
			w.timer_ns = (int64_t)timer_ns;
			wi_fill(&w.v[0], timer_ns / 2, &half);
			wi_fill(&w.v[1], timer_ns * 2, &dbl);
		}
		wi_conn_fini(&c);
	}
	free(buf);
	free(ev);
	*out = w;
	return ret;
}

/* Every second, replay the watched connection's recent history off the lock; now and then,
 * forget the histories of connections the model no longer holds. */
static void *whatif_main(void *arg)
{
	struct vsource *s = arg;
	unsigned ticks = 0;

	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19); /* the UI first */
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		wait_locked(s, 1000);
		if (s->stop)
			break;
		if (++ticks % 10 == 0 && s->hcap)
			hist_rehash(s, s->hcap, s->m_next ? s->m_next : s->m);
		if (!s->wi_watch || s->wi_done_n == s->hist_n)
			continue;
		uint64_t key[2] = { s->wi_key[0], s->wi_key[1] };
		s->wi_done_n = s->hist_n;
		pthread_mutex_unlock(&s->lock);

		struct vs_whatif w;
		vs_whatif_compute(s, key, &w);

		pthread_mutex_lock(&s->lock);
		if (s->wi_watch && s->wi_key[0] == key[0] && s->wi_key[1] == key[1]) {
			s->wi = w;
			__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&s->lock);
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

/* ---- live: a session that goes away ---- */

static const char *url_session(const char *url)
{
	const char *p = strrchr(url, '/');
	return p ? p + 1 : url;
}

/* The source lost the session: the connections it fed stop being live (lock held). */
static void mark_lost(struct vsource *s)
{
	if (s->mark_pending || s->last_fed == INT64_MIN)
		return;
	struct vs_status *st = &s->st;
	if (st->nmarks && st->marks[st->nmarks - 1].ts_ns >= s->last_fed)
		return;		      /* nothing fed since the last mark */
	if (st->nmarks == VS_MARKS) { /* forget the oldest: its rows go with the next one */
		memmove(st->marks, st->marks + 1, (VS_MARKS - 1) * sizeof(st->marks[0]));
		st->nmarks--;
	}
	st->marks[st->nmarks++] = (struct vs_mark){ s->last_fed, wall_ns() };
	s->mark_pending = true;
}

/* The same session is there again: its connections are live again (lock held). */
static void mark_back(struct vsource *s)
{
	if (s->mark_pending && s->st.nmarks)
		s->st.nmarks--;
	s->mark_pending = false;
}

/* The session is gone for good: its rows stay stale, and the header says so (lock held). */
static void session_gone(struct vsource *s, const char *why)
{
	char hms[16] = "-";
	mark_lost(s);
	s->mark_pending = false;
	s->st.session_ended = true;
	if (s->st.nmarks)
		fmt_clock(hms, sizeof(hms), s->st.marks[s->st.nmarks - 1].wall_ns);
	snprintf(s->st.msg, sizeof(s->st.msg),
		 "session '%s' ended, its connections stale since %s: %s%s", url_session(s->input),
		 hms, why, s->st.auto_pick ? "; waiting for the next offrx session" : "");
	if (s->st.auto_pick)
		s->repick = true;
}

static void flush(struct vsource *s)
{
	if (!s->nbatch)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->nbatch; i++) {
		const struct otr_event *ev = &s->batch[i];
		otr_model_feed(s->m_next ? s->m_next : s->m, ev);
		wi_push(s, ev);
		if (ev->kind != OTR_SOURCE && ev->ts_ns > s->last_fed)
			s->last_fed = ev->ts_ns;
		if (ev->kind != OTR_SOURCE && s->st.live && s->st.state != VS_LIVE) {
			s->st.state = VS_LIVE; /* events flow: the session is there */
			s->st.session_ended = s->mark_pending = false;
		}
		if (ev->kind == OTR_SOURCE && s->st.live) {
			snprintf(s->st.msg, sizeof(s->st.msg), "%s", ev->u.source.msg);
			if (ev->u.source.state == OTR_SRC_CONNECTED &&
			    strstr(ev->u.source.msg, "waiting for session")) {
				/* attached to the relayd, the session not there: not yet, or (after
				 * a loss) not any more: a relayd restart loses its sessions */
				s->st.state = VS_WAITING;
				if (s->mark_pending)
					session_gone(s, "lttng-relayd came back without it "
							"(LTTng does not register a session "
							"again: create it again)");
			} else if (ev->u.source.state == OTR_SRC_CONNECTED) {
				s->st.state = VS_LIVE;
				mark_back(s);
			} else if (ev->u.source.state == OTR_SRC_LOST) {
				s->st.state = VS_RECONNECTING;
				mark_lost(s);
			}
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

/* Where the replay is (while a seek back catches up: where it is going). Lock held. */
static int64_t target_pos(const struct vsource *s)
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

/* The replay clock shown: where the model on screen is. Lock held. */
static int64_t replay_pos(const struct vsource *s)
{
	if (s->m_next)
		return s->shown_pos;
	if (s->st.seeking && s->last_fed != INT64_MIN)
		return s->last_fed; /* --from: the model on screen is still on its way there */
	return target_pos(s);
}

/* A seek (back, or to --from at the start) caught up: its model goes on screen. Lock held. */
static void caught_up(struct vsource *s)
{
	if (!s->m_next && !s->st.seeking)
		return;
	if (s->m_next) {
		otr_model_free(s->m);
		s->m = s->m_next;
		s->m_next = NULL;
	}
	s->st.seeking = false;
	__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
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
			caught_up(s);
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
			s->st.seeking = s->o.from_ns > 0;
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
			caught_up(s); /* everything up to the replay clock is in */
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
	/* Seek back: a new model, replayed from the start up to the new position off screen
	 * (the screen keeps the model it shows until then, and says it is seeking). */
	pthread_mutex_lock(&s->lock);
	struct otr_model *m = new_model(&s->o);
	if (m) {
		if (!s->m_next)
			s->shown_pos = replay_pos(s);
		otr_model_free(s->m_next);
		s->m_next = m;
		s->st.seeking = true;
	} else {
		otr_model_free(s->m); /* no memory for both: start over on screen */
		s->m = new_model(&s->o);
	}
	s->seek_back = false;
	hist_clear(s);
	memset(&s->wi, 0, sizeof(s->wi));
	s->wi_done_n = UINT64_MAX;
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

/* The newest snapshot a local flight recorder saved, for the header; at most every 2 s. */
static void fr_snap_lookup(struct vsource *s)
{
#ifdef OFFRX_VIEW_SESSION
	static const int64_t every_ns = 2000000000LL;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (s->fr_checked_ns && now - s->fr_checked_ns < every_ns)
		return;
	s->fr_checked_ns = now;
	struct offrx_fr_snapshot snap;
	char name[256], line[sizeof(s->st.fr_snap)] = "";
	if (offrx_fr_latest(&snap, name, sizeof(name)) == 1) {
		struct tm tm;
		char when[16];
		localtime_r(&snap.when, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		snprintf(line, sizeof(line), "%s %s", when, snap.cause);
	}
	pthread_mutex_lock(&s->lock);
	if (strcmp(line, s->st.fr_snap)) {
		snprintf(s->st.fr_snap, sizeof(s->st.fr_snap), "%s", line);
		__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
#else
	(void)s;
#endif
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
				/* after a session ended, the header goes on saying so */
				setmsg(s, VS_WAITING, s->st.session_ended ? NULL : m2);
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
			if (n != 1 || !(s->nbatch & 1023))
				fr_snap_lookup(s);
			if (n == 1) {
				s->nbatch++;
				continue;
			}
			flush(s);
			if (s->repick) { /* the session is gone: look for the next one */
				s->repick = false;
				break;
			}
			if (n == 0)
				continue;
			snprintf(msg, sizeof(msg), "%s", otr_reader_error(r));
			if (n == -ENODATA && s->st.auto_pick && !s->o.once) {
				pthread_mutex_lock(&s->lock);
				s->st.state = VS_WAITING;
				session_gone(s, "it was destroyed");
				s->repick = false;
				__atomic_add_fetch(&s->version, 1, __ATOMIC_RELEASE);
				pthread_mutex_unlock(&s->lock);
				sleep_ms(s, RETRY_MS);
			} else if (n == -ENODATA) {
				pthread_mutex_lock(&s->lock);
				s->st.state = VS_ENDED;
				session_gone(s, "it was destroyed");
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
				pthread_mutex_lock(&s->lock);
				mark_lost(s); /* taken back if the next reader finds the session */
				pthread_mutex_unlock(&s->lock);
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
	/* what if: without its thread the detail just lacks the line */
	if (!pthread_create(&s->wi_thread, NULL, whatif_main, s))
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
	hist_clear(s);
	otr_model_free(s->m_next);
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
			int64_t p = target_pos(s);
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
	} else {
		if (s->st.paused) {
			s->hold_pos = to;
		} else {
			s->anchor_wall = mono_ns();
			s->anchor_trace = to;
		}
		/* until the reader has fed up to there, the clock shows how far it got */
		if (s->st.end_ns == OTR_TS_NONE && !s->m_next)
			s->st.seeking = true;
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
