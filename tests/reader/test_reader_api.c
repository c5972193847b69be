/* The reader's API on a real offrx trace (given as argv[1]): a tiny queue loses nothing and
 * blocks the worker instead, events come out in time order and end with OTR_SRC_END then a
 * sticky -ENODATA, closing while the worker is blocked returns at once, bad inputs fail at
 * open with a sentence. Prints one line per check and "N passed, M failed". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reader.h"

static int passed, failed;

static void check(const char *name, bool ok)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	if (ok)
		passed++;
	else
		failed++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct run {
	uint64_t counts[OTR_KIND__COUNT];
	uint64_t fill_bytes;
	bool ordered;
	int last_kind, last_state, end_rc, again_rc;
	struct otr_reader_stats st;
};

static int read_all(const char *trace, uint32_t queue, struct run *out)
{
	struct otr_reader_opts o = { .sz = sizeof(o), .input = trace, .queue_events = queue };
	struct otr_reader *r;
	struct otr_event ev;
	int64_t last_ts = 0;
	char err[512];
	int rc;

	memset(out, 0, sizeof(*out));
	out->ordered = true;
	if (otr_reader_open(&o, &r, err, sizeof(err))) {
		printf("open %s: %s\n", trace, err);
		return -1;
	}
	while ((rc = otr_reader_next(r, &ev, 5000)) == 1) {
		out->counts[ev.kind] += !ev.derived; /* the trace's (set 3: not derived) */
		if (ev.kind == OTR_FILL)
			out->fill_bytes += ev.u.fill.bytes;
		if (ev.kind != OTR_SOURCE && ev.ts_ns < last_ts)
			out->ordered = false;
		if (ev.kind != OTR_SOURCE)
			last_ts = ev.ts_ns;
		out->last_kind = ev.kind;
		out->last_state = ev.kind == OTR_SOURCE ? (int)ev.u.source.state : 0;
	}
	out->end_rc = rc;
	out->again_rc = otr_reader_next(r, &ev, 0);
	otr_reader_stats(r, &out->st);
	otr_reader_close(r);
	return 0;
}

int main(int argc, char **argv)
{
	struct run big, tiny;
	struct otr_reader_opts o = { .sz = sizeof(o) };
	struct otr_reader *r = NULL;
	struct otr_event ev;
	char err[512], **urls = NULL, name[160];
	uint64_t tracepoints = 0;
	size_t n = 0;
	double t0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: test_reader_api TRACE_DIR\n");
		return 2;
	}
	if (read_all(argv[1], 0, &big) || read_all(argv[1], 2, &tiny)) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (int k = 1; k < OTR_DISCARDED; k++)
		tracepoints += big.counts[k];
	check("the trace ends with an OTR_SRC_END event, then -ENODATA, and -ENODATA again",
	      big.last_kind == OTR_SOURCE && big.last_state == OTR_SRC_END &&
		      big.end_rc == -ENODATA && big.again_rc == -ENODATA);
	check("a queue of 2 events hands out exactly what the default queue does",
	      !memcmp(big.counts, tiny.counts, sizeof(big.counts)) &&
		      big.fill_bytes == tiny.fill_bytes);
	check("events come out in time order (the muxer merges the streams)",
	      big.ordered && tiny.ordered);
	check("stats count every queued tracepoint event, and no other provider",
	      big.st.offrx_events == tracepoints && big.st.events == tracepoints &&
		      !big.st.other_events);
	check("the trace has posts, fills and completes",
	      big.counts[OTR_POST] && big.counts[OTR_FILL] && big.counts[OTR_COMPLETE]);
	printf("fill_bytes %" PRIu64 "\n", big.fill_bytes);

	/* The worker fills a 1-event queue and blocks; closing must not wait for the reader. */
	o.input = argv[1];
	o.queue_events = 1;
	rc = otr_reader_open(&o, &r, err, sizeof(err));
	if (!rc)
		rc = otr_reader_next(r, &ev, 5000);
	nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	t0 = now_s();
	otr_reader_close(r);
	check("closing a reader whose worker waits on a full queue returns at once",
	      rc == 1 && now_s() - t0 < 1.0);

	o.input = "/nonexistent/offrx-trace";
	o.queue_events = 0;
	rc = otr_reader_open(&o, &r, err, sizeof(err));
	check("a missing directory fails at open with -ENOENT, naming it",
	      rc == -ENOENT && strstr(err, "/nonexistent/offrx-trace"));
	o.input = NULL;
	check("no input fails with -EINVAL", otr_reader_open(&o, &r, err, sizeof(err)) == -EINVAL);
	o.input = "net://localhost/host/onlyhost";
	rc = otr_reader_open(&o, &r, err, sizeof(err));
	check("a live URL without a session fails with -EINVAL and says the form",
	      rc == -EINVAL && strstr(err, "net://HOST[:PORT]/host/HOSTNAME/SESSION"));
	o.sz = 4; /* a caller that predates every field */
	check("an opts struct too small to hold input is refused",
	      otr_reader_open(&o, &r, err, sizeof(err)) == -EINVAL);
	/* Port 1 on loopback: nobody listens there. */
	rc = otr_list_sessions("net://127.0.0.1:1", &urls, &n, err, sizeof(err));
	snprintf(name, sizeof(name), "listing the sessions of no relayd fails with a sentence (%d)",
		 rc);
	check(name, rc < 0 && strstr(err, "127.0.0.1:1") && !urls && !n);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
