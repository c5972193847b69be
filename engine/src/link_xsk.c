/* The AF_XDP link (link_xsk.h): attaches the embedded offrx XDP program through libxdp, binds
 * one XSK socket to one rx queue, and moves frames between its four rings in batches. The
 * only file in the project that includes <xdp/xsk.h>.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/xdp_diag.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "link_xsk.h"
#include "offrx_xdp_maps.h"

/* The compiled offrx_xdp.bpf.o, embedded at build time (link_xsk.cmake, xdp_obj.c.in). */
extern const unsigned char offrx_xdp_obj_data[];
extern const size_t offrx_xdp_obj_size;

#define BPFFS_DIR		"/sys/fs/bpf"
#define XSK_LINK_FRAMES_MIN	(4 * XSK_LINK_BATCH)
#define XSK_LINK_FRAMES_MAX	(1u << 18)
#define XSK_LINK_STALE_ROUNDS	8 /* stale programs detached at most, in a dispatcher */
#define XSK_LINK_FAULT_SEED_MIX 0x9e3779b97f4a7c15ull
/* How long an open waits for the kernel to give back a queue whose socket was closed: the
 * release runs after an RCU grace period and then in a work item that takes the RTNL lock,
 * usually within milliseconds, longer on a busy machine.
 */
#define XSK_LINK_RELEASE_WAIT_MS 2000
#define XSK_LINK_RELEASE_POLL_MS 100 /* longest pause between two binds while waiting */
/* A veth queues at most this many frames for its NAPI, which runs the XDP program
 * (VETH_RING_SIZE in drivers/net/veth.c; not reported through ethtool). More and the sending
 * end drops them: its `ip -s link` TX dropped.
 */
#define XSK_LINK_VETH_RING 256

#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* A socket is bound in zero-copy mode where the driver supports it (the NIC's DMA lands in
 * the UMEM: no copy per frame), else in copy mode: with neither XDP_ZEROCOPY nor XDP_COPY the
 * kernel tries zero-copy and falls back to copy by itself (veth, the test topology, has no
 * zero-copy AF_XDP), and XDP_OPTIONS says afterwards which it got. Generic (skb) XDP binds in
 * copy mode. NEED_WAKEUP lets the kernel say when it needs a syscall to go on, so the busy
 * path does not make one per batch.
 */
#define XSK_LINK_BIND_ANY  XDP_USE_NEED_WAKEUP
#define XSK_LINK_BIND_COPY (XDP_COPY | XDP_USE_NEED_WAKEUP)

struct xsk_fault {
	double drop_pct;
	double reorder_pct;
	uint64_t rng; /* splitmix64 state */
	bool held;    /* a frame is held back for reordering */
	struct xsk_frame held_frame;
};

struct xsk_link {
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint32_t queue;
	enum xdp_attach_mode mode;
	bool busy_poll;

	struct bpf_object *obj;
	struct xdp_program *prog;
	bool attached;
	int xsks_map_fd, ports_map_fd, stats_map_fd; /* owned by obj */
	int nr_cpus;
	uint64_t *cpu_vals; /* one stats_map value per possible CPU */

	/* UMEM: frames [0, ring_size) receive, [ring_size, 2 * ring_size) transmit. Every ring
	 * has ring_size entries, so a ring never runs out of room for the frames of its half.
	 */
	void *area;
	size_t area_len;
	uint32_t frame_size;
	uint32_t ring_size;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	int fd;
	bool zerocopy;	 /* the kernel bound it in zero-copy mode (XDP_OPTIONS) */
	bool prog_owned; /* this link attached the program (not share_prog) */

	uint64_t *rx_free; /* RX frames we own that are not in the fill ring */
	uint32_t nr_rx_free;
	uint64_t *tx_free; /* TX frames not queued and not in flight */
	uint32_t nr_tx_free;
	uint32_t tx_idx;      /* next reserved TX descriptor */
	uint32_t tx_reserved; /* reserved TX descriptors not yet written */
	uint32_t tx_queued;   /* written, not yet submitted */

	char xdp_lock_dir[PATH_MAX]; /* libxdp's directory in bpffs */
	bool xdp_lock_dir_made;	     /* absent before we opened: remove it on close */

	struct xsk_fault fault;
	struct xsk_link_stats st;
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int ret,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Copy the caller's options (of any size this or an older or newer build knows) and fill in
 * the defaults.
 */
static int opts_load(struct xsk_link_opts *o, const struct xsk_link_opts *in, char *err,
		     size_t errlen)
{
	const size_t min_sz = offsetofend(struct xsk_link_opts, nports);

	if (!in)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: opts is NULL: pass a struct xsk_link_opts with "
			    ".sz = sizeof(struct xsk_link_opts)");
	if (in->sz < min_sz)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: opts.sz is %zu, below the %zu bytes every version has: "
			    "set .sz = sizeof(struct xsk_link_opts)",
			    in->sz, min_sz);
	if (in->sz > sizeof(*o)) {
		const unsigned char *extra = (const unsigned char *)in + sizeof(*o);

		for (size_t i = 0; i < in->sz - sizeof(*o); i++) {
			if (extra[i])
				return fail(err, errlen, -E2BIG,
					    "xsk_link_open: opts.sz is %zu and sets fields this "
					    "build (%zu bytes) does not know: rebuild the engine "
					    "against your link_xsk.h",
					    in->sz, sizeof(*o));
		}
	}
	memset(o, 0, sizeof(*o));
	memcpy(o, in, in->sz < sizeof(*o) ? in->sz : sizeof(*o));

	if (!o->frames)
		o->frames = 4096;
	if (!o->frame_size)
		o->frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE;

	if (!o->ifname || !o->ifname[0] || strlen(o->ifname) >= IF_NAMESIZE)
		return fail(
			err, errlen, -EINVAL,
			"xsk_link_open: ifname '%s' is not an interface name (1..%d characters)",
			o->ifname ? o->ifname : "(null)", IF_NAMESIZE - 1);
	if (o->queue >= OFFRX_XDP_MAX_QUEUES)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: queue %u is past the XDP program's xsks_map (%d "
			    "entries): use a queue below %d",
			    o->queue, OFFRX_XDP_MAX_QUEUES, OFFRX_XDP_MAX_QUEUES);
	if (!o->ports || !o->nports || o->nports > OFFRX_XDP_MAX_PORTS)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: %u ports given: list 1..%d local TCP ports to redirect",
			    o->ports ? o->nports : 0, OFFRX_XDP_MAX_PORTS);
	for (uint32_t i = 0; i < o->nports; i++) {
		if (!o->ports[i])
			return fail(err, errlen, -EINVAL,
				    "xsk_link_open: ports[%u] is 0: list real local TCP ports", i);
	}
	if (!is_pow2(o->frames) || o->frames < XSK_LINK_FRAMES_MIN ||
	    o->frames > XSK_LINK_FRAMES_MAX)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: frames %u must be a power of two in %u..%u (half "
			    "receive, half transmit)",
			    o->frames, XSK_LINK_FRAMES_MIN, XSK_LINK_FRAMES_MAX);
	if (o->frame_size != 2048 && o->frame_size != 4096)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: frame_size %u is not supported: use 2048 or 4096",
			    o->frame_size);
	if (o->xdp_mode != XSK_LINK_MODE_NATIVE && o->xdp_mode != XSK_LINK_MODE_SKB)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: xdp_mode %d is unknown: use XSK_LINK_MODE_NATIVE (%d) "
			    "or XSK_LINK_MODE_SKB (%d)",
			    o->xdp_mode, XSK_LINK_MODE_NATIVE, XSK_LINK_MODE_SKB);
	if (!(o->fault_drop_pct >= 0 && o->fault_drop_pct <= 100) ||
	    !(o->fault_reorder_pct >= 0 && o->fault_reorder_pct <= 100))
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: fault_drop_pct %g / fault_reorder_pct %g: each must be "
			    "a percentage in 0..100",
			    o->fault_drop_pct, o->fault_reorder_pct);
	return 0;
}

/* One SIOCETHTOOL request (cmd points at a struct whose first field is the command) on
 * ifname; 0 or a negative errno.
 */
static int ethtool_get(const char *ifname, void *cmd)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	ret = ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
	close(fd);
	return ret;
}

int xsk_link_burst(const struct xsk_link_opts *opts, struct xsk_link_burst *out)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_ringparam rp = { .cmd = ETHTOOL_GRINGPARAM };
	struct xsk_link_opts o;
	uint32_t ring, dev = 0;
	char dev_what[sizeof(out->what)];
	int ret = opts_load(&o, opts, NULL, 0);

	if (ret)
		return ret;
	ring = o.frames / 2; /* the RX half: the socket's RX and fill rings are this large */
	out->driver[0] = '\0';
	if (!ethtool_get(o.ifname, &di))
		snprintf(out->driver, sizeof(out->driver), "%s", di.driver);
	if (!strcmp(out->driver, "veth")) {
		/* Native XDP runs in the veth's NAPI behind its ring; generic XDP does too when
		 * the veth has NAPI for GRO, and the ring is the smaller bound either way.
		 */
		dev = XSK_LINK_VETH_RING;
		snprintf(dev_what, sizeof(dev_what), "the %u frames a veth queues for XDP", dev);
	} else if (!ethtool_get(o.ifname, &rp) && rp.rx_pending) {
		dev = rp.rx_pending;
		snprintf(dev_what, sizeof(dev_what), "%s's RX ring of %u (ethtool -g)", o.ifname,
			 dev);
	}
	if (dev && dev < ring) {
		out->frames = dev;
		snprintf(out->what, sizeof(out->what), "%s", dev_what);
	} else {
		out->frames = ring;
		snprintf(out->what, sizeof(out->what), "the AF_XDP RX ring of %u frames", ring);
	}
	return 0;
}

/* libxdp needs bpffs for its multi-program dispatcher; without it, it falls back to a single
 * program, which is all we need. So mount it when missing, but only a refusal (not root) stops
 * the open: a system without /sys/fs/bpf still works. libxdp also makes its lock directory
 * there; note whether it existed, so bpffs_tidy() can take away the one it made for us.
 */
static int bpffs_ensure(struct xsk_link *l, char *err, size_t errlen)
{
	const char *dir = getenv(XDP_BPFFS_ENVVAR) ? getenv(XDP_BPFFS_ENVVAR) : BPFFS_DIR;
	struct statfs sfs;
	struct stat st;

	snprintf(l->xdp_lock_dir, sizeof(l->xdp_lock_dir), "%s/xdp", dir);
	l->xdp_lock_dir_made = stat(l->xdp_lock_dir, &st) != 0;
	if (statfs(BPFFS_DIR, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_DIR, "bpf", 0, NULL) == 0)
		return 0;
	if (errno == EPERM)
		return fail(err, errlen, -EPERM,
			    "xsk_link_open: mounting bpffs at " BPFFS_DIR " was refused (EPERM): "
			    "run as root (AF_XDP and XDP need CAP_NET_ADMIN, CAP_BPF and, for the "
			    "mount, CAP_SYS_ADMIN)");
	return 0;
}

static void bpffs_tidy(struct xsk_link *l)
{
	/* Fails, as it should, when the directory holds pins or never was. */
	if (l->xdp_lock_dir_made)
		rmdir(l->xdp_lock_dir);
	l->xdp_lock_dir_made = false;
}

static int prog_open(struct xsk_link *l, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .object_name = OFFRX_XDP_PROG_NAME);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, popts, .prog_name = OFFRX_XDP_PROG_NAME);
	long e;

	if (offrx_xdp_obj_size == 0)
		return fail(err, errlen, -ENOEXEC,
			    "xsk_link_open: the embedded XDP object is empty: rebuild (target "
			    "offrx_link_xsk)");
	l->obj = bpf_object__open_mem(offrx_xdp_obj_data, offrx_xdp_obj_size, &oopts);
	e = libbpf_get_error(l->obj);
	if (e) {
		l->obj = NULL;
		return fail(err, errlen, (int)e,
			    "xsk_link_open: the embedded XDP object (%zu bytes) does not open: %s: "
			    "rebuild (target offrx_link_xsk)",
			    offrx_xdp_obj_size, strerror((int)-e));
	}
	popts.obj = l->obj;
	l->prog = xdp_program__create(&popts);
	e = libxdp_get_error(l->prog);
	if (e) {
		l->prog = NULL;
		return fail(err, errlen, (int)e,
			    "xsk_link_open: libxdp refused program '%s' of the embedded object: %s",
			    OFFRX_XDP_PROG_NAME, strerror((int)-e));
	}
	return 0;
}

static bool prog_is_offrx(const struct xdp_program *p)
{
	const char *name = p ? xdp_program__name(p) : NULL;

	return name && strcmp(name, OFFRX_XDP_PROG_NAME) == 0;
}

/* The name of BPF program id, or "" when it cannot be read. */
static void prog_name_of(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

static bool fdinfo_has_prog(int pid, const char *fd, uint32_t id)
{
	char path[320], line[128];
	unsigned int v;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "prog_id: %u", &v) == 1 && v == id;
	fclose(f);
	return found;
}

/* A process, other than skip_pid, with an open fd whose link in /proc/PID/fd reads target
 * and, when prog_id is not 0, whose fdinfo names that BPF program; 0 when none is visible
 * (processes of other PID namespaces are not).
 */
static int fd_holder(const char *target, uint32_t prog_id, int skip_pid)
{
	DIR *proc = opendir("/proc");
	struct dirent *pe;
	int holder = 0;

	if (!proc)
		return 0;
	while (!holder && (pe = readdir(proc))) {
		char path[64];
		struct dirent *fe;
		DIR *fds;
		int pid;

		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		pid = atoi(pe->d_name);
		if (pid == skip_pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!holder && (fe = readdir(fds))) {
			char link[320], got[48];
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "%s/%s", path, fe->d_name);
			n = readlink(link, got, sizeof(got) - 1);
			if (n <= 0)
				continue;
			got[n] = '\0';
			if (!strcmp(got, target) &&
			    (!prog_id || fdinfo_has_prog(pid, fe->d_name, prog_id)))
				holder = pid;
		}
		closedir(fds);
	}
	closedir(proc);
	return holder;
}

/* A process, other than skip_pid, that holds BPF program id open (a live engine keeps its
 * program's fd), or 0.
 */
static int prog_holder(uint32_t id, int skip_pid)
{
	return fd_holder("anon_inode:bpf-prog", id, skip_pid);
}

/* The command name of pid, for a message; "?" when it cannot be read. */
static void proc_comm(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int stale_refuse_live(struct xsk_link *l, uint32_t id, int holder, char *err, size_t errlen)
{
	return fail(err, errlen, -EBUSY,
		    "xsk_link_open: %s already carries a live %s program (id %u), held by pid %d: "
		    "another engine runs on this interface; stop it first (one link per "
		    "interface)",
		    l->ifname, OFFRX_XDP_PROG_NAME, id, holder);
}

static int stale_detach_failed(struct xsk_link *l, uint32_t id, int ret, char *err, size_t errlen)
{
	return fail(err, errlen, ret,
		    "xsk_link_open: %s carries a stale %s program (id %u) from an earlier run and "
		    "detaching it failed: %s: remove it with `ip link set dev %s xdpdrv off` "
		    "(native) or `xdpgeneric off` (skb mode)",
		    l->ifname, OFFRX_XDP_PROG_NAME, id, strerror(-ret), l->ifname);
}

/* An offrx program attached directly in one mode (mode_flags: XDP_FLAGS_DRV_MODE or
 * XDP_FLAGS_SKB_MODE). Queried and detached through libbpf: libxdp 1.3's
 * xdp_multiprog__close() leaves a program fd open in legacy mode, which would make us look
 * like a live holder ourselves.
 */
static int stale_detach_direct(struct xsk_link *l, uint32_t id, uint32_t mode_flags, char *err,
			       size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, aopts);
	int holder = prog_holder(id, 0);
	int ret;

	if (holder)
		return stale_refuse_live(l, id, holder, err, errlen);
	aopts.old_prog_fd = bpf_prog_get_fd_by_id(id);
	if (aopts.old_prog_fd < 0)
		return 0; /* gone meanwhile */
	/* REPLACE: detach only if it is still that program. */
	ret = bpf_xdp_detach(l->ifindex, mode_flags | XDP_FLAGS_REPLACE, &aopts);
	close(aopts.old_prog_fd);
	if (ret)
		return stale_detach_failed(l, id, ret, err, errlen);
	l->st.stale_detached++;
	return 0;
}

/* offrx programs inside a libxdp dispatcher (a system where the dispatcher loads). Our own
 * process is not looked at for holders here, for the fd libxdp keeps; so two links of one
 * process on one interface are not caught in this case.
 */
static int stale_detach_dispatched(struct xsk_link *l, char *err, size_t errlen)
{
	for (int round = 0; round < XSK_LINK_STALE_ROUNDS; round++) {
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(l->ifindex);
		struct xdp_program *p;
		uint32_t id;
		int holder, ret;

		if (libxdp_get_error(mp) || !mp)
			return 0;
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (prog_is_offrx(p))
				break;
		if (!p) {
			xdp_multiprog__close(mp);
			return 0;
		}
		id = xdp_program__id(p);
		holder = prog_holder(id, (int)getpid());
		if (holder) {
			xdp_multiprog__close(mp);
			return stale_refuse_live(l, id, holder, err, errlen);
		}
		ret = xdp_program__detach(p, l->ifindex, xdp_multiprog__attach_mode(mp), 0);
		xdp_multiprog__close(mp);
		if (ret)
			return stale_detach_failed(l, id, ret, err, errlen);
		l->st.stale_detached++;
	}
	return 0;
}

/* A crashed run leaves its program attached (a netlink attachment outlives the process) with
 * an empty xsks_map, and its ports then pass to a kernel stack that has no listener. Detach
 * such programs quietly and count them in stats.stale_detached. An offrx program that some
 * process still holds open belongs to a live engine: refuse (-EBUSY) rather than take it.
 */
static int prog_detach_stale(struct xsk_link *l, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const struct {
		uint32_t *id;
		uint32_t mode_flags;
	} modes[] = {
		{ &q.drv_prog_id, XDP_FLAGS_DRV_MODE },
		{ &q.skb_prog_id, XDP_FLAGS_SKB_MODE },
	};
	bool dispatcher = false;
	char name[BPF_OBJ_NAME_LEN];
	int ret;

	if (bpf_xdp_query(l->ifindex, 0, &q))
		return 0; /* not readable: attach will tell */
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!*modes[i].id)
			continue;
		prog_name_of(*modes[i].id, name, sizeof(name));
		if (!strcmp(name, OFFRX_XDP_PROG_NAME)) {
			ret = stale_detach_direct(l, *modes[i].id, modes[i].mode_flags, err,
						  errlen);
			if (ret)
				return ret;
		} else if (!strcmp(name, "xdp_dispatcher")) {
			dispatcher = true;
		}
	}
	return dispatcher ? stale_detach_dispatched(l, err, errlen) : 0;
}

/* Describe what is attached to the interface and how to remove it, for an error message. */
static void attached_describe(int ifindex, const char *ifname, char *buf, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	uint32_t id;

	snprintf(buf, len, "another XDP program attached: remove it (`ip link set dev %s xdp off`)",
		 ifname);
	if (bpf_xdp_query(ifindex, 0, &q))
		return;
	id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (!id)
		return;
	prog_name_of(id, name, sizeof(name));
	snprintf(buf, len,
		 "XDP program '%s' (id %u) attached: remove it (`ip link set dev %s %s off`)", name,
		 id, ifname, q.drv_prog_id ? "xdpdrv" : "xdpgeneric");
}

static int prog_attach(struct xsk_link *l, char *err, size_t errlen)
{
	const char *mode = l->mode == XDP_MODE_SKB ? "skb" : "native";
	char what[192];
	int ret;

	ret = xdp_program__attach(l->prog, l->ifindex, l->mode, 0);
	if (!ret) {
		l->attached = true;
		return 0;
	}
	switch (ret) {
	case -EPERM:
		return fail(err, errlen, ret,
			    "xsk_link_open: loading or attaching the XDP program on %s was refused "
			    "(EPERM): run as root (CAP_BPF and CAP_NET_ADMIN)",
			    l->ifname);
	case -EEXIST:
	case -EBUSY:
		attached_describe(l->ifindex, l->ifname, what, sizeof(what));
		return fail(err, errlen, ret,
			    "xsk_link_open: %s already has %s, or use another interface", l->ifname,
			    what);
	case -EOPNOTSUPP:
		return fail(err, errlen, ret,
			    "xsk_link_open: %s does not support %s-mode XDP (EOPNOTSUPP)%s",
			    l->ifname, mode,
			    l->mode == XDP_MODE_NATIVE ? ": open with xdp_mode = XSK_LINK_MODE_SKB"
						       : "");
	case -EACCES:
	case -EINVAL:
		return fail(err, errlen, ret,
			    "xsk_link_open: the kernel refused the XDP program on %s in %s mode "
			    "(%s): the verifier log, if any, went to the libbpf print callback; "
			    "check that the kernel has XDP and AF_XDP (CONFIG_XDP_SOCKETS)",
			    l->ifname, mode, strerror(-ret));
	default:
		return fail(err, errlen, ret,
			    "xsk_link_open: attaching the XDP program to %s in %s mode failed: %s",
			    l->ifname, mode, strerror(-ret));
	}
}

/* Is our own program attached directly (libxdp fell back from its dispatcher)? Then
 * *mode_flags says in which mode. A netlink query: no capability needed. */
static bool prog_is_direct(struct xsk_link *l, uint32_t *mode_flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t id = xdp_program__id(l->prog);

	if (!l->attached || !id || bpf_xdp_query(l->ifindex, 0, &q))
		return false;
	*mode_flags = q.drv_prog_id == id   ? XDP_FLAGS_DRV_MODE
		      : q.skb_prog_id == id ? XDP_FLAGS_SKB_MODE
					    : 0;
	return *mode_flags != 0;
}

/* Attached directly, our program goes with a netlink detach that names it by our own fd
 * (REPLACE: only if it is still ours), which needs CAP_NET_ADMIN alone; libxdp's detach would
 * open the attached program by id first (CAP_SYS_ADMIN). Through the dispatcher, libxdp has to
 * rebuild or remove it. */
static void prog_detach(struct xsk_link *l)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, aopts);
	uint32_t mode_flags = 0;

	if (prog_is_direct(l, &mode_flags)) {
		aopts.old_prog_fd = xdp_program__fd(l->prog);
		if (aopts.old_prog_fd >= 0 &&
		    !bpf_xdp_detach(l->ifindex, mode_flags | XDP_FLAGS_REPLACE, &aopts))
			l->attached = false;
	}
	if (l->attached)
		xdp_program__detach(l->prog, l->ifindex, l->mode, 0);
	l->attached = false;
}

bool xsk_link_detach_needs_sys_admin(struct xsk_link *l)
{
	uint32_t mode_flags;

	return l && l->attached && !prog_is_direct(l, &mode_flags);
}

static void prog_close(struct xsk_link *l)
{
	/* The program came from our object: libxdp leaves the object to us. */
	xdp_program__close(l->prog);
	l->prog = NULL;
	bpf_object__close(l->obj);
	l->obj = NULL;
}

/* A link on another queue of the interface whose program `from` attached: use its maps (the
 * fds stay owned by from's object; from is closed last) and attach nothing. */
static int prog_share(struct xsk_link *l, const struct xsk_link *from, char *err, size_t errlen)
{
	if (from->ifindex != l->ifindex || !from->prog_owned)
		return fail(err, errlen, -EINVAL,
			    "xsk_link_open: share_prog is a link on %s, not on %s, or one that "
			    "shares itself: pass the link that attached the program on %s",
			    from->ifname, l->ifname, l->ifname);
	l->mode = from->mode;
	l->xsks_map_fd = from->xsks_map_fd;
	l->ports_map_fd = from->ports_map_fd;
	l->stats_map_fd = from->stats_map_fd;
	l->nr_cpus = from->nr_cpus;
	l->cpu_vals = calloc((size_t)l->nr_cpus, sizeof(*l->cpu_vals));
	if (!l->cpu_vals)
		return fail(err, errlen, -ENOMEM, "xsk_link_open: out of memory");
	return 0;
}

static int maps_find(struct xsk_link *l, char *err, size_t errlen)
{
	struct bpf_object *obj = xdp_program__bpf_obj(l->prog);

	if (!obj)
		obj = l->obj;
	l->xsks_map_fd = bpf_object__find_map_fd_by_name(obj, OFFRX_XDP_XSKS_MAP);
	l->ports_map_fd = bpf_object__find_map_fd_by_name(obj, OFFRX_XDP_PORTS_MAP);
	l->stats_map_fd = bpf_object__find_map_fd_by_name(obj, OFFRX_XDP_STATS_MAP);
	if (l->xsks_map_fd < 0 || l->ports_map_fd < 0 || l->stats_map_fd < 0)
		return fail(err, errlen, -ENOENT,
			    "xsk_link_open: the XDP program was attached but its maps %s/%s/%s are "
			    "missing (fds %d/%d/%d): the embedded object does not match "
			    "offrx_xdp_maps.h; rebuild",
			    OFFRX_XDP_XSKS_MAP, OFFRX_XDP_PORTS_MAP, OFFRX_XDP_STATS_MAP,
			    l->xsks_map_fd, l->ports_map_fd, l->stats_map_fd);
	l->nr_cpus = libbpf_num_possible_cpus();
	if (l->nr_cpus <= 0)
		return fail(err, errlen, l->nr_cpus ? l->nr_cpus : -EINVAL,
			    "xsk_link_open: cannot count possible CPUs (%d): is /sys mounted?",
			    l->nr_cpus);
	l->cpu_vals = calloc((size_t)l->nr_cpus, sizeof(*l->cpu_vals));
	if (!l->cpu_vals)
		return fail(err, errlen, -ENOMEM, "xsk_link_open: out of memory");
	return 0;
}

static void fill_refill(struct xsk_link *l)
{
	while (l->nr_rx_free) {
		uint32_t idx, n = l->nr_rx_free < XSK_LINK_BATCH ? l->nr_rx_free : XSK_LINK_BATCH;

		n = xsk_ring_prod__reserve(&l->fill, n, &idx);
		if (!n)
			return; /* cannot happen while the ring is as large as the RX half */
		for (uint32_t i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&l->fill, idx + i) = l->rx_free[--l->nr_rx_free];
		xsk_ring_prod__submit(&l->fill, n);
	}
}

static int umem_create(struct xsk_link *l, char *err, size_t errlen)
{
	struct xsk_umem_config cfg = {
		.fill_size = l->ring_size,
		.comp_size = l->ring_size,
		.frame_size = l->frame_size,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
		.flags = XSK_UMEM__DEFAULT_FLAGS,
	};
	int ret;

	if (!l->rx_free)
		l->rx_free = calloc(l->ring_size, sizeof(*l->rx_free));
	if (!l->tx_free)
		l->tx_free = calloc(l->ring_size, sizeof(*l->tx_free));
	if (!l->rx_free || !l->tx_free)
		return fail(err, errlen, -ENOMEM, "xsk_link_open: out of memory");
	l->area_len = (size_t)l->ring_size * 2 * l->frame_size;
	l->area =
		mmap(NULL, l->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l->area == MAP_FAILED) {
		l->area = NULL;
		return fail(err, errlen, -errno,
			    "xsk_link_open: cannot map a %zu-byte UMEM (%s): lower opts.frames",
			    l->area_len, strerror(errno));
	}
	ret = xsk_umem__create(&l->umem, l->area, l->area_len, &l->fill, &l->comp, &cfg);
	if (ret) {
		l->umem = NULL;
		return fail(
			err, errlen, ret,
			"xsk_link_open: registering a %zu-byte UMEM (%u frames of %u) failed: "
			"%s: %s",
			l->area_len, l->ring_size * 2, l->frame_size, strerror(-ret),
			ret == -EPERM || ret == -ENOMEM || ret == -ENOBUFS
				? "run as root (CAP_IPC_LOCK), or raise the locked-memory limit "
				  "(ulimit -l) or "
				  "lower opts.frames"
				: "check that the kernel has AF_XDP (CONFIG_XDP_SOCKETS)");
	}
	/* libxdp opens its sockets without O_CLOEXEC: a child the application starts would
	 * keep the socket, and with it the queue, alive after the engine has closed it.
	 */
	fcntl(xsk_umem__fd(l->umem), F_SETFD, FD_CLOEXEC);
	for (uint32_t i = 0; i < l->ring_size; i++) {
		l->rx_free[i] = (uint64_t)i * l->frame_size;
		l->tx_free[i] = (uint64_t)(l->ring_size + i) * l->frame_size;
	}
	l->nr_rx_free = l->ring_size;
	l->nr_tx_free = l->ring_size;
	fill_refill(l);
	return 0;
}

static void umem_delete(struct xsk_link *l)
{
	if (l->umem)
		xsk_umem__delete(l->umem);
	l->umem = NULL;
	if (l->area)
		munmap(l->area, l->area_len);
	l->area = NULL;
}

static int socket_create(struct xsk_link *l, char *err, size_t errlen)
{
	struct xsk_socket_config cfg = {
		.rx_size = l->ring_size,
		.tx_size = l->ring_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, /* ours is attached */
		.xdp_flags = 0,
		.bind_flags = l->mode == XDP_MODE_SKB ? XSK_LINK_BIND_COPY : XSK_LINK_BIND_ANY,
	};
	int ret;

	ret = xsk_socket__create(&l->xsk, l->ifname, l->queue, l->umem, &l->rx, &l->tx, &cfg);
	if (ret) {
		l->xsk = NULL;
		if (ret == -EBUSY)
			return fail(err, errlen, ret,
				    "xsk_link_open: queue %u of %s already has an AF_XDP socket "
				    "(EBUSY): stop the other engine or pick another queue",
				    l->queue, l->ifname);
		if (ret == -EINVAL)
			return fail(
				err, errlen, ret,
				"xsk_link_open: binding an AF_XDP socket to %s queue %u was "
				"refused (EINVAL): the queue may not exist; see `ethtool -l %s`",
				l->ifname, l->queue, l->ifname);
		return fail(err, errlen, ret,
			    "xsk_link_open: creating the AF_XDP socket on %s queue %u failed: %s",
			    l->ifname, l->queue, strerror(-ret));
	}
	l->fd = xsk_socket__fd(l->xsk);
	struct xdp_options xo = { 0 };
	socklen_t xolen = sizeof(xo);
	l->zerocopy = !getsockopt(l->fd, SOL_XDP, XDP_OPTIONS, &xo, &xolen) &&
		      (xo.flags & XDP_OPTIONS_ZEROCOPY);
	fcntl(l->fd, F_SETFD, FD_CLOEXEC); /* see umem_create() */
	ret = xsk_socket__update_xskmap(l->xsk, l->xsks_map_fd);
	if (ret)
		return fail(err, errlen, ret,
			    "xsk_link_open: putting the socket into %s[%u] failed: %s",
			    OFFRX_XDP_XSKS_MAP, l->queue, strerror(-ret));
	return 0;
}

static void socket_delete(struct xsk_link *l)
{
	if (l->xsk)
		xsk_socket__delete(l->xsk); /* the kernel drops it from xsks_map */
	l->xsk = NULL;
	l->fd = -1;
}

/* Whether a live AF_XDP socket, one that some process still has open, is bound to queue of
 * ifindex, from the kernel's socket diagnostics (xsk_diag, what `ss --xdp` reads): 1 with its
 * inode in *ino, 0 for none, or a negative errno when the kernel cannot list AF_XDP sockets
 * (built without CONFIG_XDP_SOCKETS_DIAG). A socket leaves this list as it is closed, before
 * the kernel gives its queue back, so "none" while a bind is refused means a closed socket
 * whose release is still under way.
 */
/* NLMSG_OK with the types spelt out: the macro compares the header's __u32 length with an
 * int, which clang's -Wsign-compare rejects (make fuzz-build compiles this file with clang). */
static int nlmsg_fits(const struct nlmsghdr *nh, int left)
{
	return left >= (int)sizeof(*nh) && nh->nlmsg_len >= sizeof(*nh) &&
	       nh->nlmsg_len <= (unsigned int)left;
}

static int queue_live_socket(int ifindex, uint32_t queue, uint32_t *ino)
{
	struct {
		struct nlmsghdr nh;
		struct xdp_diag_req req;
	} msg = {
		.nh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = { .sdiag_family = AF_XDP, .xdiag_show = XDP_SHOW_INFO },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	long buf[8192 / sizeof(long)]; /* aligned for the headers */
	int fd, ret = -EIO, found = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int left = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; nlmsg_fits(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			const struct xdp_diag_msg *m = NLMSG_DATA(nh);
			int alen = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

			if (nh->nlmsg_type == NLMSG_DONE) {
				ret = found;
				goto out;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				ret = e->error ? e->error : -EIO;
				goto out;
			}
			if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY || alen < 0)
				continue;
			for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen)) {
				struct xdp_diag_info di;

				if (a->rta_type != XDP_DIAG_INFO || RTA_PAYLOAD(a) < sizeof(di))
					continue;
				memcpy(&di, RTA_DATA(a), sizeof(di));
				if (!found && di.ifindex == (uint32_t)ifindex &&
				    di.queue_id == queue) {
					found = 1;
					*ino = m->xdiag_ino;
				}
			}
		}
	}
out:
	close(fd);
	return ret;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Whether the AF_XDP socket fd is bound to queue of ifindex. The kernel lets a socket with no
 * fill and completion rings of its own share a bound socket's buffer pool (XDP_SHARED_UMEM)
 * only on that socket's very device and queue; on another one it refuses (EINVAL), and an
 * unbound socket it refuses with EBADF. So bind such a probe, with a small RX ring and nothing
 * else, and close it at once. It is in no XSKMAP, so it never receives a frame, and the
 * holder's socket is untouched.
 */
static bool xsk_fd_bound_to(int fd, int ifindex, uint32_t queue)
{
	struct sockaddr_xdp sx = {
		.sxdp_family = AF_XDP,
		.sxdp_flags = XDP_SHARED_UMEM,
		.sxdp_ifindex = (uint32_t)ifindex,
		.sxdp_queue_id = queue,
		.sxdp_shared_umem_fd = (uint32_t)fd,
	};
	int n = 64, probe = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	bool bound;

	if (probe < 0)
		return false;
	bound = !setsockopt(probe, SOL_XDP, XDP_RX_RING, &n, sizeof(n)) &&
		!bind(probe, (struct sockaddr *)&sx, sizeof(sx));
	close(probe);
	return bound;
}

/* For kernels without socket diagnostics for AF_XDP: look through the socket fds of every
 * visible process for an AF_XDP socket bound to the queue, with a copy of each that
 * pidfd_getfd(2) lends us. Returns 1 with the holder's pid and the socket's inode, 0 when no
 * process holds one, or a negative errno when some socket could not be looked at (no
 * pidfd_getfd before Linux 5.6, or not permitted: it needs CAP_SYS_PTRACE for other users).
 */
static int queue_scan_holder(int ifindex, uint32_t queue, int *pid_out, uint32_t *ino_out)
{
	DIR *proc = opendir("/proc");
	struct dirent *pe;
	int found = 0, unknown = 0;

	if (!proc)
		return -errno;
	while (!found && (pe = readdir(proc))) {
		char path[64];
		struct dirent *fe;
		int pid, pidfd = -1;
		DIR *fds;

		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		pid = atoi(pe->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (fe = readdir(fds))) {
			char link[320], got[48];
			unsigned int ino;
			int dup, dom = 0;
			socklen_t len = sizeof(dom);
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "%s/%s", path, fe->d_name);
			n = readlink(link, got, sizeof(got) - 1);
			if (n <= 0)
				continue;
			got[n] = '\0';
			if (sscanf(got, "socket:[%u]", &ino) != 1)
				continue;
			if (pidfd < 0)
				pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (pidfd < 0) {
				if (errno != ESRCH)
					unknown = -errno;
				break;
			}
			dup = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(fe->d_name), 0);
			if (dup < 0) {
				if (errno != EBADF && errno != ESRCH) /* closed, or gone */
					unknown = -errno;
				continue;
			}
			if (!getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &dom, &len) && dom == AF_XDP &&
			    xsk_fd_bound_to(dup, ifindex, queue)) {
				found = 1;
				*pid_out = pid;
				*ino_out = ino;
			}
			close(dup);
		}
		if (pidfd >= 0)
			close(pidfd);
		closedir(fds);
	}
	closedir(proc);
	return found ? 1 : unknown;
}

/* Is a live socket, one some process still has open, bound to the link's queue? 1 with the
 * holder's pid (0 when it is not visible here) and the socket's inode, 0 when none is, or a
 * negative errno when this kernel cannot tell. Socket diagnostics answer without touching any
 * socket; the scan is for kernels without them.
 */
static int queue_holder(const struct xsk_link *l, int *pid, uint32_t *ino)
{
	char target[48];
	int ret = queue_live_socket(l->ifindex, l->queue, ino);

	*pid = 0;
	if (ret < 0)
		return queue_scan_holder(l->ifindex, l->queue, pid, ino);
	if (ret > 0) {
		snprintf(target, sizeof(target), "socket:[%u]", *ino);
		*pid = fd_holder(target, 0, 0);
	}
	return ret;
}

static int queue_refuse_live(struct xsk_link *l, int holder, uint32_t ino, char *err, size_t errlen)
{
	char comm[32];

	if (!holder)
		return fail(err, errlen, -EBUSY,
			    "xsk_link_open: queue %u of %s is held by a live AF_XDP socket (inode "
			    "%u) of a process not visible here (another PID namespace?): `ss --xdp "
			    "-a -p` may name it; stop it, or pick another queue (EBUSY)",
			    l->queue, l->ifname, ino);
	proc_comm(holder, comm, sizeof(comm));
	return fail(err, errlen, -EBUSY,
		    "xsk_link_open: queue %u of %s is held by a live AF_XDP socket (inode %u) of "
		    "pid %d (%s): stop that program, or pick another queue (EBUSY)",
		    l->queue, l->ifname, ino, holder, comm);
}

/* Create the UMEM and bind the socket. The queue may still be taken by a socket that was
 * closed a moment ago (by us, or by an engine that just stopped): the kernel gives it back
 * asynchronously. So while no live socket holds it, try again, for at most
 * XSK_LINK_RELEASE_WAIT_MS. A live holder is refused at once, by pid. Each try builds a fresh
 * UMEM: libxdp cannot bind a socket again after a refused bind.
 */
static int queue_bind(struct xsk_link *l, char *err, size_t errlen)
{
	int64_t start = mono_ms(), waited;
	int64_t pause = 2;
	uint32_t ino = 0;
	int ret, live, holder;

	for (;;) {
		ret = umem_create(l, err, errlen);
		if (ret)
			return ret;
		ret = socket_create(l, err, errlen);
		if (ret != -EBUSY)
			return ret;
		socket_delete(l);
		umem_delete(l);
		live = queue_holder(l, &holder, &ino);
		if (live > 0)
			return queue_refuse_live(l, holder, ino, err, errlen);
		waited = mono_ms() - start;
		if (waited >= XSK_LINK_RELEASE_WAIT_MS)
			break;
		sleep_ms(pause < XSK_LINK_RELEASE_WAIT_MS - waited
				 ? pause
				 : XSK_LINK_RELEASE_WAIT_MS - waited);
		pause = pause * 2 < XSK_LINK_RELEASE_POLL_MS ? pause * 2 : XSK_LINK_RELEASE_POLL_MS;
		l->st.bind_retries++;
	}
	if (live < 0)
		return fail(
			err, errlen, -EBUSY,
			"xsk_link_open: queue %u of %s stayed taken by an AF_XDP socket for %lld "
			"ms (EBUSY), and offrx could not find whose (%s: run as root, on Linux "
			"5.6 or later, or with CONFIG_XDP_SOCKETS_DIAG): stop the other program "
			"on this queue, or pick another queue",
			l->queue, l->ifname, (long long)waited, strerror(-live));
	return fail(err, errlen, -EBUSY,
		    "xsk_link_open: queue %u of %s is still taken (EBUSY) after %lld ms, though no "
		    "live AF_XDP socket holds it: a closed socket's release is still pending in "
		    "the kernel; try again in a few seconds, and if it persists check `ss --xdp -a "
		    "-p` and `dmesg`",
		    l->queue, l->ifname, (long long)waited);
}

/* Last step of the open: from here on the program redirects, and a socket is there. */
static int ports_steer(struct xsk_link *l, const struct xsk_link_opts *o, char *err, size_t errlen)
{
	uint8_t one = 1;

	for (uint32_t i = 0; i < o->nports; i++) {
		uint16_t key = htons(o->ports[i]);

		if (bpf_map_update_elem(l->ports_map_fd, &key, &one, BPF_ANY))
			return fail(err, errlen, -errno,
				    "xsk_link_open: adding port %u to %s failed: %s", o->ports[i],
				    OFFRX_XDP_PORTS_MAP, strerror(errno));
	}
	return 0;
}

static void link_free(struct xsk_link *l)
{
	free(l->cpu_vals);
	free(l->rx_free);
	free(l->tx_free);
	free(l);
}

/* libbpf and libxdp narrate every load, including the dispatcher fallback that is routine on
 * kernels where the dispatcher is refused. Our own errors say what matters; their text is
 * for OFFRX_DEBUG_BPF=1. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("OFFRX_DEBUG_BPF") ? vfprintf(stderr, fmt, ap) : 0;
}

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("OFFRX_DEBUG_BPF") ? vfprintf(stderr, fmt, ap) : 0;
}

int xsk_link_open(const struct xsk_link_opts *opts, struct xsk_link **out, char *err, size_t errlen)
{
	libbpf_set_print(quiet_libbpf);
	libxdp_set_print(quiet_libxdp);
	struct xsk_link_opts o;
	struct xsk_link *l;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return fail(err, errlen, -EINVAL, "xsk_link_open: out is NULL");
	*out = NULL;
	ret = opts_load(&o, opts, err, errlen);
	if (ret)
		return ret;

	l = calloc(1, sizeof(*l));
	if (!l)
		return fail(err, errlen, -ENOMEM, "xsk_link_open: out of memory");
	snprintf(l->ifname, sizeof(l->ifname), "%s", o.ifname);
	l->queue = o.queue;
	l->mode = o.xdp_mode == XSK_LINK_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	l->busy_poll = o.busy_poll;
	l->frame_size = o.frame_size;
	l->ring_size = o.frames / 2;
	l->xsks_map_fd = l->ports_map_fd = l->stats_map_fd = l->fd = -1;
	l->fault.drop_pct = o.fault_drop_pct;
	l->fault.reorder_pct = o.fault_reorder_pct;
	l->fault.rng = o.fault_seed;

	l->ifindex = (int)if_nametoindex(o.ifname);
	if (!l->ifindex) {
		ret = fail(err, errlen, -ENODEV,
			   "xsk_link_open: no interface '%s' in this network namespace: check "
			   "`ip link`, or run inside the namespace that has it (ip netns exec ...)",
			   o.ifname);
		goto out_free;
	}
	if (o.share_prog) {
		ret = prog_share(l, o.share_prog, err, errlen);
		if (ret)
			goto out_free;
		ret = queue_bind(l, err, errlen);
		if (ret)
			goto out_socket;
		*out = l;
		return 0;
	}
	l->prog_owned = true;
	ret = bpffs_ensure(l, err, errlen);
	if (ret)
		goto out_free;
	ret = prog_open(l, err, errlen);
	if (ret)
		goto out_prog;
	ret = prog_detach_stale(l, err, errlen);
	if (ret)
		goto out_prog;
	ret = prog_attach(l, err, errlen);
	if (ret)
		goto out_prog;
	ret = maps_find(l, err, errlen);
	if (ret)
		goto out_detach;
	ret = queue_bind(l, err, errlen);
	if (ret)
		goto out_socket;
	ret = ports_steer(l, &o, err, errlen);
	if (ret)
		goto out_socket;
	*out = l;
	return 0;

out_socket:
	socket_delete(l);
	umem_delete(l);
out_detach:
	prog_detach(l);
out_prog:
	prog_close(l);
	bpffs_tidy(l);
out_free:
	link_free(l);
	return ret;
}

void xsk_link_close(struct xsk_link *l)
{
	if (!l)
		return;
	socket_delete(l);
	umem_delete(l);
	if (l->prog_owned) {
		prog_detach(l);
		prog_close(l);
		bpffs_tidy(l);
	}
	link_free(l);
}

bool xsk_link_zerocopy(const struct xsk_link *l)
{
	return l && l->zerocopy;
}

/* splitmix64: any seed, 0 included, gives a full-period sequence. */
static uint64_t fault_next(struct xsk_fault *f)
{
	uint64_t z = (f->rng += XSK_LINK_FAULT_SEED_MIX);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool fault_roll(struct xsk_fault *f, double pct)
{
	if (pct <= 0)
		return false;
	return (double)(fault_next(f) >> 11) * 0x1p-53 * 100.0 < pct;
}

static void rx_kick(struct xsk_link *l)
{
	/* Only a busy poller needs this: poll() wakes the kernel itself. */
	if (xsk_ring_prod__needs_wakeup(&l->fill))
		recvfrom(l->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static void rx_free_push(struct xsk_link *l, uint64_t addr)
{
	uint64_t base = addr - addr % l->frame_size;

	/* A bounds check only: an address outside the RX half is ignored, but a frame given
	 * back twice is not caught and would reach the fill ring twice.
	 */
	if (base < (uint64_t)l->ring_size * l->frame_size && l->nr_rx_free < l->ring_size)
		l->rx_free[l->nr_rx_free++] = base;
}

/* The frames leave the RX ring at once; they come back to the kernel through the fill ring
 * on xsk_link_rx_done(). That lets the fault injector keep one frame back across calls.
 * A held frame goes out after the next frame delivered, or when a call finds the ring empty,
 * so it never waits for traffic that may not come.
 */
uint32_t xsk_link_rx(struct xsk_link *l, struct xsk_frame *f, uint32_t max)
{
	struct xsk_fault *fl = &l->fault;
	uint32_t idx, n, out = 0, dropped = 0;

	if (max > XSK_LINK_BATCH)
		max = XSK_LINK_BATCH;
	if (!max)
		return 0;
	/* Each frame peeked yields at most one out, plus the one held from before. */
	n = xsk_ring_cons__peek(&l->rx, max - (fl->held ? 1 : 0), &idx);
	if (!n) {
		if (l->busy_poll)
			rx_kick(l);
		if (fl->held) {
			f[out++] = fl->held_frame;
			fl->held = false;
		}
		l->st.rx_frames += out;
		return out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&l->rx, idx + i);
		struct xsk_frame fr = {
			.data = xsk_umem__get_data(l->area, d->addr),
			.len = d->len,
			.addr = d->addr,
		};

		if (fault_roll(fl, fl->drop_pct)) {
			rx_free_push(l, fr.addr);
			l->st.fault_dropped++;
			dropped++;
			continue;
		}
		if (!fl->held && fault_roll(fl, fl->reorder_pct)) {
			fl->held_frame = fr;
			fl->held = true;
			l->st.fault_reordered++;
			continue;
		}
		f[out++] = fr;
		if (fl->held) {
			f[out++] = fl->held_frame;
			fl->held = false;
		}
	}
	xsk_ring_cons__release(&l->rx, n);
	if (dropped)
		fill_refill(l);
	l->st.rx_frames += out;
	return out;
}

void xsk_link_rx_done(struct xsk_link *l, const struct xsk_frame *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		rx_free_push(l, f[i].addr);
	fill_refill(l);
}

static void comp_reap(struct xsk_link *l)
{
	uint32_t idx, n;

	while ((n = xsk_ring_cons__peek(&l->comp, XSK_LINK_BATCH, &idx)) > 0) {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t addr = *xsk_ring_cons__comp_addr(&l->comp, idx + i);

			if (l->nr_tx_free < l->ring_size)
				l->tx_free[l->nr_tx_free++] = addr;
		}
		xsk_ring_cons__release(&l->comp, n);
	}
}

int xsk_link_tx(struct xsk_link *l, const void *frame, uint32_t len)
{
	struct xdp_desc *d;
	uint64_t addr;

	if (!len || len > l->frame_size)
		return -EMSGSIZE;
	if (!l->nr_tx_free)
		comp_reap(l);
	if (!l->nr_tx_free) {
		l->st.tx_full++;
		return -EAGAIN;
	}
	if (!l->tx_reserved) {
		uint32_t n = l->nr_tx_free < XSK_LINK_BATCH ? l->nr_tx_free : XSK_LINK_BATCH;

		l->tx_reserved = xsk_ring_prod__reserve(&l->tx, n, &l->tx_idx);
		if (!l->tx_reserved) {
			l->st.tx_full++;
			return -EAGAIN;
		}
	}
	addr = l->tx_free[--l->nr_tx_free];
	memcpy(xsk_umem__get_data(l->area, addr), frame, len);
	d = xsk_ring_prod__tx_desc(&l->tx, l->tx_idx++);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	l->tx_reserved--;
	l->tx_queued++;
	return 0;
}

void xsk_link_tx_flush(struct xsk_link *l)
{
	/* Copy mode sends at most a small batch per syscall and answers EAGAIN while more is
	 * left; this many kicks always covers the whole ring.
	 */
	uint32_t kicks = l->ring_size / 16 + 2;

	if (l->tx_queued) {
		xsk_ring_prod__submit(&l->tx, l->tx_queued);
		l->st.tx_frames += l->tx_queued;
		l->tx_queued = 0;
	}
	comp_reap(l);
	/* A frame taken from tx_free is in flight until its completion comes back. Slots
	 * reserved in the TX ring are not frames: counting them made this test false while any
	 * were reserved, so only poll() ever sent, and a busy poller sent nothing.
	 */
	while (kicks-- && l->nr_tx_free < l->ring_size && xsk_ring_prod__needs_wakeup(&l->tx)) {
		int r = (int)sendto(l->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);

		comp_reap(l);
		/* ENOBUFS, EBUSY, ENETDOWN: the kernel cannot take more now; the next flush
		 * tries again.
		 */
		if (r < 0 && errno != EAGAIN)
			break;
	}
}

int xsk_link_wait(struct xsk_link *l, int timeout_ms)
{
	struct pollfd p = { .fd = l->fd, .events = POLLIN };
	int r;

	if (l->fault.held || xsk_cons_nb_avail(&l->rx, 1))
		return 1;
	if (l->busy_poll) {
		rx_kick(l);
		return xsk_cons_nb_avail(&l->rx, 1) ? 1 : 0;
	}
	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r > 0 && (p.revents & (POLLERR | POLLNVAL)))
		return -EIO;
	return r > 0 && (p.revents & POLLIN) ? 1 : 0;
}

int xsk_link_fd(const struct xsk_link *l)
{
	return l->fd;
}

static int stat_sum(struct xsk_link *l, uint32_t slot, uint64_t *out)
{
	if (bpf_map_lookup_elem(l->stats_map_fd, &slot, l->cpu_vals))
		return -errno;
	*out = 0;
	for (int i = 0; i < l->nr_cpus; i++)
		*out += l->cpu_vals[i];
	return 0;
}

int xsk_link_stats(struct xsk_link *l, struct xsk_link_stats *out)
{
	struct xdp_statistics xs = { 0 };
	socklen_t len = sizeof(xs);
	int ret = 0;

	*out = l->st;
	if (getsockopt(l->fd, SOL_XDP, XDP_STATISTICS, &xs, &len) == 0) {
		out->rx_dropped = xs.rx_dropped;
		out->rx_invalid_descs = xs.rx_invalid_descs;
		out->tx_invalid_descs = xs.tx_invalid_descs;
		out->rx_ring_full = xs.rx_ring_full;
		out->rx_fill_ring_empty_descs = xs.rx_fill_ring_empty_descs;
		out->tx_ring_empty_descs = xs.tx_ring_empty_descs;
	} else {
		ret = -errno;
	}
	if (stat_sum(l, OFFRX_XDP_STAT_REDIRECTED, &out->xdp_redirected) ||
	    stat_sum(l, OFFRX_XDP_STAT_PASSED, &out->xdp_passed) ||
	    stat_sum(l, OFFRX_XDP_STAT_NO_XSK, &out->xdp_no_xsk))
		ret = ret ? ret : -errno;
	return ret;
}
