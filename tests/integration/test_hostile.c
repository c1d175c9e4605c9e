/* tests/integration/test_hostile.c: the hostile-input suite (issue 11).
 * Each case drives the real portico as an attacker would, against
 * origins that record every byte they receive (origin -r), and asserts
 * what the client got and what reached the origin, over HTTP/1.1 and
 * HTTP/2 where the case can arrive on both. The cases live in one file
 * per concern; this file only puts them together. */
#include <check.h>

#include "suites.h"

Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");

	/* suite_add_tcase(s, hostile_<concern>_tcase()); one line each */
	suite_add_tcase(s, hostile_h2_tcase());
	suite_add_tcase(s, hostile_ws_tcase());
	suite_add_tcase(s, hostile_h1_tcase());
	suite_add_tcase(s, hostile_reset_tcase());
	suite_add_tcase(s, hostile_h2conform_tcase());
	return s;
}
