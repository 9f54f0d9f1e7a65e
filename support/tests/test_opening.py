"""Opening tickets (signed in and signed out) and the duplicate rule."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.identifiers import TICKET_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory
from support import services
from support.exceptions import (
    ContactNameRequired,
    ControlCharacter,
    EmptyMessage,
    InvalidContactPhone,
    InvalidEmail,
    MessageTooLong,
    NotYourOrder,
    NotYourReservation,
    OrderNotOfReservation,
    UnknownCategory,
)
from support.machine import REOPEN_WINDOW
from support.models import AuthorKind, Ticket, TicketCategory, TicketChange, TicketStatus
from support.tests.common import HOUR, NOW, about_order, outbox
from support.tests.factories import open_ticket

pytestmark = pytest.mark.django_db

S = TicketStatus
C = TicketCategory


def constraint_of(exc: IntegrityError) -> str | None:
    return exc.__cause__.diag.constraint_name


def raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# Opening a ticket.


def test_a_signed_in_customer_opens_a_verified_ticket_about_their_order():
    order = order_in(OrderStatus.RECEIVED)

    opened = about_order(order, email="minjun@example.com")

    ticket = Ticket.objects.get(pk=opened.ticket.pk)
    assert opened.created
    assert TICKET_NUMBER.is_valid(ticket.number)
    assert (ticket.customer, ticket.verified, ticket.status) == (
        order.reservation.customer,
        True,
        S.OPEN,
    )
    assert (ticket.reservation, ticket.order) == (order.reservation, order)
    assert (ticket.created_at, ticket.status_changed_at, ticket.solved_at) == (NOW, NOW, None)
    assert ticket.reply_email == "minjun@example.com"
    assert [(m.author_kind, m.body) for m in ticket.messages.all()] == [
        (AuthorKind.CUSTOMER, "제 폰은 어디에 있나요?")
    ]
    assert not ticket.history.exists()
    assert [(m.channel, m.template_key) for m in outbox(ticket)] == [
        ("sms", "support.ack"),
        ("email", "support.ack"),
    ]  # the acknowledgement: support/tests/test_acknowledgement.py


def test_the_same_submission_twice_is_one_ticket_with_one_message():
    order = order_in(OrderStatus.RECEIVED)
    key = uuid.uuid4()

    first = about_order(order, idempotency_key=key)
    again = about_order(order, idempotency_key=key, body="다시 보냄")

    assert again == first
    assert Ticket.objects.count() == 1
    assert first.ticket.messages.count() == 1


def test_a_ticket_about_nothing_in_particular_is_never_a_duplicate():
    customer = CustomerFactory()
    first = open_ticket(customer, category=C.SIGN_IN, now=NOW)
    second = open_ticket(customer, category=C.SIGN_IN, now=NOW)

    assert first != second


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"body": "  "}, EmptyMessage),
        ({"body": "x" * 5001}, MessageTooLong),
        ({"body": "a\x00b"}, ControlCharacter),
        ({"email": "not-an-address"}, InvalidEmail),
        ({"email": "a@b.c\x00"}, ControlCharacter),
        ({"category": "complaint"}, UnknownCategory),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(bad, error):
    order = order_in(OrderStatus.RECEIVED)
    with pytest.raises(error):
        about_order(order, **bad)
    assert not Ticket.objects.exists()


# The linked reservation and order are the customer's own.


def test_another_customers_order_or_reservation_is_refused():
    mine, theirs = order_in(OrderStatus.RECEIVED), order_in(OrderStatus.RECEIVED)
    customer = mine.reservation.customer
    fields = {"category": C.CANCEL, "body": "취소", "idempotency_key": uuid.uuid4()}

    with pytest.raises(NotYourOrder):
        services.open_ticket(customer=customer, order=theirs, **fields)
    with pytest.raises(NotYourReservation):
        services.open_ticket(customer=customer, reservation=theirs.reservation, **fields)
    with pytest.raises(OrderNotOfReservation):
        other_reservation = ReservationFactory(customer=customer)
        services.open_ticket(
            customer=customer, reservation=other_reservation, order=mine, **fields
        )
    assert not Ticket.objects.exists()

    opened = services.open_ticket(customer=customer, reservation=mine.reservation, **fields)
    assert (opened.ticket.reservation, opened.ticket.order) == (mine.reservation, None)


def test_the_database_refuses_a_link_to_someone_elses_order_or_reservation():
    ticket = about_order(order_in(OrderStatus.RECEIVED)).ticket
    theirs = order_in(OrderStatus.RECEIVED)
    for sql, params, constraint in [
        (
            "UPDATE support_ticket SET order_id = %s WHERE id = %s",
            [theirs.pk, ticket.pk],
            "ticket_order_of_reservation",
        ),
        (
            "UPDATE support_ticket SET reservation_id = %s, order_id = %s WHERE id = %s",
            [theirs.reservation_id, theirs.pk, ticket.pk],
            "ticket_reservation_of_customer",
        ),
        (
            # The trigger speaks before the check ticket_order_needs_reservation.
            "UPDATE support_ticket SET reservation_id = NULL WHERE id = %s",
            [ticket.pk],
            "ticket_order_of_reservation",
        ),
    ]:
        with pytest.raises(IntegrityError) as refused:
            raw(sql, params)
        assert constraint_of(refused.value) == constraint, sql
    assert Ticket.objects.get(pk=ticket.pk).order_id == ticket.order_id


# Duplicates within 24 hours.


def test_a_second_ticket_about_the_same_order_within_24_hours_is_the_open_one():
    order = order_in(OrderStatus.RECEIVED)
    first = about_order(order).ticket
    services.staff_reply(ticket=first, staff_user=staff_user(), body="확인 중", now=NOW + HOUR)

    second = about_order(order, body="아직이요?", now=NOW + 23 * HOUR)

    assert not second.created
    assert second.ticket == first
    assert Ticket.objects.count() == 1
    ticket = Ticket.objects.get(pk=first.pk)
    assert [m.body for m in ticket.messages.all()] == [
        "제 폰은 어디에 있나요?",
        "확인 중",
        "아직이요?",
    ]
    assert ticket.status == S.OPEN  # the customer's addition is back with the desk
    assert list(ticket.history.values_list("from_status", "to_status")) == [
        (S.OPEN, S.ANSWERED),
        (S.ANSWERED, S.OPEN),
    ]


def test_an_order_named_by_the_second_opening_is_linked_to_the_first():
    order = order_in(OrderStatus.RECEIVED)
    first = services.open_ticket(
        customer=order.reservation.customer,
        reservation=order.reservation,
        category=C.WHERE_IS_MY_PHONE,
        body="예약 건 문의",
        idempotency_key=uuid.uuid4(),
        now=NOW,
    ).ticket

    second = about_order(order, now=NOW + HOUR)

    assert second.ticket == first
    assert Ticket.objects.get(pk=first.pk).order == order
    linked = first.history.get()
    assert (linked.change, linked.note, linked.actor_kind) == (
        TicketChange.LINKED,
        f"order {order.number}",
        "customer",
    )


@pytest.mark.parametrize(
    "later",
    [
        {"now": NOW + 24 * HOUR},  # the window is over
        {"category": C.CANCEL},  # another question
    ],
    ids=["after-24-hours", "other-category"],
)
def test_after_24_hours_or_in_another_category_it_is_a_new_ticket(later):
    order = order_in(OrderStatus.RECEIVED)
    first = about_order(order).ticket

    second = about_order(order, **later)

    assert second.created
    assert second.ticket != first


def test_a_closed_ticket_is_no_duplicate():
    order = order_in(OrderStatus.RECEIVED)
    first = about_order(order).ticket
    services.staff_move(ticket=first, staff_user=staff_user(), to=S.SOLVED, now=NOW)
    services.close_solved_tickets(now=NOW + REOPEN_WINDOW)

    second = about_order(order, now=NOW + REOPEN_WINDOW)

    assert second.created
    assert second.ticket != first


# The signed-out contact form.


def test_the_contact_form_makes_an_unverified_ticket_linked_to_nothing():
    customer = CustomerFactory(phone="+821055556666")

    ticket = services.open_contact_ticket(
        phone="010-5555-6666",
        name=" 김민준 ",
        body="인증번호가 오지 않아요",
        idempotency_key=uuid.uuid4(),
        now=NOW,
    )

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert TICKET_NUMBER.is_valid(ticket.number)
    # Not the customer's until they sign in with that number: typing a number proves nothing.
    assert (ticket.customer, ticket.verified) == (None, False)
    assert (ticket.contact_phone, ticket.contact_name) == (customer.phone, "김민준")
    assert (ticket.reservation, ticket.order, ticket.category) == (None, None, C.SIGN_IN)
    assert ticket.masked_contact == "김*준 010-****-6666"


def test_the_contact_form_sent_twice_is_one_ticket():
    key = uuid.uuid4()
    fields = {"phone": "01055556666", "name": "김민준", "body": "코드", "idempotency_key": key}

    assert services.open_contact_ticket(**fields) == services.open_contact_ticket(**fields)
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"phone": "02-123-4567"}, InvalidContactPhone),
        ({"phone": "010-abcd-efgh"}, InvalidContactPhone),
        ({"name": ""}, ContactNameRequired),
        ({"name": "가" * 51}, ContactNameRequired),
        ({"name": "김\x00"}, ControlCharacter),
        ({"body": ""}, EmptyMessage),
    ],
)
def test_the_contact_form_refuses_bad_details(bad, error):
    fields = {"phone": "01055556666", "name": "김민준", "body": "코드", **bad}
    with pytest.raises(error):
        services.open_contact_ticket(idempotency_key=uuid.uuid4(), **fields)
    assert not Ticket.objects.exists()
