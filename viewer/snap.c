/* The snapshot the panels draw: one row per connection with the values of every column, and
 * the detail of one connection, copied from the model under the source's lock so that drawing,
 * sorting and pausing never touch the model. Percentiles are kept from one snapshot to the next
 * while a connection's histogram has not grown, so 10,000 idle connections cost a copy each. */
#define _GNU_SOURCE
#include "view.h"

#include "num.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const vcol_name[VC__COUNT] = {
	[VC_PID] = "PID",	[VC_ID] = "ID",	      [VC_REMOTE] = "REMOTE", [VC_LOCAL] = "LOCAL",
	[VC_STATE] = "STATE",	[VC_RXQ] = "RXQ",     [VC_DEPTH] = "Q",	      [VC_HEAD] = "HEAD",
	[VC_MODE] = "MODE",	[VC_TIMER] = "TIMER", [VC_POSTED] = "POSTED", [VC_DONE] = "DONE",
	[VC_IND] = "IND",	[VC_RATE] = "RATE",   [VC_P50] = "P50",	      [VC_P99] = "P99",
	[VC_TSHARE] = "TIMER%",
};

const uint64_t vd_bin_edge[VD_NBINS + 1] = {
	0,	   100000,    300000,	  1000000,    3000000,	   10000000,   30000000,
	100000000, 300000000, 1000000000, 3000000000, 10000000000, UINT64_MAX,
};
const char *const vd_bin_label[VD_NBINS] = {
	"  <100us", "100-300us", "0.3-1ms", "  1-3ms", "  3-10ms", " 10-30ms",
	"30-100ms", "0.1-0.3s",	 "0.3-1s",  "   1-3s", "  3-10s",  "   >=10s",
};
static const enum otr_hclass cls_of[VD_NCLS] = { OTR_HC_FILLED, OTR_HC_PSH, OTR_HC_PUSH_TIMER };

/* The model's latency classes are the completion reasons of the same value (model.c). */
_Static_assert((int)OTR_HC_FILLED == (int)OTR_CR_FILLED && (int)OTR_HC_PSH == (int)OTR_CR_PSH &&
		       (int)OTR_HC_PUSH_TIMER == (int)OTR_CR_PUSH_TIMER,
	       "the model's latency classes follow the completion reasons");

const char *vd_cls_name(int k)
{
	return (unsigned)k < VD_NCLS ? otr_complete_reason_name(cls_of[k]) : "?";
}

void snap_init(struct vsnap *sn, int64_t horizon_ns)
{
	memset(sn, 0, sizeof(*sn));
	sn->horizon_ns = horizon_ns;
}

void snap_free(struct vsnap *sn)
{
	free(sn->rows);
	free(sn->prev);
	free(sn->pidx);
	free(sn->d);
	memset(sn, 0, sizeof(*sn));
}

static size_t key_hash(uint64_t vpid, uint64_t id)
{
	uint64_t h = (vpid * 0x9e3779b97f4a7c15ull) ^ (id * 0xc2b2ae3d27d4eb4full);
	return (size_t)(h ^ (h >> 29));
}

/* Index the rows of the snapshot just taken, for the next one's cache look-ups. */
static int index_rows(struct vsnap *sn)
{
	size_t want = 16;
	while (want < sn->nrows * 2)
		want *= 2;
	if (want > sn->pcap) {
		uint64_t *p = realloc(sn->pidx, want * sizeof(*p));
		if (!p)
			return -ENOMEM;
		sn->pidx = p;
		sn->pcap = want;
	}
	memset(sn->pidx, 0, sn->pcap * sizeof(*sn->pidx));
	for (size_t i = 0; i < sn->nrows; i++) {
		size_t h = key_hash(sn->rows[i].vpid, sn->rows[i].id) & (sn->pcap - 1);
		while (sn->pidx[h])
			h = (h + 1) & (sn->pcap - 1);
		sn->pidx[h] = i + 1;
	}
	return 0;
}

static const struct vrow *cached(const struct vsnap *sn, uint64_t vpid, uint64_t id)
{
	if (!sn->pcap)
		return NULL;
	for (size_t h = key_hash(vpid, id) & (sn->pcap - 1); sn->pidx[h];
	     h = (h + 1) & (sn->pcap - 1)) {
		const struct vrow *r = &sn->rows[sn->pidx[h] - 1];
		if (r->vpid == vpid && r->id == id)
			return r;
	}
	return NULL;
}

static void fill_row(struct vsnap *sn, const struct otr_model *m, const struct otr_conn *c,
		     struct vrow *r)
{
	r->vpid = c->vpid;
	r->id = c->id;
	/* IPv6 addresses in brackets, so the port stands apart (RFC 3986) */
	snprintf(r->remote, sizeof(r->remote), strchr(c->remote_addr, ':') ? "[%s]:%u" : "%s:%u",
		 c->remote_addr, c->remote_port);
	snprintf(r->local, sizeof(r->local), strchr(c->local_addr, ':') ? "[%s]:%u" : "%s:%u",
		 c->local_addr, c->local_port);
	r->rport = c->remote_port;
	r->lport = c->local_port;
	r->queue = c->queue;
	r->state = c->state;
	r->disc_reason = c->disc_reason;
	r->close_reason = c->close_reason;
	r->depth = c->depth;
	const struct otr_req *h = otr_conn_req(c, 0);
	r->has_head = h != NULL;
	r->head_len = h ? h->len : 0;
	r->head_fill = h ? h->fill : 0;
	r->mode = VM_NONE;
	/* The mode of what is queued; a long queue is judged by its first 64. */
	for (uint32_t i = 0; i < c->depth && i < 64; i++) {
		const struct otr_req *q = otr_conn_req(c, i);
		enum vmode mq = q->no_push ? VM_NOPUSH : VM_PUSH;
		r->mode = r->mode == VM_NONE || r->mode == mq ? mq : VM_MIXED;
	}
	/* Live, its session gone: frozen at its last event (the first mark at or after it). */
	r->stale = false;
	r->stale_since_ns = 0;
	for (unsigned i = 0; i < sn->st.nmarks && c->state != OTR_CS_CLOSED; i++)
		if (c->last_ns != OTR_TS_NONE && c->last_ns <= sn->st.marks[i].ts_ns) {
			r->stale = true;
			r->stale_since_ns = sn->st.marks[i].wall_ns;
			break;
		}
	r->timer_left_ns = -1;
	if (c->timer_deadline_ns && sn->now_raw && c->state != OTR_CS_CLOSED && !r->stale) {
		int64_t left = (int64_t)c->timer_deadline_ns - sn->now_raw;
		r->timer_left_ns = left < 0 ? 0 : left;
	}
	r->posted = c->posted;
	r->completed = c->completed;
	r->indicated = c->indications;
	r->by_timer = c->completed_by[OTR_CR_PUSH_TIMER];
	struct otr_rates rt;
	otr_conn_rates(m, c, sn->now_ns, &rt);
	r->rate_bps = rt.bytes_per_s;
	r->compl_per_s = rt.completions_per_s;
	/* Of the completions that ended a fill (not the flush at a disconnect): */
	r->data_completed =
		c->completed_by[OTR_CR_FILLED] + c->completed_by[OTR_CR_PSH] + r->by_timer;
	r->tshare = r->data_completed ? (double)r->by_timer / (double)r->data_completed : 0.0;
	r->timer_bound = r->by_timer && r->tshare >= 0.5;
	r->suspect = c->suspect;
	const struct otr_hist *hh = c->hist[OTR_LAT_POST][OTR_HC_ALL];
	r->hist_n = otr_hist_count(hh);
	const struct vrow *old = cached(sn, r->vpid, r->id);
	if (old && old->hist_n == r->hist_n) {
		r->p50_ns = old->p50_ns;
		r->p99_ns = old->p99_ns;
	} else {
		static const double ps[2] = { 50, 99 };
		uint64_t v[2];
		otr_hist_percentiles(hh, ps, v, 2);
		r->p50_ns = v[0];
		r->p99_ns = v[1];
	}
}

/* Counts of a histogram per bin, from its quantiles: exact up to 400 values (each rank's
 * bucket), beyond that 400 evenly spaced quantiles, each worth count / 400. */
static void hist_bins(const struct otr_hist *h, uint64_t *bins, size_t stride)
{
	enum { NP = 400 };
	uint64_t n = otr_hist_count(h);
	if (!n)
		return;
	unsigned np = n < NP ? (unsigned)n : NP;
	double ps[NP];
	uint64_t v[NP], add[VD_NBINS] = { 0 };
	for (unsigned k = 0; k < np; k++)
		ps[k] = 100.0 * ((double)k + 0.5) / (double)np;
	otr_hist_percentiles(h, ps, v, np);
	unsigned b = 0;
	for (unsigned k = 0; k < np; k++) {
		while (b + 1 < VD_NBINS && v[k] >= vd_bin_edge[b + 1])
			b++;
		add[b]++;
	}
	uint64_t given = 0;
	for (b = 0; b < VD_NBINS; b++) {
		uint64_t c = np == n ? add[b] : (uint64_t)((double)add[b] * (double)n / np + 0.5);
		bins[b * stride] = c;
		given += c;
	}
	(void)given;
}

static void fill_detail(struct vsnap *sn, const struct otr_model *m, const struct otr_conn *c)
{
	struct vdetail *d = sn->d;
	d->valid = true;
	fill_row(sn, m, c, &d->row);
	d->mss = c->mss;
	d->nreq = 0;
	for (uint32_t i = 0; i < c->depth && i < VD_MAX_REQ; i++)
		d->reqs[d->nreq++] = *otr_conn_req(c, i);
	d->timer_req = c->timer_deadline_ns ? c->timer_req : 0;
	d->nrecent = 0;
	for (uint32_t i = 0; i < VD_MAX_RECENT; i++) {
		const struct otr_completion *e = otr_conn_recent(c, i);
		if (!e)
			break;
		d->recent[d->nrecent++] = *e;
	}
	memset(d->bins, 0, sizeof(d->bins));
	for (int k = 0; k < VD_NCLS; k++) {
		const struct otr_hist *h = c->hist[OTR_LAT_POST][cls_of[k]];
		static const double ps[2] = { 50, 99 };
		uint64_t v[2];
		d->n[k] = otr_hist_count(h);
		otr_hist_percentiles(h, ps, v, 2);
		d->p50[k] = v[0];
		d->p99[k] = v[1];
		d->max[k] = otr_hist_max(h);
		hist_bins(h, &d->bins[0][k], VD_NCLS);
	}
	otr_conn_rates(m, c, sn->now_ns, &d->rates);
	d->horizon_ns = sn->horizon_ns;
	memcpy(d->completed_by, c->completed_by, sizeof(d->completed_by));
	d->timer_starts = c->timer_starts;
	d->timer_restarts = c->timer_restarts;
	d->timer_expiries = c->timer_expiries;
	d->bytes_completed = c->bytes_completed;
	d->held_bytes = c->held_bytes;
	d->window = c->window;
	d->ind_out_bufs = c->ind_out_bufs;
	d->resyncs = c->resyncs;
	d->unknown = c->unknown;
	d->complete_calls = c->complete_calls;
	d->max_batch = c->max_batch;
	d->open_ns = c->open_ns;
	d->close_ns = c->close_ns;
}

int snap_take(struct vsnap *sn, struct vsource *s, const uint64_t *detail_key)
{
	const struct otr_model *m = vs_model(s);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sn->wall_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	sn->version = vs_version(s);
	sn->seq++;
	vs_status(s, &sn->st);
	sn->now_ns = vs_now(s);
	otr_model_totals(m, sn->now_ns, &sn->t);
	size_t nq = otr_model_queues(m, sn->now_ns, sn->queues, OTR_QUEUES_MAX);
	sn->nqueues = nq < OTR_QUEUES_MAX ? nq : OTR_QUEUES_MAX;
	sn->now_raw = 0;
	if (sn->t.last_ts_ns != OTR_TS_NONE && sn->now_ns != OTR_TS_NONE)
		sn->now_raw = sn->now_ns - (sn->t.last_ts_ns - (int64_t)sn->t.last_ts_raw);

	size_t n = otr_model_conns(m, NULL, 0);
	if (n > sn->prevcap) {
		size_t cap = n + n / 2 + 16;
		struct vrow *p = realloc(sn->prev, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		sn->prev = p;
		sn->prevcap = cap;
	}
	/* The connection pointers go through the tail of rows' memory budget: a small array. */
	const struct otr_conn **cp = malloc((n ? n : 1) * sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	otr_model_conns(m, cp, n);
	for (size_t i = 0; i < n; i++)
		fill_row(sn, m, cp[i], &sn->prev[i]);
	/* The new rows become current; the old buffer is the next one's. */
	struct vrow *t = sn->rows;
	size_t tc = sn->cap;
	sn->rows = sn->prev;
	sn->cap = sn->prevcap;
	sn->nrows = n;
	sn->prev = t;
	sn->prevcap = tc;
	free(cp);
	int ret = index_rows(sn);

	int dret = snap_detail(sn, s, detail_key);
	return ret ? ret : dret;
}

int snap_detail(struct vsnap *sn, struct vsource *s, const uint64_t *detail_key)
{
	const struct otr_model *m = vs_model(s);
	if (detail_key) {
		if (!sn->d && !(sn->d = calloc(1, sizeof(*sn->d))))
			return -ENOMEM;
		const struct otr_conn *c = otr_model_conn(m, detail_key[0], detail_key[1]);
		vs_whatif_watch(s, detail_key);
		if (c)
			fill_detail(sn, m, c);
		else if (sn->d->valid &&
			 (sn->d->row.vpid != detail_key[0] || sn->d->row.id != detail_key[1]))
			sn->d->valid = false;
		/* else: the connection left the model (evicted); keep its last detail */
		vs_whatif(s, &sn->d->wi);
	} else {
		vs_whatif_watch(s, NULL);
		if (sn->d)
			sn->d->valid = false;
	}
	return 0;
}

/* ---- filter and sort ---- */

static const char *const filter_states[] = { "open", "fin", "rst", "upload", "closed", "stale" };

/* A number of the filter: digits only, within max. */
static int term_number(const char *s, uint64_t max, uint64_t *out)
{
	int r = num_u64(s, 0, max, out);
	return r == NUM_RANGE ? -ERANGE : r ? -EINVAL : 0;
}

static int parse_term(const char *w, struct vterm *t, char *err, size_t errlen)
{
	static const char keys_help[] = "pid:N, id:N, port:N, q:N";
	memset(t, 0, sizeof(*t));
	snprintf(t->text, sizeof(t->text), "%s", w);
	if (!strcasecmp(w, "timer")) {
		t->kind = VT_TIMER;
		return 0;
	}
	for (size_t i = 0; i < sizeof(filter_states) / sizeof(filter_states[0]); i++)
		if (!strcasecmp(w, filter_states[i])) {
			t->kind = VT_STATE;
			snprintf(t->text, sizeof(t->text), "%s", filter_states[i]);
			return 0;
		}
	/* KEY:VALUE, where KEY is a word (letters): not a part of an IPv6 address, whose
	 * groups are hex digits ("fd77:", "dead:beef"). */
	const char *colon = strchr(w, ':');
	size_t klen = colon ? (size_t)(colon - w) : 0;
	bool word =
		klen && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == klen;
	bool hex = klen && strspn(w, "0123456789abcdefABCDEF") == klen;
	if (word && !hex) {
		const char *val = colon + 1;
		uint64_t max = UINT64_MAX;
		const char *what = "a process id";
		if (klen == 3 && !strncasecmp(w, "pid", 3)) {
			t->kind = VT_PID;
		} else if (klen == 2 && !strncasecmp(w, "id", 2)) {
			t->kind = VT_ID;
			what = "a connection id";
		} else if (klen == 4 && !strncasecmp(w, "port", 4)) {
			t->kind = VT_PORT;
			what = "a port, 1 to 65535";
			max = 65535;
		} else if ((klen == 1 && !strncasecmp(w, "q", 1)) ||
			   (klen == 5 && !strncasecmp(w, "queue", 5))) {
			t->kind = VT_QUEUE;
			what = "a receive queue number";
			max = INT32_MAX;
		} else {
			snprintf(err, errlen, "'%s': unknown key '%.*s:' (keys: %s)", w, (int)klen,
				 w, keys_help);
			return -EINVAL;
		}
		if (term_number(val, max, &t->n)) {
			snprintf(err, errlen, "'%s': after '%.*s:' give %s, digits only", w,
				 (int)klen, w, what);
			return -EINVAL;
		}
		return 0;
	}
	if (!w[strspn(w, "0123456789")]) {
		if (term_number(w, 65535, &t->n)) {
			snprintf(err, errlen, "'%s': a number is a port, 1 to 65535", w);
			return -EINVAL;
		}
		t->kind = VT_PORT;
		return 0;
	}
	/* what is left can only be a part of an address */
	if (w[strspn(w, "0123456789abcdefABCDEF.:[]")]) {
		snprintf(err, errlen,
			 "'%s' is not a filter term: give a port, part of an address, timer, a "
			 "state (open fin rst upload closed stale) or %s",
			 w, keys_help);
		return -EINVAL;
	}
	t->kind = VT_ADDR;
	return 0;
}

int filter_parse(const char *text, struct vfilter *f, char *err, size_t errlen)
{
	char buf[VF_TEXT];
	memset(f, 0, sizeof(*f));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "the filter is longer than %zu characters", sizeof(buf) - 1);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	char *save = NULL;
	for (char *w = strtok_r(buf, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (f->n == VF_TERMS) {
			snprintf(err, errlen, "more than %d terms", VF_TERMS);
			f->n = 0;
			return -EINVAL;
		}
		if (parse_term(w, &f->t[f->n], err, errlen)) {
			f->n = 0;
			return -EINVAL;
		}
		f->n++;
	}
	return 0;
}

void filter_text(const struct vfilter *f, char *buf, size_t len)
{
	size_t at = 0;
	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < f->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", f->t[i].text);
}

bool row_matches(const struct vrow *r, const struct vfilter *f)
{
	for (unsigned i = 0; i < f->n; i++) {
		const struct vterm *t = &f->t[i];
		bool ok = false;
		switch (t->kind) {
		case VT_TIMER:
			ok = r->timer_bound;
			break;
		case VT_STATE:
			ok = !strcmp(t->text, row_state_name(r));
			break;
		case VT_PID: /* one engine (several may write to one per-UID session) */
			ok = t->n == r->vpid;
			break;
		case VT_ID:
			ok = t->n == r->id;
			break;
		case VT_PORT:
			ok = t->n == r->lport || t->n == r->rport;
			break;
		case VT_QUEUE:
			ok = r->queue >= 0 && t->n == (uint64_t)r->queue;
			break;
		case VT_ADDR:
			ok = strcasestr(r->remote, t->text) || strcasestr(r->local, t->text);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

int view_set_filter(struct vview *v, const char *text, char *err, size_t errlen)
{
	struct vfilter f;
	if (filter_parse(text, &f, err, errlen))
		return -EINVAL;
	filter_text(&f, v->filter, sizeof(v->filter));
	v->sorted_dirty = true;
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_dbl(double a, double b)
{
	return a < b ? -1 : a > b;
}

static double head_pct(const struct vrow *r)
{
	return r->has_head && r->head_len ? (double)r->head_fill / r->head_len : -1.0;
}

/* Natural order of a column: names ascending, amounts descending (the busiest first). */
int row_cmp(const struct vrow *a, const struct vrow *b, enum vcol c)
{
	int v = 0;
	switch (c) {
	case VC_PID:
		v = cmp_u64(a->vpid, b->vpid);
		break;
	case VC_ID:
		break;
	case VC_REMOTE:
		v = strcmp(a->remote, b->remote);
		break;
	case VC_LOCAL:
		v = strcmp(a->local, b->local);
		break;
	case VC_STATE:
		v = strcmp(row_state_name(a), row_state_name(b));
		break;
	case VC_RXQ:
		v = (a->queue > b->queue) - (a->queue < b->queue);
		break;
	case VC_DEPTH:
		v = -cmp_u64(a->depth, b->depth);
		break;
	case VC_HEAD:
		v = -cmp_dbl(head_pct(a), head_pct(b));
		break;
	case VC_MODE:
		v = (int)a->mode - (int)b->mode;
		break;
	case VC_TIMER:
		/* running timers first, the nearest expiry first */
		v = (a->timer_left_ns < 0) - (b->timer_left_ns < 0);
		if (!v)
			v = cmp_u64((uint64_t)a->timer_left_ns, (uint64_t)b->timer_left_ns);
		break;
	case VC_POSTED:
		v = -cmp_u64(a->posted, b->posted);
		break;
	case VC_DONE:
		v = -cmp_u64(a->completed, b->completed);
		break;
	case VC_IND:
		v = -cmp_u64(a->indicated, b->indicated);
		break;
	case VC_RATE:
		v = -cmp_dbl(a->rate_bps, b->rate_bps);
		break;
	case VC_P50:
		v = -cmp_u64(a->p50_ns, b->p50_ns);
		break;
	case VC_P99:
		v = -cmp_u64(a->p99_ns, b->p99_ns);
		break;
	case VC_TSHARE:
		v = -cmp_dbl(a->tshare, b->tshare);
		break;
	case VC__COUNT:
		break;
	}
	if (!v)
		v = cmp_u64(a->vpid, b->vpid);
	if (!v)
		v = cmp_u64(a->id, b->id);
	return v;
}

struct sort_ctx {
	const struct vrow *rows;
	enum vcol col;
	int sign;
};

static int order_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *x = arg;
	return x->sign *
	       row_cmp(&x->rows[*(const uint32_t *)pa], &x->rows[*(const uint32_t *)pb], x->col);
}

int view_order(struct vview *v, const struct vsnap *sn)
{
	if (!v->sorted_dirty && v->sorted_seq == sn->seq && v->order)
		return 0;
	if (sn->nrows > v->ocap) {
		size_t cap = sn->nrows + sn->nrows / 2 + 16;
		uint32_t *o = realloc(v->order, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		v->order = o;
		v->ocap = cap;
	}
	v->norder = 0;
	/* The filter in force parses (view_set_filter); one that does not shows nothing rather
	 * than rows it was not meant to match. */
	struct vfilter f;
	char err[8];
	bool bad = filter_parse(v->filter, &f, err, sizeof(err)) != 0;
	for (size_t i = 0; i < sn->nrows && !bad; i++)
		if (!f.n || row_matches(&sn->rows[i], &f))
			v->order[v->norder++] = (uint32_t)i;
	struct sort_ctx x = { sn->rows, v->sort, v->invert ? -1 : 1 };
	if (v->norder > 1)
		qsort_r(v->order, v->norder, sizeof(*v->order), order_cmp, &x);
	v->sorted_seq = sn->seq;
	v->sorted_dirty = false;
	return 0;
}

void view_free(struct vview *v)
{
	free(v->order);
	v->order = NULL;
	v->norder = v->ocap = 0;
}

long snap_busiest(const struct vsnap *sn, const struct vview *v)
{
	long best = -1;
	for (size_t k = 0; k < v->norder; k++) {
		size_t i = v->order[k];
		const struct vrow *r = &sn->rows[i], *b = best < 0 ? NULL : &sn->rows[best];
		if (!b || r->rate_bps > b->rate_bps ||
		    (r->rate_bps == b->rate_bps &&
		     (r->depth > b->depth ||
		      (r->depth == b->depth && r->completed > b->completed))))
			best = (long)i;
	}
	return best;
}
