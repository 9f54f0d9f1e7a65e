"""Opening tickets (signed in and signed out), the duplicate rule, replies, reopening and
closing, and what each tells the customer through the outbox."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.identifiers import TICKET_NUMBER
from preorder_shop.models import OutboxChannel, OutboxMessage
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory
from support import machine, services
from support.exceptions import (
    ContactNameRequired,
    ControlCharacter,
    EmptyMessage,
    IllegalTicketMove,
    InvalidContactPhone,
    InvalidEmail,
    MessageTooLong,
    NotYourOrder,
    NotYourReservation,
    NotYourTicket,
    OrderNotOfReservation,
    TicketClosed,
    UnknownCategory,
)
from support.machine import CLOSING_TASK, REOPEN_WINDOW
from support.models import AuthorKind, Ticket, TicketCategory, TicketChange, TicketStatus
from support.tests.factories import open_ticket, ticket_in

pytestmark = pytest.mark.django_db

S = TicketStatus
C = TicketCategory
NOW = dt.datetime(2026, 9, 20, 3, 0, tzinfo=dt.UTC)  # a Sunday, 12:00 in Seoul
HOUR = dt.timedelta(hours=1)


def outbox(ticket: Ticket) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(reference=f"ticket:{ticket.pk}").order_by("pk"))


def constraint_of(exc: IntegrityError) -> str | None:
    return exc.__cause__.diag.constraint_name


def raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def about_order(order, **kwargs) -> services.Opened:
    fields = {
        "category": C.WHERE_IS_MY_PHONE,
        "body": "제 폰은 어디에 있나요?",
        "idempotency_key": uuid.uuid4(),
        "now": NOW,
        **kwargs,
    }
    return services.open_ticket(customer=order.reservation.customer, order=order, **fields)


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
    assert outbox(ticket) == []  # the acknowledgement is the next step of issue 14


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


# Replies.


def test_staff_reply_sends_an_sms_with_a_sign_in_link_and_no_text():
    ticket = open_ticket(now=NOW)

    message = services.staff_reply(
        ticket=ticket, staff_user=staff_user("agent"), body="내일 출고됩니다.", now=NOW + HOUR
    )

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (message.author_kind, message.staff_user.username) == (AuthorKind.STAFF, "agent")
    assert ticket.status == S.ANSWERED
    [sms] = outbox(ticket)
    assert (sms.channel, sms.recipient, sms.template_key) == (
        OutboxChannel.SMS,
        ticket.customer.phone,
        "support.reply",
    )
    assert sms.payload == {
        "ticket_number": ticket.number,
        "ticket_path": f"/support/tickets/{ticket.number}/",
    }
    assert sms.idempotency_key == f"ticket:{ticket.pk}:message:{message.pk}:sms"


def test_staff_reply_also_sends_an_email_when_the_ticket_has_an_address():
    order = order_in(OrderStatus.RECEIVED)
    ticket = about_order(order, email="minjun@example.com").ticket

    message = services.staff_reply(ticket=ticket, staff_user=staff_user(), body="확인했습니다.")

    assert [(m.channel, m.recipient, m.template_key) for m in outbox(ticket)] == [
        (OutboxChannel.SMS, order.reservation.customer.phone, "support.reply"),
        (OutboxChannel.EMAIL, "minjun@example.com", "support.reply"),
    ]
    assert all("확인했습니다" not in str(m.payload) for m in outbox(ticket))
    assert message.body == "확인했습니다."


def test_staff_reply_to_a_contact_ticket_texts_the_number_typed_in():
    ticket = services.open_contact_ticket(
        phone="010-5555-6666", name="김민준", body="코드가 안 와요", idempotency_key=uuid.uuid4()
    )

    services.staff_reply(ticket=ticket, staff_user=staff_user(), body="다시 보내드렸어요.")

    assert [(m.channel, m.recipient) for m in outbox(ticket)] == [
        (OutboxChannel.SMS, "+821055556666")
    ]


def test_staff_reply_that_solves_sends_the_reply_only():
    ticket = open_ticket(now=NOW)

    services.staff_reply(
        ticket=ticket, staff_user=staff_user(), body="해결", status=S.SOLVED, now=NOW + HOUR
    )

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.status, ticket.solved_at) == (S.SOLVED, NOW + HOUR)
    assert [m.template_key for m in outbox(ticket)] == ["support.reply"]


def test_staff_reply_cannot_leave_a_ticket_open():
    ticket = open_ticket()
    with pytest.raises(IllegalTicketMove):
        services.staff_reply(ticket=ticket, staff_user=staff_user(), body="?", status=S.OPEN)
    assert ticket.messages.count() == 1


def test_staff_reply_sent_twice_with_its_key_is_one_message_and_one_sms():
    ticket, key = open_ticket(), uuid.uuid4()
    for _ in range(2):
        services.staff_reply(
            ticket=ticket, staff_user=staff_user(), body="네", idempotency_key=key
        )
    assert ticket.messages.count() == 2
    assert len(outbox(ticket)) == 1


def test_staff_solving_without_a_reply_tells_the_customer():
    ticket = open_ticket(now=NOW)
    services.staff_move(ticket=ticket, staff_user=staff_user(), to=S.SOLVED, now=NOW)
    assert [m.template_key for m in outbox(ticket)] == ["support.solved"]


@pytest.mark.parametrize("status", [S.ANSWERED, S.WAITING_ON_CUSTOMER])
def test_a_customer_reply_takes_the_ticket_back_to_open(status):
    ticket = ticket_in(status, now=NOW)

    services.customer_reply(
        ticket=ticket,
        customer=ticket.customer,
        body="답변 감사해요, 그런데",
        idempotency_key=uuid.uuid4(),
        now=NOW + HOUR,
    )

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == S.OPEN
    last = ticket.history.order_by("pk").last()
    assert (last.from_status, last.to_status, last.actor_kind) == (status, S.OPEN, "customer")


def test_a_customer_reply_sent_twice_is_one_message():
    ticket, key = ticket_in(S.ANSWERED), uuid.uuid4()
    for _ in range(2):
        services.customer_reply(
            ticket=ticket, customer=ticket.customer, body="또", idempotency_key=key
        )
    assert ticket.messages.filter(author_kind=AuthorKind.CUSTOMER).count() == 2


def test_only_the_tickets_customer_replies():
    ticket = ticket_in(S.ANSWERED)
    with pytest.raises(NotYourTicket):
        services.customer_reply(
            ticket=ticket, customer=CustomerFactory(), body="?", idempotency_key=uuid.uuid4()
        )
    assert Ticket.objects.get(pk=ticket.pk).status == S.ANSWERED


# Reopening within 7 days of solving; closed after that.


@pytest.mark.parametrize(
    "after", [dt.timedelta(minutes=1), REOPEN_WINDOW - dt.timedelta(seconds=1)]
)
def test_a_reply_within_7_days_of_solving_reopens_the_ticket(after):
    ticket = ticket_in(S.SOLVED, now=NOW)

    services.customer_reply(
        ticket=ticket,
        customer=ticket.customer,
        body="아직 안 왔어요",
        idempotency_key=uuid.uuid4(),
        now=NOW + after,
    )

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.status, ticket.solved_at, ticket.status_changed_at) == (
        S.OPEN,
        None,
        NOW + after,
    )
    last = ticket.history.order_by("pk").last()
    assert (last.from_status, last.to_status) == (S.SOLVED, S.OPEN)


@pytest.mark.parametrize("closed_by_task", [False, True], ids=["before-the-task", "closed"])
def test_a_reply_7_days_after_solving_must_start_a_new_ticket(closed_by_task):
    ticket = ticket_in(S.SOLVED, now=NOW)
    if closed_by_task:
        assert services.close_solved_tickets(now=NOW + REOPEN_WINDOW) == 1
    before = (ticket.messages.count(), ticket.history.count())

    with pytest.raises(TicketClosed) as refused:
        services.customer_reply(
            ticket=ticket,
            customer=ticket.customer,
            body="다시 문의",
            idempotency_key=uuid.uuid4(),
            now=NOW + REOPEN_WINDOW,
        )

    assert refused.value.code == "ticket_closed"
    assert "Open a new ticket" in str(refused.value.message)
    assert (ticket.messages.count(), ticket.history.count()) == before
    with pytest.raises(TicketClosed):
        services.staff_reply(
            ticket=ticket, staff_user=staff_user(), body="늦은 답", now=NOW + REOPEN_WINDOW
        )


def test_the_task_closes_exactly_the_tickets_solved_over_7_days_ago_once():
    old = ticket_in(S.SOLVED, now=NOW - REOPEN_WINDOW)
    recent = ticket_in(S.SOLVED, now=NOW - REOPEN_WINDOW + dt.timedelta(seconds=1))
    answered = ticket_in(S.ANSWERED, now=NOW - 30 * REOPEN_WINDOW)

    assert services.close_solved_tickets(now=NOW) == 1
    assert services.close_solved_tickets(now=NOW) == 0

    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {old.pk: S.CLOSED, recent.pk: S.SOLVED, answered.pk: S.ANSWERED}
    closing = Ticket.objects.get(pk=old.pk).history.order_by("pk").last()
    assert (closing.from_status, closing.to_status, closing.at) == (S.SOLVED, S.CLOSED, NOW)
    assert (closing.actor_kind, closing.actor_label) == ("worker", CLOSING_TASK)
    assert Ticket.objects.get(pk=old.pk).solved_at == NOW - REOPEN_WINDOW


def test_the_task_closes_in_batches():
    for _ in range(5):
        ticket_in(S.SOLVED, now=NOW - REOPEN_WINDOW)

    assert machine.close_solved(now=NOW, batch=2) == 5
    assert set(Ticket.objects.values_list("status", flat=True)) == {S.CLOSED}
