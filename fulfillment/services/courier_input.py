"""What a courier says, checked for form before anything is looked up: a tracking-file row
or a signed webhook body becomes a CourierInput, or a CourierError naming each field or
rule that refused it (couriers.record_courier_event then stores it and moves the order).

Messages here are for couriers and operators, not customers: plain English.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from preorder_shop import identifiers
from preorder_shop.exceptions import DomainError
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER

from ..models import CourierEventKind

K = CourierEventKind
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


@dataclass(frozen=True)
class CourierInput:
    """One courier event, parsed and checked for form (not yet against the database)."""

    external_id: str
    order_number: str
    courier: str
    tracking_number: str
    kind: CourierEventKind
    occurred_at: dt.datetime


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
