"""Ghost drafts and double submits, in a real browser: two tabs of one customer open the
order form and share one draft; a double-clicked submit makes one order."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderStatus, OrderTransition
from reservations.models import Reservation

from .choosing import choose, reserve_button
from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, PHONE_E164 = "010-2345-6789", "+821023456789"
SAVED = re.compile(r"\d{1,2}:\d\d:\d\d")


def reserve(page, look, taps, campaign) -> Reservation:
    variant = campaign.variants.order_by("pk").first()
    sign_in(page, look, taps, phone=PHONE, name="김민준")
    choose(page, taps, variant, "courier")
    with page.expect_navigation():
        taps.click(reserve_button(page))
    return Reservation.objects.get(customer__phone=PHONE_E164)


def wait_until_saved(page, reservation, **fields) -> None:
    """Autosave waits 800 ms after the last keystroke: poll until the draft has `fields`."""
    for _ in range(50):
        if Order.objects.filter(reservation=reservation, **fields).exists():
            return
        page.wait_for_timeout(100)
    pytest.fail(f"the draft was not saved with {fields}")


def test_two_tabs_share_one_draft_and_a_double_click_makes_one_order(
    context, page, look, taps, campaign, live_server
):
    page.goto(live_server.url + campaign.get_absolute_url())
    reservation = reserve(page, look, taps, campaign)
    reservation_url = f"{live_server.url}/my/reservations/{reservation.number}/"
    form_path = f"/my/reservations/{reservation.number}/order/"
    plan = campaign.rate_plans.filter(is_active=True).order_by("pk").first()

    # Both tabs show the reservation page with "Write order form", before either has a draft.
    first, second = page, context.new_page()
    first.goto(reservation_url)
    second.goto(reservation_url)
    look(first, "tab1-reservation")
    look(second, "tab2-reservation")

    with first.expect_navigation():
        first.get_by_test_id("write-order").click()
    with second.expect_navigation():
        second.get_by_test_id("write-order").click()
    assert first.url.endswith(form_path) and second.url.endswith(form_path)
    assert Order.objects.filter(reservation=reservation).count() == 1
    look(first, "tab1-order-form")
    look(second, "tab2-order-form")

    # Type in the first tab; htmx saves. The second tab, reloaded, shows the same answers.
    first.locator(f"input[name=plan][value='{plan.pk}']").check()
    first.locator("input[name=join_type][value=new_line]").check()
    first.locator("input[name=recipient_name]").fill("김민준")
    first.locator("input[name=recipient_phone]").fill("010-2345-6789")
    first.locator("input[name=postcode]").fill("06164")
    first.locator("input[name=address_line1]").fill("서울특별시 강남구 테헤란로 521")
    expect(first.locator("#autosave")).to_contain_text(SAVED)
    wait_until_saved(first, reservation, address_line1="서울특별시 강남구 테헤란로 521")
    draft = Order.objects.get(reservation=reservation)
    assert draft.status == OrderStatus.DRAFT
    assert draft.recipient_name == "김민준"

    second.reload()
    expect(second.locator("input[name=recipient_name]")).to_have_value("김민준")
    expect(second.locator(f"input[name=plan][value='{plan.pk}']")).to_be_checked()
    look(second, "tab2-reloaded")
    assert Order.objects.filter(reservation=reservation).count() == 1

    # A double click on submit in the second tab: one order, one "received" transition.
    # (The second click aborts the first click's navigation, as in a person's browser.)
    second.locator("form[action$='/order/submit/'] button[type=submit]").dblclick()
    second.wait_for_url(re.compile(r"/my/orders/[^/]+/$"))
    second.wait_for_load_state("load")
    orders = Order.objects.filter(reservation=reservation)
    assert orders.count() == 1
    order = orders.get()
    assert order.status == OrderStatus.RECEIVED
    received = OrderTransition.objects.filter(order=order, to_status=OrderStatus.RECEIVED)
    assert received.count() == 1
    expect(second).to_have_url(re.compile(re.escape(f"/my/orders/{order.number}/") + "$"))
    look(second, "tab2-order")

    # The first tab still shows the old form; submitting it again changes nothing.
    with first.expect_navigation():
        first.locator("form[action$='/order/submit/'] button[type=submit]").click()
    look(first, "tab1-after-second-submit")
    assert Order.objects.filter(reservation=reservation).count() == 1
    assert OrderTransition.objects.filter(order=order, to_status=OrderStatus.RECEIVED).count() == 1
