"""Reads for ops and staff: the allocation picture per variant; and for a customer in line
without a unit, whether one is left for their place (unit_outlook).

"Waiting" counts the reservations in line for a unit exactly as allocation sees them:
holding, without a unit, and (after the order-form deadline) with a submitted order.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from reservations.models import Campaign, Reservation, ReservationStatus


@dataclass(frozen=True)
class VariantStock:
    variant_id: int
    label: str
    arrived: int
    allocated: int
    held_for_order_form: int
    waiting: int
    next_position: int | None


# Per variant, from the bookkeeping allocation keeps (migration 0009): units given out from
# the lots' counters, and the line read only above the frontier, below which every holding
# reservation has a unit. Measured at 1,000,000 reservations: 17 s before (the planner
# re-ran a whole-campaign aggregate once per variant), about a second now, most of it
# counting the units held for an order form.
STOCK_SQL = """
SELECT v.id,
       (SELECT coalesce(sum(l.quantity), 0) FROM fulfillment_stocklot l
         WHERE l.variant_id = v.id AND l.arrives_at <= %(now)s),
       (SELECT coalesce(sum(u.active), 0)
          FROM fulfillment_stocklot l JOIN fulfillment_lot_usage u ON u.lot_id = l.id
         WHERE l.variant_id = v.id),
       (SELECT count(*)
          FROM fulfillment_allocation a JOIN reservations_reservation r ON r.id = a.reservation_id
         WHERE a.variant_id = v.id AND a.released_at IS NULL
           AND r.variant_id = v.id AND r.status = 'active'),
       w.n, w.next_position
  FROM reservations_variant v
  JOIN reservations_campaign c ON c.id = v.campaign_id
  LEFT JOIN fulfillment_allocation_frontier f ON f.variant_id = v.id
 CROSS JOIN LATERAL (
       SELECT count(*) AS n, min(r.position) AS next_position
         FROM reservations_reservation r
        WHERE r.variant_id = v.id AND r.status IN ('active', 'ordered')
          AND r.position > coalesce(f.position, 0)
          AND (r.status = 'ordered' OR %(now)s < c.order_closes_at)
          AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                           WHERE a.reservation_id = r.id AND a.released_at IS NULL)
       ) w
 WHERE v.campaign_id = %(campaign)s
 ORDER BY v.model_name, v.capacity_gb, v.colour
"""


def stock_by_variant(*, campaign: Campaign, now: dt.datetime) -> list[VariantStock]:
    labels = {v.pk: str(v) for v in campaign.variants.all()}
    with connection.cursor() as cursor:
        cursor.execute(STOCK_SQL, {"campaign": campaign.pk, "now": now})
        return [VariantStock(row[0], labels[row[0]], *row[1:]) for row in cursor.fetchall()]


@dataclass(frozen=True)
class UnitOutlook:
    """For a reservation in line without a unit: whether a unit recorded for its variant
    (arrived or announced) is left for its place once everyone ahead has one.

    QUEUED: a unit of an arrived lot is left for it (allocation gives it on its next run);
    EXPECTED: the first unit left for it is in a lot not arrived yet, expected at
    `expected_at`; NONE: every unit of every lot recorded is taken by lower positions, so
    no unit exists for this place yet (not "sold out": more stock may be announced)."""

    QUEUED = "queued"
    EXPECTED = "expected"
    NONE = "none"

    state: str
    expected_at: dt.datetime | None = None


# Per lot of the variant, oldest first: units not given out (fulfillment_lot_usage), and
# units about to come free (held by reservations that ended: fulfillment_release_due,
# released by the next allocation run into arrived lots), with the frontier.
OUTLOOK_LOTS_SQL = """
SELECT l.arrives_at, l.quantity - coalesce(u.active, 0)
  FROM fulfillment_stocklot l LEFT JOIN fulfillment_lot_usage u ON u.lot_id = l.id
 WHERE l.variant_id = %(variant)s
 ORDER BY l.arrives_at, l.id
"""

OUTLOOK_DUE_SQL = """
SELECT (SELECT count(*) FROM fulfillment_release_due d
          JOIN fulfillment_allocation a
            ON a.reservation_id = d.reservation_id AND a.released_at IS NULL
         WHERE d.variant_id = %(variant)s),
       (SELECT coalesce(f.position, 0) FROM fulfillment_allocation_frontier f
         WHERE f.variant_id = %(variant)s)
"""

# Reservations in line ahead of this one without a unit, exactly as allocation reads its
# line (above the frontier, holding, in line after the deadline only with an order form),
# counted only up to %(cap)s: past the units left, the answer is NONE however many wait.
OUTLOOK_AHEAD_SQL = """
SELECT count(*) FROM (
    SELECT 1 FROM reservations_reservation r
     WHERE r.variant_id = %(variant)s AND r.status IN ('active', 'ordered')
       AND r.position > %(frontier)s AND r.position < %(position)s
       AND (r.status = 'ordered' OR %(now)s < %(order_closes_at)s)
       AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                        WHERE a.reservation_id = r.id AND a.released_at IS NULL)
     LIMIT %(cap)s
) ahead
"""


def unit_outlook(*, reservation: Reservation, now: dt.datetime) -> UnitOutlook | None:
    """None when the reservation is not waiting in line for a unit (it holds one, it ended,
    or its order-form deadline passed without an order form)."""
    campaign = reservation.campaign
    in_line = reservation.status == ReservationStatus.ORDERED or (
        reservation.status == ReservationStatus.ACTIVE and now < campaign.order_closes_at
    )
    if not in_line or reservation.allocations.filter(released_at__isnull=True).exists():
        return None
    params = {"variant": reservation.variant_id}
    with connection.cursor() as cursor:
        cursor.execute(OUTLOOK_LOTS_SQL, params)
        lots = cursor.fetchall()
        cursor.execute(OUTLOOK_DUE_SQL, params)
        coming_free, frontier = cursor.fetchone()
        arrived = coming_free + sum(max(free, 0) for at, free in lots if at <= now)
        announced = [(at, free) for at, free in lots if at > now and free > 0]
        left = arrived + sum(free for _, free in announced)
        if left == 0:
            return UnitOutlook(UnitOutlook.NONE)
        cursor.execute(
            OUTLOOK_AHEAD_SQL,
            {
                **params,
                "frontier": frontier or 0,
                "position": reservation.position,
                "now": now,
                "order_closes_at": campaign.order_closes_at,
                "cap": left,
            },
        )
        (ahead,) = cursor.fetchone()
    if ahead < arrived:
        return UnitOutlook(UnitOutlook.QUEUED)
    covered = arrived
    for arrives_at, free in announced:
        covered += free
        if ahead < covered:
            return UnitOutlook(UnitOutlook.EXPECTED, expected_at=arrives_at)
    return UnitOutlook(UnitOutlook.NONE)
