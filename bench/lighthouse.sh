#!/usr/bin/env bash
# `make bench-lighthouse`: the Lighthouse budget (issue 11, item 7) on the landing, campaign,
# sign-in, reservation and order pages at Lighthouse's mobile profile, 3 runs each.
# The private PostgreSQL and Redis of scripts/stack.sh, a separate database
# (preorder_shop_bench_lighthouse, recreated every run), gunicorn with DEBUG off on a free
# loopback port, Lighthouse from npm (in .local/lighthouse) driving Debian's Chromium.
# Options go to the driver: bash bench/lighthouse.sh --runs 5 --lang en
# The table goes to stdout, exit status 1 when a budget is missed; the JSON reports go to
# .local/lighthouse-reports/, gunicorn's log to .local/lighthouse-bench/.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

# Lighthouse 13 needs Node 22.19; 12.8 runs on Debian 12's Node 18 and on Node 20.
LIGHTHOUSE_VERSION=12.8.2
LIGHTHOUSE_DIR="$LOCAL/lighthouse"

DRIVER_PID=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null; then
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    # Should the driver die without stopping gunicorn, its pid file still names it.
    local pid_file="$LOCAL/lighthouse-bench/gunicorn.pid" pid
    if [ -f "$pid_file" ]; then
        pid="$(cat "$pid_file")"
        if grep -qs gunicorn "/proc/$pid/cmdline"; then
            kill -TERM "$pid" && say "Stopped a leftover gunicorn ($pid)"
        fi
    fi
    stop_started_services
}
trap cleanup EXIT INT TERM

ensure_lighthouse() {
    ensure_package npm npm
    local have=""
    [ -f "$LIGHTHOUSE_DIR/node_modules/lighthouse/package.json" ] \
        && have="$(node -p "require('$LIGHTHOUSE_DIR/node_modules/lighthouse/package.json').version")"
    [ "$have" = "$LIGHTHOUSE_VERSION" ] && return 0
    say "Installing Lighthouse $LIGHTHOUSE_VERSION from npm into .local/lighthouse"
    mkdir -p "$LIGHTHOUSE_DIR"
    [ -f "$LIGHTHOUSE_DIR/package.json" ] || echo '{"private": true}' >"$LIGHTHOUSE_DIR/package.json"
    npm install --prefix "$LIGHTHOUSE_DIR" --no-audit --no-fund --save-exact \
        "lighthouse@$LIGHTHOUSE_VERSION" >/dev/null
}

stack_prepare
ensure_browser  # Chromium and a Korean font, as for the browser tests
ensure_lighthouse

# In the background so that a signal reaches the trap (and through it the driver) at once.
"$PY" "$ROOT/bench/lighthouse.py" "$@" &
DRIVER_PID=$!
status=0
wait "$DRIVER_PID" || status=$?
DRIVER_PID=""
exit "$status"
