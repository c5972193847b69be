/* offrx flight recorder: a snapshot-mode session whose in-memory ring keeps the last few seconds
 * of offrx events, and LTTng 2.13 triggers that save a snapshot of it when an offrx:complete
 * matches a condition ("wait > 150ms"). Used by offrx-trace (start/stop/status --flight-recorder)
 * and by offrx-view (the newest snapshot, for its header). Nothing here prints.
 */
#ifndef OFFRX_FLIGHT_H
#define OFFRX_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * The ring's sizing: keep x rate x OFFRX_FR_EVENT_BYTES per CPU. 58 bytes per event were
 * measured on samples/traces/demo-mix (1,576,960 bytes of stream files for 27,184 events, vpid
 * and procname context included; event set 1, before fills were batched: set 2's fill is 12
 * bytes longer, and rarer); 64 leaves room for the larger events. The default rate is
 * about one connection at 100 Mbit/s whose segments arrive one at a time (an event or two per
 * 1448-byte segment); bulk in large receive batches makes far fewer per byte. Measure
 * your own with a normal session and pass --rate (offrx-trace(1), "FLIGHT RECORDER").
 */
#define OFFRX_FR_EVENT_BYTES	 64ULL
#define OFFRX_FR_DEFAULT_RATE	 20000ULL
#define OFFRX_FR_DEFAULT_KEEP_NS 30000000000LL
#define OFFRX_FR_MAX_RING	 (4ULL << 30) /* per CPU */
#define OFFRX_FR_MAX_TRIGGERS	 8
#define OFFRX_FR_EVENT		 "offrx:complete"
/* Trigger names: PREFIX SESSION ":" WATCHER-PID ":" CONDITION */
#define OFFRX_FR_TRIGGER_PREFIX "offrx-fr:"

/* One --trigger condition, parsed. */
struct offrx_fr_cond {
	char text[256];	  /* as the person wrote it, spaced: "wait > 150ms && reason == psh" */
	char filter[512]; /* the LTTng filter on offrx:complete's fields */
	char cause[160];  /* the snapshot directories' prefix: "wait-gt-150ms+reason-eq-psh" */
};

/*
 * Parse "FIELD OP VALUE [&& FIELD OP VALUE ...]" ("and" for "&&"; OP: > >= < <= == !=). The
 * fields are offrx:complete's: wait (post_to_complete_ns), idle (last_fill_to_complete_ns),
 * reason, status, bytes, placed, conn, req, port (local_port). 0, or -EINVAL with a sentence
 * in err.
 */
int offrx_fr_parse(const char *s, struct offrx_fr_cond *c, char *err, size_t errlen);

/* The ring for keep_ns at rate events/s: sub-buffers per CPU, and what they hold. */
struct offrx_fr_ring {
	uint64_t subbuf_size, num_subbuf; /* per CPU, both powers of two */
	uint64_t need;			  /* bytes: keep x rate x OFFRX_FR_EVENT_BYTES */
	double held_s;			  /* (num_subbuf - 1) x subbuf_size at that rate */
};
int offrx_fr_ring(int64_t keep_ns, uint64_t rate, struct offrx_fr_ring *r, char *err,
		  size_t errlen);

/*
 * Register the trigger of c for session: offrx:complete with c->filter saves a snapshot of the
 * session in dir, named CAUSE-YYYYMMDD-HHMMSS-N, once (rate policy once after 1) until it is
 * armed again (rearm: the old one is unregistered first). watcher_pid names the process that
 * arms it again (offrx_fr_watch).
 */
int offrx_fr_arm(const char *session, long watcher_pid, const char *dir,
		 const struct offrx_fr_cond *c, bool rearm, char *err, size_t errlen);

/* The flight-recorder triggers of a session (or of all sessions: session NULL). */
struct offrx_fr_trigger {
	char session[256];
	long watcher_pid;
	char cond[256];
};
/* *list malloc'd; returns the count or -errno. */
int offrx_fr_triggers(const char *session, struct offrx_fr_trigger **list, char *err,
		      size_t errlen);
/* Unregister them all: the count, or -errno. */
int offrx_fr_disarm(const char *session, char *err, size_t errlen);

/* Is pid a watcher of session (its command line says so)? */
bool offrx_fr_is_watcher(long pid, const char *session);

/* The snapshots saved in a directory, oldest first. */
struct offrx_fr_snapshot {
	char path[4096];
	char cause[160];
	time_t when; /* from the name: the session daemon's local time */
	uint64_t seq;
};
/* *list malloc'd (NULL when none); the count, or -errno (a directory that does not exist: 0). */
int offrx_fr_snapshots(const char *dir, struct offrx_fr_snapshot **list);
/* CAUSE-YYYYMMDD-HHMMSS-N: fills s (but path), true; false if name is not one. */
bool offrx_fr_snapshot_name(const char *name, struct offrx_fr_snapshot *s);

/* The directory a snapshot-mode session saves to. */
int offrx_fr_dir(const char *session, char *dir, size_t len, char *err, size_t errlen);

/*
 * The newest snapshot of any snapshot-mode session whose name starts with "offrx": 1 (s and
 * session filled), 0 none, or -errno. Starts no session daemon.
 */
int offrx_fr_latest(struct offrx_fr_snapshot *s, char *session, size_t len);

/*
 * The watcher: until session is gone, arm each condition's trigger again interval_ns after it
 * saved a snapshot (LTTng's rate policies count events, they know no time), so a storm saves
 * one snapshot per interval per trigger. At the end it unregisters the triggers it armed.
 */
int offrx_fr_watch(const char *session, const char *dir, int64_t interval_ns,
		   const struct offrx_fr_cond *c, size_t n);

#endif /* OFFRX_FLIGHT_H */
