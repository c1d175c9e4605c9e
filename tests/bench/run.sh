#!/usr/bin/env bash
# tests/bench/run.sh: compare portico with other reverse proxies in front of
# the same nginx origin.  Run by `make bench` after `make all`, from the
# repository root.  It reports and never gates: the exit status is 0 unless
# a required tool is missing or something crashes.
#
# Two parts:
#  - cleartext HTTP/1.1: portico vs nghttpx, h2load --h1;
#  - TLS 1.3 (ECDSA P-256 certificate, X25519, TLS_AES_128_GCM_SHA256):
#    portico vs nghttpx, nginx, HAProxy and H2O (the last two when installed
#    or installable): HTTP/2 and HTTP/1.1 small GETs, 1 MiB downloads and
#    uploads, full handshakes on new connections, TLS 1.3 resumptions
#    (openssl s_time -reuse, one HTTP/1.0 GET each), and the memory each idle
#    HTTP/2 connection costs;
#  - growth: the h2 small GET at 8, 64 and 512 client connections, idle
#    memory at 500, 2000 and 8000 connections (BENCH_SWEEP*);
#  - instructions per h2 small GET by callgrind, from two run lengths so
#    that start-up cancels, and portico's split by library (BENCH_CG*).
#
# CPU layout (2 cores): the origin (nginx) and the load generators (h2load,
# idle_h2.py) share CPU 0; the proxy under test has CPU 1 to itself.  The
# proxies run one after the other, never at once.  See tests/bench/README.md.

set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
PORTICO=${PORTICO:-$ROOT/portico}

# Request counts; bounded, override from the environment for a quicker run.
WARMUP_N=${BENCH_WARMUP_N:-2000}
N=${BENCH_N:-200000}
C=${BENCH_C:-64}
RUN_TIMEOUT=${BENCH_TIMEOUT:-120}
TLS_H2_N=${BENCH_TLS_H2_N:-200000}      # h2 small GETs, -c 64 -m 10
TLS_H1_N=${BENCH_TLS_H1_N:-100000}      # h1 small GETs, -c 64
TLS_BIG_N=${BENCH_TLS_BIG_N:-2000}      # 1 MiB downloads / uploads, -c 16
TLS_HS_N=${BENCH_TLS_HS_N:-5000}        # handshakes, in rounds of TLS_HS_C
TLS_HS_C=${BENCH_TLS_HS_C:-250}
TLS_RESUME_SECS=${BENCH_TLS_RESUME_SECS:-10}    # resumptions, for this long
IDLE_N=${BENCH_IDLE_N:-500}             # idle h2 connections held open
PEERS=${BENCH_PEERS:-nghttpx nginx haproxy h2o}
INSTALL_PEERS=${BENCH_INSTALL_PEERS:-1}
# instructions per h2 GET by callgrind: two runs of CG_N1 and CG_N2
# requests, so that start-up and the 64 handshakes cancel in the difference
CALLGRIND=${BENCH_CALLGRIND:-1}
CG_N1=${BENCH_CG_N1:-2000}
CG_N2=${BENCH_CG_N2:-12000}
# growth: h2-get at each client connection count, idle memory at each
# count of idle connections (each on a fresh start of the proxy)
SWEEP=${BENCH_SWEEP:-1}
SWEEP_C=${BENCH_SWEEP_C:-8 64 512}
SWEEP_N=${BENCH_SWEEP_N:-$TLS_H2_N}
SWEEP_IDLE=${BENCH_SWEEP_IDLE:-500 2000 8000}
if [ "$SWEEP" = 0 ]; then SWEEP_C=; SWEEP_IDLE=; fi

max_of() {
	local m=0 v
	for v in "$@"; do [ "$v" -gt "$m" ] && m=$v; done
	echo "$m"
}
# shellcheck disable=SC2086  # word lists
MAX_C=$(max_of 64 $SWEEP_C)
# idle connections each proxy may keep to the origin: at least the most
# requests in flight (64 x 10 on h2-get, 10 x the largest BENCH_SWEEP_C in
# the sweep), so that no proxy closes a reusable one (10000 at most)
BK_MIN=$((MAX_C * 10 > 1024 ? MAX_C * 10 : 1024))
BACKEND_KEEPALIVE=${BENCH_BACKEND_KEEPALIVE:-$((BK_MIN > 10000 ? 10000 : BK_MIN))}
# client connections each proxy is told to accept at once, and the file
# descriptors that takes with a backend connection per request in flight
# shellcheck disable=SC2086
MAXCONN=$(( $(max_of "$IDLE_N" "$TLS_HS_C" "$MAX_C" $SWEEP_IDLE) + 1024 ))
INFLIGHT=$((MAX_C * 10 > BACKEND_KEEPALIVE ? MAX_C * 10 : BACKEND_KEEPALIVE))
FD_WANT=$((MAXCONN + INFLIGHT + 4096))

LOAD_CPU=0
PROXY_CPU=1

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- tools
PATH=$PATH:/usr/sbin:/sbin
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
APT_UPDATED=
apt_install() {
	if [ -z "$APT_UPDATED" ]; then
		$SUDO apt-get update || return 1
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "$@"
}
need_pkgs=()
command -v h2load  >/dev/null 2>&1 || need_pkgs+=(nghttp2-client)
command -v nghttpx >/dev/null 2>&1 || need_pkgs+=(nghttp2-proxy)
command -v nginx   >/dev/null 2>&1 || need_pkgs+=(nginx-light)
command -v taskset >/dev/null 2>&1 || need_pkgs+=(util-linux)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	note "installing: ${need_pkgs[*]}"
	apt_install "${need_pkgs[@]}" || die "apt-get install ${need_pkgs[*]} failed"
fi
# optional peers: installed when missing unless BENCH_INSTALL_PEERS=0, and
# skipped (with a note) when that fails
opt_pkgs=()
case " $PEERS " in *" haproxy "*) command -v haproxy >/dev/null 2>&1 || opt_pkgs+=(haproxy) ;; esac
case " $PEERS " in *" h2o "*) command -v h2o >/dev/null 2>&1 || opt_pkgs+=(h2o) ;; esac
if [ ${#opt_pkgs[@]} -gt 0 ] && [ "$INSTALL_PEERS" = 1 ]; then
	note "installing optional peers: ${opt_pkgs[*]}"
	apt_install "${opt_pkgs[@]}" || note "apt-get install ${opt_pkgs[*]} failed; skipping them"
fi
for t in h2load nghttpx nginx taskset getconf openssl timeout; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
[ -x "$PORTICO" ] || die "$PORTICO not found; run 'make all' first"
HAVE_PY=
command -v python3 >/dev/null 2>&1 && HAVE_PY=1
if [ "$CALLGRIND" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
	note "installing: valgrind"
	apt_install valgrind || note "apt-get install valgrind failed"
fi
CG_NOTE=
if [ "$CALLGRIND" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
	CG_NOTE="valgrind not found: no callgrind rows"
	CALLGRIND=0
elif [ "$CALLGRIND" != 0 ] && [ "$CG_N2" -le "$CG_N1" ]; then
	CG_NOTE="BENCH_CG_N2 ($CG_N2) is not above BENCH_CG_N1 ($CG_N1): no callgrind rows"
	CALLGRIND=0
fi

# Descriptors: the idle sweep holds thousands of connections, each proxy a
# backend one per request in flight besides.  Raise the soft limit, and
# the hard one if it is lower (root only); every process started from here
# inherits them.
FD_NOTE=
fd_now=$(ulimit -Sn)
if [ "$fd_now" != unlimited ] && [ "$fd_now" -lt "$FD_WANT" ]; then
	fd_hard=$(ulimit -Hn)
	if [ "$fd_hard" = unlimited ] || [ "$fd_hard" -ge "$FD_WANT" ]; then
		ulimit -Sn "$FD_WANT"
	else
		ulimit -n "$FD_WANT" 2>/dev/null || ulimit -Sn "$fd_hard"
	fi
	fd_now=$(ulimit -Sn)
	[ "$fd_now" = unlimited ] || [ "$fd_now" -ge "$FD_WANT" ] ||
		FD_NOTE="ulimit -n is $fd_now, below the $FD_WANT wanted: the largest idle counts may fail"
fi
FD_LIMIT=$(ulimit -Sn)
[ "$FD_LIMIT" != unlimited ] || FD_LIMIT=1048576

NCPU=$(getconf _NPROCESSORS_ONLN)
if [ "$NCPU" -lt 2 ]; then
	note "only $NCPU CPU online; pinning everything to CPU 0 (figures will be noisy)"
	PROXY_CPU=0
fi
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP"    # h2o and nginx workers may run as another user
PIDS=()

# Stop a process we started, and whatever it forked, by pid: TERM the root,
# wait up to $2 tenths of a second (default 50: 5 s), then KILL what is left
# of the tree; returns 1 if something had to be killed.  The pid is then
# dropped from PIDS, so that the exit trap cannot signal a reused pid.
stop_pid() {
	local pid=$1 tries=${2:-50} tree p alive killed=0 keep=()
	if kill -0 "$pid" 2>/dev/null; then
		tree=$(pid_tree "$pid")
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 "$tries"); do
			alive=
			for p in $tree; do
				kill -0 "$p" 2>/dev/null && ! is_zombie "$p" && alive=1
			done
			[ -n "$alive" ] || break
			sleep 0.1
		done
		for p in $tree; do
			if kill -0 "$p" 2>/dev/null && ! is_zombie "$p"; then
				kill -KILL "$p" 2>/dev/null && killed=1
			fi
		done
	fi
	wait "$pid" 2>/dev/null
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=(${keep[@]+"${keep[@]}"})
	return "$killed"
}

is_zombie() {
	local s
	s=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" = Z ]
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	local pid
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do
		stop_pid "$pid"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# ---------------------------------------------------------------- helpers
# A loopback port nobody listens on, below the ephemeral range (h2load's
# thousands of connections would otherwise collide with it); checked against
# ss, and the server started on it is then waited for, so a lost race shows
# up as a start failure.
EPH_LO=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
EPH_LO=${EPH_LO:-32768}
free_port() {
	local p used lo=10000 span
	span=$((EPH_LO - lo))
	[ "$span" -gt 1000 ] || { lo=20000; span=40000; }
	used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
	for _ in $(seq 1 200); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % span))
		grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

# Wait (bounded: $3 tries of 50 ms, default 100) until something accepts
# on 127.0.0.1:$1 and $2 is alive.
wait_port() {
	local port=$1 pid=$2 tries=${3:-100}
	for _ in $(seq 1 "$tries"); do
		kill -0 "$pid" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# pid and all its descendants (nghttpx runs a main and a worker process,
# h2o a key-holding helper); found through the ppid field of /proc/*/stat
# (no /proc/PID/task/*/children on every kernel).
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

# "utime stime minflt" (clock ticks, minor page faults) summed over a process
# tree; fields 14, 15 and 10 of /proc/PID/stat, counted after the ")" that
# ends the command name.
cpu_ticks() {
	local u=0 k=0 f=0 p s
	for p in $(pid_tree "$1"); do
		s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		s=${s##*) }
		# after "comm) " the first word is field 3 (state), so field N is
		# positional parameter N-2: utime (14) is $12, stime (15) is $13,
		# minflt (10) is $8
		# shellcheck disable=SC2086
		set -- $s
		u=$((u + ${12})); k=$((k + ${13})); f=$((f + $8))
	done
	echo "$u $k $f"
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

# share (%) of CPU $PROXY_CPU's time that the proxy itself used, from its
# cpu_ticks samples $1 $2 and the CPU's cpu_jiffies samples $3 $4: with the
# CPU's busy%, shows whether something else ran on the proxy's CPU
proxy_pct() {
	awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN {
		split(a, x, " "); split(b, y, " "); split(c, p, " "); split(d, q, " ")
		t = q[2] - p[2]
		if (t > 0) printf "%.0f", (y[1] + y[2] - x[1] - x[2]) * 100 / t; else print "-" }'
}

# note_shared LABEL NAME "load/cpu/proxy": note a run in which something
# other than the proxy used a fair share of the proxy's CPU
note_shared() {
	awk -v b="$3" 'BEGIN { split(b, x, "/")
		exit !(x[2] != "-" && x[3] != "-" && x[2] - x[3] > 20) }' &&
		echo "$1 $2 ($(cut -d/ -f2 <<<"$3")% vs $(cut -d/ -f3 <<<"$3")%)" >>"$SHARED"
	return 0
}

# "total|user/sys" microseconds of CPU per request between two cpu_ticks
# samples $1 and $2, for $3 requests
cpu_per_req() {
	awk -v a="$1" -v b="$2" -v hz="$CLK_TCK" -v n="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (n <= 0) { print "-|-"; exit }
		u = (y[1] - x[1]) / hz * 1e6 / n; k = (y[2] - x[2]) / hz * 1e6 / n
		printf "%.2f|%.1f/%.1f", u + k, u, k }'
}

RESULTS="$TMP/results.txt"
TLS_RESULTS="$TMP/tls-results.txt"
MEM_RESULTS="$TMP/mem-results.txt"
NEGOTIATED="$TMP/negotiated.txt"
VERSIONS="$TMP/versions.txt"
ODD="$TMP/odd.txt"
SHARED="$TMP/shared.txt"
: >"$RESULTS"; : >"$TLS_RESULTS"; : >"$MEM_RESULTS"; : >"$NEGOTIATED"
: >"$VERSIONS"; : >"$ODD"; : >"$SHARED"
SWEEP_MEM="$TMP/sweep-mem.txt"
CG_RESULTS="$TMP/cg-results.txt"
CG_SPLIT="$TMP/cg-split.txt"
: >"$SWEEP_MEM"; : >"$CG_RESULTS"; : >"$CG_SPLIT"
[ -z "$FD_NOTE" ] || echo "$FD_NOTE" >>"$ODD"
[ -z "$CG_NOTE" ] || echo "$CG_NOTE" >>"$ODD"

# Anything else busy on the machine skews req/s (CPU per request much less):
# sample both CPUs for a second before starting.
q0l=$(cpu_jiffies "$LOAD_CPU"); q0p=$(cpu_jiffies "$PROXY_CPU")
sleep 1
q1l=$(cpu_jiffies "$LOAD_CPU"); q1p=$(cpu_jiffies "$PROXY_CPU")
QUIET="$(busy_pct "$LOAD_CPU" "$q0l" "$q1l")/$(busy_pct "$PROXY_CPU" "$q0p" "$q1p")"
if awk -v q="$QUIET" 'BEGIN { split(q, b, "/"); exit !(b[1] + 0 > 10 || b[2] + 0 > 10) }'; then
	echo "before the bench started CPU$LOAD_CPU/CPU$PROXY_CPU were already $QUIET% busy:" \
		"something else is running; req/s and busy% are noisy" >>"$ODD"
fi

# ---------------------------------------------------------------- origin
mkdir -p "$TMP/www" "$TMP/nginx"
head -c 1024 /dev/zero | tr '\0' 'x' >"$TMP/www/1k.txt"
head -c 1048576 /dev/zero >"$TMP/www/1m.bin"
head -c 1048576 /dev/zero >"$TMP/upload-1m.bin"
NGINX_PORT=$(free_port)
# the same origin on a unix socket: the proxies route /u/ to it
NGINX_SOCK=$TMP/origin.sock
# /upload reads the whole body (into memory) before it answers, so that a
# proxy cannot be faster by having its upload cut short: the body is
# buffered, then a header-only subrequest to this same server answers it.
# worker_connections: a proxy may hold a backend connection per request in
# flight, and the idle ones kept besides.
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections $((INFLIGHT + 4096)); }
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
    upstream self {
        server 127.0.0.1:$NGINX_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        listen unix:$NGINX_SOCK backlog=4096;
        location = /1k.txt { root $TMP/www; }
        location = /1m.bin { root $TMP/www; }
        location = /upload {
            client_max_body_size 2m;
            client_body_buffer_size 2m;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://self/uploaded;
        }
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
# run_h2load NAME URL ARGS... ; leaves results in H_RPS H_OK H_FAIL H_ERR
# H_NON2XX H_TOTAL H_SECS H_TLS (H_RPS empty if the run did not produce a
# summary).  The caller gives --h1 for HTTP/1.1; over https, h2 otherwise.
run_h2load() {
	local name=$1 url=$2 out
	shift 2
	out="$TMP/h2load-$name.txt"
	taskset -c "$LOAD_CPU" timeout "$RUN_TIMEOUT" h2load "$@" "$url" >"$out" 2>&1
	H_RC=$?
	H_RPS=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$out" | head -1)
	H_SECS=$(sed -n 's/^finished in \([0-9.]*\)\([mu]*s\),.*/\1 \2/p' "$out" | head -1 |
		awk '{ v = $1; if ($2 == "ms") v /= 1e3; else if ($2 == "us") v /= 1e6; print v }')
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
	H_TLS=$(awk -F': ' '
		/^TLS Protocol:/ { p = $2 } /^Cipher:/ { c = $2 }
		/^Server Temp Key:/ { split($2, k, " "); t = k[1] }
		/^Application protocol:/ { a = $2 }
		END { if (p != "") print p " " c " " t " " a }' "$out")
}

# run_s_time NAME PORT: TLS 1.3 resumptions for TLS_RESUME_SECS, one
# HTTP/1.0 GET / each: openssl s_time -reuse makes one full handshake, then
# resumes that session on every new connection (its ticket is renewed each
# time).  Sets the H_* run_h2load sets; a connection that did not resume
# ('*' past the first) counts as failed.
run_s_time() {
	local name=$1 port=$2 out t0 t1 full
	out="$TMP/s_time-$name.txt"
	t0=$(date +%s.%N)
	taskset -c "$LOAD_CPU" timeout "$RUN_TIMEOUT" openssl s_time \
		-connect "127.0.0.1:$port" -reuse -www / -time "$TLS_RESUME_SECS" \
		-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 >"$out" 2>&1
	H_RC=$?
	t1=$(date +%s.%N)
	H_OK=$(grep -E '^[r*]+$' "$out" | tr -cd 'r' | wc -c)
	full=$(grep -E '^[r*]+$' "$out" | tr -cd '*' | wc -c)
	H_FAIL=$(( full > 1 ? full - 1 : 0 ))
	H_TOTAL=$((H_OK + H_FAIL))
	H_ERR=0; H_NON2XX=0; H_TLS=
	grep -q ' connections in .* bytes read per connection' "$out" || H_OK=0
	H_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	H_RPS=$(awk -v n="$H_OK" -v s="$H_SECS" 'BEGIN {
		if (s > 0 && n > 0) printf "%.2f", n / s; else print "" }')
}

# ================================================================ cleartext
#  name        path     h2load args
SCENARIOS=(
	"get-m1|/|-m 1"
	"get-m10|/|-m 10"
	"1k-m1|/1k.txt|-m 1"
)

# bench_proxy LABEL PID PORT
bench_proxy() {
	local label=$1 pid=$2 port=$3 sc name path args t0 t1 cpu_us l0 l1 p0 p1 busy
	run_h2load "$label-warmup" "http://127.0.0.1:$port/" --h1 -n "$WARMUP_N" -c 10 -m 1
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
		run_h2load "$label-$name" "http://127.0.0.1:$port$path" --h1 -n "$N" -c "$C" $args
		t1=$(cpu_ticks "$pid")
		l1=$(cpu_jiffies "$LOAD_CPU"); p1=$(cpu_jiffies "$PROXY_CPU")
		busy="$(busy_pct "$LOAD_CPU" "$l0" "$l1")/$(busy_pct "$PROXY_CPU" "$p0" "$p1")/$(proxy_pct "$t0" "$t1" "$p0" "$p1")"
		note_shared "$label" "$name" "$busy"
		if [ -z "$H_RPS" ]; then
			# h2load refused the options or was killed by timeout: skip it.
			echo "$label $name: no h2load summary (rc=$H_RC); last lines:" >>"$ODD"
			tail -n 3 "$TMP/h2load-$label-$name.txt" | sed 's/^/    /' >>"$ODD"
			printf '%s|%s|%s|%s|%s|%s\n' "$label" "$name" "-" "-|-" "skipped" "-" >>"$RESULTS"
			continue
		fi
		cpu_us=$(cpu_per_req "$t0" "$t1" "${H_OK:-0}")
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
	run_h2load "direct-$name" "http://127.0.0.1:$NGINX_PORT$path" --h1 -n "$N" -c "$C" $args
	l1=$(cpu_jiffies "$LOAD_CPU"); p1=$(cpu_jiffies "$PROXY_CPU")
	busy="$(busy_pct "$LOAD_CPU" "$l0" "$l1")/$(busy_pct "$PROXY_CPU" "$p0" "$p1")/-"
	printf '%s|%s|%s|%s|%s|%s|%s\n' "direct" "$name" "${H_RPS:--}" "-|-" \
		"${H_FAIL:-?}" "$H_NON2XX" "$busy" >>"$RESULTS"
done

# ---------------------------------------------------------------- portico
# started as root, portico refuses to serve without a "user" line
PORTICO_USER=
[ "$(id -u)" != 0 ] || PORTICO_USER="user root"
mkdir -p "$TMP/portico"
PORTICO_PORT=$(free_port)
cat >"$TMP/portico/portico.conf" <<EOF
$PORTICO_USER
workers 1
listen 127.0.0.1:$PORTICO_PORT
backend origin {
	server 127.0.0.1:$NGINX_PORT
}
backend origin_unix {
	server unix:$NGINX_SOCK
}
route * origin
route */u/ origin_unix
access_log off
error_log stderr warn
backend_keepalive 64
# as nginx (100000) and nghttpx (no limit): do not close client connections
# in the middle of a run
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
		echo "portico (cleartext) error log ($(wc -l <"$TMP/portico/stderr.log") lines), first 10:"
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
		echo "nghttpx (cleartext) error log ($(wc -l <"$TMP/nghttpx/error-run.log") lines), first 5:"
		head -n 5 "$TMP/nghttpx/error-run.log" | sed 's/^/    /'
	} >>"$ODD"
fi

# ================================================================ TLS
# One self-signed ECDSA P-256 certificate for every proxy.  Every proxy is
# set to TLS 1.3 only, X25519 and TLS_AES_128_GCM_SHA256 where it has the
# knob, and h2load offers only those, so every proxy negotiates the same
# (checked: the "negotiated" lines of the report come from h2load).
TLSDIR=$TMP/tls
mkdir -p "$TLSDIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TLSDIR/key.pem" -out "$TLSDIR/cert.pem" -days 2 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	>"$TLSDIR/openssl.log" 2>&1 || {
	cat "$TLSDIR/openssl.log" >&2
	die "openssl could not make a certificate"
}
cat "$TLSDIR/cert.pem" "$TLSDIR/key.pem" >"$TLSDIR/combined.pem"
chmod 644 "$TLSDIR"/*.pem
CERT=$TLSDIR/cert.pem
KEY=$TLSDIR/key.pem
H2LOAD_TLS=(--tls13-ciphers=TLS_AES_128_GCM_SHA256 --groups=X25519)

#  name          path      h2load args (h2 unless --h1)
TLS_SCENARIOS=(
	"h2-get|/|-n $TLS_H2_N -c 64 -m 10"
	"h1-get|/|--h1 -n $TLS_H1_N -c 64 -m 1"
	"h2-get-unix|/u/|-n $TLS_H2_N -c 64 -m 10"
	"h1-get-unix|/u/|--h1 -n $TLS_H1_N -c 64 -m 1"
	"h2-down-1m|/1m.bin|-n $TLS_BIG_N -c 16 -m 1"
	"h2-up-1m|/upload|-d $TMP/upload-1m.bin -n $TLS_BIG_N -c 16 -m 1"
	"handshake|/|rounds"
	"resume|/|resume"
)

# Each start_X sets SP_PID, SP_PORT, SP_LOG (the log read for the notes,
# emptied at each start), SP_VERSION, and returns non-zero (after a note)
# when X cannot run.  SP_WRAP, empty but for the callgrind runs, goes in
# front of the proxy's command.  Every proxy may hold MAXCONN client
# connections, and keeps an idle one 300 s (the idle sweep opens thousands
# one after the other and holds the first until the last is open).
SP_WRAP=()

# shellcheck disable=SC2317  # called as "start_$label"
start_portico() {
	local d=$TMP/portico-tls
	mkdir -p "$d"
	SP_PORT=$(free_port)
	cat >"$d/portico.conf" <<EOF
$PORTICO_USER
workers 1
listen 127.0.0.1:$SP_PORT tls
tls {
	certificate $CERT $KEY
	protocols TLSv1.3
	groups X25519
	ciphersuites TLS_AES_128_GCM_SHA256
}
backend origin {
	server 127.0.0.1:$NGINX_PORT
}
route * origin
access_log off
error_log stderr warn
backend_keepalive $BACKEND_KEEPALIVE
keepalive_requests 100000
keepalive_timeout 300s
max_connections $MAXCONN
# as nghttpx's default (nginx's is 60s): under valgrind on a busy machine
# the default 5s can pass before the loop sees a local connect complete
backend_connect_timeout 30s
EOF
	"$PORTICO" -t -c "$d/portico.conf" >"$d/check.log" 2>&1 || {
		echo "portico refused the TLS config:" >>"$ODD"
		sed 's/^/    /' "$d/check.log" >>"$ODD"
		return 1
	}
	taskset -c "$PROXY_CPU" ${SP_WRAP[@]+"${SP_WRAP[@]}"} "$PORTICO" -c "$d/portico.conf" \
		>"$d/stdout.log" 2>"$d/stderr.log" &
	SP_PID=$!
	SP_LOG=$d/stderr.log
	SP_VERSION=$("$PORTICO" -v 2>&1 | head -1)
	return 0
}

# shellcheck disable=SC2317  # called as "start_$label"
start_nghttpx() {
	local d=$TMP/nghttpx-tls
	mkdir -p "$d"
	SP_PORT=$(free_port)
	: >"$d/error.log"
	taskset -c "$PROXY_CPU" ${SP_WRAP[@]+"${SP_WRAP[@]}"} nghttpx --conf=/dev/null \
		"--frontend=127.0.0.1,$SP_PORT" \
		"--backend=127.0.0.1,$NGINX_PORT;;proto=http/1.1" \
		"--backend=unix:$NGINX_SOCK;/u/;proto=http/1.1" \
		--workers=1 --no-ocsp \
		--tls-min-proto-version=TLSv1.3 --ecdh-curves=X25519 \
		--tls13-ciphers=TLS_AES_128_GCM_SHA256 \
		--errorlog-file="$d/error.log" --log-level=WARN \
		--backend-keep-alive-timeout=60s \
		--frontend-http2-read-timeout=300s \
		--add-x-forwarded-for --no-via \
		--pid-file="$d/nghttpx.pid" \
		"$KEY" "$CERT" >"$d/stdout.log" 2>&1 &
	SP_PID=$!
	SP_LOG=$d/error.log
	SP_VERSION=$(nghttpx --version | head -1)
	return 0
}

# shellcheck disable=SC2317  # called as "start_$label"
start_nginx() {
	local d=$TMP/nginx-proxy
	mkdir -p "$d"
	SP_PORT=$(free_port)
	# proxy_max_temp_file_size 0 and proxy_request_buffering off: stream
	# bodies through memory buffers as the other proxies do, instead of
	# spooling 1 MiB bodies to temporary files
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections $((MAXCONN + INFLIGHT + 1024)); }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    keepalive_requests 100000;
    keepalive_timeout 300s;
    upstream origin {
        server 127.0.0.1:$NGINX_PORT;
        keepalive $BACKEND_KEEPALIVE;
        keepalive_timeout 60s;
        keepalive_requests 100000;
    }
    upstream origin_unix {
        server unix:$NGINX_SOCK;
        keepalive $BACKEND_KEEPALIVE;
        keepalive_timeout 60s;
        keepalive_requests 100000;
    }
    server {
        listen 127.0.0.1:$SP_PORT ssl http2 backlog=4096;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.3;
        ssl_ecdh_curve X25519;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
        client_max_body_size 2m;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_request_buffering off;
            proxy_max_temp_file_size 0;
        }
        location /u/ {
            proxy_pass http://origin_unix;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto https;
        }
    }
}
EOF
	: >"$d/error.log"
	taskset -c "$PROXY_CPU" ${SP_WRAP[@]+"${SP_WRAP[@]}"} nginx -p "$d" -e "$d/error.log" \
		-c "$d/nginx.conf" >"$d/stdout.log" 2>&1 &
	SP_PID=$!
	SP_LOG=$d/error.log
	SP_VERSION="nginx $(nginx -v 2>&1 | sed 's/.*\///')"
	return 0
}

# shellcheck disable=SC2317  # called as "start_$label"
start_haproxy() {
	command -v haproxy >/dev/null 2>&1 || { echo "haproxy: not installed, skipped" >>"$ODD"; return 1; }
	local d=$TMP/haproxy
	mkdir -p "$d"
	SP_PORT=$(free_port)
	cat >"$d/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn $MAXCONN
    ssl-default-bind-options ssl-min-ver TLSv1.3
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256
defaults
    mode http
    timeout connect 30s
    timeout client 300s
    timeout server 60s
    timeout http-keep-alive 300s
    http-reuse always
    option forwardfor
frontend fe
    bind 127.0.0.1:$SP_PORT ssl crt $TLSDIR/combined.pem alpn h2,http/1.1 curves X25519
    http-request set-header X-Forwarded-Proto https
    use_backend be_unix if { path_beg /u/ }
    default_backend be
backend be
    server origin 127.0.0.1:$NGINX_PORT
backend be_unix
    server origin_unix $NGINX_SOCK
EOF
	haproxy -c -f "$d/haproxy.cfg" >"$d/check.log" 2>&1 || {
		echo "haproxy refused its config, skipped:" >>"$ODD"
		sed 's/^/    /' "$d/check.log" >>"$ODD"
		return 1
	}
	taskset -c "$PROXY_CPU" ${SP_WRAP[@]+"${SP_WRAP[@]}"} haproxy -db -f "$d/haproxy.cfg" \
		>"$d/stdout.log" 2>&1 &
	SP_PID=$!
	SP_LOG=$d/stdout.log
	SP_VERSION="haproxy $(haproxy -v 2>&1 | head -1 | awk '{print $3}')"
	return 0
}

# shellcheck disable=SC2317  # called as "start_$label"
start_h2o() {
	command -v h2o >/dev/null 2>&1 || { echo "h2o: not installed, skipped" >>"$ODD"; return 1; }
	local d=$TMP/h2o
	mkdir -p "$d"
	SP_PORT=$(free_port)
	# user: as root, h2o would switch to nobody, who cannot read $TMP;
	# proxy.timeout.keepalive: keep idle origin connections 60 s (default 2 s)
	local user=
	[ "$(id -u)" != 0 ] || user="user: root"
	cat >"$d/h2o.conf" <<EOF
$user
num-threads: 1
max-connections: $MAXCONN
http2-idle-timeout: 300
error-log: $d/error.log
listen:
  host: 127.0.0.1
  port: $SP_PORT
  ssl:
    certificate-file: $CERT
    key-file: $KEY
    minimum-version: TLSv1.3
    ocsp-update-interval: 0
proxy.timeout.keepalive: 60000
hosts:
  default:
    paths:
      /:
        proxy.reverse.url: http://127.0.0.1:$NGINX_PORT/
      /u/:
        proxy.reverse.url: http://[unix:$NGINX_SOCK]/u/
        proxy.preserve-host: ON
EOF
	h2o -t -c "$d/h2o.conf" >"$d/check.log" 2>&1 || {
		echo "h2o refused its config, skipped:" >>"$ODD"
		sed 's/^/    /' "$d/check.log" >>"$ODD"
		return 1
	}
	: >"$d/error.log"
	taskset -c "$PROXY_CPU" ${SP_WRAP[@]+"${SP_WRAP[@]}"} h2o -c "$d/h2o.conf" \
		>"$d/stdout.log" 2>&1 &
	SP_PID=$!
	SP_LOG=$d/error.log
	SP_VERSION=$(h2o --version 2>&1 | head -1)
	return 0
}

# Log lines that every start or stop of a peer writes and that say nothing
# about the run.
log_noise() {
	grep -v -e 'haproxy version is' -e 'path to executable is' \
		-e 'raised RLIMIT_NOFILE' -e 'is ready to serve requests' \
		-e 'received SIGTERM' -e 'IPC socket is closed' \
		-e 'killing all the remaining' -e 'Proxy fe started' -e 'Proxy be started'
}

# idle_mem LABEL PID PORT N OUT KEY: hold N idle h2 connections, append
# "KEY|RSS before|RSS while held|held|failed|KiB per connection" to OUT
idle_mem() {
	local label=$1 pid=$2 port=$3 n=$4 out=$5 key=$6 rdy rel r0 r1 py res ok fail per to
	if [ -z "$HAVE_PY" ]; then
		printf '%s|%s|-|-|-|-\n' "$key" "$(rss_kib "$pid")" >>"$out"
		return
	fi
	rdy=$TMP/idle-$label-$n.ready; rel=$TMP/idle-$label-$n.release
	rm -f "$rdy" "$rel"
	# opening is sequential, a few ms a connection: allow for it
	to=$((RUN_TIMEOUT + n / 20))
	r0=$(rss_kib "$pid")
	taskset -c "$LOAD_CPU" timeout "$to" python3 "$HERE/idle_h2.py" \
		127.0.0.1 "$port" "$n" "$rdy" "$rel" "$to" \
		>"$TMP/idle-$label-$n.log" 2>&1 &
	py=$!
	for _ in $(seq 1 $((to * 10))); do
		[ -e "$rdy" ] && break
		kill -0 "$py" 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.5
	r1=$(rss_kib "$pid")
	touch "$rel"
	wait "$py"
	res=$(cat "$rdy" 2>/dev/null)
	ok=$(awk '{print $1}' <<<"$res"); fail=$(awk '{print $2}' <<<"$res")
	if [ -z "$ok" ]; then
		echo "$label $n idle connections: idle_h2.py gave no result:" >>"$ODD"
		tail -n 3 "$TMP/idle-$label-$n.log" | sed 's/^/    /' >>"$ODD"
		printf '%s|%s|-|-|-|-\n' "$key" "$r0" >>"$out"
		return
	fi
	[ "$fail" = 0 ] || echo "$label idle connections: $fail of $n failed ($(cut -d' ' -f3- <<<"$res"))" >>"$ODD"
	per=$(awk -v a="$r0" -v b="$r1" -v n="$ok" 'BEGIN {
		if (n > 0) printf "%.1f", (b - a) / n; else print "-" }')
	printf '%s|%s|%s|%s|%s|%s\n' "$key" "$r0" "$r1" "$ok" "$fail" "$per" >>"$out"
	sleep 0.5    # let the proxy notice the closes before the next run
}

# tls_record LABEL NAME T0 T1 L0 L1 P0 P1 OK RPS
tls_record() {
	local label=$1 name=$2 busy cpu_us faults
	busy="$(busy_pct "$LOAD_CPU" "$5" "$6")/$(busy_pct "$PROXY_CPU" "$7" "$8")/$(proxy_pct "$3" "$4" "$7" "$8")"
	note_shared "$label" "$name" "$busy"
	cpu_us=$(cpu_per_req "$3" "$4" "$9")
	# minor page faults per request: memory the proxy gave back to the
	# kernel and touches again (or first touches) costs kernel time
	faults=$(awk -v a="$3" -v b="$4" -v n="$9" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (n > 0) printf "%.2f", (y[3] - x[3]) / n; else print "-" }')
	printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$label" "$name" "${10}" "$cpu_us" \
		"${H_FAIL:-?}" "$H_NON2XX" "$busy" "$faults" >>"$TLS_RESULTS"
}

# tls_warmup LABEL PORT: h2 then http/1.1 warm-ups; sets W_NEG "h2; h1",
# what h2load negotiated
tls_warmup() {
	local label=$1 url="https://127.0.0.1:$2" neg2
	run_h2load "$label-tls-warmup-h2" "$url/" "${H2LOAD_TLS[@]}" -n "$WARMUP_N" -c 10 -m 1
	if [ -z "$H_RPS" ] || [ "${H_FAIL:-0}" != 0 ]; then
		echo "$label$PHASE h2 warm-up: rc=$H_RC rps=${H_RPS:-none} failed=${H_FAIL:-?}" >>"$ODD"
	fi
	neg2=$H_TLS
	run_h2load "$label-tls-warmup-h1" "$url/" "${H2LOAD_TLS[@]}" --h1 -n "$WARMUP_N" -c 10 -m 1
	if [ -z "$H_RPS" ] || [ "${H_FAIL:-0}" != 0 ]; then
		echo "$label$PHASE h1 warm-up: rc=$H_RC rps=${H_RPS:-none} failed=${H_FAIL:-?}" >>"$ODD"
	fi
	W_NEG="${neg2:-none}|${H_TLS:-none}"
}

# the growth sweep's h2-get runs, after the others (so that the many
# backend connections of the largest are not left behind for them)
SWEEP_SCENARIOS=()
for c in $SWEEP_C; do
	SWEEP_SCENARIOS+=("h2-c$c|/|-n $SWEEP_N -c $c -m 10")
done

# bench_tls LABEL PID PORT
bench_tls() {
	local label=$1 pid=$2 port=$3 sc name path args t0 t1 l0 l1 p0 p1 rounds
	local ok fail err non2xx secs rps i url
	url="https://127.0.0.1:$port"
	tls_warmup "$label" "$port"
	printf '%s|%s\n' "$label" "$W_NEG" >>"$NEGOTIATED"

	idle_mem "$label" "$pid" "$port" "$IDLE_N" "$MEM_RESULTS" "$label"

	for sc in "${TLS_SCENARIOS[@]}" ${SWEEP_SCENARIOS[@]+"${SWEEP_SCENARIOS[@]}"}; do
		IFS='|' read -r name path args <<<"$sc"
		if ! kill -0 "$pid" 2>/dev/null || is_zombie "$pid"; then
			echo "$label: process $pid died before $name" >>"$ODD"
			printf '%s|%s|-|-|-|dead|-|-\n' "$label" "$name" >>"$TLS_RESULTS"
			continue
		fi
		t0=$(cpu_ticks "$pid")
		l0=$(cpu_jiffies "$LOAD_CPU"); p0=$(cpu_jiffies "$PROXY_CPU")
		if [ "$args" = rounds ]; then
			# full handshakes: h2load resumes TLS sessions when it
			# reconnects, but each of -c clients starts with none, so
			# -n C -c C (one h2 request per new connection), repeated
			rounds=$(( (TLS_HS_N + TLS_HS_C - 1) / TLS_HS_C ))
			ok=0; fail=0; err=0; non2xx=0; secs=0
			for i in $(seq 1 "$rounds"); do
				run_h2load "$label-$name-$i" "$url$path" "${H2LOAD_TLS[@]}" \
					-n "$TLS_HS_C" -c "$TLS_HS_C" -m 1
				ok=$((ok + ${H_OK:-0})); fail=$((fail + ${H_FAIL:-TLS_HS_C}))
				err=$((err + H_ERR)); non2xx=$((non2xx + H_NON2XX))
				secs=$(awk -v a="$secs" -v b="${H_SECS:-0}" 'BEGIN { print a + b }')
				[ "$H_RC" = 0 ] || echo "$label $name round $i: h2load exited $H_RC" >>"$ODD"
			done
			H_OK=$ok; H_FAIL=$fail; H_ERR=$err; H_NON2XX=$non2xx
			H_TOTAL=$((rounds * TLS_HS_C))
			rps=$(awk -v n="$ok" -v s="$secs" 'BEGIN {
				if (s > 0 && n > 0) printf "%.2f", n / s; else print "" }')
			H_RPS=$rps
		elif [ "$args" = resume ]; then
			run_s_time "$label-$name" "$port"
		else
			# shellcheck disable=SC2086
			run_h2load "$label-$name" "$url$path" "${H2LOAD_TLS[@]}" $args
			[ "$H_RC" = 0 ] || [ -z "$H_RPS" ] || echo "$label $name: h2load exited $H_RC" >>"$ODD"
		fi
		t1=$(cpu_ticks "$pid")
		l1=$(cpu_jiffies "$LOAD_CPU"); p1=$(cpu_jiffies "$PROXY_CPU")
		if [ -z "$H_RPS" ]; then
			echo "$label $name: no h2load summary (rc=$H_RC); last lines:" >>"$ODD"
			tail -n 3 "$TMP/h2load-$label-$name"*.txt 2>/dev/null | sed 's/^/    /' >>"$ODD"
			printf '%s|%s|-|-|-|skipped|-|-\n' "$label" "$name" >>"$TLS_RESULTS"
			continue
		fi
		if [ "${H_FAIL:-0}" != 0 ] || [ "$H_ERR" != 0 ] || [ "$H_NON2XX" != 0 ]; then
			echo "$label $name: failed=$H_FAIL errored+timeout=$H_ERR non-2xx=$H_NON2XX of $H_TOTAL" >>"$ODD"
		fi
		tls_record "$label" "$name" "$t0" "$t1" "$l0" "$l1" "$p0" "$p1" "${H_OK:-0}" "$H_RPS"
	done
}

# proxy_up LABEL [TRIES]: start it (start_LABEL) and wait up to TRIES x
# 50 ms for its port; leaves SP_PID, SP_PORT, SP_LOG, SP_VERSION.  Returns
# non-zero, after a note naming PHASE, when it cannot run.
PHASE=
proxy_up() {
	local label=$1 tries=${2:-100} rc
	SP_PID=; SP_PORT=; SP_LOG=; SP_VERSION=
	"start_$label"
	rc=$?
	# whatever was started is stopped by the trap, even if start failed
	[ -z "$SP_PID" ] || PIDS+=("$SP_PID")
	if [ "$rc" != 0 ] || [ -z "$SP_PID" ]; then
		[ -z "$SP_PID" ] || stop_pid "$SP_PID"
		return 1
	fi
	if ! wait_port "$SP_PORT" "$SP_PID" "$tries"; then
		{
			echo "$label$PHASE did not start on port $SP_PORT, skipped; its output:"
			cat "$(dirname "$SP_LOG")"/*.log 2>/dev/null | tail -n 5 | sed 's/^/    /'
		} >>"$ODD"
		stop_pid "$SP_PID"
		return 1
	fi
	sleep 0.3
	return 0
}

# proxy_down LABEL PID LOG [TRIES]: stop it (waiting up to TRIES tenths of
# a second), put its log in the notes; returns 1 if it exited before the
# stop or had to be killed
proxy_down() {
	local label=$1 pid=$2 log=$3 tries=${4:-50} rc=0
	if ! kill -0 "$pid" 2>/dev/null || is_zombie "$pid"; then
		wait "$pid"
		echo "$label$PHASE exited during the runs (status $?)" >>"$ODD"
		rc=1
	fi
	# read the log before the stop: some peers log their shutdown
	cp "$log" "$log.run" 2>/dev/null || : >"$log.run"
	if ! stop_pid "$pid" "$tries"; then
		echo "$label$PHASE did not exit within $((tries / 10)) s of SIGTERM: killed" >>"$ODD"
		rc=1
	fi
	if [ "$label" = portico ]; then
		# portico's whole log, shutdown included, is a finding
		cp "$log" "$log.run" 2>/dev/null
	fi
	log_noise <"$log.run" >"$log.notes"
	if [ -s "$log.notes" ]; then
		{
			echo "$label$PHASE log ($(wc -l <"$log.notes") lines besides start/stop notices), first 10:"
			head -n 10 "$log.notes" | sed 's/^/    /'
		} >>"$ODD"
	fi
	return "$rc"
}

# tls_proxy LABEL: start it, bench it, stop it, read its log
TLS_LABELS=()
tls_proxy() {
	local label=$1 pid
	PHASE=" (TLS)"
	proxy_up "$label" || return 0
	pid=$SP_PID
	TLS_LABELS+=("$label")
	bench_tls "$label" "$pid" "$SP_PORT"
	# processes counted after the runs: h2o forks its key-holding helper
	# only when it first needs it
	echo "$label|$SP_VERSION|$(nprocs "$pid")" >>"$VERSIONS"
	proxy_down "$label" "$pid" "$SP_LOG"
	PHASE=
}

# idle_sweep LABEL: for each count of BENCH_SWEEP_IDLE, a fresh start of
# the proxy, the warm-ups, then the count held idle
idle_sweep() {
	local label=$1 n pid
	for n in $SWEEP_IDLE; do
		PHASE=" (TLS, idle sweep, $n)"
		proxy_up "$label" || continue
		pid=$SP_PID
		tls_warmup "$label" "$SP_PORT"
		idle_mem "$label" "$pid" "$SP_PORT" "$n" "$SWEEP_MEM" "$n|$label"
		proxy_down "$label" "$pid" "$SP_LOG"
	done
	PHASE=
}

# cg_objects FILE...: "object Ir" for each object (shared library or
# executable) of callgrind output files, its self cost summed; the sum over
# objects is the files' summary.  (callgrind_annotate leaves the object off
# lines of inlined code, so the files are read directly: "ob=" sets the
# object of the cost lines that follow, "cob=" only names one, and the cost
# line after "calls=" is the inclusive cost of a call, not self cost.)
cg_objects() {
	awk '
		function obname(v,   id, name) {
			if (match(v, /^\([0-9]+\)/)) {
				id = substr(v, 2, RLENGTH - 2); name = substr(v, RLENGTH + 1)
				sub(/^ +/, "", name)
				if (name != "") nm[FILENAME, id] = name
				return nm[FILENAME, id]
			}
			return v
		}
		FNR == 1 { ob = "?"; skip = 0 }
		/^ob=/ { ob = obname(substr($0, 4)); next }
		/^cob=/ { obname(substr($0, 5)); next }
		/^calls=/ { skip = 1; next }
		/^[0-9+*-]/ {
			if (skip) { skip = 0; next }
			ir[ob] += $2
			next
		}
		END { for (o in ir) print o, ir[o] }' "$@"
}

# cg_total FILE...: Ir summed over callgrind files (their "summary:" line,
# or "totals:" if there is none); empty if there is no file
cg_total() {
	[ $# -gt 0 ] && [ -e "$1" ] || return 0
	awk '
		FNR == 1 { if (seen) tot += v; v = ""; seen = 1; have = 0 }
		/^summary:/ { v = $2; have = 1 }
		/^totals:/ && !have { v = $2 }
		END { if (seen) { tot += v; printf "%.0f\n", tot } }' "$@"
}

# cg_run LABEL N: LABEL under callgrind (every process it forks or execs,
# one output file each), N h2 GETs as h2-get does them; sets CG_DIR to the
# directory of the output files, or empty on failure (after a note)
cg_run() {
	local label=$1 n=$2 d pid ok=1
	CG_DIR=
	# valgrind runs each instruction some 50 times slower
	local RUN_TIMEOUT=$((RUN_TIMEOUT * 5))
	d=$TMP/cg-$label-$n
	mkdir -p "$d"
	SP_WRAP=(valgrind --tool=callgrind "--callgrind-out-file=$d/cg.%p"
		"--log-file=$d/valgrind.%p.log" --dump-instr=no --trace-children=yes)
	PHASE=" (TLS, callgrind, $n requests)"
	proxy_up "$label" 1200 || ok=
	SP_WRAP=()
	if [ -z "$ok" ]; then
		{
			echo "$label$PHASE: valgrind's last lines:"
			cat "$d"/valgrind.*.log 2>/dev/null | tail -n 5 | sed 's/^/    /'
		} >>"$ODD"
		PHASE=
		return 0
	fi
	pid=$SP_PID
	run_h2load "$label-cg-$n" "https://127.0.0.1:$SP_PORT/" "${H2LOAD_TLS[@]}" -n "$n" -c 64 -m 10
	if [ "${H_OK:-0}" != "$n" ]; then
		echo "$label$PHASE: ${H_OK:-0} of $n requests succeeded (h2load rc=$H_RC), no callgrind row" >>"$ODD"
		ok=
	fi
	# callgrind writes its files when the process exits: wait for that
	proxy_down "$label" "$pid" "$SP_LOG" 600 || ok=
	PHASE=
	[ -z "$ok" ] || CG_DIR=$d
	return 0
}

# callgrind LABEL: Ir per request = (Ir(N2) - Ir(N1)) / (N2 - N1); for
# portico also split by object
callgrind() {
	local label=$1 d1 d2 i1 i2
	cg_run "$label" "$CG_N1"
	d1=$CG_DIR
	[ -n "$d1" ] || return 0
	cg_run "$label" "$CG_N2"
	d2=$CG_DIR
	[ -n "$d2" ] || return 0
	i1=$(cg_total "$d1"/cg.*); i2=$(cg_total "$d2"/cg.*)
	if [ -z "$i1" ] || [ -z "$i2" ]; then
		echo "$label (callgrind): no output file, no row" >>"$ODD"
		return 0
	fi
	local files=("$d1"/cg.*)
	awk -v l="$label" -v a="$i1" -v b="$i2" -v n1="$CG_N1" -v n2="$CG_N2" -v f1="${#files[@]}" \
		'BEGIN { printf "%s|%.0f|%.0f|%.0f|%s\n", l, a, b, (b - a) / (n2 - n1), f1 }' >>"$CG_RESULTS"
	[ "$label" = portico ] || return 0
	{ cg_objects "$d1"/cg.* | sed 's/^/1 /'; cg_objects "$d2"/cg.* | sed 's/^/2 /'; } |
		awk -v n1="$CG_N1" -v n2="$CG_N2" '
		{
			o = $2; sub(/.*\//, "", o)
			if (o ~ /^portico/) g = "portico"
			else if (o ~ /^libnghttp2\./) g = "libnghttp2"
			else if (o ~ /^libevent/) g = "libevent"
			else if (o ~ /^libc\.so/) g = "libc"
			else if (o ~ /^libcrypto\./) g = "libcrypto"
			else if (o ~ /^libssl\./) g = "libssl"
			else g = "other"
			ir[$1, g] += $3
		}
		END {
			split("portico libnghttp2 libevent libc libcrypto libssl other", G, " ")
			for (i = 1; i <= 7; i++)
				printf "%s|%.0f|%.0f|%.0f\n", G[i], ir[1, G[i]], ir[2, G[i]],
					(ir[2, G[i]] - ir[1, G[i]]) / (n2 - n1)
		}' >"$CG_SPLIT"
}

tls_proxy portico
for peer in $PEERS; do
	case $peer in
	nghttpx|nginx|haproxy|h2o) tls_proxy "$peer" ;;
	*) echo "unknown peer '$peer' in BENCH_PEERS, skipped" >>"$ODD" ;;
	esac
done
if [ -n "$SWEEP_IDLE" ]; then
	for label in "${TLS_LABELS[@]}"; do idle_sweep "$label"; done
fi
if [ "$CALLGRIND" != 0 ]; then
	for label in "${TLS_LABELS[@]}"; do callgrind "$label"; done
fi

# origin errors affect every proxy alike, but are worth knowing
if [ -s "$TMP/nginx/error.log" ]; then
	{
		echo "origin nginx error log ($(wc -l <"$TMP/nginx/error.log") lines), first 5:"
		head -n 5 "$TMP/nginx/error.log" | sed 's/^/    /'
	} >>"$ODD"
fi

if [ -s "$SHARED" ]; then
	{
		echo "CPU$PROXY_CPU busy% well above the proxy's own share (something else ran there;"
		echo "req/s understated, CPU per request less affected) in $(wc -l <"$SHARED") run(s):"
		paste -sd, "$SHARED" | sed 's/,/, /g' | fold -s -w 76 | sed 's/^/    /'
	} >>"$ODD"
fi

# ---------------------------------------------------------------- report
# tls_table: rows "scenario|proxy|req/s|cpu|usr/sys|faults|failed|non2xx|busy"
# with, for req/s and CPU, the ratio to the best of the other proxies.
tls_table() {
	awk -F'|' -v order="${TLS_LABELS[*]}" -v scen="$1" '
		{ lab[NR] = $1; sc[NR] = $2; rps[NR] = $3; cpu[NR] = $4; us[NR] = $5
		  fl[NR] = $6; nx[NR] = $7; bz[NR] = $8; pf[NR] = ($9 == "" ? "-" : $9) }
		END {
			n = split(scen, S, " ")
			fmt = "%-11s  %-8s  %10s  %-16s  %7s  %-16s  %11s  %7s  %6s  %7s  %s\n"
			for (j = 1; j <= n; j++) {
				for (i = 1; i <= NR; i++) {
					if (sc[i] != S[j]) continue
					br = 0; bn = ""; bc = 0; bcn = ""
					for (k = 1; k <= NR; k++) {
						if (sc[k] != S[j] || k == i) continue
						if (rps[k] + 0 > br) { br = rps[k] + 0; bn = lab[k] }
						if (cpu[k] + 0 > 0 && (bc == 0 || cpu[k] + 0 < bc)) { bc = cpu[k] + 0; bcn = lab[k] }
					}
					rr = (rps[i] + 0 > 0 && br > 0) ? sprintf("%.2f %s", rps[i] / br, bn) : "-"
					cr = (cpu[i] + 0 > 0 && bc > 0) ? sprintf("%.2f %s", cpu[i] / bc, bcn) : "-"
					printf fmt, S[j], lab[i], rps[i], rr, cpu[i], cr, us[i], pf[i], fl[i], nx[i], bz[i]
				}
			}
		}' "$TLS_RESULTS"
}

# value of column $3 for proxy $1, scenario $2 in TLS_RESULTS
tls_val() {
	awk -F'|' -v p="$1" -v s="$2" -v c="$3" '$1 == p && $2 == s { print $c }' "$TLS_RESULTS"
}

{
	echo
	echo "portico bench: origin nginx $(nginx -v 2>&1 | sed 's/.*\///')" \
		"+ load generators on CPU $LOAD_CPU, proxy alone on CPU $PROXY_CPU"
	echo "$("$PORTICO" -v 2>&1 | head -1); $(nghttpx --version | head -1); $(h2load --version | head -1)"
	echo "CPU$LOAD_CPU/CPU$PROXY_CPU busy before the start: $QUIET%"
	echo
	echo "== cleartext HTTP/1.1: h2load --h1 -n $N -c $C"
	echo
	fmt='%-8s  %-8s  %10s  %10s  %11s  %7s  %7s  %s\n'
	# shellcheck disable=SC2059
	printf "$fmt" proxy scenario "req/s" "CPU us/req" "(usr/sys)" failed non-2xx \
		"CPU$LOAD_CPU/CPU$PROXY_CPU/proxy %"
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

	echo
	echo "== TLS 1.3, ECDSA P-256, X25519, TLS_AES_128_GCM_SHA256; backend HTTP/1.1 keep-alive"
	echo "   h2-get     h2load -n $TLS_H2_N -c 64 -m 10, GET / (3-byte body)"
	echo "   h1-get     h2load --h1 -n $TLS_H1_N -c 64, GET /"
	echo "   h2-get-unix, h1-get-unix: the same, GET /u/, routed to the origin's unix socket"
	echo "   h2-down-1m h2load -n $TLS_BIG_N -c 16, GET of 1 MiB"
	echo "   h2-up-1m   h2load -d (1 MiB) -n $TLS_BIG_N -c 16, POST of 1 MiB"
	echo "   handshake  $(( (TLS_HS_N + TLS_HS_C - 1) / TLS_HS_C )) x h2load -n $TLS_HS_C -c $TLS_HS_C:" \
		"one h2 GET per new connection, full handshake"
	echo "   resume     openssl s_time -reuse for $TLS_RESUME_SECS s: TLS 1.3 resumption" \
		"on each new connection, one HTTP/1.0 GET /"
	echo
	while IFS='|' read -r p v np; do
		printf '  %-8s %s (%s process%s)\n' "$p" "$v" "$np" "$([ "$np" = 1 ] || echo es)"
	done <"$VERSIONS"
	while IFS='|' read -r p n2 n1; do
		printf '  %-8s negotiated: %s; %s\n' "$p" "$n2" "$n1"
	done <"$NEGOTIATED"
	echo
	echo "'vs best peer': this proxy's figure divided by the best other proxy's (named);"
	echo "req/s above 1 and CPU below 1 mean better than every other proxy."
	echo
	fmt='%-11s  %-8s  %10s  %-16s  %7s  %-16s  %11s  %7s  %6s  %7s  %s\n'
	# shellcheck disable=SC2059
	printf "$fmt" scenario proxy "req/s" "vs best peer" "CPU us" "vs best peer" "(usr/sys)" \
		"flt/req" failed non-2xx "CPU$LOAD_CPU/CPU$PROXY_CPU/proxy %"
	# shellcheck disable=SC2059
	printf "$fmt" ----------- -------- ---------- ---------------- ------- ---------------- \
		----------- ------- ------ ------- -----------------
	scen=""
	for sc in "${TLS_SCENARIOS[@]}"; do scen="$scen ${sc%%|*}"; done
	tls_table "$scen"
	echo
	echo "idle HTTP/2 connections: $IDLE_N opened over TLS (preface and SETTINGS exchanged," \
		"no request), RSS of the process tree before and while they are held"
	echo
	fmt='%-8s  %11s  %11s  %6s  %6s  %9s  %s\n'
	# shellcheck disable=SC2059
	printf "$fmt" proxy "RSS KiB" "with idle" held failed "KiB/conn" "vs best peer"
	# shellcheck disable=SC2059
	printf "$fmt" -------- ----------- ----------- ------ ------ --------- ----------------
	awk -F'|' -v fmt="$fmt" '
		{ lab[NR] = $1; r0[NR] = $2; r1[NR] = $3; ok[NR] = $4; fl[NR] = $5; per[NR] = $6 }
		END {
			for (i = 1; i <= NR; i++) {
				b = ""; bn = ""
				for (k = 1; k <= NR; k++)
					if (k != i && per[k] != "-" && (b == "" || per[k] + 0 < b + 0)) { b = per[k]; bn = lab[k] }
				r = (per[i] != "-" && b != "" && b + 0 > 0) ? sprintf("%.2f %s", per[i] / b, bn) : "-"
				printf fmt, lab[i], r0[i], r1[i], ok[i], fl[i], per[i], r
			}
		}' "$MEM_RESULTS"
	if [ ${#SWEEP_SCENARIOS[@]} -gt 0 ]; then
		echo
		echo "growth, client connections: h2load -n $SWEEP_N -c C -m 10, GET / (as h2-get, after the"
		echo "other runs); each run includes its C full handshakes (see the handshake row)"
		echo
		fmt='%-11s  %-8s  %10s  %-16s  %7s  %-16s  %11s  %7s  %6s  %7s  %s\n'
		# shellcheck disable=SC2059
		printf "$fmt" scenario proxy "req/s" "vs best peer" "CPU us" "vs best peer" "(usr/sys)" \
			"flt/req" failed non-2xx "CPU$LOAD_CPU/CPU$PROXY_CPU/proxy %"
		# shellcheck disable=SC2059
		printf "$fmt" ----------- -------- ---------- ---------------- ------- ---------------- \
			----------- ------- ------ ------- -----------------
		scen=""
		for sc in "${SWEEP_SCENARIOS[@]}"; do scen="$scen ${sc%%|*}"; done
		tls_table "$scen"
	fi
	if [ -n "$SWEEP_IDLE" ]; then
		echo
		echo "growth, idle HTTP/2 connections: as above, each count on a fresh start of the proxy"
		echo "(after the two warm-ups)"
		echo
		fmt='%6s  %-8s  %11s  %11s  %6s  %6s  %9s  %s\n'
		# shellcheck disable=SC2059
		printf "$fmt" idle proxy "RSS KiB" "with idle" held failed "KiB/conn" "vs best peer"
		# shellcheck disable=SC2059
		printf "$fmt" ------ -------- ----------- ----------- ------ ------ --------- ----------------
		awk -F'|' -v fmt="$fmt" -v counts="$SWEEP_IDLE" '
			{ cnt[NR] = $1; lab[NR] = $2; r0[NR] = $3; r1[NR] = $4; ok[NR] = $5; fl[NR] = $6; per[NR] = $7 }
			END {
				m = split(counts, C, " ")
				for (j = 1; j <= m; j++)
					for (i = 1; i <= NR; i++) {
						if (cnt[i] != C[j]) continue
						b = ""; bn = ""
						for (k = 1; k <= NR; k++)
							if (k != i && cnt[k] == C[j] && per[k] != "-" && (b == "" || per[k] + 0 < b + 0)) { b = per[k]; bn = lab[k] }
						r = (per[i] != "-" && b != "" && b + 0 > 0) ? sprintf("%.2f %s", per[i] / b, bn) : "-"
						printf fmt, cnt[i], lab[i], r0[i], r1[i], ok[i], fl[i], per[i], r
					}
			}' "$SWEEP_MEM"
	fi
	if [ -n "$SWEEP_C$SWEEP_IDLE" ]; then
		echo
		echo "growth at a glance: CPU us/req of h2 GETs by client connections, KiB per idle"
		echo "connection by idle connections"
		echo
		awk -F'|' -v order="${TLS_LABELS[*]}" -v cs="$SWEEP_C" -v is="$SWEEP_IDLE" '
			FILENAME == ARGV[1] { if ($2 ~ /^h2-c[0-9]+$/) cpu[$1, substr($2, 5)] = $4; next }
			{ kib[$2, $1] = $7 }
			END {
				np = split(order, P, " "); nc = split(cs, C, " "); ni = split(is, I, " ")
				h = sprintf("%-8s", "proxy"); u = "--------"
				for (j = 1; j <= nc; j++) { h = h sprintf("  %9s", "c=" C[j]); u = u "  ---------" }
				if (nc && ni) { h = h "  |"; u = u "  |" }
				for (j = 1; j <= ni; j++) { h = h sprintf("  %9s", I[j] " idle"); u = u "  ---------" }
				print h; print u
				for (i = 1; i <= np; i++) {
					l = sprintf("%-8s", P[i])
					for (j = 1; j <= nc; j++) {
						v = cpu[P[i], C[j]]; l = l sprintf("  %9s", v == "" ? "-" : v)
					}
					if (nc && ni) l = l "  |"
					for (j = 1; j <= ni; j++) {
						v = kib[P[i], I[j]]; l = l sprintf("  %9s", v == "" ? "-" : v)
					}
					print l
				}
			}' "$TLS_RESULTS" "$SWEEP_MEM"
	fi
	if [ "$CALLGRIND" != 0 ]; then
		echo
		echo "instructions per request (callgrind, every process of the proxy): h2 GET as h2-get,"
		echo "h2load -c 64 -m 10 on a fresh start under valgrind, runs of $CG_N1 and $CG_N2 requests;"
		echo "Ir/req = (Ir($CG_N2) - Ir($CG_N1)) / $((CG_N2 - CG_N1)), so start-up and handshakes cancel"
		echo
		fmt='%-8s  %15s  %15s  %9s  %-16s  %s\n'
		# shellcheck disable=SC2059
		printf "$fmt" proxy "Ir ($CG_N1)" "Ir ($CG_N2)" "Ir/req" "vs best peer" processes
		# shellcheck disable=SC2059
		printf "$fmt" -------- --------------- --------------- --------- ---------------- ---------
		awk -F'|' -v fmt="$fmt" '
			{ lab[NR] = $1; a[NR] = $2; b[NR] = $3; per[NR] = $4; np[NR] = $5 }
			END {
				for (i = 1; i <= NR; i++) {
					bb = ""; bn = ""
					for (k = 1; k <= NR; k++)
						if (k != i && per[k] + 0 > 0 && (bb == "" || per[k] + 0 < bb + 0)) { bb = per[k]; bn = lab[k] }
					r = (per[i] + 0 > 0 && bb != "") ? sprintf("%.2f %s", per[i] / bb, bn) : "-"
					printf fmt, lab[i], a[i], b[i], per[i], r, np[i]
				}
			}' "$CG_RESULTS"
		if [ -s "$CG_SPLIT" ]; then
			echo
			echo "portico's Ir/req by object (self cost of each library's functions):"
			echo
			awk -F'|' '
				{ g[NR] = $1; v[NR] = $4; t += $4 }
				END {
					for (i = 1; i <= NR; i++)
						printf "  %-10s  %9.0f  %5.1f%%\n", g[i], v[i], (t > 0 ? v[i] * 100 / t : 0)
					printf "  %-10s  %9.0f\n", "total", t
				}' "$CG_SPLIT"
		fi
	fi
	echo
	echo "aims (issue 4; reported, not enforced):"
	pc=$(tls_val portico h2-get 4); nc=$(tls_val nghttpx h2-get 4)
	bc=$(awk -F'|' '$2 == "h2-get" && $1 != "portico" && $4 + 0 > 0 { print $4 }' "$TLS_RESULTS" | sort -g | head -1)
	awk -v p="$pc" -v n="$nc" -v b="$bc" 'BEGIN {
		if (p + 0 > 0 && n + 0 > 0)
			printf "  h2-get CPU/req portico/nghttpx    %5.2f  (aim <= 0.80: %s)\n", p / n, (p / n <= 0.8) ? "met" : "not met"
		if (p + 0 > 0 && b + 0 > 0)
			printf "  h2-get CPU/req portico/best peer  %5.2f  (aim < 1, lowest of all: %s)\n", p / b, (p < b) ? "met" : "not met" }'
	pm=$(awk -F'|' '$1 == "portico" { print $6 }' "$MEM_RESULTS")
	nm=$(awk -F'|' '$1 == "nghttpx" { print $6 }' "$MEM_RESULTS")
	awk -v p="$pm" -v n="$nm" 'BEGIN {
		if (p != "" && p != "-" && n != "" && n != "-" && n + 0 > 0)
			printf "  idle KiB/conn portico/nghttpx     %5.2f  (aim <= 1.00: %s)\n", p / n, (p / n <= 1) ? "met" : "not met" }'
	if [ -s "$ODD" ]; then
		echo
		echo "notes:"
		sed 's/^/  /' "$ODD"
	fi
} | tee "$TMP/report.txt"

exit 0
