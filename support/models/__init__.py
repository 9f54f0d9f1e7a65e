"""The support desk's models: the tickets (tickets.py), the help articles and what they
answered (help.py), and the notices staff publish to affected customers (notices.py)."""

from .help import ArticleStatus, Deflection, HelpArticle
from .notices import Notice, NoticeSeverity
from .tickets import (
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
    "SOLVED_STATUSES",
    "ArticleStatus",
    "AuthorKind",
    "Deflection",
    "HelpArticle",
    "Notice",
    "NoticeSeverity",
    "Ticket",
    "TicketCategory",
    "TicketChange",
    "TicketHistory",
    "TicketMessage",
    "TicketStatus",
]
