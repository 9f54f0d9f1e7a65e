"""What the customer is told about a ticket, through the outbox: an SMS always (to the
verified number, or the number typed into the contact form), and the same notice by e-mail
when the ticket has a reply address. Neither carries the conversation: the link leads to
the ticket's page, which needs sign-in, so a mistyped e-mail address or a shared phone shows
nobody the customer's question or our answer. Templates: templates/notifications/<key>.txt.
"""

from preorder_shop.models import OutboxChannel, OutboxMessage
from preorder_shop.outbox import queue_message

from .models import Ticket

# Where the customer reads a ticket: the page the customer-facing session mounts
# (support.urls, issue 14). Until it exists the link signs the customer in and ends on 404.
TICKET_PAGE = "/support/tickets/{number}/"


def ticket_page_path(ticket: Ticket) -> str:
    return TICKET_PAGE.format(number=ticket.number)


def queue_notice(*, ticket: Ticket, template_key: str, key: str) -> list[OutboxMessage]:
    """Queue `template_key` about `ticket` on every channel it has, in the caller's
    transaction. `key` names what caused it ("message:42"), so queuing it again sends
    nothing more."""
    payload = {"ticket_number": ticket.number, "ticket_path": ticket_page_path(ticket)}
    recipients = [(OutboxChannel.SMS, ticket.recipient_phone)]
    if ticket.reply_email:
        recipients.append((OutboxChannel.EMAIL, ticket.reply_email))
    return [
        queue_message(
            channel=channel,
            recipient=recipient,
            template_key=template_key,
            payload=payload,
            language=ticket.language,
            idempotency_key=f"ticket:{ticket.pk}:{key}:{channel}",
            reference=f"ticket:{ticket.pk}",
        )
        for channel, recipient in recipients
    ]
