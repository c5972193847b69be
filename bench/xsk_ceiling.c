/* offrx-bench-xsk: the AF_XDP receive ceiling of the engine's own link, with no TCP at all.
 * Opens the link exactly as the engine does (xsk_link_open, same defaults), takes frames in
 * the engine's batch size, counts frames and TCP payload bytes, and hands them straight back.
 * Whatever the engine reaches above this is impossible; the gap below it is TCP and the core.
 *
 *   ip netns exec offrx-eng offrx-bench-xsk --iface eng0 --port 5201 --seconds 5
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "link_xsk.h"
#include "pkt.h"

/* TCP payload bytes of an untagged IPv4 frame, from the IP total length and the two header
 * lengths; 0 for anything else. The XDP program already sent only TCP to our port here.
 */
static uint32_t payload_len(const uint8_t *p, uint32_t len)
{
	if (len < PKT_ETH_HLEN + PKT_IP4_HLEN + PKT_TCP_HLEN || p[12] != 0x08 || p[13] != 0x00)
		return 0;
	const uint8_t *ip = p + PKT_ETH_HLEN;
	uint32_t ihl = (ip[0] & 0x0fu) * 4;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
	if (PKT_ETH_HLEN + ihl + PKT_TCP_HLEN > len)
		return 0;
	uint32_t doff = (ip[ihl + 12] >> 4) * 4u;
	return tot > ihl + doff ? tot - ihl - doff : 0;
}

#define parse_u32(opt, v, min, max) bench_parse_u32("offrx-bench-xsk", opt, v, min, max)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: offrx-bench-xsk [options]\n"
		"Receive on the offrx AF_XDP link with no TCP processing and print, as JSON, how\n"
		"many frames and payload bytes arrived and how fast. Needs root. Feed it with\n"
		"offrx-bench-blast from the peer.\n\n"
		"  -i, --iface IF        interface (default eng0)\n"
		"  -p, --port P          TCP port the XDP program steers to us (default 5201)\n"
		"  -q, --queue Q         rx queue (default 0)\n"
		"  -s, --seconds S       count for S seconds from the first frame (default 5)\n"
		"  -I, --idle-ms MS      stop early once no frame came for MS ms after the first\n"
		"                        (default 500)\n"
		"  -w, --wait S          give up if no frame came within S seconds (default 30)\n"
		"      --xdp-mode native|skb  XDP attach mode (default native, as the engine)\n"
		"      --busy-poll       spin on the rings instead of poll()\n"
		"      --verify          run the engine's parser (pkt_parse, checksums included)\n"
		"                        on every frame and count what it refuses: a check of\n"
		"                        the sender, which slows the receiver down\n"
		"  -h, --help            this text\n\n"
		"The rate is measured from the first frame to the last.\n");
}

#define parse_secs(opt, v) bench_parse_secs("offrx-bench-xsk", opt, v, 3600)

int main(int argc, char **argv)
{
	enum { O_XDP = 256, O_BUSY, O_VERIFY };
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "port", required_argument, NULL, 'p' },
		{ "queue", required_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "wait", required_argument, NULL, 'w' },
		{ "xdp-mode", required_argument, NULL, O_XDP },
		{ "busy-poll", no_argument, NULL, O_BUSY },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xsk_link_opts o = { .sz = sizeof(o), .ifname = "eng0" };
	uint16_t port = 5201;
	double seconds = 5, idle = 0.5, wait_first = 30;
	bool verify = false;
	struct pkt_drop_counters drops = { 0 };
	int ch;

	while ((ch = getopt_long(argc, argv, "i:p:q:s:I:w:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'p':
			port = (uint16_t)parse_u32("--port", optarg, 1, 65535);
			break;
		case 'q':
			o.queue = parse_u32("--queue", optarg, 0, 63);
			break;
		case 's':
			seconds = parse_secs("--seconds", optarg);
			break;
		case 'I':
			idle = parse_u32("--idle-ms", optarg, 1, 600000) / 1e3;
			break;
		case 'w':
			wait_first = parse_secs("--wait", optarg);
			break;
		case O_XDP:
			if (!strcmp(optarg, "native"))
				o.xdp_mode = XSK_LINK_MODE_NATIVE;
			else if (!strcmp(optarg, "skb"))
				o.xdp_mode = XSK_LINK_MODE_SKB;
			else {
				fprintf(stderr,
					"offrx-bench-xsk: --xdp-mode is native or skb, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case O_BUSY:
			o.busy_poll = true;
			break;
		case O_VERIFY:
			verify = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "offrx-bench-xsk: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	o.ports = &port;
	o.nports = 1;

	struct xsk_link *l;
	char err[512];
	int rc = xsk_link_open(&o, &l, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "offrx-bench-xsk: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "offrx-bench-xsk: receiving on %s port %u\n", o.ifname, port);

	struct xsk_frame f[XSK_LINK_BATCH];
	uint64_t frames = 0, bytes = 0, wire_bytes = 0;
	uint64_t first_frames = 0, first_bytes = 0; /* the batch that started the clock */
	double t_open = now_s(), t_first = 0, t_last = 0;
	bool timed_out = false;
	while (!stop) {
		uint32_t n = xsk_link_rx(l, f, XSK_LINK_BATCH);
		if (n) {
			for (uint32_t i = 0; i < n; i++) {
				bytes += payload_len(f[i].data, f[i].len);
				wire_bytes += f[i].len;
				if (verify) {
					struct pkt_info pi;
					pkt_drop_count(&drops,
						       pkt_parse(f[i].data, f[i].len, 0, &pi));
				}
			}
			xsk_link_rx_done(l, f, n);
			if (!frames) {
				t_first = now_s();
				first_frames = n;
				first_bytes = bytes;
			}
			frames += n;
			/* A clock read per batch, not per frame: cheap next to the batch. */
			t_last = now_s();
			if (t_last - t_first >= seconds)
				break;
			continue;
		}
		rc = xsk_link_wait(l, 10);
		if (rc < 0) {
			fprintf(stderr, "offrx-bench-xsk: waiting for frames: %s\n", strerror(-rc));
			break;
		}
		double t = now_s();
		if (frames && t - t_last >= idle)
			break;
		if (!frames && t - t_open >= wait_first) {
			fprintf(stderr,
				"offrx-bench-xsk: no frame in %.0f s: is offrx-bench-blast "
				"sending to this interface's MAC and port %u?\n",
				wait_first, port);
			timed_out = true;
			break;
		}
	}

	struct xsk_link_stats st;
	xsk_link_stats(l, &st);
	/* The first batch arrived before the clock started: the rate leaves it out. */
	double secs = t_last - t_first;
	uint64_t rate_frames = frames - first_frames, rate_bytes = bytes - first_bytes;
	printf("{\"frames\":%" PRIu64 ",\"payload_bytes\":%" PRIu64 ",\"wire_bytes\":%" PRIu64
	       ",\"seconds\":%.6f,\"frames_per_s\":%.0f,\"payload_gbit_s\":%.3f,"
	       "\"xsk\":{\"rx_dropped\":%" PRIu64 ",\"rx_ring_full\":%" PRIu64
	       ",\"rx_fill_ring_empty\":%" PRIu64 ",\"rx_invalid_descs\":%" PRIu64
	       "},\"xdp\":{\"redirected\":%" PRIu64 ",\"passed\":%" PRIu64 ",\"no_xsk\":%" PRIu64
	       "}}\n",
	       frames, bytes, wire_bytes, secs, secs > 0 ? rate_frames / secs : 0.0,
	       secs > 0 ? rate_bytes * 8 / secs / 1e9 : 0.0, st.rx_dropped, st.rx_ring_full,
	       st.rx_fill_ring_empty_descs, st.rx_invalid_descs, st.xdp_redirected, st.xdp_passed,
	       st.xdp_no_xsk);
	if (verify) {
		printf("{\"verified\":%" PRIu64 ",\"refused\":%" PRIu64, drops.n[PKT_DROP_NONE],
		       pkt_drop_counters_dropped(&drops));
		for (int i = 1; i < PKT_DROP__COUNT; i++)
			if (drops.n[i])
				printf(",\"%s\":%" PRIu64, pkt_drop_str(i), drops.n[i]);
		printf("}\n");
	}
	fflush(stdout);
	xsk_link_close(l);
	return timed_out || !frames ? 1 : 0;
}
