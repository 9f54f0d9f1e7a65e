"""One canned reply to many tickets at once (issue 15): a selection in the ticket list, or
everything a filter of it finds (every open "where is my phone" ticket of one variant).

Staff first see `preview`: how many tickets will be answered and a few texts filled for
their own tickets. `bulk_reply` then answers exactly those: it locks them, refuses (and
changes nothing) when the set differs from the previewed one (count and fingerprint), fills
each ticket's placeholders from its own live order data (support.placeholders, the
acknowledgement's selectors) in its own language, and writes set-based, in one transaction:
the status moves (one UPDATE) with their history rows (the ticket machine's trigger wants
the row of every move), the messages and the customers' notifications (the outbox rows
support.services.staff_reply queues: "support.reply" by SMS, and by e-mail when the ticket
has an address), batch by batch rather than a staff_reply per ticket; then the tickets'
SLA columns in one go (support.services.deadlines.restamp).

The form's key is every message's idempotency key: the same confirmation sent again finds
its messages and answers nothing twice.
"""

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.actors import Actor, ActorKind
from preorder_shop.exceptions import DomainError
from preorder_shop.operations import record_operation
from preorder_shop.outbox import queue_from_select

from .. import machine, notices, placeholders
from ..exceptions import IllegalTicketMove
from ..models import (
    AuthorKind,
    Macro,
    Ticket,
    TicketChange,
    TicketHistory,
    TicketMessage,
    TicketStatus,
)
from . import deadlines
from .replies import REPLY_STATUSES

S = TicketStatus
TEMPLATE_KEY = "support.reply"  # what staff_reply queues
BATCH = 1000
SAMPLES = 3

# One outbox row per element of the arrays (queue_from_select's columns, in its order).
_OUTBOX_ROWS = """
SELECT channel, recipient, %(template)s::text, language, payload::jsonb, key, reference
  FROM unnest(%(channels)s::text[], %(recipients)s::text[], %(languages)s::text[],
              %(payloads)s::text[], %(keys)s::text[], %(references)s::text[])
       AS r (channel, recipient, language, payload, key, reference)
"""


class SelectionChanged(DomainError):
    code = "bulk_reply_selection_changed"
    default_message = _(
        "The tickets to answer have changed since the preview (a ticket was answered, "
        "solved or closed meanwhile). Nothing was sent; check the new preview and confirm "
        "again."
    )


class NothingToAnswer(DomainError):
    code = "bulk_reply_nothing_to_answer"
    default_message = _(
        "None of the chosen tickets can take a reply (closed, or solved long ago)."
    )


class MacroInactive(DomainError):
    code = "bulk_reply_macro_inactive"
    default_message = _("This canned reply is no longer active; choose another.")


@dataclass(frozen=True)
class Preview:
    count: int  # tickets that will be answered
    left_out: int  # chosen but unable to take this reply (closed, solved long ago)
    fingerprint: str
    samples: list[tuple[Ticket, str]]  # a few tickets with their filled text


@dataclass(frozen=True)
class Replied:
    count: int
    repeated: bool = False  # the same confirmation again: nothing new was sent


def answerable(tickets: QuerySet[Ticket], *, status: str, now: dt.datetime) -> QuerySet[Ticket]:
    """The tickets of `tickets` a staff reply leaving them `status` may answer: those the
    machine lets staff move there (or already there), and not past reopening."""
    if status not in REPLY_STATUSES:
        raise IllegalTicketMove()
    sources = {status} | {
        frm
        for (frm, to), move in machine.TRANSITIONS.items()
        if to == status and ActorKind.STAFF in move.actors
    }
    return tickets.filter(status__in=sources).exclude(
        Q(status=S.SOLVED) & Q(solved_at__lte=now - machine.REOPEN_WINDOW)
    )


def fingerprint(ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:32]


def preview(
    *, tickets: QuerySet[Ticket], macro: Macro, status: str = S.ANSWERED, now=None
) -> Preview:
    now = now or timezone.now()
    chosen = answerable(tickets, status=status, now=now)
    ids = list(chosen.order_by("pk").values_list("pk", flat=True))
    samples = [
        (ticket, placeholders.filled_for(macro, ticket, now=now))
        for ticket in chosen.select_related("order", "reservation__variant").order_by("pk")[
            :SAMPLES
        ]
    ]
    return Preview(
        count=len(ids),
        left_out=tickets.count() - len(ids),
        fingerprint=fingerprint(ids),
        samples=samples,
    )


def bulk_reply(
    *,
    tickets: QuerySet[Ticket],
    macro: Macro,
    staff_user: AbstractBaseUser,
    expected: int,
    expected_fingerprint: str,
    idempotency_key: uuid.UUID,
    status: str = S.ANSWERED,
    now: dt.datetime | None = None,
) -> Replied:
    """Answer every ticket `preview` counted with `macro`, each filled for itself, leaving
    them `status`; in one transaction, recorded in the operations log."""
    now = now or timezone.now()
    if not macro.active:
        raise MacroInactive()
    with transaction.atomic():
        locked = list(
            answerable(tickets, status=status, now=now)
            .select_for_update(of=("self",))
            .select_related("customer", "order", "reservation__variant")
            .order_by("pk")
        )
        ids = [ticket.pk for ticket in locked]
        done = TicketMessage.objects.filter(ticket_id__in=ids, idempotency_key=idempotency_key)
        if done.exists() or (not ids and expected):
            # Sent already by this confirmation (its tickets may have left the set since).
            sent = TicketMessage.objects.filter(idempotency_key=idempotency_key).count()
            if sent:
                return Replied(count=sent, repeated=True)
        if not ids:
            raise NothingToAnswer()
        if len(ids) != expected or fingerprint(ids) != expected_fingerprint:
            raise SelectionChanged()
        actor = Actor.staff(staff_user)
        _move(locked, status, actor, now)
        for start in range(0, len(locked), BATCH):
            _answer(locked[start : start + BATCH], macro, staff_user, idempotency_key, now)
        deadlines.restamp(ticket_ids=ids)  # first response and the SLA deadlines, set-based
        record_operation(
            action="support.bulk_reply",
            actor=actor,
            summary={"macro": macro.pk, "status": status, "tickets": len(ids)},
            reference=f"macro:{macro.pk}",
            at=now,
        )
    return Replied(count=len(ids))


def _move(locked: list[Ticket], to: str, actor: Actor, now: dt.datetime) -> None:
    """One UPDATE for the tickets not yet `to`, and their history rows (as machine.move)."""
    moving = [ticket for ticket in locked if ticket.status != to]
    if not moving:
        return
    Ticket.objects.filter(pk__in=[t.pk for t in moving]).update(
        status=to, status_changed_at=now, solved_at=now if to == S.SOLVED else None
    )
    TicketHistory.objects.bulk_create(
        [
            TicketHistory(
                ticket_id=ticket.pk,
                at=now,
                change=TicketChange.STATUS,
                from_status=ticket.status,
                to_status=to,
                **TicketHistory.fields_for(actor),
            )
            for ticket in moving
        ],
        batch_size=BATCH,
    )


def _answer(batch: list[Ticket], macro, staff_user, key: uuid.UUID, now: dt.datetime) -> None:
    """The batch's messages, each filled for its ticket, and their notifications."""
    places = placeholders.standings(batch)  # one statement for the batch's places in line
    messages = TicketMessage.objects.bulk_create(
        [
            TicketMessage(
                ticket_id=ticket.pk,
                author_kind=AuthorKind.STAFF,
                staff_user=staff_user,
                body=placeholders.filled_for(macro, ticket, now=now, places=places),
                created_at=now,
                idempotency_key=key,
            )
            for ticket in batch
        ]
    )
    rows: dict[str, list[str]] = {
        name: []
        for name in ("channels", "recipients", "languages", "payloads", "keys", "references")
    }
    for ticket, message in zip(batch, messages, strict=True):
        for row in notices.notice_rows(ticket=ticket, key=f"message:{message.pk}"):
            rows["channels"].append(row.channel)
            rows["recipients"].append(row.recipient)
            rows["languages"].append(row.language)
            rows["payloads"].append(json.dumps(row.payload))
            rows["keys"].append(row.idempotency_key)
            rows["references"].append(row.reference)
    queue_from_select(_OUTBOX_ROWS, {**rows, "template": TEMPLATE_KEY}, keys_are_new=True)
