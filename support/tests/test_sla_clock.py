"""The SLA clock (issue 15, section 1), on an injected clock: staffed time only (Mon-Fri
09:00-18:00 Seoul), Korean public holidays not staffed, a campaign's round-the-clock days
staffed 24 hours, stopped while the ticket waits on the customer; and the policy's rules,
which the database refuses to break.

September 2026 in Seoul: Chuseok is Thursday 24 to Saturday 26 (public holidays)."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from orders.tests.factories import staff_user
from preorder_shop.actors import Actor
from reservations.tests.factories import CampaignFactory
from support import services, shifts
from support.models import (
    RoundTheClock,
    SlaPolicy,
    Ticket,
    TicketCategory,
    TicketChange,
    TicketHistory,
    TicketStatus,
)
from support.queue_exceptions import NotBreached, ReasonRequired
from support.services import deadlines

from .factories import open_ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_policy")]

SEOUL = ZoneInfo("Asia/Seoul")
S = TicketStatus


def seoul(day: int, hour: int, minute: int = 0, month: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SEOUL)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_the_default_policy_is_seeded_4_staffed_hours_and_3_staffed_days():
    [default] = SlaPolicy.objects.all()
    assert default.category is None
    assert (default.first_response_minutes, default.resolution_minutes) == (240, 27 * 60)


def test_across_a_weekend_the_clock_counts_friday_evening_then_monday_morning():
    ticket = open_ticket(now=seoul(18, 17))  # Friday 17:00: one staffed hour left

    assert ticket.first_response_due_at == seoul(21, 12)  # + Monday 09:00-12:00
    # 27 staffed hours: Fri 1 h, Mon 9, Tue 9, Wed 8 (Thu, Fri: Chuseok).
    assert ticket.resolution_due_at == seoul(23, 17)


def test_a_public_holiday_is_not_staffed():
    ticket = open_ticket(now=seoul(23, 16))  # Wednesday 16:00, the day before Chuseok

    # Wed 16-18 (2 h), Thu-Sat Chuseok, Sunday, then Monday 09:00 + 2 h.
    assert ticket.first_response_due_at == seoul(28, 11)
    assert not shifts.on_shift(seoul(24, 10))
    assert shifts.next_staffed(seoul(24, 10)) == seoul(28, 9)


def test_a_substitute_holiday_is_not_staffed_either():
    # Monday 5 October 2026: substitute holiday for National Foundation Day (Saturday).
    assert shifts.staffed_period(dt.date(2026, 10, 5)) is None
    assert shifts.staffed_period(dt.date(2026, 10, 6)) == (
        seoul(6, 9, month=10),
        seoul(6, 18, month=10),
    )


def test_waiting_on_the_customer_stops_the_clock_and_their_reply_runs_it_on():
    agent = staff_user("agent")
    ticket = open_ticket(now=seoul(21, 10))  # Monday 10:00
    services.staff_move(
        ticket=ticket, staff_user=agent, to=S.WAITING_ON_CUSTOMER, now=seoul(21, 11)
    )

    waiting = fresh(ticket)
    assert (waiting.first_response_due_at, waiting.resolution_due_at) == (None, None)

    services.customer_reply(
        ticket=ticket,
        customer=ticket.customer,
        body="사진 보냈습니다",
        idempotency_key=uuid.uuid4(),
        now=seoul(22, 14),  # Tuesday 14:00, a day later
    )

    back = fresh(ticket)
    assert back.status == S.OPEN
    # One staffed hour used on Monday; three more from Tuesday 14:00.
    assert back.first_response_due_at == seoul(22, 17)
    # 26 left: Tue 4, Wed 9, (Chuseok, weekend) Mon 9, Tue 29 09:00 + 4.
    assert back.resolution_due_at == seoul(29, 13)


def test_the_first_staff_reply_is_stamped_and_its_deadline_kept_to_measure_against():
    agent = staff_user("agent")
    ticket = open_ticket(now=seoul(21, 10))

    services.staff_reply(ticket=ticket, staff_user=agent, body="확인 중입니다", now=seoul(21, 15))
    services.staff_reply(ticket=ticket, staff_user=agent, body="추가 안내", now=seoul(22, 9))

    replied = fresh(ticket)
    assert replied.first_responded_at == seoul(21, 15)
    assert replied.first_response_due_at == seoul(21, 14)  # missed by an hour
    assert deadlines.breached(replied, now=seoul(22, 10)) == ["first_response"]


def test_a_reply_that_leaves_the_ticket_where_it_was_still_is_the_first_response():
    agent = staff_user("agent")
    ticket = open_ticket(now=seoul(21, 10))
    services.staff_move(ticket=ticket, staff_user=agent, to=S.ANSWERED, now=seoul(21, 10, 30))

    services.staff_reply(ticket=ticket, staff_user=agent, body="답변", now=seoul(21, 11))

    assert fresh(ticket).first_responded_at == seoul(21, 11)


def test_solving_keeps_the_resolution_deadline_and_a_reopening_runs_the_clock_on():
    agent = staff_user("agent")
    ticket = open_ticket(now=seoul(21, 9))  # Monday 09:00
    services.staff_move(ticket=ticket, staff_user=agent, to=S.SOLVED, now=seoul(21, 12))
    solved = fresh(ticket)
    assert solved.resolution_due_at == seoul(23, 18)  # 27 h as if it had run on: met

    services.customer_reply(
        ticket=ticket,
        customer=ticket.customer,
        body="아직 안 왔어요",
        idempotency_key=uuid.uuid4(),
        now=seoul(22, 12),  # reopened a day later: the solved day does not count
    )

    # 3 h used; 24 left from Tuesday 12:00: Tue 6, Wed 9, (Chuseok, weekend) Mon 28 9.
    assert fresh(ticket).resolution_due_at == seoul(28, 18)


def test_round_the_clock_days_are_staffed_24_hours_holidays_included():
    RoundTheClock.objects.create(
        campaign=CampaignFactory(),
        first_day=dt.date(2026, 9, 23),
        last_day=dt.date(2026, 9, 25),
        reason="출시 주간",
        decided_by=staff_user("lead"),
    )

    ticket = open_ticket(now=seoul(24, 22))  # Thursday 22:00, Chuseok

    assert shifts.on_shift(seoul(24, 3))
    assert ticket.first_response_due_at == seoul(25, 2)
    # Fri 25 ends the period at midnight: Thu 2 h + Fri 24 h = 26, then Mon 09:00 + 1 h.
    assert ticket.resolution_due_at == seoul(28, 10)


def test_a_categorys_own_policy_applies_and_restamp_recomputes_open_tickets():
    ticket = open_ticket(now=seoul(21, 9), category=TicketCategory.CANCEL)
    assert ticket.first_response_due_at == seoul(21, 13)
    SlaPolicy.objects.create(
        category=TicketCategory.CANCEL,
        first_response_minutes=60,
        resolution_minutes=600,
        reason="Cancellations before the order window closes lose the customer's slot.",
        decided_by=staff_user("lead"),
    )

    assert deadlines.restamp(ticket_ids=[ticket.pk]) == 1
    assert deadlines.restamp(ticket_ids=[ticket.pk]) == 0  # nothing more to change

    assert fresh(ticket).first_response_due_at == seoul(21, 10)
    assert fresh(ticket).resolution_due_at == seoul(22, 10)


def test_restamp_reads_the_first_response_from_the_messages():
    agent = staff_user("agent")
    ticket = open_ticket(now=seoul(21, 9))
    services.staff_reply(ticket=ticket, staff_user=agent, body="답변", now=seoul(21, 10))
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=None, first_response_due_at=None)

    deadlines.restamp(ticket_ids=[ticket.pk])

    assert fresh(ticket).first_responded_at == seoul(21, 10)
    assert fresh(ticket).first_response_due_at == seoul(21, 13)


def test_a_breach_is_explained_once_missed_with_a_history_row():
    agent = staff_user("agent")
    ticket = open_ticket(now=seoul(21, 9))
    with pytest.raises(NotBreached):
        deadlines.explain_breach(
            ticket=ticket, reason="택배사 지연", actor=Actor.staff(agent), now=seoul(21, 12)
        )
    with pytest.raises(ReasonRequired):
        deadlines.explain_breach(
            ticket=ticket, reason="  ", actor=Actor.staff(agent), now=seoul(22, 9)
        )

    deadlines.explain_breach(
        ticket=ticket, reason="택배사 지연", actor=Actor.staff(agent), now=seoul(22, 9)
    )

    assert fresh(ticket).sla_breach_reason == "택배사 지연"
    [row] = TicketHistory.objects.filter(ticket=ticket, change=TicketChange.SLA_EXPLAINED)
    assert (row.note, row.actor_user, row.at) == ("택배사 지연", agent, seoul(22, 9))


# The rules the database keeps.


def refused(constraint: str, make) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make()


def test_a_second_default_policy_is_refused():
    refused(
        "sla_policy_one_per_category",
        lambda: SlaPolicy.objects.create(first_response_minutes=60, resolution_minutes=60),
    )


def test_a_category_policy_needs_a_reason_and_who_decided():
    lead = staff_user("lead")
    fields = {"first_response_minutes": 60, "resolution_minutes": 120}
    for reason, decided_by in [("", lead), ("   ", lead), ("Faster", None)]:
        refused(
            "sla_policy_difference_explained",
            lambda r=reason, d=decided_by: SlaPolicy.objects.create(
                category=TicketCategory.CANCEL, reason=r, decided_by=d, **fields
            ),
        )
    SlaPolicy.objects.create(
        category=TicketCategory.CANCEL, reason="Faster", decided_by=lead, **fields
    )
    refused(
        "sla_policy_one_per_category",
        lambda: SlaPolicy.objects.create(
            category=TicketCategory.CANCEL, reason="Again", decided_by=lead, **fields
        ),
    )


def test_targets_must_be_positive_and_resolution_not_before_first_response():
    default = SlaPolicy.objects.get(category=None)
    for first, resolution in [(0, 60), (120, 60)]:
        refused(
            "sla_policy_targets_sane",
            lambda f=first, r=resolution: SlaPolicy.objects.filter(pk=default.pk).update(
                first_response_minutes=f, resolution_minutes=r
            ),
        )


def test_the_default_policy_cannot_be_deleted_or_become_a_categorys():
    default = SlaPolicy.objects.get(category=None)
    refused("default SLA policy stays", lambda: SlaPolicy.objects.filter(pk=default.pk).delete())
    refused(
        "default SLA policy stays",
        lambda: SlaPolicy.objects.filter(pk=default.pk).update(
            category=TicketCategory.CANCEL, reason="x", decided_by=staff_user("lead")
        ),
    )
    SlaPolicy.objects.filter(pk=default.pk).update(first_response_minutes=120)  # targets may


def test_a_round_the_clock_period_is_at_most_two_weeks_with_a_reason():
    fields = {"campaign": CampaignFactory(), "decided_by": staff_user("lead")}
    first = dt.date(2026, 9, 1)
    refused(
        "round_the_clock_span",
        lambda: RoundTheClock.objects.create(
            first_day=first, last_day=first + dt.timedelta(days=14), reason="launch", **fields
        ),
    )
    refused(
        "round_the_clock_span",
        lambda: RoundTheClock.objects.create(
            first_day=first, last_day=first - dt.timedelta(days=1), reason="launch", **fields
        ),
    )
    refused(
        "round_the_clock_reason",
        lambda: RoundTheClock.objects.create(
            first_day=first, last_day=first, reason=" ", **fields
        ),
    )


def test_assignment_history_names_the_agent_and_a_merge_says_which_ticket():
    ticket = open_ticket(now=seoul(21, 9))
    actor = TicketHistory.fields_for(Actor.staff(staff_user("agent")))
    refused(
        "ticket_history_assignee_named",
        lambda: TicketHistory.objects.create(ticket=ticket, change=TicketChange.ASSIGNED, **actor),
    )
    refused(
        "ticket_history_assignee_named",
        lambda: TicketHistory.objects.create(
            ticket=ticket, change=TicketChange.LINKED, assignee=staff_user("agent"), **actor
        ),
    )
    refused(
        "ticket_history_change_noted",
        lambda: TicketHistory.objects.create(ticket=ticket, change=TicketChange.MERGED, **actor),
    )
