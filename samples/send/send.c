/* offrx-send: a kernel-TCP sender for tests and demos of the receive engine. It sends each
 * connection a deterministic stream (xoshiro256** seeded from --seed) in one of three patterns,
 * bulk, PSH-ended messages or a MSG_MORE trickle, and prints the stream's SHA-256 so that what a
 * receiver wrote to a file can be checked byte for byte.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "jw.h"
#include "num.h"

#ifndef OFFRX_VERSION
#define OFFRX_VERSION "unknown"
#endif

#define PROG "offrx-send"

#define STR_(x) #x
#define STR(x)	STR_(x)

#define EXIT_IO	   1
#define EXIT_USAGE 2

#define MS  (1000ull * 1000)
#define SEC (1000ull * MS)

#define CONNECT_TIMEOUT_S   10
#define CONNS_MAX	    1024
#define HOLD_CONNS_MAX	    65536 /* hold: one thread, poll, no thread per connection */
#define CHURN_BYTES_DEFAULT 4096
#define CHURN_BYTES_MAX	    (16u << 20)
#define CHURN_RATE_DEFAULT  100
#define CHURN_RATE_MAX	    100000
#define CHURN_GIVE_UP_S	    30 /* a churn connection not done by then counts as failed */
#define HOLD_INTERVAL_MS    600
#define BULK_BYTES_DEFAULT  (256ull << 20)
#define BULK_WRITE_DEFAULT  (256u << 10)
#define MSG_SIZE_DEFAULT    1024
#define MSG_SIZE_MAX	    (64u << 20)
#define COUNT_DEFAULT	    100
#define INTERVAL_MS_DEFAULT 10
#define INTERVAL_MS_MAX	    3600000u
#define LINGER_S_DEFAULT    10
#define LINGER_S_MAX	    3600
#define WAIT_RECEIVER_S_MAX 600
#define REFUSED_RETRY_MS    50	  /* between connects while --wait-receiver lasts */
#define MSS_MIN		    88	  /* TCP_MIN_MSS */
#define MSS_MAX		    32767 /* MAX_TCP_WINDOW: the kernel refuses larger TCP_MAXSEG */
#define DURATION_MAX	    1e7
#define NO_DEADLINE	    UINT64_MAX

#define CONNECT_TIMEOUT_HINT     \
	"no answer within " STR( \
		CONNECT_TIMEOUT_S) " s; check that the host is up and not firewalled"

enum pattern { PAT_BULK, PAT_MESSAGES, PAT_TRICKLE, PAT_CHURN, PAT_HOLD, PAT__COUNT };

static const char *const pattern_names[] = { "bulk", "messages", "trickle", "churn", "hold" };

struct opts {
	enum pattern pattern;
	const char *target;
	uint64_t bytes; /* per connection */
	uint64_t count;
	uint64_t msg_size;
	uint64_t interval_ms;
	uint64_t seed;
	uint64_t conns;
	uint64_t rate; /* churn: connections opened per second */
	uint64_t sndbuf;
	double duration; /* seconds; 0: no limit */
	const char *bind;
	uint64_t mss;
	uint64_t linger_s;	  /* 0: close without waiting for the acknowledgements */
	uint64_t wait_receiver_s; /* retry a refused connect this long (the receiver is starting) */
	bool bytes_set, count_set, msg_size_set, interval_set, rate_set;
	bool rst, json, quiet;
};

/* The stream: xoshiro256** seeded through splitmix64, each 64-bit output stored little-endian.
 * Bytes left over from a word carry into the next fill, so the stream does not depend on how it
 * is cut into writes.
 */
struct stream {
	uint64_t s[4];
	uint8_t word[8];
	unsigned used; /* bytes of word already handed out; 8 when empty */
};

struct conn {
	unsigned id;
	int fd;
	const struct opts *o;
	const char *peer;
	uint64_t deadline;
	struct stream st;
	EVP_MD_CTX *md;
	uint64_t sent; /* read by the progress line: __atomic only */
	uint64_t writes;
	uint64_t t0, t1;
	int mss;
	char local[INET6_ADDRSTRLEN + 16]; /* our end, ADDR:PORT: how a receiver names us */
	bool failed;
	bool done; /* set last by the thread: __atomic only */
	char sha256[65];
	char err[512];
	pthread_t thread;
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static void stream_init(struct stream *st, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		st->s[i] = splitmix64(&x);
	st->used = sizeof(st->word);
}

static void stream_fill(struct stream *st, uint8_t *buf, size_t len)
{
	uint64_t w;

	while (len && st->used < sizeof(st->word)) {
		*buf++ = st->word[st->used++];
		len--;
	}
	while (len >= sizeof(w)) {
		w = htole64(xoshiro_next(st->s));
		memcpy(buf, &w, sizeof(w));
		buf += sizeof(w);
		len -= sizeof(w);
	}
	if (len) {
		w = htole64(xoshiro_next(st->s));
		memcpy(st->word, &w, sizeof(w));
		memcpy(buf, st->word, len);
		st->used = len;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / SEC, .tv_nsec = ns % SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const char *fmt_rate(char *buf, size_t len, double bits_per_s)
{
	static const char *const units[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	unsigned u = 0;

	while (bits_per_s >= 1000 && u < 4) {
		bits_per_s /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", bits_per_s, units[u]);
	return buf;
}

static const char *fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, units[u]);
	return buf;
}

static double rate_of(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 8 * SEC / (double)ns : 0;
}

/* --- usage ------------------------------------------------------------------------------- */

static const char usage_text[] =
	"Usage: offrx-send [OPTIONS] ADDR:PORT\n"
	"\n"
	"Connect to ADDR:PORT over kernel TCP (10.77.0.1:5201, or [fd00::1]:5201\n"
	"for IPv6) and send each connection a deterministic stream, to drive the\n"
	"offrx receive engine in tests and demos. Connection i sends xoshiro256**\n"
	"output seeded from SEED+i and prints its SHA-256, so that the receiver's\n"
	"copy can be checked with sha256sum.\n"
	"\n"
	"Patterns (-p):\n"
	"  bulk      --bytes N (default 256M) as fast as possible, in send()s of\n"
	"            --msg-size bytes (default 256K). Segments are full-sized.\n"
	"  messages  --count C messages (default 100) of --msg-size S bytes\n"
	"            (default 1024), one every --interval-ms I (default 10).\n"
	"            TCP_NODELAY is on and each message is one send(), so it\n"
	"            leaves at once and its last segment carries PSH. Only a full\n"
	"            send buffer splits a message (a PSH may then fall inside it);\n"
	"            with I near 0, autocorking (net.ipv4.tcp_autocorking) may\n"
	"            merge messages into one segment, still ending with PSH.\n"
	"  trickle   --count C writes (default 100) of S bytes (default 1024)\n"
	"            every I ms, with send(MSG_MORE) and TCP_NODELAY off, so the\n"
	"            kernel holds the partial tail of the send queue. What leaves:\n"
	"            - a full-MSS segment, as soon as it fills: no PSH;\n"
	"            - the held partial segment, when an ACK for earlier data\n"
	"              arrives: no PSH;\n"
	"            - with nothing in flight, what the kernel holds after about\n"
	"              200 ms (the floor of the retransmission timeout; more on\n"
	"              long paths): WITH PSH.\n"
	"            To keep PSH off the wire, fill an MSS well within 200 ms:\n"
	"            S * 200 / I > MSS. Lower the MSS with --mss (the payload per\n"
	"            segment is the MSS less 12 bytes of TCP timestamps), e.g.\n"
	"            -s 100 -i 5 --mss 1000. The last write is a plain send()\n"
	"            (PSH), then the FIN. In between, the receiver's push timer,\n"
	"            not PSH, decides its latency.\n"
	"  churn     connection churn: open --rate R connections a second\n"
	"            (default 100), each sending --bytes N (default 4K) and\n"
	"            closing with FIN, for --duration S or --count C\n"
	"            connections in all; one thread, non-blocking connects, so\n"
	"            a lost SYN delays one connection, not the rest.\n"
	"            Connection i still sends the stream of SEED+i.\n"
	"  hold      many long connections each with a trickle: open --conns N\n"
	"            (up to 65536, one thread; RLIMIT_NOFILE is raised), then\n"
	"            every --interval-ms I (default 600) write one piece on each,\n"
	"            staggered over the interval, with MSG_MORE: a piece is one\n"
	"            full segment (the connection's MSS, or --msg-size), so it\n"
	"            leaves at once without PSH and the receiver's push timer\n"
	"            completes it. --count C rounds or --duration S; the last\n"
	"            piece is a plain send() (PSH), then the FIN.\n"
	"\n"
	"Options:\n"
	"  -p, --pattern P      bulk, messages, trickle, churn or hold (default\n"
	"                       bulk)\n"
	"  -n, --bytes N        bytes per connection; K, M, G mean KiB, MiB, GiB.\n"
	"                       With messages or trickle, instead of --count:\n"
	"                       the last piece is shorter if S does not divide N\n"
	"  -c, --count C        messages or writes per connection\n"
	"  -s, --msg-size S     bytes per message or write (K, M suffixes)\n"
	"  -i, --interval-ms I  milliseconds between messages or writes\n"
	"  -S, --seed N         stream seed (default 1); connection i uses N+i\n"
	"  -C, --conns N        parallel connections, a thread each (max 1024;\n"
	"                       hold: max 65536 on one thread)\n"
	"      --rate R         churn: connections opened per second (default 100)\n"
	"  -d, --duration S     stop sending after S seconds (2.5 is fine); with\n"
	"                       no --bytes or --count, send until then\n"
	"  -b, --bind ADDR      local address to connect from\n"
	"      --sndbuf B       SO_SNDBUF (K, M suffixes; net.core.wmem_max caps it)\n"
	"      --mss N          TCP_MAXSEG before connecting (88 to 32767)\n"
	"      --linger[=S]     after the FIN, wait until the receiver has\n"
	"                       acknowledged everything (at most S s, default 10);\n"
	"                       the time printed then counts delivery\n"
	"      --wait-receiver S  while the receiver refuses the connection (it is\n"
	"                       still starting), try again every 50 ms for up to\n"
	"                       S seconds instead of failing at once\n"
	"      --rst            close with RST (SO_LINGER 0) instead of FIN; data\n"
	"                       not yet sent is dropped, unless --linger is given\n"
	"      --json           a JSON object per line: each connection (with its\n"
	"                       local ADDR:PORT), the total\n"
	"  -q, --quiet          no progress line, no text summary (errors remain)\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Prints 'conn I: sent N bytes in T s (RATE) sha256 HEX' per connection,\n"
	"and a total when there are several; the hash covers exactly the bytes the\n"
	"kernel accepted. Connecting gives up after 10 s.\n"
	"Exit status: 0 success, 1 connection or I/O error, 2 bad usage.\n"
	"See offrx-send(1).\n";

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	exit(EXIT_USAGE);
}

/* --- argument parsing -------------------------------------------------------------------- */

static uint64_t parse_num(const char *opt, const char *s, bool suffix, uint64_t min, uint64_t max)
{
	const char *hint = suffix ? "a number with an optional K, M or G suffix, e.g. 256M"
				  : "a whole number, e.g. 10";
	uint64_t v = 0;
	int r = suffix ? num_size(s, min, max, &v) : num_u64(s, min, max, &v);

	if (r == NUM_BAD_SUFFIX)
		usage_error("%s: '%s' has an unknown suffix (use %s)", opt, s, hint);
	if (r == NUM_RANGE)
		usage_error("%s: '%s' is out of range (use %" PRIu64 " to %" PRIu64 ")", opt, s,
			    min, max);
	if (r)
		usage_error("%s: '%s' is not a number (use %s)", opt, s, hint);
	return v;
}

static double parse_seconds(const char *opt, const char *s)
{
	double v = 0;

	if (num_double(s, 0, DURATION_MAX, &v) || !(v > 0))
		usage_error("%s: '%s' is not a duration (use seconds greater than 0, e.g. 2.5)",
			    opt, s);
	return v;
}

enum {
	OPT_SNDBUF = 256,
	OPT_MSS,
	OPT_LINGER,
	OPT_WAIT_RECEIVER,
	OPT_RST,
	OPT_JSON,
	OPT_RATE,
};

static const struct option long_opts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "bytes", required_argument, NULL, 'n' },
	{ "count", required_argument, NULL, 'c' },
	{ "msg-size", required_argument, NULL, 's' },
	{ "interval-ms", required_argument, NULL, 'i' },
	{ "seed", required_argument, NULL, 'S' },
	{ "conns", required_argument, NULL, 'C' },
	{ "duration", required_argument, NULL, 'd' },
	{ "bind", required_argument, NULL, 'b' },
	{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
	{ "mss", required_argument, NULL, OPT_MSS },
	{ "linger", optional_argument, NULL, OPT_LINGER },
	{ "wait-receiver", required_argument, NULL, OPT_WAIT_RECEIVER },
	{ "rst", no_argument, NULL, OPT_RST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .seed = 1, .conns = 1, .interval_ms = INTERVAL_MS_DEFAULT };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:n:c:s:i:S:C:d:b:qhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			int p = 0;

			while (p < PAT__COUNT && strcmp(optarg, pattern_names[p]))
				p++;
			if (p == PAT__COUNT)
				usage_error("--pattern: '%s' is not a pattern (use bulk, messages, "
					    "trickle, churn or hold)",
					    optarg);
			o->pattern = p;
			break;
		}
		case 'n':
			o->bytes = parse_num("--bytes", optarg, true, 0, UINT64_MAX);
			o->bytes_set = true;
			break;
		case 'c':
			o->count = parse_num("--count", optarg, false, 0, UINT64_MAX);
			o->count_set = true;
			break;
		case 's':
			o->msg_size = parse_num("--msg-size", optarg, true, 1, MSG_SIZE_MAX);
			o->msg_size_set = true;
			break;
		case 'i':
			o->interval_ms =
				parse_num("--interval-ms", optarg, false, 0, INTERVAL_MS_MAX);
			o->interval_set = true;
			break;
		case 'S':
			o->seed = parse_num("--seed", optarg, false, 0, UINT64_MAX);
			break;
		case 'C':
			o->conns = parse_num("--conns", optarg, false, 1, HOLD_CONNS_MAX);
			break;
		case 'd':
			o->duration = parse_seconds("--duration", optarg);
			break;
		case 'b':
			o->bind = optarg;
			break;
		case OPT_SNDBUF:
			o->sndbuf = parse_num("--sndbuf", optarg, true, 1, INT_MAX / 2);
			break;
		case OPT_MSS:
			o->mss = parse_num("--mss", optarg, false, MSS_MIN, MSS_MAX);
			break;
		case OPT_LINGER:
			o->linger_s = optarg ? parse_num("--linger", optarg, false, 1, LINGER_S_MAX)
					     : LINGER_S_DEFAULT;
			break;
		case OPT_WAIT_RECEIVER:
			o->wait_receiver_s =
				parse_num("--wait-receiver", optarg, false, 1, WAIT_RECEIVER_S_MAX);
			break;
		case OPT_RST:
			o->rst = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_RATE:
			o->rate = parse_num("--rate", optarg, false, 1, CHURN_RATE_MAX);
			o->rate_set = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf(PROG " (offrx) " OFFRX_VERSION "\n");
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		usage_error("expected one ADDR:PORT to connect to, got %d arguments",
			    argc - optind);
	o->target = argv[optind];

	if (o->rate_set && o->pattern != PAT_CHURN)
		usage_error("--rate applies to --pattern churn only");
	if (o->conns > CONNS_MAX && o->pattern != PAT_HOLD)
		usage_error("--conns %" PRIu64 ": at most %d connections with a thread each (use "
			    "--pattern hold for more)",
			    o->conns, CONNS_MAX);
	if (o->pattern == PAT_CHURN) {
		if (o->conns > 1 || o->interval_set || o->msg_size_set || o->rst || o->linger_s)
			usage_error("--pattern churn takes --rate, --bytes, --count (connections) "
				    "and --duration; not --conns, --interval-ms, --msg-size, "
				    "--rst or --linger");
		if (!o->rate_set)
			o->rate = CHURN_RATE_DEFAULT;
		if (!o->bytes_set)
			o->bytes = CHURN_BYTES_DEFAULT;
		if (o->bytes > CHURN_BYTES_MAX)
			usage_error("--bytes %" PRIu64 ": churn connections send at most %u bytes",
				    o->bytes, CHURN_BYTES_MAX);
		if (!o->count_set && o->duration == 0)
			usage_error("--pattern churn needs --duration S or --count C");
		if (!o->count_set)
			o->count = UINT64_MAX;
		return;
	}
	if (o->pattern == PAT_HOLD) {
		if (o->bytes_set || o->rst)
			usage_error("--pattern hold takes --conns, --interval-ms, --msg-size, "
				    "--count (rounds) and --duration; not --bytes or --rst");
		if (!o->interval_set)
			o->interval_ms = HOLD_INTERVAL_MS;
		if (o->interval_ms == 0)
			usage_error("--pattern hold needs --interval-ms of 1 or more");
		if (!o->count_set)
			o->count = o->duration > 0 ? UINT64_MAX : COUNT_DEFAULT;
		return;
	}

	if (o->pattern == PAT_BULK) {
		if (o->count_set)
			usage_error("--count does not apply to --pattern bulk (use --bytes)");
		if (o->interval_set)
			usage_error("--interval-ms does not apply to --pattern bulk (use "
				    "--pattern messages or trickle)");
		if (!o->msg_size_set)
			o->msg_size = BULK_WRITE_DEFAULT;
		if (!o->bytes_set && o->duration == 0)
			o->bytes = BULK_BYTES_DEFAULT;
		if (!o->bytes_set && o->duration > 0)
			o->bytes = UINT64_MAX;
		return;
	}
	if (o->count_set && o->bytes_set)
		usage_error("give --count or --bytes, not both (--bytes N sends N bytes in "
			    "--msg-size pieces)");
	if (!o->msg_size_set)
		o->msg_size = MSG_SIZE_DEFAULT;
	if (!o->count_set && !o->bytes_set && o->duration == 0) {
		o->count = COUNT_DEFAULT;
		o->count_set = true;
	}
	if (o->count_set) {
		if (o->count > UINT64_MAX / o->msg_size)
			usage_error("--count %" PRIu64 " of --msg-size %" PRIu64
				    " bytes is more than 2^64 bytes (lower the count)",
				    o->count, o->msg_size);
		o->bytes = o->count * o->msg_size;
	} else if (!o->bytes_set) {
		o->bytes = UINT64_MAX;
	}
}

/* --- addresses and connecting ------------------------------------------------------------ */

static void split_target(const char *target, char *host, size_t hostlen, const char **port)
{
	const char *s = target, *colon;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			usage_error("'%s' is not [IPV6]:PORT (e.g. [fd00::1]:5201)", s);
		n = close - s - 1;
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			usage_error("'%s' has no port (use ADDR:PORT, e.g. 10.77.0.1:5201 or "
				    "[fd00::1]:5201)",
				    s);
		if (strchr(s, ':') != colon)
			usage_error("'%s': put an IPv6 address in brackets, e.g. [fd00::1]:5201",
				    s);
		n = colon - s;
	}
	if (n == 0 || n >= hostlen)
		usage_error("'%s' has no usable address before the port (use ADDR:PORT)", target);
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	uint64_t pn;
	if (num_u64(*port, 1, 65535, &pn))
		usage_error("'%s': the port '%s' is not a number from 1 to 65535 (use ADDR:PORT)",
			    target, *port);
}

static void format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, buflen, "?");
		return;
	}
	snprintf(buf, buflen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static const char *connect_hint(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "is the receiver running on that port?";
	case ETIMEDOUT:
		return CONNECT_TIMEOUT_HINT;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return "no route to it; check the address and 'ip route get ADDR'";
	case EADDRNOTAVAIL:
		return "is the --bind address configured on a local interface? see 'ip addr'";
	case EACCES:
	case EPERM:
		return "a firewall rule or security policy refused it";
	default:
		return "check the address, the port and that the receiver accepts connections";
	}
}

static const char *send_hint(int err)
{
	switch (err) {
	case EPIPE:
	case ECONNRESET:
		return "the receiver closed or reset the connection before the stream ended";
	case ETIMEDOUT:
		return "the receiver stopped acknowledging; is it still running and reachable?";
	default:
		return "check the receiver and the path to it";
	}
}

static int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

/* Open one connection to ai; on failure, describe it in err and return -1 (-2: refused). */
static int conn_try_open(const struct opts *o, const struct addrinfo *ai,
			 const struct addrinfo *local, const char *who, char *err, size_t errlen)
{
	char peer[INET6_ADDRSTRLEN + 16];
	struct pollfd p;
	int fd, r;

	format_addr(ai->ai_addr, ai->ai_addrlen, peer, sizeof(peer));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		snprintf(err, errlen,
			 PROG ": %ssocket for %s: %s (raise 'ulimit -n' or lower --conns)", who,
			 peer, strerror(errno));
		return -1;
	}
	if (o->sndbuf && (r = set_int(fd, SOL_SOCKET, SO_SNDBUF, (int)o->sndbuf))) {
		snprintf(err, errlen, PROG ": %s--sndbuf %" PRIu64 ": %s (use a smaller size)", who,
			 o->sndbuf, strerror(-r));
		goto fail;
	}
	if (o->mss && (r = set_int(fd, IPPROTO_TCP, TCP_MAXSEG, (int)o->mss))) {
		snprintf(err, errlen, PROG ": %s--mss %" PRIu64 ": %s (use 88 to 32767)", who,
			 o->mss, strerror(-r));
		goto fail;
	}
	if (o->pattern != PAT_BULK &&
	    (r = set_int(fd, IPPROTO_TCP, TCP_NODELAY, o->pattern == PAT_MESSAGES))) {
		snprintf(err, errlen, PROG ": %ssetting TCP_NODELAY: %s (this kernel is unusual)",
			 who, strerror(-r));
		goto fail;
	}
	if (local && bind(fd, local->ai_addr, local->ai_addrlen)) {
		snprintf(err, errlen, PROG ": %sbind to %s: %s (%s)", who, o->bind, strerror(errno),
			 connect_hint(errno));
		goto fail;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS && errno != EINTR) {
		r = errno;
		goto fail_connect;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	do {
		r = poll(&p, 1, CONNECT_TIMEOUT_S * 1000);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		r = errno;
		goto fail_connect;
	}
	r = r == 0 ? ETIMEDOUT : sock_error(fd);
	if (r)
		goto fail_connect;
	return fd;

fail_connect:
	snprintf(err, errlen, PROG ": %sconnect to %s: %s (%s)", who, peer, strerror(r),
		 connect_hint(r));
	close(fd);
	return r == ECONNREFUSED ? -2 : -1;
fail:
	close(fd);
	return -1;
}

/* conn_try_open, and with --wait-receiver, again while the receiver refuses: a receiver that
 * is still attaching (offrx-recv before its XDP program is in place) lets the kernel answer RST.
 */
static int conn_open(const struct opts *o, const struct addrinfo *ai, const struct addrinfo *local,
		     const char *who, char *err, size_t errlen)
{
	uint64_t end = now_ns() + o->wait_receiver_s * SEC;
	int fd;

	while ((fd = conn_try_open(o, ai, local, who, err, errlen)) == -2 && now_ns() < end) {
		struct timespec ts = { 0, REFUSED_RETRY_MS * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (fd == -2 && o->wait_receiver_s) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "; still refused after --wait-receiver %" PRIu64 " s",
			 o->wait_receiver_s);
	}
	return fd < 0 ? -1 : fd;
}

/* --- sending ------------------------------------------------------------------------------ */

/* Wait until fd is writable. Returns 0, 1 when the deadline passed first, or -errno. */
static int wait_writable(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int timeout = -1, r;

		if (deadline != NO_DEADLINE) {
			uint64_t now = now_ns(), ms;

			if (now >= deadline)
				return 1;
			ms = (deadline - now + MS - 1) / MS;
			timeout = ms > INT_MAX ? INT_MAX : (int)ms;
		}
		r = poll(&p, 1, timeout);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return 0; /* writable, or an error that the next send() reports */
	}
}

/* Send all of buf, hashing exactly what the kernel accepts, so that a run stopped by the
 * deadline in the middle of a write still hashes the stream the receiver gets. Returns 0, 1
 * when the deadline passed first, or -errno.
 */
static int send_all(struct conn *c, const uint8_t *buf, size_t len, int flags)
{
	while (len) {
		ssize_t n = send(c->fd, buf, len, flags | MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			EVP_DigestUpdate(c->md, buf, n);
			__atomic_fetch_add(&c->sent, (uint64_t)n, __ATOMIC_RELAXED);
			c->writes++;
			buf += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = wait_writable(c->fd, c->deadline);
		if (r)
			return r;
	}
	return 0;
}

static int run_bulk(struct conn *c, uint8_t *buf)
{
	uint64_t left = c->o->bytes;

	while (left && now_ns() < c->deadline) {
		size_t n = left < c->o->msg_size ? left : c->o->msg_size;
		int r;

		stream_fill(&c->st, buf, n);
		r = send_all(c, buf, n, 0);
		if (r)
			return r < 0 ? r : 0;
		if (left != UINT64_MAX)
			left -= n;
	}
	return 0;
}

/* messages and trickle: one piece every interval, on an absolute schedule so that a late
 * wake-up does not push every later piece back.
 */
static int run_paced(struct conn *c, uint8_t *buf)
{
	const struct opts *o = c->o;
	uint64_t interval = o->interval_ms * MS;
	int more = o->pattern == PAT_TRICKLE ? MSG_MORE : 0;
	uint64_t left = o->bytes;

	for (uint64_t k = 0; left; k++) {
		uint64_t when = c->t0 + k * interval;
		bool last;
		size_t n;
		int r;

		if (when >= c->deadline)
			break;
		sleep_until(when);
		if (now_ns() >= c->deadline)
			break;
		n = left < o->msg_size ? left : o->msg_size;
		if (left != UINT64_MAX)
			left -= n;
		last = !left || (c->deadline != NO_DEADLINE && when + interval >= c->deadline);
		stream_fill(&c->st, buf, n);
		r = send_all(c, buf, n, last ? 0 : more);
		if (r)
			return r < 0 ? r : 0;
	}
	return 0;
}

/* With --linger, wait until everything sent (and the FIN, if any) is acknowledged. */
static int wait_acked(struct conn *c)
{
	uint64_t end = now_ns() + c->o->linger_s * SEC;
	int outq = 0;

	for (;;) {
		int err = sock_error(c->fd);

		if (err) {
			snprintf(c->err, sizeof(c->err),
				 PROG
				 ": conn %u to %s: waiting for the last acknowledgements: %s (%s)",
				 c->id, c->peer, strerror(err), send_hint(err));
			return -1;
		}
		if (ioctl(c->fd, SIOCOUTQ, &outq) == 0 && outq == 0)
			return 0;
		if (now_ns() >= end)
			break;
		sleep_until(now_ns() + MS);
	}
	snprintf(c->err, sizeof(c->err),
		 PROG ": conn %u to %s: %d bytes still unacknowledged after --linger %" PRIu64
		      " s (is the receiver reading? give a longer --linger)",
		 c->id, c->peer, outq, c->o->linger_s);
	return -1;
}

static int conn_finish(struct conn *c)
{
	const struct opts *o = c->o;

	if (!o->rst && shutdown(c->fd, SHUT_WR)) {
		int err = sock_error(c->fd);

		if (!err)
			err = errno;
		snprintf(c->err, sizeof(c->err),
			 PROG ": conn %u to %s: sending FIN after %" PRIu64 " bytes: %s (%s)",
			 c->id, c->peer, __atomic_load_n(&c->sent, __ATOMIC_RELAXED), strerror(err),
			 send_hint(err));
		return -1;
	}
	if (o->linger_s && wait_acked(c))
		return -1;
	if (!o->rst) {
		char sink[4096];

		/* Unread data at close() turns the FIN into an RST: discard what the peer sent. */
		while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	if (o->rst) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l))) {
			snprintf(c->err, sizeof(c->err),
				 PROG
				 ": conn %u: setting SO_LINGER 0 for --rst: %s (close with FIN "
				 "instead: drop --rst)",
				 c->id, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	uint8_t *buf;
	int r;

	buf = malloc(c->o->msg_size);
	c->t0 = now_ns();
	if (!buf) {
		snprintf(c->err, sizeof(c->err),
			 PROG ": conn %u: no memory for a %" PRIu64
			      "-byte buffer (lower --msg-size)",
			 c->id, c->o->msg_size);
		c->failed = true;
	} else {
		r = c->o->pattern == PAT_BULK ? run_bulk(c, buf) : run_paced(c, buf);
		if (r < 0) {
			snprintf(c->err, sizeof(c->err),
				 PROG ": conn %u to %s: send after %" PRIu64 " bytes: %s (%s)",
				 c->id, c->peer, __atomic_load_n(&c->sent, __ATOMIC_RELAXED),
				 strerror(-r), send_hint(-r));
			c->failed = true;
		} else if (conn_finish(c)) {
			c->failed = true;
		}
	}
	close(c->fd);
	c->t1 = now_ns();
	free(buf);

	EVP_DigestFinal_ex(c->md, md, &mdlen);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		sprintf(c->sha256 + 2 * i, "%02x", md[i]);
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* --- output ------------------------------------------------------------------------------- */

static void print_conn(const struct opts *o, const struct conn *c)
{
	uint64_t ns = c->t1 - c->t0;
	char rate[32];

	if (o->json) {
		printf("{\"conn\":%u,\"peer\":", c->id);
		jw_fput_str(stdout, c->peer);
		printf(",\"local\":");
		jw_fput_str(stdout, c->local);
		printf(",\"pattern\":\"%s\",\"seed\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"writes\":%" PRIu64 ",\"seconds\":%.6f,\"bits_per_second\":%.0f"
		       ",\"mss\":%d,\"close\":\"%s\",\"sha256\":\"%s\",\"error\":",
		       pattern_names[o->pattern], o->seed + c->id, c->sent, c->writes,
		       (double)ns / SEC, rate_of(c->sent, ns), c->mss, o->rst ? "rst" : "fin",
		       c->sha256);
		if (c->failed)
			jw_fput_str(stdout, c->err);
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
	} else if (!o->quiet && !c->failed) {
		printf("conn %u: sent %" PRIu64 " bytes in %.3f s (%s) sha256 %s\n", c->id, c->sent,
		       (double)ns / SEC, fmt_rate(rate, sizeof(rate), rate_of(c->sent, ns)),
		       c->sha256);
	}
}

static void print_total(const struct opts *o, uint64_t bytes, uint64_t ns, unsigned failed)
{
	char rate[32];

	if (o->json)
		printf("{\"total\":true,\"conns\":%" PRIu64 ",\"failed\":%u,\"bytes\":%" PRIu64
		       ",\"seconds\":%.6f,\"bits_per_second\":%.0f}\n",
		       o->conns, failed, bytes, (double)ns / SEC, rate_of(bytes, ns));
	else if (!o->quiet && o->conns > 1)
		printf("total: sent %" PRIu64 " bytes over %" PRIu64
		       " connections in %.3f s (%s)%s\n",
		       bytes, o->conns, (double)ns / SEC,
		       fmt_rate(rate, sizeof(rate), rate_of(bytes, ns)),
		       failed ? ", some failed" : "");
}

static void progress(const struct opts *o, struct conn *conns, uint64_t start, uint64_t prev_ns,
		     uint64_t *prev_bytes)
{
	uint64_t now = now_ns(), sum = 0;
	char done[32], total[32], rate[32];

	for (unsigned i = 0; i < o->conns; i++)
		sum += __atomic_load_n(&conns[i].sent, __ATOMIC_RELAXED);
	fmt_bytes(done, sizeof(done), sum);
	fmt_rate(rate, sizeof(rate), rate_of(sum - *prev_bytes, now - prev_ns));
	if (o->bytes != UINT64_MAX && o->bytes <= UINT64_MAX / o->conns)
		fprintf(stderr, "\r%6.1f s  sent %s of %s  %s\033[K", (double)(now - start) / SEC,
			done, fmt_bytes(total, sizeof(total), o->bytes * o->conns), rate);
	else
		fprintf(stderr, "\r%6.1f s  sent %s  %s\033[K", (double)(now - start) / SEC, done,
			rate);
	*prev_bytes = sum;
}

/* --- many connections on one thread: churn and hold ---------------------------------------- */

static void local_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		snprintf(buf, len, "?");
	else
		format_addr((struct sockaddr *)&ss, sl, buf, len);
}

/* Thousands of sockets in one process: raise the soft RLIMIT_NOFILE toward the hard one. */
static void raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

struct churn_conn {
	struct conn c; /* what print_conn reports */
	uint8_t *buf;  /* the whole stream, generated at open: a partial send() loses nothing */
	bool connected;
	struct churn_conn *next; /* the open list */
};

static void churn_end(const struct opts *o, struct churn_conn *cc, const char *fmt, int err)
{
	struct conn *c = &cc->c;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (fmt) {
		snprintf(c->err, sizeof(c->err), fmt, c->id, c->peer, strerror(err),
			 connect_hint(err));
		c->failed = true;
		fprintf(stderr, "%s\n", c->err);
	} else {
		/* Hash only now: churn streams are whole or the connection failed. */
		EVP_DigestUpdate(c->md, cc->buf, c->sent);
		if (shutdown(c->fd, SHUT_WR) && !c->failed) {
			snprintf(c->err, sizeof(c->err), PROG ": conn %u to %s: FIN: %s", c->id,
				 c->peer, strerror(errno));
			c->failed = true;
		}
	}
	close(c->fd); /* the kernel still delivers what is queued, then the FIN */
	c->t1 = now_ns();
	EVP_DigestFinal_ex(c->md, md, &mdlen);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		sprintf(c->sha256 + 2 * i, "%02x", md[i]);
	EVP_MD_CTX_free(c->md);
	print_conn(o, c);
	free(cc->buf);
}

/* churn: open --rate connections a second, each sends its --bytes and closes. */
static int run_churn(const struct opts *o, const struct addrinfo *ai, const struct addrinfo *local,
		     const char *peer)
{
	uint64_t start = now_ns(), opened = 0, finished = 0, failed = 0, bytes = 0;
	uint64_t end = o->duration > 0 ? start + (uint64_t)(o->duration * SEC) : NO_DEADLINE;
	struct churn_conn *open_list = NULL;
	struct epoll_event evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		fprintf(stderr, PROG ": epoll_create1: %s\n", strerror(errno));
		return EXIT_IO;
	}
	raise_nofile(CHURN_RATE_MAX);
	for (;;) {
		uint64_t now = now_ns();
		int timeout = 100, n;

		/* Open what the schedule says is due: connection k at start + k / rate. */
		while (opened < o->count && now < end && start + opened * SEC / o->rate <= now) {
			struct churn_conn *cc = calloc(1, sizeof(*cc));
			struct conn *c = cc ? &cc->c : NULL;
			int fd;

			if (!cc || !(cc->buf = malloc(o->bytes ? o->bytes : 1))) {
				fprintf(stderr, PROG ": no memory for a churn connection\n");
				free(cc);
				close(ep);
				return EXIT_IO;
			}
			c->id = (unsigned)opened++;
			c->o = o;
			c->peer = peer;
			c->t0 = now;
			c->md = EVP_MD_CTX_new();
			EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
			stream_init(&c->st, o->seed + c->id);
			stream_fill(&c->st, cc->buf, o->bytes);
			fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    IPPROTO_TCP);
			c->fd = fd;
			if (fd < 0 ||
			    (o->sndbuf && set_int(fd, SOL_SOCKET, SO_SNDBUF, (int)o->sndbuf)) ||
			    (o->mss && set_int(fd, IPPROTO_TCP, TCP_MAXSEG, (int)o->mss)) ||
			    (local && bind(fd, local->ai_addr, local->ai_addrlen)) ||
			    (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)) {
				int err = errno;

				failed++;
				churn_end(o, cc, PROG ": conn %u to %s: opening: %s (%s)", err);
				free(cc);
				continue;
			}
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = cc };

			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			cc->next = open_list;
			open_list = cc;
		}
		if (!open_list && (opened >= o->count || now >= end))
			break;
		if (opened < o->count && now < end) {
			uint64_t due = start + opened * SEC / o->rate;

			timeout = due > now ? (int)((due - now + MS - 1) / MS) : 0;
			if (timeout > 100)
				timeout = 100;
		}
		n = epoll_wait(ep, evs, 64, timeout);
		for (int i = 0; i < n; i++) {
			struct churn_conn *cc = evs[i].data.ptr;
			struct conn *c = &cc->c;
			int err = 0;

			if (!cc->connected) {
				err = sock_error(c->fd);
				if (!err) {
					cc->connected = true;
					local_name(c->fd, c->local, sizeof(c->local));
					getsockopt(c->fd, IPPROTO_TCP, TCP_MAXSEG, &c->mss,
						   &(socklen_t){ sizeof(c->mss) });
				}
			}
			while (!err && c->sent < o->bytes) {
				ssize_t k = send(c->fd, cc->buf + c->sent, o->bytes - c->sent,
						 MSG_NOSIGNAL);
				if (k > 0) {
					c->sent += (uint64_t)k;
					c->writes++;
				} else if (k < 0 && errno != EINTR) {
					if (errno != EAGAIN && errno != EWOULDBLOCK)
						err = errno;
					break;
				}
			}
			if (!err && c->sent < o->bytes)
				continue; /* the send buffer is full: wait for POLLOUT again */
			for (struct churn_conn **p = &open_list; *p; p = &(*p)->next)
				if (*p == cc) {
					*p = cc->next;
					break;
				}
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			if (err)
				failed++;
			else
				bytes += c->sent;
			finished++;
			churn_end(o, cc,
				  err ? (cc->connected ? PROG ": conn %u to %s: send: %s (%s)"
						       : PROG ": conn %u to %s: connect: %s (%s)")
				      : NULL,
				  err);
			free(cc);
		}
		/* A connection the receiver never answers fails after CHURN_GIVE_UP_S. */
		now = now_ns();
		for (struct churn_conn **p = &open_list; *p;) {
			struct churn_conn *cc = *p;

			if (now - cc->c.t0 < CHURN_GIVE_UP_S * SEC) {
				p = &cc->next;
				continue;
			}
			*p = cc->next;
			epoll_ctl(ep, EPOLL_CTL_DEL, cc->c.fd, NULL);
			failed++;
			finished++;
			churn_end(o, cc, PROG ": conn %u to %s: not done after 30 s: %s (%s)",
				  ETIMEDOUT);
			free(cc);
		}
	}
	close(ep);
	struct opts t = *o;

	t.conns = opened;
	print_total(&t, bytes, now_ns() - start, (unsigned)failed);
	return failed ? EXIT_IO : 0;
}

/* hold: --conns long connections, each writes one MSS-sized piece every --interval-ms with
 * MSG_MORE (one full segment, no PSH), staggered so the receiver sees an even trickle. */
static int run_hold(const struct opts *o, const struct addrinfo *ai, const struct addrinfo *local,
		    const char *peer)
{
	uint64_t n = o->conns, interval = o->interval_ms * MS, total = 0, start, end, t0;
	struct conn *conns = calloc(n, sizeof(*conns));
	uint8_t *buf = malloc(o->msg_size_set ? o->msg_size : MSS_MAX);
	unsigned failed = 0;
	char who[32];

	if (!conns || !buf) {
		fprintf(stderr, PROG ": no memory for %" PRIu64 " connections (lower --conns)\n",
			n);
		return EXIT_IO;
	}
	raise_nofile(n + 64);
	for (uint64_t i = 0; i < n; i++) {
		struct conn *c = &conns[i];
		socklen_t len = sizeof(c->mss);

		snprintf(who, sizeof(who), "conn %" PRIu64 ": ", i);
		c->fd = conn_open(o, ai, local, who, c->err, sizeof(c->err));
		if (c->fd < 0) {
			fprintf(stderr, "%s\n", c->err);
			for (uint64_t j = 0; j < i; j++)
				close(conns[j].fd);
			return EXIT_IO;
		}
		c->id = (unsigned)i;
		c->o = o;
		c->peer = peer;
		stream_init(&c->st, o->seed + i);
		getsockopt(c->fd, IPPROTO_TCP, TCP_MAXSEG, &c->mss, &len);
		local_name(c->fd, c->local, sizeof(c->local));
		c->md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
	}
	start = now_ns();
	if (!o->quiet)
		fprintf(stderr, PROG ": %" PRIu64 " connections open, trickling\n", n);
	end = o->duration > 0 ? start + (uint64_t)(o->duration * SEC) : NO_DEADLINE;
	t0 = start;
	for (uint64_t k = 0; k < o->count; k++) {
		for (uint64_t i = 0; i < n; i++) {
			struct conn *c = &conns[i];
			uint64_t due = t0 + k * interval + i * interval / n;
			size_t piece = o->msg_size_set ? o->msg_size
				       : c->mss > 0    ? (size_t)c->mss
						       : 1024;
			bool last =
				k + 1 == o->count || (end != NO_DEADLINE && due + interval >= end);
			int r;

			if (due >= end)
				goto done;
			if (c->failed)
				continue;
			if (now_ns() < due)
				sleep_until(due);
			if (!c->t0)
				c->t0 = now_ns();
			c->deadline = (end != NO_DEADLINE ? end : now_ns()) + 30 * SEC;
			stream_fill(&c->st, buf, piece);
			r = send_all(c, buf, piece, last ? 0 : MSG_MORE);
			if (r) {
				snprintf(c->err, sizeof(c->err),
					 PROG ": conn %u to %s: send after %" PRIu64
					      " bytes: %s (%s)",
					 c->id, c->peer, c->sent, r < 0 ? strerror(-r) : "stalled",
					 r < 0 ? send_hint(-r) : "the receiver stopped reading");
				c->failed = true;
			}
		}
	}
done:
	for (uint64_t i = 0; i < n; i++) {
		struct conn *c = &conns[i];
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;

		if (!c->failed && conn_finish(c))
			c->failed = true;
		close(c->fd);
		c->t1 = now_ns();
		EVP_DigestFinal_ex(c->md, md, &mdlen);
		EVP_MD_CTX_free(c->md);
		for (unsigned j = 0; j < mdlen && j < 32; j++)
			sprintf(c->sha256 + 2 * j, "%02x", md[j]);
		if (c->failed) {
			fprintf(stderr, "%s\n", c->err);
			failed++;
		}
		print_conn(o, c);
		total += c->sent;
	}
	print_total(o, total, now_ns() - start, failed);
	free(conns);
	free(buf);
	return failed ? EXIT_IO : 0;
}

/* --- main --------------------------------------------------------------------------------- */

static struct addrinfo *resolve_bind(const char *addr)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char host[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(addr);

	if (addr[0] == '[' && n > 2 && addr[n - 1] == ']' && n - 2 < sizeof(host)) {
		memcpy(host, addr + 1, n - 2);
		host[n - 2] = '\0';
		addr = host;
	}
	if (getaddrinfo(addr, "0", &hints, &res))
		usage_error("--bind: '%s' is not an IPv4 or IPv6 address (e.g. 10.77.0.2)", addr);
	return res;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai, *local = NULL;
	char host[NI_MAXHOST], peer[INET6_ADDRSTRLEN + 16], who[32] = "";
	char errs[4][512];
	struct conn *conns;
	uint64_t start, deadline, total = 0, end = 0;
	const char *port;
	unsigned failed = 0, tried = 0;
	bool show_progress;
	struct opts o;
	int r, fd = -1;

	parse_args(argc, argv, &o);
	sigaction(SIGPIPE, &sa, NULL);
	split_target(o.target, host, sizeof(host), &port);
	if (o.bind) {
		unsigned char a[sizeof(struct in6_addr)];
		int family = inet_pton(AF_INET, host, a) == 1	 ? AF_INET
			     : inet_pton(AF_INET6, host, a) == 1 ? AF_INET6
								 : AF_UNSPEC;

		local = resolve_bind(o.bind);
		if (family != AF_UNSPEC && family != local->ai_family)
			usage_error(
				"--bind %s and %s are not of the same family (bind an %s address)",
				o.bind, o.target, family == AF_INET ? "IPv4" : "IPv6");
		hints.ai_family = local->ai_family;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		fprintf(stderr,
			PROG ": cannot resolve '%s'%s: %s (check the spelling, or give a "
			     "numeric address)\n",
			host, local ? " to an address of the --bind family" : "", gai_strerror(r));
		return EXIT_IO;
	}

	if (o.pattern == PAT_CHURN || o.pattern == PAT_HOLD) {
		format_addr(res->ai_addr, res->ai_addrlen, peer, sizeof(peer));
		r = o.pattern == PAT_CHURN ? run_churn(&o, res, local, peer)
					   : run_hold(&o, res, local, peer);
		freeaddrinfo(res);
		if (local)
			freeaddrinfo(local);
		return r;
	}

	conns = calloc(o.conns, sizeof(*conns));
	if (!conns) {
		fprintf(stderr, PROG ": no memory for %" PRIu64 " connections (lower --conns)\n",
			o.conns);
		return EXIT_IO;
	}

	/* Connect every connection before any sends, so that they start together. The first one
	 * tries each address the name resolves to; the rest use the one that worked.
	 */
	if (o.conns > 1)
		snprintf(who, sizeof(who), "conn 0: ");
	for (ai = res; ai; ai = ai->ai_next) {
		fd = conn_open(&o, ai, local, who, errs[tried % 4], sizeof(errs[0]));
		if (fd < 0)
			tried++;
		else
			break;
	}
	if (fd < 0) {
		for (unsigned i = tried > 4 ? tried - 4 : 0; i < tried; i++)
			fprintf(stderr, "%s\n", errs[i % 4]);
		return EXIT_IO;
	}
	format_addr(ai->ai_addr, ai->ai_addrlen, peer, sizeof(peer));
	for (unsigned i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];
		socklen_t len = sizeof(c->mss);

		if (i) {
			snprintf(who, sizeof(who), "conn %u: ", i);
			fd = conn_open(&o, ai, local, who, errs[0], sizeof(errs[0]));
			if (fd < 0) {
				fprintf(stderr, "%s\n", errs[0]);
				return EXIT_IO;
			}
		}
		c->id = i;
		c->fd = fd;
		c->o = &o;
		c->peer = peer;
		stream_init(&c->st, o.seed + i);
		getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &c->mss, &len);
		local_name(fd, c->local, sizeof(c->local));
		c->md = EVP_MD_CTX_new();
		if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
			fprintf(stderr, PROG ": cannot set up SHA-256 in libcrypto (check the "
					     "OpenSSL installation)\n");
			return EXIT_IO;
		}
	}
	if (o.sndbuf && !o.quiet) {
		int got = 0;
		socklen_t len = sizeof(got);

		/* The kernel doubles SO_SNDBUF for its bookkeeping, and caps it at wmem_max. */
		getsockopt(conns[0].fd, SOL_SOCKET, SO_SNDBUF, &got, &len);
		if ((uint64_t)got < 2 * o.sndbuf)
			fprintf(stderr,
				PROG ": warning: --sndbuf %" PRIu64 " was capped to %d bytes "
				     "(raise net.core.wmem_max to allow more)\n",
				o.sndbuf, got / 2);
	}

	start = now_ns();
	deadline = o.duration > 0 ? start + (uint64_t)(o.duration * SEC) : NO_DEADLINE;
	for (unsigned i = 0; i < o.conns; i++) {
		conns[i].deadline = deadline;
		r = pthread_create(&conns[i].thread, NULL, conn_thread, &conns[i]);
		if (r) {
			fprintf(stderr,
				PROG ": cannot start the thread for conn %u: %s (lower --conns)\n",
				i, strerror(r));
			return EXIT_IO;
		}
	}

	show_progress = !o.quiet && isatty(STDERR_FILENO);
	if (show_progress) {
		uint64_t next = start + SEC, prev_ns = start, prev_bytes = 0;
		bool running = true;

		while (running) {
			sleep_until(now_ns() + 100 * MS);
			running = false;
			for (unsigned i = 0; i < o.conns && !running; i++)
				running = !__atomic_load_n(&conns[i].done, __ATOMIC_ACQUIRE);
			if (running && now_ns() >= next) {
				progress(&o, conns, start, prev_ns, &prev_bytes);
				prev_ns = now_ns();
				next += SEC;
			}
		}
		if (next > start + SEC)
			fputs("\r\033[K", stderr);
	}

	for (unsigned i = 0; i < o.conns; i++) {
		pthread_join(conns[i].thread, NULL);
		EVP_MD_CTX_free(conns[i].md);
	}
	for (unsigned i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];

		if (c->failed) {
			fprintf(stderr, "%s\n", c->err);
			failed++;
		}
		print_conn(&o, c);
		total += c->sent;
		if (c->t1 > end)
			end = c->t1;
	}
	print_total(&o, total, end - start, failed);

	freeaddrinfo(res);
	if (local)
		freeaddrinfo(local);
	free(conns);
	return failed ? EXIT_IO : 0;
}
