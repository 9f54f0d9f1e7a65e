"""Korean done properly, read off the pages as a phone shows them (issue 11, item 3): the
campaign list, the customer's reservations, the order page with its history, and the admin's
order list, order page and one-time-code list as staff see them. No page shows an English
word from a small denylist, every time reads "오전 6:16" in Seoul time, and every price ends
in 원."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import formats, timezone, translation
from playwright.sync_api import Page, expect

from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, PHONE_E164 = "010-2345-6789", "+821023456789"
# English a Korean page must not show: raw status values, the clock's English halves, UTC,
# a price's "/month". Product names (iPhone, Natural Titanium) are names, not English text.
DENYLIST = re.compile(
    r"\b(months?|drafts?|received|preparing|shipped|delivered|cancelled|notifications?|"
    r"status|reservations?|orders?|UTC)\b",
    re.IGNORECASE,
)
HALF_OF_DAY = re.compile(r"\b(AM|PM|[ap]\.m\.)(?=\W|$)")
# A clock time with the half of the day before it: "오전 6:16", "오후 12:05".
CLOCK = re.compile(r"\d{1,2}:\d{2}")
KOREAN_CLOCK = re.compile(r"(오전|오후) \d{1,2}:\d{2}")
PRICE = re.compile(r"\d{1,3}(?:,\d{3})+(?:원|명|건|대)")
AMOUNT = re.compile(r"\d{1,3}(?:,\d{3})+")


def read(page: Page) -> str:
    return page.locator("body").inner_text()


def check_korean(page: Page, name: str, *, allow: tuple[str, ...] = ()) -> str:
    """The page's text has no denied English, Korean clock times only, 원 after prices."""
    text = read(page)
    for word in allow:  # text the page shows as typed (staff's reasons, usernames)
        text = text.replace(word, "")
    english = sorted({m.group(0) for m in DENYLIST.finditer(text)})
    assert not english, f"{name}: English on a Korean page: {english}"
    halves = HALF_OF_DAY.findall(text)
    assert not halves, f"{name}: the clock's English halves: {halves}"
    clocks = CLOCK.findall(text)
    korean = KOREAN_CLOCK.findall(text)
    assert len(clocks) == len(korean), (
        f"{name}: a time without 오전/오후 before it: {clocks} vs {KOREAN_CLOCK.findall(text)}"
    )
    assert "₩" not in text, f"{name}: a price in the English way"
    for amount in AMOUNT.finditer(text):
        rest = text[amount.end() : amount.end() + 1]
        assert rest in {"원", "명", "건", "대"}, f"{name}: {amount.group(0)!r} without a unit"
    return text


def seoul(moment) -> str:
    """The time as the page must write it: Seoul time, Korean format."""
    with translation.override("ko"):
        return formats.time_format(timezone.localtime(moment))


def test_customer_and_staff_pages_read_in_korean(page, look, taps, campaign, live_server):
    variant = campaign.variants.order_by("pk").first()
    customer = CustomerFactory(phone=PHONE_E164, name="김하늘")
    order = order_in(
        OrderStatus.SHIPPED, reservation=ReservationFactory(customer=customer, variant=variant)
    )
    reservation = order.reservation
    # Names staff typed: the demo campaign's is bilingual ("iPhone 15 사전예약 / Pre-order").
    named = (campaign.name,)

    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    look(page, "campaign-list")
    check_korean(page, "campaign list", allow=named)

    page.locator(f"a[href='{campaign.get_absolute_url()}']").first.click()
    sign_in(page, look, taps, phone=PHONE, name="김하늘")
    look(page, "campaign")
    text = check_korean(page, "campaign page", allow=named)
    assert PRICE.search(text), "the campaign page shows prices in 원"

    page.goto(live_server.url + "/my/reservations/")
    look(page, "my-reservations")
    check_korean(page, "my reservations", allow=named)
    expect(page.locator(f"main a[href*='{reservation.number}']").first).to_be_visible()

    page.goto(live_server.url + f"/my/reservations/{reservation.number}/")
    look(page, "reservation")
    check_korean(page, "reservation page", allow=named)

    page.goto(live_server.url + f"/my/orders/{order.number}/")
    look(page, "order")
    text = check_korean(page, "order page", allow=named)
    shipped_at = order.transitions.get(to_status=OrderStatus.SHIPPED).at
    assert seoul(shipped_at) in text, "the order's history is in Seoul time"
    assert len(KOREAN_CLOCK.findall(text)) >= 3, "the history lists its steps with times"

    get_user_model().objects.create_superuser("ops", "ops@example.com", "correct-horse-9")
    page.goto(live_server.url + "/admin/")
    page.locator("input[name=username]").fill("ops")
    page.locator("input[name=password]").fill("correct-horse-9")
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    # Staff-typed text and the names of the workers and couriers that moved the order.
    typed = (*named, "test-worker", "test-courier", "ops")
    if page.url.endswith("/admin/two-factor/"):
        set_up_second_factor(page, look, typed)
    look(page, "admin-index", axe=False)

    page.goto(live_server.url + "/admin/orders/order/")
    look(page, "admin-orders", axe=False)
    check_korean(page, "admin order list", allow=typed)
    expect(page.locator("#result_list thead")).to_contain_text("주문번호")

    page.goto(live_server.url + f"/admin/orders/order/{order.pk}/change/")
    look(page, "admin-order", axe=False)
    text = check_korean(page, "admin order page", allow=typed)
    assert "주문 접수 → 배송 준비 중" in text, "history rows name statuses in Korean"
    assert seoul(shipped_at) in text, "history and notifications are in Seoul time"

    page.goto(live_server.url + f"/admin/reservations/reservation/{reservation.pk}/change/")
    look(page, "admin-reservation", axe=False)
    check_korean(page, "admin reservation page", allow=typed)

    page.goto(live_server.url + "/admin/preorder_shop/onetimecode/")
    look(page, "admin-one-time-codes", axe=False)
    check_korean(page, "admin one-time codes", allow=typed)
    expect(page.locator("#result_list thead")).to_contain_text("휴대폰 번호")


def set_up_second_factor(page: Page, look, typed: tuple[str, ...]) -> None:
    """A new staff member's first sign-in asks for an authenticator app (staff_auth): set
    it up as test_staff_two_factor.py does, reading both pages in Korean on the way."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    look(page, "admin-two-factor-setup", axe=False)
    check_korean(page, "admin two-factor setup", allow=typed)
    app = TOTPDevice.objects.get(user__username="ops", confirmed=False)
    code = TOTP(app.bin_key, app.step, app.t0, app.digits, app.drift).token()
    page.locator("input[name=code]").fill(f"{code:06d}")
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    look(page, "admin-recovery-codes", axe=False)
    check_korean(page, "admin recovery codes", allow=typed)
    with page.expect_navigation():
        page.locator("#content-main a.button[href='/admin/']").click()
