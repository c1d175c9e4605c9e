#!/usr/bin/env bash
# tests/origin/demo.sh: what `make demo` runs from the repo root: the test
# origin on 127.0.0.1:9080 and portico in front of it on 127.0.0.1:8080.
# Ctrl-C stops both; only the pids started here are signalled.
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

./portico -c config/portico.conf &
portico_pid=$!
echo "portico is running: try  curl http://127.0.0.1:8080/echo  (Ctrl-C stops)"

# Returns when either one exits; the EXIT trap stops the other.
wait -n "$origin_pid" "$portico_pid"
rc=$?
echo "demo: a process exited (status $rc); stopping" >&2
exit "$rc"
