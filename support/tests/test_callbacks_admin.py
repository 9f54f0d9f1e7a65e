"""Callbacks in admin (issue 15, section 4): capacity never below the bookings, a day's
slots made at once, the slot's call list masked with the recorded call door (tel:, a row
of the access log, the number on no page), and recording an outcome on the ticket."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from preorder_shop.models import AccessKind, OutboxMessage, PersonalDataAccess
from preorder_shop.tests.factories import CustomerFactory
from support.models.callbacks import CallbackBooking, CallbackSlot, CallbackStatus
from support.services import callbacks
from support.tests.factories import open_ticket
from tests.admin_client import make_staff

pytestmark = pytest.mark.django_db

PHONE = "+821098765432"
AGENT = [
    "view_callbackslot",
    "add_callbackslot",
    "change_callbackslot",
    "view_callbackbooking",
    "change_callbackbooking",
    "call_customer",
]


def booked_call(capacity: int = 2) -> CallbackBooking:
    at = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    slot = CallbackSlot.objects.create(starts_at=at, capacity=capacity)
    ticket = open_ticket(CustomerFactory(phone=PHONE, name="박지훈"))
    return callbacks.book(ticket=ticket, customer=ticket.customer, slot_id=slot.pk).booking


def test_capacity_below_the_bookings_is_refused_beside_the_field(client):
    booking = booked_call()
    booked_call_slot = booking.slot
    callbacks.book(
        ticket=(other := open_ticket()), customer=other.customer, slot_id=booked_call_slot.pk
    )
    agent = make_staff(client, "agent", AGENT)
    url = reverse("admin:support_callbackslot_change", args=[booked_call_slot.pk])

    refused = agent.post(url, {"capacity": 1})
    assert refused.status_code == 200
    assert "2 places are booked already" in refused.content.decode()
    assert CallbackSlot.objects.get(pk=booked_call_slot.pk).capacity == 2

    assert agent.post(url, {"capacity": 5}).status_code == 302
    assert CallbackSlot.objects.get(pk=booked_call_slot.pk).capacity == 5


def test_a_days_slots_are_created_from_admin(client):
    agent = make_staff(client, "agent", AGENT)
    day = timezone.localdate() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)

    done = agent.post(
        reverse("admin:support_callbackslot_create_day"), {"day": day.isoformat(), "capacity": 3}
    )

    assert done.status_code == 302
    assert CallbackSlot.objects.filter(capacity=3).count() == 18
    sunday = day + dt.timedelta(days=6 - day.weekday())
    refused = agent.post(
        reverse("admin:support_callbackslot_create_day"),
        {"day": sunday.isoformat(), "capacity": 3},
    )
    assert refused.status_code == 200 and "not staffed" in refused.content.decode()


def test_the_call_list_is_masked_and_the_call_is_recorded(client):
    booking = booked_call()
    agent = make_staff(client, "agent", AGENT)

    listing = agent.get(reverse("admin:support_callbackslot_bookings", args=[booking.slot_id]))
    text = listing.content.decode()
    assert booking.ticket.number in text
    assert "010-****-5432" in text and "98765432" not in text and "박지훈" not in text

    call = agent.post(reverse("admin:support_callbackbooking_call", args=[booking.pk]))
    assert call.status_code == 302 and call["Location"] == f"tel:{PHONE}"
    row = PersonalDataAccess.objects.get()
    assert (row.kind, row.customer_id, row.staff_user) == (
        AccessKind.CALL,
        booking.ticket.customer_id,
        agent.user,
    )
    assert "98765432" not in call.content.decode()


def test_an_outcome_is_recorded_from_admin_after_the_slot_begins(client, settings):
    booking = booked_call()
    agent = make_staff(client, "agent", AGENT)
    url = reverse("admin:support_callbackbooking_outcome", args=[booking.pk])

    early = agent.post(url, {"outcome": "kept", "note": "x"})
    assert early.status_code == 200 and "has not started yet" in early.content.decode()

    CallbackSlot.objects.filter(pk=booking.slot_id).update(
        starts_at=booking.slot.starts_at - dt.timedelta(days=1)
    )
    done = agent.post(url, {"outcome": "missed", "note": "받지 않음"})
    assert done.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.recorded_by) == (CallbackStatus.MISSED, agent.user)
    assert booking.ticket.messages.get(internal=True).body.endswith("받지 않음")
    assert OutboxMessage.objects.filter(template_key="support.callback_missed").count() == 1


def test_without_the_permission_nothing_is_recorded(client):
    booking = booked_call()
    viewer = make_staff(client, "viewer", ["view_callbackslot", "view_callbackbooking"])
    url = reverse("admin:support_callbackbooking_outcome", args=[booking.pk])
    assert viewer.post(url, {"outcome": "kept"}).status_code == 403
    assert (
        viewer.post(reverse("admin:support_callbackbooking_call", args=[booking.pk])).status_code
        == 403
    )
    assert CallbackBooking.objects.get(pk=booking.pk).status == CallbackStatus.BOOKED
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    ("url", "fields", "said"),
    [
        (
            "admin:support_callbackslot_add",
            {"starts_at_0": "2030-01-07", "starts_at_1": "10:10:00", "capacity": 3},
            "on the hour or at half past",
        ),
        ("admin:support_callbackslot_create_day", {"day": "9999-12-31", "capacity": 3}, "a year"),
    ],
    ids=["not-aligned", "too-far"],
)
def test_bad_slot_input_is_refused_with_a_message(client, url, fields, said):
    agent = make_staff(client, "agent", AGENT)
    refused = agent.post(reverse(url), fields)
    assert refused.status_code == 200 and said in refused.content.decode()
    assert not CallbackSlot.objects.exists()
