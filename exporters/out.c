/* What the writers share besides the JSON write buffer (util/jw.c): Jansson documents into that
 * buffer, times and endpoints for people, and the connection table the writers keep their
 * per-connection state in. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

int oex_put_json(struct jw_out *o, const json_t *j)
{
	/* 15 digits: microseconds with three decimals print as such, not as 997.65399999999999. */
	size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15);
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *p;

	if (!n)
		return -EINVAL;
	p = jw_reserve(o, n);
	json_dumpb(j, p, n, flags);
	o->len += n;
	return 0;
}

double oex_rel_s(const struct oex_run *run, int64_t ts_ns)
{
	if (run->t0_ns == OEX_TS_NONE || ts_ns == OEX_TS_NONE)
		return 0;
	/* Unsigned: a corrupt trace's times may be far apart, and must not overflow. */
	return (double)(int64_t)((uint64_t)ts_ns - (uint64_t)run->t0_ns) / 1e9;
}

void oex_fmt_endpoint(char *buf, size_t len, const char *addr, unsigned port)
{
	if (!addr || !addr[0] || !strcmp(addr, "?"))
		snprintf(buf, len, "?");
	else if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		snprintf(buf, len, "%s:%u", addr, port);
}

const char *oex_end_name(enum oex_end e)
{
	switch (e) {
	case OEX_END_TRACE:
		return "end of trace";
	case OEX_END_SESSION:
		return "end of live session";
	case OEX_END_TO:
		return "--to reached";
	case OEX_END_INTERRUPT:
		return "interrupted";
	case OEX_END_ERROR:
		return "error";
	}
	return "?";
}

/* --- the connection table ----------------------------------------------------------------- */

static uint64_t ckey_hash(uint64_t vpid, uint64_t conn)
{
	uint64_t x = vpid * 0x9e3779b97f4a7c15ull ^ conn;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static size_t ctab_slot(const struct oex_ctab *t, uint64_t vpid, uint64_t conn)
{
	size_t mask = t->cap - 1, i = ckey_hash(vpid, conn) & mask;

	while (t->slot[i] && (t->slot[i]->vpid != vpid || t->slot[i]->conn != conn))
		i = (i + 1) & mask;
	return i;
}

void oex_ctab_init(struct oex_ctab *t, size_t rec_size)
{
	memset(t, 0, sizeof(*t));
	t->rec_size = rec_size;
}

void oex_ctab_fini(struct oex_ctab *t, void (*free_rec)(void *rec))
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i]) {
			if (free_rec)
				free_rec(t->slot[i]);
			free(t->slot[i]);
		}
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

void *oex_ctab_get(const struct oex_ctab *t, uint64_t vpid, uint64_t conn)
{
	if (!t->cap)
		return NULL;
	return t->slot[ctab_slot(t, vpid, conn)];
}

static int ctab_grow(struct oex_ctab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64, old = t->cap;
	struct conn_key **s = calloc(cap, sizeof(*s)), **prev = t->slot;

	if (!s)
		return -ENOMEM;
	t->slot = s;
	t->cap = cap;
	for (size_t i = 0; i < old; i++)
		if (prev[i])
			s[ctab_slot(t, prev[i]->vpid, prev[i]->conn)] = prev[i];
	free(prev);
	return 0;
}

void *oex_ctab_add(struct oex_ctab *t, uint64_t vpid, uint64_t conn)
{
	struct conn_key *k;

	if ((t->n + 1) * 2 > t->cap && ctab_grow(t))
		return NULL;
	k = calloc(1, t->rec_size);
	if (!k)
		return NULL;
	k->vpid = vpid;
	k->conn = conn;
	t->slot[ctab_slot(t, vpid, conn)] = k;
	t->n++;
	return k;
}

/* Backward-shift deletion, as in tracer/model: no tombstones under connection churn. */
void oex_ctab_del(struct oex_ctab *t, void *rec)
{
	struct conn_key *k = rec;
	size_t mask = t->cap - 1, i = ctab_slot(t, k->vpid, k->conn), j = i;

	t->slot[i] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slot[j])
			break;
		size_t h = ckey_hash(t->slot[j]->vpid, t->slot[j]->conn) & mask;
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			t->slot[i] = t->slot[j];
			t->slot[j] = NULL;
			i = j;
		}
	}
	t->n--;
	free(k);
}

void *oex_ctab_next(const struct oex_ctab *t, size_t *pos)
{
	while (*pos < t->cap) {
		struct conn_key *k = t->slot[(*pos)++];
		if (k)
			return k;
	}
	return NULL;
}
