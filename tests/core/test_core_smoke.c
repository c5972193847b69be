/* The scenario from the issue, end to end: the canonical push-timer case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scenario.h"

static void test_R10_push_timer_completes_partial_request(void **state)
{
	struct sc *s = sc_new(NULL);
	struct sc_conn *c = sc_open(s);
	struct offrx_recv_req *a = post_push(c, 4096), *b = post_push(c, 4096);
	assert_int_equal(deliver(c, 3000, 0), 3000);
	advance_ms(s, 499);
	assert_int_equal(s->ndone, 0);
	advance_ms(s, 1);
	assert_int_equal(s->ndone, 1);
	const struct sc_done *d = sc_done_of(s, a);
	assert_non_null(d);
	assert_int_equal(d->status, OFFRX_SUCCESS);
	assert_int_equal(d->bytes, 3000);
	assert_int_equal(d->reason, OFFRX_CR_PUSH_TIMER);
	assert_null(sc_done_of(s, b));
	sc_check_stream(c);
	sc_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R10_push_timer_completes_partial_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
