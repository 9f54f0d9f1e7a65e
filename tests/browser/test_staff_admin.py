"""The staff flow in the admin, in a real browser: sign in, find one order, move it forward
with the admin action (fulfillment/order_admin.py). Screenshots of each page; axe-core is
not applied to Django's own admin pages."""

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from orders.models import OrderStatus, OrderTransition
from orders.tests.factories import give_unit, order_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_moves_one_order_to_preparing(page, look, live_server):
    ops = get_user_model().objects.create_superuser("ops", "ops@example.com", "correct-horse-9")
    app = TOTPDevice.objects.create(user=ops, name="app", confirmed=True)
    order = order_in(OrderStatus.RECEIVED)
    give_unit(order.reservation)
    other = order_in(OrderStatus.RECEIVED)  # not found by the search, not moved

    page.goto(live_server.url + "/admin/")
    look(page, "admin-login", axe=False)
    page.locator("input[name=username]").fill("ops")
    page.locator("input[name=password]").fill("correct-horse-9")
    code = TOTP(app.bin_key, app.step, app.t0, app.digits, app.drift).token()
    page.locator("input[name=code]").fill(f"{code:06d}")
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    look(page, "admin-index", axe=False)

    page.goto(live_server.url + "/admin/orders/order/")
    look(page, "admin-orders", axe=False)
    page.locator("#searchbar").fill(order.number)
    with page.expect_navigation():
        page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    look(page, "admin-order-found", axe=False)

    rows.first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("to_preparing")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    look(page, "admin-move-form", axe=False)
    page.locator("textarea[name=reason]").fill("Unit checked on the shelf")
    with page.expect_navigation():
        page.locator("input[name=apply]").click()
    expect(page.locator("ul.messagelist li.success")).to_have_count(1)
    look(page, "admin-moved", axe=False)

    order.refresh_from_db()
    other.refresh_from_db()
    assert order.status == OrderStatus.PREPARING
    assert other.status == OrderStatus.RECEIVED
    move = OrderTransition.objects.get(order=order, to_status=OrderStatus.PREPARING)
    assert move.reason == "Unit checked on the shelf"
