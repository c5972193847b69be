/* The flight recorder's pieces that need no session daemon: --trigger conditions into LTTng
 * filters and snapshot causes, the ring's size from --keep and --rate, and snapshot names read
 * back from a directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flight.h"

static void parse_ok(const char *in, const char *text, const char *filter, const char *cause)
{
	struct offrx_fr_cond c;
	char err[512] = "";

	if (offrx_fr_parse(in, &c, err, sizeof(err)))
		fail_msg("'%s' did not parse: %s", in, err);
	assert_string_equal(c.text, text);
	assert_string_equal(c.filter, filter);
	assert_string_equal(c.cause, cause);
}

static void parse_err(const char *in, const char *says)
{
	struct offrx_fr_cond c;
	char err[512] = "";

	assert_int_equal(offrx_fr_parse(in, &c, err, sizeof(err)), -22);
	if (!strstr(err, says))
		fail_msg("'%s': the message '%s' does not say '%s'", in, err, says);
}

/* wait is post_to_complete_ns, idle last_fill_to_complete_ns, in ns; enums by their value. */
static void trigger_conditions_become_filters_on_complete(void **state)
{
	(void)state;
	parse_ok("wait > 150ms", "wait > 150ms", "post_to_complete_ns > 150000000",
		 "wait-gt-150ms");
	parse_ok("wait>150ms", "wait > 150ms", "post_to_complete_ns > 150000000", "wait-gt-150ms");
	parse_ok("reason == push_timer && idle >= 1.5s", "reason == push_timer && idle >= 1.5s",
		 "reason == 3 && last_fill_to_complete_ns >= 1500000000",
		 "reason-eq-push_timer+idle-ge-1.5s");
	parse_ok("status != SUCCESS and bytes < 64K", "status != SUCCESS && bytes < 64K",
		 "status != 0 && bytes < 65536", "status-ne-SUCCESS+bytes-lt-64K");
	parse_ok("status = REQUEST_ABORTED", "status == REQUEST_ABORTED", "status == -1",
		 "status-eq-REQUEST_ABORTED");
	parse_ok("post_to_complete > 2m", "wait > 2m", "post_to_complete_ns > 120000000000",
		 "wait-gt-2m");
	parse_ok("conn == 7 && req > 100", "conn == 7 && req > 100", "conn == 7 && req > 100",
		 "conn-eq-7+req-gt-100");
	/* the connection's local port, a field of offrx:complete */
	parse_ok("port == 5201", "port == 5201", "local_port == 5201", "port-eq-5201");
	parse_ok("local_port != 22 && wait > 1s", "port != 22 && wait > 1s",
		 "local_port != 22 && post_to_complete_ns > 1000000000", "port-ne-22+wait-gt-1s");
}

static void bad_conditions_say_what_to_write(void **state)
{
	(void)state;
	parse_err("wait > 150", "needs a duration with its unit");
	parse_err("port == 70000", "a TCP port from 1 to 65535, not '70000'");
	parse_err("port == 0", "a TCP port from 1 to 65535");
	parse_err("remote_port == 5201", "unknown field 'remote_port'");
	parse_err("latency > 1s", "unknown field 'latency'");
	parse_err("reason == timer", "is not one of: filled, psh, push_timer");
	parse_err("wait 150ms", "expected a comparison");
	parse_err("wait > 150ms || idle > 1s", "expected '&&' or the end");
	parse_err("", "expected a field");
	parse_err("wait >", "needs a value");
}

/* (n - 1) x sub >= keep x rate x 64, both powers of two, the smallest ring. */
static void the_ring_holds_keep_at_rate(void **state)
{
	struct offrx_fr_ring r;
	char err[512];

	(void)state;
	assert_int_equal(offrx_fr_ring(30000000000LL, 20000, &r, err, sizeof(err)), 0);
	assert_true(r.need == 30ULL * 20000 * 64 + 1);
	assert_true((r.num_subbuf - 1) * r.subbuf_size >= r.need);
	assert_true(r.held_s >= 30.0);
	assert_true(r.subbuf_size <= (4u << 20) && r.num_subbuf >= 4);
	assert_true(!(r.subbuf_size & (r.subbuf_size - 1)) && !(r.num_subbuf & (r.num_subbuf - 1)));
	/* no ring of the same form is smaller */
	assert_true(r.num_subbuf * r.subbuf_size <= 2 * r.need + 2 * (4u << 20));

	assert_int_equal(offrx_fr_ring(1000000000LL, 10, &r, err, sizeof(err)), 0);
	assert_true(r.subbuf_size == (uint64_t)sysconf(_SC_PAGESIZE) && r.num_subbuf == 4);

	assert_int_equal(offrx_fr_ring(3600000000000LL, 10000000, &r, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "shorten --keep or lower --rate"));
}

static void snapshots_are_read_back_by_time_and_cause(void **state)
{
	char dir[] = "/tmp/offrx-fr-unit.XXXXXX", p[256];
	struct offrx_fr_snapshot *l = NULL, s;

	(void)state;
	assert_true(offrx_fr_snapshot_name("wait-gt-150ms-20261207-143012-3", &s));
	assert_string_equal(s.cause, "wait-gt-150ms");
	assert_int_equal(s.seq, 3);
	assert_false(offrx_fr_snapshot_name("offrx-20261207-143012", &s));
	assert_false(offrx_fr_snapshot_name("-20261207-143012-0", &s));

	assert_non_null(mkdtemp(dir));
	const char *names[] = { "idle-gt-1s-20261207-143100-1", "wait-gt-150ms-20261207-143012-0",
				"wait-gt-150ms-20261207-143205-2", "not-a-snapshot", ".hidden" };
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(offrx_fr_snapshots(dir, &l), 3);
	assert_string_equal(l[0].cause, "wait-gt-150ms");
	assert_string_equal(l[1].cause, "idle-gt-1s");
	assert_int_equal(l[2].seq, 2);
	assert_true(l[2].when > l[0].when);
	snprintf(p, sizeof(p), "%s/%s", dir, names[2]);
	assert_string_equal(l[2].path, p);
	free(l);
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		rmdir(p);
	}
	rmdir(dir);
	assert_int_equal(offrx_fr_snapshots(dir, &l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trigger_conditions_become_filters_on_complete),
		cmocka_unit_test(bad_conditions_say_what_to_write),
		cmocka_unit_test(the_ring_holds_keep_at_rate),
		cmocka_unit_test(snapshots_are_read_back_by_time_and_cause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
