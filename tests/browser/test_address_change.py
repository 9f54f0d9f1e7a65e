"""Changing the delivery address on a 360-px phone in Korean: from the order page, a wrong
postcode shown on its field, the change saved and said; once preparation starts the order
page says why it can no longer change. And a support agent's change in admin, masked."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from fulfillment.services import moves
from orders.models import OrderStatus
from orders.tests.factories import give_unit, order_in
from preorder_shop import roles
from preorder_shop.actors import Actor
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Fulfilment
from reservations.tests.factories import ReservationFactory

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, E164, NAME = "010-4567-1234", "+821045671234", "최하늘"


def test_the_customer_changes_the_address_until_preparation_starts(
    page, look, taps, campaign, live_server, page_errors
):
    customer = CustomerFactory(phone=E164, name=NAME)
    reservation = ReservationFactory(
        customer=customer,
        variant=campaign.variants.order_by("pk").first(),
        fulfilment=Fulfilment.COURIER,
    )
    order = order_in(OrderStatus.RECEIVED, reservation=reservation)

    page.goto(live_server.url + campaign.get_absolute_url())
    sign_in(page, look, taps, phone=PHONE, name=NAME)
    page.goto(f"{live_server.url}/my/orders/{order.number}/")
    expect(page.get_by_test_id("delivery-address")).to_contain_text("세종대로 110")
    look(page, "order-page-address")

    taps.click(page.get_by_test_id("change-address"))
    page.wait_for_url(f"**/my/orders/{order.number}/delivery-address/")
    expect(page.locator("input[name=postcode]")).to_have_value("04524")
    expect(page.locator("input[name=recipient_phone]")).to_have_value("010-1234-5678")
    look(page, "address-form")

    taps.fill(page.locator("input[name=postcode]"), "0623")
    taps.fill(page.locator("input[name=address_line1]"), "서울특별시 강남구 테헤란로 152")
    taps.fill(page.locator("input[name=address_line2]"), "12층")
    with page.expect_navigation():
        taps.click(page.locator("[data-testid=address-form] button[type=submit]"))
    # The form comes back as a 400 (as the order form's refused submit), which Chromium
    # reports on the console: that one, and nothing else.
    assert len(page_errors) == 1 and "status of 400" in page_errors[0], page_errors
    page_errors.clear()
    postcode_field = page.locator(".field.invalid:has(input[name=postcode])")
    expect(postcode_field.locator(".error")).to_be_visible()
    expect(page.locator("input[name=address_line1]")).to_have_value(
        "서울특별시 강남구 테헤란로 152"
    )
    look(page, "address-form-error")

    taps.fill(page.locator("input[name=postcode]"), "06236")
    with page.expect_navigation():
        taps.click(page.locator("[data-testid=address-form] button[type=submit]"))
    page.wait_for_url(f"**/my/orders/{order.number}/")
    expect(page.get_by_test_id("delivery-address")).to_contain_text("테헤란로 152 12층")
    expect(page.locator(".message.success")).to_be_visible()
    look(page, "address-changed")
    assert taps.count <= 14  # sign-in (5) + the change (7) and the fix (2)

    give_unit(reservation)
    moves.start_preparing(order=order, actor=Actor.worker("pipeline"))
    page.reload()
    expect(page.get_by_test_id("address-refusal")).to_be_visible()
    expect(page.get_by_test_id("change-address")).to_have_count(0)
    look(page, "address-fixed-while-preparing")


def test_an_agent_changes_it_in_admin_and_sees_it_masked(page, look, live_server):
    roles.setup_roles()
    agent = get_user_model().objects.create_user("agent", password="correct-horse-9")
    agent.is_staff = True
    agent.save()
    agent.groups.set([Group.objects.get(name=roles.SUPPORT_AGENTS.name)])
    app = TOTPDevice.objects.create(user=agent, name="app", confirmed=True)
    order = order_in(OrderStatus.RECEIVED)

    page.goto(live_server.url + "/admin/")
    page.locator("input[name=username]").fill("agent")
    page.locator("input[name=password]").fill("correct-horse-9")
    code = TOTP(app.bin_key, app.step, app.t0, app.digits, app.drift).token()
    page.locator("input[name=code]").fill(f"{code:06d}")
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    with page.expect_navigation():
        page.locator("a.change-address").click()
    look(page, "admin-address-form", axe=False)
    assert "세종대로 110" not in page.locator("#content").inner_text()  # masked

    for name, value in {
        "recipient_name": "김영희",
        "recipient_phone": "010-9876-5432",
        "postcode": "06236",
        "address_line1": "서울특별시 강남구 테헤란로 152",
        "reason": "Ticket 12345678: the customer moved",
    }.items():
        page.locator(f"[name={name}]").fill(value)
    with page.expect_navigation():
        page.locator("#content-main input[type=submit]").click()
    expect(page.locator("ul.messagelist li.success")).to_have_count(1)
    look(page, "admin-address-changed", axe=False)
    shown = page.locator("#content").inner_text()
    assert "테헤란로 152" not in shown and "김영희" not in shown  # the history, masked
    assert "김*희" in shown
