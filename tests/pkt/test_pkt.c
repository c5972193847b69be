/* Unit tests of the packet layer: pkt_parse(), pkt_build_tcp(), the checksum helpers, seq.h.
 *
 * Two oracles besides the code under test: frames captured from the kernel (captured_frames.h),
 * edited by hand here, and a naive RFC 1071 checksum written out below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "seq.h"
#include "captured_frames.h"

/* A frame under edit: a copy of a captured or built frame. */
struct frame {
	uint8_t b[256];
	uint32_t len;
};

static void frame_from(struct frame *f, const uint8_t *src, uint32_t len)
{
	assert_true(len <= sizeof(f->b));
	memset(f, 0, sizeof(*f));
	memcpy(f->b, src, len);
	f->len = len;
}

#define FRAME_FROM(f, arr) frame_from((f), (arr), sizeof(arr))

/* The naive RFC 1071 sum: big-endian 16-bit words, folded as we go. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 2) {
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
		s = (s & 0xffff) + (s >> 16);
	}
	return s;
}

static uint16_t ref_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void ref_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Where the layers of a hand-edited frame start, read without pkt_parse(). */
struct ref_layout {
	uint32_t l3;
	bool v6;
	uint32_t l4;
	uint32_t seg_len;
};

static struct ref_layout ref_layout(const struct frame *f)
{
	struct ref_layout l = { .l3 = 14 };

	if (ref_get16(f->b + 12) == 0x8100)
		l.l3 = 18;
	l.v6 = ref_get16(f->b + l.l3 - 2) == 0x86dd;
	if (l.v6) {
		l.l4 = l.l3 + 40;
		l.seg_len = ref_get16(f->b + l.l3 + 4);
	} else {
		l.l4 = l.l3 + (f->b[l.l3] & 0x0f) * 4u;
		l.seg_len = ref_get16(f->b + l.l3 + 2) - (f->b[l.l3] & 0x0f) * 4u;
	}
	return l;
}

/* The pseudo-header sum of the frame's segment, folded, not complemented. */
static uint32_t ref_pseudo(const struct frame *f)
{
	struct ref_layout l = ref_layout(f);
	uint8_t tail[4] = { 0, 6, 0, 0 };

	ref_put16(tail + 2, l.seg_len);
	if (l.v6) /* 32-bit length: the high half is zero for these frames */
		return ref_sum(ref_sum(0, f->b + l.l3 + 8, 32), tail, 4);
	return ref_sum(ref_sum(0, f->b + l.l3 + 12, 8), tail, 4);
}

/* Recompute the IPv4 header and TCP checksums after an edit, the way a sender would. */
static void ref_fix_csums(struct frame *f)
{
	struct ref_layout l = ref_layout(f);
	uint8_t *th = f->b + l.l4;

	if (!l.v6) {
		uint32_t ihl = (f->b[l.l3] & 0x0f) * 4u;

		ref_put16(f->b + l.l3 + 10, 0);
		ref_put16(f->b + l.l3 + 10, ~ref_sum(0, f->b + l.l3, ihl) & 0xffff);
	}
	ref_put16(th + 16, 0);
	ref_put16(th + 16, ~ref_sum(ref_pseudo(f), th, l.seg_len) & 0xffff);
}

static bool ref_tcp_csum_ok(const struct frame *f)
{
	struct ref_layout l = ref_layout(f);

	return ref_sum(ref_pseudo(f), f->b + l.l4, l.seg_len) == 0xffff;
}

/* Replace the options of a captured IPv4 SYN (no payload) with opts, optlen a multiple of 4. */
static void ip4_syn_with_opts(struct frame *f, const uint8_t *opts, uint32_t optlen)
{
	assert_int_equal(optlen % 4, 0);
	frame_from(f, cap_ip4_syn, 14 + 20 + 20);
	memcpy(f->b + 54, opts, optlen);
	f->len = 54 + optlen;
	f->b[14 + 20 + 12] = (uint8_t)(((20 + optlen) / 4) << 4);
	ref_put16(f->b + 16, 40 + optlen);
	ref_fix_csums(f);
}

/* The frame parse() handed to pkt_parse last: info->payload points into it, so it lives until
 * the next parse(). */
static uint8_t *parsed_copy;

static enum pkt_drop parse(const struct frame *f, struct pkt_info *info)
{
	/* An exact-size heap copy, so a read past the end shows under the sanitizers. */
	uint8_t *copy = malloc(f->len ? f->len : 1);

	assert_non_null(copy);
	memcpy(copy, f->b, f->len);
	free(parsed_copy);
	parsed_copy = copy;
	return pkt_parse(copy, f->len, 0, info);
}

static enum pkt_drop parse_reason(const struct frame *f)
{
	struct pkt_info info;

	return parse(f, &info);
}

static void assert_drop(const struct frame *f, enum pkt_drop want)
{
	assert_string_equal(pkt_drop_str(parse_reason(f)), pkt_drop_str(want));
}

static const uint8_t ip_10_77_0_1[16] = { [10] = 0xff, [11] = 0xff, 10, 77, 0, 1 };
static const uint8_t ip_10_77_0_2[16] = { [10] = 0xff, [11] = 0xff, 10, 77, 0, 2 };
static const uint8_t ip_fd77_1[16] = { 0xfd, 0x77, [15] = 1 };
static const uint8_t ip_fd77_2[16] = { 0xfd, 0x77, [15] = 2 };
static const uint8_t mac_eng[6] = { 0x22, 0x5d, 0x13, 0xd6, 0x65, 0x02 };
static const uint8_t mac_peer[6] = { 0x22, 0x74, 0x76, 0xac, 0x87, 0x00 };

/* ---- valid frames ---- */

static void test_captured_ipv4_syn_parses_every_field(void **state)
{
	struct frame f;
	struct pkt_info in;

	FRAME_FROM(&f, cap_ip4_syn);
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.family, PKT_AF_INET);
	assert_false(in.has_vlan);
	assert_memory_equal(in.eth_src, mac_peer, 6);
	assert_memory_equal(in.eth_dst, mac_eng, 6);
	assert_memory_equal(in.src_addr, ip_10_77_0_2, 16);
	assert_memory_equal(in.dst_addr, ip_10_77_0_1, 16);
	assert_int_equal(in.ttl, 64);
	assert_int_equal(in.src_port, 40000);
	assert_int_equal(in.dst_port, 5201);
	assert_int_equal(in.seq, 0x7802df84);
	assert_int_equal(in.ack, 0);
	assert_int_equal(in.flags, PKT_TCP_SYN);
	assert_int_equal(in.window, 64240);
	assert_int_equal(in.opts.present,
			 PKT_OPT_MSS | PKT_OPT_SACK_PERM | PKT_OPT_TS | PKT_OPT_WSCALE);
	assert_int_equal(in.opts.mss, 1460);
	assert_int_equal(in.opts.wscale, 10);
	assert_int_equal(in.opts.ts_val, 0x3870259c);
	assert_int_equal(in.opts.ts_ecr, 0);
	assert_int_equal(in.l3_off, 14);
	assert_int_equal(in.l4_off, 34);
	assert_int_equal(in.payload_len, 0);
}

static void test_captured_ipv4_data_segment_exposes_payload(void **state)
{
	struct pkt_info in;

	assert_int_equal(pkt_parse(cap_ip4_data, sizeof(cap_ip4_data), 0, &in), PKT_DROP_NONE);
	assert_int_equal(in.flags, PKT_TCP_PSH | PKT_TCP_ACK);
	assert_int_equal(in.seq, 0x7802df85);
	assert_int_equal(in.ack, 0x2044c912);
	assert_int_equal(in.window, 63);
	assert_int_equal(in.opts.present, PKT_OPT_TS);
	assert_int_equal(in.opts.ts_val, 0x3870259c);
	assert_int_equal(in.opts.ts_ecr, 0x51bfacee);
	assert_int_equal(in.payload_len, 12);
	assert_ptr_equal(in.payload, cap_ip4_data + 66);
	assert_memory_equal(in.payload, "hello offrx\n", 12);
}

static void test_captured_ipv6_syn_parses_every_field(void **state)
{
	struct pkt_info in;

	assert_int_equal(pkt_parse(cap_ip6_syn, sizeof(cap_ip6_syn), 0, &in), PKT_DROP_NONE);
	assert_int_equal(in.family, PKT_AF_INET6);
	assert_memory_equal(in.src_addr, ip_fd77_2, 16);
	assert_memory_equal(in.dst_addr, ip_fd77_1, 16);
	assert_int_equal(in.ttl, 64);
	assert_int_equal(in.src_port, 40001);
	assert_int_equal(in.dst_port, 5201);
	assert_int_equal(in.seq, 0x64756a71);
	assert_int_equal(in.flags, PKT_TCP_SYN);
	assert_int_equal(in.window, 0xfd20);
	assert_int_equal(in.opts.mss, 1440);
	assert_int_equal(in.opts.wscale, 10);
	assert_int_equal(in.opts.ts_val, 0xcd15ee9e);
	assert_int_equal(in.l4_off, 54);
	assert_int_equal(in.payload_len, 0);
}

static void test_captured_ipv6_data_segment_exposes_payload(void **state)
{
	struct pkt_info in;

	assert_int_equal(pkt_parse(cap_ip6_data, sizeof(cap_ip6_data), 0, &in), PKT_DROP_NONE);
	assert_int_equal(in.seq, 0x64756a72);
	assert_int_equal(in.ack, 0x42b331d0);
	assert_int_equal(in.payload_len, 15);
	assert_memory_equal(in.payload, "hello offrx v6\n", 15);
}

/* Insert an 802.1Q tag (PCP 5, VID 100) by hand after the MAC addresses. */
static void add_vlan_tag(struct frame *f, const uint8_t *src, uint32_t len)
{
	frame_from(f, src, 12);
	f->b[12] = 0x81;
	f->b[13] = 0x00;
	f->b[14] = 0xa0; /* PCP 5: must not leak into the VID */
	f->b[15] = 100;
	memcpy(f->b + 16, src + 12, len - 12);
	f->len = len + 4;
}

static void test_vlan_tagged_ipv4_reports_vid_and_same_fields(void **state)
{
	struct frame f;
	struct pkt_info in;

	add_vlan_tag(&f, cap_ip4_data, sizeof(cap_ip4_data));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_true(in.has_vlan);
	assert_int_equal(in.vlan_id, 100);
	assert_int_equal(in.l3_off, 18);
	assert_int_equal(in.l4_off, 38);
	assert_int_equal(in.ack, 0x2044c912);
	assert_int_equal(in.payload_len, 12);
	assert_memory_equal(in.payload, "hello offrx\n", 12);
}

static void test_vlan_tagged_ipv6_reports_vid_and_same_fields(void **state)
{
	struct frame f;
	struct pkt_info in;

	add_vlan_tag(&f, cap_ip6_data, sizeof(cap_ip6_data));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_true(in.has_vlan);
	assert_int_equal(in.vlan_id, 100);
	assert_int_equal(in.family, PKT_AF_INET6);
	assert_memory_equal(in.payload, "hello offrx v6\n", 15);
}

static void test_ethernet_padding_after_ip_total_length_is_ignored(void **state)
{
	struct frame f;
	struct pkt_info in;

	FRAME_FROM(&f, cap_ip4_data);
	memset(f.b + f.len, 0xee, 10); /* trailing bytes a NIC might leave */
	f.len += 10;
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.payload_len, 12);
}

static void test_minimum_ethernet_frame_padded_to_60_bytes_parses(void **state)
{
	struct pkt_tcp_build b = { .family = PKT_AF_INET, .flags = PKT_TCP_ACK, .seq = 1 };
	struct frame f = { .len = 0 };
	struct pkt_info in;
	int n;

	memcpy(b.src_addr, ip_10_77_0_1, 16);
	memcpy(b.dst_addr, ip_10_77_0_2, 16);
	n = pkt_build_tcp(f.b, sizeof(f.b), &b);
	assert_int_equal(n, 54);
	f.len = 60; /* f.b is zeroed: the padding */
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.payload_len, 0);
}

/* ---- every drop reason ---- */

static void test_frame_shorter_than_ethernet_header_is_eth_short(void **state)
{
	struct frame f;

	frame_from(&f, cap_ip4_syn, 13);
	assert_drop(&f, PKT_DROP_ETH_SHORT);
	f.len = 0;
	assert_drop(&f, PKT_DROP_ETH_SHORT);
}

static void test_truncated_vlan_tag_is_vlan_short(void **state)
{
	struct frame f;

	add_vlan_tag(&f, cap_ip4_syn, sizeof(cap_ip4_syn));
	f.len = 17;
	assert_drop(&f, PKT_DROP_VLAN_SHORT);
}

static void test_arp_frame_is_not_ip(void **state)
{
	/* ARP request who-has 10.77.0.1 tell 10.77.0.2 */
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x22, 0x74, 0x76, 0xac, 0x87, 0x00, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x22, 0x74, 0x76, 0xac, 0x87, 0x00,
		10,   77,   0,	  2,	0,    0,    0,	  0,	0,    0,    10,	  77,	0,    1,
	};
	struct frame f;

	FRAME_FROM(&f, arp);
	assert_drop(&f, PKT_DROP_NOT_IP);
}

static void test_second_vlan_tag_is_not_ip(void **state)
{
	struct frame f;

	add_vlan_tag(&f, cap_ip4_syn, sizeof(cap_ip4_syn));
	f.b[16] = 0x81; /* the inner EtherType says another tag follows */
	f.b[17] = 0x00;
	assert_drop(&f, PKT_DROP_NOT_IP);
}

static void test_ipv4_header_under_20_bytes_is_ip4_short(void **state)
{
	struct frame f;

	frame_from(&f, cap_ip4_syn, 14 + 19);
	assert_drop(&f, PKT_DROP_IP4_SHORT);
}

static void test_ipv4_ethertype_with_version_6_is_ip4_bad_ver(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	f.b[14] = 0x65;
	assert_drop(&f, PKT_DROP_IP4_BAD_VER);
}

static void test_ipv4_ihl_below_5_is_ip4_bad_ihl(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	f.b[14] = 0x44;
	assert_drop(&f, PKT_DROP_IP4_BAD_IHL);
}

static void test_ipv4_ihl_past_total_length_is_ip4_bad_ihl(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	f.b[14] = 0x4f;		 /* 60-byte header ... */
	ref_put16(f.b + 16, 40); /* ... in a 40-byte datagram */
	assert_drop(&f, PKT_DROP_IP4_BAD_IHL);
}

static void test_ipv4_total_length_past_frame_is_ip4_bad_len(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	ref_put16(f.b + 16, 61); /* the frame holds 60 */
	ref_fix_csums(&f);
	assert_drop(&f, PKT_DROP_IP4_BAD_LEN);
}

static void test_ipv4_total_length_under_20_is_ip4_bad_len(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	ref_put16(f.b + 16, 19);
	assert_drop(&f, PKT_DROP_IP4_BAD_LEN);
}

static void test_ipv4_header_checksum_mismatch_is_ip4_bad_csum(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	f.b[22] = 63; /* TTL changed without fixing the checksum */
	assert_drop(&f, PKT_DROP_IP4_BAD_CSUM);
}

static void test_ipv4_more_fragments_flag_is_ip4_fragment(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	ref_put16(f.b + 20, 0x2000);
	ref_fix_csums(&f);
	assert_drop(&f, PKT_DROP_IP4_FRAGMENT);
}

static void test_ipv4_nonzero_fragment_offset_is_ip4_fragment(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	ref_put16(f.b + 20, 0x0001); /* last fragment, offset 8 bytes */
	ref_fix_csums(&f);
	assert_drop(&f, PKT_DROP_IP4_FRAGMENT);
}

static void test_ipv4_udp_is_not_tcp(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_data);
	f.b[23] = 17;
	ref_fix_csums(&f);
	assert_drop(&f, PKT_DROP_NOT_TCP);
}

static void test_ipv6_header_under_40_bytes_is_ip6_short(void **state)
{
	struct frame f;

	frame_from(&f, cap_ip6_syn, 14 + 39);
	assert_drop(&f, PKT_DROP_IP6_SHORT);
}

static void test_ipv6_ethertype_with_version_4_is_ip6_bad_ver(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip6_syn);
	f.b[14] = 0x40;
	assert_drop(&f, PKT_DROP_IP6_BAD_VER);
}

static void test_ipv6_payload_length_past_frame_is_ip6_bad_len(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip6_syn);
	ref_put16(f.b + 18, 41); /* the frame holds 40 */
	assert_drop(&f, PKT_DROP_IP6_BAD_LEN);
}

static void test_ipv6_extension_headers_are_ip6_ext_hdr(void **state)
{
	static const uint8_t ext[] = { 0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254 };
	struct frame f;

	for (size_t i = 0; i < sizeof(ext); i++) {
		FRAME_FROM(&f, cap_ip6_syn);
		f.b[20] = ext[i];
		assert_drop(&f, PKT_DROP_IP6_EXT_HDR);
	}
}

static void test_ipv6_udp_icmpv6_and_no_next_header_are_not_tcp(void **state)
{
	static const uint8_t nh[] = { 17, 58, 59 };
	struct frame f;

	for (size_t i = 0; i < sizeof(nh); i++) {
		FRAME_FROM(&f, cap_ip6_syn);
		f.b[20] = nh[i];
		assert_drop(&f, PKT_DROP_NOT_TCP);
	}
}

static void test_ipv4_segment_under_20_bytes_is_tcp_short(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	ref_put16(f.b + 16, 20 + 19);
	ref_put16(f.b + 24, 0);
	ref_put16(f.b + 24, ~ref_sum(0, f.b + 14, 20) & 0xffff);
	assert_drop(&f, PKT_DROP_TCP_SHORT);
}

static void test_ipv6_segment_under_20_bytes_is_tcp_short(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip6_syn);
	ref_put16(f.b + 18, 19);
	assert_drop(&f, PKT_DROP_TCP_SHORT);
}

static void test_tcp_data_offset_below_5_is_tcp_bad_doff(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	f.b[46] = 0x40;
	ref_fix_csums(&f);
	assert_drop(&f, PKT_DROP_TCP_BAD_DOFF);
}

static void test_tcp_data_offset_past_segment_is_tcp_bad_doff(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip6_syn); /* 40-byte segment */
	f.b[66] = 0xb0;		     /* 44-byte header */
	ref_fix_csums(&f);
	assert_drop(&f, PKT_DROP_TCP_BAD_DOFF);
}

static void test_tcp_checksum_mismatch_is_tcp_bad_csum(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_data);
	f.b[70] ^= 0x01; /* one payload bit */
	assert_drop(&f, PKT_DROP_TCP_BAD_CSUM);
	FRAME_FROM(&f, cap_ip6_data);
	f.b[f.len - 1] ^= 0x80;
	assert_drop(&f, PKT_DROP_TCP_BAD_CSUM);
}

/* ---- partial checksums (tx offload on a veth) ---- */

static void test_captured_partial_checksums_are_tcp_partial_csum(void **state)
{
	struct frame f;

	FRAME_FROM(&f, cap_ip4_data_partial);
	assert_drop(&f, PKT_DROP_TCP_PARTIAL_CSUM);
	FRAME_FROM(&f, cap_ip4_synack_partial);
	assert_drop(&f, PKT_DROP_TCP_PARTIAL_CSUM);
	FRAME_FROM(&f, cap_ip6_data_partial);
	assert_drop(&f, PKT_DROP_TCP_PARTIAL_CSUM);
}

static void test_field_equal_to_pseudo_header_sum_is_partial_not_bad(void **state)
{
	struct frame f;
	struct ref_layout l;

	FRAME_FROM(&f, cap_ip6_data);
	l = ref_layout(&f);
	ref_put16(f.b + l.l4 + 16, ref_pseudo(&f));
	assert_drop(&f, PKT_DROP_TCP_PARTIAL_CSUM);
	/* one off from the pseudo-header sum: an ordinary bad checksum */
	ref_put16(f.b + l.l4 + 16, ref_pseudo(&f) + 1);
	assert_drop(&f, PKT_DROP_TCP_BAD_CSUM);
}

static void test_partial_csum_hint_names_the_ethtool_fix(void **state)
{
	const char *hint = pkt_drop_hint(PKT_DROP_TCP_PARTIAL_CSUM);

	assert_non_null(hint);
	assert_non_null(strstr(hint, "ethtool -K <dev> tx off"));
	assert_null(pkt_drop_hint(PKT_DROP_TCP_BAD_DOFF));
}

static void test_skip_tcp_csum_flag_accepts_partial_and_bad_checksums(void **state)
{
	struct pkt_info in;
	struct frame f;

	assert_int_equal(pkt_parse(cap_ip4_data_partial, sizeof(cap_ip4_data_partial),
				   PKT_PARSE_NO_TCP_CSUM, &in),
			 PKT_DROP_NONE);
	assert_memory_equal(in.payload, "partial csum\n", 13);
	FRAME_FROM(&f, cap_ip4_data);
	f.b[70] ^= 0x01;
	assert_int_equal(pkt_parse(f.b, f.len, PKT_PARSE_NO_TCP_CSUM, &in), PKT_DROP_NONE);
	/* the IPv4 header checksum is still checked */
	f.b[22] = 1;
	assert_int_equal(pkt_parse(f.b, f.len, PKT_PARSE_NO_TCP_CSUM, &in), PKT_DROP_IP4_BAD_CSUM);
}

static void test_skip_ip4_csum_flag_accepts_bad_header_checksum(void **state)
{
	struct pkt_info in;
	struct frame f;

	FRAME_FROM(&f, cap_ip4_syn);
	f.b[22] = 63; /* TTL is outside the TCP checksum */
	assert_int_equal(pkt_parse(f.b, f.len, PKT_PARSE_NO_IP4_CSUM, &in), PKT_DROP_NONE);
	assert_int_equal(in.ttl, 63);
}

/* ---- TCP options ---- */

static void test_tcp_option_length_zero_is_dropped(void **state)
{
	static const uint8_t o[] = { 0x08, 0x00, 0x01, 0x01 };
	struct frame f;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_drop(&f, PKT_DROP_TCP_BAD_OPT);
}

static void test_tcp_option_length_one_is_dropped(void **state)
{
	static const uint8_t o[] = { 0x01, 0xfe, 0x01, 0x01 };
	struct frame f;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_drop(&f, PKT_DROP_TCP_BAD_OPT);
}

static void test_tcp_option_length_past_header_is_dropped(void **state)
{
	/* a timestamp option announced with 10 bytes where 8 remain */
	static const uint8_t o[] = { 0x02, 0x04, 0x05, 0xb4, 0x08, 0x0a, 1, 2, 3, 4, 5, 6 };
	struct frame f;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_drop(&f, PKT_DROP_TCP_BAD_OPT);
}

static void test_tcp_option_kind_without_length_byte_is_dropped(void **state)
{
	static const uint8_t o[] = { 0x01, 0x01, 0x01, 0x02 };
	struct frame f;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_drop(&f, PKT_DROP_TCP_BAD_OPT);
}

static void test_tcp_options_after_eol_are_ignored_even_if_garbage(void **state)
{
	static const uint8_t o[] = { 0x02, 0x04, 0x05, 0xb4, 0x00, 0x08, 0x00, 0xff };
	struct frame f;
	struct pkt_info in;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.opts.present, PKT_OPT_MSS);
	assert_int_equal(in.opts.mss, 1460);
}

static void test_valid_option_after_eol_is_not_parsed(void **state)
{
	static const uint8_t o[] = { 0x00, 0x02, 0x04, 0x05, 0xb4, 0x00, 0x00, 0x00 };
	struct frame f;
	struct pkt_info in;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.opts.present, 0);
}

static void test_unknown_option_is_skipped_by_its_length(void **state)
{
	static const uint8_t o[] = { 0xfe, 0x06, 0x02, 0x04, 0x05, 0xb4, /* looks like MSS */
				     0x02, 0x04, 0x02, 0x18, 0x01, 0x01 };
	struct frame f;
	struct pkt_info in;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.opts.present, PKT_OPT_MSS);
	assert_int_equal(in.opts.mss, 536);
}

static void test_known_option_with_wrong_length_is_ignored(void **state)
{
	/* MSS announced with 3 bytes, then a window scale, then padding */
	static const uint8_t o[] = { 0x02, 0x03, 0x05, 0x03, 0x03, 0x02, 0x01, 0x01 };
	struct frame f;
	struct pkt_info in;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.opts.present, PKT_OPT_WSCALE);
	assert_int_equal(in.opts.wscale, 2);
}

static void test_window_scale_above_14_is_clamped_to_14(void **state)
{
	static const uint8_t o[] = { 0x01, 0x03, 0x03, 0x0f };
	struct frame f;
	struct pkt_info in;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.opts.wscale, 14);
}

static void test_sack_blocks_are_parsed_in_order(void **state)
{
	static const uint8_t o[] = {
		0x01, 0x01, 0x05, 0x12,		     /* NOP NOP SACK, 2 blocks */
		0,    0,    0,	  10,	0, 0, 0, 20, /* [10, 20) */
		0x80, 0,    0,	  1,	0, 0, 0, 2,  /* [0x80000001, 2): wraps */
		0x01, 0x01, 0x00, 0xff,		     /* NOP NOP EOL padding */
	};
	struct frame f;
	struct pkt_info in;

	ip4_syn_with_opts(&f, o, sizeof(o));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.opts.present, PKT_OPT_SACK);
	assert_int_equal(in.opts.nr_sack, 2);
	assert_int_equal(in.opts.sack[0].left, 10);
	assert_int_equal(in.opts.sack[0].right, 20);
	assert_int_equal(in.opts.sack[1].left, 0x80000001);
	assert_int_equal(in.opts.sack[1].right, 2);
}

/* ---- robustness ---- */

static void test_every_truncation_of_a_valid_frame_is_dropped(void **state)
{
	const struct {
		const uint8_t *b;
		uint32_t len;
	} frames[] = {
		{ cap_ip4_syn, sizeof(cap_ip4_syn) },
		{ cap_ip4_data, sizeof(cap_ip4_data) },
		{ cap_ip6_syn, sizeof(cap_ip6_syn) },
		{ cap_ip6_data, sizeof(cap_ip6_data) },
	};
	struct frame f;

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		frame_from(&f, frames[i].b, frames[i].len);
		assert_int_equal(parse_reason(&f), PKT_DROP_NONE);
		for (f.len = 0; f.len < frames[i].len; f.len++)
			assert_int_not_equal(parse_reason(&f), PKT_DROP_NONE);
	}
}

static void test_single_bit_flip_outside_mac_addresses_is_always_dropped(void **state)
{
	struct frame f;
	unsigned int accepted = 0, flips = 0;

	for (uint32_t bit = 0; bit < sizeof(cap_ip4_data) * 8; bit++) {
		FRAME_FROM(&f, cap_ip4_data);
		f.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		flips++;
		if (parse_reason(&f) == PKT_DROP_NONE)
			accepted++;
	}
	/* Only flips in the MAC addresses (96 bits) escape every checksum. */
	assert_int_equal(accepted, 96);
	assert_int_equal(flips, sizeof(cap_ip4_data) * 8);
}

/* ---- builder ---- */

static void fill_synack(struct pkt_tcp_build *b)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->eth_src, mac_eng, 6);
	memcpy(b->eth_dst, mac_peer, 6);
	b->family = PKT_AF_INET;
	memcpy(b->src_addr, ip_10_77_0_1, 16);
	memcpy(b->dst_addr, ip_10_77_0_2, 16);
	b->src_port = 5201;
	b->dst_port = 40000;
	b->seq = 0x2044c911;
	b->ack = 0x7802df85;
	b->flags = PKT_TCP_SYN | PKT_TCP_ACK;
	b->window = 0xfe88;
	b->opts.present = PKT_OPT_MSS | PKT_OPT_SACK_PERM | PKT_OPT_TS | PKT_OPT_WSCALE;
	b->opts.mss = 1460;
	b->opts.wscale = 10;
	b->opts.ts_val = 0x51bfacee;
	b->opts.ts_ecr = 0x3870259c;
}

static void test_built_synack_matches_kernel_synack_byte_for_byte(void **state)
{
	struct pkt_tcp_build b;
	struct frame f = { .len = 0 };
	uint8_t want[sizeof(cap_ip4_synack_partial)];
	int n;

	fill_synack(&b);
	n = pkt_build_tcp(f.b, sizeof(f.b), &b);
	assert_int_equal(n, sizeof(cap_ip4_synack_partial));
	f.len = (uint32_t)n;
	/* The kernel left a partial TCP checksum; everything else must be identical. */
	memcpy(want, cap_ip4_synack_partial, sizeof(want));
	want[50] = f.b[50];
	want[51] = f.b[51];
	assert_memory_equal(f.b, want, sizeof(want));
	assert_true(ref_tcp_csum_ok(&f));
	assert_int_equal(ref_sum(0, f.b + 14, 20), 0xffff);
}

static void test_build_reply_swaps_endpoints_of_received_segment(void **state)
{
	struct pkt_info in;
	struct pkt_tcp_build b;

	assert_int_equal(pkt_parse(cap_ip4_syn, sizeof(cap_ip4_syn), 0, &in), PKT_DROP_NONE);
	pkt_tcp_build_reply(&b, &in);
	assert_memory_equal(b.eth_src, mac_eng, 6);
	assert_memory_equal(b.eth_dst, mac_peer, 6);
	assert_memory_equal(b.src_addr, ip_10_77_0_1, 16);
	assert_memory_equal(b.dst_addr, ip_10_77_0_2, 16);
	assert_int_equal(b.src_port, 5201);
	assert_int_equal(b.dst_port, 40000);
	assert_int_equal(b.family, PKT_AF_INET);
	assert_int_equal(b.seq, 0);
	assert_int_equal(b.opts.present, 0);
}

static void check_round_trip(const struct pkt_tcp_build *b)
{
	struct frame f = { .len = 0 };
	struct pkt_info in;
	int n;

	n = pkt_build_tcp(f.b, sizeof(f.b), b);
	assert_true(n > 0);
	f.len = (uint32_t)n;
	assert_true(ref_tcp_csum_ok(&f));
	assert_int_equal(parse(&f, &in), PKT_DROP_NONE);
	assert_int_equal(in.family, b->family);
	assert_int_equal(in.has_vlan, b->has_vlan);
	assert_int_equal(in.vlan_id, b->has_vlan ? b->vlan_id : 0);
	assert_memory_equal(in.eth_src, b->eth_src, 6);
	assert_memory_equal(in.eth_dst, b->eth_dst, 6);
	assert_memory_equal(in.src_addr, b->src_addr, 16);
	assert_memory_equal(in.dst_addr, b->dst_addr, 16);
	assert_int_equal(in.ttl, b->ttl ? b->ttl : 64);
	assert_int_equal(in.src_port, b->src_port);
	assert_int_equal(in.dst_port, b->dst_port);
	assert_int_equal(in.seq, b->seq);
	assert_int_equal(in.ack, b->ack);
	assert_int_equal(in.flags, b->flags);
	assert_int_equal(in.window, b->window);
	assert_int_equal(in.opts.present, b->opts.present);
	if (b->opts.present & PKT_OPT_MSS)
		assert_int_equal(in.opts.mss, b->opts.mss);
	if (b->opts.present & PKT_OPT_WSCALE)
		assert_int_equal(in.opts.wscale, b->opts.wscale);
	if (b->opts.present & PKT_OPT_TS) {
		assert_int_equal(in.opts.ts_val, b->opts.ts_val);
		assert_int_equal(in.opts.ts_ecr, b->opts.ts_ecr);
	}
	if (b->opts.present & PKT_OPT_SACK) {
		assert_int_equal(in.opts.nr_sack, b->opts.nr_sack);
		assert_memory_equal(in.opts.sack, b->opts.sack,
				    b->opts.nr_sack * sizeof(b->opts.sack[0]));
	}
	assert_int_equal(in.payload_len, 0);
}

/* Option bytes a segment needs, counted independently of the builder. */
static unsigned int opt_bytes(unsigned int present, unsigned int nr_sack)
{
	unsigned int n = 0;

	n += present & PKT_OPT_MSS ? 4 : 0;
	n += present & PKT_OPT_TS ? 12 : present & PKT_OPT_SACK_PERM ? 4 : 0;
	n += present & PKT_OPT_WSCALE ? 4 : 0;
	n += present & PKT_OPT_SACK ? 4 + 8 * nr_sack : 0;
	return n;
}

static void test_round_trip_every_option_combination_v4_v6_vlan(void **state)
{
	struct pkt_tcp_build b;
	unsigned int tried = 0;

	for (unsigned int fam = 0; fam < 2; fam++) {
		for (unsigned int vlan = 0; vlan < 2; vlan++) {
			for (unsigned int present = 0; present < 32; present++) {
				for (unsigned int nr = 1; nr <= PKT_SACK_MAX; nr++) {
					fill_synack(&b);
					if (fam) {
						b.family = PKT_AF_INET6;
						memcpy(b.src_addr, ip_fd77_1, 16);
						memcpy(b.dst_addr, ip_fd77_2, 16);
					}
					b.has_vlan = vlan;
					b.vlan_id = 4095;
					b.ttl = (uint8_t)(present * 7);
					b.flags = (uint8_t)(present * 37);
					b.seq = 0xfffffff0u + present;
					b.opts.present = (uint8_t)present;
					b.opts.nr_sack = (uint8_t)nr;
					for (unsigned int i = 0; i < nr; i++) {
						b.opts.sack[i].left = 0x01020304u * (i + 1);
						b.opts.sack[i].right = 0xf0e0d0c0u + i;
					}
					if (!(present & PKT_OPT_SACK) && nr > 1)
						continue;
					if (opt_bytes(present, nr) > PKT_TCP_OPT_MAX)
						continue;
					check_round_trip(&b);
					tried++;
				}
			}
		}
	}
	assert_true(tried > 100);
}

static void test_build_rejects_bad_arguments_with_errno(void **state)
{
	struct pkt_tcp_build b;
	uint8_t buf[PKT_BUILD_MAX];

	fill_synack(&b);
	assert_int_equal(pkt_build_tcp(buf, 73, &b), -ENOSPC);
	assert_int_equal(pkt_build_tcp(buf, 74, &b), 74);

	b.family = 5;
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), -EINVAL);

	fill_synack(&b);
	b.has_vlan = true;
	b.vlan_id = 4096;
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), -EINVAL);

	fill_synack(&b);
	b.opts.wscale = 15;
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), -EINVAL);

	fill_synack(&b);
	b.opts.present |= PKT_OPT_SACK;
	b.opts.nr_sack = 0;
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), -EINVAL);
	b.opts.nr_sack = 1; /* 20 + 12 = 32 bytes: fits */
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), 74 + 12);
	b.opts.nr_sack = 3; /* 20 + 28 = 48 bytes: too many */
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), -EMSGSIZE);
}

static void test_largest_built_frame_fits_pkt_build_max(void **state)
{
	struct pkt_tcp_build b;
	uint8_t buf[PKT_BUILD_MAX];

	memset(&b, 0, sizeof(b));
	b.family = PKT_AF_INET6;
	b.has_vlan = true;
	b.opts.present = PKT_OPT_SACK | PKT_OPT_MSS;
	b.opts.nr_sack = 4; /* 4 + 4 + 32 = 40 option bytes */
	assert_int_equal(pkt_build_tcp(buf, sizeof(buf), &b), PKT_BUILD_MAX);
}

/* ---- checksum helpers ---- */

static void test_csum_add_matches_naive_sum_for_all_lengths_and_alignments(void **state)
{
	uint8_t buf[300];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (uint32_t off = 0; off < 8; off++) {
		for (uint32_t len = 0; len + off <= 290; len++) {
			uint16_t got = pkt_csum_fold(pkt_csum_add(0, buf + off, len));
			uint8_t mem[2] = { 0 };
			uint16_t want;

			/* the helper sums in memory order: compare as bytes */
			ref_put16(mem, ref_sum(0, buf + off, len));
			memcpy(&want, mem, 2);
			if (!(got == want || (got == 0xffff && want == 0) ||
			      (got == 0 && want == 0xffff)))
				fail_msg("off %u len %u: got %04x want %04x", off, len, got, want);
		}
	}
}

static void test_csum_add_carries_out_of_64_bits(void **state)
{
	/* A start value whose bytes read the same in either order, close to 2^64. */
	const uint8_t start[8] = { 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe };
	uint8_t ones[64];
	uint8_t mem[2];
	uint16_t got, want;

	memset(ones, 0xff, sizeof(ones));
	ones[63] = 0xfe; /* the word sum is not a multiple of 0xffff */
	got = pkt_csum_fold(pkt_csum_add(0xfefefefefefefefeull, ones, sizeof(ones)));
	ref_put16(mem, ref_sum(ref_sum(0, start, 8), ones, sizeof(ones)));
	memcpy(&want, mem, 2);
	assert_int_equal(got, want);
}

static void test_csum_chained_even_then_odd_equals_whole(void **state)
{
	const uint8_t *p = cap_ip6_data;
	uint64_t whole = pkt_csum_add(0, p, 101);
	uint64_t chained = pkt_csum_add(pkt_csum_add(0, p, 38), p + 38, 63);

	assert_int_equal(pkt_csum_fold(whole), pkt_csum_fold(chained));
}

/* ---- sequence numbers ---- */

static void test_seq_compare_across_wraparound(void **state)
{
	assert_true(seq_lt(0xfffffff0u, 0x10));
	assert_false(seq_lt(0x10, 0xfffffff0u));
	assert_true(seq_gt(0x10, 0xfffffff0u));
	assert_true(seq_leq(0xffffffffu, 0));
	assert_true(seq_geq(0, 0xffffffffu));
	assert_int_equal(seq_diff(0x10, 0xfffffff0u), 0x20);
	assert_int_equal(seq_diff(0xfffffff0u, 0x10), -0x20);
}

static void test_seq_equal_values_are_leq_and_geq_but_not_lt_or_gt(void **state)
{
	assert_true(seq_leq(0x80000000u, 0x80000000u));
	assert_true(seq_geq(0x80000000u, 0x80000000u));
	assert_false(seq_lt(7, 7));
	assert_false(seq_gt(7, 7));
	assert_int_equal(seq_diff(7, 7), 0);
}

static void test_seq_ahead_by_less_than_half_the_space_is_greater(void **state)
{
	assert_true(seq_gt(0x7fffffffu, 0));
	assert_true(seq_lt(0x7fffffffu, 0x80000000u));
	assert_true(seq_lt(0x80000001u, 0)); /* 2^31 - 1 behind */
}

/* ---- names and counters ---- */

static void test_drop_names_are_the_stable_set(void **state)
{
	static const char *const want[PKT_DROP__COUNT] = {
		"none",	       "eth_short",    "vlan_short",  "not_ip",	      "ip4_short",
		"ip4_bad_ver", "ip4_bad_ihl",  "ip4_bad_len", "ip4_bad_csum", "ip4_fragment",
		"ip6_short",   "ip6_bad_ver",  "ip6_bad_len", "ip6_ext_hdr",  "not_tcp",
		"tcp_short",   "tcp_bad_doff", "tcp_bad_opt", "tcp_bad_csum", "tcp_partial_csum",
	};

	for (int i = 0; i < PKT_DROP__COUNT; i++)
		assert_string_equal(pkt_drop_str((enum pkt_drop)i), want[i]);
	assert_string_equal(pkt_drop_str(PKT_DROP__COUNT), "unknown");
	assert_string_equal(pkt_drop_str((enum pkt_drop)(-1)), "unknown");
}

static void test_drop_counters_count_each_reason_and_total_drops(void **state)
{
	struct pkt_drop_counters c = { { 0 } };
	struct pkt_info in;

	pkt_drop_count(&c, pkt_parse(cap_ip4_syn, sizeof(cap_ip4_syn), 0, &in));
	pkt_drop_count(&c, pkt_parse(cap_ip4_data_partial, sizeof(cap_ip4_data_partial), 0, &in));
	pkt_drop_count(&c, pkt_parse(cap_ip6_data_partial, sizeof(cap_ip6_data_partial), 0, &in));
	pkt_drop_count(&c, pkt_parse(cap_ip4_syn, 10, 0, &in));
	pkt_drop_count(&c, PKT_DROP__COUNT); /* out of range: ignored */
	assert_int_equal(c.n[PKT_DROP_NONE], 1);
	assert_int_equal(c.n[PKT_DROP_TCP_PARTIAL_CSUM], 2);
	assert_int_equal(c.n[PKT_DROP_ETH_SHORT], 1);
	assert_int_equal(pkt_drop_counters_dropped(&c), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_ipv4_syn_parses_every_field),
		cmocka_unit_test(test_captured_ipv4_data_segment_exposes_payload),
		cmocka_unit_test(test_captured_ipv6_syn_parses_every_field),
		cmocka_unit_test(test_captured_ipv6_data_segment_exposes_payload),
		cmocka_unit_test(test_vlan_tagged_ipv4_reports_vid_and_same_fields),
		cmocka_unit_test(test_vlan_tagged_ipv6_reports_vid_and_same_fields),
		cmocka_unit_test(test_ethernet_padding_after_ip_total_length_is_ignored),
		cmocka_unit_test(test_minimum_ethernet_frame_padded_to_60_bytes_parses),
		cmocka_unit_test(test_frame_shorter_than_ethernet_header_is_eth_short),
		cmocka_unit_test(test_truncated_vlan_tag_is_vlan_short),
		cmocka_unit_test(test_arp_frame_is_not_ip),
		cmocka_unit_test(test_second_vlan_tag_is_not_ip),
		cmocka_unit_test(test_ipv4_header_under_20_bytes_is_ip4_short),
		cmocka_unit_test(test_ipv4_ethertype_with_version_6_is_ip4_bad_ver),
		cmocka_unit_test(test_ipv4_ihl_below_5_is_ip4_bad_ihl),
		cmocka_unit_test(test_ipv4_ihl_past_total_length_is_ip4_bad_ihl),
		cmocka_unit_test(test_ipv4_total_length_past_frame_is_ip4_bad_len),
		cmocka_unit_test(test_ipv4_total_length_under_20_is_ip4_bad_len),
		cmocka_unit_test(test_ipv4_header_checksum_mismatch_is_ip4_bad_csum),
		cmocka_unit_test(test_ipv4_more_fragments_flag_is_ip4_fragment),
		cmocka_unit_test(test_ipv4_nonzero_fragment_offset_is_ip4_fragment),
		cmocka_unit_test(test_ipv4_udp_is_not_tcp),
		cmocka_unit_test(test_ipv6_header_under_40_bytes_is_ip6_short),
		cmocka_unit_test(test_ipv6_ethertype_with_version_4_is_ip6_bad_ver),
		cmocka_unit_test(test_ipv6_payload_length_past_frame_is_ip6_bad_len),
		cmocka_unit_test(test_ipv6_extension_headers_are_ip6_ext_hdr),
		cmocka_unit_test(test_ipv6_udp_icmpv6_and_no_next_header_are_not_tcp),
		cmocka_unit_test(test_ipv4_segment_under_20_bytes_is_tcp_short),
		cmocka_unit_test(test_ipv6_segment_under_20_bytes_is_tcp_short),
		cmocka_unit_test(test_tcp_data_offset_below_5_is_tcp_bad_doff),
		cmocka_unit_test(test_tcp_data_offset_past_segment_is_tcp_bad_doff),
		cmocka_unit_test(test_tcp_checksum_mismatch_is_tcp_bad_csum),
		cmocka_unit_test(test_captured_partial_checksums_are_tcp_partial_csum),
		cmocka_unit_test(test_field_equal_to_pseudo_header_sum_is_partial_not_bad),
		cmocka_unit_test(test_partial_csum_hint_names_the_ethtool_fix),
		cmocka_unit_test(test_skip_tcp_csum_flag_accepts_partial_and_bad_checksums),
		cmocka_unit_test(test_skip_ip4_csum_flag_accepts_bad_header_checksum),
		cmocka_unit_test(test_tcp_option_length_zero_is_dropped),
		cmocka_unit_test(test_tcp_option_length_one_is_dropped),
		cmocka_unit_test(test_tcp_option_length_past_header_is_dropped),
		cmocka_unit_test(test_tcp_option_kind_without_length_byte_is_dropped),
		cmocka_unit_test(test_tcp_options_after_eol_are_ignored_even_if_garbage),
		cmocka_unit_test(test_valid_option_after_eol_is_not_parsed),
		cmocka_unit_test(test_unknown_option_is_skipped_by_its_length),
		cmocka_unit_test(test_known_option_with_wrong_length_is_ignored),
		cmocka_unit_test(test_window_scale_above_14_is_clamped_to_14),
		cmocka_unit_test(test_sack_blocks_are_parsed_in_order),
		cmocka_unit_test(test_every_truncation_of_a_valid_frame_is_dropped),
		cmocka_unit_test(test_single_bit_flip_outside_mac_addresses_is_always_dropped),
		cmocka_unit_test(test_built_synack_matches_kernel_synack_byte_for_byte),
		cmocka_unit_test(test_build_reply_swaps_endpoints_of_received_segment),
		cmocka_unit_test(test_round_trip_every_option_combination_v4_v6_vlan),
		cmocka_unit_test(test_build_rejects_bad_arguments_with_errno),
		cmocka_unit_test(test_largest_built_frame_fits_pkt_build_max),
		cmocka_unit_test(test_csum_add_matches_naive_sum_for_all_lengths_and_alignments),
		cmocka_unit_test(test_csum_add_carries_out_of_64_bits),
		cmocka_unit_test(test_csum_chained_even_then_odd_equals_whole),
		cmocka_unit_test(test_seq_compare_across_wraparound),
		cmocka_unit_test(test_seq_equal_values_are_leq_and_geq_but_not_lt_or_gt),
		cmocka_unit_test(test_seq_ahead_by_less_than_half_the_space_is_greater),
		cmocka_unit_test(test_drop_names_are_the_stable_set),
		cmocka_unit_test(test_drop_counters_count_each_reason_and_total_drops),
	};

	int failed = cmocka_run_group_tests_name("pkt", tests, NULL, NULL);

	free(parsed_copy);
	return failed;
}
