"""Error pages of our own, the files browsers ask for by name, and which pages search engines
may index (issue 11, item 4)."""

import json
import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from orders.models import OrderStatus
from orders.tests.factories import DraftFactory, RatePlanFactory, order_in
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.errors import server_error_page
from preorder_shop.tests.test_security_headers import assert_security_headers, inline_code
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

NOINDEX = '<meta name="robots" content="noindex">'


@pytest.fixture
def failing(settings):
    """The project's URLs plus a view that raises and one that refuses (tests/)."""
    settings.ROOT_URLCONF = "tests.urls_with_errors"
    return Client(raise_request_exception=False)


def signed_in_as(client: Client, customer) -> Client:
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return client


def assert_our_page(response, status: int) -> str:
    """The page is ours (layout, CSP-clean, noindex, the way back); returns its text."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<link rel="stylesheet" href="/static/css/site.css">' in body
    assert NOINDEX in body
    assert inline_code(body) == []  # our strict CSP would refuse Django's default pages
    assert_security_headers(response)
    assert f'class="button" href="{reverse("reservations:campaign_list")}"' in body  # way back
    return text(response)


# 404


def test_a_missing_page_is_ours_with_the_way_back(client):
    response = client.get("/no-such-page/")
    body = assert_our_page(response, 404)
    assert "We could not find this page" in body
    assert "Not Found" not in body  # not Django's default
    assert "My reservations" not in body  # not signed in


def test_a_signed_in_customer_is_also_offered_their_reservations(client, customer):
    response = signed_in_as(client, customer).get("/no-such-page/")
    assert_our_page(response, 404)
    way_back = f'class="button secondary" href="{reverse("orders:my_reservations")}"'
    assert way_back in response.content.decode()


def test_the_404_page_speaks_korean(client, settings):
    settings.LANGUAGE_CODE = "ko"
    with translation.override("ko"):
        response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ko")
    body = assert_our_page(response, 404)
    assert '<html lang="ko">' in response.content.decode()
    assert "We could not find this page" not in body
    assert re.search("[가-힣]", body)


def test_a_view_that_finds_nothing_gets_our_page(signed_in):
    response = signed_in.get(reverse("orders:reservation_detail", args=["12345674"]))
    assert "We could not find this page" in assert_our_page(response, 404)


def test_the_api_answers_a_missing_page_with_a_problem(client):
    response = client.get("/api/v1/no-such-thing", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "/api/v1/docs#problem-not_found",
        "title": "Not found.",
        "status": 404,
        "code": "not_found",
    }


def test_a_method_the_api_does_not_take_is_a_problem_that_names_the_allowed_ones(client):
    response = client.delete("/api/v1/campaigns", headers={"accept-language": "en"})
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "GET"
    body = response.json()
    assert (body["code"], body["method"], body["title"]) == (
        "method_not_allowed",
        "DELETE",
        "This method is not allowed here.",
    )


# 403 and the CSRF failure


def test_a_refusal_is_our_403_page(failing):
    body = assert_our_page(failing.get("/test-errors/forbidden/"), 403)
    assert "You cannot open this page" in body


def test_a_form_from_a_stale_page_gets_our_csrf_page():
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("signin"))  # sets the CSRF cookie
    response = browser.post(
        reverse("signin"), {"csrfmiddlewaretoken": "x" * 32, "phone": "010-1234-5678"}
    )
    body = assert_our_page(response, 403)
    assert "The page was probably open for too long" in body
    assert "CSRF verification failed" not in body  # Django's own words
    # The page offers the header's forms again, with a token that works.
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_a_post_without_cookies_gets_our_csrf_page():
    response = Client(enforce_csrf_checks=True).post(reverse("signin"), {})
    assert "allow cookies for this site" in assert_our_page(response, 403)


# 500


def test_a_real_error_is_our_500_page_and_still_logged(failing, caplog):
    response = failing.get("/test-errors/broken/")
    body = assert_our_page(response, 500)
    assert "Something went wrong on our side" in body
    assert "Server Error (500)" not in body
    assert any("a bug, on purpose" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_the_500_page_needs_neither_the_database_nor_redis(django_assert_num_queries):
    # A bare request: no session, no messages, no customer loaded; only the id the
    # middleware read from the session before the view ran.
    request = RequestFactory().get("/c/launch/")
    request.customer_id = 42
    with django_assert_num_queries(0):
        response = server_error_page(request)
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert f'href="{reverse("orders:my_reservations")}"' in body  # signed in: the way back
    assert NOINDEX in body
    assert inline_code(body) == []


def test_the_api_keeps_a_problem_500(failing):
    response = failing.get("/api/test-errors/broken/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "server_error"


# 429 matches the others


def test_the_rate_limited_page_has_the_way_back(signed_in, monkeypatch):
    from preorder_shop import ratelimit

    monkeypatch.setattr(ratelimit, "blocked_for_longest", lambda subjects: 60)
    response = signed_in.get(reverse("orders:reservation_detail", args=["12345674"]))
    assert response["Retry-After"] == "60"
    assert "Too many numbers that are not yours" in assert_our_page(response, 429)
    assert f'href="{reverse("orders:my_reservations")}"' in response.content.decode()


# Which pages search engines may index


def test_public_pages_are_indexable(client):
    campaign = CampaignFactory()
    VariantFactory(campaign=campaign)
    for url in (reverse("reservations:campaign_list"), reverse("signin")):
        body = client.get(url).content.decode()
        assert 'name="robots"' not in body, url
        assert re.search(r'<meta name="description" content="[^"]{40,}">', body), url
    # The campaign page's template opts in too (its own template).
    campaign_page = client.get(campaign.get_absolute_url()).content.decode()
    assert NOINDEX not in campaign_page


def test_a_customers_own_pages_are_noindex(client, customer):
    reservation = ReservationFactory(customer=customer)
    RatePlanFactory(campaign=reservation.campaign)
    DraftFactory(reservation=reservation)
    order = order_in(OrderStatus.RECEIVED, reservation=ReservationFactory(customer=customer))
    signed_in_as(client, customer)
    urls = [
        reverse("orders:my_reservations"),
        reverse("orders:reservation_detail", args=[reservation.number]),
        reverse("orders:order_form", args=[reservation.number]),
        reverse("orders:order_detail", args=[order.number]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert NOINDEX in response.content.decode(), url


def test_the_sign_in_code_page_is_noindex(client):
    session = client.session
    session["signin_pending"] = {"phone": "+821012345678", "name": "김민수", "next": "/"}
    session.save()
    response = client.get(reverse("signin_verify"))
    assert response.status_code == 200
    assert NOINDEX in response.content.decode()


def test_every_page_has_a_description_theme_colour_icons_and_the_manifest(client):
    body = client.get(reverse("signin")).content.decode()
    assert '<meta name="theme-color" content="#111111">' in body
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in body
    assert '<link rel="apple-touch-icon" href="/static/img/apple-touch-icon.png">' in body
    assert f'<link rel="manifest" href="{reverse("web_manifest")}">' in body


# robots.txt and the manifest


def test_robots_txt_keeps_crawlers_off_customers_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    for prefix in ("/my/", "/api/", "/admin/"):
        assert f"Disallow: {prefix}" in lines
    assert "Disallow: /" not in lines  # the public pages stay open
    assert reverse("orders:my_reservations").startswith("/my/")
    assert reverse("api:order_status", args=["1"]).startswith("/api/")


def test_the_manifest_names_the_shop_in_the_customers_language(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["short_name"] == "Pre-order"
    assert manifest["start_url"] == "/"
    assert {(i["src"], i["sizes"]) for i in manifest["icons"]} == {
        ("/static/img/icon-192.png", "192x192"),
        ("/static/img/icon-512.png", "512x512"),
    }

    korean = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="ko")
    assert json.loads(korean.content)["lang"] == "ko"


def test_the_icons_are_pngs_of_their_size(settings):
    settings.WHITENOISE_USE_FINDERS = True
    for name, size in (
        ("icon-192.png", 192),
        ("icon-512.png", 512),
        ("apple-touch-icon.png", 180),
    ):
        response = Client().get(f"/static/img/{name}")
        assert response.status_code == 200, name
        png = b"".join(response.streaming_content)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (size, size), name
