"""What the reservation page says about delivery, on a 360-px phone in Korean: the expected
delivery once a unit is held, and "no unit for your place yet" (then the expected date once
a lot reaching the place is announced) while every unit recorded is taken by lower
positions."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fulfillment.services.allocation import allocate_variant
from fulfillment.tests.factories import StockLotFactory
from orders.tests.factories import give_unit
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Campaign, Fulfilment
from reservations.tests.factories import ReservationFactory

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

HELD = ("010-4567-8901", "+821045678901", "이하늘")
WAITING = ("010-5678-9012", "+821056789012", "박서준")


def reservation_of(phone_e164: str, name: str, variant, **kwargs):
    customer = CustomerFactory(phone=phone_e164, name=name)
    return ReservationFactory(customer=customer, variant=variant, **kwargs)


def test_reservation_pages_say_when_the_phone_is_expected_or_that_no_unit_is_left_yet(
    page, look, taps, campaign, live_server
):
    launch = timezone.localdate() + dt.timedelta(days=10)
    Campaign.objects.filter(pk=campaign.pk).update(launch_date=launch)
    held_variant, sold_variant = campaign.variants.order_by("pk")[:2]

    held = reservation_of(HELD[1], HELD[2], held_variant, fulfilment=Fulfilment.DAWN)
    give_unit(held)
    # The fixture put someone in line for this variant already: the one unit goes to them.
    StockLotFactory(variant=sold_variant, quantity=1)
    allocate_variant(variant=sold_variant)
    waiting = reservation_of(WAITING[1], WAITING[2], sold_variant)

    page.goto(live_server.url + campaign.get_absolute_url())
    sign_in(page, look, taps, phone=HELD[0], name=HELD[2])
    page.goto(f"{live_server.url}/my/reservations/{held.number}/")
    expected = page.get_by_test_id("expected-delivery")
    expect(expected).to_contain_text(f"{launch.month}월 {launch.day}일")
    expect(page.get_by_test_id("unit-outlook")).to_have_count(0)
    look(page, "reservation-unit-held")

    with page.expect_navigation():
        page.locator("form[action='/signout/'] button").click()
    page.goto(live_server.url + campaign.get_absolute_url())
    sign_in(page, look, taps, phone=WAITING[0], name=WAITING[2])
    page.goto(f"{live_server.url}/my/reservations/{waiting.number}/")
    expect(page.get_by_test_id("unit-outlook")).to_be_visible()
    expect(page.get_by_test_id("expected-delivery")).to_have_count(0)
    assert "품절" not in page.locator("main").inner_text()  # "sold out" is not known
    look(page, "reservation-no-unit-yet")

    arrives = timezone.now() + dt.timedelta(days=4)
    StockLotFactory(variant=sold_variant, quantity=1, arrives_at=arrives)
    page.reload()
    day = timezone.localtime(arrives)
    expect(page.get_by_test_id("unit-outlook")).to_contain_text(f"{day.month}월 {day.day}일")
    look(page, "reservation-unit-announced")
