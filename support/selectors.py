"""What the customer reads of the support desk: their tickets, one ticket's conversation
(never staff's internal notes), what a ticket may be about (their own reservations and
orders, never a typed number) and that subject's live status, in the order page's words.

The pages (support.views) and the API (support.api) read through these, so both show the
same tickets and refuse the same numbers."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from orders import selectors as order_selectors
from orders.models import Order
from orders.selectors import OrderStatusView
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER, TICKET_NUMBER
from reservations.models import Reservation
from reservations.selectors import QueueStanding, queue_standing

from . import machine
from .models import Ticket, TicketMessage, TicketStatus


def customer_tickets(customer_id: int) -> QuerySet[Ticket]:
    """The customer's tickets, newest first (index ticket_customer_idx), with what a list
    row shows."""
    return (
        Ticket.objects.filter(customer_id=customer_id)
        .select_related("reservation", "order")
        .order_by("-created_at", "-pk")
    )


def own_ticket(*, customer_id: int, number: str) -> Ticket | None:
    """The customer's ticket by its number; None for anyone else's, for a contact-form
    ticket (unverified, nobody's until issue 15 links it) and for numbers that do not exist,
    alike. A string without a ticket number's shape is not looked up."""
    if not TICKET_NUMBER.shape.matches(number):
        return None
    return customer_tickets(customer_id).filter(number=number).first()


def conversation(ticket: Ticket) -> list[TicketMessage]:
    """The messages the customer sees, oldest first: staff's internal notes never."""
    return list(ticket.messages.filter(internal=False).order_by("created_at", "pk"))


def reply_closed(ticket: Ticket, now: dt.datetime) -> bool:
    """A reply would be refused (TicketClosed): the page offers a new ticket instead."""
    return machine.past_reopening(ticket, now)


def reopens_until(ticket: Ticket) -> dt.datetime | None:
    """Until when a reply reopens a solved ticket; None unless it is solved."""
    if ticket.status != TicketStatus.SOLVED:
        return None
    return ticket.solved_at + machine.REOPEN_WINDOW


@dataclass(frozen=True)
class Subject:
    """One thing of the customer's a ticket may be about: a reservation, or one of its
    submitted orders (which brings its reservation). `value` is its number; reservation and
    order numbers never share a shape, so the number alone says which."""

    reservation: Reservation
    order: Order | None = None

    @property
    def value(self) -> str:
        return self.order.number if self.order else self.reservation.number

    @property
    def label(self) -> str:
        if self.order is not None:
            return _("Order %(number)s · %(model)s · %(status)s") % {
                "number": self.order.number,
                "model": self.reservation.variant,
                "status": self.order.get_status_display(),
            }
        return _("Reservation %(number)s · %(model)s · %(status)s") % {
            "number": self.reservation.number,
            "model": self.reservation.variant,
            "status": self.reservation.get_status_display(),
        }


def subjects(customer_id: int) -> list[Subject]:
    """The customer's own reservations, newest first, each followed by its submitted
    orders (a draft has no number and is the reservation's business): the ticket form's
    list. Two queries."""
    reservations = list(
        Reservation.objects.filter(customer_id=customer_id)
        .select_related("variant")
        .order_by("-created_at", "-pk")
    )
    orders: dict[int, list[Order]] = {}
    for order in Order.objects.filter(
        reservation__customer_id=customer_id, number__isnull=False
    ).order_by("-created_at", "-pk"):
        orders.setdefault(order.reservation_id, []).append(order)
    found = []
    for reservation in reservations:
        found.append(Subject(reservation))
        for order in orders.get(reservation.pk, []):
            order.reservation = reservation
            found.append(Subject(reservation, order))
    return found


def find_subject(customer_id: int, number: str) -> Subject | None:
    """The customer's own reservation or submitted order with this number, or None (not a
    number, someone else's, unknown: alike)."""
    if ORDER_NUMBER.shape.matches(number):
        order = (
            Order.objects.filter(number=number, reservation__customer_id=customer_id)
            .select_related("reservation__variant")
            .first()
        )
        return Subject(order.reservation, order) if order else None
    if RESERVATION_NUMBER.shape.matches(number):
        reservation = (
            Reservation.objects.filter(number=number, customer_id=customer_id)
            .select_related("variant")
            .first()
        )
        return Subject(reservation) if reservation else None
    return None


@dataclass(frozen=True)
class LiveStatus:
    """The chosen subject's status as its own page says it right now: an order's status
    view (orders.selectors), or a reservation's status and place in line."""

    subject: Subject
    order_view: OrderStatusView | None
    standing: QueueStanding | None


def live_status(customer_id: int, subject: Subject) -> LiveStatus:
    """Read-only, from the order page's and reservation page's own selectors."""
    if subject.order is not None:
        loaded = order_selectors.own_order(customer_id=customer_id, number=subject.order.number)
        view = order_selectors.order_status(loaded) if loaded else None
        return LiveStatus(subject, view, None)
    return LiveStatus(subject, None, queue_standing(subject.reservation))
