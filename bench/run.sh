#!/usr/bin/env bash
# `make bench`: reservation intake under concurrent load against a bare-insert floor.
# The private PostgreSQL and Redis of scripts/stack.sh, a separate database
# (preorder_shop_bench, recreated every run), gunicorn on a free loopback port, wrk.
# Figures go to stdout; wrk's full output and gunicorn's log to .local/bench/.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

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

# In the background so that a signal reaches the trap (and through it the driver) at once.
"$PY" "$ROOT/bench/intake.py" &
DRIVER_PID=$!
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
exit "$status"
