"""What fulfilment tells a customer about delivery on lower apps' pages, API and messages
(preorder_shop.pages), registered in FulfillmentConfig.ready(): the expected delivery once a
unit is held (services.expected; on the order page a fact of the order's status), and,
while in line without one, whether a unit recorded for the variant is left for the
customer's place (selectors.unit_outlook). Every surface reads the same two functions, so
they all say the same words."""

from django.utils import timezone

from orders.models import Order
from preorder_shop.pages import add_fact, add_panel
from reservations.models import Reservation

from .selectors import unit_outlook
from .services.expected import HELD_UNIT_SQL, expected_delivery, expected_from_held_unit

TEMPLATE = "fulfillment/panels/delivery.html"


def _delivery(reservation: Reservation, order: Order | None) -> dict | None:
    expected = expected_delivery(reservation, order=order)
    if expected is not None:
        return {"expected_delivery": expected.text(), "outlook": None}
    outlook = unit_outlook(reservation=reservation, now=timezone.now())
    if outlook is None or outlook.state == outlook.QUEUED:
        return None  # the queue position says it all
    return {"expected_delivery": "", "outlook": outlook}


def reservation_delivery(*, reservation: Reservation, **_page) -> dict | None:
    return _delivery(reservation, None)


def order_delivery(*, order: Order, **_page) -> dict | None:
    """The order page's panel: only the outlook while no unit is held. The expected delivery
    itself is a fact of the order's status (below), shown and refreshed with it."""
    if not order.is_live:
        return None
    delivery = _delivery(order.reservation, order)
    return None if delivery is None or delivery["expected_delivery"] else delivery


def status_expected_delivery(*, order: Order, loaded: dict | None, **_objects) -> dict | None:
    """An order status's `expected_delivery` (the page's and the API's): null when no unit
    is held. `loaded`: HELD_UNIT_SQL's value, read in the status's own statement."""
    expected = (
        expected_from_held_unit(order.reservation, order=order, held_unit=loaded)
        if order.is_live
        else None
    )
    return expected.as_json() if expected else None


def message_expected_delivery(*, reservation_number: str = "", **_payload) -> str:
    """A notification's line, in the message's language (rendered under it), or nothing."""
    reservation = (
        Reservation.objects.select_related("campaign").filter(number=reservation_number).first()
        if reservation_number
        else None
    )
    expected = reservation and expected_delivery(reservation)
    return expected.text() if expected else ""


def register() -> None:
    add_panel("reservation_page", template=TEMPLATE, context=reservation_delivery, order=110)
    add_panel("order_page", template=TEMPLATE, context=order_delivery, order=110)
    add_fact("order_status", "expected_delivery", status_expected_delivery, sql=HELD_UNIT_SQL)
    add_fact("notification", "expected_delivery", message_expected_delivery)
