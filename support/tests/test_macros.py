"""Canned replies (issue 15): an unknown placeholder is refused when saved (form and
database); placeholders are filled from the ticket's live order data, the order page's
words, in the ticket's language; the reply page fills a macro in for the agent to read
before sending; internal notes reach no customer page, API answer or message."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from orders import selectors
from orders.models import OrderStatus
from orders.tests.factories import SHIPPING, order_in, staff_user
from orders.tests.test_api_status import signed_in
from preorder_shop import roles
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from reservations.selectors import queue_standing
from reservations.tests.factories import ReservationFactory
from support import placeholders
from support.models import Macro, Ticket, TicketStatus
from support.services.notes import add_internal_note
from support.tests.common import about_order

from .factories import open_ticket
from .test_api import api as api_client
from .test_board_admin import staff_of

pytestmark = pytest.mark.django_db

TEXT = "주문 상태: {status}. 택배사 {courier}, 송장 {tracking_number}. 순번 {place}."


def macro(**kwargs) -> Macro:
    fields = {"title_ko": "배송 안내", "body_ko": TEXT, "title_en": "", "body_en": "", **kwargs}
    made = Macro(**fields)
    made.full_clean()
    made.save()
    return made


@pytest.mark.parametrize("body", ["{stauts} 확인", "{status} {", "}", "{ status }", "{{status}}"])
def test_an_unknown_placeholder_or_lone_brace_is_refused_on_saving(body):
    with pytest.raises(ValidationError) as refused:
        Macro(title_ko="t", body_ko=body).full_clean()
    assert "body_ko" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Macro.objects.create(title_ko="t", body_ko=body)  # the database refuses it too


def test_every_known_placeholder_is_accepted():
    made = macro(body_ko="{status} {place} {courier} {tracking_number} {expected_date}")
    assert made.pk


def test_placeholders_are_the_order_pages_words_for_each_order():
    shipped = about_order(order_in(OrderStatus.SHIPPED)).ticket
    received = about_order(order_in(OrderStatus.RECEIVED)).ticket
    text = macro()

    shipped_text = placeholders.filled_for(text, shipped, now=timezone.now())
    received_text = placeholders.filled_for(text, received, now=timezone.now())

    with translation.override("ko"):  # the ticket's language
        shipped_label = selectors.order_status(Ticket.objects.get(pk=shipped.pk).order).label
        received_order = Ticket.objects.get(pk=received.pk).order
        received_label = selectors.order_status(received_order).label
    assert f"주문 상태: {shipped_label}." in shipped_text
    assert f"택배사 {SHIPPING['courier']}, 송장 {SHIPPING['tracking_number']}" in shipped_text
    standing = selectors.status_facts(received_order).standing
    assert f"주문 상태: {received_label}." in received_text
    assert f"{standing.total}건 중 {standing.place}번째" in received_text
    assert shipped_label not in received_text


def test_a_reservation_ticket_gets_its_place_and_an_english_reader_english():
    reservation = ReservationFactory()
    reservation.customer.language = "en"
    reservation.customer.save()
    ticket = open_ticket(reservation.customer, reservation=reservation)
    text = macro(title_en="Delivery", body_en="You are {place}; status {status}.")

    filled = placeholders.filled_for(text, ticket, now=timezone.now())

    standing = queue_standing(reservation)
    assert filled.startswith(f"You are #{standing.place} of {standing.total} for ")
    assert "{" not in filled


def test_a_ticket_about_nothing_says_so_rather_than_guess():
    ticket = open_ticket()
    filled = placeholders.filled_for(macro(), ticket, now=timezone.now())
    assert "{" not in filled and "#" not in filled


def test_the_agent_fills_a_macro_in_sees_it_then_sends_exactly_that(client):
    ticket = about_order(order_in(OrderStatus.SHIPPED)).ticket
    text = macro()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    key = str(uuid.uuid4())
    base = {"status": TicketStatus.ANSWERED, "key": key, "macro": text.pk}

    page = agent.post(url, {**base, "body": "", "_fill": "1"})

    assert page.status_code == 200
    filled = page.context["form"].initial["body"]
    assert SHIPPING["tracking_number"] in filled and "{" not in filled
    assert SHIPPING["tracking_number"] in page.content.decode()
    assert not ticket.messages.filter(author_kind="staff").exists()  # nothing sent yet

    assert agent.post(url, {**base, "body": filled}).status_code == 302
    [sent] = ticket.messages.filter(author_kind="staff")
    assert sent.body == filled.strip()


def test_an_unknown_macro_or_none_to_fill_changes_nothing(client):
    ticket = open_ticket()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    for data in ({"macro": "999999"}, {"macro": ""}, {"macro": "x"}):
        response = agent.post(
            url, {**data, "_fill": "1", "status": "answered", "key": uuid.uuid4()}
        )
        assert response.status_code == 200
    assert not ticket.messages.filter(author_kind="staff").exists()


def test_an_internal_note_is_never_shown_to_the_customer(client):
    ticket = about_order(order_in(OrderStatus.RECEIVED)).ticket
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    note = "고객이 두 번 전화함 (내부 메모)"
    sent_before = OutboxMessage.objects.count()

    response = agent.post(
        url, {"body": note, "status": "solved", "internal": "on", "key": uuid.uuid4()}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN  # a note moves nothing
    assert ticket.messages.get(internal=True).body == note
    assert OutboxMessage.objects.count() == sent_before  # and tells nobody
    customer = signed_in(client, ticket.customer)
    page = customer.get(reverse("support:ticket_detail", args=[ticket.number]))
    assert page.status_code == 200 and note not in page.content.decode()
    api = api_client(ticket.customer).get(f"/api/v1/tickets/{ticket.number}")
    assert api.status_code == 200 and note not in api.content.decode()
    for message in OutboxMessage.objects.filter(reference=f"ticket:{ticket.pk}"):
        assert note not in render(message)[1]


def test_a_note_sent_again_with_its_key_is_one_note():
    ticket = open_ticket()
    key = uuid.uuid4()
    for _ in range(2):
        add_internal_note(ticket=ticket, staff_user=staff_user(), body="메모", idempotency_key=key)
    assert ticket.messages.filter(internal=True).count() == 1
