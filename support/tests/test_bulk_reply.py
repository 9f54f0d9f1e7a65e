"""Bulk reply (issue 15): one canned reply to many tickets, each customer's placeholders
filled from their own live order (different states, different words), one notification
per ticket of staff_reply's shape, every move with its history row, the previewed count
equal to the count sent, a changed selection refused with nothing sent, and the same
confirmation twice answering nobody twice."""

import uuid

import pytest
from django.utils import translation

from orders import selectors
from orders.models import OrderStatus
from orders.tests.factories import SHIPPING, order_in, staff_user
from preorder_shop.models import Operation, OutboxMessage
from support import services
from support.models import Macro, Ticket, TicketChange, TicketHistory, TicketStatus
from support.services import bulk_reply as bulk
from support.tests.common import about_order

from .factories import open_ticket, ticket_in

pytestmark = pytest.mark.django_db

S = TicketStatus
TEXT = "상태 {status} / 순번 {place} / 송장 {tracking_number}"


@pytest.fixture
def macro() -> Macro:
    return Macro.objects.create(title_ko="어디", body_ko=TEXT)


def send(tickets, macro, preview: bulk.Preview, key=None, **kwargs) -> bulk.Replied:
    return bulk.bulk_reply(
        tickets=tickets,
        macro=macro,
        staff_user=staff_user("agent"),
        expected=preview.count,
        expected_fingerprint=preview.fingerprint,
        idempotency_key=key or uuid.uuid4(),
        **kwargs,
    )


def test_each_customer_gets_their_own_live_truth_and_one_notification(macro):
    orders = [order_in(s) for s in (OrderStatus.RECEIVED, OrderStatus.SHIPPED)]
    tickets = [about_order(order).ticket for order in orders]
    chosen = Ticket.objects.filter(pk__in=[t.pk for t in tickets])

    preview = bulk.preview(tickets=chosen, macro=macro)
    replied = send(chosen, macro, preview)

    assert preview.count == replied.count == 2
    for ticket, order in zip(tickets, orders, strict=True):
        [message] = ticket.messages.filter(author_kind="staff")
        with translation.override("ko"):
            view = selectors.order_status(Ticket.objects.get(pk=ticket.pk).order)
        assert message.body.startswith(f"상태 {view.label} / ")
        if order.status == OrderStatus.SHIPPED:
            assert message.body.endswith(f"송장 {SHIPPING['tracking_number']}")
        else:
            standing = view.facts.standing
            assert f"{standing.total}건 중 {standing.place}번째" in message.body
        [sms] = OutboxMessage.objects.filter(
            reference=f"ticket:{ticket.pk}", template_key="support.reply"
        )
        assert sms.recipient == ticket.customer.phone
        assert sms.idempotency_key == f"ticket:{ticket.pk}:message:{message.pk}:sms"
        assert sms.payload == {
            "ticket_number": ticket.number,
            "ticket_path": f"/support/tickets/{ticket.number}/",
        }
        ticket.refresh_from_db()
        assert ticket.status == S.ANSWERED
        assert ticket.first_responded_at == message.created_at  # restamped (SLA)
        [move] = TicketHistory.objects.filter(ticket=ticket, to_status=S.ANSWERED)
        assert (move.change, move.from_status, move.at) == (
            TicketChange.STATUS,
            S.OPEN,
            ticket.status_changed_at,
        )
    assert Operation.objects.filter(action="support.bulk_reply").count() == 1


def test_a_ticket_with_an_email_gets_it_too_and_closed_ones_are_left_out(macro):
    with_email = about_order(order_in(OrderStatus.RECEIVED), email="a@example.com").ticket
    closed = ticket_in(S.CLOSED)
    waiting = ticket_in(S.WAITING_ON_CUSTOMER)
    chosen = Ticket.objects.filter(pk__in=[with_email.pk, closed.pk, waiting.pk])

    preview = bulk.preview(tickets=chosen, macro=macro)
    assert (preview.count, preview.left_out) == (2, 1)
    send(chosen, macro, preview)

    channels = OutboxMessage.objects.filter(
        reference=f"ticket:{with_email.pk}", template_key="support.reply"
    ).values_list("channel", flat=True)
    assert sorted(channels) == ["email", "sms"]
    assert not closed.messages.filter(author_kind="staff").exists()
    assert Ticket.objects.get(pk=waiting.pk).status == S.ANSWERED


def test_a_selection_changed_since_the_preview_sends_nothing(macro):
    first, second = open_ticket(), open_ticket()
    chosen = Ticket.objects.filter(pk__in=[first.pk, second.pk])
    preview = bulk.preview(tickets=chosen, macro=macro)
    services.staff_move(ticket=second, staff_user=staff_user(), to=S.SOLVED)
    third = open_ticket()
    changed = Ticket.objects.filter(pk__in=[first.pk, third.pk])  # same count, other tickets

    for tickets in (chosen, changed):
        with pytest.raises(bulk.SelectionChanged):
            send(tickets, macro, preview, status=S.ANSWERED)
    assert not OutboxMessage.objects.filter(template_key="support.reply").exists()
    assert Ticket.objects.get(pk=first.pk).status == S.OPEN


def test_the_same_confirmation_twice_answers_nobody_twice(macro):
    tickets = Ticket.objects.filter(pk__in=[open_ticket().pk, open_ticket().pk])
    preview = bulk.preview(tickets=tickets, macro=macro)
    key = uuid.uuid4()

    first = send(tickets, macro, preview, key=key)
    again = send(tickets, macro, preview, key=key)

    assert (first.count, again.count, again.repeated) == (2, 2, True)
    assert OutboxMessage.objects.filter(template_key="support.reply").count() == 2


def test_solving_in_bulk_stamps_solved_at(macro):
    tickets = Ticket.objects.filter(pk__in=[open_ticket().pk])
    preview = bulk.preview(tickets=tickets, macro=macro, status=S.SOLVED)
    send(tickets, macro, preview, status=S.SOLVED)
    ticket = tickets.get()
    assert ticket.status == S.SOLVED and ticket.solved_at == ticket.status_changed_at


def test_an_inactive_macro_or_an_empty_selection_is_refused(macro):
    none = Ticket.objects.none()
    with pytest.raises(bulk.NothingToAnswer):
        send(none, macro, bulk.preview(tickets=none, macro=macro))
    macro.active = False
    macro.save()
    tickets = Ticket.objects.filter(pk=open_ticket().pk)
    with pytest.raises(bulk.MacroInactive):
        send(tickets, macro, bulk.preview(tickets=tickets, macro=macro))


def test_an_agent_answers_a_saved_filter_from_the_ticket_list(client, macro):
    from django.urls import reverse

    from preorder_shop import roles
    from support.models import TicketCategory

    from .test_board_admin import staff_of

    orders = [order_in(OrderStatus.RECEIVED) for _ in range(3)]
    mine = [about_order(order).ticket for order in orders[:2]]
    variant = orders[0].reservation.variant
    other = about_order(orders[2]).ticket  # another variant: not in the filter
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    query = f"?status__exact=open&category__exact={TicketCategory.WHERE_IS_MY_PHONE}"
    query += f"&variant={variant.pk}"
    url = reverse("admin:support_ticket_changelist") + query
    chosen = {"action": "reply_in_bulk", "index": "0", "select_across": "1"}
    chosen["_selected_action"] = str(mine[0].pk)

    first = agent.post(url, chosen)
    assert first.status_code == 200
    key = first.context["form"].initial["key"]
    base = {**chosen, "macro": macro.pk, "status": "answered", "key": key}
    page = agent.post(url, {**base, "_preview": "1"})
    preview = page.context["preview"]
    expected = Ticket.objects.filter(
        status=S.OPEN, category=TicketCategory.WHERE_IS_MY_PHONE, reservation__variant=variant
    ).count()
    assert preview.count == expected
    assert f"{expected}" in page.content.decode()
    assert not OutboxMessage.objects.filter(template_key="support.reply").exists()

    done = agent.post(
        url,
        {**base, "_confirm": "1", "expected": preview.count, "fingerprint": preview.fingerprint},
    )

    assert done.status_code == 302
    replies = OutboxMessage.objects.filter(template_key="support.reply")
    assert replies.count() == preview.count
    assert not replies.filter(reference=f"ticket:{other.pk}").exists()
    assert agent.get(reverse("admin:support_ticket_changelist") + "?variant=x").status_code in (
        200,
        302,
    )


def test_customers_in_one_line_each_get_their_own_place(macro):
    from reservations.selectors import queue_standing
    from reservations.tests.factories import ReservationFactory

    first = ReservationFactory()
    second = ReservationFactory(variant=first.variant, campaign=first.campaign)
    tickets = [open_ticket(r.customer, reservation=r) for r in (first, second)]
    chosen = Ticket.objects.filter(pk__in=[t.pk for t in tickets])

    send(chosen, macro, bulk.preview(tickets=chosen, macro=macro))

    for ticket, reservation in zip(tickets, (first, second), strict=True):
        standing = queue_standing(reservation)
        [message] = ticket.messages.filter(author_kind="staff")
        assert f"{standing.total}건 중 {standing.place}번째" in message.body
    assert {queue_standing(r).place for r in (first, second)} == {1, 2}
