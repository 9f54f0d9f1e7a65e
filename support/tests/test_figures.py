"""The desk's figures (support.figures) against hand-computed expectations: a few tickets
at fixed times around Seoul's midnight, one campaign's and another's, answered, noted
internally, unanswered and reopened, and deflections either side of the period."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from orders.tests.factories import staff_user
from preorder_shop.actors import Actor
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import CampaignFactory, ReservationFactory
from support import figures, services
from support.models import (
    AuthorKind,
    CallbackSlot,
    Deflection,
    Ticket,
    TicketCategory,
    TicketMessage,
)
from support.services import callbacks, deadlines
from support.tests.factories import open_ticket

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
C = TicketCategory
MIN = dt.timedelta(minutes=1)
DAY1, DAY2 = dt.date(2026, 9, 21), dt.date(2026, 9, 22)
NOW = dt.datetime(2026, 9, 22, 12, 0, tzinfo=SEOUL)


def kst(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=SEOUL)


def campaign():
    # Open for reservations now (the database checks), and since long before the tickets.
    return CampaignFactory(reservation_opens_at=dt.datetime(2026, 1, 1, tzinfo=SEOUL))


def about(campaign_, category, at):
    reservation = ReservationFactory(variant__campaign=campaign_)
    return open_ticket(reservation.customer, reservation=reservation, category=category, now=at)


def answer(ticket, at):
    services.staff_reply(
        ticket=ticket, staff_user=staff_user("agent"), body="확인했습니다.", now=at
    )


def deflect(category, at):
    Deflection.objects.create(attempt=uuid.uuid4(), category=category, at=at)


@pytest.fixture
def desk():
    return build_desk()


def build_desk():
    """Campaign `ours`, another campaign, and their tickets and deflections (times in KST):

    The default policy: a first response within 4 staffed hours (weekdays 09:00-18:00); day 1
    is a Monday.

    day 1  00:10 A  where is my phone, ours, answered 13:10 (13 h; due 13:00: missed)
           12:00 D  sign-in, contact form (about nothing), answered 12:30 (30 min)
           23:50 B  where is my phone, ours, internal note 23:55, answered 01:50 (2 h);
                    the customer writes again on day 2 at 11:30 (open again)
    day 2  08:00 C  where is my phone, ours (still day 1 in UTC), answered 09:00 (1 h)
           09:00 F  cancel, ours, unanswered
           10:00 G  other, a signed-in customer's, about nothing, unanswered
           10:00 E  cancel, the other campaign's: never counted
    09-18  H  other, ours, unanswered (before the period; in the backlog)
    Deflections: 2 where-is-my-phone on day 1, 1 cancel on day 2; one before the period
    and one after `now`, not counted. Callbacks: A's kept on day 1 at 14:00; B's missed on
    day 2 at 10:00, C's kept at 10:30; F's at 11:00 not recorded yet.
    """
    ours, other = campaign(), campaign()
    a = about(ours, C.WHERE_IS_MY_PHONE, kst(21, 0, 10))
    answer(a, kst(21, 13, 10))
    d = services.open_contact_ticket(
        phone="010-5555-6666",
        name="김민준",
        body="인증번호가 안 와요",
        idempotency_key=uuid.uuid4(),
        now=kst(21, 12),
    )
    answer(d, kst(21, 12, 30))
    b = about(ours, C.WHERE_IS_MY_PHONE, kst(21, 23, 50))
    TicketMessage.objects.create(
        ticket=b,
        author_kind=AuthorKind.STAFF,
        staff_user=staff_user("agent"),
        internal=True,
        body="택배사 확인 필요",
        created_at=kst(21, 23, 55),
    )
    answer(b, kst(22, 1, 50))
    services.customer_reply(
        ticket=b,
        customer=b.customer,
        body="아직요?",
        idempotency_key=uuid.uuid4(),
        now=kst(22, 11, 30),
    )
    c = about(ours, C.WHERE_IS_MY_PHONE, kst(22, 8))
    answer(c, kst(22, 9))
    f = about(ours, C.CANCEL, kst(22, 9))
    open_ticket(CustomerFactory(), category=C.OTHER, now=kst(22, 10))
    about(other, C.CANCEL, kst(22, 10))
    about(ours, C.OTHER, kst(18, 10))
    for category, at in [
        (C.WHERE_IS_MY_PHONE, kst(21, 15)),
        (C.WHERE_IS_MY_PHONE, kst(21, 16)),
        (C.CANCEL, kst(22, 11, 59)),
        (C.CANCEL, kst(20, 23, 59)),  # before the period
        (C.CANCEL, kst(22, 12, 30)),  # after now
    ]:
        deflect(category, at)
    call(a, kst(21, 14), booked=kst(21, 1), outcome=("kept", kst(21, 14, 10)))
    call(b, kst(22, 10), booked=kst(22, 2), outcome=("missed", kst(22, 10, 5)))
    call(c, kst(22, 10, 30), booked=kst(22, 8, 30), outcome=("kept", kst(22, 10, 35)))
    call(f, kst(22, 11), booked=kst(22, 9, 30))  # not recorded yet
    return ours


def call(ticket, starts_at, *, booked, outcome=None):
    slot = CallbackSlot.objects.get_or_create(starts_at=starts_at, defaults={"capacity": 5})[0]
    booking = callbacks.book(
        ticket=ticket, customer=ticket.customer, slot_id=slot.pk, now=booked
    ).booking
    if outcome:
        status, at = outcome
        callbacks.record_outcome(
            booking=booking, staff_user=staff_user("agent"), outcome=status, now=at
        )


def figures_of(ours):
    return figures.desk_figures(campaign=ours, since=DAY1, now=NOW)


def test_days_run_from_since_to_today_in_seoul(desk):
    found = figures_of(desk)

    assert found.days == [DAY1, DAY2]
    assert (found.since, found.until) == (DAY1, DAY2)


def test_tickets_opened_per_seoul_day_and_category(desk):
    found = figures_of(desk)

    opened = {
        (day, category): found.cell(day, category).opened
        for day in found.days
        for category in (C.WHERE_IS_MY_PHONE, C.SIGN_IN, C.CANCEL, C.OTHER)
    }
    assert opened == {
        (DAY1, C.WHERE_IS_MY_PHONE): 2,  # A at 00:10 (15:10 UTC the day before), B at 23:50
        (DAY1, C.SIGN_IN): 1,
        (DAY1, C.CANCEL): 0,
        (DAY1, C.OTHER): 0,
        (DAY2, C.WHERE_IS_MY_PHONE): 1,  # C at 08:00, still day 1 in UTC
        (DAY2, C.SIGN_IN): 0,
        (DAY2, C.CANCEL): 1,  # F; E is the other campaign's
        (DAY2, C.OTHER): 1,  # G; H was opened before the period
    }
    assert (found.cell(DAY1).opened, found.cell(DAY2).opened, found.cell().opened) == (3, 3, 6)
    assert found.cell(category=C.WHERE_IS_MY_PHONE).opened == 3


def test_first_response_percentiles_ignore_internal_notes_and_unanswered_tickets(desk):
    found = figures_of(desk)

    def times(cell):
        return (cell.answered, cell.response_p50, cell.response_p90)

    # B's internal note at 5 minutes is no answer: its first response took 2 h.
    # percentile_cont interpolates: p50 of (120, 780) = 450, p90 = 120 + 0.9 * 660 = 714.
    assert times(found.cell(DAY1, C.WHERE_IS_MY_PHONE)) == (2, 450 * MIN, 714 * MIN)
    assert times(found.cell(DAY1, C.SIGN_IN)) == (1, 30 * MIN, 30 * MIN)
    # Day 1 (30, 120, 780): p50 120, p90 at 1.8 of the way = 120 + 0.8 * 660 = 648.
    assert times(found.cell(DAY1)) == (3, 120 * MIN, 648 * MIN)
    # Day 2: C alone is answered (F and G are not).
    assert times(found.cell(DAY2)) == (1, 60 * MIN, 60 * MIN)
    assert times(found.cell(DAY2, C.CANCEL)) == (0, None, None)
    # Where is my phone over both days (60, 120, 780): p90 = 120 + 0.8 * 660 = 648.
    assert times(found.cell(category=C.WHERE_IS_MY_PHONE)) == (3, 120 * MIN, 648 * MIN)
    # Everything (30, 60, 120, 780): p50 90, p90 at 2.7 = 120 + 0.7 * 660 = 582.
    assert times(found.cell()) == (4, 90 * MIN, 582 * MIN)


def test_share_within_sla_counts_decided_first_responses_only(desk):
    found = figures_of(desk)

    def sla(cell):
        return (cell.sla_met, cell.sla_decided)

    # A was due at 13:00 (the clock starts at 09:00) and answered 13:10; B was due day 2 at
    # 13:00 and answered 01:50; D due 16:00, answered 12:30.
    assert sla(found.cell(DAY1, C.WHERE_IS_MY_PHONE)) == (1, 2)
    assert found.cell(DAY1, C.WHERE_IS_MY_PHONE).within_sla == 1 / 2
    assert sla(found.cell(DAY1)) == (2, 3)
    # Day 2: C met (due 13:00, answered 09:00); F and G are not due yet at 12:00.
    assert sla(found.cell(DAY2)) == (1, 1)
    assert found.cell(DAY2, C.CANCEL).within_sla is None
    assert found.cell().within_sla == 3 / 4


def test_breaches_are_the_periods_tickets_that_missed_a_deadline(desk):
    found = figures_of(desk)

    [late] = found.breaches
    assert (late.first_response, late.resolution, late.explained) == (True, False, False)
    assert found.unexplained == [late]
    a = Ticket.objects.get(number=late.number)
    assert a.created_at == kst(21, 0, 10)

    deadlines.explain_breach(
        ticket=a, reason="택배사 조회 장애", actor=Actor.staff(staff_user("lead")), now=NOW
    )

    assert [b.explained for b in figures_of(desk).breaches] == [True]
    assert figures_of(desk).unexplained == []


def test_an_unanswered_ticket_past_its_deadline_is_a_breach_and_decided(desk):
    found = figures.desk_figures(campaign=desk, now=NOW)  # H (09-18) in the period now

    assert [(b.first_response, b.resolution) for b in found.breaches] == [(True, False)] * 2
    assert (found.cell(category=C.OTHER).sla_met, found.cell(category=C.OTHER).sla_decided) == (
        0,
        1,
    )


def test_deflection_rate_is_deflected_over_ended_attempts_per_category(desk):
    found = figures_of(desk)

    assert found.cell(DAY1, C.WHERE_IS_MY_PHONE).deflected == 2
    assert found.cell(DAY1, C.WHERE_IS_MY_PHONE).deflection_rate == 2 / 4
    assert found.cell(DAY2, C.CANCEL).deflection_rate == 1 / 2
    assert found.cell(category=C.CANCEL).deflected == 1  # not the one before or after
    assert found.cell(DAY1, C.OTHER).deflection_rate is None  # nothing ended
    assert found.cell().deflection_rate == 3 / 9


def test_callbacks_kept_of_those_recorded_per_slot_day_and_ticket_category(desk):
    found = figures_of(desk)

    def kept(cell):
        return (cell.callbacks_kept, cell.callbacks, cell.kept_rate)

    assert kept(found.cell(DAY1, C.WHERE_IS_MY_PHONE)) == (1, 1, 1.0)
    assert kept(found.cell(DAY2, C.WHERE_IS_MY_PHONE)) == (1, 2, 0.5)
    assert kept(found.cell(DAY2, C.CANCEL)) == (0, 0, None)  # F's is not recorded yet
    assert kept(found.cell()) == (2, 3, 2 / 3)


def test_backlog_buckets_open_tickets_by_their_wait_whenever_opened(desk):
    found = figures_of(desk)

    # B open again since 11:30 (30 min); F since 09:00 (3 h); G since 10:00 (2 h); H since
    # 09-18 (4 days). A, C and D are answered; E is the other campaign's.
    assert found.backlog_of(C.WHERE_IS_MY_PHONE) == (1, 0, 0, 0, 0)
    assert found.backlog_of(C.CANCEL) == (0, 1, 0, 0, 0)
    assert found.backlog_of(C.OTHER) == (0, 1, 0, 0, 1)
    assert found.backlog_of(C.SIGN_IN) == (0, 0, 0, 0, 0)
    assert found.backlog_of() == (1, 2, 0, 0, 1)


def test_since_defaults_to_the_campaigns_opening_day_in_seoul(desk):
    found = figures.desk_figures(campaign=desk, now=NOW)

    assert found.since == dt.date(2026, 1, 1)
    assert found.cell().opened == 7  # H too


def test_a_campaign_without_tickets_has_zero_figures():
    found = figures.desk_figures(campaign=campaign(), since=DAY1, now=NOW)

    assert found.cell() == figures.Cell(None, None)
    assert found.backlog_of() == (0, 0, 0, 0, 0)
