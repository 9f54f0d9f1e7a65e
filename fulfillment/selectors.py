"""Reads for ops and staff: the allocation picture per variant.

"Waiting" counts the reservations in line for a unit exactly as allocation sees them:
holding, without a unit, and (after the order-form deadline) with a submitted order.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from reservations.models import Campaign


@dataclass(frozen=True)
class VariantStock:
    variant_id: int
    label: str
    arrived: int
    allocated: int
    held_for_order_form: int
    waiting: int
    next_position: int | None


STOCK_SQL = """
WITH waiting AS (
    SELECT r.variant_id, count(*) AS n, min(r.position) AS next_position
      FROM reservations_reservation r
      JOIN reservations_campaign c ON c.id = r.campaign_id
     WHERE r.campaign_id = %(campaign)s
       AND (r.status = 'ordered' OR (r.status = 'active' AND %(now)s < c.order_closes_at))
       AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                        WHERE a.reservation_id = r.id AND a.released_at IS NULL)
     GROUP BY r.variant_id
),
allocated AS (
    SELECT a.variant_id, count(*) AS n, count(*) FILTER (WHERE r.status = 'active') AS held
      FROM fulfillment_allocation a
      JOIN reservations_reservation r ON r.id = a.reservation_id
     WHERE r.campaign_id = %(campaign)s AND a.released_at IS NULL
     GROUP BY a.variant_id
),
arrived AS (
    SELECT l.variant_id, sum(l.quantity) AS n
      FROM fulfillment_stocklot l JOIN reservations_variant v ON v.id = l.variant_id
     WHERE v.campaign_id = %(campaign)s AND l.arrives_at <= %(now)s
     GROUP BY l.variant_id
)
SELECT v.id, coalesce(arrived.n, 0), coalesce(allocated.n, 0), coalesce(allocated.held, 0),
       coalesce(waiting.n, 0), waiting.next_position
  FROM reservations_variant v
  LEFT JOIN arrived ON arrived.variant_id = v.id
  LEFT JOIN allocated ON allocated.variant_id = v.id
  LEFT JOIN waiting ON waiting.variant_id = v.id
 WHERE v.campaign_id = %(campaign)s
 ORDER BY v.model_name, v.capacity_gb, v.colour
"""


def stock_by_variant(*, campaign: Campaign, now: dt.datetime) -> list[VariantStock]:
    labels = {v.pk: str(v) for v in campaign.variants.all()}
    with connection.cursor() as cursor:
        cursor.execute(STOCK_SQL, {"campaign": campaign.pk, "now": now})
        return [VariantStock(row[0], labels[row[0]], *row[1:]) for row in cursor.fetchall()]
