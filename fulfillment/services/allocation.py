"""FCFS allocation: units of a variant go to its reservations in queue-position order.

Set-based SQL, one variant at a time under the variant's queue lock (advisory lock
(1, variant id), exclusive). Reservation intake holds the same lock in shared mode while
it draws a position and until it commits, so when allocation holds it, every position of
the variant that was ever drawn is committed or gone: allocation never passes over a
lower position still in flight. Variants are independent and may run in parallel.

A run is idempotent: it first releases the units of reservations that ended (cancelled,
or expired at the order-form deadline), then gives every free unit of an arrived lot to
the lowest positions still waiting. Freed units therefore go to the next in line, never
to newcomers. Once the order-form deadline has passed only reservations with a submitted
order are in line: a customer whose reservation is about to expire (close_order_window
may not have run yet) is never told that a phone is reserved for them.

A run costs what it changes, not the size of the ledger (beat runs it every minute). The
database keeps three answers ready (migration 0009): which ended reservations may still
hold a unit (fulfillment_release_due), how many units each lot has given out
(fulfillment_lot_usage), and a queue position per variant below which every holding
reservation holds a unit (fulfillment_allocation_frontier). A variant with nothing due and
no free unit for someone waiting is passed over without taking its lock, so an idle run
neither waits for nor pauses intake.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from preorder_shop.actors import Actor, ActorKind
from preorder_shop.operations import record_operation
from preorder_shop.outbox import queue_from_select
from reservations.models import Campaign, Variant

QUEUE_LOCK = 1  # advisory lock class shared with the reservation trigger (migration 0003)
BEAT = Actor.worker("beat:allocate-arrived-stock")  # who runs allocation unless told


@dataclass(frozen=True)
class VariantAllocation:
    variant: Variant
    released: int
    allocated: int


# Which of the variants have work: a release due, or a free unit of an arrived lot while
# someone waits above the frontier. Read without the queue lock: a change this cannot see
# yet (uncommitted) is one the locked run could not see either, and the next run does it.
VARIANTS_WITH_WORK = """
SELECT v.id
  FROM reservations_variant v
  JOIN reservations_campaign c ON c.id = v.campaign_id
  LEFT JOIN fulfillment_allocation_frontier f ON f.variant_id = v.id
 WHERE v.id = ANY(%(variants)s)
   AND (EXISTS (SELECT 1 FROM fulfillment_release_due d WHERE d.variant_id = v.id)
        OR (EXISTS (SELECT 1 FROM fulfillment_stocklot l
                      LEFT JOIN fulfillment_lot_usage u ON u.lot_id = l.id
                     WHERE l.variant_id = v.id AND l.arrives_at <= %(now)s
                       AND l.quantity > coalesce(u.active, 0))
            AND EXISTS (SELECT 1 FROM reservations_reservation r
                         WHERE r.variant_id = v.id AND r.status IN ('active', 'ordered')
                           AND r.position > coalesce(f.position, 0)
                           AND (r.status = 'ordered' OR %(now)s < c.order_closes_at)
                           AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                                            WHERE a.reservation_id = r.id
                                              AND a.released_at IS NULL))))
"""

# The variant's frontier row, locked for the run (created at 0, always true, if missing):
# a release by another writer that lowers it waits for this run, or this run reads it lowered.
LOCK_FRONTIER = """
INSERT INTO fulfillment_allocation_frontier AS f (variant_id, position)
VALUES (%(variant)s, 0)
ON CONFLICT (variant_id) DO UPDATE SET position = f.position
RETURNING position
"""

RELEASE_DUE = """
WITH due AS (
    DELETE FROM fulfillment_release_due WHERE variant_id = %(variant)s
    RETURNING reservation_id, reason
)
UPDATE fulfillment_allocation a
   SET released_at = GREATEST(%(now)s, a.allocated_at), release_reason = due.reason
  FROM due
 WHERE a.reservation_id = due.reservation_id AND a.released_at IS NULL
"""

FREE_UNITS = """
SELECT coalesce(sum(GREATEST(l.quantity - coalesce(u.active, 0), 0)), 0)
  FROM fulfillment_stocklot l LEFT JOIN fulfillment_lot_usage u ON u.lot_id = l.id
 WHERE l.variant_id = %(variant)s AND l.arrives_at <= %(now)s
"""

# One statement allocates and queues the notices. Free units of arrived lots, oldest lot
# first, numbered 1..n; waiting reservations above the frontier in position order, numbered
# 1..m; unit k goes to reservation k; each new allocation's customer gets an
# 'allocation.reserved' message, built from the reservation row the queue read. These are
# the WITH clauses; queue_from_select adds the outbox INSERT. %(free)s is the units count
# read just before under the lock, so the planner sees how many rows the line must give.
#
# Before the order-form deadline everyone holding is in line, so the same statement moves
# the frontier: to just below the first waiting reservation left without a unit (the line
# is read one row further for it), or, when the line above the frontier ran out, to the
# last holding position. After the deadline ADVANCE_FRONTIER does it.
ALLOCATE = """
lots AS (
    SELECT l.id, l.arrives_at, l.quantity - coalesce(u.active, 0) AS free
      FROM fulfillment_stocklot l LEFT JOIN fulfillment_lot_usage u ON u.lot_id = l.id
     WHERE l.variant_id = %(variant)s AND l.arrives_at <= %(now)s
),
units AS (
    SELECT lots.id AS lot_id,
           row_number() OVER (ORDER BY lots.arrives_at, lots.id, g.n) AS k
      FROM lots CROSS JOIN LATERAL generate_series(1, GREATEST(lots.free, 0)) AS g(n)
),
waiting AS (
    SELECT r.id AS reservation_id, r.position, r.number, r.status, r.customer_id,
           row_number() OVER (ORDER BY r.position) AS k
      FROM reservations_reservation r
     WHERE r.variant_id = %(variant)s AND r.position > %(frontier)s
       AND r.status IN ('active', 'ordered')
       AND (r.status = 'ordered' OR %(now)s < %(order_closes_at)s)
       AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                        WHERE a.reservation_id = r.id AND a.variant_id = %(variant)s
                          AND a.released_at IS NULL)
     ORDER BY r.position
     LIMIT %(free)s + 1
),
allocated AS (
    INSERT INTO fulfillment_allocation
           (variant_id, reservation_id, lot_id, allocated_at, released_at, release_reason)
    SELECT %(variant)s, w.reservation_id, u.lot_id, %(now)s, NULL, ''
      FROM waiting w JOIN units u ON u.k = w.k
    RETURNING id, reservation_id
),
frontier AS (
    UPDATE fulfillment_allocation_frontier f
       SET position = GREATEST(f.position, coalesce(
           (SELECT min(w.position) - 1 FROM waiting w
             WHERE w.k > (SELECT count(*) FROM units)),
           CASE WHEN (SELECT count(*) FROM waiting) <= %(free)s
                THEN (SELECT max(r.position) FROM reservations_reservation r
                       WHERE r.variant_id = %(variant)s AND r.status IN ('active', 'ordered'))
                ELSE (SELECT max(w.position) FROM waiting w) END))
     WHERE f.variant_id = %(variant)s AND %(now)s < %(order_closes_at)s
)
"""

NOTIFY_ALLOCATED = """
SELECT 'sms', c.phone, 'allocation.reserved', c.language,
       jsonb_build_object('reservation_number', w.number, 'customer_name', c.name,
                          'variant', %(label)s::text, 'ordered', w.status = 'ordered',
                          'order_deadline', %(deadline)s::text),
       'allocation:' || a.id, 'reservation:' || a.reservation_id
  FROM allocated a
  JOIN waiting w ON w.reservation_id = a.reservation_id
  JOIN preorder_shop_customer c ON c.id = w.customer_id
"""

# After the deadline, reservations without an order form hold their place but wait for
# nothing: the frontier moves up to just below the first holding reservation still without
# a unit (or to the last holding position if there is none), reading the line from the old
# frontier over the units just given, so it costs what the run allocated.
ADVANCE_FRONTIER = """
UPDATE fulfillment_allocation_frontier f
   SET position = GREATEST(f.position, coalesce(
       (SELECT r.position - 1 FROM reservations_reservation r
         WHERE r.variant_id = f.variant_id AND r.status IN ('active', 'ordered')
           AND r.position > f.position
           AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                            WHERE a.reservation_id = r.id AND a.released_at IS NULL)
         ORDER BY r.position LIMIT 1),
       (SELECT max(r.position) FROM reservations_reservation r
         WHERE r.variant_id = f.variant_id AND r.status IN ('active', 'ordered')),
       0))
 WHERE f.variant_id = %(variant)s
"""


def variants_with_work(*, variant_ids: list[int], now: dt.datetime) -> set[int]:
    """The variants among `variant_ids` for which a run would change something."""
    with connection.cursor() as cursor:
        cursor.execute(VARIANTS_WITH_WORK, {"variants": variant_ids, "now": now})
        return {row[0] for row in cursor.fetchall()}


def allocate_variant(*, variant: Variant, now: dt.datetime | None = None) -> VariantAllocation:
    """Release ended reservations' units and allocate free units in queue order; customers
    who get a unit are told. Returns what changed. Inside a caller's transaction (a staff
    cancel) it sees that transaction's changes, so a unit it freed goes to the next in line
    at once."""
    now = now or timezone.now()
    if not variants_with_work(variant_ids=[variant.pk], now=now):
        return VariantAllocation(variant=variant, released=0, allocated=0)
    return _allocate_locked(variant=variant, now=now)


def _allocate_locked(*, variant: Variant, now: dt.datetime) -> VariantAllocation:
    campaign = variant.campaign
    deadline = timezone.localtime(campaign.order_closes_at).strftime("%Y-%m-%d %H:%M")
    params = {"variant": variant.pk, "now": now, "order_closes_at": campaign.order_closes_at}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUEUE_LOCK, variant.pk])
        cursor.execute(LOCK_FRONTIER, params)
        (frontier,) = cursor.fetchone()
        cursor.execute(RELEASE_DUE, params)
        released = cursor.rowcount
        cursor.execute(FREE_UNITS, params)
        (free,) = cursor.fetchone()
        allocated = 0
        if free:
            # One notice per new allocation: the count of either.
            allocated = queue_from_select(
                NOTIFY_ALLOCATED,
                {
                    **params,
                    "frontier": frontier,
                    "free": free,
                    "label": str(variant),
                    "deadline": deadline,
                },
                ctes=ALLOCATE,
                keys_are_new=True,  # 'allocation:<id>' of the rows this statement inserts
            )
        if (allocated or released) and now >= campaign.order_closes_at:
            cursor.execute(ADVANCE_FRONTIER, params)
    return VariantAllocation(variant=variant, released=released, allocated=allocated)


def allocate_campaign(
    *,
    campaign: Campaign,
    now: dt.datetime | None = None,
    progress=None,
    actor: Actor = BEAT,
) -> list[VariantAllocation]:
    """allocate_variant for each variant of the campaign (each in its own transaction); one
    query first picks the variants with work, and the others are reported unchanged.

    The run goes into the operations log when an operator ran it, or when it changed
    something (beat's idle ticks, once a minute, are not worth a row each)."""
    now = now or timezone.now()
    variants = list(campaign.variants.select_related("campaign").order_by("pk"))
    busy = variants_with_work(variant_ids=[v.pk for v in variants], now=now)
    results = []
    for variant in variants:
        if variant.pk in busy:
            results.append(_allocate_locked(variant=variant, now=now))
        else:
            results.append(VariantAllocation(variant=variant, released=0, allocated=0))
        if progress is not None:
            progress(variant)
    allocated = sum(r.allocated for r in results)
    released = sum(r.released for r in results)
    if allocated or released or actor.kind == ActorKind.OPERATOR:
        record_operation(
            action="fulfillment.allocate",
            actor=actor,
            reference=campaign.slug,
            summary={"allocated": allocated, "released": released, "variants": len(busy)},
            at=now,
        )
    return results


REMINDER_WINDOW = dt.timedelta(hours=24)

REMIND = """
SELECT 'sms', c.phone, 'allocation.deadline_reminder', c.language,
       jsonb_build_object('reservation_number', r.number, 'customer_name', c.name,
                          'variant', %(label)s::text, 'order_deadline', %(deadline)s::text),
       'reminder:' || a.id, 'reservation:' || r.id
  FROM fulfillment_allocation a
  JOIN reservations_reservation r ON r.id = a.reservation_id
  JOIN preorder_shop_customer c ON c.id = r.customer_id
 WHERE a.variant_id = %(variant)s AND a.released_at IS NULL AND r.status = 'active'
"""


def remind_before_deadline(*, campaign: Campaign, now: dt.datetime | None = None) -> int:
    """In the last 24 hours before the order-form deadline, tell each customer who holds a
    unit but has not submitted an order form that the unit goes to the next in line at the
    deadline. Once per allocation (idempotency key), so beat may run it often."""
    now = now or timezone.now()
    if not (campaign.order_closes_at - REMINDER_WINDOW <= now < campaign.order_closes_at):
        return 0
    deadline = timezone.localtime(campaign.order_closes_at).strftime("%Y-%m-%d %H:%M")
    with transaction.atomic():
        return sum(
            queue_from_select(
                REMIND, {"variant": variant.pk, "label": str(variant), "deadline": deadline}
            )
            for variant in campaign.variants.all()
        )
