/* --format perfetto: Perfetto's own protobuf trace format (a Trace: TracePackets of TrackEvents),
 * written packet by packet as the events arrive, with protobuf-c from perfetto_trace.proto.
 * A process track per engine, a track per connection named by its 4-tuple, an async slice per
 * request (post to completion, named by the completion reason) on a lane of its connection,
 * fills and push-timer expiries as instants joined to their request by a flow, and counter
 * tracks for each connection's queue depth and bytes held. Memory is the open connections and
 * their queued requests, whatever the trace's length. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "export.h"
#include "fifo.h"
#include "perfetto_trace.pb-c.h"

typedef Perfetto__Protos__TracePacket Packet;
typedef Perfetto__Protos__TrackEvent TrackEvent;
typedef Perfetto__Protos__TrackDescriptor TrackDescriptor;
typedef Perfetto__Protos__DebugAnnotation Annotation;

#define PF_PRODUCER "offrx-export " OEX_VERSION
#define PF_SEQ	    1u	/* our one packet sequence (0 is invalid) */
#define CLK_REAL    1u	/* Perfetto's built-in REALTIME */
#define CLK_BOOT    6u	/* BOOTTIME: the trace clock, absolute ns (our ts_ns) */
#define CLK_DELTA   64u /* ours, sequence-scoped: ns since the previous packet on it */
#define CLK_TRACE   65u /* ours, sequence-scoped: ns since the trace start (a slice's begin) */
#define UUID_TRACE  1u	/* the trace-wide track: losses, the live source, the export's end */
#define MAX_ANN	    16	/* debug annotations on one event */
#define MAX_NEW	    16	/* interning entries one packet adds, per kind */
#define INTERN_MAX  128 /* strings interned per kind; beyond, names go inline */
#define FLOW_SHIFT  32	/* flow id: the connection track's uuid, then the request id */

#define SEQ_CLEARED PERFETTO__PROTOS__TRACE_PACKET__SEQUENCE_FLAGS__SEQ_INCREMENTAL_STATE_CLEARED
#define SEQ_NEEDS   PERFETTO__PROTOS__TRACE_PACKET__SEQUENCE_FLAGS__SEQ_NEEDS_INCREMENTAL_STATE
#define T_BEGIN	    PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN
#define T_END	    PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END
#define T_INSTANT   PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_INSTANT
#define T_COUNTER   PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER
enum { I_NAME, I_CAT, I_ANN, I_STR, I__N }; /* interning kinds */

/* A request's slice is drawn on a lane: a child track of its connection whose slices never
 * overlap (Perfetto nests begin/end pairs per track). Lanes are reused once free; Perfetto's UI
 * shows the lanes of a connection, all named "requests", as one group. */
struct lane {
	uint64_t uuid;
	int64_t free_ns; /* its last slice ended then */
	bool busy;
};

struct preq {
	uint64_t id; /* first: the fifo's key */
	int64_t post_ns;
	uint32_t len, fill, prefill, lane;
	bool no_push;
	bool joined; /* a fill or expiry carried its flow */
};

struct pconn {
	struct conn_key k;
	uint64_t uuid, depth_uuid, held_uuid;
	struct oex_fifo q; /* struct preq in posting order */
	struct lane *lanes;
	uint32_t nlanes;
	int64_t depth, held; /* held: bytes in queued requests */
	int64_t shown_depth, shown_held;
};

/* One engine process (conn 0 of its vpid in the table). */
struct pproc {
	struct conn_key k;
	uint64_t uuid;
	uint64_t xsk_uuid[3]; /* rx_dropped, rx_ring_full, fill_ring_empty; 0 until first seen */
};

struct itab {
	const char *s[INTERN_MAX]; /* iid = index + 1 */
	uint32_t n;
};

/* The packet being built: the protobuf-c messages and the arrays they point into. */
struct pkt {
	Packet p;
	TrackEvent te;
	TrackDescriptor td;
	Perfetto__Protos__ProcessDescriptor proc;
	Perfetto__Protos__CounterDescriptor cd;
	Perfetto__Protos__InternedData idata;
	Annotation ann[MAX_ANN], *annp[MAX_ANN];
	int64_t ts; /* in CLK_DELTA: the clock's value once the packet is out */
	bool delta;
	uint64_t cat, flow, tflow, xuuid[2];
	int64_t xval[2];
	Perfetto__Protos__EventName names[MAX_NEW], *namesp[MAX_NEW];
	Perfetto__Protos__EventCategory cats[MAX_NEW], *catsp[MAX_NEW];
	Perfetto__Protos__DebugAnnotationName anames[MAX_NEW], *anamesp[MAX_NEW];
	Perfetto__Protos__InternedString strs[MAX_NEW], *strsp[MAX_NEW];
};

struct perfetto {
	struct oex_ctab conns, procs;
	struct itab intern[I__N];
	struct pkt k;
	bool started;	  /* the first packet (clock, defaults, cleared state) is out */
	int64_t t0;	  /* the trace start: CLK_TRACE's zero */
	int64_t clk_last; /* CLK_DELTA's value: the last delta-timed packet's time */
	uint64_t next_uuid;
	uint64_t slices, open_at_end, not_completed, unknown_posts, packets;
};

/* --- packets ------------------------------------------------------------------------------ */

static size_t put_varint(uint8_t *b, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	return n;
}

/* A new packet on our sequence; the caller adds the rest and emits it. */
static Packet *pkt_new(struct perfetto *pf)
{
	struct pkt *k = &pf->k;

	k->p = (Packet)PERFETTO__PROTOS__TRACE_PACKET__INIT;
	k->p.optional_trusted_packet_sequence_id_case =
		PERFETTO__PROTOS__TRACE_PACKET__OPTIONAL_TRUSTED_PACKET_SEQUENCE_ID_TRUSTED_PACKET_SEQUENCE_ID;
	k->p.trusted_packet_sequence_id = PF_SEQ;
	k->p.has_sequence_flags = 1;
	k->p.sequence_flags = SEQ_NEEDS; /* the clock default and interned names */
	k->idata = (Perfetto__Protos__InternedData)PERFETTO__PROTOS__INTERNED_DATA__INIT;
	k->delta = false;
	return &k->p;
}

/* Events come in time order, so times are deltas in CLK_DELTA (a few bytes, not nine). A time
 * before the last one (a slice's begin, written at its completion) is from the trace start in
 * CLK_TRACE (six bytes over ten minutes), or, before the trace start, absolute in CLK_BOOT. */
static void pkt_ts(struct perfetto *pf, Packet *p, int64_t ts)
{
	if (ts < 0)
		ts = 0;
	p->has_timestamp = 1;
	if (ts >= pf->clk_last) {
		p->timestamp = (uint64_t)(ts - pf->clk_last);
		pf->k.ts = ts;
		pf->k.delta = true;
		return;
	}
	p->has_timestamp_clock_id = 1;
	if (ts >= pf->t0) {
		p->timestamp = (uint64_t)(ts - pf->t0);
		p->timestamp_clock_id = CLK_TRACE;
	} else {
		p->timestamp = (uint64_t)ts;
		p->timestamp_clock_id = CLK_BOOT;
	}
}

/* The packet, as field 1 of Trace (length-delimited), into the output buffer. */
static void pkt_emit(struct perfetto *pf, struct jw_out *o)
{
	struct pkt *k = &pf->k;
	Perfetto__Protos__InternedData *d = &k->idata;
	size_t n, h;
	uint8_t *b;

	if (d->n_event_names || d->n_event_categories || d->n_debug_annotation_names ||
	    d->n_debug_annotation_string_values)
		k->p.interned_data = d;
	n = protobuf_c_message_get_packed_size(&k->p.base);
	b = (uint8_t *)jw_reserve(o, n + 11);
	b[0] = 0x0a; /* Trace.packet: field 1, length-delimited */
	h = 1 + put_varint(b + 1, n);
	protobuf_c_message_pack(&k->p.base, b + h);
	o->len += h + n;
	if (k->delta)
		pf->clk_last = k->ts;
	pf->packets++;
}

/* The iid of s in interning table kind, adding it to the packet being built if new; 0 if the
 * table is full (the caller then writes s inline). s must outlive the export (a literal or a
 * name table's entry): the table keeps the pointer. */
static uint64_t iid(struct perfetto *pf, int kind, const char *s)
{
	struct itab *t = &pf->intern[kind];
	struct pkt *k = &pf->k;
	Perfetto__Protos__InternedData *d = &k->idata;
	size_t *added = kind == I_NAME	? &d->n_event_names
			: kind == I_CAT ? &d->n_event_categories
			: kind == I_ANN ? &d->n_debug_annotation_names
					: &d->n_debug_annotation_string_values;
	size_t i = *added;
	uint64_t id;

	for (uint32_t j = 0; j < t->n; j++)
		if (t->s[j] == s || !strcmp(t->s[j], s))
			return j + 1;
	if (t->n == INTERN_MAX || i == MAX_NEW)
		return 0;
	t->s[t->n++] = s;
	id = t->n;
	(*added)++;
	switch (kind) {
	case I_NAME: {
		Perfetto__Protos__EventName *e = &k->names[i];
		*e = (Perfetto__Protos__EventName)PERFETTO__PROTOS__EVENT_NAME__INIT;
		e->has_iid = 1;
		e->iid = id;
		e->name = (char *)s;
		k->namesp[i] = e;
		d->event_names = k->namesp;
		break;
	}
	case I_CAT: {
		Perfetto__Protos__EventCategory *e = &k->cats[i];
		*e = (Perfetto__Protos__EventCategory)PERFETTO__PROTOS__EVENT_CATEGORY__INIT;
		e->has_iid = 1;
		e->iid = id;
		e->name = (char *)s;
		k->catsp[i] = e;
		d->event_categories = k->catsp;
		break;
	}
	case I_ANN: {
		Perfetto__Protos__DebugAnnotationName *e = &k->anames[i];
		*e = (Perfetto__Protos__DebugAnnotationName)
			PERFETTO__PROTOS__DEBUG_ANNOTATION_NAME__INIT;
		e->has_iid = 1;
		e->iid = id;
		e->name = (char *)s;
		k->anamesp[i] = e;
		d->debug_annotation_names = k->anamesp;
		break;
	}
	default: {
		Perfetto__Protos__InternedString *e = &k->strs[i];
		*e = (Perfetto__Protos__InternedString)PERFETTO__PROTOS__INTERNED_STRING__INIT;
		e->has_iid = 1;
		e->iid = id;
		e->has_str = 1;
		e->str.data = (uint8_t *)s;
		e->str.len = strlen(s);
		k->strsp[i] = e;
		d->debug_annotation_string_values = k->strsp;
		break;
	}
	}
	return id;
}

/* A track event in a new packet at ts on track uuid; name NULL for a slice's end and counters.
 * The name and category must outlive the export (see iid()). */
static TrackEvent *ev_new(struct perfetto *pf, Perfetto__Protos__TrackEvent__Type type, int64_t ts,
			  uint64_t uuid, const char *cat, const char *name)
{
	struct pkt *k = &pf->k;
	Packet *p = pkt_new(pf);
	TrackEvent *te = &k->te;
	uint64_t id;

	pkt_ts(pf, p, ts);
	*te = (TrackEvent)PERFETTO__PROTOS__TRACK_EVENT__INIT;
	p->data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_EVENT;
	p->track_event = te;
	te->has_type = 1;
	te->type = type;
	te->has_track_uuid = 1;
	te->track_uuid = uuid;
	if (name) {
		if ((id = iid(pf, I_NAME, name))) {
			te->name_field_case = PERFETTO__PROTOS__TRACK_EVENT__NAME_FIELD_NAME_IID;
			te->name_iid = id;
		} else {
			te->name_field_case = PERFETTO__PROTOS__TRACK_EVENT__NAME_FIELD_NAME;
			te->name = (char *)name;
		}
	}
	if (cat && (k->cat = iid(pf, I_CAT, cat))) {
		te->n_category_iids = 1;
		te->category_iids = &k->cat;
	}
	te->debug_annotations = k->annp;
	return te;
}

static Annotation *ann(struct perfetto *pf, const char *name)
{
	struct pkt *k = &pf->k;
	TrackEvent *te = &k->te;
	Annotation *a;
	uint64_t id;

	if (te->n_debug_annotations == MAX_ANN)
		abort(); /* a writer bug: MAX_ANN is the most any event below adds */
	a = &k->ann[te->n_debug_annotations];
	*a = (Annotation)PERFETTO__PROTOS__DEBUG_ANNOTATION__INIT;
	k->annp[te->n_debug_annotations++] = a;
	if ((id = iid(pf, I_ANN, name))) {
		a->name_field_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__NAME_FIELD_NAME_IID;
		a->name_iid = id;
	} else {
		a->name_field_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__NAME_FIELD_NAME;
		a->name = (char *)name;
	}
	return a;
}

static void ann_u(struct perfetto *pf, const char *name, uint64_t v)
{
	Annotation *a = ann(pf, name);

	a->value_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__VALUE_UINT_VALUE;
	a->uint_value = v;
}

static void ann_i(struct perfetto *pf, const char *name, int64_t v)
{
	Annotation *a = ann(pf, name);

	a->value_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__VALUE_INT_VALUE;
	a->int_value = v;
}

static void ann_b(struct perfetto *pf, const char *name, bool v)
{
	Annotation *a = ann(pf, name);

	a->value_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__VALUE_BOOL_VALUE;
	a->bool_value = v;
}

/* A string value: interned if it is one of a few (an enum's name, see iid()), else inline
 * (valid until the packet is emitted). */
static void ann_s(struct perfetto *pf, const char *name, const char *v, bool intern)
{
	Annotation *a = ann(pf, name);
	uint64_t id = intern ? iid(pf, I_STR, v) : 0;

	if (id) {
		a->value_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__VALUE_STRING_VALUE_IID;
		a->string_value_iid = id;
	} else {
		a->value_case = PERFETTO__PROTOS__DEBUG_ANNOTATION__VALUE_STRING_VALUE;
		a->string_value = (char *)v;
	}
}

static void ev_flow(struct perfetto *pf, uint64_t flow, bool terminating)
{
	struct pkt *k = &pf->k;

	if (terminating) {
		k->tflow = flow;
		k->te.n_terminating_flow_ids = 1;
		k->te.terminating_flow_ids = &k->tflow;
	} else {
		k->flow = flow;
		k->te.n_flow_ids = 1;
		k->te.flow_ids = &k->flow;
	}
}

/* A track's descriptor in a new packet (the caller adds the rest and emits it). */
static TrackDescriptor *td_new(struct perfetto *pf, int64_t ts, uint64_t uuid, uint64_t parent,
			       const char *name)
{
	struct pkt *k = &pf->k;
	Packet *p = pkt_new(pf);
	TrackDescriptor *td = &k->td;

	pkt_ts(pf, p, ts);
	*td = (TrackDescriptor)PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
	p->data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_DESCRIPTOR;
	p->track_descriptor = td;
	td->has_uuid = 1;
	td->uuid = uuid;
	if (parent) {
		td->has_parent_uuid = 1;
		td->parent_uuid = parent;
	}
	td->static_or_dynamic_name_case =
		PERFETTO__PROTOS__TRACK_DESCRIPTOR__STATIC_OR_DYNAMIC_NAME_NAME;
	td->name = (char *)name;
	return td;
}

static uint64_t counter_track(struct perfetto *pf, struct jw_out *o, int64_t ts, uint64_t parent,
			      const char *name, int unit)
{
	uint64_t uuid = pf->next_uuid++;
	TrackDescriptor *td = td_new(pf, ts, uuid, parent, name);

	pf->k.cd = (Perfetto__Protos__CounterDescriptor)PERFETTO__PROTOS__COUNTER_DESCRIPTOR__INIT;
	pf->k.cd.has_unit = 1;
	pf->k.cd.unit = (Perfetto__Protos__CounterDescriptor__Unit)unit;
	td->counter = &pf->k.cd;
	pkt_emit(pf, o);
	return uuid;
}

/* The sequence's first packet: incremental state starts here (cleared), our delta clock
 * starts at the trace start t0 (REALTIME and BOOTTIME read the same: our times are Unix-epoch
 * ns), and every later packet is timed in it unless it says otherwise; CLK_TRACE reads 0 at t0.
 * Then the trace-wide track. */
static void start(struct perfetto *pf, struct oex_run *run)
{
	Perfetto__Protos__ClockSnapshot cs = PERFETTO__PROTOS__CLOCK_SNAPSHOT__INIT;
	Perfetto__Protos__ClockSnapshot__Clock clk[4], *clkp[4];
	Perfetto__Protos__TracePacketDefaults defs = PERFETTO__PROTOS__TRACE_PACKET_DEFAULTS__INIT;
	static const uint32_t ids[4] = { CLK_REAL, CLK_BOOT, CLK_DELTA, CLK_TRACE };
	int64_t t0 = run->t0_ns == OEX_TS_NONE || run->t0_ns < 0 ? 0 : run->t0_ns;
	Packet *p;

	pf->started = true;
	pf->t0 = pf->clk_last = t0;
	for (int i = 0; i < 4; i++) {
		clk[i] = (Perfetto__Protos__ClockSnapshot__Clock)
			PERFETTO__PROTOS__CLOCK_SNAPSHOT__CLOCK__INIT;
		clk[i].has_clock_id = 1;
		clk[i].clock_id = ids[i];
		clk[i].has_timestamp = 1;
		clk[i].timestamp = ids[i] == CLK_TRACE ? 0 : (uint64_t)t0;
		clkp[i] = &clk[i];
	}
	clk[2].has_is_incremental = 1;
	clk[2].is_incremental = 1;
	cs.n_clocks = 4;
	cs.clocks = clkp;
	defs.has_timestamp_clock_id = 1;
	defs.timestamp_clock_id = CLK_DELTA;
	p = pkt_new(pf);
	p->sequence_flags = SEQ_CLEARED | SEQ_NEEDS;
	p->has_first_packet_on_sequence = 1;
	p->first_packet_on_sequence = 1;
	p->trace_packet_defaults = &defs;
	p->data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_CLOCK_SNAPSHOT;
	p->clock_snapshot = &cs;
	pkt_emit(pf, run->out);
	td_new(pf, t0, UUID_TRACE, 0, "offrx-export");
	pkt_emit(pf, run->out);
}

/* --- tracks ------------------------------------------------------------------------------- */

static void pconn_free(void *rec)
{
	struct pconn *c = rec;

	oex_fifo_free(&c->q);
	free(c->lanes);
	c->lanes = NULL;
}

static struct pproc *proc_get(struct oex_writer *w, uint64_t vpid, int64_t ts)
{
	struct perfetto *pf = w->priv;
	struct pproc *pr = oex_ctab_get(&pf->procs, vpid, 0);
	TrackDescriptor *td;

	if (pr)
		return pr;
	if (!(pr = oex_ctab_add(&pf->procs, vpid, 0)))
		return NULL;
	pr->uuid = pf->next_uuid++;
	td = td_new(pf, ts, pr->uuid, 0, "offrx engine");
	if (vpid && vpid <= INT32_MAX) {
		pf->k.proc = (Perfetto__Protos__ProcessDescriptor)
			PERFETTO__PROTOS__PROCESS_DESCRIPTOR__INIT;
		pf->k.proc.has_pid = 1;
		pf->k.proc.pid = (int32_t)vpid;
		pf->k.proc.process_name = "offrx engine";
		td->process = &pf->k.proc;
	}
	td->has_child_ordering = 1; /* connections in the order they appeared */
	td->child_ordering =
		PERFETTO__PROTOS__TRACK_DESCRIPTOR__CHILD_TRACKS_ORDERING__CHRONOLOGICAL;
	pkt_emit(pf, w->run->out);
	return pr;
}

static struct pconn *conn_get(struct oex_writer *w, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	struct jw_out *o = w->run->out;
	struct pconn *c = oex_ctab_get(&pf->conns, ev->vpid, ev->conn);
	const struct oex_conninfo *ci;
	struct pproc *pr;
	char name[256], l[80], r[80];

	if (c)
		return c;
	if (!(pr = proc_get(w, ev->vpid, ev->ts_ns)))
		return NULL;
	if (!(c = oex_ctab_add(&pf->conns, ev->vpid, ev->conn)))
		return NULL;
	if ((ci = oex_conninfo(w->run, ev->vpid, ev->conn))) {
		/* conn_open came first (main keeps it even when it was before --from). */
		oex_fmt_endpoint(l, sizeof(l), ci->local_addr, ci->local_port);
		oex_fmt_endpoint(r, sizeof(r), ci->remote_addr, ci->remote_port);
		snprintf(name, sizeof(name), "conn %llu:%llu %s <- %s",
			 (unsigned long long)ev->vpid, (unsigned long long)ev->conn, l, r);
	} else {
		snprintf(name, sizeof(name), "conn %llu:%llu (opened before the trace)",
			 (unsigned long long)ev->vpid, (unsigned long long)ev->conn);
	}
	c->uuid = pf->next_uuid++;
	td_new(pf, ev->ts_ns, c->uuid, pr->uuid, name);
	pkt_emit(pf, o);
	c->depth_uuid = counter_track(pf, o, ev->ts_ns, c->uuid, "queue depth",
				      PERFETTO__PROTOS__COUNTER_DESCRIPTOR__UNIT__UNIT_COUNT);
	c->held_uuid = counter_track(pf, o, ev->ts_ns, c->uuid, "bytes held",
				     PERFETTO__PROTOS__COUNTER_DESCRIPTOR__UNIT__UNIT_SIZE_BYTES);
	return c;
}

/* A free lane for a slice from ts on (one that was free before ts): its index; UINT32_MAX
 * without memory. */
static uint32_t lane_take(struct oex_writer *w, struct pconn *c, int64_t ts)
{
	struct perfetto *pf = w->priv;
	struct lane *l;

	for (uint32_t i = 0; i < c->nlanes; i++)
		if (!c->lanes[i].busy && c->lanes[i].free_ns < ts) {
			c->lanes[i].busy = true;
			return i;
		}
	l = realloc(c->lanes, (c->nlanes + 1) * sizeof(*l));
	if (!l)
		return UINT32_MAX;
	c->lanes = l;
	l = &c->lanes[c->nlanes];
	l->uuid = pf->next_uuid++;
	l->busy = true;
	l->free_ns = INT64_MIN;
	td_new(pf, ts, l->uuid, c->uuid, "requests");
	pkt_emit(pf, w->run->out);
	return c->nlanes++;
}

static uint64_t flow_id(const struct pconn *c, uint64_t req)
{
	return (c->uuid << FLOW_SHIFT) ^ req;
}

/* --- events ------------------------------------------------------------------------------- */

/* The counters that changed since last shown, as extra values of te (an event at their time),
 * or, te NULL, as a counter event of their own. */
static void counters(struct oex_writer *w, struct pconn *c, int64_t ts, TrackEvent *te)
{
	struct perfetto *pf = w->priv;
	struct pkt *k = &pf->k;
	uint64_t uuid[2];
	int64_t val[2];
	size_t n = 0, i = 0, x = 0;
	bool own = !te;

	if (c->depth < 0)
		c->depth = 0;
	if (c->held < 0)
		c->held = 0;
	if (c->depth != c->shown_depth) {
		uuid[n] = c->depth_uuid;
		val[n++] = c->shown_depth = c->depth;
	}
	if (c->held != c->shown_held) {
		uuid[n] = c->held_uuid;
		val[n++] = c->shown_held = c->held;
	}
	if (!n)
		return;
	if (own) {
		te = ev_new(pf, T_COUNTER, ts, uuid[i], NULL, NULL);
		te->counter_value_field_case =
			PERFETTO__PROTOS__TRACK_EVENT__COUNTER_VALUE_FIELD_COUNTER_VALUE;
		te->counter_value = val[i++];
	}
	for (; i < n; i++, x++) {
		k->xuuid[x] = uuid[i];
		k->xval[x] = val[i];
	}
	te->n_extra_counter_track_uuids = te->n_extra_counter_values = x;
	te->extra_counter_track_uuids = k->xuuid;
	te->extra_counter_values = k->xval;
	if (own)
		pkt_emit(pf, w->run->out);
}

/* One request's slice on its lane, both ends written now (the name, its completion reason, is
 * known only at the end): the begin at the post, carrying the request's details and starting
 * its flow; the end, which closes the flow and carries the connection's counters if the
 * caller has them changed. A request no fill or expiry joined has no flow: it would only join
 * the slice to itself. done: the completion, or NULL for a request still queued. */
static void slice(struct oex_writer *w, struct pconn *c, const char *name, int64_t b_ns,
		  int64_t e_ns, const struct preq *r, const struct otr_event *done)
{
	struct perfetto *pf = w->priv;
	struct jw_out *o = w->run->out;
	uint64_t lane = c->lanes[r->lane].uuid, flow = flow_id(c, r->id);
	TrackEvent *te;

	/* A slice never ends before it begins, whatever a damaged trace says. */
	if (b_ns > e_ns)
		b_ns = e_ns;
	ev_new(pf, T_BEGIN, b_ns, lane, "request", name);
	if (r->joined)
		ev_flow(pf, flow, false);
	ann_u(pf, "req", r->id);
	ann_u(pf, "length", r->len);
	if (done) {
		ann_u(pf, "bytes", done->u.complete.bytes);
		/* bytes = prefill + placed (R15): placed only when it says more. */
		if ((uint64_t)r->prefill + done->u.complete.placed != done->u.complete.bytes)
			ann_u(pf, "placed", done->u.complete.placed);
		ann_s(pf, "status", otr_status_name(done->u.complete.status), true);
		if (done->u.complete.last_fill_to_complete_ns >= 0)
			ann_i(pf, "last_fill_to_complete_ns",
			      done->u.complete.last_fill_to_complete_ns);
	} else {
		ann_u(pf, "bytes", r->fill);
		ann_s(pf, "status", "PENDING", true);
	}
	if (r->no_push)
		ann_b(pf, "no_push", true);
	if (r->prefill)
		ann_u(pf, "prefill", r->prefill);
	if (r->post_ns == OEX_TS_NONE)
		ann_b(pf, "post_seen", false);
	pkt_emit(pf, o);

	te = ev_new(pf, T_END, e_ns, lane, NULL, NULL);
	if (r->joined)
		ev_flow(pf, flow, true);
	counters(w, c, e_ns, te);
	pkt_emit(pf, o);
	c->lanes[r->lane].busy = false;
	c->lanes[r->lane].free_ns = e_ns;
	pf->slices++;
}

static int on_complete(struct oex_writer *w, struct pconn *c, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	int64_t at = oex_fifo_find(&c->q, ev->req);
	/* Posted before the trace: its fills may have carried its flow. */
	struct preq r = { .id = ev->req, .post_ns = OEX_TS_NONE, .joined = true };
	int64_t b_ns;

	if (at >= 0) {
		r = *(struct preq *)oex_fifo_at(&c->q, (uint32_t)at);
		oex_fifo_remove(&c->q, (uint32_t)at);
		c->held -= r.fill;
		b_ns = r.post_ns;
	} else {
		/* Posted before the trace (or the window) began: the event knows when. */
		pf->unknown_posts++;
		r.len = ev->u.complete.bytes;
		b_ns = ev->ts_ns - (int64_t)ev->u.complete.post_to_complete_ns;
		if (b_ns < w->run->t0_ns || b_ns > ev->ts_ns)
			b_ns = b_ns > ev->ts_ns ? ev->ts_ns : w->run->t0_ns;
		c->held -= ev->u.complete.placed;
		if ((r.lane = lane_take(w, c, b_ns)) == UINT32_MAX)
			return -ENOMEM;
	}
	c->depth--;
	slice(w, c, otr_complete_reason_name(ev->u.complete.reason), b_ns, ev->ts_ns, &r, ev);
	return 0;
}

/* Requests still queued when their connection closes or the trace ends. */
static void close_open(struct oex_writer *w, struct pconn *c, const char *name, int64_t ts,
		       uint64_t *count)
{
	while (c->q.n) {
		struct preq r = *(struct preq *)oex_fifo_at(&c->q, 0);
		oex_fifo_remove(&c->q, 0);
		slice(w, c, name, r.post_ns, ts > r.post_ns ? ts : r.post_ns, &r, NULL);
		(*count)++;
	}
}

/* An instant on a connection's (or an engine's) track; the caller adds annotations. */
static TrackEvent *instant(struct perfetto *pf, uint64_t uuid, const char *cat, const char *name,
			   int64_t ts)
{
	return ev_new(pf, T_INSTANT, ts, uuid, cat, name);
}

static int engine_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	struct pproc *pr = proc_get(w, ev->vpid, ev->ts_ns);
	static const char *const xsk_names[3] = { "xsk rx_dropped", "xsk rx_ring_full",
						  "xsk fill_ring_empty" };
	uint64_t v[3];
	TrackEvent *te;

	if (!pr)
		return -ENOMEM;
	if (ev->kind == OTR_DROP) {
		instant(pf, pr->uuid, "engine", "drop", ev->ts_ns);
		ann_s(pf, "reason", otr_drop_reason_name(ev->u.drop.reason), true);
		ann_u(pf, "frame_len", ev->u.drop.frame_len);
		pkt_emit(pf, w->run->out);
		return 0;
	}
	/* xsk_stats: the socket's cumulative counters. */
	v[0] = ev->u.xsk.rx_dropped;
	v[1] = ev->u.xsk.rx_ring_full;
	v[2] = ev->u.xsk.fill_ring_empty;
	for (int i = 0; i < 3; i++)
		if (!pr->xsk_uuid[i])
			pr->xsk_uuid[i] = counter_track(
				pf, w->run->out, ev->ts_ns, pr->uuid, xsk_names[i],
				PERFETTO__PROTOS__COUNTER_DESCRIPTOR__UNIT__UNIT_COUNT);
	te = ev_new(pf, T_COUNTER, ev->ts_ns, pr->xsk_uuid[0], NULL, NULL);
	te->counter_value_field_case =
		PERFETTO__PROTOS__TRACK_EVENT__COUNTER_VALUE_FIELD_COUNTER_VALUE;
	te->counter_value = (int64_t)v[0];
	pf->k.xuuid[0] = pr->xsk_uuid[1];
	pf->k.xuuid[1] = pr->xsk_uuid[2];
	pf->k.xval[0] = (int64_t)v[1];
	pf->k.xval[1] = (int64_t)v[2];
	te->n_extra_counter_track_uuids = te->n_extra_counter_values = 2;
	te->extra_counter_track_uuids = pf->k.xuuid;
	te->extra_counter_values = pf->k.xval;
	pkt_emit(pf, w->run->out);
	return 0;
}

static int perfetto_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	struct oex_run *run = w->run;
	struct jw_out *o = run->out;
	struct pconn *c;
	struct preq *q;
	TrackEvent *te;
	int64_t at;

	if (!pf->started)
		start(pf, run);
	switch (ev->kind) {
	case OTR_DISCARDED:
		/* Where the trace has holes. */
		instant(pf, UUID_TRACE, "trace", "events discarded", ev->ts_ns);
		ann_u(pf, "count", ev->u.discarded.count);
		ann_u(pf, "packets", ev->u.discarded.packets);
		pkt_emit(pf, o);
		return 0;
	case OTR_SOURCE:
		instant(pf, UUID_TRACE, "trace",
			ev->u.source.state == OTR_SRC_LOST ? "live source lost"
							   : "live source attached",
			ev->ts_ns > run->t0_ns ? ev->ts_ns : run->t0_ns);
		ann_s(pf, "message", ev->u.source.msg, false);
		pkt_emit(pf, o);
		return 0;
	case OTR_XSK_STATS:
		return engine_event(w, ev);
	case OTR_DROP:
		if (!ev->conn)
			return engine_event(w, ev);
		break;
	case OTR_CONN_OPEN:
	case OTR_CONN_CLOSE:
	case OTR_DISCONNECT:
	case OTR_POST:
	case OTR_FILL:
	case OTR_TIMER_EXPIRE:
	case OTR_COMPLETE:
	case OTR_INDICATE:
	case OTR_CONN_STATE:
		break; /* on the connection's tracks */
	default:
		/* Not drawn (the jsonl format has them): stream bytes, returns, the completion and
		 * indication calls, handbacks, timer starts, restarts and cancels. Returns may even
		 * follow conn_close: a track for them would be a connection reborn. */
		return 0;
	}
	if (!(c = conn_get(w, ev)))
		return -ENOMEM;

	switch (ev->kind) {
	case OTR_POST: {
		struct preq r = {
			.id = ev->req,
			.post_ns = ev->ts_ns,
			.len = ev->u.post.buf_len,
			.fill = ev->u.post.prefill,
			.prefill = ev->u.post.prefill,
			.no_push = ev->u.post.no_push,
		};
		if ((r.lane = lane_take(w, c, ev->ts_ns)) == UINT32_MAX ||
		    oex_fifo_push(&c->q, &r, sizeof(r)))
			return -ENOMEM;
		c->depth = ev->u.post.depth;
		c->held += r.prefill;
		counters(w, c, ev->ts_ns, NULL);
		break;
	}
	case OTR_FILL:
		at = oex_fifo_find(&c->q, ev->req);
		if (at >= 0) {
			q = oex_fifo_at(&c->q, (uint32_t)at);
			q->fill = ev->u.fill.total;
			q->joined = true;
		}
		c->held += ev->u.fill.bytes;
		te = instant(pf, c->uuid, "fill", "fill", ev->ts_ns);
		ev_flow(pf, flow_id(c, ev->req), false);
		/* Not its total: the slice has the sum, and a fill is the most frequent packet. */
		ann_u(pf, "bytes", ev->u.fill.bytes);
		if (ev->u.fill.psh)
			ann_b(pf, "psh", true);
		counters(w, c, ev->ts_ns, te);
		pkt_emit(pf, o);
		break;
	case OTR_TIMER_EXPIRE:
		if ((at = oex_fifo_find(&c->q, ev->req)) >= 0)
			((struct preq *)oex_fifo_at(&c->q, (uint32_t)at))->joined = true;
		instant(pf, c->uuid, "timer", "push timer expire", ev->ts_ns);
		ev_flow(pf, flow_id(c, ev->req), false);
		ann_u(pf, "req", ev->req);
		ann_u(pf, "bytes", ev->u.timer.bytes);
		ann_i(pf, "late_ns", (int64_t)(ev->ts_raw - ev->u.timer.deadline_ns));
		pkt_emit(pf, o);
		break;
	case OTR_COMPLETE:
		return on_complete(w, c, ev);
	case OTR_INDICATE:
		instant(pf, c->uuid, "conn", "indicate", ev->ts_ns);
		ann_u(pf, "offered", ev->u.indicate.offered);
		ann_u(pf, "consumed", ev->u.indicate.consumed);
		ann_s(pf, "result", otr_status_name(ev->u.indicate.result), true);
		pkt_emit(pf, o);
		break;
	case OTR_DISCONNECT:
		instant(pf, c->uuid, "conn", "disconnect", ev->ts_ns);
		ann_s(pf, "reason", otr_close_reason_name(ev->u.close.reason), true);
		pkt_emit(pf, o);
		break;
	case OTR_DROP:
		instant(pf, c->uuid, "conn", "drop", ev->ts_ns);
		ann_s(pf, "reason", otr_drop_reason_name(ev->u.drop.reason), true);
		ann_u(pf, "frame_len", ev->u.drop.frame_len);
		pkt_emit(pf, o);
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
			c->held = sum;
		counters(w, c, ev->ts_ns, NULL);
		break;
	}
	case OTR_CONN_CLOSE:
		close_open(w, c, "not completed", ev->ts_ns, &pf->not_completed);
		te = instant(pf, c->uuid, "conn", "conn_close", ev->ts_ns);
		ann_s(pf, "reason", otr_close_reason_name(ev->u.close.reason), true);
		ann_u(pf, "bytes", ev->u.close.bytes);
		c->depth = 0;
		c->held = 0;
		counters(w, c, ev->ts_ns, te);
		pkt_emit(pf, o);
		/* Its tracks stay in the output; its state goes. */
		pconn_free(c);
		oex_ctab_del(&pf->conns, c);
		break;
	default:
		break; /* conn_open: conn_get() named the track */
	}
	return 0;
}

static int perfetto_begin(struct oex_writer *w)
{
	(void)w; /* the first packet needs the trace start: written with the first event */
	return 0;
}

/* The export's last words on the trace-wide track: what chrome's metadata says. */
static void last_words(struct oex_writer *w)
{
	struct perfetto *pf = w->priv;
	struct oex_run *run = w->run;

	instant(pf, UUID_TRACE, "trace", "offrx-export end",
		run->t0_ns == OEX_TS_NONE ? pf->clk_last : run->last_ns);
	ann_s(pf, "producer", PF_PRODUCER, false);
	ann_b(pf, "complete", oex_complete(run));
	ann_s(pf, "end", oex_end_name(run->end), false);
	if (run->end == OEX_END_ERROR)
		ann_s(pf, "error", run->error, false);
	ann_u(pf, "events", run->events);
	ann_u(pf, "discarded_events", run->discarded_events);
	ann_u(pf, "lost_packets", run->lost_packets);
	ann_u(pf, "request_slices", pf->slices);
	ann_u(pf, "open_at_end", pf->open_at_end);
	ann_u(pf, "not_completed_at_close", pf->not_completed);
	ann_u(pf, "posted_before_trace", pf->unknown_posts);
	ann_u(pf, "damaged_files", run->ndamage);
	pkt_emit(pf, run->out);
}

static int perfetto_end(struct oex_writer *w)
{
	struct perfetto *pf = w->priv;
	struct pconn *c;
	size_t pos = 0;

	if (!pf->started)
		start(pf, w->run);
	/* Closing a slice frees nothing in the table: iterate safely. */
	while ((c = oex_ctab_next(&pf->conns, &pos)))
		if (c->q.n)
			close_open(w, c, "open at end", w->run->last_ns, &pf->open_at_end);
	last_words(w);
	return 0;
}

static void perfetto_free(struct oex_writer *w)
{
	struct perfetto *pf = w->priv;

	if (!pf)
		return;
	oex_ctab_fini(&pf->conns, pconn_free);
	oex_ctab_fini(&pf->procs, NULL);
	free(pf);
}

static const struct oex_writer_ops perfetto_ops = {
	.name = "perfetto",
	.begin = perfetto_begin,
	.event = perfetto_event,
	.end = perfetto_end,
	.free = perfetto_free,
};

int oex_perfetto_new(struct oex_writer *w)
{
	struct perfetto *pf = calloc(1, sizeof(*pf));

	if (!pf)
		return -ENOMEM;
	oex_ctab_init(&pf->conns, sizeof(struct pconn));
	oex_ctab_init(&pf->procs, sizeof(struct pproc));
	pf->next_uuid = UUID_TRACE + 1;
	w->ops = &perfetto_ops;
	w->priv = pf;
	return 0;
}
