"""Every new ticket's acknowledgement (support.acknowledgement): queued once, in the ticket's
transaction; its status is the order page's in every order state, and a reservation's place
is queue_standing's; the first reply's expected time is a range from the open queue and
the measured reply rate; off shift it says when people are back; the contact form's
acknowledgement goes at most once per number per hour, also to 10 parallel submissions."""

import datetime as dt
import html
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from orders import selectors
from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from orders.tests.test_api_status import STATES, page_status, signed_in
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from preorder_shop.tests.factories import CustomerFactory
from reservations.selectors import queue_standing
from reservations.tests.factories import ReservationFactory
from support import services
from support.acknowledgement import (
    ACK,
    CONTACT_ACK,
    CONTACT_ACK_WINDOW,
    ESTIMATE_CACHE_KEY,
    ReplyEstimate,
    acknowledgement,
    recent_reply_estimate,
    reply_estimate,
)
from support.models import Ticket, TicketCategory
from support.tests.common import about_order, outbox
from support.tests.factories import open_ticket
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
SUNDAY_3AM = dt.datetime(2026, 9, 20, 3, 0, tzinfo=SEOUL)
MONDAY_9AM = dt.datetime(2026, 9, 21, 9, 0, tzinfo=SEOUL)
TUESDAY_10AM = dt.datetime(2026, 9, 22, 10, 0, tzinfo=SEOUL)
MINUTE = dt.timedelta(minutes=1)
# Where the order's status has a place in line (its reservation still holds one).
PLACED = {OrderStatus.DRAFT, OrderStatus.RECEIVED, OrderStatus.PREPARING}
PLACED |= {OrderStatus.SHIPPED, OrderStatus.DELIVERED}


@pytest.fixture(autouse=True)
def _no_cached_estimate():
    """The estimate's cached copy lives in Redis, outside the test transaction."""
    cache.delete(ESTIMATE_CACHE_KEY)


def text_of(message: OutboxMessage) -> str:
    return render(message)[1]


def says(text: str, *parts: str) -> bool:
    """Whether one line of `text` has every part (the words around them are translated)."""
    return any(all(str(part) in line for part in parts) for line in text.splitlines())


def contact(phone="010-5555-6666", **kwargs):
    fields = {"name": "김민준", "body": "인증번호가 안 와요", "idempotency_key": uuid.uuid4()}
    return services.open_contact_ticket(phone=phone, **{**fields, **kwargs})


def contact_acks(phone="+821055556666") -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template_key=CONTACT_ACK, recipient=phone))


# Queued once per new ticket, in its transaction.


def test_a_new_ticket_is_acknowledged_once_in_its_transaction(
    django_capture_on_commit_callbacks,
):
    order = order_in(OrderStatus.RECEIVED)

    with django_capture_on_commit_callbacks() as sending:
        opened = about_order(order, email="minjun@example.com")

    ticket = opened.ticket
    assert [(m.channel, m.recipient, m.template_key) for m in outbox(ticket)] == [
        ("sms", order.reservation.customer.phone, ACK),
        ("email", "minjun@example.com", ACK),
    ]
    assert len(sending) == 2  # each row is sent after the ticket's commit
    # Only the number and path travel: the status is read when the message is sent.
    assert outbox(ticket)[0].payload == {
        "ticket_number": ticket.number,
        "ticket_path": f"/support/tickets/{ticket.number}/",
    }
    key = Ticket.objects.get(pk=ticket.pk).idempotency_key
    about_order(order, idempotency_key=key)  # the same submission again
    about_order(order, body="하나 더요")  # a duplicate: added to the open ticket
    assert len(outbox(ticket)) == 2


def test_no_ticket_no_acknowledgement():
    order = order_in(OrderStatus.RECEIVED)
    with pytest.raises(RuntimeError), transaction.atomic():
        about_order(order)
        raise RuntimeError("the request fails after opening")
    assert not Ticket.objects.exists()
    assert not OutboxMessage.objects.filter(template_key=ACK).exists()


# The status is the order page's.


def standing_on_page(body: str) -> str | None:
    """The text of the page's queue position (the <dd> after "Queue position")."""
    label = re.escape(translation.gettext("Queue position"))
    found = re.search(rf"<dt>{label}</dt>\s*<dd[^>]*>(.*?)</dd>", body, re.DOTALL)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize("state", STATES)
def test_the_acknowledgements_status_is_the_order_pages_in_every_state(client, state):
    order = order_in(state)
    customer = order.reservation.customer
    ticket = about_order(order, now=timezone.now()).ticket
    [sms] = [m for m in outbox(ticket) if m.channel == "sms"]

    sent = text_of(sms)

    if order.number is None:  # a form never submitted has no order page: its selector
        with translation.override(sms.language):
            view = selectors.order_status(order)
        shown = {"status_label": view.label, "next_step": view.next_step}
        assert says(sent, order.reservation.number, view.label)
        standing = view.facts.standing and str(view.facts.standing.place)
    else:
        page = signed_in(client, customer).get(
            reverse("orders:order_detail", args=[order.number]),
            HTTP_ACCEPT_LANGUAGE=sms.language,
        )
        body = page.content.decode()
        shown = page_status(body)
        with translation.override(sms.language):
            standing = standing_on_page(body)
        assert says(sent, order.number, shown["status_label"])
    assert shown["next_step"] in sent.splitlines()
    with translation.override(sms.language):
        heading = translation.gettext("Queue position") + ":"
        says_place = any(line.startswith(heading) for line in sent.splitlines())
    assert says_place == (standing is not None)
    if standing is not None:
        assert standing.strip() in sent
    assert (standing is not None) == (state in PLACED)


def test_a_reservations_place_is_queue_standing(client):
    ahead = ReservationFactory()
    reservation = ReservationFactory(variant=ahead.variant, campaign=ahead.campaign)
    ticket = open_ticket(reservation.customer, reservation=reservation)
    [sms] = outbox(ticket)

    sent = text_of(sms)

    standing = queue_standing(reservation)
    assert standing.place == 2
    page = signed_in(client, reservation.customer).get(
        reverse("orders:reservation_detail", args=[reservation.number]),
        HTTP_ACCEPT_LANGUAGE=sms.language,
    )
    shown = re.search(r'data-testid="standing">([^<]+)</dd>', page.content.decode()).group(1)
    shown = html.unescape(shown).strip()
    assert shown in sent
    assert f"{standing.place}" in shown
    with translation.override(sms.language):
        assert says(sent, reservation.number, reservation.get_status_display())


def test_the_contact_acknowledgement_says_nothing_about_any_order():
    order = order_in(OrderStatus.RECEIVED)
    phone = order.reservation.customer.phone

    ticket = contact(phone=phone)

    [sms] = outbox(ticket)
    assert (sms.template_key, sms.recipient) == (CONTACT_ACK, phone)
    sent = text_of(sms)
    assert ticket.number in sent
    assert order.number not in sent and order.reservation.number not in sent
    assert "/support/tickets/" not in sent


# The expected first reply: a range from the queue and the measured rate.


def answered_at(when: dt.datetime) -> Ticket:
    ticket = open_ticket(now=when - 10 * MINUTE)
    services.staff_reply(ticket=ticket, staff_user=staff_user(), body="확인했습니다.", now=when)
    return ticket


def waiting_since(when: dt.datetime, count: int) -> None:
    for _ in range(count):
        open_ticket(now=when)


def test_the_reply_range_comes_from_the_queue_and_the_last_staffed_hours():
    # Tuesday 10:00: the last 3 staffed hours are Monday 16:00-18:00 and Tuesday 09:00-10:00.
    monday = TUESDAY_10AM - dt.timedelta(days=1)
    for at in [monday.replace(hour=16, minute=30), monday.replace(hour=17, minute=50)]:
        answered_at(at)
    for minute in (10, 20, 30, 40):
        answered_at(TUESDAY_10AM.replace(hour=9, minute=minute))
    again = answered_at(TUESDAY_10AM.replace(hour=9, minute=50))
    services.staff_reply(  # a second reply is not a first reply
        ticket=again, staff_user=staff_user(), body="추가로", now=TUESDAY_10AM - MINUTE
    )
    answered_at(monday.replace(hour=12))  # before the 3 hours: not counted
    waiting_since(monday, 10)
    waiting_since(TUESDAY_10AM + MINUTE, 3)  # after `now`: not yet in the queue

    estimate = reply_estimate(now=TUESDAY_10AM)

    # 7 first replies in 3 staffed hours; 10 waiting: 4.3 hours at that pace.
    assert (estimate.waiting, estimate.first_replies, estimate.staffed_hours) == (10, 7, 3)
    assert estimate.hours == (4, 7)
    with translation.override("en"):
        assert estimate.text() == "We usually reply within 4–7 working hours."  # noqa: RUF001
        assert estimate.queue_text() == (
            "10 tickets are waiting for a first reply, yours included."
        )


def test_at_3_on_a_sunday_the_rate_is_fridays_last_hours():
    friday = SUNDAY_3AM.replace(day=18)
    for hour, minute in [(15, 10), (16, 0), (17, 30), (17, 59)]:
        answered_at(friday.replace(hour=hour, minute=minute))
    answered_at(friday.replace(hour=20))  # after hours: not a staffed hour
    waiting_since(friday.replace(hour=22), 2)

    estimate = reply_estimate(now=SUNDAY_3AM)

    assert (estimate.waiting, estimate.first_replies, estimate.staffed_hours) == (2, 4, 3)
    assert estimate.hours == (1, 3)  # 1.5 hours at that pace


@pytest.mark.parametrize(
    ("waiting", "first_replies", "hours"),
    [(1, 6, (0, 1)), (3, 6, (1, 3)), (20, 6, (10, 15)), (5, 0, None), (0, 3, (0, 1))],
)
def test_the_range_is_never_one_figure(waiting, first_replies, hours):
    estimate = ReplyEstimate(waiting=waiting, first_replies=first_replies, staffed_hours=3)
    assert estimate.hours == hours
    assert hours is None or hours[0] < hours[1]


def test_without_measured_replies_it_says_so_instead_of_a_promise():
    waiting_since(TUESDAY_10AM - dt.timedelta(hours=1), 1)
    estimate = reply_estimate(now=TUESDAY_10AM)
    assert (estimate.rate, estimate.hours) == (None, None)
    with translation.override("en"):
        assert estimate.text() == (
            "We have no recent reply times to go by yet; we answer tickets in the order "
            "they arrive."
        )


def test_a_burst_of_messages_counts_the_queue_once_every_few_seconds():
    waiting_since(TUESDAY_10AM - dt.timedelta(hours=1), 2)
    first = recent_reply_estimate(now=TUESDAY_10AM)
    waiting_since(TUESDAY_10AM - dt.timedelta(hours=1), 3)
    assert recent_reply_estimate(now=TUESDAY_10AM) == first  # the cached copy
    cache.delete(ESTIMATE_CACHE_KEY)  # what ESTIMATE_SECONDS later brings
    assert recent_reply_estimate(now=TUESDAY_10AM).waiting == first.waiting + 3 == 5


# Off shift: when people are back.


def test_at_3_on_a_sunday_it_says_when_people_are_back():
    ticket = open_ticket(now=SUNDAY_3AM)

    ack = acknowledgement(ticket=ticket, now=SUNDAY_3AM)

    assert ack.off_shift and ack.back_at == MONDAY_9AM
    with translation.override("en"), timezone.override(SEOUL):
        when = formats.date_format(MONDAY_9AM, "DATETIME_FORMAT")
        assert ack.back_text() == (
            f"Nobody is at the support desk right now. We are back at {when}."
        )


def test_at_10_on_a_tuesday_it_says_nothing_about_shifts():
    ticket = open_ticket(now=TUESDAY_10AM)
    ack = acknowledgement(ticket=ticket, now=TUESDAY_10AM)
    assert (ack.off_shift, ack.back_at, ack.back_text()) == (False, None, "")


def test_the_message_carries_the_shift_and_the_estimate_as_of_sending():
    ticket = open_ticket()
    [sms] = outbox(ticket)
    ack = acknowledgement(ticket=ticket, now=timezone.now())
    with translation.override(sms.language):
        lines = [ack.reply.text() + " " + ack.reply.queue_text()]
        if ack.off_shift:
            lines.append(ack.back_text())
    sent = text_of(sms).splitlines()
    assert all(line in sent for line in lines)
    assert sent[-1] == f"http://127.0.0.1:8000/support/tickets/{ticket.number}/"


# The contact form: at most one acknowledgement per number per hour.


def test_one_contact_acknowledgement_per_number_per_hour():
    now = TUESDAY_10AM
    contact(now=now)
    contact(now=now + 30 * MINUTE)
    contact(now=now + CONTACT_ACK_WINDOW - MINUTE)
    assert len(contact_acks()) == 1

    contact(now=now + CONTACT_ACK_WINDOW + MINUTE)  # an hour after the one acknowledged
    assert len(contact_acks()) == 2

    contact(phone="010-7777-8888", now=now + 30 * MINUTE)  # another number: its own
    assert len(contact_acks("+821077778888")) == 1


def test_the_same_contact_submission_twice_is_one_acknowledgement():
    key = uuid.uuid4()
    contact(idempotency_key=key)
    contact(idempotency_key=key)
    assert len(contact_acks()) == 1


def test_a_signed_in_customers_own_tickets_do_not_count_against_the_contact_number():
    customer = CustomerFactory(phone="+821055556666")
    open_ticket(customer, category=TicketCategory.SIGN_IN)
    contact()
    assert len(contact_acks()) == 1


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_contact_submissions_send_one_acknowledgement():
    now = timezone.now()
    results = run_at_once([lambda: contact(now=now) for _ in range(10)])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert Ticket.objects.filter(contact_phone="+821055556666").count() == 10
    assert len(contact_acks()) == 1
