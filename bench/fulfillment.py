"""Fulfilment at scale: FCFS allocation against a bare-statement floor, the pipeline's
received -> preparing throughput with two real Celery workers, and beat's allocation tick.

Run by bench/fulfillment.sh (`make bench-fulfillment`), which has started PostgreSQL and
Redis and exported DATABASE_URL and REDIS_URL. This driver:

1. recreates the database preorder_shop_bench_fulfillment on the same server (the dev data
   is untouched), migrates it, and uses Redis database 3 (run 0, test 1, bench 2);
2. creates a campaign with 20 variants and its rate plans, --reservations synthetic
   reservations (reservations.demo.ensure_synthetic_reservations) and, per variant, one
   arrived stock lot exactly as large as its reservations;
3. allocation: times two floors, each one bare INSERT ... SELECT that marks the same
   (reservation, lot) rows in queue order, without the queue's logic (no window functions,
   locks, releases or notices; median of a few runs, each emptied again): into an unindexed
   scratch table (the raw write), and into fulfillment_allocation itself (the same rows
   with the indexes, composite foreign keys and guard any allocation row pays). Then
   fulfillment.services.allocation.allocate_campaign on the same state (plus one outbox row per
   unit), and checks that it chose the scratch statement's rows;
4. pipeline: for each batch size, submits --orders fresh orders
   (fulfillment.demo.submit_synthetic_orders, lowest positions without an order; all hold
   a unit), starts two solo-pool workers on a queue of its own with PIPELINE_BATCH_SIZE
   set, dispatches fulfillment.tasks.advance_variant for every variant and times until no
   order is 'received'; then checks one history row and one notification per order moved;
5. ticks (what beat runs every minute), after the pipeline: allocate_campaign with nothing
   to do, then with --newcomers reservations waiting and no free unit, then after
   --cancels holders cancel through the real service (each freed unit must go to the
   lowest waiting position of its variant); median of --tick-runs each, with the FCFS check;
6. prints the figures, whether the targets are met, the commit and the load average.
"""

import argparse
import datetime as dt
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

# Run as a script, so this folder is on sys.path.
from stores import reset_stores, with_path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "bench"
WORKER_PIDS = STATE / "fulfillment-workers.pid"  # bench/fulfillment.sh kills leftovers
BENCH_DATABASE = "preorder_shop_bench_fulfillment"
BENCH_REDIS_DB = 3
VARIANTS = 20
WORKERS = 2
BARE_RUNS = 3
TARGET_ALLOCATION_RATIO = 3.0
TARGET_ORDERS_PER_SECOND = 5000.0
TARGET_IDLE_TICK_SECONDS = 0.1
STATEMENT_TIMEOUT = "20min"  # bounds every statement of the driver
WORKER_READY_SECONDS = 60
PIPELINE_POLL_SECONDS = 0.1


STARTED = time.monotonic()


def say(message: str) -> None:
    elapsed = time.monotonic() - STARTED
    print(f"==> [{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def bench_environment() -> dict[str, str]:
    """The environment of the driver and of the workers: production-like, private stores."""
    redis_url = with_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}")
    return {
        "DJANGO_SETTINGS_MODULE": "preorder_shop.settings",
        "DATABASE_URL": with_path(os.environ["DATABASE_URL"], f"/{BENCH_DATABASE}"),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COURIER_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "COURIER_SIMULATOR": "0",
    }


def execute(statement: str, params: list | dict | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def scalar(statement: str, params: list | dict | None = None):
    return execute(statement, params)[0][0]


# The tables the benchmark writes. (A database-wide VACUUM would also take the shared
# catalogs, and wait behind other sessions creating or dropping databases on the server.)
TABLES = [
    "preorder_shop_customer",
    "reservations_reservation",
    "fulfillment_stocklot",
    "fulfillment_allocation",
    "orders_order",
    "orders_ordertransition",
    "preorder_shop_outboxmessage",
]


def vacuum_analyze() -> None:
    """Statistics and visibility map as autovacuum would leave them, plus a checkpoint, so
    that a timed step neither plans blind nor pays for the previous step's dirty pages.

    Empty tables are left alone, as autovacuum leaves them: statistics saying "empty" make
    the planner put a seq scan of the table inside nested loops, and the statement that then
    fills it goes quadratic (submit_synthetic_orders' NOT EXISTS over orders_order ran for
    minutes at 200,000 orders; allocation's NOT EXISTS over fulfillment_allocation filtered
    39 million rows for one variant of 50,000 reservations). Never analysed, the planner
    sizes a table by its current pages instead.
    """
    for table in TABLES:
        if scalar(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # noqa: S608 - constant names
            execute(f"VACUUM ANALYZE {table}")
    started = time.perf_counter()
    execute("CHECKPOINT")
    if (seconds := time.perf_counter() - started) > 5:
        say(f"(a checkpoint took {seconds:.0f} s: others are writing to this server)")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def create_campaign():
    """A campaign open for reservations and order forms, with 20 variants and rate plans."""
    from django.utils import timezone

    from orders.demo import ensure_demo_plans
    from reservations.demo import CATALOGUE
    from reservations.models import Campaign, Variant

    now = timezone.now()
    campaign = Campaign.objects.create(
        slug="bench-fulfillment",
        name="Fulfilment benchmark",
        device_line="iPhone 15",
        reservation_opens_at=now - dt.timedelta(days=1),
        reservation_closes_at=now + dt.timedelta(days=3),
        order_opens_at=now - dt.timedelta(hours=1),
        order_closes_at=now + dt.timedelta(days=5),
        launch_date=timezone.localdate(now) + dt.timedelta(days=7),
        offers_festival_pickup=True,
        festival_capacity=300,
    )
    variants = [
        (model_name, capacity, price, colour)
        for model_name, (prices, colours, _share) in CATALOGUE.items()
        for capacity, price in prices.items()
        for colour in colours
    ][:VARIANTS]
    Variant.objects.bulk_create(
        Variant(campaign=campaign, model_name=m, capacity_gb=c, colour=colour, price_krw=p)
        for m, c, p, colour in variants
    )
    ensure_demo_plans(campaign)
    return campaign


def create_lots(campaign) -> int:
    """One lot per variant, arrived an hour ago, with a unit for every reservation."""
    return len(
        execute(
            """
            INSERT INTO fulfillment_stocklot
                   (variant_id, reference, quantity, arrives_at, created_at)
            SELECT r.variant_id, 'BENCH-' || r.variant_id, count(*),
                   now() - interval '1 hour', now()
              FROM reservations_reservation r
             WHERE r.campaign_id = %s
             GROUP BY r.variant_id
            RETURNING id
            """,
            [campaign.pk],
        )
    )


# The floors: the same (variant, reservation, lot) rows, in queue order per variant, in one
# statement: into a table with the allocation's columns and no index or constraint, and into
# the allocation table itself.
BARE_TABLE = """
CREATE TABLE bench_bare_allocation (
    variant_id bigint NOT NULL, reservation_id bigint NOT NULL, lot_id bigint NOT NULL,
    allocated_at timestamptz NOT NULL
)
"""
BARE_SELECT = """
SELECT r.variant_id, r.id, l.id, now()
  FROM reservations_reservation r
  JOIN fulfillment_stocklot l ON l.variant_id = r.variant_id
 WHERE r.campaign_id = %s AND r.status IN ('active', 'ordered')
 ORDER BY r.variant_id, r.position
"""
FLOOR_LABELS = {
    "scratch": "bare INSERT ... SELECT (unindexed scratch table)",
    "table": "bare INSERT ... SELECT (the allocation table)",
}
FLOORS = {
    "scratch": (
        "bench_bare_allocation",
        "INSERT INTO bench_bare_allocation (variant_id, reservation_id, lot_id, allocated_at)"
        + BARE_SELECT,
    ),
    "table": (
        "fulfillment_allocation",
        "INSERT INTO fulfillment_allocation"  # noqa: S608 - constants
        " (variant_id, reservation_id, lot_id, allocated_at, released_at, release_reason)"
        f" SELECT *, NULL, '' FROM ({BARE_SELECT}) AS bare",
    ),
}


def allocate_timed(campaign, analyze_each_variant: bool) -> tuple[float, int, list]:
    """allocate_campaign, timed as a whole and per variant."""
    from fulfillment.services.allocation import allocate_campaign

    variants: list[tuple[int, float]] = []
    last = time.perf_counter()

    def progress(variant) -> None:
        nonlocal last
        seconds = time.perf_counter() - last
        variants.append((variant.pk, seconds))
        say(f"  variant {variant.pk}: {seconds:.2f} s")
        if analyze_each_variant:  # measures a suggested change; see --help
            execute("ANALYZE fulfillment_allocation")
        last = time.perf_counter()

    seconds, results = timed(allocate_campaign, campaign=campaign, progress=progress)
    return seconds, sum(r.allocated for r in results), variants


def allocation_benchmark(campaign, runs: int, analyze_each_variant: bool) -> dict:
    execute(BARE_TABLE)
    bare: dict[str, list[float]] = {}
    for floor, (table, statement) in FLOORS.items():
        bare[floor] = []
        for run in range(1, BARE_RUNS + 1):
            execute(f"TRUNCATE {table}")
            vacuum_analyze()
            seconds, _ = timed(execute, statement, [campaign.pk])
            bare[floor].append(seconds)
            say(f"bare statement into {table} {run}/{BARE_RUNS}: {seconds:.2f} s")
    execute("TRUNCATE fulfillment_allocation")

    timings: list[float] = []
    for run in range(1, runs + 1):
        if run > 1:  # back to the state before allocation
            execute("TRUNCATE fulfillment_allocation, preorder_shop_outboxmessage")
        vacuum_analyze()
        load = os.getloadavg()[0]
        seconds, allocated, variants = allocate_timed(campaign, analyze_each_variant)
        timings.append(seconds)
        say(
            f"allocate_campaign {run}/{runs}: {seconds:.2f} s, {allocated:,} units"
            f" (load before: {load:.2f})"
        )

    rows = scalar("SELECT count(*) FROM fulfillment_allocation WHERE released_at IS NULL")
    notices = scalar(
        "SELECT count(*) FROM preorder_shop_outboxmessage"
        " WHERE template_key = 'allocation.reserved'"
    )
    marked = scalar("SELECT count(*) FROM bench_bare_allocation")
    differ = scalar(
        """
        SELECT count(*) FROM (
            (SELECT variant_id, reservation_id, lot_id FROM bench_bare_allocation
             EXCEPT SELECT variant_id, reservation_id, lot_id FROM fulfillment_allocation)
            UNION ALL
            (SELECT variant_id, reservation_id, lot_id FROM fulfillment_allocation
             EXCEPT SELECT variant_id, reservation_id, lot_id FROM bench_bare_allocation)
        ) AS d
        """
    )
    execute("DROP TABLE bench_bare_allocation")
    return {
        "bare": bare,
        "allocation": timings,
        "rows": rows,
        "notices": notices,
        "marked": marked,
        "differ": differ,
        "variants": variants,
    }


def start_worker(env: dict[str, str], queue: str, name: str, batch: int) -> subprocess.Popen:
    log = (STATE / f"fulfillment-{name}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "preorder_shop",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "-n",
            f"{name}@bench",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "PIPELINE_BATCH_SIZE": str(batch)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    with WORKER_PIDS.open("a") as pids:
        pids.write(f"{process.pid}\n")
    return process


def wait_until_ready(workers: list[subprocess.Popen], names: list[str]) -> None:
    deadline = time.monotonic() + WORKER_READY_SECONDS
    while time.monotonic() < deadline:
        for worker, name in zip(workers, names, strict=True):
            if worker.poll() is not None:
                raise SystemExit(f"worker {name} exited; see {STATE}/fulfillment-{name}.log")
        logs = [(STATE / f"fulfillment-{name}.log").read_text() for name in names]
        if all(" ready." in log for log in logs):
            return
        time.sleep(0.1)
    raise SystemExit(f"workers did not come up; see {STATE}/fulfillment-*.log")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    WORKER_PIDS.unlink(missing_ok=True)


SUBMIT_CHUNK = 20_000
SUBMIT_ATTEMPTS = 10


def submit_orders(campaign, count: int) -> int:
    """submit_synthetic_orders in chunks, each retried when it fails.

    submit_synthetic_orders draws order numbers unique within one call but does not check
    the numbers already in the table: drawing 200,000 more from 9 x 10^9 beside 200,000
    taken hits about four collisions (a unique violation that rolls the call back). Smaller
    calls that are retried get past them.
    """
    from django.db import IntegrityError

    from fulfillment.demo import submit_synthetic_orders

    submitted = 0
    while submitted < count:
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                made = submit_synthetic_orders(campaign, min(SUBMIT_CHUNK, count - submitted))
                break
            except IntegrityError as error:
                if attempt == SUBMIT_ATTEMPTS:
                    raise
                say(f"  order number collision, retrying the chunk ({error.__cause__})")
        if not made:
            break
        submitted += made
    return submitted


def pipeline_run(env: dict[str, str], campaign, orders: int, batch: int, deadline: float) -> dict:
    from fulfillment.tasks import advance_variant

    say(f"pipeline, batch {batch}: submitting {orders:,} orders")
    setup, submitted = timed(submit_orders, campaign, orders)
    say(f"pipeline, batch {batch}: {submitted:,} orders submitted in {setup:.1f} s")
    waiting = scalar(
        """
        SELECT count(*) FROM orders_order o
         WHERE o.status = 'received'
           AND EXISTS (SELECT 1 FROM fulfillment_allocation a
                        WHERE a.reservation_id = o.reservation_id AND a.released_at IS NULL)
        """
    )
    history_before = scalar(
        "SELECT count(*) FROM orders_ordertransition WHERE to_status = 'preparing'"
    )
    notices_before = scalar(
        "SELECT count(*) FROM preorder_shop_outboxmessage WHERE template_key = 'order.preparing'"
    )
    preparing_before = scalar("SELECT count(*) FROM orders_order WHERE status = 'preparing'")
    vacuum_analyze()
    say(f"pipeline, batch {batch}: starting {WORKERS} workers")

    queue = f"bench-fulfillment-{uuid.uuid4().hex[:8]}"
    names = [f"w{i}-b{batch}" for i in range(WORKERS)]
    workers = [start_worker(env, queue, name, batch) for name in names]
    try:
        wait_until_ready(workers, names)
        variant_ids = list(campaign.variants.order_by("pk").values_list("pk", flat=True))
        load = os.getloadavg()[0]
        say(f"pipeline, batch {batch}: {waiting:,} orders ready, dispatching (load {load:.2f})")
        started = time.perf_counter()
        for variant_id in variant_ids:
            advance_variant.apply_async(args=[variant_id], queue=queue)
        timed_out = False
        while scalar("SELECT EXISTS (SELECT 1 FROM orders_order WHERE status = 'received')"):
            if time.perf_counter() - started > deadline:
                timed_out = True
                break
            if any(worker.poll() is not None for worker in workers):
                raise SystemExit(f"a worker died; see {STATE}/fulfillment-w*.log")
            time.sleep(PIPELINE_POLL_SECONDS)
        seconds = time.perf_counter() - started
    finally:
        stop_workers(workers)

    moved = scalar("SELECT count(*) FROM orders_order WHERE status = 'preparing'")
    moved -= preparing_before
    history = scalar("SELECT count(*) FROM orders_ordertransition WHERE to_status = 'preparing'")
    notices = scalar(
        "SELECT count(*) FROM preorder_shop_outboxmessage WHERE template_key = 'order.preparing'"
    )
    result = {
        "batch": batch,
        "submitted": submitted,
        "setup": setup,
        "waiting": waiting,
        "moved": moved,
        "history": history - history_before,
        "notices": notices - notices_before,
        "seconds": seconds,
        "rate": moved / seconds,
        "timed_out": timed_out,
        "load": load,
    }
    say(
        f"pipeline, batch {batch}: {moved:,} moved in {seconds:.2f} s = {result['rate']:,.0f}"
        f" orders/s; history rows {result['history']:,}, notifications {result['notices']:,}"
        + (" (TIMED OUT)" if timed_out else "")
    )
    return result


# Holding reservations of the campaign passed over: without a unit, while a later position
# of the same variant holds one. Zero when every unit sits with the lowest positions.
STILL_HELD = """
SELECT count(*) FROM fulfillment_allocation
 WHERE reservation_id = ANY(%(ids)s) AND released_at IS NULL
"""

PASSED_OVER = """
SELECT count(*) FROM reservations_reservation r
 WHERE r.campaign_id = %(campaign)s AND r.status IN ('active', 'ordered')
   AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                    WHERE a.reservation_id = r.id AND a.released_at IS NULL)
   AND EXISTS (SELECT 1 FROM reservations_reservation later
                 JOIN fulfillment_allocation a
                   ON a.reservation_id = later.id AND a.released_at IS NULL
                WHERE later.variant_id = r.variant_id AND later.position > r.position
                  AND later.status IN ('active', 'ordered'))
"""

# Variants with a free unit of an arrived lot while someone waits, counted from the
# allocation rows themselves (not the counters the run reads), and lots whose counter
# differs from their rows: both zero after a tick.
LEFT_UNDONE = """
SELECT (SELECT count(*) FROM reservations_variant v
         WHERE v.campaign_id = %(campaign)s
           AND (SELECT coalesce(sum(l.quantity), 0) FROM fulfillment_stocklot l
                 WHERE l.variant_id = v.id AND l.arrives_at <= now())
             > (SELECT count(*) FROM fulfillment_allocation a
                 WHERE a.variant_id = v.id AND a.released_at IS NULL)
           AND EXISTS (SELECT 1 FROM reservations_reservation r
                        WHERE r.variant_id = v.id AND r.status IN ('active', 'ordered')
                          AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                                           WHERE a.reservation_id = r.id
                                             AND a.released_at IS NULL))),
       (SELECT count(*)
          FROM (SELECT lot_id, count(*) AS n FROM fulfillment_allocation
                 WHERE released_at IS NULL GROUP BY lot_id) c
          FULL JOIN fulfillment_lot_usage u USING (lot_id)
         WHERE coalesce(c.n, 0) <> coalesce(u.active, 0))
"""

# Holders that may cancel (active, no live order), spread over the variants at random.
CANCELLABLE = """
SELECT r.id FROM reservations_reservation r
 WHERE r.campaign_id = %(campaign)s AND r.status = 'active'
   AND EXISTS (SELECT 1 FROM fulfillment_allocation a
                WHERE a.reservation_id = r.id AND a.released_at IS NULL)
   AND NOT EXISTS (SELECT 1 FROM orders_order o WHERE o.reservation_id = r.id
                      AND o.status NOT IN ('cancelled', 'discarded', 'expired'))
 ORDER BY random() LIMIT %(count)s
"""


def tick(campaign) -> tuple[float, float, int, int]:
    """One beat tick (allocate_campaign); returns (seconds, database seconds, released,
    allocated).

    Database time: statements and commits as the driver sees them (round trips included);
    the rest is Python and, in a tick that queues notices, the after-commit publish of the
    outbox sweep task to Redis."""
    from django.db import connection

    from fulfillment.services.allocation import allocate_campaign

    spent = [0.0]

    def measured(call, *args):
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            spent[0] += time.perf_counter() - started

    commit = connection._commit
    connection._commit = lambda: measured(commit)
    try:
        with connection.execute_wrapper(lambda execute, *args: measured(execute, *args)):
            seconds, results = timed(allocate_campaign, campaign=campaign)
    finally:
        connection._commit = commit
    return seconds, spent[0], sum(r.released for r in results), sum(r.allocated for r in results)


def tick_benchmark(campaign, args) -> dict:
    """Beat's tick on the full ledger: idle, idle with a line and no stock, and after a few
    cancellations (each freed unit must go to the lowest waiting position of its variant)."""
    from reservations.demo import ensure_synthetic_reservations
    from reservations.models import CancelledBy, Reservation
    from reservations.services import cancel_reservation

    result: dict = {"idle": [], "line": [], "change": [], "wall": [], "wrong": []}
    vacuum_analyze()
    for run in range(1, args.tick_runs + 1):
        wall, seconds, released, allocated = tick(campaign)
        result["idle"].append(seconds)
        result["wall"].append(wall)
        result["wrong"] += [] if released == allocated == 0 else [f"idle run {run} changed"]
        say(
            f"idle tick {run}/{args.tick_runs}: {seconds * 1000:.1f} ms ({wall * 1000:.1f} in all)"
        )
    total = scalar("SELECT count(*) FROM reservations_reservation")
    ensure_synthetic_reservations(campaign, total + args.newcomers)
    vacuum_analyze()
    for run in range(1, args.tick_runs + 1):
        wall, seconds, released, allocated = tick(campaign)
        result["line"].append(seconds)
        result["wall"].append(wall)
        result["wrong"] += [] if released == allocated == 0 else [f"line run {run} changed"]
        say(
            f"tick with {args.newcomers:,} waiting, no stock {run}/{args.tick_runs}:"
            f" {seconds * 1000:.1f} ms"
        )
    for run in range(1, args.tick_runs + 1):
        ids = [
            row[0]
            for row in execute(CANCELLABLE, {"campaign": campaign.pk, "count": args.cancels})
        ]
        for reservation in Reservation.objects.filter(pk__in=ids):
            cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
        wall, seconds, released, allocated = tick(campaign)
        result["change"].append((seconds, released, allocated))
        result["wall"].append(wall)
        passed = scalar(PASSED_OVER, {"campaign": campaign.pk})
        idle_units, counters = execute(LEFT_UNDONE, {"campaign": campaign.pk})[0]
        # Since 03f86dc a cancel releases its unit itself; the tick releases what is left.
        held = scalar(STILL_HELD, {"ids": ids})
        if held or passed or idle_units or counters:
            result["wrong"].append(
                f"change run {run}: {held} of {len(ids)} cancelled still hold a unit,"
                f" {passed} passed over,"
                f" {idle_units} variants with a unit idle while someone waits,"
                f" {counters} lot counters off"
            )
        say(
            f"tick after {len(ids)} cancellations {run}/{args.tick_runs}:"
            f" {seconds * 1000:.1f} ms ({wall * 1000:.1f} ms in all), released {released},"
            f" allocated {allocated}"
        )
    return result


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def milliseconds(runs: list[float]) -> str:
    return ", ".join(f"{x * 1000:.1f}" for x in runs)


def print_ticks(args, ticks: dict) -> bool:
    """The tick table; returns whether the idle tick meets its target."""
    idle = statistics.median(ticks["idle"])
    line = statistics.median(ticks["line"])
    change = statistics.median(seconds for seconds, _, _ in ticks["change"])
    print(f"{'beat tick (allocate_campaign), database time':<62}{'ms':>9}   runs")
    print(f"  {'nothing to do, median':<60}{idle * 1000:>9.1f}   {milliseconds(ticks['idle'])}")
    print(
        f"  {f'{args.newcomers:,} more waiting, no free unit, median':<60}{line * 1000:>9.1f}"
        f"   {milliseconds(ticks['line'])}"
    )
    print(
        f"  {f'after {args.cancels} cancellations, median':<60}{change * 1000:>9.1f}   "
        + ", ".join(f"{s * 1000:.1f} ({r} released, {a} allocated)" for s, r, a in ticks["change"])
    )
    print(
        f"  {'wall-clock time of the same ticks (Python, Redis publish)':<60}"
        f"{'':>9}   {milliseconds(ticks['wall'])}"
    )
    print()
    return idle <= TARGET_IDLE_TICK_SECONDS


def print_summary(args, setup: dict[str, float], alloc: dict, pipeline: list[dict]) -> bool:
    """The summary table; returns whether every count checks out."""
    met = {True: "met", False: "NOT met"}
    bare = {floor: statistics.median(runs) for floor, runs in alloc["bare"].items()}
    allocation = statistics.median(alloc["allocation"])
    ratio = {floor: allocation / seconds for floor, seconds in bare.items()}
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "-uno") else ""
    rows = [
        ("create and migrate the database", setup["migrate"]),
        (
            f"{args.reservations:,} reservations (ensure_synthetic_reservations)",
            setup["reservations"],
        ),
        ("stock lots, VACUUM ANALYZE", setup["lots"]),
    ] + [
        (f"{r['submitted']:,} orders (submit_synthetic_orders), batch {r['batch']}", r["setup"])
        for r in pipeline
    ]
    print()
    print(f"commit {git('rev-parse', '--short', 'HEAD')}{dirty}")
    print(
        f"load average (1 min) at start {setup['load']:.2f}, at end {os.getloadavg()[0]:.2f},"
        f" on {os.cpu_count()} CPUs"
    )
    print(
        f"{args.reservations:,} reservations over {VARIANTS} variants; pipeline: {WORKERS}"
        f" solo-pool Celery workers, {args.orders:,} fresh orders per batch size"
    )
    if args.analyze_each_variant:
        print("ANALYZE fulfillment_allocation after each variant (--analyze-each-variant)")
    print()
    print(f"{'setup':<62}{'seconds':>9}")
    for label, seconds in rows:
        print(f"  {label:<60}{seconds:>9.1f}")
    print()
    print(f"{'allocation, all variants':<62}{'seconds':>9}   runs")
    for floor, label in FLOOR_LABELS.items():
        print(
            f"  {label + ', median':<60}{bare[floor]:>9.2f}   "
            + ", ".join(f"{x:.2f}" for x in alloc["bare"][floor])
        )
    print(
        f"  {'allocate_campaign (with one notification per unit), median':<60}"
        f"{allocation:>9.2f}   " + ", ".join(f"{x:.2f}" for x in alloc["allocation"])
    )
    for floor in FLOORS:
        print(f"  {'ratio to the ' + floor + ' floor':<60}{ratio[floor]:>9.2f}")
    print(
        f"  rows: allocations {alloc['rows']:,}, 'allocation.reserved' notifications"
        f" {alloc['notices']:,}, bare {alloc['marked']:,}, differing {alloc['differ']:,}"
    )
    slowest = sorted(alloc["variants"], key=lambda pair: -pair[1])[:3]
    print("  slowest variants (last run): " + ", ".join(f"{v}: {x:.2f} s" for v, x in slowest))
    print()
    print("pipeline received -> preparing   orders  seconds  orders/s   history   notices")
    for r in pipeline:
        print(
            f"  PIPELINE_BATCH_SIZE {r['batch']:<6}{r['moved']:>13,}{r['seconds']:>9.2f}"
            f"{r['rate']:>10,.0f}{r['history']:>10,}{r['notices']:>10,}"
            + ("   TIMED OUT" if r["timed_out"] else "")
        )
    print()
    for floor, label in FLOOR_LABELS.items():
        print(
            f"target allocation within {TARGET_ALLOCATION_RATIO:.0f}x of the {label}:"
            f" {met[ratio[floor] <= TARGET_ALLOCATION_RATIO]} ({ratio[floor]:.2f}x)"
        )
    for r in pipeline:
        print(
            f"target pipeline >= {TARGET_ORDERS_PER_SECOND:,.0f} orders/s, batch {r['batch']}:"
            f" {met[r['rate'] >= TARGET_ORDERS_PER_SECOND]} ({r['rate']:,.0f}/s)"
        )
    allocation_ok = alloc["differ"] == 0 and (
        alloc["rows"] == alloc["notices"] == alloc["marked"] == args.reservations
    )
    pipeline_ok = all(
        r["moved"] == r["history"] == r["notices"] == r["waiting"] == r["submitted"]
        and not r["timed_out"]
        for r in pipeline
    )
    print(
        f"counts: allocation {'correct' if allocation_ok else 'WRONG'} (every reservation,"
        " the bare statement's rows, one notification each); pipeline"
        f" {'correct' if pipeline_ok else 'WRONG'} (every order, one history row and one"
        " notification each)"
    )
    return allocation_ok and pipeline_ok


def auto_explain(milliseconds: int) -> None:
    """Plans (with actual rows and times) of the driver's statements, nested ones included,
    that take longer than `milliseconds`, to .local/bench/fulfillment-plans.txt."""
    from django.db import connection

    for statement in [
        "LOAD 'auto_explain'",
        f"SET auto_explain.log_min_duration = {milliseconds}",
        "SET auto_explain.log_analyze = on",
        "SET auto_explain.log_buffers = on",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = notice",
    ]:
        execute(statement)
    plans = (STATE / "fulfillment-plans.txt").open("w")

    def write(diagnostic) -> None:
        if diagnostic.message_primary.startswith("duration:"):
            plans.write(f"[{time.monotonic() - STARTED:.1f} s] {diagnostic.message_primary}\n\n")
            plans.flush()

    connection.connection.add_notice_handler(write)
    say(f"Plans of statements over {milliseconds} ms go to {plans.name}")


def positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reservations", type=positive, default=1_000_000)
    parser.add_argument(
        "--orders",
        type=positive,
        default=200_000,
        help="orders submitted for each pipeline run (fresh ones each run)",
    )
    parser.add_argument(
        "--batch-sizes",
        default="2000,5000",
        help="PIPELINE_BATCH_SIZE values to run, comma-separated",
    )
    parser.add_argument("--allocation-runs", type=positive, default=1)
    parser.add_argument(
        "--analyze-each-variant",
        action="store_true",
        help="ANALYZE fulfillment_allocation after each variant's allocation (inside the"
        " timed run): measures the fix for plans made on an allocation table analysed empty",
    )
    parser.add_argument(
        "--auto-explain",
        type=positive,
        metavar="MS",
        help="write the plans of the driver's statements slower than MS",
    )
    parser.add_argument("--tick-runs", type=positive, default=3)
    parser.add_argument(
        "--newcomers",
        type=positive,
        default=100,
        help="reservations added after the pipeline, waiting for a unit during the ticks",
    )
    parser.add_argument(
        "--cancels",
        type=positive,
        default=20,
        help="holders cancelled before each small-change tick",
    )
    parser.add_argument(
        "--pipeline-deadline",
        type=positive,
        default=300,
        help="seconds a pipeline run may take before it is abandoned",
    )
    args = parser.parse_args()
    batches = [positive(b) for b in args.batch_sizes.split(",")]
    if args.orders * len(batches) > args.reservations:
        parser.error("--orders times the number of batch sizes exceeds --reservations")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally clauses
    sys.path.insert(0, str(ROOT))
    STATE.mkdir(parents=True, exist_ok=True)
    env = bench_environment()
    os.environ.update(env)
    setup: dict[str, float] = {"load": os.getloadavg()[0]}

    say(f"Resetting {BENCH_DATABASE} and Redis database {BENCH_REDIS_DB}")
    started = time.perf_counter()
    reset_stores(env["DATABASE_URL"], env["REDIS_URL"], BENCH_DATABASE)
    import django
    from django.core.management import call_command

    django.setup()
    from reservations.demo import ensure_synthetic_reservations

    call_command("migrate", interactive=False, verbosity=0)
    execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
    if args.auto_explain:
        auto_explain(args.auto_explain)
    setup["migrate"] = time.perf_counter() - started
    campaign = create_campaign()

    say(f"Creating {args.reservations:,} reservations over {VARIANTS} variants")
    setup["reservations"], made = timed(ensure_synthetic_reservations, campaign, args.reservations)
    if made != args.reservations:
        raise SystemExit(f"made {made:,} reservations, not {args.reservations:,}")
    say(f"{made:,} reservations in {setup['reservations']:.1f} s; stock lots")
    setup["lots"], _ = timed(lambda: (create_lots(campaign), vacuum_analyze()))

    alloc = allocation_benchmark(campaign, args.allocation_runs, args.analyze_each_variant)
    pipeline = [
        pipeline_run(env, campaign, args.orders, batch, args.pipeline_deadline)
        for batch in batches
    ]
    ticks = tick_benchmark(campaign, args)
    counts_ok = print_summary(args, setup, alloc, pipeline)
    idle_ok = print_ticks(args, ticks)
    met = {True: "met", False: "NOT met"}
    print(
        f"target idle tick <= {TARGET_IDLE_TICK_SECONDS * 1000:.0f} ms:"
        f" {met[idle_ok]} ({statistics.median(ticks['idle']) * 1000:.1f} ms)"
    )
    print(
        "ticks: "
        + (
            "correct (idle ones change nothing; freed units go to the lowest waiting positions)"
            if not ticks["wrong"]
            else "WRONG: " + "; ".join(ticks["wrong"])
        )
    )
    if not counts_ok or ticks["wrong"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
