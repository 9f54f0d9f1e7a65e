"""The staff queue (issue 15, section 2): tickets not solved or closed, in the order of what
was promised to them (support.models.PENDING_DUE, the nearer pending deadline; tickets whose
clock is stopped with time left come last), read by the index that has that order
(ticket_queue_idx), each marked breached or at 80% of its target."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from .models import PENDING_DUE, QUEUE_STATUSES, Ticket
from .shifts import Calendar, staffed_between
from .sla import Targets

WARN_AT = 0.8  # the share of a target used that marks a ticket


def queue_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(status__in=QUEUE_STATUSES).order_by(PENDING_DUE.asc(), "id")


@dataclass(frozen=True)
class Standing:
    """Where a ticket's nearest pending deadline stands at `now`."""

    due_at: dt.datetime | None  # None: the clock is stopped (waiting on the customer)
    deadline: str  # "first_response", "resolution", or "" when stopped
    used: float | None  # share of that deadline's target used (1.0 and over: missed)

    @property
    def breached(self) -> bool:
        return self.used is not None and self.used >= 1

    @property
    def warning(self) -> bool:
        return self.used is not None and WARN_AT <= self.used < 1


def standings(
    tickets: list[Ticket], *, now: dt.datetime, calendar: Calendar | None = None
) -> list[Standing]:
    """Each ticket's Standing, for a page of the queue (the targets and calendar read once)."""
    calendar, targets = calendar or Calendar(), Targets()
    return [_standing(t, now=now, targets=targets, calendar=calendar) for t in tickets]


def _standing(ticket: Ticket, *, now: dt.datetime, targets: Targets, calendar: Calendar):
    first_response, resolution = targets.of(ticket.category)
    pending = [
        (due, name, target)
        for due, name, target in (
            (
                None if ticket.first_responded_at else ticket.first_response_due_at,
                "first_response",
                first_response,
            ),
            (ticket.resolution_due_at, "resolution", resolution),
        )
        if due is not None
    ]
    if not pending:
        return Standing(due_at=None, deadline="", used=None)
    due, name, target = min(pending, key=lambda p: p[0])
    if due <= now:
        return Standing(due_at=due, deadline=name, used=1.0)
    left = staffed_between(now, due, calendar=calendar)
    return Standing(due_at=due, deadline=name, used=1 - left / target)
