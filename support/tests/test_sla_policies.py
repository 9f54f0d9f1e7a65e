"""Changing the promise (issue 15, section 1): a category's own targets only with a reason,
through admin or support.services.policies, and the queue's deadlines restamped at once;
round-the-clock days declared the same way."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from orders.tests.factories import staff_user
from preorder_shop import roles
from reservations.tests.factories import CampaignFactory
from support.models import SlaPolicy, Ticket, TicketCategory
from support.queue_exceptions import PeriodInvalid, ReasonRequired, SamePolicy
from support.services import policies

from .factories import open_ticket
from .test_board_admin import staff_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_policy")]

SEOUL = ZoneInfo("Asia/Seoul")
C = TicketCategory


def seoul(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, tzinfo=SEOUL)


def due(ticket: Ticket) -> dt.datetime:
    return Ticket.objects.get(pk=ticket.pk).first_response_due_at


def test_an_administrator_gives_a_category_its_own_targets_with_a_reason(client):
    cancel = open_ticket(now=seoul(21, 9), category=C.CANCEL)
    other = open_ticket(now=seoul(21, 9), category=C.OTHER)
    admin = staff_of(client, roles.ADMINISTRATORS, "admin")
    url = reverse("admin:support_slapolicy_add")
    fields = {"category": C.CANCEL, "first_response_minutes": 60, "resolution_minutes": 600}

    refused = admin.post(url, {**fields, "reason": "  "})
    assert refused.status_code == 200 and not SlaPolicy.objects.exclude(category=None).exists()
    same = admin.post(url, {**fields, "first_response_minutes": 240, "resolution_minutes": 1620})
    assert same.status_code == 200 and not SlaPolicy.objects.exclude(category=None).exists()

    assert admin.post(url, {**fields, "reason": "Refund deadlines"}).status_code == 302

    policy = SlaPolicy.objects.get(category=C.CANCEL)
    assert (policy.reason, policy.decided_by.username) == ("Refund deadlines", "admin")
    assert due(cancel) == seoul(21, 10)  # restamped with the new target
    assert due(other) == seoul(21, 13)  # the default's

    delete = reverse("admin:support_slapolicy_delete", args=[policy.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    assert due(cancel) == seoul(21, 13)  # back to the default


def test_the_service_refuses_what_the_database_would():
    lead = staff_user("lead")
    with pytest.raises(ReasonRequired):
        policies.set_policy(
            category=C.CANCEL,
            first_response_minutes=60,
            resolution_minutes=60,
            reason="",
            staff_user=lead,
        )
    with pytest.raises(SamePolicy):
        policies.set_policy(
            category=C.CANCEL,
            first_response_minutes=240,
            resolution_minutes=1620,
            reason="Same",
            staff_user=lead,
        )


def test_changing_the_default_restamps_every_ticket_in_the_queue():
    ticket = open_ticket(now=seoul(21, 9))

    policies.set_policy(
        category=None,
        first_response_minutes=120,
        resolution_minutes=1620,
        reason="",
        staff_user=staff_user("lead"),
    )

    assert due(ticket) == seoul(21, 11)


def test_a_declared_round_the_clock_period_restamps_the_queue():
    ticket = open_ticket(now=seoul(18, 17))  # Friday 17:00: due Monday 12:00
    assert due(ticket) == seoul(21, 12)
    campaign, lead = CampaignFactory(), staff_user("lead")

    with pytest.raises(PeriodInvalid):
        policies.declare_round_the_clock(
            campaign=campaign,
            first_day=dt.date(2026, 9, 19),
            last_day=dt.date(2026, 10, 3),
            reason="Launch",
            staff_user=lead,
        )
    policies.declare_round_the_clock(
        campaign=campaign,
        first_day=dt.date(2026, 9, 19),
        last_day=dt.date(2026, 9, 20),
        reason="Launch weekend",
        staff_user=lead,
    )

    assert due(ticket) == seoul(19, 3)  # Friday's last hour, then Saturday from midnight


def test_restamp_tickets_applies_new_staffed_hours(settings):
    ticket = open_ticket(now=seoul(21, 9))  # Monday 09:00, due 13:00
    settings.SUPPORT_STAFFED_HOURS = dict.fromkeys(range(5), ("09:00", "11:00"))
    out = io.StringIO()

    with translation.override("en"):
        call_command("restamp_tickets", stdout=out)
        call_command("restamp_tickets", stdout=out)

    assert due(ticket) == seoul(22, 11)  # 2 h a day now
    assert out.getvalue().split("\n")[:2] == [
        "1 of 1 tickets in the queue got new deadlines.",
        "0 of 1 tickets in the queue got new deadlines.",
    ]
