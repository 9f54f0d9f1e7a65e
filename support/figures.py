"""The support desk's figures for one campaign (issue 15, section 5): per day in the desk's
zone (support.shifts.desk_zone) and per category, tickets opened, first-response time (p50,
p90), the share of first responses within the SLA, deflection rate, callbacks kept; the
backlog now, by how long each open ticket has waited; and the tickets that missed a
deadline.

Read by the staff page (support.figures_admin) and `manage.py support_report`, so both
show the same numbers. Each figure is computed in PostgreSQL (date_trunc at the desk's
zone, percentile_cont, FILTER, GROUPING SETS): one query each for the per-day figures,
the backlog and the breaches, whatever the number of tickets.

Which tickets are a campaign's: those about one of its reservations or orders, and those
about nothing in particular (signed-out contact-form tickets, general questions) opened
from its reservations' opening on. Deflections name no reservation, so they count from
that opening on too. A ticket about another campaign's reservation is never counted.

First response: the ticket's first_responded_at (support.sla: its first staff message the
customer sees; internal notes are no answer), measured against first_response_due_at.
Tickets not answered yet have no response time; the backlog shows them instead.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.models import Campaign

from .models import (
    OUTCOMES,
    SOLVED_STATUSES,
    CallbackStatus,
    SlaPolicy,
    TicketCategory,
    TicketStatus,
)
from .shifts import desk_zone

# The backlog's age buckets: an open ticket's wait since it last became open (opened, or
# the customer wrote again), under each bound; the last bucket has none.
BACKLOG_BOUNDS = (
    dt.timedelta(hours=1),
    dt.timedelta(hours=4),
    dt.timedelta(hours=24),
    dt.timedelta(days=3),
)
BACKLOG_LABELS = (
    _("under 1 h"),
    _("1–4 h"),  # noqa: RUF001 - a range
    _("4–24 h"),  # noqa: RUF001 - a range
    _("1–3 days"),  # noqa: RUF001 - a range
    _("over 3 days"),
)

# A ticket is the campaign's (t: support_ticket, r: its reservation, if any).
CAMPAIGNS = """(r.campaign_id = %(campaign)s
                OR (t.reservation_id IS NULL AND t.created_at >= %(opens)s))"""

# One row per ticket opened in [start, now), per deflection and per callback whose outcome
# is recorded (kept or missed; its day is its slot's, its category its ticket's), with its
# day in the desk's zone, grouped four ways: per day and category, per day, per category,
# and over all. `met`: the first response came by its deadline; NULL while that is
# undecided (not answered and not due yet, or its clock stopped with time left).
PER_DAY = f"""
WITH stream AS (
    SELECT date_trunc('day', t.created_at AT TIME ZONE %(zone)s)::date AS day,
           t.category, 'ticket' AS kind,
           CASE WHEN t.first_responded_at < %(now)s
                THEN t.first_responded_at - t.created_at END AS response,
           CASE WHEN t.first_response_due_at IS NULL THEN NULL
                WHEN t.first_responded_at < %(now)s
                THEN t.first_responded_at <= t.first_response_due_at
                WHEN t.first_response_due_at < %(now)s THEN FALSE END AS met,
           NULL::boolean AS kept
      FROM support_ticket t
      LEFT JOIN reservations_reservation r ON r.id = t.reservation_id
     WHERE t.created_at >= %(start)s AND t.created_at < %(now)s AND {CAMPAIGNS}
    UNION ALL
    SELECT date_trunc('day', d.at AT TIME ZONE %(zone)s)::date, d.category, 'deflection',
           NULL, NULL, NULL
      FROM support_deflection d
     WHERE d.at >= %(start)s AND d.at >= %(opens)s AND d.at < %(now)s
    UNION ALL
    SELECT date_trunc('day', s.starts_at AT TIME ZONE %(zone)s)::date, t.category, 'callback',
           NULL, NULL, b.status = %(kept)s
      FROM support_callbackbooking b
      JOIN support_callbackslot s ON s.id = b.slot_id
      JOIN support_ticket t ON t.id = b.ticket_id
      LEFT JOIN reservations_reservation r ON r.id = t.reservation_id
     WHERE b.status = ANY(%(called)s) AND b.outcome_at < %(now)s
       AND s.starts_at >= %(start)s AND {CAMPAIGNS}
)
SELECT day, category,
       count(*) FILTER (WHERE kind = 'ticket'),
       count(response),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY response),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY response),
       count(met),
       count(*) FILTER (WHERE met),
       count(*) FILTER (WHERE kind = 'deflection'),
       count(kept),
       count(*) FILTER (WHERE kept)
  FROM stream
 GROUP BY GROUPING SETS ((day, category), (day), (category), ())
"""  # noqa: S608 - constants only

# Open tickets of the campaign (whenever opened) per age bucket, per category and over all.
BACKLOG = f"""
SELECT category, bucket, count(*)
  FROM (SELECT t.category,
               width_bucket(%(now)s::timestamptz - t.status_changed_at, %(bounds)s::interval[])
                   AS bucket
          FROM support_ticket t
          LEFT JOIN reservations_reservation r ON r.id = t.reservation_id
         WHERE t.status = %(open)s AND t.status_changed_at <= %(now)s AND {CAMPAIGNS}) waiting
 GROUP BY GROUPING SETS ((category, bucket), (bucket))
"""  # noqa: S608 - constants only

# The campaign's tickets opened in [start, now) that missed a deadline as of now: the
# first response after it (or none yet past it), the solving after it (or unsolved past
# it); support.sla.breached says the same of one ticket.
BREACHES = f"""
SELECT number, first_response, resolution, btrim(reason) <> ''
  FROM (SELECT t.number, t.created_at, t.sla_breach_reason AS reason,
               COALESCE(COALESCE(t.first_responded_at, %(now)s) > t.first_response_due_at,
                        FALSE) AS first_response,
               COALESCE(COALESCE(CASE WHEN t.status = ANY(%(solved)s) THEN t.solved_at END,
                                 %(now)s) > t.resolution_due_at, FALSE) AS resolution
          FROM support_ticket t
          LEFT JOIN reservations_reservation r ON r.id = t.reservation_id
         WHERE t.created_at >= %(start)s AND t.created_at < %(now)s AND {CAMPAIGNS}) due
 WHERE first_response OR resolution
 ORDER BY created_at, number
"""  # noqa: S608 - constants only


@dataclass(frozen=True)
class Cell:
    """The figures of one day and category. `day` None: every day of the period;
    `category` None: every category."""

    day: dt.date | None
    category: str | None
    opened: int = 0
    answered: int = 0  # of those opened, how many have had a first response
    response_p50: dt.timedelta | None = None
    response_p90: dt.timedelta | None = None
    sla_decided: int = 0  # answered, or past the first response's deadline unanswered
    sla_met: int = 0  # of those, answered by the deadline
    deflected: int = 0  # form attempts a help article answered (no ticket sent)
    callbacks: int = 0  # calls whose outcome an agent recorded (kept or missed)
    callbacks_kept: int = 0

    @property
    def kept_rate(self) -> float | None:
        """The share of recorded callbacks that were kept; None with none."""
        return self.callbacks_kept / self.callbacks if self.callbacks else None

    @property
    def within_sla(self) -> float | None:
        """The share of decided first responses given by their deadline; None with none."""
        return self.sla_met / self.sla_decided if self.sla_decided else None

    @property
    def deflection_rate(self) -> float | None:
        """The share of ended form attempts an article answered: deflected / (deflected +
        tickets opened), as the deflections' admin page counts it; None with neither."""
        ended = self.deflected + self.opened
        return self.deflected / ended if ended else None


@dataclass(frozen=True)
class Breach:
    """A ticket of the period that missed a deadline (ticket number only: no personal
    data)."""

    number: str
    first_response: bool
    resolution: bool
    explained: bool  # an agent recorded a reason (support.services.deadlines.explain_breach)


@dataclass(frozen=True)
class Figures:
    campaign: Campaign
    since: dt.date  # first day, in the desk's zone
    until: dt.date  # last day (today, in the desk's zone)
    now: dt.datetime
    cells: dict[tuple[dt.date | None, str | None], Cell] = field(repr=False)
    # category (None: all) -> open tickets per BACKLOG_BOUNDS bucket
    backlog: dict[str | None, tuple[int, ...]] = field(repr=False)
    breaches: list[Breach] = field(repr=False)

    @property
    def days(self) -> list[dt.date]:
        count = (self.until - self.since).days + 1
        return [self.since + dt.timedelta(days=n) for n in range(max(count, 0))]

    @property
    def categories(self) -> list[tuple[str, str]]:
        return list(TicketCategory.choices)

    def cell(self, day: dt.date | None = None, category: str | None = None) -> Cell:
        """The figures of `day` and `category` (None: all of them); zeros for none."""
        return self.cells.get((day, category)) or Cell(day, category)

    def backlog_of(self, category: str | None = None) -> tuple[int, ...]:
        return self.backlog.get(category, (0,) * len(BACKLOG_LABELS))

    @property
    def unexplained(self) -> list[Breach]:
        """Breaches without a recorded reason: what support_report fails on."""
        return [b for b in self.breaches if not b.explained]


def default_since(campaign: Campaign) -> dt.date:
    """The day the campaign's reservations opened, in the desk's zone."""
    return campaign.reservation_opens_at.astimezone(desk_zone()).date()


def desk_figures(
    *, campaign: Campaign, since: dt.date | None = None, now: dt.datetime | None = None
) -> Figures:
    """The campaign's figures from the start of `since` (default: its reservations'
    opening day) to `now`, days in the desk's zone. Three queries."""
    now = now or timezone.now()
    zone = desk_zone()
    since = since or default_since(campaign)
    params = {
        "campaign": campaign.pk,
        "opens": campaign.reservation_opens_at,
        "start": dt.datetime.combine(since, dt.time(0), tzinfo=zone),
        "now": now,
        "zone": zone.key,
        "open": TicketStatus.OPEN,
        "solved": list(SOLVED_STATUSES),
        "kept": CallbackStatus.KEPT,
        "called": list(OUTCOMES),
        "bounds": list(BACKLOG_BOUNDS),
    }
    with connection.cursor() as cursor:
        cursor.execute(PER_DAY, params)
        cells = {(row[0], row[1]): Cell(*row) for row in cursor.fetchall()}
        cursor.execute(BACKLOG, params)
        backlog = _backlog(cursor.fetchall())
        cursor.execute(BREACHES, params)
        breaches = [Breach(*row) for row in cursor.fetchall()]
    return Figures(
        campaign=campaign,
        since=since,
        until=now.astimezone(zone).date(),
        now=now,
        cells=cells,
        backlog=backlog,
        breaches=breaches,
    )


def policy_differences() -> tuple[SlaPolicy | None, list[SlaPolicy]]:
    """The default SLA policy and every category's row that differs from it (each with its
    reason and who decided it)."""
    rows = list(SlaPolicy.objects.select_related("decided_by"))
    default = next((p for p in rows if p.category is None), None)
    return default, [p for p in rows if p.category is not None]


def _backlog(rows) -> dict[str | None, tuple[int, ...]]:
    counts: dict[str | None, list[int]] = {}
    for category, bucket, n in rows:
        counts.setdefault(category, [0] * len(BACKLOG_LABELS))[bucket] = n
    return {category: tuple(buckets) for category, buckets in counts.items()}
