"""Callbacks in the API (issue 15, section 4): the times offered for a call, and booking or
cancelling a call about one's own ticket. The ticket page's selectors and services; a
foreign ticket is the same 404 as every ticket endpoint; refusals are problems with the
service's `code` (409 for the state of the slot or ticket, 422 for a slot that is no
offered one). Mounted by support.api's router."""

import datetime as dt

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from preorder_shop.api import LOOKUP, WITH_BODY, Problem, TokenAuth, error_code, problem
from preorder_shop.exceptions import DomainError
from preorder_shop.guessing import guessing_slowed_endpoint

from . import callback_selectors
from .callback_exceptions import SlotUnknown
from .models.callbacks import CallbackBooking, CallbackSlot
from .selectors import own_ticket as find_own_ticket
from .services import callbacks

router = Router(tags=["support"])
AUTH = TokenAuth()


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int = Field(description="Places still free in this half hour.")


class CallbackOut(Schema):
    status: str = Field(description="booked, kept, missed or cancelled")
    status_label: str
    slot: SlotOut
    booked_at: dt.datetime


class CallbackIn(Schema):
    slot: int = Field(description="The id of one of GET /callback-slots.")


def slot_out(slot: CallbackSlot) -> dict:
    return {"id": slot.pk, "starts_at": slot.starts_at, "ends_at": slot.ends_at, "free": slot.free}


def callback_out(booking: CallbackBooking) -> dict:
    return {
        "status": booking.status,
        "status_label": booking.get_status_display(),
        "slot": slot_out(booking.slot),
        "booked_at": booking.booked_at,
    }


def _own(request: HttpRequest, number: str):
    ticket = find_own_ticket(customer_id=request.auth.customer_id, number=number)
    if ticket is None:
        raise Http404
    return ticket


def _refused(exc: DomainError):
    status = 422 if isinstance(exc, SlotUnknown) else 409
    extra = {"field": "slot"} if status == 422 else {}
    return problem(
        status, error_code(exc), _("The request was refused."), str(exc.message), **extra
    )


@router.get(
    "/callback-slots",
    auth=AUTH,
    response={200: list[SlotOut], 401: Problem},
    url_name="callback_slots",
    summary="Times offered for a call, with free places, soonest first (the next 7 days)",
)
def callback_slots(request: HttpRequest):
    return [slot_out(s) for s in callback_selectors.free_slots(now=timezone.now())]


@router.get(
    "/tickets/{number}/callback",
    auth=AUTH,
    response={200: CallbackOut, **LOOKUP},
    url_name="ticket_callback",
    summary="The call booked about a ticket (404 when none is booked)",
)
@guessing_slowed_endpoint
def ticket_callback(request: HttpRequest, number: str):
    booking = callback_selectors.live_booking(_own(request, number))
    if booking is None:
        return problem(404, "callback_not_booked", _("No call is booked for this ticket."))
    return callback_out(booking)


@router.post(
    "/tickets/{number}/callback",
    auth=AUTH,
    response={200: CallbackOut, 201: CallbackOut, 409: Problem, **LOOKUP, **WITH_BODY},
    url_name="ticket_callback_book",
    summary="Book a call about a ticket in an offered slot",
    description="201 for a new booking (an SMS confirms it; another reminds 10 minutes "
    "before); 200 when the ticket has booked this slot already (a retry). Refusals: "
    "`callback_slot_unknown` (422, `field`: slot); `callback_slot_full`, "
    "`callback_slot_not_offered`, `callback_slot_too_soon` (it starts in under 10 minutes "
    "or has passed), `callback_already_booked` (cancel first), `callback_ticket_closed` "
    "(409).",
)
@guessing_slowed_endpoint
def ticket_callback_book(request: HttpRequest, number: str, body: CallbackIn):
    ticket = _own(request, number)
    try:
        done = callbacks.book(ticket=ticket, customer=request.auth.customer, slot_id=body.slot)
    except DomainError as exc:
        return _refused(exc)
    return Status(201 if done.created else 200, callback_out(done.booking))


@router.delete(
    "/tickets/{number}/callback",
    auth=AUTH,
    response={200: CallbackOut, 409: Problem, **LOOKUP},
    url_name="ticket_callback_cancel",
    summary="Cancel the call booked about a ticket",
    description="200 with the cancelled booking; its place is free again. Refusals (409): "
    "`callback_not_booked`, `callback_started` (its half hour has begun).",
)
@guessing_slowed_endpoint
def ticket_callback_cancel(request: HttpRequest, number: str):
    ticket = _own(request, number)
    try:
        booking = callbacks.cancel(ticket=ticket, customer=request.auth.customer)
    except DomainError as exc:
        return _refused(exc)
    return callback_out(booking)
