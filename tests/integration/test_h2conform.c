/* tests/integration/test_h2conform.c: HTTP/2 conformance of the
 * frontend, so that CI guards what h2spec (not run here) checks: the
 * table in h2conform.py, one row per section (RFC 9113 §§3.4-8.3, RFC
 * 7541 decoding errors), each what is sent and what must come back. Run
 * over TLS h2 and h2c; every row is asserted by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client.h"
#include "harness.h"
#include "suites.h"

#define H2CONFORM       "tests/integration/h2conform.py"
#define OUT_MAX         65536
#define TOOL_MS         300000
#define MIN_ROWS        70      /* the table may grow, never shrink */

static const char *const protos[] = { "tls", "h2c" };

static void
run_tool(char *out, const char *proto, int port)
{
	char sport[16], err[4096];
	char *argv[] = { "/usr/bin/python3", H2CONFORM, (char *)proto, sport,
	    NULL };
	int rc;

	snprintf(sport, sizeof(sport), "%d", port);
	if (port == 0)
		argv[3] = NULL;
	rc = run_argv(argv, out, OUT_MAX, err, sizeof(err), TOOL_MS);
	ck_assert_msg(rc == 0, "h2conform.py %s: exit %d\n%s\n%s", proto, rc,
	    out, err);
}

START_TEST(test_h2_conformance)
{
	static char names[OUT_MAX], out[OUT_MAX], failed[OUT_MAX];
	struct proxy px;
	char *name, *save = NULL;
	const char *v;
	int nrows = 0;

	run_tool(names, "list", 0);
	proxy_start_origin0(&px, NULL, "");
	run_tool(out, protos[_i], strcmp(protos[_i], "tls") == 0 ?
	    px.tls_port : px.port);
	failed[0] = '\0';
	for (name = strtok_r(names, "\n", &save); name != NULL;
	    name = strtok_r(NULL, "\n", &save)) {
		v = kv(out, name);
		ck_assert_msg(strcmp(v, "(absent)") != 0, "%s: row %s did not "
		    "run:\n%s", protos[_i], name, out);
		if (strcmp(v, "ok") != 0)
			snprintf(failed + strlen(failed), sizeof(failed) -
			    strlen(failed), "  %s: %s\n", name, v);
		nrows++;
	}
	ck_assert_msg(failed[0] == '\0', "%s: rows failed:\n%s", protos[_i],
	    failed);
	ck_assert_int_ge(nrows, MIN_ROWS);
	assert_kv(out, "failed", "0");
	proxy_stop(&px);
}
END_TEST

TCase *
hostile_h2conform_tcase(void)
{
	TCase *tc = harness_tcase("h2conform", 300);

	tcase_add_loop_test(tc, test_h2_conformance, 0, NELEMS(protos));
	return tc;
}
