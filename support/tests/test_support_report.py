"""`manage.py support_report`: the figures as a table, every SLA policy difference, and exit
status 1 while a ticket of the period missed its SLA without a recorded reason (only its
number listed); 2 for an unknown campaign or a bad date."""

import datetime as dt
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.tests.factories import staff_user
from preorder_shop.actors import Actor
from reservations.tests.factories import CampaignFactory, ReservationFactory
from support import services
from support.models import CallbackSlot, Deflection, SlaPolicy, TicketCategory, TicketStatus
from support.services import callbacks, deadlines
from support.tests.factories import open_ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_policy")]

SEOUL = ZoneInfo("Asia/Seoul")
C = TicketCategory


def kst(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, 21, hour, minute, tzinfo=SEOUL)  # a Monday


def run_report(*args: str) -> tuple[int, str]:
    """The exit status manage.py would give (a CommandError's returncode) and the output."""
    out = io.StringIO()
    try:
        call_command("support_report", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def solved(campaign, category, *, opened, answered):
    """A ticket answered and solved on the same day: its resolution is met whenever run."""
    reservation = ReservationFactory(variant__campaign=campaign)
    ticket = open_ticket(
        reservation.customer, reservation=reservation, category=category, now=opened
    )
    agent = staff_user("agent")
    services.staff_reply(ticket=ticket, staff_user=agent, body="확인했습니다.", now=answered)
    services.staff_move(ticket=ticket, staff_user=agent, to=TicketStatus.SOLVED, now=answered)
    return ticket


@pytest.fixture
def campaign():
    return CampaignFactory(reservation_opens_at=dt.datetime(2026, 9, 1, tzinfo=SEOUL))


@pytest.fixture
def late(campaign):
    """One ticket answered in 30 minutes, one after 5 staffed hours (the default's 4 are
    due at 14:00), both solved at once; a deflection."""
    solved(campaign, C.WHERE_IS_MY_PHONE, opened=kst(10), answered=kst(10, 30))
    Deflection.objects.create(attempt=uuid.uuid4(), category=C.WHERE_IS_MY_PHONE, at=kst(12))
    return solved(campaign, C.CANCEL, opened=kst(10), answered=kst(15))


def line_of(output: str, start: str, nth: int = 0) -> list[str]:
    """The words after `start` on the nth line that starts with it (a category's label
    begins a line in the figures, the backlog and the policy tables, in that order)."""
    line = [line for line in output.splitlines() if line.startswith(start)][nth]
    return line[len(start) :].split()


def test_a_breach_without_a_reason_fails_with_its_ticket_number(campaign, late):
    status, output = run_report("--campaign", campaign.slug)

    assert status == 1
    assert "1 ticket(s) missed a deadline, 0 with a reason" in output
    assert line_of(output, late.number) == ["first", "response"]
    assert "missed the SLA without a recorded reason" in output
    assert late.customer.phone not in output


def test_the_figures_per_category_and_day(campaign, late):
    _status, output = run_report("--campaign", campaign.slug, "--since", "2026-09-21")

    assert output.splitlines()[0].startswith(
        f"Support desk figures of {campaign.slug} ({campaign.name}), 2026-09-21 to "
    )
    assert output.splitlines()[0].endswith("(Asia/Seoul)")
    # opened, answered, p50, p90, within SLA (share of decided), deflected, rate
    assert line_of(output, "Where is my phone / delivery") == [
        *("1", "1", "30", "min", "30", "min", "100%", "of", "1", "1", "50%", "-"),
    ]
    assert line_of(output, "Cancel")[:7] == ["1", "1", "300", "min", "300", "min", "0%"]
    assert line_of(output, "all  ")[:6] == ["2", "2", "165", "min", "273", "min"]
    assert line_of(output, "2026-09-21")[:3] == ["all", "2", "2"]
    assert "2026-09-22" not in output  # no tickets that day


def test_callbacks_kept_of_those_recorded_on_their_slots_day(campaign, late):
    next_day = dt.datetime(2026, 9, 22, 10, tzinfo=SEOUL)
    slot = CallbackSlot.objects.create(starts_at=next_day, capacity=2)
    booked = callbacks.book(ticket=late, customer=late.customer, slot_id=slot.pk, now=kst(15))
    agent = staff_user("agent")
    kept = {"outcome": "kept", "now": next_day}
    callbacks.record_outcome(booking=booked.booking, staff_user=agent, **kept)

    _status, output = run_report("--campaign", campaign.slug)

    assert line_of(output, "Cancel")[-3:] == ["100%", "of", "1"]
    assert line_of(output, "2026-09-22") == [
        *("all", "0", "0", "-", "-", "-", "0", "-", "100%", "of", "1"),
    ]


def test_a_recorded_reason_lets_it_pass(campaign, late):
    deadlines.explain_breach(
        ticket=late,
        reason="택배사 시스템 장애",
        actor=Actor.staff(staff_user("lead")),
        now=kst(16),
    )

    status, output = run_report("--campaign", campaign.slug)

    assert status == 0
    assert "1 ticket(s) missed a deadline, 1 with a reason" in output
    assert "Every breach has a recorded reason." in output


def test_a_ticket_still_unresolved_past_its_deadline_is_a_breach(campaign):
    reservation = ReservationFactory(variant__campaign=campaign)
    ticket = open_ticket(reservation.customer, reservation=reservation, now=kst(10))

    status, output = run_report("--campaign", campaign.slug)

    assert status == 1
    assert line_of(output, ticket.number) == ["first", "response,", "resolution"]


def test_a_campaign_whose_tickets_met_the_sla_passes(campaign):
    solved(campaign, C.OTHER, opened=kst(10), answered=kst(10, 5))

    status, output = run_report("--campaign", campaign.slug)

    assert status == 0
    assert "0 ticket(s) missed a deadline" in output


def test_every_policy_difference_is_listed_with_its_reason(campaign):
    SlaPolicy.objects.create(
        category=C.SIGN_IN,
        first_response_minutes=30,
        resolution_minutes=120,
        reason="Customers locked out cannot reserve.",
        decided_by=staff_user("lead"),
        decided_at=kst(9),
    )

    status, output = run_report("--campaign", campaign.slug)

    assert status == 0
    assert "Default, every category: first response 240 min, resolution 1,620 min" in output
    assert line_of(output, "Sign-in problem", -1) == [
        *("Customers", "locked", "out", "cannot", "reserve."),
        *("lead", "2026-09-21", "09:00", "30", "min", "120", "min"),
    ]


def test_no_difference_says_so(campaign):
    _status, output = run_report("--campaign", campaign.slug)

    assert "No category differs from the default." in output


def test_an_unknown_campaign_is_refused():
    status, output = run_report("--campaign", "nope")

    assert (status, output) == (2, "No campaign with slug 'nope'.")


@pytest.mark.parametrize("since", ["2026-13-01", "21-09-2026", "20260921", "yesterday", ""])
def test_a_bad_date_is_refused(campaign, since):
    status, output = run_report("--campaign", campaign.slug, "--since", since)

    assert (status, output) == (2, f"--since must be a date as YYYY-MM-DD, not '{since}'.")


def test_a_date_after_today_is_refused(campaign):
    status, output = run_report("--campaign", campaign.slug, "--since", "2999-01-01")

    assert (status, output) == (2, "--since cannot be after today.")
