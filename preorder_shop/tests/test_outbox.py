"""The notification outbox on real PostgreSQL and Redis: written in the caller's transaction,
sent once after commit, retried with backoff, swept up when a task or the broker is lost."""

import base64
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from preorder_shop import outbox, tasks
from preorder_shop.celery import app as celery_app
from preorder_shop.models import OutboxChannel, OutboxMessage, OutboxStatus
from tests.admin_client import sign_in_to_admin
from tests.concurrency import run_at_once

PHONE = "+821012345678"
SEND_TASK = "preorder_shop.tasks.send_outbox_message"
CELERY_QUEUE = "celery"
CLOSED_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1

ORDER_PAYLOAD = {
    "order_number": "12345678903",
    "reservation_number": "20250917",
    "variant": "iPhone 15 Pro 256 GB Natural Titanium",
    "customer_name": "김민수",
    "courier": "CJ대한통운",
    "tracking_number": "6543210987",
    "reason": "",
    "status_url": "/orders/12345678903/",
}
ORDER_KEYS = [
    "order.received",
    "order.preparing",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "order.discarded",
    "order.expired",
]

_keys = iter(range(10**9))


# --- channels and helpers ------------------------------------------------------------------


class RecordingChannel:
    """Records what it is asked to send; `delay` makes sending take a while."""

    sent: ClassVar[list[dict]] = []
    delay = 0.0
    lock = threading.Lock()

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        time.sleep(self.delay)
        with self.lock:
            self.sent.append(
                {"recipient": recipient, "subject": subject, "body": body, "key": idempotency_key}
            )


class FailingChannel:
    """An SMS gateway that never answers."""

    calls = 0

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        FailingChannel.calls += 1
        raise ConnectionError("SMS gateway timed out")


@pytest.fixture
def sms(settings):
    """The SMS channel records instead of logging; returns what it sent."""
    settings.OUTBOX_CHANNELS = {**settings.OUTBOX_CHANNELS, "sms": f"{__name__}.RecordingChannel"}
    RecordingChannel.sent = []
    RecordingChannel.delay = 0.0
    return RecordingChannel.sent


@pytest.fixture
def failing_sms(settings):
    settings.OUTBOX_CHANNELS = {**settings.OUTBOX_CHANNELS, "sms": f"{__name__}.FailingChannel"}
    FailingChannel.calls = 0
    return FailingChannel


def new_key() -> str:
    return f"test:{uuid.uuid4().hex}:{next(_keys)}"


def queue(**overrides) -> OutboxMessage:
    arguments = {
        "channel": OutboxChannel.SMS,
        "recipient": PHONE,
        "template_key": "signin.code",
        "payload": {"code": "135790", "minutes": 5},
        "idempotency_key": new_key(),
        "language": "en",
    }
    return outbox.queue_message(**{**arguments, **overrides})


def stored_message(**fields) -> OutboxMessage:
    """A row as queue_message writes it, without registering a task (for sweep tests)."""
    values = {
        "channel": OutboxChannel.SMS,
        "recipient": PHONE,
        "template_key": "signin.code",
        "payload": {"code": "135790", "minutes": 5},
        "idempotency_key": new_key(),
        "language": "en",
    }
    return OutboxMessage.objects.create(**{**values, **fields})


def run_in_parallel(count: int, work) -> list:
    """Run work(index) in `count` threads at once, each on its own database connection."""
    return run_at_once([functools.partial(work, index) for index in range(count)])


@pytest.fixture
def broker():
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    yield client
    client.close()


def take_queued_sends(broker: redis.Redis, message_id: int) -> list[dict]:
    """Remove and return the send_outbox_message tasks for `message_id` that this test
    process put in the real Celery queue (other test runs may share the broker)."""
    origin = f"gen{os.getpid()}@{socket.gethostname()}"
    taken = []
    for raw in broker.lrange(CELERY_QUEUE, 0, -1):
        envelope = json.loads(raw)
        headers = envelope["headers"]
        if headers.get("task") != SEND_TASK or headers.get("origin") != origin:
            continue
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        if args == [message_id]:
            broker.lrem(CELERY_QUEUE, 1, raw)
            taken.append(envelope)
    return taken


@contextlib.contextmanager
def celery_broker(url: str):
    """Point this process's Celery producer at `url`, then back. Celery reads the
    CELERY_BROKER_URL environment variable before its settings, so both change."""
    saved_env = os.environ.get("CELERY_BROKER_URL")

    def use(broker_url: str | None) -> None:
        if broker_url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = broker_url
        # Drop the cached connection and producer pools, as Celery does after a fork.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    use(url)
    try:
        yield
    finally:
        use(saved_env)


# --- queueing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_queueing_writes_one_row_and_enqueues_one_task_after_commit(
    broker, django_capture_on_commit_callbacks
):
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            message = queue(reference="order:42")

            row = OutboxMessage.objects.get(pk=message.pk)
            assert row.status == OutboxStatus.PENDING
            assert row.attempts == 0
            assert row.reference == "order:42"
            assert row.next_attempt_at <= timezone.now()
            assert take_queued_sends(broker, message.pk) == []  # not before the commit
        # Leaving the block plays the commit.

        assert len(callbacks) == 1
        assert len(take_queued_sends(broker, message.pk)) == 1
    finally:
        take_queued_sends(broker, message.pk)


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_row_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    key = new_key()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        queue(idempotency_key=key)
        raise RuntimeError("the order could not be saved")

    assert callbacks == []
    assert not OutboxMessage.objects.filter(idempotency_key=key).exists()


@pytest.mark.django_db
def test_queueing_the_same_key_twice_keeps_one_row_and_sends_once(
    django_capture_on_commit_callbacks,
):
    key = new_key()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = queue(idempotency_key=key, payload={"code": "111111", "minutes": 5})
        second = queue(idempotency_key=key, payload={"code": "222222", "minutes": 5})

    assert second.pk == first.pk
    assert OutboxMessage.objects.filter(idempotency_key=key).count() == 1
    assert OutboxMessage.objects.get(pk=first.pk).payload["code"] == "111111"
    assert len(callbacks) == 1


BATCH = """
SELECT 'sms', %(phone)s, 'signin.code', 'en', jsonb_build_object('code', '135790', 'minutes', 5),
       key, 'batch-test'
  FROM unnest(%(keys)s::text[]) AS key
"""


@pytest.mark.django_db
def test_a_batch_queues_a_row_per_selected_row_and_skips_keys_already_queued(
    django_capture_on_commit_callbacks,
):
    taken, fresh = new_key(), new_key()
    first = queue(idempotency_key=taken, payload={"code": "111111", "minutes": 5})

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = outbox.queue_from_select(BATCH, {"phone": PHONE, "keys": [taken, fresh]})

    assert queued == 1
    assert OutboxMessage.objects.get(pk=first.pk).payload["code"] == "111111"
    added = OutboxMessage.objects.get(idempotency_key=fresh)
    assert (added.status, added.reference, added.payload["code"]) == (
        OutboxStatus.PENDING,
        "batch-test",
        "135790",
    )
    assert len(callbacks) == 1  # one sweep for the batch


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "sweepers"), [(1, 1), (outbox.SWEEP_BATCH + 1, 2), (2000, 3)])
def test_a_large_batch_is_sent_by_parallel_sweepers_up_to_the_setting(
    rows, sweepers, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """One sweeper sends a row at a time; 5,000 messages through one would take 5,000
    provider round trips end to end, so a batch starts one per SWEEP_BATCH, at most
    OUTBOX_BATCH_SWEEPERS."""
    settings.OUTBOX_BATCH_SWEEPERS = 3
    started = []
    monkeypatch.setattr(tasks.sweep_outbox, "delay", lambda: started.append(1))
    keys = [new_key() for _ in range(rows)]

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.queue_from_select(BATCH, {"phone": PHONE, "keys": keys}) == rows

    assert len(started) == sweepers


@pytest.mark.django_db
def test_a_batch_of_new_keys_refuses_a_key_already_queued_and_queues_nothing():
    taken, fresh = new_key(), new_key()
    queue(idempotency_key=taken)

    with pytest.raises(IntegrityError), transaction.atomic():
        outbox.queue_from_select(
            BATCH, {"phone": PHONE, "keys": [fresh, taken]}, keys_are_new=True
        )

    assert not OutboxMessage.objects.filter(idempotency_key=fresh).exists()
    assert (
        outbox.queue_from_select(BATCH, {"phone": PHONE, "keys": [fresh]}, keys_are_new=True) == 1
    )


# --- delivering ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliver_sends_once_and_a_repeated_task_sends_nothing(sms):
    message = stored_message()

    assert tasks.send_outbox_message(message.pk) is True
    assert tasks.send_outbox_message(message.pk) is False  # retried / redelivered task
    assert outbox.deliver(message.pk) is False

    assert len(sms) == 1
    assert sms[0]["recipient"] == PHONE
    assert sms[0]["key"] == message.idempotency_key
    assert "135790" in sms[0]["body"]
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.claimed_at is None
    assert message.last_error == ""


@pytest.mark.django_db
def test_a_message_waiting_for_its_retry_time_is_not_sent_early(sms):
    now = timezone.now()
    message = stored_message(next_attempt_at=now + dt.timedelta(minutes=1))

    assert outbox.deliver(message.pk, now=now) is False
    assert outbox.sweep(now=now) == 0
    assert sms == []

    assert outbox.deliver(message.pk, now=now + dt.timedelta(minutes=1)) is True
    assert len(sms) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_row_at_once_send_it_once(sms):
    RecordingChannel.delay = 0.2  # the first sender is still busy when the second arrives
    message = stored_message()

    results = run_in_parallel(2, lambda _i: outbox.deliver(message.pk))

    assert sorted(results) == [False, True], results
    assert len(sms) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1


@pytest.mark.django_db
def test_secrets_are_wiped_once_sent_and_kept_until_then(sms):
    secret = stored_message(redact_when_final=True)
    kept = stored_message(redact_when_final=False)

    outbox.deliver(secret.pk)
    outbox.deliver(kept.pk)

    assert OutboxMessage.objects.get(pk=secret.pk).payload == {}
    assert OutboxMessage.objects.get(pk=kept.pk).payload == {"code": "135790", "minutes": 5}


# --- failures, backoff and the sweep -------------------------------------------------------


@pytest.mark.django_db
def test_a_failing_channel_is_retried_with_backoff_then_marked_failed(failing_sms):
    start = timezone.now()
    message = stored_message(next_attempt_at=start, redact_when_final=True)

    assert outbox.deliver(message.pk, now=start) is True
    clock = start
    waits = []
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING
        assert message.attempts == attempt
        assert message.last_error == "ConnectionError: SMS gateway timed out"
        assert message.payload["code"] == "135790"  # still needed for the next attempt
        assert message.next_attempt_at == clock + outbox.backoff(attempt)
        waits.append(message.next_attempt_at - clock)
        # Not due a second early; due on time.
        assert outbox.sweep(now=message.next_attempt_at - dt.timedelta(seconds=1)) == 0
        assert failing_sms.calls == attempt
        clock = message.next_attempt_at
        assert outbox.sweep(now=clock) == 1
        assert failing_sms.calls == attempt + 1

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == outbox.MAX_ATTEMPTS
    assert message.last_error == "ConnectionError: SMS gateway timed out"
    assert message.sent_at is None
    assert message.claimed_at is None
    assert message.payload == {}  # a failed one-time code is wiped too
    assert waits == sorted(waits) and len(set(waits)) == len(waits), waits  # growing waits
    # Failed is final: no sweep, however late, tries again.
    assert outbox.sweep(now=clock + dt.timedelta(days=1)) == 0
    assert failing_sms.calls == outbox.MAX_ATTEMPTS


@pytest.mark.django_db
def test_the_sweep_takes_back_a_claim_older_than_the_lease(sms):
    claimed_at = timezone.now() - dt.timedelta(hours=1)
    message = stored_message(status=OutboxStatus.SENDING, claimed_at=claimed_at, attempts=1)

    # Within the lease the claim is presumed alive: nobody else sends.
    assert outbox.sweep(now=claimed_at + outbox.SENDING_LEASE - dt.timedelta(seconds=1)) == 0
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENDING

    later = claimed_at + outbox.SENDING_LEASE + dt.timedelta(seconds=1)
    assert outbox.sweep(now=later) == 1

    assert len(sms) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 2


@pytest.mark.django_db
def test_an_abandoned_claim_on_its_last_attempt_ends_failed(sms):
    claimed_at = timezone.now() - dt.timedelta(hours=1)
    message = stored_message(
        status=OutboxStatus.SENDING,
        claimed_at=claimed_at,
        attempts=outbox.MAX_ATTEMPTS,
        redact_when_final=True,
    )

    assert outbox.sweep(now=claimed_at + outbox.SENDING_LEASE + dt.timedelta(seconds=1)) == 0

    assert sms == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.last_error == outbox.LEASE_EXPIRED_ERROR
    assert message.payload == {}


class HeldChannel:
    """Each send waits at its own gate until the test opens it; the first one then fails
    (a gateway that hung past the lease and finally gave up)."""

    entered: ClassVar[list[threading.Event]] = []
    gates: ClassVar[list[threading.Event]] = []
    sent: ClassVar[list[str]] = []
    lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        cls.entered = [threading.Event(), threading.Event()]
        cls.gates = [threading.Event(), threading.Event()]
        cls.sent = []

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        with self.lock:
            number = len(self.sent)
            self.sent.append(idempotency_key)
        self.entered[number].set()
        assert self.gates[number].wait(timeout=20)
        if number == 0:
            raise TimeoutError("gateway gave up after 6 minutes")


def in_thread(work) -> threading.Thread:
    def thread_main() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=thread_main)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_claim_the_sweep_took_back_cannot_overwrite_the_new_claim(settings):
    settings.OUTBOX_CHANNELS = {**settings.OUTBOX_CHANNELS, "sms": f"{__name__}.HeldChannel"}
    HeldChannel.reset()
    start = timezone.now()
    after_lease = start + outbox.SENDING_LEASE + dt.timedelta(seconds=1)
    message = stored_message(next_attempt_at=start)
    try:
        # A worker claims the row and hangs in the gateway past the lease...
        stuck = in_thread(lambda: outbox.deliver(message.pk, now=start))
        assert HeldChannel.entered[0].wait(timeout=20)
        # ...so the sweep takes the row back and sends it again (at-least-once).
        sweeper = in_thread(lambda: outbox.sweep(now=after_lease))
        assert HeldChannel.entered[1].wait(timeout=20)

        # The stuck worker gives up while the sweep's send is still under way: its late
        # failure belongs to a claim it no longer holds and changes nothing.
        HeldChannel.gates[0].set()
        stuck.join(timeout=20)
        row = OutboxMessage.objects.get(pk=message.pk)
        assert row.status == OutboxStatus.SENDING
        assert row.claimed_at == after_lease
        assert row.attempts == 2
        assert row.last_error == outbox.LEASE_EXPIRED_ERROR

        HeldChannel.gates[1].set()
        sweeper.join(timeout=20)
    finally:
        for gate in HeldChannel.gates:
            gate.set()

    assert not stuck.is_alive() and not sweeper.is_alive()
    assert HeldChannel.sent == [message.idempotency_key] * 2
    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.status == OutboxStatus.SENT
    assert row.last_error == ""


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_send_the_same_row_twice(sms):
    RecordingChannel.delay = 0.005
    keys = {stored_message().idempotency_key for _ in range(40)}

    results = run_in_parallel(2, lambda _i: outbox.sweep())

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 40
    sent_keys = [s["key"] for s in sms]
    assert len(sent_keys) == len(set(sent_keys)) == 40
    assert set(sent_keys) == keys
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 40


@pytest.mark.django_db
def test_retry_puts_failed_rows_back_without_touching_the_rest(
    sms, django_capture_on_commit_callbacks
):
    now = timezone.now()
    failed = stored_message(status=OutboxStatus.FAILED, attempts=5, last_error="boom")
    wiped = stored_message(
        status=OutboxStatus.FAILED, attempts=5, redact_when_final=True, payload={}
    )
    sent = stored_message(status=OutboxStatus.SENT, attempts=1, sent_at=now)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert outbox.retry([failed.pk, wiped.pk, sent.pk], now=now) == 1

    failed.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING
    assert failed.attempts == 0
    assert failed.next_attempt_at == now
    assert len(callbacks) == 1  # sent right away after commit; the sweep is the backstop
    assert OutboxMessage.objects.get(pk=wiped.pk).status == OutboxStatus.FAILED
    assert OutboxMessage.objects.get(pk=sent.pk).status == OutboxStatus.SENT

    assert outbox.sweep(now=now) == 1
    assert len(sms) == 1
    assert OutboxMessage.objects.get(pk=failed.pk).status == OutboxStatus.SENT


# --- the broker down, and a real worker ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_nothing_is_lost_when_the_broker_is_down_at_commit(sms, caplog):
    with celery_broker(CLOSED_BROKER):
        with pytest.raises(OperationalError):  # the broker really is unreachable
            tasks.send_outbox_message.delay(0)
        caplog.clear()

        with transaction.atomic():  # the request's transaction
            message = queue(language="en")
        # The commit went through; the failed enqueue was only logged.

    (logged,) = [r for r in caplog.records if "on_commit" in r.getMessage()]
    assert logged.levelno == logging.ERROR
    assert "Connection refused" in logged.getMessage()
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 0
    assert sms == []

    assert outbox.sweep() == 1  # beat's sweep, once things are back

    assert len(sms) == 1
    assert "135790" in sms[0]["body"]
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT


def worker_database_url(db_settings: dict) -> str:
    user = quote(db_settings["USER"] or "", safe="")
    password = quote(db_settings["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db_settings["HOST"] or "127.0.0.1"
    port = db_settings["PORT"] or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(db_settings['NAME'], safe='')}"


@contextlib.contextmanager
def celery_worker(log_path: Path):
    """A real worker in a subprocess, on the test database and the test broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "preorder_shop.settings",
        # settings.DATABASES now names the test database (pytest-django set it up).
        "DATABASE_URL": worker_database_url(django_settings.DATABASES["default"]),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "REDIS_URL": django_settings.REDIS_URL,
        "SMS_CHANNEL": "preorder_shop.channels.LogSmsChannel",
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_DATABASE_NAME", None)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "preorder_shop",
        "worker",
        "--pool",
        "solo",
        "--concurrency",
        "1",
        "-Q",
        "celery",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
        "--hostname",
        f"outbox-test-{uuid.uuid4().hex[:8]}@%h",
    ]
    with log_path.open("w") as log:
        worker = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            command, cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=15)


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_sends_the_message_after_commit(tmp_path):
    log_path = tmp_path / "worker.log"
    with celery_worker(log_path) as worker:
        with transaction.atomic():
            message = queue(language="en", recipient=PHONE)

        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            status = OutboxMessage.objects.get(pk=message.pk).status
            if status == OutboxStatus.SENT or worker.poll() is not None:
                break
            time.sleep(0.2)
        assert status == OutboxStatus.SENT, log_path.read_text()

    log = log_path.read_text()
    assert "SMS to 010-****-5678" in log, log
    assert PHONE not in log
    assert "010-1234-5678" not in log


# --- rendering -----------------------------------------------------------------------------


def rendered(template_key: str, language: str, **payload) -> tuple[str, str]:
    message = OutboxMessage(
        template_key=template_key, language=language, payload={**ORDER_PAYLOAD, **payload}
    )
    return outbox.render(message)


def test_shipped_in_english_names_the_courier_and_tracking_number(settings):
    settings.SITE_URL = "https://shop.example.kr"

    subject, body = rendered("order.shipped", "en", customer_name="Alex Kim", courier="Hanjin")

    assert subject == "[Pre-order] Order 12345678903 shipped"
    assert body == (
        "[Pre-order] Order 12345678903 shipped\n"
        "Alex Kim, your iPhone 15 Pro 256 GB Natural Titanium is on its way with Hanjin. "
        "The tracking number is 6543210987.\n"
        "https://shop.example.kr/orders/12345678903/"
    )


def test_shipped_in_korean():
    subject, body = rendered("order.shipped", "ko")

    assert subject == "[사전예약] 발송 안내 (주문번호 12345678903)"
    assert body.splitlines()[1] == (
        "김민수님, 주문하신 iPhone 15 Pro 256 GB Natural Titanium 상품을 CJ대한통운에서 "
        "배송 중입니다. 운송장 번호는 6543210987입니다."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("template_key", ORDER_KEYS)
def test_every_order_message_renders_short_and_complete(template_key, language):
    subject, body = rendered(template_key, language)

    assert subject == body.splitlines()[0]
    assert subject.startswith("[사전예약]" if language == "ko" else "[Pre-order]")
    own_words = body
    for value in ORDER_PAYLOAD.values():  # the name and courier are Korean in both
        own_words = own_words.replace(str(value), "")
    has_hangul = any("\uac00" <= c <= "\ud7a3" for c in own_words)
    assert has_hangul == (language == "ko"), body
    assert "None" not in body
    assert "%(" not in body and "{{" not in body
    assert ORDER_PAYLOAD["variant"] in body
    assert body.endswith(ORDER_PAYLOAD["status_url"])
    assert len(body) <= 300, (len(body), body)  # fits one long SMS (LMS)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_cancelled_gives_the_reason_only_when_there_is_one(language):
    _subject, with_reason = rendered(
        "order.cancelled", language, reason="Stock for this colour ran out & we're sorry"
    )
    _subject, without = rendered("order.cancelled", language, reason="")

    # Plain text: nothing is HTML-escaped.
    assert "Stock for this colour ran out & we're sorry" in with_reason
    assert "&amp;" not in with_reason and "&#x27;" not in with_reason
    assert len(without.splitlines()) == len(with_reason.splitlines()) - 1
    assert "Stock" not in without


def test_a_cancelled_draft_names_the_reservation_not_a_missing_order_number():
    subject, body = rendered("order.cancelled", "en", order_number=None)

    assert subject == "[Pre-order] Reservation 20250917 cancelled"
    assert "None" not in body


def test_drafts_messages_say_what_happened_to_the_reservation():
    _s, discarded = rendered("order.discarded", "en", order_number=None)
    _s, expired = rendered("order.expired", "en", order_number=None)

    assert "Reservation 20250917 is still active." in discarded
    assert "order form window" in expired and "has expired" in expired


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "[Pre-order] Your sign-in code is 024680. It expires in 5 minutes."),
        ("ko", "[사전예약] 로그인 인증번호는 024680입니다. 5분 후 만료됩니다."),
    ],
)
def test_the_sign_in_code_message_in_both_languages(language, text):
    message = OutboxMessage(
        template_key="signin.code", language=language, payload={"code": "024680", "minutes": 5}
    )

    assert outbox.render(message) == (text, text)


# --- e-mail --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_e_mail_goes_through_djangos_e_mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = stored_message(
        channel=OutboxChannel.EMAIL,
        recipient="kim@example.com",
        template_key="order.shipped",
        payload=ORDER_PAYLOAD,
        language="ko",
    )

    assert outbox.deliver(message.pk) is True

    (email,) = mail.outbox
    assert email.to == ["kim@example.com"]
    assert email.subject == "[사전예약] 발송 안내 (주문번호 12345678903)"
    assert "운송장 번호는 6543210987입니다." in email.body
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT


def test_recipients_are_masked_for_lists_and_logs():
    assert outbox.mask_recipient("sms", "+821012345678") == "010-****-5678"
    assert outbox.mask_recipient("email", "kim.minsu@example.com") == "k***@example.com"
    assert outbox.mask_recipient("email", "not-an-address") == "***"
    assert outbox.mask_recipient("sms", "garbage") == "***"


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_outboxmessage"))
    sign_in_to_admin(client, user)
    client.user = user
    return client


def grant(client, codename: str) -> None:
    client.user.user_permissions.add(Permission.objects.get(codename=codename))
    client.user = get_user_model().objects.get(pk=client.user.pk)  # drop the perm cache
    sign_in_to_admin(client, client.user)


CHANGELIST = "admin:preorder_shop_outboxmessage_changelist"


@pytest.mark.django_db
def test_admin_lists_messages_with_recipients_masked(staff_client):
    stored_message(reference="order:42")
    stored_message(channel=OutboxChannel.EMAIL, recipient="kim@example.com")

    page = staff_client.get(reverse(CHANGELIST)).content.decode()

    assert "010-****-5678" in page
    assert "k***@example.com" in page
    assert "12345678" not in page
    assert "kim@example.com" not in page


@pytest.mark.django_db
def test_admin_search_by_reference_is_exact(staff_client):
    mine = stored_message(reference="order:42", recipient="+821011112222")
    stored_message(reference="order:421", recipient="+821033334444")

    page = staff_client.get(reverse(CHANGELIST), {"q": "order:42"}).content.decode()

    assert mine.reference == "order:42"
    assert "010-****-2222" in page
    assert "010-****-4444" not in page


@pytest.mark.django_db
def test_admin_filters_by_status_channel_and_template(staff_client):
    stored_message(recipient="+821011112222", status=OutboxStatus.FAILED, last_error="x")
    stored_message(recipient="+821033334444", template_key="order.shipped")

    failed = staff_client.get(reverse(CHANGELIST), {"status__exact": "failed"})
    shipped = staff_client.get(reverse(CHANGELIST), {"template_key": "order.shipped"})
    email = staff_client.get(reverse(CHANGELIST), {"channel__exact": "email"})

    assert "010-****-2222" in failed.content.decode()
    assert "010-****-4444" not in failed.content.decode()
    assert "010-****-4444" in shipped.content.decode()
    assert "010-****-2222" not in shipped.content.decode()
    assert "010-****" not in email.content.decode()


@pytest.mark.django_db
def test_admin_is_read_only(staff_client):
    message = stored_message()
    grant(staff_client, "change_outboxmessage")
    grant(staff_client, "delete_outboxmessage")
    grant(staff_client, "add_outboxmessage")
    change_url = reverse("admin:preorder_shop_outboxmessage_change", args=[message.pk])

    assert staff_client.get(reverse("admin:preorder_shop_outboxmessage_add")).status_code == 403
    delete_url = reverse("admin:preorder_shop_outboxmessage_delete", args=[message.pk])
    assert staff_client.get(delete_url).status_code == 403
    page = staff_client.get(change_url).content.decode()
    assert 'name="_save"' not in page
    staff_client.post(change_url, {"status": "sent", "recipient": "+821099998888"})
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.recipient == PHONE


@pytest.mark.django_db
def test_admin_shows_the_payload_masked_even_with_the_personal_data_permission(staff_client):
    message = stored_message(template_key="order.shipped", payload=ORDER_PAYLOAD)
    url = reverse("admin:preorder_shop_outboxmessage_change", args=[message.pk])

    page = staff_client.get(url).content.decode()
    assert "6543210987" in page  # a tracking number is no personal data
    assert "김*수" in page
    assert "김민수" not in page
    assert "010-****-5678" in page
    assert PHONE not in page

    grant(staff_client, "view_personal_data")
    page = staff_client.get(url).content.decode()
    assert "김민수" not in page
    assert PHONE not in page


@pytest.mark.django_db
def test_admin_never_shows_a_one_time_code(staff_client):
    message = stored_message(template_key="signin.code", payload={"code": "123456", "minutes": 5})
    url = reverse("admin:preorder_shop_outboxmessage_change", args=[message.pk])
    grant(staff_client, "view_personal_data")
    page = staff_client.get(url).content.decode()
    assert "123456" not in page
    assert "******" in page


@pytest.mark.django_db
def test_admin_retry_now_puts_failed_rows_back(staff_client, django_capture_on_commit_callbacks):
    failed = stored_message(status=OutboxStatus.FAILED, attempts=5, last_error="boom")
    sent = stored_message(status=OutboxStatus.SENT, attempts=1, sent_at=timezone.now())
    action = {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]}

    # Viewing is not enough to resend.
    response = staff_client.post(reverse(CHANGELIST), action, follow=True)
    assert OutboxMessage.objects.get(pk=failed.pk).status == OutboxStatus.FAILED

    grant(staff_client, "change_outboxmessage")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(reverse(CHANGELIST), action, follow=True)

    page = response.content.decode()
    assert "1 failed message will be sent again." in page
    assert "1 message was left alone" in page
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING
    assert failed.attempts == 0
    assert OutboxMessage.objects.get(pk=sent.pk).status == OutboxStatus.SENT
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_the_log_channel_logs_the_masked_number_never_the_full_one(settings, caplog):
    settings.OUTBOX_CHANNELS = {
        **settings.OUTBOX_CHANNELS,
        "sms": "preorder_shop.channels.LogSmsChannel",
    }
    caplog.set_level(logging.INFO, logger="preorder_shop.channels")
    message = stored_message()

    outbox.deliver(message.pk)

    (record,) = [r for r in caplog.records if r.name == "preorder_shop.channels"]
    assert "010-****-5678" in record.getMessage()
    assert PHONE not in caplog.text
