/* offrx-export: an offrx trace (a directory, or a live session through lttng-relayd) as JSON
 * lines, Chrome/Perfetto trace JSON, a per-connection summary (JSON or CSV), or a verdict on
 * the receive rules (--verify). The main loop reads, filters and hands each event to one
 * writer; every writer streams, so memory does not grow with the trace. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "num.h"
#include "reader.h"

#define LIVE_FLUSH_MS 200 /* live: the longest an event waits in our buffer */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: offrx-export [OPTIONS] INPUT\n"
		"       offrx-export --verify [OPTIONS] INPUT\n"
		"       offrx-export --listen HOST:PORT [--per-conn[=N]] [OPTIONS] INPUT\n"
		"Export an offrx trace as JSON, check it against the receive rules, or serve\n"
		"its metrics to Prometheus.\n"
		"INPUT is a trace directory (the one 'offrx-recv --trace' or 'offrx-trace stop'\n"
		"printed; searched for CTF traces) or a live session,\n"
		"net://HOST[:PORT]/host/HOSTNAME/SESSION, followed until the session ends or\n"
		"Ctrl-C.\n"
		"\n"
		"  -f, --format FMT   jsonl    one JSON object per event per line (default)\n"
		"                     chrome   Chrome Trace Event JSON: open it in\n"
		"                              ui.perfetto.dev or chrome://tracing\n"
		"                     perfetto Perfetto's protobuf trace (.pftrace, TrackEvent):\n"
		"                              a quarter of chrome's size at most\n"
		"                     summary  one JSON document: per-connection counts,\n"
		"                              completions by reason, latency percentiles\n"
		"                     csv      the summary's per-connection rows\n"
		"      --verify       check the receive rules of docs/SEMANTICS.md: R01,\n"
		"                     R03, R05, R07-R12, R14-R23, R25, R26 (R18, R19 and\n"
		"                     parts of R05, R22, R25, R26 need the events of a newer\n"
		"                     engine: the report says what it could not judge);\n"
		"                     each violation names its rule, connection, request\n"
		"                     and time\n"
		"      --what-if push-timer=MS[,MS...]\n"
		"                     replay each connection's posts and arrivals through the\n"
		"                     engine's core with each push timer (and the recorded one,\n"
		"                     whose match with the trace is the fidelity); a table, or\n"
		"                     JSON (offrx-whatif/1) with --format json\n"
		"      --recorded-push-timer-ms MS  the timer the trace was recorded with "
		"(default:\n"
		"                     read from its push_timer_start events)\n"
		"      --listen HOST:PORT  serve Prometheus metrics at http://HOST:PORT/metrics\n"
		"                     (per engine and local port) instead of writing a format;\n"
		"                     at the input's end, go on serving until Ctrl-C or SIGTERM;\n"
		"                     PORT 0 picks a free port (printed on stderr)\n"
		"      --per-conn[=N] --listen: series per connection too, for at most N\n"
		"                     connections (default 100, at most 4096); the rest count\n"
		"                     under conn=\"other\"\n"
		"  -o, --output FILE  write there (default: standard output)\n"
		"      --from TIME    only events at or after TIME from the trace start\n"
		"      --to TIME      only events up to TIME from the trace start (then stop);\n"
		"                     TIME: 1.5s, 200ms, 750us, 1000ns, 2m (plain numbers:\n"
		"                     seconds)\n"
		"      --conn ID      only connection ID: VPID:CONN, or CONN in any process\n"
		"      --port P       only connections with local or remote port P (needs their\n"
		"                     conn_open in the trace)\n"
		"      --vpid PID     only the engine process PID (a per-UID session records\n"
		"                     every offrx engine of the user)\n"
		"  -w, --wait S       live: wait S seconds for a session the relay daemon does "
		"not\n"
		"                     serve yet (default 10; 0: forever)\n"
		"      --reconnect    live: when the relay daemon goes away, attach again (with\n"
		"                     backoff, marking the gap) instead of ending with an error\n"
		"  -h, --help         this help\n"
		"      --version      the version\n"
		"\n"
		"The trace start is its first event. jsonl starts with a header line and ends "
		"with\n"
		"an \"end\" line, or an \"error\" line if the input failed; chrome and summary\n"
		"then say \"complete\": false. Schemas: exporters/schema/. See offrx-export(1).\n"
		"\n"
		"Exit status: 0 done (--verify: no violation), 1 the input could not be read to\n"
		"its end or the output not written (the reason on stderr), 2 bad usage,\n"
		"3 --verify found violations, 130 interrupted before the end of an offline "
		"trace.\n");
}

/* "1.5s", "200ms", "750us", "1000ns", "2m", "2" (seconds) -> ns; -1 if malformed. */
static int64_t parse_time(const char *s)
{
	int64_t ns;

	return num_duration(s, &ns) ? -1 : ns;
}

/* "VPID:CONN" or "CONN" */
static int parse_conn(const char *s, struct oex_run *run)
{
	const char *colon = strchr(s, ':');
	uint64_t a, b;

	if (!colon) {
		if (num_u64(s, 0, UINT64_MAX, &a))
			return -1;
		run->conn_id = a;
	} else {
		char vpid[32];
		if ((size_t)(colon - s) >= sizeof(vpid))
			return -1;
		snprintf(vpid, sizeof(vpid), "%.*s", (int)(colon - s), s);
		if (num_u64(vpid, 0, UINT64_MAX, &a) || num_u64(colon + 1, 0, UINT64_MAX, &b))
			return -1;
		run->conn_vpid = a;
		run->conn_id = b;
		run->vpid_given = true;
	}
	run->have_conn = true;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note_loss(struct oex_run *run, const struct otr_event *ev)
{
	run->discarded_events += ev->u.discarded.count;
	run->lost_packets += ev->u.discarded.packets;
	run->nloss_all++;
	if (run->nloss < OEX_DISCARD_WINDOWS) {
		struct oex_loss *l = &run->loss[run->nloss++];
		l->from_ns = ev->u.discarded.from_ns;
		l->to_ns = ev->u.discarded.to_ns ? ev->u.discarded.to_ns : ev->ts_ns;
		l->count = ev->u.discarded.count;
		l->packets = ev->u.discarded.packets;
	}
}

/* Does the event pass --conn and --port? Events about the trace itself always do. */
static bool wanted(const struct oex_run *run, const struct otr_event *ev)
{
	const struct oex_conninfo *ci;

	if (ev->kind == OTR_DISCARDED || ev->kind == OTR_SOURCE)
		return true;
	if (run->vpid && ev->vpid != run->vpid)
		return false;
	if (run->have_conn && (!ev->conn || ev->conn != run->conn_id ||
			       (run->vpid_given && ev->vpid != run->conn_vpid)))
		return false;
	if (run->port >= 0) {
		if (!ev->conn)
			return false;
		ci = oex_conninfo(run, ev->vpid, ev->conn);
		if (!ci || (ci->local_port != run->port && ci->remote_port != run->port))
			return false;
	}
	return true;
}

static void remember_open(struct oex_run *run, const struct otr_event *ev)
{
	struct oex_conninfo *ci = oex_ctab_get(&run->info, ev->vpid, ev->conn);

	if (!ci && !(ci = oex_ctab_add(&run->info, ev->vpid, ev->conn)))
		return; /* out of memory: this connection's --port filter and names suffer */
	snprintf(ci->local_addr, sizeof(ci->local_addr), "%s", ev->u.open.local_addr);
	snprintf(ci->remote_addr, sizeof(ci->remote_addr), "%s", ev->u.open.remote_addr);
	ci->local_port = ev->u.open.local_port;
	ci->remote_port = ev->u.open.remote_port;
	ci->queue = ev->u.open.queue;
}

/* Feed one event from the source. Returns 0 to go on, 1 when --to is passed, < 0 on a
 * writer error. */
static int feed(struct oex_writer *w, const struct otr_event *ev)
{
	struct oex_run *run = w->run;
	int64_t rel;
	int ret = 0;

	if (ev->kind == OTR_SOURCE) {
		/* End and error come back as the source's status; lost and connected are news. */
		if (ev->u.source.state == OTR_SRC_LOST || ev->u.source.state == OTR_SRC_CONNECTED) {
			if (ev->u.source.state == OTR_SRC_LOST)
				fprintf(stderr, "offrx-export: %s\n", ev->u.source.msg);
			if (run->t0_ns != OEX_TS_NONE)
				return w->ops->event(w, ev);
		}
		return 0;
	}
	if (run->t0_ns == OEX_TS_NONE) {
		run->t0_ns = ev->ts_ns;
		run->t0_raw = ev->ts_raw;
		run->last_ns = ev->ts_ns;
	}
	if (ev->ts_ns > run->last_ns) {
		run->last_ns = ev->ts_ns;
		run->last_raw = ev->ts_raw;
	}
	rel = ev->ts_ns - run->t0_ns;
	if (run->to_ns != OEX_TS_NONE && rel > run->to_ns)
		return 1;
	/* The trace's events: not those the reader derived (event set 3), though exported. */
	if ((unsigned)ev->kind < OTR_KIND__COUNT && !ev->derived)
		run->by_kind[ev->kind]++;
	if (ev->kind == OTR_DISCARDED)
		note_loss(run, ev);
	else if (!ev->derived)
		run->events++;
	if (ev->kind == OTR_CONN_OPEN)
		remember_open(run, ev);
	if ((run->from_ns == OEX_TS_NONE || rel >= run->from_ns) && wanted(run, ev)) {
		run->exported++;
		ret = w->ops->event(w, ev);
	}
	if (ev->kind == OTR_CONN_CLOSE) {
		struct oex_conninfo *ci = oex_ctab_get(&run->info, ev->vpid, ev->conn);
		if (ci)
			oex_ctab_del(&run->info, ci);
	}
	return ret;
}

/* What the command line asks for. */
struct oex_opts {
	const char *format, *output, *jsonl_in;
	bool verify, reconnect, whatif;
	const char *listen; /* --listen HOST:PORT */
	unsigned per_conn;  /* --per-conn: the cap; 0 without */
	bool format_given;
	uint64_t whatif_ms[16];
	unsigned whatif_n;
	int64_t recorded_ms;
	int wait_s;
};

/* The command line into o and run's filters. Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct oex_opts *o, struct oex_run *run)
{
	enum {
		O_FROM = 256,
		O_TO,
		O_CONN,
		O_PORT,
		O_VPID,
		O_VERIFY,
		O_VERSION,
		O_RECONNECT,
		O_INPUT_JSONL,
		O_WHATIF,
		O_RECORDED_TIMER,
		O_LISTEN,
		O_PER_CONN
	};
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "conn", required_argument, NULL, O_CONN },
		{ "port", required_argument, NULL, O_PORT },
		{ "vpid", required_argument, NULL, O_VPID },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "what-if", required_argument, NULL, O_WHATIF },
		{ "recorded-push-timer-ms", required_argument, NULL, O_RECORDED_TIMER },
		{ "wait", required_argument, NULL, 'w' },
		{ "reconnect", no_argument, NULL, O_RECONNECT },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "per-conn", optional_argument, NULL, O_PER_CONN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		/* Tests: events from offrx-export's own jsonl instead of a trace. */
		{ "input-jsonl", required_argument, NULL, O_INPUT_JSONL },
		{ NULL, 0, NULL, 0 },
	};
	char err[1024];
	uint64_t u;
	int64_t t;
	int c;

	*o = (struct oex_opts){ .format = "jsonl", .recorded_ms = -1, .wait_s = 10 };
	while ((c = getopt_long(argc, argv, "f:o:w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->format = optarg;
			o->format_given = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_FROM:
		case O_TO:
			if ((t = parse_time(optarg)) < 0) {
				fprintf(stderr,
					"offrx-export: --%s %s: give a time from the trace start, "
					"like 1.5s, 200ms, 750us or 1000ns\n",
					c == O_FROM ? "from" : "to", optarg);
				return OEX_EXIT_USAGE;
			}
			*(c == O_FROM ? &run->from_ns : &run->to_ns) = t;
			break;
		case O_CONN:
			if (parse_conn(optarg, run)) {
				fprintf(stderr,
					"offrx-export: --conn %s: give VPID:CONN (3906:1) or CONN "
					"(1)\n",
					optarg);
				return OEX_EXIT_USAGE;
			}
			break;
		case O_PORT:
			if (num_u64(optarg, 1, 65535, &u)) {
				fprintf(stderr,
					"offrx-export: --port %s: give a port, 1 to 65535\n",
					optarg);
				return OEX_EXIT_USAGE;
			}
			run->port = (int)u;
			break;
		case O_VPID:
			if (num_u64(optarg, 1, UINT64_MAX, &run->vpid)) {
				fprintf(stderr,
					"offrx-export: --vpid %s: give the engine's process id "
					"(the vpid field)\n",
					optarg);
				return OEX_EXIT_USAGE;
			}
			break;
		case O_VERIFY:
			o->verify = true;
			break;
		case O_WHATIF:
			if (oex_whatif_parse(optarg, o->whatif_ms, &o->whatif_n, err,
					     sizeof(err))) {
				fprintf(stderr, "offrx-export: %s\n", err);
				return OEX_EXIT_USAGE;
			}
			o->whatif = true;
			break;
		case O_RECORDED_TIMER:
			if (num_i64(optarg, 1, 600000, &o->recorded_ms)) {
				fprintf(stderr,
					"offrx-export: --recorded-push-timer-ms %s: give "
					"milliseconds, 1 to 600000\n",
					optarg);
				return OEX_EXIT_USAGE;
			}
			break;
		case 'w':
			if (num_u64(optarg, 0, 86400, &u)) {
				fprintf(stderr,
					"offrx-export: --wait %s: give seconds, 0 to 86400\n",
					optarg);
				return OEX_EXIT_USAGE;
			}
			o->wait_s = u ? (int)u : -1;
			break;
		case O_RECONNECT:
			o->reconnect = true;
			break;
		case O_LISTEN:
			o->listen = optarg;
			break;
		case O_PER_CONN:
			u = OEX_PER_CONN_DEFAULT;
			if (optarg && num_u64(optarg, 1, OEX_PER_CONN_MAX, &u)) {
				fprintf(stderr,
					"offrx-export: --per-conn=%s: give the most connections "
					"with series of their own, 1 to %d\n",
					optarg, OEX_PER_CONN_MAX);
				return OEX_EXIT_USAGE;
			}
			o->per_conn = (unsigned)u;
			break;
		case 'h':
			usage(stdout);
			return OEX_EXIT_OK;
		case O_VERSION:
			printf("offrx-export " OEX_VERSION "\n");
			return OEX_EXIT_OK;
		case O_INPUT_JSONL:
			o->jsonl_in = optarg;
			break;
		default:
			fprintf(stderr, "offrx-export: see 'offrx-export --help'\n");
			return OEX_EXIT_USAGE;
		}
	}
	if (o->jsonl_in ? optind != argc : optind != argc - 1) {
		fprintf(stderr, "offrx-export: give one INPUT, a trace directory or a net:// live "
				"URL (see --help)\n");
		return OEX_EXIT_USAGE;
	}
	if (run->from_ns != OEX_TS_NONE && run->to_ns != OEX_TS_NONE && run->from_ns > run->to_ns) {
		fprintf(stderr, "offrx-export: --from is after --to: nothing would be exported\n");
		return OEX_EXIT_USAGE;
	}
	if (o->whatif && strcmp(o->format, "jsonl") && strcmp(o->format, "json") &&
	    strcmp(o->format, "table")) {
		fprintf(stderr,
			"offrx-export: --what-if prints a table, or JSON with --format json\n");
		return OEX_EXIT_USAGE;
	}
	if (o->listen && (o->verify || o->whatif || o->format_given || o->output)) {
		fprintf(stderr, "offrx-export: --listen serves metrics over HTTP: it takes no "
				"--format, --output, --verify or --what-if\n");
		return OEX_EXIT_USAGE;
	}
	if (o->per_conn && !o->listen) {
		fprintf(stderr, "offrx-export: --per-conn shapes --listen's metrics: give "
				"--listen HOST:PORT too\n");
		return OEX_EXIT_USAGE;
	}
	run->input = o->jsonl_in ? o->jsonl_in : argv[optind];
	run->live = !o->jsonl_in && otr_input_is_live(run->input);
	return -1;
}

/* The writer the options name. Returns -1 to go on, or the exit status. */
static int make_writer(const struct oex_opts *o, struct oex_writer *w)
{
	const char *f = o->format;
	int ret;

	if (o->listen) {
		char err[1024];
		if (oex_metrics_new(w, o->listen, o->per_conn, err, sizeof(err))) {
			fprintf(stderr, "offrx-export: %s\n", err);
			return OEX_EXIT_INPUT;
		}
		return -1;
	}
	if (o->whatif)
		ret = oex_whatif_new(w, o->whatif_ms, o->whatif_n, !strcmp(f, "json"),
				     o->recorded_ms);
	else if (o->verify)
		ret = oex_verify_new(w);
	else if (!strcmp(f, "jsonl"))
		ret = oex_jsonl_new(w);
	else if (!strcmp(f, "chrome"))
		ret = oex_chrome_new(w);
	else if (!strcmp(f, "perfetto"))
		ret = oex_perfetto_new(w);
	else if (!strcmp(f, "summary") || !strcmp(f, "csv"))
		ret = oex_summary_new(w, !strcmp(f, "csv"));
	else {
		fprintf(stderr,
			"offrx-export: --format %s: give jsonl, chrome, perfetto, summary or csv\n",
			f);
		return OEX_EXIT_USAGE;
	}
	if (ret) {
		fprintf(stderr, "offrx-export: out of memory\n");
		return OEX_EXIT_INPUT;
	}
	return -1;
}

/* The source, then the output (a bad input must not truncate an existing output file).
 * 0, or -1 with the reason said. */
static int open_ends(const struct oex_opts *o, struct oex_run *run, struct oex_source **src,
		     struct jw_out *out)
{
	char err[1024];

	if (oex_source_open(src, run->input, o->jsonl_in != NULL, o->wait_s, o->reconnect, err,
			    sizeof(err))) {
		fprintf(stderr, "offrx-export: %s\n", err);
		return -1;
	}
	if (jw_out_open(out, o->output, err, sizeof(err))) {
		fprintf(stderr, "offrx-export: %s\n", err);
		oex_source_close(*src);
		*src = NULL;
		return -1;
	}
	run->out = out;
	return 0;
}

/* Read, filter, write until the input ends, --to, Ctrl-C or an error; run->end says which.
 * The source's damage list is copied into run (it outlives the source). */
static void run_export(struct oex_writer *w, struct oex_source *src, struct otr_event *ev)
{
	struct oex_run *run = w->run;
	struct jw_out *out = run->out;
	int64_t last_flush = now_ms();
	uint64_t since_check = 0;
	int rc = 0, ret;

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error we report (quietly) */

	w->ops->begin(w);
	while (!stop) {
		rc = oex_source_next(src, ev, 0);
		if (rc == 0) {
			/* Idle (live): what we have goes out now. */
			jw_out_flush(out);
			last_flush = now_ms();
			rc = oex_source_next(src, ev, 100);
		}
		if (rc == 0)
			continue;
		if (rc < 0)
			break;
		ret = feed(w, ev);
		if (ret == 1) {
			run->end = OEX_END_TO;
			break;
		}
		if (ret < 0) {
			snprintf(run->error, sizeof(run->error),
				 "out of memory after %" PRIu64 " events", run->events);
			run->end = OEX_END_ERROR;
			break;
		}
		if (out->err)
			break;
		if (run->live && ++since_check >= 1024) {
			since_check = 0;
			if (now_ms() - last_flush >= LIVE_FLUSH_MS) {
				jw_out_flush(out);
				last_flush = now_ms();
			}
		}
	}
	oex_source_stats(src, &run->reconnects);
	const struct otr_damage *d;
	size_t nd = oex_source_damage(src, &d);
	run->damage = nd ? malloc(nd * sizeof(*d)) : NULL;
	if (run->damage) {
		memcpy(run->damage, d, nd * sizeof(*d));
		run->ndamage = nd;
	}
	if (!run->end) {
		if (stop)
			run->end = OEX_END_INTERRUPT;
		else if (rc == -ENODATA)
			run->end = run->live ? OEX_END_SESSION : OEX_END_TRACE;
		else if (rc < 0) {
			run->end = OEX_END_ERROR;
			snprintf(run->error, sizeof(run->error), "%s", oex_source_error(src));
		} else {
			run->end = OEX_END_ERROR; /* the output failed: reported below */
			snprintf(run->error, sizeof(run->error), "cannot write the output");
		}
	}
}

/* The writer's last words, the output closed, and the exit status. */
static int report(const struct oex_opts *o, struct oex_writer *w, struct jw_out *out)
{
	struct oex_run *run = w->run;
	int status = OEX_EXIT_OK, ret = w->ops->end(w);

	if (ret > 0)
		status = ret;
	ret = jw_out_close(out);
	if (ret) {
		if (ret != -EPIPE)
			fprintf(stderr, "offrx-export: cannot write '%s': %s\n", out->path,
				strerror(-ret));
		return OEX_EXIT_INPUT;
	}
	if (run->end == OEX_END_ERROR) {
		fprintf(stderr, "offrx-export: %s\n", run->error);
		return OEX_EXIT_INPUT;
	}
	if (!o->verify && (run->discarded_events || run->lost_packets))
		fprintf(stderr,
			"offrx-export: note: the tracer discarded %" PRIu64
			" events and lost %" PRIu64
			" packets (loss windows: %u, listed in the output): give the channel more "
			"sub-buffers (offrx-trace start --num-subbuf) to keep them\n",
			run->discarded_events, run->lost_packets, run->nloss_all);
	if (run->end == OEX_END_INTERRUPT && !run->live && status == OEX_EXIT_OK)
		return 130;
	return status;
}

/* --listen: the input ended, the last values stay served until Ctrl-C or SIGTERM. */
static void linger(const struct oex_run *run)
{
	if (stop || run->end == OEX_END_ERROR)
		return;
	fprintf(stderr, "offrx-export: %s: serving the final metrics until Ctrl-C or SIGTERM\n",
		oex_end_name(run->end));
	while (!stop)
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
}

int main(int argc, char **argv)
{
	struct oex_run run = {
		.from_ns = OEX_TS_NONE,
		.to_ns = OEX_TS_NONE,
		.port = -1,
		.t0_ns = OEX_TS_NONE,
	};
	struct oex_writer w = { .run = &run };
	struct oex_source *src = NULL;
	struct oex_opts o;
	struct jw_out out;
	struct otr_event *ev;
	int status;

	if ((status = parse_args(argc, argv, &o, &run)) >= 0)
		return status;
	if ((status = make_writer(&o, &w)) >= 0)
		return status;
	oex_ctab_init(&run.info, sizeof(struct oex_conninfo));
	ev = malloc(sizeof(*ev)); /* 1.7 KiB: a conn_state lists 64 requests */
	if (!ev) {
		fprintf(stderr, "offrx-export: out of memory\n");
		status = OEX_EXIT_INPUT;
	} else if (open_ends(&o, &run, &src, &out)) {
		status = OEX_EXIT_INPUT;
	} else {
		run_export(&w, src, ev);
		oex_source_close(src);
		status = report(&o, &w, &out);
		if (o.listen)
			linger(&run);
	}
	w.ops->free(&w);
	oex_ctab_fini(&run.info, NULL);
	free(ev);
	free(run.damage);
	return status;
}
