/* Packet parsing and building: Ethernet (one optional 802.1Q tag), IPv4/IPv6, TCP.
 *
 * Every field is read with explicit big-endian loads from byte pointers, so frames need no
 * alignment. Checksums are summed in memory order (RFC 1071 section 2(B)), 8 bytes at a time.
 */
#include "pkt.h"

#include <errno.h>
#include <string.h>

#define ETH_P_IP4   0x0800
#define ETH_P_IP6   0x86dd
#define ETH_P_8021Q 0x8100

#define IPPROTO_TCP_NR 6
#define IP4_FLAG_DF    0x4000
#define IP4_FRAG_MASK  0x3fff /* MF flag and fragment offset */

#define TCPOPT_EOL	 0
#define TCPOPT_NOP	 1
#define TCPOPT_MSS	 2
#define TCPOPT_WSCALE	 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK	 5
#define TCPOPT_TS	 8

#define TCPOLEN_MSS	  4
#define TCPOLEN_WSCALE	  3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TS	  10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_BLK  8

const char *pkt_drop_str(enum pkt_drop reason)
{
	const char *name = offrx_drop_reason_name((int)reason);

	if (reason == PKT_DROP_NONE)
		return "none";
	return (unsigned int)reason < PKT_DROP__COUNT && name ? name : "unknown";
}

const char *pkt_drop_hint(enum pkt_drop reason)
{
	switch (reason) {
	case PKT_DROP_TCP_PARTIAL_CSUM:
		return "the sender left a partial TCP checksum (tx checksum offload on a veth): "
		       "run "
		       "`ethtool -K <dev> tx off` on the sender's veth (scripts/netns does it for "
		       "peer0)";
	case PKT_DROP_IP4_FRAGMENT:
		return "the engine does not reassemble IP fragments: make the sender's segments "
		       "fit "
		       "the MTU (check the MSS it was offered and the path MTU)";
	case PKT_DROP_IP6_EXT_HDR:
		return "the engine accepts only IPv6 with TCP right after the fixed header: remove "
		       "the extension headers on the sender's path";
	default:
		return NULL;
	}
}

uint64_t pkt_drop_counters_dropped(const struct pkt_drop_counters *c)
{
	uint64_t total = 0;

	for (unsigned int i = PKT_DROP_NONE + 1; i < PKT_DROP__COUNT; i++)
		total += c->n[i];
	return total;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 64-bit one's complement addition: the carry out of bit 63 wraps around into bit 0, which
 * keeps the sum congruent modulo 0xffff with the sum of its 16-bit words (RFC 1071).
 */
static inline uint64_t add_carry(uint64_t sum, uint64_t v)
{
	sum += v;
	return sum + (sum < v);
}

uint64_t pkt_csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t w0, w1, w2, w3;

	while (len >= 32) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		memcpy(&w2, p + 16, 8);
		memcpy(&w3, p + 24, 8);
		sum = add_carry(sum, w0);
		sum = add_carry(sum, w1);
		sum = add_carry(sum, w2);
		sum = add_carry(sum, w3);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, p, 8);
		sum = add_carry(sum, w0);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		sum = add_carry(sum, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		sum = add_carry(sum, w);
		p += 2;
		len -= 2;
	}
	if (len) {
		/* An odd last byte is the high-order byte of a word padded with zero. */
		uint8_t pad[2] = { p[0], 0 };
		uint16_t w;

		memcpy(&w, pad, 2);
		sum = add_carry(sum, w);
	}
	return sum;
}

uint64_t pkt_csum_pseudo(uint8_t family, const uint8_t *src_addr, const uint8_t *dst_addr,
			 uint32_t tcp_len)
{
	uint8_t tail[8] = { 0 };
	uint64_t sum;

	if (family == PKT_AF_INET) {
		/* src, dst, zero, protocol, 16-bit TCP length */
		sum = pkt_csum_add(0, src_addr + PKT_ADDR_V4_OFF, 4);
		sum = pkt_csum_add(sum, dst_addr + PKT_ADDR_V4_OFF, 4);
		tail[1] = IPPROTO_TCP_NR;
		wr16(tail + 2, (uint16_t)tcp_len);
		return pkt_csum_add(sum, tail, 4);
	}
	/* src, dst, 32-bit upper-layer length, three zero bytes, next header */
	sum = pkt_csum_add(0, src_addr, 16);
	sum = pkt_csum_add(sum, dst_addr, 16);
	wr32(tail, tcp_len);
	tail[7] = IPPROTO_TCP_NR;
	return pkt_csum_add(sum, tail, 8);
}

/* One's complement has two zeros; a folded sum and a stored field may differ only in that. */
static bool csum16_equal(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

static void addr_set_v4(uint8_t addr[16], const uint8_t *v4)
{
	memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	memcpy(addr + PKT_ADDR_V4_OFF, v4, 4);
}

static enum pkt_drop parse_ip4(const uint8_t *ip, uint32_t avail, unsigned int flags,
			       struct pkt_info *info, uint32_t *l4_off, uint32_t *l4_len)
{
	uint32_t ihl, tot_len;

	if (avail < PKT_IP4_HLEN)
		return PKT_DROP_IP4_SHORT;
	if (ip[0] >> 4 != 4)
		return PKT_DROP_IP4_BAD_VER;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < PKT_IP4_HLEN)
		return PKT_DROP_IP4_BAD_IHL;
	tot_len = rd16(ip + 2);
	/* Shorter than the frame is fine: Ethernet pads small frames to 60 bytes. */
	if (tot_len < PKT_IP4_HLEN || tot_len > avail)
		return PKT_DROP_IP4_BAD_LEN;
	if (ihl > tot_len)
		return PKT_DROP_IP4_BAD_IHL;
	if (!(flags & PKT_PARSE_NO_IP4_CSUM) && pkt_csum_fold(pkt_csum_add(0, ip, ihl)) != 0xffff)
		return PKT_DROP_IP4_BAD_CSUM;

	info->family = PKT_AF_INET;
	info->ttl = ip[8];
	addr_set_v4(info->src_addr, ip + 12);
	addr_set_v4(info->dst_addr, ip + 16);
	if (rd16(ip + 6) & IP4_FRAG_MASK)
		return PKT_DROP_IP4_FRAGMENT;
	if (ip[9] != IPPROTO_TCP_NR)
		return PKT_DROP_NOT_TCP;
	*l4_off = ihl;
	*l4_len = tot_len - ihl;
	return PKT_DROP_NONE;
}

/* Next-header values that announce an IPv6 extension header (RFC 8200 section 4, and the IANA
 * "IPv6 Extension Header Types" registry), as opposed to an upper-layer protocol.
 */
static bool ip6_is_ext_hdr(uint8_t nh)
{
	switch (nh) {
	case 0:	  /* Hop-by-Hop Options */
	case 43:  /* Routing */
	case 44:  /* Fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* Destination Options */
	case 135: /* Mobility */
	case 139: /* HIP */
	case 140: /* Shim6 */
	case 253: /* experimental */
	case 254: /* experimental */
		return true;
	default:
		return false;
	}
}

static enum pkt_drop parse_ip6(const uint8_t *ip, uint32_t avail, struct pkt_info *info,
			       uint32_t *l4_off, uint32_t *l4_len)
{
	uint32_t plen;

	if (avail < PKT_IP6_HLEN)
		return PKT_DROP_IP6_SHORT;
	if (ip[0] >> 4 != 6)
		return PKT_DROP_IP6_BAD_VER;
	plen = rd16(ip + 4);
	if (plen > avail - PKT_IP6_HLEN)
		return PKT_DROP_IP6_BAD_LEN;

	info->family = PKT_AF_INET6;
	info->ttl = ip[7];
	memcpy(info->src_addr, ip + 8, 16);
	memcpy(info->dst_addr, ip + 24, 16);
	if (ip[6] != IPPROTO_TCP_NR)
		return ip6_is_ext_hdr(ip[6]) ? PKT_DROP_IP6_EXT_HDR : PKT_DROP_NOT_TCP;
	*l4_off = PKT_IP6_HLEN;
	*l4_len = plen;
	return PKT_DROP_NONE;
}

/* Options of a known kind but the wrong length are ignored, as Linux tcp_parse_options() does;
 * only a length that cannot be walked (0, 1, or past the header) makes the segment malformed.
 */
static enum pkt_drop parse_tcp_opts(const uint8_t *p, uint32_t n, struct pkt_tcp_opts *o)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = p[i];
		uint32_t olen;

		if (kind == TCPOPT_EOL)
			break; /* RFC 9293 section 3.1: what follows EOL is padding */
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			return PKT_DROP_TCP_BAD_OPT;
		olen = p[i + 1];
		if (olen < 2 || olen > n - i)
			return PKT_DROP_TCP_BAD_OPT;

		const uint8_t *v = p + i + 2;

		switch (kind) {
		case TCPOPT_MSS:
			if (olen == TCPOLEN_MSS) {
				o->mss = rd16(v);
				o->present |= PKT_OPT_MSS;
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == TCPOLEN_WSCALE) {
				o->wscale = v[0] > PKT_WSCALE_MAX ? PKT_WSCALE_MAX : v[0];
				o->wscale_sent = v[0];
				o->present |= PKT_OPT_WSCALE;
			}
			break;
		case TCPOPT_SACK_PERM:
			if (olen == TCPOLEN_SACK_PERM)
				o->present |= PKT_OPT_SACK_PERM;
			break;
		case TCPOPT_TS:
			if (olen == TCPOLEN_TS) {
				o->ts_val = rd32(v);
				o->ts_ecr = rd32(v + 4);
				o->present |= PKT_OPT_TS;
			}
			break;
		case TCPOPT_SACK:
			/* 40 option bytes hold at most PKT_SACK_MAX blocks, so no overflow. */
			if (olen > TCPOLEN_SACK_BASE &&
			    (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLK == 0) {
				o->nr_sack =
					(uint8_t)((olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLK);
				for (unsigned int b = 0; b < o->nr_sack; b++) {
					o->sack[b].left = rd32(v + b * TCPOLEN_SACK_BLK);
					o->sack[b].right = rd32(v + b * TCPOLEN_SACK_BLK + 4);
				}
				o->present |= PKT_OPT_SACK;
			}
			break;
		default:
			break;
		}
		i += olen;
	}
	return PKT_DROP_NONE;
}

static enum pkt_drop parse_tcp(const uint8_t *th, uint32_t seg_len, unsigned int flags,
			       struct pkt_info *info)
{
	uint32_t doff;

	if (seg_len < PKT_TCP_HLEN)
		return PKT_DROP_TCP_SHORT;
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < PKT_TCP_HLEN || doff > seg_len)
		return PKT_DROP_TCP_BAD_DOFF;

	info->src_port = rd16(th);
	info->dst_port = rd16(th + 2);
	info->seq = rd32(th + 4);
	info->ack = rd32(th + 8);
	info->flags = th[13];
	info->window = rd16(th + 14);

	/* Checksum before options: a corrupted segment should be counted as corrupted. */
	if (!(flags & PKT_PARSE_NO_TCP_CSUM)) {
		uint64_t pseudo =
			pkt_csum_pseudo(info->family, info->src_addr, info->dst_addr, seg_len);

		if (pkt_csum_fold(pkt_csum_add(pseudo, th, seg_len)) != 0xffff) {
			uint16_t field;

			/* With CHECKSUM_PARTIAL the sender's kernel stores the folded
			 * pseudo-header sum, uncomplemented, and leaves the rest to a device
			 * that a veth does not have.
			 */
			memcpy(&field, th + 16, 2);
			if (csum16_equal(field, pkt_csum_fold(pseudo)))
				return PKT_DROP_TCP_PARTIAL_CSUM;
			return PKT_DROP_TCP_BAD_CSUM;
		}
	}

	enum pkt_drop r = parse_tcp_opts(th + PKT_TCP_HLEN, doff - PKT_TCP_HLEN, &info->opts);

	if (r != PKT_DROP_NONE)
		return r;
	info->payload = th + doff;
	info->payload_len = seg_len - doff;
	return PKT_DROP_NONE;
}

enum pkt_drop pkt_parse(const uint8_t *frame, uint32_t len, unsigned int flags,
			struct pkt_info *info)
{
	uint32_t off = PKT_ETH_HLEN, l4_off = 0, l4_len = 0;
	enum pkt_drop r;
	uint16_t etype;

	memset(info, 0, sizeof(*info));
	if (len < PKT_ETH_HLEN)
		return PKT_DROP_ETH_SHORT;
	memcpy(info->eth_dst, frame, PKT_ETH_ALEN);
	memcpy(info->eth_src, frame + PKT_ETH_ALEN, PKT_ETH_ALEN);
	etype = rd16(frame + 12);
	if (etype == ETH_P_8021Q) {
		if (len < PKT_ETH_HLEN + PKT_VLAN_HLEN)
			return PKT_DROP_VLAN_SHORT;
		info->has_vlan = true;
		info->vlan_id = rd16(frame + 14) & 0x0fff;
		etype = rd16(frame + 16);
		off += PKT_VLAN_HLEN;
	}

	info->l3_off = (uint16_t)off;
	if (etype == ETH_P_IP4)
		r = parse_ip4(frame + off, len - off, flags, info, &l4_off, &l4_len);
	else if (etype == ETH_P_IP6)
		r = parse_ip6(frame + off, len - off, info, &l4_off, &l4_len);
	else
		return PKT_DROP_NOT_IP;
	if (r != PKT_DROP_NONE)
		return r;

	off += l4_off;
	info->l4_off = (uint16_t)off;
	return parse_tcp(frame + off, l4_len, flags, info);
}

void pkt_tcp_build_reply(struct pkt_tcp_build *b, const struct pkt_info *in)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->eth_src, in->eth_dst, PKT_ETH_ALEN);
	memcpy(b->eth_dst, in->eth_src, PKT_ETH_ALEN);
	b->has_vlan = in->has_vlan;
	b->vlan_id = in->vlan_id;
	b->family = in->family;
	memcpy(b->src_addr, in->dst_addr, 16);
	memcpy(b->dst_addr, in->src_addr, 16);
	b->src_port = in->dst_port;
	b->dst_port = in->src_port;
}

static int tcp_opts_len(const struct pkt_tcp_opts *o)
{
	int n = 0;

	if (o->present & PKT_OPT_MSS)
		n += 4;
	if (o->present & PKT_OPT_TS)
		n += 12; /* SACK-permitted rides in the two bytes before TS, Linux-style */
	else if (o->present & PKT_OPT_SACK_PERM)
		n += 4;
	if (o->present & PKT_OPT_WSCALE) {
		if (o->wscale > PKT_WSCALE_MAX)
			return -EINVAL;
		n += 4;
	}
	if (o->present & PKT_OPT_SACK) {
		if (o->nr_sack == 0 || o->nr_sack > PKT_SACK_MAX)
			return -EINVAL;
		n += 4 + o->nr_sack * TCPOLEN_SACK_BLK;
	}
	return n > PKT_TCP_OPT_MAX ? -EMSGSIZE : n;
}

/* Writes the options 32-bit aligned with NOP padding; returns the bytes written. */
static uint32_t tcp_opts_write(uint8_t *p, const struct pkt_tcp_opts *o)
{
	uint8_t *start = p;

	if (o->present & PKT_OPT_MSS) {
		p[0] = TCPOPT_MSS;
		p[1] = TCPOLEN_MSS;
		wr16(p + 2, o->mss);
		p += 4;
	}
	if (o->present & PKT_OPT_TS) {
		if (o->present & PKT_OPT_SACK_PERM) {
			p[0] = TCPOPT_SACK_PERM;
			p[1] = TCPOLEN_SACK_PERM;
		} else {
			p[0] = TCPOPT_NOP;
			p[1] = TCPOPT_NOP;
		}
		p[2] = TCPOPT_TS;
		p[3] = TCPOLEN_TS;
		wr32(p + 4, o->ts_val);
		wr32(p + 8, o->ts_ecr);
		p += 12;
	} else if (o->present & PKT_OPT_SACK_PERM) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_NOP;
		p[2] = TCPOPT_SACK_PERM;
		p[3] = TCPOLEN_SACK_PERM;
		p += 4;
	}
	if (o->present & PKT_OPT_WSCALE) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_WSCALE;
		p[2] = TCPOLEN_WSCALE;
		p[3] = o->wscale;
		p += 4;
	}
	if (o->present & PKT_OPT_SACK) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_NOP;
		p[2] = TCPOPT_SACK;
		p[3] = (uint8_t)(TCPOLEN_SACK_BASE + o->nr_sack * TCPOLEN_SACK_BLK);
		p += 4;
		for (unsigned int i = 0; i < o->nr_sack; i++) {
			wr32(p, o->sack[i].left);
			wr32(p + 4, o->sack[i].right);
			p += TCPOLEN_SACK_BLK;
		}
	}
	return (uint32_t)(p - start);
}

int pkt_build_tcp(uint8_t *buf, uint32_t cap, const struct pkt_tcp_build *b)
{
	uint32_t l2_len, l3_len, tcp_len, total;
	uint8_t *ip, *th;
	uint64_t sum;
	uint16_t csum;
	int opt_len;

	if (b->family != PKT_AF_INET && b->family != PKT_AF_INET6)
		return -EINVAL;
	if (b->has_vlan && b->vlan_id > 0x0fff)
		return -EINVAL;
	opt_len = tcp_opts_len(&b->opts);
	if (opt_len < 0)
		return opt_len;

	l2_len = PKT_ETH_HLEN + (b->has_vlan ? PKT_VLAN_HLEN : 0);
	l3_len = b->family == PKT_AF_INET ? PKT_IP4_HLEN : PKT_IP6_HLEN;
	tcp_len = PKT_TCP_HLEN + (uint32_t)opt_len;
	total = l2_len + l3_len + tcp_len;
	if (total > cap)
		return -ENOSPC;

	memcpy(buf, b->eth_dst, PKT_ETH_ALEN);
	memcpy(buf + PKT_ETH_ALEN, b->eth_src, PKT_ETH_ALEN);
	if (b->has_vlan) {
		wr16(buf + 12, ETH_P_8021Q);
		wr16(buf + 14, b->vlan_id); /* PCP 0, DEI 0 */
	}
	wr16(buf + l2_len - 2, b->family == PKT_AF_INET ? ETH_P_IP4 : ETH_P_IP6);

	ip = buf + l2_len;
	if (b->family == PKT_AF_INET) {
		ip[0] = 0x45;
		ip[1] = 0;
		wr16(ip + 2, (uint16_t)(l3_len + tcp_len));
		wr16(ip + 4, 0);
		wr16(ip + 6, IP4_FLAG_DF);
		ip[8] = b->ttl ? b->ttl : 64;
		ip[9] = IPPROTO_TCP_NR;
		wr16(ip + 10, 0);
		memcpy(ip + 12, b->src_addr + PKT_ADDR_V4_OFF, 4);
		memcpy(ip + 16, b->dst_addr + PKT_ADDR_V4_OFF, 4);
		csum = (uint16_t)~pkt_csum_fold(pkt_csum_add(0, ip, PKT_IP4_HLEN));
		memcpy(ip + 10, &csum, 2);
	} else {
		wr32(ip, 6u << 28); /* traffic class 0, flow label 0 */
		wr16(ip + 4, (uint16_t)tcp_len);
		ip[6] = IPPROTO_TCP_NR;
		ip[7] = b->ttl ? b->ttl : 64;
		memcpy(ip + 8, b->src_addr, 16);
		memcpy(ip + 24, b->dst_addr, 16);
	}

	th = ip + l3_len;
	wr16(th, b->src_port);
	wr16(th + 2, b->dst_port);
	wr32(th + 4, b->seq);
	wr32(th + 8, b->ack);
	th[12] = (uint8_t)((tcp_len / 4) << 4);
	th[13] = b->flags;
	wr16(th + 14, b->window);
	wr16(th + 16, 0);
	wr16(th + 18, 0); /* urgent pointer: the engine never sends urgent data */
	tcp_opts_write(th + PKT_TCP_HLEN, &b->opts);

	sum = pkt_csum_pseudo(b->family, b->src_addr, b->dst_addr, tcp_len);
	csum = (uint16_t)~pkt_csum_fold(pkt_csum_add(sum, th, tcp_len));
	memcpy(th + 16, &csum, 2);
	return (int)total;
}
