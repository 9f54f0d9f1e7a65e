"""Send pacing on real Redis: the outbox waits for the provider's rate instead of meeting
its 429s (preorder_shop.pacing)."""

import socket

import pytest
import redis

from preorder_shop import outbox, pacing, ratelimit
from preorder_shop.models import OutboxStatus
from tests.concurrency import run_at_once

NOW = 1_900_000_000.0  # a fixed clock (Unix seconds)


@pytest.fixture(autouse=True)
def _paced(settings):
    settings.OUTBOX_SEND_RATES = {"sms": (10.0, 3)}  # 10 a second, 3 at once
    client = ratelimit.redis_client()
    client.delete(pacing.KEY.format(channel="sms"))
    yield
    client.delete(pacing.KEY.format(channel="sms"))


def test_a_burst_goes_at_once_and_the_rest_at_the_rate():
    waits = [pacing.reserve_turn("sms", now=NOW) for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])


def test_after_a_quiet_spell_the_burst_is_back_and_time_passed_counts():
    [pacing.reserve_turn("sms", now=NOW) for _ in range(6)]  # booked until NOW + 0.6
    assert pacing.reserve_turn("sms", now=NOW + 0.45) == pytest.approx(0.0)
    assert pacing.reserve_turn("sms", now=NOW + 10) == pytest.approx(0.0)
    assert [pacing.reserve_turn("sms", now=NOW + 10) for _ in range(3)] == pytest.approx(
        [0, 0, 0.1]
    )


def test_parallel_senders_each_get_their_own_turn():
    """20 processes asking at one instant: 20 different turns, none shared (the reservation
    is one atomic script; a read-then-write would hand two senders the same instant)."""
    waits = run_at_once([lambda: pacing.reserve_turn("sms", now=NOW) for _ in range(20)])
    assert sorted(waits) == pytest.approx([0, 0] + [0.1 * i for i in range(18)])


def test_an_unpaced_channel_never_waits(settings):
    settings.OUTBOX_SEND_RATES = {}
    assert [pacing.reserve_turn("sms", now=NOW) for _ in range(50)] == [0.0] * 50


def test_pacing_fails_open_while_redis_is_down(monkeypatch, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unreachable = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: unreachable)
    assert pacing.reserve_turn("sms", now=NOW) == 0.0
    assert "not paced" in caplog.text


@pytest.mark.django_db
def test_the_outbox_waits_for_its_turn_before_calling_the_provider(monkeypatch):
    """Five messages at once through a 10-a-second, 3-at-once channel: three are handed over
    at once, the 4th and 5th after waiting 0.1 and 0.2 s; every one is sent, none fails."""
    slept = []
    monkeypatch.setattr(pacing.time, "sleep", slept.append)
    monkeypatch.setattr(pacing.time, "time", lambda: NOW)
    messages = [
        outbox.queue_message(
            channel="sms",
            recipient="+821012345678",
            template_key="signin.code",
            payload={"code": "123456", "minutes": 5},
            idempotency_key=f"pacing:{i}",
        )
        for i in range(5)
    ]
    for message in messages:
        assert outbox.deliver(message.pk)
    assert slept == pytest.approx([0.1, 0.2])
    for message in messages:
        message.refresh_from_db()
        assert message.status == OutboxStatus.SENT
