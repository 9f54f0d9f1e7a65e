"""Support's panels and fact on other pages (issue 14, sections 2 and 4), through the real
pages: notices reach the campaign page (narrow ones labelled), and the reservation, order,
support and ticket-form pages of the customers they concern only; a critical notice is an
alert, the others status messages, the severity in words; the ticket form's help articles
post the deflection from inside the ticket form; the order status's `notices` fact."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from orders import selectors
from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.customer_session import SESSION_KEY
from reservations.models import Fulfilment
from support.models import ArticleStatus, Deflection, HelpArticle, NoticeSeverity, TicketCategory
from tests.pages import text

from .notice_factories import notice, world

pytestmark = pytest.mark.django_db


def as_customer(client, customer):
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return client


def notices_on(response) -> list[str]:
    """The titles of the notices on the page, in order."""
    assert response.status_code == 200
    html = response.content.decode()
    return re.findall(r'class="site-notice-title">.*?<strong lang="\w+">([^<]+)</strong>', html)


def test_the_campaign_page_shows_every_running_notice_of_the_campaign_labelled(client):
    w = world()
    notice(w.a, title_en="For everyone")
    notice(w.a, variant=w.a1, title_en="For a1")
    notice(w.a, fulfilment=Fulfilment.DAWN, title_en="For dawn")
    notice(w.b, title_en="Other campaign")
    notice(w.a, published=False, title_en="Draft")

    page = client.get(w.a.get_absolute_url())

    assert sorted(notices_on(page)) == ["For a1", "For dawn", "For everyone"]
    assert f"· {w.a1}" in text(page) and "· Dawn delivery on launch morning" in text(page)


def test_reservation_pages_show_a_notice_to_the_customers_it_concerns_only(client):
    w = world()
    notice(w.a, variant=w.a1, title_en="a1 delayed")
    r = w.reservations

    def on_page(name):
        reservation = r[name]
        as_customer(client, reservation.customer)
        url = reverse("orders:reservation_detail", kwargs={"number": reservation.number})
        return notices_on(client.get(url))

    assert on_page("courier_a1") == ["a1 delayed"]
    assert on_page("both_a1") == ["a1 delayed"]
    assert on_page("both_a2") == []
    assert on_page("dawn_a2") == []
    assert on_page("cancelled") == []
    assert on_page("only_b") == []


def test_order_pages_show_notices_while_the_order_is_live(client):
    w = world()
    notice(w.a, fulfilment=Fulfilment.DAWN, title_en="Dawn delayed")
    live = w.reservations["dawn_a2"].orders.get()
    gone = w.reservations["order_gone"].orders.get()
    courier = order_in(OrderStatus.RECEIVED)  # another campaign

    def on_page(order):
        as_customer(client, order.reservation.customer)
        return notices_on(client.get(reverse("orders:order_detail", args=[order.number])))

    assert on_page(live) == ["Dawn delayed"]
    assert on_page(gone) == []
    assert on_page(courier) == []


def test_the_support_page_shows_a_customer_theirs_and_a_visitor_every_running_one(client):
    w = world()
    notice(w.a, variant=w.a2, title_en="a2 delayed")
    notice(w.b, title_en="B moved")
    url = reverse("support:support_home")

    visitor = notices_on(client.get(url))
    as_customer(client, w.customers["dawn_a2"])
    concerned = notices_on(client.get(url))
    as_customer(client, w.customers["courier_a1"])
    unconcerned = notices_on(client.get(url))

    assert sorted(visitor) == ["B moved", "a2 delayed"]
    assert concerned == ["a2 delayed"]
    assert unconcerned == []


def test_critical_notices_are_alerts_and_every_severity_is_said_in_words(client):
    w = world()
    notice(w.a, severity=NoticeSeverity.CRITICAL, title_en="Critical one")
    notice(w.a, severity=NoticeSeverity.INFO, title_en="Info one")

    html = client.get(w.a.get_absolute_url()).content.decode()

    critical = re.search(r'<div class="site-notice severity-critical" role="(\w+)"', html)
    info = re.search(r'<div class="site-notice severity-info" role="(\w+)"', html)
    assert critical.group(1) == "alert" and info.group(1) == "status"
    assert "Critical</span>" in html and "Information</span>" in html
    assert "style=" not in html.split('class="site-notices"')[1].split("</section>")[0]


def test_the_ticket_form_shows_the_chosen_reservations_notices_and_the_categorys_articles(
    client,
):
    w = world()
    notice(w.a, variant=w.a1, title_en="a1 delayed")
    HelpArticle.objects.create(
        category=TicketCategory.WHERE_IS_MY_PHONE,
        status=ArticleStatus.PUBLISHED,
        title_ko="배송 순서",
        body_ko="예약 순서대로 보냅니다.",
        title_en="Shipping order",
        body_en="In reservation order.",
    )
    customer = w.customers["both"]
    as_customer(client, customer)
    url = reverse("support:ticket_new")

    nothing_chosen = client.get(url)
    chosen = client.get(
        url,
        {
            "category": TicketCategory.WHERE_IS_MY_PHONE,
            "reservation": w.reservations["both_a2"].number,
        },
    )

    assert "help-articles" not in nothing_chosen.content.decode()
    assert notices_on(nothing_chosen) == ["a1 delayed"]  # the customer's, before a choice
    assert notices_on(chosen) == []  # a2's reservation: the a1 notice is not about it
    html = chosen.content.decode()
    assert "Shipping order" in html
    # The button posts the ticket form (inside which the panel is) to the deflection view.
    assert re.search(r'<button[^>]+formaction="/help/answered/"[^>]+name="article"', html)
    attempt = re.search(r'name="attempt" value="([^"]+)"', html).group(1)
    article = re.search(r'name="article" value="(\d+)"', html).group(1)

    answered = client.post(
        reverse("help:deflect"),
        {"attempt": attempt, "article": article, "category": "where_is_my_phone", "body": ""},
    )

    assert answered.status_code == 302
    assert Deflection.objects.get().customer == customer


def test_the_order_status_fact_lists_the_notices_in_the_active_language():
    w = world()
    shown = notice(w.a, severity=NoticeSeverity.WARNING, fulfilment=Fulfilment.DAWN)
    order = w.reservations["dawn_a2"].orders.get()

    def polled(order):
        return dict(selectors.status_facts(order).extra)["notices"]

    with translation.override("en"):
        english = polled(order)
    with translation.override("ko"):
        korean = polled(order)

    assert english == [
        {
            "severity": "warning",
            "title": "Delivery delay",
            "text": "Dawn delivery is one day late.",
            "starts_at": shown.starts_at.isoformat(),
            "ends_at": shown.ends_at.isoformat(),
        }
    ]
    assert [n["title"] for n in korean] == ["배송 지연 안내"]
    assert polled(w.reservations["order_gone"].orders.get()) == []
