"""What the ticket service tests share: a fixed clock, a ticket about an order, and the
outbox rows a ticket caused."""

import datetime as dt
import uuid

from preorder_shop.models import OutboxMessage
from support import services
from support.acknowledgement import ACK_TEMPLATES
from support.models import Ticket, TicketCategory

NOW = dt.datetime(2026, 9, 20, 3, 0, tzinfo=dt.UTC)  # a Sunday, 12:00 in Seoul
HOUR = dt.timedelta(hours=1)


def outbox(ticket: Ticket, *, acks: bool = True) -> list[OutboxMessage]:
    """The ticket's outbox rows, oldest first; without its acknowledgement if acks=False."""
    rows = OutboxMessage.objects.filter(reference=f"ticket:{ticket.pk}").order_by("pk")
    return list(rows if acks else rows.exclude(template_key__in=ACK_TEMPLATES))


def about_order(order, **kwargs) -> services.Opened:
    fields = {
        "category": TicketCategory.WHERE_IS_MY_PHONE,
        "body": "제 폰은 어디에 있나요?",
        "idempotency_key": uuid.uuid4(),
        "now": NOW,
        **kwargs,
    }
    return services.open_ticket(customer=order.reservation.customer, order=order, **fields)
