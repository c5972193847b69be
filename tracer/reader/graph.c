/* The babeltrace2 side of the reader: finding the plugins and the traces, building the
 * graphs (src.ctf.fs or src.ctf.lttng-live -> filter.utils.muxer -> a simple sink), the
 * lttng-live `sessions` query, and turning babeltrace2's error causes into one sentence. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "num.h"
#include "reader_int.h"

#define TRACE_DEPTH_MAX 16 /* directories deep under the input; stops symlink loops */

int otr_plugins_load(struct otr_plugins *p, char *err, size_t errlen)
{
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, &p->ctf) !=
		    BT_PLUGIN_FIND_STATUS_OK ||
	    bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, &p->utils) !=
		    BT_PLUGIN_FIND_STATUS_OK) {
		bt_current_thread_clear_error();
		snprintf(err, errlen,
			 "babeltrace2's ctf and utils plugins are not installed (looked in "
			 "$BABELTRACE_PLUGIN_PATH and the system directory): install babeltrace2");
		ret = -ENOPKG;
		goto end;
	}
	p->fs = bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	p->live = bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "lttng-live");
	p->muxer = bt_plugin_borrow_filter_component_class_by_name_const(p->utils, "muxer");
	if (!p->fs || !p->live || !p->muxer) {
		snprintf(err, errlen,
			 "babeltrace2's plugins lack src.ctf.fs, src.ctf.lttng-live or "
			 "filter.utils.muxer: install babeltrace2 2.0 or later");
		ret = -ENOPKG;
	}
end:
	if (ret)
		otr_plugins_put(p);
	return ret;
}

void otr_plugins_put(struct otr_plugins *p)
{
	BT_PLUGIN_PUT_REF_AND_RESET(p->ctf);
	BT_PLUGIN_PUT_REF_AND_RESET(p->utils);
	p->fs = p->live = NULL;
	p->muxer = NULL;
}

/* Append s (its first line, without a final period) to buf after sep. */
static void append_line(char *buf, size_t len, const char *sep, const char *s)
{
	size_t used = strlen(buf);
	size_t n = strcspn(s, "\n");

	if (n && s[n - 1] == '.')
		n--;
	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s%.*s", used ? sep : "", (int)n, s);
}

/*
 * babeltrace2 lists an error's causes from the root (index 0: "Connection refused", "Cannot
 * create trace") to the outermost. The root says what happened and the cause above it says
 * to what, so give those two (depth 2), outer first; the library's own causes carry only
 * addresses.
 */
void otr_bt_error_take(char *buf, size_t len, int depth)
{
	const bt_error *error = bt_current_thread_take_error();
	uint64_t n;
	uint64_t pick[2];
	int npick = 0;

	if (len)
		buf[0] = '\0';
	if (!error)
		return;
	n = bt_error_get_cause_count(error);
	for (uint64_t i = 0; i < n && npick < depth && npick < 2; i++) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(error, i);
		if (bt_error_cause_get_actor_type(c) == BT_ERROR_CAUSE_ACTOR_TYPE_UNKNOWN &&
		    !strcmp(bt_error_cause_get_module_name(c), "libbabeltrace2"))
			continue;
		pick[npick++] = i;
	}
	for (int k = npick - 1; k >= 0; k--)
		append_line(
			buf, len, ": ",
			bt_error_cause_get_message(bt_error_borrow_cause_by_index(error, pick[k])));
	if (!npick && n)
		append_line(buf, len, ": ",
			    bt_error_cause_get_message(bt_error_borrow_cause_by_index(error, 0)));
	bt_error_release(error);
}

void otr_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

struct path_list {
	char **v;
	size_t n, cap;
};

static int path_add(struct path_list *l, const char *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(p);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static bool is_file(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
		return false;
	return !stat(p, &st) && S_ISREG(st.st_mode);
}

static int walk(const char *dir, int depth, struct path_list *l)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (is_file(dir, "metadata")) {
		ret = path_add(l, dir);
		if (ret)
			return ret;
	}
	if (depth >= TRACE_DEPTH_MAX)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0; /* unreadable subdirectory: not a trace we can read anyway */
	while (!ret && (de = readdir(d))) {
		char p[4096];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
			continue;
		if (stat(p, &st) || !S_ISDIR(st.st_mode))
			continue;
		ret = walk(p, depth + 1, l);
	}
	closedir(d);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int otr_find_traces(const char *input, char ***paths, size_t *n, char *err, size_t errlen)
{
	struct path_list l = { 0 };
	char dir[4096];
	struct stat st;
	int ret;

	*paths = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s", input);
	if (stat(dir, &st)) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot open the trace directory '%s': %s: give the directory "
			 "'offrx-recv --trace' or 'offrx-trace stop' printed",
			 input, strerror(-ret));
		goto end;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* The metadata file itself names its trace. */
		char *slash = strrchr(dir, '/');
		if (!strcmp(slash ? slash + 1 : dir, "metadata")) {
			if (slash)
				*slash = '\0';
			else
				snprintf(dir, sizeof(dir), ".");
		} else {
			snprintf(err, errlen,
				 "'%s' is not a directory: give the trace directory (the one "
				 "'offrx-recv --trace' printed), not a file in it",
				 input);
			ret = -ENOTDIR;
			goto end;
		}
	}
	ret = walk(dir, 0, &l);
	if (ret) {
		snprintf(err, errlen, "out of memory while looking for traces under '%s'", input);
		goto end;
	}
	if (!l.n) {
		snprintf(err, errlen,
			 "no CTF trace under '%s': no directory there holds a 'metadata' file; "
			 "give the directory 'offrx-recv --trace' or 'offrx-trace stop' printed",
			 input);
		ret = -ENODATA;
		goto end;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	*paths = l.v;
	*n = l.n;
	l.v = NULL;
	ret = (int)*n;
end:
	if (l.v)
		otr_paths_free(l.v, l.n);
	return ret;
}

bool otr_input_is_live(const char *input)
{
	return input && (!strncmp(input, "net://", 6) || !strncmp(input, "net4://", 7) ||
			 !strncmp(input, "net6://", 7));
}

int otr_live_url_parse(const char *url, struct otr_live_url *u, bool need_session, char *err,
		       size_t errlen)
{
	const char *p, *scheme_end, *host_end;
	size_t hl;

	memset(u, 0, sizeof(*u));
	u->port = 5344;
	if (!otr_input_is_live(url))
		goto bad;
	scheme_end = strstr(url, "://") + 3;
	host_end = scheme_end + strcspn(scheme_end, ":/");
	hl = (size_t)(host_end - scheme_end);
	if (!hl || hl >= sizeof(u->host))
		goto bad;
	memcpy(u->host, scheme_end, hl);
	p = host_end;
	if (*p == ':') {
		size_t nd = strspn(p + 1, "0123456789");
		char digits[8];
		uint64_t port;
		if (!nd || nd >= sizeof(digits))
			goto bad;
		memcpy(digits, p + 1, nd);
		digits[nd] = 0;
		if (num_u64(digits, 1, 65535, &port))
			goto bad;
		u->port = (unsigned)port;
		p += 1 + nd;
	}
	snprintf(u->relay, sizeof(u->relay), "%.*s%s:%u", (int)(scheme_end - url), url, u->host,
		 u->port);
	if (*p == '/' && !p[1])
		p++;
	if (!*p) {
		if (need_session)
			goto bad;
		return 0;
	}
	if (strncmp(p, "/host/", 6))
		goto bad;
	p += 6;
	hl = strcspn(p, "/");
	if (!hl || hl >= sizeof(u->hostname) || p[hl] != '/' || !p[hl + 1] ||
	    strlen(p + hl + 1) >= sizeof(u->session) || strchr(p + hl + 1, '/'))
		goto bad;
	memcpy(u->hostname, p, hl);
	snprintf(u->session, sizeof(u->session), "%s", p + hl + 1);
	return 0;
bad:
	snprintf(
		err, errlen,
		"'%s' is not a live session URL: expected "
		"net://HOST[:PORT]/host/HOSTNAME/SESSION%s "
		"(see 'offrx-trace status' or list them with 'offrx-trace-dump --list net://HOST')",
		url, need_session ? "" : " or net://HOST[:PORT]");
	return -EINVAL;
}

#define MD_MAGIC	  0x75d11d57u
#define MD_HEADER_BYTES	  37 /* magic, uuid, checksum, content and packet size, 5 bytes */
#define MD_CONTENT_OFFSET 24

static uint32_t md_u32(const unsigned char *p, bool be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * LTTng writes a trace's metadata as packets (CTF 1.8, section 7.1), each with a header that
 * gives its size. babeltrace2 2.0.4 spins forever on a file that ends inside a packet, so walk
 * the headers first: a damaged or cut metadata file gets a sentence instead of a hang.
 */
static int metadata_check(const char *trace, char *err, size_t errlen)
{
	unsigned char h[MD_HEADER_BYTES];
	char path[4096];
	struct stat st;
	uint64_t off = 0;
	bool be = false;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/metadata", trace);
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto end;
	}
	if (fread(h, 1, 6, f) != 6) {
		snprintf(err, errlen, "the metadata of the trace in '%s' is %s (%lld bytes)", trace,
			 st.st_size ? "too short" : "empty", (long long)st.st_size);
		ret = -EIO;
		goto end;
	}
	if (!memcmp(h, "/* CTF", 6))
		goto end; /* plain text: babeltrace2's parser says what is wrong with it */
	if (md_u32(h, true) == MD_MAGIC)
		be = true;
	else if (md_u32(h, false) != MD_MAGIC) {
		snprintf(err, errlen,
			 "'%s' is not CTF metadata: it starts with neither the metadata packet "
			 "magic nor '/* CTF'; the trace is damaged",
			 path);
		ret = -EIO;
		goto end;
	}
	while (off < (uint64_t)st.st_size) {
		uint32_t content, size;

		if (fseeko(f, (off_t)off, SEEK_SET) || fread(h, 1, sizeof(h), f) != sizeof(h)) {
			snprintf(err, errlen,
				 "the metadata of the trace in '%s' is cut short: it ends inside "
				 "the packet header at byte %llu (is a session still writing it?)",
				 trace, (unsigned long long)off);
			ret = -EIO;
			goto end;
		}
		content = md_u32(h + MD_CONTENT_OFFSET, be);
		size = md_u32(h + MD_CONTENT_OFFSET + 4, be);
		if (md_u32(h, be) != MD_MAGIC || size % 8 || size / 8 < sizeof(h) ||
		    content > size || content / 8 < sizeof(h)) {
			snprintf(err, errlen,
				 "the metadata of the trace in '%s' is damaged: the packet at byte "
				 "%llu has a bad header",
				 trace, (unsigned long long)off);
			ret = -EIO;
			goto end;
		}
		if (off + size / 8 > (uint64_t)st.st_size) {
			snprintf(err, errlen,
				 "the metadata of the trace in '%s' is cut short: its packet at "
				 "byte %llu needs %u bytes, the file has %llu more (is a session "
				 "still writing it?)",
				 trace, (unsigned long long)off, size / 8,
				 (unsigned long long)((uint64_t)st.st_size - off));
			ret = -EIO;
			goto end;
		}
		off += size / 8;
	}
end:
	if (f)
		fclose(f);
	return ret;
}

static const bt_port_input *free_input(const bt_component_filter *mux)
{
	uint64_t n = bt_component_filter_get_input_port_count(mux);

	for (uint64_t i = 0; i < n; i++) {
		const bt_port_input *in =
			bt_component_filter_borrow_input_port_by_index_const(mux, i);
		if (!bt_port_is_connected(bt_port_input_as_port_const(in)))
			return in;
	}
	return NULL;
}

/* Connect every output port of src to its own muxer input (the muxer adds one each time). */
static int connect_source(bt_graph *g, const bt_component_source *src,
			  const bt_component_filter *mux)
{
	uint64_t n = bt_component_source_get_output_port_count(src);

	for (uint64_t i = 0; i < n; i++) {
		const bt_port_input *in = free_input(mux);
		if (!in || bt_graph_connect_ports(
				   g, bt_component_source_borrow_output_port_by_index_const(src, i),
				   in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
			return -EIO;
	}
	return 0;
}

/* The muxer and the sink after the sources; the graph is complete when this returns 0. */
static int add_tail(bt_graph *g, const struct otr_plugins *p, bt_logging_level lvl,
		    bt_graph_simple_sink_component_consume_func consume, void *user,
		    const bt_component_filter **mux)
{
	const bt_component_sink *sink;

	if (bt_graph_add_filter_component(g, p->muxer, "muxer", NULL, lvl, mux) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_add_simple_sink_component(g, "offrx-reader", NULL, consume, NULL, user,
					       &sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK)
		return -ENOMEM;
	if (bt_graph_connect_ports(
		    g, bt_component_filter_borrow_output_port_by_name_const(*mux, "out"),
		    bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
		    NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK)
		return -EIO;
	return 0;
}

int otr_graph_offline(const struct otr_plugins *p, char *const *traces, size_t n,
		      bt_interrupter *intr, bt_logging_level lvl,
		      bt_graph_simple_sink_component_consume_func consume, void *user,
		      bt_graph **out, char *err, size_t errlen)
{
	const bt_component_source **srcs = calloc(n ? n : 1, sizeof(*srcs));
	const bt_component_filter *mux = NULL;
	bt_graph *g = bt_graph_create(0);
	char why[1024];
	int ret = 0;

	if (!g || !srcs ||
	    bt_graph_add_interrupter(g, intr) != BT_GRAPH_ADD_INTERRUPTER_STATUS_OK) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory building the babeltrace2 graph");
		goto end;
	}
	for (size_t i = 0; i < n; i++) {
		bt_value *params = bt_value_map_create(), *inputs = NULL;
		char name[32];
		bt_graph_add_component_status st;

		if (!params || bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) ||
		    bt_value_array_append_string_element(inputs, traces[i])) {
			bt_value_put_ref(params);
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory building the babeltrace2 graph");
			goto end;
		}
		ret = metadata_check(traces[i], err, errlen);
		if (ret) {
			bt_value_put_ref(params);
			goto end;
		}
		snprintf(name, sizeof(name), "trace%zu", i);
		st = bt_graph_add_source_component(g, p->fs, name, params, lvl, &srcs[i]);
		bt_value_put_ref(params);
		if (st != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
			otr_bt_error_take(why, sizeof(why), 2);
			snprintf(err, errlen,
				 "cannot read the CTF trace in '%s': %s: the trace is damaged or "
				 "not a CTF trace (does 'babeltrace2 %s' read it?)",
				 traces[i], why[0] ? why : "babeltrace2 refused it", traces[i]);
			ret = -EIO;
			goto end;
		}
	}
	ret = add_tail(g, p, lvl, consume, user, &mux);
	for (size_t i = 0; !ret && i < n; i++)
		ret = connect_source(g, srcs[i], mux);
	if (ret) {
		otr_bt_error_take(why, sizeof(why), 2);
		snprintf(err, errlen, "cannot build the babeltrace2 graph: %s",
			 why[0] ? why : strerror(-ret));
	}
end:
	free(srcs);
	if (ret)
		BT_GRAPH_PUT_REF_AND_RESET(g);
	*out = g;
	return ret;
}

int otr_graph_live(const struct otr_plugins *p, const char *url, bt_interrupter *intr,
		   bt_logging_level lvl, bt_graph_simple_sink_component_consume_func consume,
		   void *user, bt_graph **out, char *err, size_t errlen)
{
	bt_graph *g = bt_graph_create(0);
	bt_value *params = bt_value_map_create(), *inputs = NULL;
	const bt_component_source *src;
	const bt_component_filter *mux = NULL;
	char why[1024];
	int ret = 0;

	if (!g || !params ||
	    bt_graph_add_interrupter(g, intr) != BT_GRAPH_ADD_INTERRUPTER_STATUS_OK ||
	    bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) ||
	    bt_value_array_append_string_element(inputs, url) ||
	    bt_value_map_insert_string_entry(params, "session-not-found-action", "continue")) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory building the babeltrace2 graph");
		goto end;
	}
	if (bt_graph_add_source_component(g, p->live, "live", params, lvl, &src) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		otr_bt_error_take(why, sizeof(why), 1);
		snprintf(err, errlen, "cannot attach to %s (%s)", url,
			 why[0] ? why : "babeltrace2 refused it");
		ret = -ECONNREFUSED;
		goto end;
	}
	ret = add_tail(g, p, lvl, consume, user, &mux);
	if (!ret)
		ret = connect_source(g, src, mux);
	if (ret) {
		otr_bt_error_take(why, sizeof(why), 2);
		snprintf(err, errlen, "cannot build the babeltrace2 graph: %s",
			 why[0] ? why : strerror(-ret));
	}
end:
	bt_value_put_ref(params);
	if (ret)
		BT_GRAPH_PUT_REF_AND_RESET(g);
	*out = g;
	return ret;
}

int otr_query_sessions(const struct otr_plugins *p, const char *relay, bt_interrupter *intr,
		       bt_logging_level lvl, char ***urls, size_t *n, char *err, size_t errlen)
{
	bt_value *params = bt_value_map_create();
	bt_query_executor *qe = NULL;
	const bt_value *res = NULL;
	struct path_list l = { 0 };
	bt_query_executor_query_status st = BT_QUERY_EXECUTOR_QUERY_STATUS_ERROR;
	char why[1024];
	int ret = 0;

	*urls = NULL;
	*n = 0;
	if (!params || bt_value_map_insert_string_entry(params, "url", relay))
		goto nomem;
	qe = bt_query_executor_create(bt_component_class_source_as_component_class_const(p->live),
				      "sessions", params);
	if (!qe)
		goto nomem;
	if (intr)
		bt_query_executor_add_interrupter(qe, intr);
	bt_query_executor_set_logging_level(qe, lvl);
	for (int tries = 0; tries < 100; tries++) {
		st = bt_query_executor_query(qe, &res);
		if (st != BT_QUERY_EXECUTOR_QUERY_STATUS_AGAIN)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	if (st != BT_QUERY_EXECUTOR_QUERY_STATUS_OK) {
		otr_bt_error_take(why, sizeof(why), 1);
		snprintf(err, errlen, "lttng-relayd at %s does not answer (%s)", relay,
			 why[0] ? why : "no reason given");
		ret = -ECONNREFUSED;
		goto end;
	}
	if (bt_value_get_type(res) != BT_VALUE_TYPE_ARRAY) {
		snprintf(err, errlen, "lttng-relayd at %s answered the sessions query oddly",
			 relay);
		ret = -EIO;
		goto end;
	}
	for (uint64_t i = 0; i < bt_value_array_get_length(res); i++) {
		const bt_value *m = bt_value_array_borrow_element_by_index_const(res, i);
		const bt_value *u = bt_value_get_type(m) == BT_VALUE_TYPE_MAP
					    ? bt_value_map_borrow_entry_value_const(m, "url")
					    : NULL;
		if (u && bt_value_get_type(u) == BT_VALUE_TYPE_STRING &&
		    path_add(&l, bt_value_string_get(u)))
			goto nomem;
	}
	*urls = l.v;
	*n = l.n;
	l.v = NULL;
	ret = (int)*n;
	goto end;
nomem:
	snprintf(err, errlen, "out of memory querying lttng-relayd at %s", relay);
	ret = -ENOMEM;
end:
	if (l.v)
		otr_paths_free(l.v, l.n);
	bt_value_put_ref(res);
	bt_query_executor_put_ref(qe);
	bt_value_put_ref(params);
	return ret;
}
