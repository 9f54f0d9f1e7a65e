"""The fairness audit: did orders move in queue order, and where not, why?

For every variant and each stage (`preparing`, `shipped`), a pair (A, B) is an inversion
when B has the later queue position but reached the stage strictly before A did (A reached
it later or not at all). Equal instants are not inversions: a batch moves several orders at
once. An inversion is justified by the first of these that held for A at B's instant t:

  cancelled        A's order was cancelled, discarded or expired, or its reservation was
                   cancelled or expired (for good: every instant);
  late_submission  A's order form was not submitted yet (A.submitted_at > t, or never);
  not_ready        (shipped stage) A could not be handed over yet: it was not prepared
                   (A.preparing_at > t), or the launch embargo for its way of delivery
                   had not lifted (courier the day before launch, dawn at 18:00 the
                   evening before, festival on launch day: orders.services.embargo_lifts_at);
  on_hold          staff held A (placed_at <= t < released_at, or not released);
  no_unit          A's reservation held no unit (no allocation with allocated_at <= t <
                   released_at, or not released);

and is unexplained otherwise.

How it stays fast (set-based; 100,000 orders, 60% of them overtaken by late order forms,
take about 3 seconds): a window function gives each position the earliest and the latest
instant any later position of its variant reached the stage; only positions passed that
way (overtaken) are looked at further. For each of those, the
span during which it could be passed, (-inf, its own instant), is cut with PostgreSQL
multiranges into the instants each reason covers and the unexplained rest. Whether any
later position moved inside a span is an index range probe on a temporary table of moves.
The number of pairs grows quadratically (one late form may be passed by thousands of
orders, and a scrambled variant has n^2/4 inversions), so counts are of overtaken orders:
under every reason that justified at least one of its inversions, and as unexplained when
at least one of its inversions is. Unexplained pairs are listed one by one, the first N
(work bounded by N, however many there are).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from reservations.models import Campaign, Variant


class Justification(TextChoices):
    CANCELLED = "cancelled", _("Cancelled or expired")
    LATE_SUBMISSION = "late_submission", _("Order form submitted later")
    NOT_READY = "not_ready", _("Not prepared yet, or its delivery embargo had not lifted")
    ON_HOLD = "on_hold", _("On hold")
    NO_UNIT = "no_unit", _("No unit allocated")


STAGES = ("preparing", "shipped")


@dataclass(frozen=True)
class VariantFairness:
    variant_id: int
    label: str
    positions: int  # reservations of the variant (each with its current order, if any)
    overtaken: int  # positions passed by a later one at either stage
    justified: dict[str, int]  # Justification value -> overtaken orders it justified
    unexplained: int  # overtaken orders with at least one unexplained inversion


@dataclass(frozen=True)
class Inversion:
    """An unexplained pair: `later` reached `stage` at `later_at`, before `earlier` did."""

    variant: str
    stage: str
    earlier_position: int
    earlier_reservation: str
    earlier_order: str | None
    earlier_status: str | None
    earlier_at: dt.datetime | None
    later_position: int
    later_order: str
    later_at: dt.datetime


@dataclass(frozen=True)
class FairnessReport:
    campaign: Campaign
    variants: list[VariantFairness]
    unexplained: list[Inversion]  # the first `limit` pairs, by variant, stage, positions
    more_unexplained: bool = False  # more unexplained pairs exist than listed

    @property
    def unexplained_orders(self) -> int:
        return sum(v.unexplained for v in self.variants)

    @property
    def is_fair(self) -> bool:
        return self.unexplained_orders == 0


@dataclass(frozen=True)
class OvertakenOrder:
    """A received order passed by a later position while it was already waiting."""

    order_id: int
    position: int
    submitted_at: dt.datetime
    overtaken_since: dt.datetime  # the first instant a later position passed it
    reasons: list[str] = field(default_factory=list)  # Justification values
    unexplained: bool = False


# Every reservation of the campaigns, with its current order: the live one, else the latest.
LANE = """
CREATE TEMP TABLE fairness_lane ON COMMIT DROP AS
SELECT r.variant_id, r.position, r.id AS reservation_id, r.number AS reservation_number,
       (c.launch_date::timestamp AT TIME ZONE %(tz)s)
         - CASE r.fulfilment WHEN 'courier' THEN interval '1 day'
                             WHEN 'dawn' THEN interval '6 hours'
                             ELSE interval '0' END AS ship_from,
       (r.status IN ('cancelled', 'expired')
        OR coalesce(o.status IN ('cancelled', 'discarded', 'expired'), false)) AS closed,
       o.id AS order_id, o.number AS order_number, o.status AS order_status,
       o.submitted_at, o.preparing_at, o.shipped_at
  FROM reservations_reservation r
  JOIN reservations_campaign c ON c.id = r.campaign_id
  LEFT JOIN LATERAL (
        SELECT o.id, o.number, o.status, o.submitted_at, o.preparing_at, o.shipped_at
          FROM orders_order o
         WHERE o.reservation_id = r.id
         ORDER BY o.status IN ('cancelled', 'discarded', 'expired'), o.created_at DESC, o.id DESC
         LIMIT 1) o ON true
 WHERE r.campaign_id = ANY(%(campaigns)s)
"""

# Stored in index order, so a probe over an instant range reads adjacent pages.
MOVES = """
CREATE TEMP TABLE fairness_moves ON COMMIT DROP AS
SELECT * FROM (
    SELECT variant_id, 'preparing'::text AS stage, preparing_at AS t, position, order_number
      FROM fairness_lane WHERE preparing_at IS NOT NULL
    UNION ALL
    SELECT variant_id, 'shipped'::text, shipped_at, position, order_number
      FROM fairness_lane WHERE shipped_at IS NOT NULL
) moves
ORDER BY variant_id, stage, t
"""

# Overtaken positions, and the instants during which they could be passed, split by reason
# in priority order (cancelled, late submission, hold, no unit, unexplained).
OVERTAKEN = """
CREATE TEMP TABLE fairness_overtaken ON COMMIT DROP AS
WITH staged AS (
    SELECT l.variant_id, s.stage, l.position,
           CASE s.stage WHEN 'preparing' THEN l.preparing_at ELSE l.shipped_at END AS reached_at
      FROM fairness_lane l CROSS JOIN (VALUES ('preparing'), ('shipped')) AS s(stage)
),
later AS (
    SELECT staged.*,
           min(reached_at) OVER w AS first_passed_at,
           max(reached_at) OVER w AS last_later_at
      FROM staged
    WINDOW w AS (PARTITION BY variant_id, stage ORDER BY position DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
overtaken AS MATERIALIZED (
    SELECT later.stage, later.reached_at, later.first_passed_at, later.last_later_at, l.*
      FROM later JOIN fairness_lane l USING (position)
     WHERE later.first_passed_at < coalesce(later.reached_at, 'infinity')
),
holds AS (
    SELECT h.order_id, range_agg(tstzrange(h.placed_at, h.released_at)) AS held
      FROM fulfillment_orderhold h
     WHERE h.order_id IN (SELECT order_id FROM overtaken)
     GROUP BY h.order_id
),
units AS (
    SELECT a.reservation_id, range_agg(tstzrange(a.allocated_at, a.released_at)) AS allocated
      FROM fulfillment_allocation a
     WHERE a.reservation_id IN (SELECT reservation_id FROM overtaken)
     GROUP BY a.reservation_id
),
spans AS (
    SELECT o.*,
           tstzmultirange(tstzrange(NULL, o.reached_at)) AS waiting,
           CASE WHEN o.submitted_at IS NULL THEN '{(,)}'::tstzmultirange
                ELSE tstzmultirange(tstzrange(NULL, o.submitted_at)) END AS unsubmitted,
           CASE WHEN o.stage = 'shipped'
                THEN tstzmultirange(tstzrange(
                         NULL, greatest(coalesce(o.preparing_at, 'infinity'), o.ship_from)))
                ELSE '{}'::tstzmultirange END AS not_ready,
           coalesce(holds.held, '{}') AS held,
           coalesce(units.allocated, '{}') AS allocated
      FROM overtaken o
      LEFT JOIN holds ON holds.order_id = o.order_id
      LEFT JOIN units ON units.reservation_id = o.reservation_id
),
opened AS (
    SELECT spans.*,
           CASE WHEN closed THEN waiting ELSE '{}'::tstzmultirange END AS r_cancelled,
           CASE WHEN closed THEN '{}'::tstzmultirange ELSE waiting END AS open1
      FROM spans
)
SELECT variant_id, stage, position, reservation_number, order_id, order_number,
       order_status, submitted_at, reached_at, first_passed_at, last_later_at,
       r_cancelled,
       open1 * unsubmitted AS r_late,
       (open1 - unsubmitted) * not_ready AS r_not_ready,
       (open1 - unsubmitted - not_ready) * held AS r_hold,
       open1 - unsubmitted - not_ready - held - allocated AS r_no_unit,
       (open1 - unsubmitted - not_ready - held) * allocated AS r_unexplained
  FROM opened
"""

# Later positions of the same variant that reached the stage inside the spans `{spans}`.
PASSED_IN = """
SELECT m.position, m.order_number, m.t
  FROM unnest(o.{spans}) AS g(span)
  JOIN fairness_moves m
    ON m.variant_id = o.variant_id AND m.stage = o.stage
   AND m.t >= coalesce(lower(g.span), '-infinity') AND m.t < coalesce(upper(g.span), 'infinity')
   AND m.t <@ g.span AND m.position > o.position
"""

# Whether a later position reached the stage inside one of the spans `{spans}`. The first
# and last instants any later position reached it answer most spans without a probe: a
# span that holds either instant has one; a span after the last or before the first has
# none; only a span strictly between them needs the index.
PASSED_ANY = """
(NOT isempty(o.{spans}) AND EXISTS (
    SELECT 1 FROM unnest(o.{spans}) AS g(span)
     WHERE CASE WHEN o.first_passed_at <@ g.span OR o.last_later_at <@ g.span THEN true
                WHEN o.last_later_at < lower(g.span) OR o.first_passed_at >= upper(g.span)
                     THEN false
                ELSE EXISTS (
                    SELECT 1 FROM fairness_moves m
                     WHERE m.variant_id = o.variant_id AND m.stage = o.stage
                       AND m.t >= coalesce(lower(g.span), '-infinity')
                       AND m.t < coalesce(upper(g.span), 'infinity')
                       AND m.t <@ g.span AND m.position > o.position)
           END))
"""

# Built from constants only (no input reaches these f-strings).
CLASSIFIED = f"""
CREATE TEMP TABLE fairness_classified ON COMMIT DROP AS
SELECT o.variant_id, o.stage, o.position, o.reservation_number, o.order_id, o.order_number,
       o.order_status, o.submitted_at, o.reached_at, o.first_passed_at, o.last_later_at,
       NOT isempty(o.r_cancelled) AS by_cancelled,
       o.first_passed_at <@ o.r_late AS by_late,
       {PASSED_ANY.format(spans="r_not_ready")} AS by_not_ready,
       {PASSED_ANY.format(spans="r_hold")} AS by_hold,
       {PASSED_ANY.format(spans="r_no_unit")} AS by_no_unit,
       {PASSED_ANY.format(spans="r_unexplained")} AS unexplained
  FROM fairness_overtaken o
"""  # noqa: S608

SUMMARY = """
WITH lane AS (
    SELECT variant_id, count(*) AS positions FROM fairness_lane GROUP BY variant_id
),
passed AS (
    SELECT variant_id,
           count(DISTINCT position) AS overtaken,
           count(DISTINCT position) FILTER (WHERE by_cancelled) AS cancelled,
           count(DISTINCT position) FILTER (WHERE by_late) AS late_submission,
           count(DISTINCT position) FILTER (WHERE by_not_ready) AS not_ready,
           count(DISTINCT position) FILTER (WHERE by_hold) AS on_hold,
           count(DISTINCT position) FILTER (WHERE by_no_unit) AS no_unit,
           count(DISTINCT position) FILTER (WHERE unexplained) AS unexplained
      FROM fairness_classified GROUP BY variant_id
)
SELECT v.id, coalesce(lane.positions, 0), coalesce(passed.overtaken, 0),
       coalesce(passed.cancelled, 0), coalesce(passed.late_submission, 0),
       coalesce(passed.not_ready, 0), coalesce(passed.on_hold, 0), coalesce(passed.no_unit, 0),
       coalesce(passed.unexplained, 0)
  FROM reservations_variant v
  LEFT JOIN lane ON lane.variant_id = v.id
  LEFT JOIN passed ON passed.variant_id = v.id
 WHERE v.campaign_id = ANY(%(campaigns)s)
 ORDER BY v.model_name, v.capacity_gb, v.colour, v.id
"""

# The first unexplained pairs: the first overtaken orders that have one, and for each its
# first later positions; bounded work however many pairs there are.
UNEXPLAINED = f"""
WITH firsts AS (
    SELECT variant_id, stage, position FROM fairness_classified
     WHERE unexplained ORDER BY variant_id, stage, position LIMIT %(limit)s
)
SELECT o.variant_id, o.stage, o.position, o.reservation_number, o.order_number,
       o.order_status, o.reached_at, p.position, p.order_number, p.t
  FROM firsts f
  JOIN fairness_overtaken o USING (variant_id, stage, position)
  CROSS JOIN LATERAL ({PASSED_IN.format(spans="r_unexplained")}
                      ORDER BY m.position LIMIT %(limit)s) p
 ORDER BY o.variant_id, o.stage, o.position, p.position
 LIMIT %(limit)s
"""  # noqa: S608

# Received orders passed by a later position's move to preparing after they were submitted.
STUCK = """
SELECT order_id, position, submitted_at, first_passed_at, by_cancelled, by_late,
       by_not_ready, by_hold, by_no_unit, unexplained
  FROM fairness_classified
 WHERE stage = 'preparing' AND order_status = 'received' AND last_later_at > submitted_at
 ORDER BY submitted_at, position
"""


DROP = """
DROP TABLE IF EXISTS pg_temp.fairness_classified, pg_temp.fairness_overtaken,
                     pg_temp.fairness_moves, pg_temp.fairness_lane
"""


def _prepare(cursor, campaign_ids: list[int]) -> None:
    """Fill this transaction's temporary tables: lane, moves, overtaken, classified (dropped
    at commit, or by DROP when the caller's transaction goes on)."""
    cursor.execute(DROP)
    # The window sorts fit in memory with a little more of it (JIT, which cost more than
    # running these statements, is off for every connection: settings.DATABASES).
    # SET LOCAL ends with the transaction.
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute(LANE, {"campaigns": campaign_ids, "tz": settings.TIME_ZONE})
    cursor.execute("ANALYZE fairness_lane")
    cursor.execute(MOVES)
    cursor.execute("CREATE INDEX ON fairness_moves (variant_id, stage, t)")
    cursor.execute("ANALYZE fairness_moves")
    cursor.execute(OVERTAKEN)
    cursor.execute(CLASSIFIED)


def fairness_report(*, campaign: Campaign, limit: int | None = 50) -> FairnessReport:
    """Per-variant inversion counts of `campaign`, and its first `limit` unexplained pairs
    (all of them when `limit` is None)."""
    labels = {v.pk: str(v) for v in Variant.objects.filter(campaign=campaign)}
    ids = [campaign.pk]
    with transaction.atomic(), connection.cursor() as cursor:
        _prepare(cursor, ids)
        cursor.execute(SUMMARY, {"campaigns": ids})
        variants = [
            VariantFairness(
                variant_id=row[0],
                label=labels[row[0]],
                positions=row[1],
                overtaken=row[2],
                justified={
                    Justification.CANCELLED: row[3],
                    Justification.LATE_SUBMISSION: row[4],
                    Justification.NOT_READY: row[5],
                    Justification.ON_HOLD: row[6],
                    Justification.NO_UNIT: row[7],
                },
                unexplained=row[8],
            )
            for row in cursor.fetchall()
        ]
        # One more than asked tells whether there are more.
        cursor.execute(UNEXPLAINED, {"limit": None if limit is None else limit + 1})
        unexplained = [Inversion(labels[row[0]], *row[1:]) for row in cursor.fetchall()]
        cursor.execute(DROP)
    return FairnessReport(
        campaign=campaign,
        variants=variants,
        unexplained=unexplained[:limit],
        more_unexplained=limit is not None and len(unexplained) > limit,
    )


def stuck_orders(*, campaigns: Iterable[Campaign]) -> list[OvertakenOrder]:
    """Received orders that a later position of their variant passed (moved to preparing)
    while they were already waiting, oldest submission first, with what justified it."""
    ids = [c.pk for c in campaigns]
    with transaction.atomic(), connection.cursor() as cursor:
        _prepare(cursor, ids)
        cursor.execute(STUCK)
        rows = cursor.fetchall()
        cursor.execute(DROP)
    reasons = [
        Justification.CANCELLED,
        Justification.LATE_SUBMISSION,
        Justification.NOT_READY,
        Justification.ON_HOLD,
        Justification.NO_UNIT,
    ]
    return [
        OvertakenOrder(
            order_id=row[0],
            position=row[1],
            submitted_at=row[2],
            overtaken_since=row[3],
            reasons=[r.value for r, flag in zip(reasons, row[4:9], strict=True) if flag],
            unexplained=row[9],
        )
        for row in rows
    ]
