/* A hashed timer wheel for per-connection push timers.
 * Entries carry exact deadlines in ns; the wheel only decides when an entry is looked at, so
 * restarting a timer is a store (the entry is moved lazily when its old slot comes due). */
#ifndef OFFRX_TIMER_WHEEL_H
#define OFFRX_TIMER_WHEEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct tw_entry {
	struct tw_entry *next, *prev;
	uint64_t slot_deadline; /* the deadline the entry was filed under */
	bool in_wheel;		/* filed in a slot or on a list being expired */
};

struct timer_wheel {
	pthread_mutex_t lock;
	struct tw_entry *slots; /* circular list heads, nslots of them */
	uint32_t nslots;	/* a power of two */
	uint64_t tick_ns;
	uint64_t cur_tick; /* every slot before this tick has been looked at */
	uint64_t count;
};

int tw_init(struct timer_wheel *tw, uint64_t tick_ns, uint32_t nslots);
void tw_fini(struct timer_wheel *tw);
/* File an entry for a deadline. The entry must not be in the wheel. */
void tw_insert(struct timer_wheel *tw, struct tw_entry *e, uint64_t deadline);
/* Unlink an entry that is in the wheel (engine thread only, not while tw_collect's list is
 * being walked). */
void tw_remove(struct timer_wheel *tw, struct tw_entry *e);
/* Detach every entry filed at or before now into *out (a NULL-terminated list through next).
 * The entries stay marked in_wheel; the caller files them again or clears in_wheel. */
void tw_collect(struct timer_wheel *tw, uint64_t now, struct tw_entry **out);
/* The earliest filing deadline at or before limit, or UINT64_MAX if none: a virtual clock can
 * step to it so timers fire at their deadline, not at the end of a long step. Entries filed
 * early (lazily restarted) give an earlier answer; collecting then refiles them. */
uint64_t tw_next_due(struct timer_wheel *tw, uint64_t limit);

#endif
