/* tests/integration/suites.h: one Suite per integration file. */
#ifndef PORTICO_TEST_SUITES_H
#define PORTICO_TEST_SUITES_H

#include <check.h>

Suite *proxy_suite(void);       /* test_proxy.c: forwarding, framing */
Suite *routing_suite(void);     /* test_routing.c: hosts, paths, bodies */
Suite *errors_suite(void);      /* test_errors.c: client and backend errors */
Suite *logs_suite(void);        /* test_logs.c: -t, access and error logs */
Suite *memory_suite(void);      /* test_memory.c: 1 GiB through, RSS bound */

#endif
