"""The fulfilment pipeline: received orders move to preparing in queue-position order,
per variant, in set-based batches.

An order is ready when it is received, holds a unit of its variant and no hold stops it
(fulfillment.services.moves.READY, shared with the staff door). This is the batch path of the
start_preparing door: the same rule, set-based. Batches of one variant are serialised by
the variant's pipeline lock (moves.lock_variant_lane), which holds also take,
and taken lowest positions first, each in its own transaction, so a later position never
moves before an earlier ready one. Different variants run in parallel. A batch is
idempotent (orders already moved are skipped), so a killed worker loses nothing: its
transaction rolls back, and the next run starts again from the lowest ready position.
"""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orders.models import OrderStatus
from orders.services import Actor, transition_many

from .moves import READY, lock_variant_lane

# Ready orders of one variant, lowest positions first (moves.READY is the one definition).
NEXT_READY = f"""
SELECT o.id
  FROM orders_order o
  JOIN reservations_reservation r ON r.id = o.reservation_id
 WHERE r.variant_id = %(variant)s AND {READY}
 ORDER BY r.position
 LIMIT %(limit)s
"""  # noqa: S608 (constants only)

VARIANTS_WITH_READY = f"""
SELECT DISTINCT r.variant_id
  FROM orders_order o JOIN reservations_reservation r ON r.id = o.reservation_id
 WHERE {READY}
"""  # noqa: S608 (constants only)


def advance_batch(
    *, variant_id: int, worker: str, limit: int | None = None, now: dt.datetime | None = None
) -> int:
    """Move the next `limit` ready orders of the variant to preparing; returns how many."""
    _found, moved = _next_batch(
        variant_id=variant_id,
        worker=worker,
        limit=limit or settings.PIPELINE_BATCH_SIZE,
        now=now or timezone.now(),
    )
    return moved


def advance_variant(*, variant_id: int, worker: str, batch: int | None = None) -> int:
    """Batches until the variant has no ready order left; returns how many moved."""
    limit = batch or settings.PIPELINE_BATCH_SIZE
    total = 0
    while True:
        found, moved = _next_batch(
            variant_id=variant_id, worker=worker, limit=limit, now=timezone.now()
        )
        total += moved
        # A short batch took every order that was ready: no need to ask again (the query
        # costs as much when it finds nothing). Orders ready since wait for the next run.
        if found < limit:
            return total


def _next_batch(*, variant_id: int, worker: str, limit: int, now: dt.datetime) -> tuple[int, int]:
    """(ready orders found, orders moved) for one batch, in its own transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        lock_variant_lane(variant_id)
        cursor.execute(NEXT_READY, {"variant": variant_id, "limit": limit})
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0, 0
        moved = transition_many(
            order_ids=ids, to=OrderStatus.PREPARING, actor=Actor.worker(worker), now=now
        )
    return len(ids), len(moved)


def variants_with_ready_orders() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(VARIANTS_WITH_READY)
        return [row[0] for row in cursor.fetchall()]
