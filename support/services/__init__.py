"""Every write to tickets: opening one (signed in, or through the signed-out contact form),
the customer's and staff's replies, staff's status moves, and closing old solved tickets.
Keyword-only, one transaction each, domain errors (support.exceptions). Status moves go
through support.machine; notifications through support.notices (the outbox).

Callers import from here (`from support import services`); the package holds opening
(support.services.opening: open_ticket, open_contact_ticket and their acknowledgement),
replies (support.services.replies) and input cleaning (support.services.cleaning).
"""

from .cleaning import MAX_BODY, MAX_NAME
from .opening import DUPLICATE_WINDOW, Opened, open_contact_ticket, open_ticket
from .replies import (
    REPLY_STATUSES,
    close_solved_tickets,
    customer_reply,
    staff_move,
    staff_reply,
)

__all__ = [
    "DUPLICATE_WINDOW",
    "MAX_BODY",
    "MAX_NAME",
    "REPLY_STATUSES",
    "Opened",
    "close_solved_tickets",
    "customer_reply",
    "open_contact_ticket",
    "open_ticket",
    "staff_move",
    "staff_reply",
]
