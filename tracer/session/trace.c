/* offrx-trace: start, stop, inspect and list the LTTng sessions that record offrx runs.
 * A thin command line over offrx_session (session.h). Exit status: 0 ok, 1 failure, 2 usage.
 */
#define _GNU_SOURCE /* nftw, posix_spawn_file_actions_addclosefrom_np */
#include "flight.h"
#include "num.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef OFFRX_VERSION
#define OFFRX_VERSION "unknown"
#endif

#define EXIT_USAGE 2

static const char *prog = "offrx-trace";

static void usage_error(const char *cmd, const char *fmt, const char *what)
{
	fprintf(stderr, "%s%s%s: ", prog, cmd ? " " : "", cmd ? cmd : "");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", prog, cmd ? " " : "", cmd ? cmd : "");
}

/* getopt_long with opterr = 0 found a problem: say which option, the way a person typed it. */
static int bad_option(const char *cmd, char *const argv[], int c)
{
	const char *arg = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };

	if (c == ':')
		usage_error(cmd, "option '%s' needs a value", arg);
	else if (!optopt)
		usage_error(cmd, "unknown option '%s'", arg);
	else if (!strncmp(arg, "--", 2) && strchr(arg, '='))
		usage_error(cmd, "option '%s' takes no value", arg);
	else
		usage_error(cmd, "unknown option '%s'", shortopt);
	return EXIT_USAGE;
}

static void fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ULL << 30) && !(v & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v >= (1ULL << 20) && !(v & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(v >> 20));
	else if (v >= (1ULL << 10) && !(v & ((1ULL << 10) - 1)))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
}

static void print_note(void *arg, const char *msg)
{
	fprintf(stderr, "%s: %s\n", prog, msg);
}

/* Lines for each channel; non-zero losses are flagged with what to do about them. */
static void print_channels(const struct offrx_session_info *info, bool detail)
{
	unsigned int i;

	if (!info->nr_channels)
		printf("no channels\n");
	for (i = 0; i < info->nr_channels; i++) {
		const struct offrx_session_channel *c = &info->channels[i];
		bool lossy = c->discarded || c->lost_packets;
		char sz[32];

		fmt_size(c->subbuf_size, sz, sizeof(sz));
		if (detail) {
			printf("channel %s: %s, %s buffers, %s mode, %llu sub-buffers of %s per "
			       "CPU\n",
			       c->name, c->domain, c->buffers,
			       c->overwrite ? "overwrite" : "discard",
			       (unsigned long long)c->num_subbuf, sz);
			printf("  events: %s\n", *c->events ? c->events : "(none enabled)");
			printf("  ");
		} else {
			printf("channel %s (%s, %s): ", c->name, c->domain, c->buffers);
		}
		printf("%llu discarded events, %llu lost packets%s\n",
		       (unsigned long long)c->discarded, (unsigned long long)c->lost_packets,
		       lossy ? "   <-- EVENTS LOST" : "");
		if (c->discarded)
			fprintf(stderr,
				"%s: warning: channel %s discarded %llu events: its buffers were "
				"full "
				"(the consumer fell behind); the trace has gaps: trace again with "
				"a "
				"larger --subbuf-size or --num-subbuf\n",
				prog, c->name, (unsigned long long)c->discarded);
		if (c->lost_packets)
			fprintf(stderr,
				"%s: warning: channel %s lost %llu packets on their way to the "
				"trace "
				"(consumer or relay daemon too slow, or disk full): trace again "
				"with "
				"more sub-buffers (--num-subbuf) or a faster disk\n",
				prog, c->name, (unsigned long long)c->lost_packets);
	}
	if (info->channels_cut)
		printf("(more channels than shown: see 'lttng list %s')\n", info->name);
}

static int is_metadata(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;

	return type == FTW_F && strcmp(base, "metadata") == 0;
}

/* The snapshots a flight recorder saved, oldest first, with their time and cause. */
static void print_snapshots(const char *dir)
{
	struct offrx_fr_snapshot *l = NULL;
	int n = offrx_fr_snapshots(dir, &l);

	if (n < 0)
		fprintf(stderr, "%s: warning: cannot read snapshot directory %s: %s\n", prog, dir,
			strerror(-n));
	else if (n == 0)
		printf("no snapshots yet\n");
	for (int i = 0; i < n; i++) {
		char when[32];
		struct tm tm;
		localtime_r(&l[i].when, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("snapshot: %s  %s  %s\n", when, l[i].cause, l[i].path);
	}
	free(l);
}

static void print_location(const struct offrx_session_info *info)
{
	int found;

	if (info->snapshot) {
		printf("snapshots: %s\n", info->location);
		print_snapshots(info->location);
		return;
	}
	if (info->live) {
		printf("live: %s\n", info->location);
		return;
	}
	printf("trace: %s\n", info->location);
	/* Each buffer owner of the trace has a metadata file; none: no traced program came. */
	found = nftw(info->location, is_metadata, 16, FTW_PHYS);
	if (found == 0)
		printf("(no events recorded: no program with offrx tracepoints ran while the "
		       "session was active)\n");
	else if (found < 0 && errno == ENOENT)
		printf("(the directory does not exist: nothing was recorded)\n");
}

/* --- start --------------------------------------------------------------------------- */

static void start_help(void)
{
	printf("Usage: %s start [--live[=TIMER_US]] [--name NAME] [--output DIR]\n"
	       "                         [--subbuf-size SIZE] [--num-subbuf N]\n"
	       "       offrx-trace start --flight-recorder [--keep DURATION] [--rate "
	       "EVENTS_PER_S]\n"
	       "                         [--trigger COND]... [--interval DURATION] [--name NAME]\n"
	       "                         [--output DIR]\n"
	       "\n"
	       "Create and start an LTTng session recording the engine's events (offrx:*) in a\n"
	       "user-space channel 'offrx' with per-UID buffers. Starts lttng-sessiond (and, for\n"
	       "--live, lttng-relayd on 127.0.0.1) when none runs.\n"
	       "\n"
	       "  -l, --live[=TIMER_US]  live session streamed through the local relay daemon,\n"
	       "                         flushed every TIMER_US microseconds (default %u);\n"
	       "                         read it with babeltrace2 --input-format=lttng-live\n"
	       "  -n, --name NAME        session name (default '%s')\n"
	       "  -o, --output DIR       trace directory of a normal session (default\n"
	       "                         $HOME/lttng-traces/NAME-YYYYMMDD-HHMMSS, as lttng does)\n"
	       "  -s, --subbuf-size SIZE bytes per sub-buffer, a power of two: 4096, 256k, 4M\n"
	       "                         (default 4M)\n"
	       "  -N, --num-subbuf N     sub-buffers per CPU, a power of two (default %llu)\n"
	       "  -F, --flight-recorder  snapshot mode: the events stay in an in-memory ring\n"
	       "                         (overwrite mode) and are saved only as snapshots, to\n"
	       "                         --output (default $HOME/lttng-traces/NAME-DATE-TIME)\n"
	       "  -k, --keep DURATION    what the ring holds (default 30s), sized at --rate\n"
	       "  -r, --rate EVENTS_PER_S the offrx event rate to size for (default %llu)\n"
	       "  -t, --trigger COND     save a snapshot when an offrx:complete matches COND:\n"
	       "                         FIELD OP VALUE [&& ...], OP one of > >= < <= == !=;\n"
	       "                         wait (post to complete), idle (last byte to\n"
	       "                         complete), reason, status, bytes, placed, conn, req,\n"
	       "                         port (the connection's local port);\n"
	       "                         e.g. 'wait > 150ms', 'reason == push_timer && idle > "
	       "50ms'\n"
	       "                         (up to %d; each names its snapshots)\n"
	       "  -i, --interval DURATION at most one snapshot per trigger per DURATION\n"
	       "                         (default: --keep)\n"
	       "  -h, --help             this text\n"
	       "\n"
	       "Why 8 x 4 MiB per CPU: at full rate the engine writes a few events per segment,\n"
	       "on the order of 100 MB/s of trace per busy CPU. The consumer daemon empties one\n"
	       "sub-buffer at a time; when all are full, new events are discarded (and counted:\n"
	       "the channel is in discard mode so that a loss is never silent). 32 MiB per CPU\n"
	       "rides out a consumer stall of about 0.3 s (disk flush, relay network) at that\n"
	       "rate, and 4 MiB sub-buffers keep the consumer's per-packet cost low. It costs\n"
	       "32 MiB of memory per CPU for each user that runs traced programs. If stop or\n"
	       "status reports discarded events, raise --num-subbuf first.\n"
	       "\n"
	       "Flight recorder: each CPU's ring is sized to hold --keep x --rate x %llu bytes\n"
	       "(the measured size of an offrx event, context included) in its sub-buffers but\n"
	       "one; start prints the sizes. Snapshots land in DIR/CAUSE-YYYYMMDD-HHMMSS-N\n"
	       "('wait > 150ms' is the cause wait-gt-150ms); 'status' lists them. A trigger saves\n"
	       "once (LTTng rate policy 'once after 1'), then a watcher process arms it again\n"
	       "after --interval. 'stop' removes the triggers. See offrx-trace(1).\n",
	       prog, OFFRX_SESSION_DEFAULT_LIVE_TIMER_US, OFFRX_SESSION_DEFAULT_NAME,
	       (unsigned long long)OFFRX_SESSION_DEFAULT_NUM_SUBBUF,
	       (unsigned long long)OFFRX_FR_DEFAULT_RATE, OFFRX_FR_MAX_TRIGGERS,
	       (unsigned long long)OFFRX_FR_EVENT_BYTES);
}

/* The watcher (offrx_fr_watch) as a process of its own, in a session of its own, that outlives
 * this command: this program again, "_fr-watch SESSION DIR INTERVAL_NS COND...". */
static int spawn_watcher(const char *name, const char *dir, int64_t interval_ns,
			 const struct offrx_fr_cond *c, int n, pid_t *pid, char *err, size_t errlen)
{
	char self[PATH_MAX], interval[32];
	char *argv[5 + OFFRX_FR_MAX_TRIGGERS + 1];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	ssize_t len;
	int ret, a = 0;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		snprintf(err, errlen, "cannot find this program (/proc/self/exe): %s",
			 strerror(errno));
		return -errno;
	}
	self[len] = '\0';
	snprintf(interval, sizeof(interval), "%lld", (long long)interval_ns);
	argv[a++] = (char *)prog;
	argv[a++] = (char *)"_fr-watch";
	argv[a++] = (char *)name;
	argv[a++] = (char *)dir;
	argv[a++] = interval;
	for (int i = 0; i < n; i++)
		argv[a++] = (char *)c[i].text;
	argv[a] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	ret = posix_spawn(pid, self, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (ret) {
		snprintf(err, errlen, "cannot start the watcher (%.200s _fr-watch): %s", self,
			 strerror(ret));
		return -ret;
	}
	return 0;
}

/* Remove a flight recorder's triggers, then stop their watchers (checked to be ours by their
 * command line) and wait a little for them to go, then remove what a watcher killed while it
 * armed a trigger again may have left. How many triggers, or -errno. */
static int disarm(const char *name, char *err, size_t errlen)
{
	struct offrx_fr_trigger *t = NULL;
	int k = offrx_fr_triggers(name, &t, err, errlen), n, m;

	if (k < 0)
		return k;
	n = offrx_fr_disarm(name, err, errlen);
	for (int i = 0; i < k && n >= 0; i++) {
		long pid = t[i].watcher_pid;
		if (!offrx_fr_is_watcher(pid, name))
			continue;
		kill((pid_t)pid, SIGTERM);
		for (int w = 0; w < 100 && offrx_fr_is_watcher(pid, name); w++) {
			struct timespec ts = { 0, 20000000L };
			nanosleep(&ts, NULL);
		}
	}
	free(t);
	if (n < 0)
		return n;
	m = offrx_fr_disarm(name, err, errlen);
	return m < 0 ? m : n + m;
}

static int cmd_start(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "live", optional_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "subbuf-size", required_argument, NULL, 's' },
		{ "num-subbuf", required_argument, NULL, 'N' },
		{ "flight-recorder", no_argument, NULL, 'F' },
		{ "keep", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "trigger", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct offrx_session_opts o = { .size = sizeof(o), .note = print_note };
	struct offrx_fr_cond conds[OFFRX_FR_MAX_TRIGGERS];
	int64_t keep_ns = OFFRX_FR_DEFAULT_KEEP_NS, interval_ns = 0;
	uint64_t rate = OFFRX_FR_DEFAULT_RATE;
	const char *fr_only = NULL; /* a flight-recorder option given */
	char where[4096], err[1024], sz[32];
	struct offrx_fr_ring ring;
	bool fr = false, sized = false;
	int c, ret, nconds = 0;
	uint64_t v;

	while ((c = getopt_long(argc, argv, ":l::n:o:s:N:Fk:r:t:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.live = true;
			if (optarg && num_u64(optarg, 1, UINT32_MAX, &v)) {
				usage_error("start",
					    "--live timer '%s' is not a number of microseconds "
					    "above 0: e.g. --live=100000 (100 ms)",
					    optarg);
				return EXIT_USAGE;
			}
			if (optarg)
				o.live_timer_us = (unsigned int)v;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 's':
			sized = true;
			if (num_size(optarg, 1, UINT64_MAX, &o.subbuf_size)) {
				usage_error("start",
					    "--subbuf-size '%s' is not a size: e.g. 4M, 256k or "
					    "4194304",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'N':
			sized = true;
			if (num_u64(optarg, 1, UINT32_MAX, &v)) {
				usage_error(
					"start",
					"--num-subbuf '%s' is not a count above 0: e.g. 8 or 16",
					optarg);
				return EXIT_USAGE;
			}
			o.num_subbuf = v;
			break;
		case 'F':
			fr = true;
			break;
		case 'k':
			fr_only = "--keep";
			if (num_duration(optarg, &keep_ns) || keep_ns < 1000000) {
				usage_error("start",
					    "--keep '%s' is not a duration of at least 1ms: e.g. "
					    "30s, 2m or 500ms",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			fr_only = "--rate";
			if (num_u64(optarg, 1, 100000000, &rate)) {
				usage_error("start",
					    "--rate '%s' is not a number of events per second from "
					    "1 to 100000000: e.g. 20000",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			fr_only = "--trigger";
			if (nconds == OFFRX_FR_MAX_TRIGGERS) {
				usage_error("start",
					    "more than %s --trigger options: join terms "
					    "with && instead",
					    "8");
				return EXIT_USAGE;
			}
			if (offrx_fr_parse(optarg, &conds[nconds], err, sizeof(err))) {
				usage_error("start", "%s", err);
				return EXIT_USAGE;
			}
			for (int i = 0; i < nconds; i++)
				if (!strcmp(conds[i].cause, conds[nconds].cause)) {
					usage_error("start", "--trigger '%s' is given twice",
						    conds[nconds].text);
					return EXIT_USAGE;
				}
			nconds++;
			break;
		case 'i':
			fr_only = "--interval";
			if (num_duration(optarg, &interval_ns) || interval_ns < 100000000) {
				usage_error("start",
					    "--interval '%s' is not a duration of at least 100ms: "
					    "e.g. 30s or 5m",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			start_help();
			return 0;
		default:
			return bad_option("start", argv, c);
		}
	}
	if (optind < argc) {
		usage_error("start", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (o.live && o.output) {
		usage_error("start",
			    "--output '%s' does not go with --live: lttng-relayd writes a live "
			    "session's trace",
			    o.output);
		return EXIT_USAGE;
	}
	if (fr_only && !fr) {
		usage_error("start",
			    "%s is an option of the flight recorder: add --flight-recorder",
			    fr_only);
		return EXIT_USAGE;
	}
	if (fr && o.live) {
		usage_error("start", "%s",
			    "--live does not go with --flight-recorder: a flight recorder keeps "
			    "its events in memory until a snapshot");
		return EXIT_USAGE;
	}
	if (fr && sized) {
		usage_error("start", "%s",
			    "--subbuf-size and --num-subbuf do not go with --flight-recorder: its "
			    "ring is sized from --keep and --rate");
		return EXIT_USAGE;
	}
	if (fr) {
		if (offrx_fr_ring(keep_ns, rate, &ring, err, sizeof(err))) {
			usage_error("start", "%s", err);
			return EXIT_USAGE;
		}
		o.snapshot = true;
		o.subbuf_size = ring.subbuf_size;
		o.num_subbuf = ring.num_subbuf;
		if (!interval_ns)
			interval_ns = keep_ns;
	}

	ret = offrx_session_start(&o, where, sizeof(where), err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s start: %s\n", prog, err);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	}
	if (fr) {
		const char *name = o.name ? o.name : OFFRX_SESSION_DEFAULT_NAME;
		pid_t pid = 0;
		if (nconds)
			ret = spawn_watcher(name, where, interval_ns, conds, nconds, &pid, err,
					    sizeof(err));
		for (int i = 0; i < nconds && !ret; i++)
			ret = offrx_fr_arm(name, (long)pid, where, &conds[i], false, err,
					   sizeof(err));
		if (ret) {
			char e2[512];
			fprintf(stderr, "%s start: %s\n", prog, err);
			disarm(name, e2, sizeof(e2));
			if (pid > 0)
				kill(pid, SIGTERM);
			offrx_session_stop(name, false, NULL, e2, sizeof(e2));
			fprintf(stderr, "%s start: session '%s' destroyed again\n", prog, name);
			return EXIT_FAILURE;
		}
		fmt_size(ring.subbuf_size, sz, sizeof(sz));
		printf("flight recorder '%s' started: channel %s (ust, per-uid, overwrite, %llu x "
		       "%s per CPU), events %s\n",
		       name, OFFRX_SESSION_CHANNEL, (unsigned long long)ring.num_subbuf, sz,
		       OFFRX_SESSION_EVENTS);
		printf("ring: keeps about %.1f s at %llu events/s (%llu bytes an event; asked "
		       "%.1f s)\n",
		       ring.held_s, (unsigned long long)rate,
		       (unsigned long long)OFFRX_FR_EVENT_BYTES, (double)keep_ns / 1e9);
		printf("snapshots: %s\n", where);
		for (int i = 0; i < nconds; i++)
			printf("trigger: %s -> snapshot %s-DATE-TIME-N, at most one per %.1f s\n",
			       conds[i].text, conds[i].cause, (double)interval_ns / 1e9);
		if (nconds)
			printf("watcher: pid %ld arms each trigger again after its interval\n",
			       (long)pid);
		else
			printf("no --trigger: save a snapshot by hand with 'lttng snapshot record "
			       "%s'\n",
			       name);
		return 0;
	}
	fmt_size(o.subbuf_size ? o.subbuf_size : OFFRX_SESSION_DEFAULT_SUBBUF_SIZE, sz, sizeof(sz));
	printf("%s session '%s' started: channel %s (ust, per-uid, %llu x %s per CPU), "
	       "events %s\n",
	       o.live ? "live" : "normal", o.name ? o.name : OFFRX_SESSION_DEFAULT_NAME,
	       OFFRX_SESSION_CHANNEL,
	       (unsigned long long)(o.num_subbuf ? o.num_subbuf : OFFRX_SESSION_DEFAULT_NUM_SUBBUF),
	       sz, OFFRX_SESSION_EVENTS);
	if (o.live) {
		printf("live: %s\n", where);
		printf("read it with: babeltrace2 --input-format=lttng-live %s\n", where);
	} else {
		printf("trace: %s\n", where);
	}
	return 0;
}

/* --- stop ---------------------------------------------------------------------------- */

static void stop_help(void)
{
	printf("Usage: %s stop [--name NAME] [--keep]\n"
	       "\n"
	       "Stop a session and destroy it, then print where its trace is (a directory, or\n"
	       "the live URL) and, per channel, the events discarded because the buffers were\n"
	       "full and the packets lost on the way to the trace. Non-zero counts are flagged:\n"
	       "the trace has gaps. A flight recorder's triggers and watcher are removed first,\n"
	       "and its snapshots listed.\n"
	       "\n"
	       "  -n, --name NAME  session name (default '%s')\n"
	       "  -k, --keep       stop only: keep the session (restart it with 'lttng start')\n"
	       "  -h, --help       this text\n",
	       prog, OFFRX_SESSION_DEFAULT_NAME);
}

static int cmd_stop(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct offrx_session_info info;
	const char *name = NULL;
	bool keep = false;
	char err[1024];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":n:kh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'k':
			keep = true;
			break;
		case 'h':
			stop_help();
			return 0;
		default:
			return bad_option("stop", argv, c);
		}
	}
	if (optind < argc) {
		usage_error("stop", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	/* No snapshot after stop: the triggers go first (they outlive a session otherwise). */
	int removed = offrx_session_status(name, &info, err, sizeof(err)) == 0 && info.snapshot
			      ? disarm(info.name, err, sizeof(err))
			      : 0;
	if (removed < 0)
		fprintf(stderr, "%s stop: warning: %s\n", prog, err);
	ret = offrx_session_stop(name, keep, &info, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s stop: %s\n", prog, err);
		return EXIT_FAILURE;
	}
	printf("session '%s' stopped%s\n", info.name, keep ? " (kept)" : " and destroyed");
	if (removed > 0)
		printf("removed %d flight-recorder trigger%s\n", removed, removed > 1 ? "s" : "");
	print_location(&info);
	print_channels(&info, false);
	return 0;
}

/* --- status -------------------------------------------------------------------------- */

static void status_help(void)
{
	printf("Usage: %s status [--name NAME]\n"
	       "\n"
	       "Show a session: active or not, live or not, where its trace goes, and per\n"
	       "channel the buffer type, sub-buffers, discarded events and lost packets.\n"
	       "\n"
	       "  -n, --name NAME  session name (default '%s')\n"
	       "  -h, --help       this text\n",
	       prog, OFFRX_SESSION_DEFAULT_NAME);
}

static int cmd_status(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct offrx_session_info info;
	const char *name = NULL;
	char err[1024];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'h':
			status_help();
			return 0;
		default:
			return bad_option("status", argv, c);
		}
	}
	if (optind < argc) {
		usage_error("status", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	ret = offrx_session_status(name, &info, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s status: %s\n", prog, err);
		return EXIT_FAILURE;
	}
	printf("session: %s\n", info.name);
	printf("state: %s\n", info.active ? "active" : "inactive");
	if (info.live)
		printf("mode: live (timer %u us)\n", info.live_timer_us);
	else if (info.snapshot)
		printf("mode: flight recorder (snapshot)\n");
	else
		printf("mode: normal\n");
	printf("output: %s\n", info.output);
	if (info.live)
		printf("live: %s\n", info.location);
	print_channels(&info, true);
	if (info.snapshot) {
		struct offrx_fr_trigger *t = NULL;
		int n = offrx_fr_triggers(info.name, &t, err, sizeof(err));
		if (n < 0)
			fprintf(stderr, "%s status: warning: %s\n", prog, err);
		else if (n == 0)
			printf("no triggers: save a snapshot with 'lttng snapshot record %s'\n",
			       info.name);
		for (int i = 0; i < n; i++)
			printf("trigger: %s (watcher pid %ld %s)\n", t[i].cond, t[i].watcher_pid,
			       offrx_fr_is_watcher(t[i].watcher_pid, info.name)
				       ? "running"
				       : "gone: the trigger saves no more snapshot once it fired");
		free(t);
		printf("snapshots: %s\n", info.location);
		print_snapshots(info.location);
	}
	return 0;
}

/* --- list ---------------------------------------------------------------------------- */

static void list_help(void)
{
	printf("Usage: %s list\n"
	       "\n"
	       "List the sessions the session daemon knows: name, active or not, live or normal,\n"
	       "and the trace directory or the live URL that babeltrace2 reads:\n"
	       "  babeltrace2 --input-format=lttng-live net://localhost/host/HOSTNAME/SESSION\n"
	       "\n"
	       "  -h, --help  this text\n",
	       prog);
}

static int cmd_list(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct offrx_session_info *list;
	bool any_live = false;
	char err[1024];
	int c, n, i;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			list_help();
			return 0;
		default:
			return bad_option("list", argv, c);
		}
	}
	if (optind < argc) {
		usage_error("list", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	n = offrx_session_list(&list, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "%s list: %s\n", prog, err);
		return EXIT_FAILURE;
	}
	if (n == 0) {
		printf("no sessions\n");
		return 0;
	}
	for (i = 0; i < n; i++) {
		printf("%-16s %-8s %-6s %s\n", list[i].name, list[i].active ? "active" : "inactive",
		       list[i].live	  ? "live"
		       : list[i].snapshot ? "flight"
					  : "normal",
		       list[i].location);
		any_live |= list[i].live;
	}
	if (any_live)
		printf("read a live session with: babeltrace2 --input-format=lttng-live "
		       "net://localhost/host/HOSTNAME/SESSION\n");
	free(list);
	return 0;
}

/* --- _fr-watch (hidden): the flight recorder's watcher, started by start ---------------- */

static int cmd_fr_watch(int argc, char *argv[])
{
	struct offrx_fr_cond conds[OFFRX_FR_MAX_TRIGGERS];
	char err[512];
	int64_t interval_ns;
	int n = 0;

	if (argc < 5 || num_i64(argv[3], 1, INT64_MAX, &interval_ns)) {
		usage_error("_fr-watch", "%s", "usage: _fr-watch SESSION DIR INTERVAL_NS COND...");
		return EXIT_USAGE;
	}
	for (int i = 4; i < argc && n < OFFRX_FR_MAX_TRIGGERS; i++)
		if (offrx_fr_parse(argv[i], &conds[n++], err, sizeof(err))) {
			fprintf(stderr, "%s _fr-watch: %s\n", prog, err);
			return EXIT_USAGE;
		}
	return offrx_fr_watch(argv[1], argv[2], interval_ns, conds, (size_t)n) ? EXIT_FAILURE : 0;
}

/* --- main ---------------------------------------------------------------------------- */

static void main_help(void)
{
	printf("Usage: %s COMMAND [OPTIONS]\n"
	       "\n"
	       "Record offrx engine events (offrx:*) with LTTng.\n"
	       "\n"
	       "Commands:\n"
	       "  start   create and start a session (normal, --live or --flight-recorder)\n"
	       "  stop    stop and destroy a session; report lost events\n"
	       "  status  show a session and its channels' loss counters (a flight\n"
	       "          recorder's triggers and snapshots too)\n"
	       "  list    list the sessions and how to read live ones\n"
	       "\n"
	       "  -h, --help     this text\n"
	       "  -V, --version  the version\n"
	       "\n"
	       "'%s COMMAND --help' tells more. Exit status: 0 ok, 1 failure, 2 usage.\n"
	       "See also offrx-trace(1), lttng(1), babeltrace2(1).\n",
	       prog, prog);
}

int main(int argc, char *argv[])
{
	static const struct {
		const char *name;
		int (*run)(int argc, char *argv[]);
	} cmds[] = {
		{ "start", cmd_start }, { "stop", cmd_stop },	       { "status", cmd_status },
		{ "list", cmd_list },	{ "_fr-watch", cmd_fr_watch },
	};
	size_t i;

	opterr = 0;
	if (argc < 2) {
		usage_error(NULL, "%s", "missing command: start, stop, status or list");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		main_help();
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("offrx-trace (offrx) %s\n", OFFRX_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	usage_error(NULL, "unknown command '%s': use start, stop, status or list", argv[1]);
	return EXIT_USAGE;
}
