/* tests/unit/suites.h: one Check suite per module. */
#ifndef PORTICO_SUITES_H
#define PORTICO_SUITES_H

#include <check.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

Suite *conf_suite(void);
Suite *headers_suite(void);
Suite *backend_suite(void);
Suite *h1_suite(void);
Suite *ws_suite(void);
Suite *tls_suite(void);
Suite *route_suite(void);
Suite *pool_suite(void);
Suite *routing_suite(void);
Suite *h2_request_suite(void);
Suite *h2_mem_suite(void);
Suite *sock_suite(void);
Suite *pp_suite(void);

#endif
