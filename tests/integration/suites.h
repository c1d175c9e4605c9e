/* tests/integration/suites.h: one Suite per integration file. */
#ifndef PORTICO_TEST_SUITES_H
#define PORTICO_TEST_SUITES_H

#include <check.h>

Suite *proxy_suite(void);       /* test_proxy.c: forwarding, framing */
Suite *routing_suite(void);     /* test_routing.c: hosts, paths, bodies */
Suite *errors_suite(void);      /* test_errors.c: client and backend errors */
Suite *logs_suite(void);        /* test_logs.c: -t, access and error logs */
Suite *memory_suite(void);      /* test_memory.c: 1 GiB through, RSS bound */
Suite *tls_suite(void);         /* test_tls.c: ALPN, SNI, versions, resumption */
Suite *h2_suite(void);          /* test_h2.c: the HTTP/2 frontend */
Suite *ws_suite(void);          /* test_ws.c: WebSocket tunnels, h1 and h2 */
Suite *ops_suite(void);         /* test_ops.c: reloads, graceful stop */
Suite *timers_suite(void);      /* test_timers.c: timeouts by phase */
Suite *hostile_suite(void);     /* test_hostile.c: issue 11's attacks */
Suite *graceful_suite(void);    /* test_graceful.c: two-step GOAWAY, h1 drain */
Suite *pp_suite(void);          /* test_pp.c: listen ... proxy_protocol */
Suite *halfclose_suite(void);   /* test_halfclose.c: half-closes, cut
				 * responses */
TCase *hostile_h2_tcase(void);  /* test_hostile_h2.c: h2 header list
				 * limits, trailer fields */
TCase *hostile_ws_tcase(void);  /* test_hostile_ws.c: upgrade smuggling */
TCase *hostile_h1_tcase(void);  /* test_hostile_h1.c: h1 reader, slow
				 * heads, limits, retries, 1xx */
TCase *hostile_reset_tcase(void);       /* test_hostile_reset.c: h2 resets,
					 * MadeYouReset, the connect cap */
TCase *hostile_h2conform_tcase(void);   /* test_h2conform.c: RFC 9113 table */
TCase *ops_daemon_tcase(void);  /* test_ops_daemon.c: sd_notify, socket
				 * activation, SIGUSR1, privilege drop */

#endif
