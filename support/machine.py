"""The ticket state machine: the TRANSITIONS table and its executors, move() for one ticket
and close_solved() for the set-based close of old solved tickets.

    open -> answered -> waiting_on_customer -> solved -> closed

Staff answer, ask the customer for something, and solve; the customer's reply takes an
answered or waiting ticket back to open, and a solved one too within REOPEN_WINDOW of its
solving (after that the ticket counts as closed, and a reply must start a new ticket); a
scheduled task closes solved tickets once the window has passed.

Migration 0002 holds the same table in the database, which refuses any other move whoever
writes; support/tests/test_machine.py keeps the two equal. Who replies (the message, its
notification) is support.services; this module only moves.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from preorder_shop.actors import Actor, ActorKind

from . import notices, sla
from .exceptions import IllegalTicketMove, TicketClosed, TicketMoveNotYours
from .models import Ticket, TicketChange, TicketHistory, TicketStatus

S = TicketStatus
CUSTOMER, STAFF = ActorKind.CUSTOMER, ActorKind.STAFF
# "The system": a scheduled task (support.tasks), which a Celery worker runs. Its history
# rows name the task in actor_label.
SYSTEM = ActorKind.WORKER
CLOSING_TASK = "support.close_solved_tickets"

REOPEN_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Move:
    actors: frozenset[ActorKind]
    # The outbox template the move sends by itself; empty when the move is told to the
    # customer by the reply that makes it (support.services.staff_reply), or not at all.
    notice: str = ""


# The whole machine.
TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.OPEN, S.ANSWERED): Move(frozenset({STAFF})),
    (S.OPEN, S.WAITING_ON_CUSTOMER): Move(frozenset({STAFF})),
    (S.OPEN, S.SOLVED): Move(frozenset({STAFF}), notice="support.solved"),
    (S.ANSWERED, S.OPEN): Move(frozenset({CUSTOMER})),
    (S.ANSWERED, S.WAITING_ON_CUSTOMER): Move(frozenset({STAFF})),
    (S.ANSWERED, S.SOLVED): Move(frozenset({STAFF}), notice="support.solved"),
    (S.WAITING_ON_CUSTOMER, S.OPEN): Move(frozenset({CUSTOMER})),
    (S.WAITING_ON_CUSTOMER, S.ANSWERED): Move(frozenset({STAFF})),
    (S.WAITING_ON_CUSTOMER, S.SOLVED): Move(frozenset({STAFF}), notice="support.solved"),
    (S.SOLVED, S.OPEN): Move(frozenset({CUSTOMER})),  # within REOPEN_WINDOW only
    (S.SOLVED, S.CLOSED): Move(frozenset({SYSTEM})),  # after REOPEN_WINDOW only
}


def allowed_targets(status: str, actor_kind: ActorKind) -> list[str]:
    """The statuses `actor_kind` may move a ticket in `status` to: what buttons to show."""
    return [
        to
        for (frm, to), move in TRANSITIONS.items()
        if frm == status and actor_kind in move.actors
    ]


def past_reopening(ticket: Ticket, now: dt.datetime) -> bool:
    """The ticket is closed, or solved long enough ago that it counts as closed."""
    return ticket.status == S.CLOSED or (
        ticket.status == S.SOLVED and now >= ticket.solved_at + REOPEN_WINDOW
    )


def lock(ticket: Ticket) -> Ticket:
    """The ticket's row, locked for this transaction (the caller's atomic block)."""
    return (
        Ticket.objects.select_for_update(of=("self",)).select_related("customer").get(pk=ticket.pk)
    )


def move(
    *,
    ticket: Ticket,
    to: str,
    actor: Actor,
    note: str = "",
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Ticket:
    """Move `ticket` to `to`, or do nothing if it is there already (a retried request):
    lock, check, stamp, history and notification, in one transaction."""
    with transaction.atomic():
        return move_locked(
            locked=lock(ticket), to=to, actor=actor, note=note, now=now, notify=notify
        )


def move_locked(
    *,
    locked: Ticket,
    to: str,
    actor: Actor,
    note: str = "",
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Ticket:
    """move() for a caller that holds the row lock already (from lock(), in its own
    transaction) and writes a message in the same transaction. `notify=False`: the caller
    tells the customer itself (a reply says more than the move)."""
    now = now or timezone.now()
    if to not in S.values:
        raise IllegalTicketMove()
    if locked.status == to:
        return locked
    rule = TRANSITIONS.get((locked.status, to))
    if rule is None:
        if locked.status == S.CLOSED:
            raise TicketClosed()
        raise IllegalTicketMove(_illegal_message(locked.get_status_display(), S(to).label))
    if actor.kind not in rule.actors:
        raise TicketMoveNotYours()
    if (locked.status, to) == (S.SOLVED, S.OPEN) and past_reopening(locked, now):
        raise TicketClosed()
    if (locked.status, to) == (S.SOLVED, S.CLOSED) and not past_reopening(locked, now):
        raise IllegalTicketMove(_("A solved ticket is closed 7 days after it was solved."))
    from_status = locked.status
    locked.status = to
    locked.status_changed_at = now
    if to == S.SOLVED:
        locked.solved_at = now
    elif to == S.OPEN:
        locked.solved_at = None  # reopened: no longer solved
    locked.save(update_fields=["status", "status_changed_at", "solved_at"])
    entry = TicketHistory.objects.create(
        ticket=locked,
        at=now,
        change=TicketChange.STATUS,
        from_status=from_status,
        to_status=to,
        note=note.strip(),
        **TicketHistory.fields_for(actor),
    )
    sla.stamp(locked)  # the SLA clock stops or runs on from this move
    if notify and rule.notice:
        notices.queue_notice(ticket=locked, template_key=rule.notice, key=f"history:{entry.pk}")
    return locked


def _illegal_message(current: str, target: str) -> str:
    return _("A ticket that is “%(current)s” cannot become “%(target)s”.") % {
        "current": current,
        "target": target,
    }


# The set-based close: one statement moves a batch and writes its history rows. Rows a
# customer's reply holds locked are skipped (that reply reopens or is refused; the next run
# closes what is left). The move's statuses and actor come from TRANSITIONS.
_CLOSE_BATCH = """
WITH due AS (
    SELECT id FROM support_ticket
     WHERE status = %(from)s AND solved_at <= %(cutoff)s
     ORDER BY solved_at
     LIMIT %(batch)s
       FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE support_ticket t SET status = %(to)s, status_changed_at = %(now)s
      FROM due WHERE t.id = due.id
    RETURNING t.id
)
INSERT INTO support_tickethistory
       (ticket_id, at, change, from_status, to_status, note,
        actor_kind, actor_user_id, actor_label)
SELECT id, %(now)s, %(change)s, %(from)s, %(to)s, '', %(actor)s, NULL, %(label)s FROM closed
"""


def close_solved(*, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Close every ticket solved at least REOPEN_WINDOW before `now`, `batch` rows per
    transaction; return how many were closed. Nobody is messaged: the solving was told."""
    now = now or timezone.now()
    frm, to = S.SOLVED, S.CLOSED
    assert SYSTEM in TRANSITIONS[(frm, to)].actors  # noqa: S101 (the table decides)
    params = {
        "from": frm,
        "to": to,
        "cutoff": now - REOPEN_WINDOW,
        "now": now,
        "batch": batch,
        "change": TicketChange.STATUS,
        "actor": SYSTEM,
        "label": CLOSING_TASK,
    }
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLOSE_BATCH, params)
            closed = cursor.rowcount
        total += closed
        if closed < batch:
            return total
