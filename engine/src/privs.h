/* Capabilities of the thread that drives a wire engine (privs.c): dropped once the XDP program
 * is attached and the AF_XDP socket bound, raised again only to detach the program. Linux
 * keeps capabilities per thread, so these calls act on the calling thread only.
 */
#ifndef OFFRX_PRIVS_H
#define OFFRX_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct privs {
	bool dropped;
	uint64_t kept;	    /* capabilities left permitted (not effective) for the teardown */
	uint64_t eff_extra; /* capabilities left effective because the kernel needs them */
};

/* Drop every capability of the calling thread but `teardown` (a mask of 1 << CAP_*: what
 * detaching the XDP program needs), which stays permitted and not effective; empty the bounding and
 * ambient sets and set no_new_privs. map_read_ok() is asked, with nothing effective, whether the
 * engine can still read its maps (kernels before 6.5 want CAP_BPF for any bpf() call); if not,
 * CAP_BPF stays effective. Writes one sentence for the log into msg. Returns 0 or a negative errno.
 */
int privs_drop(struct privs *p, uint64_t teardown, bool (*map_read_ok)(void *ctx), void *ctx,
	       char *msg, size_t len);

/* Make the kept capabilities effective on the calling thread (for the teardown); returns the
 * effective set before, for privs_restore(). */
uint64_t privs_raise(const struct privs *p);
void privs_restore(uint64_t eff);

#endif
