"""The customer's support page and ticket form: own list only, the pre-selection from the
reservation and order pages, duplicates, refusals beside their fields (my tickets, one
ticket's conversation and replies: test_ticket_pages.py)."""

import uuid

import pytest

from orders.models import OrderStatus
from orders.tests.factories import order_in
from reservations.tests.factories import ReservationFactory
from support import notices
from support.models import Ticket, TicketCategory, TicketMessage, TicketStatus
from support.tests.factories import open_ticket
from support.tests.pages import NEW, checked, detail_path, form, key_of, text

pytestmark = pytest.mark.django_db

S = TicketStatus
C = TicketCategory


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
