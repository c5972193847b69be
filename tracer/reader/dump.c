/* offrx-trace-dump: print the decoded events of an offrx trace, offline or live, one line
 * each, through tracer/reader: for tests, and for people who want the engine's view of a
 * trace without babeltrace2's formatting. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "num.h"
#include "reader.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: offrx-trace-dump [OPTIONS] INPUT\n"
		"Print the offrx events of a trace, one line each:\n"
		"  TS_NS KIND VPID CONN REQ KEY=VALUE...\n"
		"(REQ is the indication id for indicate, the buffer id for return), then a "
		"summary\n"
		"on stderr. INPUT is a trace directory (searched for CTF traces: 'offrx-recv\n"
		"--trace' prints it) or a live session, net://HOST[:PORT]/host/HOSTNAME/SESSION\n"
		"('offrx-recv --trace-live' prints it).\n"
		"\n"
		"  -c, --count          print only how many events of each kind\n"
		"  -d, --derived        also the events the reader derives from an event set 3\n"
		"                       or 4 trace (marked 'derived'; never counted)\n"
		"  -l, --list           INPUT is net://HOST[:PORT]: list its live sessions\n"
		"  -w, --wait SECONDS   live: wait this long for a session the relay daemon does\n"
		"                       not serve yet (default 10; 0: forever)\n"
		"      --no-reconnect   live: stop at the first loss of the relay daemon instead "
		"of\n"
		"                       attaching again\n"
		"  -q, --queue EVENTS   events buffered between the reading thread and the "
		"printer\n"
		"                       (default %d)\n"
		"  -v, --verbose        babeltrace2's own warnings on stderr\n"
		"  -h, --help           this help\n"
		"\n"
		"Live, a lost relay daemon is reported on stderr and attached to again (with\n"
		"backoff) until Ctrl-C. Exit status: 0 the trace was read to its end (or Ctrl-C),\n"
		"1 it could not be read (the reason on stderr), 2 bad usage.\n",
		OTR_READER_DEFAULT_QUEUE);
}

static void print_event(FILE *f, const struct otr_event *e)
{
	fprintf(f, "%" PRId64 " %s %" PRIu64 " %" PRIu64 " %" PRIu64, e->ts_ns,
		otr_kind_name(e->kind), e->vpid, e->conn, e->req);
	switch (e->kind) {
	case OTR_CONN_OPEN:
		fprintf(f, " local=%s:%u remote=%s:%u isn=%u mss=%u wscale=%u",
			e->u.open.local_addr, e->u.open.local_port, e->u.open.remote_addr,
			e->u.open.remote_port, e->u.open.isn, e->u.open.mss, e->u.open.wscale);
		break;
	case OTR_CONN_CLOSE:
	case OTR_DISCONNECT:
	case OTR_HANDBACK:
		fprintf(f, " reason=%s bytes=%" PRIu64, otr_close_reason_name(e->u.close.reason),
			e->u.close.bytes);
		break;
	case OTR_POST:
		fprintf(f, " buf_len=%u prefill=%u no_push=%d depth=%u", e->u.post.buf_len,
			e->u.post.prefill, e->u.post.no_push, e->u.post.depth);
		break;
	case OTR_FILL:
		fprintf(f, " bytes=%u total=%u buf_len=%u seq=%u psh=%d", e->u.fill.bytes,
			e->u.fill.total, e->u.fill.buf_len, e->u.fill.seq, e->u.fill.psh);
		break;
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE:
		fprintf(f, " deadline_ns=%" PRIu64 " bytes=%u", e->u.timer.deadline_ns,
			e->u.timer.bytes);
		break;
	case OTR_COMPLETE:
		fprintf(f,
			" status=%s bytes=%u placed=%u reason=%s post_to_complete_ns=%" PRIu64
			" last_fill_to_complete_ns=%" PRId64,
			otr_status_name(e->u.complete.status), e->u.complete.bytes,
			e->u.complete.placed, otr_complete_reason_name(e->u.complete.reason),
			e->u.complete.post_to_complete_ns, e->u.complete.last_fill_to_complete_ns);
		if (e->u.complete.local_port)
			fprintf(f, " local_port=%u", e->u.complete.local_port);
		if (e->u.complete.fill.segs) /* set 4: the fill riding on it */
			fprintf(f, " fill_bytes=%u fill_total=%u fill_seq=%u fill_psh=%u",
				e->u.complete.fill.bytes, e->u.complete.fill.total,
				e->u.complete.fill.seq, e->u.complete.fill.psh);
		break;
	case OTR_COMPLETE_CALL:
	case OTR_COMPLETE_END:
		fprintf(f, " count=%u", e->u.call.count);
		break;
	case OTR_INDICATE_CALL:
		fprintf(f, " offered=%" PRIu64 " nbufs=%u", e->u.indicate.offered,
			e->u.indicate.nbufs);
		break;
	case OTR_INDICATE:
		fprintf(f, " offered=%" PRIu64 " consumed=%" PRIu64 " result=%s nbufs=%u",
			e->u.indicate.offered, e->u.indicate.consumed,
			otr_status_name(e->u.indicate.result), e->u.indicate.nbufs);
		break;
	case OTR_RETURN:
		fprintf(f, " bytes=%u", e->u.ret.bytes);
		break;
	case OTR_CONN_STATE:
		fprintf(f,
			" depth=%u listed=%u indicated_out=%u rcv_nxt=%u deadline_ns=%" PRIu64
			" held_bytes=%" PRIu64 " window=%" PRIu64 " bytes=%" PRIu64 " reqs=",
			e->u.state.depth, e->u.state.listed, e->u.state.indicated_out,
			e->u.state.rcv_nxt, e->u.state.deadline_ns, e->u.state.held_bytes,
			e->u.state.window, e->u.state.bytes);
		for (uint32_t i = 0; i < e->u.state.listed && i < OTR_STATE_MAX; i++)
			fprintf(f, "%s%" PRIu64 ":%u:%u%s", i ? "," : "", e->u.state.reqs[i].id,
				e->u.state.reqs[i].len, e->u.state.reqs[i].fill,
				e->u.state.reqs[i].no_push ? ":np" : "");
		break;
	case OTR_DROP:
		fprintf(f, " reason=%s frame_len=%u", otr_drop_reason_name(e->u.drop.reason),
			e->u.drop.frame_len);
		break;
	case OTR_XSK_STATS:
		fprintf(f,
			" rx_frames=%" PRIu64 " tx_frames=%" PRIu64 " rx_dropped=%" PRIu64
			" rx_ring_full=%" PRIu64 " fill_ring_empty=%" PRIu64
			" tx_ring_empty=%" PRIu64 " invalid_descs=%" PRIu64
			" xdp_redirected=%" PRIu64 " xdp_passed=%" PRIu64 " tx_full=%" PRIu64,
			e->u.xsk.rx_frames, e->u.xsk.tx_frames, e->u.xsk.rx_dropped,
			e->u.xsk.rx_ring_full, e->u.xsk.fill_ring_empty, e->u.xsk.tx_ring_empty,
			e->u.xsk.invalid_descs, e->u.xsk.xdp_redirected, e->u.xsk.xdp_passed,
			e->u.xsk.tx_full);
		break;
	case OTR_DISCARDED:
		fprintf(f,
			" count=%" PRIu64 " packets=%" PRIu64 " from_ns=%" PRId64 " to_ns=%" PRId64,
			e->u.discarded.count, e->u.discarded.packets, e->u.discarded.from_ns,
			e->u.discarded.to_ns);
		break;
	case OTR_SOURCE:
		fprintf(f, " state=%s msg=\"%s\"", otr_source_state_name(e->u.source.state),
			e->u.source.msg);
		break;
	case OTR_SEGMENT_PAYLOAD:
		fprintf(f, " seq=%u len=%u bytes=", e->u.payload.seq, e->u.payload.len);
		for (uint32_t i = 0; i < e->u.payload.n && i < OTR_PAYLOAD_MAX; i++)
			fprintf(f, "%02x", e->u.payload.bytes[i]);
		break;
	default:
		break;
	}
	if (e->derived)
		fputs(" derived", f);
	fputc('\n', f);
}

static int list_sessions(const char *url)
{
	char err[1024], **urls;
	size_t n;
	int ret = otr_list_sessions(url, &urls, &n, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "offrx-trace-dump: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s\n", urls[i]);
	if (!n)
		fprintf(stderr, "offrx-trace-dump: %s serves no live session\n", url);
	otr_free_sessions(urls, n);
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_NO_RECONNECT = 256 };
	static const struct option lo[] = {
		{ "count", no_argument, NULL, 'c' },
		{ "derived", no_argument, NULL, 'd' },
		{ "list", no_argument, NULL, 'l' },
		{ "wait", required_argument, NULL, 'w' },
		{ "no-reconnect", no_argument, NULL, O_NO_RECONNECT },
		{ "queue", required_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct otr_reader_opts o = { .sz = sizeof(o) };
	struct otr_reader *r = NULL;
	struct otr_reader_stats st;
	struct otr_event ev;
	uint64_t counts[OTR_KIND__COUNT] = { 0 };
	bool count = false, list = false, derived = false;
	char err[1024];
	int c, rc = 0, status = 0;

	while ((c = getopt_long(argc, argv, "cdlw:q:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			count = true;
			break;
		case 'd':
			derived = true;
			break;
		case 'l':
			list = true;
			break;
		case 'w': {
			int64_t s;
			if (num_i64(optarg, 0, 86400, &s)) {
				fprintf(stderr,
					"offrx-trace-dump: --wait %s: give seconds, 0 to 86400\n",
					optarg);
				return 2;
			}
			o.session_wait_ms = s ? (int32_t)(s * 1000) : -1;
			break;
		}
		case O_NO_RECONNECT:
			o.no_live_reconnect = true;
			break;
		case 'q': {
			uint64_t q;
			if (num_u64(optarg, 1, 1u << 24, &q)) {
				fprintf(stderr,
					"offrx-trace-dump: --queue %s: give events, 1 to "
					"16777216\n",
					optarg);
				return 2;
			}
			o.queue_events = (uint32_t)q;
			break;
		}
		case 'v':
			o.bt_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "offrx-trace-dump: give one INPUT (see --help)\n");
		return 2;
	}
	if (list)
		return list_sessions(argv[optind]);
	o.input = argv[optind];

	/* The first signal stops the reader cleanly, a second one the process. */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (otr_reader_open(&o, &r, err, sizeof(err))) {
		fprintf(stderr, "offrx-trace-dump: %s\n", err);
		return 1;
	}
	while (!stop) {
		/* Print what is queued; flush when the queue runs dry so live lines show now. */
		rc = otr_reader_next(r, &ev, 0);
		if (rc == 0) {
			fflush(stdout);
			rc = otr_reader_next(r, &ev, 100);
		}
		if (rc == 0)
			continue;
		if (rc < 0)
			break;
		/* What the trace holds; --derived: also what the reader derived (event set 3). */
		if (ev.derived && (count || !derived))
			continue;
		counts[ev.kind]++;
		/* An error comes back whole from otr_reader_error() below. */
		if (ev.kind == OTR_SOURCE && ev.u.source.state != OTR_SRC_ERROR)
			fprintf(stderr, "offrx-trace-dump: %s: %s\n",
				otr_source_state_name(ev.u.source.state), ev.u.source.msg);
		if (!count)
			print_event(stdout, &ev);
	}
	if (rc < 0 && rc != -ENODATA) {
		fprintf(stderr, "offrx-trace-dump: %s\n", otr_reader_error(r));
		status = 1;
	}
	otr_reader_stats(r, &st);
	otr_reader_close(r);
	if (count)
		for (int k = 0; k < OTR_KIND__COUNT; k++)
			if (counts[k])
				printf("%s %" PRIu64 "\n", otr_kind_name((enum otr_kind)k),
				       counts[k]);
	fflush(stdout);
	fprintf(stderr,
		"offrx-trace-dump: %" PRIu64 " events (%" PRIu64 " offrx, %" PRIu64
		" other), %" PRIu64 " discarded, %" PRIu64 " lost packets, %" PRIu64
		" reconnects\n",
		st.events, st.offrx_events, st.other_events, st.discarded_events, st.lost_packets,
		st.reconnects);
	return status;
}
