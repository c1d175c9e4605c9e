#!/usr/bin/env bash
# tests/origin/demo.sh: what `make demo` runs from the repo root: the test
# origin on 127.0.0.1:9080 and portico in front of it on 127.0.0.1:8080
# (config/portico.conf as it is) and on 127.0.0.1:8443 over TLS, with two
# self-signed certificates made for the run: ECDSA P-256 first (what
# current clients get: its signature costs a fraction of RSA's) and RSA
# 2048 for clients without ECDSA. Ctrl-C stops both; only the pids started
# here are signalled.
set -u

origin_pid=
portico_pid=
tmp=$(mktemp -d)

stop() {
	trap - EXIT INT TERM
	for pid in $portico_pid $origin_pid; do
		kill "$pid" 2>/dev/null
	done
	for pid in $portico_pid $origin_pid; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap stop EXIT
trap 'echo; echo "demo: stopped"; exit 0' INT TERM

for f in build/origin ./portico; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is not built (run make)" >&2
		exit 1
	fi
done

build/origin -l 127.0.0.1:9080 -p "$tmp/origin.port" -q &
origin_pid=$!
# The port file appears once the origin listens; it is gone if bind failed.
for _ in $(seq 50); do
	[ -f "$tmp/origin.port" ] && break
	if ! kill -0 "$origin_pid" 2>/dev/null; then
		echo "demo: the origin did not start (is 9080 taken?)" >&2
		exit 1
	fi
	sleep 0.1
done

# the same certificate commands as the README's
for k in ec rsa; do
	case $k in
	ec) new=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	rsa) new=(-newkey rsa:2048) ;;
	esac
	if ! openssl req -x509 "${new[@]}" -nodes -days 30 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$tmp/$k.key" -out "$tmp/$k.pem" 2>"$tmp/openssl.log"; then
		cat "$tmp/openssl.log" >&2
		echo "demo: openssl could not make a certificate" >&2
		exit 1
	fi
done
chmod 600 "$tmp"/*.key
cat >"$tmp/demo.conf" <<EOF
include $PWD/config/portico.conf
listen 127.0.0.1:8443 tls
tls {
	certificate $tmp/ec.pem $tmp/ec.key
	certificate $tmp/rsa.pem $tmp/rsa.key
}
EOF

./portico -c "$tmp/demo.conf" &
portico_pid=$!
echo "portico is running: try  curl http://127.0.0.1:8080/echo"
echo "  or  curl -k https://127.0.0.1:8443/echo  (HTTP/2, ECDSA)  (Ctrl-C stops)"

# Returns when either one exits; the EXIT trap stops the other.
wait -n "$origin_pid" "$portico_pid"
rc=$?
echo "demo: a process exited (status $rc); stopping" >&2
exit "$rc"
