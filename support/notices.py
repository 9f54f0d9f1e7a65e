"""What the customer is told about a ticket, through the outbox: an SMS always (to the
verified number, or the number typed into the contact form), and the same notice by e-mail
when the ticket has a reply address. Neither carries the conversation: the link leads to
the ticket's page, which needs sign-in, so a mistyped e-mail address or a shared phone shows
nobody the customer's question or our answer. Templates: templates/notifications/<key>.txt.
"""

from dataclasses import dataclass

from preorder_shop.models import OutboxChannel, OutboxMessage
from preorder_shop.outbox import queue_message

from .models import Ticket

# Where the customer reads a ticket: the page the customer-facing session mounts
# (support.urls, issue 14). Until it exists the link signs the customer in and ends on 404.
TICKET_PAGE = "/support/tickets/{number}/"


def ticket_page_path(ticket: Ticket) -> str:
    return TICKET_PAGE.format(number=ticket.number)


@dataclass(frozen=True)
class NoticeRow:
    """One outbox message about a ticket: what queue_notice queues, and a set-based caller
    (support.services.bulk_reply) inserts in bulk."""

    channel: str
    recipient: str
    payload: dict
    language: str
    idempotency_key: str
    reference: str


def notice_rows(*, ticket: Ticket, key: str) -> list[NoticeRow]:
    """The messages a notice about `ticket` is: SMS always (a link that needs sign-in, never
    the text), e-mail too when the customer gave an address. `key` names what caused it."""
    payload = {"ticket_number": ticket.number, "ticket_path": ticket_page_path(ticket)}
    recipients = [(OutboxChannel.SMS, ticket.recipient_phone)]
    if ticket.reply_email:
        recipients.append((OutboxChannel.EMAIL, ticket.reply_email))
    return [
        NoticeRow(
            channel=channel,
            recipient=recipient,
            payload=payload,
            language=ticket.language,
            idempotency_key=f"ticket:{ticket.pk}:{key}:{channel}",
            reference=f"ticket:{ticket.pk}",
        )
        for channel, recipient in recipients
    ]


def queue_notice(*, ticket: Ticket, template_key: str, key: str) -> list[OutboxMessage]:
    """Queue `template_key` about `ticket` on every channel it has, in the caller's
    transaction. `key` names what caused it ("message:42"), so queuing it again sends
    nothing more."""
    return [
        queue_message(template_key=template_key, **vars(row))
        for row in notice_rows(ticket=ticket, key=key)
    ]
