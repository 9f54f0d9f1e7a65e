"""The support desk on a 360-px phone in Korean (issue 14): the support page, the ticket form
opened from an order page's link with that order chosen and its live status shown, choosing
a category (htmx swaps the help, the typed message stays), sending, the ticket page,
replying; and the signed-out contact form ("my code never arrives"). Every page through
look() (axe, no sideways scroll, screenshots), every control at least 44 px tall."""

import re

import pytest
from playwright.sync_api import Page, expect

from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.tests.factories import CustomerFactory
from support.models import ArticleStatus, HelpArticle, Ticket, TicketCategory

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, E164, NAME = "010-6789-0123", "+821067890123", "김민지"

# What a customer taps: buttons, links styled as buttons, the rows of radio lists, fields.
CONTROLS = (
    "main button, main a.button, main label:has(> input[type=radio]), "
    "main input:not([type=hidden]):not([type=radio]), main textarea"
)


def assert_tappable(page: Page) -> None:
    """Every visible control in the page's main part is at least 44 px tall."""
    small = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""",
        CONTROLS,
    )
    assert not small, f"controls under 44 px on {page.url}: {small}"


def test_ask_about_an_order_send_then_reply(page, look, taps, campaign, live_server):
    customer = CustomerFactory(phone=E164, name=NAME)
    variant = campaign.variants.order_by("pk").first()
    order = order_in(
        OrderStatus.RECEIVED, reservation__customer=customer, reservation__variant=variant
    )
    HelpArticle.objects.create(
        category=TicketCategory.WHERE_IS_MY_PHONE,
        status=ArticleStatus.PUBLISHED,
        title_ko="휴대폰은 언제 받나요?",
        body_ko="예약 순서대로 출고됩니다. 출고되면 운송장 번호를 문자로 보내 드립니다.",
    )

    page.goto(live_server.url + campaign.get_absolute_url())
    sign_in(page, look, taps, phone=PHONE, name=NAME)

    page.goto(f"{live_server.url}/support/")
    expect(page.get_by_test_id("my-tickets")).to_be_visible()
    look(page, "support-page")
    assert_tappable(page)

    page.goto(f"{live_server.url}/my/orders/{order.number}/")
    look(page, "order-page")
    with page.expect_navigation():
        taps.click(page.get_by_test_id("ask-about"))
    assert page.url.endswith(f"/support/tickets/new/?order={order.number}")
    expect(page.locator(f"input[name=subject][value='{order.number}']")).to_be_checked()
    expect(page.get_by_test_id("live-order-status")).to_be_visible()
    expect(page.get_by_test_id("help-articles")).to_have_count(0)  # no category yet
    look(page, "ticket-form-chosen")
    assert_tappable(page)

    body = page.locator("textarea[name=body]")
    taps.fill(body, "배송이 언제 시작되나요?")
    where = page.locator(f"input[name=category][value='{TicketCategory.WHERE_IS_MY_PHONE}']")
    with page.expect_response(re.compile(r"/support/tickets/new/\?")):
        taps.check(where)
    expect(page.get_by_test_id("live-order-status")).to_be_visible()  # swapped in again
    expect(page.get_by_test_id("help-article")).to_contain_text("휴대폰은 언제 받나요?")
    page.get_by_test_id("help-article").locator("summary").click()
    expect(body).to_have_value("배송이 언제 시작되나요?")  # what was typed stays
    assert "category=where_is_my_phone" in page.url  # a reload keeps the choice
    look(page, "ticket-form-filled")

    with page.expect_navigation():
        taps.click(page.get_by_test_id("send-ticket"))
    ticket = Ticket.objects.get(customer=customer)
    assert page.url.endswith(f"/support/tickets/{ticket.number}/")
    assert (ticket.order_id, ticket.category) == (order.pk, TicketCategory.WHERE_IS_MY_PHONE)
    expect(page.locator("main")).to_contain_text(ticket.number)
    expect(page.get_by_test_id("conversation")).to_contain_text("배송이 언제 시작되나요?")
    expect(page.get_by_test_id("ticket-subject")).to_have_text(order.number)
    look(page, "ticket-page")
    assert_tappable(page)

    taps.fill(page.locator("textarea[name=body]"), "주소도 확인 부탁드려요.")
    with page.expect_navigation():
        taps.click(page.get_by_test_id("send-reply"))
    expect(page.get_by_test_id("conversation")).to_contain_text("주소도 확인 부탁드려요.")
    look(page, "ticket-replied")
    assert ticket.messages.count() == 2

    page.goto(f"{live_server.url}/support/tickets/")
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)
    look(page, "my-tickets")


def test_signed_out_contact_form(page, look, taps, live_server):
    page.goto(f"{live_server.url}/support/")
    look(page, "support-signed-out")
    with page.expect_navigation():
        taps.click(page.get_by_test_id("contact-link"))
    look(page, "contact-form")
    assert_tappable(page)

    with page.expect_navigation():
        taps.click(page.get_by_test_id("send-contact"))
    expect(page.locator("main .error").first).to_be_visible()
    look(page, "contact-refused")

    taps.fill(page.locator("input[name=phone]"), PHONE)
    taps.fill(page.locator("input[name=name]"), NAME)
    taps.fill(page.locator("textarea[name=body]"), "인증번호 문자가 오지 않아요.")
    with page.expect_navigation():
        taps.click(page.get_by_test_id("send-contact"))
    ticket = Ticket.objects.get()
    assert (ticket.verified, ticket.contact_phone) == (False, E164)
    expect(page.get_by_test_id("contact-ticket")).to_contain_text(ticket.number)
    look(page, "contact-sent")
    assert_tappable(page)
