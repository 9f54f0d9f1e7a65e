"""Every write to orders, by concern: the state machine and its executor (machine), the
customer's order-form steps (order_form), moves of many orders at once (batch), and the
notification each move sends (notices). Callers import from here."""

from .batch import BATCH_MOVES, close_order_window, expire_drafts, transition_many
from .machine import TRANSITIONS, Actor, Move, allowed_targets, transition
from .notices import order_page_path
from .order_form import (
    ADDRESS_FIELDS,
    DRAFT_FIELDS,
    cancel_by_customer,
    customer_may_cancel,
    discard_draft,
    festival_draw_published,
    missing_fields,
    open_draft,
    save_draft,
    submit_order,
)

__all__ = [
    "ADDRESS_FIELDS",
    "BATCH_MOVES",
    "DRAFT_FIELDS",
    "TRANSITIONS",
    "Actor",
    "Move",
    "allowed_targets",
    "cancel_by_customer",
    "close_order_window",
    "customer_may_cancel",
    "discard_draft",
    "expire_drafts",
    "festival_draw_published",
    "missing_fields",
    "open_draft",
    "order_page_path",
    "save_draft",
    "submit_order",
    "transition",
    "transition_many",
]
