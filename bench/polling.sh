#!/usr/bin/env bash
# `make bench-polling`: order status polling (full JSON and the 304 path) under load against
# a constant-JSON floor of the same run. The private PostgreSQL and Redis of
# scripts/stack.sh, a separate database (preorder_shop_bench_polling, recreated every run),
# Redis database 2, gunicorn on a free loopback port, wrk.
# Options go to the driver: make bench-polling ARGS="--reservations 1000000"
# Figures go to stdout; wrk's full output, gunicorn's log and the counted queries to
# .local/bench/.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

# The whole run is bounded: the driver gets this long, then it and gunicorn are stopped.
TIME_LIMIT="${BENCH_TIME_LIMIT:-2400}"

DRIVER_PID=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null; then
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    # Should the driver die without stopping gunicorn, its pid file still names it.
    local pid_file="$LOCAL/bench/gunicorn.pid" pid
    if [ -f "$pid_file" ]; then
        pid="$(cat "$pid_file")"
        if grep -qs gunicorn "/proc/$pid/cmdline"; then
            kill -TERM "$pid" && say "Stopped a leftover gunicorn ($pid)"
        fi
    fi
    stop_started_services
}
trap cleanup EXIT INT TERM

stack_prepare
ensure_package wrk wrk
# One benchmark at a time: they share gunicorn's pid file and the machine's two cores.
mkdir -p "$LOCAL/bench"
exec 9>"$LOCAL/bench/.lock"
flock 9

# In the background so that a signal reaches the trap (and through it the driver) at once.
# timeout passes a TERM it receives on to the driver.
timeout --kill-after=30 "$TIME_LIMIT" "$PY" "$ROOT/bench/polling.py" "$@" &
DRIVER_PID=$!
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
[ "$status" = 124 ] && say "Stopped at the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT)"
exit "$status"
