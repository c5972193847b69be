/* --format jsonl: one JSON object per event per line (schema offrx-events/1, in
 * exporters/schema/), written as the events arrive; and its parser, the hidden --input-jsonl
 * mode. Both walk the event fields table the trace reader decodes with (otr_event_fields, in
 * the tracepoint's field order), so what the writer writes the parser reads back. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "reader.h"

/* --- enums by name ------------------------------------------------------------------------ */

/* The tables of offrx_names.h, the ones the trace metadata and otr_*_name() come from. */

int oex_status_from_name(const char *s)
{
	int v;

	return offrx_status_from_name(s, &v) ? -1000 : v;
}

int oex_complete_reason_from_name(const char *s)
{
	int v;

	return offrx_complete_reason_from_name(s, &v) ? -1000 : v;
}

int oex_close_reason_from_name(const char *s)
{
	int v;

	return offrx_close_reason_from_name(s, &v) ? -1000 : v;
}

int oex_drop_reason_from_name(const char *s)
{
	int v;

	return offrx_drop_reason_from_name(s, &v) ? -1000 : v;
}

static const char *enum_name(int type, int v)
{
	switch (type) {
	case OTR_F_STATUS:
		return otr_status_name(v);
	case OTR_F_CREASON:
		return otr_complete_reason_name(v);
	case OTR_F_CLOSE:
		return otr_close_reason_name(v);
	default:
		return otr_drop_reason_name(v);
	}
}

/* --- reading and writing a field ---------------------------------------------------------- */

static uint64_t get_u(const struct otr_event *ev, const struct otr_field *f)
{
	const char *p = (const char *)ev + f->off;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (f->size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

static int64_t get_i(const struct otr_event *ev, const struct otr_field *f)
{
	const char *p = (const char *)ev + f->off;
	int32_t i32;
	int64_t i64;

	if (f->size == 4) {
		memcpy(&i32, p, 4);
		return i32;
	}
	memcpy(&i64, p, 8);
	return i64;
}

static void set_u(struct otr_event *ev, const struct otr_field *f, uint64_t v)
{
	char *p = (char *)ev + f->off;
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (f->size) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

/* A conn_state sequence: the member at f->off of each listed struct otr_state_req. */
static void put_seq(struct jw_out *o, const struct otr_event *ev, const struct otr_field *f)
{
	uint32_t n = ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;

	jw_putc(o, '[');
	for (uint32_t i = 0; i < n; i++) {
		const char *p = (const char *)&ev->u.state.reqs[i] + f->off;
		uint64_t v = 0;
		if (f->size == 8)
			memcpy(&v, p, 8);
		else if (f->size == 4) {
			uint32_t u;
			memcpy(&u, p, 4);
			v = u;
		} else {
			v = *(const uint8_t *)p;
		}
		if (i)
			jw_putc(o, ',');
		jw_put_u64(o, v);
	}
	jw_putc(o, ']');
}

static void put_field(struct jw_out *o, const struct otr_event *ev, const struct otr_field *f)
{
	const char *name;
	int v;

	if (f->type == OTR_F_UZ && !get_u(ev, f))
		return; /* absent, as in a trace of an older event set */
	jw_lit(o, ",\"");
	jw_puts(o, f->name);
	jw_lit(o, "\":");
	switch (f->type) {
	case OTR_F_U:
	case OTR_F_UZ:
		jw_put_u64(o, get_u(ev, f));
		break;
	case OTR_F_I:
		jw_put_i64(o, get_i(ev, f));
		break;
	case OTR_F_SEQ:
		put_seq(o, ev, f);
		break;
	case OTR_F_BOOL:
		if (*(const bool *)((const char *)ev + f->off))
			jw_lit(o, "true");
		else
			jw_lit(o, "false");
		break;
	case OTR_F_STR:
		jw_put_str(o, (const char *)ev + f->off);
		break;
	case OTR_F_BYTES:
		jw_putc(o, '"');
		for (uint32_t i = 0; i < ev->u.payload.n && i < OTR_PAYLOAD_MAX; i++) {
			jw_putc(o, "0123456789abcdef"[ev->u.payload.bytes[i] >> 4]);
			jw_putc(o, "0123456789abcdef"[ev->u.payload.bytes[i] & 15]);
		}
		jw_putc(o, '"');
		break;
	default:
		v = (int)get_i(ev, f);
		name = enum_name(f->type, v);
		/* A value this build has no name for stays a number (schema: name or integer). */
		if (strcmp(name, "?"))
			jw_put_str(o, name);
		else
			jw_put_i64(o, v);
		break;
	}
}

/* --- the writer --------------------------------------------------------------------------- */

static void put_common_end(struct jw_out *o, const struct oex_run *run)
{
	jw_lit(o, ",\"events\":");
	jw_put_u64(o, run->events);
	jw_lit(o, ",\"exported\":");
	jw_put_u64(o, run->exported);
	jw_lit(o, ",\"discarded_events\":");
	jw_put_u64(o, run->discarded_events);
	jw_lit(o, ",\"lost_packets\":");
	jw_put_u64(o, run->lost_packets);
	if (run->t0_ns != OEX_TS_NONE) {
		jw_lit(o, ",\"start_ns\":");
		jw_put_i64(o, run->t0_ns);
		jw_lit(o, ",\"end_ns\":");
		jw_put_i64(o, run->last_ns);
	}
}

static int jsonl_begin(struct oex_writer *w)
{
	struct jw_out *o = w->run->out;

	jw_lit(o, "{\"event\":\"header\",\"schema\":\"" OEX_SCHEMA_EVENTS
		  "\",\"producer\":\"offrx-export " OEX_VERSION "\",\"input\":");
	jw_put_str(o, w->run->input);
	jw_lit(o, ",\"live\":");
	jw_puts(o, w->run->live ? "true" : "false");
	jw_lit(o, "}\n");
	return 0;
}

static int jsonl_event(struct oex_writer *w, const struct otr_event *ev)
{
	struct jw_out *o = w->run->out;
	const struct otr_field *f;
	size_t n;

	jw_lit(o, "{\"ts_ns\":");
	jw_put_i64(o, ev->ts_ns);
	jw_lit(o, ",\"ts_raw\":");
	jw_put_u64(o, ev->ts_raw);
	jw_lit(o, ",\"event\":\"");
	jw_puts(o, otr_kind_name(ev->kind));
	jw_putc(o, '"');
	if (ev->kind == OTR_SOURCE) {
		jw_lit(o, ",\"state\":\"");
		jw_puts(o, otr_source_state_name(ev->u.source.state));
		jw_lit(o, "\",\"message\":");
		jw_put_str(o, ev->u.source.msg);
		jw_lit(o, "}\n");
		return 0;
	}
	if (ev->kind != OTR_DISCARDED) {
		jw_lit(o, ",\"vpid\":");
		jw_put_u64(o, ev->vpid);
	}
	if (ev->derived) /* event set 3: not in the trace, the reader derived it */
		jw_lit(o, ",\"derived\":true");
	f = otr_event_fields(ev->kind, &n);
	for (size_t i = 0; i < n; i++)
		put_field(o, ev, &f[i]);
	jw_lit(o, "}\n");
	return 0;
}

json_t *oex_damage_json(const struct oex_run *run)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < run->ndamage; i++) {
		const struct otr_damage *d = &run->damage[i];
		json_array_append_new(a,
				      json_pack("{s:s,s:s,s:I,s:I,s:I}", "file", d->file, "why",
						d->why, "bytes", (json_int_t)d->size, "kept_bytes",
						(json_int_t)d->kept, "dropped_bytes",
						(json_int_t)(d->size - d->kept)));
	}
	return a;
}

static int jsonl_end(struct oex_writer *w)
{
	struct oex_run *run = w->run;
	struct jw_out *o = run->out;
	bool complete = oex_complete(run);

	if (run->end == OEX_END_ERROR) {
		jw_lit(o, "{\"event\":\"error\",\"complete\":false,\"message\":");
		jw_put_str(o, run->error);
		if (run->ndamage) {
			json_t *d = oex_damage_json(run);
			jw_lit(o, ",\"damaged\":");
			if (!d || oex_put_json(o, d))
				jw_lit(o, "[]");
			json_decref(d);
		}
	} else {
		jw_lit(o, "{\"event\":\"end\",\"complete\":");
		jw_puts(o, complete ? "true" : "false");
		jw_lit(o, ",\"end\":");
		jw_put_str(o, oex_end_name(run->end));
	}
	put_common_end(o, run);
	jw_lit(o, "}\n");
	return 0;
}

static void jsonl_free(struct oex_writer *w)
{
	(void)w;
}

static const struct oex_writer_ops jsonl_ops = {
	.name = "jsonl",
	.begin = jsonl_begin,
	.event = jsonl_event,
	.end = jsonl_end,
	.free = jsonl_free,
};

int oex_jsonl_new(struct oex_writer *w)
{
	w->ops = &jsonl_ops;
	return 0;
}

/* --- the parser --------------------------------------------------------------------------- */

static int parse_enum(int type, const json_t *v, int *out)
{
	if (json_is_integer(v)) {
		*out = (int)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	switch (type) {
	case OTR_F_STATUS:
		*out = oex_status_from_name(json_string_value(v));
		break;
	case OTR_F_CREASON:
		*out = oex_complete_reason_from_name(json_string_value(v));
		break;
	case OTR_F_CLOSE:
		*out = oex_close_reason_from_name(json_string_value(v));
		break;
	default:
		*out = oex_drop_reason_from_name(json_string_value(v));
		break;
	}
	return *out == -1000 ? -EINVAL : 0;
}

static int parse_seq(const json_t *a, struct otr_event *ev, const struct otr_field *f, char *err,
		     size_t errlen)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > OTR_STATE_MAX) {
		snprintf(err, errlen, "\"%s\" is not an array of at most %d integers", f->name,
			 OTR_STATE_MAX);
		return -EINVAL;
	}
	/* Every sequence lists the same requests; the longest decides, whatever the order. */
	if (json_array_size(a) > ev->u.state.listed)
		ev->u.state.listed = (uint32_t)json_array_size(a);
	json_array_foreach(a, i, v)
	{
		char *p = (char *)&ev->u.state.reqs[i] + f->off;
		uint64_t x = (uint64_t)json_integer_value(v);
		if (json_is_true(v))
			x = 1;
		if (f->size == 8)
			memcpy(p, &x, 8);
		else if (f->size == 4) {
			uint32_t u = (uint32_t)x;
			memcpy(p, &u, 4);
		} else {
			*(uint8_t *)p = (uint8_t)x;
		}
	}
	return 0;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static int parse_hex(const json_t *v, struct otr_event *ev)
{
	const char *s = json_string_value(v);
	size_t len = s ? strlen(s) : 0;

	if (!s || len % 2 || len / 2 > OTR_PAYLOAD_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		ev->u.payload.bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	ev->u.payload.n = (uint32_t)(len / 2);
	return 0;
}

static const char *source_states[] = { NULL, "connected", "lost", "end", "error" };

int oex_jsonl_parse(const char *line, struct otr_event *ev, char *err, size_t errlen)
{
	json_error_t je;
	json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &je), *v;
	const char *name;
	int ret = 0;

	if (!obj || !json_is_object(obj)) {
		snprintf(err, errlen, "not a JSON object: %s",
			 obj ? "another JSON value" : je.text);
		ret = -EINVAL;
		goto end;
	}
	name = json_string_value(json_object_get(obj, "event"));
	if (!name) {
		snprintf(err, errlen, "no \"event\" name");
		ret = -EINVAL;
		goto end;
	}
	if (!strcmp(name, "header") || !strcmp(name, "end") || !strcmp(name, "error")) {
		ret = 1;
		goto end;
	}
	memset(ev, 0, sizeof(*ev));
	ev->kind = !strcmp(name, "discarded") ? OTR_DISCARDED
		   : !strcmp(name, "source")  ? OTR_SOURCE
					      : otr_kind_from_name(name);
	if (ev->kind == OTR_UNKNOWN) {
		snprintf(err, errlen, "unknown event \"%s\"", name);
		ret = -EINVAL;
		goto end;
	}
	ev->ts_ns = json_integer_value(json_object_get(obj, "ts_ns"));
	/* Hand-made sequences may leave the raw clock out: it then runs with ts_ns. */
	v = json_object_get(obj, "ts_raw");
	ev->ts_raw = v ? (uint64_t)json_integer_value(v) : (uint64_t)ev->ts_ns;
	ev->vpid = (uint64_t)json_integer_value(json_object_get(obj, "vpid"));
	ev->derived = json_is_true(json_object_get(obj, "derived"));
	if (ev->kind == OTR_SOURCE) {
		const char *st = json_string_value(json_object_get(obj, "state"));
		for (int s = 1; s <= 4 && st; s++)
			if (!strcmp(st, source_states[s]))
				ev->u.source.state = (enum otr_source_state)s;
		snprintf(ev->u.source.msg, sizeof(ev->u.source.msg), "%s",
			 json_string_value(json_object_get(obj, "message"))
				 ? json_string_value(json_object_get(obj, "message"))
				 : "");
		if (!ev->u.source.state) {
			snprintf(err, errlen, "source event without a known \"state\"");
			ret = -EINVAL;
		}
		goto end;
	}
	size_t nf;
	const struct otr_field *fields = otr_event_fields(ev->kind, &nf);
	for (size_t i = 0; i < nf; i++) {
		const struct otr_field *f = &fields[i];
		int e;

		v = json_object_get(obj, f->name);
		if (!v)
			continue; /* absent: 0, as in a trace that lacks the field */
		switch (f->type) {
		case OTR_F_U:
		case OTR_F_UZ:
		case OTR_F_I:
			if (!json_is_integer(v)) {
				snprintf(err, errlen, "\"%s\" is not an integer", f->name);
				ret = -EINVAL;
				goto end;
			}
			set_u(ev, f, (uint64_t)json_integer_value(v));
			break;
		case OTR_F_SEQ:
			if (parse_seq(v, ev, f, err, errlen)) {
				ret = -EINVAL;
				goto end;
			}
			break;
		case OTR_F_BOOL:
			*(bool *)((char *)ev + f->off) =
				json_is_true(v) || json_integer_value(v) != 0;
			break;
		case OTR_F_STR:
			snprintf((char *)ev + f->off, f->size, "%s",
				 json_is_string(v) ? json_string_value(v) : "");
			break;
		case OTR_F_BYTES:
			if (parse_hex(v, ev)) {
				snprintf(err, errlen,
					 "\"%s\" is not a string of at most %d hex byte pairs",
					 f->name, OTR_PAYLOAD_MAX);
				ret = -EINVAL;
				goto end;
			}
			break;
		default:
			if (parse_enum(f->type, v, &e)) {
				snprintf(err, errlen, "\"%s\" has no value this tool knows",
					 f->name);
				ret = -EINVAL;
				goto end;
			}
			set_u(ev, f, (uint64_t)(int64_t)e);
			break;
		}
	}
	/* As the trace reader does (decode.c): a newer event set may mean other things. */
	if ((ev->kind == OTR_CONN_OPEN && ev->u.open.event_set > OTR_EVENT_SET) ||
	    (ev->kind == OTR_CONN_STATE && ev->u.state.event_set > OTR_EVENT_SET)) {
		snprintf(
			err, errlen,
			"written by an engine with trace event set %u; this offrx reads event sets "
			"1 to %d: read it with the offrx of that engine or a newer one",
			ev->kind == OTR_CONN_OPEN ? ev->u.open.event_set : ev->u.state.event_set,
			OTR_EVENT_SET);
		ret = -EPROTO;
	}
end:
	json_decref(obj);
	return ret;
}
