"""Guessing reservation and order numbers is slowed: misses count against the signed-in
customer (and, with a CGNAT-high ceiling, the address); past the limit a 429 with
Retry-After; a customer's own numbers never count."""

import dataclasses
import socket

import pytest
import redis
from django.test import Client

from preorder_shop import guessing, ratelimit
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory

from .api import status_url, token_client
from .factories import order_in

pytestmark = pytest.mark.django_db
LIMIT = guessing.MISSES_PER_CUSTOMER.max_hits


def signed_in_as(customer, address="203.0.113.7") -> Client:
    browser = Client(REMOTE_ADDR=address)
    session = browser.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return browser


def guess(browser: Client, times: int) -> list[int]:
    return [
        browser.get(f"/my/reservations/{RESERVATION_NUMBER.generate()}/").status_code
        for _ in range(times)
    ]


def test_past_the_limit_a_guesser_gets_429_with_retry_after():
    customer = CustomerFactory()
    own = ReservationFactory(customer=customer)
    browser = signed_in_as(customer)

    assert guess(browser, LIMIT) == [404] * LIMIT
    refused = browser.get(f"/my/orders/{ORDER_NUMBER.generate()}/")

    assert refused.status_code == 429
    assert 890 <= int(refused["Retry-After"]) <= 900
    assert "Too many numbers that are not yours" in refused.content.decode()
    assert "Try again after" in refused.content.decode()
    # The lock meets misses only: the customer's own page still opens (it reveals nothing
    # that is not theirs), and a locked miss is not counted on top.
    assert browser.get(f"/my/reservations/{own.number}/").status_code == 200
    assert guess(browser, 3) == [429] * 3
    assert ratelimit.redis_client().get(guessing.MISSES_PER_CUSTOMER.key(str(customer.pk))) == (
        str(LIMIT).encode()
    )


def test_own_numbers_never_count():
    order = order_in("received")
    browser = signed_in_as(order.reservation.customer)

    for _ in range(LIMIT * 3):
        assert browser.get(f"/my/orders/{order.number}/").status_code == 200
        assert browser.get(f"/my/reservations/{order.reservation.number}/").status_code == 200
    api = token_client(order.reservation.customer, REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT * 3):
        assert api.get(status_url(order.number)).status_code == 200
    assert api.get(status_url(ORDER_NUMBER.generate())).status_code == 404  # not locked


def test_a_dropped_cookie_does_not_reset_the_count():
    customer = CustomerFactory()
    guess(signed_in_as(customer), LIMIT)

    fresh_session = signed_in_as(customer)  # cookies dropped, signed in again

    assert guess(fresh_session, 1) == [429]


def test_the_api_counts_the_tokens_customer_and_answers_429_as_a_problem():
    customer = CustomerFactory()
    api = token_client(customer, REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT):
        assert api.get(status_url(ORDER_NUMBER.generate())).status_code == 404

    refused = api.get(status_url(ORDER_NUMBER.generate()))

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert 890 <= int(refused["Retry-After"]) <= 900
    # The same customer on the web is the same guesser.
    assert guess(signed_in_as(customer), 1) == [429]


def test_other_customers_behind_the_same_address_are_not_affected():
    guess(signed_in_as(CustomerFactory()), LIMIT)
    neighbour = ReservationFactory()

    browser = signed_in_as(neighbour.customer)

    assert browser.get(f"/my/reservations/{neighbour.number}/").status_code == 200


def test_many_accounts_behind_one_address_meet_the_address_ceiling(monkeypatch):
    # The real ceiling is set for carrier-grade NAT (1,000 misses per 15 minutes); a
    # smaller one shows that it is counted across accounts and per address.
    ceiling = dataclasses.replace(guessing.MISSES_PER_ADDRESS, max_hits=6)
    monkeypatch.setattr(guessing, "MISSES_PER_ADDRESS", ceiling)
    for _ in range(3):
        assert guess(signed_in_as(CustomerFactory()), 2) == [404, 404]

    assert guess(signed_in_as(CustomerFactory()), 1) == [429]
    assert guess(signed_in_as(CustomerFactory(), address="198.51.100.9"), 1) == [404]


def test_signed_out_requests_look_nothing_up_and_count_nothing():
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT + 5):
        assert browser.get(f"/my/orders/{ORDER_NUMBER.generate()}/").status_code == 302
        assert browser.get(f"/api/v1/orders/{ORDER_NUMBER.generate()}").status_code == 401
    assert ratelimit.blocked_for(guessing.MISSES_PER_ADDRESS, "203.0.113.7") == 0


def test_with_redis_down_customers_still_read_their_own_orders(monkeypatch, caplog):
    order = order_in("received")
    browser = signed_in_as(order.reservation.customer)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    unreachable = redis.Redis(host="127.0.0.1", port=closed_port, socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: unreachable)

    assert browser.get(f"/my/orders/{order.number}/").status_code == 200
    assert browser.get(f"/my/orders/{ORDER_NUMBER.generate()}/").status_code == 404
    assert "number-miss-customer is not enforced" in caplog.text
