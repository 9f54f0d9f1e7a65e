#!/usr/bin/env bash
# `make test`: the same bootstrap as `make run` without the web server, then the whole suite
# against the real PostgreSQL and Redis. Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
trap stop_started_services EXIT
stack_prepare
ensure_browser  # tests/browser: Chromium and a Korean font
ensure_package xgettext gettext  # tests/test_translation_sources.py runs makemessages
# Tests use their own Redis database, so a running `make run` stack keeps its queues; a
# run with its own TEST_DATABASE_NAME gets its own Redis database too (3-15).
db=1
[ -n "${TEST_DATABASE_NAME:-}" ] && db=$(( $(printf %s "$TEST_DATABASE_NAME" | cksum | cut -d' ' -f1) % 13 + 3 ))
case "$REDIS_URL" in redis://*/[0-9]*) export REDIS_URL="${REDIS_URL%/*}/$db" ;; esac
export CELERY_BROKER_URL="$REDIS_URL"
"$PY" -m pytest "$@"
