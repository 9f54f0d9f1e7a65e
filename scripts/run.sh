#!/usr/bin/env bash
# `make run`: the whole stack with the demo campaign, in the foreground. Ctrl-C stops it all.
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

PIDS=()
cleanup() {
    trap - INT TERM EXIT
    say "Stopping"
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    stop_started_services
}
trap cleanup INT TERM EXIT

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
port_in_use "$PORT" && die "port $PORT is taken; run 'make run PORT=8001'"

stack_prepare
"$PY" manage.py seed_demo
"$PY" manage.py ensure_admin --username "${ADMIN_USERNAME:-admin}" --password "${ADMIN_PASSWORD:-admin}"
"$PY" manage.py setup_roles -v 0 >/dev/null
# One account per staff role (DEBUG only), listed below beside the admin account.
DEMO_STAFF="$("$PY" manage.py ensure_demo_staff --password "${DEMO_STAFF_PASSWORD:-demo}" | sed 's/^/          /')" ||
    DEMO_STAFF="          (none: demo accounts are made only with DEBUG on)"
"$PY" manage.py collectstatic --noinput -v 0

"$VENV/bin/gunicorn" preorder_shop.wsgi --bind "$HOST:$PORT" --config preorder_shop/gunicorn.py &
PIDS+=($!)
"$VENV/bin/celery" -A preorder_shop worker --loglevel INFO --concurrency 2 &
PIDS+=($!)
"$VENV/bin/celery" -A preorder_shop beat --loglevel INFO --schedule "$LOCAL/celerybeat-schedule" &
PIDS+=($!)

cat <<MSG

  Shop:   http://$HOST:$PORT/
  Admin:  http://$HOST:$PORT/admin/   (user: ${ADMIN_USERNAME:-admin}, password: ${ADMIN_PASSWORD:-admin})
  Staff roles, one demo account each (user / password: role):
$DEMO_STAFF
  Sign in with any Korean mobile number (e.g. 010-1234-5678); in development the
  one-time code is shown on the page (this log masks numbers and never shows codes).
  Ctrl-C stops the web server, the worker, beat, PostgreSQL and Redis.

MSG
# Run until any child exits or Ctrl-C arrives; the EXIT trap then stops everything.
wait -n "${PIDS[@]}" || true
