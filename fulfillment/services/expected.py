# ruff: noqa: RUF001 (the texts write a range of days with an en dash, as print does)
"""The expected delivery of a reservation that holds a unit: the one answer the reservation
and order pages, the order API and the notifications give (fulfillment.delivery_panels).

It follows from facts already fixed once a unit is held: the campaign's launch date (the
embargo, services.embargo: nothing reaches a customer before it; courier parcels leave the
day before, dawn deliveries the evening before, festival pickups happen on launch day), the
way of receiving, and the day the unit was set aside (a unit held after launch leaves the
next day at the earliest). It is computed from the held unit's row, not from the clock, so
the same reservation reads the same on every surface and every day until something
changes; what changes it (the festival draw, a hold) sends a new message
(services.delivery_notices). Always worded as expected: nothing here has happened yet.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orders.models import Order, OrderStatus
from reservations.models import HOLDING_STATUSES, Fulfilment, Reservation

from ..models import Allocation, OrderHold

# Orders whose phone is still to reach the customer; a delivered or closed order expects
# nothing any more.
EXPECTING = [OrderStatus.DRAFT, OrderStatus.RECEIVED, OrderStatus.PREPARING, OrderStatus.SHIPPED]


@dataclass(frozen=True)
class ExpectedDelivery:
    fulfilment: str
    day: dt.date | None  # None while the order is on hold
    launch_day: bool
    awaiting_draw: bool  # festival pickup only if drawn; courier otherwise
    on_hold: bool

    def text(self) -> str:
        """In the active language, labelled as expected."""
        if self.on_hold:
            return _(
                "Expected delivery: not set while we check your order. We will tell you "
                "the new date."
            )
        day = formats.date_format(self.day, "MONTH_DAY_FORMAT")
        if self.awaiting_draw:
            return _(
                "Expected delivery: festival pickup on %(day)s at the venue if you are "
                "drawn; otherwise courier delivery from launch day, %(day)s (usually 1–2 days)."
            ) % {"day": day}
        if self.fulfilment == Fulfilment.FESTIVAL:
            return _("Expected delivery: festival pickup on %(day)s at the venue.") % {"day": day}
        if self.fulfilment == Fulfilment.DAWN:
            if self.launch_day:
                return _("Expected delivery: launch day, %(day)s, dawn delivery before 07:00.") % {
                    "day": day
                }
            return _("Expected delivery: %(day)s, dawn delivery before 07:00.") % {"day": day}
        if self.launch_day:
            return _(
                "Expected delivery: courier delivery from launch day, %(day)s (usually 1–2 days)."
            ) % {"day": day}
        return _("Expected delivery: courier delivery from %(day)s (usually 1–2 days).") % {
            "day": day
        }

    def as_json(self) -> dict:
        return {
            "expected": True,
            "fulfilment": self.fulfilment,
            "date": self.day.isoformat() if self.day else None,
            "launch_day": self.launch_day,
            "awaiting_festival_draw": self.awaiting_draw,
            "on_hold": self.on_hold,
            "text": self.text(),
        }


def delivery_day(*, launch: dt.date, fulfilment: str, held_on: dt.date) -> dt.date:
    """Launch day for a unit held before it; a courier or dawn parcel of a unit held on or
    after launch day leaves that day at the earliest and arrives the day after."""
    if fulfilment == Fulfilment.FESTIVAL:
        return launch
    return max(launch, held_on + dt.timedelta(days=1))


def expected_delivery(
    reservation: Reservation, *, order: Order | None = None
) -> ExpectedDelivery | None:
    """None unless the reservation holds a unit and its phone is still to reach the
    customer. `order`: the reservation's order if the caller has it (else read here)."""
    if reservation.status not in HOLDING_STATUSES:
        return None
    allocated_at = (
        Allocation.objects.filter(
            reservation=reservation, variant_id=reservation.variant_id, released_at__isnull=True
        )
        .values_list("allocated_at", flat=True)
        .first()
    )
    if allocated_at is None:
        return None
    if order is None:
        order = Order.objects.live().filter(reservation=reservation).first()
    on_hold = (
        order is not None
        and order.status in EXPECTING
        and OrderHold.objects.filter(order=order, released_at__isnull=True).exists()
    )
    return expected_from(reservation, order=order, allocated_at=allocated_at, on_hold=on_hold)


# The same inputs read inside an order's status statement (orders.status_load: o is the
# order, r its reservation), so a status poll reads them without queries of its own.
HELD_UNIT_SQL = """
SELECT json_build_object(
           'allocated_at', a.allocated_at,
           'on_hold', EXISTS (SELECT FROM fulfillment_orderhold h
                               WHERE h.order_id = o.id AND h.released_at IS NULL))
  FROM fulfillment_allocation a
 WHERE a.reservation_id = r.id AND a.variant_id = r.variant_id AND a.released_at IS NULL
"""


def expected_from_held_unit(
    reservation: Reservation, *, order: Order, held_unit: dict | None
) -> ExpectedDelivery | None:
    """expected_delivery from HELD_UNIT_SQL's value."""
    if reservation.status not in HOLDING_STATUSES or held_unit is None:
        return None
    return expected_from(
        reservation,
        order=order,
        allocated_at=dt.datetime.fromisoformat(held_unit["allocated_at"]),
        on_hold=held_unit["on_hold"],
    )


def expected_from(
    reservation: Reservation, *, order: Order | None, allocated_at: dt.datetime, on_hold: bool
) -> ExpectedDelivery | None:
    """The expected delivery of a reservation holding the unit set aside at `allocated_at`
    (`on_hold`: its order is on hold)."""
    if order is not None and order.status not in EXPECTING:
        return None
    campaign = reservation.campaign
    launch = campaign.launch_date
    day = delivery_day(
        launch=launch,
        fulfilment=reservation.fulfilment,
        held_on=timezone.localdate(allocated_at),
    )
    return ExpectedDelivery(
        fulfilment=reservation.fulfilment,
        day=None if on_hold else day,
        launch_day=day == launch,
        awaiting_draw=(
            reservation.fulfilment == Fulfilment.FESTIVAL
            and campaign.festival_draw_published_at is None
        ),
        on_hold=on_hold,
    )
