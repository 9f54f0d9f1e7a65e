"""Tickets for the API (issue 14): my tickets, one ticket's conversation (never staff's
internal notes), opening a ticket and replying, and the signed-out contact form. The pages'
selectors and services (support.views is the model): the same tickets, the same refusals,
each a problem with its service's `code`.

Writes are idempotent by the `Idempotency-Key` header, as POST campaigns/{slug}/reservations:
201 for what a key makes, 200 when the same key comes again (and for a ticket that was an
open duplicate, which got the message instead)."""

import datetime as dt
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from preorder_shop.api import (
    LOOKUP,
    WITH_BODY,
    Problem,
    TokenAuth,
    error_code,
    idempotency_key,
    idempotency_parameter,
    problem,
)
from preorder_shop.client import client_key
from preorder_shop.exceptions import DomainError
from preorder_shop.guessing import guessing_slowed_endpoint
from reservations.api import LOCATION, cursor_after, cursor_of, response_headers

from . import contact_limits, selectors, services
from .exceptions import NotYourOrder, NotYourReservation
from .forms import REFUSAL_FIELDS, ContactForm
from .models import Ticket, TicketMessage
from .services import MAX_BODY

router = Router(tags=["support"])
AUTH = TokenAuth()
# The services' refusal codes, which a form's error keeps when it is the service's rule.
SERVICE_CODES = {refusal.code for refusal in REFUSAL_FIELDS}


def ticket_path(number: str) -> str:
    return f"/api/v1/tickets/{number}"


def _idempotency_parameter(what: str) -> dict:
    return idempotency_parameter(
        f"A new UUID per {what}; a retry of the same request sends the same key and gets "
        "the same answer (200)."
    )


def _key(request: HttpRequest) -> uuid.UUID | HttpResponse:
    """The request's Idempotency-Key, or the problem saying what is wrong with it."""
    return idempotency_key(
        request, missing=_("Each new message needs a new UUID; a retry sends the same one.")
    )


def _refused(exc: DomainError) -> HttpResponse:
    """A refusal of what was sent (support.forms.REFUSAL_FIELDS: 422, naming the field);
    any other is the state's (409: a closed ticket)."""
    field = REFUSAL_FIELDS.get(type(exc), "")
    status = 422 if type(exc) in REFUSAL_FIELDS else 409
    extra = {"field": field} if field else {}
    return problem(
        status, error_code(exc), _("The request was refused."), str(exc.message), **extra
    )


# Reading.


class MessageOut(Schema):
    author: str = Field(description="customer, staff or system")
    author_label: str
    body: str
    created_at: dt.datetime


class TicketSummary(Schema):
    number: str = Field(description="T and 9 digits.")
    category: str
    category_label: str
    status: str = Field(description="open, answered, waiting_on_customer, solved or closed")
    status_label: str
    reservation_number: str | None
    order_number: str | None
    created_at: dt.datetime
    status_changed_at: dt.datetime


class TicketDetail(TicketSummary):
    reply_email: str
    can_reply: bool = Field(description="False once closed: a new ticket is needed then.")
    reopens_until: dt.datetime | None = Field(
        description="Solved: a reply before this time reopens the ticket."
    )
    messages: list[MessageOut] = Field(description="Oldest first; no internal notes.")


class TicketOpened(TicketDetail):
    duplicate: bool = Field(
        description="True: an open ticket of yours about the same thing, from the last 24 "
        "hours, got the message instead of a new ticket."
    )


class TicketPage(Schema):
    items: list[TicketSummary]
    next_cursor: str | None


def ticket_summary(ticket: Ticket) -> dict:
    return {
        "number": ticket.number,
        "category": ticket.category,
        "category_label": ticket.get_category_display(),
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "reservation_number": ticket.reservation.number if ticket.reservation_id else None,
        "order_number": ticket.order.number if ticket.order_id else None,
        "created_at": ticket.created_at,
        "status_changed_at": ticket.status_changed_at,
    }


def _message_out(message: TicketMessage) -> dict:
    return {
        "author": message.author_kind,
        "author_label": message.get_author_kind_display(),
        "body": message.body,
        "created_at": message.created_at,
    }


def ticket_detail(ticket: Ticket) -> dict:
    return {
        **ticket_summary(ticket),
        "reply_email": ticket.reply_email,
        "can_reply": not selectors.reply_closed(ticket, timezone.now()),
        "reopens_until": selectors.reopens_until(ticket),
        "messages": [_message_out(m) for m in selectors.conversation(ticket)],
    }


def own_ticket(request: HttpRequest, number: str) -> Ticket:
    ticket = selectors.own_ticket(customer_id=request.auth.customer_id, number=number)
    if ticket is None:
        raise Http404
    return ticket


@router.get(
    "/tickets",
    auth=AUTH,
    response={200: TicketPage, 401: Problem, 422: Problem},
    url_name="tickets",
    summary="My tickets, newest first (as the My tickets page)",
)
def tickets(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=40),
    limit: int = Query(20, ge=1, le=100),
):
    rows = selectors.customer_tickets(request.auth.customer_id)
    if cursor is not None:
        after = cursor_after(cursor)
        if after is None:
            return problem(422, "invalid_cursor", _("This cursor is not valid."))
        moment, pk = after
        rows = rows.filter(created_at__lte=moment).exclude(created_at=moment, pk__gte=pk)
    page = list(rows[: limit + 1])
    last = page[limit - 1] if len(page) > limit else None
    return {
        "items": [ticket_summary(t) for t in page[:limit]],
        "next_cursor": cursor_of(last.created_at, last.pk) if last else None,
    }


@router.get(
    "/tickets/{number}",
    auth=AUTH,
    response={200: TicketDetail, **LOOKUP},
    url_name="ticket",
    summary="One ticket: its status and conversation",
)
@guessing_slowed_endpoint
def ticket(request: HttpRequest, number: str):
    return ticket_detail(own_ticket(request, number))


# Writing.


class TicketIn(Schema):
    category: str = Field(max_length=40, description="One of the categories.")
    reservation_number: str | None = Field(
        None, max_length=32, description="One of your reservations (GET /reservations)."
    )
    order_number: str | None = Field(None, max_length=32, description="One of your orders.")
    email: str = Field("", max_length=254, description="Optional: replies are told there too.")
    body: str = Field(max_length=MAX_BODY)


class ReplyIn(Schema):
    body: str = Field(max_length=MAX_BODY)


def _subject(request: HttpRequest, body: TicketIn) -> tuple | HttpResponse:
    """(reservation, order) named by the body, each the customer's own; a number of anyone
    else's, or no such number, is refused alike, saying nothing about it. Whether the order
    is of the reservation is the service's to say."""
    customer_id = request.auth.customer_id
    reservation = order = None
    if body.order_number:
        found = selectors.find_subject(customer_id, body.order_number)
        if found is None or found.order is None:
            return _refused(NotYourOrder())
        order = found.order
    if body.reservation_number:
        found = selectors.find_subject(customer_id, body.reservation_number)
        if found is None or found.order is not None:
            return _refused(NotYourReservation())
        reservation = found.reservation
    return reservation, order


@router.post(
    "/tickets",
    auth=AUTH,
    response={200: TicketOpened, 201: TicketOpened, 401: Problem, 409: Problem, **WITH_BODY},
    url_name="ticket_open",
    summary="Open a ticket (idempotent by the Idempotency-Key header)",
    description="201 with Location for a new ticket; 200 for a retry with the same key, and "
    "when an open ticket of yours of the same category about the same reservation or order "
    "from the last 24 hours got the message instead (`duplicate`). Refusals (422, with "
    "`field`): `unknown_category`, `not_your_reservation`, `not_your_order`, "
    "`order_not_of_reservation`, `empty_message`, `message_too_long`, `control_character`, "
    "`invalid_email`; `idempotency_key_missing`, `idempotency_key_invalid` (400).",
    openapi_extra={
        "parameters": [_idempotency_parameter("ticket")],
        **response_headers(201, Location=LOCATION),
    },
)
def ticket_open(request: HttpRequest, body: TicketIn, response: HttpResponse):
    key = _key(request)
    if isinstance(key, HttpResponse):
        return key
    subject = _subject(request, body)
    if isinstance(subject, HttpResponse):
        return subject
    reservation, order = subject
    now = timezone.now()
    try:
        opened = services.open_ticket(
            customer=request.auth.customer,
            category=body.category,
            body=body.body,
            idempotency_key=key,
            reservation=reservation,
            order=order,
            email=body.email,
            now=now,
        )
    except DomainError as exc:
        return _refused(exc)
    answer = {**ticket_detail(opened.ticket), "duplicate": not opened.created}
    if opened.created and opened.ticket.created_at == now:
        response["Location"] = ticket_path(opened.ticket.number)
        return Status(201, answer)
    return Status(200, answer)


@router.post(
    "/tickets/{number}/messages",
    auth=AUTH,
    response={200: TicketDetail, 201: TicketDetail, 409: Problem, **LOOKUP, **WITH_BODY},
    url_name="ticket_reply",
    summary="Reply to a ticket (idempotent by the Idempotency-Key header)",
    description="201 with the conversation after the reply; 200 for a retry with the same "
    "key. An answered, waiting or solved ticket opens again; a closed one (or one solved "
    "more than 7 days ago) refuses with `ticket_closed` (409): open a new ticket. Refusals "
    "of the text (422): `empty_message`, `message_too_long`, `control_character`.",
    openapi_extra={"parameters": [_idempotency_parameter("reply")]},
)
@guessing_slowed_endpoint
def ticket_reply(request: HttpRequest, number: str, body: ReplyIn):
    found = own_ticket(request, number)
    key = _key(request)
    if isinstance(key, HttpResponse):
        return key
    now = timezone.now()
    try:
        message = services.customer_reply(
            ticket=found,
            customer=request.auth.customer,
            body=body.body,
            idempotency_key=key,
            now=now,
        )
    except DomainError as exc:
        return _refused(exc)
    found.refresh_from_db()
    return Status(201 if message.created_at == now else 200, ticket_detail(found))


# The signed-out contact form ("my code never arrives").


class ContactIn(Schema):
    phone: str = Field(max_length=40, examples=["010-1234-5678"])
    name: str = Field(max_length=100)
    body: str = Field(max_length=MAX_BODY)


class ContactOut(Schema):
    number: str = Field(description="The ticket's number, T and 9 digits.")
    detail: str


@router.post(
    "/support/contact",
    response={200: ContactOut, 201: ContactOut, 429: Problem, **WITH_BODY},
    url_name="support_contact",
    summary="Write to support without signing in (my code never arrives)",
    description="Opens an unverified ticket from the number and name typed; the answer shows "
    "nothing about any reservation or order. Limited per number and per client address "
    "(429 with Retry-After). 201 for a new ticket, 200 with the same one for a retry with "
    "the same Idempotency-Key. Refusals "
    "(422, with `field`): `invalid_phone`, `invalid_request` (the name; the number's "
    "characters), `empty_message`, "
    "`message_too_long`, `control_character`.",
    openapi_extra={"parameters": [_idempotency_parameter("message")]},
)
def support_contact(request: HttpRequest, body: ContactIn):
    key = _key(request)
    if isinstance(key, HttpResponse):
        return key
    form = ContactForm(
        {"phone": body.phone, "name": body.name, "body": body.body, "idempotency_key": key}
    )
    if not form.is_valid():
        field, errors = next(iter(form.errors.as_data().items()))
        code = errors[0].code if errors[0].code in SERVICE_CODES else "invalid_request"
        message = str(errors[0].messages[0])
        return problem(422, code, message, message, field=field)
    contact_limits.count_contact(phone=form.cleaned_data["phone"], client=client_key(request))
    now = timezone.now()
    try:
        ticket = services.open_contact_ticket(
            phone=form.cleaned_data["phone"],
            name=form.cleaned_data["name"],
            body=form.cleaned_data["body"],
            idempotency_key=key,
            language=get_language() or "ko",
            now=now,
        )
    except DomainError as exc:
        return _refused(exc)
    return Status(
        201 if ticket.created_at == now else 200,
        {
            "number": ticket.number,
            "detail": _("Your ticket number is %(number)s.") % {"number": ticket.number},
        },
    )


router.add_router("", "support.callback_api.router")  # callbacks (issue 15, section 4)
