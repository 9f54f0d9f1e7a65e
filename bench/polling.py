"""Status polling under load (issue 13, part 4): the order status JSON and its 304 path,
each beside a floor of the same run.

Run by bench/polling.sh (`make bench-polling ARGS="--reservations 1000000"`), which has
started PostgreSQL and Redis and exported DATABASE_URL and REDIS_URL. This driver:

1. recreates the database preorder_shop_bench_polling on the same server (the dev data is
   untouched), migrates it, and uses Redis database 2 (as `make bench`; tests use 1 and 3-15);
2. seeds the demo campaign (its 44 variants and rate plans) and --reservations synthetic
   reservations spread over the variants by the demo's demand shares
   (reservations.demo.ensure_synthetic_reservations: COPY, the trigger draws positions);
   picks --customers of them spread evenly along the line (so their places in line run from
   the front to the back), gives each a submitted order through the order form's own
   services (open_draft, submit_order) and an API token (preorder_shop.tokens.issue);
   refreshes the line counters once (reservations.lines, what the 10-second task runs);
3. in-process, counts the queries of one 200 and one 304 (CaptureQueriesContext) and reads
   the Poll-Interval the server sets for each state it can reach here;
4. starts gunicorn with preorder_shop/gunicorn.py, DEBUG off and the full middleware stack,
   fetches each customer's current ETag over HTTP, and drives wrk from 127.0.0.1 with 32
   connections, each thread cycling through its own customers, so every request in flight
   carries a different customer's token: floor (a constant JSON 200 under /api/ through the
   same middleware, the Authorization header sent and never read), full (GET
   /api/v1/orders/<number>), conditional (the same with If-None-Match: the customer's
   ETag) and reservation (GET /api/v1/reservations/<number> with its ETag: the poll of a
   customer in line); a warm-up, then --runs runs of --seconds each, the four interleaved per run;
5. prints per-run figures, the medians, the ratios, the 40,000-customer poll rate and
   whether each target is met (PASS/FAIL).
"""

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

# Run as a script, so this folder is on sys.path.
from intake import (
    CONNECTIONS,
    GUNICORN_CONFIG,
    THREADS,
    bench_environment,
    free_port,
    say,
    start_gunicorn,
    stop_gunicorn,
    wait_until_ready,
    worker_pids,
)
from polling_mix import POPULATION, print_poll_rate
from stores import reset_stores, with_path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "bench"
BENCH_DATABASE = "preorder_shop_bench_polling"
BENCH_REDIS_DB = 2
FLOOR_PATH = "/api/v1/bench/status-floor"
STATUS_PATH = "/api/v1/orders/{number}"
WARMUP_SECONDS = 3
RESERVATION_PATH = "/api/v1/reservations/{number}"
# "reservation": the customer's reservation with If-None-Match, the poll of a customer in
# line (launch hour); its throughput is what the launch-hour poll rate is judged against.
# "floor+1q": the floor plus one prepared token lookup, what any poll that reads PostgreSQL
# pays at least (not a target; it shows where the 304 path's ceiling is on this machine).
SCENARIOS = ("floor", "floor+1q", "full", "conditional", "reservation", "changing")
# "changing": the conditional order poll while every kept answer keeps being ended (a
# writer marks everything every MARK_EVERY seconds), so each poll reads afresh and keeps
# its answer again: what a poll costs when what it shows changes between polls (not a
# target; launch hour's lines move like this).
LUA_SCENARIO = {"floor+1q": "floor", "changing": "conditional"}
MARK_EVERY = 0.005
TARGET_RATIO = {"conditional": 0.6, "full": 0.4}
TARGET_P99_FACTOR = 1.5


def positive(value: str) -> int:
    number = int(value.replace(",", "").replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reservations", type=positive, default=3_000)
    parser.add_argument(
        "--customers",
        type=positive,
        default=CONNECTIONS,
        help="polling customers, each with a submitted order and a token (at least 32)",
    )
    parser.add_argument("--runs", type=positive, default=3)
    parser.add_argument("--seconds", type=positive, default=10)
    args = parser.parse_args()
    if args.customers < CONNECTIONS:
        parser.error(f"--customers must be at least {CONNECTIONS}, one per connection")
    if args.customers > args.reservations:
        parser.error("--customers cannot exceed --reservations")
    return args


def timed(label: str, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    say(f"{label}: {time.perf_counter() - started:.1f} s")
    return result


def spread_reservations(campaign_id: int, count: int) -> list[int]:
    """`count` active reservations spread evenly along the whole line (by position), none
    of them festival pickup (whose order form waits for the festival draw)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH line AS (
                SELECT id, row_number() OVER (ORDER BY position) - 1 AS n,
                       count(*) OVER () AS size
                  FROM reservations_reservation
                 WHERE campaign_id = %s AND status = 'active' AND fulfilment <> 'festival'
            )
            SELECT id FROM line
             WHERE n %% greatest(size / %s, 1) = 0
             ORDER BY n LIMIT %s
            """,
            [campaign_id, count, count],
        )
        return [row[0] for row in cursor.fetchall()]


def submit_orders(reservation_ids: list[int]) -> list[tuple[str, str, str]]:
    """A submitted order and a token for each reservation's customer, through the order
    form's services: (raw token, order number, reservation number) per customer."""
    from orders.models import RatePlan
    from orders.services import open_draft, submit_order
    from preorder_shop import tokens
    from reservations.models import Reservation

    reservations = Reservation.objects.select_related("customer", "campaign").filter(
        pk__in=reservation_ids
    )
    pollers = []
    for reservation in reservations.order_by("position"):
        customer = reservation.customer
        plan = RatePlan.objects.filter(campaign=reservation.campaign).order_by("pk").first()
        draft = open_draft(reservation=reservation, customer=customer)
        order = submit_order(
            order=draft,
            customer=customer,
            values={
                "plan": plan,
                "join_type": "new_line",
                "recipient_name": customer.name,
                "recipient_phone": customer.phone,
                "postcode": "04524",
                "address_line1": "서울특별시 중구 세종대로 110",
            },
        )
        _token, raw = tokens.issue(customer, device="bench")
        pollers.append((raw, order.number, reservation.number))
    return pollers


def refresh_line_counts() -> str:
    """Refresh the line counters once, as the 10-second task does (reservations.lines)."""
    from reservations.lines import refresh_line_counts as refresh

    refreshed = timed("line counts refreshed", refresh)
    return f"line counts refreshed once ({len(refreshed)} variants)"


def prepare(args: argparse.Namespace) -> tuple[list[tuple[str, str, str]], str]:
    import django
    from django.core.management import call_command

    django.setup()
    from orders.demo import ensure_demo_plans
    from reservations.demo import ensure_demo_campaign, ensure_synthetic_reservations

    say(f"Migrating {BENCH_DATABASE}")
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    campaign = ensure_demo_campaign()
    ensure_demo_plans(campaign)
    timed(
        f"{args.reservations:,} reservations seeded",
        ensure_synthetic_reservations,
        campaign,
        args.reservations,
    )
    timed("analysed", analyse)
    picked = spread_reservations(campaign.pk, args.customers)
    pollers = timed(f"{len(picked)} orders submitted", submit_orders, picked)
    return pollers, refresh_line_counts()


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("preorder_shop_customer", "reservations_reservation"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def queries_per_request(pollers: list[tuple[str, str, str]]) -> dict[str, int]:
    """The queries of one steady-state poll of each kind, in-process (the token's sliding
    expiry has already been written this minute by the warming request)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token, number, reservation = pollers[0]
    client = Client(HTTP_HOST="127.0.0.1", headers={"authorization": f"Bearer {token}"})
    paths = {
        "floor+1q": f"{FLOOR_PATH}-query",
        "full": STATUS_PATH.format(number=number),
        "conditional": STATUS_PATH.format(number=number),
        "reservation": RESERVATION_PATH.format(number=reservation),
        "changing": STATUS_PATH.format(number=number),
    }
    counts = {}
    for label, path in paths.items():
        warm = client.get(path)
        if warm.status_code != 200:
            raise SystemExit(f"GET {path} answered {warm.status_code}: {warm.content[:300]!r}")
        conditional = label in ("conditional", "reservation", "changing")
        headers = {"if-none-match": warm["ETag"]} if conditional else {}
        if label == "changing":  # as the marking thread does: the kept answer ends
            with connection.cursor() as cursor:
                cursor.execute("SELECT preorder_shop_changed('g', 0)")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, headers=headers)
        expected = 304 if conditional else 200
        if response.status_code != expected:
            raise SystemExit(f"{label}: expected {expected}, got {response.status_code}")
        counts[label] = len(captured.captured_queries)
        (STATE / f"polling-queries-{label}.sql").write_text(
            "\n".join(q["sql"] for q in captured.captured_queries) + "\n"
        )
    return counts


def fetch_etags(port: int, pollers: list[tuple[str, str, str]], path: Path) -> None:
    """Each customer's current ETags (order status, reservation), asked over HTTP as the app
    would; written for wrk."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def etag(token: str, url_path: str) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{url_path}", headers={"Authorization": f"Bearer {token}"}
        )
        with opener.open(request, timeout=10) as response:
            tag = response.headers["ETag"]
        if not tag:
            raise SystemExit(f"no ETag on {url_path}")
        return tag

    lines = []
    for token, number, reservation in pollers:
        order_tag = etag(token, STATUS_PATH.format(number=number))
        reservation_tag = etag(token, RESERVATION_PATH.format(number=reservation))
        lines.append(f"{token}\t{number}\t{order_tag}\t{reservation}\t{reservation_tag}")
    path.write_text("\n".join(lines) + "\n")


def run_wrk(label: str, url: str, seconds: int, script_args: list[str]) -> dict:
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    command += ["--latency", "-s", str(ROOT / "bench" / "polling.lua"), url, "--", *script_args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    (STATE / f"wrk-polling-{label}.txt").write_text(result.stdout + result.stderr)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line.removeprefix("BENCH "))
            figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
            return figures
    raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def changes_marked(on: bool):
    """While on: a thread marks a change of everything ('g', preorder_shop migration 0010)
    every MARK_EVERY seconds, on its own connection, so no kept answer stands."""
    if not on:
        yield
        return
    from django.db import connection

    stop = threading.Event()

    def mark() -> None:
        try:
            while not stop.wait(MARK_EVERY):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT preorder_shop_changed('g', 0)")
        finally:
            connection.close()

    marker = threading.Thread(target=mark)
    marker.start()
    try:
        yield
    finally:
        stop.set()
        marker.join()


def expected_answers(scenario: str, figures: dict) -> int:
    """Requests that got what the scenario asks for (the rest are printed as wrong)."""
    return figures["ok"] if scenario in ("floor", "floor+1q", "full") else figures["not_modified"]


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally clauses
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    STATE.mkdir(parents=True, exist_ok=True)
    env = {
        **bench_environment(),
        "DATABASE_URL": with_path(os.environ["DATABASE_URL"], f"/{BENCH_DATABASE}"),
        "REDIS_URL": with_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}"),
    }
    os.environ.update(env)
    say(f"Resetting {BENCH_DATABASE} and Redis database {BENCH_REDIS_DB}")
    reset_stores(env["DATABASE_URL"], env["REDIS_URL"], BENCH_DATABASE)
    pollers, refreshed = prepare(args)
    queries = queries_per_request(pollers)
    from polling_mix import poll_intervals

    intervals = poll_intervals(pollers)
    load_before = os.getloadavg()[0]  # others' work on this machine skews every figure

    port = free_port()
    customers_file = STATE / "polling-customers.txt"
    urls = {
        "floor": f"http://127.0.0.1:{port}{FLOOR_PATH}",
        "floor+1q": f"http://127.0.0.1:{port}{FLOOR_PATH}-query",
        "full": f"http://127.0.0.1:{port}/",
        "conditional": f"http://127.0.0.1:{port}/",
        "reservation": f"http://127.0.0.1:{port}/",
        "changing": f"http://127.0.0.1:{port}/",
    }
    schedule = [("warm-up", WARMUP_SECONDS)] + [
        (str(i), args.seconds) for i in range(1, args.runs + 1)
    ]
    results: dict[str, list[dict]] = {scenario: [] for scenario in SCENARIOS}
    say(f"Starting gunicorn on 127.0.0.1:{port}")
    server = start_gunicorn(env, port)
    try:
        wait_until_ready(server, port, FLOOR_PATH)
        workers = len(worker_pids(server.pid))
        fetch_etags(port, pollers, customers_file)
        for run, seconds in schedule:
            for scenario in SCENARIOS:
                say(f"{scenario} {run}: {seconds} s")
                with changes_marked(scenario == "changing"):
                    figures = run_wrk(
                        f"{scenario}-{run}",
                        urls[scenario],
                        seconds,
                        [LUA_SCENARIO.get(scenario, scenario), str(customers_file), str(THREADS)],
                    )
                figures["run"] = run
                figures["wrong"] = figures["requests"] - expected_answers(scenario, figures)
                if run != "warm-up":
                    results[scenario].append(figures)
                print_run(scenario, figures)
    finally:
        say("Stopping gunicorn")
        stop_gunicorn(server)
    print_summary(args, results, workers, load_before, queries, refreshed, intervals)


def print_run(scenario: str, r: dict) -> None:
    print(
        f"{scenario:>11} {r['run']:>7}: {r['rate']:7.1f} req/s, p50 {r['p50_us'] / 1000:5.1f}"
        f" ms, p99 {r['p99_us'] / 1000:6.1f} ms; 200 {r['ok']}, 304 {r['not_modified']},"
        f" other {r['other']}, socket errors {r['socket_errors']}",
        flush=True,
    )


def print_summary(
    args: argparse.Namespace,
    results: dict[str, list[dict]],
    workers: int,
    load_before: float,
    queries: dict[str, int],
    refreshed: str,
    intervals: dict,
) -> None:
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
    floor_rate, floor_p99 = median("floor", "rate"), median("floor", "p99_us") / 1000
    print()
    print(f"commit {commit}{' (with uncommitted changes in the work tree)' if dirty else ''}")
    print(
        f"{args.reservations:,} reservations, {args.customers} polling customers with a"
        f" submitted order and a token each; {refreshed}"
    )
    print(f"gunicorn: {workers} sync workers ({GUNICORN_CONFIG}); wrk: {THREADS} threads,")
    print(f"{CONNECTIONS} connections; load average before the runs: {load_before:.2f} on")
    print(f"{os.cpu_count()} CPUs; medians of {args.runs} runs of {args.seconds} s each")
    print()

    def per_run(scenario: str) -> float:
        # Each run's rate over the floor of the same run: the machine drifts between runs.
        pairs = zip(results[scenario], results["floor"], strict=True)
        return statistics.median(r["rate"] / floor["rate"] for r, floor in pairs)

    print("              req/s  p50 ms  p99 ms  vs floor  per run  p99 vs floor  queries/request")
    for scenario in SCENARIOS:
        rate, p99 = median(scenario, "rate"), median(scenario, "p99_us") / 1000
        query_count = str(queries.get(scenario, 0))
        print(
            f"{scenario:<11}{rate:>9.1f}{median(scenario, 'p50_us') / 1000:>8.1f}{p99:>8.1f}"
            f"{rate / floor_rate:>10.2f}{per_run(scenario):>9.2f}{p99 / floor_p99:>14.2f}"
            f"{query_count:>17}"
        )
    print("vs floor: medians' ratio (the targets' measure); per run: median of each run's ratio")
    print(
        "changing: the conditional poll while every kept answer is ended every"
        f" {MARK_EVERY * 1000:.0f} ms (each poll reads afresh and keeps again; not a target)"
    )
    wrong = {s: sum(r["wrong"] for r in results[s]) for s in SCENARIOS}
    print(
        "answers not as asked (the floors and full want 200, conditional and reservation"
        " 304): " + ", ".join(f"{s} {n}" for s, n in wrong.items())
    )
    print("queries/request: counted in-process once, CaptureQueriesContext, steady state")
    print()
    verdicts = []
    for scenario, ratio in TARGET_RATIO.items():
        met = median(scenario, "rate") >= ratio * floor_rate
        verdicts.append((f"{scenario} throughput >= {ratio:.0%} of the floor's", met))
    for scenario in ("full", "conditional"):
        met = median(scenario, "p99_us") / 1000 <= TARGET_P99_FACTOR * floor_p99
        verdicts.append((f"{scenario} p99 <= {TARGET_P99_FACTOR}x the floor's p99", met))
    # Launch hour: customers in line poll their reservation; launch day: their order.
    against = {"launch hour": "reservation", "launch day, worst case": "conditional"}
    mixes = print_poll_rate(intervals)
    for label, rate in mixes:
        served = median(against[label], "rate")
        verdicts.append(
            (
                f"{POPULATION:,} customers' poll rate ({label}, {rate:,.0f}/s) < half the"
                f" {against[label]} 304 path ({served / 2:,.0f}/s)",
                rate < served / 2,
            )
        )
    # Not a target, the truth beside it: in launch hour the lines move (a total refreshed
    # every 10 s), so no kept answer lasts until the next poll and each poll reads afresh.
    launch_hour = dict(mixes)["launch hour"]
    changing = median("changing", "rate")
    print(
        f"launch hour with moving lines (every poll read afresh): {launch_hour:,.0f}/s against"
        f" half the changing path ({changing / 2:,.0f}/s):"
        f" {'under' if launch_hour < changing / 2 else 'OVER'}"
    )
    if any(wrong.values()):
        verdicts.append(("every answer as asked (no error, 304s on the 304 path)", False))
    print()
    for label, met in verdicts:
        print(f"{'PASS' if met else 'FAIL'}  {label}")


if __name__ == "__main__":
    main()
