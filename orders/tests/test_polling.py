import pytest
from django.http import HttpResponse

from orders import polling
from orders.models import OrderStatus as S


@pytest.mark.parametrize(
    ("status", "place", "seconds"),
    [
        (S.RECEIVED, None, 25),
        (S.PREPARING, 3, 25),
        (S.SHIPPED, None, 25),
        (S.DRAFT, 5, 60),
        (S.DELIVERED, None, 300),
        (S.CANCELLED, None, 300),
        (S.DISCARDED, None, 300),
        (S.EXPIRED, None, 300),
        (None, 1, 60),
        (None, 1_000, 60),
        (None, 1_001, 120),
        (None, 900_000, 120),
        (None, None, 300),
    ],
)
def test_poll_after(status, place, seconds):
    assert polling.poll_after(order_status=status, place=place) == seconds


def test_freshness_bounds():
    for status in (S.RECEIVED, S.PREPARING, S.SHIPPED):
        assert polling.poll_after(order_status=status, place=None) <= 30
    assert polling.poll_after(order_status=None, place=10**9) <= 120


def test_header():
    response = polling.set_poll_interval(HttpResponse(), 25)
    assert response["Poll-Interval"] == "25"
