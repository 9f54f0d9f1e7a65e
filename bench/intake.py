"""Reservation intake under concurrent load, against a floor of one bare ORM insert.

Run by bench/run.sh (`make bench`), which has started PostgreSQL and Redis and exported
DATABASE_URL and REDIS_URL. This driver:

1. recreates the database preorder_shop_bench on the same server (the dev data is untouched),
   migrates it, and uses Redis database 2 (make run uses 0, make test 1);
2. creates the demo campaign and a pool of customers, each already signed in (a session row
   plus its cached copy, as sign-in leaves them);
3. starts gunicorn with preorder_shop/gunicorn.py, DEBUG off and the full middleware stack;
4. drives it with wrk from 127.0.0.1, 32 connections: the intake scenario POSTs the reserve
   form as a different customer every request, the floor scenario POSTs the same form to a
   view that only inserts one row into an unconstrained copy of the reservations table;
5. prints per-run figures, the medians and whether the targets are met.
"""

import contextlib
import datetime as dt
import json
import os
import runpy
import secrets
import signal
import statistics
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# Run as a script, so this folder is on sys.path.
from stores import reset_stores, with_path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "bench"
BENCH_DATABASE = "preorder_shop_bench"
BENCH_REDIS_DB = 2
GUNICORN_CONFIG = "preorder_shop/gunicorn.py"

CONNECTIONS = 32
THREADS = 4
WARMUP_SECONDS = 3
RUN_SECONDS = 10
RUNS = 3
# The customer pool is sized for this many intake requests per second; if wrk runs out, it
# says so and the figures are marked invalid.
MAX_INTAKE_RATE = 2500
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def bench_environment() -> dict[str, str]:
    """The environment of the driver and of gunicorn: production-like, private stores."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": with_path(os.environ["DATABASE_URL"], f"/{BENCH_DATABASE}"),
        "REDIS_URL": with_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COURIER_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(STATE / "static"),
    }


def create_signed_in_customers(count: int) -> list[str]:
    """Insert `count` customers and a signed-in session for each; return the session keys.

    Sessions are written as sign-in leaves them (cached_db engine): a django_session row
    and the same data in the cache, under the key SessionStore uses.
    """
    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.cache import caches
    from django.db import connection, transaction
    from django.utils import timezone

    from preorder_shop.customer_session import SESSION_KEY

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO preorder_shop_customer (phone, name, created_at)
            SELECT '+82108' || lpad(i::text, 7, '0'), 'Bench ' || i, now()
            FROM generate_series(1, %s) AS i
            RETURNING id
            """,
            [count],
        )
        customer_ids = [row[0] for row in cursor.fetchall()]

    store = SessionStore()
    expires = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    sessions = {secrets.token_hex(16): {SESSION_KEY: pk} for pk in customer_ids}
    copy_sql = "COPY django_session (session_key, session_data, expire_date) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for key, data in sessions.items():
            copy.write_row((key, store.encode(data), expires))
    cache = caches[settings.SESSION_CACHE_ALIAS]
    cached = [(SessionStore.cache_key_prefix + key, data) for key, data in sessions.items()]
    for start in range(0, len(cached), 10_000):
        cache.set_many(dict(cached[start : start + 10_000]), settings.SESSION_COOKIE_AGE)
    return list(sessions)


def prepare() -> tuple[str, list[int], list[str]]:
    """Migrate the fresh database, collect static files, create the campaign and customers."""
    import django
    from django.core.management import call_command

    django.setup()
    from reservations.demo import ensure_demo_campaign

    say(f"Migrating {BENCH_DATABASE}")
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    campaign = ensure_demo_campaign()
    variant_ids = list(campaign.variants.values_list("pk", flat=True))
    pool = MAX_INTAKE_RATE * (WARMUP_SECONDS + RUNS * RUN_SECONDS)
    say(f"Creating {pool:,} signed-in customers")
    keys = create_signed_in_customers(pool)
    return campaign.slug, variant_ids, keys


def count_rows(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return cursor.fetchone()[0]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(master: int) -> list[str]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return children.read_text().split() if children.exists() else []


def cpu_seconds(server: subprocess.Popen) -> dict[str, float]:
    """CPU time used so far by the gunicorn workers and by the benchmark's PostgreSQL backends.

    Per request, these vary much less than throughput when other work shares the machine.
    """
    database_backends = [
        proc.name
        for proc in Path("/proc").iterdir()
        if proc.name.isdigit() and BENCH_DATABASE.encode() in read_bytes(proc / "cmdline")
    ]
    ticks = os.sysconf("SC_CLK_TCK")

    def total(pids: list[str]) -> float:
        seconds = 0.0
        for pid in pids:
            stat = read_bytes(Path(f"/proc/{pid}/stat")).rpartition(b")")[2].split()
            if stat:  # utime and stime are fields 14 and 15 of stat(5)
                seconds += (int(stat[11]) + int(stat[12])) / ticks
        return seconds

    return {"app": total(worker_pids(server.pid)), "db": total(database_backends)}


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process has gone
        return b""


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    log = (STATE / "gunicorn.log").open("w")
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "preorder_shop.wsgi",
            "--config",
            GUNICORN_CONFIG,
            "--bind",
            f"127.0.0.1:{port}",
            "--pid",
            str(STATE / "gunicorn.pid"),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_ready(server: subprocess.Popen, port: int, probe_path: str) -> None:
    """Wait until gunicorn answers and all its workers have booted."""
    workers = runpy.run_path(str(ROOT / GUNICORN_CONFIG))["workers"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {STATE / 'gunicorn.log'}")
        url = f"http://127.0.0.1:{port}{probe_path}"
        with contextlib.suppress(OSError), opener.open(url, timeout=5) as response:
            if response.status == 200 and len(worker_pids(server.pid)) == workers:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not come up; see {STATE / 'gunicorn.log'}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run_wrk(label: str, url: str, seconds: int, script_args: list[str]) -> dict:
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    command += ["--latency", "-s", str(ROOT / "bench" / "intake.lua"), url, "--", *script_args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    (STATE / f"wrk-{label}.txt").write_text(result.stdout + result.stderr)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line.removeprefix("BENCH "))
            figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
            return figures
    raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally clauses
    sys.path.insert(0, str(ROOT))
    STATE.mkdir(parents=True, exist_ok=True)
    env = bench_environment()
    os.environ.update(env)
    say(f"Resetting {BENCH_DATABASE} and Redis database {BENCH_REDIS_DB}")
    reset_stores(env["DATABASE_URL"], env["REDIS_URL"], BENCH_DATABASE)
    slug, variant_ids, keys = prepare()
    load_before = os.getloadavg()[0]  # others' work on this machine skews every figure

    port = free_port()
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    variants = ",".join(map(str, variant_ids))
    keys_file = STATE / "session-keys.txt"
    scenarios = {
        "floor": (f"http://127.0.0.1:{port}/bench/floor/", "bench_floorreservation"),
        "intake": (f"http://127.0.0.1:{port}/c/{slug}/reserve/", "reservations_reservation"),
    }
    schedule = [("warm-up", WARMUP_SECONDS)] + [(str(i), RUN_SECONDS) for i in range(1, RUNS + 1)]
    results: dict[str, list[dict]] = {"floor": [], "intake": []}
    say(f"Starting gunicorn on 127.0.0.1:{port}")
    server = start_gunicorn(env, port)
    try:
        wait_until_ready(server, port, f"/c/{slug}/")
        workers = len(worker_pids(server.pid))
        for run, seconds in schedule:
            for scenario, (url, table) in scenarios.items():
                say(f"{scenario} {run}: {seconds} s")
                if scenario == "intake":  # each run gets customers no run has used
                    unused = keys[: MAX_INTAKE_RATE * seconds]
                    del keys[: len(unused)]
                    keys_file.write_text("\n".join(unused) + "\n")
                rows_before, cpu_before = count_rows(table), cpu_seconds(server)
                figures = run_wrk(
                    f"{scenario}-{run}",
                    url,
                    seconds,
                    [scenario, str(keys_file), str(THREADS), csrf, variants],
                )
                time.sleep(1)  # let requests in flight when wrk stopped commit
                figures["rows"] = count_rows(table) - rows_before
                for side, cpu_after in cpu_seconds(server).items():
                    used = cpu_after - cpu_before[side]
                    figures[f"{side}_cpu_ms"] = 1000 * used / max(figures["requests"], 1)
                figures["run"] = run
                if run != "warm-up":
                    results[scenario].append(figures)
                print_run(scenario, figures)
    finally:
        say("Stopping gunicorn")
        stop_gunicorn(server)
    print_summary(results, workers, load_before)


def print_run(scenario: str, r: dict) -> None:
    print(
        f"{scenario:>6} {r['run']:>7}: {r['rate']:7.1f} req/s, p50 {r['p50_us'] / 1000:5.1f} ms,"
        f" p99 {r['p99_us'] / 1000:5.1f} ms, CPU per request: app {r['app_cpu_ms']:.1f} ms,"
        f" db {r['db_cpu_ms']:.1f} ms; accepted {r['accepted']}, rows {r['rows']},"
        f" non-2xx/3xx {r['non_2xx_3xx']}, socket errors {r['socket_errors']}",
        flush=True,
    )
    if r["exhausted"]:
        print(f"        INVALID: ran out of customers {r['exhausted']} times", flush=True)


def print_summary(results: dict[str, list[dict]], workers: int, load_before: float) -> None:
    def median(scenario: str, field: str) -> float:
        return statistics.median(r[field] for r in results[scenario])

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print()
    print(f"commit {commit}{' (with uncommitted changes)' if dirty else ''}")
    print(f"gunicorn: {workers} sync workers; wrk: {THREADS} threads, {CONNECTIONS} connections")
    print(f"load average before the runs: {load_before:.2f} on {os.cpu_count()} CPUs")
    print(f"medians of {RUNS} runs of {RUN_SECONDS} s after a {WARMUP_SECONDS} s warm-up")
    print()
    print("           req/s  p50 ms  p99 ms  CPU ms per request: app (gunicorn)  db (postgres)")
    for scenario in ("floor", "intake"):
        print(
            f"{scenario:<8}{median(scenario, 'rate'):>8.1f}"
            f"{median(scenario, 'p50_us') / 1000:>8.1f}{median(scenario, 'p99_us') / 1000:>8.1f}"
            f"{median(scenario, 'app_cpu_ms'):>37.2f}{median(scenario, 'db_cpu_ms'):>15.2f}"
        )
    ratio = median("intake", "rate") / median("floor", "rate")
    p99 = median("intake", "p99_us") / 1000
    intake = results["intake"]
    print()
    print(f"intake/floor throughput: {ratio:.2f}")
    print(
        f"intake reservations: {sum(r['accepted'] for r in intake)} accepted (302 to "
        f"/my/reservations/<number>/), {sum(r['rows'] for r in intake)} rows in "
        f"reservations_reservation, {sum(r['non_2xx_3xx'] for r in intake)} non-2xx/3xx"
    )
    print("(rows also count requests still in flight when wrk stopped: up to 32 a run)")
    print()
    met = {True: "met", False: "NOT met"}
    print(f"target intake >= {TARGET_RATIO:.0%} of floor throughput: {met[ratio >= TARGET_RATIO]}")
    print(f"target intake p99 < {TARGET_P99_MS:.0f} ms: {met[p99 < TARGET_P99_MS]}")
    if any(r["exhausted"] for rs in results.values() for r in rs):
        print("INVALID: wrk ran out of customers; raise MAX_INTAKE_RATE in bench/intake.py")


if __name__ == "__main__":
    main()
