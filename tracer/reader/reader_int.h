/* Inside tracer/reader: the decoder (bt messages to struct otr_event) and the graph helpers
 * (plugins, trace discovery, graphs, the sessions query, babeltrace2's error causes). */
#ifndef OFFRX_READER_INT_H
#define OFFRX_READER_INT_H

#include <errno.h>

#include <babeltrace2/babeltrace.h>

#include "reader.h"

/* Counters the worker writes and any thread reads: plain relaxed atomics, one writer. */
static inline void stat_add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

/* ---- decode.c ---- */

struct otr_cls_info;

/* Per-graph decoding state: what each event class is and where its fields are. */
struct otr_decoder {
	struct otr_cls_info *slots; /* open addressing on the event class's address */
	size_t cap, used;
	struct otr_reader_stats *st; /* counted into */
	uint64_t offrx_unknown;	     /* offrx:* events this reader does not know (newer engine) */
	uint32_t newer_set;	     /* the event set of a trace newer than OTR_EVENT_SET, or 0 */
	char other_name[128];	     /* the first event of another provider, for error messages */
	/* Event set 3's derived events: every decoded event goes through it (otr_expand). */
	struct otr_expand *x;
	struct otr_event der[OTR_EXPAND_MAX];
};

enum otr_decode_status {
	OTR_DECODE_OK = 0,   /* *ev is an event to hand out */
	OTR_DECODE_SKIP = 1, /* nothing to hand out (other provider, packet, stream...) */
	OTR_DECODE_NOMEM = -ENOMEM,
	OTR_DECODE_NEWER = -EPROTO, /* an engine's event set this reader cannot read: newer_set */
};

/* The bytes of a struct otr_event of kind k that matter: the common fields and the u member
 * of that kind (events are decoded, queued and copied out that far, not 1.6 KiB each). */
size_t otr_event_used(enum otr_kind k);

void otr_decoder_init(struct otr_decoder *d, struct otr_reader_stats *st);
/* Forget the event classes: a new graph has new ones (addresses may be reused). */
void otr_decoder_reset(struct otr_decoder *d);
void otr_decoder_fini(struct otr_decoder *d);
enum otr_decode_status otr_decode(struct otr_decoder *d, const bt_message *m, struct otr_event *ev);

/* ---- graph.c ---- */

/* The plugins the graphs use, found once per reader. */
struct otr_plugins {
	const bt_plugin *ctf, *utils;
	const bt_component_class_source *fs, *live;
	const bt_component_class_filter *muxer;
};

/* A live URL taken apart. */
struct otr_live_url {
	char relay[300];    /* net://HOST:PORT, for the sessions query */
	char host[256];	    /* HOST */
	unsigned port;	    /* PORT (5344 by default) */
	char hostname[256]; /* the traced machine's name */
	char session[256];
};

int otr_plugins_load(struct otr_plugins *p, char *err, size_t errlen);
void otr_plugins_put(struct otr_plugins *p);

/* Take babeltrace2's current-thread error and write its root cause (depth 1), or the root
 * and the cause above it (depth 2), as one line ("" if there is none). Clears the error. */
void otr_bt_error_take(char *buf, size_t len, int depth);

/* The CTF traces under dir: every directory holding a `metadata` file. *paths is malloc'd;
 * free with otr_paths_free(). Returns the count (>= 0) or a negative errno with err. */
int otr_find_traces(const char *dir, char ***paths, size_t *n, char *err, size_t errlen);
void otr_paths_free(char **paths, size_t n);

int otr_live_url_parse(const char *url, struct otr_live_url *u, bool need_session, char *err,
		       size_t errlen);

/* A graph: sources -> filter.utils.muxer -> simple sink calling consume(user). Adds intr.
 * Returns 0 or -EIO / -ENOMEM with a sentence in err (babeltrace2's cause included). */
int otr_graph_offline(const struct otr_plugins *p, char *const *traces, size_t n,
		      bt_interrupter *intr, bt_logging_level lvl,
		      bt_graph_simple_sink_component_consume_func consume, void *user,
		      bt_graph **out, char *err, size_t errlen);
int otr_graph_live(const struct otr_plugins *p, const char *url, bt_interrupter *intr,
		   bt_logging_level lvl, bt_graph_simple_sink_component_consume_func consume,
		   void *user, bt_graph **out, char *err, size_t errlen);

/* The `sessions` query: the URLs the relayd at relay (net://HOST:PORT) serves. Returns the
 * count or -ECONNREFUSED / -EIO / -ENOMEM with err. */
int otr_query_sessions(const struct otr_plugins *p, const char *relay, bt_interrupter *intr,
		       bt_logging_level lvl, char ***urls, size_t *n, char *err, size_t errlen);

/* ---- salvage.c ---- */

/* Damaged stream files found at open, and the directory of the trimmed copies. */
struct otr_salvage {
	struct otr_damage *damage;
	size_t ndamage;
	char dir[4096]; /* the temporary directory ("" when none) */
};

/* Walk the stream files of each trace; replace each damaged trace's path in traces[] by a
 * copy where the damaged files are cut at their last whole packet. A trace whose metadata
 * cannot be laid out is left to babeltrace2. 0, or a negative errno with err. */
int otr_salvage(struct otr_salvage *s, char **traces, size_t n, char *err, size_t errlen);
/* Remove the copies, free the list. */
void otr_salvage_fini(struct otr_salvage *s);
/* One sentence per damaged file, "; " between them ("" when none). */
void otr_salvage_describe(const struct otr_salvage *s, char *buf, size_t len);

#endif /* OFFRX_READER_INT_H */
