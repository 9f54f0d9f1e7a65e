"""Fixtures every test may use. Tests run against the real PostgreSQL and Redis."""

import pytest
from django.utils import translation

from preorder_shop import ratelimit
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.tests.factories import CustomerFactory
from reservations.selectors import intake_catalogue


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in Redis, outside the test transaction: start each test clean."""
    client = ratelimit.redis_client()
    keys = list(client.scan_iter(match="ratelimit:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _english(settings):
    """Tests read the English source strings; the Korean catalogue has tests of its own."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_intake_catalogue():
    """Each process caches campaigns for intake for a few seconds; tests edit them at once."""
    intake_catalogue.clear()


@pytest.fixture
def customer():
    """A signed-up customer (see signed_in)."""
    return CustomerFactory()


@pytest.fixture
def signed_in(client, customer):
    """The test client, signed in as `customer`."""
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return client
