/* offrx-demo's tracing: the session (live through lttng-relayd, or recorded to a directory),
 * the daemons it had to start and so must stop, where the relay daemon kept the trace, and the
 * JSON offrx-export makes of it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "demo.h"
#include "session.h"

static void on_note(void *arg, const char *msg)
{
	struct demo *d = arg;
	long pid;

	demo_say(d, "%s", msg);
	if (sscanf(msg, "started lttng-sessiond --daemonize (pid %ld", &pid) == 1)
		d->sessiond_pid = pid > 0 ? pid : -1;
}

/* Has this process registered its tracepoints with the session daemon? A session daemon
 * started a moment ago wakes the process's lttng-ust, which then registers; events before that
 * would be lost. */
static bool registered(pid_t pid)
{
	struct lttng_domain dom;
	struct lttng_event *evs = NULL;
	struct lttng_handle *h;
	bool found = false;
	int n;

	memset(&dom, 0, sizeof(dom));
	dom.type = LTTNG_DOMAIN_UST;
	h = lttng_create_handle(NULL, &dom);
	if (!h)
		return false;
	n = lttng_list_tracepoints(h, &evs);
	for (int i = 0; i < n && !found; i++)
		found = evs[i].pid == pid && strncmp(evs[i].name, "offrx:", 6) == 0;
	free(evs);
	lttng_destroy_handle(h);
	return found;
}

/* The session's channel has per-UID buffers: every offrx engine root runs (a test, another
 * demo) would land in the demo's trace. The session library enables "offrx:*" for all of them;
 * swap that rule for one that keeps this process's events only, then clear what other engines
 * wrote in the moment before. The engine has not started, so none of ours is lost. */
static void narrow_to_pid(struct demo *d)
{
	struct lttng_domain dom;
	struct lttng_event *ev = lttng_event_create();
	struct lttng_handle *h;
	char filter[64];
	int ret = -1;

	memset(&dom, 0, sizeof(dom));
	dom.type = LTTNG_DOMAIN_UST;
	dom.buf_type = LTTNG_BUFFER_PER_UID;
	h = lttng_create_handle(d->session, &dom);
	if (h && ev) {
		snprintf(filter, sizeof(filter), "$ctx.vpid == %d", (int)d->pid);
		ev->type = LTTNG_EVENT_TRACEPOINT;
		ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
		snprintf(ev->name, sizeof(ev->name), "%s", OFFRX_SESSION_EVENTS);
		ret = lttng_disable_event(h, OFFRX_SESSION_EVENTS, OFFRX_SESSION_CHANNEL);
		if (ret >= 0)
			ret = lttng_enable_event_with_filter(h, ev, OFFRX_SESSION_CHANNEL, filter);
	}
	if (ret < 0)
		demo_say(d,
			 "warning: cannot narrow session %s to this process (%s): other offrx "
			 "engines running now will be in its trace too",
			 d->session, lttng_strerror(ret));
	if (ret >= 0) {
		struct lttng_clear_handle *ch = NULL;
		enum lttng_error_code c = lttng_clear_session(d->session, &ch);
		if (c == LTTNG_OK && lttng_clear_handle_wait_for_completion(ch, 10000) !=
					     LTTNG_CLEAR_HANDLE_STATUS_COMPLETED)
			c = LTTNG_ERR_UNK;
		if (c == LTTNG_OK &&
		    lttng_clear_handle_get_result(ch, &c) != LTTNG_CLEAR_HANDLE_STATUS_OK)
			c = LTTNG_ERR_UNK;
		if (c != LTTNG_OK)
			demo_say(d,
				 "warning: cannot clear session %s (%s): events other offrx "
				 "engines wrote before it was narrowed may be in its trace",
				 d->session, lttng_strerror(-(int)c));
		lttng_clear_handle_destroy(ch);
	}
	if (ev)
		lttng_event_destroy(ev);
	if (h)
		lttng_destroy_handle(h);
}

int demo_trace_start(struct demo *d)
{
	pid_t before[8], after[8];
	int nbefore = demo_pids_of("lttng-relayd", before, 8);
	char err[1024] = "";
	char output[PATH_MAX];
	struct offrx_session_opts so = {
		.size = sizeof(so),
		.name = d->session,
		.live = d->o.record == NULL,
		.note = on_note,
		.note_arg = d,
	};

	if (d->o.record) {
		/* The session daemon runs elsewhere: give it an absolute path. */
		char cwd[PATH_MAX];
		if (d->o.record[0] == '/')
			snprintf(output, sizeof(output), "%s", d->o.record);
		else if (getcwd(cwd, sizeof(cwd)))
			snprintf(output, sizeof(output), "%.2000s/%.2000s", cwd, d->o.record);
		else {
			demo_say(d, "--record %s: cannot make it absolute: %s", d->o.record,
				 strerror(errno));
			return -1;
		}
		so.output = output;
	}
	if (offrx_session_start(&so, d->location, sizeof(d->location), err, sizeof(err))) {
		demo_say(d, "cannot start the trace session %s: %s", d->session, err);
		return -1;
	}
	d->session_up = true;
	int nafter = demo_pids_of("lttng-relayd", after, 8);
	for (int i = 0; i < nafter; i++) {
		bool old = false;
		for (int j = 0; j < nbefore; j++)
			old |= after[i] == before[j];
		if (!old && d->nrelayd < 8)
			d->relayd_pids[d->nrelayd++] = after[i];
	}
	narrow_to_pid(d);
	for (int i = 0; i < 150 && !registered(d->pid); i++)
		demo_sleep(0.02);
	if (!registered(d->pid))
		demo_say(d,
			 "warning: this process has not registered with lttng-sessiond after 3 s: "
			 "the first events may be missing from the trace");
	return 0;
}

void demo_trace_stop(struct demo *d)
{
	struct offrx_session_info info;
	char err[1024] = "";

	if (!d->session_up)
		return;
	if (offrx_session_stop(d->session, false, &info, err, sizeof(err))) {
		demo_say(d, "stopping session %s: %s (remove it with 'lttng destroy %s')",
			 d->session, err, d->session);
		return;
	}
	d->session_up = false;
	uint64_t lost = 0;
	for (unsigned i = 0; i < info.nr_channels; i++)
		lost += info.channels[i].discarded + info.channels[i].lost_packets;
	if (lost)
		demo_say(d, "the trace lost %llu events or packets (the sub-buffers were full)",
			 (unsigned long long)lost);
}

static void said_stale(const char *name, void *ctx)
{
	demo_say(ctx, "removed session %s, left by an offrx-demo that is gone", name);
}

/* Sessions a killed offrx-demo left: named after a process that is gone. */
void demo_stale_sessions(struct demo *d)
{
	offrx_session_reap(DEMO_PROG, said_stale, d);
}

static void stop_pid(pid_t pid, const char *comm)
{
	if (!demo_proc_alive(pid, comm))
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && demo_proc_alive(pid, comm); i++)
		demo_sleep(0.05);
	if (demo_proc_alive(pid, comm))
		kill(pid, SIGKILL);
}

/* Only what this demo started, and only when nobody else has come to use it meanwhile. */
void demo_stop_daemons(struct demo *d)
{
	struct offrx_session_info *list = NULL;
	char err[512];
	int n = 0, live = 0;

	if (d->sessiond_pid <= 0 && !d->nrelayd)
		return;
	n = offrx_session_list(&list, err, sizeof(err));
	for (int i = 0; i < n; i++)
		live += list[i].live;
	free(list);
	for (int i = 0; i < d->nrelayd; i++) {
		if (live) {
			demo_say(d,
				 "left lttng-relayd (pid %d) running: it serves %d other live "
				 "session(s)",
				 (int)d->relayd_pids[i], live);
			continue;
		}
		stop_pid(d->relayd_pids[i], "lttng-relayd");
		demo_say(d, "stopped lttng-relayd (pid %d), which the demo had started",
			 (int)d->relayd_pids[i]);
	}
	d->nrelayd = 0;
	if (d->sessiond_pid > 0) {
		if (n > 0) {
			demo_say(d,
				 "left lttng-sessiond (pid %ld) running: it has %d other "
				 "session(s)",
				 d->sessiond_pid, n);
		} else {
			stop_pid((pid_t)d->sessiond_pid, "lttng-sessiond");
			demo_say(d, "stopped lttng-sessiond (pid %ld), which the demo had started",
				 d->sessiond_pid);
		}
		d->sessiond_pid = 0;
	}
}

/* A /proc file of NUL-separated strings, split. */
static int read_strings(pid_t pid, const char *what, char *buf, size_t len, char **v, int max)
{
	char path[64];
	ssize_t n;
	int fd, count = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n && count < max; i += (ssize_t)strlen(buf + i) + 1)
		v[count++] = buf + i;
	return count;
}

/* Where a relay daemon writes: its --output, or $HOME/lttng-traces of its environment. */
static bool relayd_base(pid_t pid, char *out, size_t len)
{
	char buf[16384];
	char *v[256];
	int n = read_strings(pid, "cmdline", buf, sizeof(buf), v, 256);

	for (int i = 0; i < n; i++) {
		if ((!strcmp(v[i], "-o") || !strcmp(v[i], "--output")) && i + 1 < n) {
			snprintf(out, len, "%s", v[i + 1]);
			return true;
		}
		if (!strncmp(v[i], "--output=", 9)) {
			snprintf(out, len, "%s", v[i] + 9);
			return true;
		}
	}
	n = read_strings(pid, "environ", buf, sizeof(buf), v, 256);
	for (int i = 0; i < n; i++)
		if (!strncmp(v[i], "HOME=", 5)) {
			snprintf(out, len, "%s/lttng-traces", v[i] + 5);
			return true;
		}
	return false;
}

/* The newest BASE/HOST/SESSION-DATE-TIME directory. */
static void newest_in(const char *base, const char *session, char *best, size_t len,
		      double *best_mtime)
{
	char pattern[PATH_MAX];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/*/%s-*", base, session);
	if (glob(pattern, GLOB_ONLYDIR, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		if (stat(g.gl_pathv[i], &st))
			continue;
		double m = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9;
		if (m > *best_mtime) {
			*best_mtime = m;
			snprintf(best, len, "%s", g.gl_pathv[i]);
		}
	}
	globfree(&g);
}

/* Bytes in the trace directory, to see the relay daemon finish writing it. */
static uint64_t tree_bytes(const char *dir, int depth)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	uint64_t sum = 0;
	char path[PATH_MAX];

	if (!dh)
		return 0;
	while ((e = readdir(dh))) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth < 8)
			sum += tree_bytes(path, depth + 1) + 1;
		else if (S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size + 1;
	}
	closedir(dh);
	return sum;
}

void demo_trace_find(struct demo *d)
{
	double best = 0;
	pid_t pids[8];
	char base[PATH_MAX];
	int n;

	if (d->o.record) {
		snprintf(d->trace_dir, sizeof(d->trace_dir), "%s", d->location);
		return;
	}
	/* A live session's copy: lttng-relayd writes BASE/HOSTNAME/SESSION-DATE-TIME. */
	for (int tries = 0; tries < 50 && !d->trace_dir[0]; tries++) {
		n = demo_pids_of("lttng-relayd", pids, 8);
		for (int i = 0; i < n; i++)
			if (relayd_base(pids[i], base, sizeof(base)))
				newest_in(base, d->session, d->trace_dir, sizeof(d->trace_dir),
					  &best);
		if (!d->trace_dir[0] && getenv("HOME")) {
			snprintf(base, sizeof(base), "%s/lttng-traces", getenv("HOME"));
			newest_in(base, d->session, d->trace_dir, sizeof(d->trace_dir), &best);
		}
		if (!d->trace_dir[0])
			demo_sleep(0.1);
	}
	if (!d->trace_dir[0]) {
		demo_say(d,
			 "cannot find the relay daemon's copy of session %s (looked in each "
			 "lttng-relayd's --output or $HOME/lttng-traces)",
			 d->session);
		return;
	}
	/* The session is destroyed; the relay daemon may still be writing its last packets. */
	uint64_t last = tree_bytes(d->trace_dir, 0);
	for (int i = 0; i < 50; i++) {
		demo_sleep(0.2);
		uint64_t now = tree_bytes(d->trace_dir, 0);
		if (now == last && i >= 2)
			break;
		last = now;
	}
}

static bool run_export(struct demo *d, const char *format, const char *out)
{
	char vpid[32], log[128];
	char *argv[] = { d->export_bin, "--format",  (char *)format, "--vpid", vpid,
			 "-o",		(char *)out, d->trace_dir,   NULL };
	int rc = -1;

	snprintf(vpid, sizeof(vpid), "%d", (int)d->pid);
	snprintf(log, sizeof(log), "%s/export.log", d->work);
	for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
		if (attempt)
			demo_sleep(1.0);
		rc = demo_run(argv, log, 120);
	}
	if (rc != 0) {
		char line[512];
		FILE *f = fopen(log, "r");
		demo_say(d, "offrx-export --format %s failed (status %d):", format, rc);
		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "  %s", line);
		if (f)
			fclose(f);
	}
	return rc == 0;
}

void demo_trace_export(struct demo *d)
{
	if (!d->trace_dir[0])
		return;
	if (!d->export_bin[0]) {
		demo_say(d,
			 "offrx-export is not built (looked for build/exporters/offrx-export): no "
			 "JSON written; export the trace later with 'offrx-export --format "
			 "summary %s'",
			 d->trace_dir);
		return;
	}
	/* Beside the trace, not in it: babeltrace2 would take any file in it for a stream. */
	char sum[sizeof(d->summary_path)], chrome[sizeof(d->chrome_path)];
	snprintf(sum, sizeof(sum), "%s.summary.json", d->trace_dir);
	snprintf(chrome, sizeof(chrome), "%s.chrome.json", d->trace_dir);
	if (run_export(d, "summary", sum))
		snprintf(d->summary_path, sizeof(d->summary_path), "%s", sum);
	if (run_export(d, "chrome", chrome))
		snprintf(d->chrome_path, sizeof(d->chrome_path), "%s", chrome);
}
