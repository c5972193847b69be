/* Scenario harness for the core tests: an engine on the in-memory link, connections whose
 * stream bytes follow a known pattern, and a recorder for every completion, indication and
 * event. A test reads like its scenario:
 *
 *	struct sc *s = sc_new(NULL);
 *	struct sc_conn *c = sc_open(s);
 *	struct offrx_recv_req *a = post_push(c, 4096), *b = post_push(c, 4096);
 *	deliver(c, 3000, 0);
 *	advance_ms(s, 499);          -> nothing completes
 *	advance_ms(s, 1);            -> a completes with 3000 bytes, SUCCESS, push timer
 *
 * Every completion's bytes are checked against the stream pattern as it arrives, so a test
 * also fails when data is lost, duplicated or reordered (sc_check_stream at the end).
 */
#ifndef OFFRX_TEST_SCENARIO_H
#define OFFRX_TEST_SCENARIO_H

#include <offrx/offrx.h>
#include <offrx/offrx_mem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_MAX_CONNS 64
#define SC_MAX_LOG   4096
#define MS	     (1000ull * 1000)

struct sc;

/* One completed request, as the application saw it. */
struct sc_done {
	struct offrx_recv_req *req;
	uint64_t conn_id, req_id, cookie;
	int status;
	uint32_t bytes;	 /* bytes_transferred */
	uint32_t placed; /* bytes_placed */
	uint32_t reason; /* from the observer's complete event */
	uint32_t call;	 /* which completion call carried it (1-based, engine-wide) */
	uint64_t t_ns;
};

/* How the application answers indications on a connection. */
enum sc_ind_mode {
	SC_IND_NONE = 0, /* no indicate callback behaviour: NOT_ACCEPTED */
	SC_IND_ACCEPT,	 /* consume everything */
	SC_IND_REFUSE,	 /* NOT_ACCEPTED */
	SC_IND_PARTIAL,	 /* PARTIALLY_ACCEPTED with ind_take bytes */
	SC_IND_BOGUS,	 /* answer an invalid status */
};

struct sc_conn {
	struct sc *s;
	struct offrx_conn *conn;
	uint64_t id;
	uint64_t sent;	  /* stream bytes offered to the engine so far */
	uint64_t stored;  /* stream bytes the engine said it stored */
	uint64_t app_off; /* stream bytes the application has received, in order */
	enum sc_ind_mode ind_mode;
	uint64_t ind_take;
	struct offrx_ind_buf *held_bufs; /* buffers the app kept from indications/events */
	uint32_t held_nbufs;
	uint32_t indications;
	uint32_t events[4]; /* by enum offrx_conn_event_type */
	struct offrx_conn_event last_ev;
	bool closed;
	/* Hook run inside this connection's completion callback (e.g. to post from it). */
	void (*on_complete)(struct sc_conn *c, struct offrx_recv_req *reqs);
	/* Hooks run inside the indicate callback before it answers (as ind_mode says), and at
	 * the end of the event callback (after the held data was taken). */
	void (*on_indicate)(struct sc_conn *c, struct offrx_ind_buf *bufs);
	void (*on_event)(struct sc_conn *c, const struct offrx_conn_event *ev);
	void *user; /* for the hooks */
};

struct sc {
	struct offrx_engine *eng;
	struct sc_conn conns[SC_MAX_CONNS];
	uint32_t nconns;
	struct sc_done done[SC_MAX_LOG];
	uint32_t ndone;
	uint32_t calls;
	uint32_t max_batch;
	bool in_upcall;
	uint32_t nested; /* upcalls that started inside another one (must stay 0, R19) */
	uint32_t errors; /* stream mismatches and other impossibilities seen in callbacks */
	char first_error[256];
	struct offrx_event *events; /* everything the observer saw */
	uint32_t nevents, cap_events;
	bool posting;		      /* set while the test is inside offrx_post_recv */
	uint32_t upcalls_during_post; /* must stay 0 (R01) */
};

/* The byte at stream offset off of connection id: easy to check, hard to fake. */
static inline uint8_t sc_pattern(uint64_t conn_id, uint64_t off)
{
	uint64_t x = off * 0x9E3779B97F4A7C15ull + conn_id * 0xBF58476D1CE4E5B9ull;
	return (uint8_t)(x >> 56 ^ x >> 29 ^ off);
}

/* Engine with the given options (NULL: defaults); the harness adds callbacks and observer. */
struct sc *sc_new(const struct offrx_engine_opts *opts);
/* Returns held buffers, destroys the engine (returning what its resets handed back, and
 * asserting it is then freed), frees requests. */
void sc_free(struct sc *s);
struct sc_conn *sc_open(struct sc *s);

/* Requests: allocated and owned by the harness, freed by sc_free. */
struct offrx_recv_req *sc_req(uint32_t len, uint32_t flags, uint32_t prefill);
struct offrx_recv_req *sc_req_segs(const uint32_t *seg_lens, uint32_t nsegs, uint32_t flags);
int sc_post(struct sc_conn *c, struct offrx_recv_req *reqs);
struct offrx_recv_req *post_push(struct sc_conn *c, uint32_t len);
struct offrx_recv_req *post_nopush(struct sc_conn *c, uint32_t len);
struct offrx_recv_req *post_prefilled(struct sc_conn *c, uint32_t len, uint32_t prefill);

/* The segment factory: the next len stream bytes (PSH if flags has OFFRX_MEM_PSH). Returns
 * the bytes stored. make_segment also takes an offset from the next byte, for the TCP tests;
 * the core only takes in-order data, so a non-zero offset is delivered as-is and the stream
 * check will tell. */
uint64_t deliver(struct sc_conn *c, uint64_t len, uint32_t flags);
uint64_t make_segment(struct sc_conn *c, int64_t seq_offset, uint64_t len, uint32_t flags);
void advance_ms(struct sc *s, uint64_t ms);
void advance_ns(struct sc *s, uint64_t ns);

/* Count of observer events of a kind (optionally for one connection: 0 = all). */
uint32_t sc_count_events(const struct sc *s, enum offrx_event_kind kind, uint64_t conn_id);
/* The last observer event of a kind, or NULL. */
const struct offrx_event *sc_last_event(const struct sc *s, enum offrx_event_kind kind);
/* The completion record of a request, or NULL if it has not completed. */
const struct sc_done *sc_done_of(const struct sc *s, const struct offrx_recv_req *r);
/* How many times a request was handed back (R17: must be exactly 1 once it completes). */
uint32_t sc_times_completed(const struct sc *s, const struct offrx_recv_req *r);

/* A connection's, its link's and the engine's statistics (the call must succeed). */
struct offrx_conn_stats conn_stats(const struct sc_conn *c);
struct offrx_mem_link_stats link_stats(const struct sc_conn *c);
uint32_t engine_indicated_out(const struct sc *s); /* indicated buffers the app holds */

/* Give back every buffer the app holds on this connection. */
int sc_return_all(struct sc_conn *c);

/* Fails the test (cmocka) if any callback saw an error, a nested upcall, or an upcall inside
 * a post, or if the application's stream is not exactly the first `stored` bytes. */
void sc_check(const struct sc *s);
void sc_check_stream(const struct sc_conn *c);

#endif
