"""My reservations, one reservation and cancelling through the API (issue 13): the pages'
selectors and services, the one 404 for any number not the customer's own, guessing slowed."""

import pytest
from django.test import Client
from django.utils import timezone

from orders import polling, selectors, services
from orders.api.schemas import actions_out
from orders.models import OrderStatus
from preorder_shop import guessing, tokens
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import ReservationStatus
from reservations.tests.factories import ReservationFactory, VariantFactory

from .factories import DraftFactory, order_in

pytestmark = pytest.mark.django_db


def api_for(customer) -> Client:
    _token, raw = tokens.issue(customer)
    return Client(headers={"accept-language": "en", "authorization": f"Bearer {raw}"})


def test_my_reservations_newest_first_with_the_place_in_line_in_the_pages_words():
    customer = CustomerFactory()
    variant = VariantFactory()
    ReservationFactory(variant=variant)  # someone ahead
    older = ReservationFactory(variant=variant, customer=customer)
    newer = ReservationFactory(customer=customer)
    ReservationFactory()  # someone else's

    body = api_for(customer).get("/api/v1/reservations").json()

    assert [r["number"] for r in body["items"]] == [newer.number, older.number]
    item = body["items"][1]
    assert item["standing"] == {"place": 2, "total": 2, "total_at": None}
    assert item["standing_text"] == f"#2 of 2 for {variant}"
    assert item["campaign"] == variant.campaign.slug
    assert item["status"] == "active"
    assert body["next_cursor"] is None


def test_the_list_is_cursor_paginated_and_a_bad_cursor_is_a_422():
    customer = CustomerFactory()
    made = [ReservationFactory(customer=customer) for _ in range(5)]
    api = api_for(customer)
    seen, cursor = [], None
    while True:
        page = api.get(
            "/api/v1/reservations", {"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        seen += [r["number"] for r in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    expected = [r.number for r in sorted(made, key=lambda r: (r.created_at, r.pk), reverse=True)]
    assert seen == expected
    response = api.get("/api/v1/reservations", {"cursor": "x.1"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


def test_one_reservation_has_its_history_the_pages_actions_and_a_poll_interval():
    draft = DraftFactory()
    reservation = draft.reservation
    response = api_for(reservation.customer).get(f"/api/v1/reservations/{reservation.number}")

    assert response.status_code == 200
    body = response.json()
    expected = actions_out(selectors.customer_actions(reservation, now=timezone.now()))
    assert body["actions"] == expected
    assert body["actions"]["resume_draft"] is True
    assert [step["label"] for step in body["timeline"]] == ["Reserved"]
    assert body["poll_interval"] == polling.DRAFT
    assert response[polling.HEADER] == str(polling.DRAFT)


def test_a_submitted_orders_reservation_names_the_order():
    order = order_in(OrderStatus.RECEIVED)
    body = (
        api_for(order.reservation.customer)
        .get(f"/api/v1/reservations/{order.reservation.number}")
        .json()
    )
    assert body["actions"]["order_number"] == order.number
    assert body["status"] == "ordered"
    assert body["poll_interval"] == polling.MOVING
    assert "Order form submitted" in [step["label"] for step in body["timeline"]]


def test_another_customers_unknown_and_malformed_numbers_are_the_identical_404():
    theirs = order_in(OrderStatus.RECEIVED)
    api = api_for(CustomerFactory())
    urls = [
        f"/api/v1/reservations/{theirs.reservation.number}",
        f"/api/v1/reservations/{RESERVATION_NUMBER.generate()}",
        f"/api/v1/reservations/{theirs.number}",  # an order number in a reservation's place
        "/api/v1/reservations/12345",
        f"/api/v1/reservations/{theirs.reservation.number}/cancel",
        f"/api/v1/orders/{theirs.number}/cancel",
        f"/api/v1/orders/{ORDER_NUMBER.generate()}/cancel",
    ]
    bodies = set()
    for url in urls:
        response = api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
        bodies.add(response.content)
    assert len(bodies) == 1
    confirm = {"confirm": f"order-{theirs.number}"}
    for url in urls[-3:]:
        assert api.post(url, confirm, content_type="application/json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.RECEIVED


def test_guessing_numbers_is_slowed_as_on_the_pages():
    customer = CustomerFactory()
    own = ReservationFactory(customer=customer)
    api = api_for(customer)
    limit = guessing.MISSES_PER_CUSTOMER.max_hits
    for _ in range(limit):
        assert api.get(f"/api/v1/reservations/{RESERVATION_NUMBER.generate()}").status_code == 404
    refused = api.get(f"/api/v1/reservations/{RESERVATION_NUMBER.generate()}")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert "Too many numbers that are not yours" in refused.json()["detail"]
    assert 890 <= int(refused["Retry-After"]) <= 900
    # The same counter as the pages: the web page is locked too.
    browser = Client()
    session = browser.session
    session["customer_id"] = customer.pk
    session.save()
    assert browser.get(f"/my/reservations/{RESERVATION_NUMBER.generate()}/").status_code == 429
    # The lock meets misses only: the customer's own reservation still answers.
    assert api.get(f"/api/v1/reservations/{own.number}").status_code == 200
    assert browser.get(f"/my/reservations/{own.number}/").status_code == 200


def test_own_numbers_never_count():
    customer = CustomerFactory()
    own = ReservationFactory(customer=customer)
    api = api_for(customer)
    for _ in range(guessing.MISSES_PER_CUSTOMER.max_hits + 5):
        assert api.get(f"/api/v1/reservations/{own.number}").status_code == 200


def cancel(api, number, confirm):
    return api.post(
        f"/api/v1/reservations/{number}/cancel",
        {"confirm": confirm},
        content_type="application/json",
    )


def test_cancel_confirms_the_plan_read_and_a_stale_plan_is_a_409_with_the_new_one():
    reservation = ReservationFactory()
    api = api_for(reservation.customer)
    plan = api.get(f"/api/v1/reservations/{reservation.number}/cancel").json()
    assert plan == {
        "allowed": True,
        "refusal": "",
        "confirm": "reservation",
        "reservation_number": reservation.number,
        "cancels_order": None,
        "discards_draft": False,
        "gives_up": {"place": 1, "total": 1, "total_at": None},
    }
    # Meanwhile an order form is started in another tab: the plan read no longer holds.
    services.open_draft(reservation=reservation, customer=reservation.customer)
    stale = cancel(api, reservation.number, plan["confirm"])
    assert stale.status_code == 409
    assert stale.json()["code"] == "plan_changed"
    assert stale.json()["plan"]["confirm"] == "draft"
    assert stale.json()["plan"]["discards_draft"] is True
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE

    done = cancel(api, reservation.number, "draft")
    assert done.status_code == 200
    assert done.json()["status"] == "cancelled"
    assert done.json()["actions"]["cancel"] is False
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED


def test_cancel_is_refused_once_preparation_has_started():
    order = order_in(OrderStatus.PREPARING)
    reservation = order.reservation
    api = api_for(reservation.customer)
    plan = api.get(f"/api/v1/reservations/{reservation.number}/cancel").json()
    assert plan["allowed"] is False
    assert "already being prepared" in plan["refusal"]
    refused = cancel(api, reservation.number, plan["confirm"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "order_not_cancellable"
    order_plan = api.get(f"/api/v1/orders/{order.number}/cancel").json()
    assert order_plan["allowed"] is False
    refused = api.post(
        f"/api/v1/orders/{order.number}/cancel",
        {"confirm": order_plan["confirm"]},
        content_type="application/json",
    )
    assert refused.json()["code"] == "order_not_cancellable"
    order.refresh_from_db()
    assert order.status == OrderStatus.PREPARING


def test_an_order_is_cancelled_with_its_plans_token_only():
    order = order_in(OrderStatus.RECEIVED)
    api = api_for(order.reservation.customer)
    url = f"/api/v1/orders/{order.number}/cancel"
    plan = api.get(url).json()
    assert plan["confirm"] == f"order-{order.number}"
    assert plan["cancels_order"] == order.number
    stale = api.post(url, {"confirm": "reservation"}, content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "plan_changed"
    missing = api.post(url, {}, content_type="application/json")
    assert missing.status_code == 422
    done = api.post(url, {"confirm": plan["confirm"]}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "cancelled"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    again = api.get(url).json()
    assert again["allowed"] is False


HOSTILE = ["%00", "a" * 10_240, "..%2F", "%D9%A1%D9%A2%D9%A3", "%F0%9F%93%B1", "9" * 400, "-1"]
NUMBER_PATHS = [
    ("get", "/api/v1/reservations/{}"),
    ("get", "/api/v1/reservations/{}/cancel"),
    ("post", "/api/v1/reservations/{}/cancel"),
    ("get", "/api/v1/orders/{}/cancel"),
    ("post", "/api/v1/orders/{}/cancel"),
    ("get", "/api/v1/reservations/{}/order-form"),
    ("post", "/api/v1/reservations/{}/order-form"),
    ("patch", "/api/v1/reservations/{}/order-form"),
    ("delete", "/api/v1/reservations/{}/order-form"),
    ("post", "/api/v1/reservations/{}/order-form/submit"),
]


def test_hostile_numbers_with_a_token_are_the_one_404():
    api = api_for(ReservationFactory().customer)
    for method, template in NUMBER_PATHS:
        for value in HOSTILE:
            body = {} if method == "patch" else {"confirm": "x"}
            response = getattr(api, method)(
                template.format(value), body, content_type="application/json"
            )
            assert response.status_code in (404, 429), (method, template, value[:20])
            assert response["Content-Type"] == "application/problem+json"
