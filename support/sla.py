"""The SLA clock and the stored deadlines (issue 15, section 1).

A ticket's deadlines are the policy's targets (support.models.SlaPolicy: its category's row,
else the default) counted in staffed time (support.shifts) from its opening, with the clock
stopped whenever the ticket is not open or answered (waiting on the customer, solved,
closed). They are a function of facts already stored (the opening, the status history, the
first staff reply, the solving), so stamping is recomputing: `stamp` for one locked ticket
(the services call it on every change that moves a deadline: opening, each status move,
the first staff reply), `restamp(ticket_ids=...)` for a set (a bulk reply, a policy or
calendar change).

What each column holds:
- first_response_due_at: while no staff reply, when one is due (NULL while the clock is
  stopped with time left); once given, when it was due, had the clock run on from the reply.
- resolution_due_at: the same for solving; kept after solving, recomputed on a reopening.
So "met" is `first_responded_at <= first_response_due_at` and `solved_at <=
resolution_due_at`, and a deadline already passed stays put through a pause.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db.models.expressions import RawSQL

from .models import (
    CLOCK_STATUSES,
    SOLVED_STATUSES,
    SlaPolicy,
    Ticket,
    TicketChange,
    TicketHistory,
    TicketStatus,
)
from .shifts import Calendar, add_staffed, staffed_between

STAMPED = ["first_response_due_at", "resolution_due_at", "first_responded_at"]
Timeline = Sequence[tuple[dt.datetime, str]]  # (since, status), oldest first


# The default policy as migration 0004 seeds it (why these numbers: its docstring).
DEFAULT_FIRST_RESPONSE_MINUTES = 4 * 60
DEFAULT_RESOLUTION_MINUTES = 3 * 9 * 60


class Targets:
    """Every policy, read once: the default and the categories that differ."""

    def __init__(self) -> None:
        rows = {p.category: p for p in SlaPolicy.objects.all()}
        self.default, self.by_category = rows.pop(None, None) or seeded_default(), rows

    def of(self, category: str) -> tuple[dt.timedelta, dt.timedelta]:
        policy = self.by_category.get(category, self.default)
        return (
            dt.timedelta(minutes=policy.first_response_minutes),
            dt.timedelta(minutes=policy.resolution_minutes),
        )


def seeded_default() -> SlaPolicy:
    """The default as seeded. Only a table emptied by TRUNCATE (the test suite's flush
    between transactional tests; the trigger refuses deleting it otherwise) lacks it; the
    unique index makes concurrent seedings one row."""
    policy, _created = SlaPolicy.objects.get_or_create(
        category=None,
        defaults={
            "first_response_minutes": DEFAULT_FIRST_RESPONSE_MINUTES,
            "resolution_minutes": DEFAULT_RESOLUTION_MINUTES,
        },
    )
    return policy


def due(
    timeline: Timeline, target: dt.timedelta, *, kept_at: dt.datetime | None, calendar: Calendar
) -> dt.datetime | None:
    """When `target` of running clock has passed along `timeline`; `kept_at`: the moment
    the promise was kept (the reply, the solving), from which the clock is taken to run on.
    None: the clock is stopped now with time left."""
    left = target
    for start, end in _running(timeline, kept_at):
        if end is not None:
            ran = staffed_between(start, end, calendar=calendar)
            if ran < left:
                left -= ran
                continue
        return add_staffed(start, left, calendar=calendar)
    return None


def deadlines(
    ticket: Ticket, timeline: Timeline, *, targets: Targets, calendar: Calendar
) -> dict[str, dt.datetime | None]:
    first_response, resolution = targets.of(ticket.category)
    solved_at = ticket.solved_at if ticket.status in SOLVED_STATUSES else None
    return {
        "first_response_due_at": due(
            timeline, first_response, kept_at=ticket.first_responded_at, calendar=calendar
        ),
        "resolution_due_at": due(timeline, resolution, kept_at=solved_at, calendar=calendar),
    }


def for_new_ticket(*, category: str, at: dt.datetime) -> dict[str, dt.datetime | None]:
    """The deadline columns of a ticket opened at `at` (support.services.opening)."""
    ticket = Ticket(category=category, created_at=at, status=TicketStatus.OPEN)
    return deadlines(ticket, [(at, TicketStatus.OPEN)], targets=Targets(), calendar=Calendar())


def stamp(locked: Ticket) -> None:
    """Recompute and save the deadlines (and first_responded_at as set on `locked`) of a
    ticket whose row the caller holds locked, after its change's history row is written."""
    [timeline] = timelines([locked]).values()
    fresh = deadlines(locked, timeline, targets=Targets(), calendar=Calendar())
    for field, value in fresh.items():
        setattr(locked, field, value)
    locked.save(update_fields=STAMPED)


def breached(ticket: Ticket, *, now: dt.datetime) -> list[str]:
    """Which deadlines `ticket` missed, as of `now`: "first_response", "resolution"."""
    missed = []
    if ticket.first_response_due_at and (ticket.first_responded_at or now) > (
        ticket.first_response_due_at
    ):
        missed.append("first_response")
    solved_at = ticket.solved_at if ticket.status in SOLVED_STATUSES else None
    if ticket.resolution_due_at and (solved_at or now) > ticket.resolution_due_at:
        missed.append("resolution")
    return missed


def id_set(ids: list[int]) -> RawSQL:
    """`ids` for an `__in` filter as one array parameter: an IN list of thousands of
    placeholders cost the driver more than the query (measured: 0.6 s of a 5,000-ticket
    restamp)."""
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


def timelines(tickets: Sequence[Ticket]) -> dict[int, list[tuple[dt.datetime, str]]]:
    """Each ticket's statuses since its opening, from its history's status moves."""
    lines: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for ticket in tickets:
        lines[ticket.pk].append((ticket.created_at, TicketStatus.OPEN))
    moves = (
        TicketHistory.objects.filter(
            ticket__in=id_set([t.pk for t in tickets]), change=TicketChange.STATUS
        )
        .order_by("at", "pk")
        .values_list("ticket_id", "at", "to_status")
    )
    for ticket_id, at, status in moves:
        lines[ticket_id].append((at, status))
    return lines


def _running(timeline: Timeline, kept_at: dt.datetime | None):
    """The (start, end) stretches the clock ran (end None: still running); cut at `kept_at`
    and run on from there."""
    for (since, status), (until, _next) in zip(
        timeline, [*timeline[1:], (None, None)], strict=True
    ):
        if kept_at is not None and since >= kept_at:
            break
        if kept_at is not None and (until is None or until > kept_at):
            until = kept_at
        if status in CLOCK_STATUSES:
            yield since, until
    if kept_at is not None:
        yield kept_at, None
