"""The customer's ticket pages: my tickets, one ticket's conversation without internal
notes, replies (reopen within 7 days, closed after, one message for a double send), one
404 for every ticket that is not the customer's, guessing slowed, and parallel HTTP
submissions of one form making one ticket."""

import datetime as dt
import re
import uuid

import httpx
import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.utils import timezone

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.identifiers import TICKET_NUMBER
from support import services
from support.models import AuthorKind, Ticket, TicketCategory, TicketMessage, TicketStatus
from support.tests.factories import open_ticket, ticket_in
from support.tests.pages import NEW, detail_path, key_of, text
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

S = TicketStatus
C = TicketCategory


def test_my_tickets_lists_only_mine_newest_first_twenty_a_page(signed_in, customer):
    now = timezone.now()
    mine = [open_ticket(customer, now=now - dt.timedelta(minutes=i)) for i in range(21)]
    theirs = open_ticket()

    first = text(signed_in.get("/support/tickets/"))
    second = text(signed_in.get("/support/tickets/", {"page": 2}))

    assert first.index(mine[0].number) < first.index(mine[1].number)
    assert all(t.number in first for t in mine[:20])
    assert mine[20].number not in first
    assert mine[20].number in second
    assert theirs.number not in first + second
    assert "Page 1 of 2" in first
    assert signed_in.get("/support/tickets/", {"page": "x\x00"}).status_code == 200


def test_the_ticket_page_shows_the_conversation_without_internal_notes(signed_in, customer):
    order = order_in(OrderStatus.RECEIVED, reservation__customer=customer)
    ticket = open_ticket(customer, order=order, body="폰 어디?")
    services.staff_reply(ticket=ticket, staff_user=staff_user("agent"), body="확인했습니다")
    TicketMessage.objects.create(
        ticket=ticket,
        author_kind=AuthorKind.STAFF,
        staff_user=staff_user("agent"),
        body="내부 메모: 고객이 화남",
        internal=True,
    )

    page = text(signed_in.get(detail_path(ticket)))

    assert "폰 어디?" in page
    assert "확인했습니다" in page
    assert "내부 메모" not in page
    assert "Answered" in page
    assert f'href="/my/orders/{order.number}/"' in page


def test_a_reply_reopens_an_answered_ticket(signed_in, customer):
    ticket = ticket_in(S.ANSWERED, customer=customer)
    page = signed_in.get(detail_path(ticket))

    sent = signed_in.post(
        detail_path(ticket) + "reply/",
        {"body": "아직이에요", "idempotency_key": key_of(page)},
    )

    assert sent.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN
    assert "아직이에요" in text(signed_in.get(detail_path(ticket)))


def test_the_same_reply_sent_twice_is_one_message(signed_in, customer):
    ticket = ticket_in(S.ANSWERED, customer=customer)
    key = key_of(signed_in.get(detail_path(ticket)))
    fields = {"body": "두 번 눌렀어요", "idempotency_key": key}

    signed_in.post(detail_path(ticket) + "reply/", fields)
    signed_in.post(detail_path(ticket) + "reply/", fields)

    assert ticket.messages.filter(body="두 번 눌렀어요").count() == 1


def test_a_reply_to_a_ticket_solved_within_7_days_reopens_it(signed_in, customer):
    ticket = ticket_in(S.SOLVED, customer=customer, now=timezone.now() - dt.timedelta(days=6))
    page = signed_in.get(detail_path(ticket))
    assert "reply before" in text(page)

    signed_in.post(
        detail_path(ticket) + "reply/", {"body": "다시요", "idempotency_key": key_of(page)}
    )

    ticket.refresh_from_db()
    assert ticket.status == S.OPEN


@pytest.mark.parametrize("status", [S.CLOSED, S.SOLVED])
def test_after_7_days_the_page_says_closed_and_offers_a_new_ticket(signed_in, customer, status):
    order = order_in(OrderStatus.RECEIVED, reservation__customer=customer)
    ticket = ticket_in(
        status,
        customer=customer,
        order=order,
        category=C.CANCEL,
        now=timezone.now() - dt.timedelta(days=8 if status == S.SOLVED else 0),
    )

    page = signed_in.get(detail_path(ticket))

    html = page.content.decode()
    assert "This ticket is closed, so it cannot take a reply." in text(page)
    assert 'name="body"' not in html
    assert f'href="{NEW}?category=cancel&amp;order={order.number}"' in html
    reply = {"body": "열어주세요", "idempotency_key": str(uuid.uuid4())}
    refused = signed_in.post(detail_path(ticket) + "reply/", reply)
    assert refused.status_code == 200
    assert "This ticket is closed" in text(refused)
    assert not ticket.messages.filter(body="열어주세요").exists()


@pytest.mark.parametrize(
    "fields",
    [{}, {"body": ""}, {"body": "\x00"}, {"body": "a" * 6000}, {"idempotency_key": "zz"}],
)
def test_a_refused_reply_says_why_beside_the_field_and_adds_nothing(signed_in, customer, fields):
    ticket = ticket_in(S.ANSWERED, customer=customer)
    data = {"body": "ok", "idempotency_key": str(uuid.uuid4()), **fields} if fields else {}

    refused = signed_in.post(detail_path(ticket) + "reply/", data)

    assert refused.status_code == 200
    assert 'role="alert"' in refused.content.decode()
    assert ticket.messages.count() == 2  # the first message and the staff reply
    ticket.refresh_from_db()
    assert ticket.status == S.ANSWERED


def test_every_ticket_that_is_not_mine_is_the_same_404(signed_in, customer):
    theirs = open_ticket()
    contact = services.open_contact_ticket(
        phone="010-2345-6789", name="홍길동", body="코드가 안 와요", idempotency_key=uuid.uuid4()
    )
    unknown = TICKET_NUMBER.generate()
    for number in (theirs.number, contact.number, unknown):
        for response in (
            signed_in.get(f"/support/tickets/{number}/"),
            signed_in.post(
                f"/support/tickets/{number}/reply/",
                {"body": "x", "idempotency_key": str(uuid.uuid4())},
            ),
        ):
            assert response.status_code == 404
            assert number not in response.content.decode().split("<main>", 1)[1]
    assert signed_in.get("/support/tickets/T12/").status_code == 404
    assert signed_in.get("/support/tickets/12345678/").status_code == 404
    assert not TicketMessage.objects.filter(body="x").exists()


def test_guessing_ticket_numbers_is_slowed(signed_in, customer):
    statuses = [
        signed_in.get(f"/support/tickets/{TICKET_NUMBER.generate()}/").status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429


# Ten presses of one form at once, over real HTTP: each its own connection to the live
# server, each request its own database connection.


def session_cookie(customer) -> dict:
    session = SessionStore()
    session[SESSION_KEY] = customer.pk
    session.create()
    return {settings.SESSION_COOKIE_NAME: session.session_key}


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_submissions_of_one_form_over_http_make_one_ticket(live_server):
    order = order_in(OrderStatus.RECEIVED)
    customer = order.reservation.customer
    cookies = session_cookie(customer)
    with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=30) as browser:
        page = browser.get(NEW, params={"order": order.number})
        cookies = dict(browser.cookies)
    html = page.text
    fields = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1],
        "category": C.WHERE_IS_MY_PHONE,
        "subject": order.number,
        "email": "",
        "body": "열 번 눌렀어요",
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', html)[1],
    }

    def press():
        with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=30) as browser:
            response = browser.post(NEW, data=fields, headers={"Referer": live_server.url})
            return response.status_code, response.headers.get("location")

    results = run_at_once([press for _ in range(10)])

    assert [r for r in results if isinstance(r, Exception)] == []
    ticket = Ticket.objects.get(customer=customer)
    assert set(results) == {(302, detail_path(ticket))}
    assert ticket.messages.count() == 1
    assert (ticket.order_id, ticket.category) == (order.pk, C.WHERE_IS_MY_PHONE)
