/* --format perfetto: Perfetto's own protobuf trace format (a Trace: TracePackets of TrackEvents),
 * written packet by packet as the events arrive, in the messages of perfetto_trace.proto.
 * A process track per engine, a track per receive queue under it ("queue N": its xsk counters
 * and engine thread CPU share), a track per connection named by its 4-tuple under its queue's
 * (under the process's when the trace never said its queue), an async slice per
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

#define PF_PRODUCER "offrx-export " OEX_VERSION
#define PF_SEQ	    1u	 /* our one packet sequence (0 is invalid) */
#define CLK_REAL    1u	 /* Perfetto's built-in REALTIME */
#define CLK_BOOT    6u	 /* BOOTTIME: the trace clock, absolute ns (our ts_ns) */
#define CLK_DELTA   64u	 /* ours, sequence-scoped: ns since the previous packet on it */
#define CLK_TRACE   65u	 /* ours, sequence-scoped: ns since the trace start (a slice's begin) */
#define UUID_TRACE  1u	 /* the trace-wide track: losses, the live source, the export's end */
#define MAX_ANN	    16	 /* debug annotations on one event */
#define MAX_NEW	    16	 /* interning entries one packet adds, per kind */
#define INTERN_MAX  128	 /* strings interned per kind; beyond, names go inline */
#define FLOW_SHIFT  32	 /* flow id: the connection track's uuid, then the request id */
#define PKT_ROOM    4096 /* more than a packet's bytes besides its strings (each makes room) */

#define SEQ_CLEARED PERFETTO__PROTOS__TRACE_PACKET__SEQUENCE_FLAGS__SEQ_INCREMENTAL_STATE_CLEARED
#define SEQ_NEEDS   PERFETTO__PROTOS__TRACE_PACKET__SEQUENCE_FLAGS__SEQ_NEEDS_INCREMENTAL_STATE
#define T_BEGIN	    PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN
#define T_END	    PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END
#define T_INSTANT   PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_INSTANT
#define T_COUNTER   PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER
enum { I_NAME, I_CAT, I_ANN, I_STR, I__N }; /* interning kinds */

/* The fields we write, by message. Their numbers and wire types are read once from the
 * descriptors protoc-c makes of perfetto_trace.proto (see tag_init): the .proto alone says
 * them. */
enum tag {
	F_TRACE_PACKET,
	F_PKT_TS,
	F_PKT_CLOCK,
	F_PKT_TE,
	F_PKT_TD,
	F_PKT_CS,
	F_PKT_SEQ,
	F_PKT_IDATA,
	F_PKT_FLAGS,
	F_PKT_DEFAULTS,
	F_PKT_FIRST,
	F_DEF_CLOCK,
	F_CS_CLOCK,
	F_CLK_ID,
	F_CLK_TS,
	F_CLK_INCR,
	F_TD_UUID,
	F_TD_PARENT,
	F_TD_NAME,
	F_TD_PROCESS,
	F_TD_COUNTER,
	F_TD_ORDER,
	F_PROC_PID,
	F_PROC_NAME,
	F_CD_UNIT,
	F_TE_CAT,
	F_TE_NAME_IID,
	F_TE_NAME,
	F_TE_TYPE,
	F_TE_TRACK,
	F_TE_COUNTER,
	F_TE_XUUID,
	F_TE_XVAL,
	F_TE_FLOW,
	F_TE_TFLOW,
	F_TE_ANN,
	F_ANN_NAME_IID,
	F_ANN_NAME,
	F_ANN_BOOL,
	F_ANN_UINT,
	F_ANN_INT,
	F_ANN_STR,
	F_ANN_STR_IID,
	/* InternedData's tables, then each entry's iid and string, in interning kind order */
	F_ID_TABLE,
	F_ID_IID = F_ID_TABLE + I__N,
	F_ID_STR = F_ID_IID + I__N,
	F__N = F_ID_STR + I__N
};

/* A packet's draw, in order: no two nested messages are open side by side, so one scratch
 * buffer and the offsets of the open ones suffice. */
struct pkt {
	uint8_t *buf, *cur;
	size_t cap;
	size_t data_at; /* the open TrackEvent or TrackDescriptor's content; 0: none */
	int64_t ts;	/* in CLK_DELTA: the clock's value once the packet is out */
	bool delta;
	uint32_t nann; /* debug annotations on the event */
	/* interning entries this packet adds: kind, iid, string */
	uint32_t nnew[I__N];
	const char *news[I__N][MAX_NEW];
	uint64_t newid[I__N][MAX_NEW];
};

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
};

/* One receive queue of an engine process (key: vpid, queue + 1). */
struct pqueue {
	struct conn_key k;
	uint64_t uuid;
	uint64_t xsk_uuid[3]; /* rx_dropped, rx_ring_full, fill_ring_empty; 0 until first seen */
	uint64_t cpu_uuid;    /* its engine thread's CPU %, between two xsk_stats */
	int64_t prev_ns;      /* the previous xsk_stats with a thread CPU time */
	uint64_t prev_cpu;
};

struct itab {
	const char *s[INTERN_MAX]; /* iid = index + 1 */
	uint32_t n;
};

struct perfetto {
	struct oex_ctab conns, procs, queues;
	struct itab intern[I__N];
	uint32_t tag[F__N]; /* (field number << 3) | wire type */
	struct pkt k;
	bool started;	  /* the first packet (clock, defaults, cleared state) is out */
	int64_t t0;	  /* the trace start: CLK_TRACE's zero */
	int64_t clk_last; /* CLK_DELTA's value: the last delta-timed packet's time */
	uint64_t next_uuid;
	uint64_t slices, open_at_end, not_completed, unknown_posts, packets;
};

/* --- the wire -------------------------------------------------------------------------------
 * Protobuf's encoding written directly: a field is its tag (a varint), then a varint, eight
 * bytes, or a length and that many bytes. protobuf-c's message structs and its packing (which
 * walks every message twice, once to size it) cost more than the rest of the writer. A nested
 * message's length is reserved as one byte and widened at its close in the rare case it is
 * 128 bytes or more. */

static const struct {
	uint8_t tag;
	const ProtobufCMessageDescriptor *msg;
	const char *field;
} tag_src[] = {
#define PB(m) &perfetto__protos__##m##__descriptor
	{ F_TRACE_PACKET, PB(trace), "packet" },
	{ F_PKT_TS, PB(trace_packet), "timestamp" },
	{ F_PKT_CLOCK, PB(trace_packet), "timestamp_clock_id" },
	{ F_PKT_TE, PB(trace_packet), "track_event" },
	{ F_PKT_TD, PB(trace_packet), "track_descriptor" },
	{ F_PKT_CS, PB(trace_packet), "clock_snapshot" },
	{ F_PKT_SEQ, PB(trace_packet), "trusted_packet_sequence_id" },
	{ F_PKT_IDATA, PB(trace_packet), "interned_data" },
	{ F_PKT_FLAGS, PB(trace_packet), "sequence_flags" },
	{ F_PKT_DEFAULTS, PB(trace_packet), "trace_packet_defaults" },
	{ F_PKT_FIRST, PB(trace_packet), "first_packet_on_sequence" },
	{ F_DEF_CLOCK, PB(trace_packet_defaults), "timestamp_clock_id" },
	{ F_CS_CLOCK, PB(clock_snapshot), "clocks" },
	{ F_CLK_ID, PB(clock_snapshot__clock), "clock_id" },
	{ F_CLK_TS, PB(clock_snapshot__clock), "timestamp" },
	{ F_CLK_INCR, PB(clock_snapshot__clock), "is_incremental" },
	{ F_TD_UUID, PB(track_descriptor), "uuid" },
	{ F_TD_PARENT, PB(track_descriptor), "parent_uuid" },
	{ F_TD_NAME, PB(track_descriptor), "name" },
	{ F_TD_PROCESS, PB(track_descriptor), "process" },
	{ F_TD_COUNTER, PB(track_descriptor), "counter" },
	{ F_TD_ORDER, PB(track_descriptor), "child_ordering" },
	{ F_PROC_PID, PB(process_descriptor), "pid" },
	{ F_PROC_NAME, PB(process_descriptor), "process_name" },
	{ F_CD_UNIT, PB(counter_descriptor), "unit" },
	{ F_TE_CAT, PB(track_event), "category_iids" },
	{ F_TE_NAME_IID, PB(track_event), "name_iid" },
	{ F_TE_NAME, PB(track_event), "name" },
	{ F_TE_TYPE, PB(track_event), "type" },
	{ F_TE_TRACK, PB(track_event), "track_uuid" },
	{ F_TE_COUNTER, PB(track_event), "counter_value" },
	{ F_TE_XUUID, PB(track_event), "extra_counter_track_uuids" },
	{ F_TE_XVAL, PB(track_event), "extra_counter_values" },
	{ F_TE_FLOW, PB(track_event), "flow_ids" },
	{ F_TE_TFLOW, PB(track_event), "terminating_flow_ids" },
	{ F_TE_ANN, PB(track_event), "debug_annotations" },
	{ F_ANN_NAME_IID, PB(debug_annotation), "name_iid" },
	{ F_ANN_NAME, PB(debug_annotation), "name" },
	{ F_ANN_BOOL, PB(debug_annotation), "bool_value" },
	{ F_ANN_UINT, PB(debug_annotation), "uint_value" },
	{ F_ANN_INT, PB(debug_annotation), "int_value" },
	{ F_ANN_STR, PB(debug_annotation), "string_value" },
	{ F_ANN_STR_IID, PB(debug_annotation), "string_value_iid" },
	{ F_ID_TABLE + I_NAME, PB(interned_data), "event_names" },
	{ F_ID_TABLE + I_CAT, PB(interned_data), "event_categories" },
	{ F_ID_TABLE + I_ANN, PB(interned_data), "debug_annotation_names" },
	{ F_ID_TABLE + I_STR, PB(interned_data), "debug_annotation_string_values" },
	{ F_ID_IID + I_NAME, PB(event_name), "iid" },
	{ F_ID_IID + I_CAT, PB(event_category), "iid" },
	{ F_ID_IID + I_ANN, PB(debug_annotation_name), "iid" },
	{ F_ID_IID + I_STR, PB(interned_string), "iid" },
	{ F_ID_STR + I_NAME, PB(event_name), "name" },
	{ F_ID_STR + I_CAT, PB(event_category), "name" },
	{ F_ID_STR + I_ANN, PB(debug_annotation_name), "name" },
	{ F_ID_STR + I_STR, PB(interned_string), "str" },
#undef PB
};

/* Each field's tag from the .proto's descriptors. A field perfetto_trace.proto lacks, or
 * cannot be encoded here, is a bug of this file or the .proto: said, then abort. */
static void tag_init(struct perfetto *pf)
{
	_Static_assert(sizeof(tag_src) / sizeof(tag_src[0]) == F__N, "a tag_src row per field");

	for (size_t i = 0; i < sizeof(tag_src) / sizeof(tag_src[0]); i++) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
			tag_src[i].msg, tag_src[i].field);
		uint32_t wt = 0; /* varint: the integer types, bool, enum */

		if (!f) {
			fprintf(stderr,
				"perfetto.c: perfetto_trace.proto has no field %s in %s: "
				"declare it with Perfetto's number\n",
				tag_src[i].field, tag_src[i].msg->name);
			abort();
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_FIXED64:
			wt = 1;
			break;
		case PROTOBUF_C_TYPE_STRING:
		case PROTOBUF_C_TYPE_BYTES:
		case PROTOBUF_C_TYPE_MESSAGE:
			wt = 2;
			break;
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_BOOL:
		case PROTOBUF_C_TYPE_ENUM:
			break;
		default:
			fprintf(stderr,
				"perfetto.c: field %s of %s: a type this writer cannot encode\n",
				tag_src[i].field, tag_src[i].msg->name);
			abort();
		}
		pf->tag[tag_src[i].tag] = f->id << 3 | wt;
	}
	for (int t = 0; t < F__N; t++)
		if (!pf->tag[t]) {
			fprintf(stderr, "perfetto.c: field %d has no row in tag_src\n", t);
			abort();
		}
}

static inline uint8_t *put_varint(uint8_t *b, uint64_t v)
{
	while (v >= 0x80) {
		*b++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*b++ = (uint8_t)v;
	return b;
}

/* At least n more bytes in the scratch buffer (which only moves here). */
static void room(struct pkt *k, size_t n)
{
	size_t used = (size_t)(k->cur - k->buf), cap;
	uint8_t *b;

	if (k->cap - used >= n)
		return;
	cap = used + n + PKT_ROOM;
	if (!(b = realloc(k->buf, cap))) {
		/* As jw_out_grow: one item larger than memory, nothing sensible can follow. */
		fprintf(stderr, "offrx-export: out of memory for a %zu-byte Perfetto packet\n",
			cap);
		exit(1);
	}
	k->buf = b;
	k->cur = b + used;
	k->cap = cap;
}

static inline void w_u(struct perfetto *pf, int f, uint64_t v)
{
	struct pkt *k = &pf->k;

	k->cur = put_varint(put_varint(k->cur, pf->tag[f]), v);
}

static inline void w_fixed64(struct perfetto *pf, int f, uint64_t v)
{
	struct pkt *k = &pf->k;

	k->cur = put_varint(k->cur, pf->tag[f]);
	for (int i = 0; i < 8; i++)
		*k->cur++ = (uint8_t)(v >> (8 * i));
}

static void w_str(struct perfetto *pf, int f, const char *s)
{
	struct pkt *k = &pf->k;
	size_t n = strlen(s);

	room(k, n + PKT_ROOM); /* and room for the fixed fields after it, as pkt_new made */
	k->cur = put_varint(put_varint(k->cur, pf->tag[f]), n);
	memcpy(k->cur, s, n);
	k->cur += n;
}

/* A nested message opens: its tag and a length byte; the offset of its content. */
static inline size_t w_open(struct perfetto *pf, int f)
{
	struct pkt *k = &pf->k;

	k->cur = put_varint(k->cur, pf->tag[f]) + 1;
	return (size_t)(k->cur - k->buf);
}

static inline void w_close(struct perfetto *pf, size_t at)
{
	struct pkt *k = &pf->k;
	size_t len = (size_t)(k->cur - k->buf) - at, wide;
	uint8_t tmp[10];

	if (len < 0x80) {
		k->buf[at - 1] = (uint8_t)len;
		return;
	}
	wide = (size_t)(put_varint(tmp, len) - tmp);
	room(k, wide);
	memmove(k->buf + at + wide - 1, k->buf + at, len);
	memcpy(k->buf + at - 1, tmp, wide);
	k->cur += wide - 1;
}

/* --- packets ------------------------------------------------------------------------------ */

/* A new packet on our sequence; the caller adds the rest and emits it. */
static void pkt_new(struct perfetto *pf)
{
	struct pkt *k = &pf->k;

	k->cur = k->buf;
	room(k, PKT_ROOM);
	k->data_at = 0;
	k->delta = false;
	k->nann = 0;
	memset(k->nnew, 0, sizeof(k->nnew));
	w_u(pf, F_PKT_SEQ, PF_SEQ);
	w_u(pf, F_PKT_FLAGS, SEQ_NEEDS); /* the clock default and interned names */
}

/* Events come in time order, so times are deltas in CLK_DELTA (a few bytes, not nine). A time
 * before the last one (a slice's begin, written at its completion) is from the trace start in
 * CLK_TRACE (six bytes over ten minutes), or, before the trace start, absolute in CLK_BOOT. */
static void pkt_ts(struct perfetto *pf, int64_t ts)
{
	if (ts < 0)
		ts = 0;
	if (ts >= pf->clk_last) {
		w_u(pf, F_PKT_TS, (uint64_t)(ts - pf->clk_last));
		pf->k.ts = ts;
		pf->k.delta = true;
	} else if (ts >= pf->t0) {
		w_u(pf, F_PKT_TS, (uint64_t)(ts - pf->t0));
		w_u(pf, F_PKT_CLOCK, CLK_TRACE);
	} else {
		w_u(pf, F_PKT_TS, (uint64_t)ts);
		w_u(pf, F_PKT_CLOCK, CLK_BOOT);
	}
}

/* The packet, as field 1 of Trace (length-delimited), into the output buffer: the open track
 * event or descriptor closed, then the interning entries it added. */
static void pkt_emit(struct perfetto *pf, struct jw_out *o)
{
	struct pkt *k = &pf->k;
	size_t n, id = 0;
	uint8_t *b;

	if (k->data_at)
		w_close(pf, k->data_at);
	for (int kind = 0; kind < I__N; kind++) {
		for (uint32_t i = 0; i < k->nnew[kind]; i++) {
			size_t e;

			if (!id)
				id = w_open(pf, F_PKT_IDATA);
			e = w_open(pf, F_ID_TABLE + kind);
			w_u(pf, F_ID_IID + kind, k->newid[kind][i]);
			w_str(pf, F_ID_STR + kind, k->news[kind][i]);
			w_close(pf, e);
		}
	}
	if (id)
		w_close(pf, id);
	n = (size_t)(k->cur - k->buf);
	b = (uint8_t *)jw_reserve(o, n + 16);
	b = put_varint(put_varint(b, pf->tag[F_TRACE_PACKET]), n);
	memcpy(b, k->buf, n);
	o->len = (size_t)((char *)b + n - o->buf);
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

	/* The same pointer, almost always (literals and name tables); then the same text. */
	for (uint32_t j = 0; j < t->n; j++)
		if (t->s[j] == s)
			return j + 1;
	for (uint32_t j = 0; j < t->n; j++)
		if (!strcmp(t->s[j], s))
			return j + 1;
	if (t->n == INTERN_MAX || k->nnew[kind] == MAX_NEW)
		return 0;
	t->s[t->n++] = s;
	k->news[kind][k->nnew[kind]] = s;
	k->newid[kind][k->nnew[kind]++] = t->n;
	return t->n;
}

/* A track event in a new packet at ts on track uuid; name NULL for a slice's end and counters.
 * The name and category must outlive the export (see iid()). The caller adds the rest. */
static void ev_new(struct perfetto *pf, Perfetto__Protos__TrackEvent__Type type, int64_t ts,
		   uint64_t uuid, const char *cat, const char *name)
{
	uint64_t id;

	pkt_new(pf);
	pkt_ts(pf, ts);
	pf->k.data_at = w_open(pf, F_PKT_TE);
	w_u(pf, F_TE_TYPE, (uint64_t)type);
	w_u(pf, F_TE_TRACK, uuid);
	if (name) {
		if ((id = iid(pf, I_NAME, name)))
			w_u(pf, F_TE_NAME_IID, id);
		else
			w_str(pf, F_TE_NAME, name);
	}
	if (cat && (id = iid(pf, I_CAT, cat)))
		w_u(pf, F_TE_CAT, id);
}

/* A debug annotation named name on the open event: opened, named; the caller writes its value
 * and closes it. */
static size_t ann(struct perfetto *pf, const char *name)
{
	size_t at;
	uint64_t id;

	if (pf->k.nann++ == MAX_ANN)
		abort(); /* a writer bug: MAX_ANN is the most any event below adds */
	at = w_open(pf, F_TE_ANN);
	if ((id = iid(pf, I_ANN, name)))
		w_u(pf, F_ANN_NAME_IID, id);
	else
		w_str(pf, F_ANN_NAME, name);
	return at;
}

static void ann_u(struct perfetto *pf, const char *name, uint64_t v)
{
	size_t at = ann(pf, name);

	w_u(pf, F_ANN_UINT, v);
	w_close(pf, at);
}

static void ann_i(struct perfetto *pf, const char *name, int64_t v)
{
	size_t at = ann(pf, name);

	w_u(pf, F_ANN_INT, (uint64_t)v);
	w_close(pf, at);
}

static void ann_b(struct perfetto *pf, const char *name, bool v)
{
	size_t at = ann(pf, name);

	w_u(pf, F_ANN_BOOL, v);
	w_close(pf, at);
}

/* A string value: interned if it is one of a few (an enum's name, see iid()), else inline. */
static void ann_s(struct perfetto *pf, const char *name, const char *v, bool intern)
{
	size_t at = ann(pf, name);
	uint64_t id = intern ? iid(pf, I_STR, v) : 0;

	if (id)
		w_u(pf, F_ANN_STR_IID, id);
	else
		w_str(pf, F_ANN_STR, v);
	w_close(pf, at);
}

static void ev_flow(struct perfetto *pf, uint64_t flow, bool terminating)
{
	w_fixed64(pf, terminating ? F_TE_TFLOW : F_TE_FLOW, flow);
}

/* Counter values at the open event's time: value[i] of counter track uuid[i]. */
static void ev_counters(struct perfetto *pf, const uint64_t *uuid, const int64_t *val, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w_u(pf, F_TE_XUUID, uuid[i]);
	for (size_t i = 0; i < n; i++)
		w_u(pf, F_TE_XVAL, (uint64_t)val[i]);
}

/* A track's descriptor in a new packet (the caller adds the rest and emits it). */
static void td_new(struct perfetto *pf, int64_t ts, uint64_t uuid, uint64_t parent,
		   const char *name)
{
	pkt_new(pf);
	pkt_ts(pf, ts);
	pf->k.data_at = w_open(pf, F_PKT_TD);
	w_u(pf, F_TD_UUID, uuid);
	if (parent)
		w_u(pf, F_TD_PARENT, parent);
	w_str(pf, F_TD_NAME, name);
}

static uint64_t counter_track(struct perfetto *pf, struct jw_out *o, int64_t ts, uint64_t parent,
			      const char *name, int unit)
{
	uint64_t uuid = pf->next_uuid++;
	size_t at;

	td_new(pf, ts, uuid, parent, name);
	at = w_open(pf, F_TD_COUNTER);
	w_u(pf, F_CD_UNIT, (uint64_t)unit);
	w_close(pf, at);
	pkt_emit(pf, o);
	return uuid;
}

/* The sequence's first packet: incremental state starts here (cleared), our delta clock
 * starts at the trace start t0 (REALTIME and BOOTTIME read the same: our times are Unix-epoch
 * ns), and every later packet is timed in it unless it says otherwise; CLK_TRACE reads 0 at t0.
 * Then the trace-wide track. */
static void start(struct perfetto *pf, struct oex_run *run)
{
	static const uint32_t ids[4] = { CLK_REAL, CLK_BOOT, CLK_DELTA, CLK_TRACE };
	int64_t t0 = run->t0_ns == OEX_TS_NONE || run->t0_ns < 0 ? 0 : run->t0_ns;
	size_t cs, c, d;

	pf->started = true;
	pf->t0 = pf->clk_last = t0;
	pkt_new(pf);
	pf->k.cur = pf->k.buf; /* the flags differ: cleared, and needed from here on */
	w_u(pf, F_PKT_SEQ, PF_SEQ);
	w_u(pf, F_PKT_FLAGS, SEQ_CLEARED | SEQ_NEEDS);
	w_u(pf, F_PKT_FIRST, 1);
	d = w_open(pf, F_PKT_DEFAULTS);
	w_u(pf, F_DEF_CLOCK, CLK_DELTA);
	w_close(pf, d);
	cs = w_open(pf, F_PKT_CS);
	for (int i = 0; i < 4; i++) {
		c = w_open(pf, F_CS_CLOCK);
		w_u(pf, F_CLK_ID, ids[i]);
		w_u(pf, F_CLK_TS, ids[i] == CLK_TRACE ? 0 : (uint64_t)t0);
		if (ids[i] == CLK_DELTA)
			w_u(pf, F_CLK_INCR, 1);
		w_close(pf, c);
	}
	w_close(pf, cs);
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
	size_t at;

	if (pr)
		return pr;
	if (!(pr = oex_ctab_add(&pf->procs, vpid, 0)))
		return NULL;
	pr->uuid = pf->next_uuid++;
	td_new(pf, ts, pr->uuid, 0, "offrx engine");
	if (vpid && vpid <= INT32_MAX) {
		at = w_open(pf, F_TD_PROCESS);
		w_u(pf, F_PROC_PID, vpid);
		w_str(pf, F_PROC_NAME, "offrx engine");
		w_close(pf, at);
	}
	/* connections in the order they appeared */
	w_u(pf, F_TD_ORDER,
	    PERFETTO__PROTOS__TRACK_DESCRIPTOR__CHILD_TRACKS_ORDERING__CHRONOLOGICAL);
	pkt_emit(pf, w->run->out);
	return pr;
}

static struct pqueue *queue_get(struct oex_writer *w, uint64_t vpid, uint32_t queue, int64_t ts)
{
	struct perfetto *pf = w->priv;
	struct pqueue *q = oex_ctab_get(&pf->queues, vpid, (uint64_t)queue + 1);
	struct pproc *pr;
	char name[32];

	if (q)
		return q;
	if (!(pr = proc_get(w, vpid, ts)) ||
	    !(q = oex_ctab_add(&pf->queues, vpid, (uint64_t)queue + 1)))
		return NULL;
	q->uuid = pf->next_uuid++;
	snprintf(name, sizeof(name), "queue %u", queue);
	td_new(pf, ts, q->uuid, pr->uuid, name);
	w_u(pf, F_TD_ORDER,
	    PERFETTO__PROTOS__TRACK_DESCRIPTOR__CHILD_TRACKS_ORDERING__CHRONOLOGICAL);
	pkt_emit(pf, w->run->out);
	return q;
}

static struct pconn *conn_get(struct oex_writer *w, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	struct jw_out *o = w->run->out;
	struct pconn *c = oex_ctab_get(&pf->conns, ev->vpid, ev->conn);
	const struct oex_conninfo *ci;
	struct pproc *pr;
	struct pqueue *pq = NULL;
	char name[256], l[80], r[80];

	if (c)
		return c;
	if (!(pr = proc_get(w, ev->vpid, ev->ts_ns)))
		return NULL;
	/* Its queue, when known now: the track's parent cannot change later. */
	ci = oex_conninfo(w->run, ev->vpid, ev->conn);
	if (ev->kind == OTR_CONN_OPEN || ev->kind == OTR_CONN_STATE || ci) {
		uint32_t qn = ev->kind == OTR_CONN_OPEN	   ? ev->u.open.queue
			      : ev->kind == OTR_CONN_STATE ? ev->u.state.queue
							   : ci->queue;
		if (!(pq = queue_get(w, ev->vpid, qn, ev->ts_ns)))
			return NULL;
	}
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
	td_new(pf, ev->ts_ns, c->uuid, pq ? pq->uuid : pr->uuid, name);
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

/* The counters that changed since last shown, as extra values of the open event (own false:
 * one at their time), or as a counter event of their own. */
static void counters(struct oex_writer *w, struct pconn *c, int64_t ts, bool own)
{
	struct perfetto *pf = w->priv;
	uint64_t uuid[2];
	int64_t val[2];
	size_t n = 0, i = 0;

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
		ev_new(pf, T_COUNTER, ts, uuid[i], NULL, NULL);
		w_u(pf, F_TE_COUNTER, (uint64_t)val[i++]);
	}
	ev_counters(pf, uuid + i, val + i, n - i);
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

	ev_new(pf, T_END, e_ns, lane, NULL, NULL);
	if (r->joined)
		ev_flow(pf, flow, true);
	counters(w, c, e_ns, false);
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
static void instant(struct perfetto *pf, uint64_t uuid, const char *cat, const char *name,
		    int64_t ts)
{
	ev_new(pf, T_INSTANT, ts, uuid, cat, name);
}

static int engine_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	struct pproc *pr = proc_get(w, ev->vpid, ev->ts_ns);
	struct pqueue *q;
	static const char *const xsk_names[3] = { "xsk rx_dropped", "xsk rx_ring_full",
						  "xsk fill_ring_empty" };
	uint64_t v[3];
	int64_t xval[2];

	if (!pr)
		return -ENOMEM;
	if (ev->kind == OTR_DROP) {
		instant(pf, pr->uuid, "engine", "drop", ev->ts_ns);
		ann_s(pf, "reason", otr_drop_reason_name(ev->u.drop.reason), true);
		ann_u(pf, "frame_len", ev->u.drop.frame_len);
		pkt_emit(pf, w->run->out);
		return 0;
	}
	/* xsk_stats: the queue's socket's cumulative counters. */
	if (!(q = queue_get(w, ev->vpid, ev->u.xsk.queue, ev->ts_ns)))
		return -ENOMEM;
	v[0] = ev->u.xsk.rx_dropped;
	v[1] = ev->u.xsk.rx_ring_full;
	v[2] = ev->u.xsk.fill_ring_empty;
	for (int i = 0; i < 3; i++)
		if (!q->xsk_uuid[i])
			q->xsk_uuid[i] = counter_track(
				pf, w->run->out, ev->ts_ns, q->uuid, xsk_names[i],
				PERFETTO__PROTOS__COUNTER_DESCRIPTOR__UNIT__UNIT_COUNT);
	ev_new(pf, T_COUNTER, ev->ts_ns, q->xsk_uuid[0], NULL, NULL);
	w_u(pf, F_TE_COUNTER, v[0]);
	xval[0] = (int64_t)v[1];
	xval[1] = (int64_t)v[2];
	ev_counters(pf, q->xsk_uuid + 1, xval, 2);
	pkt_emit(pf, w->run->out);
	/* Its engine thread's CPU share since the previous xsk_stats, in whole percent. */
	uint64_t cpu = ev->u.xsk.thread_cpu_ns;
	if (cpu && q->prev_cpu && cpu >= q->prev_cpu && ev->ts_ns > q->prev_ns) {
		if (!q->cpu_uuid)
			q->cpu_uuid = counter_track(
				pf, w->run->out, ev->ts_ns, q->uuid, "engine thread CPU %",
				PERFETTO__PROTOS__COUNTER_DESCRIPTOR__UNIT__UNIT_COUNT);
		ev_new(pf, T_COUNTER, ev->ts_ns, q->cpu_uuid, NULL, NULL);
		w_u(pf, F_TE_COUNTER,
		    (uint64_t)(100.0 * (double)(cpu - q->prev_cpu) /
				       (double)(ev->ts_ns - q->prev_ns) +
			       0.5));
		pkt_emit(pf, w->run->out);
	}
	if (cpu) {
		q->prev_cpu = cpu;
		q->prev_ns = ev->ts_ns;
	}
	return 0;
}

static int perfetto_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct perfetto *pf = w->priv;
	struct oex_run *run = w->run;
	struct jw_out *o = run->out;
	struct pconn *c;
	struct preq *q;
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
		counters(w, c, ev->ts_ns, true);
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
		instant(pf, c->uuid, "fill", "fill", ev->ts_ns);
		ev_flow(pf, flow_id(c, ev->req), false);
		/* Not its total: the slice has the sum, and a fill is the most frequent packet. */
		ann_u(pf, "bytes", ev->u.fill.bytes);
		if (ev->u.fill.psh)
			ann_b(pf, "psh", true);
		counters(w, c, ev->ts_ns, false);
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
		counters(w, c, ev->ts_ns, true);
		break;
	}
	case OTR_CONN_CLOSE:
		close_open(w, c, "not completed", ev->ts_ns, &pf->not_completed);
		instant(pf, c->uuid, "conn", "conn_close", ev->ts_ns);
		ann_s(pf, "reason", otr_close_reason_name(ev->u.close.reason), true);
		ann_u(pf, "bytes", ev->u.close.bytes);
		c->depth = 0;
		c->held = 0;
		counters(w, c, ev->ts_ns, false);
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
	oex_ctab_fini(&pf->queues, NULL);
	free(pf->k.buf);
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

	if (!pf || !(pf->k.buf = malloc(PKT_ROOM))) {
		free(pf);
		return -ENOMEM;
	}
	pf->k.cur = pf->k.buf;
	pf->k.cap = PKT_ROOM;
	tag_init(pf);
	oex_ctab_init(&pf->conns, sizeof(struct pconn));
	oex_ctab_init(&pf->procs, sizeof(struct pproc));
	oex_ctab_init(&pf->queues, sizeof(struct pqueue));
	pf->next_uuid = UUID_TRACE + 1;
	w->ops = &perfetto_ops;
	w->priv = pf;
	return 0;
}
