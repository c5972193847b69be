/* The `e` key: the recent completions of the connections on screen as Chrome trace event JSON
 * (Perfetto and chrome://tracing open it): one track per connection, a slice per request from
 * post to completion, and inside it the part spent waiting for the push timer. Written here
 * because exporters/ has no library to call yet; offrx-export does the full trace. */
#include "view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static FILE *create_file(const char *dir, char *path, size_t pathlen, char *err, size_t errlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int i = 0; i < 100; i++) {
		char suffix[8] = "";
		if (i)
			snprintf(suffix, sizeof(suffix), "-%d", i);
		if ((size_t)snprintf(path, pathlen, "%s/offrx-view-%s%s.json", dir, stamp,
				     suffix) >= pathlen) {
			snprintf(err, errlen, "export directory name too long: %s", dir);
			errno = ENAMETOOLONG;
			return NULL;
		}
		FILE *f = fopen(path, "wx");
		if (f)
			return f;
		if (errno != EEXIST) {
			snprintf(err, errlen,
				 "cannot create %s: %s (pick another directory with "
				 "--export-dir)",
				 path, strerror(errno));
			return NULL;
		}
	}
	snprintf(err, errlen, "cannot create a new file in %s: too many exports this second", dir);
	errno = EEXIST;
	return NULL;
}

int export_perfetto(struct vsource *s, const uint64_t *keys, size_t nkeys, const char *dir,
		    char *path, size_t pathlen, size_t *nevents, char *err, size_t errlen)
{
	char cwd[4096];
	if (!dir) {
		if (!getcwd(cwd, sizeof(cwd)))
			snprintf(cwd, sizeof(cwd), ".");
		dir = cwd;
	}
	FILE *f = create_file(dir, path, pathlen, err, errlen);
	if (!f)
		return -errno;
	*nevents = 0;
	vs_lock(s);
	const struct otr_model *m = vs_model(s);
	struct vs_status st;
	vs_status(s, &st);
	/* Times from the first request's post, so the numbers stay small. */
	int64_t origin = INT64_MAX;
	for (size_t k = 0; k < nkeys; k++) {
		const struct otr_conn *c = otr_model_conn(m, keys[2 * k], keys[2 * k + 1]);
		for (uint32_t i = 0; c && i < c->recent_count; i++) {
			const struct otr_completion *e = otr_conn_recent(c, i);
			if (e && e->ts_ns - (int64_t)e->post_ns < origin)
				origin = e->ts_ns - (int64_t)e->post_ns;
		}
	}
	if (origin == INT64_MAX)
		origin = 0;
	fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"offrx-view\","
		   "\"source\":");
	json_str(f, st.where);
	fprintf(f, ",\"origin_ns\":%" PRId64 "},\n\"traceEvents\":[", origin);
	const char *sep = "\n";
	for (size_t k = 0; k < nkeys; k++) {
		const struct otr_conn *c = otr_model_conn(m, keys[2 * k], keys[2 * k + 1]);
		if (!c)
			continue;
		char name[160];
		snprintf(name, sizeof(name), "conn %" PRIu64 " %s:%u > %s:%u", c->id,
			 c->remote_addr, c->remote_port, c->local_addr, c->local_port);
		fprintf(f,
			"%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%" PRIu64
			",\"tid\":0,\"args\":{\"name\":\"offrx engine %" PRIu64 "\"}}",
			sep, c->vpid, c->vpid);
		sep = ",\n";
		fprintf(f,
			"%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRIu64
			",\"tid\":%" PRIu64 ",\"args\":{\"name\":",
			sep, c->vpid, c->id);
		json_str(f, name);
		fprintf(f, "}}");
		/* oldest first, so the file reads in time order */
		for (uint32_t i = (uint32_t)c->recent_count; i-- > 0;) {
			const struct otr_completion *e = otr_conn_recent(c, i);
			if (!e)
				continue;
			double end_us = (double)(e->ts_ns - origin) / 1e3;
			double dur_us = (double)e->post_ns / 1e3;
			const char *why = otr_complete_reason_name(e->reason);
			fprintf(f,
				"%s{\"ph\":\"X\",\"name\":\"req %" PRIu64 " %s\",\"cat\":\"%s\","
				"\"pid\":%" PRIu64 ",\"tid\":%" PRIu64 ",\"ts\":%.3f,\"dur\":%.3f,"
				"\"args\":{\"req\":%" PRIu64 ",\"status\":\"%s\",\"reason\":\"%s\","
				"\"bytes\":%" PRIu32 ",\"placed\":%" PRIu32
				",\"last_fill_to_complete_us\":%.3f}}",
				sep, e->req, why, why, c->vpid, c->id, end_us - dur_us, dur_us,
				e->req, otr_status_name(e->status), why, e->bytes, e->placed,
				e->last_fill_ns >= 0 ? (double)e->last_fill_ns / 1e3 : -1.0);
			(*nevents)++;
			if (e->reason == OTR_CR_PUSH_TIMER && e->last_fill_ns > 0 &&
			    (uint64_t)e->last_fill_ns <= e->post_ns) {
				double w = (double)e->last_fill_ns / 1e3;
				fprintf(f,
					",\n{\"ph\":\"X\",\"name\":\"waiting for the push timer\","
					"\"cat\":\"push_timer\",\"pid\":%" PRIu64
					",\"tid\":%" PRIu64 ",\"ts\":%.3f,\"dur\":%.3f}",
					c->vpid, c->id, end_us - w, w);
			}
		}
	}
	vs_unlock(s);
	fprintf(f, "\n]}\n");
	if (fclose(f)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}
