"""Callbacks (issue 15, section 4): booking a slot for one's own ticket, cancelling, the
reminder 10 minutes before (once), the agent's outcome on the ticket, a missed call's new
offer, staff's capacity and a day's slots; and what the database refuses by itself."""

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from orders.tests.factories import staff_user
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from preorder_shop.tests.factories import CustomerFactory
from support.callback_exceptions import (
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
from support.callback_selectors import free_slots
from support.exceptions import NotYourTicket
from support.models import TicketStatus
from support.models.callbacks import CallbackBooking, CallbackSlot, CallbackStatus
from support.services import callbacks
from support.tests.callback_factories import SLOT_AT, booked, slot
from support.tests.common import NOW
from support.tests.factories import open_ticket, ticket_in

pytestmark = pytest.mark.django_db

B = CallbackStatus
MINUTE = dt.timedelta(minutes=1)


def sms(template_key: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template_key=template_key).order_by("pk"))


def test_booking_takes_a_place_and_confirms_by_sms():
    ticket = open_ticket(now=NOW)
    offered = slot(capacity=2)

    done = callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=offered.pk, now=NOW)

    assert done.created and done.booking.status == B.BOOKED
    offered.refresh_from_db()
    assert (offered.booked, offered.free) == (1, 1)
    [message] = sms("support.callback_booked")
    assert message.recipient == ticket.customer.phone
    assert message.payload["slot_at"] == "2026-09-21 10:00"  # Seoul
    _subject, text = render(message)
    assert ticket.number in text and f"/support/tickets/{ticket.number}/#callback" in text


def test_the_same_slot_again_is_the_same_booking_and_one_message():
    first = booked()
    ticket = first.ticket

    again = callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=first.slot_id, now=NOW)

    assert (again.booking.pk, again.created) == (first.pk, False)
    assert CallbackSlot.objects.get(pk=first.slot_id).booked == 1
    assert len(sms("support.callback_booked")) == 1


def test_one_live_booking_per_ticket():
    first = booked()
    other = slot(at=SLOT_AT + dt.timedelta(minutes=30))

    with pytest.raises(CallbackAlreadyBooked):
        callbacks.book(
            ticket=first.ticket, customer=first.ticket.customer, slot_id=other.pk, now=NOW
        )
    assert other.bookings.count() == 0


def test_a_past_or_imminent_slot_is_refused():
    ticket = open_ticket(now=NOW)
    past = slot(at=NOW - dt.timedelta(minutes=30))
    soon = slot(at=NOW + dt.timedelta(minutes=30))

    with pytest.raises(SlotTooSoon):
        callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=past.pk, now=NOW)
    with pytest.raises(SlotTooSoon):  # 9 minutes before it starts: no time for a reminder
        callbacks.book(
            ticket=ticket,
            customer=ticket.customer,
            slot_id=soon.pk,
            now=soon.starts_at - 9 * MINUTE,
        )
    assert not CallbackBooking.objects.exists()
    assert not OutboxMessage.objects.filter(template_key__startswith="support.callback").exists()


def test_a_foreign_ticket_is_refused_as_no_such_ticket():
    ticket = open_ticket(now=NOW)
    offered = slot()

    with pytest.raises(NotYourTicket):
        callbacks.book(ticket=ticket, customer=CustomerFactory(), slot_id=offered.pk, now=NOW)
    assert not CallbackBooking.objects.exists()


@pytest.mark.parametrize(
    ("capacity", "booked_by_others", "error"),
    [(0, 0, SlotNotOffered), (1, 1, SlotFull)],
    ids=["not-offered", "full"],
)
def test_a_slot_not_offered_or_full_is_refused(capacity, booked_by_others, error):
    offered = slot(capacity=capacity)
    for _ in range(booked_by_others):
        booked(on=offered)
    ticket = open_ticket(now=NOW)

    with pytest.raises(error):
        callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=offered.pk, now=NOW)
    assert not CallbackBooking.objects.filter(ticket=ticket).exists()


def test_an_unknown_slot_or_a_closed_ticket_is_refused():
    ticket = open_ticket(now=NOW)
    with pytest.raises(SlotUnknown):
        callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=999999, now=NOW)
    closed = ticket_in(TicketStatus.CLOSED, now=NOW)
    with pytest.raises(CallbackTicketClosed):
        callbacks.book(ticket=closed, customer=closed.customer, slot_id=slot().pk, now=NOW)


def test_cancel_frees_the_place_and_allows_a_new_booking():
    booking = booked()
    ticket = booking.ticket

    callbacks.cancel(ticket=ticket, customer=ticket.customer, now=NOW)

    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_at) == (B.CANCELLED, NOW)
    assert CallbackSlot.objects.get(pk=booking.slot_id).booked == 0
    with pytest.raises(NoCallbackBooked):
        callbacks.cancel(ticket=ticket, customer=ticket.customer, now=NOW)
    again = callbacks.book(
        ticket=ticket, customer=ticket.customer, slot_id=booking.slot_id, now=NOW
    )
    assert again.created and again.booking.pk != booking.pk


def test_a_started_call_cannot_be_cancelled_nor_a_foreign_one():
    booking = booked()
    ticket = booking.ticket
    with pytest.raises(NotYourTicket):
        callbacks.cancel(ticket=ticket, customer=CustomerFactory(), now=NOW)
    with pytest.raises(CallbackStarted):
        callbacks.cancel(ticket=ticket, customer=ticket.customer, now=SLOT_AT)
    assert CallbackBooking.objects.get(pk=booking.pk).status == B.BOOKED


def test_the_reminder_is_sent_once_10_minutes_before():
    booking = booked()
    later = booked(on=slot(at=SLOT_AT + dt.timedelta(minutes=30)))

    assert callbacks.send_reminders(now=SLOT_AT - 11 * MINUTE) == 0
    assert callbacks.send_reminders(now=SLOT_AT - 10 * MINUTE) == 1
    assert callbacks.send_reminders(now=SLOT_AT - 9 * MINUTE) == 0  # beat runs again
    assert callbacks.send_reminders(now=SLOT_AT - 10 * MINUTE) == 0  # a task redelivered

    [reminder] = sms("support.callback_reminder")
    assert reminder.idempotency_key == f"callback:{booking.pk}:reminder"
    booking.refresh_from_db()
    assert booking.reminded_at == SLOT_AT - 10 * MINUTE
    later.refresh_from_db()
    assert later.reminded_at is None
    _subject, text = render(reminder)
    assert "10" in text and "2026-09-21 10:00" in text


def test_a_cancelled_or_started_call_is_not_reminded():
    cancelled = booked()
    callbacks.cancel(ticket=cancelled.ticket, customer=cancelled.ticket.customer, now=NOW)
    booked(on=slot(at=SLOT_AT + dt.timedelta(minutes=30)))

    assert callbacks.send_reminders(now=SLOT_AT - 5 * MINUTE) == 0
    assert callbacks.send_reminders(now=SLOT_AT + 30 * MINUTE) == 0  # the second has begun
    assert sms("support.callback_reminder") == []


def test_a_kept_call_is_an_internal_note_on_the_ticket():
    booking = booked()
    agent = staff_user("agent-callbacks")

    callbacks.record_outcome(
        booking=booking, staff_user=agent, outcome=B.KEPT, note="배송 일정 안내함", now=SLOT_AT
    )

    booking.refresh_from_db()
    assert (booking.status, booking.recorded_by, booking.outcome_at) == (B.KEPT, agent, SLOT_AT)
    note = booking.ticket.messages.get(internal=True)
    assert note.staff_user == agent and "배송 일정 안내함" in note.body
    assert "2026-09-21 10:00" in note.body
    assert sms("support.callback_missed") == []
    # Recorded again (a double click): nothing more.
    callbacks.record_outcome(booking=booking, staff_user=agent, outcome=B.KEPT, now=SLOT_AT)
    assert booking.ticket.messages.filter(internal=True).count() == 1


def test_a_missed_call_offers_a_new_time():
    booking = booked()
    ticket = booking.ticket
    agent = staff_user("agent-callbacks")

    callbacks.record_outcome(
        booking=booking, staff_user=agent, outcome=B.MISSED, note="부재중", now=SLOT_AT
    )

    [offer] = sms("support.callback_missed")
    assert offer.recipient == ticket.customer.phone
    _subject, text = render(offer)
    assert f"/support/tickets/{ticket.number}/#callback" in text
    # The customer can book again at once: the missed one is no longer live.
    later = slot(at=SLOT_AT + dt.timedelta(hours=2))
    again = callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=later.pk, now=SLOT_AT)
    assert again.created
    with pytest.raises(CallbackSettled):
        callbacks.record_outcome(booking=booking, staff_user=agent, outcome=B.KEPT, now=SLOT_AT)


def test_an_outcome_before_the_slot_or_of_an_unknown_kind_is_refused():
    booking = booked()
    agent = staff_user("agent-callbacks")
    with pytest.raises(CallbackNotYet):
        callbacks.record_outcome(booking=booking, staff_user=agent, outcome=B.KEPT, now=NOW)
    with pytest.raises(UnknownOutcome):
        callbacks.record_outcome(
            booking=booking, staff_user=agent, outcome=B.CANCELLED, now=SLOT_AT
        )
    assert CallbackBooking.objects.get(pk=booking.pk).status == B.BOOKED
    assert not booking.ticket.messages.filter(internal=True).exists()


def test_capacity_is_never_set_below_the_bookings():
    offered = slot(capacity=3)
    booked(on=offered)
    booked(on=offered)

    with pytest.raises(CapacityBelowBooked, match="2"):
        callbacks.set_capacity(slot=offered, capacity=1)
    assert callbacks.set_capacity(slot=offered, capacity=2).capacity == 2
    with pytest.raises(IntegrityError, match="callback_slot_not_overbooked"), transaction.atomic():
        CallbackSlot.objects.filter(pk=offered.pk).update(capacity=1)


def test_a_days_slots_cover_its_staffed_hours_once():
    monday = dt.date(2026, 9, 21)

    made = callbacks.create_day_slots(day=monday, capacity=4, now=NOW)

    starts = [s.starts_at.astimezone(dt.timezone(dt.timedelta(hours=9))) for s in made]
    assert len(made) == 18  # 09:00 to 17:30, every half hour
    assert (starts[0].hour, starts[0].minute) == (9, 0)
    assert (starts[-1].hour, starts[-1].minute) == (17, 30)
    assert callbacks.create_day_slots(day=monday, capacity=4, now=NOW) == []
    assert CallbackSlot.objects.count() == 18
    assert [s.pk for s in free_slots(now=NOW)] == list(
        CallbackSlot.objects.order_by("starts_at").values_list("pk", flat=True)
    )
    with pytest.raises(DayNotStaffed):
        callbacks.create_day_slots(day=dt.date(2026, 9, 20), capacity=4, now=NOW)  # Sunday


def test_only_offered_slots_with_room_are_free():
    full, closed, open_ = slot(capacity=1), slot(at=SLOT_AT + 30 * MINUTE, capacity=0), None
    booked(on=full)
    open_ = slot(at=SLOT_AT + 60 * MINUTE, capacity=1)
    past = slot(at=NOW - 30 * MINUTE)

    assert list(free_slots(now=NOW)) == [open_]
    assert closed not in free_slots(now=NOW) and past not in free_slots(now=NOW)


# What the database refuses by itself, whoever writes.


def _sql(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        (
            "UPDATE support_callbackslot SET booked = 0 WHERE id = %s",
            "counted by the bookings trigger",
        ),
        (
            "UPDATE support_callbackslot SET starts_at = starts_at + interval '10 minutes' "
            "WHERE id = %s",
            "callback_slot_aligned",
        ),
    ],
    ids=["counter-by-hand", "not-aligned"],
)
def test_the_database_refuses_a_slot_counter_or_time_written_by_hand(sql, match):
    booking = booked()
    with pytest.raises(DatabaseError, match=match):
        _sql(sql, [booking.slot_id])


def test_the_database_refuses_an_overbooking_insert_and_booking_moves_it_does_not_allow():
    offered = slot(capacity=1)
    first = booked(on=offered)
    other = open_ticket(now=NOW)
    insert = (
        "INSERT INTO support_callbackbooking (slot_id, ticket_id, status, booked_at, "
        "outcome_note) VALUES (%s, %s, 'booked', now(), '')"
    )
    with pytest.raises(IntegrityError, match="callback_slot_not_overbooked"):
        _sql(insert, [offered.pk, other.pk])
    with pytest.raises(DatabaseError, match="cancel one instead"):
        _sql("DELETE FROM support_callbackbooking WHERE id = %s", [first.pk])
    with pytest.raises(DatabaseError, match="keeps its slot"):
        _sql(
            "UPDATE support_callbackbooking SET ticket_id = %s WHERE id = %s", [other.pk, first.pk]
        )
    callbacks.cancel(ticket=first.ticket, customer=first.ticket.customer, now=NOW)
    with pytest.raises(DatabaseError, match="cannot become"):
        _sql(
            "UPDATE support_callbackbooking SET status = 'booked', cancelled_at = NULL "
            "WHERE id = %s",
            [first.pk],
        )
    assert CallbackSlot.objects.get(pk=offered.pk).booked == 0


def test_the_database_refuses_a_second_live_booking_of_a_ticket():
    first = booked()
    other = slot(at=SLOT_AT + 30 * MINUTE)
    with pytest.raises(IntegrityError, match="callback_one_live_per_ticket"), transaction.atomic():
        CallbackBooking.objects.create(slot=other, ticket=first.ticket)
