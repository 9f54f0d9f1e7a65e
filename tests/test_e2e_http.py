"""A customer's whole path over real HTTP: sign in with a code, reserve, see position, cancel."""

import re

import httpx
import pytest

from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Reservation, ReservationStatus
from reservations.tests.factories import ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field on the page"
    return match.group(1)


def csrf(html: str) -> str:
    return field(html, "csrfmiddlewaretoken")


def test_sign_in_reserve_see_position_cancel(live_server, settings):
    settings.OTP_SHOW_CODE_ON_PAGE = True
    variant = VariantFactory(model_name="iPhone 15 Pro", capacity_gb=256, colour="Natural")
    ReservationFactory.create_batch(2, variant=variant)  # two people already in line
    campaign_path = variant.campaign.get_absolute_url()

    with httpx.Client(base_url=live_server.url, follow_redirects=True, timeout=10) as browser:
        page = browser.get(campaign_path)
        assert "Sign in with your mobile number to reserve" in page.text

        signin = browser.get("/signin/", params={"next": campaign_path})
        code_page = browser.post(
            "/signin/",
            data={
                "csrfmiddlewaretoken": csrf(signin.text),
                "phone": "+82 10 2345 6789",
                "name": "홍길동",
                "next": campaign_path,
            },
        )
        assert code_page.url.path == "/signin/code/"
        assert "010-2345-6789" in code_page.text
        code = re.search(r'data-testid="dev-code">(\d{6})<', code_page.text).group(1)

        wrong = "000000" if code != "000000" else "111111"
        refused = browser.post(
            "/signin/code/", data={"csrfmiddlewaretoken": csrf(code_page.text), "code": wrong}
        )
        assert "That code is not correct" in refused.text

        campaign_page = browser.post(
            "/signin/code/", data={"csrfmiddlewaretoken": csrf(refused.text), "code": code}
        )
        assert campaign_page.url.path == campaign_path
        assert "You are signed in." in campaign_page.text

        detail = browser.post(
            f"{campaign_path}reserve/",
            data={
                "csrfmiddlewaretoken": csrf(campaign_page.text),
                "variant": variant.pk,
                "fulfilment": "courier",
                "idempotency_key": field(campaign_page.text, "idempotency_key"),
            },
        )
        reservation = Reservation.objects.get(customer__phone="+821023456789")
        assert detail.url.path == f"/my/reservations/{reservation.number}/"
        assert f"Your reservation number is {reservation.number}" in detail.text
        assert "#3 of 3 for iPhone 15 Pro 256 GB Natural" in " ".join(detail.text.split())

        mine = browser.get("/my/reservations/")
        assert reservation.number in mine.text

        cancelled = browser.post(
            f"/my/reservations/{reservation.number}/cancel/",
            data={"csrfmiddlewaretoken": csrf(detail.text), "confirm": "reservation"},
        )
        assert f"Your reservation {reservation.number} is cancelled." in cancelled.text
        assert "Cancel reservation" not in cancelled.text

    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == "customer"


def test_post_without_csrf_token_is_refused_and_changes_nothing(live_server):
    variant = VariantFactory()
    customer = CustomerFactory()
    with httpx.Client(base_url=live_server.url, timeout=10) as browser:
        response = browser.post(
            f"{variant.campaign.get_absolute_url()}reserve/",
            data={"variant": variant.pk, "fulfilment": "courier"},
        )
    assert response.status_code == 403
    assert not Reservation.objects.filter(customer=customer).exists()
