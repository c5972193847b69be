/* The offrx XDP program: IPv4/IPv6 TCP segments for a local port the engine owns go to the
 * AF_XDP socket of their rx queue; everything else (ARP, ICMP, other ports, fragments, frames
 * too short to hold the headers) goes to the kernel untouched.
 *
 * Checksums are not looked at here on purpose: the engine drops bad segments itself and can
 * then name the cause (a partial checksum from a veth with tx offload, for example).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "offrx_xdp_maps.h"

#define ETH_P_8021Q_BE	 bpf_htons(0x8100)
#define IP4_FRAG_MASK_BE bpf_htons(0x3fff) /* MF flag and fragment offset */

struct vlan_tag {
	__be16 tci;
	__be16 proto; /* EtherType of what follows the tag */
};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, OFFRX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

/* Key: the local TCP port in network byte order (see offrx_xdp_maps.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFRX_XDP_MAX_PORTS);
	__type(key, __be16);
	__type(value, __u8);
} ports_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OFFRX_XDP_STAT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats_map SEC(".maps");

/* Run after programs of lower priority in a libxdp dispatcher; go on to the next program
 * only when this one returns XDP_PASS.
 */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(offrx_xdp);

static __always_inline void stat_inc(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&stats_map, &slot);

	if (v)
		*v += 1; /* per-CPU slot: no other writer */
}

/* Find the destination port of an IPv4 or IPv6 TCP segment that could be the engine's.
 * Returns 0 and sets *dport (network order), or -1. The port is read in the branch that
 * checked the bounds: a packet pointer carried past the merge loses its checked range.
 */
static __always_inline int tcp_dport(void *data, void *end, __be16 *dport)
{
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__be16 proto;

	if (l3 > end)
		return -1;
	proto = eth->h_proto;
	if (proto == ETH_P_8021Q_BE) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > end)
			return -1;
		proto = tag->proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		struct tcphdr *th;

		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->version != 4 || ip->ihl < 5 || ip->protocol != IPPROTO_TCP)
			return -1;
		/* Only a first fragment holds a TCP header, and the engine does not reassemble. */
		if (ip->frag_off & IP4_FRAG_MASK_BE)
			return -1;
		th = l3 + ip->ihl * 4;
		if ((void *)(th + 1) > end)
			return -1;
		*dport = th->dest;
		return 0;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		struct tcphdr *th = (void *)(ip6 + 1);

		/* TCP right after the fixed header only; the engine refuses extension headers. */
		if ((void *)(th + 1) > end)
			return -1;
		if (ip6->version != 6 || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		*dport = th->dest;
		return 0;
	}
	return -1;
}

SEC("xdp")
int offrx_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be16 dport;
	int act;

	if (tcp_dport(data, end, &dport) == 0 && bpf_map_lookup_elem(&ports_map, &dport)) {
		/* With no socket on this queue the lookup fails and XDP_PASS comes back. */
		act = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
		if (act == XDP_REDIRECT) {
			stat_inc(OFFRX_XDP_STAT_REDIRECTED);
			return act;
		}
		stat_inc(OFFRX_XDP_STAT_NO_XSK);
	}
	stat_inc(OFFRX_XDP_STAT_PASSED);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
