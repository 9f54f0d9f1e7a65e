"""The sign-in pages end to end: number and name, the code, sign-out."""

import datetime as dt
import itertools
import re

import pytest
from django.test import Client
from django.utils import timezone

from preorder_shop import services
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.models import Customer, OneTimeCode
from preorder_shop.views import PENDING_KEY

pytestmark = pytest.mark.django_db

SIGNIN = "/signin/"
VERIFY = "/signin/code/"
RESEND = "/signin/code/resend/"
SIGNOUT = "/signout/"
DEV_CODE = re.compile(r'data-testid="dev-code">(\d{6})<')

_numbers = itertools.count(1)


def new_number() -> tuple[str, str]:
    """(as typed, E.164) for a distinct valid mobile number."""
    n = next(_numbers)
    return f"010-8{n:03d}-{n:04d}", f"+82108{n:03d}{n:04d}"


@pytest.fixture
def client():
    # Messages are asserted in English whatever translations the project ships.
    return Client(headers={"accept-language": "en"})


@pytest.fixture(autouse=True)
def _show_code_on_page(settings):
    settings.OTP_SHOW_CODE_ON_PAGE = True


def ask_for_code(client: Client, typed: str, *, name: str = "김민수", next_url: str = ""):
    return client.post(SIGNIN, {"phone": typed, "name": name, "next": next_url})


def code_on_page(client: Client) -> str:
    response = client.get(VERIFY)
    assert response.status_code == 200
    match = DEV_CODE.search(response.content.decode())
    assert match, "the development code box is missing"
    return match.group(1)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def assert_try_again_after(text: str) -> None:
    match = re.search(r"Try again after (\d\d):(\d\d) \(in (\d+) minutes?\)\.", text)
    assert match, text
    hour, minute, minutes = (int(group) for group in match.groups())
    expected = timezone.localtime() + dt.timedelta(minutes=minutes)
    # The shown time is now + the wait, give or take the minute the wait was rounded up to.
    shown = hour * 60 + minute
    wanted = expected.hour * 60 + expected.minute
    assert min((shown - wanted) % 1440, (wanted - shown) % 1440) <= 1, text


# --- asking for a code ---------------------------------------------------------------------


def test_the_sign_in_page_shows_the_form(client):
    response = client.get(SIGNIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="phone"' in html
    assert 'name="name"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Send code" in html


def test_a_landline_is_refused_with_the_specific_error_and_no_code_is_made(client):
    response = ask_for_code(client, "02-123-4567")

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        "Enter a Korean mobile number such as 010-1234-5678."
    ]
    assert "Enter a Korean mobile number such as 010-1234-5678." in response.content.decode()
    assert OneTimeCode.objects.count() == 0
    assert PENDING_KEY not in client.session


def test_a_blank_name_is_refused(client):
    typed, _phone = new_number()

    response = ask_for_code(client, typed, name="   ")

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert OneTimeCode.objects.count() == 0


def test_a_valid_number_issues_a_code_and_goes_to_the_code_page(client):
    typed, phone = new_number()

    response = ask_for_code(client, typed)

    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).count() == 1
    page = client.get(VERIFY).content.decode()
    assert typed in page  # "We sent a 6-digit code to 010-...."


def test_the_code_page_shows_the_development_code_when_the_setting_is_on(client):
    typed, phone = new_number()
    ask_for_code(client, typed)

    code = code_on_page(client)

    # It is the code that was issued, not a placeholder.
    stored = OneTimeCode.objects.get(phone=phone).code_hash
    assert stored == services.hash_code(phone=phone, code=code)


def test_the_code_page_never_shows_the_code_when_the_setting_is_off(client, settings):
    settings.OTP_SHOW_CODE_ON_PAGE = False
    typed, _phone = new_number()
    ask_for_code(client, typed)

    response = client.get(VERIFY)

    assert response.status_code == 200
    html = response.content.decode()
    assert "dev-code" not in html
    assert "Development only" not in html
    assert client.session[PENDING_KEY]["dev_code"] is None


def test_the_code_page_without_a_pending_sign_in_goes_back_to_the_start(client):
    response = client.get(VERIFY)

    assert response.status_code == 302
    assert response["Location"] == SIGNIN


# --- entering the code ---------------------------------------------------------------------


def test_the_right_code_signs_in_with_a_new_session_key(client):
    typed, phone = new_number()
    ask_for_code(client, typed, name="이서연")
    code = code_on_page(client)
    key_before = client.session.session_key
    assert key_before

    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 302
    customer = Customer.objects.get(phone=phone)
    assert customer.name == "이서연"
    session = client.session
    assert session[SESSION_KEY] == customer.pk
    assert session.session_key != key_before
    assert PENDING_KEY not in session
    # The middleware now knows the customer: the page header offers sign-out.
    assert f'action="{SIGNOUT}"' in client.get(SIGNIN).content.decode()


def test_after_sign_in_the_customer_goes_back_to_a_safe_next_page(client):
    typed, _phone = new_number()
    assert (
        'value="/my/reservations/"'
        in client.get(SIGNIN, {"next": "/my/reservations/"}).content.decode()
    )
    ask_for_code(client, typed, next_url="/my/reservations/?tab=all")

    response = client.post(VERIFY, {"code": code_on_page(client)})

    assert response.status_code == 302
    assert response["Location"] == "/my/reservations/?tab=all"


@pytest.mark.parametrize(
    "off_site",
    ["https://evil.example/", "//evil.example/", "http://evil.example/my/", "javascript:alert(1)"],
)
def test_an_off_site_next_falls_back_to_the_start_page(client, off_site):
    typed, _phone = new_number()
    form_page = client.get(SIGNIN, {"next": off_site})
    assert form_page.context["next"] == "/"
    ask_for_code(client, typed, next_url=off_site)

    response = client.post(VERIFY, {"code": code_on_page(client)})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_code_shows_the_error_on_the_code_field(client):
    typed, phone = new_number()
    ask_for_code(client, typed)
    code = code_on_page(client)

    response = client.post(VERIFY, {"code": other_code(code)})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["code"]
    assert "That code is not correct" in errors["code"][0]
    assert SESSION_KEY not in client.session
    assert not Customer.objects.filter(phone=phone).exists()


def test_a_code_of_the_wrong_shape_is_refused_by_the_form(client):
    typed, _phone = new_number()
    ask_for_code(client, typed)

    response = client.post(VERIFY, {"code": "12345"})

    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["The code has exactly 6 digits."]


def test_send_a_new_code_replaces_the_old_one(client):
    typed, phone = new_number()
    ask_for_code(client, typed)
    old_code = code_on_page(client)

    response = client.post(RESEND)

    assert response.status_code == 302
    assert response["Location"] == VERIFY
    page = client.get(VERIFY).content.decode()
    assert "A new code is on its way" in page
    new_code = DEV_CODE.search(page).group(1)
    assert OneTimeCode.objects.filter(phone=phone).count() == 2
    assert OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).count() == 1

    if new_code != old_code:  # equal with probability 1e-6
        refused = client.post(VERIFY, {"code": old_code})
        assert refused.status_code == 200
        assert "code" in refused.context["form"].errors
        assert SESSION_KEY not in client.session

    signed_in = client.post(VERIFY, {"code": new_code})
    assert signed_in.status_code == 302
    assert SESSION_KEY in client.session


def test_resend_is_post_only(client):
    assert client.get(RESEND).status_code == 405


# --- signing out ---------------------------------------------------------------------------


def signed_in_client(client: Client) -> Client:
    typed, _phone = new_number()
    ask_for_code(client, typed)
    client.post(VERIFY, {"code": code_on_page(client)})
    assert SESSION_KEY in client.session
    return client


def test_sign_out_clears_the_session(client):
    signed_in_client(client)
    key_before = client.session.session_key

    response = client.post(SIGNOUT)

    assert response.status_code == 302
    assert response["Location"] == "/"
    session = client.session
    assert SESSION_KEY not in session
    assert session.session_key != key_before
    assert f'action="{SIGNOUT}"' not in client.get(SIGNIN).content.decode()


def test_sign_out_by_get_is_refused(client):
    signed_in_client(client)

    response = client.get(SIGNOUT)

    assert response.status_code == 405
    assert SESSION_KEY in client.session


def test_forms_without_a_csrf_token_are_refused():
    strict = Client(enforce_csrf_checks=True)
    typed, _phone = new_number()

    response = strict.post(SIGNIN, {"phone": typed, "name": "김민수"})

    assert response.status_code == 403
    assert OneTimeCode.objects.count() == 0


# --- rate limits on the pages --------------------------------------------------------------


def test_too_many_code_requests_show_when_to_try_again_not_an_error_page(client):
    typed, phone = new_number()
    for _ in range(3):
        assert ask_for_code(client, typed).status_code == 302

    response = ask_for_code(client, typed)

    assert response.status_code == 200
    form = response.context["form"]
    (error,) = form.non_field_errors()
    assert "Too many codes were requested for this number." in error
    assert_try_again_after(error)
    html = response.content.decode()
    assert "Try again after" in html
    assert 'name="phone"' in html
    assert OneTimeCode.objects.filter(phone=phone).count() == 3


def test_five_wrong_codes_on_the_page_lock_the_number_with_a_time_to_come_back(client):
    typed, phone = new_number()
    ask_for_code(client, typed)
    code = code_on_page(client)
    for _ in range(4):
        client.post(VERIFY, {"code": other_code(code)})

    locked = client.post(VERIFY, {"code": other_code(code)})
    assert locked.status_code == 200
    assert_try_again_after(locked.context["form"].errors["code"][0])

    # Now even the right code is refused, on the form, with the time to come back.
    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 200
    (error,) = response.context["form"].errors["code"]
    assert "this number is locked" in error
    assert "(in 15 minutes)" in error
    assert_try_again_after(error)
    assert SESSION_KEY not in client.session
    assert not Customer.objects.filter(phone=phone).exists()


def test_a_refused_new_code_explains_itself_on_the_code_page(client):
    typed, _phone = new_number()
    ask_for_code(client, typed)
    client.post(RESEND)
    client.post(RESEND)

    response = client.post(RESEND, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [(VERIFY, 302)]
    html = response.content.decode()
    assert "Too many codes were requested for this number." in html
    assert_try_again_after(html)
