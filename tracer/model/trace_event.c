/* Names for the decoded trace events (trace_event.h). */
#include "trace_event.h"

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
	[OTR_DISCARDED] = "discarded",
	[OTR_SOURCE] = "source",
};

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

const char *otr_complete_reason_name(int r)
{
	static const char *const n[] = { "?",	  "filled",	"psh",	  "push_timer",
					 "abort", "disconnect", "upload", "invalid_state" };
	return r >= 0 && r < 8 ? n[r] : "?";
}

const char *otr_close_reason_name(int r)
{
	static const char *const n[] = { "none", "fin", "rst", "idle", "upload" };
	return r >= 0 && r < 5 ? n[r] : "?";
}

const char *otr_status_name(int s)
{
	switch (s) {
	case 0:
		return "SUCCESS";
	case 1:
		return "PENDING";
	case 2:
		return "PARTIALLY_ACCEPTED";
	case 3:
		return "NOT_ACCEPTED";
	case -1:
		return "REQUEST_ABORTED";
	case -2:
		return "UPLOAD_IN_PROGRESS";
	case -3:
		return "INVALID_STATE";
	case -4:
		return "INVALID_PARAMETER";
	case -5:
		return "RESOURCES";
	}
	return "?";
}

const char *otr_drop_reason_name(int r)
{
	static const char *const pkt[] = {
		"none",	       "eth_short",    "vlan_short",  "not_ip",	      "ip4_short",
		"ip4_bad_ver", "ip4_bad_ihl",  "ip4_bad_len", "ip4_bad_csum", "ip4_fragment",
		"ip6_short",   "ip6_bad_ver",  "ip6_bad_len", "ip6_ext_hdr",  "not_tcp",
		"tcp_short",   "tcp_bad_doff", "tcp_bad_opt", "tcp_bad_csum", "tcp_partial_csum",
	};
	static const char *const tcp[] = {
		"none",		 "not_our_port",   "no_conn",	  "syn_flood", "conn_limit",
		"bad_handshake", "out_of_window",  "zero_window", "no_ack",    "rst_challenged",
		"rst_outside",	 "syn_challenged", "duplicate",	  "ooo_full",  "no_room",
		"bad_ack",	 "paws",	   "syn_data",	  "after_fin",
	};
	if (r > 0 && r < (int)(sizeof(pkt) / sizeof(pkt[0])))
		return pkt[r];
	if (r > 64 && r - 64 < (int)(sizeof(tcp) / sizeof(tcp[0])))
		return tcp[r - 64];
	return "?";
}
