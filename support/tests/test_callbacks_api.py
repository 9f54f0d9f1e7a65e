"""Callbacks through the API and the ticket page (issue 15, section 4): free slots listed,
booking and cancelling round trips, problems with stable codes, a foreign ticket the same
404 as every ticket; the page's "Request a call" part in Korean."""

import datetime as dt

import pytest
from django.utils import timezone

from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.tests.factories import CustomerFactory
from support.models.callbacks import CallbackBooking, CallbackSlot, CallbackStatus
from support.tests.factories import open_ticket
from support.tests.test_api import api, assert_problem

pytestmark = pytest.mark.django_db


def future_slot(*, hours: int = 24, capacity: int = 3) -> CallbackSlot:
    now = timezone.now()
    at = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=hours)
    return CallbackSlot.objects.create(starts_at=at, capacity=capacity)


def book(client, ticket, slot_id):
    return client.post(
        f"/api/v1/tickets/{ticket.number}/callback",
        {"slot": slot_id},
        content_type="application/json",
    )


def test_free_slots_then_book_read_and_cancel():
    ticket = open_ticket()
    client = api(ticket.customer)
    offered, full = future_slot(), future_slot(hours=25, capacity=0)

    listed = client.get("/api/v1/callback-slots").json()
    assert [s["id"] for s in listed] == [offered.pk]
    assert listed[0]["free"] == 3 and full.pk not in [s["id"] for s in listed]

    made = book(client, ticket, offered.pk)
    assert made.status_code == 201, made.content
    assert made.json()["status"] == CallbackStatus.BOOKED
    assert made.json()["slot"]["free"] == 2
    assert book(client, ticket, offered.pk).status_code == 200  # a retry
    read = client.get(f"/api/v1/tickets/{ticket.number}/callback")
    assert read.json()["slot"]["id"] == offered.pk

    cancelled = client.delete(f"/api/v1/tickets/{ticket.number}/callback")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_problem(
        client.get(f"/api/v1/tickets/{ticket.number}/callback"), 404, "callback_not_booked"
    )
    assert_problem(
        client.delete(f"/api/v1/tickets/{ticket.number}/callback"), 409, "callback_not_booked"
    )


def test_refusals_are_problems_with_stable_codes():
    ticket = open_ticket()
    client = api(ticket.customer)
    closed = future_slot(capacity=0)
    past = CallbackSlot.objects.create(
        starts_at=timezone.now().replace(minute=0, second=0, microsecond=0), capacity=3
    )
    body = assert_problem(book(client, ticket, 999999), 422, "callback_slot_unknown")
    assert body["field"] == "slot"
    assert_problem(book(client, ticket, closed.pk), 409, "callback_slot_not_offered")
    assert_problem(book(client, ticket, past.pk), 409, "callback_slot_too_soon")
    assert_problem(
        client.post(
            f"/api/v1/tickets/{ticket.number}/callback",
            {"slot": "x"},
            content_type="application/json",
        ),
        422,
        "invalid_request",
    )
    assert not CallbackBooking.objects.exists()


def test_a_foreign_ticket_is_the_same_404_as_none():
    ticket = open_ticket()
    stranger = api(CustomerFactory())
    offered = future_slot()

    foreign = assert_problem(book(stranger, ticket, offered.pk), 404, "not_found")
    missing = assert_problem(
        stranger.post(
            "/api/v1/tickets/T000000000/callback",
            {"slot": offered.pk},
            content_type="application/json",
        ),
        404,
        "not_found",
    )
    assert foreign == missing
    assert_problem(stranger.delete(f"/api/v1/tickets/{ticket.number}/callback"), 404, "not_found")
    assert not CallbackBooking.objects.exists()
    assert api().get("/api/v1/callback-slots").status_code == 401


def test_the_ticket_page_books_and_cancels_a_call_in_korean(client):
    ticket = open_ticket()
    offered = future_slot()
    session = client.session
    session[SESSION_KEY] = ticket.customer.pk
    session.save()
    page = f"/support/tickets/{ticket.number}/"

    shown = client.get(page).content.decode()
    assert 'data-testid="callback"' in shown
    assert f'value="{offered.pk}"' in shown

    done = client.post(f"{page}callback/", {"slot": offered.pk})
    assert done.status_code == 302 and done["Location"] == f"{page}#callback"
    assert CallbackBooking.objects.get(ticket=ticket).status == CallbackStatus.BOOKED
    shown = client.get(page).content.decode()
    assert 'data-testid="callback-booked"' in shown

    client.post(f"{page}callback/cancel/")
    assert CallbackBooking.objects.get(ticket=ticket).status == CallbackStatus.CANCELLED
    refused = client.post(f"{page}callback/", {"slot": "garbage"}, follow=True)
    assert refused.status_code == 200
    assert CallbackBooking.objects.filter(status=CallbackStatus.BOOKED).count() == 0


def test_the_page_forms_refuse_a_foreign_ticket_with_404(client):
    ticket = open_ticket()
    offered = future_slot()
    stranger = CustomerFactory()
    session = client.session
    session[SESSION_KEY] = stranger.pk
    session.save()
    page = f"/support/tickets/{ticket.number}/"
    assert client.post(f"{page}callback/", {"slot": offered.pk}).status_code == 404
    assert client.post(f"{page}callback/cancel/").status_code == 404
    assert not CallbackBooking.objects.exists()
