/* offrx-bench-blast: feed offrx-bench-xsk as fast as one core can. Prebuilds a ring of
 * Ethernet + IPv4 + TCP frames (full-MSS payload, TCP timestamps, both checksums valid, checked
 * with pkt_parse() before sending) and sends them with sendmmsg() on an AF_PACKET socket that
 * bypasses the qdisc. No TCP state: it measures the receive path's ceiling, not a peer.
 *
 * With --gso N each message is instead one TCP super-segment of N MSS with a virtio_net_hdr
 * (PACKET_VNET_HDR), which the kernel cuts into N frames in software, computing each checksum
 * (the veth has tx checksum offload off): the way a kernel TCP sender with GSO hands frames to
 * the veth, many per transmit call, and so many per receive softirq.
 *
 *   ip netns exec offrx-peer offrx-bench-blast --dst-mac 02:..:01 --seconds 5
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "pkt.h"

#define NFRAMES	  1024 /* distinct prebuilt frames, sent round-robin */
#define NSUPER	  64   /* distinct prebuilt super-segments with --gso */
#define MAX_BATCH 1024
#define MAX_GSO	  44 /* 44 * 1448 payload + headers stays under the 64 KiB IPv4 limit */
#define FRAME_MAX (PKT_BUILD_MAX + 65535)

#define parse_u32(opt, v, min, max) bench_parse_u32("offrx-bench-blast", opt, v, min, max)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: offrx-bench-blast --dst-mac MAC [options]\n"
		"Send prebuilt TCP frames (valid checksums, no connection) out of an interface\n"
		"as fast as possible with sendmmsg() on a raw AF_PACKET socket that bypasses the\n"
		"qdisc, then print frames/s as JSON. Needs root. Pair it with offrx-bench-xsk.\n\n"
		"  -i, --iface IF       interface to send on (default peer0)\n"
		"  -m, --dst-mac MAC    destination MAC, the receiver's (required)\n"
		"      --src IP         source IPv4 (default 10.77.0.2)\n"
		"      --dst IP         destination IPv4 (default 10.77.0.1)\n"
		"  -p, --port P         destination TCP port (default 5201)\n"
		"      --sport P        source TCP port (default 40000)\n"
		"  -l, --payload N      TCP payload bytes per frame (default 1448: a 1500-byte\n"
		"                       IP packet with TCP timestamps, as a kernel sender sends)\n"
		"  -s, --seconds S      send for S seconds (default 5)\n"
		"  -b, --batch N        messages per sendmmsg() (default 64, at most %d)\n"
		"  -g, --gso N          send N-segment TCP super-segments that the kernel splits\n"
		"                       (GSO, 2..%d; default: off, one frame per message)\n"
		"  -h, --help           this text\n\n"
		"Frames the receiver cannot take are dropped on its side: compare its count.\n",
		MAX_BATCH, MAX_GSO);
}

static void parse_ip4(const char *opt, const char *v, uint8_t addr[16])
{
	memset(addr, 0, 16);
	addr[10] = addr[11] = 0xff; /* IPv4-mapped, as pkt.h wants */
	if (inet_pton(AF_INET, v, addr + PKT_ADDR_V4_OFF) != 1) {
		fprintf(stderr, "offrx-bench-blast: %s wants an IPv4 address, not '%s'\n", opt, v);
		exit(2);
	}
}

/* Build one frame: header from pkt_build_tcp(), then the payload, then the IPv4 total length
 * and both checksums redone over the whole packet. With partial set, the TCP checksum field
 * holds only the folded pseudo-header sum, as GSO wants it (the kernel finishes each segment).
 */
static int build_frame(uint8_t *buf, const struct pkt_tcp_build *b, uint32_t payload, bool partial)
{
	int hlen = pkt_build_tcp(buf, FRAME_MAX, b);

	if (hlen < 0 || (uint32_t)hlen + payload > FRAME_MAX)
		return hlen < 0 ? hlen : -EMSGSIZE;
	uint8_t *ip = buf + PKT_ETH_HLEN;
	uint32_t ihl = (ip[0] & 0x0fu) * 4;
	uint8_t *tcp = ip + ihl;
	uint32_t tcp_len = (uint32_t)hlen - PKT_ETH_HLEN - ihl + payload;

	for (uint32_t i = 0; i < payload; i++)
		buf[hlen + i] = (uint8_t)(b->seq + i);
	uint16_t tot = htons((uint16_t)(ihl + tcp_len)), csum;
	memcpy(ip + 2, &tot, 2);
	memset(ip + 10, 0, 2);
	csum = (uint16_t)~pkt_csum_fold(pkt_csum_add(0, ip, ihl));
	memcpy(ip + 10, &csum, 2);
	memset(tcp + 16, 0, 2);
	uint64_t sum = pkt_csum_pseudo(PKT_AF_INET, b->src_addr, b->dst_addr, tcp_len);
	if (partial)
		csum = pkt_csum_fold(sum);
	else
		csum = (uint16_t)~pkt_csum_fold(pkt_csum_add(sum, tcp, tcp_len));
	memcpy(tcp + 16, &csum, 2);
	return hlen + (int)payload;
}

int main(int argc, char **argv)
{
	enum { O_SRC = 256, O_DST, O_SPORT };
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, O_SRC },
		{ "dst", required_argument, NULL, O_DST },
		{ "port", required_argument, NULL, 'p' },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "payload", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "gso", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pkt_tcp_build b = {
		.family = PKT_AF_INET,
		.src_port = 40000,
		.dst_port = 5201,
		.seq = 1,
		.ack = 1,
		.flags = PKT_TCP_ACK,
		.window = 512,
		.opts = { .present = PKT_OPT_TS, .ts_val = 1, .ts_ecr = 1 },
	};
	const char *ifname = "peer0";
	bool have_mac = false;
	uint32_t payload = 1448, batch = 64, gso = 0;
	double seconds = 5;
	int ch, ret = 1;

	parse_ip4("--src", "10.77.0.2", b.src_addr);
	parse_ip4("--dst", "10.77.0.1", b.dst_addr);
	while ((ch = getopt_long(argc, argv, "i:m:p:l:s:b:g:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'i':
			ifname = optarg;
			break;
		case 'm': {
			unsigned int m[6];
			char extra;
			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
				   &m[5], &extra) != 6) {
				fprintf(stderr,
					"offrx-bench-blast: --dst-mac wants xx:xx:xx:xx:xx:xx, not "
					"'%s' (see `ip link show` on the receiver)\n",
					optarg);
				return 2;
			}
			for (int i = 0; i < 6; i++)
				b.eth_dst[i] = (uint8_t)m[i];
			have_mac = true;
			break;
		}
		case O_SRC:
			parse_ip4("--src", optarg, b.src_addr);
			break;
		case O_DST:
			parse_ip4("--dst", optarg, b.dst_addr);
			break;
		case 'p':
			b.dst_port = (uint16_t)parse_u32("--port", optarg, 1, 65535);
			break;
		case O_SPORT:
			b.src_port = (uint16_t)parse_u32("--sport", optarg, 1, 65535);
			break;
		case 'l':
			payload = parse_u32("--payload", optarg, 0, 9000);
			break;
		case 's':
			seconds = bench_parse_secs("offrx-bench-blast", "--seconds", optarg, 3600);
			break;
		case 'b':
			batch = parse_u32("--batch", optarg, 1, MAX_BATCH);
			break;
		case 'g':
			gso = parse_u32("--gso", optarg, 2, MAX_GSO);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_mac || optind != argc) {
		fprintf(stderr, "offrx-bench-blast: --dst-mac is required, and nothing else may "
				"follow the options\n");
		usage(stderr);
		return 2;
	}

	int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
	if (fd < 0) {
		fprintf(stderr, "offrx-bench-blast: AF_PACKET socket: %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
		fprintf(stderr,
			"offrx-bench-blast: no interface '%s' here: %s (run it inside "
			"the peer namespace: ip netns exec PREFIX-peer ...)\n",
			ifname, strerror(errno));
		goto out_fd;
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "offrx-bench-blast: bind to %s: %s\n", ifname, strerror(errno));
		goto out_fd;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "offrx-bench-blast: MAC of %s: %s\n", ifname, strerror(errno));
		goto out_fd;
	}
	memcpy(b.eth_src, ifr.ifr_hwaddr.sa_data, PKT_ETH_ALEN);
	/* Straight to the driver: the qdisc would only add a lock and a queue to measure. Not
	 * with --gso: the direct path drops any packet that still needs segmenting, and the
	 * veth's qdisc is noqueue, so dev_queue_xmit() goes to the driver at once anyway.
	 */
	int one = 1;
	if (!gso && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr,
			"offrx-bench-blast: PACKET_QDISC_BYPASS: %s (going on through "
			"the qdisc)\n",
			strerror(errno));

	if (gso && (payload < 64 || gso * payload > 63 * 1024)) {
		fprintf(stderr,
			"offrx-bench-blast: --gso %u with --payload %u: the super-segment "
			"must stay under 64 KiB and the MSS at 64 bytes or more\n",
			gso, payload);
		goto out_fd;
	}
	if (gso && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) {
		fprintf(stderr, "offrx-bench-blast: PACKET_VNET_HDR (needed by --gso): %s\n",
			strerror(errno));
		goto out_fd;
	}
	uint32_t segs = gso ? gso : 1, nmsg = gso ? NSUPER : NFRAMES;
	size_t stride = PKT_BUILD_MAX + (size_t)segs * payload;
	uint8_t *frames = malloc(nmsg * stride);
	struct iovec *iov = calloc(2 * (size_t)nmsg, sizeof(*iov));
	struct mmsghdr *msg = calloc(nmsg, sizeof(*msg));
	struct virtio_net_hdr vh = { 0 };
	if (!frames || !iov || !msg) {
		fprintf(stderr, "offrx-bench-blast: out of memory\n");
		goto out_mem;
	}
	size_t frame_len = 0;
	for (uint32_t i = 0; i < nmsg; i++) {
		uint8_t *p = frames + (size_t)i * stride;
		int len = build_frame(p, &b, segs * payload, gso != 0);
		struct pkt_info pi;
		if (len < 0) {
			fprintf(stderr,
				"offrx-bench-blast: cannot build a frame with %u payload "
				"bytes: %s\n",
				segs * payload, strerror(-len));
			goto out_mem;
		}
		/* The frames must pass the engine's own parser, checksums included; a
		 * super-segment's TCP checksum is partial until the kernel splits it.
		 */
		enum pkt_drop d = pkt_parse(p, (uint32_t)len, gso ? PKT_PARSE_NO_TCP_CSUM : 0, &pi);
		if (d != PKT_DROP_NONE || pi.payload_len != segs * payload) {
			fprintf(stderr,
				"offrx-bench-blast: built frame %u refused by pkt_parse: %s\n", i,
				pkt_drop_str(d));
			goto out_mem;
		}
		if (gso) {
			vh = (struct virtio_net_hdr){
				.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				.hdr_len = (uint16_t)(pi.payload - p),
				.gso_size = (uint16_t)payload,
				.csum_start = pi.l4_off,
				.csum_offset = 16, /* the checksum field in the TCP header */
			};
			iov[2 * i] = (struct iovec){ &vh, sizeof(vh) }; /* the same for all */
		}
		iov[2 * i + 1] = (struct iovec){ p, (size_t)len };
		msg[i].msg_hdr.msg_iov = gso ? &iov[2 * i] : &iov[2 * i + 1];
		msg[i].msg_hdr.msg_iovlen = gso ? 2 : 1;
		frame_len = (size_t)len - (size_t)(segs - 1) * payload;
		b.seq += segs * payload;
		b.opts.ts_val++;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	uint64_t sent = 0, calls = 0, errors = 0;
	int last_err = 0;
	uint32_t next = 0;
	double t0 = now_s(), t = t0;
	while (!stop && t - t0 < seconds) {
		uint32_t n = batch < nmsg - next ? batch : nmsg - next;
		int r = sendmmsg(fd, msg + next, n, 0);
		calls++;
		if (r > 0) {
			sent += (uint64_t)r * segs;
			next = (next + (uint32_t)r) % nmsg;
		} else if (r < 0 && errno != EINTR) {
			/* ENOBUFS: the device queue is full; the next call tries again. */
			errors++;
			last_err = errno;
		}
		t = now_s();
	}
	double secs = t - t0;
	printf("{\"frames\":%" PRIu64 ",\"seconds\":%.6f,\"frames_per_s\":%.0f,"
	       "\"payload_gbit_s\":%.3f,\"frame_bytes\":%zu,\"gso\":%u,\"sendmmsg_calls\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"last_error\":\"%s\"}\n",
	       sent, secs, secs > 0 ? sent / secs : 0.0,
	       secs > 0 ? (double)sent * payload * 8 / secs / 1e9 : 0.0, frame_len, gso, calls,
	       errors, last_err ? strerror(last_err) : "");
	fflush(stdout);
	ret = 0;
out_mem:
	free(msg);
	free(iov);
	free(frames);
out_fd:
	close(fd);
	return ret;
}
