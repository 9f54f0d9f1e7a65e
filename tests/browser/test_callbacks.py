"""Requesting a call on a 360-px phone in Korean (issue 15, section 4): the ticket page's
slot picker (times by day in Seoul time, free places), booking one, the booked call with
its cancel button, cancelling. Every page through look() (axe, no sideways scroll,
screenshots); every control at least 44 px tall."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from preorder_shop.tests.factories import CustomerFactory
from support.models.callbacks import CallbackBooking, CallbackSlot, CallbackStatus
from support.tests.factories import open_ticket

from .conftest import sign_in
from .test_support import assert_tappable

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, E164, NAME = "010-5555-0123", "+821055550123", "이서연"


def test_request_a_call_then_cancel_it(page, look, taps, campaign, live_server):
    ticket = open_ticket(CustomerFactory(phone=E164, name=NAME))
    tomorrow = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    slots = [
        CallbackSlot.objects.create(starts_at=tomorrow + dt.timedelta(minutes=30 * i), capacity=3)
        for i in range(3)
    ]
    CallbackSlot.objects.create(starts_at=tomorrow + dt.timedelta(hours=3), capacity=0)

    page.goto(live_server.url + campaign.get_absolute_url())
    sign_in(page, look, taps, phone=PHONE, name=NAME)
    page.goto(f"{live_server.url}/support/tickets/{ticket.number}/")

    picker = page.get_by_test_id("callback")
    expect(picker).to_be_visible()
    expect(picker.locator("input[name=slot]")).to_have_count(3)  # the closed slot is not offered
    picker.scroll_into_view_if_needed()
    look(page, "callback-picker")
    assert_tappable(page)

    taps.check(picker.locator(f"input[name=slot][value='{slots[1].pk}']"))
    with page.expect_navigation():
        taps.click(page.get_by_test_id("callback-book"))
    expect(page.get_by_test_id("callback-booked")).to_be_visible()
    booking = CallbackBooking.objects.get(ticket=ticket)
    assert (booking.slot_id, booking.status) == (slots[1].pk, CallbackStatus.BOOKED)
    # The confirmation and the panel say the time as every date on the site: "2026년 12월
    # 4일 오후 10:30", not "2026-12-04 22:30".
    said = page.locator("body").inner_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}|(?<!오[전후] )\b\d{1,2}:\d{2}", said), said
    assert re.search(r"\d{4}년 \d{1,2}월 \d{1,2}일 오[전후] \d{1,2}:\d{2}", said), said
    look(page, "callback-booked")
    assert_tappable(page)

    with page.expect_navigation():
        taps.click(page.get_by_test_id("callback-cancel"))
    expect(page.get_by_test_id("callback-book")).to_be_visible()
    booking.refresh_from_db()
    assert booking.status == CallbackStatus.CANCELLED
    look(page, "callback-cancelled")
