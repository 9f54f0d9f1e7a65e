"""A customer in line without a unit is told whether a unit recorded for the variant (arrived
or announced) is left for their place (selectors.unit_outlook), on the reservation and order
pages: the plain queue position while an arrived unit is left, the expected date of the
announced lot that reaches their place, or "no unit for your place yet" (never "sold out")."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.selectors import UnitOutlook, unit_outlook
from fulfillment.services.allocation import allocate_variant
from fulfillment.tests.factories import StockLotFactory, reservations_in_line
from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.customer_session import SESSION_KEY
from reservations import services as reservation_services
from reservations.models import CancelledBy
from reservations.tests.factories import VariantFactory, expire
from tests.pages import text

pytestmark = pytest.mark.django_db

NO_UNIT = "No unit for your place yet; more stock has not been announced."
SOLD_OUT = "sold out"


def outlook(reservation) -> UnitOutlook | None:
    reservation.refresh_from_db()
    return unit_outlook(reservation=reservation, now=timezone.now())


def page(client, reservation, language: str = "en") -> str:
    session = client.session
    session[SESSION_KEY] = reservation.customer_id
    session.save()
    url = reverse("orders:reservation_detail", args=[reservation.number])
    return text(client.get(url, HTTP_ACCEPT_LANGUAGE=language))


def in_days(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def test_no_lot_recorded_at_all_means_no_unit_yet(client):
    [reservation] = reservations_in_line(VariantFactory(), 1)
    assert outlook(reservation) == UnitOutlook(UnitOutlook.NONE)
    body = page(client, reservation)
    assert NO_UNIT in body
    assert SOLD_OUT not in body.lower()


def test_an_arrived_unit_not_yet_given_out_keeps_the_plain_queue_message(client):
    variant = VariantFactory()
    _first, second = reservations_in_line(variant, 2)
    StockLotFactory(variant=variant, quantity=2)  # allocation has not run yet
    assert outlook(second) == UnitOutlook(UnitOutlook.QUEUED)
    body = page(client, second)
    assert "No unit for your place yet" not in body
    assert f"#2 of 2 for {variant}" in body


def test_every_unit_taken_by_lower_positions_means_no_unit_for_this_place(client):
    variant = VariantFactory()
    first, _second, third = reservations_in_line(variant, 3)
    StockLotFactory(variant=variant, quantity=2)
    allocate_variant(variant=variant)
    assert outlook(first) is None  # it holds one
    assert outlook(third) == UnitOutlook(UnitOutlook.NONE)
    assert NO_UNIT in page(client, third)


def test_an_announced_lot_that_reaches_this_place_gives_its_expected_date(client):
    variant = VariantFactory()
    _first, second, third, fourth = reservations_in_line(variant, 4)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    soon = StockLotFactory(variant=variant, quantity=1, arrives_at=in_days(3))
    later = StockLotFactory(variant=variant, quantity=1, arrives_at=in_days(9))

    assert outlook(second) == UnitOutlook(UnitOutlook.EXPECTED, expected_at=soon.arrives_at)
    assert outlook(third) == UnitOutlook(UnitOutlook.EXPECTED, expected_at=later.arrives_at)
    assert outlook(fourth) == UnitOutlook(UnitOutlook.NONE)

    day = timezone.localtime(later.arrives_at)
    assert (
        f"No unit for your place yet: one is expected with the delivery due on {day:%B} {day.day}."
    ) in page(client, third)
    korean = page(client, third, "ko")
    assert f"{day.month}월 {day.day}일" in korean
    assert f"{day:%B}" not in korean


def test_a_unit_coming_free_from_an_ended_reservation_counts_for_the_next_in_line():
    variant = VariantFactory()
    first, second = reservations_in_line(variant, 2)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    assert outlook(second) == UnitOutlook(UnitOutlook.NONE)

    reservation_services.cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER)
    # Whether the cancel released the unit at once or left it due for the next run, the
    # unit is the second's.
    assert outlook(second) in (UnitOutlook(UnitOutlook.QUEUED), None)


def test_reservations_out_of_line_ahead_do_not_count():
    """After the order-form deadline only reservations with an order form are in line: an
    active one ahead is about to expire and takes no unit."""
    variant = VariantFactory()
    [ahead] = reservations_in_line(variant, 1)
    order = order_in(OrderStatus.RECEIVED, reservation__variant=variant)
    StockLotFactory(variant=variant, quantity=1)
    after_deadline = variant.campaign.order_closes_at + dt.timedelta(minutes=1)

    order.reservation.refresh_from_db()
    assert unit_outlook(reservation=order.reservation, now=after_deadline) == UnitOutlook(
        UnitOutlook.QUEUED
    )
    assert unit_outlook(reservation=ahead, now=after_deadline) is None
    expire(ahead)
    assert unit_outlook(reservation=ahead, now=timezone.now()) is None


def test_the_order_page_says_the_same(client):
    variant = VariantFactory()
    reservations_in_line(variant, 1)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    order = order_in(OrderStatus.RECEIVED, reservation__variant=variant)
    session = client.session
    session[SESSION_KEY] = order.reservation.customer_id
    session.save()
    body = text(client.get(reverse("orders:order_detail", args=[order.number])))
    assert NO_UNIT in body
