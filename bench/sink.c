/* offrx-bench-sink: the kernel's own TCP receive path as a baseline for the engine. Listens on a
 * port, accepts N connections, reads each into a 256 KiB buffer and throws the bytes away, then
 * prints one JSON line with bytes and seconds per connection. It does no per-byte work at all,
 * so every CPU cycle it costs is the kernel's receive path plus recv()'s copy.
 *
 *   offrx-bench-sink --port 5201 --rcvbuf 512K --conns 1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define RECV_BUF  (256u << 10)
#define MAX_CONNS 1024

struct sink_conn {
	int fd;
	uint64_t bytes;
	double t_accept, t_eof;
	int rcvbuf; /* SO_RCVBUF as the kernel reports it (it doubles what was asked) */
	char remote[64];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: offrx-bench-sink --port P [options]\n"
		"Accept TCP connections with the kernel stack, read and discard everything, and\n"
		"print a JSON summary (bytes and seconds per connection) when N have closed.\n\n"
		"  -p, --port P       TCP port to listen on (required)\n"
		"  -b, --bind ADDR    IPv4 address to listen on (default: any)\n"
		"  -n, --conns N      connections to serve before exiting (default 1)\n"
		"  -r, --rcvbuf B     SO_RCVBUF of the listening socket, which accepted ones\n"
		"                     inherit (K, M suffixes; default 0: autotuning). Linux\n"
		"                     doubles it for its bookkeeping, up to net.core.rmem_max\n"
		"  -q, --quiet        no 'listening' line on stderr\n"
		"  -h, --help         this text\n\n"
		"seconds run from accept() to end of stream, as offrx-recv counts them from the\n"
		"new connection to its close.\n");
}

#define parse_u32(opt, v, min, max) bench_parse_u32("offrx-bench-sink", opt, v, min, max)
#define parse_size(opt, v, max)	    bench_parse_size("offrx-bench-sink", opt, v, max)

static int listen_on(const char *bind_addr, uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;
	int fd;

	if (bind_addr && inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "offrx-bench-sink: --bind '%s' is not an IPv4 address\n",
			bind_addr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("offrx-bench-sink: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Before listen(): the window scale offered in the SYN-ACK is chosen from it. */
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) {
		fprintf(stderr, "offrx-bench-sink: SO_RCVBUF %d: %s\n", rcvbuf, strerror(errno));
		goto out_fd;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr,
			"offrx-bench-sink: bind to port %u: %s (is something else on it?)\n", port,
			strerror(errno));
		goto out_fd;
	}
	if (listen(fd, 128)) {
		perror("offrx-bench-sink: listen");
		goto out_fd;
	}
	return fd;
out_fd:
	close(fd);
	return -1;
}

static void print_json(const struct sink_conn *c, uint32_t n, int rcvbuf_req, int rcvbuf_eff,
		       double seconds)
{
	uint64_t total = 0;

	/* The first "bytes"/"seconds" pair is the first connection's, as in offrx-recv. */
	printf("{\"connections\":[");
	for (uint32_t i = 0; i < n; i++) {
		double s = c[i].t_eof > 0 ? c[i].t_eof - c[i].t_accept : 0;
		printf("%s{\"remote\":\"%s\",\"bytes\":%" PRIu64 ",\"seconds\":%.6f,"
		       "\"gbit_s\":%.3f,\"so_rcvbuf\":%d}",
		       i ? "," : "", c[i].remote, c[i].bytes, s,
		       s > 0 ? c[i].bytes * 8 / s / 1e9 : 0.0, c[i].rcvbuf);
		total += c[i].bytes;
	}
	printf("],\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"rcvbuf_requested\":%d,"
	       "\"rcvbuf_effective\":%d}\n",
	       total, seconds, rcvbuf_req, rcvbuf_eff);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "conns", required_argument, NULL, 'n' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bind_addr = NULL;
	uint32_t nconns = 1, accepted = 0, open = 0;
	uint16_t port = 0;
	int rcvbuf = 0, rcvbuf_eff = 0, lfd, ch, ret = 1;
	bool quiet = false;
	struct sink_conn *c;
	struct pollfd *pfd;
	uint8_t *buf;

	while ((ch = getopt_long(argc, argv, "p:b:n:r:qh", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = (uint16_t)parse_u32("--port", optarg, 1, 65535);
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'n':
			nconns = parse_u32("--conns", optarg, 1, MAX_CONNS);
			break;
		case 'r':
			rcvbuf = (int)parse_size("--rcvbuf", optarg, 1u << 30);
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!port || !nconns || optind != argc) {
		fprintf(stderr, "offrx-bench-sink: --port P (1..65535) is needed, --conns at least "
				"1, and no other arguments\n");
		usage(stderr);
		return 2;
	}

	c = calloc(nconns, sizeof(*c));
	pfd = calloc(nconns + 1, sizeof(*pfd));
	buf = malloc(RECV_BUF);
	if (!c || !pfd || !buf) {
		fprintf(stderr, "offrx-bench-sink: out of memory\n");
		goto out_mem;
	}
	lfd = listen_on(bind_addr, port, rcvbuf);
	if (lfd < 0)
		goto out_mem;
	socklen_t sl = sizeof(rcvbuf_eff);
	getsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_eff, &sl);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!quiet)
		fprintf(stderr, "offrx-bench-sink: listening on port %u, SO_RCVBUF %d (asked %d)\n",
			port, rcvbuf_eff, rcvbuf);

	double t0 = now_s();
	/* pfd[0] is the listener while connections remain to accept; pfd[1 + i] is c[i]. */
	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	while (!stop && (accepted < nconns || open)) {
		int r = poll(pfd, accepted + 1, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("offrx-bench-sink: poll");
			goto out_listen;
		}
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_in peer;
			socklen_t pl = sizeof(peer);
			int fd = accept(lfd, (struct sockaddr *)&peer, &pl);
			if (fd >= 0) {
				struct sink_conn *sc = &c[accepted];
				char a[INET_ADDRSTRLEN] = "?";
				sc->fd = fd;
				sc->t_accept = now_s();
				inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
				snprintf(sc->remote, sizeof(sc->remote), "%s:%u", a,
					 ntohs(peer.sin_port));
				sl = sizeof(sc->rcvbuf);
				getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sc->rcvbuf, &sl);
				pfd[1 + accepted] = (struct pollfd){ .fd = fd, .events = POLLIN };
				accepted++;
				open++;
				if (accepted == nconns)
					pfd[0].fd = -1; /* poll() skips negative fds */
			}
		}
		for (uint32_t i = 0; i < accepted; i++) {
			if (pfd[1 + i].fd < 0 || !pfd[1 + i].revents)
				continue;
			/* Drain without waiting, so one poll() wakeup serves many segments. */
			for (;;) {
				ssize_t n = recv(c[i].fd, buf, RECV_BUF, MSG_DONTWAIT);
				if (n > 0) {
					c[i].bytes += (uint64_t)n;
					continue;
				}
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (n < 0)
					fprintf(stderr, "offrx-bench-sink: recv from %s: %s\n",
						c[i].remote, strerror(errno));
				c[i].t_eof = now_s();
				close(c[i].fd);
				pfd[1 + i].fd = -1;
				open--;
				break;
			}
		}
	}
	print_json(c, accepted, rcvbuf, rcvbuf_eff, now_s() - t0);
	ret = stop ? 1 : 0;
	for (uint32_t i = 0; i < accepted; i++)
		if (pfd[1 + i].fd >= 0)
			close(c[i].fd);
out_listen:
	close(lfd);
out_mem:
	free(buf);
	free(pfd);
	free(c);
	return ret;
}
