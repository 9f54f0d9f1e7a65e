"""Notices and help articles on a 360-px phone in Korean (issue 14): a critical and a
warning notice on the campaign page and the order page of a customer they concern, the help
articles of the chosen category on the ticket form, and "This answered my question" ending
the attempt without a ticket. Every page through look() (axe, no sideways scroll,
screenshots)."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.tests.factories import CustomerFactory
from support.models import (
    ArticleStatus,
    Deflection,
    HelpArticle,
    Notice,
    NoticeSeverity,
    Ticket,
    TicketCategory,
)

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, E164, NAME = "010-5678-1234", "+821056781234", "박서준"


def test_notices_and_help_articles_at_360(page, look, taps, campaign, live_server):
    customer = CustomerFactory(phone=E164, name=NAME)
    variant = campaign.variants.order_by("pk").first()
    order = order_in(
        OrderStatus.RECEIVED, reservation__customer=customer, reservation__variant=variant
    )
    now = timezone.now()
    for severity, title, body, scope in [
        (
            NoticeSeverity.CRITICAL,
            "새벽 배송 일시 중단",
            "기상 악화로 오늘 새벽 배송을 보내지 못했습니다. 내일 새벽에 다시 보냅니다.",
            {},
        ),
        (
            NoticeSeverity.WARNING,
            f"{variant.model_name} 입고 지연",
            "이 모델의 두 번째 입고가 사흘 늦어집니다. 예약 순서는 그대로입니다.",
            {"variant": variant},
        ),
    ]:
        Notice.objects.create(
            campaign=campaign,
            severity=severity,
            title_ko=title,
            body_ko=body,
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(days=2),
            published=True,
            created_by=staff_user("notice-author"),
            **scope,
        )
    HelpArticle.objects.create(
        category=TicketCategory.WHERE_IS_MY_PHONE,
        status=ArticleStatus.PUBLISHED,
        title_ko="언제 받을 수 있나요?",
        body_ko="출시일부터 예약 순서대로 보냅니다. 주문 페이지에서 예상 도착일을 확인하세요.",
    )

    page.goto(live_server.url + campaign.get_absolute_url())
    expect(page.get_by_role("alert").first).to_be_visible()
    # "Until" in the site's words for a date and time ("2026년 12월 5일 오후 10:49까지").
    until = page.locator(".site-notice-when").first.inner_text()
    assert re.fullmatch(r"\d{4}년 \d{1,2}월 \d{1,2}일 오[전후] \d{1,2}:\d{2}까지", until), until
    look(page, "campaign-notices")
    sign_in(page, look, taps, phone=PHONE, name=NAME)

    page.goto(f"{live_server.url}/my/orders/{order.number}/")
    expect(page.get_by_test_id("site-notice")).to_have_count(2)
    look(page, "order-notices")

    page.goto(f"{live_server.url}/support/tickets/new/?category=where_is_my_phone")
    expect(page.get_by_test_id("help-articles")).to_be_visible()
    taps.click(page.get_by_test_id("help-article").locator("summary"))
    look(page, "ticket-form-articles")
    with page.expect_navigation():
        taps.click(page.get_by_test_id("deflect"))
    look(page, "answered")

    assert Deflection.objects.filter(customer=customer).count() == 1
    assert not Ticket.objects.exists()
