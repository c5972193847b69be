/* One name table (engine/include/offrx/offrx_names.h): for every enum a trace carries (status,
 * complete_reason, close_reason, drop_reason) and every value of its list, the engine's names,
 * the model's names and the offrx-events/1 JSON round trip (writer, then parser) agree with the
 * table; a value the table lacks (one past either end, and the gaps) is refused by all of them.
 * The test walks the lists, so a value added to a list is checked everywhere with no edit here.
 * The two lists still written by hand, docs/TRACEPOINTS.md and the offrx-events/1 JSON schema,
 * must name exactly the table's members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <offrx/offrx.h>
#include <offrx/offrx_names.h>

#include "export.h"
#include "model.h"
#include "pkt.h"
#include "tcp_rx.h"

struct entry {
	int v;
	const char *name;
};

#define ENTRY_(id, name, v) { (v), (name) },
static const struct entry status_list[] = { OFFRX_STATUS_LIST(ENTRY_) };
static const struct entry creason_list[] = { OFFRX_COMPLETE_REASON_LIST(ENTRY_) };
static const struct entry close_list[] = { OFFRX_CLOSE_REASON_LIST(ENTRY_) };
static const struct entry drop_list[] = { OFFRX_DROP_REASON_LIST(ENTRY_) };

/* The engine's own names for a drop reason as the trace carries it: the frame parser's and the
 * TCP layer's tables (stats output and logs use them). */
static const char *engine_drop_str(int v)
{
	if (v > 0 && v < OFFRX_DROP_TCP_BASE)
		return pkt_drop_str((enum pkt_drop)v);
	if (v > OFFRX_DROP_TCP_BASE)
		return tcp_drop_str((enum tcp_drop)(v - OFFRX_DROP_TCP_BASE));
	return "unknown";
}

static const char *engine_status_str(int v)
{
	return offrx_status_str(v);
}

static const char *engine_creason_str(int v)
{
	return offrx_complete_reason_name(v);
}

static const char *engine_close_str(int v)
{
	return offrx_close_reason_name(v);
}

struct names {
	const char *trace_enum; /* its name in the trace metadata and docs/TRACEPOINTS.md */
	int field_type;		/* enum otr_field_type */
	const struct entry *list;
	size_t n;
	int lo, hi; /* OFFRX_NAMES_MIN/MAX of the list */
	const char *(*offrx_name)(int);
	int (*offrx_from_name)(const char *, int *);
	const char *(*engine)(int);
	const char *engine_unknown; /* the engine's name for a value it lacks (NULL: NULL) */
	const char *(*model)(int);
	int (*jsonl_from_name)(const char *);
};

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static const struct names all[] = {
	{ "status", OTR_F_STATUS, status_list, N_(status_list), OFFRX_NAMES_MIN(OFFRX_STATUS_LIST),
	  OFFRX_NAMES_MAX(OFFRX_STATUS_LIST), offrx_status_name, offrx_status_from_name,
	  engine_status_str, "UNKNOWN", otr_status_name, oex_status_from_name },
	{ "complete_reason", OTR_F_CREASON, creason_list, N_(creason_list),
	  OFFRX_NAMES_MIN(OFFRX_COMPLETE_REASON_LIST), OFFRX_NAMES_MAX(OFFRX_COMPLETE_REASON_LIST),
	  offrx_complete_reason_name, offrx_complete_reason_from_name, engine_creason_str, NULL,
	  otr_complete_reason_name, oex_complete_reason_from_name },
	{ "close_reason", OTR_F_CLOSE, close_list, N_(close_list),
	  OFFRX_NAMES_MIN(OFFRX_CLOSE_REASON_LIST), OFFRX_NAMES_MAX(OFFRX_CLOSE_REASON_LIST),
	  offrx_close_reason_name, offrx_close_reason_from_name, engine_close_str, NULL,
	  otr_close_reason_name, oex_close_reason_from_name },
	{ "drop_reason", OTR_F_DROP, drop_list, N_(drop_list),
	  OFFRX_NAMES_MIN(OFFRX_DROP_REASON_LIST), OFFRX_NAMES_MAX(OFFRX_DROP_REASON_LIST),
	  offrx_drop_reason_name, offrx_drop_reason_from_name, engine_drop_str, "unknown",
	  otr_drop_reason_name, oex_drop_reason_from_name },
};

static const struct entry *find(const struct names *t, int v)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->list[i].v == v)
			return &t->list[i];
	return NULL;
}

/* --- the jsonl writer and parser, on one event carrying the value ------------------------- */

struct rt {
	struct jw_out out;
	struct oex_run run;
	struct oex_writer w;
};

static int rt_setup(void **state)
{
	struct rt *rt = calloc(1, sizeof(*rt));
	char msg[256];
	FILE *f = fopen("/dev/null", "w");

	assert_non_null(rt);
	assert_non_null(f);
	assert_int_equal(jw_out_attach(&rt->out, f, "/dev/null", msg, sizeof(msg)), 0);
	rt->run.out = &rt->out;
	rt->run.input = "test_names";
	rt->w.run = &rt->run;
	assert_int_equal(oex_jsonl_new(&rt->w), 0);
	*state = rt;
	return 0;
}

static int rt_teardown(void **state)
{
	struct rt *rt = *state;

	rt->out.len = 0;
	jw_out_close(&rt->out);
	free(rt->out.buf);
	free(rt);
	return 0;
}

/* The first event kind with a field of this type, and that field. */
static const struct otr_field *field_of(int type, enum otr_kind *kind)
{
	for (int k = 1; k < OTR_KIND__COUNT; k++) {
		size_t n;
		const struct otr_field *f = otr_event_fields((enum otr_kind)k, &n);

		for (size_t i = 0; i < n; i++)
			if (f[i].type == type) {
				*kind = (enum otr_kind)k;
				return &f[i];
			}
	}
	return NULL;
}

/* Write one event whose enum field holds v; the line lands in line. */
static void write_event(struct rt *rt, const struct names *t, int v, char *line, size_t len,
			const struct otr_field **fo)
{
	struct otr_event ev;
	enum otr_kind kind = OTR_UNKNOWN;
	const struct otr_field *f = field_of(t->field_type, &kind);

	assert_non_null(f);
	assert_int_equal(f->size, sizeof(int));
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.ts_ns = 1000;
	ev.ts_raw = 1000;
	ev.conn = 1;
	memcpy((char *)&ev + f->off, &v, sizeof(v));
	rt->out.len = 0;
	assert_int_equal(rt->w.ops->event(&rt->w, &ev), 0);
	assert_true(rt->out.len < len);
	memcpy(line, rt->out.buf, rt->out.len);
	line[rt->out.len] = 0;
	rt->out.len = 0;
	*fo = f;
}

static int parse_value(const char *line, const struct otr_field *f, int *v)
{
	struct otr_event ev;
	char err[256];
	int rc = oex_jsonl_parse(line, &ev, err, sizeof(err));

	if (!rc)
		memcpy(v, (const char *)&ev + f->off, sizeof(*v));
	return rc;
}

/* --- the tests ---------------------------------------------------------------------------- */

/* Every value of every list: one name, the same in the table's lookups, the engine, the model
 * and the JSON written and read back. */
static void names_agree_for_every_value(void **state)
{
	struct rt *rt = *state;

	for (size_t e = 0; e < N_(all); e++) {
		const struct names *t = &all[e];

		assert_true(t->n > 0);
		for (size_t i = 0; i < t->n; i++) {
			const struct entry *x = &t->list[i];
			const struct otr_field *f;
			char line[4096], want[256];
			int v = -1000, back;

			if (strcmp(t->offrx_name(x->v), x->name) ||
			    strcmp(t->engine(x->v), x->name) || strcmp(t->model(x->v), x->name))
				fail_msg("%s %d: table \"%s\", offrx_*_name \"%s\", engine \"%s\", "
					 "model "
					 "\"%s\"",
					 t->trace_enum, x->v, x->name, t->offrx_name(x->v),
					 t->engine(x->v), t->model(x->v));
			assert_int_equal(t->offrx_from_name(x->name, &v), 0);
			assert_int_equal(v, x->v);
			assert_int_equal(t->jsonl_from_name(x->name), x->v);
			/* Names and values are one-to-one. */
			for (size_t j = 0; j < t->n; j++)
				if (j != i &&
				    (t->list[j].v == x->v || !strcmp(t->list[j].name, x->name)))
					fail_msg("%s: members %zu and %zu share a value or a name",
						 t->trace_enum, i, j);
			assert_true(x->v >= t->lo && x->v <= t->hi);

			write_event(rt, t, x->v, line, sizeof(line), &f);
			snprintf(want, sizeof(want), "\"%s\":\"%s\"", f->name, x->name);
			if (!strstr(line, want))
				fail_msg("%s %d: the jsonl line lacks %s: %s", t->trace_enum, x->v,
					 want, line);
			assert_int_equal(parse_value(line, f, &back), 0);
			assert_int_equal(back, x->v);
		}
	}
}

/* A value the list lacks, one past either end or in a gap: no name anywhere, the JSON keeps it
 * as a number, and no name reads back as it. */
static void value_past_the_end_is_refused(void **state)
{
	struct rt *rt = *state;

	for (size_t e = 0; e < N_(all); e++) {
		const struct names *t = &all[e];
		int tried_past_end = 0;

		for (int v = t->lo - 2; v <= t->hi + 2; v++) {
			const struct otr_field *f;
			char line[4096], want[256];
			int back;

			if (find(t, v))
				continue;
			tried_past_end += v == t->hi + 1 || v == t->lo - 1;
			assert_null(t->offrx_name(v));
			if (t->engine_unknown)
				assert_string_equal(t->engine(v), t->engine_unknown);
			else
				assert_null(t->engine(v));
			assert_string_equal(t->model(v), "?");

			write_event(rt, t, v, line, sizeof(line), &f);
			snprintf(want, sizeof(want), "\"%s\":%d", f->name, v);
			if (!strstr(line, want))
				fail_msg("%s %d: not written as a number: %s", t->trace_enum, v,
					 line);
			assert_int_equal(parse_value(line, f, &back), 0);
			assert_int_equal(back, v);
		}
		assert_int_equal(tried_past_end, 2);

		/* Names the list lacks are refused by the parser, whatever the writer prints for an
		 * unknown value. */
		const char *bogus[] = { "?", "", "UNKNOWN", "unknown", "none_such" };
		for (size_t b = 0; b < N_(bogus); b++) {
			int v;

			if (t->offrx_from_name(bogus[b], &v) == 0)
				continue; /* a real name (close_reason "none") */
			assert_int_equal(t->jsonl_from_name(bogus[b]), -1000);
		}
		{
			const struct otr_field *f;
			char line[4096], bad[4096], *p;
			int back;

			write_event(rt, t, t->list[0].v, line, sizeof(line), &f);
			p = strstr(line, t->list[0].name);
			assert_non_null(p);
			snprintf(bad, sizeof(bad), "%.*sX%s", (int)(p - line), line, p);
			assert_int_not_equal(parse_value(bad, f, &back), 0);
		}
	}
}

/* The bounds the code sizes arrays with come from the lists. */
static void bounds_come_from_the_table(void **state)
{
	(void)state;
	for (size_t e = 0; e < N_(all); e++) {
		const struct names *t = &all[e];
		int lo = t->list[0].v, hi = t->list[0].v;

		for (size_t i = 0; i < t->n; i++) {
			lo = t->list[i].v < lo ? t->list[i].v : lo;
			hi = t->list[i].v > hi ? t->list[i].v : hi;
		}
		assert_int_equal(t->lo, lo);
		assert_int_equal(t->hi, hi);
	}
	assert_int_equal(OFFRX_NAMES_COUNT(OFFRX_STATUS_LIST), N_(status_list));
	assert_int_equal(OFFRX_NAMES_COUNT(OFFRX_DROP_REASON_LIST), N_(drop_list));
	/* the model's completed_by[] and the enums it counts */
	assert_int_equal(OTR_REASONS, OFFRX_NAMES_MAX(OFFRX_COMPLETE_REASON_LIST) + 1);
	assert_true(OFFRX_NAMES_MIN(OFFRX_COMPLETE_REASON_LIST) > 0);
	/* the engine's drop counters: one slot per value and one for "none" */
	assert_int_equal(PKT_DROP__COUNT, OFFRX_NAMES_MAX(OFFRX_PKT_DROP_LIST) + 1);
	assert_int_equal(TCP_DROP__COUNT, OFFRX_NAMES_MAX(OFFRX_TCP_DROP_LIST) + 1);
	assert_int_equal(PKT_DROP__COUNT - 1, OFFRX_NAMES_COUNT(OFFRX_PKT_DROP_LIST));
	assert_int_equal(TCP_DROP__COUNT - 1, OFFRX_NAMES_COUNT(OFFRX_TCP_DROP_LIST));
	assert_true(OFFRX_NAMES_MAX(OFFRX_PKT_DROP_LIST) < OFFRX_DROP_TCP_BASE);
	/* the model's limits are the provider's and the engine's */
	assert_int_equal(OTR_STATE_MAX, OFFRX_TP_STATE_MAX);
	assert_int_equal(OTR_PAYLOAD_MAX, OFFRX_TRACE_PAYLOAD_MAX);
}

/* docs/TRACEPOINTS.md, "Enumerations": each enum's row names exactly the table's members, each
 * with its value (drop_reason: with the ranges of the frame parser's and the TCP layer's). */
static void docs_list_the_table(void **state)
{
	char path[1024], line[8192];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/TRACEPOINTS.md", OFFRX_SRC_DIR);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	for (size_t e = 0; e < N_(all); e++) {
		const struct names *t = &all[e];
		char head[128];
		int found = 0;

		snprintf(head, sizeof(head), "| `%s` |", t->trace_enum);
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			size_t ticks = 0;

			if (strncmp(line, head, strlen(head)))
				continue;
			found = 1;
			for (const char *p = line; *p; p++)
				ticks += *p == '`';
			if (ticks != 2 * (t->n + 1))
				fail_msg("%s: docs/TRACEPOINTS.md names %zu values, the table %zu",
					 t->trace_enum, ticks / 2 - 1, t->n);
			for (size_t i = 0; i < t->n; i++) {
				char want[128];

				if (!strcmp(t->trace_enum, "drop_reason"))
					snprintf(want, sizeof(want), "`%s`", t->list[i].name);
				else
					snprintf(want, sizeof(want), "`%s` %d", t->list[i].name,
						 t->list[i].v);
				if (!strstr(line, want))
					fail_msg("%s: docs/TRACEPOINTS.md lacks %s", t->trace_enum,
						 want);
			}
			if (!strcmp(t->trace_enum, "drop_reason")) {
				char pkt[64], tcp[64];

				snprintf(pkt, sizeof(pkt), "(%d\xe2\x80\x93%d)",
					 OFFRX_NAMES_MIN(OFFRX_PKT_DROP_LIST),
					 OFFRX_NAMES_MAX(OFFRX_PKT_DROP_LIST));
				snprintf(tcp, sizeof(tcp), "(%d\xe2\x80\x93%d)",
					 OFFRX_DROP_TCP_BASE + OFFRX_NAMES_MIN(OFFRX_TCP_DROP_LIST),
					 OFFRX_DROP_TCP_BASE +
						 OFFRX_NAMES_MAX(OFFRX_TCP_DROP_LIST));
				if (!strstr(line, pkt) || !strstr(line, tcp))
					fail_msg("drop_reason: docs/TRACEPOINTS.md should give the "
						 "ranges "
						 "%s and %s",
						 pkt, tcp);
			}
		}
		if (!found)
			fail_msg("docs/TRACEPOINTS.md has no row %s", head);
	}
	fclose(f);
}

/* exporters/schema/offrx-events-1.schema.json: each enum's "$defs" entry names exactly the
 * table's members, in its order (a name it lacks fails the schema check of a valid export). */
static void schema_lists_the_table(void **state)
{
	char path[1024];
	json_error_t je;
	json_t *schema;

	(void)state;
	snprintf(path, sizeof(path), "%s/exporters/schema/offrx-events-1.schema.json",
		 OFFRX_SRC_DIR);
	schema = json_load_file(path, 0, &je);
	if (!schema)
		fail_msg("cannot read %s: %s", path, je.text);
	for (size_t e = 0; e < N_(all); e++) {
		const struct names *t = &all[e];
		json_t *def = json_object_get(json_object_get(schema, "$defs"), t->trace_enum);
		json_t *names =
			json_object_get(json_array_get(json_object_get(def, "anyOf"), 0), "enum");

		if (!json_is_array(names))
			fail_msg("%s: the schema has no $defs.%s.anyOf[0].enum", path,
				 t->trace_enum);
		for (size_t i = 0; i < t->n || i < json_array_size(names); i++) {
			const char *got = json_string_value(json_array_get(names, i));
			const char *want = i < t->n ? t->list[i].name : "(none)";

			if (!got || strcmp(got, want))
				fail_msg("%s: the schema's name %zu is %s, the table's %s",
					 t->trace_enum, i, got ? got : "(none)", want);
		}
	}
	json_decref(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(names_agree_for_every_value, rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(value_past_the_end_is_refused, rt_setup,
						rt_teardown),
		cmocka_unit_test(bounds_come_from_the_table),
		cmocka_unit_test(docs_list_the_table),
		cmocka_unit_test(schema_lists_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
