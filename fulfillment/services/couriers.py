"""Courier inputs: the tracking file, the signed webhook and the development simulator all
end in record_courier_event, the one service that turns what a courier says into a stored
CourierEvent and a state-machine move.

The event row is written first and the order moved in the same transaction, so a refused
move (illegal, embargoed, inconsistent) leaves no event behind, and a repeated input finds
its event already there and changes nothing (unique (courier, event id); unique (order,
kind)).

Messages here are for couriers and operators, not customers: plain English, each naming the
field or rule that refused the input.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from orders.exceptions import ActorNotAllowed, IllegalTransition
from orders.models import Order, OrderStatus
from orders.services import Actor
from preorder_shop import identifiers
from preorder_shop.exceptions import DomainError
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER

from ..exceptions import EmbargoActive
from ..models import (
    CourierEvent,
    CourierEventKind,
    CourierEventSource,
    HoldAlert,
    OrderHold,
)
from . import moves

S = OrderStatus
K = CourierEventKind

# A courier's clock may run a little ahead of ours; an event further in the future is refused
# (it would otherwise let a courier date a hand-over past the launch embargo).
CLOCK_SKEW = dt.timedelta(minutes=5)

# What each kind of event moves the order to, and from where.
TARGET = {K.HANDED_OVER: S.SHIPPED, K.DELIVERED: S.DELIVERED}
SOURCE = {K.HANDED_OVER: S.PREPARING, K.DELIVERED: S.SHIPPED}
FIELDS = ("event_id", "order_number", "courier", "tracking_number", "event", "occurred_at")


class CourierError(DomainError):
    """A courier input was refused; nothing was stored. `code` is stable for machines."""

    code = "refused"
    default_message = "The courier event was refused."


class InvalidInput(CourierError):
    """Missing or malformed fields; `errors` maps each field to its message."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class ReservationNumberGiven(CourierError):
    code = "reservation_number"


class InvalidOrderNumber(CourierError):
    code = "invalid_order_number"


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
class CourierInput:
    """One courier event, parsed and checked for form (not yet against the database)."""

    external_id: str
    order_number: str
    courier: str
    tracking_number: str
    kind: CourierEventKind
    occurred_at: dt.datetime


@dataclass(frozen=True)
class CourierResult:
    outcome: Outcome
    order: Order
    event: CourierEvent
    alert: HoldAlert | None = None  # the order was on hold: staff are alerted

    @property
    def duplicate(self) -> bool:
        return self.outcome == Outcome.DUPLICATE


def _text(value: object, name: str, max_length: int, errors: dict[str, str]) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = "is missing."
        return ""
    if not isinstance(value, str):
        errors[name] = "must be a string."
        return ""
    value = value.strip()
    if not value.isprintable():
        errors[name] = "contains control characters."
    elif len(value) > max_length:
        errors[name] = f"is longer than {max_length} characters."
    return value


# Courier events happen in this century; anything outside is a typo or an attack, and an
# extreme year (9999 with an offset) would overflow when converted for the messages.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


class OccurredOutOfRange(ValueError):
    """A well-formed time outside 2000-2099."""


def parse_occurred_at(raw: str) -> dt.datetime:
    """ISO 8601; a time without an offset is Korean time (what courier systems export).
    ValueError for a malformed time or one outside 2000-2099."""
    value = dt.datetime.fromisoformat(raw.strip())
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        in_range = EARLIEST <= value.astimezone(dt.UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise OccurredOutOfRange(raw.strip())
    return value


def parse_input(data: Mapping[str, object]) -> CourierInput:
    """Check the form of one event (a CSV row or a webhook body); all problems at once."""
    errors: dict[str, str] = {}
    external_id = _text(data.get("event_id"), "event_id", 100, errors)
    order_number = _text(data.get("order_number"), "order_number", 32, errors)
    courier = _text(data.get("courier"), "courier", 50, errors)
    tracking_number = _text(data.get("tracking_number"), "tracking_number", 50, errors)
    event = _text(data.get("event"), "event", 16, errors)
    if event and event not in K.values:
        errors["event"] = f"must be one of {', '.join(K.values)}; got “{event}”."
    raw_at = _text(data.get("occurred_at"), "occurred_at", 64, errors)
    occurred_at = None
    if raw_at and "occurred_at" not in errors:
        try:
            occurred_at = parse_occurred_at(raw_at)
        except OccurredOutOfRange:
            errors["occurred_at"] = f"“{raw_at}” is not a date between 2000 and 2099."
        except ValueError:
            errors["occurred_at"] = (
                f"“{raw_at}” is not an ISO 8601 date and time (e.g. 2025-03-14T09:30:00+09:00)."
            )
    if errors:
        raise InvalidInput(errors)
    return CourierInput(
        external_id=external_id,
        order_number=order_number,
        courier=courier,
        tracking_number=tracking_number,
        kind=K(event),
        occurred_at=occurred_at,
    )


def parse_webhook_body(body: bytes) -> CourierInput:
    """The event a webhook body states, checked for form like a file row, and stricter: a JSON
    object of exactly the known fields (a misspelt field is refused, not ignored), with an
    order number in the shape of one. Nothing is looked up."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting: RecursionError
        raise InvalidInput({"body": "is not valid UTF-8 JSON."}) from None
    if not isinstance(data, dict):
        raise InvalidInput({"body": "must be a JSON object."})
    unknown = {name: "is not a field of a courier event." for name in data if name not in FIELDS}
    try:
        parsed = parse_input(data)
    except InvalidInput as error:
        raise InvalidInput({**error.errors, **unknown}) from None
    if unknown:
        raise InvalidInput(unknown)
    clean_order_number(parsed.order_number)
    return parsed


# The registry's refusals of an order number, said for operators: (error class, what follows
# the quoted input). Codes not listed (a kind registered later) say the registry's own words.
ORDER_NUMBER_REFUSALS = {
    f"{RESERVATION_NUMBER.name}_given": (
        ReservationNumberGiven,
        f"is an {RESERVATION_NUMBER.length}-digit reservation number, not an order number: "
        f"give the customer's {ORDER_NUMBER.length}-digit order number.",
    ),
    identifiers.MOBILE_NUMBER_GIVEN: (
        InvalidOrderNumber,
        "is a mobile number, not an order number.",
    ),
    identifiers.BAD_CHARACTER: (
        InvalidOrderNumber,
        "is not an order number: an order number has digits only.",
    ),
    identifiers.WRONG_LENGTH: (
        InvalidOrderNumber,
        f"is not an order number: it has {{count}} digits, an order number {ORDER_NUMBER.length}.",
    ),
    identifiers.WRONG_START: (InvalidOrderNumber, "is not an order number: none starts with 0."),
    identifiers.BAD_CHECK_DIGIT: (
        InvalidOrderNumber,
        "is not a valid order number: its check digit is wrong (a mistyped digit?).",
    ),
}


def clean_order_number(raw: str) -> str:
    """The order number in `raw`, read by the identifier registry's validator (as every form
    reads it), or its refusal as a courier error for operators."""
    try:
        return identifiers.validate(raw, expected=ORDER_NUMBER)
    except ValidationError as error:
        refusal = ORDER_NUMBER_REFUSALS.get(error.code)
        if refusal is None:
            with translation.override("en"):
                reason = " ".join(error.messages)
            raise InvalidOrderNumber(f"“{raw}” is not an order number: {reason}") from None
        cls, text = refusal
        raise cls(f"“{raw}” " + text.format(**(error.params or {}))) from None


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
