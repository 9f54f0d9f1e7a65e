"""Tickets through the API (issue 14): my tickets with a cursor, one ticket without internal
notes, opening (Idempotency-Key required; 201 new, 200 the same key or an open duplicate),
replying (reopens; a closed ticket is 409), every refusal a problem with its service's code,
and the one 404 for any ticket that is not the token's customer's."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop import tokens
from preorder_shop.identifiers import TICKET_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory
from support import services
from support.models import AuthorKind, Ticket, TicketCategory, TicketMessage, TicketStatus
from support.tests.factories import open_ticket, ticket_in

pytestmark = pytest.mark.django_db

S = TicketStatus
C = TicketCategory


def api(customer=None, **headers) -> Client:
    if customer is not None:
        _token, raw = tokens.issue(customer)
        headers["authorization"] = f"Bearer {raw}"
    return Client(headers={"accept-language": "en", **headers})


def post(client: Client, path: str, body: dict, key: str | None = "new"):
    headers = {}
    if key is not None:
        headers["idempotency-key"] = str(uuid.uuid4()) if key == "new" else key
    return client.post(f"/api/v1{path}", body, content_type="application/json", headers=headers)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


def opening(**fields) -> dict:
    return {"category": C.WHERE_IS_MY_PHONE, "body": "폰 언제 와요?", **fields}


def test_opening_a_ticket_about_my_order_is_201_and_the_same_key_again_200():
    order = order_in(OrderStatus.RECEIVED)
    client, key = api(order.reservation.customer), str(uuid.uuid4())

    made = post(client, "/tickets", opening(order_number=order.number), key=key)
    again = post(client, "/tickets", opening(order_number=order.number), key=key)

    assert made.status_code == 201, made.content
    body = made.json()
    assert made["Location"] == f"/api/v1/tickets/{body['number']}"
    assert TICKET_NUMBER.is_valid(body["number"])
    assert (body["order_number"], body["reservation_number"]) == (
        order.number,
        order.reservation.number,
    )
    assert (body["status"], body["duplicate"], body["can_reply"]) == ("open", False, True)
    assert [m["body"] for m in body["messages"]] == ["폰 언제 와요?"]
    assert again.status_code == 200
    assert again.json()["number"] == body["number"]
    assert Ticket.objects.count() == 1


def test_a_duplicate_within_24_hours_is_200_with_the_message_added():
    order = order_in(OrderStatus.RECEIVED)
    client = api(order.reservation.customer)
    first = post(client, "/tickets", opening(order_number=order.number)).json()

    second = post(client, "/tickets", opening(order_number=order.number, body="아직이요"))

    assert second.status_code == 200
    assert second.json()["number"] == first["number"]
    assert second.json()["duplicate"] is True
    assert [m["body"] for m in second.json()["messages"]] == ["폰 언제 와요?", "아직이요"]


def test_opening_needs_an_idempotency_key_and_a_token():
    customer = CustomerFactory()
    assert_problem(
        post(api(customer), "/tickets", opening(), key=None), 400, "idempotency_key_missing"
    )
    assert_problem(
        post(api(customer), "/tickets", opening(), key="nope"), 400, "idempotency_key_invalid"
    )
    assert_problem(post(api(), "/tickets", opening()), 401, "not_authenticated")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"category": "free_phones"}, 422, "unknown_category"),
        ({"body": ""}, 422, "empty_message"),
        ({"body": "  "}, 422, "empty_message"),
        ({"body": "a\x00b"}, 422, "control_character"),
        ({"body": "가" * 5001}, 422, "invalid_request"),
        ({"email": "nope"}, 422, "invalid_email"),
        ({"order_number": "12345678901"}, 422, "not_your_order"),
        ({"order_number": "\x00" * 5}, 422, "not_your_order"),
        ({"reservation_number": "12345678"}, 422, "not_your_reservation"),
        ({"category": None}, 422, "invalid_request"),
        ({"body": 5}, 422, "invalid_request"),
    ],
)
def test_refusals_are_problems_with_the_services_codes_and_open_nothing(fields, status, code):
    body = assert_problem(
        post(api(CustomerFactory()), "/tickets", opening(**fields)), status, code
    )
    assert body["detail"] if code != "invalid_request" else body["errors"]
    assert not Ticket.objects.exists()


def test_another_customers_order_or_reservation_is_refused_like_an_unknown_one():
    theirs = order_in(OrderStatus.SHIPPED)
    client = api(CustomerFactory())
    by_order = post(client, "/tickets", opening(order_number=theirs.number))
    by_reservation = post(
        client, "/tickets", opening(reservation_number=theirs.reservation.number)
    )
    unknown = post(client, "/tickets", opening(order_number="12345678901"))
    assert_problem(by_order, 422, "not_your_order")
    assert_problem(by_reservation, 422, "not_your_reservation")
    assert by_order.json()["detail"] == unknown.json()["detail"]
    assert not Ticket.objects.exists()


def test_an_order_of_another_of_my_reservations_is_refused():
    order = order_in(OrderStatus.RECEIVED)
    other = ReservationFactory(customer=order.reservation.customer)
    response = post(
        api(order.reservation.customer),
        "/tickets",
        opening(order_number=order.number, reservation_number=other.number),
    )
    assert_problem(response, 422, "order_not_of_reservation")


def test_my_tickets_with_a_cursor_newest_first_only_mine():
    customer = CustomerFactory()
    now = timezone.now()
    mine = [open_ticket(customer, now=now - dt.timedelta(minutes=i)) for i in range(5)]
    open_ticket()
    client = api(customer)

    first = client.get("/api/v1/tickets", {"limit": 3}).json()
    rest = client.get("/api/v1/tickets", {"limit": 3, "cursor": first["next_cursor"]}).json()

    assert [t["number"] for t in first["items"]] == [t.number for t in mine[:3]]
    assert [t["number"] for t in rest["items"]] == [t.number for t in mine[3:]]
    assert rest["next_cursor"] is None
    assert_problem(client.get("/api/v1/tickets", {"cursor": "x\x00"}), 422, "invalid_cursor")


def test_one_ticket_shows_its_conversation_without_internal_notes():
    customer = CustomerFactory()
    ticket = open_ticket(customer, body="질문")
    agent = staff_user("agent")
    services.staff_reply(ticket=ticket, staff_user=agent, body="답변", status=S.SOLVED)
    TicketMessage.objects.create(
        ticket=ticket, author_kind=AuthorKind.STAFF, staff_user=agent, body="메모", internal=True
    )

    body = api(customer).get(f"/api/v1/tickets/{ticket.number}").json()

    assert [(m["author"], m["body"]) for m in body["messages"]] == [
        ("customer", "질문"),
        ("staff", "답변"),
    ]
    assert body["status"] == "solved"
    assert body["reopens_until"] is not None
    assert "메모" not in str(body)


def test_every_ticket_that_is_not_mine_is_the_one_404():
    client = api(CustomerFactory())
    contact = services.open_contact_ticket(
        phone="010-2345-6789", name="홍길동", body="코드", idempotency_key=uuid.uuid4()
    )
    for number in (open_ticket().number, contact.number, TICKET_NUMBER.generate(), "T1", "x"):
        assert_problem(client.get(f"/api/v1/tickets/{number}"), 404, "not_found")
        reply = post(client, f"/tickets/{number}/messages", {"body": "x"})
        assert_problem(reply, 404, "not_found")
    assert not TicketMessage.objects.filter(body="x").exists()


def test_a_reply_reopens_and_the_same_key_again_adds_nothing():
    customer = CustomerFactory()
    ticket = ticket_in(S.ANSWERED, customer=customer)
    client, key = api(customer), str(uuid.uuid4())

    made = post(client, f"/tickets/{ticket.number}/messages", {"body": "아직요"}, key=key)
    again = post(client, f"/tickets/{ticket.number}/messages", {"body": "아직요"}, key=key)

    assert made.status_code == 201
    assert made.json()["status"] == "open"
    assert made.json()["messages"][-1]["body"] == "아직요"
    assert again.status_code == 200
    assert ticket.messages.filter(body="아직요").count() == 1


def test_a_reply_to_a_closed_ticket_is_409_ticket_closed():
    customer = CustomerFactory()
    closed = ticket_in(S.CLOSED, customer=customer)
    old_solved = ticket_in(S.SOLVED, customer=customer, now=timezone.now() - dt.timedelta(days=8))
    for ticket in (closed, old_solved):
        assert api(customer).get(f"/api/v1/tickets/{ticket.number}").json()["can_reply"] is False
        response = post(api(customer), f"/tickets/{ticket.number}/messages", {"body": "열어요"})
        assert_problem(response, 409, "ticket_closed")
    assert not TicketMessage.objects.filter(body="열어요").exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"body": ""}, "empty_message"),
        ({"body": "\x07"}, "control_character"),
        ({}, "invalid_request"),
    ],
)
def test_a_refused_reply_is_a_problem_and_changes_nothing(body, code):
    customer = CustomerFactory()
    ticket = ticket_in(S.ANSWERED, customer=customer)
    assert_problem(post(api(customer), f"/tickets/{ticket.number}/messages", body), 422, code)
    ticket.refresh_from_db()
    assert ticket.status == S.ANSWERED
    assert ticket.messages.count() == 2


# The signed-out contact form.


def contact(body: dict, key: str | None = "new", **headers):
    return post(api(**headers), "/support/contact", body, key=key)


CONTACT = {"phone": "010-2345-6789", "name": "홍길동", "body": "코드가 안 와요"}


def test_the_contact_form_opens_an_unverified_ticket_and_says_nothing_about_orders():
    order_in(OrderStatus.RECEIVED, reservation__customer__phone="+821023456789")
    key = str(uuid.uuid4())

    made = contact(CONTACT, key=key)
    again = contact(CONTACT, key=key)

    assert made.status_code == 201, made.content
    assert set(made.json()) == {"number", "detail"}
    ticket = Ticket.objects.get(number=made.json()["number"])
    assert (ticket.verified, ticket.customer, ticket.category) == (False, None, C.SIGN_IN)
    assert (ticket.reservation, ticket.order) == (None, None)
    assert again.status_code == 200
    assert again.json()["number"] == ticket.number
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"phone": "02-123-4567"}, "phone", "invalid_phone"),
        ({"phone": "\x00"}, "phone", "invalid_request"),
        ({"name": ""}, "name", "invalid_request"),
        ({"name": "가" * 51}, "name", "invalid_request"),
        ({"body": "\x1b"}, "body", "control_character"),
    ],
)
def test_contact_refusals_name_the_field(fields, field, code):
    body = assert_problem(contact({**CONTACT, **fields}), 422, code)
    assert body["field"] == field
    assert not Ticket.objects.exists()


def test_contact_refuses_an_empty_message_with_its_code():
    assert_problem(contact({**CONTACT, "body": " "}), 422, "empty_message")
    assert_problem(contact(CONTACT, key=None), 400, "idempotency_key_missing")


def test_contact_is_limited_per_number_with_retry_after():
    for _ in range(5):
        assert contact(CONTACT).status_code == 201
    refused = assert_problem(contact(CONTACT), 429, "rate_limited")
    assert int(contact(CONTACT)["Retry-After"]) > 0
    assert "Too many messages were sent for this mobile number." in refused["detail"]
    assert contact({**CONTACT, "phone": "010-3456-7890"}).status_code == 201
    assert Ticket.objects.count() == 6
