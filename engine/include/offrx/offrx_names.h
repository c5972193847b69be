/* offrx: every enumeration a trace carries, with its stable names, written once.
 *
 * Each list is an X-macro, as Linux lists its drop reasons: OFFRX_<ENUM>_LIST(FN) calls
 * FN(id, "name", value) once per member, in the order the trace metadata lists them. Everything
 * that names these values is expanded from here:
 *   - the enums of offrx.h (OFFRX_<id>, OFFRX_CR_<id>, OFFRX_CLOSE_<id>) and the engine's
 *     private drop enums (PKT_DROP_<id> in pkt.h, TCP_DROP_<id> in tcp_rx.h);
 *   - the name and from-name lookups below (offrx_status_str() is built on them);
 *   - the LTTng-UST enum mappings of the provider (tracer/provider/offrx_tp.h);
 *   - the trace model's enums, names and bounds (tracer/model/trace_event.[ch]);
 *   - the offrx-events/1 JSON parser (exporters/jsonl.c).
 * So a value added to a list reaches the engine, the trace metadata, the reader, the model, the
 * viewer and the exporters at once (tests/model/test_names.c checks that they agree). The
 * values and names are the trace format and the ABI: add new ones, never renumber or rename.
 * Adding one also wants a line in docs/TRACEPOINTS.md ("Enumerations").
 */
#ifndef OFFRX_OFFRX_NAMES_H
#define OFFRX_OFFRX_NAMES_H

#include <string.h>

/* clang-format off */

/* Status of a call or of a completed request (enum offrx_status: OFFRX_<id>). Flow values are
 * positive, errors negative. The names are the identifiers (trace enum "status"). */
#define OFFRX_STATUS_LIST(FN)							\
	FN(SUCCESS,		"SUCCESS",		0)			\
	FN(PENDING,		"PENDING",		1)  /* the post was queued; the request comes back completed */ \
	FN(PARTIALLY_ACCEPTED,	"PARTIALLY_ACCEPTED",	2)  /* indicate answer: consumed only some bytes */ \
	FN(NOT_ACCEPTED,	"NOT_ACCEPTED",		3)  /* indicate answer: consumed nothing; the engine keeps the data */ \
	FN(REQUEST_ABORTED,	"REQUEST_ABORTED",	-1) /* completion: an error (RST, ...); bytes_transferred valid */ \
	FN(UPLOAD_IN_PROGRESS,	"UPLOAD_IN_PROGRESS",	-2) /* completion: the connection is being uploaded */ \
	FN(INVALID_STATE,	"INVALID_STATE",	-3) /* completion: posted after a disconnect was indicated */ \
	FN(INVALID_PARAMETER,	"INVALID_PARAMETER",	-4) /* call refused: bad handle, request or argument */ \
	FN(RESOURCES,		"RESOURCES",		-5) /* call refused: a bounded table or pool is full */

/* Why a request completed (enum offrx_complete_reason: OFFRX_CR_<id>; trace enum
 * "complete_reason"). Values index offrx_conn_stats.completed_by[]. */
#define OFFRX_COMPLETE_REASON_LIST(FN)						\
	FN(FILLED,		"filled",		1)			\
	FN(PSH,			"psh",			2)			\
	FN(PUSH_TIMER,		"push_timer",		3)			\
	FN(ABORT,		"abort",		4)			\
	FN(DISCONNECT,		"disconnect",		5)			\
	FN(UPLOAD,		"upload",		6)			\
	FN(INVALID_STATE,	"invalid_state",	7)

/* Why a connection ended or changed hands (enum offrx_close_reason: OFFRX_CLOSE_<id>; trace
 * enum "close_reason"). */
#define OFFRX_CLOSE_REASON_LIST(FN)						\
	FN(NONE,		"none",			0)			\
	FN(FIN,			"fin",			1)			\
	FN(RST,			"rst",			2)			\
	FN(IDLE,		"idle",			3)			\
	FN(UPLOAD,		"upload",		4)

/* Why the frame parser refused a frame (engine/src/pkt.h: PKT_DROP_<id>; 0 is "none",
 * accepted, and is not a drop). The trace carries the value as it is. */
#define OFFRX_PKT_DROP_LIST(FN)							\
	FN(ETH_SHORT,		"eth_short",		1)  /* shorter than an Ethernet header */ \
	FN(VLAN_SHORT,		"vlan_short",		2)  /* 802.1Q tag cut off */ \
	FN(NOT_IP,		"not_ip",		3)  /* EtherType neither IPv4 nor IPv6 (ARP, QinQ, ...) */ \
	FN(IP4_SHORT,		"ip4_short",		4)  /* fewer than 20 bytes of IPv4 header */ \
	FN(IP4_BAD_VER,		"ip4_bad_ver",		5)  /* IPv4 EtherType, version field not 4 */ \
	FN(IP4_BAD_IHL,		"ip4_bad_ihl",		6)  /* IHL below 5 or past the total length */ \
	FN(IP4_BAD_LEN,		"ip4_bad_len",		7)  /* total length below 20 or past the frame */ \
	FN(IP4_BAD_CSUM,	"ip4_bad_csum",		8)  /* header checksum wrong */ \
	FN(IP4_FRAGMENT,	"ip4_fragment",		9)  /* MF set or fragment offset non-zero */ \
	FN(IP6_SHORT,		"ip6_short",		10) /* fewer than 40 bytes of IPv6 header */ \
	FN(IP6_BAD_VER,		"ip6_bad_ver",		11) /* IPv6 EtherType, version field not 6 */ \
	FN(IP6_BAD_LEN,		"ip6_bad_len",		12) /* payload length past the frame */ \
	FN(IP6_EXT_HDR,		"ip6_ext_hdr",		13) /* an extension header follows the fixed header */ \
	FN(NOT_TCP,		"not_tcp",		14) /* IP protocol / next header is not TCP */ \
	FN(TCP_SHORT,		"tcp_short",		15) /* fewer than 20 bytes of TCP header */ \
	FN(TCP_BAD_DOFF,	"tcp_bad_doff",		16) /* data offset below 5 or past the segment */ \
	FN(TCP_BAD_OPT,		"tcp_bad_opt",		17) /* option length 0 or 1, or running past the header */ \
	FN(TCP_BAD_CSUM,	"tcp_bad_csum",		18) /* TCP checksum wrong */ \
	FN(TCP_PARTIAL_CSUM,	"tcp_partial_csum",	19) /* checksum field holds only the pseudo-header sum (sender's tx checksum offload is on) */

/* Why the TCP layer refused a segment or part of one (engine/src/tcp_rx.h: TCP_DROP_<id>; 0 is
 * "none"). The trace carries OFFRX_DROP_TCP_BASE + the value, so both kinds share one trace
 * enum. OFFRX_TCP_DROP_LIST_AT(FN, P, B) gives the ids prefix P and the values base B. */
#define OFFRX_DROP_TCP_BASE 64
#define OFFRX_TCP_DROP_LIST_AT(FN, P, B)					\
	FN(P##NOT_OUR_PORT,	"not_our_port",		(B) + 1)  /* not a port we accept on */ \
	FN(P##NO_CONN,		"no_conn",		(B) + 2)  /* not a SYN and no connection (RST sent) */ \
	FN(P##SYN_FLOOD,	"syn_flood",		(B) + 3)  /* half-open table full */ \
	FN(P##CONN_LIMIT,	"conn_limit",		(B) + 4)  /* connection table full */ \
	FN(P##BAD_HANDSHAKE,	"bad_handshake",	(B) + 5)  /* ACK of something we did not send */ \
	FN(P##OUT_OF_WINDOW,	"out_of_window",	(B) + 6)  /* sequence not acceptable (ACK sent) */ \
	FN(P##ZERO_WINDOW,	"zero_window",		(B) + 7)  /* probe or data while the window is 0 */ \
	FN(P##NO_ACK,		"no_ack",		(B) + 8)  /* segment without ACK after the handshake */ \
	FN(P##RST_CHALLENGED,	"rst_challenged",	(B) + 9)  /* RST in window, not at rcv_nxt (RFC 5961) */ \
	FN(P##RST_OUTSIDE,	"rst_outside",		(B) + 10) /* RST outside the window */ \
	FN(P##SYN_CHALLENGED,	"syn_challenged",	(B) + 11) /* SYN on a synchronized connection */ \
	FN(P##DUPLICATE,	"duplicate",		(B) + 12) /* all bytes already received */ \
	FN(P##OOO_FULL,		"ooo_full",		(B) + 13) /* out-of-order store full */ \
	FN(P##NO_ROOM,		"no_room",		(B) + 14) /* bytes past what the core could store (not ACKed) */ \
	FN(P##BAD_ACK,		"bad_ack",		(B) + 15) /* acknowledges data we never sent (RFC 5961 5.2) */ \
	FN(P##PAWS,		"paws",			(B) + 16) /* timestamp older than TS.Recent (RFC 7323 5.3) */ \
	FN(P##SYN_DATA,		"syn_data",		(B) + 17) /* payload of a SYN, not stored nor ACKed */ \
	FN(P##AFTER_FIN,	"after_fin",		(B) + 18) /* data past the peer's FIN (3.10.7.4) */ \
	FN(P##MOVED_FULL,	"moved_full",		(B) + 19) /* arrived on a queue other than its connection's, whose hand-over inbox was full (not ACKed: the peer sends it again) */
#define OFFRX_TCP_DROP_LIST(FN) OFFRX_TCP_DROP_LIST_AT(FN, , 0)

/* Every drop reason as the trace carries it (trace enum "drop_reason"): the frame parser's,
 * then the TCP layer's at OFFRX_DROP_TCP_BASE + value. */
#define OFFRX_DROP_REASON_LIST(FN)						\
	OFFRX_PKT_DROP_LIST(FN)							\
	OFFRX_TCP_DROP_LIST_AT(FN, TCP_DROP_, OFFRX_DROP_TCP_BASE)

/* clang-format on */

/* --- expanding a list --------------------------------------------------------------------- */

/* Members of a list: OFFRX_NAMES_COUNT(OFFRX_STATUS_LIST) is 9. */
#define OFFRX_NAMES_ONE_(id, name, v) +1
#define OFFRX_NAMES_COUNT(LIST)	      (0 LIST(OFFRX_NAMES_ONE_))

/* The largest and the smallest value of a list, as constant expressions (for array bounds and
 * static assertions; C only: they define an unnamed union inside sizeof, one char array per
 * member, whose size is the largest). Values must lie within +-OFFRX_NAMES_SPAN_. */
#define OFFRX_NAMES_SPAN_	     4096
#define OFFRX_NAMES_HI_(id, name, v) char offrx_n_##id[OFFRX_NAMES_SPAN_ + (v)];
#define OFFRX_NAMES_LO_(id, name, v) char offrx_n_##id[OFFRX_NAMES_SPAN_ - (v)];
#define OFFRX_NAMES_MAX(LIST)	     ((int)sizeof(union { LIST(OFFRX_NAMES_HI_) }) - OFFRX_NAMES_SPAN_)
#define OFFRX_NAMES_MIN(LIST)	     (OFFRX_NAMES_SPAN_ - (int)sizeof(union { LIST(OFFRX_NAMES_LO_) }))

/* The name of a value (a switch: the compiler refuses two members with one value), or NULL
 * when the list has no such value; and a value by its name (0, or -1 when there is none). */
#define OFFRX_NAMES_CASE_(id, name, v) \
	case (v):                      \
		return name;
#define OFFRX_NAMES_CMP_(id, name, v) \
	if (!strcmp(s, name)) {       \
		*out = (v);           \
		return 0;             \
	}
#define OFFRX_NAMES_DEFINE_(fn, LIST)                                     \
	static inline const char *offrx_##fn##_name(int v)                \
	{                                                                 \
		switch (v) {                                              \
			LIST(OFFRX_NAMES_CASE_)                           \
		}                                                         \
		return NULL;                                              \
	}                                                                 \
	static inline int offrx_##fn##_from_name(const char *s, int *out) \
	{                                                                 \
		if (!s)                                                   \
			return -1;                                        \
		LIST(OFFRX_NAMES_CMP_)                                    \
		return -1;                                                \
	}

/* offrx_status_name(), offrx_status_from_name() and so on; the drop reason ones take and give
 * the value as the trace carries it. */
OFFRX_NAMES_DEFINE_(status, OFFRX_STATUS_LIST)
OFFRX_NAMES_DEFINE_(complete_reason, OFFRX_COMPLETE_REASON_LIST)
OFFRX_NAMES_DEFINE_(close_reason, OFFRX_CLOSE_REASON_LIST)
OFFRX_NAMES_DEFINE_(drop_reason, OFFRX_DROP_REASON_LIST)

#endif /* OFFRX_OFFRX_NAMES_H */
