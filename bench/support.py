"""Support desk under a launch-day burst (issue 14, item 6): 5,000 tickets opened at once
through the HTTP stack, beside the reservation-intake floor of the same run, and how long
until every acknowledgement has been handed to a simulated SMS provider.

Run by bench/support.sh (`make bench-support`), which has started PostgreSQL and Redis and
exported DATABASE_URL and REDIS_URL. This driver:

1. recreates the database preorder_shop_bench_support (the dev data is untouched), migrates
   it, and uses Redis database 5 for cache, sessions, the Celery broker and the provider's
   token bucket;
2. creates the demo campaign and N signed-in customers, each with a reservation made through
   reservations.services.reserve (so each ticket is about a reservation in line, and its
   acknowledgement renders the live status and place: the real send-time cost);
3. starts gunicorn (preorder_shop/gunicorn.py, DEBUG off, full middleware), one real Celery
   worker (prefork, --concurrency, as docker-compose runs it) and Celery beat (its outbox
   sweep retries what the provider refused), with SMS_CHANNEL=bench.channels.
   ThrottledSmsChannel: 50 ms a call, 100 messages/s, 429 beyond; the outbox is told the
   provider's rate (SMS_SEND_RATE, preorder_shop.pacing), as it would be told a real
   provider's contracted rate, so its senders wait for their turn;
4. drives the floor (bench/floor/, one bare INSERT) with wrk at 32 connections for 3 runs,
   then per burst POSTs one ticket per customer through the ticket form a customer uses
   (/support/tickets/new/: the customer's session and CSRF token, the category, the
   reservation picked as the subject, the message, the form's idempotency key) as fast as 32
   connections go, and waits until every acknowledgement row is sent;
5. prints tickets/s and p99 beside the floor, the time until the last acknowledgement was
   handed to the provider, queue wait p50/p99 (outbox row queued -> provider accepted),
   the provider's refusals, and the medians over the bursts.

Bursts after the first use another category, so the duplicate rule (same customer,
category and reservation within 24 hours) does not fold them into the first tickets.
"""

import argparse
import json
import os
import secrets
import signal
import statistics
import string
import subprocess
import sys
import time
from pathlib import Path

# Run as a script, so this folder is on sys.path.
from intake import (
    CONNECTIONS,
    THREADS,
    bench_environment,
    create_signed_in_customers,
    free_port,
    run_wrk,
    say,
    start_gunicorn,
    stop_gunicorn,
    wait_until_ready,
    worker_pids,
)
from stores import reset_stores, with_path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "bench"
BENCH_DATABASE = "preorder_shop_bench_support"
BENCH_REDIS_DB = 5
WORKER_PIDS = STATE / "support-workers.pid"  # bench/support.sh stops leftovers
FLOOR_RUNS, FLOOR_SECONDS, WARMUP_SECONDS = 3, 5, 2
CATEGORIES = ["where_is_my_phone", "cancel", "other", "promotion", "plan_and_join_type"]
DRAIN_LIMIT_SECONDS = 240
STALL_SECONDS = 3
PROVIDER_RATE, PROVIDER_BURST = 100, 100  # bench.channels.RATE and BURST


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000, help="tickets per burst")
    parser.add_argument("--bursts", type=int, default=1, help="bursts (medians over them)")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="the Celery worker's prefork processes"
    )
    return parser.parse_args()


def environment() -> dict[str, str]:
    redis_url = with_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}")
    return {
        **bench_environment(),
        "DATABASE_URL": with_path(os.environ["DATABASE_URL"], f"/{BENCH_DATABASE}"),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "SMS_CHANNEL": "bench.channels.ThrottledSmsChannel",
        "SMS_SEND_RATE": f"{PROVIDER_RATE}/{PROVIDER_BURST}",
        "EMAIL_CHANNEL": "bench.channels.ThrottledSmsChannel",  # no e-mail is given anyway
    }


def prepare(count: int) -> tuple[list[str], list[str]]:
    """Migrate, create the campaign, `count` signed-in customers and a reservation each;
    return the session keys and the reservation numbers, in the same order."""
    import uuid

    import django
    from django.core.management import call_command

    django.setup()
    from preorder_shop.customer_session import SESSION_KEY
    from reservations.demo import ensure_demo_campaign
    from reservations.services import reserve

    say(f"Migrating {BENCH_DATABASE}")
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    campaign = ensure_demo_campaign()
    variants = list(campaign.variants.select_related("campaign"))
    say(f"Creating {count:,} signed-in customers with a reservation each")
    keys = create_signed_in_customers(count)
    from django.contrib.sessions.backends.cached_db import SessionStore

    numbers = []
    for i, key in enumerate(keys):
        customer_id = SessionStore(session_key=key).load()[SESSION_KEY]
        reservation = reserve(
            customer_id=customer_id,
            variant=variants[i % len(variants)],
            fulfilment="courier",
            idempotency_key=uuid.uuid4(),
        )
        numbers.append(reservation.number)
    from reservations.tasks import refresh_line_counts

    refresh_line_counts()
    return keys, numbers


def start_celery(env: dict[str, str], args: list[str], name: str) -> subprocess.Popen:
    log = (STATE / f"support-{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "preorder_shop", *args, "--loglevel", "INFO"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    with WORKER_PIDS.open("a") as pids:
        pids.write(f"{process.pid}\n")
    return process


def wait_for_worker(worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {STATE}/support-worker.log")
        if " ready." in (STATE / "support-worker.log").read_text():
            return
        time.sleep(0.1)
    raise SystemExit(f"the worker did not come up; see {STATE}/support-worker.log")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    WORKER_PIDS.unlink(missing_ok=True)


def run_burst(url: str, keys_file: Path, csrf: str, category: str, expected: int) -> dict:
    """wrk POSTs every line of `keys_file` once; it is stopped (SIGINT: it still reports)
    once the tickets are all in the database, or none has come for STALL_SECONDS."""
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", "600s", "--latency"]
    command += ["--timeout", "30s", "-s", str(ROOT / "bench" / "support.lua"), url, "--"]
    command += [str(keys_file), str(THREADS), csrf, category]
    before, output = ticket_count(), STATE / f"wrk-support-{category}.txt"
    with output.open("w") as out:
        wrk = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        opened, changed = 0, time.monotonic()
        while wrk.poll() is None and opened < expected:
            time.sleep(0.2)
            if (now := ticket_count() - before) != opened:
                opened, changed = now, time.monotonic()
            elif opened and time.monotonic() - changed > STALL_SECONDS:
                break
        wrk.send_signal(signal.SIGINT)
        wrk.wait(timeout=60)
    for line in output.read_text().splitlines():
        if line.startswith("BENCH "):
            return json.loads(line.removeprefix("BENCH "))
    raise SystemExit(f"wrk failed ({wrk.returncode}); see {output}")


def opening_figures(started: float) -> dict:
    """Tickets opened since `started` (Unix time), and the seconds from `started` to the
    last one's opening (its created_at, stamped when the service began)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), max(extract(epoch FROM created_at)) - %s FROM support_ticket"
            " WHERE created_at >= to_timestamp(%s)",
            [started, started],
        )
        count, last = cursor.fetchone()
    return {"tickets": count, "opening_seconds": float(last)}


def requeue_acknowledgements(category: str) -> tuple[float, int]:
    """Queue the acknowledgement of every ticket of `category` again (another key), in one
    transaction, while the worker runs: all of them wait at once, so the drain shows the
    worker and the provider alone. Returns the commit time (Unix) and the rows queued."""
    from django.db import transaction

    from support.acknowledgement import ACK
    from support.models import Ticket
    from support.notices import queue_notice

    with transaction.atomic():
        tickets = list(Ticket.objects.filter(category=category))
        for ticket in tickets:
            queue_notice(ticket=ticket, template_key=ACK, key="bench-drain")
        committed = time.time()  # the tasks go to the broker on commit, right after
    return committed, len(tickets)


def ack_figures(started: float, key_like: str) -> dict:
    """Acknowledgements queued since `started` (Unix time) whose idempotency key is LIKE
    `key_like`: how many, how many sent or failed, queue wait percentiles (seconds from
    the later of queued and `started` to sent), and when the last was handed over, seconds
    after `started`."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE status = 'sent'),
                   count(*) FILTER (WHERE status = 'failed'),
                   count(*) FILTER (WHERE attempts > 1),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY
                       extract(epoch FROM sent_at - greatest(created_at, to_timestamp(%s)))),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY
                       extract(epoch FROM sent_at - greatest(created_at, to_timestamp(%s)))),
                   max(extract(epoch FROM sent_at)) - %s,
                   min(extract(epoch FROM created_at)) - %s,
                   max(extract(epoch FROM created_at)) - %s
              FROM preorder_shop_outboxmessage
             WHERE template_key = 'support.ack' AND idempotency_key LIKE %s
               AND created_at >= to_timestamp(%s) - interval '60 seconds'
            """,
            [started, started, started, started, started, key_like, started],
        )
        row = cursor.fetchone()
    names = ["queued", "sent", "failed", "retried", "wait_p50", "wait_p99", "last_sent"]
    row = [float(value) if value is not None else None for value in row]
    return dict(zip([*names, "first_queued", "last_queued"], row, strict=True))


def ticket_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM support_ticket")
        return cursor.fetchone()[0]


def drain(started: float, expected: int, key_like: str) -> dict:
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while True:
        figures = ack_figures(started, key_like)
        if (figures["sent"] or 0) + (
            figures["failed"] or 0
        ) >= expected or time.monotonic() > deadline:
            figures["complete"] = figures["sent"] + figures["failed"] >= expected
            return figures
        time.sleep(0.5)


def provider_counts() -> dict:
    import redis
    from django.conf import settings

    from bench.channels import ACCEPTED, THROTTLED

    store = redis.Redis.from_url(settings.REDIS_URL)
    return {"accepted": store.zcard(ACCEPTED), "throttled": int(store.get(THROTTLED) or 0)}


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally clauses
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    STATE.mkdir(parents=True, exist_ok=True)
    env = environment()
    os.environ.update(env)
    say(f"Resetting {BENCH_DATABASE} and Redis database {BENCH_REDIS_DB}")
    reset_stores(env["DATABASE_URL"], env["REDIS_URL"], BENCH_DATABASE)
    keys, numbers = prepare(args.tickets)
    keys_file = STATE / "support-keys.txt"
    keys_file.write_text("".join(f"{k} {n}\n" for k, n in zip(keys, numbers, strict=True)))
    load_before = os.getloadavg()[0]

    port = free_port()
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    floor_url = f"http://127.0.0.1:{port}/bench/floor/"
    ticket_url = f"http://127.0.0.1:{port}/support/tickets/new/"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM reservations_variant ORDER BY id")
        variants = ",".join(str(row[0]) for row in cursor.fetchall())
    say(f"Starting gunicorn on 127.0.0.1:{port}, a worker ({args.concurrency} processes), beat")
    server = start_gunicorn(env, port)
    worker = start_celery(
        env,
        ["worker", "--concurrency", str(args.concurrency), "-n", "support@bench"],
        "worker",
    )
    beat = start_celery(env, ["beat", "--schedule", str(STATE / "support-beat")], "beat")
    floors, bursts = [], []
    try:
        wait_until_ready(server, port, "/")
        wait_for_worker(worker)
        gunicorn_workers = len(worker_pids(server.pid))
        for run in ["warm-up"] + [str(i) for i in range(1, FLOOR_RUNS + 1)]:
            seconds = WARMUP_SECONDS if run == "warm-up" else FLOOR_SECONDS
            say(f"floor {run}: {seconds} s")
            figures = run_wrk(
                f"support-floor-{run}", floor_url, seconds, ["floor", "-", "1", csrf, variants]
            )
            if run != "warm-up":
                floors.append(figures)
                p99 = figures["p99_us"] / 1000
                print(f" floor {run:>7}: {figures['rate']:7.1f} req/s, p99 {p99:6.1f} ms")
        for burst in range(1, args.bursts + 1):
            category = CATEGORIES[(burst - 1) % len(CATEGORIES)]
            say(f"burst {burst}: {args.tickets:,} tickets ({category})")
            started = time.time()
            figures = run_burst(ticket_url, keys_file, csrf, category, args.tickets)
            figures.update(opening_figures(started))
            figures["rate"] = figures["tickets"] / figures["opening_seconds"]
            figures.update(drain(started, figures["tickets"], "%:opened:sms"))
            figures["burst"] = burst
            say(f"burst {burst}: queuing its {figures['tickets']:,} acknowledgements again")
            committed, queued = requeue_acknowledgements(category)
            held = drain(committed, queued, "%:bench-drain:sms")
            figures.update({f"held_{name}": value for name, value in held.items()})
            bursts.append(figures)
            print_burst(figures)
        figures_provider = provider_counts()
    finally:
        say("Stopping gunicorn, the worker and beat")
        stop_gunicorn(server)
        stop([worker, beat])
    print_summary(floors, bursts, figures_provider, gunicorn_workers, args, load_before)


def print_burst(r: dict) -> None:
    print(
        f" burst {r['burst']}: {r['tickets']} tickets opened in {r['opening_seconds']:.1f} s ="
        f" {r['rate']:.1f} tickets/s; wrk: p50 {r['p50_us'] / 1000:.0f} ms, p99"
        f" {r['p99_us'] / 1000:.0f} ms over {r['requests']} requests ({r['repeats']} idempotent"
        f" repeats at the end), non-2xx/3xx {r['non_2xx_3xx']}, socket errors"
        f" {r['socket_errors']}\n"
        f"   live: {r['sent']:.0f} of {r['queued']:.0f} acknowledgements sent, {r['failed']:.0f}"
        f" failed, {r['retried']:.0f} retried after a 429; the last handed over"
        f" {r['last_sent']:.1f} s after the burst began; queue wait p50 {r['wait_p50']:.2f} s,"
        f" p99 {r['wait_p99']:.2f} s" + ("" if r["complete"] else "  INCOMPLETE") + "\n"
        f"   all {r['held_queued']:.0f} queued at once: the last handed over"
        f" {r['held_last_sent']:.1f} s after the commit; queue wait p50"
        f" {r['held_wait_p50']:.1f} s, p99 {r['held_wait_p99']:.1f} s; {r['held_retried']:.0f}"
        f" retried after a 429, {r['held_failed']:.0f} failed"
        + ("" if r["held_complete"] else "  INCOMPLETE"),
        flush=True,
    )


def print_summary(floors, bursts, provider, gunicorn_workers, args, load_before) -> None:
    def median(rows: list[dict], field: str) -> float:
        return statistics.median(r[field] for r in rows)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print()
    print(
        f"commit {commit}; load average before the runs {load_before:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"gunicorn: {gunicorn_workers} sync workers; wrk: {THREADS} threads, {CONNECTIONS}"
        f" connections; Celery: 1 worker, {args.concurrency} prefork processes, beat"
    )
    print(
        f"medians: floor of {FLOOR_RUNS} runs of {FLOOR_SECONDS} s;"
        f" {len(bursts)} burst(s) of {args.tickets:,} tickets"
    )
    print()
    floor_rate = median(floors, "rate")
    ticket_rate = median(bursts, "rate")
    print(f"floor    {floor_rate:8.1f} req/s      p99 {median(floors, 'p99_us') / 1000:7.1f} ms")
    print(
        f"tickets  {ticket_rate:8.1f} tickets/s  p99 {median(bursts, 'p99_us') / 1000:7.1f} ms"
        f"   ({ticket_rate / floor_rate:.2f} of the floor)"
    )
    least = args.tickets / PROVIDER_RATE
    print()
    print(
        f"live (the worker sends while tickets arrive): every acknowledgement handed to the"
        f" provider {median(bursts, 'last_sent'):.1f} s after the burst began (tickets took"
        f" {median(bursts, 'opening_seconds'):.1f} s); queue wait p50"
        f" {median(bursts, 'wait_p50'):.2f} s, p99 {median(bursts, 'wait_p99'):.2f} s"
    )
    held = median(bursts, "held_last_sent")
    print(
        f"all queued at once: the last handed over after {held:.1f} s; the provider's"
        f" {PROVIDER_RATE}/s allows {least:.0f} s at best ({least / held:.0%} of its limit);"
        f" queue wait p50 {median(bursts, 'held_wait_p50'):.1f} s,"
        f" p99 {median(bursts, 'held_wait_p99'):.1f} s"
    )
    print(
        f"provider: {provider['accepted']} accepted, {provider['throttled']} refused with 429;"
        f" {sum(r['failed'] for r in bursts)} acknowledgements failed for good"
    )


if __name__ == "__main__":
    main()
