"""The signed-out contact form ("my code never arrives", issue 14): an unverified ticket from
the number and name typed, its number shown and nothing about any order; refusals beside
their fields; the limits per number and per client address (429 with Retry-After, nothing
opened), counted under parallel requests, and open while Redis is down."""

import re
import uuid

import pytest
import redis
from django.test import Client

from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop import ratelimit
from support import contact_limits
from support.models import Ticket, TicketCategory
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

CONTACT = "/support/contact/"


def text(response) -> str:
    return " ".join(response.content.decode().split())


def fields(**changes) -> dict:
    return {
        "phone": "010-2345-6789",
        "name": "홍길동",
        "body": "인증번호가 안 와요",
        "idempotency_key": str(uuid.uuid4()),
        **changes,
    }


def send(client: Client | None = None, *, address: str = "203.0.113.7", **changes):
    return (client or Client()).post(CONTACT, fields(**changes), REMOTE_ADDR=address)


def test_the_form_opens_an_unverified_ticket_and_shows_only_its_number():
    order = order_in(OrderStatus.SHIPPED, reservation__customer__phone="+821023456789")
    client = Client()

    sent = send(client)

    assert sent.status_code == 302
    assert sent["Location"] == "/support/contact/sent/"
    ticket = Ticket.objects.get()
    assert (ticket.verified, ticket.customer, ticket.category) == (
        False,
        None,
        TicketCategory.SIGN_IN,
    )
    assert (ticket.contact_phone, ticket.contact_name) == ("+821023456789", "홍길동")
    shown = client.get(sent["Location"])
    assert f"Your ticket number is {ticket.number}." in text(shown)
    main = shown.content.decode().split("<main>", 1)[1]
    for secret in (order.number, order.reservation.number, "Shipped", "010-2345-6789"):
        assert secret not in main
    # A reload shows the same answer and opens nothing more.
    assert f"Your ticket number is {ticket.number}." in text(client.get(sent["Location"]))
    assert Ticket.objects.count() == 1


def test_the_answer_page_without_a_sent_form_goes_back_to_the_form():
    assert Client().get("/support/contact/sent/")["Location"] == CONTACT


def test_the_same_form_sent_twice_is_one_ticket():
    key = str(uuid.uuid4())
    send(idempotency_key=key)
    send(idempotency_key=key)
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "02-123-4567"}, "phone", "Enter a Korean mobile number such as 010-1234-5678."),
        ({"phone": ""}, "phone", "This field is required."),
        ({"phone": "010\x00"}, "phone", "Null characters are not allowed."),
        ({"name": " "}, "name", "This field is required."),
        ({"name": "가" * 51}, "name", "at most 50 characters"),
        ({"body": ""}, "body", "Write your message."),
        ({"body": "a" * 5001}, "body", "A message can be at most 5,000 characters long."),
        ({"body": "\x1b[31m"}, "body", "The text contains an invisible control character."),
    ],
)
def test_each_refusal_is_beside_its_field_and_opens_nothing(changes, field, message):
    refused = send(**changes)

    assert refused.status_code == 200
    html = refused.content.decode()
    block = html.split(f'name="{field}"', 1)[1].split('<div class="field', 1)[0]
    assert 'role="alert"' in block
    assert message in " ".join(block.split())
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("changes", [{"idempotency_key": ""}, {"idempotency_key": "x"}])
def test_a_stale_form_gets_a_new_key_and_keeps_the_message(changes):
    refused = send(**changes)
    assert refused.status_code == 200
    assert "This form is out of date." in text(refused)
    assert "인증번호가 안 와요" in text(refused)
    uuid.UUID(re.search(r'name="idempotency_key" value="([^"]+)"', text(refused))[1])


def test_garbage_posts_never_fail_the_server():
    for data in ({}, {"phone": ["1", "2"]}, {"name": "\x00" * 100}):
        assert Client().post(CONTACT, data).status_code == 200
    broken = "phone=%FF%FE&name=%C0&body=%ED%A0%80"  # not UTF-8
    form = "application/x-www-form-urlencoded"
    assert Client().post(CONTACT, broken, content_type=form).status_code == 200
    assert not Ticket.objects.exists()


def test_a_number_is_limited_to_5_messages_an_hour_whatever_the_address():
    for i in range(5):
        assert send(address=f"203.0.113.{i}").status_code == 302

    refused = send(address="198.51.100.1")

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many messages were sent for this mobile number." in text(refused)
    assert "Try again after" in text(refused)
    assert Ticket.objects.count() == 5
    assert send(phone="010-3456-7890", address="198.51.100.1").status_code == 302


def test_an_address_has_a_high_ceiling(monkeypatch):
    assert contact_limits.PER_ADDRESS.max_hits >= 1000  # set for carrier-grade NAT
    low = ratelimit.Limit(
        "contact-ticket-ip-test",
        max_hits=3,
        window_seconds=60,
        when_down=ratelimit.WhenDown.FAIL_OPEN,
        why="test",
    )
    monkeypatch.setattr(contact_limits, "PER_ADDRESS", low)
    for i in range(3):
        assert send(phone=f"010-2345-678{i}").status_code == 302

    refused = send(phone="010-2345-6789")

    assert refused.status_code == 429
    assert "Too many messages were sent from this network." in text(refused)
    assert send(phone="010-2345-6789", address="198.51.100.9").status_code == 302
    assert Ticket.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_parallel_sends_for_one_number_cannot_slip_past_the_limit():
    results = run_at_once(
        [lambda i=i: send(address=f"203.0.113.{i}").status_code for i in range(12)]
    )
    assert sorted(results) == [302] * 5 + [429] * 7
    assert Ticket.objects.count() == 5


def test_with_redis_down_the_form_still_takes_the_message(monkeypatch):
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: unreachable)

    assert send().status_code == 302
    assert Ticket.objects.count() == 1


def test_the_support_page_leads_to_the_form_and_the_form_says_it_shows_no_orders():
    assert 'href="/support/contact/"' in Client().get("/support/").content.decode()
    page = text(Client().get(CONTACT))
    assert "this form shows nothing about your reservations or orders" in page


def test_an_empty_form_names_every_field_to_fix_at_once():
    refused = Client().post(CONTACT, {"idempotency_key": str(uuid.uuid4())})
    html = refused.content.decode()
    for field in ("phone", "name", "body"):
        block = html.split(f'name="{field}"', 1)[1].split('<div class="field', 1)[0]
        assert 'role="alert"' in block, field
    assert "Write your message." in text(refused)
