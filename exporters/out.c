/* The output buffer and the JSON primitives of the streaming writers (numbers and strings
 * formatted straight into the buffer: a json_t per event would cost more than reading the
 * trace), and the connection table the writers keep their per-connection state in. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

#define OUT_CAP (1u << 20)

int oex_out_open(struct oex_out *o, const char *path, char *msg, size_t msglen)
{
	memset(o, 0, sizeof(*o));
	o->path = path && strcmp(path, "-") ? path : "-";
	o->f = strcmp(o->path, "-") ? fopen(o->path, "w") : stdout;
	if (!o->f) {
		int e = errno;
		snprintf(msg, msglen, "cannot create the output file '%s': %s", o->path,
			 strerror(e));
		return -e;
	}
	o->cap = OUT_CAP;
	o->buf = malloc(o->cap);
	if (!o->buf) {
		if (o->f != stdout)
			fclose(o->f);
		snprintf(msg, msglen, "out of memory for the output buffer");
		return -ENOMEM;
	}
	return 0;
}

int oex_out_flush(struct oex_out *o)
{
	if (!o->err && o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = errno ? errno : EIO;
	if (!o->err && fflush(o->f))
		o->err = errno ? errno : EIO;
	o->len = 0;
	return o->err ? -o->err : 0;
}

int oex_out_close(struct oex_out *o)
{
	if (!o->f)
		return 0;
	oex_out_flush(o);
	if (o->f != stdout && fclose(o->f) && !o->err)
		o->err = errno ? errno : EIO;
	o->f = NULL;
	free(o->buf);
	o->buf = NULL;
	return o->err ? -o->err : 0;
}

/* Make room for n more bytes: write out what is there; grow only for one huge item. */
void oex_out_grow(struct oex_out *o, size_t need)
{
	if (o->len) {
		if (!o->err && fwrite(o->buf, 1, o->len, o->f) != o->len)
			o->err = errno ? errno : EIO;
		o->len = 0;
	}
	if (need > o->cap) {
		char *b = realloc(o->buf, need);
		if (!b) {
			/* One item larger than the buffer and no memory for it: nothing sensible
			 * can follow. */
			fprintf(stderr, "offrx-export: out of memory for a %zu-byte output item\n",
				need);
			exit(OEX_EXIT_INPUT);
		}
		o->buf = b;
		o->cap = need;
	}
}

void oex_puts(struct oex_out *o, const char *s)
{
	oex_putn(o, s, strlen(s));
}

void oex_put_u64(struct oex_out *o, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	oex_putn(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

void oex_put_i64(struct oex_out *o, int64_t v)
{
	if (v < 0) {
		oex_putc(o, '-');
		oex_put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		oex_put_u64(o, (uint64_t)v);
	}
}

void oex_put_us(struct oex_out *o, int64_t ns)
{
	uint64_t a;
	char frac[3];

	if (ns < 0) {
		oex_putc(o, '-');
		a = (uint64_t)0 - (uint64_t)ns;
	} else {
		a = (uint64_t)ns;
	}
	oex_put_u64(o, a / 1000);
	a %= 1000;
	frac[0] = (char)('0' + a / 100);
	frac[1] = (char)('0' + a / 10 % 10);
	frac[2] = (char)('0' + a % 10);
	oex_putc(o, '.');
	oex_putn(o, frac, 3);
}

void oex_put_double(struct oex_out *o, double v, int prec)
{
	char tmp[64];
	int n;

	if (!isfinite(v))
		v = 0;
	n = snprintf(tmp, sizeof(tmp), "%.*f", prec, v);
	oex_putn(o, tmp, (size_t)n);
}

/* The length of the valid UTF-8 sequence at p (2..4), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = p[0] >= 0xf0 && p[0] < 0xf5 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;

	if (p[0] >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string; bytes that are not UTF-8 (a path in a message, say) become U+FFFD, so the
 * document stays valid whatever the trace holds. */
void oex_put_str(struct oex_out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	oex_putc(o, '"');
	for (; *p; p++) {
		unsigned char c = *p;
		if (c >= 0x80) {
			size_t n = utf8_len(p);
			if (n) {
				oex_putn(o, (const char *)p, n);
				p += n - 1;
			} else {
				oex_lit(o, "\\ufffd");
			}
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			oex_putc(o, (char)c);
			continue;
		}
		switch (c) {
		case '"':
			oex_lit(o, "\\\"");
			break;
		case '\\':
			oex_lit(o, "\\\\");
			break;
		case '\n':
			oex_lit(o, "\\n");
			break;
		case '\t':
			oex_lit(o, "\\t");
			break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			oex_putn(o, u, 6);
		}
		}
	}
	oex_putc(o, '"');
}

int oex_put_json(struct oex_out *o, const json_t *j)
{
	/* 15 digits: microseconds with three decimals print as such, not as 997.65399999999999. */
	size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15);
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *p;

	if (!n)
		return -EINVAL;
	p = oex_reserve(o, n);
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
	struct oex_ckey **s = calloc(cap, sizeof(*s)), **prev = t->slot;

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
	struct oex_ckey *k;

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
	struct oex_ckey *k = rec;
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
		struct oex_ckey *k = t->slot[(*pos)++];
		if (k)
			return k;
	}
	return NULL;
}
