/* offrx_session: create, inspect, stop and destroy the LTTng session that records an offrx run.
 * The session daemon and, for live sessions, a local relay daemon are started when none answers,
 * the way `lttng create` does; everything a person may need to know comes back as text.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np */
#include "session.h"
#include "errf.h"
#include "flight.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

extern char **environ;

#define DAEMON_READY_MS 10000 /* a --daemonize parent exits once its daemon is ready */

static void note(const struct offrx_session_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct offrx_session_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!o || !o->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->note(o->note_arg, msg);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* liblttng-ctl returns negative lttng_error_code values; the caller wants the kind as errno. */
static int lttng_to_errno(int ret)
{
	switch (ret < 0 ? -ret : ret) {
	case LTTNG_ERR_EXIST_SESS:
		return -EEXIST;
	case LTTNG_ERR_SESS_NOT_FOUND:
	case LTTNG_ERR_NO_SESSION:
		return -ENOENT;
	case LTTNG_ERR_EPERM:
		return -EACCES;
	case LTTNG_ERR_NO_SESSIOND:
	case LTTNG_ERR_RELAYD_CONNECT_FAIL:
		return -ECONNREFUSED;
	default:
		return -EIO;
	}
}

static const char *lttng_msg(int ret)
{
	return lttng_strerror(ret < 0 ? ret : -ret);
}

static const char *name_or_default(const char *name)
{
	return name && *name ? name : OFFRX_SESSION_DEFAULT_NAME;
}

static bool is_default_name(const char *name)
{
	return strcmp(name, OFFRX_SESSION_DEFAULT_NAME) == 0;
}

static int check_name(const char *name, char *err, size_t errlen)
{
	if (strlen(name) >= LTTNG_NAME_MAX) {
		errf(err, errlen, "session name '%.40s...' is %zu characters long: use at most %d",
		     name, strlen(name), LTTNG_NAME_MAX - 1);
		return -EINVAL;
	}
	if (strchr(name, '/') || name[0] == '.' || name[0] == '-') {
		errf(err, errlen,
		     "session name '%s' cannot be used (it names a directory of the trace): use "
		     "letters, digits, '-' and '_', not starting with '-' or '.'",
		     name);
		return -EINVAL;
	}
	return 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The tail of a daemon's own error output, for the message that says it did not start. */
static void read_tail(int fd, char *buf, size_t len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)len - 1 ? end - ((off_t)len - 1) : 0;
	ssize_t n;
	char *p;

	buf[0] = '\0';
	if (end <= 0 || pread(fd, buf, len - 1, from) <= 0)
		return;
	n = end - from;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/*
 * Run "argv --daemonize ...": the command returns once the daemon is ready, or fails saying
 * why on stderr, which goes to a temporary file so that the failure can be reported.
 */
static int spawn_daemon(char *const argv[], char *err, size_t errlen)
{
	char tmpl[] = "/tmp/offrx-trace.XXXXXX";
	posix_spawn_file_actions_t fa;
	char out[512] = "";
	int fd, ret, status = 0;
	unsigned int waited;
	pid_t pid, w;

	fd = mkstemp(tmpl);
	if (fd < 0) {
		ret = -errno;
		errf(err, errlen, "cannot start %s: cannot create %s (%s): check /tmp", argv[0],
		     tmpl, strerror(errno));
		return ret;
	}
	unlink(tmpl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
	/* A daemon must not keep the caller's sockets (offrx-recv's AF_XDP ones) open for ever. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret) {
		errf(err, errlen, "cannot run %s: %s%s", argv[0], strerror(ret),
		     ret == ENOENT ? ": install lttng-tools (apt-get install lttng-tools)" : "");
		close(fd);
		return -ECONNREFUSED;
	}
	for (waited = 0;; waited += 20) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (waited >= DAEMON_READY_MS) {
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
			errf(err, errlen,
			     "%s did not get ready within %u s: see its log with '%s -vvv'",
			     argv[0], DAEMON_READY_MS / 1000, argv[0]);
			close(fd);
			return -ETIMEDOUT;
		}
		sleep_ms(20);
	}
	if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		close(fd);
		return 0;
	}
	read_tail(fd, out, sizeof(out));
	close(fd);
	if (WIFEXITED(status))
		errf(err, errlen, "%s exited with status %d%s%s", argv[0], WEXITSTATUS(status),
		     *out ? ": " : "", out);
	else
		errf(err, errlen, "%s was killed by signal %d%s%s", argv[0], WTERMSIG(status),
		     *out ? ": " : "", out);
	return -ECONNREFUSED;
}

/* The pid a session daemon wrote to its pid file, or 0. */
static long sessiond_pid(void)
{
	char path[PATH_MAX];
	const char *home = getenv("LTTNG_HOME");
	long pid = 0;
	FILE *f;

	if (geteuid() == 0)
		snprintf(path, sizeof(path), "/var/run/lttng/lttng-sessiond.pid");
	else
		snprintf(path, sizeof(path), "%s/.lttng/lttng-sessiond.pid",
			 home		  ? home
			 : getenv("HOME") ? getenv("HOME")
					  : "");
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

/* Is a session daemon reachable? 1 yes, 0 no, or -errno. */
static int sessiond_alive(char *err, size_t errlen)
{
	int ret = lttng_session_daemon_alive();

	if (ret < 0) {
		errf(err, errlen, "cannot tell whether a session daemon runs: %s", lttng_msg(ret));
		return lttng_to_errno(ret);
	}
	return ret;
}

static int enter_netns_of(long pid, int *saved);
static void leave_sessiond_netns(int saved);

static int sessiond_ensure(const struct offrx_session_opts *o, char *err, size_t errlen)
{
	char *argv[] = { "lttng-sessiond", "--daemonize", NULL };
	char why[512];
	unsigned int i;
	int ret;

	ret = sessiond_alive(err, errlen);
	if (ret)
		return ret < 0 ? ret : 0;
	/* Started from a test namespace ('ip netns exec NS offrx-recv --trace'), the daemon would
	 * live there for good, with the relay daemon it starts, out of reach of every reader on
	 * the host, even after NS is gone. Start it in the namespace of the program that started
	 * us (the user's shell), which is the host's in that case; failing that, here. */
	int saved = -1;
	bool moved = enter_netns_of((long)getppid(), &saved) == 0 && saved >= 0;
	ret = spawn_daemon(argv, why, sizeof(why));
	if (moved)
		leave_sessiond_netns(saved);
	if (ret) {
		if (geteuid() != 0)
			errf(err, errlen,
			     "no session daemon runs and none could be started as uid %u (%s): "
			     "run offrx-trace as root, or start one with 'sudo lttng-sessiond "
			     "--daemonize' and add yourself to the 'tracing' group",
			     (unsigned int)geteuid(), why);
		else
			errf(err, errlen,
			     "no session daemon runs and none could be started (%s): try "
			     "'lttng-sessiond -vvv' to see why",
			     why);
		return ret;
	}
	for (i = 0; i < 250 && lttng_session_daemon_alive() != 1; i++)
		sleep_ms(20);
	if (lttng_session_daemon_alive() != 1) {
		errf(err, errlen,
		     "started lttng-sessiond but it does not answer after 5 s: check "
		     "'pgrep -a lttng-sessiond' and 'lttng-sessiond -vvv'");
		return -ECONNREFUSED;
	}
	if (geteuid() == 0)
		note(o, "started lttng-sessiond --daemonize (pid %ld, root session daemon)",
		     sessiond_pid());
	else
		note(o,
		     "started lttng-sessiond --daemonize (pid %ld) for uid %u: it sees only this "
		     "user's programs; to trace offrx-recv (root), run offrx-trace as root",
		     sessiond_pid(), (unsigned int)geteuid());
	return 0;
}

static bool port_accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, ret;

	inet_pton(AF_INET, OFFRX_SESSION_RELAYD_HOST, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ret == 0;
}

static int relayd_ensure(const struct offrx_session_opts *o, char *err, size_t errlen)
{
	char ctrl[64], data[64], live[64];
	char *argv[] = { "lttng-relayd", "--daemonize", "-C", ctrl, "-D", data, "-L", live, NULL };
	bool c = port_accepts(OFFRX_SESSION_RELAYD_CTRL_PORT);
	bool l = port_accepts(OFFRX_SESSION_RELAYD_LIVE_PORT);
	char why[512];
	unsigned int i;
	int ret;

	if (c && l)
		return 0;
	if (c || l) {
		errf(err, errlen,
		     "%s:%d %s connections but %s:%d does not: something other than "
		     "lttng-relayd may hold one of them; see 'ss -ltnp | grep 534'",
		     OFFRX_SESSION_RELAYD_HOST,
		     c ? OFFRX_SESSION_RELAYD_CTRL_PORT : OFFRX_SESSION_RELAYD_LIVE_PORT, "accepts",
		     OFFRX_SESSION_RELAYD_HOST,
		     c ? OFFRX_SESSION_RELAYD_LIVE_PORT : OFFRX_SESSION_RELAYD_CTRL_PORT);
		return -ECONNREFUSED;
	}
	/* Bound to loopback: the trace streams stay on this machine. */
	snprintf(ctrl, sizeof(ctrl), "tcp://%s:%d", OFFRX_SESSION_RELAYD_HOST,
		 OFFRX_SESSION_RELAYD_CTRL_PORT);
	snprintf(data, sizeof(data), "tcp://%s:%d", OFFRX_SESSION_RELAYD_HOST,
		 OFFRX_SESSION_RELAYD_DATA_PORT);
	snprintf(live, sizeof(live), "tcp://%s:%d", OFFRX_SESSION_RELAYD_HOST,
		 OFFRX_SESSION_RELAYD_LIVE_PORT);
	ret = spawn_daemon(argv, why, sizeof(why));
	if (ret) {
		errf(err, errlen,
		     "a live session needs a relay daemon on %s:%d and none could be started "
		     "(%s): start one with 'lttng-relayd --daemonize' or drop --live",
		     OFFRX_SESSION_RELAYD_HOST, OFFRX_SESSION_RELAYD_CTRL_PORT, why);
		return ret;
	}
	for (i = 0; i < 250; i++) {
		if (port_accepts(OFFRX_SESSION_RELAYD_CTRL_PORT) &&
		    port_accepts(OFFRX_SESSION_RELAYD_LIVE_PORT))
			break;
		sleep_ms(20);
	}
	if (i == 250) {
		errf(err, errlen,
		     "started lttng-relayd but %s:%d and :%d do not accept connections after 5 s: "
		     "check 'pgrep -a lttng-relayd' and 'ss -ltnp | grep 534'",
		     OFFRX_SESSION_RELAYD_HOST, OFFRX_SESSION_RELAYD_CTRL_PORT,
		     OFFRX_SESSION_RELAYD_LIVE_PORT);
		return -ECONNREFUSED;
	}
	note(o, "started lttng-relayd --daemonize on %s (control %d, data %d, live %d)",
	     OFFRX_SESSION_RELAYD_HOST, OFFRX_SESSION_RELAYD_CTRL_PORT,
	     OFFRX_SESSION_RELAYD_DATA_PORT, OFFRX_SESSION_RELAYD_LIVE_PORT);
	return 0;
}

int offrx_session_live_url(const char *name, char *url, size_t len)
{
	char host[HOST_NAME_MAX + 1];

	/* The session daemon names its host to the relay daemon with gethostname(). */
	if (gethostname(host, sizeof(host)) < 0)
		return -errno;
	host[sizeof(host) - 1] = '\0';
	if ((size_t)snprintf(url, len, "net://localhost/host/%s/%s", host, name_or_default(name)) >=
	    len)
		return -ENAMETOOLONG;
	return 0;
}

/* Find a session by name: 0 and *s filled, -ENOENT, or another -errno. */
static int find_session(const char *name, struct lttng_session *s, char *err, size_t errlen)
{
	struct lttng_session *all = NULL;
	int n, i, ret = -ENOENT;

	n = lttng_list_sessions(&all);
	if (n < 0) {
		errf(err, errlen, "cannot list the sessions: %s%s", lttng_msg(n),
		     n == -LTTNG_ERR_EPERM ? ": run as root or join the 'tracing' group" : "");
		return lttng_to_errno(n);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(all[i].name, name) == 0) {
			*s = all[i];
			ret = 0;
			break;
		}
	}
	free(all);
	return ret;
}

static void unknown_session(const char *name, char *err, size_t errlen)
{
	errf(err, errlen, "no session named '%s': see the sessions with 'offrx-trace list'%s", name,
	     is_default_name(name) ? "" : ", or check --name");
}

static void session_exists(const char *name, char *err, size_t errlen)
{
	if (is_default_name(name))
		errf(err, errlen,
		     "session '%s' exists: stop it with 'offrx-trace stop' or pick --name", name);
	else
		errf(err, errlen,
		     "session '%s' exists: stop it with 'offrx-trace stop --name %s' or pick "
		     "another --name",
		     name, name);
}

static void fill_summary(const struct lttng_session *s, struct offrx_session_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", s->name);
	info->active = s->enabled;
	info->live = s->live_timer_interval > 0;
	info->live_timer_us = s->live_timer_interval;
	info->snapshot = s->snapshot_mode;
	snprintf(info->output, sizeof(info->output), "%s", s->path);
	if (!info->live || offrx_session_live_url(s->name, info->location, sizeof(info->location)))
		snprintf(info->location, sizeof(info->location), "%s", s->path);
	/* A snapshot session writes nothing until a snapshot: where those go. */
	if (info->snapshot &&
	    !offrx_fr_dir(s->name, info->location, sizeof(info->location), NULL, 0) &&
	    !info->output[0])
		snprintf(info->output, sizeof(info->output), "%s", info->location);
}

static const char *domain_name(enum lttng_domain_type t)
{
	switch (t) {
	case LTTNG_DOMAIN_KERNEL:
		return "kernel";
	case LTTNG_DOMAIN_UST:
		return "ust";
	case LTTNG_DOMAIN_JUL:
		return "jul";
	case LTTNG_DOMAIN_LOG4J:
		return "log4j";
	case LTTNG_DOMAIN_PYTHON:
		return "python";
	default:
		return "?";
	}
}

static const char *buffers_name(enum lttng_buffer_type t)
{
	switch (t) {
	case LTTNG_BUFFER_PER_PID:
		return "per-pid";
	case LTTNG_BUFFER_PER_UID:
		return "per-uid";
	case LTTNG_BUFFER_GLOBAL:
		return "global";
	default:
		return "?";
	}
}

static void fill_events(struct lttng_handle *h, const char *channel, char *buf, size_t len)
{
	struct lttng_event *ev = NULL;
	size_t used = 0;
	int n, i;

	buf[0] = '\0';
	n = lttng_list_events(h, channel, &ev);
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s%s", i ? "," : "", ev[i].name,
				 ev[i].enabled ? "" : " (disabled)");
	free(ev);
}

/* Channels of every domain of the session, with their loss counters. */
static int fill_channels(struct offrx_session_info *info, char *err, size_t errlen)
{
	struct lttng_domain *doms = NULL;
	int nd, d, ret = 0;

	nd = lttng_list_domains(info->name, &doms);
	if (nd < 0) {
		errf(err, errlen, "cannot list the domains of session '%s': %s", info->name,
		     lttng_msg(nd));
		return lttng_to_errno(nd);
	}
	for (d = 0; d < nd && !ret; d++) {
		struct lttng_channel *ch = NULL;
		struct lttng_handle *h;
		int nc, c;

		h = lttng_create_handle(info->name, &doms[d]);
		if (!h) {
			errf(err, errlen, "cannot get a handle on session '%s': out of memory",
			     info->name);
			ret = -ENOMEM;
			break;
		}
		nc = lttng_list_channels(h, &ch);
		if (nc < 0) {
			errf(err, errlen, "cannot list the channels of session '%s': %s",
			     info->name, lttng_msg(nc));
			ret = lttng_to_errno(nc);
		}
		for (c = 0; c < nc; c++) {
			struct offrx_session_channel *oc;

			if (info->nr_channels == OFFRX_SESSION_MAX_CHANNELS) {
				info->channels_cut = true;
				break;
			}
			oc = &info->channels[info->nr_channels++];
			snprintf(oc->name, sizeof(oc->name), "%s", ch[c].name);
			snprintf(oc->domain, sizeof(oc->domain), "%s", domain_name(doms[d].type));
			snprintf(oc->buffers, sizeof(oc->buffers), "%s",
				 buffers_name(doms[d].buf_type));
			oc->overwrite = ch[c].attr.overwrite == 1;
			oc->subbuf_size = ch[c].attr.subbuf_size;
			oc->num_subbuf = ch[c].attr.num_subbuf;
			if (lttng_channel_get_discarded_event_count(&ch[c], &oc->discarded))
				oc->discarded = 0;
			if (lttng_channel_get_lost_packet_count(&ch[c], &oc->lost_packets))
				oc->lost_packets = 0;
			fill_events(h, ch[c].name, oc->events, sizeof(oc->events));
		}
		free(ch);
		lttng_destroy_handle(h);
	}
	free(doms);
	return ret;
}

static int describe(const char *name, struct offrx_session_info *info, char *err, size_t errlen)
{
	struct lttng_session s;
	int ret;

	ret = find_session(name, &s, err, errlen);
	if (ret == -ENOENT)
		unknown_session(name, err, errlen);
	if (ret)
		return ret;
	fill_summary(&s, info);
	return fill_channels(info, err, errlen);
}

/* Stop, status and list never start a daemon: with none running there is no session. */
static int need_sessiond(const char *name, char *err, size_t errlen)
{
	int ret = sessiond_alive(err, errlen);

	if (ret < 0)
		return ret;
	if (ret == 0) {
		errf(err, errlen,
		     "no session daemon (lttng-sessiond) runs%s, so there is no session '%s': "
		     "start one with 'offrx-trace start'%s",
		     geteuid() ? " for this user" : "", name,
		     geteuid() ? ", or run as root if the session belongs to root" : "");
		return -ENOENT;
	}
	return 0;
}

/* An absolute output path: the session daemon may run in another directory. */
static int absolute_output(const char *output, char *abs, size_t len, char *err, size_t errlen)
{
	char cwd[PATH_MAX];

	if (output[0] == '/') {
		if ((size_t)snprintf(abs, len, "%s", output) >= len)
			goto too_long;
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		errf(err, errlen,
		     "cannot make output directory '%s' absolute: %s: give a path "
		     "starting with '/'",
		     output, strerror(errno));
		return -EINVAL;
	}
	if ((size_t)snprintf(abs, len, "%s/%s", cwd, output) >= len)
		goto too_long;
	return 0;
too_long:
	errf(err, errlen, "output directory '%s' is too long: use a shorter path", output);
	return -ENAMETOOLONG;
}

static int check_opts(const struct offrx_session_opts *o, char *err, size_t errlen)
{
	if (!is_pow2(o->subbuf_size) || o->subbuf_size < (uint64_t)sysconf(_SC_PAGESIZE)) {
		errf(err, errlen,
		     "sub-buffer size %llu is not a power of two of at least the page size (%ld): "
		     "use e.g. 1M, 4M or 8M",
		     (unsigned long long)o->subbuf_size, sysconf(_SC_PAGESIZE));
		return -EINVAL;
	}
	if (!is_pow2(o->num_subbuf)) {
		errf(err, errlen,
		     "sub-buffer count %llu is not a power of two: use e.g. 4, 8 or 16",
		     (unsigned long long)o->num_subbuf);
		return -EINVAL;
	}
	if (o->live && o->output) {
		errf(err, errlen,
		     "a live session has no output directory ('%s'): lttng-relayd writes its "
		     "trace; drop --output or --live",
		     o->output);
		return -EINVAL;
	}
	if (o->live && o->snapshot) {
		errf(err, errlen,
		     "a session is live or a flight recorder (snapshot mode), not both: drop "
		     "--live or --flight-recorder");
		return -EINVAL;
	}
	return 0;
}

/* Channel "offrx" (per-UID, discard mode, sized as asked) with events "offrx:*", started. */
static int setup_channel(const struct offrx_session_opts *o, char *err, size_t errlen)
{
	struct lttng_domain dom;
	struct lttng_channel *ch = NULL;
	struct lttng_event *ev = NULL;
	struct lttng_handle *h;
	int ret;

	memset(&dom, 0, sizeof(dom));
	dom.type = LTTNG_DOMAIN_UST;
	/* Per-PID buffers have an unfixed bug in 2.13; per-UID also survive a restarted engine. */
	dom.buf_type = LTTNG_BUFFER_PER_UID;
	h = lttng_create_handle(o->name, &dom);
	ch = lttng_channel_create(&dom);
	ev = lttng_event_create();
	if (!h || !ch || !ev) {
		errf(err, errlen, "cannot set up session '%s': out of memory", o->name);
		ret = -ENOMEM;
		goto out;
	}
	snprintf(ch->name, sizeof(ch->name), "%s", OFFRX_SESSION_CHANNEL);
	/* Discard mode: a full buffer drops new events and counts them, it never hides a loss.
	 * A flight recorder is a ring: the newest events overwrite the oldest. */
	ch->attr.overwrite = o->snapshot ? 1 : 0;
	ch->attr.subbuf_size = o->subbuf_size;
	ch->attr.num_subbuf = o->num_subbuf;
	ret = lttng_enable_channel(h, ch);
	if (ret < 0) {
		errf(err, errlen,
		     "cannot create channel '%s' (%llu sub-buffers of %llu bytes, per-UID%s) in "
		     "session '%s': %s%s",
		     OFFRX_SESSION_CHANNEL, (unsigned long long)o->num_subbuf,
		     (unsigned long long)o->subbuf_size, o->snapshot ? ", overwrite" : "", o->name,
		     lttng_msg(ret),
		     ret == -LTTNG_ERR_NOMEM ? ": that much per CPU does not fit: lower "
					       "--subbuf-size or --num-subbuf"
					     : "");
		ret = lttng_to_errno(ret);
		goto out;
	}
	ev->type = LTTNG_EVENT_TRACEPOINT;
	ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
	snprintf(ev->name, sizeof(ev->name), "%s", OFFRX_SESSION_EVENTS);
	ret = lttng_enable_event_with_exclusions(h, ev, OFFRX_SESSION_CHANNEL, NULL, 0, NULL);
	if (ret < 0) {
		errf(err, errlen, "cannot enable events '%s' in session '%s': %s",
		     OFFRX_SESSION_EVENTS, o->name, lttng_msg(ret));
		ret = lttng_to_errno(ret);
		goto out;
	}
	/* Connection ids are per engine process: the vpid (and the name, for people) tells the
	 * engines of one per-UID session apart. */
	static const enum lttng_event_context_type ctx_types[] = { LTTNG_EVENT_CONTEXT_VPID,
								   LTTNG_EVENT_CONTEXT_PROCNAME };
	for (size_t i = 0; i < sizeof(ctx_types) / sizeof(ctx_types[0]); i++) {
		struct lttng_event_context ctx;
		memset(&ctx, 0, sizeof(ctx));
		ctx.ctx = ctx_types[i];
		ret = lttng_add_context(h, &ctx, NULL, OFFRX_SESSION_CHANNEL);
		if (ret < 0) {
			errf(err, errlen, "cannot add the %s context to session '%s': %s",
			     i ? "procname" : "vpid", o->name, lttng_msg(ret));
			ret = lttng_to_errno(ret);
			goto out;
		}
	}
	ret = lttng_start_tracing(o->name);
	if (ret < 0) {
		if (ret == -LTTNG_ERR_CREATE_DIR_FAIL)
			errf(err, errlen,
			     "cannot start session '%s': the session daemon cannot create its "
			     "trace "
			     "directory %s: pick one it may write to with --output",
			     o->name, o->output ? o->output : "under its $HOME/lttng-traces");
		else
			errf(err, errlen, "cannot start session '%s': %s", o->name, lttng_msg(ret));
		ret = lttng_to_errno(ret);
		goto out;
	}
	ret = 0;
out:
	lttng_event_destroy(ev);
	lttng_channel_destroy(ch);
	lttng_destroy_handle(h);
	return ret;
}

/* The relay daemon must be reachable from the session daemon. A caller in another network
 * namespace (offrx-recv in a test namespace) must not probe for it or start it there, where it
 * would listen on that namespace's loopback: do that part in the session daemon's namespace.
 * setns() moves only this thread, and we move it back. */
static int enter_netns_of(long pid, int *saved)
{
	char path[64];
	struct stat self, target;
	*saved = -1;
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
	if (stat("/proc/thread-self/ns/net", &self) || stat(path, &target) ||
	    (self.st_ino == target.st_ino && self.st_dev == target.st_dev))
		return 0;
	int back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;
	if (back < 0 || fd < 0 || setns(fd, CLONE_NEWNET))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret) {
		if (back >= 0)
			close(back);
		return ret;
	}
	*saved = back;
	return 0;
}

static int enter_sessiond_netns(int *saved)
{
	return enter_netns_of(sessiond_pid(), saved);
}

static void leave_sessiond_netns(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET))
		abort(); /* running on in the wrong namespace would be worse */
	close(saved);
}

int offrx_session_start(const struct offrx_session_opts *opts, char *location, size_t len,
			char *err, size_t errlen)
{
	struct lttng_session_descriptor *desc = NULL;
	struct offrx_session_opts o;
	char ctrl_url[64], output[PATH_MAX];
	struct lttng_session s;
	int ret;

	if (!opts || opts->size == 0) {
		errf(err, errlen,
		     "offrx_session_opts.size is 0: set it to "
		     "sizeof(struct offrx_session_opts)");
		return -EINVAL;
	}
	/* Fields past the caller's size are the caller's defaults: zero. */
	memset(&o, 0, sizeof(o));
	memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	o.name = name_or_default(o.name);
	if (!o.live_timer_us)
		o.live_timer_us = OFFRX_SESSION_DEFAULT_LIVE_TIMER_US;
	if (!o.subbuf_size)
		o.subbuf_size = OFFRX_SESSION_DEFAULT_SUBBUF_SIZE;
	if (!o.num_subbuf)
		o.num_subbuf = OFFRX_SESSION_DEFAULT_NUM_SUBBUF;
	ret = check_name(o.name, err, errlen);
	if (!ret)
		ret = check_opts(&o, err, errlen);
	if (!ret && o.output) {
		ret = absolute_output(o.output, output, sizeof(output), err, errlen);
		o.output = output;
	}
	if (ret)
		return ret;

	ret = sessiond_ensure(&o, err, errlen);
	if (ret)
		return ret;
	ret = find_session(o.name, &s, err, errlen);
	if (ret == 0) {
		session_exists(o.name, err, errlen);
		return -EEXIST;
	}
	if (ret != -ENOENT)
		return ret;
	if (o.live) {
		int saved;
		ret = enter_sessiond_netns(&saved);
		if (ret) {
			errf(err, errlen,
			     "this process runs in another network namespace than the session "
			     "daemon and cannot enter its (%s): start lttng-relayd next to the "
			     "session daemon first",
			     strerror(-ret));
			return ret;
		}
		ret = relayd_ensure(&o, err, errlen);
		leave_sessiond_netns(saved);
		if (ret)
			return ret;
		snprintf(ctrl_url, sizeof(ctrl_url), "net://%s", OFFRX_SESSION_RELAYD_HOST);
		desc = lttng_session_descriptor_live_network_create(o.name, ctrl_url, NULL,
								    o.live_timer_us);
	} else if (o.snapshot) {
		desc = lttng_session_descriptor_snapshot_local_create(o.name, o.output);
	} else {
		desc = lttng_session_descriptor_local_create(o.name, o.output);
	}
	if (!desc) {
		errf(err, errlen, "cannot describe session '%s': invalid name or output '%s'",
		     o.name, o.output ? o.output : "(default)");
		return -EINVAL;
	}
	ret = lttng_create_session_ext(desc);
	lttng_session_descriptor_destroy(desc);
	if (ret != LTTNG_OK) {
		if (ret == LTTNG_ERR_EXIST_SESS)
			session_exists(o.name, err, errlen);
		else if (o.live)
			errf(err, errlen, "cannot create live session '%s' streaming to %s: %s",
			     o.name, ctrl_url, lttng_msg(ret));
		else
			errf(err, errlen, "cannot create session '%s' writing to %s: %s%s", o.name,
			     o.output ? o.output : "the default directory", lttng_msg(ret),
			     o.output ? ": check that the session daemon may create it" : "");
		return lttng_to_errno(ret);
	}

	ret = setup_channel(&o, err, errlen);
	if (ret)
		goto out_destroy;
	if (o.live) {
		ret = offrx_session_live_url(o.name, location, len);
	} else if (o.snapshot) {
		ret = offrx_fr_dir(o.name, location, len, err, errlen);
		if (ret)
			goto out_destroy;
	} else {
		ret = find_session(o.name, &s, err, errlen);
		if (!ret)
			snprintf(location, len, "%s", s.path);
	}
	if (ret) {
		errf(err, errlen, "session '%s' started but cannot say where its trace goes: %s",
		     o.name, strerror(-ret));
		goto out_destroy;
	}
	return 0;
out_destroy:
	lttng_destroy_session(o.name);
	return ret;
}

int offrx_session_stop(const char *name, bool keep, struct offrx_session_info *info, char *err,
		       size_t errlen)
{
	struct offrx_session_info local;
	int ret;

	name = name_or_default(name);
	if (!info)
		info = &local;
	ret = need_sessiond(name, err, errlen);
	if (ret)
		return ret;
	ret = describe(name, info, err, errlen);
	if (ret)
		return ret;
	ret = lttng_stop_tracing(name);
	if (ret < 0 && ret != -LTTNG_ERR_TRACE_ALREADY_STOPPED) {
		errf(err, errlen, "cannot stop session '%s': %s", name, lttng_msg(ret));
		return lttng_to_errno(ret);
	}
	/* The counters are final once the session is stopped, and gone once destroyed. */
	ret = describe(name, info, err, errlen);
	if (ret)
		return ret;
	if (keep)
		return 0;
	ret = lttng_destroy_session(name);
	if (ret < 0) {
		errf(err, errlen,
		     "session '%s' is stopped but cannot be destroyed: %s: try "
		     "'lttng destroy %s'",
		     name, lttng_msg(ret), name);
		return lttng_to_errno(ret);
	}
	return 0;
}

int offrx_session_status(const char *name, struct offrx_session_info *info, char *err,
			 size_t errlen)
{
	int ret;

	name = name_or_default(name);
	ret = need_sessiond(name, err, errlen);
	if (ret)
		return ret;
	return describe(name, info, err, errlen);
}

int offrx_session_list(struct offrx_session_info **list, char *err, size_t errlen)
{
	struct lttng_session *all = NULL;
	int n, i, ret;

	*list = NULL;
	ret = sessiond_alive(err, errlen);
	if (ret <= 0)
		return ret;
	n = lttng_list_sessions(&all);
	if (n < 0) {
		errf(err, errlen, "cannot list the sessions: %s%s", lttng_msg(n),
		     n == -LTTNG_ERR_EPERM ? ": run as root or join the 'tracing' group" : "");
		return lttng_to_errno(n);
	}
	if (n > 0) {
		*list = calloc((size_t)n, sizeof(**list));
		if (!*list) {
			free(all);
			errf(err, errlen, "cannot list %d sessions: out of memory", n);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++)
		fill_summary(&all[i], &(*list)[i]);
	free(all);
	return n;
}

int offrx_session_reap(const char *prefix, void (*stopped)(const char *name, void *ctx), void *ctx)
{
	struct offrx_session_info *list = NULL;
	char err[512];
	size_t plen = strlen(prefix);
	int n = offrx_session_list(&list, err, sizeof(err)), count = 0;

	for (int i = 0; i < n; i++) {
		const char *name = list[i].name;
		int pid = 0;
		char rest = 0;
		if (strncmp(name, prefix, plen) || name[plen] != '-' ||
		    sscanf(name + plen + 1, "%d%c", &pid, &rest) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or someone else's */
		if (offrx_session_stop(name, false, NULL, err, sizeof(err)) == 0) {
			count++;
			if (stopped)
				stopped(name, ctx);
		}
	}
	free(list);
	return count;
}
