#!/bin/bash
# tests/demo_check.sh: what `make demo` starts works as the README says:
# HTTP on 127.0.0.1:8080, TLS on 127.0.0.1:8443 with HTTP/2 by ALPN, the
# ECDSA certificate for a current client and the RSA one for a client
# that offers only RSA signatures; SIGTERM (what its Ctrl-C trap runs;
# a background job ignores SIGINT) stops both processes.
# Run from the repo root after "make all"; exits 1 on the first failure.
# The demo's ports are fixed: when one is taken, this says so and passes.
set -u
cd "$(dirname "$0")/.." || exit 1

fail() {
	echo "demo_check: $*"
	[ -z "${pid:-}" ] || kill "$pid" 2>/dev/null
	exit 1
}

for port in 8080 8443 9080; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "demo_check: 127.0.0.1:$port is taken, not run"
		exit 0
	fi
done
log=$(mktemp /tmp/portico-demo-XXXXXX) || exit 1
trap 'rm -f "$log"' EXIT

tests/origin/demo.sh >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -sk -o /dev/null https://127.0.0.1:8443/ && break
	kill -0 "$pid" 2>/dev/null || fail "demo exited: $(cat "$log")"
	sleep 0.1
done

code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/echo)
[ "$code" = 200 ] || fail "http://127.0.0.1:8080/echo: $code"
got=$(curl -sk -o /dev/null -w '%{http_version} %{http_code}' \
	https://127.0.0.1:8443/echo)
[ "$got" = "2 200" ] || fail "https://127.0.0.1:8443/echo: $got (want 2 200)"
sig=$(openssl s_client -connect 127.0.0.1:8443 </dev/null 2>/dev/null |
	sed -n 's/^Peer signature type: //p')
[ "$sig" = ECDSA ] || fail "a current client got a \"$sig\" signature"
sig=$(openssl s_client -connect 127.0.0.1:8443 \
	-sigalgs RSA-PSS+SHA256:ECDSA+SHA256 </dev/null 2>/dev/null |
	sed -n 's/^Peer signature type: //p')
[ "$sig" = ECDSA ] || fail "a client listing RSA first got a \"$sig\" signature"
sig=$(openssl s_client -connect 127.0.0.1:8443 \
	-sigalgs RSA-PSS+SHA256:RSA+SHA256 </dev/null 2>/dev/null |
	sed -n 's/^Peer signature type: //p')
[ "$sig" = RSA-PSS ] || fail "an RSA-only client got a \"$sig\" signature"

kill -TERM "$pid"
for _ in $(seq 50); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "demo still runs 5 s after SIGTERM"
wait "$pid"
pid=
for port in 8080 8443 9080; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		fail "127.0.0.1:$port still answers after the demo stopped"
	fi
done
echo "demo_check: ok"
