/* tests/unit/run.c: runs every unit suite. */
#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_add_suite(sr, headers_suite());
	srunner_add_suite(sr, backend_suite());
	srunner_add_suite(sr, h1_suite());
	srunner_add_suite(sr, ws_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, route_suite());
	srunner_add_suite(sr, pool_suite());
	srunner_add_suite(sr, routing_suite());
	srunner_add_suite(sr, h2_request_suite());
	srunner_add_suite(sr, h2_mem_suite());
	srunner_add_suite(sr, sock_suite());
	srunner_add_suite(sr, pp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
