"""Every write to orders, by concern: the state machine and its executor (machine), the
customer's order-form steps (order_form), moves of many orders at once (batch), and the
notification each move sends (notices), and the delivery address's change while an order
is received (address). Callers import from here."""

from ..models import ADDRESS_FIELDS, DRAFT_FIELDS
from .address import address_change_refusal, change_delivery_address
from .batch import BATCH_MOVES, close_order_window, expire_drafts, transition_many
from .machine import TRANSITIONS, Actor, Move, allowed_targets, transition
from .notices import order_page_path
from .order_form import (
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
    "address_change_refusal",
    "allowed_targets",
    "cancel_by_customer",
    "change_delivery_address",
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
