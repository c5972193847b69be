/* offrx-view: the htop of an offrx receive path. Reads an engine's LTTng trace (a local relayd
 * by default, any live URL, or a recorded trace replayed at trace speed) and shows each
 * connection's queue, fills, push timers and latencies; --batch prints the same as text. */
#define _GNU_SOURCE
#include "view.h"

#include "num.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef OFFRX_VERSION
#define OFFRX_VERSION "0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: offrx-view [options] [TRACE-DIR | "
		"net://HOST[:PORT]/host/HOSTNAME/SESSION]\n"
		"The receive path of offrx engines, live or replayed from their LTTng trace: each\n"
		"connection's request queue, fills, push timers, completions and latencies.\n"
		"With no argument it attaches to the local lttng-relayd (net://localhost) and "
		"picks\n"
		"the offrx session (one whose name starts with \"offrx\"), waiting for one if "
		"needed.\n"
		"\n"
		"  -s, --speed X         replay speed: 1 trace speed (default), 2 twice as fast,\n"
		"                        0 as fast as possible\n"
		"  -f, --from T          replay: start showing at T after the trace start (1.5s,\n"
		"                        200ms, 2m; the model is built from the start all the "
		"same)\n"
		"  -t, --to T            replay: stop at T after the trace start\n"
		"      --paused          start paused\n"
		"      --sort COL        first sort column: PID ID REMOTE LOCAL STATE Q HEAD MODE\n"
		"                        TIMER POSTED DONE IND RATE P50 P99 TIMER%% (default "
		"RATE)\n"
		"      --invert          invert the sort order\n"
		"      --filter TEXT     start with this filter: words, all must match: a port\n"
		"                        (or port:N), part of an address, timer (timer-bound),\n"
		"                        a state (open fin rst upload closed stale), pid:N,\n"
		"                        id:N (\"pid:5913 timer\"); / edits it on screen\n"
		"      --horizon T       the horizon of \"time lost to the push timer\" (default "
		"10s)\n"
		"      --step T          what Left/Right move the replay clock by (default 1s)\n"
		"      --what-if-history T[,N]  the detail's what if replays at least the last T\n"
		"                        of the connection's events or its last N completions,\n"
		"                        whichever holds more (default 10s,50)\n"
		"      --export-dir DIR  where e writes its JSON (default: the current directory)\n"
		"      --no-color        monochrome (so does a non-empty NO_COLOR variable)\n"
		"  -b, --batch           no screen: print text snapshots on stdout, like top -b\n"
		"  -d, --interval MS     batch: milliseconds between snapshots (default 1000)\n"
		"  -n, --iterations N    batch: stop after N snapshots (a replay also stops at "
		"its\n"
		"                        end, after a final snapshot)\n"
		"  -h, --help            this help        --version  the version\n"
		"\n"
		"Keys: ? help, Enter detail, Tab panel, / filter, s < > I sort, p pause,\n"
		"Left/Right step, e export, q quit. See man offrx-view (docs/offrx-view.1).\n"
		"Exit status: 0; 1 the source failed (no relayd or session in batch mode, a bad "
		"or\n"
		"corrupt trace); 2 bad usage.\n");
}

static volatile sig_atomic_t stop_batch;

static void on_batch_signal(int sig)
{
	stop_batch = sig;
}

static int parse_col(const char *s, enum vcol *out)
{
	for (int c = 0; c < VC__COUNT; c++)
		if (!strcasecmp(s, vcol_name[c])) {
			*out = (enum vcol)c;
			return 0;
		}
	if (!strcasecmp(s, "depth") || !strcasecmp(s, "queue")) {
		*out = VC_DEPTH;
		return 0;
	}
	if (!strcasecmp(s, "tshare") || !strcasecmp(s, "timer-share")) {
		*out = VC_TSHARE;
		return 0;
	}
	return -EINVAL;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };
	nanosleep(&ts, NULL);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int run_batch(struct vsource *s, const struct ui_opts *uo, int64_t interval_ns,
		     long iterations)
{
	struct vsnap sn;
	struct vview v = { .sort = uo->sort, .invert = uo->invert };
	char ferr[8];
	view_set_filter(&v, uo->filter ? uo->filter : "", ferr, sizeof(ferr)); /* checked */
	snap_init(&sn, uo->horizon_ns);
	struct sigaction sa = { .sa_handler = on_batch_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int status = 0;
	/* OFFRX_VIEW_FRAME_STATS=1: time each frame (snapshot, sort, detail, text) and print the
	 * figures at exit; bench/bench_scale.sh reads them with thousands of rows. */
	const char *fs = getenv("OFFRX_VIEW_FRAME_STATS");
	bool frame_stats = fs && *fs && strcmp(fs, "0");
	int64_t frame_sum = 0, frame_max = 0;
	size_t frame_rows = 0;
	unsigned frames = 0;
	for (unsigned it = 1;; it++) {
		int64_t until = mono_ns() + interval_ns;
		bool fin = false;
		while (!stop_batch && !(fin = vs_finished(s)) && mono_ns() < until)
			sleep_ns(10000000);
		int64_t frame_t0 = mono_ns();
		vs_lock(s);
		snap_take(&sn, s, NULL);
		vs_unlock(s);
		view_order(&v, &sn);
		/* the queue of the busiest connection shown */
		long b = snap_busiest(&sn, &v);
		if (b >= 0) {
			uint64_t key[2] = { sn.rows[b].vpid, sn.rows[b].id };
			vs_lock(s);
			snap_detail(&sn, s, key);
			vs_unlock(s);
			/* its what if, replayed now rather than by the background thread */
			if (sn.d && sn.d->valid)
				vs_whatif_compute(s, key, &sn.d->wi);
		} else if (sn.d) {
			sn.d->valid = false;
		}
		if (fin && sn.st.state == VS_ERROR) {
			fprintf(stderr, "offrx-view: %s\n", sn.st.msg);
			status = 1;
			if (!sn.t.events)
				break; /* nothing to show: the message says it all */
		}
		bool last = fin || stop_batch || (iterations > 0 && (long)it >= iterations);
		batch_print(stdout, &sn, &v, it, last);
		if (frame_stats) {
			int64_t ft = mono_ns() - frame_t0;
			frame_sum += ft;
			frame_max = ft > frame_max ? ft : frame_max;
			frame_rows = sn.nrows > frame_rows ? sn.nrows : frame_rows;
			frames++;
		}
		if (ferror(stdout)) {
			status = status ? status : 1;
			break;
		}
		if (last)
			break;
	}
	if (frame_stats && frames)
		fprintf(stderr,
			"offrx-view: frame stats: %u frames, up to %zu rows, "
			"frame time avg %.3f ms, max %.3f ms\n",
			frames, frame_rows, frame_sum / 1e6 / frames, frame_max / 1e6);
	snap_free(&sn);
	view_free(&v);
	return status;
}

/* --bench: the reader and the model as fast as they go, no drawing; events per second. */
static int run_bench(const char *input)
{
	if (!input || otr_input_is_live(input)) {
		fprintf(stderr, "offrx-view: --bench reads a recorded trace: give its directory\n");
		return 2;
	}
	char err[512];
	struct otr_reader *r;
	struct otr_reader_opts ro = { .sz = sizeof(ro), .input = input };
	int64_t t0 = mono_ns();
	int ret = otr_reader_open(&ro, &r, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "offrx-view: %s\n", err);
		return 1;
	}
	struct otr_model_opts mo = { .sz = sizeof(mo), .recent = VD_MAX_RECENT };
	struct otr_model *m = otr_model_new(&mo);
	static struct otr_event batch[128];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	uint64_t n = 0;
	unsigned nb = 0;
	for (;;) {
		ret = otr_reader_next(r, &batch[nb], -1);
		if (ret == 1 && ++nb < 128)
			continue;
		pthread_mutex_lock(&lock); /* as the source thread does */
		for (unsigned i = 0; i < nb; i++)
			otr_model_feed(m, &batch[i]);
		pthread_mutex_unlock(&lock);
		n += nb;
		nb = 0;
		if (ret < 0)
			break;
	}
	double secs = (double)(mono_ns() - t0) / 1e9;
	struct otr_model_totals t;
	otr_model_totals(m, OTR_TS_NONE, &t);
	int status = 0;
	if (ret != -ENODATA) {
		fprintf(stderr, "offrx-view: %s\n", otr_reader_error(r));
		status = 1;
	}
	otr_reader_close(r);
	printf("events=%" PRIu64 " seconds=%.3f events_per_s=%.0f conns=%" PRIu64
	       " completed=%" PRIu64 "\n",
	       n, secs, secs > 0 ? (double)n / secs : 0.0, t.conns + t.conns_evicted, t.completed);
	otr_model_free(m);
	return status;
}

int main(int argc, char **argv)
{
	enum {
		O_PAUSED = 256,
		O_SORT,
		O_INVERT,
		O_FILTER,
		O_HORIZON,
		O_STEP,
		O_EXPORT_DIR,
		O_WHATIF_HISTORY,
		O_NO_COLOR,
		O_BENCH,
		O_VERSION,
	};
	static const struct option opts[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "paused", no_argument, NULL, O_PAUSED },
		{ "sort", required_argument, NULL, O_SORT },
		{ "invert", no_argument, NULL, O_INVERT },
		{ "filter", required_argument, NULL, O_FILTER },
		{ "horizon", required_argument, NULL, O_HORIZON },
		{ "step", required_argument, NULL, O_STEP },
		{ "export-dir", required_argument, NULL, O_EXPORT_DIR },
		{ "what-if-history", required_argument, NULL, O_WHATIF_HISTORY },
		{ "no-color", no_argument, NULL, O_NO_COLOR },
		{ "no-colour", no_argument, NULL, O_NO_COLOR },
		{ "batch", no_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "bench", no_argument, NULL, O_BENCH }, /* hidden: bench/bench_view.sh */
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ 0 },
	};
	struct vs_opts so = { .speed = 1, .to_ns = -1, .horizon_ns = 10000000000LL };
	struct ui_opts uo = { .sort = VC_RATE,
			      .horizon_ns = 10000000000LL,
			      .step_ns = 1000000000LL };
	bool batch = false, bench = false;
	int64_t interval = 1000000000LL, interval_ms;
	int64_t iterations_n;
	long iterations = 0;
	int c;
	while ((c = getopt_long(argc, argv, "s:f:t:bd:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (num_double(optarg, 0, 1e6, &so.speed)) {
				fprintf(stderr,
					"offrx-view: --speed '%s': give a factor >= 0 (1 is "
					"trace speed, 0 as fast as possible)\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
		case 't': {
			int64_t ns;
			if (parse_dur(optarg, &ns)) {
				fprintf(stderr,
					"offrx-view: --%s '%s': give a time after the trace "
					"start, like 1.5s, 200ms or 2m\n",
					c == 'f' ? "from" : "to", optarg);
				return 2;
			}
			*(c == 'f' ? &so.from_ns : &so.to_ns) = ns;
			break;
		}
		case O_PAUSED:
			so.start_paused = true;
			break;
		case O_SORT:
			if (parse_col(optarg, &uo.sort)) {
				fprintf(stderr,
					"offrx-view: --sort '%s': not a column (PID ID REMOTE "
					"LOCAL STATE Q HEAD MODE TIMER POSTED DONE IND RATE P50 "
					"P99 TIMER%%)\n",
					optarg);
				return 2;
			}
			break;
		case O_INVERT:
			uo.invert = true;
			break;
		case O_FILTER: {
			struct vfilter f;
			char ferr[256];
			if (filter_parse(optarg, &f, ferr, sizeof(ferr))) {
				fprintf(stderr, "offrx-view: --filter: %s\n", ferr);
				return 2;
			}
			uo.filter = optarg;
			break;
		}
		case O_HORIZON:
		case O_STEP: {
			int64_t ns;
			if (parse_dur(optarg, &ns) || ns < 1000000) {
				fprintf(stderr,
					"offrx-view: --%s '%s': give a duration of 1ms or "
					"more, like 10s\n",
					c == O_HORIZON ? "horizon" : "step", optarg);
				return 2;
			}
			if (c == O_HORIZON)
				so.horizon_ns = uo.horizon_ns = ns;
			else
				uo.step_ns = ns;
			break;
		}
		case O_EXPORT_DIR:
			uo.export_dir = optarg;
			break;
		case O_WHATIF_HISTORY: {
			char t[64];
			const char *comma = strchr(optarg, ',');
			uint64_t nc = 50;
			int64_t ns;
			snprintf(t, sizeof(t), "%.*s",
				 comma ? (int)(comma - optarg) : (int)strlen(optarg), optarg);
			if (parse_dur(t, &ns) || ns < 1000000 ||
			    (comma && num_u64(comma + 1, 1, 100000, &nc))) {
				fprintf(stderr,
					"offrx-view: --what-if-history '%s': give a duration of "
					"1ms or more and, after a comma, a count of completions (1 "
					"to 100000), like 10s,50\n",
					optarg);
				return 2;
			}
			so.whatif_window_ns = ns;
			so.whatif_comps = (uint32_t)nc;
			break;
		}
		case O_NO_COLOR:
			uo.no_color = true;
			break;
		case 'b':
			batch = true;
			break;
		case 'd':
			if (num_i64(optarg, 10, INT64_MAX / 1000000, &interval_ms)) {
				fprintf(stderr,
					"offrx-view: --interval '%s': give milliseconds, 10 "
					"or more\n",
					optarg);
				return 2;
			}
			interval = interval_ms * 1000000LL;
			break;
		case 'n':
			if (num_i64(optarg, 1, LONG_MAX, &iterations_n)) {
				fprintf(stderr,
					"offrx-view: --iterations '%s': give a count >= 1\n",
					optarg);
				return 2;
			}
			iterations = (long)iterations_n;
			break;
		case O_BENCH:
			bench = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case O_VERSION:
			printf("offrx-view %s\n", OFFRX_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr,
			"offrx-view: one input at most (a trace directory or a net:// URL), "
			"not %d\n",
			argc - optind);
		return 2;
	}
	so.input = optind < argc ? argv[optind] : NULL;
	if (so.to_ns >= 0 && so.to_ns <= so.from_ns) {
		fprintf(stderr, "offrx-view: --to must come after --from\n");
		return 2;
	}
	if (bench)
		return run_bench(so.input);
	if (so.input && !otr_input_is_live(so.input)) {
		struct stat stt;
		int rc = stat(so.input, &stt);
		if (rc || !S_ISDIR(stt.st_mode)) {
			fprintf(stderr,
				"offrx-view: %s: %s: give a trace directory (offrx-recv --trace "
				"prints it) or a net:// live URL\n",
				so.input, rc ? strerror(errno) : "not a directory");
			return 1;
		}
	} else if (so.from_ns || so.to_ns >= 0) {
		fprintf(stderr,
			"offrx-view: --from and --to apply to a recorded trace, not to a live "
			"session\n");
		return 2;
	}
	so.once = batch;
	if (!batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "offrx-view: not a terminal: use --batch for text output\n");
		return 2;
	}
	struct vsource *s;
	char err[512];
	if (vs_start(&so, &s, err, sizeof(err))) {
		fprintf(stderr, "offrx-view: %s\n", err);
		return 1;
	}
	int status = batch ? run_batch(s, &uo, interval, iterations) : ui_run(s, &uo);
	vs_stop(s);
	return status;
}
