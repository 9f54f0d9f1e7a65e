"""The customer's order-form steps: open (or resume) the one draft, save it as they type,
submit it, discard it, and cancel. Each checks that the reservation is the customer's own."""

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from preorder_shop.actors import ActorKind
from preorder_shop.models import Customer
from reservations import services as reservation_services
from reservations.models import (
    Campaign,
    CancelledBy,
    Fulfilment,
    Reservation,
    ReservationStatus,
    Window,
)

from ..exceptions import (
    FestivalDrawPending,
    IllegalTransition,
    IncompleteOrder,
    NotYourReservation,
    OrderNotCancellable,
    OrderWindowClosed,
    OrderWindowNotOpen,
    ReservationNotActive,
)
from ..models import DRAFT_FIELDS, Order, OrderStatus
from .machine import Actor, _illegal_message, allowed_targets, transition
from .notices import notify

S = OrderStatus


def _own(reservation: Reservation, customer: Customer) -> None:
    if reservation.customer_id != customer.pk:
        raise NotYourReservation()


def _check_order_window(reservation: Reservation, now: dt.datetime) -> None:
    window = reservation.campaign.order_window(now)
    if window == Window.NOT_OPEN:
        raise OrderWindowNotOpen()
    if window == Window.CLOSED:
        raise OrderWindowClosed()


def open_draft(
    *, reservation: Reservation, customer: Customer, now: dt.datetime | None = None
) -> Order:
    """The reservation's live order: the draft to resume, the submitted order, or a new
    draft. Two tabs or a double click get the same one (partial unique index)."""
    _own(reservation, customer)
    now = now or timezone.now()
    with transaction.atomic():
        # Re-read the reservation under a lock: a concurrent cancel either waits for this
        # draft (and is then refused, the draft being live) or wins, and no draft opens.
        locked = (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .get(pk=reservation.pk)
        )
        live = Order.objects.live().filter(reservation=locked).first()
        if live is not None and live.status != S.DRAFT:
            return live  # already submitted: the caller shows the order
        if live is None and locked.status != ReservationStatus.ACTIVE:
            raise ReservationNotActive()
        _check_order_window(locked, now)  # a leftover draft opens only inside the window
        if live is not None:
            return live
        return Order.objects.create(reservation=locked, created_at=now, updated_at=now)


def save_draft(
    *, order: Order, customer: Customer, values: dict[str, Any], now: dt.datetime | None = None
) -> Order:
    """Store what the customer has typed so far (only fields named in DRAFT_FIELDS)."""
    unknown = set(values) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"not draft fields: {sorted(unknown)}")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("reservation__campaign")
            .get(pk=order.pk)
        )
        _own(locked.reservation, customer)
        if locked.status != S.DRAFT:
            raise IllegalTransition(_illegal_message(locked.get_status_display(), S.DRAFT.label))
        _check_order_window(locked.reservation, now)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_at = max(now, locked.updated_at)
        locked.save(update_fields=[*values, "updated_at"])
    return locked


def submit_order(
    *,
    order: Order,
    customer: Customer,
    values: dict[str, Any],
    now: dt.datetime | None = None,
) -> Order:
    """Save the final answers and move the draft to `received`, with its order number.

    `values` must already be validated by the caller's form (OrderForm with complete=True);
    completeness is checked again here so no door can submit half a form. A repeated
    submit of an already submitted order returns it unchanged.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Lock first: of ten parallel submits, one moves the draft and the others find the
        # received order and return it.
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("reservation")
            .get(pk=order.pk)
        )
        _own(locked.reservation, customer)
        if locked.status in (S.DISCARDED, S.EXPIRED):
            raise IllegalTransition(
                _illegal_message(locked.get_status_display(), S.RECEIVED.label)
            )
        if locked.status != S.DRAFT:
            return locked
        _require_festival_draw(locked.reservation)
        saved = save_draft(order=locked, customer=customer, values=values, now=now)
        missing = missing_fields(saved)
        if missing:
            raise IncompleteOrder(missing)
        return transition(order=saved, to=S.RECEIVED, actor=Actor.customer(), now=now)


def _require_festival_draw(reservation: Reservation) -> None:
    """A festival-pickup order form waits for the festival draw: those not drawn switch to
    courier delivery, and their order form must then ask for an address. The reservation
    row is read again under FOR SHARE, which waits for a draw in progress (it locks the
    entrants FOR UPDATE), so the form is judged by the way of delivery the draw left. The
    database holds the same rule (fulfillment migration 0005)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fulfilment FROM reservations_reservation WHERE id = %s FOR SHARE",
            [reservation.pk],
        )
        (reservation.fulfilment,) = cursor.fetchone()
    if reservation.fulfilment == Fulfilment.FESTIVAL and not festival_draw_published(
        reservation.campaign_id
    ):
        raise FestivalDrawPending()


def festival_draw_published(campaign_id: int) -> bool:
    """Written onto the campaign by the festival draw's reveal (fulfilment decides it)."""
    return Campaign.objects.filter(
        pk=campaign_id, festival_draw_published_at__isnull=False
    ).exists()


def missing_fields(order: Order) -> dict[str, list[str]]:
    """What a complete order form still lacks, per field, in the customer's words."""
    errors: dict[str, list[str]] = {}
    if order.plan_id is None:
        errors["plan"] = [_("Choose a rate plan.")]
    if not order.join_type:
        errors["join_type"] = [_("Choose how you join.")]
    if order.join_type == "port_in":
        if not order.port_in_carrier:
            errors["port_in_carrier"] = [_("Choose the carrier you are moving from.")]
        if not order.port_in_number:
            errors["port_in_number"] = [_("Enter the mobile number you are moving.")]
    if order.reservation.fulfilment in (Fulfilment.COURIER, Fulfilment.DAWN):
        delivery = {
            "recipient_name": _("Enter who receives the phone."),
            "recipient_phone": _("Enter the recipient's mobile number for the courier."),
            "postcode": _("Enter the 5-digit postcode."),
            "address_line1": _("Enter the delivery address."),
        }
        for name, message in delivery.items():
            if not getattr(order, name):
                errors[name] = [message]
    return errors


def discard_draft(*, order: Order, customer: Customer) -> Order:
    _own(order.reservation, customer)
    return transition(order=order, to=S.DISCARDED, actor=Actor.customer())


def customer_may_cancel(reservation: Reservation, live: Order | None) -> bool:
    """The customer's Cancel, the one rule every page and door asks: while the reservation
    holds its place with no order form or only a draft, and while the order is received
    (not once preparation has started). `live` is the reservation's live order, if any."""
    if live is None or live.status == S.DRAFT:
        return reservation.can_cancel()
    return S.CANCELLED in allowed_targets(live.status, ActorKind.CUSTOMER)  # the table says


def cancel_by_customer(*, reservation: Reservation, customer: Customer) -> Reservation:
    """The customer's "Cancel": gives up the reservation, discarding a draft or cancelling a
    received order in the same transaction. Refused once preparation has started."""
    _own(reservation, customer)
    with transaction.atomic():
        live = Order.objects.live().filter(reservation=reservation).first()
        if live is not None and not customer_may_cancel(reservation, live):
            raise OrderNotCancellable()
        if live is not None and live.status == S.DRAFT:
            # One message for both: "discarded, reservation cancelled" (not "still active").
            discarded = transition(
                order=live, to=S.DISCARDED, actor=Actor.customer(), notify=False
            )
            cancelled = reservation_services.cancel_reservation(
                reservation=reservation, by=CancelledBy.CUSTOMER
            )
            notify(discarded, "", reservation_cancelled=True)
            return cancelled
        if live is not None:
            transition(order=live, to=S.CANCELLED, actor=Actor.customer())
            reservation.refresh_from_db()
            return reservation
        return reservation_services.cancel_reservation(
            reservation=reservation, by=CancelledBy.CUSTOMER
        )
