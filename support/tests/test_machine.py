"""The ticket machine: the service's table, who may make each move, and the database's own
refusals (triggers), whose table must be the service's table."""

import datetime as dt
import itertools
import re

import pytest
from django.db import IntegrityError, connection, transaction

from orders.tests.factories import staff_user
from preorder_shop.actors import Actor, ActorKind
from preorder_shop.models import OutboxMessage
from support import machine
from support.exceptions import IllegalTicketMove, TicketClosed, TicketMoveNotYours
from support.machine import REOPEN_WINDOW, TRANSITIONS
from support.models import Ticket, TicketChange, TicketHistory, TicketStatus
from support.tests.factories import ticket_in

pytestmark = pytest.mark.django_db

S = TicketStatus
LEGAL = [
    (frm, to, kind) for (frm, to), move in TRANSITIONS.items() for kind in sorted(move.actors)
]
ILLEGAL = [
    (frm, to) for frm, to in itertools.permutations(S.values, 2) if (frm, to) not in TRANSITIONS
]
NOW = dt.datetime(2026, 9, 20, 3, 0, tzinfo=dt.UTC)


def constraint_of(exc: IntegrityError) -> str | None:
    return exc.__cause__.diag.constraint_name


def actor_of(kind: str) -> Actor:
    return {
        ActorKind.CUSTOMER: Actor.customer,
        ActorKind.STAFF: lambda: Actor.staff(staff_user("agent")),
        ActorKind.WORKER: lambda: Actor.worker(machine.CLOSING_TASK),
        ActorKind.COURIER: lambda: Actor.courier("CJ webhook"),
        ActorKind.OPERATOR: lambda: Actor.operator("ops on call"),
    }[kind]()


def raw(sql: str, params: list) -> None:
    """One raw statement in its own savepoint, as any other writer could send it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def snapshot(ticket: Ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (
        ticket.status,
        ticket.status_changed_at,
        ticket.solved_at,
        TicketHistory.objects.filter(ticket=ticket).count(),
        OutboxMessage.objects.filter(reference=f"ticket:{ticket.pk}").count(),
    )


def movable_from(status: str) -> tuple[Ticket, dt.datetime]:
    """A ticket brought to `status` at NOW (an injected clock, not the wall clock), and NOW."""
    return ticket_in(status, now=NOW), NOW


# The table is the issue's.


def test_the_table_is_the_issues_machine():
    assert set(TRANSITIONS) == {
        (S.OPEN, S.ANSWERED),
        (S.OPEN, S.WAITING_ON_CUSTOMER),
        (S.OPEN, S.SOLVED),
        (S.ANSWERED, S.OPEN),
        (S.ANSWERED, S.WAITING_ON_CUSTOMER),
        (S.ANSWERED, S.SOLVED),
        (S.WAITING_ON_CUSTOMER, S.OPEN),
        (S.WAITING_ON_CUSTOMER, S.ANSWERED),
        (S.WAITING_ON_CUSTOMER, S.SOLVED),
        (S.SOLVED, S.OPEN),
        (S.SOLVED, S.CLOSED),
    }
    # Only the customer's reply takes a ticket back to open; only the task closes; staff
    # make every other move; nothing leaves closed.
    for (frm, to), move in TRANSITIONS.items():
        expected = {
            S.OPEN: {ActorKind.CUSTOMER},
            S.CLOSED: {machine.SYSTEM},
        }.get(to, {ActorKind.STAFF})
        assert move.actors == expected, (frm, to)
    assert not machine.allowed_targets(S.CLOSED, ActorKind.STAFF)
    assert machine.allowed_targets(S.ANSWERED, ActorKind.CUSTOMER) == [S.OPEN]


# The database: exactly the same table.


def _guard_table() -> set[tuple[str, str]]:
    """The allowed moves as the installed trigger function spells them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'support_ticket_guard'")
        (source,) = cursor.fetchone()
    (array,) = re.findall(r"ARRAY\[([^\]]*)\]", source)
    return {tuple(pair.split(">")) for pair in re.findall(r"'([a-z_]+>[a-z_]+)'", array)}


def test_the_triggers_table_is_the_services_table():
    assert _guard_table() == set(TRANSITIONS)


@pytest.mark.parametrize(("frm", "to"), ILLEGAL)
def test_database_refuses_every_illegal_move(frm, to):
    ticket = ticket_in(frm)
    before = snapshot(ticket)
    with pytest.raises(IntegrityError) as refused:
        raw(
            "UPDATE support_ticket SET status = %s, status_changed_at = now() WHERE id = %s",
            [to, ticket.pk],
        )
    # The BEFORE trigger speaks before the row's checks (solved_at of a solved ticket).
    assert constraint_of(refused.value) == "ticket_transition_allowed"
    assert snapshot(ticket) == before


@pytest.mark.parametrize(("frm", "to"), list(TRANSITIONS))
def test_database_allows_the_services_moves_and_asks_for_their_history(frm, to):
    """Each move of the table passes the BEFORE trigger; without its history row the
    deferred trigger refuses it at commit (brought forward here), with it the move stands."""
    ticket, now = movable_from(frm)
    solved_at = {S.SOLVED: now, S.CLOSED: ticket.solved_at}.get(to)
    update = "UPDATE support_ticket SET status = %s, status_changed_at = %s, solved_at = %s "
    update += "WHERE id = %s"
    params = [to, now + dt.timedelta(minutes=1), solved_at, ticket.pk]

    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(update, params)
        assert Ticket.objects.get(pk=ticket.pk).status == to
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert constraint_of(refused.value) == "ticket_history_required"
    assert Ticket.objects.get(pk=ticket.pk).status == frm

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(update, params)
            TicketHistory.objects.create(
                ticket=ticket,
                at=params[1],
                change=TicketChange.STATUS,
                from_status=frm,
                to_status=to,
                actor_kind=ActorKind.WORKER,
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_raw_move_without_history_fails_at_commit():
    ticket = ticket_in(S.OPEN)
    with pytest.raises(IntegrityError) as refused, connection.cursor() as cursor:
        cursor.execute("UPDATE support_ticket SET status = 'answered' WHERE id = %s", [ticket.pk])
    assert constraint_of(refused.value) == "ticket_history_required"
    assert Ticket.objects.get(pk=ticket.pk).status == S.OPEN


def test_a_ticket_cannot_be_inserted_past_open():
    ticket = ticket_in(S.OPEN)
    with pytest.raises(IntegrityError) as refused:
        raw(
            "INSERT INTO support_ticket (number, customer_id, verified, contact_phone, "
            "contact_name, category, reply_email, language, status, created_at, "
            "status_changed_at, solved_at, idempotency_key, reservation_id, order_id) "
            "SELECT 'T000000000', customer_id, true, '', '', 'other', '', 'ko', 'answered', "
            "now(), now(), NULL, gen_random_uuid(), NULL, NULL FROM support_ticket WHERE id = %s",
            [ticket.pk],
        )
    assert constraint_of(refused.value) == "ticket_starts_open"


def test_number_and_customer_never_change():
    ticket, other = ticket_in(S.OPEN), ticket_in(S.OPEN)
    for sql, params in [
        ("UPDATE support_ticket SET number = %s WHERE id = %s", ["T000000000", ticket.pk]),
        (
            "UPDATE support_ticket SET customer_id = %s WHERE id = %s",
            [other.customer_id, ticket.pk],
        ),
    ]:
        with pytest.raises(IntegrityError) as refused:
            raw(sql, params)
        assert constraint_of(refused.value) == "ticket_identity_immutable"


def test_history_is_append_only_and_messages_are_never_edited():
    ticket = ticket_in(S.ANSWERED)
    entry = ticket.history.get()
    message = ticket.messages.first()
    for sql, params, constraint in [
        (
            "UPDATE support_tickethistory SET note = 'edited' WHERE id = %s",
            [entry.pk],
            "ticket_history_append_only",
        ),
        (
            "DELETE FROM support_tickethistory WHERE id = %s",
            [entry.pk],
            "ticket_history_append_only",
        ),
        (
            "UPDATE support_ticketmessage SET body = 'edited' WHERE id = %s",
            [message.pk],
            "ticket_message_immutable",
        ),
        (
            "DELETE FROM support_ticketmessage WHERE id = %s",
            [message.pk],
            "ticket_message_immutable",
        ),
    ]:
        with pytest.raises(IntegrityError) as refused:
            raw(sql, params)
        assert constraint_of(refused.value) == constraint, sql
    assert ticket.history.count() == 1
    assert ticket.messages.count() == 2


# The service: every allowed move, by every actor allowed to make it.


@pytest.mark.parametrize(("frm", "to", "kind"), LEGAL)
def test_every_allowed_move_stamps_and_writes_its_history(frm, to, kind):
    ticket, now = movable_from(frm)
    at = now + (REOPEN_WINDOW if to == S.CLOSED else dt.timedelta(hours=1))
    history_before = ticket.history.count()
    outbox_before = OutboxMessage.objects.filter(reference=f"ticket:{ticket.pk}").count()
    actor = actor_of(kind)

    moved = machine.move(ticket=ticket, to=to, actor=actor, note="why", now=at)

    stored = Ticket.objects.get(pk=ticket.pk)
    assert (moved.status, stored.status) == (to, to)
    assert stored.status_changed_at == at
    expected_solved_at = {S.SOLVED: at, S.CLOSED: now}.get(to)
    assert stored.solved_at == expected_solved_at
    entries = list(stored.history.order_by("pk"))
    assert len(entries) == history_before + 1
    entry = entries[-1]
    assert (entry.change, entry.from_status, entry.to_status, entry.at, entry.note) == (
        TicketChange.STATUS,
        frm,
        to,
        at,
        "why",
    )
    assert (entry.actor_kind, entry.actor_user, entry.actor_label) == (
        actor.kind,
        actor.user,
        actor.label,
    )
    notices = OutboxMessage.objects.filter(reference=f"ticket:{ticket.pk}").order_by("pk")
    notices = notices[outbox_before:]
    expected = ["support.solved"] if to == S.SOLVED else []
    assert [m.template_key for m in notices] == expected


@pytest.mark.parametrize(("frm", "to"), ILLEGAL)
def test_every_illegal_move_is_refused_by_the_service_for_every_actor(frm, to):
    ticket = ticket_in(frm)
    before = snapshot(ticket)
    for kind in ActorKind.values:
        with pytest.raises((IllegalTicketMove, TicketClosed)):
            machine.move(ticket=ticket, to=to, actor=actor_of(kind))
    assert snapshot(ticket) == before


@pytest.mark.parametrize(
    ("frm", "to", "kind"),
    [
        (frm, to, kind)
        for (frm, to), move in TRANSITIONS.items()
        for kind in ActorKind.values
        if kind not in move.actors
    ],
)
def test_a_move_by_someone_the_table_does_not_name_is_refused(frm, to, kind):
    ticket, now = movable_from(frm)
    before = snapshot(ticket)
    with pytest.raises(TicketMoveNotYours):
        machine.move(ticket=ticket, to=to, actor=actor_of(kind), now=now + REOPEN_WINDOW)
    assert snapshot(ticket) == before


def test_the_same_status_again_is_no_move():
    ticket = ticket_in(S.ANSWERED)
    before = snapshot(ticket)
    machine.move(ticket=ticket, to=S.ANSWERED, actor=actor_of(ActorKind.STAFF))
    assert snapshot(ticket) == before


def test_a_solved_ticket_is_not_closed_before_its_week_is_over():
    ticket = ticket_in(S.SOLVED, now=NOW)
    with pytest.raises(IllegalTicketMove):
        machine.move(
            ticket=ticket,
            to=S.CLOSED,
            actor=actor_of(machine.SYSTEM),
            now=NOW + REOPEN_WINDOW - dt.timedelta(seconds=1),
        )
    assert Ticket.objects.get(pk=ticket.pk).status == S.SOLVED
