#!/usr/bin/env bash
# `make bench-support`: 5,000 tickets opened in one burst through gunicorn beside the
# reservation-intake floor of the same run, and how long until every acknowledgement has
# been handed to a simulated SMS provider (50 ms a call, 100 messages/s) by a real Celery
# worker and beat. The private PostgreSQL and Redis of scripts/stack.sh, a separate database
# (preorder_shop_bench_support, recreated every run), Redis database 5, loopback only.
# Options go to the driver: make bench-support ARGS="--bursts 3 --concurrency 2"
# Figures go to stdout; wrk's output and the worker's, beat's and gunicorn's logs to
# .local/bench/.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

# The whole run is bounded: the driver gets this long, then it and its processes are stopped.
TIME_LIMIT="${BENCH_TIME_LIMIT:-900}"

DRIVER_PID=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null; then
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    # Should the driver die without stopping its processes, their pid files still name them.
    local pid_file="$LOCAL/bench/support-workers.pid" pid
    if [ -f "$pid_file" ]; then
        while read -r pid; do
            if grep -qs celery "/proc/$pid/cmdline"; then
                kill -KILL -- "-$pid" 2>/dev/null && say "Stopped a leftover Celery process ($pid)"
            fi
        done <"$pid_file"
        rm -f "$pid_file"
    fi
    pid_file="$LOCAL/bench/gunicorn.pid"
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
timeout --kill-after=30 "$TIME_LIMIT" "$PY" "$ROOT/bench/support.py" "$@" &
DRIVER_PID=$!
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
[ "$status" = 124 ] && say "Stopped at the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT)"
exit "$status"
