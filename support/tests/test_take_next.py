""" "Take next ticket" under real concurrency (issue 15, section 2): two agents, each on its
own PostgreSQL connection, take 200 tickets each at once; every ticket must go to exactly
one of them, and no take may come back empty while tickets wait.

Scratch run (not kept): without the row lock (select_for_update removed from take_next) the
200 x 2 test failed at once, tickets 1, 2, 3, ... each given to both agents. With FOR UPDATE
but without SKIP LOCKED it passes too, the second agent waiting on each row the first holds
(PostgreSQL rechecks the row after the wait and moves on to the next): SKIP LOCKED is what
spares that wait, which the last test shows (it fails on the lock timeout without it)."""

import datetime as dt
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from preorder_shop import roles
from support.models import Ticket, TicketChange, TicketHistory
from support.services import assignment
from tests.concurrency import InThread, execute

from .factories import open_ticket

pytestmark = pytest.mark.django_db(transaction=True)

TAKES = 200


def agents(n: int):
    roles.setup_roles()
    group = Group.objects.get(name=roles.SUPPORT_AGENTS.name)
    users = []
    for i in range(n):
        user = get_user_model().objects.create_user(f"agent-{i}", is_staff=True)
        user.groups.set([group])
        users.append(get_user_model().objects.get(pk=user.pk))
    return users


def test_two_agents_taking_200_each_at_once_never_get_the_same_ticket():
    start = dt.datetime(2026, 9, 21, 0, 0, tzinfo=dt.UTC)
    tickets = [open_ticket(now=start + dt.timedelta(minutes=i)) for i in range(2 * TAKES)]
    a, b = agents(2)
    barrier = threading.Barrier(2)
    taken: dict[str, list[int | None]] = {}

    def work(agent) -> None:
        try:
            barrier.wait(timeout=30)
            got = []
            for _ in range(TAKES):
                ticket = assignment.take_next(agent=agent)
                got.append(ticket.pk if ticket else None)
            taken[agent.username] = got
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(agent,)) for agent in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)

    given = taken["agent-0"] + taken["agent-1"]
    assert None not in given  # 400 tickets, 400 takes: nobody came back empty
    assert sorted(given) == sorted(t.pk for t in tickets)  # each ticket exactly once
    assert Ticket.objects.filter(assignee__isnull=True).count() == 0
    for agent in (a, b):
        assert Ticket.objects.filter(assignee=agent).count() == TAKES
    assigned = TicketHistory.objects.filter(change=TicketChange.ASSIGNED)
    assert assigned.count() == 2 * TAKES
    assert assigned.values("ticket").distinct().count() == 2 * TAKES
    # Each agent's own takes come in deadline order (the queue's order).
    for name in taken:
        assert taken[name] == sorted(taken[name])


def test_take_next_gives_nothing_when_every_ticket_is_taken():
    open_ticket()
    [agent] = agents(1)

    assert assignment.take_next(agent=agent) is not None
    assert assignment.take_next(agent=agent) is None


def test_a_ticket_another_take_holds_is_passed_over_not_waited_for():
    first = open_ticket(now=dt.datetime(2026, 9, 21, 0, 0, tzinfo=dt.UTC))
    second = open_ticket(now=dt.datetime(2026, 9, 21, 1, 0, tzinfo=dt.UTC))
    [agent] = agents(1)
    held, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        with transaction.atomic():
            Ticket.objects.select_for_update().get(pk=first.pk)
            held.set()
            release.wait(30)

    holder = InThread(hold_first)
    assert held.wait(30)
    try:
        execute("SET lock_timeout = '2s'")  # a wait would fail the take, not hang it
        taken = assignment.take_next(agent=agent)
    finally:
        execute("RESET lock_timeout")
        release.set()
        holder.join()

    assert taken.pk == second.pk
