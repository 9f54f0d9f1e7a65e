#!/usr/bin/env bash
# `make bench-fulfillment`: FCFS allocation of 1,000,000 reservations against a bare-statement
# floor, the pipeline's received -> preparing throughput with two real Celery workers, and
# beat's allocation tick on the full ledger (idle, and after a few cancellations).
# The private PostgreSQL and Redis of scripts/stack.sh, a separate database
# (preorder_shop_bench_fulfillment, recreated every run), Redis database 3, loopback only.
# Options go to the driver: bash bench/fulfillment.sh --reservations 100000 --orders 20000
# Figures go to stdout; the workers' logs to .local/bench/fulfillment-*.log.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

# The whole run is bounded: the driver gets this long, then it and its workers are stopped.
TIME_LIMIT="${BENCH_TIME_LIMIT:-2400}"

DRIVER_PID=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null; then
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    # Should the driver die without stopping its workers, their pid file still names them.
    local pid_file="$LOCAL/bench/fulfillment-workers.pid" pid
    if [ -f "$pid_file" ]; then
        while read -r pid; do
            if grep -qs celery "/proc/$pid/cmdline"; then
                kill -KILL -- "-$pid" 2>/dev/null && say "Stopped a leftover worker ($pid)"
            fi
        done <"$pid_file"
        rm -f "$pid_file"
    fi
    stop_started_services
}
trap cleanup EXIT INT TERM

stack_prepare

# In the background so that a signal reaches the trap (and through it the driver) at once.
# timeout passes a TERM it receives on to the driver.
timeout --kill-after=30 "$TIME_LIMIT" "$PY" "$ROOT/bench/fulfillment.py" "$@" &
DRIVER_PID=$!
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
[ "$status" = 124 ] && say "Stopped at the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT)"
exit "$status"
