"""Replies, staff moves, reopening and closing, and what each tells the customer through
the outbox (besides the acknowledgement of opening, support/tests/test_acknowledgement.py)."""

import datetime as dt
import functools
import uuid

import pytest

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.models import OutboxChannel
from preorder_shop.tests.factories import CustomerFactory
from support import machine, services
from support.exceptions import IllegalTicketMove, NotYourTicket, TicketClosed
from support.machine import CLOSING_TASK, REOPEN_WINDOW
from support.models import AuthorKind, Ticket, TicketStatus
from support.tests import common
from support.tests.common import HOUR, NOW, about_order
from support.tests.factories import open_ticket, ticket_in

pytestmark = pytest.mark.django_db

S = TicketStatus
outbox = functools.partial(common.outbox, acks=False)  # what replies and moves sent


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
