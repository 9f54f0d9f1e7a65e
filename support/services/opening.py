"""Opening a ticket: signed in (open_ticket), or through the signed-out contact form
(open_contact_ticket); each new ticket's acknowledgement is queued in the same transaction
(support.acknowledgement)."""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orders.models import Order
from preorder_shop.actors import Actor
from preorder_shop.identifiers import TICKET_NUMBER
from preorder_shop.models import Customer
from preorder_shop.phone import normalize_mobile
from reservations.models import Reservation

from .. import machine, sla
from ..acknowledgement import queue_acknowledgement, queue_contact_acknowledgement
from ..exceptions import (
    ContactNameRequired,
    InvalidContactPhone,
    NotYourOrder,
    NotYourReservation,
    OrderNotOfReservation,
    UnknownCategory,
)
from ..models import (
    AuthorKind,
    Ticket,
    TicketCategory,
    TicketChange,
    TicketHistory,
    TicketMessage,
    TicketStatus,
)
from .cleaning import MAX_NAME, clean_body, clean_email, clean_text
from .replies import add_customer_message

S = TicketStatus
DUPLICATE_WINDOW = dt.timedelta(hours=24)
# Advisory lock class of "a customer's tickets about one thing" (classes 1 and 2 are the
# variant queue and pipeline locks of reservations and fulfilment).
SUBJECT_LOCK = 3
_NUMBER, _KEY = "ticket_number_unique", "ticket_idempotency_key_unique"
_CONTACT_KEY = "ticket_contact_idempotency_key_unique"


@dataclass(frozen=True)
class Opened:
    """What opening a ticket did. `created` False: the customer's open ticket of the same
    category about the same reservation or order, opened within 24 hours, got the text as a
    new message instead (the page shows that ticket, saying so)."""

    ticket: Ticket
    created: bool


def open_ticket(
    *,
    customer: Customer,
    category: str,
    body: str,
    idempotency_key: uuid.UUID,
    reservation: Reservation | None = None,
    order: Order | None = None,
    email: str = "",
    now: dt.datetime | None = None,
) -> Opened:
    """A signed-in customer's ticket, about one of their own reservations or orders (or
    neither). The same submission sent again (same key) returns what the first did.

    Duplicates: a second ticket of the same category about the same reservation (an order
    is about its reservation) within DUPLICATE_WINDOW is the first one, with this text added.
    "Within 24 hours" moves with the clock, so no unique index can say it; instead every
    opening about one (customer, category, reservation) takes a transaction-scoped advisory
    lock on that triple before it looks for an open ticket, so of two concurrent openings the
    second waits, then sees the first's committed ticket and adds to it. Openings about
    nothing in particular are never duplicates, and a repeated key is caught by the unique
    (customer, idempotency_key) index.

    A new ticket's acknowledgement is queued in the same transaction (support.acknowledgement);
    an addition to an open ticket gets none: the page shows the ticket it went to, whose number
    and status the first acknowledgement gave, and a second SMS would only repeat it.
    """
    now = now or timezone.now()
    body = clean_body(body)
    email = clean_email(email)
    if category not in TicketCategory.values:
        raise UnknownCategory()
    with transaction.atomic():
        reservation, order = _own_subject(customer=customer, reservation=reservation, order=order)
        if reservation is not None:
            _lock_subject(customer_id=customer.pk, category=category, subject=reservation.pk)
        if (repeated := _opened_with_key(customer, idempotency_key)) is not None:
            return repeated
        if reservation is not None and (
            duplicate := _open_duplicate(customer, category, reservation, now)
        ):
            locked = machine.lock(duplicate)
            if order is not None and locked.order_id is None:
                _link_order(locked, order, now)
            add_customer_message(locked, body, idempotency_key, now)
            return Opened(locked, created=False)
        ticket = _create(
            customer=customer,
            verified=True,
            category=category,
            reservation=reservation,
            order=order,
            reply_email=email,
            language=customer.language,
            idempotency_key=idempotency_key,
            created_at=now,
            status_changed_at=now,
            **sla.for_new_ticket(category=category, at=now),
        )
        if ticket is None:  # the same key won a parallel race: that submission's answer
            return _opened_with_key(customer, idempotency_key)
        _first_message(ticket, body, now)
        queue_acknowledgement(ticket=ticket)
    return Opened(ticket, created=True)


def open_contact_ticket(
    *,
    phone: str,
    name: str,
    body: str,
    idempotency_key: uuid.UUID,
    language: str = "ko",
    now: dt.datetime | None = None,
) -> Ticket:
    """A ticket from the signed-out contact form ("my code never arrives"): the number and
    name as typed, unverified, linked to nothing; it shows nothing about any order. Rate
    limits per number and address are the door's (issue 14), before this is called."""
    now = now or timezone.now()
    try:
        phone = normalize_mobile(phone)
    except ValidationError as exc:
        raise InvalidContactPhone() from exc
    name = clean_text(name)
    if not name or len(name) > MAX_NAME:
        raise ContactNameRequired()
    body = clean_body(body)
    with transaction.atomic():
        ticket = _create(
            customer=None,
            verified=False,
            contact_phone=phone,
            contact_name=name,
            category=TicketCategory.SIGN_IN,
            language=language,
            idempotency_key=idempotency_key,
            created_at=now,
            status_changed_at=now,
            **sla.for_new_ticket(category=TicketCategory.SIGN_IN, at=now),
        )
        if ticket is None:
            return Ticket.objects.get(
                customer=None, contact_phone=phone, idempotency_key=idempotency_key
            )
        _first_message(ticket, body, now)
        queue_contact_acknowledgement(ticket=ticket, now=now)
    return ticket


# Inside.


def _own_subject(
    *, customer: Customer, reservation: Reservation | None, order: Order | None
) -> tuple[Reservation | None, Order | None]:
    """The reservation and order a ticket is about, read afresh and checked to be the
    customer's own; an order brings its reservation. (The database checks the same.)"""
    if order is not None:
        order = Order.objects.select_related("reservation").filter(pk=order.pk).first()
        if order is None or order.reservation.customer_id != customer.pk:
            raise NotYourOrder()
        if reservation is not None and reservation.pk != order.reservation_id:
            raise OrderNotOfReservation()
        return order.reservation, order
    if reservation is not None:
        reservation = Reservation.objects.filter(pk=reservation.pk, customer=customer).first()
        if reservation is None:
            raise NotYourReservation()
    return reservation, None


def _lock_subject(*, customer_id: int, category: str, subject: int) -> None:
    """Serialise openings about one (customer, category, reservation) until commit. Two
    triples sharing a hash only wait for each other, which is harmless."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [SUBJECT_LOCK, f"{customer_id}:{category}:{subject}"],
        )


def _opened_with_key(customer: Customer, key: uuid.UUID) -> Opened | None:
    """What the submission with `key` did the first time: opened a ticket, or added to one."""
    ticket = Ticket.objects.filter(customer=customer, idempotency_key=key).first()
    if ticket is not None:
        return Opened(ticket, created=True)
    added = (
        TicketMessage.objects.filter(ticket__customer=customer, idempotency_key=key)
        .select_related("ticket")
        .first()
    )
    return Opened(added.ticket, created=False) if added else None


def _open_duplicate(
    customer: Customer, category: str, reservation: Reservation, now: dt.datetime
) -> Ticket | None:
    return (
        Ticket.objects.filter(
            customer=customer,
            category=category,
            reservation=reservation,
            created_at__gt=now - DUPLICATE_WINDOW,
        )
        .exclude(status=S.CLOSED)
        .order_by("-created_at")
        .first()
    )


def _create(**fields) -> Ticket | None:
    """A new ticket with a random number not yet taken; None if a parallel request with the
    same idempotency key made it first. The unique index decides a collision (a draw of the
    same number out of 10^9 by two requests at once), and the next draw is tried."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Ticket.objects.create(number=TICKET_NUMBER.generate(), **fields)
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
            if constraint in (_KEY, _CONTACT_KEY):
                return None
            if constraint != _NUMBER:
                raise
    raise RuntimeError("could not draw a free ticket number")  # 5 collisions in 10^9


def _first_message(ticket: Ticket, body: str, now: dt.datetime) -> TicketMessage:
    return TicketMessage.objects.create(
        ticket=ticket, author_kind=AuthorKind.CUSTOMER, body=body, created_at=now
    )


def _link_order(locked: Ticket, order: Order, now: dt.datetime) -> None:
    """A ticket about a reservation learns which of its orders (the duplicate rule's
    second opening named it)."""
    locked.order = order
    locked.save(update_fields=["order"])
    TicketHistory.objects.create(
        ticket=locked,
        at=now,
        change=TicketChange.LINKED,
        note=f"order {order.number or '#' + str(order.pk)}",
        **TicketHistory.fields_for(Actor.customer()),
    )
