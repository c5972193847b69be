/* offrx_session: LTTng session control for offrx traces, through liblttng-ctl. Used by
 * offrx-trace and by offrx-recv --trace; nothing here prints: messages go to the caller.
 */
#ifndef OFFRX_SESSION_H
#define OFFRX_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFFRX_SESSION_DEFAULT_NAME "offrx"
#define OFFRX_SESSION_CHANNEL	   "offrx"
#define OFFRX_SESSION_EVENTS	   "offrx:*"
/* Sized for the engine at full rate; see offrx-trace start --help for the reasoning. */
#define OFFRX_SESSION_DEFAULT_SUBBUF_SIZE   (4ULL << 20)
#define OFFRX_SESSION_DEFAULT_NUM_SUBBUF    8ULL
#define OFFRX_SESSION_DEFAULT_LIVE_TIMER_US 100000U
/* The local relay daemon offrx-trace starts (and expects) for live sessions. */
#define OFFRX_SESSION_RELAYD_HOST      "127.0.0.1"
#define OFFRX_SESSION_RELAYD_CTRL_PORT 5342
#define OFFRX_SESSION_RELAYD_DATA_PORT 5343
#define OFFRX_SESSION_RELAYD_LIVE_PORT 5344
#define OFFRX_SESSION_MAX_CHANNELS     16

/*
 * What to create. Zero everything, set .size = sizeof(struct offrx_session_opts), then set
 * what differs from the defaults: the size lets the struct grow without breaking callers.
 */
struct offrx_session_opts {
	size_t size;
	const char *name;	    /* NULL: "offrx" */
	const char *output;	    /* normal sessions; NULL: $HOME/lttng-traces/NAME-DATE-TIME */
	bool live;		    /* stream to a local relayd, read with babeltrace2 lttng-live */
	unsigned int live_timer_us; /* 0: 100000 (100 ms) */
	uint64_t subbuf_size;	    /* bytes per sub-buffer, power of two; 0: 4 MiB */
	uint64_t num_subbuf;	    /* sub-buffers per CPU, power of two; 0: 8 */
	/* Told each daemon that was started, in a sentence; NULL: not told. */
	void (*note)(void *arg, const char *msg);
	void *note_arg;
	/* Flight recorder (flight.h): a snapshot-mode session, its channel in overwrite mode (an
	 * in-memory ring); output is where the snapshots go. Not with live. */
	bool snapshot;
};

struct offrx_session_channel {
	char name[256];
	char domain[16];       /* "ust", "kernel", ... */
	char buffers[16];      /* "per-uid", "per-pid", "global" */
	bool overwrite;	       /* flight-recorder mode: old packets overwritten, not counted */
	uint64_t subbuf_size;  /* bytes */
	uint64_t num_subbuf;   /* per CPU */
	uint64_t discarded;    /* events dropped because the sub-buffers were full */
	uint64_t lost_packets; /* packets that never reached the trace */
	char events[256];      /* enabled event rules, comma-separated (may be cut short) */
};

struct offrx_session_info {
	char name[256];
	bool active; /* tracing started */
	bool live;
	bool snapshot; /* flight recorder: location is where its snapshots go */
	unsigned int live_timer_us;
	char output[4096];   /* what the session daemon says: a path or tcp4://HOST:PORT/... */
	char location[4096]; /* where to read it: the trace directory, or the lttng-live URL */
	unsigned int nr_channels;
	bool channels_cut; /* more than OFFRX_SESSION_MAX_CHANNELS channels */
	struct offrx_session_channel channels[OFFRX_SESSION_MAX_CHANNELS];
};

/*
 * All functions return 0 or a negative errno, and on error write a sentence for a person
 * (what happened, the value, what to do) to err. The errno tells the kind:
 *   -EINVAL bad option value   -EEXIST session exists       -ENOENT no such session
 *   -EACCES not allowed        -ECONNREFUSED no session daemon (or relayd) and none could
 *   be started                 -EIO anything else the session daemon refused
 */

/*
 * Create and start a session: UST channel "offrx" with per-UID buffers in discard mode (overwrite
 * for a snapshot session), events "offrx:*". Starts lttng-sessiond (and lttng-relayd for live)
 * when none answers. location gets the trace directory (normal), the lttng-live URL (live) or
 * the directory snapshots are saved to (snapshot).
 */
int offrx_session_start(const struct offrx_session_opts *o, char *location, size_t len, char *err,
			size_t errlen);

/*
 * Stop a session (an already stopped one is fine), fill info with its channels' final
 * counts, then destroy it unless keep. name NULL: "offrx". info may be NULL.
 */
int offrx_session_stop(const char *name, bool keep, struct offrx_session_info *info, char *err,
		       size_t errlen);

/* Describe one session. name NULL: "offrx". */
int offrx_session_status(const char *name, struct offrx_session_info *info, char *err,
			 size_t errlen);

/*
 * All sessions the session daemon knows (channels not filled in). *list is malloc'd, free
 * it with free(); returns the count (>= 0; 0 when no session daemon runs) or -errno.
 */
int offrx_session_list(struct offrx_session_info **list, char *err, size_t errlen);

/*
 * Stop the sessions a run killed outright left recording: those named PREFIX-PID (as
 * "offrx-recv-1234") whose process is gone. A per-UID session records every later engine of
 * the user too. Calls stopped(name, ctx) for each one stopped (NULL: none). Returns how many
 * were stopped; starts no session daemon.
 */
int offrx_session_reap(const char *prefix, void (*stopped)(const char *name, void *ctx), void *ctx);

/* The URL babeltrace2 reads a live session from: net://localhost/host/HOSTNAME/NAME */
int offrx_session_live_url(const char *name, char *url, size_t len);

#endif /* OFFRX_SESSION_H */
