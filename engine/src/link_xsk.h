/* The AF_XDP link: one XSK socket on one rx queue of one interface, with the offrx XDP program
 * (embedded in the library) attached to steer the engine's TCP ports to it (or sharing the
 * program another link of the interface attached: xsk_link_opts.share_prog). Frames come in
 * and go out as raw Ethernet; parsing is the caller's (pkt.h). Not thread-safe: one thread
 * drives a link. link_xsk.c is the only file that includes <xdp/xsk.h>.
 */
#ifndef OFFRX_LINK_XSK_H
#define OFFRX_LINK_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSK_LINK_MODE_NATIVE 0 /* driver XDP (veth has it); the default */
#define XSK_LINK_MODE_SKB    1 /* generic XDP, for drivers without native support */

#define XSK_LINK_BATCH 64 /* most descriptors moved by one ring operation */

struct xsk_link_opts {
	size_t sz;	       /* sizeof(struct xsk_link_opts) */
	const char *ifname;    /* interface, e.g. "eng0" */
	uint32_t queue;	       /* rx queue id, default 0 */
	const uint16_t *ports; /* local TCP ports to redirect (host order) */
	uint32_t nports;
	uint32_t frames;	  /* UMEM frames, power of two; 0: 4096 (half fill/RX, half TX) */
	uint32_t frame_size;	  /* 2048 or 4096; 0: 4096 */
	int xdp_mode;		  /* XSK_LINK_MODE_NATIVE (default) or XSK_LINK_MODE_SKB */
	bool busy_poll;		  /* spin on the rings instead of poll() */
	double fault_drop_pct;	  /* RX fault injector: drop this % of frames */
	double fault_reorder_pct; /* hold back this % of frames; deliver after the next one */
	uint64_t fault_seed;	  /* same seed, same faults for the same arrivals */
	/* Another queue of the same interface: this link binds its socket into that link's XDP
	 * program (its xsks_map slot for o->queue) instead of attaching one; close it before
	 * that link. NULL: attach the program. */
	struct xsk_link *share_prog;
};

struct xsk_link;

/* A received frame: data points into the UMEM and stays valid until xsk_link_rx_done(). */
struct xsk_frame {
	const uint8_t *data;
	uint32_t len;
	uint64_t addr; /* UMEM address, the frame's identity for xsk_link_rx_done() */
};

/* Open the link: mount bpffs if needed, detach a stale offrx program left by a crashed run,
 * attach the program, create the socket and steer the ports to it. Returns 0 and *out, or a
 * negative errno with a sentence in err that names the cause and what to do. An offrx program
 * still held open by a live process is not stale: that open fails with -EBUSY. A queue still
 * taken by a socket that was closed but that the kernel has not yet released (it does so
 * asynchronously) is waited for, up to 2 s; one bound to a live socket is refused at once
 * with -EBUSY and the holder's pid. The link's own fds are close-on-exec. libbpf and
 * libxdp log through their own callbacks (libbpf_set_print(), libxdp_set_print()); where the
 * libxdp dispatcher cannot load, the first open logs its fallback to a single program.
 */
int xsk_link_open(const struct xsk_link_opts *o, struct xsk_link **out, char *err, size_t errlen);

/* How many frames the link holds between the wire and the engine: the queue in front of the
 * XDP program (a veth's 256-frame ring, a NIC's RX ring as `ethtool -g` shows it) or the
 * socket's RX ring, whichever is smaller. A sender with more frames in flight than this can
 * overrun the link, which then drops frames before the engine sees them.
 */
struct xsk_link_burst {
	uint32_t frames;
	char what[128];	 /* where the figure comes from, in words, for a log line */
	char driver[32]; /* the interface's driver (ethtool -i), "" when it did not say */
};

/* Work out the burst for the link these options would open (nothing is opened). Returns 0, or
 * a negative errno for options xsk_link_open() would refuse.
 */
int xsk_link_burst(const struct xsk_link_opts *o, struct xsk_link_burst *out);

/* Take up to max received frames (at most XSK_LINK_BATCH a call) without waiting. Every frame
 * returned must be given back with xsk_link_rx_done(), in any order and any grouping.
 */
uint32_t xsk_link_rx(struct xsk_link *l, struct xsk_frame *f, uint32_t max);

/* Give frames back to the kernel (fill ring). */
void xsk_link_rx_done(struct xsk_link *l, const struct xsk_frame *f, uint32_t n);

/* Copy one frame into a TX UMEM frame and queue it; it leaves on xsk_link_tx_flush().
 * Returns 0, -EAGAIN when every TX frame is in flight (flush, then retry), or -EMSGSIZE.
 */
int xsk_link_tx(struct xsk_link *l, const void *frame, uint32_t len);

/* Submit queued frames, kick the kernel, and take back the TX frames it has sent. */
void xsk_link_tx_flush(struct xsk_link *l);

/* Wait up to timeout_ms (-1: forever) for frames. Returns 1 when xsk_link_rx() has something,
 * 0 on timeout or signal, or a negative errno. In busy-poll mode it never sleeps.
 */
int xsk_link_wait(struct xsk_link *l, int timeout_ms);

/* The socket fd, for the caller's own epoll. */
int xsk_link_fd(const struct xsk_link *l);

/* Whether the socket is bound in zero-copy mode: the open lets the kernel choose (zero-copy
 * where the driver supports it, else copy mode: veth has none), and always binds copy mode
 * for generic (skb) XDP. */
bool xsk_link_zerocopy(const struct xsk_link *l);

struct xsk_link_stats {
	uint64_t rx_frames; /* handed to the caller */
	uint64_t tx_frames; /* submitted to the kernel */
	uint64_t tx_full;   /* xsk_link_tx() calls refused with -EAGAIN */
	uint64_t fault_dropped, fault_reordered;
	uint64_t stale_detached; /* offrx programs of crashed runs detached by xsk_link_open() */
	uint64_t bind_retries;	 /* binds xsk_link_open() repeated while the kernel released the
				  * queue from a socket closed just before */
	/* The socket's XDP_STATISTICS */
	uint64_t rx_dropped, rx_invalid_descs, tx_invalid_descs, rx_ring_full,
		rx_fill_ring_empty_descs, tx_ring_empty_descs;
	/* The program's stats_map, summed over CPUs (enum offrx_xdp_stat) */
	uint64_t xdp_redirected, xdp_passed, xdp_no_xsk;
};

/* Returns 0, or a negative errno when the kernel counters cannot be read (the link's own
 * counters are filled in regardless).
 */
int xsk_link_stats(struct xsk_link *l, struct xsk_link_stats *out);

/* Whether detaching our XDP program at close needs CAP_SYS_ADMIN besides CAP_NET_ADMIN: only
 * when it sits in libxdp's dispatcher (attached directly, it goes with CAP_NET_ADMIN alone).
 */
bool xsk_link_detach_needs_sys_admin(struct xsk_link *l);

/* Detach the program, close the socket, free the UMEM and the link. NULL is fine. */
void xsk_link_close(struct xsk_link *l);

#endif /* OFFRX_LINK_XSK_H */
