"""The launch embargo: no phone reaches a customer before the campaign's launch date.
Checked by the hand-over and delivery doors (fulfillment.services.moves) at the moment the parcel
really moved; the development courier and the fairness audit's "not ready" reason use the
same dates."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Order, OrderStatus
from reservations.models import Fulfilment, Reservation

from ..exceptions import EmbargoActive

S = OrderStatus


def embargo_lifts_at(reservation: Reservation, to: str) -> dt.datetime | None:
    """The launch embargo: nothing is delivered before the launch date (00:00 in Seoul).
    Courier parcels may be handed over from the day before, dawn deliveries from 18:00 the
    evening before, festival pickups only on launch day. None when `to` is not embargoed."""
    launch = dt.datetime.combine(
        reservation.campaign.launch_date, dt.time(0, 0), tzinfo=timezone.get_default_timezone()
    )
    if to == S.DELIVERED:
        return launch
    if to != S.SHIPPED:
        return None
    if reservation.fulfilment == Fulfilment.COURIER:
        return launch - dt.timedelta(days=1)
    if reservation.fulfilment == Fulfilment.DAWN:
        return launch - dt.timedelta(hours=6)
    return launch


def check_embargo(order: Order, to: str, now: dt.datetime) -> None:
    """Refuse moving `order` to `to` at `now` (when the parcel really moved) before the
    embargo lifts, saying when it does."""
    lifts_at = embargo_lifts_at(order.reservation, to)
    if lifts_at is not None and now < lifts_at:
        raise EmbargoActive(
            _("Launch embargo: this order cannot become “%(target)s” before %(when)s.")
            % {
                "target": S(to).label,
                "when": timezone.localtime(lifts_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
