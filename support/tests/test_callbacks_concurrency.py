"""Booking one slot under real concurrency: each thread has its own PostgreSQL connection,
so only the database (the slot's row lock and its booked <= capacity CHECK, migration 0005)
can keep a full slot from being overbooked."""

import pytest

from support.callback_exceptions import SlotFull
from support.models.callbacks import CallbackBooking, CallbackSlot
from support.services import callbacks
from support.tests.callback_factories import slot
from support.tests.common import NOW
from support.tests.factories import open_ticket
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_parallel_bookings_of_a_ten_place_slot_make_exactly_ten():
    offered = slot(capacity=10)
    tickets = [open_ticket(now=NOW) for _ in range(50)]

    results = run_at_once(
        [
            lambda t=t: callbacks.book(ticket=t, customer=t.customer, slot_id=offered.pk, now=NOW)
            for t in tickets
        ]
    )

    won = [r for r in results if isinstance(r, callbacks.Booked)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 10
    assert len(refused) == 40 and all(isinstance(r, SlotFull) for r in refused), refused[:3]
    assert CallbackBooking.objects.filter(slot=offered).count() == 10
    assert CallbackSlot.objects.get(pk=offered.pk).booked == 10


def test_parallel_bookings_of_one_ticket_make_one_booking():
    offered = slot(capacity=10)
    ticket = open_ticket(now=NOW)

    results = run_at_once(
        [
            lambda: callbacks.book(
                ticket=ticket, customer=ticket.customer, slot_id=offered.pk, now=NOW
            )
            for _ in range(10)
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.booking.pk for r in results}) == 1
    assert sorted(r.created for r in results) == [False] * 9 + [True]
    assert CallbackSlot.objects.get(pk=offered.pk).booked == 1
