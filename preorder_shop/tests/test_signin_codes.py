"""One-time sign-in codes (services.request_code and verify_code) on real PostgreSQL and Redis."""

import base64
import contextlib
import dataclasses
import datetime as dt
import functools
import hmac
import itertools
import json
import logging
import os
import re
import socket
import threading
from typing import ClassVar

import pytest
import redis
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone, translation

from preorder_shop import ratelimit, services
from preorder_shop.exceptions import CodeExpired, RateLimited, WrongCode
from preorder_shop.models import (
    Customer,
    OneTimeCode,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from preorder_shop.tasks import send_outbox_message
from preorder_shop.tests.factories import CustomerFactory
from tests.concurrency import run_at_once

IP = "203.0.113.10"
OTHER_IP = "198.51.100.20"
SEND_OUTBOX_MESSAGE = "preorder_shop.tasks.send_outbox_message"
CELERY_QUEUE = "celery"

_phone_numbers = itertools.count(1)


def new_phone() -> str:
    """A distinct, valid E.164 Korean mobile number for each call."""
    return f"+82107{next(_phone_numbers):07d}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def verify(phone: str, code: str, *, name: str = "김민수", client_ip: str = IP) -> Customer:
    return services.verify_code(phone=phone, name=name, code=code, client_ip=client_ip)


def assert_says_when_to_try_again(message: str, retry_after: int) -> None:
    match = re.search(r"Try again after (\d\d):(\d\d) \(in (\d+) minutes?\)\.", message)
    assert match, message
    hour, minute, minutes = (int(group) for group in match.groups())
    expected = timezone.localtime() + dt.timedelta(seconds=retry_after)
    shown = hour * 60 + minute
    wanted = expected.hour * 60 + expected.minute
    assert min((shown - wanted) % 1440, (wanted - shown) % 1440) <= 1, message
    assert minutes == max(1, (retry_after + 59) // 60), message


# --- the code itself -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_has_six_digits():
    codes = [services.request_code(phone=new_phone(), client_ip=IP) for _ in range(10)]

    for code in codes:
        assert len(code) == 6
        assert code.isascii() and code.isdigit()


@pytest.mark.django_db
def test_the_code_is_stored_only_as_a_keyed_hash():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)

    row = OneTimeCode.objects.values().get(phone=phone)
    for column, value in row.items():
        assert value != code, column
        assert value != int(code), column
        if isinstance(value, str):
            assert code not in value, column
    assert row["code_hash"] == services.hash_code(phone=phone, code=code)
    # The same code for another number hashes differently.
    assert services.hash_code(phone=new_phone(), code=code) != row["code_hash"]


@pytest.mark.django_db
def test_the_hash_is_keyed_with_the_secret_key(settings):
    phone = new_phone()
    with_project_key = services.hash_code(phone=phone, code="123456")

    settings.SECRET_KEY = "another-secret-key-for-this-test-only"

    assert services.hash_code(phone=phone, code="123456") != with_project_key


def test_codes_match_compares_in_constant_time(monkeypatch):
    real_compare_digest = hmac.compare_digest
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return real_compare_digest(a, b)

    monkeypatch.setattr(services.hmac, "compare_digest", spy)
    phone = "+821012345678"
    stored = services.hash_code(phone=phone, code="246810")

    assert services.codes_match(stored_hash=stored, phone=phone, code="246810") is True
    assert services.codes_match(stored_hash=stored, phone=phone, code="246811") is False

    assert calls == [
        (stored, stored),
        (stored, services.hash_code(phone=phone, code="246811")),
    ]


@pytest.mark.django_db
def test_verify_code_goes_through_the_constant_time_compare(monkeypatch):
    real_compare_digest = hmac.compare_digest
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return real_compare_digest(a, b)

    monkeypatch.setattr(services.hmac, "compare_digest", spy)
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)

    with pytest.raises(WrongCode):
        verify(phone, wrong(code))
    verify(phone, code)

    assert len(calls) == 2


@pytest.mark.django_db
def test_a_code_lives_for_exactly_five_minutes():
    phone = new_phone()
    services.request_code(phone=phone, client_ip=IP)

    row = OneTimeCode.objects.get(phone=phone)
    assert row.expires_at - row.created_at == dt.timedelta(minutes=5)
    assert row.used_at is None


# --- signing in ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_right_code_signs_in_and_creates_the_customer():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    before = timezone.now()

    customer = verify(phone, code, name="김민수")

    assert customer.pk is not None
    assert Customer.objects.filter(phone=phone).count() == 1
    customer.refresh_from_db()
    assert customer.phone == phone
    assert customer.name == "김민수"
    assert customer.last_signed_in_at >= before
    assert OneTimeCode.objects.get(phone=phone).used_at is not None


@pytest.mark.django_db
def test_signing_in_again_reuses_the_customer_and_updates_name_and_sign_in_time():
    phone = new_phone()
    first = verify(phone, services.request_code(phone=phone, client_ip=IP), name="김민수")
    first_signed_in_at = Customer.objects.get(pk=first.pk).last_signed_in_at

    second = verify(phone, services.request_code(phone=phone, client_ip=IP), name="김민준")

    assert second.pk == first.pk
    assert Customer.objects.filter(phone=phone).count() == 1
    stored = Customer.objects.get(pk=first.pk)
    assert stored.name == "김민준"
    assert stored.last_signed_in_at > first_signed_in_at


@pytest.mark.django_db
def test_the_customer_keeps_the_language_of_their_last_sign_in():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    customer = services.verify_code(
        phone=phone, name="Alex", code=code, client_ip=IP, language="en"
    )
    assert Customer.objects.get(pk=customer.pk).language == "en"

    code = services.request_code(phone=phone, client_ip=IP)
    services.verify_code(phone=phone, name="Alex", code=code, client_ip=IP, language="ko")
    assert Customer.objects.get(pk=customer.pk).language == "ko"


@pytest.mark.django_db
def test_a_customer_created_elsewhere_is_signed_in_not_duplicated():
    existing = CustomerFactory(phone=new_phone(), name="박도윤")

    customer = verify(
        existing.phone, services.request_code(phone=existing.phone, client_ip=IP), name="박도윤"
    )

    assert customer.pk == existing.pk
    assert Customer.objects.filter(phone=existing.phone).count() == 1


@pytest.mark.django_db
def test_a_code_works_only_once():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    verify(phone, code)

    with pytest.raises(CodeExpired) as excinfo:
        verify(phone, code)

    assert excinfo.value.message == CodeExpired.default_message


@pytest.mark.django_db
def test_a_code_older_than_five_minutes_is_refused():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    # Time travel for the row: it was issued 5 minutes and 1 second ago.
    issued = timezone.now() - services.CODE_LIFETIME - dt.timedelta(seconds=1)
    OneTimeCode.objects.filter(phone=phone).update(
        created_at=issued, expires_at=issued + services.CODE_LIFETIME
    )

    with pytest.raises(CodeExpired):
        verify(phone, code)
    assert not Customer.objects.filter(phone=phone).exists()


@pytest.mark.django_db
def test_a_code_just_under_five_minutes_old_still_works():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    issued = timezone.now() - services.CODE_LIFETIME + dt.timedelta(seconds=30)
    OneTimeCode.objects.filter(phone=phone).update(
        created_at=issued, expires_at=issued + services.CODE_LIFETIME
    )

    assert verify(phone, code).phone == phone


@pytest.mark.django_db
def test_without_any_code_verification_says_expired():
    with pytest.raises(CodeExpired):
        verify(new_phone(), "123456")


@pytest.mark.django_db
def test_a_new_code_makes_the_previous_one_stop_working():
    phone = new_phone()
    old_code = services.request_code(phone=phone, client_ip=IP)
    new_code = services.request_code(phone=phone, client_ip=IP)
    assert old_code != new_code  # fails with probability 1e-6

    with pytest.raises(WrongCode):
        verify(phone, old_code)
    assert OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).count() == 1

    assert verify(phone, new_code).phone == phone
    with pytest.raises(CodeExpired):
        verify(phone, old_code)


@pytest.mark.django_db
def test_a_wrong_code_is_refused_and_signs_nobody_in():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)

    with pytest.raises(WrongCode) as excinfo:
        verify(phone, wrong(code))

    assert "not correct" in excinfo.value.message
    assert not Customer.objects.filter(phone=phone).exists()
    assert OneTimeCode.objects.get(phone=phone).used_at is None  # the right code still works
    assert verify(phone, code).phone == phone


@pytest.mark.django_db
def test_a_code_for_one_number_does_not_work_for_another():
    phone, other_phone = new_phone(), new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    other_code = services.request_code(phone=other_phone, client_ip=IP)

    if code != other_code:
        with pytest.raises(WrongCode):
            verify(other_phone, code)
    # Even the same digits hash differently per number.
    assert services.hash_code(phone=phone, code=code) != services.hash_code(
        phone=other_phone, code=code
    )


# --- lockouts and rate limits --------------------------------------------------------------


@pytest.mark.django_db
def test_five_wrong_codes_lock_the_number_for_fifteen_minutes():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)

    for _ in range(4):
        with pytest.raises(WrongCode):
            verify(phone, wrong(code))
    with pytest.raises(RateLimited) as excinfo:
        verify(phone, wrong(code))

    assert excinfo.value.retry_after == 900
    assert "this number is locked" in excinfo.value.message
    assert_says_when_to_try_again(excinfo.value.message, 900)
    assert 890 <= ratelimit.blocked_for(services.WRONG_CODES_PER_PHONE, phone) <= 900


@pytest.mark.django_db
def test_a_locked_number_refuses_even_the_right_code_and_says_when_to_try_again():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    for _ in range(5):
        with contextlib.suppress(WrongCode, RateLimited):
            verify(phone, wrong(code))

    with pytest.raises(RateLimited) as excinfo:
        verify(phone, code)

    assert 890 <= excinfo.value.retry_after <= 900
    assert "this number is locked" in excinfo.value.message
    assert_says_when_to_try_again(excinfo.value.message, excinfo.value.retry_after)
    assert not Customer.objects.filter(phone=phone).exists()
    # Nor can a fresh code be requested to get around the lock.
    with pytest.raises(RateLimited):
        services.request_code(phone=phone, client_ip=OTHER_IP)
    # The lock is on the number, not the device.
    with pytest.raises(RateLimited):
        verify(phone, code, client_ip=OTHER_IP)


@pytest.mark.django_db
def test_the_wrong_code_lock_is_per_number():
    locked = new_phone()
    code = services.request_code(phone=locked, client_ip=IP)
    for _ in range(5):
        with contextlib.suppress(WrongCode, RateLimited):
            verify(locked, wrong(code))
    with pytest.raises(RateLimited):
        verify(locked, code)

    other = new_phone()
    other_code = services.request_code(phone=other, client_ip=IP)

    assert verify(other, other_code).phone == other


@pytest.mark.django_db
def test_wrong_codes_from_one_address_up_to_its_ceiling_lock_that_address(monkeypatch):
    # Five numbers, four wrong codes each: no number is locked, but the address has now
    # sent 20 wrong codes. The real ceiling is set for carrier-grade NAT (1,000 per 15
    # minutes); 20 here keeps the test short.
    limit = dataclasses.replace(services.WRONG_CODES_PER_CLIENT, max_hits=20)
    monkeypatch.setattr(services, "WRONG_CODES_PER_CLIENT", limit)
    for _ in range(5):
        phone = new_phone()
        code = services.request_code(phone=phone, client_ip=IP)
        for _ in range(4):
            with pytest.raises(WrongCode):
                verify(phone, wrong(code))

    fresh = new_phone()
    code = services.request_code(phone=fresh, client_ip=IP)
    with pytest.raises(RateLimited) as excinfo:
        verify(fresh, code)

    assert "from this device" in excinfo.value.message
    assert_says_when_to_try_again(excinfo.value.message, excinfo.value.retry_after)
    # Another device can still use that number's code.
    assert verify(fresh, code, client_ip=OTHER_IP).phone == fresh


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_wrong_code_counter():
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)
    for _ in range(4):
        with pytest.raises(WrongCode):
            verify(phone, wrong(code))
    verify(phone, code)

    code = services.request_code(phone=phone, client_ip=IP)
    for _ in range(4):  # would have locked on the first one without the reset
        with pytest.raises(WrongCode):
            verify(phone, wrong(code))
    assert verify(phone, code).phone == phone


@pytest.mark.django_db
def test_three_code_requests_per_number_per_ten_minutes():
    phone = new_phone()
    for _ in range(3):
        services.request_code(phone=phone, client_ip=IP)

    with pytest.raises(RateLimited) as excinfo:
        services.request_code(phone=phone, client_ip=OTHER_IP)

    assert 590 <= excinfo.value.retry_after <= 600
    assert "for this number" in excinfo.value.message
    assert_says_when_to_try_again(excinfo.value.message, excinfo.value.retry_after)
    assert OneTimeCode.objects.filter(phone=phone).count() == 3
    # Other numbers from the same device are not affected.
    services.request_code(phone=new_phone(), client_ip=IP)


@pytest.mark.django_db
def test_the_per_address_ceiling_on_code_requests_stops_floods():
    limit = services.CODE_REQUESTS_PER_CLIENT
    for _ in range(limit.max_hits):
        ratelimit.hit(limit, IP)  # a flood from one address, to many numbers
    refused_phone = new_phone()

    with pytest.raises(RateLimited) as excinfo:
        services.request_code(phone=refused_phone, client_ip=IP)

    assert 3590 <= excinfo.value.retry_after <= 3600
    assert "from this device" in excinfo.value.message
    assert_says_when_to_try_again(excinfo.value.message, excinfo.value.retry_after)
    assert not OneTimeCode.objects.filter(phone=refused_phone).exists()
    # The same number from another address is fine.
    services.request_code(phone=refused_phone, client_ip=OTHER_IP)


@pytest.mark.django_db
def test_hundreds_of_customers_behind_one_carrier_nat_address_all_get_codes():
    # Launch morning on a mobile network: carrier-grade NAT puts them all on one address.
    for _ in range(300):
        services.request_code(phone=new_phone(), client_ip=IP)
    assert services.CODE_REQUESTS_PER_CLIENT.max_hits >= 1000


# --- the SMS, through the outbox ----------------------------------------------------------


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield client
    client.close()


def code_messages(phone: str):
    return OutboxMessage.objects.filter(recipient=phone, template_key="signin.code")


def queued_sends(broker: redis.Redis, phone: str) -> list[tuple[bytes, dict, list]]:
    """send_outbox_message tasks for `phone`'s outbox rows waiting in the real Celery queue,
    put there by this process (other test runs may share the broker): (raw, envelope, args).
    """
    ids = set(code_messages(phone).values_list("pk", flat=True))
    origin = f"gen{os.getpid()}@{socket.gethostname()}"
    found = []
    for raw in broker.lrange(CELERY_QUEUE, 0, -1):
        envelope = json.loads(raw)
        headers = envelope["headers"]
        if headers.get("task") != SEND_OUTBOX_MESSAGE or headers.get("origin") != origin:
            continue
        assert envelope["content-type"] == "application/json"
        assert envelope["properties"]["body_encoding"] == "base64"
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        if args and args[0] in ids:
            found.append((raw, envelope, args))
    return found


def remove_queued_sends(broker: redis.Redis, phone: str) -> None:
    for raw, _envelope, _args in queued_sends(broker, phone):
        broker.lrem(CELERY_QUEUE, 1, raw)


@pytest.mark.django_db
def test_the_sms_is_an_outbox_row_and_is_queued_only_after_commit(
    broker, django_capture_on_commit_callbacks
):
    phone = new_phone()
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            code = services.request_code(phone=phone, client_ip=IP)
            # request_code has returned but the transaction has not committed: one row
            # written, nothing handed to the broker yet.
            (row,) = code_messages(phone)
            assert row.channel == OutboxChannel.SMS
            assert row.status == OutboxStatus.PENDING
            assert row.payload == {"code": code, "minutes": 5}
            assert row.redact_when_final is True
            assert row.language == "en"
            assert queued_sends(broker, phone) == []
        # Leaving the block plays the commit: the one callback runs and queues the task.

        assert len(callbacks) == 1
        ((_raw, envelope, args),) = queued_sends(broker, phone)
        assert envelope["headers"]["task"] == SEND_OUTBOX_MESSAGE
        assert args == [row.pk]
    finally:
        remove_queued_sends(broker, phone)

    assert queued_sends(broker, phone) == []


@pytest.mark.django_db
def test_the_code_and_its_sms_are_written_in_one_transaction(monkeypatch):
    def broken_queue_message(**kwargs):
        raise DatabaseError("outbox table unavailable")

    monkeypatch.setattr(services, "queue_message", broken_queue_message)
    phone = new_phone()

    with pytest.raises(DatabaseError):
        services.request_code(phone=phone, client_ip=IP)

    # No code the customer could never receive.
    assert not OneTimeCode.objects.filter(phone=phone).exists()


@pytest.mark.django_db
def test_a_refused_request_queues_no_sms(broker, django_capture_on_commit_callbacks):
    phone = new_phone()
    for _ in range(3):
        services.request_code(phone=phone, client_ip=IP)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RateLimited),
    ):
        services.request_code(phone=phone, client_ip=IP)

    assert callbacks == []
    assert code_messages(phone).count() == 3
    assert queued_sends(broker, phone) == []


@pytest.mark.django_db
def test_delivering_the_code_logs_the_masked_number_and_then_forgets_the_code(settings, caplog):
    settings.OUTBOX_CHANNELS = {
        **settings.OUTBOX_CHANNELS,
        "sms": "preorder_shop.channels.LogSmsChannel",
    }
    caplog.set_level(logging.INFO, logger="preorder_shop.channels")
    phone = "+821012345678"
    code = services.request_code(phone=phone, client_ip=IP)
    (row,) = code_messages(phone)

    assert send_outbox_message(row.pk) is True

    (record,) = [r for r in caplog.records if r.name == "preorder_shop.channels"]
    line = record.getMessage()
    assert "010-****-5678" in line
    assert f"[{row.idempotency_key}]" in line
    assert code not in line  # the body (the code, the name) never reaches the log
    # The random code and the row's key could contain the digits by chance.
    logged = caplog.text.replace(code, "<code>").replace(row.idempotency_key, "<key>")
    for full_number in ("+821012345678", "01012345678", "010-1234-5678", "1234"):
        assert full_number not in logged
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.payload == {}  # the code is not kept once the SMS is out
    assert code not in json.dumps(OutboxMessage.objects.values().get(pk=row.pk), default=str)


class RecordingSmsChannel:
    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        self.sent.append((recipient, body))


@pytest.mark.django_db
def test_the_code_goes_through_the_sms_channel_named_in_settings(settings):
    settings.OUTBOX_CHANNELS = {
        **settings.OUTBOX_CHANNELS,
        "sms": f"{__name__}.RecordingSmsChannel",
    }
    RecordingSmsChannel.sent.clear()
    phone = new_phone()
    code = services.request_code(phone=phone, client_ip=IP)

    send_outbox_message(code_messages(phone).get().pk)

    assert RecordingSmsChannel.sent == [
        (phone, f"[Pre-order] Your sign-in code is {code}. It expires in 5 minutes.")
    ]


@pytest.mark.django_db
def test_the_code_sms_is_in_the_language_of_the_request(settings):
    settings.OUTBOX_CHANNELS = {
        **settings.OUTBOX_CHANNELS,
        "sms": f"{__name__}.RecordingSmsChannel",
    }
    RecordingSmsChannel.sent.clear()
    phone = new_phone()
    with translation.override("ko"):
        code = services.request_code(phone=phone, client_ip=IP)

    send_outbox_message(code_messages(phone).get().pk)

    assert RecordingSmsChannel.sent == [
        (phone, f"[사전예약] 로그인 인증번호는 {code}입니다. 5분 후 만료됩니다.")
    ]


# --- real concurrency ----------------------------------------------------------------------


def issue_code_row(phone: str, code: str, *, created_at: dt.datetime | None = None) -> None:
    """What request_code stores, without queueing an SMS from a committing test."""
    created_at = created_at or timezone.now()
    OneTimeCode.objects.create(
        phone=phone,
        code_hash=services.hash_code(phone=phone, code=code),
        created_at=created_at,
        expires_at=created_at + services.CODE_LIFETIME,
    )


@pytest.mark.django_db
def test_a_code_issued_a_moment_later_by_a_parallel_request_does_not_crash_the_next_one():
    # Two "Send code" clicks for one number: request B took its timestamp after request A and
    # committed first (or runs on a web server whose clock is a little ahead). Seen with real
    # threads as 2 IntegrityErrors out of 6 parallel requests; here B's row is written
    # directly, one second ahead, so the interleaving is certain.
    phone = new_phone()
    issue_code_row(phone, "111111", created_at=timezone.now() + dt.timedelta(seconds=1))

    code = services.request_code(phone=phone, client_ip=IP)

    assert OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).count() == 1
    assert verify(phone, code).phone == phone


def run_in_parallel(count: int, work) -> list:
    """Run work(index) in `count` threads at once, each on its own database connection."""
    return run_at_once([functools.partial(work, index) for index in range(count)])


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_verifications_of_one_code_sign_in_exactly_once():
    phone = new_phone()
    issue_code_row(phone, "482915")

    results = run_in_parallel(2, lambda i: verify(phone, "482915", client_ip=f"192.0.2.{i}"))

    signed_in = [r for r in results if isinstance(r, Customer)]
    expired = [r for r in results if isinstance(r, CodeExpired)]
    assert len(signed_in) == 1, results
    assert len(expired) == 1, results
    assert Customer.objects.filter(phone=phone).count() == 1
    assert OneTimeCode.objects.get(phone=phone).used_at is not None


def all_pass_the_check_before_any_counts(monkeypatch, limit: ratelimit.Limit, parties: int):
    """Force the interleaving parallel requests can produce: every request reads the counter
    for `limit` before any of them adds to it."""
    real_blocked_for = ratelimit.blocked_for
    everyone_checked = threading.Barrier(parties, timeout=10)

    def blocked_for(checked_limit, subject):
        wait = real_blocked_for(checked_limit, subject)
        if checked_limit == limit:
            with contextlib.suppress(threading.BrokenBarrierError):
                everyone_checked.wait()
        return wait

    monkeypatch.setattr(ratelimit, "blocked_for", blocked_for)


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_guesses_cannot_get_past_the_five_guess_lock(monkeypatch):
    phone = new_phone()
    issue_code_row(phone, "000000")
    guessers = 10
    all_pass_the_check_before_any_counts(monkeypatch, services.WRONG_CODES_PER_PHONE, guessers)
    real_codes_match = services.codes_match
    compared = []

    def counting_codes_match(**kwargs):
        compared.append(kwargs["code"])
        return real_codes_match(**kwargs)

    monkeypatch.setattr(services, "codes_match", counting_codes_match)

    results = run_in_parallel(
        guessers, lambda i: verify(phone, f"{i + 1:06d}", client_ip=f"192.0.2.{i}")
    )

    assert all(isinstance(r, WrongCode | RateLimited) for r in results), results
    assert len(compared) <= services.WRONG_CODES_PER_PHONE.max_hits


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_guesses_from_one_device_cannot_get_past_its_limit(monkeypatch):
    # One device guesses at many numbers at once (each number only once, far from its own
    # lock): the device's limit must still bound how many codes are compared. The real
    # ceiling is set for carrier-grade NAT (1,000); a small one keeps the threads few.
    limit = dataclasses.replace(services.WRONG_CODES_PER_CLIENT, max_hits=20)
    monkeypatch.setattr(services, "WRONG_CODES_PER_CLIENT", limit)
    guessers = limit.max_hits + 6
    phones = [new_phone() for _ in range(guessers)]
    for phone in phones:
        issue_code_row(phone, "000000")
    all_pass_the_check_before_any_counts(monkeypatch, limit, guessers)
    real_codes_match = services.codes_match
    compared = []

    def counting_codes_match(**kwargs):
        compared.append(kwargs["phone"])
        return real_codes_match(**kwargs)

    monkeypatch.setattr(services, "codes_match", counting_codes_match)

    results = run_in_parallel(guessers, lambda i: verify(phones[i], "999999"))

    assert all(isinstance(r, WrongCode | RateLimited) for r in results), results
    assert len(compared) <= limit.max_hits
    assert sum(isinstance(r, RateLimited) for r in results) >= guessers - limit.max_hits


@pytest.mark.django_db
def test_right_codes_do_not_count_against_the_device(monkeypatch):
    # A shop's Wi-Fi at launch: many customers sign in from one address, all correctly.
    limit = dataclasses.replace(services.WRONG_CODES_PER_CLIENT, max_hits=20)
    monkeypatch.setattr(services, "WRONG_CODES_PER_CLIENT", limit)
    for _ in range(limit.max_hits + 5):
        phone = new_phone()
        issue_code_row(phone, "482915")
        assert verify(phone, "482915").phone == phone
    assert ratelimit.blocked_for(limit, IP) == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_code_requests_cannot_send_more_than_three_codes(monkeypatch, broker):
    phone = new_phone()
    senders = 6
    all_pass_the_check_before_any_counts(monkeypatch, services.CODE_REQUESTS_PER_PHONE, senders)
    try:
        results = run_in_parallel(
            senders,
            lambda i: services.request_code(phone=phone, client_ip=f"192.0.2.{i}"),
        )

        # Every request not refused by the limit went on to issue (or try to issue) a code.
        got_past_the_limit = [r for r in results if not isinstance(r, RateLimited)]
        assert len(got_past_the_limit) <= services.CODE_REQUESTS_PER_PHONE.max_hits, results
    finally:
        # These requests really committed, so their SMS really went to the broker.
        remove_queued_sends(broker, phone)
