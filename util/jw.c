/* The JSON write buffer and its primitives: see jw.h. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "jw.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OUT_CAP (1u << 20)

int jw_out_attach(struct jw_out *o, FILE *f, const char *path, char *msg, size_t msglen)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->cap = OUT_CAP;
	o->buf = malloc(o->cap);
	if (!o->buf) {
		if (f != stdout)
			fclose(f);
		snprintf(msg, msglen, "out of memory for the output buffer");
		return -ENOMEM;
	}
	o->f = f;
	return 0;
}

int jw_out_open(struct jw_out *o, const char *path, char *msg, size_t msglen)
{
	FILE *f;

	path = path && strcmp(path, "-") ? path : "-";
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		int e = errno;
		memset(o, 0, sizeof(*o));
		snprintf(msg, msglen, "cannot create the output file '%s': %s", path, strerror(e));
		return -e;
	}
	return jw_out_attach(o, f, path, msg, msglen);
}

int jw_out_flush(struct jw_out *o)
{
	if (!o->err && o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = errno ? errno : EIO;
	if (!o->err && fflush(o->f))
		o->err = errno ? errno : EIO;
	o->len = 0;
	return o->err ? -o->err : 0;
}

int jw_out_close(struct jw_out *o)
{
	if (!o->f)
		return 0;
	jw_out_flush(o);
	if (o->f != stdout && fclose(o->f) && !o->err)
		o->err = errno ? errno : EIO;
	o->f = NULL;
	free(o->buf);
	o->buf = NULL;
	return o->err ? -o->err : 0;
}

/* Make room for n more bytes: write out what is there; grow only for one huge item. */
void jw_out_grow(struct jw_out *o, size_t need)
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
			fprintf(stderr, "%s: out of memory for a %zu-byte output item\n",
				program_invocation_short_name, need);
			exit(1);
		}
		o->buf = b;
		o->cap = need;
	}
}

void jw_puts(struct jw_out *o, const char *s)
{
	jw_putn(o, s, strlen(s));
}

void jw_put_u64(struct jw_out *o, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_putn(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

void jw_put_i64(struct jw_out *o, int64_t v)
{
	if (v < 0) {
		jw_putc(o, '-');
		jw_put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		jw_put_u64(o, (uint64_t)v);
	}
}

void jw_put_us(struct jw_out *o, int64_t ns)
{
	uint64_t a;
	char frac[3];

	if (ns < 0) {
		jw_putc(o, '-');
		a = (uint64_t)0 - (uint64_t)ns;
	} else {
		a = (uint64_t)ns;
	}
	jw_put_u64(o, a / 1000);
	a %= 1000;
	frac[0] = (char)('0' + a / 100);
	frac[1] = (char)('0' + a / 10 % 10);
	frac[2] = (char)('0' + a % 10);
	jw_putc(o, '.');
	jw_putn(o, frac, 3);
}

void jw_put_double(struct jw_out *o, double v, int prec)
{
	char tmp[64];
	int n;

	if (!isfinite(v))
		v = 0;
	n = snprintf(tmp, sizeof(tmp), "%.*f", prec, v);
	jw_putn(o, tmp, (size_t)n);
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
void jw_put_str(struct jw_out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	jw_putc(o, '"');
	for (; *p; p++) {
		unsigned char c = *p;
		if (c >= 0x80) {
			size_t n = utf8_len(p);
			if (n) {
				jw_putn(o, (const char *)p, n);
				p += n - 1;
			} else {
				jw_lit(o, "\\ufffd");
			}
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			jw_putc(o, (char)c);
			continue;
		}
		switch (c) {
		case '"':
			jw_lit(o, "\\\"");
			break;
		case '\\':
			jw_lit(o, "\\\\");
			break;
		case '\n':
			jw_lit(o, "\\n");
			break;
		case '\t':
			jw_lit(o, "\\t");
			break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jw_putn(o, u, 6);
		}
		}
	}
	jw_putc(o, '"');
}

void jw_fput_str(FILE *f, const char *s)
{
	char buf[256]; /* no single item is longer: grow only writes it out */
	struct jw_out o = { .f = f, .path = "-", .buf = buf, .cap = sizeof(buf) };

	jw_put_str(&o, s);
	if (o.len)
		fwrite(o.buf, 1, o.len, f);
}
