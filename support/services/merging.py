"""Merging duplicate tickets (issue 15): the duplicate's whole conversation moves to the
ticket that stays, both histories say so (a "merged" row each, naming the other ticket),
the duplicate is solved through the ticket machine (its history row, no message of its
own: the customer reads on in the ticket that stays), and a TicketMerge row records it.

Only two tickets of the same signed-in customer merge. Both rows are locked in id order (so
two merges of the same pair, either way round, never deadlock) and the merge is checked
again under the locks: merging the same duplicate into the same ticket again returns the
first merge and changes nothing; into another ticket, or into a ticket merged away itself,
is refused. The database refuses a second merge of one ticket (unique index) too.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from preorder_shop.actors import Actor
from preorder_shop.exceptions import DomainError

from .. import machine
from ..models import Ticket, TicketChange, TicketHistory, TicketMerge, TicketMessage, TicketStatus
from . import deadlines

S = TicketStatus


class NotMergeable(DomainError):
    code = "ticket_not_mergeable"
    default_message = _("Only two different tickets of the same signed-in customer can merge.")


class AlreadyMerged(DomainError):
    code = "ticket_already_merged"
    default_message = _("One of these tickets was already merged into another ticket.")


class MergeTargetClosed(DomainError):
    code = "ticket_merge_target_closed"
    default_message = _(
        "The ticket to keep is closed and takes no more messages; keep the other one instead."
    )


def merge(
    *,
    duplicate: Ticket,
    into: Ticket,
    staff_user: AbstractBaseUser,
    now: dt.datetime | None = None,
) -> TicketMerge:
    """Merge `duplicate` into `into` (see the module's docstring); the TicketMerge row."""
    now = now or timezone.now()
    if duplicate.pk == into.pk:
        raise NotMergeable()
    actor = Actor.staff(staff_user)
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update(of=("self",))
            .filter(pk__in=[duplicate.pk, into.pk])
            .order_by("pk")
        }
        duplicate, into = locked[duplicate.pk], locked[into.pk]
        earlier = TicketMerge.objects.filter(merged__in=[duplicate, into]).first()
        if earlier is not None:
            if (earlier.merged_id, earlier.into_id) == (duplicate.pk, into.pk):
                return earlier  # the same merge again
            raise AlreadyMerged()
        if duplicate.customer_id is None or duplicate.customer_id != into.customer_id:
            raise NotMergeable()
        if machine.past_reopening(into, now):
            raise MergeTargetClosed()
        moved = TicketMessage.objects.filter(ticket=duplicate).update(ticket=into)
        record = TicketMerge.objects.create(
            merged=duplicate,
            into=into,
            at=now,
            messages_moved=moved,
            **TicketMerge.fields_for(actor),
        )
        TicketHistory.objects.bulk_create(
            [
                _merged_row(duplicate, actor, now, _merged_into(into.number, moved)),
                _merged_row(into, actor, now, _merged_from(duplicate.number, moved)),
            ]
        )
        if duplicate.status not in (S.SOLVED, S.CLOSED):
            note = gettext("Merged into %(number)s.") % {"number": into.number}
            machine.move_locked(
                locked=duplicate, to=S.SOLVED, actor=actor, note=note, now=now, notify=False
            )
        deadlines.restamp(ticket_ids=[duplicate.pk, into.pk])
    return record


def _merged_row(ticket: Ticket, actor: Actor, now: dt.datetime, note: str) -> TicketHistory:
    return TicketHistory(
        ticket=ticket,
        at=now,
        change=TicketChange.MERGED,
        note=note,
        **TicketHistory.fields_for(actor),
    )


def _merged_into(number: str, moved: int) -> str:
    return gettext("Merged into %(number)s; %(count)d messages moved there.") % {
        "number": number,
        "count": moved,
    }


def _merged_from(number: str, moved: int) -> str:
    return gettext("%(number)s merged into this ticket; %(count)d messages moved here.") % {
        "number": number,
        "count": moved,
    }
