"""The customer's support pages: the support page, the ticket form (own list only, the
pre-selection from the reservation and order pages, duplicates, refusals beside their
fields), my tickets, one ticket's conversation, replies (reopen within 7 days, closed
after), and one 404 for every ticket that is not the customer's."""

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
from reservations.tests.factories import ReservationFactory
from support import notices, services
from support.models import AuthorKind, Ticket, TicketCategory, TicketMessage, TicketStatus
from support.tests.factories import open_ticket, ticket_in
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

S = TicketStatus
C = TicketCategory
NEW = "/support/tickets/new/"


def text(response) -> str:
    return " ".join(response.content.decode().split())


def key_of(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode())[1]


def form(response, **fields) -> dict:
    return {
        "category": C.WHERE_IS_MY_PHONE,
        "subject": "",
        "email": "",
        "body": "제 폰은 언제 오나요?",
        "idempotency_key": key_of(response),
        **fields,
    }


def checked(html: str, name: str) -> set[str]:
    """The values of the checked radios named `name`."""
    radios = re.findall(rf'<input type="radio" name="{name}" [^>]*>', html)
    return {re.search(r'value="([^"]*)"', r)[1] for r in radios if " checked" in r}


def detail_path(ticket: Ticket) -> str:
    return f"/support/tickets/{ticket.number}/"


def test_the_ticket_page_is_where_the_notices_link():
    ticket = open_ticket()
    assert notices.ticket_page_path(ticket) == detail_path(ticket)


def test_support_page_lists_categories_and_the_signed_out_contact_form(client):
    page = client.get("/support/")
    assert page.status_code == 200
    body = text(page)
    for label in C.labels:
        assert str(label) in body
    assert 'href="/support/contact/"' in body
    assert "My code never arrives" in body
    assert '/support/tickets/"' not in body  # "My tickets" only when signed in


def test_support_page_links_my_tickets_when_signed_in(signed_in):
    assert 'href="/support/tickets/"' in text(signed_in.get("/support/"))


def test_ticket_form_needs_sign_in(client):
    response = client.get(NEW + "?category=cancel")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


def test_the_form_lists_only_the_customers_own_reservations_and_orders(signed_in, customer):
    mine = order_in(OrderStatus.RECEIVED, reservation__customer=customer)
    draft_only = ReservationFactory(customer=customer)
    theirs = order_in(OrderStatus.RECEIVED)

    body = text(signed_in.get(NEW))

    assert f'value="{mine.number}"' in body
    assert f'value="{mine.reservation.number}"' in body
    assert f'value="{draft_only.number}"' in body
    assert theirs.number not in body
    assert theirs.reservation.number not in body


def test_a_link_from_the_order_page_pre_selects_the_order_and_shows_its_live_status(
    signed_in, customer
):
    order = order_in(OrderStatus.RECEIVED, reservation__customer=customer)

    page = signed_in.get(NEW, {"order": order.number})

    html = page.content.decode()
    assert checked(html, "subject") == {order.number}
    assert 'data-testid="live-status"' in html
    assert "We have your order." in text(page)  # the order page's next step, same words


def test_the_reservation_and_order_pages_link_to_the_form_with_them_chosen(signed_in, customer):
    order = order_in(OrderStatus.RECEIVED, reservation__customer=customer)

    on_order = signed_in.get(f"/my/orders/{order.number}/").content.decode()
    on_reservation = signed_in.get(
        f"/my/reservations/{order.reservation.number}/"
    ).content.decode()

    assert f'href="{NEW}?order={order.number}"' in on_order
    assert f'href="{NEW}?reservation={order.reservation.number}"' in on_reservation


def test_a_foreign_or_garbled_pre_selection_is_ignored_without_saying_why(signed_in, customer):
    theirs = order_in(OrderStatus.RECEIVED)
    for query in (
        {"order": theirs.number},
        {"reservation": theirs.reservation.number},
        {"order": "x\x00y"},
        {"reservation": "9" * 400},
        {"category": "nonsense"},
    ):
        page = signed_in.get(NEW, query)
        assert page.status_code == 200
        html = page.content.decode()
        assert checked(html, "subject") <= {""}
        assert 'data-testid="live-status"' not in html
        main = html.split("<main>", 1)[1]  # the header's language form echoes the URL
        assert theirs.number not in main
        assert 'role="alert"' not in main


def test_htmx_choosing_a_subject_swaps_only_the_help(signed_in, customer):
    reservation = ReservationFactory(customer=customer)

    part = signed_in.get(
        NEW,
        {"category": C.CANCEL, "subject": reservation.number},
        headers={"HX-Request": "true", "HX-Target": "ticket-help"},
    )

    html = part.content.decode()
    assert html.lstrip().startswith("<div") or html.lstrip().startswith("{")
    assert 'id="ticket-help"' in html
    assert "<form" not in html
    assert 'data-testid="live-reservation-status"' in html
    assert "HX-Request" in part["Vary"]


def test_submitting_opens_one_ticket_about_the_chosen_order(signed_in, customer):
    order = order_in(OrderStatus.RECEIVED, reservation__customer=customer)
    page = signed_in.get(NEW, {"order": order.number})

    sent = signed_in.post(NEW, form(page, subject=order.number, email="me@example.com"))

    ticket = Ticket.objects.get(customer=customer)
    assert sent.status_code == 302
    assert sent["Location"] == detail_path(ticket)
    assert (ticket.order, ticket.reservation, ticket.verified) == (order, order.reservation, True)
    assert ticket.reply_email == "me@example.com"
    shown = text(signed_in.get(sent["Location"]))
    assert f"Your ticket is open. Its number is {ticket.number}." in shown
    assert "제 폰은 언제 오나요?" in shown


def test_the_same_form_sent_twice_is_one_ticket(signed_in, customer):
    page = signed_in.get(NEW)
    fields = form(page)

    first = signed_in.post(NEW, fields)
    second = signed_in.post(NEW, fields)

    assert first["Location"] == second["Location"]
    assert Ticket.objects.filter(customer=customer).count() == 1
    assert TicketMessage.objects.filter(ticket__customer=customer).count() == 1


def test_a_duplicate_within_24_hours_shows_the_open_ticket_with_the_message_added(
    signed_in, customer
):
    order = order_in(OrderStatus.RECEIVED, reservation__customer=customer)
    first = signed_in.post(NEW, form(signed_in.get(NEW), subject=order.number))

    again = signed_in.post(
        NEW, form(signed_in.get(NEW), subject=order.number, body="아직도 안 왔어요")
    )

    ticket = Ticket.objects.get(customer=customer)
    assert again["Location"] == first["Location"] == detail_path(ticket)
    shown = text(signed_in.get(again["Location"]))
    assert f"You already have an open ticket about this, {ticket.number}" in shown
    assert "your message was added to it." in shown
    assert "아직도 안 왔어요" in shown


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"category": ""}, "category", "Choose what your question is about."),
        ({"category": "free_phones"}, "category", "Choose what your question is about."),
        ({"body": ""}, "body", "Write your message."),
        ({"body": "   \n "}, "body", "Write your message."),
        ({"body": "가" * 5001}, "body", "A message can be at most 5,000 characters long."),
        ({"body": "안녕\x00하세요"}, "body", "The text contains an invisible control character."),
        ({"body": "bell\x07"}, "body", "The text contains an invisible control character."),
        ({"email": "not-an-address"}, "email", "Enter a valid e-mail address, or leave it empty."),
        ({"email": "a\x00@b.kr"}, "email", ""),
        ({"subject": "12345678"}, "subject", "Choose one of your reservations or orders"),
        ({"subject": "x" * 10_000}, "subject", "Choose one of your reservations or orders"),
    ],
)
def test_each_refusal_is_shown_beside_its_field_and_opens_nothing(
    signed_in, customer, fields, field, message
):
    page = signed_in.get(NEW)

    refused = signed_in.post(NEW, form(page, **fields))

    assert refused.status_code == 200
    html = refused.content.decode()
    # The error is inside the field's own block, right after it.
    block = html.split(f'name="{field}"', 1)[1].split('<div class="field', 1)[0]
    assert 'class="error" role="alert"' in block
    assert message in " ".join(block.split())
    assert not Ticket.objects.exists()


def test_another_customers_order_posted_as_the_subject_is_refused_without_a_word_about_it(
    signed_in, customer
):
    theirs = order_in(OrderStatus.SHIPPED)
    refused = signed_in.post(NEW, form(signed_in.get(NEW), subject=theirs.number))
    assert refused.status_code == 200
    assert "Choose one of your reservations or orders from the list." in text(refused)
    assert "Shipped" not in text(refused)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"idempotency_key": ""},
        {"idempotency_key": "not-a-uuid"},
        {"category": ["cancel", "other"]},
        {"csrfmiddlewaretoken": "x"},
    ],
)
def test_garbled_posts_never_fail_the_server(signed_in, customer, fields):
    page = signed_in.get(NEW)
    data = {} if fields == {} else form(page, **fields)
    response = signed_in.post(NEW, data)
    assert response.status_code in (200, 302)
    assert Ticket.objects.count() <= 1


def test_a_stale_form_gets_a_new_key_and_keeps_what_was_typed(signed_in, customer):
    refused = signed_in.post(
        NEW, form(signed_in.get(NEW), idempotency_key="", body="그대로 남아야 해요")
    )
    assert refused.status_code == 200
    assert "This form is out of date." in text(refused)
    assert "그대로 남아야 해요" in text(refused)
    uuid.UUID(key_of(refused))


def test_the_show_button_without_javascript_opens_nothing(signed_in, customer):
    reservation = ReservationFactory(customer=customer)
    shown = signed_in.post(
        NEW, form(signed_in.get(NEW), subject=reservation.number, step="show", body="")
    )
    assert shown.status_code == 200
    assert 'data-testid="live-reservation-status"' in shown.content.decode()
    assert 'role="alert"' not in shown.content.decode()
    assert not Ticket.objects.exists()


# My tickets and one ticket.


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
