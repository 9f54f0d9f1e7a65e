"""The delivery address in the API (orders.api.address): the page's door and refusals, each
field's error with the order form's message and code, the one 404 for a foreign number."""

import json

import pytest
from django.urls import reverse

from fulfillment.services import moves
from orders.models import ADDRESS_FIELDS, OrderAddressChange, OrderStatus
from orders.tests.api import token_client
from orders.tests.factories import COMPLETE_ANSWERS, give_unit, order_in
from preorder_shop.actors import Actor
from preorder_shop.models import OutboxMessage
from reservations.tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db

S = OrderStatus
JSON = "application/json"
SUBMITTED = {name: COMPLETE_ANSWERS.get(name, "") for name in ADDRESS_FIELDS}


def url(number: str) -> str:
    return reverse("api:order_delivery_address", kwargs={"number": number})


@pytest.fixture
def received(customer):
    return order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))


@pytest.fixture
def api(customer):
    return token_client(customer)


def address_of(order) -> dict:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in ADDRESS_FIELDS}


def test_get_says_the_address_and_that_it_may_change(api, received):
    body = api.get(url(received.number)).json()
    assert body == {
        "order_number": received.number,
        **SUBMITTED,
        "can_change": True,
        "refusal": None,
        "changed": False,
    }


def test_patch_changes_only_the_fields_sent_with_history_and_a_message(api, received):
    response = api.patch(
        url(received.number),
        {"postcode": "06236", "address_line1": "서울특별시 강남구 테헤란로 152"},
        content_type=JSON,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["changed"] is True
    assert body["postcode"] == "06236"
    assert body["recipient_name"] == SUBMITTED["recipient_name"]  # not sent, kept
    assert address_of(received)["address_line1"] == "서울특별시 강남구 테헤란로 152"
    assert OrderAddressChange.objects.get(order=received).changed == ["postcode", "address_line1"]
    assert OutboxMessage.objects.filter(template_key="order.address_changed").count() == 1

    again = api.patch(url(received.number), {"postcode": "06236"}, content_type=JSON)
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert OrderAddressChange.objects.count() == 1


def test_invalid_fields_are_422_with_each_fields_message_and_code(api, received):
    response = api.patch(
        url(received.number),
        {"postcode": "12", "recipient_phone": "12345", "recipient_name": ""},
        content_type=JSON,
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_fields"
    assert body["field_errors"] == {
        "postcode": [{"code": "postcode", "message": "A postcode has exactly 5 digits."}],
        "recipient_phone": [
            {
                "code": "invalid_phone",
                "message": "Enter a Korean mobile number such as 010-1234-5678.",
            }
        ],
        "recipient_name": [{"code": "required", "message": "Enter who receives the phone."}],
    }
    assert address_of(received) == SUBMITTED
    assert not OrderAddressChange.objects.exists()


def test_unknown_fields_and_wrong_types_are_the_apis_422(api, received):
    for sent in ({"street": "x"}, {"postcode": 12345}, {"postcode": "1" * 1001}):
        response = api.patch(url(received.number), sent, content_type=JSON)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"
    assert api.patch(url(received.number), "{", content_type=JSON).status_code == 400
    assert address_of(received) == SUBMITTED


def test_once_preparation_starts_get_says_why_and_patch_is_409(api, received):
    give_unit(received.reservation)
    moves.start_preparing(order=received, actor=Actor.worker("pipeline"))

    body = api.get(url(received.number)).json()
    assert body["can_change"] is False
    assert body["refusal"]["code"] == "order_preparing"
    assert "already being prepared" in body["refusal"]["message"]

    refused = api.patch(url(received.number), {"postcode": "06236"}, content_type=JSON)
    assert refused.status_code == 409
    assert refused.json()["code"] == "order_preparing"
    assert refused.json()["detail"] == body["refusal"]["message"]
    assert address_of(received) == SUBMITTED


def test_a_foreign_order_is_the_same_404_as_an_unknown_number(api):
    foreign = order_in(S.RECEIVED)
    for number in (foreign.number, "12345678901", "abc"):
        assert api.get(url(number)).status_code == 404
        patched = api.patch(url(number), {"postcode": "06236"}, content_type=JSON)
        assert patched.status_code == 404
        assert json.loads(patched.content)["code"] == "not_found"
    assert address_of(foreign) == SUBMITTED


def test_without_a_token_it_is_401(client, received):
    assert client.get(url(received.number)).status_code == 401
    assert client.patch(url(received.number), {}, content_type=JSON).status_code == 401
