"""Tickets in any status, made the only way the database allows: through the services."""

import datetime as dt
import uuid

from django.utils import timezone

from orders.tests.factories import staff_user
from preorder_shop.tests.factories import CustomerFactory
from support import services
from support.models import Ticket, TicketCategory, TicketStatus

S = TicketStatus


def open_ticket(customer=None, *, now: dt.datetime | None = None, **kwargs) -> Ticket:
    """A signed-in customer's open ticket (about nothing in particular unless told)."""
    fields = {
        "category": TicketCategory.OTHER,
        "body": "언제 도착하나요?",
        "idempotency_key": uuid.uuid4(),
        **kwargs,
    }
    return services.open_ticket(customer=customer or CustomerFactory(), now=now, **fields).ticket


def ticket_in(status: str, *, now: dt.datetime | None = None, **kwargs) -> Ticket:
    """A ticket brought to `status` through the services, every step at `now` (default:
    now); closed ones were solved 8 days before `now`."""
    now = now or timezone.now()
    at = now - dt.timedelta(days=8) if status == S.CLOSED else now
    ticket = open_ticket(now=at, **kwargs)
    agent = staff_user("agent-factory")
    if status == S.ANSWERED:
        services.staff_reply(ticket=ticket, staff_user=agent, body="확인 중입니다.", now=at)
    elif status == S.WAITING_ON_CUSTOMER:
        services.staff_move(ticket=ticket, staff_user=agent, to=S.WAITING_ON_CUSTOMER, now=at)
    elif status in (S.SOLVED, S.CLOSED):
        services.staff_move(ticket=ticket, staff_user=agent, to=S.SOLVED, now=at)
    if status == S.CLOSED:
        services.close_solved_tickets(now=now)
    return Ticket.objects.get(pk=ticket.pk)
