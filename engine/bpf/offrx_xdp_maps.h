/* What the offrx XDP program and the user space that loads it agree on: map names, sizes,
 * key byte order and statistics slots. Plain C with no kernel or libbpf types, so both
 * offrx_xdp.bpf.c and the engine's link can include it.
 */
#ifndef OFFRX_XDP_MAPS_H
#define OFFRX_XDP_MAPS_H

#define OFFRX_XDP_PROG_NAME "offrx_xdp"
#define OFFRX_XDP_XSKS_MAP  "xsks_map"	/* XSKMAP: key rx queue index (u32), value XSK fd */
#define OFFRX_XDP_PORTS_MAP "ports_map" /* HASH: key local TCP port, value u8 (1) */
#define OFFRX_XDP_STATS_MAP "stats_map" /* PERCPU_ARRAY: key enum offrx_xdp_stat, value u64 */

#define OFFRX_XDP_MAX_QUEUES 64
#define OFFRX_XDP_MAX_PORTS  1024

/* ports_map keys are 16-bit ports in NETWORK byte order, as they sit in the TCP header, so
 * the program compares without a swap: insert htons(port).
 */

/* stats_map slots. redirected + passed counts every frame the program saw. */
enum offrx_xdp_stat {
	OFFRX_XDP_STAT_REDIRECTED = 0, /* handed to the AF_XDP socket of the rx queue */
	OFFRX_XDP_STAT_PASSED = 1,     /* given to the kernel stack, for any reason */
	OFFRX_XDP_STAT_NO_XSK = 2,     /* of PASSED: port listed but no socket on this queue */
	OFFRX_XDP_STAT__COUNT
};

#endif /* OFFRX_XDP_MAPS_H */
