/* otr_reader: offrx traces read through babeltrace2, offline (a trace directory) or live (an
 * lttng-relayd URL), handed out as decoded struct otr_event. The only code that sees bt_*
 * types; a worker thread runs the graph, the consumer pulls events from a bounded queue (the
 * worker waits when it is full: nothing is dropped). Behaviour in detail: README.md here. */
#ifndef OFFRX_READER_H
#define OFFRX_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_event.h"

/* Events the queue holds when opts.queue_events is 0. An event is about 1.6 KiB (a conn_state
 * lists 64 requests), so this is some 13 MiB. */
#define OTR_READER_DEFAULT_QUEUE 8192
/* How long a live reader waits at first for a session the relayd does not list. */
#define OTR_READER_DEFAULT_SESSION_WAIT_MS 10000

struct otr_reader;

/*
 * What to read. Zero it, set .sz = sizeof(struct otr_reader_opts) and .input, then what
 * differs from the defaults: the size lets the struct grow without breaking callers.
 */
struct otr_reader_opts {
	size_t sz;
	/* A trace directory, searched recursively (every directory holding a `metadata` file is
	 * one CTF trace; all are read, merged in time order), or a live session's URL
	 * net://HOST[:PORT]/host/HOSTNAME/SESSION (port 5344 by default). lttng-relayd serves
	 * one viewer per session: a second reader of the same session is refused. */
	const char *input;
	uint32_t queue_events; /* bounded queue capacity; 0: OTR_READER_DEFAULT_QUEUE */
	/* Live: when the relayd goes away (or the graph ends while the session still exists),
	 * report OTR_SRC_LOST and attach again with backoff, forever. false: OTR_SRC_ERROR and
	 * the reader stops. */
	bool no_live_reconnect;
	/* Live: how long to wait for the session when the relayd does not list it (yet) before
	 * giving up with -ENOENT; 0: OTR_READER_DEFAULT_SESSION_WAIT_MS, < 0: forever. */
	int32_t session_wait_ms;
	/* babeltrace2's own log lines on stderr (warnings and errors); off by default, the
	 * reader's error sentences say what happened. */
	bool bt_verbose;
};

/*
 * Open a reader and start its worker. Offline, the trace's metadata is read here, so a
 * missing directory, a directory without a CTF trace or damaged metadata fail now. Live, the
 * relayd is asked for its sessions here: an unreachable relayd fails now (a session it does
 * not list yet is waited for, see session_wait_ms). Returns 0 or a negative errno, with a
 * sentence in err:
 *   -ENOENT no such directory   -ENOTDIR not a directory   -EINVAL bad URL or options
 *   -ENODATA no CTF trace under the directory   -EIO babeltrace2 cannot read the trace
 *   -ECONNREFUSED no relayd at the URL   -ENOPKG babeltrace2's plugins missing   -ENOMEM
 */
int otr_reader_open(const struct otr_reader_opts *o, struct otr_reader **out, char *err,
		    size_t errlen);

/*
 * The next event, waiting at most timeout_ms (< 0: no limit; call it from one thread). Returns
 * 1 with *ev set (its common fields and the u member of its kind: the other u members are left
 * as they were), 0 on timeout (a live source is idle), or, once the queue is empty after the
 * source stopped (and again on every later call):
 *   -ENODATA  the offline trace ended, or the live session was destroyed (after an
 *             OTR_SRC_END event)
 *   -ENOMSG   the offline trace held no offrx event at all (wrong trace?)
 *   -ENOENT   live: the session did not appear within session_wait_ms
 *   -EIO      babeltrace2 failed to read on (corrupt trace; the relayd lost with
 *             no_live_reconnect), or the trace had damaged stream files and what was whole
 *             of them has been read (otr_reader_damage() lists them)
 * The errors come after an OTR_SOURCE event in state OTR_SRC_ERROR; otr_reader_error() has
 * the whole sentence (u.source.msg is cut to its 160 bytes). OTR_SOURCE events carry the time
 * of the last event before them (0 before any).
 */
int otr_reader_next(struct otr_reader *r, struct otr_event *ev, int timeout_ms);
/* An OTR_SOURCE event's state for people and for JSON: "connected", "lost", "end", "error"
 * ("?" for another value). */
const char *otr_source_state_name(enum otr_source_state s);

/* Why the reader stopped (empty while it runs). Valid until otr_reader_close(). */
const char *otr_reader_error(const struct otr_reader *r);

/* Interrupt the graph, join the worker, free everything. NULL is fine. */
void otr_reader_close(struct otr_reader *r);

/* What the worker decoded so far (some of it may still be queued). */
struct otr_reader_stats {
	uint64_t events;	   /* event messages seen, of all providers */
	uint64_t offrx_events;	   /* offrx:* events decoded and queued */
	uint64_t other_events;	   /* events of other providers: counted, not queued */
	uint64_t discarded_events; /* the tracer's count of events it discarded */
	uint64_t lost_packets;	   /* packets missing from the trace */
	uint64_t reconnects;	   /* live: attached again after a loss */
};
void otr_reader_stats(const struct otr_reader *r, struct otr_reader_stats *out);

/*
 * A stream file found damaged when the reader opened an offline trace: it ends inside a packet
 * (a crash mid-write) or holds a packet with a bad header. babeltrace2 refuses such a trace
 * whole, so the reader reads a copy where the file is cut at its last whole packet: the events
 * of the whole packets come out, then OTR_SRC_ERROR and -EIO naming the file and what was
 * dropped.
 */
struct otr_damage {
	char file[4096]; /* the stream file, under the input */
	char why[256];	 /* "ends inside the packet at byte 4096 (100 of its 8192 bytes)" */
	uint64_t size;	 /* its bytes */
	uint64_t kept;	 /* the bytes of its whole packets before the damage, read */
};
/* The damaged files (0 when none, or live); *out is valid until otr_reader_close(). */
size_t otr_reader_damage(const struct otr_reader *r, const struct otr_damage **out);

/*
 * The live sessions a relayd serves, as "net://HOST:PORT/host/HOSTNAME/SESSION" URLs (the
 * lttng-live `sessions` query). url: net://HOST[:PORT]. *urls is a malloc'd array of malloc'd
 * strings: free them with otr_free_sessions(). Returns the count (>= 0) or a negative errno
 * with a sentence in err. The relayd lists a session only once it has streams (an
 * application registered and the session started).
 */
int otr_list_sessions(const char *url, char ***urls, size_t *n, char *err, size_t errlen);
void otr_free_sessions(char **urls, size_t n);

/* true when input names a live session (net://, net4://, net6://), false for a path. */
bool otr_input_is_live(const char *input);

#endif /* OFFRX_READER_H */
