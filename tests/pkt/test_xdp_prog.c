/* Tests of the XDP program (engine/bpf/offrx_xdp.bpf.c) through BPF_PROG_TEST_RUN: the
 * program runs on frames from memory, attached to no interface. Without an AF_XDP socket in
 * xsks_map a chosen segment comes back XDP_PASS and is counted in OFFRX_XDP_STAT_NO_XSK, so
 * that counter tells which frames the program would have redirected.
 * Needs CAP_BPF and CAP_NET_ADMIN (root); skipped without them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "offrx_xdp_maps.h"
#include "pkt.h"

#define PORT_ENGINE 5201
#define PORT_OTHER  22

struct xdp_fixture {
	struct bpf_object *obj;
	int prog_fd;
	int ports_fd;
	int stats_fd;
	int nr_cpus;
};

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int setup(void **state)
{
	struct xdp_fixture *fx = calloc(1, sizeof(*fx));
	struct bpf_program *prog;
	uint16_t key = htons(PORT_ENGINE);
	uint8_t one = 1;
	int err;

	if (!fx)
		return -1;
	libbpf_set_print(silent_print);
	fx->obj = bpf_object__open_file(OFFRX_XDP_OBJ, NULL);
	if (!fx->obj) {
		fprintf(stderr, "cannot open %s: %s\n", OFFRX_XDP_OBJ, strerror(errno));
		free(fx);
		return -1;
	}
	err = bpf_object__load(fx->obj);
	if (err) {
		/* Not permitted is a skip; anything else (the verifier says EACCES) a failure. */
		fprintf(stderr, "loading %s: %s\n", OFFRX_XDP_OBJ, strerror(-err));
		if (err == -EPERM) {
			bpf_object__close(fx->obj);
			fx->obj = NULL;
			*state = fx;
			return 0;
		}
		bpf_object__close(fx->obj);
		free(fx);
		return -1;
	}
	prog = bpf_object__find_program_by_name(fx->obj, OFFRX_XDP_PROG_NAME);
	fx->prog_fd = prog ? bpf_program__fd(prog) : -1;
	fx->ports_fd = bpf_object__find_map_fd_by_name(fx->obj, OFFRX_XDP_PORTS_MAP);
	fx->stats_fd = bpf_object__find_map_fd_by_name(fx->obj, OFFRX_XDP_STATS_MAP);
	fx->nr_cpus = libbpf_num_possible_cpus();
	if (fx->prog_fd < 0 || fx->ports_fd < 0 || fx->stats_fd < 0 || fx->nr_cpus <= 0 ||
	    bpf_map_update_elem(fx->ports_fd, &key, &one, BPF_ANY)) {
		bpf_object__close(fx->obj);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct xdp_fixture *fx = *state;

	if (fx->obj)
		bpf_object__close(fx->obj);
	free(fx);
	return 0;
}

static struct xdp_fixture *fixture(void **state)
{
	struct xdp_fixture *fx = *state;

	if (!fx->obj)
		skip(); /* no permission to load BPF programs */
	return fx;
}

static uint64_t stat_read(struct xdp_fixture *fx, uint32_t slot)
{
	uint64_t *v = calloc((size_t)fx->nr_cpus, sizeof(*v));
	uint64_t sum = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(fx->stats_fd, &slot, v), 0);
	for (int i = 0; i < fx->nr_cpus; i++)
		sum += v[i];
	free(v);
	return sum;
}

/* Run the program once on a frame. *chosen says whether it picked the frame for the engine. */
static int run(struct xdp_fixture *fx, const uint8_t *frame, uint32_t len, bool *chosen)
{
	uint8_t copy[256];
	uint64_t no_xsk = stat_read(fx, OFFRX_XDP_STAT_NO_XSK);
	uint64_t passed = stat_read(fx, OFFRX_XDP_STAT_PASSED);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = copy, .data_size_in = len, .repeat = 1);

	assert_true(len <= sizeof(copy));
	memcpy(copy, frame, len);
	assert_int_equal(bpf_prog_test_run_opts(fx->prog_fd, &opts), 0);
	*chosen = stat_read(fx, OFFRX_XDP_STAT_NO_XSK) == no_xsk + 1;
	if (opts.retval == XDP_PASS)
		assert_int_equal(stat_read(fx, OFFRX_XDP_STAT_PASSED), passed + 1);
	return (int)opts.retval;
}

static const uint8_t ip_a[16] = { [10] = 0xff, [11] = 0xff, 10, 77, 0, 2 };
static const uint8_t ip_b[16] = { [10] = 0xff, [11] = 0xff, 10, 77, 0, 1 };
static const uint8_t ip6_a[16] = { 0xfd, 0x77, [15] = 2 };
static const uint8_t ip6_b[16] = { 0xfd, 0x77, [15] = 1 };

static uint32_t segment(uint8_t *buf, uint8_t family, bool vlan, uint16_t dport)
{
	struct pkt_tcp_build b = { .family = family, .has_vlan = vlan, .vlan_id = 7 };
	int n;

	memcpy(b.src_addr, family == PKT_AF_INET ? ip_a : ip6_a, 16);
	memcpy(b.dst_addr, family == PKT_AF_INET ? ip_b : ip6_b, 16);
	b.src_port = 40000;
	b.dst_port = dport;
	b.flags = PKT_TCP_SYN;
	n = pkt_build_tcp(buf, PKT_BUILD_MAX, &b);
	assert_true(n > 0);
	return (uint32_t)n;
}

static void test_ipv4_tcp_to_listed_port_is_chosen_and_passes_without_socket(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint32_t n = segment(f, PKT_AF_INET, false, PORT_ENGINE);
	bool chosen;

	assert_int_equal(run(fx, f, n, &chosen), XDP_PASS);
	assert_true(chosen);
}

static void test_ipv6_and_vlan_tcp_to_listed_port_are_chosen(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	bool chosen;
	uint32_t n;

	n = segment(f, PKT_AF_INET6, false, PORT_ENGINE);
	run(fx, f, n, &chosen);
	assert_true(chosen);
	n = segment(f, PKT_AF_INET, true, PORT_ENGINE);
	run(fx, f, n, &chosen);
	assert_true(chosen);
	n = segment(f, PKT_AF_INET6, true, PORT_ENGINE);
	run(fx, f, n, &chosen);
	assert_true(chosen);
}

static void test_bad_tcp_checksum_is_still_chosen_for_the_engine_to_report(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint32_t n = segment(f, PKT_AF_INET, false, PORT_ENGINE);
	bool chosen;

	f[14 + 20 + 16] ^= 0xff;
	run(fx, f, n, &chosen);
	assert_true(chosen);
}

static void test_tcp_to_other_port_is_passed(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint32_t n = segment(f, PKT_AF_INET, false, PORT_OTHER);
	bool chosen;

	assert_int_equal(run(fx, f, n, &chosen), XDP_PASS);
	assert_false(chosen);
}

static void test_ports_map_key_is_network_byte_order(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint16_t key = 4242; /* host order, wrong on purpose */
	uint8_t one = 1;
	bool chosen;
	uint32_t n;

	assert_int_equal(bpf_map_update_elem(fx->ports_fd, &key, &one, BPF_ANY), 0);
	n = segment(f, PKT_AF_INET, false, 4242);
	run(fx, f, n, &chosen);
	if (htons(4242) != 4242)
		assert_false(chosen);
	key = htons(4242);
	assert_int_equal(bpf_map_update_elem(fx->ports_fd, &key, &one, BPF_ANY), 0);
	run(fx, f, n, &chosen);
	assert_true(chosen);
}

static void test_arp_is_passed(void **state)
{
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x22, 0x74, 0x76, 0xac, 0x87,
		0x00, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	};
	struct xdp_fixture *fx = fixture(state);
	bool chosen;

	assert_int_equal(run(fx, arp, sizeof(arp), &chosen), XDP_PASS);
	assert_false(chosen);
}

static void test_udp_and_fragments_to_listed_port_are_passed(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint32_t n = segment(f, PKT_AF_INET, false, PORT_ENGINE);
	bool chosen;

	f[14 + 9] = 17; /* UDP, same port bytes */
	run(fx, f, n, &chosen);
	assert_false(chosen);

	n = segment(f, PKT_AF_INET, false, PORT_ENGINE);
	f[14 + 6] |= 0x20; /* MF */
	run(fx, f, n, &chosen);
	assert_false(chosen);

	n = segment(f, PKT_AF_INET, false, PORT_ENGINE);
	f[14 + 7] = 1; /* fragment offset 8 */
	run(fx, f, n, &chosen);
	assert_false(chosen);
}

static void test_ipv6_extension_header_to_listed_port_is_passed(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint32_t n = segment(f, PKT_AF_INET6, false, PORT_ENGINE);
	bool chosen;

	f[14 + 6] = 0; /* Hop-by-Hop */
	run(fx, f, n, &chosen);
	assert_false(chosen);
}

static void test_frames_too_short_for_a_tcp_header_are_passed(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX];
	uint32_t n = segment(f, PKT_AF_INET, true, PORT_ENGINE);
	bool chosen;

	/* every cut shorter than Ethernet + VLAN + IPv4 + 20 bytes of TCP */
	for (uint32_t len = 14; len < n; len++) {
		assert_int_equal(run(fx, f, len, &chosen), XDP_PASS);
		assert_false(chosen);
	}
	run(fx, f, n, &chosen);
	assert_true(chosen);

	/* IHL 4, and the bytes a 16-byte header would put at the port spell the engine's port */
	n = segment(f, PKT_AF_INET, false, PORT_ENGINE);
	f[14] = 0x44;
	f[14 + 18] = PORT_ENGINE >> 8;
	f[14 + 19] = PORT_ENGINE & 0xff;
	run(fx, f, n, &chosen);
	assert_false(chosen);
}

static void test_ipv4_header_options_are_skipped_to_find_the_port(void **state)
{
	struct xdp_fixture *fx = fixture(state);
	uint8_t f[PKT_BUILD_MAX + 4];
	uint8_t seg[PKT_BUILD_MAX];
	uint32_t n = segment(seg, PKT_AF_INET, false, PORT_ENGINE);
	bool chosen;

	/* IHL 6: four option bytes (NOP NOP NOP EOL) between the IPv4 and TCP headers */
	memcpy(f, seg, 34);
	f[14] = 0x46;
	f[17] += 4;
	f[34] = 1;
	f[35] = 1;
	f[36] = 1;
	f[37] = 0;
	memcpy(f + 38, seg + 34, n - 34);
	run(fx, f, n + 4, &chosen);
	assert_true(chosen);
}

static void test_object_carries_btf_and_libxdp_run_config(void **state)
{
	struct btf *btf = btf__parse(OFFRX_XDP_OBJ, NULL);

	assert_non_null(btf);
	/* libxdp reads the dispatcher priority from this BTF variable */
	assert_true(btf__find_by_name(btf, "_offrx_xdp") > 0);
	assert_true(btf__find_by_name(btf, "xsks_map") > 0);
	assert_true(btf__find_by_name(btf, "ports_map") > 0);
	btf__free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp_to_listed_port_is_chosen_and_passes_without_socket),
		cmocka_unit_test(test_ipv6_and_vlan_tcp_to_listed_port_are_chosen),
		cmocka_unit_test(test_bad_tcp_checksum_is_still_chosen_for_the_engine_to_report),
		cmocka_unit_test(test_tcp_to_other_port_is_passed),
		cmocka_unit_test(test_ports_map_key_is_network_byte_order),
		cmocka_unit_test(test_arp_is_passed),
		cmocka_unit_test(test_udp_and_fragments_to_listed_port_are_passed),
		cmocka_unit_test(test_ipv6_extension_header_to_listed_port_is_passed),
		cmocka_unit_test(test_frames_too_short_for_a_tcp_header_are_passed),
		cmocka_unit_test(test_ipv4_header_options_are_skipped_to_find_the_port),
		cmocka_unit_test(test_object_carries_btf_and_libxdp_run_config),
	};

	return cmocka_run_group_tests_name("xdp_prog", tests, setup, teardown);
}
