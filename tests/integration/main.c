/* tests/integration/main.c: runs every integration suite against
 * $PORTICO and $ORIGIN; exits nonzero if any test fails. */
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "harness.h"
#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(proxy_suite());
	int failed;

	srunner_add_suite(sr, routing_suite());
	srunner_add_suite(sr, errors_suite());
	srunner_add_suite(sr, logs_suite());
	srunner_add_suite(sr, memory_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, h2_suite());
	srunner_add_suite(sr, ws_suite());
	srunner_add_suite(sr, ops_suite());
	srunner_add_suite(sr, timers_suite());
	srunner_add_suite(sr, hostile_suite());
	srunner_add_suite(sr, graceful_suite());
	srunner_add_suite(sr, halfclose_suite());
	srunner_add_suite(sr, pp_suite());
	srunner_run_all(sr, CK_ENV);
	harness_teardown();     /* after a setup that failed */
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
