"""Opening tickets under real concurrency: each thread has its own PostgreSQL connection, so
only the database (unique indexes, the subject's advisory lock, row locks) can keep the
rules."""

import datetime as dt
import uuid

import pytest

from orders.models import OrderStatus
from orders.tests.factories import order_in
from support import services
from support.machine import REOPEN_WINDOW
from support.models import Ticket, TicketCategory, TicketMessage, TicketStatus
from support.tests.factories import ticket_in
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

C = TicketCategory


def opening(customer, key, **kwargs):
    fields = {"category": C.WHERE_IS_MY_PHONE, "body": "폰 어디 있나요?", **kwargs}
    return lambda: services.open_ticket(customer=customer, idempotency_key=key, **fields)


@pytest.mark.parametrize("about_order", [True, False], ids=["about-an-order", "about-nothing"])
def test_ten_parallel_submissions_of_one_form_make_one_ticket(about_order):
    order = order_in(OrderStatus.RECEIVED)
    customer, key = order.reservation.customer, uuid.uuid4()
    subject = {"order": order} if about_order else {}

    results = run_at_once([opening(customer, key, **subject) for _ in range(10)])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({r.ticket.pk for r in results}) == 1
    assert all(r.created for r in results)  # each is told what the first one did
    assert Ticket.objects.filter(customer=customer).count() == 1
    assert TicketMessage.objects.filter(ticket__customer=customer).count() == 1


def test_ten_parallel_forms_about_one_order_make_one_ticket_with_ten_messages():
    order = order_in(OrderStatus.RECEIVED)
    customer = order.reservation.customer

    results = run_at_once(
        [opening(customer, uuid.uuid4(), order=order, body=f"문의 {i}") for i in range(10)]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    [ticket] = Ticket.objects.filter(customer=customer)
    assert {r.ticket.pk for r in results} == {ticket.pk}
    assert sorted(r.created for r in results) == [False] * 9 + [True]
    assert sorted(ticket.messages.values_list("body", flat=True)) == sorted(
        f"문의 {i}" for i in range(10)
    )


def test_parallel_forms_of_different_customers_are_not_held_up_by_each_other():
    orders = [order_in(OrderStatus.RECEIVED) for _ in range(5)]

    results = run_at_once([opening(o.reservation.customer, uuid.uuid4(), order=o) for o in orders])

    assert all(r.created for r in results)
    assert Ticket.objects.count() == 5


def test_a_reply_and_the_closing_task_at_the_same_time_never_both_win():
    """The task skips a row the reply holds; the reply then either reopened the ticket or
    was refused because the task closed it first. Never a closed ticket with a new reply."""
    now = dt.datetime(2026, 9, 20, 3, 0, tzinfo=dt.UTC)
    tickets = [ticket_in(TicketStatus.SOLVED, now=now) for _ in range(10)]
    # At the window's last second the reply may reopen; the task closes from the window.
    at = now + REOPEN_WINDOW
    calls = [lambda: services.close_solved_tickets(now=at)] + [
        (
            lambda t=t: services.customer_reply(
                ticket=t,
                customer=t.customer,
                body="아직이요",
                idempotency_key=uuid.uuid4(),
                now=at - dt.timedelta(seconds=1),
            )
        )
        for t in tickets
    ]

    run_at_once(calls)

    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        replied = ticket.messages.filter(body="아직이요").exists()
        assert (ticket.status, replied) in {
            (TicketStatus.OPEN, True),
            (TicketStatus.CLOSED, False),
        }, ticket.number
