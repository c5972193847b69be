/* The LTTng-UST tracepoint provider "offrx": one event for every step of the receive path
 * (post, fill, push timer, complete, indicate, return), connection life, periodic snapshots a
 * late viewer can rebuild state from, drops and AF_XDP ring counters. The engine reaches it
 * only through engine/src/trace.h. Catalogue: docs/TRACEPOINTS.md. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER offrx

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "offrx_tp.h"

#if !defined(OFFRX_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define OFFRX_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>
#include <offrx/offrx_names.h>

#include "offrx_tp_state.h"

/* The enums' mappings come from the lists of offrx_names.h, in their order, so the metadata
 * names exactly the values the engine emits. lttng-ust reads this header several times with
 * lttng_ust_field_enum_value defined differently each time; OFFRX_TP_ENUM_VALUE_ only names
 * it, so each reading expands it its own way. */
#undef OFFRX_TP_ENUM_VALUE_
#define OFFRX_TP_ENUM_VALUE_(id, name, v) lttng_ust_field_enum_value(name, v)

/* The tracepoint macros read best in lttng-ust's own layout; clang-format would flatten them. */
/* clang-format off */
LTTNG_UST_TRACEPOINT_ENUM(offrx, complete_reason,
	LTTNG_UST_TP_ENUM_VALUES(OFFRX_COMPLETE_REASON_LIST(OFFRX_TP_ENUM_VALUE_)))

LTTNG_UST_TRACEPOINT_ENUM(offrx, status,
	LTTNG_UST_TP_ENUM_VALUES(OFFRX_STATUS_LIST(OFFRX_TP_ENUM_VALUE_)))

LTTNG_UST_TRACEPOINT_ENUM(offrx, close_reason,
	LTTNG_UST_TP_ENUM_VALUES(OFFRX_CLOSE_REASON_LIST(OFFRX_TP_ENUM_VALUE_)))

/* Drop reasons: the frame parser's (pkt.h, 1..) and the TCP layer's (tcp_rx.h,
 * OFFRX_DROP_TCP_BASE + value). */
LTTNG_UST_TRACEPOINT_ENUM(offrx, drop_reason,
	LTTNG_UST_TP_ENUM_VALUES(OFFRX_DROP_REASON_LIST(OFFRX_TP_ENUM_VALUE_)))

LTTNG_UST_TRACEPOINT_EVENT(offrx, conn_open,
	LTTNG_UST_TP_ARGS(uint64_t, conn, const char *, local_addr, uint16_t, local_port,
			  const char *, remote_addr, uint16_t, remote_port, uint32_t, isn,
			  uint16_t, mss, uint8_t, wscale, uint32_t, queue, uint64_t, push_timer_ns),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_string(local_addr, local_addr)
		lttng_ust_field_integer(uint16_t, local_port, local_port)
		lttng_ust_field_string(remote_addr, remote_addr)
		lttng_ust_field_integer(uint16_t, remote_port, remote_port)
		lttng_ust_field_integer(uint32_t, isn, isn)
		lttng_ust_field_integer(uint16_t, mss, mss)
		lttng_ust_field_integer(uint8_t, wscale, wscale)
		lttng_ust_field_integer(uint8_t, event_set, OFFRX_TRACE_EVENT_SET)
		lttng_ust_field_integer(uint32_t, queue, queue)
		lttng_ust_field_integer(uint64_t, push_timer_ns, push_timer_ns)))

LTTNG_UST_TRACEPOINT_EVENT(offrx, conn_close,
	LTTNG_UST_TP_ARGS(uint64_t, conn, int, reason, uint64_t, bytes),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_enum(offrx, close_reason, int, reason, reason)
		lttng_ust_field_integer(uint64_t, bytes, bytes)))

/* The peer's FIN or RST, or the application's upload: what follows completes the queue. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, disconnect,
	LTTNG_UST_TP_ARGS(uint64_t, conn, int, reason, uint64_t, bytes),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_enum(offrx, close_reason, int, reason, reason)
		lttng_ust_field_integer(uint64_t, bytes, bytes)))

/* in_call (set 3): posted while a completion call of the connection was open (R19): its
 * complete_end follows. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, post,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, req, uint32_t, buf_len, uint32_t, prefill,
			  uint8_t, no_push, uint32_t, depth, uint8_t, in_call),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint64_t, req, req)
		lttng_ust_field_integer(uint32_t, buf_len, buf_len)
		lttng_ust_field_integer(uint32_t, prefill, prefill)
		lttng_ust_field_integer(uint8_t, no_push, no_push)
		lttng_ust_field_integer(uint32_t, depth, depth)
		lttng_ust_field_integer(uint8_t, in_call, in_call)))

/* One request's placements of one receive batch, summed (event set 2): a PSH ends it, and
 * deadline_ns, when not 0, is the push timer's restart (R12) these bytes caused. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, fill,
	LTTNG_UST_TP_ARGS(const struct offrx_trace_fill *, f),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, f->conn)
		lttng_ust_field_integer(uint64_t, req, f->req)
		lttng_ust_field_integer(uint32_t, bytes, f->bytes)
		lttng_ust_field_integer(uint32_t, total, f->total)
		lttng_ust_field_integer(uint32_t, buf_len, f->buf_len)
		lttng_ust_field_integer(uint32_t, seq, f->seq)
		lttng_ust_field_integer(uint8_t, psh, f->psh)
		lttng_ust_field_integer(uint32_t, segs, f->segs)
		lttng_ust_field_integer(uint64_t, deadline_ns, f->deadline_ns)
		lttng_ust_field_integer(uint8_t, start, f->start)))

/* at_ns: the engine's clock when it acted (set 2; the event's own time is when the tracer
 * stamped it, later by whatever delayed the engine): R10 judges an expiry by both. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(offrx, push_timer,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, req, uint64_t, deadline_ns, uint32_t, bytes,
			  uint64_t, at_ns),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint64_t, req, req)
		lttng_ust_field_integer(uint64_t, deadline_ns, deadline_ns)
		lttng_ust_field_integer(uint32_t, bytes, bytes)
		lttng_ust_field_integer(uint64_t, at_ns, at_ns)))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(offrx, push_timer, offrx, push_timer_start,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, req, uint64_t, deadline_ns, uint32_t, bytes,
			  uint64_t, at_ns))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(offrx, push_timer, offrx, push_timer_restart,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, req, uint64_t, deadline_ns, uint32_t, bytes,
			  uint64_t, at_ns))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(offrx, push_timer, offrx, push_timer_cancel,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, req, uint64_t, deadline_ns, uint32_t, bytes,
			  uint64_t, at_ns))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(offrx, push_timer, offrx, push_timer_expire,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, req, uint64_t, deadline_ns, uint32_t, bytes,
			  uint64_t, at_ns))

/* local_port: the connection's (added in set 2 as an optional field, for triggers that
 * match a port; 0 or absent: unknown). call (set 3): not 0 on the first request of a
 * completion call, the number of requests it carries (what complete_call said in set 2). */
LTTNG_UST_TRACEPOINT_EVENT(offrx, complete,
	LTTNG_UST_TP_ARGS(const struct offrx_trace_complete *, c),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, c->conn)
		lttng_ust_field_integer(uint64_t, req, c->req)
		lttng_ust_field_enum(offrx, status, int, status, c->status)
		lttng_ust_field_integer(uint32_t, bytes, c->bytes)
		lttng_ust_field_integer(uint32_t, placed, c->placed)
		lttng_ust_field_enum(offrx, complete_reason, int, reason, c->reason)
		lttng_ust_field_integer(uint64_t, post_to_complete_ns, c->post_to_complete_ns)
		lttng_ust_field_integer(int64_t, last_fill_to_complete_ns,
					c->last_fill_to_complete_ns)
		lttng_ust_field_integer(uint16_t, local_port, c->local_port)
		lttng_ust_field_integer(uint32_t, call, c->call)
		/* set 4: the fill folded in (fill_segs 0: none); as offrx:fill's fields */
		lttng_ust_field_integer(uint32_t, fill_bytes, c->fill ? c->fill->bytes : 0)
		lttng_ust_field_integer(uint32_t, fill_total, c->fill ? c->fill->total : 0)
		lttng_ust_field_integer(uint32_t, fill_buf_len, c->fill ? c->fill->buf_len : 0)
		lttng_ust_field_integer(uint32_t, fill_seq, c->fill ? c->fill->seq : 0)
		lttng_ust_field_integer(uint8_t, fill_psh, c->fill ? c->fill->psh : 0)
		lttng_ust_field_integer(uint32_t, fill_segs, c->fill ? c->fill->segs : 0)
		lttng_ust_field_integer(uint64_t, fill_deadline_ns,
					c->fill ? c->fill->deadline_ns : 0)
		lttng_ust_field_integer(uint8_t, fill_start, c->fill ? c->fill->start : 0)))

LTTNG_UST_TRACEPOINT_EVENT(offrx, complete_call,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint32_t, count),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint32_t, count, count)))

/* After the recv_complete callback returned: with complete_call it brackets the callback, so
 * a post made inside it (R19) shows between the two. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, complete_end,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint32_t, count),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint32_t, count, count)))

/* Before the recv_indicate callback runs (offrx:indicate follows it, with the answer): a
 * return made inside the indication shows between the two. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, indicate_call,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, ind, uint64_t, offered, uint32_t, nbufs),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint64_t, ind, ind)
		lttng_ust_field_integer(uint64_t, offered, offered)
		lttng_ust_field_integer(uint32_t, nbufs, nbufs)))

LTTNG_UST_TRACEPOINT_EVENT(offrx, indicate,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, ind, uint64_t, offered, uint64_t, consumed,
			  int, result, uint32_t, nbufs),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint64_t, ind, ind)
		lttng_ust_field_integer(uint64_t, offered, offered)
		lttng_ust_field_integer(uint64_t, consumed, consumed)
		lttng_ust_field_enum(offrx, status, int, result, result)
		lttng_ust_field_integer(uint32_t, nbufs, nbufs)))

/* One event per returned buffer: buf is the buffer's id (the first of an indication is its id). */
LTTNG_UST_TRACEPOINT_EVENT(offrx, return,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, buf, uint32_t, bytes),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint64_t, buf, buf)
		lttng_ust_field_integer(uint32_t, bytes, bytes)))

/* Held data handed to the application with a disconnect, upload or destroy (its buffers are
 * then out, like indicated ones): right before the conn_event callback that carries it, so it
 * also marks the moment the application learns of the disconnect or upload. bytes may be 0. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, handback,
	LTTNG_UST_TP_ARGS(uint64_t, conn, int, reason, uint64_t, bytes),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_enum(offrx, close_reason, int, reason, reason)
		lttng_ust_field_integer(uint64_t, bytes, bytes)))

/* A periodic snapshot of one connection, so a reader that attached late (or lost events) can
 * rebuild its queue: requests in posting order with their length, bytes and mode. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, conn_state,
	LTTNG_UST_TP_ARGS(const struct offrx_tp_state *, st),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, st->conn)
		lttng_ust_field_integer(uint32_t, depth, st->depth)
		lttng_ust_field_sequence(uint64_t, req_ids, st->ids, uint32_t, st->listed)
		lttng_ust_field_sequence(uint32_t, req_lens, st->lens, uint32_t, st->listed)
		lttng_ust_field_sequence(uint32_t, req_fills, st->fills, uint32_t, st->listed)
		lttng_ust_field_sequence(uint8_t, req_no_push, st->no_push, uint32_t, st->listed)
		lttng_ust_field_integer(uint64_t, deadline_ns, st->deadline_ns)
		lttng_ust_field_integer(uint32_t, indicated_out, st->indicated_out)
		lttng_ust_field_integer(uint64_t, held_bytes, st->held_bytes)
		lttng_ust_field_integer(uint32_t, rcv_nxt, st->rcv_nxt)
		lttng_ust_field_integer(uint64_t, window, st->window)
		lttng_ust_field_integer(uint64_t, bytes, st->bytes)
		lttng_ust_field_string(local_addr, st->local_addr)
		lttng_ust_field_integer(uint16_t, local_port, st->local_port)
		lttng_ust_field_string(remote_addr, st->remote_addr)
		lttng_ust_field_integer(uint16_t, remote_port, st->remote_port)
		lttng_ust_field_integer(uint8_t, event_set, OFFRX_TRACE_EVENT_SET)
		lttng_ust_field_integer(uint32_t, queue, st->queue)
		lttng_ust_field_integer(uint64_t, push_timer_ns, st->push_timer_ns)))

LTTNG_UST_TRACEPOINT_EVENT(offrx, drop,
	LTTNG_UST_TP_ARGS(int, reason, uint64_t, conn, uint32_t, frame_len),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(offrx, drop_reason, int, reason, reason)
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint32_t, frame_len, frame_len)))

/* queue and thread_cpu_ns (the CPU time of the thread running the queue; two snapshots give
 * its CPU share) came with the multi-queue engine: optional, absent in older traces. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, xsk_stats,
	LTTNG_UST_TP_ARGS(const struct offrx_trace_xsk *, s),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, rx_frames, s->rx_frames)
		lttng_ust_field_integer(uint64_t, tx_frames, s->tx_frames)
		lttng_ust_field_integer(uint64_t, rx_dropped, s->rx_dropped)
		lttng_ust_field_integer(uint64_t, rx_ring_full, s->rx_ring_full)
		lttng_ust_field_integer(uint64_t, fill_ring_empty, s->fill_ring_empty)
		lttng_ust_field_integer(uint64_t, tx_ring_empty, s->tx_ring_empty)
		lttng_ust_field_integer(uint64_t, invalid_descs, s->invalid_descs)
		lttng_ust_field_integer(uint64_t, xdp_redirected, s->xdp_redirected)
		lttng_ust_field_integer(uint64_t, xdp_passed, s->xdp_passed)
		lttng_ust_field_integer(uint64_t, tx_full, s->tx_full)
		lttng_ust_field_integer(uint32_t, queue, s->queue)
		lttng_ust_field_integer(uint64_t, thread_cpu_ns, s->thread_cpu_ns)))

/* Only with offrx_engine_opts.trace_payload_bytes > 0: the first bytes of a data segment the
 * engine accepted for a connection (before the window check), len being the segment's
 * payload length and bytes its first min(len, N) bytes. */
LTTNG_UST_TRACEPOINT_EVENT(offrx, segment_payload,
	LTTNG_UST_TP_ARGS(uint64_t, conn, uint32_t, seq, uint32_t, len, const uint8_t *, data,
			  uint32_t, n),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, conn, conn)
		lttng_ust_field_integer(uint32_t, seq, seq)
		lttng_ust_field_integer(uint32_t, len, len)
		lttng_ust_field_sequence_hex(uint8_t, bytes, data, uint32_t, n)))

/* clang-format on */

#endif /* OFFRX_TP_H */

#include <lttng/tracepoint-event.h>
