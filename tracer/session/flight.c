/* The flight recorder's parts (flight.h): --trigger conditions turned into LTTng filters on
 * offrx:complete, the ring's size from a duration, the triggers (event-rule-matches condition,
 * snapshot-session action, rate policy), the snapshots on disk, and the watcher that arms a
 * trigger again once its interval has passed.
 */
#define _GNU_SOURCE /* strptime */
#include "flight.h"
#include "errf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lttng/lttng.h>
#include <offrx/offrx_names.h>

#include "num.h"

/* --- conditions ------------------------------------------------------------------------ */

enum fr_kind { K_DUR, K_SIZE, K_U64, K_PORT, K_REASON, K_STATUS };

static const struct fr_field {
	const char *name, *alias, *tp_field;
	enum fr_kind kind;
} fr_fields[] = {
	{ "wait", "post_to_complete", "post_to_complete_ns", K_DUR },
	{ "idle", "last_fill_to_complete", "last_fill_to_complete_ns", K_DUR },
	{ "reason", NULL, "reason", K_REASON },
	{ "status", NULL, "status", K_STATUS },
	{ "bytes", NULL, "bytes", K_SIZE },
	{ "placed", NULL, "placed", K_SIZE },
	{ "conn", NULL, "conn", K_U64 },
	{ "req", NULL, "req", K_U64 },
	/* the connection's local port (offrx:complete has it since the flight recorder) */
	{ "port", NULL, "local_port", K_PORT },
};
#define FR_NFIELDS     (sizeof(fr_fields) / sizeof(fr_fields[0]))
#define FR_FIELD_NAMES "wait, idle, reason, status, bytes, placed, conn, req, port"

static const struct fr_op {
	const char *op, *word;
} fr_ops[] = {
	/* longest first: ">=" before ">" */
	{ ">=", "ge" }, { "<=", "le" }, { "==", "eq" }, { "!=", "ne" },
	{ ">", "gt" },	{ "<", "lt" },	{ "=", "eq" },
};

struct fr_name {
	const char *name;
	int value;
};
#define FR_NAME_(id, n, v) { n, v },
static const struct fr_name fr_reasons[] = { OFFRX_COMPLETE_REASON_LIST(FR_NAME_) };
static const struct fr_name fr_statuses[] = { OFFRX_STATUS_LIST(FR_NAME_) };
#undef FR_NAME_

static int enum_value(const struct fr_name *t, size_t n, const char *v, int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(t[i].name, v)) {
			*out = t[i].value;
			return 0;
		}
	}
	return -1;
}

static void enum_names(const struct fr_name *t, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t[i].name);
}

/* Append to a fixed buffer; false when it does not fit. */
static bool cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len - used;
}

/* One term's value as a filter literal; -EINVAL with the reason. */
static int term_value(const struct fr_field *f, const char *v, const char *cond, char *lit,
		      size_t litlen, char *err, size_t errlen)
{
	char names[256];
	int64_t ns;
	uint64_t u;
	int e;

	switch (f->kind) {
	case K_DUR:
		/* A bare number would be seconds to num_duration: ask for the unit. */
		if (strspn(v, "0123456789.") == strlen(v) || num_duration(v, &ns)) {
			errf(err, errlen,
			     "--trigger '%s': %s needs a duration with its unit, not '%s': e.g. "
			     "150ms, 1.5s or 800us",
			     cond, f->name, v);
			return -EINVAL;
		}
		snprintf(lit, litlen, "%lld", (long long)ns);
		return 0;
	case K_SIZE:
		if (num_size(v, 0, UINT32_MAX, &u)) {
			errf(err, errlen,
			     "--trigger '%s': %s takes a byte count, not '%s': e.g. 1448 or 64K",
			     cond, f->name, v);
			return -EINVAL;
		}
		snprintf(lit, litlen, "%llu", (unsigned long long)u);
		return 0;
	case K_U64:
		if (num_u64(v, 0, UINT64_MAX >> 1, &u)) {
			errf(err, errlen, "--trigger '%s': %s takes a whole number, not '%s'", cond,
			     f->name, v);
			return -EINVAL;
		}
		snprintf(lit, litlen, "%llu", (unsigned long long)u);
		return 0;
	case K_PORT:
		if (num_u64(v, 1, UINT16_MAX, &u)) {
			errf(err, errlen,
			     "--trigger '%s': %s takes a TCP port from 1 to 65535, not '%s'", cond,
			     f->name, v);
			return -EINVAL;
		}
		snprintf(lit, litlen, "%llu", (unsigned long long)u);
		return 0;
	case K_REASON:
	case K_STATUS: {
		const struct fr_name *t = f->kind == K_REASON ? fr_reasons : fr_statuses;
		size_t n = f->kind == K_REASON ? sizeof(fr_reasons) / sizeof(fr_reasons[0])
					       : sizeof(fr_statuses) / sizeof(fr_statuses[0]);
		if (enum_value(t, n, v, &e)) {
			enum_names(t, n, names, sizeof(names));
			errf(err, errlen, "--trigger '%s': %s '%s' is not one of: %s", cond,
			     f->name, v, names);
			return -EINVAL;
		}
		/* Enumeration fields compare as their integer in an LTTng filter. */
		snprintf(lit, litlen, "%d", e);
		return 0;
	}
	}
	return -EINVAL;
}

static void slug(char *dst, size_t len, const char *src)
{
	size_t i = strlen(dst);

	for (; *src && i + 1 < len; src++)
		dst[i++] = isalnum((unsigned char)*src) || *src == '_' || *src == '.' ? *src : '_';
	dst[i] = '\0';
}

int offrx_fr_parse(const char *s, struct offrx_fr_cond *c, char *err, size_t errlen)
{
	const char *p = s;
	unsigned int terms = 0;

	memset(c, 0, sizeof(*c));
	for (;;) {
		char field[64], value[128], lit[32];
		const struct fr_field *f = NULL;
		const struct fr_op *op = NULL;
		size_t n;
		int ret;

		while (isspace((unsigned char)*p))
			p++;
		n = 0;
		while ((isalnum((unsigned char)*p) || *p == '_') && n + 1 < sizeof(field))
			field[n++] = *p++;
		field[n] = '\0';
		if (!n) {
			errf(err, errlen,
			     "--trigger '%s': expected a field at '%s': write FIELD OP VALUE, e.g. "
			     "'wait > 150ms'; fields: %s",
			     s, *p ? p : "(end)", FR_FIELD_NAMES);
			return -EINVAL;
		}
		for (size_t i = 0; i < FR_NFIELDS; i++)
			if (!strcmp(field, fr_fields[i].name) ||
			    (fr_fields[i].alias && !strcmp(field, fr_fields[i].alias)) ||
			    !strcmp(field, fr_fields[i].tp_field))
				f = &fr_fields[i];
		if (!f) {
			errf(err, errlen, "--trigger '%s': unknown field '%s': use one of %s", s,
			     field, FR_FIELD_NAMES);
			return -EINVAL;
		}
		while (isspace((unsigned char)*p))
			p++;
		for (size_t i = 0; i < sizeof(fr_ops) / sizeof(fr_ops[0]); i++)
			if (!strncmp(p, fr_ops[i].op, strlen(fr_ops[i].op))) {
				op = &fr_ops[i];
				break;
			}
		if (!op) {
			errf(err, errlen,
			     "--trigger '%s': expected a comparison after '%s' at '%s': use >, >=, "
			     "<, <=, == or !=",
			     s, field, *p ? p : "(end)");
			return -EINVAL;
		}
		p += strlen(op->op);
		while (isspace((unsigned char)*p))
			p++;
		n = 0;
		while (*p && !isspace((unsigned char)*p) && *p != '&' && n + 1 < sizeof(value))
			value[n++] = *p++;
		value[n] = '\0';
		if (!n) {
			errf(err, errlen, "--trigger '%s': %s %s needs a value", s, field, op->op);
			return -EINVAL;
		}
		ret = term_value(f, value, s, lit, sizeof(lit), err, errlen);
		if (ret)
			return ret;
		if (f->kind == K_U64 || f->kind == K_SIZE) {
			if (!strcmp(op->op, "<") && !strcmp(lit, "0")) {
				errf(err, errlen, "--trigger '%s': %s < 0 never matches", s, field);
				return -EINVAL;
			}
		}
		if (!cat(c->text, sizeof(c->text), "%s%s %s %s", terms ? " && " : "", f->name,
			 !strcmp(op->op, "=") ? "==" : op->op, value) ||
		    !cat(c->filter, sizeof(c->filter), "%s%s %s %s", terms ? " && " : "",
			 f->tp_field, !strcmp(op->op, "=") ? "==" : op->op, lit) ||
		    !cat(c->cause, sizeof(c->cause), "%s%s-%s-", terms ? "+" : "", f->name,
			 op->word)) {
			errf(err, errlen, "--trigger '%s' is too long: use fewer terms", s);
			return -EINVAL;
		}
		slug(c->cause, sizeof(c->cause) - 24, value); /* room for -YYYYMMDD-HHMMSS-N */
		terms++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (!strncmp(p, "&&", 2))
			p += 2;
		else if (!strncmp(p, "and", 3) && (isspace((unsigned char)p[3]) || !p[3]))
			p += 3;
		else {
			errf(err, errlen,
			     "--trigger '%s': expected '&&' or the end at '%s' (terms are joined "
			     "with &&; for 'or', give another --trigger)",
			     s, p);
			return -EINVAL;
		}
	}
	return 0;
}

/* --- the ring ---------------------------------------------------------------------------- */

int offrx_fr_ring(int64_t keep_ns, uint64_t rate, struct offrx_fr_ring *r, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t min_sub = page > 0 ? (uint64_t)page : 4096;
	double need = (double)keep_ns / 1e9 * (double)rate * (double)OFFRX_FR_EVENT_BYTES;
	uint64_t best_total = 0;

	memset(r, 0, sizeof(*r));
	if (keep_ns <= 0 || !rate) {
		errf(err, errlen,
		     "the ring needs a duration and a rate above 0 (got %lld ns, %llu "
		     "events/s)",
		     (long long)keep_ns, (unsigned long long)rate);
		return -EINVAL;
	}
	if (need > (double)OFFRX_FR_MAX_RING) {
		errf(err, errlen,
		     "keeping %.0f s at %llu events/s takes %.1f GiB per CPU (%llu bytes an "
		     "event), more than the %llu GiB allowed: shorten --keep or lower --rate",
		     (double)keep_ns / 1e9, (unsigned long long)rate, need / (1ULL << 30),
		     (unsigned long long)OFFRX_FR_EVENT_BYTES,
		     (unsigned long long)(OFFRX_FR_MAX_RING >> 30));
		return -EINVAL;
	}
	r->need = (uint64_t)need + 1;
	/*
	 * In overwrite mode the sub-buffer being written holds what the oldest one held, so the
	 * ring keeps (n - 1) full ones. Smallest ring first; for equal rings, the larger
	 * sub-buffer (the consumer's cost is per packet); at least 4 of them, at most 4 MiB each
	 * (a sub-buffer is what the ring loses at once at its old end).
	 */
	for (uint64_t sub = 4ULL << 20; sub >= min_sub; sub >>= 1) {
		uint64_t n = 4;
		while ((n - 1) * sub < r->need)
			n <<= 1;
		if (!best_total || n * sub < best_total) {
			best_total = n * sub;
			r->subbuf_size = sub;
			r->num_subbuf = n;
		}
	}
	r->held_s = (double)((r->num_subbuf - 1) * r->subbuf_size) /
		    ((double)rate * (double)OFFRX_FR_EVENT_BYTES);
	return 0;
}

/* --- triggers ------------------------------------------------------------------------------ */

/* false when it does not fit an LTTng name */
static bool trigger_name(char *buf, size_t len, const char *session, long pid,
			 const struct offrx_fr_cond *c)
{
	int n = snprintf(buf, len, "%s%s:%ld:%s", OFFRX_FR_TRIGGER_PREFIX, session, pid, c->text);

	return n >= 0 && (size_t)n < len;
}

/* "offrx-fr:SESSION:PID:COND" into its parts; false if it is not one of ours. */
static bool parse_trigger_name(const char *name, struct offrx_fr_trigger *t)
{
	size_t pl = strlen(OFFRX_FR_TRIGGER_PREFIX);
	const char *s, *colon, *end;
	char *e;

	if (strncmp(name, OFFRX_FR_TRIGGER_PREFIX, pl))
		return false;
	s = name + pl;
	/* The first ":DIGITS:" ends the session's name (one with such a part is cut there). */
	end = strrchr(s, ':');
	for (colon = s; (colon = strchr(colon, ':')) && colon < end; colon++) {
		errno = 0;
		long pid = strtol(colon + 1, &e, 10);
		if (e != colon + 1 && *e == ':' && !errno &&
		    (size_t)(colon - s) < sizeof(t->session)) {
			memset(t, 0, sizeof(*t));
			memcpy(t->session, s, (size_t)(colon - s));
			t->watcher_pid = pid;
			snprintf(t->cond, sizeof(t->cond), "%s", e + 1);
			return true;
		}
	}
	return false;
}

static const char *lttng_msg(int ret)
{
	return lttng_strerror(ret < 0 ? ret : -ret);
}

/* The registered trigger called name, unregistered: 0, -ENOENT, or -EIO. */
static int unregister_named(const char *name, char *err, size_t errlen)
{
	struct lttng_triggers *all = NULL;
	unsigned int n = 0;
	int ret = -ENOENT;
	enum lttng_error_code ec = lttng_list_triggers(&all);

	if (ec != LTTNG_OK) {
		errf(err, errlen, "cannot list the triggers: %s", lttng_msg(ec));
		return -EIO;
	}
	lttng_triggers_get_count(all, &n);
	for (unsigned int i = 0; i < n; i++) {
		const struct lttng_trigger *t = lttng_triggers_get_at_index(all, i);
		const char *tn = NULL;
		if (lttng_trigger_get_name(t, &tn) != LTTNG_TRIGGER_STATUS_OK || strcmp(tn, name))
			continue;
		int r = lttng_unregister_trigger(t);
		if (r < 0 && r != -LTTNG_ERR_TRIGGER_NOT_FOUND) {
			errf(err, errlen, "cannot unregister trigger '%s': %s", name, lttng_msg(r));
			ret = -EIO;
		} else {
			ret = 0;
		}
		break;
	}
	lttng_triggers_destroy(all);
	return ret;
}

int offrx_fr_arm(const char *session, long watcher_pid, const char *dir,
		 const struct offrx_fr_cond *c, bool rearm, char *err, size_t errlen)
{
	struct lttng_event_rule *rule = lttng_event_rule_user_tracepoint_create();
	struct lttng_condition *cond = NULL;
	struct lttng_action *snap = lttng_action_snapshot_session_create();
	struct lttng_snapshot_output *out = lttng_snapshot_output_create();
	struct lttng_rate_policy *policy = lttng_rate_policy_once_after_n_create(1);
	struct lttng_action *list = lttng_action_list_create();
	struct lttng_trigger *trigger = NULL;
	char name[LTTNG_NAME_MAX];
	enum lttng_error_code ec;
	int ret = -ENOMEM;

	if (!trigger_name(name, sizeof(name), session, watcher_pid, c)) {
		errf(err, errlen,
		     "the trigger's name (session '%s', condition '%s') is longer than LTTng's "
		     "%d characters: use a shorter session name or condition",
		     session, c->text, LTTNG_NAME_MAX - 1);
		ret = -EINVAL;
		goto end;
	}
	if (!rule || !snap || !out || !policy || !list) {
		errf(err, errlen, "cannot build trigger '%s': out of memory", name);
		goto end;
	}
	ret = -EINVAL;
	if (lttng_event_rule_user_tracepoint_set_name_pattern(rule, OFFRX_FR_EVENT) !=
		    LTTNG_EVENT_RULE_STATUS_OK ||
	    lttng_event_rule_user_tracepoint_set_filter(rule, c->filter) !=
		    LTTNG_EVENT_RULE_STATUS_OK) {
		errf(err, errlen, "cannot build the event rule %s with filter '%s'", OFFRX_FR_EVENT,
		     c->filter);
		goto end;
	}
	cond = lttng_condition_event_rule_matches_create(rule);
	if (lttng_snapshot_output_set_name(c->cause, out) < 0 ||
	    lttng_snapshot_output_set_local_path(dir, out) < 0) {
		errf(err, errlen,
		     "cannot name the snapshots '%s' in '%s': the directory must be an absolute "
		     "path",
		     c->cause, dir);
		goto end;
	}
	if (!cond ||
	    lttng_action_snapshot_session_set_session_name(snap, session) !=
		    LTTNG_ACTION_STATUS_OK ||
	    lttng_action_snapshot_session_set_output(snap, out) != LTTNG_ACTION_STATUS_OK) {
		errf(err, errlen, "cannot build the snapshot action of trigger '%s'", name);
		goto end;
	}
	out = NULL; /* the action owns it */
	/* Once, then the watcher arms a new one when the interval has passed. */
	if (lttng_action_snapshot_session_set_rate_policy(snap, policy) != LTTNG_ACTION_STATUS_OK) {
		errf(err, errlen, "cannot set the rate policy of trigger '%s'", name);
		goto end;
	}
	/* In a list, as 'lttng add-trigger' makes them: 'lttng list-triggers' 2.13.9 aborts on a
	 * trigger whose action is not a list (its error query copies an empty action path). */
	if (lttng_action_list_add_action(list, snap) != LTTNG_ACTION_STATUS_OK) {
		errf(err, errlen, "cannot build the action list of trigger '%s'", name);
		goto end;
	}
	trigger = lttng_trigger_create(cond, list);
	if (!trigger) {
		errf(err, errlen, "cannot build trigger '%s'", name);
		goto end;
	}
	if (rearm) {
		ret = unregister_named(name, err, errlen);
		if (ret && ret != -ENOENT)
			goto end;
	}
	ec = lttng_register_trigger_with_name(trigger, name);
	if (ec != LTTNG_OK) {
		if (ec == LTTNG_ERR_TRIGGER_EXISTS)
			errf(err, errlen,
			     "trigger '%s' is registered already: remove it with 'lttng "
			     "remove-trigger \"%s\"' or 'offrx-trace stop --name %s'",
			     name, name, session);
		else
			errf(err, errlen, "cannot register trigger '%s' (filter '%s' on %s): %s",
			     name, c->filter, OFFRX_FR_EVENT, lttng_strerror(-(int)ec));
		ret = ec == LTTNG_ERR_EPERM ? -EACCES : -EIO;
		goto end;
	}
	ret = 0;
end:
	lttng_trigger_destroy(trigger);
	lttng_rate_policy_destroy(policy);
	lttng_snapshot_output_destroy(out);
	lttng_action_destroy(list);
	lttng_action_destroy(snap);
	lttng_condition_destroy(cond);
	lttng_event_rule_destroy(rule);
	return ret;
}

/* Each of our triggers (of session, or all) to fn; the count, or -errno. */
static int each_trigger(const char *session,
			int (*fn)(const struct lttng_trigger *t, const struct offrx_fr_trigger *ft,
				  void *arg),
			void *arg, char *err, size_t errlen)
{
	struct lttng_triggers *all = NULL;
	unsigned int n = 0;
	int count = 0;
	enum lttng_error_code ec = lttng_list_triggers(&all);

	if (ec != LTTNG_OK) {
		errf(err, errlen, "cannot list the triggers: %s%s", lttng_msg(ec),
		     ec == LTTNG_ERR_NO_SESSIOND ? ": no session daemon runs" : "");
		return ec == LTTNG_ERR_NO_SESSIOND ? -ECONNREFUSED : -EIO;
	}
	lttng_triggers_get_count(all, &n);
	for (unsigned int i = 0; i < n; i++) {
		const struct lttng_trigger *t = lttng_triggers_get_at_index(all, i);
		struct offrx_fr_trigger ft;
		const char *tn = NULL;
		if (lttng_trigger_get_name(t, &tn) != LTTNG_TRIGGER_STATUS_OK ||
		    !parse_trigger_name(tn, &ft) || (session && strcmp(ft.session, session)))
			continue;
		int r = fn(t, &ft, arg);
		if (r < 0) {
			count = r;
			break;
		}
		count++;
	}
	lttng_triggers_destroy(all);
	return count;
}

struct collect {
	struct offrx_fr_trigger *list;
	size_t n, cap;
};

static int collect_one(const struct lttng_trigger *t, const struct offrx_fr_trigger *ft, void *arg)
{
	struct collect *c = arg;

	(void)t;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct offrx_fr_trigger *l = realloc(c->list, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		c->list = l;
		c->cap = cap;
	}
	c->list[c->n++] = *ft;
	return 0;
}

int offrx_fr_triggers(const char *session, struct offrx_fr_trigger **list, char *err, size_t errlen)
{
	struct collect c = { 0 };
	int ret = each_trigger(session, collect_one, &c, err, errlen);

	if (ret < 0) {
		free(c.list);
		*list = NULL;
		if (ret == -ENOMEM)
			errf(err, errlen, "cannot list the triggers: out of memory");
		return ret;
	}
	*list = c.list;
	return (int)c.n;
}

static int unregister_one(const struct lttng_trigger *t, const struct offrx_fr_trigger *ft,
			  void *arg)
{
	int r = lttng_unregister_trigger(t);

	(void)ft;
	(void)arg;
	return r < 0 && r != -LTTNG_ERR_TRIGGER_NOT_FOUND ? -EIO : 0;
}

int offrx_fr_disarm(const char *session, char *err, size_t errlen)
{
	int ret = each_trigger(session, unregister_one, NULL, err, errlen);

	if (ret == -EIO)
		errf(err, errlen,
		     "cannot unregister the flight-recorder triggers of session '%s': see 'lttng "
		     "list-triggers' and remove them with 'lttng remove-trigger NAME'",
		     session ? session : "(all)");
	return ret;
}

bool offrx_fr_is_watcher(long pid, const char *session)
{
	char path[64], buf[4096];
	bool cmd = false, sess = false;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* argv: offrx-trace _fr-watch SESSION DIR INTERVAL COND... */
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		if (!strcmp(a, "_fr-watch"))
			cmd = true;
		else if (cmd && !strcmp(a, session))
			sess = true;
	}
	return cmd && sess;
}

/* --- snapshots on disk ------------------------------------------------------------------------ */

bool offrx_fr_snapshot_name(const char *name, struct offrx_fr_snapshot *s)
{
	/* CAUSE-YYYYMMDD-HHMMSS-N: from the end, since CAUSE has '-' in it. */
	const char *d3 = strrchr(name, '-');
	struct tm tm;
	char *e;

	if (!d3 || d3 - name < 17 || !isdigit((unsigned char)d3[1]))
		return false;
	errno = 0;
	unsigned long long seq = strtoull(d3 + 1, &e, 10);
	if (*e || errno)
		return false;
	const char *t = d3 - 16; /* "-YYYYMMDD-HHMMSS" */
	if (t[0] != '-' || t[9] != '-' || strspn(t + 1, "0123456789") != 8 ||
	    strspn(t + 10, "0123456789") != 6 || t == name)
		return false;
	memset(&tm, 0, sizeof(tm));
	char stamp[16];
	memcpy(stamp, t + 1, 15);
	stamp[15] = '\0';
	e = strptime(stamp, "%Y%m%d-%H%M%S", &tm);
	if (!e || *e)
		return false;
	tm.tm_isdst = -1;
	s->when = mktime(&tm);
	s->seq = seq;
	size_t cl = (size_t)(t - name);
	if (cl >= sizeof(s->cause))
		cl = sizeof(s->cause) - 1;
	memcpy(s->cause, name, cl);
	s->cause[cl] = '\0';
	return true;
}

static int by_seq(const void *a, const void *b)
{
	const struct offrx_fr_snapshot *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int offrx_fr_snapshots(const char *dir, struct offrx_fr_snapshot **list)
{
	struct offrx_fr_snapshot *l = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*list = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct offrx_fr_snapshot s;
		if (de->d_name[0] == '.' || !offrx_fr_snapshot_name(de->d_name, &s))
			continue;
		if ((size_t)snprintf(s.path, sizeof(s.path), "%s/%s", dir, de->d_name) >=
		    sizeof(s.path))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct offrx_fr_snapshot *m = realloc(l, cap * sizeof(*m));
			if (!m) {
				free(l);
				closedir(d);
				return -ENOMEM;
			}
			l = m;
		}
		l[n++] = s;
	}
	closedir(d);
	if (n)
		qsort(l, n, sizeof(*l), by_seq);
	*list = l;
	return (int)n;
}

int offrx_fr_dir(const char *session, char *dir, size_t len, char *err, size_t errlen)
{
	struct lttng_snapshot_output_list *ol = NULL;
	struct lttng_snapshot_output *o;
	int ret = lttng_snapshot_list_output(session, &ol);

	if (ret < 0) {
		errf(err, errlen, "cannot read the snapshot output of session '%s': %s", session,
		     lttng_msg(ret));
		return ret == -LTTNG_ERR_SESS_NOT_FOUND ? -ENOENT : -EIO;
	}
	ret = -ENOENT;
	o = lttng_snapshot_output_list_get_next(ol);
	if (o) {
		const char *url = lttng_snapshot_output_get_ctrl_url(o);
		if (!strncmp(url, "file://", 7))
			url += 7;
		snprintf(dir, len, "%s", url);
		ret = 0;
	} else {
		errf(err, errlen, "session '%s' has no snapshot output", session);
	}
	lttng_snapshot_output_list_destroy(ol);
	return ret;
}

int offrx_fr_latest(struct offrx_fr_snapshot *s, char *session, size_t len)
{
	struct lttng_session *all = NULL;
	int n, found = 0;

	if (lttng_session_daemon_alive() != 1)
		return 0;
	n = lttng_list_sessions(&all);
	if (n < 0)
		return -EIO;
	for (int i = 0; i < n; i++) {
		struct offrx_fr_snapshot *l = NULL;
		char dir[PATH_MAX];
		int k;
		if (!all[i].snapshot_mode || strncmp(all[i].name, "offrx", 5) ||
		    offrx_fr_dir(all[i].name, dir, sizeof(dir), NULL, 0))
			continue;
		k = offrx_fr_snapshots(dir, &l);
		if (k > 0 && (!found || l[k - 1].when > s->when)) {
			*s = l[k - 1];
			snprintf(session, len, "%s", all[i].name);
			found = 1;
		}
		free(l);
	}
	free(all);
	return found;
}

/* --- the watcher --------------------------------------------------------------------------- */

static bool session_exists(const char *name)
{
	struct lttng_session *all = NULL;
	int n = lttng_list_sessions(&all);
	bool found = false;

	if (n < 0) /* the session daemon is gone: so is the session */
		return n != -LTTNG_ERR_NO_SESSIOND;
	for (int i = 0; i < n && !found; i++)
		found = !strcmp(all[i].name, name);
	free(all);
	return found;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define WATCH_POLL_MS 100

int offrx_fr_watch(const char *session, const char *dir, int64_t interval_ns,
		   const struct offrx_fr_cond *c, size_t n)
{
	int64_t rearm_at[OFFRX_FR_MAX_TRIGGERS] = { 0 };
	struct timespec poll = { 0, WATCH_POLL_MS * 1000000L };
	struct offrx_fr_snapshot *l = NULL;
	long self = (long)getpid();
	int64_t seen = -1, last_check = 0;
	char err[512];
	int k;

	if (n > OFFRX_FR_MAX_TRIGGERS)
		n = OFFRX_FR_MAX_TRIGGERS;
	k = offrx_fr_snapshots(dir, &l);
	if (k > 0)
		seen = (int64_t)l[k - 1].seq;
	free(l);
	for (;;) {
		nanosleep(&poll, NULL);
		int64_t now = now_ns();
		if (now - last_check >= 1000000000LL) {
			last_check = now;
			if (!session_exists(session))
				break;
		}
		/* A new snapshot: its trigger fired (once); arm it again after the interval. */
		k = offrx_fr_snapshots(dir, &l);
		for (int i = 0; i < k; i++) {
			if ((int64_t)l[i].seq <= seen)
				continue;
			seen = (int64_t)l[i].seq;
			for (size_t j = 0; j < n; j++)
				if (!strcmp(l[i].cause, c[j].cause) && !rearm_at[j])
					rearm_at[j] = now + interval_ns;
		}
		free(l);
		l = NULL;
		for (size_t j = 0; j < n; j++) {
			if (!rearm_at[j] || now < rearm_at[j])
				continue;
			if (!session_exists(session))
				goto out;
			/* A failure is tried again at the next poll. */
			if (!offrx_fr_arm(session, self, dir, &c[j], true, err, sizeof(err)))
				rearm_at[j] = 0;
		}
	}
out:
	/* The session is gone: take our triggers with it. */
	for (size_t j = 0; j < n; j++) {
		char name[LTTNG_NAME_MAX];
		if (trigger_name(name, sizeof(name), session, self, &c[j]))
			unregister_named(name, err, sizeof(err));
	}
	return 0;
}
