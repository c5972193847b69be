/* babeltrace2 messages to struct otr_event: event classes are looked up once per graph (kind,
 * payload member indices, vpid in the common context), then each event is a table walk.
 * Events of other providers are counted, not handed out. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader_int.h"

#define USED(m) (offsetof(struct otr_event, u) + sizeof(((struct otr_event *)0)->u.m))
static const uint16_t used_size[OTR_KIND__COUNT] = {
	[OTR_UNKNOWN] = offsetof(struct otr_event, u),
	[OTR_CONN_OPEN] = USED(open),
	[OTR_CONN_CLOSE] = USED(close),
	[OTR_DISCONNECT] = USED(close),
	[OTR_POST] = USED(post),
	[OTR_FILL] = USED(fill),
	[OTR_TIMER_START] = USED(timer),
	[OTR_TIMER_RESTART] = USED(timer),
	[OTR_TIMER_CANCEL] = USED(timer),
	[OTR_TIMER_EXPIRE] = USED(timer),
	[OTR_COMPLETE] = USED(complete),
	[OTR_COMPLETE_CALL] = USED(call),
	[OTR_INDICATE] = USED(indicate),
	[OTR_RETURN] = USED(ret),
	[OTR_CONN_STATE] = sizeof(struct otr_event),
	[OTR_DROP] = USED(drop),
	[OTR_XSK_STATS] = USED(xsk),
	[OTR_SEGMENT_PAYLOAD] = USED(payload),
	[OTR_COMPLETE_END] = USED(call),
	[OTR_INDICATE_CALL] = USED(indicate),
	[OTR_HANDBACK] = USED(close),
	[OTR_DISCARDED] = USED(discarded),
	[OTR_SOURCE] = USED(source),
};

size_t otr_event_used(enum otr_kind k)
{
	return (unsigned)k < OTR_KIND__COUNT ? used_size[k] : sizeof(struct otr_event);
}

struct otr_cls_info {
	const bt_event_class *ec; /* NULL: free slot */
	enum otr_kind kind;
	bool offrx; /* "offrx:*", known or not */
	int16_t vpid;
	int16_t idx[OTR_FIELDS_MAX]; /* payload member index per field, -1 if absent */
};

void otr_decoder_init(struct otr_decoder *d, struct otr_reader_stats *st)
{
	memset(d, 0, sizeof(*d));
	d->st = st;
	d->x = otr_expand_new(); /* NULL (out of memory): set-3 traces lack the derived events */
}

void otr_decoder_reset(struct otr_decoder *d)
{
	if (d->slots)
		memset(d->slots, 0, d->cap * sizeof(*d->slots));
	d->used = 0;
	if (d->x)
		otr_expand_reset(d->x); /* events may be missing in between */
}

void otr_decoder_fini(struct otr_decoder *d)
{
	free(d->slots);
	otr_expand_free(d->x);
	d->x = NULL;
	d->slots = NULL;
	d->cap = d->used = 0;
}

static int16_t member_index(const bt_field_class *fc, const char *name)
{
	uint64_t n;

	if (!fc || bt_field_class_get_type(fc) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return -1;
	n = bt_field_class_structure_get_member_count(fc);
	for (uint64_t i = 0; i < n && i < INT16_MAX; i++) {
		const bt_field_class_structure_member *m =
			bt_field_class_structure_borrow_member_by_index_const(fc, i);
		if (!strcmp(bt_field_class_structure_member_get_name(m), name))
			return (int16_t)i;
	}
	return -1;
}

static void cls_resolve(struct otr_cls_info *ci, const bt_event_class *ec)
{
	const char *name = bt_event_class_get_name(ec);
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(ec);
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(ec);

	ci->ec = ec;
	ci->kind = otr_kind_from_name(name);
	ci->offrx = name && !strncmp(name, "offrx:", 6);
	ci->vpid = member_index(bt_stream_class_borrow_event_common_context_field_class_const(sc),
				"vpid");
	size_t n;
	const struct otr_field *f = otr_event_fields(ci->kind, &n);
	for (size_t i = 0; i < OTR_FIELDS_MAX; i++)
		ci->idx[i] = i < n ? member_index(payload, f[i].name) : -1;
}

static size_t slot_of(const struct otr_decoder *d, const bt_event_class *ec)
{
	uintptr_t h = (uintptr_t)ec;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 7) & (d->cap - 1);
}

static int cache_grow(struct otr_decoder *d)
{
	struct otr_cls_info *old = d->slots;
	size_t old_cap = d->cap;

	d->cap = old_cap ? old_cap * 2 : 64;
	d->slots = calloc(d->cap, sizeof(*d->slots));
	if (!d->slots) {
		d->slots = old;
		d->cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].ec)
			continue;
		size_t s = slot_of(d, old[i].ec);
		while (d->slots[s].ec)
			s = (s + 1) & (d->cap - 1);
		d->slots[s] = old[i];
	}
	free(old);
	return 0;
}

static const struct otr_cls_info *cls_get(struct otr_decoder *d, const bt_event_class *ec)
{
	size_t s;

	if ((d->used + 1) * 2 > d->cap && cache_grow(d))
		return NULL;
	s = slot_of(d, ec);
	while (d->slots[s].ec && d->slots[s].ec != ec)
		s = (s + 1) & (d->cap - 1);
	if (!d->slots[s].ec) {
		cls_resolve(&d->slots[s], ec);
		d->used++;
	}
	return &d->slots[s];
}

/* An integer (enumerations are integers) as its 64 bits; false for anything else. */
static bool field_int(const bt_field *f, uint64_t *v)
{
	bt_field_class_type t = bt_field_get_class_type(f);

	if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		*v = bt_field_integer_unsigned_get_value(f);
	else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
		*v = (uint64_t)bt_field_integer_signed_get_value(f);
	else if (t == BT_FIELD_CLASS_TYPE_BOOL)
		*v = bt_field_bool_get_value(f);
	else
		return false;
	return true;
}

static void store_int(void *dst, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(dst, &u8, 1);
		break;
	case 2:
		memcpy(dst, &u16, 2);
		break;
	case 4:
		memcpy(dst, &u32, 4);
		break;
	case 8:
		memcpy(dst, &v, 8);
		break;
	}
}

static void store_seq(struct otr_event *ev, const struct otr_field *fs, const bt_field *f,
		      bool first)
{
	bt_field_class_type t = bt_field_get_class_type(f);
	uint64_t n, v;

	if (!bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY))
		return;
	n = bt_field_array_get_length(f);
	if (n > OTR_STATE_MAX)
		n = OTR_STATE_MAX;
	if (first)
		ev->u.state.listed = (uint32_t)n;
	for (uint64_t i = 0; i < n; i++)
		if (field_int(bt_field_array_borrow_element_field_by_index_const(f, i), &v))
			store_int((char *)&ev->u.state.reqs[i] + fs->off, fs->size, v);
}

/* segment_payload's bytes: a sequence of uint8 into u.payload.bytes, its length into n. */
static void store_bytes(struct otr_event *ev, const bt_field *f)
{
	bt_field_class_type t = bt_field_get_class_type(f);
	uint64_t n, v;

	if (!bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY))
		return;
	n = bt_field_array_get_length(f);
	if (n > OTR_PAYLOAD_MAX)
		n = OTR_PAYLOAD_MAX;
	ev->u.payload.n = (uint32_t)n;
	for (uint64_t i = 0; i < n; i++)
		if (field_int(bt_field_array_borrow_element_field_by_index_const(f, i), &v))
			ev->u.payload.bytes[i] = (uint8_t)v;
}

static void decode_fields(const struct otr_cls_info *ci, const bt_field *payload,
			  struct otr_event *ev)
{
	size_t n;
	const struct otr_field *spec = otr_event_fields(ci->kind, &n);
	bool first_seq = true;
	uint64_t v;

	for (size_t i = 0; i < n; i++) {
		const bt_field *f;

		if (ci->idx[i] < 0)
			continue;
		f = bt_field_structure_borrow_member_field_by_index_const(payload,
									  (uint64_t)ci->idx[i]);
		switch (spec[i].type) {
		case OTR_F_BOOL:
			if (field_int(f, &v))
				*(bool *)((char *)ev + spec[i].off) = v != 0;
			break;
		case OTR_F_STR:
			if (bt_field_get_class_type(f) == BT_FIELD_CLASS_TYPE_STRING) {
				char *dst = (char *)ev + spec[i].off;
				strncpy(dst, bt_field_string_get_value(f), spec[i].size - 1);
				dst[spec[i].size - 1] = '\0';
			}
			break;
		case OTR_F_SEQ:
			store_seq(ev, &spec[i], f, first_seq);
			first_seq = false;
			break;
		case OTR_F_BYTES:
			store_bytes(ev, f);
			break;
		default: /* integers, named or not (enumerations are integers in the trace) */
			if (field_int(f, &v))
				store_int((char *)ev + spec[i].off, spec[i].size, v);
			break;
		}
	}
}

static void set_time(struct otr_event *ev, const bt_clock_snapshot *cs)
{
	int64_t ns;

	if (!cs)
		return;
	ev->ts_raw = bt_clock_snapshot_get_value(cs);
	if (bt_clock_snapshot_get_ns_from_origin(cs, &ns) ==
	    BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
		ev->ts_ns = ns;
}

static int64_t snapshot_ns(const bt_clock_snapshot *cs)
{
	int64_t ns = 0;

	if (cs && bt_clock_snapshot_get_ns_from_origin(cs, &ns) !=
			  BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
		ns = 0;
	return ns;
}

static enum otr_decode_status decode_event(struct otr_decoder *d, const bt_message *m,
					   struct otr_event *ev)
{
	const bt_event *e = bt_message_event_borrow_event_const(m);
	const struct otr_cls_info *ci = cls_get(d, bt_event_borrow_class_const(e));
	const bt_field *payload, *ctx;
	uint64_t v;

	if (!ci)
		return OTR_DECODE_NOMEM;
	stat_add(&d->st->events, 1);
	if (ci->kind == OTR_UNKNOWN) {
		stat_add(&d->st->other_events, 1);
		if (ci->offrx)
			d->offrx_unknown++;
		else if (!d->other_name[0])
			snprintf(d->other_name, sizeof(d->other_name), "%s",
				 bt_event_class_get_name(ci->ec) ? bt_event_class_get_name(ci->ec)
								 : "(unnamed)");
		return OTR_DECODE_SKIP;
	}
	memset(ev, 0, used_size[ci->kind]);
	ev->kind = ci->kind;
	if (bt_message_event_borrow_stream_class_default_clock_class_const(m))
		set_time(ev, bt_message_event_borrow_default_clock_snapshot_const(m));
	ctx = ci->vpid >= 0 ? bt_event_borrow_common_context_field_const(e) : NULL;
	if (ctx && field_int(bt_field_structure_borrow_member_field_by_index_const(
				     ctx, (uint64_t)ci->vpid),
			     &v))
		ev->vpid = v;
	payload = bt_event_borrow_payload_field_const(e);
	if (payload)
		decode_fields(ci, payload, ev);
	/* The events of a newer set may not mean what this reader thinks: refuse the trace. */
	if ((ci->kind == OTR_CONN_OPEN && ev->u.open.event_set > OTR_EVENT_SET) ||
	    (ci->kind == OTR_CONN_STATE && ev->u.state.event_set > OTR_EVENT_SET)) {
		d->newer_set =
			ci->kind == OTR_CONN_OPEN ? ev->u.open.event_set : ev->u.state.event_set;
		return OTR_DECODE_NEWER;
	}
	stat_add(&d->st->offrx_events, 1);
	return OTR_DECODE_OK;
}

static enum otr_decode_status decode_discarded(struct otr_decoder *d, const bt_message *m,
					       struct otr_event *ev)
{
	bool events = bt_message_get_type(m) == BT_MESSAGE_TYPE_DISCARDED_EVENTS;
	const bt_stream_class *sc;
	const bt_clock_snapshot *beg = NULL, *end = NULL;
	uint64_t count = 0;

	memset(ev, 0, used_size[OTR_DISCARDED]);
	ev->kind = OTR_DISCARDED;
	if (events) {
		sc = bt_stream_borrow_class_const(
			bt_message_discarded_events_borrow_stream_const(m));
		if (bt_message_discarded_events_get_count(m, &count) !=
		    BT_PROPERTY_AVAILABILITY_AVAILABLE)
			count = 0;
		ev->u.discarded.count = count;
		stat_add(&d->st->discarded_events, count);
		if (bt_stream_class_discarded_events_have_default_clock_snapshots(sc)) {
			beg = bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(
				m);
			end = bt_message_discarded_events_borrow_end_default_clock_snapshot_const(
				m);
		}
	} else {
		sc = bt_stream_borrow_class_const(
			bt_message_discarded_packets_borrow_stream_const(m));
		if (bt_message_discarded_packets_get_count(m, &count) !=
		    BT_PROPERTY_AVAILABILITY_AVAILABLE)
			count = 1; /* at least one, or there would be no message */
		ev->u.discarded.packets = count;
		stat_add(&d->st->lost_packets, count);
		if (bt_stream_class_discarded_packets_have_default_clock_snapshots(sc)) {
			beg = bt_message_discarded_packets_borrow_beginning_default_clock_snapshot_const(
				m);
			end = bt_message_discarded_packets_borrow_end_default_clock_snapshot_const(
				m);
		}
	}
	ev->u.discarded.from_ns = snapshot_ns(beg);
	ev->u.discarded.to_ns = snapshot_ns(end);
	set_time(ev, end);
	return OTR_DECODE_OK;
}

enum otr_decode_status otr_decode(struct otr_decoder *d, const bt_message *m, struct otr_event *ev)
{
	switch (bt_message_get_type(m)) {
	case BT_MESSAGE_TYPE_EVENT:
		return decode_event(d, m, ev);
	case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
	case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
		return decode_discarded(d, m, ev);
	default:
		return OTR_DECODE_SKIP;
	}
}
