#!/bin/bash
# tests/man_check.sh: every directive the parser knows is in portico.conf(5),
# and every man page formats without a groff warning. Run from the repo root.
set -u
cd "$(dirname "$0")/.." || exit 1

src=config/conf_directives.c
page=man/portico.conf.5
fail=0

# The names in the CONF_DIRECTIVES table, between its two marker comments.
names=$(sed -n '/directives: begin/,/directives: end/p' "$src" |
	sed -n 's/.*X("\([a-z_0-9]*\)".*/\1/p')
if [ -z "$names" ]; then
	echo "man_check: no directive names found between the markers in $src"
	exit 1
fi

# A directive is documented when it has a .TP item whose tag line starts
# with .B, .BI or .BR and the name; an example line does not count.
tags=$(awk 'prev == ".TP" { print } { prev = $0 }' "$page")
for n in $names; do
	if ! grep -Eq "^\.(B|BI|BR) \"?$n([ \"\\\\]|\$)" <<<"$tags"; then
		echo "man_check: directive \"$n\" is not documented in $page"
		fail=1
	fi
done

shopt -s nullglob
pages=(man/*.5 man/*.8)
if [ ${#pages[@]} -eq 0 ]; then
	echo "man_check: no man pages in man/"
	exit 1
fi
for p in "${pages[@]}"; do
	out=$(groff -man -ww -z "$p" 2>&1)
	if [ -n "$out" ]; then
		echo "man_check: groff warnings in $p:"
		echo "$out"
		fail=1
	fi
done

if [ $fail -eq 0 ]; then
	echo "man_check: $(echo $names | wc -w) directives documented," \
	    "${#pages[@]} page(s) clean"
fi
exit $fail
