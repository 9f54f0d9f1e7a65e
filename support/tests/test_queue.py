"""The staff queue (issue 15, section 2): deadline order from the index, the marks, the
team lead told once per breach, and the pages (masked, permission-checked)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from orders.tests.factories import staff_user
from preorder_shop import roles
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from support import services
from support.models import SlaPolicy, Ticket, TicketCategory, TicketChange, TicketStatus
from support.queue import queue_tickets, standings
from support.services import assignment, breaches

from .factories import open_ticket
from .test_board_admin import staff_of

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
S = TicketStatus


def seoul(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=SEOUL)


def pending_due(ticket: Ticket) -> dt.datetime | None:
    dues = [ticket.resolution_due_at]
    if ticket.first_responded_at is None:
        dues.append(ticket.first_response_due_at)
    dues = [d for d in dues if d is not None]
    return min(dues) if dues else None


def mixed_queue() -> list[Ticket]:
    """Tickets opened at different times, of a faster category, answered, waiting, solved."""
    agent = staff_user("agent")
    SlaPolicy.objects.create(
        category=TicketCategory.SIGN_IN,
        first_response_minutes=30,
        resolution_minutes=120,
        reason="Customers locked out cannot reserve.",
        decided_by=staff_user("lead"),
    )
    tickets = [open_ticket(now=seoul(21, 9 + i)) for i in range(5)]
    tickets.append(open_ticket(now=seoul(21, 13), category=TicketCategory.SIGN_IN))
    services.staff_reply(ticket=tickets[0], staff_user=agent, body="답변", now=seoul(21, 10))
    services.staff_move(
        ticket=tickets[1], staff_user=agent, to=S.WAITING_ON_CUSTOMER, now=seoul(21, 11)
    )
    services.staff_move(ticket=tickets[2], staff_user=agent, to=S.SOLVED, now=seoul(21, 12))
    return tickets


def test_the_queue_is_in_deadline_order_waiting_last_solved_out():
    tickets = mixed_queue()

    listed = list(queue_tickets())

    assert tickets[2] not in listed  # solved
    expected = sorted(
        (Ticket.objects.get(pk=t.pk) for t in tickets if t != tickets[2]),
        key=lambda t: (pending_due(t) is None, pending_due(t) or seoul(1, 0), t.pk),
    )
    assert [t.pk for t in listed] == [t.pk for t in expected]
    assert listed[0].category == TicketCategory.SIGN_IN  # opened last, due first (30 min)
    assert listed[-1].status == S.WAITING_ON_CUSTOMER  # its clock is stopped


@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: queue_tickets(), "ticket_queue_idx"),
        (
            lambda: queue_tickets().filter(status__in=["open", "answered"], assignee=None),
            "ticket_unassigned_idx",
        ),
    ],
    ids=["queue", "take-next"],
)
def test_the_queue_order_is_read_from_its_index_not_sorted(queryset, index):
    mixed_queue()
    sql, params = queryset()[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        # A handful of rows: a plain scan and sort would win; forbid both to see whether the
        # index can give the order at all (with many rows the planner picks it by itself).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"Index Scan using {index}" in plan
    assert "Sort" not in plan


def test_breached_and_80_percent_are_marked():
    on_time = open_ticket(now=seoul(21, 9))  # first response due 13:00
    nearly = open_ticket(now=seoul(21, 9, 10))  # due 13:10
    late = open_ticket(now=seoul(18, 9))  # due Friday 13:00
    at = seoul(21, 12, 30)  # 3.5 of 4 h used by the first: 87.5 %

    tickets = [on_time, nearly, late]
    marks = dict(zip([t.pk for t in tickets], standings(tickets, now=at), strict=True))

    assert marks[late.pk].breached and not marks[late.pk].warning
    assert marks[on_time.pk].warning and marks[nearly.pk].warning
    assert not standings([on_time], now=seoul(21, 11))[0].warning  # half used


def test_the_team_lead_is_told_of_each_missed_deadline_once(settings):
    settings.SUPPORT_TEAM_LEAD_EMAIL = "lead@example.com"
    late = open_ticket(now=seoul(18, 9))
    open_ticket(now=seoul(21, 9))  # not missed yet
    agent = staff_user("agent")
    waiting = open_ticket(now=seoul(18, 9))
    services.staff_move(
        ticket=waiting, staff_user=agent, to=S.WAITING_ON_CUSTOMER, now=seoul(18, 14)
    )

    assert breaches.notify_breaches(now=seoul(21, 10)) == 2  # both first responses missed
    assert breaches.notify_breaches(now=seoul(21, 10, 1)) == 0  # told once
    # Monday's ticket misses its first response at 13:00; the late one its resolution on
    # Tuesday at 18:00 (27 staffed hours); the waiting one's resolution clock is stopped.
    assert breaches.notify_breaches(now=seoul(22, 17)) == 1
    assert breaches.notify_breaches(now=seoul(22, 18, 1)) == 1
    assert breaches.notify_breaches(now=seoul(22, 18, 2)) == 0

    rows = OutboxMessage.objects.filter(template_key=breaches.TEMPLATE).order_by("pk")
    assert {r.recipient for r in rows} == {"lead@example.com"}
    assert [r.payload["deadline"] for r in rows] == ["first_response"] * 3 + ["resolution"]
    subject, body = render(rows.filter(reference=f"ticket:{late.pk}").first())
    assert late.number in subject
    assert "2026-09-18 13:00" in body
    assert f"/admin/support/ticket/{late.pk}/change/" in body


def test_without_a_team_lead_address_nobody_is_told(settings):
    settings.SUPPORT_TEAM_LEAD_EMAIL = ""
    open_ticket(now=seoul(18, 9))

    assert breaches.notify_breaches(now=seoul(21, 10)) == 0


# The pages.


def test_an_agent_sees_the_queue_marked_and_masked_and_takes_the_next(client):
    late = open_ticket(now=seoul(18, 9))
    fresh = open_ticket()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")

    page = agent.get(reverse("admin:support_ticket_queue")).content.decode()

    assert page.index(late.number) < page.index(fresh.number)
    assert "Breached" in page or "기한 초과" in page
    assert late.customer.phone not in page and late.customer.phone[-4:] in page
    taken = agent.post(reverse("admin:support_ticket_take_next"))
    assert taken["Location"] == reverse("admin:support_ticket_change", args=[late.pk])
    late.refresh_from_db()
    assert late.assignee.username == "agent"


def test_an_agent_releases_and_reassigns_and_the_history_says_so(client):
    ticket = open_ticket()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    other = get_user_model().objects.create_user("other", is_staff=True)
    other.groups.set(get_user_model().objects.get(username="agent").groups.all())
    me = get_user_model().objects.get(username="agent")
    assignment.take_next(agent=me)
    url = reverse("admin:support_ticket_assign", args=[ticket.pk])

    assert agent.post(url, {"to": other.pk, "note": "교대"}).status_code == 302
    assert agent.post(url, {"to": ""}).status_code == 302

    changes = ticket.history.exclude(change=TicketChange.STATUS).order_by("pk")
    assert [(h.change, h.assignee.username, h.actor_user.username) for h in changes] == [
        (TicketChange.ASSIGNED, "agent", "agent"),
        (TicketChange.RELEASED, "agent", "agent"),
        (TicketChange.ASSIGNED, "other", "agent"),
        (TicketChange.RELEASED, "other", "agent"),
    ]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_only_agents_are_assigned(client):
    ticket = open_ticket()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    auditor = get_user_model().objects.create_user("auditor", is_staff=True)
    url = reverse("admin:support_ticket_assign", args=[ticket.pk])

    response = agent.post(url, {"to": auditor.pk})

    assert response.status_code == 200  # the form again: not one of the choices
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_ticket_page_offers_take_next_and_a_missed_deadline_its_reason(client):
    late = open_ticket(now=seoul(18, 9))
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")

    page = agent.get(reverse("admin:support_ticket_change", args=[late.pk])).content.decode()
    breach = reverse("admin:support_ticket_sla_breach", args=[late.pk])

    assert f'formaction="{reverse("admin:support_ticket_take_next")}"' in page
    assert f'href="{breach}"' in page
    assert agent.post(breach, {"reason": "  "}).status_code == 200  # refused, form again
    assert agent.post(breach, {"reason": "택배사 파업"}).status_code == 302
    late.refresh_from_db()
    assert late.sla_breach_reason == "택배사 파업"
    assert late.history.filter(change=TicketChange.SLA_EXPLAINED).count() == 1


def test_an_auditor_sees_who_has_a_ticket_but_no_tool_that_would_refuse_them(client):
    ticket = open_ticket(now=seoul(18, 9))
    auditor = staff_of(client, roles.AUDITORS, "auditor")

    page = auditor.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()

    assert "assigned to" in page.lower()
    assert reverse("admin:support_ticket_take_next") not in page
    assert reverse("admin:support_ticket_assign", args=[ticket.pk]) not in page
