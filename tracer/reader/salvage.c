/* Damaged stream files: babeltrace2 2.0.4 refuses a whole trace when one stream file ends
 * inside a packet (a crash mid-write) or holds a packet with a bad header. Before the graph is
 * built, each stream file's packets are walked (CTF 1.8, section 5: a packet starts with its
 * header and context, whose packet_size gives its length; the layout comes from the trace's
 * metadata), and a damaged trace is read from a copy where each damaged file is cut at its last
 * whole packet. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH, FTW_PHYS */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader_int.h"

#define CTF_MAGIC	  0xC1FC1FC1u
#define MD_MAGIC	  0x75d11d57u
#define MD_HEADER_BYTES	  37
#define MD_CONTENT_OFFSET 24
#define MAX_STREAM_CLASS  64
#define MAX_ALIASES	  128
#define MAX_STRUCTS	  32
#define MAX_NEED	  256 /* bytes read at a packet's start */

/* ---- the metadata: just enough TSDL to place the packet header and context fields ---- */

struct tok {
	const char *s;
	size_t n;
};

struct field_at {
	int off, bits; /* in bits from the packet start; off < 0: absent */
};

struct sclass {
	uint64_t id;
	struct field_at content, packet;
};

struct layout {
	bool be;
	struct field_at magic, stream_id;
	int ctx_start; /* bits: where the packet context starts (after the header, aligned) */
	struct sclass sc[MAX_STREAM_CLASS];
	size_t nsc;
};

struct md_parse {
	struct tok *t;
	size_t n, pos;
	struct {
		char name[64];
		int size, align;
	} alias[MAX_ALIASES];
	size_t nalias;
	struct {
		char name[64];
		size_t body; /* the token after '{' */
	} st[MAX_STRUCTS];
	size_t nst;
	bool be;
};

static bool tok_is(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && !memcmp(t->s, s, t->n);
}

static int tokenize(const char *text, size_t len, struct tok **out, size_t *nout)
{
	size_t cap = 1024, n = 0;
	struct tok *t = malloc(cap * sizeof(*t));
	const char *p = text, *end = text + len;

	if (!t)
		return -ENOMEM;
	while (p < end) {
		const char *b = p;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (p + 1 < end && p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : end;
			continue;
		}
		if (p + 1 < end && p[0] == '/' && p[1] == '/') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		if (isalnum((unsigned char)*p) || *p == '_' || *p == '.') {
			while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
				p++;
		} else if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p = p < end ? p + 1 : end;
		} else if (p + 1 < end && p[0] == ':' && p[1] == '=') {
			p += 2;
		} else {
			p++;
		}
		if (n == cap) {
			struct tok *nt = realloc(t, (cap *= 2) * sizeof(*t));
			if (!nt) {
				free(t);
				return -ENOMEM;
			}
			t = nt;
		}
		t[n++] = (struct tok){ b, (size_t)(p - b) };
	}
	*out = t;
	*nout = n;
	return 0;
}

/* Skip to the token after the '}' matching the '{' at pos (or after the next ';' at depth 0). */
static size_t skip_block(const struct md_parse *m, size_t pos)
{
	int depth = 0;

	for (; pos < m->n; pos++) {
		if (tok_is(&m->t[pos], "{"))
			depth++;
		else if (tok_is(&m->t[pos], "}") && --depth <= 0)
			return pos + 1;
		else if (!depth && tok_is(&m->t[pos], ";"))
			return pos + 1;
	}
	return pos;
}

/* integer { size = N; align = A; ... }: pos at "integer"; sets size and align (bits). */
static size_t parse_integer(const struct md_parse *m, size_t pos, int *size, int *align)
{
	size_t end = skip_block(m, pos + 1);

	*size = *align = -1;
	for (size_t i = pos + 2; i + 2 < end; i++) {
		if (!tok_is(&m->t[i + 1], "="))
			continue;
		if (tok_is(&m->t[i], "size"))
			*size = atoi(m->t[i + 2].s);
		else if (tok_is(&m->t[i], "align"))
			*align = atoi(m->t[i + 2].s);
	}
	if (*align < 0 && *size > 0)
		*align = *size % 8 ? 1 : 8;
	return end;
}

static void join_words(const struct md_parse *m, size_t from, size_t to, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = from; i < to; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%.*s", buf[0] ? " " : "",
			 (int)m->t[i].n, m->t[i].s);
}

/*
 * Lay out the fields of a struct body (pos: the token after '{') from bit *off, recording the
 * ones named in want[] (name, where to put it). Stops at the first field it cannot size (a
 * variant, a sequence...): the fields needed come first in LTTng's packet header and context.
 * Returns the struct's alignment seen so far.
 */
struct want {
	const char *name;
	struct field_at *at;
};

static int layout_struct(const struct md_parse *m, size_t pos, int *off, const struct want *want,
			 size_t nwant)
{
	int max_align = 1;

	while (pos < m->n && !tok_is(&m->t[pos], "}")) {
		size_t end = pos, name_at;
		int size = -1, align = -1, count = 1;
		char type[64];

		if (tok_is(&m->t[pos], "integer")) {
			end = parse_integer(m, pos, &size, &align);
		} else {
			while (end < m->n && !tok_is(&m->t[end], ";") && !tok_is(&m->t[end], "[") &&
			       !tok_is(&m->t[end], "{") && !tok_is(&m->t[end], "}"))
				end++;
			if (end >= m->n || end - pos < 2 || tok_is(&m->t[end], "{") ||
			    tok_is(&m->t[end], "}"))
				return max_align;
			join_words(m, pos, end - 1, type, sizeof(type));
			for (size_t a = 0; a < m->nalias; a++)
				if (!strcmp(m->alias[a].name, type)) {
					size = m->alias[a].size;
					align = m->alias[a].align;
				}
			end--; /* the field name */
		}
		if (size <= 0 || align <= 0)
			return max_align;
		name_at = end;
		end++;
		if (end + 2 < m->n && tok_is(&m->t[end], "[")) {
			count = atoi(m->t[end + 1].s);
			end += 3;
		}
		if (end >= m->n || !tok_is(&m->t[end], ";"))
			return max_align;
		*off = (*off + align - 1) / align * align;
		max_align = align > max_align ? align : max_align;
		for (size_t w = 0; w < nwant; w++) {
			const struct tok *nt = &m->t[name_at];
			size_t skip = nt->n > 1 && nt->s[0] == '_' ? 1 : 0;
			if (nt->n - skip == strlen(want[w].name) &&
			    !memcmp(nt->s + skip, want[w].name, nt->n - skip))
				*want[w].at = (struct field_at){ *off, size };
		}
		*off += size * count;
		pos = end + 1;
	}
	return max_align;
}

/* The body of "struct NAME" or of an inline "struct {": the token after '{'; 0 if unknown. */
static size_t struct_body(const struct md_parse *m, size_t pos)
{
	if (pos + 1 < m->n && tok_is(&m->t[pos + 1], "{"))
		return pos + 2;
	for (size_t s = 0; pos + 1 < m->n && s < m->nst; s++)
		if (m->t[pos + 1].n < sizeof(m->st[s].name) &&
		    !strncmp(m->st[s].name, m->t[pos + 1].s, m->t[pos + 1].n) &&
		    !m->st[s].name[m->t[pos + 1].n])
			return m->st[s].body;
	return 0;
}

static int parse_layout(const char *text, size_t len, struct layout *L)
{
	struct md_parse *m = calloc(1, sizeof(*m));
	size_t hdr_body = 0, pos;
	int ret = -EINVAL;

	if (!m)
		return -ENOMEM;
	memset(L, 0, sizeof(*L));
	L->magic.off = L->stream_id.off = -1;
	if (tokenize(text, len, &m->t, &m->n)) {
		free(m);
		return -ENOMEM;
	}
	/* Pass 1: type aliases, named structs, the trace's byte order and packet header. */
	for (pos = 0; pos < m->n;) {
		const struct tok *t = &m->t[pos];

		if (tok_is(t, "typealias") && pos + 1 < m->n && tok_is(&m->t[pos + 1], "integer")) {
			int size, align;
			size_t e = parse_integer(m, pos + 1, &size, &align), f = e;
			while (f < m->n && !tok_is(&m->t[f], ";"))
				f++;
			if (e < m->n && tok_is(&m->t[e], ":=") && m->nalias < MAX_ALIASES) {
				join_words(m, e + 1, f, m->alias[m->nalias].name,
					   sizeof(m->alias[0].name));
				m->alias[m->nalias].size = size;
				m->alias[m->nalias++].align = align;
			}
			pos = f + 1;
		} else if (tok_is(t, "struct") && pos + 2 < m->n && tok_is(&m->t[pos + 2], "{")) {
			if (m->nst < MAX_STRUCTS) {
				snprintf(m->st[m->nst].name, sizeof(m->st[0].name), "%.*s",
					 (int)m->t[pos + 1].n, m->t[pos + 1].s);
				m->st[m->nst++].body = pos + 3;
			}
			pos = skip_block(m, pos + 2);
		} else if (tok_is(t, "trace") && pos + 1 < m->n && tok_is(&m->t[pos + 1], "{")) {
			size_t e = skip_block(m, pos + 1);
			for (size_t i = pos + 2; i + 2 < e; i++) {
				if (tok_is(&m->t[i], "byte_order") && tok_is(&m->t[i + 1], "="))
					m->be = tok_is(&m->t[i + 2], "be") ||
						tok_is(&m->t[i + 2], "network");
				if (tok_is(&m->t[i], "packet.header") &&
				    tok_is(&m->t[i + 1], ":=") && tok_is(&m->t[i + 2], "struct"))
					hdr_body = struct_body(m, i + 2);
			}
			pos = e;
		} else {
			pos++;
		}
	}
	L->be = m->be;
	if (hdr_body) {
		struct want w[] = { { "magic", &L->magic }, { "stream_id", &L->stream_id } };
		int off = 0;
		layout_struct(m, hdr_body, &off, w, 2);
		L->ctx_start = off; /* the context follows the whole header */
	}
	/* Pass 2: each stream class's id and packet context. */
	for (pos = 0; pos < m->n;) {
		if (tok_is(&m->t[pos], "stream") && pos + 1 < m->n && tok_is(&m->t[pos + 1], "{") &&
		    L->nsc < MAX_STREAM_CLASS) {
			size_t e = skip_block(m, pos + 1);
			struct sclass *sc = &L->sc[L->nsc];

			sc->content.off = sc->packet.off = -1;
			for (size_t i = pos + 2; i + 2 < e; i++) {
				if (tok_is(&m->t[i], "id") && tok_is(&m->t[i + 1], "="))
					sc->id = strtoull(m->t[i + 2].s, NULL, 0);
				if (tok_is(&m->t[i], "packet.context") &&
				    tok_is(&m->t[i + 1], ":=") && tok_is(&m->t[i + 2], "struct")) {
					size_t body = struct_body(m, i + 2);
					struct want w[] = { { "content_size", &sc->content },
							    { "packet_size", &sc->packet } };
					int off = 0, align;
					if (!body)
						continue;
					/* the context's alignment, from its fields */
					align = layout_struct(m, body, &off, w, 0);
					off = (L->ctx_start + align - 1) / align * align;
					layout_struct(m, body, &off, w, 2);
				}
			}
			L->nsc++;
			pos = e;
		} else {
			pos++;
		}
	}
	ret = 0;
	for (size_t i = 0; i < L->nsc; i++)
		if (L->sc[i].packet.off < 0)
			ret = -EINVAL;
	if (!L->nsc || (L->nsc > 1 && L->stream_id.off < 0))
		ret = -EINVAL;
	free(m->t);
	free(m);
	return ret;
}

/* The metadata's TSDL text, from its packets (or the plain file). malloc'd. */
static int metadata_text(const char *trace, char **text, size_t *len)
{
	char path[PATH_MAX];
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t n = 0, olen = 0;
	struct stat st;
	FILE *f;
	int ret = -EIO;

	snprintf(path, sizeof(path), "%s/metadata", trace);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || !(raw = malloc((size_t)st.st_size + 1)) ||
	    !(out = malloc((size_t)st.st_size + 1)))
		goto end;
	n = fread(raw, 1, (size_t)st.st_size, f);
	if (n >= 6 && !memcmp(raw, "/* CTF", 6)) {
		memcpy(out, raw, n);
		olen = n;
	} else {
		size_t off = 0;

		while (off + MD_HEADER_BYTES <= n) {
			const unsigned char *h = raw + off;
			bool be = h[0] == 0x75;
			uint32_t c = be ? (uint32_t)h[24] << 24 | h[25] << 16 | h[26] << 8 | h[27]
					: (uint32_t)h[27] << 24 | h[26] << 16 | h[25] << 8 | h[24];
			uint32_t p = be ? (uint32_t)h[28] << 24 | h[29] << 16 | h[30] << 8 | h[31]
					: (uint32_t)h[31] << 24 | h[30] << 16 | h[29] << 8 | h[28];
			if (p / 8 < MD_HEADER_BYTES || c > p || c / 8 < MD_HEADER_BYTES ||
			    off + p / 8 > n)
				break;
			memcpy(out + olen, h + MD_HEADER_BYTES, c / 8 - MD_HEADER_BYTES);
			olen += c / 8 - MD_HEADER_BYTES;
			off += p / 8;
		}
		if (off != n)
			goto end; /* damaged metadata: the graph's own check says how */
	}
	out[olen] = '\0';
	*text = out;
	*len = olen;
	out = NULL;
	ret = 0;
end:
	free(raw);
	free(out);
	fclose(f);
	return ret;
}

/* ---- walking a stream file ---- */

static uint64_t get_uint(const unsigned char *p, struct field_at f, bool be)
{
	const unsigned char *b = p + f.off / 8;
	int n = f.bits / 8;
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)b[be ? n - 1 - i : i] << (8 * i);
	return v;
}

static bool byte_field(struct field_at f)
{
	return f.off >= 0 && f.off % 8 == 0 &&
	       (f.bits == 8 || f.bits == 16 || f.bits == 32 || f.bits == 64) &&
	       f.off / 8 + f.bits / 8 <= MAX_NEED;
}

/* Walk path's packets. 0 and *kept == size when whole; 1 with *kept (the bytes of whole packets
 * before the damage) and why when damaged; < 0 when it cannot be read. */
static int walk_stream(const char *path, const struct layout *L, uint64_t *size, uint64_t *kept,
		       char *why, size_t whylen)
{
	unsigned char h[MAX_NEED];
	struct stat st;
	uint64_t off = 0;
	FILE *f = fopen(path, "rb");
	int ret = 0;

	if (!f || fstat(fileno(f), &st)) {
		ret = -errno;
		if (f)
			fclose(f);
		return ret;
	}
	*size = (uint64_t)st.st_size;
	while (off < *size) {
		const struct sclass *sc = &L->sc[0];
		size_t need = 0;
		uint64_t psize, csize;

		/* the header and context up to packet_size (the stream class's) */
		if (L->stream_id.off >= 0)
			need = (size_t)(L->stream_id.off + L->stream_id.bits) / 8;
		if (L->magic.off >= 0 && need < (size_t)(L->magic.off + L->magic.bits) / 8)
			need = (size_t)(L->magic.off + L->magic.bits) / 8;
		if (*size - off < need) {
			snprintf(why, whylen, "ends inside the packet header at byte %llu",
				 (unsigned long long)off);
			goto damaged;
		}
		if (fseeko(f, (off_t)off, SEEK_SET) ||
		    fread(h, 1, (size_t)(*size - off < MAX_NEED ? *size - off : MAX_NEED), f) ==
			    0) {
			ret = -EIO;
			goto end;
		}
		if (L->magic.off >= 0 && get_uint(h, L->magic, L->be) != CTF_MAGIC) {
			snprintf(why, whylen,
				 "has a corrupt packet at byte %llu: it does not start with the "
				 "CTF magic 0xc1fc1fc1 (0x%08llx)",
				 (unsigned long long)off,
				 (unsigned long long)get_uint(h, L->magic, L->be));
			goto damaged;
		}
		if (L->nsc > 1) {
			uint64_t id = get_uint(h, L->stream_id, L->be);
			sc = NULL;
			for (size_t i = 0; i < L->nsc; i++)
				if (L->sc[i].id == id)
					sc = &L->sc[i];
			if (!sc) {
				snprintf(why, whylen,
					 "has a corrupt packet at byte %llu: its stream class %llu "
					 "is not in the metadata",
					 (unsigned long long)off, (unsigned long long)id);
				goto damaged;
			}
		}
		if (need < (size_t)(sc->packet.off + sc->packet.bits) / 8)
			need = (size_t)(sc->packet.off + sc->packet.bits) / 8;
		if (sc->content.off >= 0 && need < (size_t)(sc->content.off + sc->content.bits) / 8)
			need = (size_t)(sc->content.off + sc->content.bits) / 8;
		if (*size - off < need) {
			snprintf(why, whylen, "ends inside the packet header at byte %llu",
				 (unsigned long long)off);
			goto damaged;
		}
		psize = get_uint(h, sc->packet, L->be);
		csize = sc->content.off >= 0 ? get_uint(h, sc->content, L->be) : psize;
		if (psize % 8 || psize / 8 < need || csize > psize || csize / 8 < need) {
			snprintf(why, whylen,
				 "has a corrupt packet at byte %llu: packet_size %llu bits, "
				 "content_size %llu bits",
				 (unsigned long long)off, (unsigned long long)psize,
				 (unsigned long long)csize);
			goto damaged;
		}
		if (psize / 8 > *size - off) {
			snprintf(why, whylen,
				 "ends inside the packet at byte %llu (%llu of its %llu bytes)",
				 (unsigned long long)off, (unsigned long long)(*size - off),
				 (unsigned long long)(psize / 8));
			goto damaged;
		}
		off += psize / 8;
	}
	*kept = off;
	goto end;
damaged:
	*kept = off;
	ret = 1;
end:
	fclose(f);
	return ret;
}

/* ---- the trimmed copy ---- */

static int copy_prefix(const char *from, const char *to, uint64_t n)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		goto end;
	}
	while (n) {
		ssize_t r = read(in, buf, n < sizeof(buf) ? n : sizeof(buf));
		if (r <= 0) {
			ret = r < 0 ? -errno : -EIO;
			goto end;
		}
		if (write(out, buf, (size_t)r) != r) {
			ret = -errno ? -errno : -EIO;
			goto end;
		}
		n -= (uint64_t)r;
	}
end:
	if (out >= 0 && close(out) && !ret)
		ret = -errno;
	close(in);
	return ret;
}

static int link_to(const char *target, const char *dir, const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return symlink(target, p) ? -errno : 0;
}

static int add_damage(struct otr_salvage *s, const char *file, uint64_t size, uint64_t kept,
		      const char *why)
{
	struct otr_damage *d = realloc(s->damage, (s->ndamage + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	s->damage = d;
	d = &s->damage[s->ndamage++];
	snprintf(d->file, sizeof(d->file), "%s", file);
	snprintf(d->why, sizeof(d->why), "%s", why);
	d->size = size;
	d->kept = kept;
	return 0;
}

static bool is_stream_file(const char *dir, const struct dirent *de)
{
	char p[PATH_MAX];
	struct stat st;

	if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata"))
		return false;
	snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/*
 * One trace: walk its stream files; if one is damaged, build the copy in copy_dir (metadata
 * and whole stream files as symbolic links, damaged ones cut at their last whole packet,
 * index files for the whole ones only) and return 1.
 */
static int salvage_trace(struct otr_salvage *s, const char *trace, const char *copy_dir, char *err,
			 size_t errlen)
{
	struct layout L;
	char *text = NULL, abs[PATH_MAX], p[PATH_MAX], q[PATH_MAX], why[256];
	size_t tlen = 0, nd0 = s->ndamage;
	struct dirent **ents = NULL;
	int n, ret;

	if (metadata_text(trace, &text, &tlen))
		return 0; /* the graph says what is wrong with the metadata */
	ret = parse_layout(text, tlen, &L);
	free(text);
	if (ret)
		return ret == -ENOMEM ? ret : 0; /* a layout we cannot place: no salvage */
	for (size_t i = 0; i < L.nsc; i++)
		if (!byte_field(L.sc[i].packet) ||
		    (L.sc[i].content.off >= 0 && !byte_field(L.sc[i].content)))
			return 0;
	if ((L.magic.off >= 0 && !byte_field(L.magic)) || (L.nsc > 1 && !byte_field(L.stream_id)))
		return 0;

	n = scandir(trace, &ents, NULL, alphasort);
	if (n < 0)
		return 0;
	uint64_t *kept = calloc((size_t)n, sizeof(*kept));
	bool *bad = calloc((size_t)n, sizeof(*bad));
	if (!kept || !bad) {
		ret = -ENOMEM;
		goto end;
	}
	for (int i = 0; i < n; i++) {
		uint64_t size = 0;
		if (!is_stream_file(trace, ents[i]))
			continue;
		snprintf(p, sizeof(p), "%s/%s", trace, ents[i]->d_name);
		if (walk_stream(p, &L, &size, &kept[i], why, sizeof(why)) != 1)
			continue;
		bad[i] = true;
		ret = add_damage(s, p, size, kept[i], why);
		if (ret)
			goto end;
	}
	ret = 0;
	if (s->ndamage == nd0)
		goto end;
	if (!realpath(trace, abs) || mkdir(copy_dir, 0700) ||
	    (snprintf(p, sizeof(p), "%s/index", copy_dir), mkdir(p, 0700))) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot make a trimmed copy of the damaged trace %s in %s: %s", trace,
			 copy_dir, strerror(-ret));
		goto end;
	}
	snprintf(p, sizeof(p), "%s/metadata", abs);
	ret = link_to(p, copy_dir, "metadata");
	for (int i = 0; !ret && i < n; i++) {
		if (!is_stream_file(trace, ents[i]))
			continue;
		snprintf(p, sizeof(p), "%s/%s", abs, ents[i]->d_name);
		if (!bad[i]) {
			ret = link_to(p, copy_dir, ents[i]->d_name);
			snprintf(p, sizeof(p), "%s/index/%s.idx", abs, ents[i]->d_name);
			snprintf(q, sizeof(q), "%s/index", copy_dir);
			if (!ret && !access(p, R_OK))
				ret = link_to(p, q, strrchr(p, '/') + 1);
		} else if (kept[i]) {
			/* an empty stream file is refused too: leave it out */
			snprintf(q, sizeof(q), "%s/%s", copy_dir, ents[i]->d_name);
			ret = copy_prefix(p, q, kept[i]);
		}
	}
	if (ret) {
		snprintf(err, errlen,
			 "cannot make a trimmed copy of the damaged trace %s in %s: %s", trace,
			 copy_dir, strerror(-ret));
		goto end;
	}
	ret = 1;
end:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(kept);
	free(bad);
	return ret;
}

int otr_salvage(struct otr_salvage *s, char **traces, size_t n, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char copy[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		int ret;

		if (!s->dir[0]) {
			snprintf(s->dir, sizeof(s->dir), "%s/offrx-salvage.XXXXXX",
				 tmp && *tmp ? tmp : "/tmp");
			if (!mkdtemp(s->dir)) {
				ret = -errno;
				s->dir[0] = '\0';
				snprintf(err, errlen,
					 "cannot make a directory for a trimmed copy of a damaged "
					 "trace under %s: %s (set TMPDIR to a writable directory)",
					 tmp && *tmp ? tmp : "/tmp", strerror(-ret));
				return ret;
			}
		}
		snprintf(copy, sizeof(copy), "%s/%zu", s->dir, i);
		ret = salvage_trace(s, traces[i], copy, err, errlen);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			char *c = strdup(copy);
			if (!c) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			free(traces[i]);
			traces[i] = c;
		}
	}
	if (s->dir[0] && !s->ndamage) {
		rmdir(s->dir);
		s->dir[0] = '\0';
	}
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

void otr_salvage_fini(struct otr_salvage *s)
{
	if (s->dir[0])
		nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(s->damage);
	memset(s, 0, sizeof(*s));
}

void otr_salvage_describe(const struct otr_salvage *s, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->ndamage; i++) {
		const struct otr_damage *d = &s->damage[i];
		size_t l = strlen(buf);
		snprintf(buf + l, len - l,
			 "%sthe stream file %s %s: read up to its last whole packet, dropped "
			 "%llu of its %llu bytes",
			 i ? "; " : "", d->file, d->why, (unsigned long long)(d->size - d->kept),
			 (unsigned long long)d->size);
	}
}
