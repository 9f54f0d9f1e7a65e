"""Oversell: every order past `received` holds a unit, and no lot or variant gave out more
units than it has.

The inversion audit asks whether the pipeline moved orders in the right order; these ask
whether a move should have happened at all, whoever made it (a staff edit, a raw UPDATE, a
door with a bug). The database refuses each case (fulfillment migrations 0002 and 0008), so
finding one means a guard was bypassed or broken, and that is exactly when the audit must
not stay silent. Each is one aggregate over the campaign's orders, allocations and lots.

- An order without a unit: in preparing, shipped or delivered, and its reservation holds
  no active allocation of its variant allocated by the time the order started preparing.
  A unit given only afterwards still counts as missing: allocation hands units to ordered
  reservations without one, so a unit-less move followed by the next allocation run would
  otherwise hide the move, and take that unit from the next position in line.
- An oversold lot: more active units given out than its quantity. Every order past
  received that holds one of them is counted too; they can only exceed the quantity when
  the units given out do, so this one condition also finds a lot with more orders past
  received than units.
- An oversold variant, for the orders that hold no unit at all: at some instant more of
  its orders had started preparing (and are still past received) than units of its lots
  had arrived. Counted against the instants recorded on the rows, not the clock, so a
  lot arriving tomorrow does not make today's honest moves look oversold, and a
  simulated launch day is audited on its own timeline.
"""

import datetime as dt
from dataclasses import dataclass

from orders.models import OrderStatus

PAST_RECEIVED = "('preparing', 'shipped', 'delivered')"

# Orders past received without a unit; counted, then the first `limit` listed.
WITHOUT_UNIT = f"""
SELECT o.id, o.number, o.status, r.variant_id, r.position, r.number, o.preparing_at,
       a.allocated_at
  FROM orders_order o
  JOIN reservations_reservation r ON r.id = o.reservation_id
  LEFT JOIN fulfillment_allocation a
    ON a.reservation_id = r.id AND a.variant_id = r.variant_id AND a.released_at IS NULL
 WHERE r.campaign_id = ANY(%(campaigns)s) AND o.status IN {PAST_RECEIVED}
   AND (a.id IS NULL OR a.allocated_at > coalesce(o.preparing_at, '-infinity'))
"""  # noqa: S608

# Units given out per lot first (one pass over the active allocations); the orders past
# received holding them are counted only for the few lots found oversold.
OVERSOLD_LOTS = f"""
WITH given AS (
    SELECT a.lot_id, count(*) AS n
      FROM fulfillment_allocation a
      JOIN reservations_variant v ON v.id = a.variant_id
     WHERE a.released_at IS NULL AND v.campaign_id = ANY(%(campaigns)s)
     GROUP BY a.lot_id
)
SELECT l.id, l.reference, l.variant_id, l.quantity, given.n,
       (SELECT count(*)
          FROM fulfillment_allocation a
          JOIN orders_order o ON o.reservation_id = a.reservation_id
         WHERE a.variant_id = l.variant_id AND a.lot_id = l.id AND a.released_at IS NULL
           AND o.status IN {PAST_RECEIVED})
  FROM given JOIN fulfillment_stocklot l ON l.id = given.lot_id
 WHERE given.n > l.quantity
 ORDER BY l.variant_id, l.arrives_at, l.id
"""  # noqa: S608

# Running totals per variant over the instants orders moved and lots arrived (peers
# included: a lot arriving at the very instant an order moved was there for it); the first
# instant the orders outnumber the units.
OVERSOLD_VARIANTS = f"""
WITH steps AS (
    SELECT r.variant_id, coalesce(o.preparing_at, '-infinity') AS t, count(*) AS orders,
           0 AS units
      FROM orders_order o
      JOIN reservations_reservation r ON r.id = o.reservation_id
     WHERE r.campaign_id = ANY(%(campaigns)s) AND o.status IN {PAST_RECEIVED}
     GROUP BY 1, 2  -- a batch moves thousands at one instant: one step each
    UNION ALL
    SELECT l.variant_id, l.arrives_at, 0, l.quantity
      FROM fulfillment_stocklot l
      JOIN reservations_variant v ON v.id = l.variant_id
     WHERE v.campaign_id = ANY(%(campaigns)s)
),
running AS (
    SELECT variant_id, t, sum(orders) OVER w AS orders, sum(units) OVER w AS units
      FROM steps
    WINDOW w AS (PARTITION BY variant_id ORDER BY t)
)
SELECT DISTINCT ON (variant_id) variant_id, t, orders, units
  FROM running
 WHERE orders > units
 ORDER BY variant_id, t
"""  # noqa: S608


@dataclass(frozen=True)
class OrderWithoutUnit:
    order_id: int
    order_number: str
    status: str
    variant: str
    position: int
    reservation_number: str
    preparing_at: dt.datetime | None
    unit_allocated_at: dt.datetime | None  # its unit, given only after it started; None: none

    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label


@dataclass(frozen=True)
class OversoldLot:
    lot_id: int
    reference: str
    variant: str
    quantity: int
    given: int  # active units given out
    past_received: int  # orders past received holding one of them


@dataclass(frozen=True)
class OversoldVariant:
    variant_id: int
    variant: str
    at: dt.datetime  # the first instant its orders outnumbered its arrived units
    orders: int  # orders past received that had started preparing by then
    units: int  # units of its lots arrived by then


@dataclass(frozen=True)
class StockExceptions:
    without_unit: list[OrderWithoutUnit]  # the first `limit`, by variant and position
    without_unit_count: int  # all of them
    lots: list[OversoldLot]
    variants: list[OversoldVariant]

    @property
    def count(self) -> int:
        return self.without_unit_count + len(self.lots) + len(self.variants)


def find(
    cursor, *, campaign_ids: list[int], labels: dict[int, str], limit: int | None
) -> StockExceptions:
    """The stock exceptions of the campaigns; `labels` names their variants."""
    params = {"campaigns": campaign_ids, "limit": limit}
    cursor.execute(f"SELECT count(*) FROM ({WITHOUT_UNIT}) missing", params)  # noqa: S608
    [(missing,)] = cursor.fetchall()
    cursor.execute(f"{WITHOUT_UNIT} ORDER BY r.variant_id, r.position LIMIT %(limit)s", params)
    without_unit = [
        OrderWithoutUnit(row[0], row[1], row[2], labels[row[3]], *row[4:]) for row in cursor
    ]
    cursor.execute(OVERSOLD_LOTS, params)
    lots = [OversoldLot(row[0], row[1], labels[row[2]], *row[3:]) for row in cursor]
    cursor.execute(OVERSOLD_VARIANTS, params)
    variants = [OversoldVariant(row[0], labels[row[0]], *row[1:]) for row in cursor]
    return StockExceptions(
        without_unit=without_unit, without_unit_count=missing, lots=lots, variants=variants
    )
