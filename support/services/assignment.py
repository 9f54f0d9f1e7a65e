"""Who works a ticket (issue 15, section 2): "take next", release and reassignment, each in
the ticket's history (who, when, to or from whom).

Take next gives an agent the unassigned ticket whose promise is nearest (support.models.
PENDING_DUE, among open and answered tickets: the ones the clock runs for) with
SELECT ... FOR UPDATE SKIP LOCKED: a ticket another agent's take holds is passed over, not
waited for, so two agents taking at once get two different tickets and neither waits. The
row lock is held until the assignment commits; a take that read the row after that commit
sees it assigned (PostgreSQL rechecks the WHERE on the locked row) and takes the next.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from preorder_shop.actors import Actor

from .. import machine
from ..models import (
    CLOCK_STATUSES,
    PENDING_DUE,
    SOLVED_STATUSES,
    Ticket,
    TicketChange,
    TicketHistory,
)
from ..queue_exceptions import NotAnAgent, NotAssigned, NotInQueue

# What working tickets takes (support.services' doors; preorder_shop.roles: Support agents).
AGENT_PERMISSION = "support.change_ticket"


def is_agent(user: AbstractBaseUser) -> bool:
    return user.is_active and user.is_staff and user.has_perm(AGENT_PERMISSION)


def take_next(*, agent: AbstractBaseUser, now: dt.datetime | None = None) -> Ticket | None:
    """Assign `agent` the next unassigned ticket by deadline; None when there is none."""
    now = now or timezone.now()
    if not is_agent(agent):
        raise NotAnAgent()
    with transaction.atomic():
        ticket = (
            Ticket.objects.filter(status__in=CLOCK_STATUSES, assignee__isnull=True)
            .order_by(PENDING_DUE.asc(), "id")
            .select_for_update(skip_locked=True)
            .first()
        )
        if ticket is None:
            return None
        _assign(ticket, agent, actor=Actor.staff(agent), now=now)
    return ticket


def release(
    *, ticket: Ticket, staff_user: AbstractBaseUser, note: str = "", now: dt.datetime | None = None
) -> Ticket:
    """The ticket goes back to the queue (its agent is away, or it needs someone else)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = machine.lock(ticket)
        if locked.assignee_id is None:
            raise NotAssigned()
        _release(locked, actor=Actor.staff(staff_user), note=note, now=now)
    return locked


def reassign(
    *,
    ticket: Ticket,
    to: AbstractBaseUser,
    staff_user: AbstractBaseUser,
    note: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """Give the ticket to agent `to` (released from its current agent first, both in the
    history); the same agent again changes nothing."""
    now = now or timezone.now()
    if not is_agent(to):
        raise NotAnAgent()
    with transaction.atomic():
        locked = machine.lock(ticket)
        if locked.status in SOLVED_STATUSES:
            raise NotInQueue()
        if locked.assignee_id == to.pk:
            return locked
        actor = Actor.staff(staff_user)
        if locked.assignee_id is not None:
            _release(locked, actor=actor, note=note, now=now)
        _assign(locked, to, actor=actor, now=now, note=note)
    return locked


def _assign(
    locked: Ticket, agent: AbstractBaseUser, *, actor: Actor, now: dt.datetime, note: str = ""
) -> None:
    locked.assignee = agent
    locked.save(update_fields=["assignee"])
    TicketHistory.objects.create(
        ticket=locked,
        at=now,
        change=TicketChange.ASSIGNED,
        assignee=agent,
        note=note.strip(),
        **TicketHistory.fields_for(actor),
    )


def _release(locked: Ticket, *, actor: Actor, note: str, now: dt.datetime) -> None:
    previous = locked.assignee
    locked.assignee = None
    locked.save(update_fields=["assignee"])
    TicketHistory.objects.create(
        ticket=locked,
        at=now,
        change=TicketChange.RELEASED,
        assignee=previous,
        note=note.strip(),
        **TicketHistory.fields_for(actor),
    )
