/* Where the events come from: tracer/reader (a trace directory or a live URL), or a jsonl file
 * in offrx-export's own event format (the hidden --input-jsonl mode, so tests can plant
 * violations without recording). Both hand out struct otr_event with the reader's codes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "reader.h"

struct oex_source {
	struct otr_reader *r;
	FILE *f; /* jsonl */
	const char *path;
	char *line;
	size_t cap;
	uint64_t lineno, events;
	int done;
	char err[1024];
};

int oex_source_open(struct oex_source **out, const char *input, bool jsonl, int wait_s,
		    bool reconnect, char *err, size_t errlen)
{
	struct oex_source *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->path = input;
	if (jsonl) {
		s->f = strcmp(input, "-") ? fopen(input, "r") : stdin;
		if (!s->f) {
			ret = -errno;
			snprintf(err, errlen, "cannot open the jsonl input '%s': %s", input,
				 strerror(-ret));
			free(s);
			return ret;
		}
	} else {
		/* A queue of 2048 events (3.5 MiB) keeps both threads busy as well as the
		 * reader's default of 8192 does (bench/bench_export.sh), in a quarter of the
		 * memory. */
		struct otr_reader_opts o = { .sz = sizeof(o),
					     .input = input,
					     .queue_events = 2048 };
		/* A live session the relayd does not list yet is waited for, then refused. */
		o.session_wait_ms = wait_s > 0 ? wait_s * 1000 : wait_s < 0 ? -1 : 0;
		/* An export with a hole is not what was asked for: a lost relayd ends it, unless
		 * --reconnect (the hole is then marked by "source" lost/connected events). */
		o.no_live_reconnect = !reconnect;
		ret = otr_reader_open(&o, &s->r, err, errlen);
		if (ret) {
			free(s);
			return ret;
		}
	}
	*out = s;
	return 0;
}

static int jsonl_next(struct oex_source *s, struct otr_event *ev)
{
	char why[512];
	ssize_t n;
	int ret;

	if (s->done)
		return s->done;
	for (;;) {
		n = getline(&s->line, &s->cap, s->f);
		if (n < 0) {
			if (ferror(s->f)) {
				snprintf(s->err, sizeof(s->err), "cannot read '%s': %s", s->path,
					 strerror(errno));
				return s->done = -EIO;
			}
			snprintf(s->err, sizeof(s->err), "end of the jsonl input %s", s->path);
			return s->done = s->events ? -ENODATA : -ENOMSG;
		}
		s->lineno++;
		if (n <= 1)
			continue;
		ret = oex_jsonl_parse(s->line, ev, why, sizeof(why));
		if (ret < 0) {
			snprintf(s->err, sizeof(s->err), "%s line %llu: %s", s->path,
				 (unsigned long long)s->lineno, why);
			return s->done = -EINVAL;
		}
		if (ret == 0) {
			s->events++;
			return 1;
		}
	}
}

int oex_source_next(struct oex_source *s, struct otr_event *ev, int timeout_ms)
{
	if (s->r)
		return otr_reader_next(s->r, ev, timeout_ms);
	return jsonl_next(s, ev);
}

const char *oex_source_error(const struct oex_source *s)
{
	if (s->r)
		return otr_reader_error(s->r);
	if (s->done == -ENOMSG)
		return "no offrx events in the jsonl input";
	return s->err;
}

void oex_source_stats(const struct oex_source *s, uint64_t *reconnects)
{
	struct otr_reader_stats st = { 0 };

	if (s->r)
		otr_reader_stats(s->r, &st);
	*reconnects = st.reconnects;
}

size_t oex_source_damage(const struct oex_source *s, const struct otr_damage **out)
{
	*out = NULL;
	return s->r ? otr_reader_damage(s->r, out) : 0;
}

void oex_source_close(struct oex_source *s)
{
	if (!s)
		return;
	otr_reader_close(s->r);
	if (s->f && s->f != stdin)
		fclose(s->f);
	free(s->line);
	free(s);
}
