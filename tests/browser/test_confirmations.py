"""Destructive actions ask first, on a page of their own, at 360x740 in Korean: cancelling a
reservation (naming the live order it also cancels), cancelling an order, discarding a draft;
and the order form shows the port-in fields only for port-in, keeping what was typed. Once
with htmx and once without JavaScript: every step is a plain link or form."""

import re
from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

from orders.models import Order, OrderStatus
from orders.tests.factories import give_unit, order_in
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import ReservationStatus
from reservations.tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = OrderStatus
RESERVED = "unit-reserved"  # the fulfilment panel's test id: "a phone is reserved for you"


def signed_in_as(context: BrowserContext, live_server, customer) -> None:
    """The session a sign-in would leave (the sign-in pages have their own tests)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = customer.pk
    session.save()
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}
    context.add_cookies([{**cookie, "url": live_server.url}])


@pytest.fixture
def customer(context, live_server, campaign):
    customer = CustomerFactory(name="김민준")
    signed_in_as(context, live_server, customer)
    return customer


def reservation_of(customer, campaign):
    return ReservationFactory(customer=customer, variant=campaign.variants.order_by("pk").first())


def status_of(obj) -> str:
    obj.refresh_from_db()
    return obj.status


def confirm(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_test_id("confirm").click()


# Without JavaScript axe-core cannot run in the page (the same pages are checked by axe in
# the htmx run); look still checks width and console and photographs them.
def walk_cancel_order_and_reservation(page: Page, look, live_server, customer, campaign, js):
    reservation = reservation_of(customer, campaign)
    order = order_in(S.RECEIVED, reservation=reservation)
    give_unit(reservation)

    page.goto(live_server.url + f"/my/reservations/{reservation.number}/")
    expect(page.get_by_test_id(RESERVED)).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("cancel-reservation").click()
    assert page.url.endswith(f"/my/reservations/{reservation.number}/cancel/")
    expect(page.get_by_test_id("consequences")).to_contain_text(order.number)
    look(page, "confirm-reservation-cancel-with-order", axe=js)
    with page.expect_navigation():
        page.get_by_test_id("keep").click()  # changed my mind: nothing happened
    assert status_of(reservation) == ReservationStatus.ORDERED

    page.goto(live_server.url + f"/my/orders/{order.number}/")
    with page.expect_navigation():
        page.get_by_test_id("cancel-order").click()
    expect(page.get_by_test_id("consequences")).to_contain_text(reservation.number)
    look(page, "confirm-order-cancel", axe=js)
    confirm(page)
    assert page.url.endswith(f"/my/orders/{order.number}/")
    assert status_of(order) == S.CANCELLED
    look(page, "order-cancelled", axe=js)

    page.goto(live_server.url + f"/my/reservations/{reservation.number}/")
    expect(page.get_by_test_id(RESERVED)).to_have_count(0)  # released with the cancel
    expect(page.get_by_test_id("cancel-reservation")).to_have_count(0)
    look(page, "reservation-cancelled", axe=js)


def walk_order_form_and_discard(page: Page, look, live_server, customer, campaign, js) -> None:
    reservation = reservation_of(customer, campaign)
    order_in(S.DRAFT, reservation=reservation)
    page.goto(live_server.url + f"/my/reservations/{reservation.number}/order/")
    port_in = page.get_by_test_id("port-in-fields")
    expect(port_in).to_be_hidden()  # nothing chosen yet
    look(page, "order-form", axe=js)

    page.locator("input[name=join_type][value=port_in]").check()
    expect(port_in).to_be_visible()
    page.locator("select[name=port_in_carrier]").select_option("kt")
    page.locator("input[name=port_in_number]").fill("010-5555-6666")
    look(page, "order-form-port-in", axe=js)
    page.locator("input[name=join_type][value=new_line]").check()
    expect(port_in).to_be_hidden()
    page.locator("input[name=join_type][value=port_in]").check()
    expect(page.locator("input[name=port_in_number]")).to_have_value("010-5555-6666")

    with page.expect_navigation():
        page.get_by_test_id("discard").click()
    look(page, "confirm-discard", axe=js)
    confirm(page)
    assert page.url.endswith(f"/my/reservations/{reservation.number}/")
    assert not Order.objects.live().filter(reservation=reservation).exists()
    assert status_of(reservation) == ReservationStatus.ACTIVE

    with page.expect_navigation():
        page.get_by_test_id("cancel-reservation").click()
    look(page, "confirm-reservation-cancel", axe=js)
    confirm(page)
    assert status_of(reservation) == ReservationStatus.CANCELLED


def test_confirmations_with_htmx(page, look, live_server, customer, campaign):
    walk_cancel_order_and_reservation(page, look, live_server, customer, campaign, js=True)
    walk_order_form_and_discard(page, look, live_server, customer, campaign, js=True)


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_confirmations_without_javascript(page, look, live_server, customer, campaign):
    walk_cancel_order_and_reservation(page, look, live_server, customer, campaign, js=False)
    walk_order_form_and_discard(page, look, live_server, customer, campaign, js=False)


def test_a_confirmation_page_reads_korean(page, look, live_server, customer, campaign):
    reservation = reservation_of(customer, campaign)
    page.goto(live_server.url + f"/my/reservations/{reservation.number}/cancel/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    heading = page.locator("h1").inner_text()
    assert re.search(r"[가-힣]", heading), heading
    look(page, "confirm-korean")
