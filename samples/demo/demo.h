/* offrx-demo: the project's front door. The engine runs in this process (its thread inside the
 * engine namespace), kernel senders run in the peer namespace, and offrx-view shows the live
 * trace. This header is what the demo's parts share: options, the pattern table, the state.
 */
#ifndef OFFRX_DEMO_H
#define OFFRX_DEMO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <offrx/offrx.h>

#define DEMO_PROG	  "offrx-demo"
#define DEMO_ENG_ADDR	  "10.77.0.1" /* eng0 in scripts/netns */
#define DEMO_MAX_DEPTH	  8
#define DEMO_FILL_RING	  64 /* first-fill times of recent requests; > DEMO_MAX_DEPTH */
#define DEMO_CONN_SLOTS	  8192
#define DEMO_EXIT_FAIL	  1
#define DEMO_EXIT_USAGE	  2
#define DEMO_EXIT_MISSING 3 /* this machine cannot run the demo: not root, a tool, AF_XDP */

/* One traffic pattern: the local port it uses and the requests the application posts there.
 * The engine decides per connection from its local port. */
enum demo_pattern { P_BULK, P_CHAT, P_TRICKLE, P_NOPUSH, P_CHURN, P_COUNT };

struct demo_pattern_cfg {
	const char *name;
	uint16_t port;
	uint32_t buf_size;
	uint32_t depth;
	uint32_t flags; /* OFFRX_REQ_NO_PUSH */
	const char *what;
};

extern const struct demo_pattern_cfg demo_patterns[P_COUNT];

/* What one pattern added up to, from the engine's observer and connection counters. The
 * latency of a request is from its first byte to its completion (how long data that had
 * arrived waited for the application); the timer part is, for push-timer completions, the time
 * after the last byte (what the push timer added). */
struct demo_agg {
	uint64_t conns, bytes;
	uint64_t completed_by[OFFRX_COMPLETE_REASONS];
	uint64_t lat_n, lat_sum_ns, lat_max_ns;
	uint64_t timer_n, timer_sum_ns, timer_max_ns;
};

/* A connection that closed: what the engine received and how. */
struct demo_result {
	uint64_t id;
	enum demo_pattern pattern;
	uint32_t queue; /* the receive queue the connection lived on */
	uint64_t bytes, completed, completed_by[OFFRX_COMPLETE_REASONS];
	char sha[65], local[80], remote[80], closed_by[16];
	const char *match; /* report: "ok", "MISMATCH", or NULL (not compared) */
	struct demo_result *next;
};

/* A stream one sender process says it sent (its --json line). */
struct demo_stream {
	enum demo_pattern pattern;
	uint64_t bytes;
	char sha[65];
	bool failed, used;
};

struct demo_opts {
	bool headless;
	double duration; /* seconds; 0: until q or Ctrl-C (interactive) */
	int scenario;	 /* -1: every pattern */
	uint32_t push_timer_ms;
	double bulk_mib;    /* bulk rate per connection, MiB/s */
	const char *record; /* a normal (not live) session writing here */
	const char *prefix; /* namespace prefix */
	const char *json;   /* headless: the report as JSON, to this file */
	bool no_color;
	bool keep_caps;		      /* the engine thread keeps its capabilities */
	uint32_t trace_payload_bytes; /* offrx:segment_payload: first N bytes per segment */
	uint32_t queues;	      /* the veth's rx queues, the engine on every one */
};

/* A child process the demo started and must stop. */
struct demo_child {
	pid_t pid;
	enum demo_pattern pattern;
	bool viewer;
};

#define DEMO_MAX_CHILDREN 256
#define DEMO_MAX_QUEUES	  8

struct demo {
	struct demo_opts o;
	char work[64]; /* private temp dir: sender output, logs; removed at exit */
	char eng_ns[64], peer_ns[64];
	char session[64];
	char location[4096];  /* live URL or trace directory, as the session library says */
	char trace_dir[4096]; /* the recorded trace, once found */
	char summary_path[4200], chrome_path[4200];
	pid_t pid;
	double t_start;

	/* tools */
	char send_bin[4096], view_bin[4096], export_bin[4096], netns_script[4096];

	/* what was set up, so teardown undoes exactly that */
	bool netns_up, session_up, engine_up;
	long sessiond_pid; /* > 0: started by this demo */
	pid_t relayd_pids[8];
	int nrelayd; /* relay daemons this demo started */

	struct demo_child children[DEMO_MAX_CHILDREN];
	int nchildren;
	unsigned churn_runs;
	pid_t viewer_pid;
	int viewer_status;    /* its wait status once it exited */
	bool viewer_active;   /* the terminal is the viewer's: no printing */
	long viewer_log_from; /* demo.log offset when the viewer took the terminal */
	const char *argv0;

	/* the engine thread */
	pthread_t thread;
	struct offrx_engine *eng;
	volatile int engine_stop;
	volatile int engine_state; /* 0 starting, 1 running, -1 failed */
	volatile int engine_failed_mid_run;
	pthread_mutex_t lock; /* results, log */
	pthread_cond_t cond;
	char engine_err[1024];
	int open_conns;
	uint64_t conns_total;
	struct demo_result *results, **results_tail;
	struct demo_agg agg[P_COUNT];
	uint64_t drops_total;
	/* Per receive queue, read before the engine is destroyed (offrx_engine_queue_stats). */
	uint32_t nqueues;
	struct demo_queue {
		uint32_t queue, conns_total, zerocopy;
		uint64_t rx_frames, moved;
	} queues[DEMO_MAX_QUEUES];
	char drops_text[512]; /* the non-zero drop counters, by reason */
	int log_fd;
};

/* engine.c: the engine thread */
int demo_engine_start(struct demo *d);
void demo_engine_stop(struct demo *d);
int demo_open_conns(struct demo *d);

/* procs.c: children, tools, namespaces */
struct demo_spawn {
	char *const *argv;
	const char *netns;  /* /run/netns/NAME to enter before exec, or NULL */
	int out_fd, err_fd; /* -1: /dev/null */
	bool own_pgrp;	    /* not in the terminal's process group: Ctrl-C is ours to handle */
	bool keep_stdin;    /* the viewer reads the terminal; everyone else gets /dev/null */
};
pid_t demo_spawn(const struct demo_spawn *s);
int demo_run(char *const argv[], const char *log_path, double timeout_s);
bool demo_find_tool(char *out, size_t len, bool in_build, const char *rel, const char *name);
bool demo_in_path(const char *name);
pid_t demo_ns_user(const char *ns_path);
bool demo_proc_alive(pid_t pid, const char *comm);
int demo_pids_of(const char *comm, pid_t *out, int max);
void demo_sleep(double s);
double demo_now(void);

/* trace.c: daemons, the session, finding the trace, exporting it */
int demo_trace_start(struct demo *d);
void demo_trace_stop(struct demo *d);
void demo_stop_daemons(struct demo *d);
void demo_trace_find(struct demo *d);
void demo_trace_export(struct demo *d);
void demo_stale_sessions(struct demo *d);

/* report.c */
int demo_report(struct demo *d, bool compare);

void demo_say(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* OFFRX_DEMO_H */
