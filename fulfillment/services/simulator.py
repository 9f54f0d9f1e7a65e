"""A development courier (settings.COURIER_SIMULATOR, a beat task): hands over preparing
orders and delivers what it handed over, with realistic delays, so the demo shows the whole
journey. It goes through record_courier_event like a real courier, with event ids derived
from the order, so a repeated or overlapping run changes nothing more.
"""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from orders.models import Order, OrderStatus
from reservations.models import Fulfilment

from ..models import CourierEvent, CourierEventKind, CourierEventSource, OrderHold
from . import courier_input, couriers
from .embargo import embargo_lifts_at

logger = logging.getLogger(__name__)

S = OrderStatus
K = CourierEventKind

COURIERS = ("CJ대한통운", "한진택배", "롯데택배", "우체국택배")
PACKING_TIME = dt.timedelta(minutes=2)  # preparing at least this long before hand-over
TRANSIT_TIME = dt.timedelta(minutes=10)  # handed over at least this long before delivery
BATCH = 50  # per step and run
SCAN_LIMIT = 20 * BATCH  # candidates looked at per run while skipping embargoed ones


@dataclass(frozen=True)
class SimulatorRun:
    handed_over: int
    delivered: int


def courier_for(order: Order) -> str:
    return COURIERS[order.pk % len(COURIERS)]


def tracking_number_for(order: Order) -> str:
    """12 digits derived from the order, so a repeated run sends the same event."""
    digest = hashlib.sha256(f"simulated-parcel:{order.pk}".encode()).hexdigest()
    return f"9{int(digest, 16) % 10**11:011d}"


def external_id(order: Order, kind: str) -> str:
    return f"sim:{order.pk}:{kind}"


def run(
    *,
    now: dt.datetime | None = None,
    batch: int = BATCH,
    packing_time: dt.timedelta = PACKING_TIME,
    transit_time: dt.timedelta = TRANSIT_TIME,
) -> SimulatorRun:
    """One round of the fake couriers: deliveries first (parcels handed over in an earlier
    round), then hand-overs, each bounded by `batch`, in queue-position order."""
    now = now or timezone.now()
    delivered = sum(
        _send(order, K.DELIVERED, now) for order in _to_deliver(now, transit_time, batch)
    )
    handed_over = sum(
        _send(order, K.HANDED_OVER, now) for order in _to_hand_over(now, packing_time, batch)
    )
    return SimulatorRun(handed_over=handed_over, delivered=delivered)


def _to_hand_over(now: dt.datetime, packing_time: dt.timedelta, batch: int) -> list[Order]:
    """Preparing courier and dawn orders, not on hold, packed for long enough, whose launch
    embargo on hand-over has lifted (embargo_lifts_at is the rule; the query only narrows)."""
    active_hold = OrderHold.objects.filter(order=OuterRef("pk"), released_at__isnull=True)
    candidates = (
        Order.objects.filter(
            status=S.PREPARING,
            preparing_at__lte=now - packing_time,
            reservation__fulfilment__in=[Fulfilment.COURIER, Fulfilment.DAWN],
            # No hand-over is allowed earlier than the day before launch.
            reservation__campaign__launch_date__lte=timezone.localdate(now) + dt.timedelta(days=1),
        )
        .exclude(Exists(active_hold))
        .select_related("reservation__campaign")
        .order_by("reservation__position")[:SCAN_LIMIT]
    )
    ready = [
        order for order in candidates if embargo_lifts_at(order.reservation, S.SHIPPED) <= now
    ]
    return ready[:batch]


def _to_deliver(now: dt.datetime, transit_time: dt.timedelta, batch: int) -> list[Order]:
    """Orders this simulator handed over long enough ago, on or after launch day."""
    handed_over_here = CourierEvent.objects.filter(
        order=OuterRef("pk"), kind=K.HANDED_OVER, source=CourierEventSource.SIMULATOR
    )
    return list(
        Order.objects.filter(
            Exists(handed_over_here),
            status=S.SHIPPED,
            shipped_at__lte=now - transit_time,
            reservation__campaign__launch_date__lte=timezone.localdate(now),
        )
        .select_related("reservation__campaign")
        .order_by("reservation__position")[:batch]
    )


def _send(order: Order, kind: str, now: dt.datetime) -> bool:
    """One courier event for `order`; True when it moved the order."""
    courier = order.courier or courier_for(order)
    data = courier_input.CourierInput(
        external_id=external_id(order, kind),
        order_number=order.number,
        courier=courier,
        tracking_number=order.tracking_number or tracking_number_for(order),
        kind=K(kind),
        occurred_at=now,
    )
    try:
        result = couriers.record_courier_event(
            data=data, source=CourierEventSource.SIMULATOR, now=now
        )
    except courier_input.CourierError as error:
        # E.g. staff cancelled or held it meanwhile: skip it, the next round looks again.
        logger.info("courier simulator skipped order %s: %s", order.number, error.message)
        return False
    return result.outcome == couriers.Outcome.RECORDED
