"""Two-factor sign-in to the admin: with DEBUG off (as pytest-django runs) a session that
has not given its second factor is refused; enrolment with a QR code from our own origin,
confirmed by a first code, then ten recovery codes shown once, each working once."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from preorder_shop.staff_auth.site import StaffAdminSite
from tests.admin_client import sign_in_to_admin

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
INDEX = "/admin/"
SETUP = "/admin/two-factor/"
QR = "/admin/two-factor/qr.svg"
CODES = "/admin/two-factor/recovery-codes/"
PASSWORD = "a-long-staff-password-7"


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        "mina", password=PASSWORD, is_staff=True, is_superuser=True
    )


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes")
    codes = ["abcd2345", "efgh6723"]
    for code in codes:
        StaticToken.objects.create(device=recovery, token=code)
    return device, codes


def sign_in(client, code: str = "", username: str = "mina", password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password, "code": code})


def test_every_registration_is_kept_on_the_swapped_site():
    assert isinstance(admin.site, StaffAdminSite)
    names = {model._meta.label for model in admin.site._registry}
    assert {"preorder_shop.Customer", "orders.Order", "staff_auth.StaffSignInAttempt"} <= names


def test_a_session_without_its_second_factor_is_refused(client, staff):
    enrolled(staff)
    client.force_login(staff)  # a password-only session
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get("/admin/orders/order/").status_code == 302


def test_a_password_alone_is_not_enough_for_an_enrolled_member(client, staff):
    enrolled(staff)
    response = sign_in(client)
    assert response.status_code == 200
    assert b"two-factor code is not right" in response.content
    assert client.get(INDEX).status_code == 302


def test_password_and_app_code_open_the_admin(client, staff):
    device, _ = enrolled(staff)
    response = sign_in(client, code=current_code(device))
    assert response.status_code == 302
    assert response["Location"] == INDEX
    assert client.get(INDEX).status_code == 200


def test_a_member_without_a_device_is_sent_to_enrolment_and_nowhere_else(client, staff):
    response = sign_in(client)
    assert response["Location"] == SETUP
    assert client.get(INDEX)["Location"].startswith(LOGIN)
    assert client.get(LOGIN)["Location"] == SETUP


def test_enrolment_shows_a_qr_code_confirms_a_first_code_and_shows_codes_once(
    client, staff, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own pause after the wrong code
    sign_in(client)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert b'src="/admin/two-factor/qr.svg"' in page.content
    secret = re.search(rb'data-testid="totp-secret">([A-Z2-7 ]+)<', page.content).group(1)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert secret.replace(b" ", b"").decode() in device.config_url

    qr = client.get(QR)
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.lstrip().startswith((b"<?xml", b"<svg"))
    assert b"style=" not in qr.content
    assert "no-store" in qr["Cache-Control"]

    wrong = client.post(SETUP, {"code": "000000" if current_code(device) != "000000" else "1"})
    assert b"That code is not right" in wrong.content
    assert client.get(INDEX).status_code == 302

    confirmed = client.post(SETUP, {"code": current_code(device)})
    assert confirmed["Location"] == CODES
    shown = client.get(CODES)
    codes = re.findall(rb"<li><code>([a-z2-7]{8})</code></li>", shown.content)
    assert len(set(codes)) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == {c.decode() for c in codes}
    assert not re.findall(rb"<li><code>", client.get(CODES).content)  # shown once
    assert client.get(INDEX).status_code == 200  # the first code verified the session
    assert client.get(SETUP)["Location"] == INDEX  # enrolled: no second app this way
    assert client.get(QR).status_code == 404


def test_enrolment_pages_need_a_signed_in_staff_member(client):
    assert client.get(SETUP)["Location"].startswith(LOGIN)
    assert client.get(QR).status_code == 404
    assert client.get(CODES)["Location"].startswith(LOGIN)


def test_a_recovery_code_works_once(client, staff):
    _, codes = enrolled(staff)
    response = sign_in(client, code=codes[0].upper())
    assert response["Location"] == INDEX
    assert client.get(INDEX).status_code == 200

    again = Client(headers={"accept-language": "en"})
    assert sign_in(again, code=codes[0]).status_code == 200
    assert again.get(INDEX).status_code == 302
    assert list(StaticToken.objects.values_list("token", flat=True)) == [codes[1]]


def test_in_debug_a_demo_account_without_a_device_skips_the_second_factor(client, staff, settings):
    settings.DEBUG = True
    assert sign_in(client)["Location"] == INDEX
    assert client.get(INDEX).status_code == 200


def test_the_setting_can_require_it_in_debug_too(client, staff, settings):
    settings.DEBUG = True
    settings.STAFF_REQUIRE_TWO_FACTOR = True
    assert sign_in(client)["Location"] == SETUP


def test_the_test_helper_gives_a_verified_session(client, staff):
    sign_in_to_admin(client, staff)
    assert client.get(INDEX).status_code == 200


def test_check_deploy_refuses_turning_it_off_without_debug(settings):
    settings.DEBUG = False
    settings.STAFF_REQUIRE_TWO_FACTOR = False
    with pytest.raises(SystemCheckError, match=r"preorder_shop\.E005"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
