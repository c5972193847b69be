/* offrx-demo: the whole system in one command. It builds a namespace pair, starts a live LTTng
 * session, runs the engine in this process (its thread inside the engine namespace) with a
 * different request configuration per port, drives it with kernel senders of five patterns
 * from the peer namespace, and opens offrx-view on the session; on q or Ctrl-C it takes all of
 * it down again and says where the trace and its JSON export are.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"
#include "num.h"

const struct demo_pattern_cfg demo_patterns[P_COUNT] = {
	[P_BULK] = { "bulk", 5201, 65536, 8, 0, "paced bulk streams into 64 KiB push requests" },
	[P_CHAT] = { "chat", 5202, 4096, 4, 0, "small messages with PSH into 4 KiB push requests" },
	[P_TRICKLE] = { "trickle", 5203, 65536, 4, 0,
			"MSG_MORE trickle into 64 KiB push requests: the push timer decides" },
	[P_NOPUSH] = { "nopush", 5204, 262144, 2, OFFRX_REQ_NO_PUSH,
		       "messages into 256 KiB no-push requests: complete only when full" },
	[P_CHURN] = { "churn", 5205, 16384, 4, 0,
		      "short connections opening and closing into 16 KiB push requests" },
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

void demo_say(struct demo *d, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->log_fd >= 0)
		dprintf(d->log_fd, "%s\n", msg);
	if (!d->viewer_active)
		fprintf(stderr, DEMO_PROG ": %s\n", msg);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " DEMO_PROG " [options]\n"
		"The offrx receive engine on a real link, live: two network namespaces, the "
		"engine\n"
		"in this process on eng0, kernel TCP senders of five patterns in the peer\n"
		"namespace, a live LTTng session, and offrx-view on it. q (or Ctrl-C) tears it\n"
		"all down and prints where the trace and its JSON export are. Needs root.\n\n"
		"  port  pattern  requests the engine keeps posted\n"
		"  5201  bulk     64 KiB push x 8; 2 streams paced at --bulk-rate\n"
		"  5202  chat     4 KiB push x 4; 3 streams of 512-byte messages with PSH\n"
		"  5203  trickle  64 KiB push x 4; 2 MSG_MORE trickles: the push timer completes "
		"them\n"
		"  5204  nopush   256 KiB no-push x 2; messages fill them slowly\n"
		"  5205  churn    16 KiB push x 4; three short connections a second\n\n"
		"  -H, --headless          no viewer: run --duration seconds, then print a report\n"
		"                          (bytes and SHA-256 per connection against the "
		"senders',\n"
		"                          completions by reason, the push timer's share of "
		"latency)\n"
		"                          and write the summary and chrome JSON beside the trace\n"
		"  -d, --duration S        stop after S seconds (headless default 20)\n"
		"  -s, --scenario NAME     one pattern only: bulk, chat, trickle, nopush, churn\n"
		"  -t, --push-timer-ms N   the engine's push timer (default 100); the trickle's\n"
		"                          write interval is max(400, 2N + 100) ms so that the "
		"timer,\n"
		"                          not the next write, completes each request\n"
		"      --bulk-rate MIB     MiB/s per bulk stream (default 8)\n"
		"      --record DIR        headless: record a normal session into DIR (must not\n"
		"                          exist) instead of a live one; no lttng-relayd needed\n"
		"      --name PREFIX       namespace prefix (default offrx-demo): PREFIX-eng and\n"
		"                          PREFIX-peer\n"
		"      --queues N          the veth pair's receive queues, 1..8 (default 2): the\n"
		"                          peer spreads its flows over them, and the engine\n"
		"                          receives on every one (an AF_XDP socket each)\n"
		"      --json FILE         headless: also write the report as JSON to FILE\n"
		"      --no-color          monochrome viewer\n"
		"      --keep-caps         the engine thread keeps its capabilities (by default\n"
		"                          it drops them once attached: see offrx-demo(1))\n"
		"      --trace-payload N   trace the first N bytes (1..256) of every segment's\n"
		"                          payload (offrx:segment_payload); default: no payload\n"
		"  -h, --help              this text     --version  the version\n\n"
		"Exit status: 0 done (headless: every connection byte-exact); 1 a failure or a\n"
		"mismatch; 2 bad usage; 3 this machine cannot run it (the message says what is\n"
		"missing); headless stopped by signal N: 128+N. See offrx-demo(1).\n");
}

static int pattern_by_name(const char *name)
{
	for (int p = 0; p < P_COUNT; p++)
		if (!strcmp(name, demo_patterns[p].name))
			return p;
	return -1;
}

static double parse_pos(const char *opt, const char *v, double max)
{
	double x = 0;

	if (num_double(v, 0, max, &x) || !(x > 0)) {
		fprintf(stderr, DEMO_PROG ": %s wants a number above 0 and at most %g, not '%s'\n",
			opt, max, v);
		exit(DEMO_EXIT_USAGE);
	}
	return x;
}

static void parse_args(struct demo *d, int argc, char **argv)
{
	enum {
		O_BULK = 256,
		O_RECORD,
		O_NAME,
		O_JSON,
		O_NOCOLOR,
		O_VERSION,
		O_KEEP_CAPS,
		O_TRACE_PAYLOAD,
		O_QUEUES
	};
	static const struct option lo[] = {
		{ "headless", no_argument, NULL, 'H' },
		{ "duration", required_argument, NULL, 'd' },
		{ "scenario", required_argument, NULL, 's' },
		{ "push-timer-ms", required_argument, NULL, 't' },
		{ "bulk-rate", required_argument, NULL, O_BULK },
		{ "record", required_argument, NULL, O_RECORD },
		{ "name", required_argument, NULL, O_NAME },
		{ "json", required_argument, NULL, O_JSON },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "keep-caps", no_argument, NULL, O_KEEP_CAPS },
		{ "trace-payload", required_argument, NULL, O_TRACE_PAYLOAD },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	d->o = (struct demo_opts){ .scenario = -1,
				   .push_timer_ms = 100,
				   .bulk_mib = 8,
				   .prefix = "offrx-demo",
				   .queues = 2 };
	while ((ch = getopt_long(argc, argv, "Hd:s:t:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'H':
			d->o.headless = true;
			break;
		case 'd':
			d->o.duration = parse_pos("--duration", optarg, 86400);
			break;
		case 's':
			d->o.scenario = pattern_by_name(optarg);
			if (d->o.scenario < 0) {
				fprintf(stderr,
					DEMO_PROG ": --scenario is bulk, chat, trickle, nopush or "
						  "churn, not '%s'\n",
					optarg);
				exit(DEMO_EXIT_USAGE);
			}
			break;
		case 't':
			d->o.push_timer_ms = (uint32_t)parse_pos("--push-timer-ms", optarg, 60000);
			break;
		case O_BULK:
			d->o.bulk_mib = parse_pos("--bulk-rate", optarg, 1000);
			break;
		case O_RECORD:
			d->o.record = optarg;
			break;
		case O_NAME:
			d->o.prefix = optarg;
			break;
		case O_JSON:
			d->o.json = optarg;
			break;
		case O_NOCOLOR:
			d->o.no_color = true;
			break;
		case O_KEEP_CAPS:
			d->o.keep_caps = true;
			break;
		case O_TRACE_PAYLOAD:
			d->o.trace_payload_bytes = (uint32_t)parse_pos("--trace-payload", optarg,
								       OFFRX_TRACE_PAYLOAD_MAX);
			break;
		case O_QUEUES:
			d->o.queues = (uint32_t)parse_pos("--queues", optarg, DEMO_MAX_QUEUES);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf(DEMO_PROG " (offrx) " OFFRX_VERSION "\n");
			exit(0);
		default:
			usage(stderr);
			exit(DEMO_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, DEMO_PROG ": unexpected argument '%s' (see --help)\n",
			argv[optind]);
		exit(DEMO_EXIT_USAGE);
	}
	if (d->o.record && !d->o.headless) {
		fprintf(stderr, DEMO_PROG ": --record needs --headless (the viewer follows a live "
					  "session; replay the recording with offrx-view DIR)\n");
		exit(DEMO_EXIT_USAGE);
	}
	if (d->o.json && !d->o.headless) {
		fprintf(stderr, DEMO_PROG ": --json needs --headless\n");
		exit(DEMO_EXIT_USAGE);
	}
	if (d->o.headless && !d->o.duration)
		d->o.duration = 20;
	size_t n = strlen(d->o.prefix);
	if (!n || n > 24 ||
	    strspn(d->o.prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789-_") != n ||
	    d->o.prefix[0] == '-') {
		fprintf(stderr,
			DEMO_PROG ": --name '%s': use 1..24 letters, digits, '-' or '_' (it names "
				  "files under /run/netns)\n",
			d->o.prefix);
		exit(DEMO_EXIT_USAGE);
	}
}

/* Everything this machine lacks, said at once, before anything is changed. */
static void preflight(struct demo *d)
{
	char missing[16][4400];
	int n = 0;

#define MISSING(...) snprintf(missing[n < 15 ? n++ : n], sizeof(missing[0]), __VA_ARGS__)
	if (geteuid() != 0)
		MISSING("root: network namespaces, the XDP program and AF_XDP need CAP_NET_ADMIN, "
			"CAP_BPF and CAP_SYS_ADMIN (run: sudo %s%s)",
			d->argv0, d->o.headless ? " --headless" : "");
#ifdef OFFRX_TRACING_NONE
	MISSING("tracepoints: this build has none (OFFRX_TRACING=NONE); rebuild with the default "
		"-DOFFRX_TRACING=LTTNG");
#endif
	if (!demo_in_path("ip"))
		MISSING("'ip' (apt-get install iproute2)");
	if (!demo_in_path("ethtool"))
		MISSING("'ethtool' (apt-get install ethtool)");
	if (!demo_in_path("lttng-sessiond"))
		MISSING("'lttng-sessiond' (apt-get install lttng-tools)");
	if (!d->o.record && !demo_in_path("lttng-relayd"))
		MISSING("'lttng-relayd' for the live session (apt-get install lttng-tools)");
	if (!demo_find_tool(d->netns_script, sizeof(d->netns_script), false, "scripts/netns",
			    "offrx-netns"))
		MISSING("scripts/netns (looked for %s; set OFFRX_SRC to the source tree)",
			d->netns_script);
	if (!demo_find_tool(d->send_bin, sizeof(d->send_bin), true, "samples/send/offrx-send",
			    "offrx-send"))
		MISSING("offrx-send (looked for %s; run 'make', or set OFFRX_BIN to the build "
			"directory)",
			d->send_bin);
	if (!d->o.headless) {
		if (!demo_find_tool(d->view_bin, sizeof(d->view_bin), true, "viewer/offrx-view",
				    "offrx-view"))
			MISSING("offrx-view (looked for %s; run 'make')", d->view_bin);
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
			MISSING("a terminal for the viewer (stdin and stdout are not one): run it "
				"in a terminal, or use --headless --duration S");
		const char *term = getenv("TERM");
		if (!term || !*term || !strcmp(term, "dumb"))
			MISSING("a terminal type for the viewer (TERM is '%s'): e.g. TERM=xterm",
				term ? term : "");
	}
	if (!demo_find_tool(d->export_bin, sizeof(d->export_bin), true, "exporters/offrx-export",
			    "offrx-export"))
		d->export_bin[0] = '\0'; /* optional: said at the end */
#undef MISSING
	if (!n)
		return;
	fprintf(stderr, DEMO_PROG ": cannot run here; missing:\n");
	for (int i = 0; i < n; i++)
		fprintf(stderr, "  - %s\n", missing[i]);
	exit(DEMO_EXIT_MISSING);
}

static int netns_cmd(struct demo *d, const char *cmd)
{
	char log[128];
	char queues[16];
	snprintf(queues, sizeof(queues), "%u", d->o.queues);
	char *argv[] = { d->netns_script, (char *)cmd, "--name", (char *)d->o.prefix,
			 /* up: a veth pair of N queues, the engine on all of them */
			 strcmp(cmd, "up") ? NULL : "--queues", queues, NULL };

	snprintf(log, sizeof(log), "%s/netns.log", d->work);
	return demo_run(argv, log, 30);
}

static void print_file(const char *path, const char *indent)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "%s%s", indent, line);
	if (f)
		fclose(f);
}

/* The namespace pair. One left by a demo that was killed is removed; one in use is not ours
 * to take. */
static int netns_up(struct demo *d)
{
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", d->eng_ns);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/run/netns/%s", i ? d->peer_ns : d->eng_ns);
		if (access(path, F_OK))
			continue;
		pid_t user = demo_ns_user(path);
		if (user) {
			demo_say(d,
				 "namespace %s is in use by pid %d (another offrx-demo?): stop it, "
				 "or pick another --name",
				 i ? d->peer_ns : d->eng_ns, (int)user);
			return -1;
		}
		demo_say(d, "removing namespaces %s-eng/-peer, left by an earlier run",
			 d->o.prefix);
		netns_cmd(d, "down");
		break;
	}
	if (netns_cmd(d, "up") != 0) {
		char log[128];
		snprintf(log, sizeof(log), "%s/netns.log", d->work);
		demo_say(d, "cannot create the namespaces (%s up --name %s):", d->netns_script,
			 d->o.prefix);
		print_file(log, "  ");
		netns_cmd(d, "down"); /* scripts/netns undoes a failed up; make sure */
		return -1;
	}
	d->netns_up = true;
	return 0;
}

static void netns_down(struct demo *d)
{
	if (!d->netns_up)
		return;
	netns_cmd(d, "down");
	for (int i = 0; i < 2; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", i ? d->peer_ns : d->eng_ns);
		if (!access(path, F_OK)) {
			demo_say(d, "namespace %s is still there: remove it with 'ip netns del %s'",
				 i ? d->peer_ns : d->eng_ns, i ? d->peer_ns : d->eng_ns);
			return;
		}
	}
	d->netns_up = false;
}

/* ---- senders ------------------------------------------------------------------------------- */

/* The arguments of one offrx-send run, with room for their strings. */
struct sargs {
	char *argv[40];
	char s[32][64];
	int argc, ns;
};

static void arg(struct sargs *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(struct sargs *a, const char *fmt, ...)
{
	va_list ap;

	if (a->ns == 32 || a->argc == 39)
		abort(); /* a programming error: more arguments than room */
	va_start(ap, fmt);
	vsnprintf(a->s[a->ns], sizeof(a->s[0]), fmt, ap);
	va_end(ap);
	a->argv[a->argc++] = a->s[a->ns++];
	a->argv[a->argc] = NULL;
}

static double send_seconds(struct demo *d)
{
	if (!d->o.headless && !d->o.duration)
		return 86400;
	double s = d->o.duration - 2;
	return s < 1 ? 1 : s;
}

static uint32_t trickle_interval_ms(const struct demo *d)
{
	uint32_t i = 2 * d->o.push_timer_ms + 100;
	return i < 400 ? 400 : i;
}

static void sender_args(struct demo *d, enum demo_pattern p, unsigned run, struct sargs *a)
{
	memset(a, 0, sizeof(*a));
	a->argv[a->argc++] = d->send_bin;
	arg(a, "--json");
	arg(a, "--quiet");
	switch (p) {
	case P_BULK: {
		/* offrx-send's bulk has no rate limit; a message every 10 ms is a paced bulk
		 * stream that leaves the two cores of a small machine to the engine and the
		 * viewer. Most segments are full; each message's last one carries PSH. */
		uint64_t size = (uint64_t)(d->o.bulk_mib * 1048576.0 / 100.0);
		arg(a, "-p");
		arg(a, "messages");
		arg(a, "-s");
		arg(a, "%llu", (unsigned long long)(size ? size : 1));
		arg(a, "-i");
		arg(a, "10");
		arg(a, "-C");
		arg(a, "2");
		arg(a, "-S");
		arg(a, "100");
		break;
	}
	case P_CHAT:
		arg(a, "-p");
		arg(a, "messages");
		arg(a, "-s");
		arg(a, "512");
		arg(a, "-i");
		arg(a, "50");
		arg(a, "-C");
		arg(a, "3");
		arg(a, "-S");
		arg(a, "200");
		break;
	case P_TRICKLE:
		/* A write of one and a half segments: the full one leaves without PSH, our ACK
		 * releases the held half (no PSH), and the push timer completes the request. */
		arg(a, "-p");
		arg(a, "trickle");
		arg(a, "-s");
		arg(a, "1482");
		arg(a, "-i");
		arg(a, "%u", trickle_interval_ms(d));
		arg(a, "--mss");
		arg(a, "1000");
		arg(a, "-C");
		arg(a, "2");
		arg(a, "-S");
		arg(a, "300");
		break;
	case P_NOPUSH:
		arg(a, "-p");
		arg(a, "messages");
		arg(a, "-s");
		arg(a, "4000");
		arg(a, "-i");
		arg(a, "20");
		arg(a, "-S");
		arg(a, "400");
		break;
	case P_CHURN:
		arg(a, "-p");
		arg(a, "messages");
		arg(a, "-s");
		arg(a, "2000");
		arg(a, "-c");
		arg(a, "%u", 4 + run % 8);
		arg(a, "-i");
		arg(a, "25");
		arg(a, "-S");
		arg(a, "%u", 1000 + run);
		break;
	default:
		break;
	}
	if (p != P_CHURN) {
		arg(a, "-d");
		arg(a, "%.1f", send_seconds(d));
	}
	arg(a, DEMO_ENG_ADDR ":%u", demo_patterns[p].port);
}

static int add_child(struct demo *d, pid_t pid, enum demo_pattern p, bool viewer)
{
	if (d->nchildren == DEMO_MAX_CHILDREN)
		return -1;
	d->children[d->nchildren++] = (struct demo_child){ pid, p, viewer };
	return 0;
}

static int start_sender(struct demo *d, enum demo_pattern p)
{
	struct sargs a;
	char out[128], err[128], ns[128];
	pid_t pid;

	sender_args(d, p, d->churn_runs, &a);
	if (p == P_CHURN)
		d->churn_runs++;
	snprintf(out, sizeof(out), "%s/send-%s.json", d->work, demo_patterns[p].name);
	snprintf(err, sizeof(err), "%s/send-%s.err", d->work, demo_patterns[p].name);
	snprintf(ns, sizeof(ns), "/run/netns/%s", d->peer_ns);
	/* One file per pattern, appended to: offrx-send writes its lines at the end, each in
	 * one write, so the short churn runs do not mix theirs. */
	int ofd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int efd = open(err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct demo_spawn s = {
		.argv = a.argv, .netns = ns, .out_fd = ofd, .err_fd = efd, .own_pgrp = true
	};
	pid = ofd >= 0 && efd >= 0 ? demo_spawn(&s) : -1;
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	if (pid < 0) {
		demo_say(d, "cannot start offrx-send for %s: %s", demo_patterns[p].name,
			 strerror(errno));
		return -1;
	}
	add_child(d, pid, p, false);
	return 0;
}

static int start_viewer(struct demo *d)
{
	char filter[64];
	char *argv[8];
	int n = 0;

	snprintf(filter, sizeof(filter), "pid:%d", (int)d->pid);
	argv[n++] = d->view_bin;
	/* A per-user session records every offrx engine of root; show this one. */
	argv[n++] = "--filter";
	argv[n++] = filter;
	if (d->o.no_color)
		argv[n++] = "--no-color";
	argv[n++] = d->location;
	argv[n] = NULL;
	/* Same process group as the demo: the viewer owns the terminal, and Ctrl-C reaches
	 * both of us. */
	struct demo_spawn s = { .argv = argv, .own_pgrp = false, .keep_stdin = true };
	int efd;
	char err[128];

	snprintf(err, sizeof(err), "%s/view.err", d->work);
	efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	/* The viewer keeps the terminal on stdin and stdout; only its stderr goes to a file. */
	s.out_fd = dup(STDOUT_FILENO);
	s.err_fd = efd;
	d->viewer_log_from = d->log_fd >= 0 ? lseek(d->log_fd, 0, SEEK_CUR) : -1;
	d->viewer_active = true;
	d->viewer_pid = demo_spawn(&s);
	close(s.out_fd);
	if (efd >= 0)
		close(efd);
	if (d->viewer_pid < 0) {
		d->viewer_active = false;
		demo_say(d, "cannot start offrx-view: %s", strerror(errno));
		return -1;
	}
	add_child(d, d->viewer_pid, P_COUNT, true);
	return 0;
}

static int senders_running(struct demo *d)
{
	int n = 0;

	for (int i = 0; i < d->nchildren; i++)
		n += !d->children[i].viewer;
	return n;
}

static int churn_running(struct demo *d)
{
	int n = 0;

	for (int i = 0; i < d->nchildren; i++)
		n += !d->children[i].viewer && d->children[i].pattern == P_CHURN;
	return n;
}

/* Collect exited children. Returns the number that exited with an error. */
static int reap(struct demo *d, bool *viewer_gone)
{
	int status, bad = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < d->nchildren; i++) {
			if (d->children[i].pid != pid)
				continue;
			if (d->children[i].viewer) {
				*viewer_gone = true;
				d->viewer_pid = 0;
				d->viewer_status = status;
			} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				bad++;
			}
			d->children[i] = d->children[--d->nchildren];
			break;
		}
	}
	return bad;
}

static void stop_children(struct demo *d, bool viewer)
{
	for (int i = 0; i < d->nchildren; i++)
		if (d->children[i].viewer == viewer)
			kill(d->children[i].pid, SIGTERM);
	for (int t = 0; t < 60; t++) {
		bool any = false;
		bool gone = false;
		reap(d, &gone);
		for (int i = 0; i < d->nchildren; i++)
			any |= d->children[i].viewer == viewer;
		if (!any)
			return;
		demo_sleep(0.05);
	}
	for (int i = 0; i < d->nchildren; i++)
		if (d->children[i].viewer == viewer)
			kill(d->children[i].pid, SIGKILL);
	for (int i = d->nchildren - 1; i >= 0; i--)
		if (d->children[i].viewer == viewer) {
			waitpid(d->children[i].pid, NULL, 0);
			d->children[i] = d->children[--d->nchildren];
		}
}

/* ---- the run ------------------------------------------------------------------------------- */

static bool wanted(const struct demo *d, enum demo_pattern p)
{
	return d->o.scenario < 0 || d->o.scenario == (int)p;
}

/* Runs until the viewer quits, a signal, or (headless) the senders are done and every
 * connection has closed. Returns 0, or DEMO_EXIT_FAIL. */
static int run(struct demo *d)
{
	double t0 = demo_now(), t_send_end = t0 + send_seconds(d), next_churn = t0;
	double restart_at[P_COUNT] = { 0 };
	int failed_senders = 0, rc = 0;

	for (int p = 0; p < P_CHURN; p++)
		if (wanted(d, p) && start_sender(d, p))
			return DEMO_EXIT_FAIL;
	for (;;) {
		bool viewer_gone = false;
		double now = demo_now();

		failed_senders += reap(d, &viewer_gone);
		if (got_signal || viewer_gone)
			break;
		if (d->engine_failed_mid_run) {
			demo_say(d, "the engine stopped: %s", d->engine_err);
			rc = DEMO_EXIT_FAIL;
			break;
		}
		if (d->o.duration && now - t0 >= d->o.duration + (d->o.headless ? 15 : 0)) {
			if (d->o.headless)
				demo_say(d,
					 "connections still open %.0f s after the senders "
					 "stopped: ending the run",
					 now - t_send_end);
			break;
		}
		/* churn: a short connection about three times a second */
		if (wanted(d, P_CHURN) && now < t_send_end && now >= next_churn) {
			if (churn_running(d) < 4)
				start_sender(d, P_CHURN);
			next_churn += 0.33;
		}
		if (d->o.headless) {
			if (now >= t_send_end && !senders_running(d) && !demo_open_conns(d))
				break;
		} else {
			/* interactive: a sender that ended (it should not) is started again */
			for (int p = 0; p < P_CHURN; p++) {
				bool running = false;
				for (int i = 0; i < d->nchildren; i++)
					running |= !d->children[i].viewer &&
						   d->children[i].pattern == (enum demo_pattern)p;
				if (!wanted(d, p) || running)
					continue;
				if (!restart_at[p])
					restart_at[p] = now + 1;
				else if (now >= restart_at[p]) {
					restart_at[p] = 0;
					demo_say(d, "offrx-send for %s ended; started it again",
						 demo_patterns[p].name);
					start_sender(d, p);
				}
			}
		}
		demo_sleep(0.05);
	}
	if (failed_senders && d->o.headless) {
		demo_say(d, "%d sender run(s) failed:", failed_senders);
		for (int p = 0; p < P_COUNT; p++) {
			char err[128];
			snprintf(err, sizeof(err), "%s/send-%s.err", d->work,
				 demo_patterns[p].name);
			print_file(err, "  ");
		}
		rc = DEMO_EXIT_FAIL;
	}
	return rc;
}

/* What was said while the viewer had the terminal (engine warnings, a sender that failed),
 * now that it is the demo's again. The engine's info lines stay in the log. */
static void replay_log(struct demo *d)
{
	char path[sizeof(d->work) + 16], line[2048];
	FILE *f;

	if (d->viewer_log_from < 0)
		return;
	snprintf(path, sizeof(path), "%.63s/demo.log", d->work);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fseek(f, d->viewer_log_from, SEEK_SET) == 0)
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "engine info: ", 13))
				fprintf(stderr, DEMO_PROG ": %s", line);
	fclose(f);
}

/* The private directories of demos that were killed: /tmp/offrx-demo-PID.XXXXXX, PID gone. */
static void remove_stale_work(struct demo *d)
{
	glob_t g;

	if (glob("/tmp/offrx-demo-[0-9]*.??????", GLOB_ONLYDIR, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int pid = 0;
		char *argv[] = { "rm", "-rf", g.gl_pathv[i], NULL };

		if (sscanf(g.gl_pathv[i], "/tmp/offrx-demo-%d.", &pid) != 1 || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		demo_run(argv, NULL, 30);
	}
	globfree(&g);
}

static void remove_work(struct demo *d)
{
	char *argv[] = { "rm", "-rf", d->work, NULL };

	if (d->work[0] && !getenv("OFFRX_DEMO_KEEP"))
		demo_run(argv, NULL, 30);
	else if (d->work[0])
		fprintf(stderr, DEMO_PROG ": kept %s (OFFRX_DEMO_KEEP)\n", d->work);
}

int main(int argc, char **argv)
{
	static struct demo demo;
	struct demo *d = &demo;
	bool ran = false;
	int rc = 0;

	d->log_fd = -1;
	d->results_tail = &d->results;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->argv0 = argv[0];
	parse_args(d, argc, argv);
	preflight(d);
	d->pid = getpid();
	snprintf(d->session, sizeof(d->session), DEMO_PROG "-%d", (int)d->pid);
	snprintf(d->eng_ns, sizeof(d->eng_ns), "%s-eng", d->o.prefix);
	snprintf(d->peer_ns, sizeof(d->peer_ns), "%s-peer", d->o.prefix);
	if (d->o.record && access(d->o.record, F_OK) == 0) {
		fprintf(stderr, DEMO_PROG ": --record %s exists: give a new directory\n",
			d->o.record);
		return DEMO_EXIT_USAGE;
	}
	remove_stale_work(d);
	snprintf(d->work, sizeof(d->work), "/tmp/offrx-demo-%d.XXXXXX", (int)d->pid);
	if (!mkdtemp(d->work)) {
		fprintf(stderr, DEMO_PROG ": cannot create a directory in /tmp: %s\n",
			strerror(errno));
		return DEMO_EXIT_FAIL;
	}
	char logp[sizeof(d->work) + 16];
	snprintf(logp, sizeof(logp), "%.63s/demo.log", d->work);
	d->log_fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* 1. the topology, 2. the session, 3. the engine: each undone by the teardown below */
	demo_stale_sessions(d);
	if (netns_up(d)) {
		rc = DEMO_EXIT_FAIL;
		goto teardown;
	}
	demo_say(d, "namespaces %s (eng0 10.77.0.1) and %s (peer0 10.77.0.2)", d->eng_ns,
		 d->peer_ns);
	if (got_signal || demo_trace_start(d)) {
		rc = got_signal ? 0 : DEMO_EXIT_FAIL;
		goto teardown;
	}
	demo_say(d, "tracing to %s (session %s)", d->location, d->session);
	if (got_signal)
		goto teardown;
	if (demo_engine_start(d)) {
		demo_say(d, "the engine cannot run on eng0 in %s: %s", d->eng_ns, d->engine_err);
		demo_say(d, "this machine needs XDP and AF_XDP sockets (Linux 5.10 or later, "
			    "CONFIG_XDP_SOCKETS=y, CONFIG_BPF_SYSCALL=y)");
		rc = DEMO_EXIT_MISSING;
		goto teardown;
	}
	if (d->o.scenario < 0)
		demo_say(d, "engine on eng0 in %s, ports 5201-5205, push timer %u ms", d->eng_ns,
			 d->o.push_timer_ms);
	else
		demo_say(d, "engine on eng0 in %s, port %u (%s), push timer %u ms", d->eng_ns,
			 demo_patterns[d->o.scenario].port, demo_patterns[d->o.scenario].name,
			 d->o.push_timer_ms);
	for (int p = 0; p < P_COUNT; p++)
		if (wanted(d, p))
			demo_say(d, "  port %u %-7s %s", demo_patterns[p].port,
				 demo_patterns[p].name, demo_patterns[p].what);
	if (!d->o.headless) {
		if (start_viewer(d)) {
			rc = DEMO_EXIT_FAIL;
			goto teardown;
		}
		/* A live viewer sees what happens after it attached: let it attach first. */
		for (int i = 0; i < 15 && !got_signal; i++)
			demo_sleep(0.1);
	} else {
		demo_say(d, "senders running for %.1f s (Ctrl-C stops early)", send_seconds(d));
	}
	if (!got_signal) {
		ran = true;
		rc = run(d);
	}

teardown:
	/* Teardown, in the reverse order: viewer, senders, engine (it detaches its XDP
	 * program), session, namespaces, the daemons this demo started. */
	if (d->viewer_pid > 0)
		stop_children(d, true);
	if (d->viewer_active) {
		d->viewer_active = false;
		replay_log(d);
	}
	if (WIFEXITED(d->viewer_status) && WEXITSTATUS(d->viewer_status)) {
		char err[128];
		snprintf(err, sizeof(err), "%.63s/view.err", d->work);
		demo_say(d, "offrx-view exited with status %d:", WEXITSTATUS(d->viewer_status));
		print_file(err, "  ");
		rc = DEMO_EXIT_FAIL;
	}
	if (got_signal && got_signal != SIGINT)
		demo_say(d, "signal %d: tearing down", (int)got_signal);
	bool compare = d->o.headless && !got_signal;
	stop_children(d, false);
	bool had_engine = d->engine_up;
	demo_engine_stop(d);
	bool had_session = d->session_up, had_netns = d->netns_up;
	demo_trace_stop(d);
	netns_down(d);
	char undone[512] = "";
	size_t off = 0;
	if (had_engine)
		off += (size_t)snprintf(undone + off, sizeof(undone) - off,
					"%sengine (XDP program "
					"detached from eng0), ",
					ran ? "senders, " : "");
	if (had_session && !d->session_up)
		off += (size_t)snprintf(undone + off, sizeof(undone) - off, "session %s, ",
					d->session);
	if (had_netns && !d->netns_up)
		off += (size_t)snprintf(undone + off, sizeof(undone) - off,
					"namespaces %s and %s, ", d->eng_ns, d->peer_ns);
	if (off > 2) {
		undone[off - 2] = '\0';
		demo_say(d, "removed %s", undone);
	}
	if (d->location[0] && !d->session_up)
		demo_trace_find(d);
	demo_stop_daemons(d);
	if (d->trace_dir[0])
		demo_trace_export(d);
	if (ran && (d->conns_total || compare)) {
		int r = demo_report(d, compare);
		if (!rc)
			rc = r;
	}
	if (d->trace_dir[0]) {
		printf("\ntrace:   %s\n", d->trace_dir);
		printf("         replay it: offrx-view %s\n", d->trace_dir);
		if (d->summary_path[0])
			printf("summary: %s\n", d->summary_path);
		if (d->chrome_path[0])
			printf("chrome:  %s   (open in ui.perfetto.dev)\n", d->chrome_path);
	}
	fflush(stdout);
	if (d->log_fd >= 0)
		close(d->log_fd);
	remove_work(d);
	/* A headless run cut short by a signal was not checked: say so in the status. */
	if (got_signal && d->o.headless && !rc)
		rc = 128 + got_signal;
	return rc;
}
