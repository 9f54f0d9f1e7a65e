"""The whole customer flow on a 360-px phone, in Korean and once in English: campaign list,
campaign page, sign in, reserve, reservation page, order form, order page. Every page is
checked by `look` (axe-core, no sideways scroll, no console error) and photographed."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderStatus
from reservations.models import Reservation

from .choosing import choose, reserve_button
from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, PHONE_E164 = "010-3456-7890", "+821034567890"

# Issue 11: from the campaign page to a reservation in at most 5 taps after sign-in,
# counting every choice: model, capacity, colour, way of receiving, reserve.
MAX_TAPS_AFTER_SIGN_IN = 5


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_customer_reserves_and_orders_a_phone(page, look, taps, campaign, live_server, lang):
    variant = campaign.variants.get(
        model_name="iPhone 15 Pro", capacity_gb=256, colour="Natural Titanium"
    )
    plan = campaign.rate_plans.filter(is_active=True).order_by("pk").first()

    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    look(page, "campaign-list")

    page.locator(f"a[href='{campaign.get_absolute_url()}']").first.click()
    page.wait_for_url(re.compile(re.escape(campaign.get_absolute_url()) + "$"))
    look(page, "campaign-anonymous")
    campaign_height = page.evaluate("document.documentElement.scrollHeight")

    # From here on every tap and choice counts.
    sign_in(page, look, taps, phone=PHONE, name="홍길동")
    page.wait_for_url(re.compile(re.escape(campaign.get_absolute_url()) + "$"))
    look(page, "campaign-signed-in")
    sign_in_taps = taps.count

    choose(page, taps, variant, "courier")
    look(page, "campaign-chosen")
    with page.expect_navigation():
        taps.click(reserve_button(page))
    reservation = Reservation.objects.get(customer__phone=PHONE_E164)
    assert page.url.endswith(f"/my/reservations/{reservation.number}/")
    look(page, "reservation")
    after_sign_in = taps.count - sign_in_taps
    print(
        f"\n[{lang}] taps from the campaign page to a reservation: {taps.count} "
        f"({sign_in_taps} signing in, {after_sign_in} after sign-in); "
        f"campaign page {campaign_height}px tall at {page.viewport_size['width']}px"
    )
    assert after_sign_in <= MAX_TAPS_AFTER_SIGN_IN
    assert reservation.variant_id == variant.pk

    # The order form: plan, way of joining, recipient and address. htmx saves as we type.
    with page.expect_navigation():
        page.get_by_test_id("write-order").click()
    assert page.url.endswith(f"/my/reservations/{reservation.number}/order/")
    look(page, "order-form-empty")
    page.locator(f"input[name=plan][value='{plan.pk}']").check()
    page.locator("input[name=join_type][value=new_line]").check()
    page.locator("input[name=recipient_name]").fill("홍길동")
    page.locator("input[name=recipient_phone]").fill("010-9876-1234")
    page.locator("input[name=postcode]").fill("04524")
    page.locator("input[name=address_line1]").fill("서울특별시 중구 세종대로 110")
    expect(page.locator("#autosave")).to_contain_text(re.compile(r"\d{1,2}:\d\d:\d\d"))
    look(page, "order-form-filled")

    with page.expect_navigation():
        page.locator("form[action$='/order/submit/'] button[type=submit]").click()
    order = Order.objects.get(reservation=reservation)
    assert order.status == OrderStatus.RECEIVED
    assert page.url.endswith(f"/my/orders/{order.number}/")
    look(page, "order")

    page.goto(live_server.url + "/my/reservations/")
    look(page, "my-reservations")
