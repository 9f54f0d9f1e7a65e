"""Every response carries a strict Content-Security-Policy (our own origin only, no inline
script or style, no nonces) and a Permissions-Policy denying the browser features the shop
never uses. Since the policy refuses inline code, no template may contain any: a walk over
every template file, and over the rendered customer and admin pages, keeps it so."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.templatetags.static import static
from django.test import Client, RequestFactory
from django.urls import reverse

from orders.models import OrderStatus
from orders.tests.factories import (
    DraftFactory,
    RatePlanFactory,
    order_in,
    publish_festival_draw,
)
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.admin_client import sign_in_to_admin

pytestmark = pytest.mark.django_db

EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"]


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_security_headers(response) -> None:
    assert policy(response) == EXPECTED_CSP
    header = response.headers["Content-Security-Policy"]
    for loophole in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'nonce-"):
        assert loophole not in header
    features = dict(
        item.strip().split("=", 1) for item in response.headers["Permissions-Policy"].split(",")
    )
    assert {feature: features.get(feature) for feature in DENIED_FEATURES} == dict.fromkeys(
        DENIED_FEATURES, "()"
    )


class InlineCode(HTMLParser):
    """Collects what the policy would refuse: style attributes and <style> elements,
    <script> elements without src, on...= handlers, htmx's hx-on (it needs eval) and
    javascript: URLs. Django template tags inside a tag parse as odd attribute names,
    which none of these checks mistake for a finding."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag, attrs):
        where = f"line {self.getpos()[0]}: <{tag}>"
        if tag == "style":
            self.findings.append(f"{where} element")
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self.findings.append(f"{where} without src")
        for name, value in attrs:
            bare = name.removeprefix("data-")
            if name == "style":
                self.findings.append(f"{where} style attribute")
            elif name.startswith("on") or bare.startswith("hx-on"):
                self.findings.append(f"{where} {name} handler")
            elif value and value.strip().lower().startswith("javascript:"):
                self.findings.append(f"{where} javascript: URL in {name}")

    handle_startendtag = handle_starttag


def inline_code(markup: str) -> list[str]:
    parser = InlineCode()
    parser.feed(markup)
    parser.close()
    return parser.findings


def without_comments(source: str) -> str:
    """The template without its {# #} and {% comment %} comments, which never reach the
    page (and may well name a <style> or <script>); newlines are kept for line numbers."""

    def blank(match: re.Match) -> str:
        return "\n" * match.group().count("\n")

    source = re.sub(r"{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%}", blank, source, flags=re.S)
    return re.sub(r"{#.*?#}", blank, source)


def template_files() -> list[Path]:
    """Every template in the project: .html files anywhere outside hidden directories
    (.venv, .local, .git), so an app's own templates/ count as much as templates/."""
    base = Path(settings.BASE_DIR)
    return sorted(
        path
        for path in base.rglob("*.html")
        if not any(part.startswith(".") for part in path.relative_to(base).parts)
    )


def test_the_walk_finds_the_templates():
    names = {path.relative_to(settings.BASE_DIR).as_posix() for path in template_files()}
    assert {"templates/base.html", "templates/fulfillment/panels/festival_draw.html"} <= names
    assert not any(name.startswith(".venv/") for name in names)


@pytest.mark.parametrize(
    "path", template_files(), ids=lambda p: p.relative_to(settings.BASE_DIR).as_posix()
)
def test_no_template_has_inline_script_or_style(path):
    assert inline_code(without_comments(path.read_text(encoding="utf-8"))) == []


def test_the_checker_finds_each_kind_of_inline_code():
    markup = (
        '<p style="color: red">'
        "<style>p {}</style>"
        "<script>alert(1)</script>"
        '<button onclick="go()">'
        '<div hx-on:click="go()"><div data-hx-on::after-request="go()">'
        '<a href="javascript:go()">'
        '<script src="/static/ok.js"></script>'
    )
    assert len(inline_code(markup)) == 7
    commented = "{# a <style> #}{% comment %}<script>{% endcomment %}"
    assert inline_code(commented) != []
    assert inline_code(without_comments(commented)) == []


def test_htmx_is_told_to_inject_no_style_and_evaluate_nothing(client):
    page = client.get(reverse("reservations:campaign_list")).content.decode()
    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, '
        '"allowEval": false}\'>' in page
    )
    css = (Path(settings.BASE_DIR) / "preorder_shop/static/css/site.css").read_text()
    assert ".htmx-request .htmx-indicator" in css


# Customer pages.


@pytest.fixture
def reservation(customer):
    reservation = ReservationFactory(customer=customer)
    RatePlanFactory(campaign=reservation.campaign)
    return reservation


def assert_strict_page(response) -> None:
    assert response.status_code == 200
    assert_security_headers(response)
    assert inline_code(response.content.decode()) == []


def test_campaign_list(client):
    VariantFactory()
    assert_strict_page(client.get(reverse("reservations:campaign_list")))


def test_campaign_page_with_the_festival_draw_panel(client):
    campaign = CampaignFactory(with_festival=True)
    VariantFactory(campaign=campaign)
    publish_festival_draw(campaign)
    response = client.get(campaign.get_absolute_url())
    assert 'data-testid="festival-draw"' in response.content.decode()
    assert_strict_page(response)


def test_sign_in(client):
    assert_strict_page(client.get(reverse("signin")))


def test_my_reservations_and_a_reservation_page(signed_in, reservation):
    assert_strict_page(signed_in.get(reverse("orders:my_reservations")))
    assert_strict_page(
        signed_in.get(reverse("orders:reservation_detail", args=[reservation.number]))
    )


def test_order_form_page(signed_in, reservation):
    DraftFactory(reservation=reservation)
    response = signed_in.get(reverse("orders:order_form", args=[reservation.number]))
    assert b'hx-trigger="input changed' in response.content  # the form, not a redirect
    assert_strict_page(response)


def test_order_page(signed_in, customer):
    order = order_in(OrderStatus.RECEIVED, reservation=ReservationFactory(customer=customer))
    assert_strict_page(signed_in.get(reverse("orders:order_detail", args=[order.number])))


def test_htmx_partials_carry_the_headers_too(signed_in, customer):
    order = order_in(OrderStatus.RECEIVED, reservation=ReservationFactory(customer=customer))
    response = signed_in.get(
        reverse("orders:order_detail", args=[order.number]), HTTP_HX_REQUEST="true"
    )
    assert_strict_page(response)


def test_every_other_response_carries_the_headers(client, settings):
    """Not only pages: JSON, redirects, 404s and static files (the middlewares sit above
    WhiteNoise) are answered with the same headers."""
    settings.WHITENOISE_USE_FINDERS = True  # read by a new client's WhiteNoise
    stylesheet = Client().get(static("css/site.css"))
    assert stylesheet.status_code == 200
    assert_security_headers(stylesheet)
    assert_security_headers(client.get(reverse("healthz")))
    assert_security_headers(client.get(reverse("orders:my_reservations")))  # to sign-in
    assert_security_headers(client.get("/no-such-page/"))
    assert_security_headers(client.get(reverse("api:order_status", args=["12345678901"])))


# The admin: Django 5.2's admin keeps its scripts in static files (data passed in data-
# attributes), so it runs under the same policy; these walks prove it for our ModelAdmins
# and custom admin views, so no relaxed policy for /admin/ is needed.


def test_admin_login(client):
    assert_strict_page(client.get(reverse("admin:login")))


@pytest.fixture
def superuser_client(client):
    client.user = get_user_model().objects.create_superuser("root", password="pw")
    sign_in_to_admin(client, client.user)
    return client


# The admin views of our own, beside the ModelAdmins' standard ones.
CUSTOM_ADMIN_VIEWS = [
    "fulfillment_fairness",
    "fulfillment_stuck_orders",
    "fulfillment_orderhold_place",
]


def admin_pages(user) -> list[str]:
    """The index, each app's index, and every registered model's changelist, add page
    and the change page of its first row."""
    request = RequestFactory().get(reverse("admin:index"))
    request.user = user
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        urls.append(reverse("admin:app_list", args=[meta.app_label]))
        for view in ("changelist", "add"):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}"))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            )
    urls += [reverse(f"admin:{name}") for name in CUSTOM_ADMIN_VIEWS]
    return sorted(set(urls))


def test_every_admin_page_runs_under_the_policy(superuser_client):
    campaign = CampaignFactory(with_festival=True)
    publish_festival_draw(campaign)
    order_in(
        OrderStatus.PREPARING,
        reservation=ReservationFactory(variant=VariantFactory(campaign=campaign)),
    )
    checked = 0
    for url in admin_pages(superuser_client.user):
        response = superuser_client.get(url)
        assert_security_headers(response)
        if response.status_code != 200:
            assert response.status_code in (302, 403), url  # add refused or redirected
            continue
        assert inline_code(response.content.decode()) == [], url
        checked += 1
    assert checked > 20
