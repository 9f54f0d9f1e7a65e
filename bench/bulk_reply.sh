#!/usr/bin/env bash
# `make bench-bulk-reply`: one canned reply to 5,000 open tickets through
# support.services.bulk_reply, 3 runs: seconds until every message is queued, and until a
# simulated SMS provider (50 ms a call, 100 messages/s) has accepted them all, sent by a real
# Celery worker and beat. The private PostgreSQL and Redis of scripts/stack.sh, a separate
# database (preorder_shop_bench_bulk_reply, recreated every run), Redis database 7.
# Options go to the driver: make bench-bulk-reply ARGS="--tickets 1000 --runs 1"
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

TIME_LIMIT="${BENCH_TIME_LIMIT:-1800}"

DRIVER_PID=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null; then
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    local pid_file="$LOCAL/bench/bulk-reply-workers.pid" pid
    if [ -f "$pid_file" ]; then
        while read -r pid; do
            if grep -qs celery "/proc/$pid/cmdline"; then
                kill -KILL -- "-$pid" 2>/dev/null && say "Stopped a leftover Celery process ($pid)"
            fi
        done <"$pid_file"
        rm -f "$pid_file"
    fi
    stop_started_services
}
trap cleanup EXIT INT TERM

stack_prepare
# One benchmark at a time: they share the machine's two cores.
mkdir -p "$LOCAL/bench"
exec 9>"$LOCAL/bench/.lock"
flock 9

timeout --kill-after=30 "$TIME_LIMIT" "$PY" "$ROOT/bench/bulk_reply.py" "$@" &
DRIVER_PID=$!
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
[ "$status" = 124 ] && say "Stopped at the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT)"
exit "$status"
