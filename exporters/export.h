/* offrx-export internals: the event sources (tracer/reader, or a jsonl file for tests), the
 * buffered output with the JSON primitives the streaming writers share, the connection table,
 * and the writers (jsonl, chrome, summary, csv) and the verifier behind one small vtable. */
#ifndef OFFRX_EXPORT_H
#define OFFRX_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "conn_key.h"
#include "jw.h"
#include "trace_event.h"

struct otr_damage; /* tracer/reader's reader.h: a damaged stream file */

#define OEX_VERSION	    "0.1.0"
#define OEX_SCHEMA_EVENTS   "offrx-events/1"
#define OEX_SCHEMA_SUMMARY  "offrx-summary/1"
#define OEX_SCHEMA_CHROME   "offrx-chrome/1"
#define OEX_TS_NONE	    INT64_MIN
#define OEX_DISCARD_WINDOWS 64 /* loss windows listed by name in metadata and reports */

/* --- output ------------------------------------------------------------------------------- */

/* The output is util's JSON write buffer (jw.h): the writers append, jw_out_flush() hands it to
 * stdio. Jansson documents go into it through oex_put_json. */
int oex_put_json(struct jw_out *o, const json_t *j); /* compact, via Jansson */

/* --- connections -------------------------------------------------------------------------- */

/* A table of per-connection records keyed by (vpid, conn): each writer keeps what it needs in
 * a record that starts with struct conn_key. Removal keeps memory flat over many
 * connections. */
struct oex_ctab {
	struct conn_key **slot;
	size_t cap, n, rec_size;
};

void oex_ctab_init(struct oex_ctab *t, size_t rec_size);
void oex_ctab_fini(struct oex_ctab *t, void (*free_rec)(void *rec));
void *oex_ctab_get(const struct oex_ctab *t, uint64_t vpid, uint64_t conn);
void *oex_ctab_add(struct oex_ctab *t, uint64_t vpid, uint64_t conn); /* zeroed; NULL: ENOMEM */
void oex_ctab_del(struct oex_ctab *t, void *rec);		      /* frees it */
/* Iterate: *pos starts at 0; NULL at the end. Do not add or delete while iterating. */
void *oex_ctab_next(const struct oex_ctab *t, size_t *pos);

/* --- the run ------------------------------------------------------------------------------ */

struct oex_source;

/* How the export ended, for the writers' last words. */
enum oex_end {
	OEX_END_TRACE = 1, /* offline: read to its end */
	OEX_END_SESSION,   /* live: the session was destroyed */
	OEX_END_TO,	   /* --to reached */
	OEX_END_INTERRUPT, /* Ctrl-C or SIGTERM */
	OEX_END_ERROR,	   /* the input failed: run->error says why */
};

/* What conn_open said about a connection, kept by the main loop from every conn_open (even
 * outside --from/--to) until its conn_close: for --port, and for the writers' names. */
struct oex_conninfo {
	struct conn_key k;
	char local_addr[48], remote_addr[48];
	uint16_t local_port, remote_port;
	uint32_t queue; /* the receive queue (conn_open; 0 in traces of engines before queues) */
};

struct oex_loss {
	int64_t from_ns, to_ns; /* the window; from 0 if unknown */
	uint64_t count, packets;
};

/* What the writers share: options, the trace's origin and running totals. */
struct oex_run {
	const char *input;
	bool live;
	struct jw_out *out;
	int64_t from_ns, to_ns; /* relative to t0; OEX_TS_NONE: open */
	bool have_conn;
	uint64_t conn_vpid, conn_id; /* --conn; conn_vpid 0: any process */
	bool vpid_given;
	int port;      /* --port; -1: none */
	uint64_t vpid; /* --vpid; 0: any */

	int64_t t0_ns; /* the first event's time: the trace start; OEX_TS_NONE until then */
	uint64_t t0_raw;
	int64_t last_ns; /* the last event's time */
	uint64_t last_raw;
	uint64_t events;   /* offrx events read (before filters) */
	uint64_t exported; /* events handed to the writer (after filters) */
	uint64_t by_kind[OTR_KIND__COUNT];
	uint64_t discarded_events, lost_packets;
	struct oex_loss loss[OEX_DISCARD_WINDOWS];
	uint32_t nloss, nloss_all;
	uint64_t reconnects;
	struct oex_ctab info; /* struct oex_conninfo */

	enum oex_end end;
	char error[1024];
	/* Stream files the reader found damaged and read up to their last whole packet (the
	 * export then ends with an error): listed in the output as "damaged". */
	struct otr_damage *damage;
	size_t ndamage;
};

static inline const struct oex_conninfo *oex_conninfo(const struct oex_run *run, uint64_t vpid,
						      uint64_t conn)
{
	return oex_ctab_get(&run->info, vpid, conn);
}
/* The output is whole: no error, and an offline trace was read to its end (or to --to). */
static inline bool oex_complete(const struct oex_run *run)
{
	return run->end != OEX_END_ERROR && (run->end != OEX_END_INTERRUPT || run->live);
}

/* run->damage as a JSON array: [{"file","why","bytes","kept_bytes","dropped_bytes"}]
 * (jsonl.c: the writers that name damaged files are built with tracer/reader). */
json_t *oex_damage_json(const struct oex_run *run);

/* Relative time from the trace start, in seconds, for people. */
double oex_rel_s(const struct oex_run *run, int64_t ts_ns);
/* "10.77.0.1:5201", "[fd77::1]:5201", "?" */
void oex_fmt_endpoint(char *buf, size_t len, const char *addr, unsigned port);
const char *oex_end_name(enum oex_end e);

struct oex_writer;

struct oex_writer_ops {
	const char *name;
	int (*begin)(struct oex_writer *w);
	/* One event that passed the filters (OTR_SOURCE events of state LOST/CONNECTED too). */
	int (*event)(struct oex_writer *w, const struct otr_event *ev);
	/* The last words; run->end says why it ended. Returns the exit status it wants (0, or
	 * OEX_EXIT_VIOLATIONS for the verifier). */
	int (*end)(struct oex_writer *w);
	void (*free)(struct oex_writer *w);
};

struct oex_writer {
	const struct oex_writer_ops *ops;
	struct oex_run *run;
	void *priv;
};

enum {
	OEX_EXIT_OK = 0,
	OEX_EXIT_INPUT = 1, /* the input could not be read (all of it) or the output written */
	OEX_EXIT_USAGE = 2,
	OEX_EXIT_VIOLATIONS = 3, /* --verify found violations */
};

int oex_jsonl_new(struct oex_writer *w);
int oex_chrome_new(struct oex_writer *w);
int oex_perfetto_new(struct oex_writer *w); /* Perfetto protobuf (exporters/perfetto.c) */
int oex_summary_new(struct oex_writer *w, bool csv);
int oex_verify_new(struct oex_writer *w);
/* --what-if push-timer=MS,...: replay through the engine's core (exporters/whatif.c). */
#define OEX_SCHEMA_WHATIF "offrx-whatif/1"
int oex_whatif_parse(const char *spec, uint64_t *values_ms, unsigned *n, char *err, size_t errlen);
int oex_whatif_new(struct oex_writer *w, const uint64_t *values_ms, unsigned n, bool json,
		   int64_t recorded_ms);

/* --listen HOST:PORT: Prometheus metrics at /metrics (exporters/metrics.c), per (vpid, local
 * port), or per connection when per_conn > 0 (at most per_conn of them). Starts the HTTP thread
 * now: 0, or a negative errno with a sentence in err (a port in use, a bad HOST:PORT). */
#define OEX_PER_CONN_DEFAULT 100
#define OEX_PER_CONN_MAX     4096
int oex_metrics_new(struct oex_writer *w, const char *listen, unsigned per_conn, char *err,
		    size_t errlen);

/* The HTTP side (exporters/http.c): one libmicrohttpd thread answering GET /metrics with what
 * render makes (called on that thread: text is malloc'd, 0 or -ENOMEM), / with a short page,
 * 404 elsewhere. */
typedef int (*oex_http_render_fn)(void *arg, bool openmetrics, char **text, size_t *len);
struct oex_http;
struct oex_http *oex_http_start(const char *hostport, oex_http_render_fn render, void *arg,
				char *err, size_t errlen);
const char *oex_http_where(const struct oex_http *h); /* "127.0.0.1:9464", the port bound */
void oex_http_stop(struct oex_http *h);

/* --- sources ------------------------------------------------------------------------------ */

/* Open INPUT through tracer/reader, or a jsonl file (the hidden --input-jsonl mode). Returns 0
 * or a negative errno with a sentence in err. */
int oex_source_open(struct oex_source **out, const char *input, bool jsonl, int wait_s,
		    bool reconnect, char *err, size_t errlen);
/* As otr_reader_next(): 1 event, 0 timeout, -ENODATA end, other < 0 errors. */
int oex_source_next(struct oex_source *s, struct otr_event *ev, int timeout_ms);
const char *oex_source_error(const struct oex_source *s);
void oex_source_stats(const struct oex_source *s, uint64_t *reconnects);
/* The damaged stream files the reader read up to their last whole packet (otr_reader_damage);
 * valid until oex_source_close(). */
size_t oex_source_damage(const struct oex_source *s, const struct otr_damage **out);
void oex_source_close(struct oex_source *s);

/* The jsonl line parser, shared with the tests' input: 0, or -EINVAL with err. Lines that are
 * not events (header, end) return 1 and leave ev alone. */
int oex_jsonl_parse(const char *line, struct otr_event *ev, char *err, size_t errlen);

/* Enum values by name, for the jsonl input: -1000 if unknown. */
int oex_status_from_name(const char *s);
int oex_complete_reason_from_name(const char *s);
int oex_close_reason_from_name(const char *s);
int oex_drop_reason_from_name(const char *s);

#endif /* OFFRX_EXPORT_H */
