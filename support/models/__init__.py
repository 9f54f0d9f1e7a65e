"""The support desk's models: the tickets (tickets.py), the help articles and what they
answered (help.py), and the notices staff publish to affected customers (notices.py)."""

from .callbacks import OUTCOMES, CallbackBooking, CallbackSlot, CallbackStatus
from .help import ArticleStatus, Deflection, HelpArticle
from .macros import Macro
from .merges import TicketMerge
from .notices import Notice, NoticeSeverity
from .sla import RoundTheClock, SlaPolicy
from .tickets import (
    CLOCK_STATUSES,
    PENDING_DUE,
    QUEUE_STATUSES,
    SOLVED_STATUSES,
    AuthorKind,
    Ticket,
    TicketCategory,
    TicketChange,
    TicketHistory,
    TicketMessage,
    TicketStatus,
)

__all__ = [
    "CLOCK_STATUSES",
    "OUTCOMES",
    "PENDING_DUE",
    "QUEUE_STATUSES",
    "SOLVED_STATUSES",
    "ArticleStatus",
    "AuthorKind",
    "CallbackBooking",
    "CallbackSlot",
    "CallbackStatus",
    "Deflection",
    "HelpArticle",
    "Macro",
    "Notice",
    "NoticeSeverity",
    "RoundTheClock",
    "SlaPolicy",
    "Ticket",
    "TicketCategory",
    "TicketChange",
    "TicketHistory",
    "TicketMerge",
    "TicketMessage",
    "TicketStatus",
]
