# shellcheck shell=bash
# Bootstrap shared by `make run`, `make test` and the benchmarks. Source it, then call
# stack_prepare. It creates the virtualenv, starts a private PostgreSQL cluster and a
# private Redis (each only when DATABASE_URL / REDIS_URL is not set), and exports the
# environment the Django settings read. Everything private lives in .local/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PG_DIR="$LOCAL/pg"
REDIS_DIR="$LOCAL/redis"
STARTED_SERVICES=()

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_in_use() {
    python3 -c 'import socket, sys; s = socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# A port remembered in FILE, chosen free the first time (or when the old one is taken).
remembered_port() {
    local file="$1" port=""
    [ -f "$file" ] && port="$(cat "$file")"
    if [ -z "$port" ] || port_in_use "$port"; then
        port="$(free_port)"
        echo "$port" >"$file"
    fi
    echo "$port"
}

ensure_venv() {
    command -v python3.11 >/dev/null || die "Python 3.11 is required (python3.11 not found)."
    if [ ! -x "$PY" ]; then
        say "Creating virtualenv in .venv"
        python3.11 -m venv "$VENV"
    fi
    local want have=""
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    [ -f "$VENV/.installed" ] && have="$(cat "$VENV/.installed")"
    if [ "$want" != "$have" ]; then
        say "Installing the project and its dependencies"
        "$PY" -m pip install --quiet --upgrade pip
        "$PY" -m pip install --quiet -e "$ROOT[dev]"
        echo "$want" >"$VENV/.installed"
    fi
}

ensure_package() {  # ensure_package COMMAND DEBIAN_PACKAGE
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" = 0 ]; then
        say "Installing $2 from Debian's packages"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
        die "$1 is missing. Install it with: sudo apt-get install $2"
    fi
}

# The browser tests drive Debian's Chromium; without a Korean font it draws Korean as boxes.
ensure_browser() {
    ensure_package chromium chromium
    if ! fc-list 2>/dev/null | grep -qi nanum; then
        [ "$(id -u)" = 0 ] || die "a Korean font is missing. Install it with: sudo apt-get install fonts-nanum"
        say "Installing fonts-nanum from Debian's packages"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum >/dev/null
    fi
}

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
    die "PostgreSQL server binaries not found. Install them with: apt-get install postgresql-15"
}

# initdb refuses to run as root, so as root the private cluster belongs to 'postgres'.
as_pg_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ]; then
        say "Using DATABASE_URL from the environment"
        return 0
    fi
    local bin data="$PG_DIR/data" run="$PG_DIR/run" port
    bin="$(pg_bin)"
    mkdir -p "$PG_DIR" "$run"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        chown postgres "$PG_DIR" "$run"
        runuser -u postgres -- test -w "$PG_DIR" \
            || die "user 'postgres' cannot write $PG_DIR (a parent folder is not traversable); clone the project somewhere world-readable such as /work or /srv"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "Creating a private PostgreSQL cluster in .local/pg"
        as_pg_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$PG_DIR/initdb.log"
    fi
    if as_pg_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        port="$(cat "$PG_DIR/port")"
    else
        port="$(remembered_port "$PG_DIR/port")"
        say "Starting PostgreSQL on 127.0.0.1:$port"
        as_pg_owner "$bin/pg_ctl" -D "$data" -l "$PG_DIR/server.log" -w -t 60 start -o \
            "-p $port -k $run -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB -c fsync=${PG_FSYNC:-on} -c synchronous_commit=${PG_SYNC_COMMIT:-on}" \
            >/dev/null || { tail -20 "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
        STARTED_SERVICES+=(postgres)
    fi
    as_pg_owner "$bin/psql" -h "$run" -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'preorder_shop'" | grep -q 1 \
        || as_pg_owner "$bin/createdb" -h "$run" -p "$port" -U postgres preorder_shop
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/preorder_shop"
}

stop_postgres() {
    as_pg_owner "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}

ensure_redis() {
    if [ -n "${REDIS_URL:-}" ]; then
        say "Using REDIS_URL from the environment"
        return 0
    fi
    ensure_package redis-server redis-server
    mkdir -p "$REDIS_DIR"
    local port pid=""
    [ -f "$REDIS_DIR/redis.pid" ] && pid="$(cat "$REDIS_DIR/redis.pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ -f "$REDIS_DIR/port" ]; then
        port="$(cat "$REDIS_DIR/port")"
    else
        port="$(remembered_port "$REDIS_DIR/port")"
        say "Starting Redis on 127.0.0.1:$port"
        redis-server "$ROOT/scripts/redis.conf" --port "$port" --bind 127.0.0.1 \
            --daemonize yes --dir "$REDIS_DIR" \
            --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null
        local i
        for i in $(seq 50); do
            redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            sleep 0.1
        done
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG || die "Redis did not start"
        STARTED_SERVICES+=(redis)
    fi
    export REDIS_URL="redis://127.0.0.1:$port/0"
}

stop_redis() {
    local pid
    [ -f "$REDIS_DIR/redis.pid" ] || return 0
    pid="$(cat "$REDIS_DIR/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

# Stops only what this invocation started, so a stack that was already up stays up.
stop_started_services() {
    local s
    for s in "${STARTED_SERVICES[@]}"; do
        case "$s" in
            postgres) stop_postgres ;;
            redis) stop_redis ;;
        esac
    done
    STARTED_SERVICES=()
}

write_env_file() {
    cat >"$LOCAL/env" <<EOF
# Written by scripts/stack.sh: 'source .local/env' to use manage.py against the private stack.
export DATABASE_URL="$DATABASE_URL"
export REDIS_URL="$REDIS_URL"
EOF
}

stack_prepare() {
    mkdir -p "$LOCAL/static"  # STATIC_ROOT: collectstatic fills it for make run
    cd "$ROOT"
    ensure_venv
    ensure_postgres
    ensure_redis
    write_env_file
    export PATH="$VENV/bin:$PATH"
    say "Applying migrations"
    "$PY" manage.py migrate --noinput >/dev/null
}
