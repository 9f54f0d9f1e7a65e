"""While Redis is unreachable each limit does what it states: sign-in limits fail closed (no
code is issued or compared uncounted), number-lookup limits fail open (see
orders/tests/test_number_guessing.py)."""

import socket

import pytest
import redis

from preorder_shop import guessing, ratelimit, services
from preorder_shop.models import OneTimeCode, OutboxMessage

pytestmark = pytest.mark.django_db
IP = "198.51.100.7"


@pytest.fixture
def redis_down(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unreachable = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: unreachable)


def test_every_sign_in_limit_fails_closed_and_every_lookup_limit_open():
    sign_in = [
        services.CODE_REQUESTS_PER_PHONE,
        services.CODE_REQUESTS_PER_CLIENT,
        services.WRONG_CODES_PER_PHONE,
        services.WRONG_CODES_PER_CLIENT,
    ]
    lookups = [guessing.MISSES_PER_CUSTOMER, guessing.MISSES_PER_ADDRESS]
    assert {limit.when_down for limit in sign_in} == {ratelimit.WhenDown.FAIL_CLOSED}
    assert {limit.when_down for limit in lookups} == {ratelimit.WhenDown.FAIL_OPEN}
    assert all(limit.why for limit in sign_in + lookups)


def test_a_limit_must_say_why():
    with pytest.raises(ValueError, match="must say why"):
        ratelimit.Limit("x", 1, 60, when_down=ratelimit.WhenDown.FAIL_OPEN, why="")


def test_no_code_is_sent_while_its_limits_cannot_be_counted(redis_down):
    with pytest.raises(redis.ConnectionError):
        services.request_code(phone="+821012345678", client_ip=IP)
    assert not OneTimeCode.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_no_code_is_compared_while_guesses_cannot_be_counted(redis_down, monkeypatch):
    compared = []
    monkeypatch.setattr(services, "codes_match", lambda **kwargs: compared.append(kwargs))
    OneTimeCode.objects.create(
        phone="+821012345678",
        code_hash=services.hash_code(phone="+821012345678", code="482915"),
        expires_at="2999-01-01T00:00:00Z",
    )
    with pytest.raises(redis.ConnectionError):
        services.verify_code(phone="+821012345678", name="김민수", code="482915", client_ip=IP)
    assert compared == []


def test_a_reset_or_refund_that_cannot_reach_redis_is_skipped(redis_down):
    # Both only lighten a limit: skipping them leaves the count standing (the safe side)
    # and does not turn a sign-in that already committed into an error page.
    ratelimit.reset(services.WRONG_CODES_PER_PHONE, "+821012345678")
    ratelimit.refund(services.WRONG_CODES_PER_CLIENT, IP)
