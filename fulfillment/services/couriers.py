"""Courier inputs: the tracking file, the signed webhook and the development simulator all
end in record_courier_event, the one service that turns what a courier says into a stored
CourierEvent and a state-machine move (what they say is checked for form first:
courier_input).

The event row is written first and the order moved in the same transaction, so a refused
move (illegal, embargoed, inconsistent) leaves no event behind, and a repeated input finds
its event already there and changes nothing (unique (courier, event id); unique (order,
kind)).

Messages here are for couriers and operators, not customers: plain English, each naming the
field or rule that refused the input.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.exceptions import ActorNotAllowed, IllegalTransition
from orders.models import Order, OrderStatus
from orders.services import Actor

from ..exceptions import EmbargoActive
from ..models import (
    CourierEvent,
    CourierEventKind,
    CourierEventSource,
    HoldAlert,
    OrderHold,
)
from . import moves
from .courier_input import CourierError, CourierInput, clean_order_number

S = OrderStatus
K = CourierEventKind

# A courier's clock may run a little ahead of ours; an event further in the future is refused
# (it would otherwise let a courier date a hand-over past the launch embargo).
CLOCK_SKEW = dt.timedelta(minutes=5)

# What each kind of event moves the order to, and from where.
TARGET = {K.HANDED_OVER: S.SHIPPED, K.DELIVERED: S.DELIVERED}
SOURCE = {K.HANDED_OVER: S.PREPARING, K.DELIVERED: S.SHIPPED}


class UnknownOrder(CourierError):
    code = "unknown_order"


class OrderCancelled(CourierError):
    code = "order_cancelled"


class EventNotAllowed(CourierError):
    code = "not_allowed"


class EmbargoRefused(CourierError):
    code = "embargo"


class HeldBySimulator(CourierError):
    """The development courier does not pick up a held parcel (a real courier's word is
    recorded even then)."""

    code = "on_hold"


class EventConflict(CourierError):
    """The input contradicts an event already recorded (same id, another fact)."""

    code = "conflict"


class Outcome(StrEnum):
    RECORDED = "recorded"  # stored, and the order moved
    CONFIRMED = "confirmed"  # stored; the order was already there (e.g. staff shipped it)
    DUPLICATE = "duplicate"  # already stored before: nothing changed


@dataclass(frozen=True)
class CourierResult:
    outcome: Outcome
    order: Order
    event: CourierEvent
    alert: HoldAlert | None = None  # the order was on hold: staff are alerted

    @property
    def duplicate(self) -> bool:
        return self.outcome == Outcome.DUPLICATE


def find_order(order_number: str) -> Order:
    number = clean_order_number(order_number)
    try:
        return Order.objects.get(number=number)
    except Order.DoesNotExist:
        raise UnknownOrder(f"No order has the number {number}.") from None


def record_courier_event(
    *, data: CourierInput, source: str, now: dt.datetime | None = None
) -> CourierResult:
    """Store what the courier said and move the order: handed over -> shipped (with the
    courier and tracking number), delivered -> delivered. One transaction.

    The move goes through its door (fulfillment.services.moves), dated when the courier says it
    happened (`occurred_at`), so the launch embargo applies to when the parcel really moved.
    A held order is moved all the same, the courier's word being the truth about the parcel,
    and staff get a HoldAlert (the development simulator leaves held orders alone). An
    event dated in the future, or before the order's previous step, is refused. A repeat
    (same event id, or the same kind for the same order and tracking number) changes
    nothing and says so.
    """
    now = now or timezone.now()
    if source not in CourierEventSource.values:
        raise ValueError(f"unknown source {source!r}")
    order = find_order(data.order_number)
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        repeat = _repeat(order, data)
        if repeat is not None:
            return CourierResult(Outcome.DUPLICATE, order, repeat)
        already_there = _check_event(order, data, now)
        if source == CourierEventSource.SIMULATOR and _is_held(order):
            raise HeldBySimulator(f"Order {order.number} is on hold.")
        try:
            with transaction.atomic():
                event = CourierEvent.objects.create(
                    order=order,
                    kind=data.kind,
                    courier=data.courier,
                    tracking_number=data.tracking_number,
                    occurred_at=data.occurred_at,
                    received_at=now,
                    source=source,
                    external_id=data.external_id,
                )
        except IntegrityError:
            # The same event id arrived for another order at this very moment.
            raise EventConflict(
                f"Event id {data.external_id} of {data.courier} is already used by another "
                "courier event."
            ) from None
        if already_there:
            return CourierResult(Outcome.CONFIRMED, order, event)
        try:
            moved = _move(order, data, event)
        except EmbargoActive as exc:
            raise EmbargoRefused(f"Order {order.number}: {exc.message}") from exc
        except (IllegalTransition, ActorNotAllowed) as exc:
            raise EventNotAllowed(f"Order {order.number}: {exc.message}") from exc
    return CourierResult(Outcome.RECORDED, moved.order, event, alert=moved.alert)


def _move(order: Order, data: CourierInput, event: CourierEvent) -> moves.CourierMove:
    """The courier's event through its door, dated when the courier says it happened."""
    actor = Actor.courier(data.courier)
    if data.kind == K.HANDED_OVER:
        return moves.hand_over(
            order=order,
            actor=actor,
            courier=data.courier,
            tracking_number=data.tracking_number,
            courier_event=event,
            now=data.occurred_at,
        )
    return moves.confirm_delivery(
        order=order, actor=actor, courier_event=event, now=data.occurred_at
    )


def _is_held(order: Order) -> bool:
    return OrderHold.objects.filter(order=order, released_at__isnull=True).exists()


def _repeat(order: Order, data: CourierInput) -> CourierEvent | None:
    """The event already stored for this input, or None; an input that contradicts a stored
    event (same id for another fact, another tracking number) is refused."""
    same_id = CourierEvent.objects.filter(
        courier=data.courier, external_id=data.external_id
    ).first()
    if same_id is not None:
        if same_id.order_id == order.pk and same_id.kind == data.kind:
            return same_id
        raise EventConflict(
            f"Event id {data.external_id} of {data.courier} was already recorded for another "
            f"event ({same_id.kind} of order {same_id.order.number})."
        )
    same_kind = CourierEvent.objects.filter(order=order, kind=data.kind).first()
    if same_kind is None:
        return None
    if same_kind.tracking_number == data.tracking_number:
        return same_kind  # the courier sent the same fact again under a new id
    raise EventConflict(
        f"Order {order.number} was already {same_kind.get_kind_display().lower()} "
        f"with tracking number {same_kind.tracking_number}, not {data.tracking_number}."
    )


def _check_event(order: Order, data: CourierInput, now: dt.datetime) -> bool:
    """Refuse an event the order cannot take; True when the order is already where the
    event would move it (staff recorded it before the courier's word arrived)."""
    label = str(S(order.status).label)
    if order.status == S.CANCELLED:
        raise OrderCancelled(f"Order {order.number} is cancelled: it must not be shipped.")
    if data.occurred_at > now + CLOCK_SKEW:
        raise EventNotAllowed(
            f"Order {order.number}: the event is dated in the future "
            f"({timezone.localtime(data.occurred_at):%Y-%m-%d %H:%M})."
        )
    target = TARGET[data.kind]
    already_there = order.status == target or (target == S.SHIPPED and order.status == S.DELIVERED)
    if already_there:
        if order.tracking_number != data.tracking_number:
            raise EventConflict(
                f"Order {order.number} is “{label}” with tracking number "
                f"{order.tracking_number}, not {data.tracking_number}."
            )
        return True
    if order.status != SOURCE[data.kind]:
        need = str(S(SOURCE[data.kind]).label)
        raise EventNotAllowed(
            f"Order {order.number} is “{label}”: it must be “{need}” for the event “{data.kind}”."
        )
    if data.kind == K.DELIVERED and order.tracking_number != data.tracking_number:
        raise EventConflict(
            f"Order {order.number} was shipped with tracking number {order.tracking_number}, "
            f"not {data.tracking_number}."
        )
    previous = order.preparing_at if data.kind == K.HANDED_OVER else order.shipped_at
    if previous is not None and data.occurred_at < previous:
        raise EventNotAllowed(
            f"Order {order.number}: the event is dated "
            f"{timezone.localtime(data.occurred_at):%Y-%m-%d %H:%M}, before the order became "
            f"“{label}” ({timezone.localtime(previous):%Y-%m-%d %H:%M})."
        )
    return False
