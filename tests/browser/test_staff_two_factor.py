"""A new staff member sets up two-factor sign-in in a real browser: the QR code loads from our
own origin under the Content-Security-Policy (a refusal would be a console error, which
look() fails on), the first code confirms the app, the recovery codes are shown once."""

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_member_sets_up_an_authenticator_app(page, look, live_server):
    get_user_model().objects.create_superuser("new-ops", "ops@example.com", "correct-horse-9")
    page.goto(live_server.url + "/admin/")
    page.locator("input[name=username]").fill("new-ops")
    page.locator("input[name=password]").fill("correct-horse-9")
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()

    assert page.url.endswith("/admin/two-factor/")
    qr = page.locator("img[src='/admin/two-factor/qr.svg']")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    look(page, "admin-two-factor-setup", axe=False)

    app = TOTPDevice.objects.get(user__username="new-ops", confirmed=False)
    code = TOTP(app.bin_key, app.step, app.t0, app.digits, app.drift).token()
    page.locator("input[name=code]").fill(f"{code:06d}")
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    look(page, "admin-recovery-codes", axe=False)

    with page.expect_navigation():
        page.locator("#content-main a.button[href='/admin/']").click()
    assert page.url == live_server.url + "/admin/"
    expect(page.locator("#content-main")).to_be_visible()
