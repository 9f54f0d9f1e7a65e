"""Writes about the SLA (issue 15, section 1): recomputing a set of tickets' deadlines
(support.sla holds the clock and what each column means) and an agent's reason for a
breach."""

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from preorder_shop.actors import Actor

from .. import machine
from ..models import AuthorKind, Ticket, TicketChange, TicketHistory, TicketMessage
from ..queue_exceptions import NotBreached, ReasonRequired
from ..shifts import Calendar
from ..sla import STAMPED, Targets, breached, deadlines, id_set, timelines
from .cleaning import clean_text


def restamp(*, ticket_ids: Iterable[int]) -> int:
    """Recompute the SLA columns of the given tickets in one transaction (rows locked in id
    order, so two restamps never deadlock): first_responded_at from their first staff
    message that is not an internal note, the deadlines from their history; returns how
    many changed. For set-based callers (a bulk reply: call it after its messages and moves
    are written, in its transaction) and for a policy or calendar change."""
    ticket_ids = list(ticket_ids)
    with transaction.atomic():
        tickets = list(
            Ticket.objects.filter(pk__in=id_set(ticket_ids)).order_by("pk").select_for_update()
        )
        lines = timelines(tickets)
        first_replies = dict(
            TicketMessage.objects.filter(
                ticket__in=id_set(ticket_ids), author_kind=AuthorKind.STAFF, internal=False
            )
            .values("ticket")
            .annotate(first=Min("created_at"))
            .values_list("ticket", "first")
        )
        targets, calendar = Targets(), Calendar()
        changed = []
        for ticket in tickets:
            before = [getattr(ticket, field) for field in STAMPED]
            ticket.first_responded_at = first_replies.get(ticket.pk)
            fresh = deadlines(ticket, lines[ticket.pk], targets=targets, calendar=calendar)
            for field, value in fresh.items():
                setattr(ticket, field, value)
            if [getattr(ticket, field) for field in STAMPED] != before:
                changed.append(ticket)
        _save(changed)
    return len(changed)


# One statement for the whole set (bulk_update's CASE per row took seconds for thousands).
_UPDATE = """
UPDATE support_ticket t
   SET first_responded_at = v.responded, first_response_due_at = v.first_due,
       resolution_due_at = v.resolution_due
  FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[])
       AS v (id, responded, first_due, resolution_due)
 WHERE t.id = v.id
"""


def _save(tickets: list[Ticket]) -> None:
    if not tickets:
        return
    columns = [
        [t.pk for t in tickets],
        [t.first_responded_at for t in tickets],
        [t.first_response_due_at for t in tickets],
        [t.resolution_due_at for t in tickets],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE, columns)


def explain_breach(
    *, ticket: Ticket, reason: str, actor: Actor, now: dt.datetime | None = None
) -> Ticket:
    """An agent records why `ticket` missed its SLA (support_report asks for one per
    breach): the reason on the ticket and a history row. A later reason replaces the
    ticket's; the history keeps every one."""
    now = now or timezone.now()
    reason = clean_text(reason)
    if not reason:
        raise ReasonRequired()
    with transaction.atomic():
        locked = machine.lock(ticket)
        if not breached(locked, now=now):
            raise NotBreached()
        locked.sla_breach_reason = reason
        locked.save(update_fields=["sla_breach_reason"])
        TicketHistory.objects.create(
            ticket=locked,
            at=now,
            change=TicketChange.SLA_EXPLAINED,
            note=reason,
            **TicketHistory.fields_for(actor),
        )
    return locked
