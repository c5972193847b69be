/* The AF_XDP link on a real wire: a veth pair between two network namespaces (scripts/netns,
 * with a prefix unique to this run), the link opened on eng0 from inside the engine namespace,
 * the kernel TCP stack of the peer namespace as the other end. Needs root; skipped without.
 * The group teardown always removes the namespaces.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include <xdp/libxdp.h>

#include "link_xsk.h"
#include "pkt.h"

#define ENG_IF	     "eng0"
#define ENG_IP	     "10.77.0.1"
#define PEER_IP	     "10.77.0.2"
#define PORT_ENGINE  5555
#define PORT_KERNEL  5556
#define SYNACK_ISN   0x12345678u
#define CONNECT_SECS 5 /* the peer's connect gives up after this */

static const uint8_t eng_addr[16] = { [10] = 0xff, [11] = 0xff, 10, 77, 0, 1 };
static const uint8_t peer_addr[16] = { [10] = 0xff, [11] = 0xff, 10, 77, 0, 2 };

struct wire {
	bool ready; /* topology up and this process inside the engine namespace */
	char skip_why[128];
	char prefix[32];
	int home_ns; /* our original network namespace, to come back to */
	/* What a test leaves open when an assertion stops it; the test teardown closes it. */
	struct xsk_link *l;
	pid_t peer;
};

static struct wire *wire_get(void **state)
{
	struct wire *w = *state;

	if (!w->ready) {
		print_message("[  SKIP    ] %s\n", w->skip_why);
		skip();
	}
	return w;
}

/* Run a shell command; returns its exit status, or -1 when it did not exit normally. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run a shell command and tell whether its output contains needle. */
static bool sh_output_has(const char *cmd, const char *needle)
{
	char line[512];
	bool found = false;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		found |= strstr(line, needle) != NULL;
	pclose(p);
	return found;
}

/* Start a bash script in the peer namespace, in the background, for peer_wait(). */
static void peer_spawn(struct wire *w, const char *script)
{
	char cmd[512];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec ip netns exec %s-peer timeout %d bash -c '%s' 2>/dev/null",
		 w->prefix, CONNECT_SECS, script);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	w->peer = pid;
}

/* The exit status of the script: 0 connected, 1 refused, 124 timed out. */
static int peer_wait(struct wire *w)
{
	pid_t pid = w->peer;
	int st;

	w->peer = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* libbpf and libxdp narrate every open (the dispatcher probe, its fallback): keep warnings. */
static int quiet_bpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return level == LIBXDP_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int group_setup(void **state)
{
	static struct wire w;
	char path[96];
	int ns;

	*state = &w;
	w.home_ns = -1;
	libbpf_set_print(quiet_bpf);
	libxdp_set_print(quiet_xdp);
	if (geteuid() != 0) {
		snprintf(w.skip_why, sizeof(w.skip_why),
			 "wire tests need root (network namespaces, XDP, AF_XDP): run ctest as "
			 "root");
		return 0;
	}
	snprintf(w.prefix, sizeof(w.prefix), "offrxt%ld", (long)getpid());
	if (sh("%s up --name %s >/dev/null", OFFRX_NETNS_SCRIPT, w.prefix) != 0) {
		fprintf(stderr, "%s up --name %s failed (see above)\n", OFFRX_NETNS_SCRIPT,
			w.prefix);
		sh("%s down --name %s >/dev/null 2>&1", OFFRX_NETNS_SCRIPT, w.prefix);
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s-eng", w.prefix);
	w.home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (w.home_ns < 0 || ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
		fprintf(stderr, "cannot enter %s: %s\n", path, strerror(errno));
		if (ns >= 0)
			close(ns);
		sh("%s down --name %s >/dev/null 2>&1", OFFRX_NETNS_SCRIPT, w.prefix);
		return -1;
	}
	close(ns);
	w.ready = true;
	return 0;
}

/* Close what a failed test left behind, so the next one starts on a bare interface. */
static int test_teardown(void **state)
{
	struct wire *w = *state;

	xsk_link_close(w->l);
	w->l = NULL;
	if (w->peer > 0) {
		kill(w->peer, SIGTERM); /* timeout(1) passes it on to the connect */
		waitpid(w->peer, NULL, 0);
		w->peer = 0;
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct wire *w = *state;

	if (w->home_ns >= 0) {
		if (setns(w->home_ns, CLONE_NEWNET) != 0)
			fprintf(stderr, "cannot return to the original namespace: %s\n",
				strerror(errno));
		close(w->home_ns);
		w->home_ns = -1;
	}
	if (w->prefix[0])
		sh("%s down --name %s >/dev/null", OFFRX_NETNS_SCRIPT, w->prefix);
	return 0;
}

/* The options every test starts from: eng0, queue 0, the engine's port, native XDP. */
static struct xsk_link_opts opts_default(void)
{
	static const uint16_t ports[] = { PORT_ENGINE };

	return (struct xsk_link_opts){
		.sz = sizeof(struct xsk_link_opts),
		.ifname = ENG_IF,
		.ports = ports,
		.nports = 1,
		.fault_seed = 42,
	};
}

static struct xsk_link *link_open(struct wire *w, const struct xsk_link_opts *o)
{
	struct xsk_link *l = NULL;
	char err[512];
	int ret = xsk_link_open(o, &l, err, sizeof(err));

	if (ret)
		fail_msg("xsk_link_open on " ENG_IF ": %d: %s", ret, err);
	w->l = l;
	return l;
}

static struct xsk_link *link_up(struct wire *w, double drop_pct, double reorder_pct)
{
	struct xsk_link_opts o = opts_default();

	o.fault_drop_pct = drop_pct;
	o.fault_reorder_pct = reorder_pct;
	return link_open(w, &o);
}

static void link_down(struct wire *w)
{
	xsk_link_close(w->l);
	w->l = NULL;
}

static bool eng_has_xdp(const struct wire *w)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip -n %s-eng link show dev " ENG_IF, w->prefix);
	return sh_output_has(cmd, "xdp");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What arrived on the socket while we watched. */
struct seen {
	uint32_t frames;
	uint32_t unparsed;
	uint32_t to_kernel_port; /* segments for PORT_KERNEL: must stay 0 */
	bool syn;		 /* a SYN (no ACK) for PORT_ENGINE: in syn_info */
	struct pkt_info syn_info;
	bool ack_of_synack; /* the peer's ACK of our SYN-ACK */
};

/* Receive for up to ms milliseconds, or until stop says the scenario has what it needs. */
static void rx_watch(struct xsk_link *l, int ms, struct seen *s, bool (*stop)(const struct seen *))
{
	int64_t deadline = now_ms() + ms;
	struct xsk_frame f[XSK_LINK_BATCH];

	while (now_ms() < deadline && !(stop && stop(s))) {
		int r = xsk_link_wait(l, 50);
		uint32_t n;

		assert_true(r >= 0);
		n = xsk_link_rx(l, f, XSK_LINK_BATCH);
		for (uint32_t i = 0; i < n; i++) {
			struct pkt_info in;

			s->frames++;
			if (pkt_parse(f[i].data, f[i].len, 0, &in) != PKT_DROP_NONE) {
				s->unparsed++;
				continue;
			}
			if (in.dst_port == PORT_KERNEL)
				s->to_kernel_port++;
			if (in.dst_port != PORT_ENGINE)
				continue;
			if (in.flags == PKT_TCP_SYN && !s->syn) {
				s->syn = true;
				s->syn_info = in;
				s->syn_info.payload = NULL; /* points into a frame we give back */
			}
			if (in.flags == PKT_TCP_ACK && in.ack == SYNACK_ISN + 1)
				s->ack_of_synack = true;
		}
		xsk_link_rx_done(l, f, n);
	}
}

static bool have_syn(const struct seen *s)
{
	return s->syn;
}

static bool have_ack(const struct seen *s)
{
	return s->ack_of_synack;
}

/* Options and arguments are checked before anything is touched, and errors name the value. */
static void test_open_refuses_bad_options_and_names_the_value(void **state)
{
	static const uint16_t ports[] = { PORT_ENGINE };
	struct xsk_link_opts o = {
		.sz = sizeof(o), .ifname = "nosuch0", .ports = ports, .nports = 1
	};
	struct xsk_link *l = (struct xsk_link *)&o;
	char err[512];

	assert_int_equal(xsk_link_open(&o, &l, err, sizeof(err)), -ENODEV);
	assert_null(l);
	assert_non_null(strstr(err, "nosuch0"));

	o.ifname = ENG_IF;
	o.frames = 1000;
	assert_int_equal(xsk_link_open(&o, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1000"));

	o.frames = 0;
	o.sz = 8;
	assert_int_equal(xsk_link_open(&o, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sizeof(struct xsk_link_opts)"));
}

/* The kernel's SYN to the engine's port comes to the socket, and a SYN-ACK sent through the
 * TX ring completes the peer's handshake: its kernel ACKs and its connect() succeeds.
 */
static void test_syn_to_engine_port_arrives_and_synack_sent_back_completes_handshake(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link *l = link_up(w, 0, 0);
	struct xsk_link_stats st;
	struct pkt_tcp_build b;
	uint8_t frame[PKT_BUILD_MAX];
	struct seen s = { 0 };
	int n;

	peer_spawn(w, "exec 3<>/dev/tcp/" ENG_IP "/5555");
	rx_watch(l, 4000, &s, have_syn);
	assert_true(s.syn);
	assert_int_equal(s.unparsed, 0);
	assert_int_equal(s.syn_info.family, PKT_AF_INET);
	assert_int_equal(s.syn_info.dst_port, PORT_ENGINE);
	assert_memory_equal(s.syn_info.src_addr, peer_addr, 16);
	assert_memory_equal(s.syn_info.dst_addr, eng_addr, 16);

	pkt_tcp_build_reply(&b, &s.syn_info);
	b.flags = PKT_TCP_SYN | PKT_TCP_ACK;
	b.seq = SYNACK_ISN;
	b.ack = s.syn_info.seq + 1;
	b.window = 65535;
	b.opts.present = PKT_OPT_MSS;
	b.opts.mss = 1460;
	n = pkt_build_tcp(frame, sizeof(frame), &b);
	assert_true(n > 0);
	assert_int_equal(xsk_link_tx(l, frame, (uint32_t)n), 0);
	xsk_link_tx_flush(l);

	rx_watch(l, 3000, &s, have_ack);
	assert_true(s.ack_of_synack);
	assert_int_equal(peer_wait(w), 0); /* connect() succeeded */

	/* Reset the peer's connection, so it sends nothing more into the next tests. */
	b.flags = PKT_TCP_RST;
	b.seq = SYNACK_ISN + 1;
	b.ack = 0;
	b.window = 0;
	b.opts.present = 0;
	n = pkt_build_tcp(frame, sizeof(frame), &b);
	assert_true(n > 0);
	assert_int_equal(xsk_link_tx(l, frame, (uint32_t)n), 0);
	xsk_link_tx_flush(l);

	assert_int_equal(xsk_link_stats(l, &st), 0);
	assert_int_equal(st.tx_frames, 2);
	assert_true(st.rx_frames >= 2);
	assert_true(st.xdp_redirected >= 2);
	assert_int_equal(st.rx_invalid_descs + st.tx_invalid_descs, 0);
	link_down(w);
	assert_false(eng_has_xdp(w));
}

/* A port the engine does not own stays with the kernel (it answers RST, so connect() is
 * refused at once rather than timing out), and so does ARP.
 */
static void test_other_port_and_arp_go_to_the_kernel(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link *l = link_up(w, 0, 0);
	struct xsk_link_stats st;
	struct seen s = { 0 };
	char cmd[160];

	/* Forget the engine's MAC, so the connect below needs an ARP answer first. */
	assert_int_equal(sh("ip -n %s-peer neigh flush dev peer0", w->prefix), 0);
	peer_spawn(w, "exec 3<>/dev/tcp/" ENG_IP "/5556");
	rx_watch(l, 1000, &s, NULL);
	assert_int_equal(peer_wait(w), 1); /* refused: RST from the engine's kernel */
	rx_watch(l, 200, &s, NULL);
	assert_int_equal(s.to_kernel_port, 0);

	snprintf(cmd, sizeof(cmd), "ip -n %s-peer neigh show " ENG_IP " dev peer0", w->prefix);
	assert_true(sh_output_has(cmd, "lladdr"));

	assert_int_equal(xsk_link_stats(l, &st), 0);
	assert_true(st.xdp_passed >= 2); /* at least the ARP request and the SYN */
	link_down(w);
	assert_false(eng_has_xdp(w));
}

/* A run that dies without closing leaves its program attached (here in skb mode); the next
 * open (native) detaches it, counts it, and its own close leaves the interface bare.
 */
static void test_stale_program_of_a_crashed_run_is_detached(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link_stats st;
	struct xsk_link *l;
	pid_t pid;
	int wst;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct xsk_link_opts o = opts_default();
		char err[256];

		o.xdp_mode = XSK_LINK_MODE_SKB;
		_exit(xsk_link_open(&o, &l, err, sizeof(err)) ? 1 : 0); /* no close: a crash */
	}
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	assert_true(eng_has_xdp(w));

	l = link_up(w, 0, 0);
	assert_int_equal(xsk_link_stats(l, &st), 0);
	assert_int_equal(st.stale_detached, 1);
	link_down(w);
	assert_false(eng_has_xdp(w));
}

/* The program of a live engine is not taken for a stale one: a second open on the interface
 * is refused with the holder's pid, and the first link keeps its program.
 */
static void test_second_link_on_a_live_interface_is_refused(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link_opts o = opts_default();
	struct xsk_link *second = NULL;
	char err[512], pid[32];

	link_up(w, 0, 0);
	o.queue = 1;
	assert_int_equal(xsk_link_open(&o, &second, err, sizeof(err)), -EBUSY);
	assert_null(second);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	assert_non_null(strstr(err, pid));
	assert_true(eng_has_xdp(w));
	link_down(w);
	assert_false(eng_has_xdp(w));
}

/* An open that fails after attaching (veth has one rx queue, so queue 1 cannot be bound)
 * detaches the program again and says which queue.
 */
static void test_failed_open_after_attach_leaves_nothing_behind(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link_opts o = opts_default();
	struct xsk_link *l = NULL;
	char err[512];
	int ret;

	o.queue = 1;
	ret = xsk_link_open(&o, &l, err, sizeof(err));
	assert_true(ret < 0);
	assert_null(l);
	assert_non_null(strstr(err, "queue 1"));
	assert_false(eng_has_xdp(w));
}

/* With every frame dropped by the fault injector nothing reaches the caller, and each drop is
 * counted: the program redirected them, the link threw them away.
 */
static void test_fault_drop_all_delivers_nothing_and_counts_each_drop(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link *l = link_up(w, 100, 0);
	struct xsk_link_stats st;
	struct seen s = { 0 };

	int64_t deadline;

	peer_spawn(w, "exec 3<>/dev/tcp/" ENG_IP "/5555");
	/* Until the SYN was dropped (bounded: the peer gives up after CONNECT_SECS). */
	deadline = now_ms() + CONNECT_SECS * 1000;
	do {
		rx_watch(l, 100, &s, NULL);
		assert_int_equal(xsk_link_stats(l, &st), 0);
	} while (!st.fault_dropped && now_ms() < deadline);
	assert_int_equal(s.frames, 0);
	assert_true(st.fault_dropped >= 1);
	assert_int_equal(st.fault_dropped, st.xdp_redirected);
	assert_int_equal(st.rx_frames, 0);
	link_down(w); /* the kernel now refuses the retransmitted SYN */
	assert_true(peer_wait(w) != 0);
}

/* Opening right after closing is what a restarted engine does: the kernel releases a closed
 * socket's queue asynchronously, and every open must still succeed (it waits for the release).
 */
static void test_open_right_after_close_succeeds_100_times_in_a_row(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link_stats st;
	uint64_t retries = 0;
	int64_t t0 = now_ms();

	for (int i = 0; i < 100; i++) {
		struct xsk_link_opts o = opts_default();
		struct xsk_link *l = NULL;
		char err[512];
		int ret = xsk_link_open(&o, &l, err, sizeof(err));

		if (ret)
			fail_msg("open %d of 100 right after a close: %d: %s", i + 1, ret, err);
		w->l = l;
		assert_int_equal(xsk_link_stats(l, &st), 0);
		retries += st.bind_retries;
		link_down(w);
	}
	print_message("[          ] 100 opens in %lld ms; %llu binds repeated while the kernel "
		      "released the queue\n",
		      (long long)(now_ms() - t0), (unsigned long long)retries);
	assert_false(eng_has_xdp(w));
}

/* In a child: bind a bare AF_XDP socket (no XDP program) to queue 0 of eng0, say so on ready,
 * and hold it until hold is closed. Retries a refused bind for a while, as the queue may still
 * be on its way back from the previous test's socket.
 */
static void hold_queue_child(int ready, int hold)
{
	const size_t len = 64 * 4096;
	struct sockaddr_xdp sx = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = if_nametoindex(ENG_IF),
		.sxdp_queue_id = 0,
		.sxdp_flags = XDP_COPY,
	};
	void *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct xdp_umem_reg mr = { .addr = (uintptr_t)area, .len = len, .chunk_size = 4096 };
	int n = 64, fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	char c = 1;

	if (fd < 0 || area == MAP_FAILED ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)))
		_exit(2);
	for (int i = 0; bind(fd, (struct sockaddr *)&sx, sizeof(sx)); i++) {
		if (errno != EBUSY || i == 300)
			_exit(3);
		usleep(10000);
	}
	if (write(ready, &c, 1) != 1)
		_exit(4);
	(void)read(hold, &c, 1); /* returns when the parent closes its end */
	_exit(0);
}

/* A queue bound to a live socket is not waited for: the open is refused at once, and the
 * message names the process that holds it.
 */
static void test_queue_of_a_live_socket_is_refused_at_once_naming_the_holder(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link_opts o = opts_default();
	struct xsk_link *l = NULL;
	int ready[2], hold[2], st, ret;
	char err[512], pid_s[32], c;
	int64_t t0, took;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		hold_queue_child(ready[1], hold[0]);
	}
	close(ready[1]);
	close(hold[0]);
	if (read(ready[0], &c, 1) != 1) {
		close(hold[1]);
		waitpid(pid, &st, 0);
		fail_msg("the child could not bind a socket to queue 0 of " ENG_IF
			 " (exit status %d)",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	t0 = now_ms();
	ret = xsk_link_open(&o, &l, err, sizeof(err));
	took = now_ms() - t0;
	w->l = l;
	close(hold[1]);
	close(ready[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(ret, -EBUSY);
	assert_null(l);
	snprintf(pid_s, sizeof(pid_s), "pid %d", (int)pid);
	if (!strstr(err, pid_s) || !strstr(err, "queue 0 of " ENG_IF))
		fail_msg("the refusal does not name the holder (%s): %s", pid_s, err);
	if (took >= 1000)
		fail_msg("the refusal took %lld ms: a live holder must not be waited for",
			 (long long)took);
	print_message("[          ] refused in %lld ms: %s\n", (long long)took, err);
	assert_false(eng_has_xdp(w));
}

/* A frame held back for reordering is still delivered when nothing follows it (and the busy
 * poller, which never sleeps, gets it too).
 */
static void test_fault_reorder_holds_a_frame_but_never_loses_it(void **state)
{
	struct wire *w = wire_get(state);
	struct xsk_link_opts o = opts_default();
	struct xsk_link *l;
	struct xsk_link_stats st;
	struct seen s = { 0 };

	o.fault_reorder_pct = 100;
	o.busy_poll = true;
	l = link_open(w, &o);
	peer_spawn(w, "exec 3<>/dev/tcp/" ENG_IP "/5555");
	rx_watch(l, 4000, &s, have_syn);
	assert_true(s.syn);
	assert_int_equal(xsk_link_stats(l, &st), 0);
	assert_true(st.fault_reordered >= 1);
	link_down(w);
	assert_true(peer_wait(w) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refuses_bad_options_and_names_the_value),
		cmocka_unit_test_teardown(
			test_syn_to_engine_port_arrives_and_synack_sent_back_completes_handshake,
			test_teardown),
		cmocka_unit_test_teardown(test_other_port_and_arp_go_to_the_kernel, test_teardown),
		cmocka_unit_test_teardown(test_stale_program_of_a_crashed_run_is_detached,
					  test_teardown),
		cmocka_unit_test_teardown(test_second_link_on_a_live_interface_is_refused,
					  test_teardown),
		cmocka_unit_test_teardown(test_failed_open_after_attach_leaves_nothing_behind,
					  test_teardown),
		cmocka_unit_test_teardown(test_fault_drop_all_delivers_nothing_and_counts_each_drop,
					  test_teardown),
		cmocka_unit_test_teardown(test_fault_reorder_holds_a_frame_but_never_loses_it,
					  test_teardown),
		cmocka_unit_test_teardown(test_open_right_after_close_succeeds_100_times_in_a_row,
					  test_teardown),
		cmocka_unit_test_teardown(
			test_queue_of_a_live_socket_is_refused_at_once_naming_the_holder,
			test_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("link_xsk", tests, group_setup, group_teardown);
}
