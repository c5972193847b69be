/* A JSON write buffer over a FILE, and the primitives that format into it: numbers and strings
 * written straight into the buffer (a json_t per event would cost more than reading a trace).
 * The one JSON string escaper of the tools (offrx-export's writers, offrx-view's export). The
 * first write error sticks in err (an errno) and later writes are dropped. */
#ifndef OFFRX_JW_H
#define OFFRX_JW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jw_out {
	FILE *f;
	const char *path; /* for messages: "-" is stdout */
	char *buf;
	size_t len, cap;
	int err;
};

/* Create path ("-" or NULL: stdout) and a 1 MiB buffer. 0, or -errno with a sentence in msg. */
int jw_out_open(struct jw_out *o, const char *path, char *msg, size_t msglen);
/* The same over a FILE already open (jw_out_close closes it unless it is stdout). */
int jw_out_attach(struct jw_out *o, FILE *f, const char *path, char *msg, size_t msglen);
int jw_out_flush(struct jw_out *o);
int jw_out_close(struct jw_out *o); /* flush, close; 0 or the sticky -errno */
void jw_out_grow(struct jw_out *o, size_t need);

static inline char *jw_reserve(struct jw_out *o, size_t n)
{
	if (o->cap - o->len < n)
		jw_out_grow(o, n);
	return o->buf + o->len;
}

static inline void jw_putn(struct jw_out *o, const char *s, size_t n)
{
	char *p = jw_reserve(o, n);
	for (size_t i = 0; i < n; i++)
		p[i] = s[i];
	o->len += n;
}

#define jw_lit(o, s) jw_putn((o), (s), sizeof(s) - 1)

static inline void jw_putc(struct jw_out *o, char c)
{
	*jw_reserve(o, 1) = c;
	o->len++;
}

void jw_puts(struct jw_out *o, const char *s);
void jw_put_u64(struct jw_out *o, uint64_t v);
void jw_put_i64(struct jw_out *o, int64_t v);
void jw_put_str(struct jw_out *o, const char *s);	  /* a JSON string, quoted, escaped */
void jw_put_us(struct jw_out *o, int64_t ns);		  /* ns as microseconds: 12.345 */
void jw_put_double(struct jw_out *o, double v, int prec); /* finite, fixed decimals */

/* The same JSON string straight to a FILE, for programs that print a line now and then
 * (offrx-send --json): no buffer to open. */
void jw_fput_str(FILE *f, const char *s);

#endif /* OFFRX_JW_H */
