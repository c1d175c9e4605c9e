#!/usr/bin/env bash
# tests/bench/ws.sh: WebSockets through portico and nghttpx (issue 5):
# memory per idle tunnel (1,000 held at once) and echo round trips per
# second with the proxy's CPU per round trip, in one run, same origin
# (build/origin's /ws echo), proxy pinned alone on CPU 1. Reports only.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORTICO=${PORTICO:-$ROOT/portico}
ORIGIN=${ORIGIN:-$ROOT/build/origin}
WS_IDLE=${WS_IDLE:-1000}
WS_CONNS=${WS_CONNS:-20}
WS_MSGS=${WS_MSGS:-2000}
TMP=$(mktemp -d)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for t in "$PORTICO" "$ORIGIN" /usr/bin/python3 nghttpx; do
	command -v "$t" >/dev/null || { echo "ws bench: $t missing" >&2; exit 1; }
done
ulimit -n 65536 2>/dev/null

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	local i
	for i in $(seq 100); do
		/usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# nghttpx serves from a child process: the one with the most CPU
worker_of() {
	local c
	c=$(pgrep -P "$1" | head -1)
	echo "${c:-$1}"
}

OPORT=$(free_port)
taskset -c 0 "$ORIGIN" -l "127.0.0.1:$OPORT" -q >/dev/null &
PIDS+=($!)
wait_port "$OPORT" || { echo "ws bench: origin did not start" >&2; exit 1; }

bench() {
	local name=$1 port=$2 pid=$3 w idle echo a b t
	w=$(worker_of "$pid")
	idle=$(taskset -c 0 /usr/bin/python3 "$ROOT/tests/bench/ws_bench.py" idle "$port" "$WS_IDLE" "$w")
	a=$(ticks "$w")
	echo=$(taskset -c 0 /usr/bin/python3 "$ROOT/tests/bench/ws_bench.py" echo "$port" "$WS_CONNS" "$WS_MSGS")
	b=$(ticks "$w")
	t=$(getconf CLK_TCK)
	echo "$name $idle $echo $a $b $t" >>"$TMP/results"
}

PPORT=$(free_port)
USER_LINE=
[ "$(id -u)" != 0 ] || USER_LINE="user root"
cat >"$TMP/portico.conf" <<EOF2
$USER_LINE
workers 1
listen 127.0.0.1:$PPORT
backend origin {
	server 127.0.0.1:$OPORT
}
route * origin
access_log off
error_log stderr warn
EOF2
taskset -c 1 "$PORTICO" -c "$TMP/portico.conf" 2>"$TMP/portico.err" &
PPID_=$!
PIDS+=("$PPID_")
wait_port "$PPORT" || { cat "$TMP/portico.err" >&2; exit 1; }
bench portico "$PPORT" "$PPID_"

NPORT=$(free_port)
taskset -c 1 nghttpx --conf=/dev/null "--frontend=127.0.0.1,$NPORT;no-tls" \
	"--backend=127.0.0.1,$OPORT" --workers=1 --no-ocsp \
	--errorlog-file="$TMP/nghttpx.err" --log-level=WARN \
	--add-x-forwarded-for --no-via >/dev/null 2>&1 &
NPID=$!
PIDS+=("$NPID")
wait_port "$NPORT" || { echo "ws bench: nghttpx did not start" >&2; exit 1; }
sleep 0.3
bench nghttpx "$NPORT" "$NPID"

echo
echo "WebSockets (HTTP/1.1 Upgrade, cleartext): $WS_IDLE idle tunnels held;"
echo "$WS_CONNS connections x $WS_MSGS echo round trips of 32 bytes"
echo
printf '%-8s %6s %6s %10s %12s %10s %12s %14s\n' proxy held failed "KiB/tunnel" \
	"round trips" "rt/s" "failed conns" "CPU us/rt"
awk '{
	held = $2; failed = $3; kib = held > 0 ? ($5 - $4) / held : 0
	done = $6; fc = $7; secs = $8; cpu = ($10 - $9) / $11
	rate = secs > 0 ? done / secs : 0; us = done > 0 ? cpu * 1e6 / done : 0
	printf "%-8s %6d %6d %10.1f %12d %10.0f %12d %14.1f\n", $1, held, failed, kib, done, rate, fc, us
	k[$1] = kib; r[$1] = rate; u[$1] = us
} END {
	rr = (r["nghttpx"] > 0) ? r["portico"] / r["nghttpx"] : 0
	uu = (u["nghttpx"] > 0) ? u["portico"] / u["nghttpx"] : 0
	if (k["nghttpx"] > 0)
		printf "\nportico/nghttpx: memory per tunnel %.2f (aim < 1), round trips/s %.2f, CPU per round trip %.2f\n", k["portico"] / k["nghttpx"], rr, uu
}' "$TMP/results"
[ -s "$TMP/portico.err" ] && { echo "portico error log:"; head -5 "$TMP/portico.err"; }
exit 0
