"""Chaos tests for the stores: PostgreSQL and Redis restarted under real processes.

1. PostgreSQL restarted (fast shutdown: every connection terminated, open transactions rolled
   back) while a real Celery worker moves the pipeline and sends the outbox, and once more
   while the worker is idle, before a burst of sign-in codes: every message is sent exactly
   once and every order moves, by the same worker processes, with no manual step and no
   beat. The cluster is this test's own, thrown away after it; the shared test cluster
   serves concurrent runs and is never restarted.
2. Redis restarted under real HTTP intake against gunicorn: every request is answered 2xx,
   3xx, 429 or 503 with Retry-After, never 500; every reservation the server confirmed is in
   the database, and nothing is there that was not confirmed; a number locked after five
   wrong codes is still locked after the restart.

Bounded: every wait has a deadline, every process is killed in a finally clause.
"""

import collections
import contextlib
import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from celery import Celery
from django.test import override_settings

from preorder_shop import ratelimit
from preorder_shop.services import WRONG_CODES_PER_PHONE
from reservations.models import Reservation
from reservations.tests.factories import CampaignFactory, VariantFactory
from tests.processes import (
    PrivatePostgres,
    PrivateRedis,
    children,
    free_port,
    manage,
    start_web,
    start_worker,
    stop,
    stop_web,
    url_of_test_database,
    wait_until,
)

ORDERS = 600  # one variant, moved in batches of 25; each customer is told twice
MESSAGES = 200  # sign-in codes after the idle restart, each sent by its own task

# Run by `manage.py shell -c` against the private cluster (tasks go to the private broker
# after each commit). The pipeline chaos test's data: reservations with submitted orders, and
# stock for all of them, so that each customer is told of the unit (a sweep sends those).
SEED = """
import datetime as dt, json, os
from django.utils import timezone
from fulfillment.demo import submit_synthetic_orders
from fulfillment.models import StockLot
from fulfillment.services import allocation
from orders.tests.factories import RatePlanFactory
from preorder_shop.models import OutboxMessage
from reservations.demo import ensure_synthetic_reservations
from reservations.tests.factories import CampaignFactory, VariantFactory

orders = int(os.environ["ORDERS"])
campaign = CampaignFactory()
RatePlanFactory(campaign=campaign)
variant = VariantFactory(campaign=campaign)
ensure_synthetic_reservations(campaign, orders)
assert submit_synthetic_orders(campaign, orders) == orders
StockLot.objects.create(
    variant=variant, quantity=orders, reference="STORE-CHAOS",
    arrives_at=timezone.now() - dt.timedelta(hours=1),
)
allocation.allocate_variant(variant=variant)
print("SEED " + json.dumps({"variant": variant.pk, "messages": OutboxMessage.objects.count()}))
"""

# Sign-in codes as request_code queues them: a row each, its own send task after commit.
CODES = """
import os
from django.db import transaction
from preorder_shop import outbox
from preorder_shop.models import OutboxChannel

with transaction.atomic():
    for i in range(int(os.environ["MESSAGES"])):
        outbox.queue_message(
            channel=OutboxChannel.SMS, recipient=f"+821055{i:06d}", template_key="signin.code",
            payload={"code": f"{i:06d}", "minutes": 5}, idempotency_key=f"store-chaos:{i}",
            redact_when_final=True,
        )
"""

PROGRESS = """
SELECT count(*) FILTER (WHERE status = 'sent'), count(*),
       (SELECT count(*) FROM orders_order WHERE status = 'preparing'),
       (SELECT count(*) FROM orders_order WHERE status = 'received')
  FROM preorder_shop_outboxmessage
"""
# LogSmsChannel writes one line per message handed to it, with the idempotency key.
SENT_LINE = re.compile(r"SMS to \S+ \[([^\]]+)\]")


def progress(url: str) -> tuple[int, int, int, int] | None:
    """(messages sent, messages, orders preparing, orders received), or None while the
    server is down."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute(PROGRESS).fetchone()
    except psycopg.OperationalError:
        return None


def unsent(url: str) -> list[tuple]:
    with psycopg.connect(url, connect_timeout=2) as conn:
        return conn.execute(
            "SELECT id, idempotency_key, status, attempts, claimed_at, last_error"
            " FROM preorder_shop_outboxmessage WHERE status <> 'sent' ORDER BY id LIMIT 10"
        ).fetchall()


def wait_for_outbox(url: str, messages: int, *, timeout: float) -> None:
    """Until every order moved and all `messages` are sent. Returns at the deadline too;
    the caller's asserts judge."""

    def done() -> bool:
        state = progress(url)
        return bool(state) and state[0] == state[1] == messages and not state[3]

    with contextlib.suppress(TimeoutError, psycopg.OperationalError):
        wait_until(done, timeout=timeout, interval=0.2, what="all sent, all moved")


def test_postgresql_restarts_under_a_running_worker_send_each_message_once(tmp_path):
    postgres, broker = PrivatePostgres(), PrivateRedis()
    worker = log = None
    figures = {}
    try:
        postgres.start()
        broker.start()
        database_url = postgres.create_database("store_chaos")
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": broker.url(),
            "CELERY_BROKER_URL": broker.url(),
        }
        started = time.monotonic()
        manage("migrate", "--noinput", env=env)
        figures["migrate_s"] = round(time.monotonic() - started, 2)
        seed = json.loads(
            manage("shell", "-c", SEED, env={**env, "ORDERS": str(ORDERS)}).split("SEED ")[1]
        )
        messages = seed["messages"] + ORDERS  # and one "preparing" notice per order

        log_path = tmp_path / "worker.log"
        log = log_path.open("w")
        worker = start_worker(
            "celery",
            "store-chaos",
            database_url=database_url,
            broker_url=broker.url(),
            log=log,
            loglevel="INFO",  # LogSmsChannel's line per message sent
            concurrency=2,  # as deployed (docker-compose.yml)
        )
        wait_until(lambda: len(children(worker)) == 2, timeout=30, what="the worker's pool")
        pool = children(worker)
        # What beat's advance_pipeline would do. Not through the project's app: its broker is
        # the test broker (CELERY_BROKER_URL in the environment wins over any broker
        # argument), so name the connection explicitly.
        client = Celery("store-chaos-client", set_as_current=False)
        with client.connection_for_write(broker.url()) as connection:
            client.send_task(
                "fulfillment.tasks.advance_variant", args=[seed["variant"]], connection=connection
            )

        # Restart 1, in mid-run: orders are moving, and messages were sent since the last look.
        seen = [progress(database_url)]

        def in_flight() -> bool:
            seen.append(progress(database_url))
            before, now = seen[-2:]
            return bool(before and now and 0 < now[2] < ORDERS and now[0] > before[0])

        wait_until(in_flight, timeout=30, interval=0.01, what="sending while orders move")
        figures["at_restart"] = seen[-1]
        figures["restart_s"] = round(postgres.restart(), 2)
        restarted = time.monotonic()
        wait_for_outbox(database_url, messages, timeout=30)
        figures["recovered_s"] = round(time.monotonic() - restarted, 2)

        # Restart 2, with the worker idle: its connections die unused. Then a burst of codes.
        figures["idle_restart_s"] = round(postgres.restart(), 2)
        restarted = time.monotonic()
        manage("shell", "-c", CODES, env={**env, "MESSAGES": str(MESSAGES)})
        messages += MESSAGES
        wait_for_outbox(database_url, messages, timeout=30)
        figures["codes_sent_s"] = round(time.monotonic() - restarted, 2)
        alive, pool_after = worker.poll() is None, children(worker)
        end, left = progress(database_url), unsent(database_url)
    finally:
        if worker is not None:
            stop(worker)
        if log is not None:
            log.close()
        broker.close()
        postgres.close()

    worker_log = log_path.read_text()
    sends = collections.Counter(SENT_LINE.findall(worker_log))
    figures.update(
        at_end=end,
        retried=worker_log.count(" retry: Retry in "),
        # psycopg's words for a connection already known to be dead when a query is tried:
        # a task was handed the connection a restart had killed.
        on_dead_connection=worker_log.count("the connection is closed"),
        unsent=left,
    )
    print(f"\nPostgreSQL restarts: {figures}")
    assert alive, "the worker died"
    assert pool_after == pool, "a pool process was replaced"
    assert end[2:] == (ORDERS, 0), "the pipeline did not finish"
    assert [key for key, n in sends.items() if n > 1] == [], "messages sent twice"
    assert figures["on_dead_connection"] == 0, "tasks ran on a connection a restart killed"
    assert figures["retried"], "the restarts hit no task"
    assert left == [], "messages left unsent"
    assert end[0] == messages == len(sends)


# --- Redis restarted under intake ---------------------------------------------------------

SHOPPERS = 48  # each signs in with a code and reserves, over real HTTP
THREADS = 6
PHONES = "+82107700{:04d}"
LOCKED_PHONE = "+821077999999"
DEV_CODE = re.compile(r'data-testid="dev-code">(\d{6})<')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IDEMPOTENCY_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
RESERVATION_PAGE = re.compile(r"/my/reservations/(\w+)/")
REDIS_DOWN_SECONDS = 1.0  # a restart that takes a moment (a large append-only file to load)
PAUSE = 0.1  # the outage page asks for Retry-After seconds; a test cannot wait that long


@dataclass(frozen=True)
class Answer:
    method: str
    path: str
    status: int
    retry_after: str | None
    at: float


def web_environment(redis_url: str, static_root: Path) -> dict[str, str]:
    """Deployed settings (DEBUG off: errors go to the project's handler500), the test
    database, the private Redis as cache, rate-limit store and broker."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COURIER_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(static_root),
        "OTP_SHOW_CODE_ON_PAGE": "1",  # the code on the page, so a test can sign in
        "DATABASE_URL": url_of_test_database(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
    }


class Shopper:
    """One customer's browser: every answer it gets is recorded."""

    def __init__(self, base_url: str, answers: list[Answer]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15)
        self.answers = answers
        self.trail: list[Answer] = []  # this shopper's own

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        retry_after = response.headers.get("Retry-After")
        answer = Answer(method, path, response.status_code, retry_after, time.monotonic())
        self.answers.append(answer)
        self.trail.append(answer)
        return response

    def request_code(self, phone: str, next_path: str) -> bool:
        page = self.call("GET", "/signin/")
        if page.status_code != 200:
            return False
        sent = self.call(
            "POST",
            "/signin/",
            data={
                "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
                "phone": phone,
                "name": "Chaos",
                "next": next_path,
            },
        )
        return sent.status_code == 302 and sent.headers["Location"] == "/signin/code/"

    def code_page(self) -> tuple[str, str] | None:
        """(the code shown, the form's CSRF token), or None."""
        page = self.call("GET", "/signin/code/")
        if page.status_code != 200:
            return None
        return DEV_CODE.search(page.text).group(1), CSRF.search(page.text).group(1)

    def enter_code(self, code: str, csrf: str) -> httpx.Response:
        return self.call("POST", "/signin/code/", data={"csrfmiddlewaretoken": csrf, "code": code})

    def close(self) -> None:
        self.http.close()


def sign_in_and_reserve(
    base_url: str,
    phone: str,
    campaign_path: str,
    variant_id: int,
    *,
    answers: list[Answer],
    incidents: list[str],
    deadline: float,
) -> str:
    """Sign in with the code shown on the page, then reserve, as a customer would: after a
    503, pause and do that step again; when the shop has forgotten the sign-in, sign in
    again. The reserve form is resubmitted with the key it was shown with. Returns the
    reservation number; `incidents` gets a line for each time the customer had to go back."""
    shopper = Shopper(base_url, answers)
    step, form = "request code", None

    def start_again(why: str) -> str:
        incidents.append(why)
        return "request code"

    try:
        while time.monotonic() < deadline:
            if step == "request code":
                if shopper.request_code(phone, campaign_path):
                    step = "enter code"
                    continue
            elif step == "enter code":
                shown = shopper.code_page()
                answer = shown and shopper.enter_code(*shown)
                if answer and answer.headers.get("Location") == campaign_path:
                    step = "reserve"
                    continue
                if answer and answer.status_code in (200, 429):
                    step = start_again("code used up by a sign-in the outage cut short")
                elif shopper.trail[-1].status == 302:
                    step = start_again("code page forgot the code")
            elif form is None:
                page = shopper.call("GET", campaign_path)
                key = IDEMPOTENCY_KEY.search(page.text)
                if page.status_code == 200 and key:
                    form = CSRF.search(page.text).group(1), key.group(1)
                    continue
                if page.status_code == 200:  # no form: "sign in to reserve"
                    step = start_again("sign-in forgotten")
            else:
                csrf, key = form
                reserved = shopper.call(
                    "POST",
                    f"{campaign_path}reserve/",
                    data={
                        "csrfmiddlewaretoken": csrf,
                        "variant": variant_id,
                        "fulfilment": "courier",
                        "idempotency_key": key,
                    },
                )
                location = reserved.headers.get("Location", "")
                number = RESERVATION_PAGE.fullmatch(location)
                if reserved.status_code == 302 and number:
                    return number.group(1)
                if reserved.status_code == 302 and location.startswith("/signin/"):
                    step = start_again("sign-in forgotten")
            time.sleep(PAUSE)
        raise TimeoutError(f"{phone} could not {step} in time: {shopper.trail[-6:]}")
    finally:
        shopper.close()


def seconds_locked(redis_url: str, phone: str) -> int:
    """What the rate limit itself reads from `redis_url` (its client is cached per URL)."""
    with override_settings(REDIS_URL=redis_url):
        ratelimit.redis_client.cache_clear()
        try:
            return ratelimit.blocked_for(WRONG_CODES_PER_PHONE, phone)
        finally:
            ratelimit.redis_client.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_redis_restart_under_intake_loses_no_reservation_and_answers_no_500(tmp_path):
    campaign = CampaignFactory()
    variant = VariantFactory(campaign=campaign)
    campaign_path = campaign.get_absolute_url()
    store = PrivateRedis()
    server = None
    figures = {}
    answers: list[Answer] = []
    incidents: list[str] = []
    server_log = tmp_path / "gunicorn.log"
    try:
        store.start()
        env = web_environment(store.url(), tmp_path / "static")
        manage("collectstatic", "--noinput", "-v0", env=env)  # DEBUG off: the manifest
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with server_log.open("w") as log:
            server = start_web(port, env=env, log=log)

        def ready() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                up = httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
                return up and len(children(server)) == 3
            return False

        wait_until(ready, timeout=60, interval=0.2, what="gunicorn answers")

        # Five wrong codes lock the number.
        locker = Shopper(base_url, [])
        assert locker.request_code(LOCKED_PHONE, "/")
        code, csrf = locker.code_page()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(WRONG_CODES_PER_PHONE.max_hits):
            assert locker.enter_code(wrong, csrf).status_code in (200, 429)
        assert seconds_locked(store.url(), LOCKED_PHONE) > 0

        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [
                pool.submit(
                    sign_in_and_reserve,
                    base_url,
                    PHONES.format(i),
                    campaign_path,
                    variant.pk,
                    answers=answers,
                    incidents=incidents,
                    deadline=deadline,
                )
                for i in range(SHOPPERS)
            ]
            wait_until(
                lambda: sum(f.done() for f in futures) >= SHOPPERS // 4,
                timeout=60,
                what="a quarter of the shoppers reserved",
            )
            down = time.monotonic()
            store.stop()
            stopped = time.monotonic()
            time.sleep(REDIS_DOWN_SECONDS)
            starting = time.monotonic()
            store.start()
            up = time.monotonic()
            figures.update(
                redis_stop_s=round(stopped - down, 2),
                redis_start_s=round(up - starting, 2),
                redis_down_s=round(up - down, 2),
            )
            # A shopper gives up at the deadline with what it was doing (f.result() says it).
            _, pending = wait(futures, timeout=max(deadline - time.monotonic(), 0) + 20)
            assert not pending, "shoppers still waiting after the deadline"
            confirmed = [f.result() for f in futures]

        # The lock outlived the restart: in Redis, and for the customer holding the code.
        figures["locked_s_after_restart"] = seconds_locked(store.url(), LOCKED_PHONE)
        refused = locker.enter_code(code, csrf)
        locker.close()
    finally:
        if server is not None:
            stop_web(server)
        store.close()

    everything = answers + locker.trail
    statuses = collections.Counter(a.status for a in everything)
    outage = [a for a in everything if a.status == 503]
    figures.update(
        requests=len(everything),
        statuses=dict(statuses),
        during_restart_503=sum(down <= a.at <= up + 1 for a in outage),
        # The times customers had to sign in again, and why (reported, not judged here).
        signed_in_again=dict(collections.Counter(incidents)),
    )
    print(f"\nRedis restart: {figures}")
    errors = [a for a in everything if a.status >= 500 and a.status != 503]
    assert errors == [], server_log.read_text()[-3000:]
    assert set(statuses) <= {200, 302, 429, 503}
    assert all(a.retry_after for a in outage), "a 503 without Retry-After"
    assert outage, "the restart was not noticed: the test proved nothing"

    assert len(set(confirmed)) == SHOPPERS
    in_database = set(
        Reservation.objects.filter(customer__phone__startswith=PHONES[:-6]).values_list(
            "number", flat=True
        )
    )
    assert in_database == set(confirmed), "a reservation lost, or made without an answer"

    assert figures["locked_s_after_restart"] > 0, "the restart unlocked a locked number"
    assert refused.status_code != 302, "the right code signed in a locked number"
