/* offrx-scenario: drive the receive core through scripted scenarios on virtual time and print
 * every post, fill, push-timer event, indication and completion as it happens. It shows the
 * Chimney receive rules at work, and where latency comes from: the push timer above all.
 *
 *   offrx-scenario                  all scenarios
 *   offrx-scenario --scenario trickle --push-timer-ms 200
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <offrx/offrx_mem.h>

#include "num.h"

#define MS (1000ull * 1000)

static bool color;
static uint64_t push_timer_ms = 500;

/* Totals over a run, for the closing summary. */
static uint64_t by_reason[OFFRX_COMPLETE_REASONS];
static uint64_t timer_wait_ns; /* time requests spent waiting for the push timer */

static const char *C(const char *code)
{
	return color ? code : "";
}
#define RESET  C("\033[0m")
#define DIM    C("\033[2m")
#define BOLD   C("\033[1m")
#define GREEN  C("\033[32m")
#define YELLOW C("\033[33m")
#define RED    C("\033[31m")
#define CYAN   C("\033[36m")

/* A complete reason's name (offrx_names.h), "?" for a value with none. */
static const char *reason_name(uint32_t r)
{
	const char *name = offrx_complete_reason_name((int)r);

	return name ? name : "?";
}

static void stamp(uint64_t ns, uint64_t conn)
{
	printf("  %st=%9.3f ms%s  conn %llu  ", DIM, (double)ns / 1e6, RESET,
	       (unsigned long long)conn);
}

/* The observer sees what the tracepoints see. */
static void show(const struct offrx_event *ev, void *ctx)
{
	(void)ctx;
	switch (ev->kind) {
	case OFFRX_E_POST:
		stamp(ev->ts_ns, ev->conn_id);
		printf("%spost%s      req %llu  %u B %s", CYAN, RESET,
		       (unsigned long long)ev->req_id, ev->buf_len,
		       ev->flags & OFFRX_REQ_NO_PUSH ? "no-push" : "push");
		if (ev->bytes)
			printf(", %llu B already in it", (unsigned long long)ev->bytes);
		printf("  (queue depth %u)\n", ev->count);
		break;
	case OFFRX_E_FILL:
		stamp(ev->ts_ns, ev->conn_id);
		printf("fill      req %llu  +%llu B -> %llu/%u%s\n", (unsigned long long)ev->req_id,
		       (unsigned long long)ev->bytes, (unsigned long long)ev->total, ev->buf_len,
		       ev->flags ? "  PSH" : "");
		break;
	case OFFRX_E_TIMER_START:
	case OFFRX_E_TIMER_RESTART:
	case OFFRX_E_TIMER_CANCEL:
	case OFFRX_E_TIMER_EXPIRE: {
		static const char *what[] = { "start", "restart", "cancel", "EXPIRE" };
		stamp(ev->ts_ns, ev->conn_id);
		printf("%stimer %-7s%s req %llu  deadline %.3f ms\n", YELLOW,
		       what[ev->kind - OFFRX_E_TIMER_START], RESET, (unsigned long long)ev->req_id,
		       (double)ev->deadline_ns / 1e6);
		break;
	}
	case OFFRX_E_COMPLETE: {
		stamp(ev->ts_ns, ev->conn_id);
		const char *col = ev->status == OFFRX_SUCCESS ? GREEN : RED;
		printf("%scomplete%s  req %llu  %s%s%s %llu B  by %s%s%s", col, RESET,
		       (unsigned long long)ev->req_id, col, offrx_status_str(ev->status), RESET,
		       (unsigned long long)ev->bytes, BOLD, reason_name(ev->reason), RESET);
		printf("  post->complete %.3f ms", (double)(ev->ts_ns - ev->t_post_ns) / 1e6);
		if (ev->reason == OFFRX_CR_PUSH_TIMER && ev->total) {
			uint64_t w = ev->ts_ns - ev->t_last_fill_ns;
			timer_wait_ns += w;
			printf(", %s%.3f ms waiting for the push timer%s", YELLOW, (double)w / 1e6,
			       RESET);
		}
		printf("\n");
		if (ev->reason < OFFRX_COMPLETE_REASONS)
			by_reason[ev->reason]++;
		break;
	}
	case OFFRX_E_COMPLETE_CALL:
		if (ev->count > 1) {
			stamp(ev->ts_ns, ev->conn_id);
			printf("%scompletion call carries %u requests%s\n", DIM, ev->count, RESET);
		}
		break;
	case OFFRX_E_INDICATE:
		stamp(ev->ts_ns, ev->conn_id);
		printf("%sindicate%s  %llu B offered, %llu consumed: %s\n", CYAN, RESET,
		       (unsigned long long)ev->bytes, (unsigned long long)ev->total,
		       offrx_status_str(ev->status));
		break;
	case OFFRX_E_RETURN:
		stamp(ev->ts_ns, ev->conn_id);
		printf("return    buffer %llu (%llu B)\n", (unsigned long long)ev->req_id,
		       (unsigned long long)ev->total);
		break;
	case OFFRX_E_DISCONNECT:
		stamp(ev->ts_ns, ev->conn_id);
		printf("%sdisconnect%s (%s) after %llu B\n", RED, RESET,
		       ev->reason == OFFRX_CLOSE_RST ? "RST" : "FIN",
		       (unsigned long long)ev->bytes);
		break;
	case OFFRX_E_UPLOAD:
		stamp(ev->ts_ns, ev->conn_id);
		printf("%supload%s after %llu B\n", RED, RESET, (unsigned long long)ev->bytes);
		break;
	default:
		break;
	}
}

/* --- the application side ------------------------------------------------------------ */

static uint64_t ind_take; /* how much the app consumes of an indication */
static struct offrx_ind_buf *kept;

static void on_complete(struct offrx_conn *conn, struct offrx_recv_req *reqs, void *ctx)
{
	(void)conn;
	(void)ctx;
	(void)reqs; /* the observer already printed them; requests live in the scenario */
}

static int on_indicate(struct offrx_conn *conn, struct offrx_ind_buf *bufs, uint64_t total,
		       uint64_t *consumed, void *ctx)
{
	(void)conn;
	(void)ctx;
	*consumed = ind_take < total ? ind_take : total;
	if (*consumed == 0)
		return OFFRX_NOT_ACCEPTED;
	/* Keep the buffers until we are done with them (R22). */
	struct offrx_ind_buf *last = bufs;
	while (last->next)
		last = last->next;
	last->next = kept;
	kept = bufs;
	return *consumed == total ? OFFRX_SUCCESS : OFFRX_PARTIALLY_ACCEPTED;
}

static void on_event(struct offrx_conn *conn, const struct offrx_conn_event *ev, void *ctx)
{
	(void)conn;
	(void)ctx;
	if (ev->type == OFFRX_EV_UPLOAD_DONE || ev->type == OFFRX_EV_DISCONNECT) {
		printf("  %s-> handed back: rcv_nxt %u, window %u, %llu B held in engine "
		       "buffers%s\n",
		       DIM, ev->rcv_nxt, ev->rcv_wnd, (unsigned long long)ev->held_bytes, RESET);
		if (ev->held) {
			struct offrx_ind_buf *last = ev->held;
			while (last->next)
				last = last->next;
			last->next = kept;
			kept = ev->held;
		}
	}
}

static const struct offrx_callbacks cbs = {
	.recv_complete = on_complete,
	.recv_indicate = on_indicate,
	.conn_event = on_event,
};

/* --- a tiny script language over the in-memory link --------------------------------- */

struct world {
	struct offrx_engine *eng;
	struct offrx_conn *conn;
	struct offrx_recv_req reqs[16];
	struct offrx_seg segs[16];
	uint8_t mem[16][8192];
	int nreq;
	uint8_t data[8192];
};

static struct world W;

static void begin(const char *title, const char *rules, const char *why)
{
	printf("\n%s== %s%s  %s(%s)%s\n", BOLD, title, RESET, DIM, rules, RESET);
	printf("   %s\n\n", why);
	struct offrx_engine_opts o = { .sz = sizeof(o), .cb = &cbs, .observer = show };
	o.push_timer_ns = push_timer_ms * MS;
	if (offrx_mem_engine_create(&o, &W.eng) != OFFRX_SUCCESS) {
		fprintf(stderr, "offrx-scenario: cannot create an engine\n");
		exit(1);
	}
	offrx_mem_conn_open(W.eng, 1000, &W.conn);
	W.nreq = 0;
	ind_take = 0;
}

static void end(void)
{
	struct offrx_conn_stats st;
	if (offrx_conn_stats(W.conn, &st) == OFFRX_SUCCESS && st.queue_depth)
		printf("  %s(scenario over: the engine shuts down and aborts the %u request(s) "
		       "still "
		       "posted)%s\n",
		       DIM, st.queue_depth, RESET);
	if (kept) {
		offrx_return_indicated(W.eng, kept);
		kept = NULL;
	}
	offrx_engine_destroy(W.eng, NULL);
}

static struct offrx_recv_req *post(uint32_t len, uint32_t flags, uint32_t prefill)
{
	int i = W.nreq++;
	W.segs[i] = (struct offrx_seg){ W.mem[i], len };
	offrx_req_init(&W.reqs[i], &W.segs[i], 1, (uint64_t)i);
	W.reqs[i].flags = flags;
	W.reqs[i].bytes_transferred = prefill;
	offrx_post_recv(W.conn, &W.reqs[i]);
	return &W.reqs[i];
}

static void data(uint32_t len, bool psh)
{
	offrx_mem_deliver(W.conn, W.data, len, psh ? OFFRX_MEM_PSH : 0);
}

static void wait_ms(uint64_t ms)
{
	offrx_mem_advance(W.eng, ms * MS);
}

/* --- the scenarios -------------------------------------------------------------------- */

static void sc_timer(void)
{
	begin("push timer", "R08, R10, R13",
	      "3000 bytes arrive without PSH into a 4096-byte push request: only the timer "
	      "completes it.");
	post(4096, 0, 0);
	post(4096, 0, 0);
	data(3000, false);
	wait_ms(push_timer_ms - 1);
	printf("  %s... %llu ms later, nothing has completed: the request waits%s\n", DIM,
	       (unsigned long long)push_timer_ms - 1, RESET);
	wait_ms(1);
	end();
}

static void sc_chat(void)
{
	begin("chat", "R10, R14", "small messages, each ending in PSH: requests complete at once.");
	for (int i = 0; i < 3; i++)
		post(4096, 0, 0);
	for (int i = 0; i < 3; i++) {
		data(200 + 100 * (uint32_t)i, true);
		wait_ms(40);
	}
	end();
}

static void sc_trickle(void)
{
	begin("trickle", "R12",
	      "data keeps arriving without PSH every 300 ms: each arrival restarts the timer, so "
	      "the request completes only once the sender pauses.");
	post(8192, 0, 0);
	for (int i = 0; i < 4; i++) {
		data(500, false);
		wait_ms(300);
	}
	wait_ms(push_timer_ms);
	end();
}

static void sc_nopush(void)
{
	begin("no-push", "R06, R11",
	      "a no-push request ignores PSH and runs no timer: it completes only when full.");
	post(4096, OFFRX_REQ_NO_PUSH, 0);
	data(1000, true);
	wait_ms(2000);
	printf("  %s... 2 s later, still waiting: no timer, PSH ignored%s\n", DIM, RESET);
	data(3096, false);
	end();
}

static void sc_prefill(void)
{
	begin("prefill", "R07, R15",
	      "a push request posted with 100 bytes already in it starts the timer at once.");
	post(4096, 0, 100);
	wait_ms(200);
	data(50, false);
	wait_ms(push_timer_ms);
	end();
}

static void sc_indicate(void)
{
	begin("indicate", "R05, R20, R21, R22",
	      "nothing posted: the engine offers its own buffers; the app takes 1000 of 2500 "
	      "bytes; the rest waits for the next post and fills it first.");
	ind_take = 1000;
	data(2500, false);
	data(500, false);
	printf("  %s(the 500 new bytes join the refused ones: not indicated until a post)%s\n", DIM,
	       RESET);
	post(4096, 0, 0);
	wait_ms(0);
	wait_ms(push_timer_ms);
	end();
}

static void sc_fin(void)
{
	begin("FIN", "R17, R25",
	      "the peer closes with requests outstanding: they complete with what they hold; a "
	      "post afterwards completes INVALID_STATE.");
	post(4096, 0, 0);
	post(4096, 0, 0);
	data(1200, false);
	offrx_mem_fin(W.conn);
	post(4096, 0, 0);
	wait_ms(0);
	end();
}

static void sc_upload(void)
{
	begin("upload", "R26",
	      "the application takes the connection back: the timer stops, the partial request "
	      "completes UPLOAD_IN_PROGRESS with its bytes, and the TCP state comes back.");
	post(2048, 0, 0);
	post(4096, 0, 0);
	data(3000, false);
	offrx_conn_upload(W.conn);
	end();
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "timer", sc_timer },	 { "chat", sc_chat },	    { "trickle", sc_trickle },
	{ "nopush", sc_nopush }, { "prefill", sc_prefill }, { "indicate", sc_indicate },
	{ "fin", sc_fin },	 { "upload", sc_upload },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: offrx-scenario [--scenario NAME] [--push-timer-ms N] [--no-color]\n"
		   "Drives the offrx receive core through scripted scenarios on virtual time and\n"
		   "prints every post, fill, push-timer event, indication and completion.\n\n"
		   "  -s, --scenario NAME    run one scenario (default: all); --list names them\n"
		   "  -t, --push-timer-ms N  push timer in milliseconds (default 500, R13)\n"
		   "      --no-color         plain output (also when NO_COLOR is set)\n"
		   "  -l, --list             list the scenarios\n"
		   "  -h, --help             this text\n");
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	static const struct option opts[] = { { "scenario", required_argument, NULL, 's' },
					      { "push-timer-ms", required_argument, NULL, 't' },
					      { "no-color", no_argument, NULL, 'C' },
					      { "list", no_argument, NULL, 'l' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int ch;
	while ((ch = getopt_long(argc, argv, "s:t:lh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			only = optarg;
			break;
		case 't': {
			uint64_t v;
			if (num_u64(optarg, 1, 60000, &v)) {
				fprintf(stderr,
					"offrx-scenario: --push-timer-ms wants 1..60000, not "
					"'%s'\n",
					optarg);
				return 2;
			}
			push_timer_ms = v;
			break;
		}
		case 'C':
			color = false;
			break;
		case 'l':
			for (size_t i = 0; i < NSCENARIOS; i++)
				printf("%s\n", scenarios[i].name);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	bool found = false;
	printf("%soffrx scenario demo%s: the receive core on virtual time, push timer %llu ms\n",
	       BOLD, RESET, (unsigned long long)push_timer_ms);
	for (size_t i = 0; i < NSCENARIOS; i++) {
		if (only && strcmp(only, scenarios[i].name) != 0)
			continue;
		found = true;
		scenarios[i].run();
	}
	if (!found) {
		fprintf(stderr, "offrx-scenario: no scenario '%s' (try --list)\n", only);
		return 2;
	}
	printf("\n%sCompletions by reason:%s", BOLD, RESET);
	for (uint32_t r = 1; r < OFFRX_COMPLETE_REASONS; r++)
		if (by_reason[r])
			printf("  %s %llu", reason_name(r), (unsigned long long)by_reason[r]);
	printf("\n%sTime requests spent waiting for the push timer after their last byte:%s "
	       "%.1f ms\n",
	       BOLD, RESET, (double)timer_wait_ns / 1e6);
	return 0;
}
