/* offrx-demo's processes: children started into a namespace, the tools it runs found next to it
 * or in the build tree, and the questions it asks /proc (is this namespace in use, is that
 * daemon still there).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

double demo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void demo_sleep(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL); /* a signal cuts it short, which is what the callers want */
}

/* fork + exec. Between the two the child may only make async-signal-safe calls: the engine
 * thread runs on in the parent. The child dies with the demo (PR_SET_PDEATHSIG), so a killed
 * demo leaves no sender running. */
pid_t demo_spawn(const struct demo_spawn *s)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return pid;
	}
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (s->own_pgrp)
		setpgid(0, 0);
	int null = open("/dev/null", O_RDWR);
	if (!s->keep_stdin)
		dup2(null, STDIN_FILENO);
	if (s->out_fd >= 0 || s->err_fd >= 0) {
		dup2(s->out_fd >= 0 ? s->out_fd : null, STDOUT_FILENO);
		dup2(s->err_fd >= 0 ? s->err_fd : null, STDERR_FILENO);
	}
	if (s->netns) {
		int fd = open(s->netns, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			static const char msg[] = DEMO_PROG ": cannot enter a namespace\n";
			ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
			(void)w;
			_exit(127);
		}
	}
	/* The engine's AF_XDP socket and the demo's files are not the child's business. */
	close_range(3, ~0U, 0);
	execvp(s->argv[0], s->argv);
	_exit(127);
}

/* Run a command to its end (at most timeout_s), its output to log_path. Returns its exit
 * status, or -1 if it could not run or was stopped. */
int demo_run(char *const argv[], const char *log_path, double timeout_s)
{
	int fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	struct demo_spawn s = { .argv = argv, .out_fd = fd, .err_fd = fd, .own_pgrp = true };
	pid_t pid = demo_spawn(&s);
	double t0 = demo_now();
	int status = 0;

	if (fd >= 0)
		close(fd);
	if (pid < 0)
		return -1;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (demo_now() - t0 > timeout_s) {
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
			return -1;
		}
		demo_sleep(0.02);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

bool demo_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n &&
		    (size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name) <
			    sizeof(buf) &&
		    executable(buf))
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* A file of the tree. Built programs (in_build): $OFFRX_BIN/REL, then this binary's own build
 * tree (build/samples/demo -> build), then the tree it was built in. Scripts: $OFFRX_SRC/REL,
 * then the source tree it was built from. Last, NAME in $PATH. */
bool demo_find_tool(char *out, size_t len, bool in_build, const char *rel, const char *name)
{
	const char *e = getenv(in_build ? "OFFRX_BIN" : "OFFRX_SRC");
	const char *tree = in_build ? OFFRX_DEMO_BUILD_DIR : OFFRX_DEMO_SOURCE_DIR;
	char exe[PATH_MAX];
	ssize_t n;

	if (e && *e && (size_t)snprintf(out, len, "%s/%s", e, rel) < len && executable(out))
		return true;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (in_build && n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, len, "%s/../../%s", exe, rel) < len &&
			    executable(out))
				return true;
		}
	}
	if ((size_t)snprintf(out, len, "%s/%s", tree, rel) < len && executable(out))
		return true;
	if (name && demo_in_path(name)) {
		snprintf(out, len, "%s", name);
		return true;
	}
	snprintf(out, len, "%s/%s", tree, rel); /* for the message */
	return false;
}

/* Any process with a thread in the namespace at ns_path: its pid, or 0. */
pid_t demo_ns_user(const char *ns_path)
{
	struct stat target, st;
	char path[600];
	struct dirent *p, *t;
	DIR *procs, *tasks;
	pid_t found = 0;

	if (stat(ns_path, &target))
		return 0;
	procs = opendir("/proc");
	if (!procs)
		return 0;
	while (!found && (p = readdir(procs))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		tasks = opendir(path);
		if (!tasks)
			continue;
		while ((t = readdir(tasks))) {
			if (t->d_name[0] < '0' || t->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", p->d_name,
				 t->d_name);
			if (stat(path, &st) == 0 && st.st_ino == target.st_ino &&
			    st.st_dev == target.st_dev) {
				found = (pid_t)atoi(p->d_name);
				break;
			}
		}
		closedir(tasks);
	}
	closedir(procs);
	return found;
}

static bool comm_is(pid_t pid, const char *comm)
{
	char path[64], buf[64];
	FILE *f;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ok = strcmp(buf, comm) == 0;
	}
	fclose(f);
	return ok;
}

bool demo_proc_alive(pid_t pid, const char *comm)
{
	if (pid <= 0 || kill(pid, 0) != 0)
		return false;
	return !comm || comm_is(pid, comm);
}

int demo_pids_of(const char *comm, pid_t *out, int max)
{
	DIR *procs = opendir("/proc");
	struct dirent *p;
	int n = 0;

	if (!procs)
		return 0;
	while ((p = readdir(procs)) && n < max) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		pid_t pid = (pid_t)atoi(p->d_name);
		if (comm_is(pid, comm))
			out[n++] = pid;
	}
	closedir(procs);
	return n;
}
