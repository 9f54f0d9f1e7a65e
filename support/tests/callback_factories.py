"""Callback slots and bookings for the callback tests, on the fixed clock of common.NOW."""

import datetime as dt

from support.models.callbacks import CallbackSlot
from support.services import callbacks

from .common import NOW
from .factories import open_ticket

# Monday 2026-09-21 10:00 in Seoul: a staffed half hour, a day after NOW.
SLOT_AT = dt.datetime(2026, 9, 21, 1, 0, tzinfo=dt.UTC)


def slot(*, at: dt.datetime = SLOT_AT, capacity: int = 10) -> CallbackSlot:
    return CallbackSlot.objects.create(starts_at=at, capacity=capacity, created_at=NOW)


def booked(*, on: CallbackSlot | None = None, ticket=None, now: dt.datetime = NOW):
    """A ticket (opened at NOW unless given) with a call booked in `on` (a new slot)."""
    ticket = ticket or open_ticket(now=NOW)
    on = on or slot()
    return callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=on.pk, now=now).booking
