/* Hashed timer wheel (Varghese & Lauck scheme 6): O(1) insert, O(1) lazy restart, and expiry
 * work proportional to the slots passed plus the entries filed in them. */
#include "timer_wheel.h"

#include <errno.h>
#include <stdlib.h>

static void slot_init(struct tw_entry *h)
{
	h->next = h;
	h->prev = h;
}

int tw_init(struct timer_wheel *tw, uint64_t tick_ns, uint32_t nslots)
{
	if (tick_ns == 0 || nslots == 0 || (nslots & (nslots - 1)) != 0)
		return -EINVAL;
	tw->slots = calloc(nslots, sizeof(*tw->slots));
	if (!tw->slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < nslots; i++)
		slot_init(&tw->slots[i]);
	tw->nslots = nslots;
	tw->tick_ns = tick_ns;
	tw->cur_tick = 0;
	tw->count = 0;
	pthread_mutex_init(&tw->lock, NULL);
	return 0;
}

void tw_fini(struct timer_wheel *tw)
{
	free(tw->slots);
	tw->slots = NULL;
	pthread_mutex_destroy(&tw->lock);
}

void tw_insert(struct timer_wheel *tw, struct tw_entry *e, uint64_t deadline)
{
	pthread_mutex_lock(&tw->lock);
	uint64_t tick = deadline / tw->tick_ns;
	/* A deadline in a slot already passed is filed in the current one, which is looked at
	 * again on the next collect. */
	if (tick < tw->cur_tick)
		tick = tw->cur_tick;
	struct tw_entry *h = &tw->slots[tick & (tw->nslots - 1)];
	e->slot_deadline = deadline;
	e->next = h->next;
	e->prev = h;
	h->next->prev = e;
	h->next = e;
	e->in_wheel = true;
	tw->count++;
	pthread_mutex_unlock(&tw->lock);
}

void tw_remove(struct timer_wheel *tw, struct tw_entry *e)
{
	pthread_mutex_lock(&tw->lock);
	if (e->in_wheel && e->next) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		tw->count--;
	}
	e->next = e->prev = NULL;
	e->in_wheel = false;
	pthread_mutex_unlock(&tw->lock);
}

void tw_collect(struct timer_wheel *tw, uint64_t now, struct tw_entry **out)
{
	struct tw_entry *list = NULL;
	uint64_t now_tick = now / tw->tick_ns;

	pthread_mutex_lock(&tw->lock);
	if (tw->count == 0) {
		tw->cur_tick = now_tick;
		goto out;
	}
	/* Past a full turn every slot has been seen once; more turns add nothing. */
	uint64_t first = tw->cur_tick;
	if (now_tick - first >= tw->nslots)
		first = now_tick - tw->nslots + 1;
	for (uint64_t t = first; t <= now_tick; t++) {
		struct tw_entry *h = &tw->slots[t & (tw->nslots - 1)];
		struct tw_entry *e = h->next;
		while (e != h) {
			struct tw_entry *nx = e->next;
			if (e->slot_deadline <= now) {
				e->prev->next = e->next;
				e->next->prev = e->prev;
				e->prev = NULL;
				e->next = list;
				list = e;
				tw->count--;
			}
			e = nx;
		}
	}
	/* The current slot may hold entries due later within this tick: look at it again. */
	tw->cur_tick = now_tick;
out:
	pthread_mutex_unlock(&tw->lock);
	*out = list;
}

uint64_t tw_next_due(struct timer_wheel *tw, uint64_t limit)
{
	uint64_t best = UINT64_MAX;
	pthread_mutex_lock(&tw->lock);
	if (tw->count) {
		uint64_t last = limit / tw->tick_ns;
		if (last - tw->cur_tick >= tw->nslots)
			last = tw->cur_tick + tw->nslots - 1;
		/* Slots in tick order: the first slot with a due entry holds the earliest one,
		 * except for a deadline filed into the current slot from the past. */
		for (uint64_t t = tw->cur_tick; t <= last && best == UINT64_MAX; t++) {
			struct tw_entry *h = &tw->slots[t & (tw->nslots - 1)];
			for (struct tw_entry *e = h->next; e != h; e = e->next)
				if (e->slot_deadline <= limit && e->slot_deadline < best)
					best = e->slot_deadline;
		}
	}
	pthread_mutex_unlock(&tw->lock);
	return best;
}
