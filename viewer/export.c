/* The `e` key: the recent completions of the connections on screen as Chrome trace event JSON
 * (Perfetto and chrome://tracing open it): one track per connection, a slice per request from
 * post to completion, and inside it the part spent waiting for the push timer. Written with
 * util's Chrome trace writer, as offrx-export --format chrome writes the full trace. */
#include "view.h"

#include "chrome_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	struct jw_out out;
	if (!f)
		return -errno;
	if (jw_out_attach(&out, f, path, err, errlen)) {
		unlink(path);
		return -ENOMEM;
	}
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
	struct ct_writer ct;
	ct_init(&ct, &out);
	jw_lit(&out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"offrx-view\","
		     "\"source\":");
	jw_put_str(&out, st.where);
	jw_lit(&out, ",\"origin_ns\":");
	jw_put_i64(&out, origin);
	jw_lit(&out, "},\n\"traceEvents\":[\n");
	for (size_t k = 0; k < nkeys; k++) {
		const struct otr_conn *c = otr_model_conn(m, keys[2 * k], keys[2 * k + 1]);
		if (!c)
			continue;
		char name[160], engine[64];
		snprintf(name, sizeof(name), "conn %" PRIu64 " %s:%u > %s:%u", c->id,
			 c->remote_addr, c->remote_port, c->local_addr, c->local_port);
		snprintf(engine, sizeof(engine), "offrx engine %" PRIu64, c->vpid);
		ct_meta(&ct, c->vpid, 0, "process_name", engine);
		ct_meta(&ct, c->vpid, c->id, "thread_name", name);
		/* oldest first, so the file reads in time order */
		for (uint32_t i = (uint32_t)c->recent_count; i-- > 0;) {
			const struct otr_completion *e = otr_conn_recent(c, i);
			if (!e)
				continue;
			int64_t end = e->ts_ns - origin;
			const char *why = otr_complete_reason_name(e->reason);
			snprintf(name, sizeof(name), "req %" PRIu64 " %s", e->req, why);
			ct_head(&ct, 'X', c->vpid, c->id, name);
			jw_lit(&out, ",\"cat\":");
			jw_put_str(&out, why);
			ct_us(&ct, "ts", end - (int64_t)e->post_ns);
			ct_us(&ct, "dur", (int64_t)e->post_ns);
			jw_lit(&out, ",\"args\":{\"req\":");
			jw_put_u64(&out, e->req);
			jw_lit(&out, ",\"status\":");
			jw_put_str(&out, otr_status_name(e->status));
			jw_lit(&out, ",\"reason\":");
			jw_put_str(&out, why);
			jw_lit(&out, ",\"bytes\":");
			jw_put_u64(&out, e->bytes);
			jw_lit(&out, ",\"placed\":");
			jw_put_u64(&out, e->placed);
			ct_us(&ct, "last_fill_to_complete_us",
			      e->last_fill_ns >= 0 ? e->last_fill_ns : -1000);
			jw_lit(&out, "}}");
			(*nevents)++;
			if (e->reason == OTR_CR_PUSH_TIMER && e->last_fill_ns > 0 &&
			    (uint64_t)e->last_fill_ns <= e->post_ns) {
				ct_head(&ct, 'X', c->vpid, c->id, "waiting for the push timer");
				jw_lit(&out, ",\"cat\":\"push_timer\"");
				ct_us(&ct, "ts", end - e->last_fill_ns);
				ct_us(&ct, "dur", e->last_fill_ns);
				jw_putc(&out, '}');
			}
		}
	}
	vs_unlock(s);
	jw_lit(&out, "\n]}\n");
	if (jw_out_close(&out)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(out.err));
		return -EIO;
	}
	return 0;
}
