/* Names for the decoded trace events (trace_event.h). */
#include "trace_event.h"

#include <stddef.h>
#include <string.h>

static const char *const kind_names[OTR_KIND__COUNT] = {
	[OTR_UNKNOWN] = "unknown",
	[OTR_CONN_OPEN] = "conn_open",
	[OTR_CONN_CLOSE] = "conn_close",
	[OTR_DISCONNECT] = "disconnect",
	[OTR_POST] = "post",
	[OTR_FILL] = "fill",
	[OTR_TIMER_START] = "push_timer_start",
	[OTR_TIMER_RESTART] = "push_timer_restart",
	[OTR_TIMER_CANCEL] = "push_timer_cancel",
	[OTR_TIMER_EXPIRE] = "push_timer_expire",
	[OTR_COMPLETE] = "complete",
	[OTR_COMPLETE_CALL] = "complete_call",
	[OTR_INDICATE] = "indicate",
	[OTR_RETURN] = "return",
	[OTR_CONN_STATE] = "conn_state",
	[OTR_DROP] = "drop",
	[OTR_XSK_STATS] = "xsk_stats",
	[OTR_SEGMENT_PAYLOAD] = "segment_payload",
	[OTR_COMPLETE_END] = "complete_end",
	[OTR_INDICATE_CALL] = "indicate_call",
	[OTR_HANDBACK] = "handback",
	[OTR_DISCARDED] = "discarded",
	[OTR_SOURCE] = "source",
};

/* clang-format off */
#define EV_SZ(m)    sizeof(((struct otr_event *)0)->m)
#define RQ_SZ(m)    sizeof(((struct otr_state_req *)0)->m)
#define F(n, m, t)  { n, offsetof(struct otr_event, m), EV_SZ(m), t }
#define FQ(n, m)    { n, offsetof(struct otr_state_req, m), RQ_SZ(m), OTR_F_SEQ }
#define FIELDS(a)   { a, sizeof(a) / sizeof(a[0]) }
/* clang-format on */

static const struct otr_field f_open[] = {
	F("conn", conn, OTR_F_U),
	F("local_addr", u.open.local_addr, OTR_F_STR),
	F("local_port", u.open.local_port, OTR_F_U),
	F("remote_addr", u.open.remote_addr, OTR_F_STR),
	F("remote_port", u.open.remote_port, OTR_F_U),
	F("isn", u.open.isn, OTR_F_U),
	F("mss", u.open.mss, OTR_F_U),
	F("wscale", u.open.wscale, OTR_F_U),
	F("event_set", u.open.event_set, OTR_F_UZ),
	F("queue", u.open.queue, OTR_F_UZ),
	F("push_timer_ns", u.open.push_timer_ns, OTR_F_UZ),
};
static const struct otr_field f_close[] = {
	F("conn", conn, OTR_F_U),
	F("reason", u.close.reason, OTR_F_CLOSE),
	F("bytes", u.close.bytes, OTR_F_U),
};
static const struct otr_field f_post[] = {
	F("conn", conn, OTR_F_U),
	F("req", req, OTR_F_U),
	F("buf_len", u.post.buf_len, OTR_F_U),
	F("prefill", u.post.prefill, OTR_F_U),
	F("no_push", u.post.no_push, OTR_F_BOOL),
	F("depth", u.post.depth, OTR_F_U),
	F("in_call", u.post.in_call, OTR_F_UZ),
};
static const struct otr_field f_fill[] = {
	F("conn", conn, OTR_F_U),
	F("req", req, OTR_F_U),
	F("bytes", u.fill.bytes, OTR_F_U),
	F("total", u.fill.total, OTR_F_U),
	F("buf_len", u.fill.buf_len, OTR_F_U),
	F("seq", u.fill.seq, OTR_F_U),
	F("psh", u.fill.psh, OTR_F_BOOL),
	F("segs", u.fill.segs, OTR_F_UZ),
	F("deadline_ns", u.fill.deadline_ns, OTR_F_UZ),
	F("start", u.fill.start, OTR_F_UZ),
};
static const struct otr_field f_timer[] = {
	F("conn", conn, OTR_F_U),
	F("req", req, OTR_F_U),
	F("deadline_ns", u.timer.deadline_ns, OTR_F_U),
	F("bytes", u.timer.bytes, OTR_F_U),
	F("at_ns", u.timer.at_ns, OTR_F_UZ),
};
static const struct otr_field f_complete[] = {
	F("conn", conn, OTR_F_U),
	F("req", req, OTR_F_U),
	F("status", u.complete.status, OTR_F_STATUS),
	F("bytes", u.complete.bytes, OTR_F_U),
	F("placed", u.complete.placed, OTR_F_U),
	F("reason", u.complete.reason, OTR_F_CREASON),
	F("post_to_complete_ns", u.complete.post_to_complete_ns, OTR_F_U),
	F("last_fill_to_complete_ns", u.complete.last_fill_to_complete_ns, OTR_F_I),
	F("local_port", u.complete.local_port, OTR_F_UZ),
	F("call", u.complete.call, OTR_F_UZ),
	F("fill_bytes", u.complete.fill.bytes, OTR_F_UZ),
	F("fill_total", u.complete.fill.total, OTR_F_UZ),
	F("fill_buf_len", u.complete.fill.buf_len, OTR_F_UZ),
	F("fill_seq", u.complete.fill.seq, OTR_F_UZ),
	F("fill_psh", u.complete.fill.psh, OTR_F_UZ),
	F("fill_segs", u.complete.fill.segs, OTR_F_UZ),
	F("fill_deadline_ns", u.complete.fill.deadline_ns, OTR_F_UZ),
	F("fill_start", u.complete.fill.start, OTR_F_UZ),
};
static const struct otr_field f_call[] = {
	F("conn", conn, OTR_F_U),
	F("count", u.call.count, OTR_F_U),
};
static const struct otr_field f_indicate[] = {
	F("conn", conn, OTR_F_U),
	F("ind", req, OTR_F_U),
	F("offered", u.indicate.offered, OTR_F_U),
	F("consumed", u.indicate.consumed, OTR_F_U),
	F("result", u.indicate.result, OTR_F_STATUS),
	F("nbufs", u.indicate.nbufs, OTR_F_U),
};
static const struct otr_field f_indicate_call[] = {
	F("conn", conn, OTR_F_U),
	F("ind", req, OTR_F_U),
	F("offered", u.indicate.offered, OTR_F_U),
	F("nbufs", u.indicate.nbufs, OTR_F_U),
};
static const struct otr_field f_return[] = {
	F("conn", conn, OTR_F_U),
	F("buf", req, OTR_F_U),
	F("bytes", u.ret.bytes, OTR_F_U),
};
static const struct otr_field f_state[] = {
	F("conn", conn, OTR_F_U),
	F("depth", u.state.depth, OTR_F_U),
	FQ("req_ids", id),
	FQ("req_lens", len),
	FQ("req_fills", fill),
	FQ("req_no_push", no_push),
	F("deadline_ns", u.state.deadline_ns, OTR_F_U),
	F("indicated_out", u.state.indicated_out, OTR_F_U),
	F("held_bytes", u.state.held_bytes, OTR_F_U),
	F("rcv_nxt", u.state.rcv_nxt, OTR_F_U),
	F("window", u.state.window, OTR_F_U),
	F("bytes", u.state.bytes, OTR_F_U),
	F("local_addr", u.state.local_addr, OTR_F_STR),
	F("local_port", u.state.local_port, OTR_F_U),
	F("remote_addr", u.state.remote_addr, OTR_F_STR),
	F("remote_port", u.state.remote_port, OTR_F_U),
	F("event_set", u.state.event_set, OTR_F_UZ),
	F("queue", u.state.queue, OTR_F_UZ),
	F("push_timer_ns", u.state.push_timer_ns, OTR_F_UZ),
};
static const struct otr_field f_drop[] = {
	F("reason", u.drop.reason, OTR_F_DROP),
	F("conn", conn, OTR_F_U),
	F("frame_len", u.drop.frame_len, OTR_F_U),
};
static const struct otr_field f_xsk[] = {
	F("rx_frames", u.xsk.rx_frames, OTR_F_U),
	F("tx_frames", u.xsk.tx_frames, OTR_F_U),
	F("rx_dropped", u.xsk.rx_dropped, OTR_F_U),
	F("rx_ring_full", u.xsk.rx_ring_full, OTR_F_U),
	F("fill_ring_empty", u.xsk.fill_ring_empty, OTR_F_U),
	F("tx_ring_empty", u.xsk.tx_ring_empty, OTR_F_U),
	F("invalid_descs", u.xsk.invalid_descs, OTR_F_U),
	F("xdp_redirected", u.xsk.xdp_redirected, OTR_F_U),
	F("xdp_passed", u.xsk.xdp_passed, OTR_F_U),
	F("tx_full", u.xsk.tx_full, OTR_F_U),
	F("queue", u.xsk.queue, OTR_F_UZ),
	F("thread_cpu_ns", u.xsk.thread_cpu_ns, OTR_F_UZ),
};
static const struct otr_field f_payload[] = {
	F("conn", conn, OTR_F_U),
	F("seq", u.payload.seq, OTR_F_U),
	F("len", u.payload.len, OTR_F_U),
	{ "bytes", offsetof(struct otr_event, u.payload.bytes), 0, OTR_F_BYTES },
};
/* Not a tracepoint: the reader's note of a loss window, as offrx-events/1 writes it. */
static const struct otr_field f_discarded[] = {
	F("count", u.discarded.count, OTR_F_U),
	F("packets", u.discarded.packets, OTR_F_U),
	F("from_ns", u.discarded.from_ns, OTR_F_I),
	F("to_ns", u.discarded.to_ns, OTR_F_I),
};

_Static_assert(sizeof(f_state) / sizeof(f_state[0]) <= OTR_FIELDS_MAX, "OTR_FIELDS_MAX");
_Static_assert(sizeof(f_xsk) / sizeof(f_xsk[0]) <= OTR_FIELDS_MAX, "OTR_FIELDS_MAX");

static const struct {
	const struct otr_field *f;
	size_t n;
} fields[OTR_KIND__COUNT] = {
	[OTR_CONN_OPEN] = FIELDS(f_open),
	[OTR_CONN_CLOSE] = FIELDS(f_close),
	[OTR_DISCONNECT] = FIELDS(f_close),
	[OTR_POST] = FIELDS(f_post),
	[OTR_FILL] = FIELDS(f_fill),
	[OTR_TIMER_START] = FIELDS(f_timer),
	[OTR_TIMER_RESTART] = FIELDS(f_timer),
	[OTR_TIMER_CANCEL] = FIELDS(f_timer),
	[OTR_TIMER_EXPIRE] = FIELDS(f_timer),
	[OTR_COMPLETE] = FIELDS(f_complete),
	[OTR_COMPLETE_CALL] = FIELDS(f_call),
	[OTR_INDICATE] = FIELDS(f_indicate),
	[OTR_RETURN] = FIELDS(f_return),
	[OTR_CONN_STATE] = FIELDS(f_state),
	[OTR_DROP] = FIELDS(f_drop),
	[OTR_XSK_STATS] = FIELDS(f_xsk),
	[OTR_SEGMENT_PAYLOAD] = FIELDS(f_payload),
	[OTR_COMPLETE_END] = FIELDS(f_call),
	[OTR_INDICATE_CALL] = FIELDS(f_indicate_call),
	[OTR_HANDBACK] = FIELDS(f_close),
	[OTR_DISCARDED] = FIELDS(f_discarded),
};

void otr_event_at(struct otr_event *d, enum otr_kind kind, const struct otr_event *at, uint64_t req)
{
	/* the largest of the members such events use: fill, timer, call */
	size_t u = sizeof(d->u.fill) > sizeof(d->u.timer) ? sizeof(d->u.fill) : sizeof(d->u.timer);
	memset(d, 0, offsetof(struct otr_event, u) + u);
	d->kind = kind;
	d->ts_ns = at->ts_ns;
	d->ts_raw = at->ts_raw;
	d->vpid = at->vpid;
	d->conn = at->conn;
	d->req = req;
}

bool otr_fill_restart(const struct otr_event *fill, struct otr_event *restart)
{
	if (fill->kind != OTR_FILL || !fill->u.fill.deadline_ns || fill->u.fill.start)
		return false;
	otr_event_at(restart, OTR_TIMER_RESTART, fill, fill->req);
	restart->u.timer.deadline_ns = fill->u.fill.deadline_ns;
	restart->u.timer.bytes = fill->u.fill.total;
	return true;
}

const struct otr_field *otr_event_fields(enum otr_kind k, size_t *n)
{
	if ((unsigned)k >= OTR_KIND__COUNT) {
		*n = 0;
		return NULL;
	}
	*n = fields[k].n;
	return fields[k].f;
}

const char *otr_kind_name(enum otr_kind k)
{
	return (unsigned)k < OTR_KIND__COUNT && kind_names[k] ? kind_names[k] : "unknown";
}

enum otr_kind otr_kind_from_name(const char *name)
{
	if (!name)
		return OTR_UNKNOWN;
	if (!strncmp(name, "offrx:", 6))
		name += 6;
	for (int k = 1; k < OTR_DISCARDED; k++)
		if (!strcmp(name, kind_names[k]))
			return (enum otr_kind)k;
	return OTR_UNKNOWN;
}

/* The value's name in the table of offrx_names.h, or "?". */
static const char *or_unknown(const char *name)
{
	return name ? name : "?";
}

const char *otr_complete_reason_name(int r)
{
	return or_unknown(offrx_complete_reason_name(r));
}

const char *otr_close_reason_name(int r)
{
	return or_unknown(offrx_close_reason_name(r));
}

const char *otr_status_name(int s)
{
	return or_unknown(offrx_status_name(s));
}

const char *otr_drop_reason_name(int r)
{
	return or_unknown(offrx_drop_reason_name(r));
}
