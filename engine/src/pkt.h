/* Packet parsing and building for the engine's wire side.
 *
 * pkt_parse() turns one received Ethernet frame into a struct pkt_info or names why it was
 * dropped; pkt_build_tcp() writes the header-only segments the engine sends (ACK, SYN-ACK, RST).
 * No state: every call works on the caller's buffers only.
 */
#ifndef OFFRX_PKT_H
#define OFFRX_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <offrx/offrx_names.h>

#define PKT_ETH_ALEN	6
#define PKT_ETH_HLEN	14
#define PKT_VLAN_HLEN	4
#define PKT_IP4_HLEN	20
#define PKT_IP6_HLEN	40
#define PKT_TCP_HLEN	20
#define PKT_TCP_OPT_MAX 40 /* data offset 15 words minus the fixed header */
#define PKT_SACK_MAX	4  /* blocks that fit in 40 option bytes */
#define PKT_WSCALE_MAX	14 /* RFC 7323 section 2.3 */
/* Largest frame pkt_build_tcp() writes: VLAN tag, IPv6 and a full TCP option space. */
#define PKT_BUILD_MAX (PKT_ETH_HLEN + PKT_VLAN_HLEN + PKT_IP6_HLEN + PKT_TCP_HLEN + PKT_TCP_OPT_MAX)

/* TCP header flag bits, as in the 14th header byte. */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_URG 0x20
#define PKT_TCP_ECE 0x40
#define PKT_TCP_CWR 0x80

/* Address family of struct pkt_info / struct pkt_tcp_build (the IP version number). */
#define PKT_AF_INET  4
#define PKT_AF_INET6 6

/* Offset of the IPv4 address inside a 16-byte address: IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), so v4 and v6 keys never compare equal.
 */
#define PKT_ADDR_V4_OFF 12

/* Why pkt_parse() refused a frame: PKT_DROP_NONE (accepted), then the members of
 * OFFRX_PKT_DROP_LIST (offrx_names.h), which gives their values, stable short names (they
 * appear in traces and stats output) and meanings. Values index struct pkt_drop_counters.
 */
/* clang-format off */
enum pkt_drop {
	PKT_DROP_NONE = 0,
#define PKT_DROP_ENUM_(id, name, v) PKT_DROP_##id = (v),
	OFFRX_PKT_DROP_LIST(PKT_DROP_ENUM_)
#undef PKT_DROP_ENUM_
	PKT_DROP__COUNT
};
/* clang-format on */

/* The stable short name of a drop reason; "unknown" for a value out of range. */
const char *pkt_drop_str(enum pkt_drop reason);

/* What a person should do about a drop reason, or NULL when there is nothing to do but look at
 * the sender (for example "run `ethtool -K <dev> tx off` on the sender's veth").
 */
const char *pkt_drop_hint(enum pkt_drop reason);

struct pkt_drop_counters {
	uint64_t n[PKT_DROP__COUNT]; /* n[PKT_DROP_NONE] counts accepted frames */
};

static inline void pkt_drop_count(struct pkt_drop_counters *c, enum pkt_drop reason)
{
	if ((unsigned int)reason < PKT_DROP__COUNT)
		c->n[reason]++;
}

/* Frames refused, all reasons together. */
uint64_t pkt_drop_counters_dropped(const struct pkt_drop_counters *c);

/* Presence bits of struct pkt_tcp_opts.present. */
#define PKT_OPT_MSS	  0x01
#define PKT_OPT_WSCALE	  0x02
#define PKT_OPT_SACK_PERM 0x04
#define PKT_OPT_TS	  0x08
#define PKT_OPT_SACK	  0x10

struct pkt_sack_block {
	uint32_t left, right; /* host order */
};

/* TCP options. A value is meaningful only when its bit is set in present. */
struct pkt_tcp_opts {
	uint8_t present; /* PKT_OPT_* */
	uint8_t wscale;	 /* shift count, clamped to PKT_WSCALE_MAX as RFC 7323 section 2.3 asks */
	uint16_t mss;	 /* host order */
	uint32_t ts_val; /* host order */
	uint32_t ts_ecr; /* host order */
	uint8_t nr_sack; /* blocks in sack[] (PKT_OPT_SACK) */
	uint8_t wscale_sent; /* parsing only: the shift as sent, before the clamp, so that a
			      * value above 14 can be logged as RFC 7323 section 2.3 asks */
	struct pkt_sack_block sack[PKT_SACK_MAX];
};

/* One parsed TCP segment. Numbers are in host order; payload points into the frame. */
struct pkt_info {
	uint8_t family; /* PKT_AF_INET or PKT_AF_INET6 */
	bool has_vlan;
	uint16_t vlan_id; /* 12-bit VID of the 802.1Q tag, when has_vlan */
	uint8_t eth_src[PKT_ETH_ALEN];
	uint8_t eth_dst[PKT_ETH_ALEN];
	uint8_t src_addr[16]; /* IPv4 as ::ffff:a.b.c.d, see PKT_ADDR_V4_OFF */
	uint8_t dst_addr[16];
	uint8_t ttl;   /* IPv4 TTL or IPv6 hop limit */
	uint8_t flags; /* PKT_TCP_* */
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t window; /* as sent, before window scaling */
	uint32_t seq;
	uint32_t ack;
	struct pkt_tcp_opts opts;
	uint16_t l3_off; /* offsets of the IP and TCP headers in the frame */
	uint16_t l4_off;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* pkt_parse() flags. */
#define PKT_PARSE_NO_TCP_CSUM 0x1 /* trust the TCP checksum (verified by the NIC) */
#define PKT_PARSE_NO_IP4_CSUM 0x2 /* trust the IPv4 header checksum */

/* Parse one Ethernet frame carrying an IPv4 or IPv6 TCP segment. Returns PKT_DROP_NONE and
 * fills *info, or the reason the frame is refused; on a refusal *info holds what was parsed
 * before the failing layer and nothing after. Ethernet padding past the IP length is ignored.
 */
enum pkt_drop pkt_parse(const uint8_t *frame, uint32_t len, unsigned int flags,
			struct pkt_info *info);

/* What pkt_build_tcp() writes. Numbers in host order. */
struct pkt_tcp_build {
	uint8_t eth_src[PKT_ETH_ALEN];
	uint8_t eth_dst[PKT_ETH_ALEN];
	bool has_vlan;
	uint16_t vlan_id;     /* 0..4095 */
	uint8_t family;	      /* PKT_AF_INET or PKT_AF_INET6 */
	uint8_t ttl;	      /* 0 means 64 */
	uint8_t src_addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags; /* PKT_TCP_* */
	uint16_t window;
	struct pkt_tcp_opts opts; /* the options whose bit is set in opts.present are written */
};

/* Fill *b to answer the segment *in: MACs, VLAN, addresses and ports swapped, TTL default.
 * Sequence numbers, flags, window and options are left zero for the caller.
 */
void pkt_tcp_build_reply(struct pkt_tcp_build *b, const struct pkt_info *in);

/* Write an Ethernet + IPv4/IPv6 + TCP frame with no payload into buf, both checksums computed.
 * IPv4 goes out with DF set and ID 0. Frames are not padded to 60 bytes (the NIC does that).
 * Returns the frame length, -EINVAL for a bad family, VLAN id or SACK count, -EMSGSIZE when
 * the options exceed 40 bytes, or -ENOSPC when cap is too small.
 */
int pkt_build_tcp(uint8_t *buf, uint32_t cap, const struct pkt_tcp_build *b);

/* Internet checksum (RFC 1071). pkt_csum_add() returns sum + the one's complement sum of buf,
 * unfolded; chain calls freely, but only the last buffer of a chain may have an odd length.
 * The value is in memory order: store the folded result with memcpy, not htons.
 */
uint64_t pkt_csum_add(uint64_t sum, const void *buf, size_t len);

/* Fold a running sum to 16 bits (not complemented). */
static inline uint16_t pkt_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP pseudo-header sum (RFC 9293 section 3.1 for IPv4, RFC 8200 section 8.1 for IPv6) for
 * a segment of tcp_len bytes between two 16-byte addresses, unfolded, in memory order.
 */
uint64_t pkt_csum_pseudo(uint8_t family, const uint8_t *src_addr, const uint8_t *dst_addr,
			 uint32_t tcp_len);

#endif /* OFFRX_PKT_H */
