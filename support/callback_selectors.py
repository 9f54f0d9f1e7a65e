"""Reads about callbacks that the ticket page, the API and admin share: the slots a
customer may book, and a ticket's booking still to be called."""

import datetime as dt

from django.db.models import F, QuerySet

from .models import Ticket
from .models.callbacks import CallbackBooking, CallbackSlot, CallbackStatus
from .services.callbacks import BOOKING_LEAD

# How far ahead the picker offers times.
HORIZON = dt.timedelta(days=7)


def free_slots(*, now: dt.datetime) -> QuerySet[CallbackSlot]:
    """Offered slots with a free place that can still be booked (BOOKING_LEAD ahead), within
    HORIZON, soonest first."""
    return CallbackSlot.objects.filter(
        starts_at__gte=now + BOOKING_LEAD,
        starts_at__lt=now + HORIZON,
        booked__lt=F("capacity"),
    ).order_by("starts_at")


def live_booking(ticket: Ticket) -> CallbackBooking | None:
    """The ticket's booked call still to come (at most one: index callback_one_live_per_ticket)."""
    return (
        CallbackBooking.objects.select_related("slot")
        .filter(ticket=ticket, status=CallbackStatus.BOOKED)
        .first()
    )
