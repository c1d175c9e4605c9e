#!/bin/bash
# tests/install_check.sh: the systemd units pass systemd-analyze verify,
# and "make install" / "make uninstall" with DESTDIR and PREFIX put and
# take the right files, never touching an existing portico.conf. Run from
# the repo root after "make all"; exits 1 on the first failure.
set -u
cd "$(dirname "$0")/.." || exit 1

tmp=$(mktemp -d /tmp/portico-install-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "install_check: $*"
	exit 1
}

[ -x portico ] || fail "no ./portico: run make all first"

# systemd-analyze verify exits 0 on warnings too: any output fails.
# UNIT's portico paths are rewritten to BIN (which must exist for it).
verify() {
	local unit=$1 bin=$2 dir out
	dir=$(mktemp -d "$tmp/verify-XXXXXX")
	sed -e "s|/usr/local/sbin/portico|$bin|g" \
		-e "s|/usr/sbin/portico|$bin|g" "$unit" >"$dir/portico.service"
	cp config/portico.socket "$dir/"
	out=$(systemd-analyze verify --man=no "$dir/portico.socket" \
		"$dir/portico.service" 2>&1) ||
		fail "systemd-analyze verify $unit: exit $?: $out"
	[ -z "$out" ] || fail "systemd-analyze verify $unit: $out"
}
verify config/portico.service "$PWD/portico"

root=$tmp/root
files=(usr/sbin/portico usr/share/man/man8/portico.8
	usr/share/man/man5/portico.conf.5 usr/lib/systemd/system/portico.service
	usr/lib/systemd/system/portico.socket etc/portico/portico.conf)
make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr >"$tmp/log" \
	2>&1 || fail "make install: $(cat "$tmp/log")"
for f in "${files[@]}"; do
	[ -f "$root/$f" ] || fail "make install: no $f"
done
cmp -s portico "$root/usr/sbin/portico" || fail "installed binary differs"
[ -x "$root/usr/sbin/portico" ] || fail "usr/sbin/portico not executable"
cmp -s man/portico.8 "$root/usr/share/man/man8/portico.8" ||
	fail "installed portico.8 differs"
cmp -s man/portico.conf.5 "$root/usr/share/man/man5/portico.conf.5" ||
	fail "installed portico.conf.5 differs"
cmp -s config/portico.conf "$root/etc/portico/portico.conf" ||
	fail "installed portico.conf differs from config/portico.conf"
cmp -s config/portico.socket "$root/usr/lib/systemd/system/portico.socket" ||
	fail "installed portico.socket differs"
unit=$root/usr/lib/systemd/system/portico.service
grep -q '^ExecStart=/usr/sbin/portico -c /etc/portico/portico.conf$' "$unit" ||
	fail "installed unit: ExecStart not for PREFIX=/usr:" \
		"$(grep ^Exec "$unit")"
! grep -q /usr/local "$unit" || fail "installed unit names /usr/local"
verify "$unit" "$root/usr/sbin/portico"
./portico -t -c "$root/etc/portico/portico.conf" >"$tmp/log" 2>&1 ||
	fail "portico -t on the installed example: $(cat "$tmp/log")"

# an existing config stays as it is
echo "# edited here" >>"$root/etc/portico/portico.conf"
cp "$root/etc/portico/portico.conf" "$tmp/edited"
make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr >"$tmp/log" \
	2>&1 || fail "make install again: $(cat "$tmp/log")"
cmp -s "$tmp/edited" "$root/etc/portico/portico.conf" ||
	fail "make install overwrote an existing portico.conf"

make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr \
	>"$tmp/log" 2>&1 || fail "make uninstall: $(cat "$tmp/log")"
for f in "${files[@]}"; do
	[ "$f" = etc/portico/portico.conf ] && continue
	[ ! -e "$root/$f" ] || fail "make uninstall left $f"
done
cmp -s "$tmp/edited" "$root/etc/portico/portico.conf" ||
	fail "make uninstall removed or changed portico.conf"
left=$(find "$root" -type f ! -path "$root/etc/portico/portico.conf")
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install_check: ok"
