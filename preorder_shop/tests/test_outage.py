"""A store that cannot be reached gets an honest 503 with Retry-After and our own page
(JSON for the API); any other error stays a real, logged 500."""

import logging
import socket

import psycopg
import pytest
import redis
from django.db import OperationalError
from django.test import Client

from preorder_shop import ratelimit
from preorder_shop.identifiers import ORDER_NUMBER
from reservations import views as reservation_views
from reservations.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_gone(*args, **kwargs):
    """The error Django raises when PostgreSQL is not there: psycopg's, with no SQLSTATE."""
    try:
        psycopg.connect(host="127.0.0.1", port=closed_port(), connect_timeout=1)
    except psycopg.OperationalError as exc:
        raise OperationalError(str(exc)) from exc


def test_redis_unreachable_is_a_503_page_not_a_500(browser, monkeypatch):
    unreachable = redis.Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: unreachable)

    response = browser.post("/signin/", {"phone": "010-1234-5678", "name": "김민수"})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "We are catching up" in response.content.decode()
    assert "your place in line are safe" in response.content.decode()


def test_postgresql_unreachable_is_a_503_page(browser, monkeypatch):
    campaign = CampaignFactory()
    monkeypatch.setattr(reservation_views.selectors, "variants_with_counts", database_gone)

    response = browser.get(campaign.get_absolute_url())

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "We are catching up" in response.content.decode()


def test_the_api_answers_a_problem(monkeypatch):
    from orders import selectors as order_selectors
    from orders.tests.api import token_client
    from preorder_shop.tests.factories import CustomerFactory

    app = token_client(CustomerFactory())
    app.raise_request_exception = False
    monkeypatch.setattr(order_selectors, "own_order_polled", database_gone)

    response = app.get(f"/api/v1/orders/{ORDER_NUMBER.generate()}")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["retry_after"]) == ("temporarily_unavailable", 30)


def test_any_other_error_stays_a_logged_500(browser, monkeypatch, caplog):
    campaign = CampaignFactory()

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(reservation_views.selectors, "variants_with_counts", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = browser.get(campaign.get_absolute_url())

    assert response.status_code == 500
    assert any("a bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
