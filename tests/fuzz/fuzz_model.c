/* Fuzz harness: arbitrary event sequences, sensible or not, into the queue model
 * (tracer/model) and into offrx-export's --verify checker (exporters/verify.c), the way
 * tracer/reader would hand them over. Neither may crash, leak or hang, whatever the events
 * say; the model's answers must stay internally consistent (depth within its bound, totals
 * that add up).
 *
 * The input decodes byte by byte (missing bytes read as 0): one byte of model options, then
 * events. Each event is a kind byte, a header byte choosing its process, connection, request
 * and time step, and the fields of its kind as variable-length numbers (small values take one
 * byte, see rdv()). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fuzz.h"
#include "model.h"

#define MAX_EVENTS 5000

static struct {
	const uint8_t *p;
	size_t n;
} in;

static uint8_t rd8(void)
{
	if (!in.n)
		return 0;
	in.n--;
	return *in.p++;
}

/* 0xxxxxxx: 0..127; 10xxxxxx +1 byte: 14 bits; 110xxxxx +3 bytes: 29 bits; 111xxxxx +8
 * bytes: any 64-bit value. */
static uint64_t rdv(void)
{
	uint8_t b = rd8();
	uint64_t v;
	int more;

	if (!(b & 0x80))
		return b;
	if ((b & 0xc0) == 0x80) {
		v = b & 0x3f;
		more = 1;
	} else if ((b & 0xe0) == 0xc0) {
		v = b & 0x1f;
		more = 3;
	} else {
		v = 0;
		more = 8;
	}
	while (more--)
		v = v << 8 | rd8();
	return v;
}

static void rd_str(char *dst, size_t cap)
{
	size_t n = rd8() % cap;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)rd8();
	dst[n] = 0;
}

static void decode_fields(struct otr_event *ev)
{
	switch (ev->kind) {
	case OTR_CONN_OPEN:
		rd_str(ev->u.open.local_addr, sizeof(ev->u.open.local_addr));
		rd_str(ev->u.open.remote_addr, sizeof(ev->u.open.remote_addr));
		ev->u.open.local_port = (uint16_t)rdv();
		ev->u.open.remote_port = (uint16_t)rdv();
		ev->u.open.mss = (uint16_t)rdv();
		ev->u.open.isn = (uint32_t)rdv();
		ev->u.open.wscale = (uint8_t)rdv();
		break;
	case OTR_CONN_CLOSE:
	case OTR_DISCONNECT:
	case OTR_HANDBACK:
		ev->u.close.reason = (int)rdv();
		ev->u.close.bytes = rdv();
		break;
	case OTR_POST:
		ev->u.post.buf_len = (uint32_t)rdv();
		ev->u.post.prefill = (uint32_t)rdv();
		ev->u.post.depth = (uint32_t)rdv();
		ev->u.post.no_push = rd8() & 1;
		break;
	case OTR_FILL:
		ev->u.fill.bytes = (uint32_t)rdv();
		ev->u.fill.total = (uint32_t)rdv();
		ev->u.fill.buf_len = (uint32_t)rdv();
		ev->u.fill.seq = (uint32_t)rdv();
		ev->u.fill.psh = rd8() & 1;
		break;
	case OTR_TIMER_START:
	case OTR_TIMER_RESTART:
	case OTR_TIMER_CANCEL:
	case OTR_TIMER_EXPIRE: {
		/* The deadline near the event's raw time, before or after it, or anywhere. */
		uint8_t b = rd8();
		uint64_t d = rdv() * 1000;
		ev->u.timer.deadline_ns = b & 1 ? ev->ts_raw + d : b & 2 ? ev->ts_raw - d : rdv();
		ev->u.timer.bytes = (uint32_t)rdv();
		break;
	}
	case OTR_COMPLETE:
		ev->u.complete.status = (int)(int64_t)(rdv() - 8);
		ev->u.complete.bytes = (uint32_t)rdv();
		ev->u.complete.placed = (uint32_t)rdv();
		ev->u.complete.reason = (int)rdv();
		ev->u.complete.post_to_complete_ns = rdv() * 1000;
		ev->u.complete.last_fill_to_complete_ns = (int64_t)(rdv() * 1000 - 1000);
		break;
	case OTR_COMPLETE_CALL:
	case OTR_COMPLETE_END:
		ev->u.call.count = (uint32_t)rdv();
		break;
	case OTR_INDICATE_CALL:
		ev->u.indicate.offered = rdv();
		ev->u.indicate.nbufs = (uint32_t)rdv();
		break;
	case OTR_INDICATE:
		ev->u.indicate.offered = rdv();
		ev->u.indicate.consumed = rdv();
		ev->u.indicate.result = (int)rdv();
		ev->u.indicate.nbufs = (uint32_t)rdv();
		break;
	case OTR_RETURN:
		ev->u.ret.bytes = (uint32_t)rdv();
		break;
	case OTR_CONN_STATE: {
		ev->u.state.depth = (uint32_t)rdv();
		ev->u.state.listed = (uint32_t)rdv();
		ev->u.state.indicated_out = (uint32_t)rdv();
		ev->u.state.rcv_nxt = (uint32_t)rdv();
		ev->u.state.deadline_ns = rdv();
		ev->u.state.held_bytes = rdv();
		ev->u.state.window = rdv();
		ev->u.state.bytes = rdv();
		/* The listed requests: ids counting up from a base (as the engine lists them),
		 * with a step the input chooses, so they may also repeat or go backwards. */
		uint64_t id = rdv();
		uint8_t sb = rd8();
		int64_t step = (int64_t)((sb & 0x7f) % 5) - 1;
		if (sb & 0x80) { /* the 4-tuple (empty in traces of older engines) */
			rd_str(ev->u.state.local_addr, sizeof(ev->u.state.local_addr));
			rd_str(ev->u.state.remote_addr, sizeof(ev->u.state.remote_addr));
			ev->u.state.local_port = (uint16_t)rdv();
			ev->u.state.remote_port = (uint16_t)rdv();
		}
		uint32_t n =
			ev->u.state.listed < OTR_STATE_MAX ? ev->u.state.listed : OTR_STATE_MAX;
		for (uint32_t i = 0; i < n; i++) {
			struct otr_state_req *r = &ev->u.state.reqs[i];
			r->id = id;
			id += (uint64_t)step;
			r->len = (uint32_t)rdv();
			r->fill = (uint32_t)rdv();
			r->no_push = rd8() & 1;
		}
		break;
	}
	case OTR_DROP:
		ev->u.drop.reason = (int)rdv();
		ev->u.drop.frame_len = (uint32_t)rdv();
		break;
	case OTR_XSK_STATS:
		ev->u.xsk.rx_frames = rdv();
		ev->u.xsk.rx_dropped = rdv();
		ev->u.xsk.rx_ring_full = rdv();
		break;
	case OTR_DISCARDED:
		ev->u.discarded.count = rdv();
		ev->u.discarded.packets = rdv();
		ev->u.discarded.from_ns = (int64_t)((uint64_t)ev->ts_ns - rdv() * 1000);
		ev->u.discarded.to_ns = ev->ts_ns;
		break;
	case OTR_SOURCE:
		ev->u.source.state = (enum otr_source_state)(1 + rd8() % 4);
		rd_str(ev->u.source.msg, sizeof(ev->u.source.msg));
		break;
	default:
		break;
	}
}

/* Read the model the way the viewer and the summary writer do, and check what must hold. */
static void read_model(const struct otr_model *m, int64_t now_ns, uint32_t max_queue)
{
	const struct otr_conn *cs[16];
	struct otr_model_totals t;
	struct otr_rates r;
	size_t n = otr_model_conns(m, cs, 16);

	otr_model_totals(m, now_ns, &t);
	FUZZ_CHECK(t.conns == n);
	FUZZ_CHECK(t.conns_open + t.conns_closed <= t.conns);
	for (size_t i = 0; i < n && i < 16; i++) {
		const struct otr_conn *c = cs[i];
		FUZZ_CHECK(otr_model_conn(m, c->vpid, c->id) == c);
		FUZZ_CHECK(c->depth <= max_queue);
		FUZZ_CHECK(c->local_addr[OTR_ADDR_LEN - 1] == 0);
		for (uint32_t k = 0; k < c->depth; k++)
			FUZZ_CHECK(otr_conn_req(c, k) != NULL);
		FUZZ_CHECK(otr_conn_req(c, c->depth) == NULL);
		for (uint64_t k = 0; k < c->recent_count; k++)
			FUZZ_CHECK(otr_conn_recent(c, (uint32_t)k) != NULL);
		otr_conn_rates(m, c, now_ns, &r);
		FUZZ_CHECK(r.push_timer_share >= 0.0 && r.push_timer_share <= 1.0);
		(void)otr_conn_state_name(c->state);
	}
	for (int l = 0; l < OTR_LAT__COUNT; l++)
		for (int k = 0; k < OTR_HC__COUNT; k++) {
			const struct otr_hist *hg =
				otr_model_hist(m, (enum otr_lat)l, (enum otr_hclass)k);
			if (!hg)
				continue;
			static const double ps[] = { 50, 90, 99, 99.9, 100 };
			uint64_t v[5];
			otr_hist_percentiles(hg, ps, v, 5);
			FUZZ_CHECK(v[4] <= otr_hist_max(hg) || otr_hist_count(hg) == 0);
			FUZZ_CHECK(otr_hist_min(hg) <= otr_hist_max(hg));
		}
	(void)otr_model_last(m, OTR_SOURCE);
	(void)otr_model_last(m, OTR_XSK_STATS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	in.p = data;
	in.n = size;

	uint8_t c0 = rd8();
	struct otr_model_opts mo = { .sz = sizeof(mo) };
	mo.recent = 1 + (c0 & 7);
	mo.max_closed = 1 + ((c0 >> 3) & 3);
	mo.max_queue = (c0 & 0x20) ? 8 : 65536;
	mo.rate_window_ns = (c0 & 0x40) ? 1000 : 0;
	mo.lost_horizon_ns = (c0 & 0x80) ? 100000 : 0;
	struct otr_model *m = otr_model_new(&mo);
	FUZZ_CHECK(m != NULL);
	static struct otr_event der[OTR_EXPAND_MAX];
	struct otr_expand *x = otr_expand_new();
	FUZZ_CHECK(x != NULL);

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL);
	struct jw_out out = { .f = devnull, .path = "/dev/null" };
	out.cap = 4096;
	out.buf = malloc(out.cap);
	FUZZ_CHECK(out.buf != NULL);
	struct oex_run run;
	memset(&run, 0, sizeof(run));
	run.input = "fuzz";
	run.out = &out;
	run.from_ns = run.to_ns = OEX_TS_NONE;
	run.port = -1;
	run.t0_ns = OEX_TS_NONE;
	run.end = OEX_END_TRACE;
	oex_ctab_init(&run.info, sizeof(struct oex_conninfo));
	struct oex_writer w = { .run = &run };
	FUZZ_CHECK(oex_verify_new(&w) == 0);
	FUZZ_CHECK(w.ops->begin(&w) == 0);

	struct otr_event ev, *evp = malloc(sizeof(*evp)); /* heap: ASan sees past-the-end reads */
	FUZZ_CHECK(evp != NULL);
	int64_t ts = 1700000000000000000ll;
	uint64_t raw = 5000000000ull, vpid = 100, conn = 1, req = 1;
	for (int i = 0; in.n && i < MAX_EVENTS; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = (enum otr_kind)(rd8() % OTR_KIND__COUNT);
		uint8_t hd = rd8();
		switch (hd & 3) {
		case 1:
			vpid = 0;
			break;
		case 2:
			vpid = 101;
			break;
		case 3:
			vpid = rdv();
			break;
		default:
			break;
		}
		switch ((hd >> 2) & 3) {
		case 1:
			conn++;
			break;
		case 2:
			conn = rdv();
			break;
		case 3:
			conn = conn > 1 ? conn - 1 : 0;
			break;
		default:
			break;
		}
		switch ((hd >> 4) & 3) {
		case 1:
			req++;
			break;
		case 2:
			req = rdv();
			break;
		case 3:
			req = req > 1 ? req - 1 : 0;
			break;
		default:
			break;
		}
		/* Time moves forward by a step; sometimes it jumps back, or raw and wall part. */
		uint64_t step = (hd & 0x80) ? rdv() * 1000000 : rdv() * 1000;
		if (hd & 0x40) {
			ts -= (int64_t)(step & 0xffffffffffffull);
			raw -= step;
		} else {
			ts += (int64_t)(step & 0xffffffffffffull);
			raw += step;
		}
		ev.ts_ns = ts;
		ev.ts_raw = raw;
		ev.vpid = vpid;
		ev.conn = conn;
		ev.req = req;
		decode_fields(&ev);

		if (run.t0_ns == OEX_TS_NONE) {
			run.t0_ns = ev.ts_ns;
			run.t0_raw = ev.ts_raw;
		}
		run.last_ns = ev.ts_ns;
		run.last_raw = ev.ts_raw;
		run.events++;
		run.exported++;
		run.by_kind[ev.kind]++;

		/* as the reader hands it on: with the events set 3 leaves to readers */
		size_t before, nd = otr_expand(x, &ev, der, &before);
		for (size_t k = 0; k <= nd; k++) {
			*evp = k < before ? der[k] : k == before ? ev : der[k - 1];
			int rc = otr_model_feed(m, evp);
			FUZZ_CHECK(rc == 0 || rc == -12 /* -ENOMEM */);
			rc = w.ops->event(&w, evp);
			FUZZ_CHECK(rc == 0 || rc == -12);
		}
		if ((i & 31) == 31)
			read_model(m, (hd & 8) ? OTR_TS_NONE : ts, mo.max_queue);
	}
	read_model(m, OTR_TS_NONE, mo.max_queue);
	int verdict = w.ops->end(&w);
	FUZZ_CHECK(verdict == 0 || verdict == OEX_EXIT_VIOLATIONS);
	w.ops->free(&w);
	oex_ctab_fini(&run.info, NULL);
	out.len = 0; /* written to /dev/null already when it filled */
	free(out.buf);
	free(evp);
	otr_model_free(m);
	otr_expand_free(x);
	return 0;
}
