"""How long a client waits before asking again about an order or a reservation (issue 13).

One rule, told in two places: the `Poll-Interval` header (seconds) and the `poll_interval`
field of a status response; the web order page's htmx refresh reads the same rule. The
bounds are the promise: a change to an order that is received, preparing or shipped reaches
the customer's screen within 30 s (the interval plus a request stays under it at p95); a
reservation far back in line asks at most every 120 s; an order that is over barely changes.
"""

from django.http import HttpResponse

from .models import OrderStatus

S = OrderStatus

HEADER = "Poll-Interval"
FIELD = "poll_interval"

MOVING = 25  # received, preparing, shipped: never more than 30 s
DRAFT = 60  # the customer's own form: only the customer's (or the window's) move changes it
NEAR = 60  # an active reservation without an order, place <= FAR_PLACE
FAR = 120  # farther back in line: never more than 120 s
FAR_PLACE = 1_000
OVER = 300  # delivered, cancelled, discarded, expired; a reservation no longer in line

_BY_STATUS = {
    S.RECEIVED: MOVING,
    S.PREPARING: MOVING,
    S.SHIPPED: MOVING,
    S.DRAFT: DRAFT,
    S.DELIVERED: OVER,
    S.CANCELLED: OVER,
    S.DISCARDED: OVER,
    S.EXPIRED: OVER,
}


def poll_after(*, order_status: str | None, place: int | None) -> int:
    """Seconds to wait before the next poll: by the order's status, or, for a reservation
    without an order, by its place in line (None: it holds no place any more)."""
    if order_status is not None:
        return _BY_STATUS[OrderStatus(order_status)]
    if place is None:
        return OVER
    return NEAR if place <= FAR_PLACE else FAR


def set_poll_interval(response: HttpResponse, seconds: int) -> HttpResponse:
    response[HEADER] = str(seconds)
    return response
