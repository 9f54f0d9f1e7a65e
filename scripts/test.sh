#!/usr/bin/env bash
# `make test`: the same bootstrap as `make run` without the web server, then the whole suite
# against the real PostgreSQL and Redis. Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
trap stop_started_services EXIT
stack_prepare
"$PY" -m pytest "$@"
