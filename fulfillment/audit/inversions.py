"""The inversion audit's SQL: who passed whom in queue order, and why.

How it stays fast (set-based; 100,000 orders, 60% of them overtaken by late order forms,
take about 3 seconds): a window function gives each position the earliest and the latest
instant any later position of its variant reached the stage; only positions passed that
way (overtaken) are looked at further. For each of those, the span during which it could
be passed, (-inf, its own instant), is cut with PostgreSQL multiranges into the instants
each reason covers and the unexplained rest. Whether any later position moved inside a
span is an index range probe on a temporary table of moves. The number of pairs grows
quadratically (one late form may be passed by thousands of orders, and a scrambled variant
has n^2/4 inversions), so counts are of overtaken orders: under every reason that justified
at least one of its inversions, and as unexplained when at least one of its inversions is.
Unexplained pairs are listed one by one, the first N (work bounded by N, however many
there are).

A recorded queue exception belongs to the order that moved (the later position), not to
the one it passed, so it cannot be a span of the earlier order's time like the other
reasons. Each move carries the lowest position its exception covers (`excused_from`); of
the moves inside the unexplained rest, those whose exception covers the earlier position
justify, the others stay unexplained. Exceptions are rare staff moves: the positions they
cover (a multirange per variant) rule out almost every order with one containment test, a
partial index holds only those moves for the rest, and an order no exception covers is
answered by the fast path as before.
"""

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

# Stored in index order, so a probe over an instant range reads adjacent pages. A move to
# preparing with a recorded queue exception carries the lowest position it passed.
MOVES = """
CREATE TEMP TABLE fairness_moves ON COMMIT DROP AS
SELECT * FROM (
    SELECT l.variant_id, 'preparing'::text AS stage, l.preparing_at AS t, l.position,
           l.order_id, l.order_number, q.passed_position::bigint AS excused_from
      FROM fairness_lane l
      LEFT JOIN fulfillment_queueexception q ON q.order_id = l.order_id
     WHERE l.preparing_at IS NOT NULL
    UNION ALL
    SELECT variant_id, 'shipped'::text, shipped_at, position, order_id, order_number, NULL
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

# Later positions of the same variant that reached the stage inside the spans `{spans}`,
# and `{also}`.
PASSED_IN = """
SELECT m.position, m.order_id, m.order_number, m.t
  FROM unnest(o.{spans}) AS g(span)
  JOIN fairness_moves m
    ON m.variant_id = o.variant_id AND m.stage = o.stage
   AND m.t >= coalesce(lower(g.span), '-infinity') AND m.t < coalesce(upper(g.span), 'infinity')
   AND m.t <@ g.span AND m.position > o.position {also}
"""

# A move whose recorded queue exception does (not) cover the earlier position `o`.
EXCUSED = "AND m.excused_from IS NOT NULL AND m.excused_from <= o.position"
UNEXCUSED = "AND (m.excused_from IS NULL OR m.excused_from > o.position)"

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

# Built from constants only (no input reaches these f-strings). Queue exceptions justify
# only what nothing else did (the unexplained rest), and only at the preparing stage.
CLASSIFIED = f"""
CREATE TEMP TABLE fairness_classified ON COMMIT DROP AS
WITH covers AS (
    SELECT variant_id, range_agg(int8range(excused_from, position)) AS positions
      FROM fairness_moves WHERE excused_from < position GROUP BY variant_id
),
excused AS (
    SELECT o.*,
           (o.stage = 'preparing' AND coalesce(o.position <@ covers.positions, false)
            AND NOT isempty(o.r_unexplained)
            AND EXISTS ({PASSED_IN.format(spans="r_unexplained", also=EXCUSED)})) AS by_exception
      FROM fairness_overtaken o
      LEFT JOIN covers USING (variant_id)
)
SELECT o.variant_id, o.stage, o.position, o.reservation_number, o.order_id, o.order_number,
       o.order_status, o.submitted_at, o.reached_at, o.first_passed_at, o.last_later_at,
       NOT isempty(o.r_cancelled) AS by_cancelled,
       o.first_passed_at <@ o.r_late AS by_late,
       {PASSED_ANY.format(spans="r_not_ready")} AS by_not_ready,
       {PASSED_ANY.format(spans="r_hold")} AS by_hold,
       {PASSED_ANY.format(spans="r_no_unit")} AS by_no_unit,
       o.by_exception,
       CASE WHEN o.by_exception
            THEN EXISTS ({PASSED_IN.format(spans="r_unexplained", also=UNEXCUSED)})
            ELSE {PASSED_ANY.format(spans="r_unexplained")} END AS unexplained
  FROM excused o
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
           count(DISTINCT position) FILTER (WHERE by_exception) AS queue_exception,
           count(DISTINCT position) FILTER (WHERE unexplained) AS unexplained
      FROM fairness_classified GROUP BY variant_id
)
SELECT v.id, coalesce(lane.positions, 0), coalesce(passed.overtaken, 0),
       coalesce(passed.cancelled, 0), coalesce(passed.late_submission, 0),
       coalesce(passed.not_ready, 0), coalesce(passed.on_hold, 0), coalesce(passed.no_unit, 0),
       coalesce(passed.queue_exception, 0), coalesce(passed.unexplained, 0)
  FROM reservations_variant v
  LEFT JOIN lane ON lane.variant_id = v.id
  LEFT JOIN passed ON passed.variant_id = v.id
 WHERE v.campaign_id = ANY(%(campaigns)s)
 ORDER BY v.model_name, v.capacity_gb, v.colour, v.id
"""

# The first unexplained pairs: the first overtaken orders that have one, and for each its
# first later positions; bounded work however many pairs there are. With who made the
# later move (its history row), so a staff move out of order shows as one.
UNEXPLAINED = f"""
WITH firsts AS (
    SELECT variant_id, stage, position FROM fairness_classified
     WHERE unexplained ORDER BY variant_id, stage, position LIMIT %(limit)s
)
SELECT o.variant_id, o.stage, o.position, o.reservation_number, o.order_number,
       o.order_status, o.reached_at, p.position, p.order_number, p.t,
       h.actor_kind, h.actor_user_id, h.actor_label
  FROM firsts f
  JOIN fairness_overtaken o USING (variant_id, stage, position)
  CROSS JOIN LATERAL ({PASSED_IN.format(spans="r_unexplained", also=UNEXCUSED)}
                      ORDER BY m.position LIMIT %(limit)s) p
  LEFT JOIN orders_ordertransition h ON h.order_id = p.order_id AND h.to_status = o.stage
 ORDER BY o.variant_id, o.stage, o.position, p.position
 LIMIT %(limit)s
"""  # noqa: S608

# Received orders passed by a later position's move to preparing after they were submitted.
STUCK = """
SELECT order_id, position, submitted_at, first_passed_at, by_cancelled, by_late,
       by_not_ready, by_hold, by_no_unit, by_exception, unexplained
  FROM fairness_classified
 WHERE stage = 'preparing' AND order_status = 'received' AND last_later_at > submitted_at
 ORDER BY submitted_at, position
"""


DROP = """
DROP TABLE IF EXISTS pg_temp.fairness_classified, pg_temp.fairness_overtaken,
                     pg_temp.fairness_moves, pg_temp.fairness_lane
"""


def prepare(cursor, campaign_ids: list[int], tz: str) -> None:
    """Fill this transaction's temporary tables: lane, moves, overtaken, classified (dropped
    at commit, or by DROP when the caller's transaction goes on)."""
    cursor.execute(DROP)
    # The window sorts fit in memory with a little more of it (JIT, which cost more than
    # running these statements, is off for every connection: settings.DATABASES).
    # SET LOCAL ends with the transaction.
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute(LANE, {"campaigns": campaign_ids, "tz": tz})
    cursor.execute("ANALYZE fairness_lane")
    cursor.execute(MOVES)
    cursor.execute("CREATE INDEX ON fairness_moves (variant_id, stage, t)")
    cursor.execute(
        "CREATE INDEX ON fairness_moves (variant_id, stage, t) WHERE excused_from IS NOT NULL"
    )
    cursor.execute("ANALYZE fairness_moves")
    cursor.execute(OVERTAKEN)
    cursor.execute(CLASSIFIED)
