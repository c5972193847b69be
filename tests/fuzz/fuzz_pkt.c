/* Fuzz harness: any byte string as an Ethernet frame into pkt_parse(). An accepted frame must
 * be self-consistent (headers and payload inside the frame, lengths that add up, fields equal
 * to the bytes they came from); a refused one must carry a named drop reason. Every accepted
 * segment is also answered with pkt_build_tcp(), and the reply must parse back the same. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pkt.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_csum_reason(enum pkt_drop d)
{
	return d == PKT_DROP_IP4_BAD_CSUM || d == PKT_DROP_TCP_BAD_CSUM ||
	       d == PKT_DROP_TCP_PARTIAL_CSUM;
}

/* What an accepted frame must satisfy, checked against the raw bytes. */
static void check_accepted(const uint8_t *f, uint32_t len, const struct pkt_info *in)
{
	uint32_t l3 = in->l3_off, l4 = in->l4_off, ip_end;

	FUZZ_CHECK(in->family == PKT_AF_INET || in->family == PKT_AF_INET6);
	FUZZ_CHECK(l3 == (in->has_vlan ? PKT_ETH_HLEN + PKT_VLAN_HLEN : PKT_ETH_HLEN));
	if (in->has_vlan)
		FUZZ_CHECK(rd16(f + 12) == 0x8100 && in->vlan_id == (rd16(f + 14) & 0x0fff));
	FUZZ_CHECK(!memcmp(in->eth_dst, f, PKT_ETH_ALEN));
	FUZZ_CHECK(!memcmp(in->eth_src, f + PKT_ETH_ALEN, PKT_ETH_ALEN));
	if (in->family == PKT_AF_INET) {
		uint32_t ihl = (uint32_t)(f[l3] & 0x0f) * 4;

		FUZZ_CHECK(rd16(f + l3 - 2) == 0x0800 && f[l3] >> 4 == 4);
		FUZZ_CHECK(ihl >= PKT_IP4_HLEN && l4 == l3 + ihl);
		ip_end = l3 + rd16(f + l3 + 2);
		FUZZ_CHECK(f[l3 + 9] == 6 && (rd16(f + l3 + 6) & 0x3fff) == 0);
		FUZZ_CHECK(!memcmp(in->src_addr + PKT_ADDR_V4_OFF, f + l3 + 12, 4));
		FUZZ_CHECK(!memcmp(in->dst_addr + PKT_ADDR_V4_OFF, f + l3 + 16, 4));
		FUZZ_CHECK(in->src_addr[10] == 0xff && in->src_addr[11] == 0xff);
	} else {
		FUZZ_CHECK(rd16(f + l3 - 2) == 0x86dd && f[l3] >> 4 == 6);
		FUZZ_CHECK(l4 == l3 + PKT_IP6_HLEN && f[l3 + 6] == 6);
		ip_end = l4 + rd16(f + l3 + 4);
		FUZZ_CHECK(!memcmp(in->src_addr, f + l3 + 8, 16));
		FUZZ_CHECK(!memcmp(in->dst_addr, f + l3 + 24, 16));
	}
	/* The IP datagram lies in the frame, the TCP header in the datagram, the payload right
	 * after the header and up to the datagram's end (padding past it is not payload). */
	FUZZ_CHECK(ip_end <= len);
	FUZZ_CHECK(l4 + PKT_TCP_HLEN <= ip_end);
	uint32_t doff = (uint32_t)(f[l4 + 12] >> 4) * 4;
	FUZZ_CHECK(doff >= PKT_TCP_HLEN && l4 + doff <= ip_end);
	FUZZ_CHECK(in->payload == f + l4 + doff);
	FUZZ_CHECK(in->payload_len == ip_end - l4 - doff);
	FUZZ_CHECK(in->src_port == rd16(f + l4) && in->dst_port == rd16(f + l4 + 2));
	FUZZ_CHECK(in->seq == rd32(f + l4 + 4) && in->ack == rd32(f + l4 + 8));
	FUZZ_CHECK(in->flags == f[l4 + 13] && in->window == rd16(f + l4 + 14));
	FUZZ_CHECK(in->opts.wscale <= PKT_WSCALE_MAX);
	FUZZ_CHECK(in->opts.nr_sack <= PKT_SACK_MAX);
	FUZZ_CHECK(!(in->opts.present & PKT_OPT_SACK) || in->opts.nr_sack >= 1);
	FUZZ_CHECK(!(in->opts.present & ~(PKT_OPT_MSS | PKT_OPT_WSCALE | PKT_OPT_SACK_PERM |
					  PKT_OPT_TS | PKT_OPT_SACK)));

	/* Read every payload byte: ASan catches a payload pointer past the buffer. */
	volatile uint8_t sum = 0;
	for (uint32_t i = 0; i < in->payload_len; i++)
		sum ^= in->payload[i];
	(void)sum;
}

/* Answer the segment the way tcp_rx does and parse the answer back with checksums on. */
static void check_reply(const struct pkt_info *in)
{
	struct pkt_tcp_build b;
	struct pkt_info back;
	uint8_t buf[PKT_BUILD_MAX];

	pkt_tcp_build_reply(&b, in);
	b.seq = in->ack;
	b.ack = in->seq + in->payload_len;
	b.flags = (uint8_t)(in->flags | PKT_TCP_ACK);
	b.window = in->window;
	b.opts = in->opts;
	b.opts.present &= (uint8_t)~PKT_OPT_SACK;
	if (in->opts.present & PKT_OPT_SACK && in->opts.nr_sack <= 3)
		b.opts.present |= PKT_OPT_SACK;

	int n = pkt_build_tcp(buf, sizeof(buf), &b);
	if (n == -22 /* -EINVAL */ || n == -90 /* -EMSGSIZE: too many options at once */)
		return;
	FUZZ_CHECK(n > 0 && (uint32_t)n <= sizeof(buf));
	FUZZ_CHECK(pkt_build_tcp(buf, (uint32_t)n - 1, &b) < 0); /* never past cap */
	FUZZ_CHECK(pkt_parse(buf, (uint32_t)n, 0, &back) == PKT_DROP_NONE);
	FUZZ_CHECK(back.family == in->family && back.has_vlan == in->has_vlan);
	FUZZ_CHECK(back.src_port == in->dst_port && back.dst_port == in->src_port);
	FUZZ_CHECK(!memcmp(back.src_addr, in->dst_addr, 16));
	FUZZ_CHECK(!memcmp(back.dst_addr, in->src_addr, 16));
	FUZZ_CHECK(back.seq == b.seq && back.ack == b.ack && back.flags == b.flags);
	FUZZ_CHECK(back.window == b.window && back.payload_len == 0);
	FUZZ_CHECK(back.opts.present == b.opts.present);
	if (b.opts.present & PKT_OPT_MSS)
		FUZZ_CHECK(back.opts.mss == b.opts.mss);
	if (b.opts.present & PKT_OPT_WSCALE)
		FUZZ_CHECK(back.opts.wscale == b.opts.wscale);
	if (b.opts.present & PKT_OPT_TS)
		FUZZ_CHECK(back.opts.ts_val == b.opts.ts_val && back.opts.ts_ecr == b.opts.ts_ecr);
	if (b.opts.present & PKT_OPT_SACK) {
		FUZZ_CHECK(back.opts.nr_sack == b.opts.nr_sack);
		for (unsigned int i = 0; i < b.opts.nr_sack; i++)
			FUZZ_CHECK(back.opts.sack[i].left == b.opts.sack[i].left &&
				   back.opts.sack[i].right == b.opts.sack[i].right);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info strict, trusting;
	struct pkt_drop_counters cnt = { { 0 } };

	if (size > 65535)
		return 0; /* no frame is larger; the lengths in the headers are 16 bits */
	/* A private copy of exactly size bytes, so ASan sees any read past the frame. */
	uint8_t *f = malloc(size ? size : 1);
	if (!f)
		return 0;
	memcpy(f, data, size);
	uint32_t len = (uint32_t)size;

	enum pkt_drop ds = pkt_parse(f, len, 0, &strict);
	enum pkt_drop dt =
		pkt_parse(f, len, PKT_PARSE_NO_TCP_CSUM | PKT_PARSE_NO_IP4_CSUM, &trusting);

	for (int pass = 0; pass < 2; pass++) {
		enum pkt_drop d = pass ? dt : ds;
		const struct pkt_info *in = pass ? &trusting : &strict;

		FUZZ_CHECK((unsigned int)d < PKT_DROP__COUNT);
		FUZZ_CHECK(strcmp(pkt_drop_str(d), "unknown") != 0);
		pkt_drop_count(&cnt, d);
		if (d == PKT_DROP_NONE)
			check_accepted(f, len, in);
		else
			(void)pkt_drop_hint(d);
	}
	FUZZ_CHECK(pkt_drop_counters_dropped(&cnt) ==
		   (uint64_t)((ds != PKT_DROP_NONE) + (dt != PKT_DROP_NONE)));
	/* Trusting the checksums changes only the checksum verdicts. */
	if (!is_csum_reason(ds))
		FUZZ_CHECK(dt == ds);
	else
		FUZZ_CHECK(!is_csum_reason(dt));
	if (ds == PKT_DROP_NONE) {
		FUZZ_CHECK(!memcmp(&strict, &trusting, sizeof(strict)));
		check_reply(&strict);
	}
	if (dt == PKT_DROP_NONE)
		check_reply(&trusting);
	free(f);
	return 0;
}
