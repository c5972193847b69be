/* Least privilege for a wire engine (privs.h): after setup the engine's thread keeps no
 * effective capability. Detaching the XDP program at destroy needs CAP_NET_ADMIN (netlink);
 * when the program sits in libxdp's dispatcher, libxdp also opens attached programs by id
 * (BPF_PROG_GET_FD_BY_ID: CAP_SYS_ADMIN, which covers the bpf() calls that rebuild or remove
 * the dispatcher too). The caller says which (link_xsk.h); they stay permitted so that
 * destroy can raise them for that moment, and the program never outlives the engine (no
 * stale program). Measured through libxdp: with CAP_NET_ADMIN alone, or with CAP_NET_ADMIN
 * and CAP_BPF, the program stays attached.
 * Plain capget/capset and prctl: they act on the calling thread, which is what we want.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BIT(c) (1ull << (c))

struct capsets {
	uint64_t eff, prm, inh;
};

static int caps_get(struct capsets *s)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	s->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	s->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	s->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct capsets *s)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)s->eff, (uint32_t)s->prm, (uint32_t)s->inh },
		{ (uint32_t)(s->eff >> 32), (uint32_t)(s->prm >> 32), (uint32_t)(s->inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = 63;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = 63;
		fclose(f);
	}
	return last;
}

static const char *cap_name(int c)
{
	switch (c) {
	case CAP_NET_ADMIN:
		return "cap_net_admin";
	case CAP_SYS_ADMIN:
		return "cap_sys_admin";
	case CAP_BPF:
		return "cap_bpf";
	default:
		return "cap_?";
	}
}

static size_t names(uint64_t set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < 64 && off < len; c++)
		if (set & BIT(c))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						cap_name(c));
	if (!off)
		snprintf(buf, len, "none");
	return off;
}

int privs_drop(struct privs *p, uint64_t teardown, bool (*map_read_ok)(void *ctx), void *ctx,
	       char *msg, size_t len)
{
	struct capsets s;
	int last = cap_last(), ret;
	bool bounding = true;

	ret = caps_get(&s);
	if (ret) {
		snprintf(msg, len, "cannot read this thread's capabilities: %s", strerror(-ret));
		return ret;
	}
	/* An exec can give a root thread no more than it holds from now on. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		snprintf(msg, len, "cannot set no_new_privs: %s", strerror(errno));
		return ret;
	}
	/* The bounding set first: emptying it takes CAP_SETPCAP, which goes next. */
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			bounding = false;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	uint64_t kept = s.prm & teardown;
	struct capsets none = { .eff = 0, .prm = s.prm, .inh = 0 };
	ret = caps_set(&none);
	if (ret) {
		snprintf(msg, len, "cannot clear the effective capabilities: %s", strerror(-ret));
		return ret;
	}
	/* Kernels before 6.5 refuse even a map read on a held fd without CAP_BPF. */
	uint64_t extra = 0;
	if (map_read_ok && !map_read_ok(ctx) && (s.prm & BIT(CAP_BPF)))
		extra = BIT(CAP_BPF);
	struct capsets after = { .eff = extra, .prm = kept | extra, .inh = 0 };
	ret = caps_set(&after);
	if (ret) {
		snprintf(msg, len, "cannot drop the permitted capabilities: %s", strerror(-ret));
		return ret;
	}
	p->dropped = true;
	p->kept = kept;
	p->eff_extra = extra;

	char k[96], e[32];
	names(kept, k, sizeof(k));
	names(extra, e, sizeof(e));
	snprintf(msg, len,
		 "capabilities dropped: none effective%s%s, %s; kept permitted only to detach the "
		 "XDP program at exit: %s",
		 extra ? " but " : "", extra ? e : "",
		 bounding ? "bounding set empty, no_new_privs"
			  : "no_new_privs (bounding set left: no cap_setpcap)",
		 k);
	return 0;
}

uint64_t privs_raise(const struct privs *p)
{
	struct capsets s;

	if (!p->dropped || caps_get(&s))
		return UINT64_MAX;
	uint64_t before = s.eff;
	s.eff |= s.prm & p->kept;
	caps_set(&s);
	return before;
}

void privs_restore(uint64_t eff)
{
	struct capsets s;

	if (eff == UINT64_MAX || caps_get(&s))
		return;
	s.eff = eff & s.prm;
	caps_set(&s);
}
