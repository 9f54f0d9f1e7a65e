"""Bulk reply to 5,000 tickets (issue 15, section 6): seconds until every message is queued
(target under 10 s), and until a simulated SMS provider has accepted them all against its
rate limit (bench.channels: 50 ms a call, 100 messages/s, so at least 50 s).

Run by bench/bulk_reply.sh (`make bench-bulk-reply`), which has started PostgreSQL and Redis
and exported DATABASE_URL and REDIS_URL. This driver:

1. recreates the database preorder_shop_bench_bulk_reply (the dev data is untouched) and
   uses Redis database 7 for cache, the Celery broker and the provider's token bucket;
2. creates the demo campaign, N customers each with a reservation (reservations.services.
   reserve, so each is in line) and an open "where is my phone" ticket about it
   (support.services.open_ticket); the acknowledgements of this seeding are marked sent and
   the broker emptied, so the provider sends only the bulk replies;
3. starts one real Celery worker (prefork, --concurrency) and beat (its sweep retries what
   the provider refused) with SMS_CHANNEL=bench.channels.ThrottledSmsChannel;
4. per run: previews the bulk reply of a canned reply with every placeholder to all open
   tickets (support.services.bulk_reply.preview), confirms it (bulk_reply: the service the
   admin action calls), and waits until every message of the run has been sent. The runs
   move the tickets open -> answered -> waiting on customer -> answered, so each run moves
   every ticket (an UPDATE and history rows), as the first one does;
5. prints per run the preview's and the confirmation's seconds (until committed: every
   message and outbox row is in the database), the seconds until the provider had accepted
   the last one, 429 refusals and retries, and the medians of the runs.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import channels  # noqa: E402
from bench.intake import bench_environment, say  # noqa: E402
from bench.stores import reset_stores, with_path  # noqa: E402

STATE = ROOT / ".local" / "bench"
BENCH_DATABASE = "preorder_shop_bench_bulk_reply"
BENCH_REDIS_DB = 7
WORKER_PIDS = STATE / "bulk-reply-workers.pid"  # bench/bulk_reply.sh stops leftovers
DRAIN_LIMIT_SECONDS = 400
STATUSES = ["answered", "waiting_on_customer", "answered"]
TEXT_KO = (
    "주문 상태: {status}. 대기 순번: {place}. 택배사 {courier}, 송장번호 {tracking_number}. "
    "예상 배송일: {expected_date}."
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="bulk replies (medians over them)")
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
        # The provider's rate, as production is told its provider's (preorder_shop.pacing).
        "SMS_SEND_RATE": f"{channels.RATE:g}/{channels.BURST}",
        "EMAIL_CHANNEL": "bench.channels.ThrottledSmsChannel",  # no e-mail is given anyway
    }


def prepare(count: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    from bench.intake import create_signed_in_customers
    from reservations.demo import ensure_demo_campaign
    from reservations.services import reserve
    from reservations.tasks import refresh_line_counts
    from support import services
    from support.models import TicketCategory

    say(f"Migrating {BENCH_DATABASE}")
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    campaign = ensure_demo_campaign()
    variants = list(campaign.variants.select_related("campaign"))
    say(f"Creating {count:,} customers, each with a reservation and an open ticket")
    create_signed_in_customers(count)
    from preorder_shop.models import Customer

    for i, customer in enumerate(Customer.objects.order_by("pk")):
        reservation = reserve(
            customer_id=customer.pk,
            variant=variants[i % len(variants)],
            fulfilment="courier",
            idempotency_key=uuid.uuid4(),
        )
        services.open_ticket(
            customer=customer,
            reservation=reservation,
            category=TicketCategory.WHERE_IS_MY_PHONE,
            body="제 폰은 언제 오나요?",
            idempotency_key=uuid.uuid4(),
        )
    refresh_line_counts()
    with connection.cursor() as cursor:  # the seeding's acknowledgements are not measured
        cursor.execute(
            "UPDATE preorder_shop_outboxmessage SET status = 'sent', sent_at = now()"
            " WHERE status = 'pending'"
        )
        cursor.execute("ANALYZE")


def start_celery(env: dict[str, str], args: list[str], name: str) -> subprocess.Popen:
    log = (STATE / f"bulk-reply-{name}.log").open("w")
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
    log = STATE / "bulk-reply-worker.log"
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {log}")
        if " ready." in log.read_text():
            return
        time.sleep(0.1)
    raise SystemExit(f"the worker did not come up; see {log}")


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


def run_once(macro, status: str) -> dict:
    from django.contrib.auth import get_user_model

    from support.models import Ticket
    from support.services import bulk_reply as bulk

    agent, _ = get_user_model().objects.get_or_create(username="bench-agent", is_staff=True)
    tickets = Ticket.objects.filter(category="where_is_my_phone")
    started = time.time()
    preview = bulk.preview(tickets=tickets, macro=macro, status=status)
    previewed = time.time()
    replied = bulk.bulk_reply(
        tickets=tickets,
        macro=macro,
        staff_user=agent,
        expected=preview.count,
        expected_fingerprint=preview.fingerprint,
        idempotency_key=uuid.uuid4(),
        status=status,
    )
    committed = time.time()
    figures = {
        "previewed": preview.count,
        "sent": replied.count,
        "preview_seconds": previewed - started,
        "queue_seconds": committed - previewed,
    }
    figures.update(drain(previewed, replied.count))
    return figures


def drain(since: float, expected: int) -> dict:
    from django.db import connection

    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT count(*), count(*) FILTER (WHERE status = 'sent'),
                       count(*) FILTER (WHERE status = 'failed'),
                       count(*) FILTER (WHERE attempts > 1),
                       max(extract(epoch FROM sent_at)) - %s
                  FROM preorder_shop_outboxmessage
                 WHERE template_key = 'support.reply' AND created_at >= to_timestamp(%s)
                """,
                [since, since],
            )
            queued, sent, failed, retried, last = cursor.fetchone()
        if sent + failed >= expected or time.monotonic() > deadline:
            return {
                "queued": queued,
                "delivered": sent,
                "failed": failed,
                "retried": retried,
                "provider_seconds": float(last or 0),
                "complete": sent + failed >= expected,
            }
        time.sleep(0.5)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally clauses
    args = parse_args()
    STATE.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(  # the code this run loads, read before it is imported
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    env = environment()
    os.environ.update(env)
    say(f"Resetting {BENCH_DATABASE} and Redis database {BENCH_REDIS_DB}")
    reset_stores(env["DATABASE_URL"], env["REDIS_URL"], BENCH_DATABASE)
    prepare(args.tickets)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # the seeding's send tasks
    from support.models import Macro

    macro = Macro.objects.create(title_ko="배송 안내", body_ko=TEXT_KO)
    load_before = os.getloadavg()[0]
    say(f"Starting a Celery worker ({args.concurrency} processes) and beat")
    worker = start_celery(
        env, ["worker", "--concurrency", str(args.concurrency), "-n", "bulk@bench"], "worker"
    )
    beat = start_celery(env, ["beat", "--schedule", str(STATE / "bulk-reply-beat")], "beat")
    runs = []
    try:
        wait_for_worker(worker)
        for run in range(args.runs):
            status = STATUSES[run % len(STATUSES)]
            say(f"run {run + 1}: bulk reply to every ticket, leaving them {status}")
            figures = run_once(macro, status)
            runs.append(figures)
            print(
                f" run {run + 1}: {figures['sent']} of {figures['previewed']} previewed;"
                f" preview {figures['preview_seconds']:.1f} s, queued (committed) in"
                f" {figures['queue_seconds']:.1f} s; provider accepted the last"
                f" {figures['provider_seconds']:.1f} s after the confirmation;"
                f" {figures['delivered']} sent, {figures['failed']} failed,"
                f" {figures['retried']} retried after a 429"
                + ("" if figures["complete"] else "  INCOMPLETE"),
                flush=True,
            )
    finally:
        say("Stopping the worker and beat")
        stop([worker, beat])
    print()
    print(f"commit {commit}; load average before the runs {load_before:.2f}")
    print(f"{os.cpu_count()} CPUs")
    print(f"Celery: 1 worker, {args.concurrency} prefork processes, beat; {args.runs} runs")
    for field, label in (
        ("preview_seconds", "preview"),
        ("queue_seconds", "every message queued (target < 10 s)"),
        ("provider_seconds", "all sent through the provider (100/s: >= 50 s)"),
    ):
        median = statistics.median(r[field] for r in runs)
        print(f"median {label}: {median:.1f} s")


if __name__ == "__main__":
    main()
