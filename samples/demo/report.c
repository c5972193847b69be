/* offrx-demo's report: each connection's bytes and SHA-256 against what the senders say they
 * sent, completions by reason, and how much of each pattern's latency the push timer made.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

/* A complete reason's name (offrx_names.h); "-" for a slot with none. */
static const char *reason_name(int k)
{
	const char *name = offrx_complete_reason_name(k);

	return name ? name : "-";
}

/* offrx-send --json: one object per line; we need bytes, sha256 and error of each stream. */
static bool json_field(const char *line, const char *key, char *out, size_t len)
{
	char k[64];
	const char *p;
	size_t n = 0;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(line, k);
	if (!p)
		return false;
	p += strlen(k);
	if (*p == '"')
		p++;
	while (p[n] && p[n] != '"' && p[n] != ',' && p[n] != '}' && n + 1 < len)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int read_streams(struct demo *d, struct demo_stream **out)
{
	struct demo_stream *v = NULL;
	int n = 0, cap = 0;
	char path[128], line[1024], val[128];

	for (int p = 0; p < P_COUNT; p++) {
		snprintf(path, sizeof(path), "%s/send-%s.json", d->work, demo_patterns[p].name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (strstr(line, "\"total\":") || !json_field(line, "sha256", val, 128))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				struct demo_stream *nv = realloc(v, (size_t)cap * sizeof(*v));
				if (!nv)
					break;
				v = nv;
			}
			struct demo_stream *s = &v[n++];
			memset(s, 0, sizeof(*s));
			s->pattern = (enum demo_pattern)p;
			snprintf(s->sha, sizeof(s->sha), "%.64s", val);
			if (json_field(line, "bytes", val, sizeof(val)))
				s->bytes = strtoull(val, NULL, 10);
			s->failed = json_field(line, "error", val, sizeof(val)) &&
				    strcmp(val, "null") != 0;
		}
		fclose(f);
	}
	*out = v;
	return n;
}

static void reasons(FILE *f, const uint64_t by[OFFRX_COMPLETE_REASONS])
{
	const char *sep = "";

	for (int k = 1; k < OFFRX_COMPLETE_REASONS; k++)
		if (by[k]) {
			fprintf(f, "%s%s %" PRIu64, sep, reason_name(k), by[k]);
			sep = ", ";
		}
	if (!*sep)
		fprintf(f, "none");
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void write_json(struct demo *d, const char *path, bool compare, uint64_t matched,
		       uint64_t nconns, uint64_t unmatched_streams, uint64_t failed_streams)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		demo_say(d, "--json %s: cannot write it", path);
		return;
	}
	fprintf(f, "{\"pid\":%d,\"session\":\"%s\",\"push_timer_ms\":%u,\"trace\":\"%s\",",
		(int)d->pid, d->session, d->o.push_timer_ms, d->trace_dir);
	fprintf(f, "\"summary\":\"%s\",\"chrome\":\"%s\",\"compared\":%s,", d->summary_path,
		d->chrome_path, compare ? "true" : "false");
	fprintf(f,
		"\"connections_total\":%" PRIu64 ",\"byte_exact\":%" PRIu64
		",\"sender_streams_unmatched\":%" PRIu64 ",\"sender_streams_failed\":%" PRIu64
		",\"drops\":%" PRIu64 ",\"connections\":[",
		nconns, matched, unmatched_streams, failed_streams, d->drops_total);
	const char *sep = "";
	for (struct demo_result *r = d->results; r; r = r->next) {
		fprintf(f,
			"%s{\"id\":%" PRIu64
			",\"queue\":%u,\"pattern\":\"%s\",\"local\":\"%s\",\"remote\":\"%s\","
			"\"bytes\":%" PRIu64 ",\"sha256\":\"%s\",\"match\":%s,\"closed_by\":\"%s\","
			"\"completed\":%" PRIu64 ",\"completed_by\":{",
			sep, r->id, r->queue, demo_patterns[r->pattern].name, r->local, r->remote,
			r->bytes, r->sha,
			!r->match		 ? "null"
			: strcmp(r->match, "ok") ? "false"
						 : "true",
			r->closed_by, r->completed);
		for (int k = 1; k < OFFRX_COMPLETE_REASONS; k++)
			fprintf(f, "%s\"%s\":%" PRIu64, k > 1 ? "," : "", reason_name(k),
				r->completed_by[k]);
		fprintf(f, "}}");
		sep = ",";
	}
	fprintf(f, "],\"queues\":[");
	for (uint32_t i = 0; i < d->nqueues; i++) {
		const struct demo_queue *q = &d->queues[i];
		fprintf(f,
			"%s{\"queue\":%u,\"mode\":\"%s\",\"conns_total\":%u,\"rx_frames\":%" PRIu64
			",\"moved_in\":%" PRIu64 "}",
			i ? "," : "", q->queue, q->zerocopy ? "zero-copy" : "copy", q->conns_total,
			q->rx_frames, q->moved);
	}
	fprintf(f, "],\"patterns\":{");
	sep = "";
	for (int p = 0; p < P_COUNT; p++) {
		const struct demo_agg *a = &d->agg[p];
		if (!a->conns)
			continue;
		fprintf(f,
			"%s\"%s\":{\"port\":%u,\"connections\":%" PRIu64 ",\"bytes\":%" PRIu64
			",\"completed_by\":{",
			sep, demo_patterns[p].name, demo_patterns[p].port, a->conns, a->bytes);
		for (int k = 1; k < OFFRX_COMPLETE_REASONS; k++)
			fprintf(f, "%s\"%s\":%" PRIu64, k > 1 ? "," : "", reason_name(k),
				a->completed_by[k]);
		fprintf(f,
			"},\"latency_ms\":{\"count\":%" PRIu64 ",\"mean\":%.3f,\"max\":%.3f},"
			"\"push_timer_wait_ms\":{\"count\":%" PRIu64 ",\"mean\":%.3f,\"max\":%.3f},"
			"\"push_timer_share\":%.4f}",
			a->lat_n, a->lat_n ? ms(a->lat_sum_ns) / a->lat_n : 0.0, ms(a->lat_max_ns),
			a->timer_n, a->timer_n ? ms(a->timer_sum_ns) / a->timer_n : 0.0,
			ms(a->timer_max_ns),
			a->lat_sum_ns ? (double)a->timer_sum_ns / a->lat_sum_ns : 0.0);
		sep = ",";
	}
	fprintf(f, "}}\n");
	fclose(f);
}

/* Print the report; returns 0, or DEMO_EXIT_FAIL when compare finds a connection whose bytes
 * differ from every stream its pattern's senders sent (or a sender failed). */
int demo_report(struct demo *d, bool compare)
{
	struct demo_stream *streams = NULL;
	int nstreams = compare ? read_streams(d, &streams) : 0;
	uint64_t nconns = 0, matched = 0, unmatched = 0, failed = 0,
		 by[OFFRX_COMPLETE_REASONS] = { 0 };

	for (struct demo_result *r = d->results; r; r = r->next) {
		nconns++;
		for (int k = 0; k < OFFRX_COMPLETE_REASONS; k++)
			by[k] += r->completed_by[k];
		if (!compare)
			continue;
		r->match = "MISMATCH";
		for (int i = 0; i < nstreams; i++) {
			struct demo_stream *s = &streams[i];
			if (!s->used && s->pattern == r->pattern && s->bytes == r->bytes &&
			    !strcmp(s->sha, r->sha)) {
				s->used = true;
				r->match = "ok";
				matched++;
				break;
			}
		}
	}
	for (int i = 0; i < nstreams; i++) {
		unmatched += !streams[i].used;
		failed += streams[i].failed;
	}

	printf("\n%s: %" PRIu64 " connection%s received by the engine (pid %d), push timer %u ms\n",
	       DEMO_PROG, nconns, nconns == 1 ? "" : "s", (int)d->pid, d->o.push_timer_ms);
	printf("  %-5s %-8s %-22s %12s  %-52s %-6s %s\n", "conn", "pattern", "remote", "bytes",
	       "completions", "closed", compare ? "sha256 (engine = sender?)" : "sha256");
	uint64_t churn_n = 0, churn_ok = 0, churn_bytes = 0;
	for (struct demo_result *r = d->results; r; r = r->next) {
		if (r->pattern == P_CHURN) {
			churn_n++;
			churn_ok += r->match && !strcmp(r->match, "ok");
			churn_bytes += r->bytes;
			continue;
		}
		char comp[256];
		FILE *m = fmemopen(comp, sizeof(comp), "w");
		if (m) {
			reasons(m, r->completed_by);
			fclose(m);
		} else {
			comp[0] = '\0';
		}
		printf("  %-5" PRIu64 " %-8s %-22s %12" PRIu64 "  %-52s %-6s %.16s  %s\n", r->id,
		       demo_patterns[r->pattern].name, r->remote, r->bytes, comp, r->closed_by,
		       r->sha, r->match ? r->match : "");
	}
	if (churn_n) {
		printf("  %-5s %-8s %" PRIu64 " short connections, %" PRIu64 " bytes", "-", "churn",
		       churn_n, churn_bytes);
		if (compare)
			printf(", %" PRIu64 " of them byte-exact", churn_ok);
		printf("\n");
	}
	printf("completions by reason: ");
	reasons(stdout, by);
	printf("\n");

	printf("latency from a request's first byte to its completion, and the push timer's "
	       "share of it:\n");
	printf("  %-8s %6s %10s %12s %12s %10s %12s %7s\n", "pattern", "port", "requests", "mean",
	       "max", "by timer", "timer wait", "share");
	for (int p = 0; p < P_COUNT; p++) {
		const struct demo_agg *a = &d->agg[p];
		if (!a->conns)
			continue;
		printf("  %-8s %6u %10" PRIu64 " %9.1f ms %9.1f ms %10" PRIu64
		       " %9.1f ms %6.0f%%\n",
		       demo_patterns[p].name, demo_patterns[p].port, a->lat_n,
		       a->lat_n ? ms(a->lat_sum_ns) / a->lat_n : 0.0, ms(a->lat_max_ns), a->timer_n,
		       a->timer_n ? ms(a->timer_sum_ns) / a->timer_n : 0.0,
		       a->lat_sum_ns ? 100.0 * a->timer_sum_ns / a->lat_sum_ns : 0.0);
	}
	/* Which queue carried what: RSS (here the peer's per-flow tx queue) spread the flows. */
	for (uint32_t i = 0; i < d->nqueues; i++) {
		const struct demo_queue *q = &d->queues[i];
		printf("%s queue %u: %u connection%s, %" PRIu64 " frames (%s)%s",
		       i ? ";" : "receive queues:", q->queue, q->conns_total,
		       q->conns_total == 1 ? "" : "s", q->rx_frames,
		       q->zerocopy ? "zero-copy" : "copy mode", i + 1 == d->nqueues ? "\n" : "");
	}
	if (d->drops_total)
		printf("segments or frames the engine dropped: %" PRIu64 " (%s)\n", d->drops_total,
		       d->drops_text);

	int rc = 0;
	if (compare) {
		if (matched == nconns && !unmatched && !failed && nconns)
			printf("byte-exact: all %" PRIu64
			       " connections have the SHA-256 of a stream "
			       "their sender sent\n",
			       nconns);
		else {
			printf("NOT byte-exact: %" PRIu64 " of %" PRIu64
			       " connections match a sent stream; %" PRIu64
			       " sent streams unmatched, %" PRIu64 " senders failed\n",
			       matched, nconns, unmatched, failed);
			rc = DEMO_EXIT_FAIL;
		}
	} else {
		printf("(senders stopped mid-stream by the teardown: hashes not compared)\n");
	}
	if (d->o.json)
		write_json(d, d->o.json, compare, matched, nconns, unmatched, failed);
	free(streams);
	return rc;
}
