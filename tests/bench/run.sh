#!/usr/bin/env bash
# tests/bench/run.sh: compare portico with nghttpx as an HTTP/1.1 reverse
# proxy in front of the same nginx origin.  Run by `make bench` after
# `make all`, from the repository root.  It reports and never gates: the exit
# status is 0 unless a tool is missing or something crashes.
#
# CPU layout (2 cores): the origin (nginx) and the load generator (h2load)
# share CPU 0; the proxy under test has CPU 1 to itself.  The two proxies run
# one after the other, never at once.  See tests/bench/README.md.

set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORTICO=${PORTICO:-$ROOT/portico}

# Request counts; bounded, override from the environment for a quicker run.
WARMUP_N=${BENCH_WARMUP_N:-2000}
N=${BENCH_N:-200000}
C=${BENCH_C:-64}
RUN_TIMEOUT=${BENCH_TIMEOUT:-120}

LOAD_CPU=0
PROXY_CPU=1

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v h2load  >/dev/null 2>&1 || need_pkgs+=(nghttp2-client)
command -v nghttpx >/dev/null 2>&1 || [ -x /usr/sbin/nghttpx ] || need_pkgs+=(nghttp2-proxy)
command -v nginx   >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]   || need_pkgs+=(nginx-light)
command -v taskset >/dev/null 2>&1 || need_pkgs+=(util-linux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	note "installing: ${need_pkgs[*]}"
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${need_pkgs[@]}" \
		|| die "apt-get install ${need_pkgs[*]} failed"
fi
PATH=$PATH:/usr/sbin:/sbin
for t in h2load nghttpx nginx taskset getconf; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
[ -x "$PORTICO" ] || die "$PORTICO not found; run 'make all' first"

NCPU=$(getconf _NPROCESSORS_ONLN)
if [ "$NCPU" -lt 2 ]; then
	note "only $NCPU CPU online; pinning everything to CPU 0 (figures will be noisy)"
	PROXY_CPU=0
fi
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX") || die "mktemp failed"
PIDS=()

# Stop a process we started, and whatever it forked, by pid: TERM the root,
# wait up to 5 s, then KILL what is left of the tree.
stop_pid() {
	local pid=$1 tree p alive
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	tree=$(pid_tree "$pid")
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 50); do
		alive=
		for p in $tree; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ -n "$alive" ] || break
		sleep 0.1
	done
	for p in $tree; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	wait "$pid" 2>/dev/null
	return 0
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
# A loopback port nobody listens on (checked against ss; the server started
# on it is then waited for, so a lost race shows up as a start failure).
free_port() {
	local p used
	used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

# Wait (bounded) until something accepts on 127.0.0.1:$1 and $2 is alive.
wait_port() {
	local port=$1 pid=$2
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# pid and all its descendants (nghttpx runs a main and a worker process);
# found through the ppid field of /proc/*/stat (no /proc/PID/task/*/children
# on every kernel).
pid_tree() {
	local root=$1
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$root" '
		{
			pid = $1; line = $0; sub(/.*\) /, "", line); split(line, f, " ")
			parent[pid] = f[2]
		}
		END {
			want[root] = 1; print root
			do {
				more = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) { want[p] = 1; print p; more = 1 }
			} while (more)
		}'
}

# "utime stime" (clock ticks) summed over a process tree; fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name.
cpu_ticks() {
	local u=0 k=0 p s
	for p in $(pid_tree "$1"); do
		s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		s=${s##*) }
		# after "comm) " the first word is field 3 (state), so field N is
		# positional parameter N-2: utime (14) is $12, stime (15) is $13
		# shellcheck disable=SC2086
		set -- $s
		u=$((u + ${12})); k=$((k + ${13}))
	done
	echo "$u $k"
}

rss_kib() {
	local total=0 p v
	for p in $(pid_tree "$1"); do
		v=$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

nprocs() { pid_tree "$1" | wc -l; }

# "busy total" jiffies of one CPU from /proc/stat (idle + iowait count as idle).
cpu_jiffies() {
	awk -v c="cpu$1" '$1 == c {
		t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t }' /proc/stat
}

# busy percentage of CPU $1 between two cpu_jiffies samples $2 and $3
busy_pct() {
	awk -v a="$2" -v b="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		d = y[2] - x[2]
		if (d > 0) printf "%.0f", (y[1] - x[1]) * 100 / d; else print "-" }'
}

# ---------------------------------------------------------------- origin
mkdir -p "$TMP/www" "$TMP/nginx"
head -c 1024 /dev/zero | tr '\0' 'x' >"$TMP/www/1k.txt"
NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    default_type text/plain;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /1k.txt { root $TMP/www; }
        location / { return 200 "ok\n"; }
    }
}
EOF
taskset -c "$LOAD_CPU" nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" \
	-c "$TMP/nginx/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_port "$NGINX_PORT" "$NGINX_PID" || {
	cat "$TMP/nginx/stdout.log" "$TMP/nginx/error.log" >&2 2>/dev/null
	die "nginx did not start on port $NGINX_PORT"
}

# ---------------------------------------------------------------- h2load
# run_h2load NAME URL EXTRA-ARGS... ; leaves results in H_RPS H_OK H_FAIL
# H_NON2XX H_TOTAL (H_RPS empty if the run did not produce a summary).
run_h2load() {
	local name=$1 url=$2 out
	shift 2
	out="$TMP/h2load-$name.txt"
	taskset -c "$LOAD_CPU" timeout "$RUN_TIMEOUT" h2load --h1 "$@" "$url" >"$out" 2>&1
	H_RC=$?
	H_RPS=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out" | head -1)
	local req
	req=$(grep '^requests:' "$out" | head -1)
	H_TOTAL=$(sed -n 's/.* \([0-9]*\) total.*/\1/p' <<<"$req")
	H_OK=$(sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' <<<"$req")
	H_FAIL=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$req")
	local err to
	err=$(sed -n 's/.* \([0-9]*\) errored.*/\1/p' <<<"$req")
	to=$(sed -n 's/.* \([0-9]*\) timeout.*/\1/p' <<<"$req")
	H_ERR=$(( ${err:-0} + ${to:-0} ))
	local codes
	codes=$(grep '^status codes:' "$out" | head -1)
	local c3 c4 c5
	c3=$(sed -n 's/.* \([0-9]*\) 3xx.*/\1/p' <<<"$codes")
	c4=$(sed -n 's/.* \([0-9]*\) 4xx.*/\1/p' <<<"$codes")
	c5=$(sed -n 's/.* \([0-9]*\) 5xx.*/\1/p' <<<"$codes")
	H_NON2XX=$(( ${c3:-0} + ${c4:-0} + ${c5:-0} ))
}

# ---------------------------------------------------------------- scenarios
#  name        path     h2load args
SCENARIOS=(
	"get-m1|/|-m 1"
	"get-m10|/|-m 10"
	"1k-m1|/1k.txt|-m 1"
)

RESULTS="$TMP/results.txt"
: >"$RESULTS"
ODD="$TMP/odd.txt"
: >"$ODD"

# bench_proxy LABEL PID PORT
bench_proxy() {
	local label=$1 pid=$2 port=$3 sc name path args t0 t1 cpu_us l0 l1 p0 p1 busy
	run_h2load "$label-warmup" "http://127.0.0.1:$port/" -n "$WARMUP_N" -c 10 -m 1
	if [ -z "$H_RPS" ] || [ "${H_FAIL:-0}" != 0 ]; then
		echo "$label warm-up: rc=$H_RC rps=${H_RPS:-none} failed=${H_FAIL:-?}" >>"$ODD"
	fi
	for sc in "${SCENARIOS[@]}"; do
		IFS='|' read -r name path args <<<"$sc"
		kill -0 "$pid" 2>/dev/null || {
			echo "$label: process $pid died before $name" >>"$ODD"
			printf '%s|%s|%s|%s|%s|%s\n' "$label" "$name" "-" "-|-" "dead" "-" >>"$RESULTS"
			continue
		}
		t0=$(cpu_ticks "$pid")
		l0=$(cpu_jiffies "$LOAD_CPU"); p0=$(cpu_jiffies "$PROXY_CPU")
		# shellcheck disable=SC2086
		run_h2load "$label-$name" "http://127.0.0.1:$port$path" -n "$N" -c "$C" $args
		t1=$(cpu_ticks "$pid")
		l1=$(cpu_jiffies "$LOAD_CPU"); p1=$(cpu_jiffies "$PROXY_CPU")
		busy="$(busy_pct "$LOAD_CPU" "$l0" "$l1")/$(busy_pct "$PROXY_CPU" "$p0" "$p1")"
		if [ -z "$H_RPS" ]; then
			# h2load refused the options or was killed by timeout: skip it.
			echo "$label $name: no h2load summary (rc=$H_RC); last lines:" >>"$ODD"
			tail -n 3 "$TMP/h2load-$label-$name.txt" | sed 's/^/    /' >>"$ODD"
			printf '%s|%s|%s|%s|%s|%s\n' "$label" "$name" "-" "-|-" "skipped" "-" >>"$RESULTS"
			continue
		fi
		if [ "${H_OK:-0}" -gt 0 ]; then
			# "total|user/sys", microseconds of proxy CPU per succeeded request
			cpu_us=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$H_OK" 'BEGIN {
				split(a, x, " "); split(b, y, " ")
				u = (y[1] - x[1]) / hz * 1e6 / n; k = (y[2] - x[2]) / hz * 1e6 / n
				printf "%.2f|%.1f/%.1f", u + k, u, k }')
		else
			cpu_us="-|-"
		fi
		[ "$H_RC" = 0 ] || echo "$label $name: h2load exited $H_RC" >>"$ODD"
		if [ "${H_FAIL:-0}" != 0 ] || [ "$H_ERR" != 0 ] || [ "$H_NON2XX" != 0 ]; then
			echo "$label $name: failed=$H_FAIL errored+timeout=$H_ERR non-2xx=$H_NON2XX of $H_TOTAL" >>"$ODD"
		fi
		printf '%s|%s|%s|%s|%s|%s|%s\n' "$label" "$name" "$H_RPS" "$cpu_us" \
			"${H_FAIL:-?}" "$H_NON2XX" "$busy" >>"$RESULTS"
	done
}

# ---------------------------------------------------------------- baseline
# The origin straight from the load generator, both on CPU 0: the ceiling
# the proxied figures cannot exceed on this machine.
for sc in "${SCENARIOS[@]}"; do
	IFS='|' read -r name path args <<<"$sc"
	l0=$(cpu_jiffies "$LOAD_CPU"); p0=$(cpu_jiffies "$PROXY_CPU")
	# shellcheck disable=SC2086
	run_h2load "direct-$name" "http://127.0.0.1:$NGINX_PORT$path" -n "$N" -c "$C" $args
	l1=$(cpu_jiffies "$LOAD_CPU"); p1=$(cpu_jiffies "$PROXY_CPU")
	busy="$(busy_pct "$LOAD_CPU" "$l0" "$l1")/$(busy_pct "$PROXY_CPU" "$p0" "$p1")"
	printf '%s|%s|%s|%s|%s|%s|%s\n' "direct" "$name" "${H_RPS:--}" "-|-" \
		"${H_FAIL:-?}" "$H_NON2XX" "$busy" >>"$RESULTS"
done

# ---------------------------------------------------------------- portico
mkdir -p "$TMP/portico"
PORTICO_PORT=$(free_port)
cat >"$TMP/portico/portico.conf" <<EOF
workers 1
listen 127.0.0.1:$PORTICO_PORT
backend origin {
	server 127.0.0.1:$NGINX_PORT
}
route * origin
access_log off
error_log stderr warn
backend_keepalive 64
# as nginx (100000) and nghttpx (no limit): do not close client connections
# every 1000 requests in the middle of a run
keepalive_requests 100000
EOF
"$PORTICO" -t -c "$TMP/portico/portico.conf" >"$TMP/portico/check.log" 2>&1 || {
	cat "$TMP/portico/check.log" >&2
	die "portico refused the generated config"
}
taskset -c "$PROXY_CPU" "$PORTICO" -c "$TMP/portico/portico.conf" \
	>"$TMP/portico/stdout.log" 2>"$TMP/portico/stderr.log" &
PORTICO_PID=$!
PIDS+=("$PORTICO_PID")
wait_port "$PORTICO_PORT" "$PORTICO_PID" || {
	cat "$TMP/portico/stderr.log" >&2
	die "portico did not start on port $PORTICO_PORT"
}
sleep 0.3
PORTICO_RSS=$(rss_kib "$PORTICO_PID")
PORTICO_NP=$(nprocs "$PORTICO_PID")
bench_proxy portico "$PORTICO_PID" "$PORTICO_PORT"
PORTICO_RSS_AFTER=$(rss_kib "$PORTICO_PID")
if ! kill -0 "$PORTICO_PID" 2>/dev/null; then
	wait "$PORTICO_PID"
	echo "portico exited during the run (status $?)" >>"$ODD"
fi
stop_pid "$PORTICO_PID"
if [ -s "$TMP/portico/stderr.log" ]; then
	{
		echo "portico error log ($(wc -l <"$TMP/portico/stderr.log") lines), first 10:"
		head -n 10 "$TMP/portico/stderr.log" | sed 's/^/    /'
	} >>"$ODD"
fi

# ---------------------------------------------------------------- nghttpx
# Same work as portico's defaults: add X-Forwarded-For and -Proto, no Via.
mkdir -p "$TMP/nghttpx"
NGHTTPX_PORT=$(free_port)
taskset -c "$PROXY_CPU" nghttpx --conf=/dev/null \
	"--frontend=127.0.0.1,$NGHTTPX_PORT;no-tls" \
	"--backend=127.0.0.1,$NGINX_PORT" \
	--workers=1 --no-ocsp \
	--errorlog-file="$TMP/nghttpx/error.log" --log-level=WARN \
	--backend-keep-alive-timeout=60s \
	--add-x-forwarded-for --no-via \
	--pid-file="$TMP/nghttpx/nghttpx.pid" \
	>"$TMP/nghttpx/stdout.log" 2>&1 &
NGHTTPX_PID=$!
PIDS+=("$NGHTTPX_PID")
wait_port "$NGHTTPX_PORT" "$NGHTTPX_PID" || {
	cat "$TMP/nghttpx/stdout.log" "$TMP/nghttpx/error.log" >&2 2>/dev/null
	die "nghttpx did not start on port $NGHTTPX_PORT"
}
sleep 0.3
NGHTTPX_RSS=$(rss_kib "$NGHTTPX_PID")
NGHTTPX_NP=$(nprocs "$NGHTTPX_PID")
bench_proxy nghttpx "$NGHTTPX_PID" "$NGHTTPX_PORT"
NGHTTPX_RSS_AFTER=$(rss_kib "$NGHTTPX_PID")
# read its log before stopping it: the worker logs a FATAL "IPC socket is
# closed" line on every shutdown, which is not a finding
cp "$TMP/nghttpx/error.log" "$TMP/nghttpx/error-run.log" 2>/dev/null
stop_pid "$NGHTTPX_PID"
if [ -s "$TMP/nghttpx/error-run.log" ]; then
	{
		echo "nghttpx error log ($(wc -l <"$TMP/nghttpx/error-run.log") lines), first 5:"
		head -n 5 "$TMP/nghttpx/error-run.log" | sed 's/^/    /'
	} >>"$ODD"
fi

# ---------------------------------------------------------------- report
{
	echo
	echo "portico bench: h2load --h1 -n $N -c $C, origin nginx $(nginx -v 2>&1 | sed 's/.*\///')" \
		"+ h2load on CPU $LOAD_CPU, proxy alone on CPU $PROXY_CPU"
	echo "$("$PORTICO" -v 2>&1 | head -1); $(nghttpx --version | head -1); $(h2load --version | head -1)"
	echo
	fmt='%-8s  %-8s  %10s  %10s  %11s  %7s  %7s  %s\n'
	# shellcheck disable=SC2059
	printf "$fmt" proxy scenario "req/s" "CPU us/req" "(usr/sys)" failed non-2xx \
		"CPU$LOAD_CPU/CPU$PROXY_CPU busy%"
	# shellcheck disable=SC2059
	printf "$fmt" -------- -------- ---------- ---------- ----------- ------- ------- \
		-----------------
	while IFS='|' read -r p s r u us f x b; do
		# shellcheck disable=SC2059
		printf "$fmt" "$p" "$s" "$r" "$u" "$us" "$f" "$x" "${b:--}"
	done <"$RESULTS"
	echo
	echo "ratios portico/nghttpx (CPU per request: lower is better; req/s: higher is better)"
	printf '%-8s  %14s  %8s\n' scenario "CPU/req ratio" "req/s ratio"
	for sc in "${SCENARIOS[@]}"; do
		IFS='|' read -r name _ _ <<<"$sc"
		pl=$(awk -F'|' -v s="$name" '$1=="portico" && $2==s' "$RESULTS")
		nl=$(awk -F'|' -v s="$name" '$1=="nghttpx" && $2==s' "$RESULTS")
		awk -F'|' -v a="$pl" -v b="$nl" -v s="$name" 'BEGIN {
			split(a, p, "|"); split(b, n, "|");
			cr = (p[4]+0 > 0 && n[4]+0 > 0) ? sprintf("%.2f", p[4]/n[4]) : "-";
			rr = (p[3]+0 > 0 && n[3]+0 > 0) ? sprintf("%.2f", p[3]/n[3]) : "-";
			printf "%-8s  %14s  %8s\n", s, cr, rr }'
	done
	echo
	echo "idle RSS after start (KiB; summed over the process tree):"
	printf '  portico  %7s KiB (%s process)    after the runs: %s KiB\n' \
		"$PORTICO_RSS" "$PORTICO_NP" "$PORTICO_RSS_AFTER"
	printf '  nghttpx  %7s KiB (%s processes)  after the runs: %s KiB\n' \
		"$NGHTTPX_RSS" "$NGHTTPX_NP" "$NGHTTPX_RSS_AFTER"
	if [ -s "$ODD" ]; then
		echo
		echo "notes:"
		sed 's/^/  /' "$ODD"
	fi
} | tee "$TMP/report.txt"

exit 0
