"""An order status's `notices` fact is read inside the status's own statement
(site_notices.ORDER_NOTICES_SQL, orders.status_load) so a poll pays no query for it: it
must show exactly what active_for_order shows, the same notices in the same order and
words, for every scope, severity, language and state."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from orders import selectors
from orders.models import OrderStatus
from orders.tests.factories import order_in
from reservations.models import Fulfilment
from support import site_notices
from support.models import NoticeSeverity

from .notice_factories import notice, world

pytestmark = pytest.mark.django_db


def status_notices(order):
    loaded = selectors.own_order(customer_id=order.reservation.customer_id, number=order.number)
    return dict(selectors.status_facts(loaded).extra)["notices"]


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_polled_notices_are_the_pages_notices(language):
    w = world()
    now = timezone.now()
    notice(w.a, severity=NoticeSeverity.INFO)
    notice(w.a, severity=NoticeSeverity.CRITICAL, title_en="", body_en="")
    notice(w.a, variant=w.a2, severity=NoticeSeverity.WARNING)
    notice(w.a, variant=w.a1)
    notice(w.a, fulfilment=Fulfilment.DAWN, starts_at=now - dt.timedelta(minutes=5))
    notice(w.a, fulfilment=Fulfilment.COURIER)
    notice(w.a, published=False)
    notice(w.a, starts_at=now + dt.timedelta(hours=1))
    notice(w.a, starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(days=1))
    notice(w.b)
    orders = [o for r in w.reservations.values() for o in r.orders.exclude(number=None)]
    orders += [order_in(status) for status in (OrderStatus.RECEIVED, OrderStatus.DELIVERED)]
    shown_somewhere = 0
    with override(language):
        for order in orders:
            expected = [n.as_json() for n in site_notices.active_for_order(order)]
            assert status_notices(order) == expected, order.reservation
            shown_somewhere += bool(expected)
    assert shown_somewhere  # the comparison is not between two empty lists only


def test_the_api_status_carries_the_notices_and_a_new_one_changes_its_etag():
    from orders.tests.api import status_url, token_client

    order = order_in(OrderStatus.RECEIVED)
    api = token_client(order.reservation.customer, HTTP_ACCEPT_LANGUAGE="en")
    before = api.get(status_url(order.number))
    assert before.json()["notices"] == []

    notice(order.reservation.campaign, severity=NoticeSeverity.WARNING)
    after = api.get(status_url(order.number), HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert [(n["severity"], n["title"]) for n in after.json()["notices"]] == [
        ("warning", "Delivery delay")
    ]
