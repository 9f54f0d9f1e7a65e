"""Pages of our own and what a thumb needs, on a 360-px phone in Korean and English (issue 11,
items 4 and 5): our 404, 403, CSRF and 500 pages with the way back; every control on the
customer's pages at least 44 px tall, in the page's font, inputs at 16 px or more; the header
on one row; the manifest and its icons served."""

import re

import pytest
from playwright.sync_api import Page, expect

from orders.models import OrderStatus
from orders.tests.factories import DraftFactory, order_in
from reservations.models import Campaign
from reservations.tests.factories import ReservationFactory

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

MIN_TARGET = 44  # px, WCAG 2.5.5

# Every control a thumb may aim at. A radio or checkbox is aimed at through its label (its
# whole row); a link inside a sentence is exempt (WCAG 2.5.5's inline exception).
UNDERSIZED_CONTROLS = """() => {
  const shown = el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const inSentence = a => getComputedStyle(a).display === 'inline'
    && a.parentElement.textContent.trim() !== a.textContent.trim();
  const targets = [...document.querySelectorAll(
    'a[href], button, select, textarea, input:not([type=hidden], [type=radio], [type=checkbox])'
  )].filter(el => !(el.tagName === 'A' && inSentence(el)));
  for (const box of document.querySelectorAll('input[type=radio], input[type=checkbox]')) {
    targets.push(box.closest('label') || document.querySelector(`label[for="${box.id}"]`) || box);
  }
  return [...new Set(targets)].filter(shown)
    .map(el => ({el: el.outerHTML.slice(0, 100), height: el.getBoundingClientRect().height}))
    .filter(t => t.height < MIN_TARGET - 0.5);
}""".replace("MIN_TARGET", str(MIN_TARGET))

# Buttons and fields in the page's font; fields at 16 px or more (iOS zooms into smaller).
TYPE_FAULTS = """() => {
  const page = getComputedStyle(document.body).fontFamily;
  const faults = [];
  const fields = 'button, input:not([type=hidden]), select, textarea';
  for (const el of document.querySelectorAll(fields)) {
    const style = getComputedStyle(el);
    const what = el.outerHTML.slice(0, 80);
    if (style.fontFamily !== page) faults.push(`${what}: ${style.fontFamily}`);
    if (el.tagName !== 'BUTTON' && parseFloat(style.fontSize) < 16)
      faults.push(`${what}: ${style.fontSize}`);
  }
  return faults;
}"""

HEADER = """() => {
  const header = document.querySelector('header.top');
  const items = [...header.querySelectorAll('a, button')].map(el => el.getBoundingClientRect());
  return {
    height: header.getBoundingClientRect().height,
    tallest: Math.max(...items.map(box => box.height)),
    rows: new Set(items.map(box => Math.round(box.top))).size,
    right: Math.max(...items.map(box => box.right)),
  };
}"""


def assert_fits_a_thumb(page: Page, name: str) -> None:
    small = page.evaluate(UNDERSIZED_CONTROLS)
    assert not small, f"{name}: controls under {MIN_TARGET}px tall:\n" + "\n".join(
        f"  {t['height']:.0f}px {t['el']}" for t in small
    )
    faults = page.evaluate(TYPE_FAULTS)
    assert not faults, f"{name}: controls not in the page's type:\n  " + "\n  ".join(faults)
    header = page.evaluate(HEADER)
    assert header["rows"] == 1, f"{name}: the header wraps onto {header['rows']} rows"
    assert header["height"] <= header["tallest"] + 1, f"{name}: header {header}"
    assert header["right"] <= page.viewport_size["width"], f"{name}: header {header}"


def expect_document_error(page_errors: list[str], status: int) -> None:
    """Chromium logs the error status of the page itself as a console error; that one is
    the point of these pages. Anything else stays an error for `look`."""
    expected = f"the server responded with a status of {status}"
    page_errors[:] = [e for e in page_errors if expected not in e]


@pytest.fixture
def failing(settings, live_server):
    """The live server with two views that fail on purpose (tests/urls_with_errors.py)."""
    settings.ROOT_URLCONF = "tests.urls_with_errors"
    return live_server


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_error_pages_are_ours_with_the_way_back(page, look, page_errors, failing, lang):
    campaigns = re.compile(r"/$")
    for path, status, name in [
        ("/no-such-page/", 404, "404"),
        ("/test-errors/forbidden/", 403, "403"),
        ("/test-errors/broken/", 500, "500"),
    ]:
        response = page.goto(failing.url + path)
        assert response.status == status
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator(".problem-code")).to_have_text(str(status))
        expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex")
        expect(page.locator("main a.button").first).to_have_attribute("href", campaigns)
        expect_document_error(page_errors, status)
        look(page, name)
        assert_fits_a_thumb(page, name)

    # A form from a page open too long (its token no longer matches): our page, not Django's.
    page.goto(failing.url + "/signin/")
    token = page.locator("main form input[name=csrfmiddlewaretoken]")
    token.evaluate("el => el.value = 'x'.repeat(32)")
    page.locator("input[name=phone]").fill("010-1234-5678")
    page.locator("input[name=name]").fill("홍길동")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.locator(".problem-code")).to_have_text("403")
    expect_document_error(page_errors, 403)
    look(page, "csrf-failure")
    assert_fits_a_thumb(page, "csrf-failure")
    # The way back works.
    with page.expect_navigation():
        page.locator("main a.button").first.click()
    look(page, "back-to-campaigns")


def test_manifest_and_icons_are_served(page, live_server):
    page.goto(live_server.url + "/")
    manifest_url = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(live_server.url + manifest_url)
    assert manifest.status == 200
    assert manifest.headers["content-type"] == "application/manifest+json"
    icons = [icon["src"] for icon in manifest.json()["icons"]]
    icons += [
        page.locator(f'link[rel="{rel}"]').get_attribute("href")
        for rel in ("icon", "apple-touch-icon")
    ]
    for src in icons:
        icon = page.request.get(live_server.url + src)
        assert icon.status == 200, src
        assert icon.headers["content-type"].startswith("image/"), src


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_control_fits_a_thumb(page, look, taps, campaign: Campaign, live_server, lang):
    def visit(path: str, name: str) -> None:
        page.goto(live_server.url + path)
        look(page, name)
        assert_fits_a_thumb(page, name)

    visit("/", "campaign-list")
    visit(campaign.get_absolute_url(), "campaign-anonymous")
    assert_fits_a_thumb(page, "campaign-anonymous")
    sign_in(page, look, taps, phone="010-2345-6789", name="홍길동")  # sign-in, code pages
    look(page, "campaign-signed-in")
    assert_fits_a_thumb(page, "campaign-signed-in")

    # The customer's own pages, made directly: this test is about their controls.
    from preorder_shop.models import Customer

    customer = Customer.objects.get(phone="+821023456789")
    with_draft = ReservationFactory(customer=customer, variant=campaign.variants.first())
    DraftFactory(reservation=with_draft)
    ordered = order_in(OrderStatus.RECEIVED, reservation=ReservationFactory(customer=customer))

    visit("/my/reservations/", "my-reservations")
    visit(f"/my/reservations/{with_draft.number}/", "reservation")
    visit(f"/my/reservations/{with_draft.number}/order/", "order-form")
    visit(f"/my/orders/{ordered.number}/", "order")
