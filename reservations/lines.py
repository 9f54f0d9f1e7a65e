"""A variant's line in counted form: place in line and the line's total without counting the
line on every read (issue 13).

The counters are two tables of migration 0009, which explains them and why they stay exact
under concurrency: per variant a watermark `counted_upto` with the total the last refresh
found, and per 4,096 positions (a bucket) the holding reservations at or below the
watermark. Cancels and expiries subtract from the buckets in their own transaction (a
trigger); the refresh below adds new arrivals. So a place is the sum of the buckets before
the reservation's own plus a count of at most one bucket and the arrivals since the last
refresh, exact at read time; the total is exact as of its time.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction

from .models import HOLDING_STATUSES
from .services import QUEUE_LOCK

# Positions per bucket. Migration 0009's trigger divides by the same literal: a new size
# means a new migration that rebuilds the buckets.
BUCKET = 4096
_HOLDING = ", ".join(f"'{status.value}'" for status in HOLDING_STATUSES)


# One statement per read. Without a refreshed count (a new campaign's first seconds) the
# place is counted from the start of the line and the total counted live, as before.
# `variant` and `position` are SQL: parameters here, a joined reservation's columns in a
# statement that reads a standing beside other things (orders.status_load).
def standing_sql(*, variant: str, position: str) -> str:
    """The standing's statement (columns place, total, total_at, live_total; read them with
    standing_from_row)."""
    return f"""
WITH counted AS (
    SELECT LEAST({position}, counted_upto) / {BUCKET} AS bucket, total, total_at
      FROM reservations_line_count
     WHERE variant_id = {variant} AND total_at IS NOT NULL
), start AS (
    SELECT coalesce((SELECT bucket FROM counted), 0) AS bucket
)
SELECT (SELECT coalesce(sum(b.holding), 0) FROM reservations_line_bucket b
         WHERE b.variant_id = {variant} AND b.bucket < (SELECT bucket FROM start))
     + (SELECT count(*) FROM reservations_reservation line
         WHERE line.variant_id = {variant} AND line.status IN ({_HOLDING})
           AND line.position >= (SELECT bucket FROM start) * {BUCKET}
           AND line.position <= {position}) AS place,
       (SELECT total FROM counted) AS total,
       (SELECT total_at FROM counted) AS total_at,
       CASE WHEN NOT EXISTS (SELECT FROM counted) THEN
           (SELECT count(*) FROM reservations_reservation line
             WHERE line.variant_id = {variant} AND line.status IN ({_HOLDING}))
       END AS live_total
"""  # noqa: S608 (constants and the caller's column names only)


_STANDING = standing_sql(variant="%(variant)s", position="%(position)s")


def standing(*, variant_id: int, position: int) -> tuple[int, int, dt.datetime | None]:
    """(place, total, total_at) of a holding reservation at `position` in the variant's
    line; total_at is None when the total was counted just now."""
    with connection.cursor() as cursor:
        cursor.execute(_STANDING, {"variant": variant_id, "position": position})
        return standing_from_row(*cursor.fetchone())


def standing_from_row(
    place: int, total: int | None, total_at: dt.datetime | None, live_total: int | None
) -> tuple[int, int, dt.datetime | None]:
    """The total is never below the place: a reservation newer than the count is last in
    it."""
    if total_at is None:
        return place, live_total, None
    return place, max(total, place), total_at


# Variants whose count is behind: holding arrivals above the watermark, or a total that no
# longer equals its buckets (reservations left the line). Others keep their total and time.
_BEHIND = f"""
SELECT v.id, c.variant_id IS NOT NULL
  FROM reservations_variant v
  LEFT JOIN reservations_line_count c ON c.variant_id = v.id
 WHERE (%(all)s OR v.id = ANY(%(ids)s::bigint[]))
   AND (EXISTS (SELECT FROM reservations_reservation r
                 WHERE r.variant_id = v.id AND r.status IN ({_HOLDING})
                   AND r.position > coalesce(c.counted_upto, 0))
        OR c.total <> (SELECT coalesce(sum(b.holding), 0) FROM reservations_line_bucket b
                        WHERE b.variant_id = v.id))
 ORDER BY v.id
"""  # noqa: S608 (constants only)

_WATERMARK = f"""
SELECT coalesce(max(position), 0) FROM reservations_reservation
 WHERE variant_id = %s AND status IN ({_HOLDING})
"""  # noqa: S608 (constants only)

_COUNT_ARRIVALS = f"""
INSERT INTO reservations_line_bucket AS b (variant_id, bucket, holding)
SELECT variant_id, position / {BUCKET}, count(*) FROM reservations_reservation
 WHERE variant_id = %(variant)s AND status IN ({_HOLDING})
   AND position > %(upto)s AND position <= %(watermark)s
 GROUP BY 1, 2 ORDER BY 2
ON CONFLICT (variant_id, bucket) DO UPDATE SET holding = b.holding + excluded.holding
"""  # noqa: S608 (constants only)

# total_at moves only when the total does: an unchanged line keeps an unchanged standing
# (and so an unchanged ETag for pollers); the total is as exact at its old time as now.
_SET_TOTAL = """
WITH buckets AS (
    SELECT coalesce(sum(holding), 0) AS total FROM reservations_line_bucket
     WHERE variant_id = %(variant)s
)
UPDATE reservations_line_count c
   SET counted_upto = GREATEST(c.counted_upto, %(watermark)s),
       total = buckets.total,
       total_at = CASE WHEN c.total_at IS NULL OR c.total <> buckets.total
                       THEN statement_timestamp() ELSE c.total_at END
  FROM buckets
 WHERE c.variant_id = %(variant)s
"""


def refresh_line_counts(*, variant_ids: Iterable[int] | None = None) -> list[int]:
    """Bring the counts of the variants that are behind (all, or those of `variant_ids`) up
    to date; return the ids of those refreshed. Idempotent, safe to run concurrently with
    itself, intake, cancels and expiries.

    Each step is a transaction of its own (durable: the argument of migration 0009 rests on
    their commits), so intake waits for the variant's queue lock only for one small read."""
    ids = None if variant_ids is None else list(variant_ids)
    with connection.cursor() as cursor:
        cursor.execute(_BEHIND, {"all": ids is None, "ids": ids or []})
        behind = cursor.fetchall()
    for variant_id, has_row in behind:
        if not has_row:
            with transaction.atomic(durable=True), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO reservations_line_count (variant_id) VALUES (%s)"
                    " ON CONFLICT DO NOTHING",
                    [variant_id],
                )
        watermark = _watermark(variant_id)
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(
                "SELECT counted_upto FROM reservations_line_count WHERE variant_id = %s"
                " FOR UPDATE",
                [variant_id],
            )
            [upto] = cursor.fetchone()
            params = {"variant": variant_id, "upto": upto, "watermark": watermark}
            if watermark > upto:
                cursor.execute(_COUNT_ARRIVALS, params)
            cursor.execute(_SET_TOTAL, params)
    return [variant_id for variant_id, _has_row in behind]


def _watermark(variant_id: int) -> int:
    """The highest holding position of the variant, read under its queue lock held
    exclusively: every position drawn for the variant so far is then committed or rolled
    back (migration 0003), and every later one is drawn above it."""
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUEUE_LOCK, variant_id])
        cursor.execute(_WATERMARK, [variant_id])
        return cursor.fetchone()[0]
