"""Changing what the desk promises (issue 15, section 1): a category's own SLA targets, the
default's, and a campaign's round-the-clock days. Each change restamps the tickets it moves
(support.services.deadlines.restamp) in the same transaction, so the queue's order is never
stale. The database holds the rules (support.models.sla); these check them first to answer
with a message."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reservations.models import Campaign

from ..models import QUEUE_STATUSES, RoundTheClock, SlaPolicy, Ticket
from ..models.sla import MAX_ROUND_THE_CLOCK
from ..queue_exceptions import PeriodInvalid, ReasonRequired, SamePolicy, TargetsInvalid
from .cleaning import clean_text
from .deadlines import restamp


def set_policy(
    *,
    category: str | None,
    first_response_minutes: int,
    resolution_minutes: int,
    reason: str,
    staff_user: AbstractBaseUser,
    now: dt.datetime | None = None,
) -> SlaPolicy:
    """The targets of `category` (None: the default). A category's row differs from the
    default and says why; the default's reason is optional."""
    reason = clean_text(reason)
    with transaction.atomic():
        SlaPolicy.objects.select_for_update().get(category=None)  # one change at a time
        check_policy(
            category=category,
            first_response_minutes=first_response_minutes,
            resolution_minutes=resolution_minutes,
            reason=reason,
        )
        policy, _created = SlaPolicy.objects.update_or_create(
            category=category,
            defaults={
                "first_response_minutes": first_response_minutes,
                "resolution_minutes": resolution_minutes,
                "reason": reason,
                "decided_by": staff_user,
                "decided_at": now or timezone.now(),
            },
        )
        _restamp_queue(category=category)
    return policy


def check_policy(
    *, category: str | None, first_response_minutes: int, resolution_minutes: int, reason: str
) -> None:
    """Refuse targets that are not sane, and a category's row without a reason or the same
    as the default (a difference that is none would only hide in the report)."""
    if not 0 < first_response_minutes <= resolution_minutes:
        raise TargetsInvalid()
    if category is None:
        return
    if not clean_text(reason):
        raise ReasonRequired()
    default = SlaPolicy.objects.get(category=None)
    if (first_response_minutes, resolution_minutes) == (
        default.first_response_minutes,
        default.resolution_minutes,
    ):
        raise SamePolicy()


def check_period(*, first_day: dt.date, last_day: dt.date, reason: str) -> None:
    if not clean_text(reason):
        raise ReasonRequired()
    # A difference, not first_day + MAX: that sum overflows for the last date there is.
    if not dt.timedelta(0) <= last_day - first_day < MAX_ROUND_THE_CLOCK:
        raise PeriodInvalid()


def remove_policy(*, policy: SlaPolicy) -> None:
    """A category goes back to the default targets (the default itself stays)."""
    with transaction.atomic():
        category = policy.category
        SlaPolicy.objects.filter(pk=policy.pk).exclude(category=None).delete()
        _restamp_queue(category=category)


def declare_round_the_clock(
    *,
    campaign: Campaign,
    first_day: dt.date,
    last_day: dt.date,
    reason: str,
    staff_user: AbstractBaseUser,
    now: dt.datetime | None = None,
) -> RoundTheClock:
    """The desk is staffed 24 hours from `first_day` to `last_day` (at most two weeks)."""
    check_period(first_day=first_day, last_day=last_day, reason=reason)
    with transaction.atomic():
        period = RoundTheClock.objects.create(
            campaign=campaign,
            first_day=first_day,
            last_day=last_day,
            reason=clean_text(reason),
            decided_by=staff_user,
            decided_at=now or timezone.now(),
        )
        _restamp_queue(category=None)
    return period


def _restamp_queue(*, category: str | None) -> None:
    """The tickets in the queue whose targets or calendar changed: one category's, or (None:
    the default's or the calendar's change) all of them; those unchanged are not written."""
    tickets = Ticket.objects.filter(status__in=QUEUE_STATUSES)
    if category is not None:
        tickets = tickets.filter(category=category)
    restamp(ticket_ids=tickets.values_list("pk", flat=True))
