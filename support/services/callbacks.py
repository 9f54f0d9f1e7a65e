"""Callbacks instead of hang-ups (issue 15, section 4): the customer books a call for their
own ticket in a slot staff offer, or cancels it; an agent records how the call went on the
ticket (an internal note); a missed call offers a new time. Confirmation, the reminder 10
minutes before and the new offer go through the outbox (SMS to the customer's number).

Locks, when more than one is taken: the ticket (support.machine.lock), then the slot. The
database refuses an overbooked slot whatever the code does (migration 0005); locking the
slot here only lets a full slot be answered with its own message.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from preorder_shop.models import Customer, OutboxChannel
from preorder_shop.outbox import queue_message

from .. import machine, shifts
from ..callback_exceptions import (
    CallbackAlreadyBooked,
    CallbackNotYet,
    CallbackSettled,
    CallbackStarted,
    CallbackTicketClosed,
    CapacityBelowBooked,
    DayNotStaffed,
    NoCallbackBooked,
    SlotFull,
    SlotNotOffered,
    SlotTooSoon,
    SlotUnknown,
    UnknownOutcome,
)
from ..exceptions import NotYourTicket
from ..models import AuthorKind, Ticket, TicketMessage
from ..models.callbacks import (
    OUTCOMES,
    SLOT_MINUTES,
    CallbackBooking,
    CallbackSlot,
    CallbackStatus,
)
from ..notices import ticket_page_path
from .cleaning import clean_text

B = CallbackStatus
REMINDER_BEFORE = dt.timedelta(minutes=10)
# A slot can be booked until 10 minutes before it starts, so every booking gets its
# reminder (and the agents see it on the slot's list before the half hour begins).
BOOKING_LEAD = REMINDER_BEFORE
SLOT = dt.timedelta(minutes=SLOT_MINUTES)
MAX_NOTE = 2000
# Where a message's link leads: the ticket page's "Request a call" part.
PICKER_ANCHOR = "#callback"


@dataclass(frozen=True)
class Booked:
    booking: CallbackBooking
    created: bool  # False: this ticket had booked this very slot already (a retry)


def book(
    *,
    ticket: Ticket,
    customer: Customer,
    slot_id: int,
    now: dt.datetime | None = None,
) -> Booked:
    """Book a call about the customer's own `ticket` in slot `slot_id`: a slot staff offer
    (capacity above 0) with a free place, starting at least BOOKING_LEAD from now. The same
    slot again is the same booking; another slot while one is booked is refused (cancel
    first). The confirmation is queued in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _own_locked(ticket, customer)
        if machine.past_reopening(locked, now):
            raise CallbackTicketClosed()
        live = _live(locked)
        if live is not None:
            if live.slot_id == slot_id:
                return Booked(live, created=False)
            raise CallbackAlreadyBooked()
        slot = CallbackSlot.objects.select_for_update().filter(pk=slot_id).first()
        if slot is None:
            raise SlotUnknown()
        if slot.starts_at < now + BOOKING_LEAD:
            raise SlotTooSoon()
        if slot.capacity == 0:
            raise SlotNotOffered()
        if slot.booked >= slot.capacity:
            raise SlotFull()
        booking = CallbackBooking.objects.create(slot=slot, ticket=locked, booked_at=now)
        slot.refresh_from_db(fields=["booked"])  # counted by the trigger
        _tell(booking, "support.callback_booked", "booked")
    return Booked(booking, created=True)


def cancel(
    *, ticket: Ticket, customer: Customer, now: dt.datetime | None = None
) -> CallbackBooking:
    """The customer cancels the call booked for their ticket; its place is free again. Once
    the slot has begun it cannot be cancelled (the agent may be dialling)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _own_locked(ticket, customer)
        live = _live(locked)
        if live is None:
            raise NoCallbackBooked()
        if now >= live.slot.starts_at:
            raise CallbackStarted()
        live.status, live.cancelled_at = B.CANCELLED, now
        live.save(update_fields=["status", "cancelled_at"])
        live.slot.refresh_from_db(fields=["booked"])
    return live


def record_outcome(
    *,
    booking: CallbackBooking,
    staff_user: AbstractBaseUser,
    outcome: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> CallbackBooking:
    """An agent records a call as kept or missed, once its half hour has begun; the ticket
    gets an internal note saying so. A missed call offers the customer a new time (SMS with
    the link to book again). The same outcome again changes nothing."""
    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise UnknownOutcome()
    note = clean_text(note)[:MAX_NOTE]
    with transaction.atomic():
        machine.lock(booking.ticket)
        locked = (
            CallbackBooking.objects.select_for_update(of=("self",))
            .select_related("slot", "ticket", "ticket__customer")
            .get(pk=booking.pk)
        )
        if locked.status == outcome:
            return locked
        if locked.status != B.BOOKED:
            raise CallbackSettled()
        if now < locked.slot.starts_at:
            raise CallbackNotYet()
        locked.status, locked.outcome_at = outcome, now
        locked.outcome_note, locked.recorded_by = note, staff_user
        locked.save(update_fields=["status", "outcome_at", "outcome_note", "recorded_by"])
        TicketMessage.objects.create(
            ticket=locked.ticket,
            author_kind=AuthorKind.STAFF,
            staff_user=staff_user,
            internal=True,
            body=_internal_note(locked),
            created_at=now,
        )
        if outcome == B.MISSED:
            _tell(locked, "support.callback_missed", "missed")
    return locked


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind every customer whose call begins within REMINDER_BEFORE and who was not
    reminded yet; how many were reminded. Once per booking (reminded_at, and the outbox
    key), so beat may run it every minute and two runs at once skip each other's rows."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            CallbackBooking.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("slot", "ticket", "ticket__customer")
            .filter(
                status=B.BOOKED,
                reminded_at__isnull=True,
                slot__starts_at__gt=now,
                slot__starts_at__lte=now + REMINDER_BEFORE,
            )
        )
        for booking in due:
            _tell(booking, "support.callback_reminder", "reminder")
            booking.reminded_at = now
        CallbackBooking.objects.bulk_update(due, ["reminded_at"])
    return len(due)


# Staff's side: the slots.


def set_capacity(*, slot: CallbackSlot, capacity: int) -> CallbackSlot:
    """Staff set how many calls a slot offers; never fewer than are booked (the slot row is
    locked, so no booking slips in between the check and the write)."""
    with transaction.atomic():
        locked = CallbackSlot.objects.select_for_update().get(pk=slot.pk)
        check_capacity(slot=locked, capacity=capacity)
        locked.capacity = capacity
        locked.save(update_fields=["capacity"])
    return locked


def check_capacity(*, slot: CallbackSlot, capacity: int) -> None:
    """Refuse a capacity below the slot's bookings (for a form, before set_capacity)."""
    if capacity < slot.booked:
        raise CapacityBelowBooked(slot.booked)


def create_day_slots(
    *, day: dt.date, capacity: int, now: dt.datetime | None = None
) -> list[CallbackSlot]:
    """Every half hour of `day`'s staffed hours (support.shifts, the desk's zone) that is
    still to come, as a slot of `capacity`; slots that exist already are left as they are.
    Returns the slots created."""
    now = now or timezone.now()
    period = shifts.staffed_period(day)
    if period is None:
        raise DayNotStaffed()
    start, end = period
    # The first :00 or :30 at or after the shift's start.
    aligned = start + dt.timedelta(seconds=-start.timestamp() % SLOT.total_seconds())
    wanted = []
    while aligned + SLOT <= end:
        if aligned > now:
            wanted.append(aligned)
        aligned += SLOT
    with transaction.atomic():
        existing = set(
            CallbackSlot.objects.filter(starts_at__in=wanted).values_list("starts_at", flat=True)
        )
        new = [
            CallbackSlot(starts_at=at, capacity=capacity, created_at=now)
            for at in wanted
            if at not in existing
        ]
        # Another staff member making the same day at once: theirs stand.
        CallbackSlot.objects.bulk_create(new, ignore_conflicts=True)
    return new


# Helpers.


def _own_locked(ticket: Ticket, customer: Customer) -> Ticket:
    locked = machine.lock(ticket)
    if locked.customer_id != customer.pk:
        raise NotYourTicket()
    return locked


def _live(ticket: Ticket) -> CallbackBooking | None:
    return (
        CallbackBooking.objects.select_for_update(of=("self",))
        .select_related("slot")
        .filter(ticket=ticket, status=B.BOOKED)
        .first()
    )


def slot_label(slot: CallbackSlot) -> str:
    """The slot's start as messages and notes show it: in the desk's zone."""
    return slot.starts_at.astimezone(shifts.desk_zone()).strftime("%Y-%m-%d %H:%M")


def _internal_note(booking: CallbackBooking) -> str:
    said = {
        B.KEPT: _("Callback at %(slot)s: kept."),
        B.MISSED: _("Callback at %(slot)s: missed; the customer was offered a new time."),
    }[booking.status] % {"slot": slot_label(booking.slot)}
    return f"{said}\n{booking.outcome_note}" if booking.outcome_note else said


def _tell(booking: CallbackBooking, template_key: str, what: str) -> None:
    """An SMS about `booking` to the ticket's customer, in the caller's transaction; `what`
    names it in the key, so it is sent once per booking."""
    ticket = booking.ticket
    queue_message(
        channel=OutboxChannel.SMS,
        recipient=ticket.recipient_phone,
        template_key=template_key,
        payload={
            "ticket_number": ticket.number,
            "ticket_path": ticket_page_path(ticket) + PICKER_ANCHOR,
            "slot_at": slot_label(booking.slot),
        },
        language=ticket.language,
        idempotency_key=f"callback:{booking.pk}:{what}",
        reference=f"ticket:{ticket.pk}",
    )
