"""Reserving through the API (issue 13): reservations.services.reserve behind a required
Idempotency-Key, refusals as problems with stable codes."""

import uuid

import pytest
from django.test import Client

from preorder_shop import tokens
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Reservation
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


def bearer(customer) -> dict:
    _token, raw = tokens.issue(customer)
    return {"authorization": f"Bearer {raw}"}


def post(variant, headers, *, key: str | None = None, fulfilment="courier", slug=None):
    extra = {**headers, **({"idempotency-key": key} if key is not None else {})}
    return Client(headers={"accept-language": "en", **extra}).post(
        f"/api/v1/campaigns/{slug or variant.campaign.slug}/reservations",
        {"variant_id": variant.pk, "fulfilment": fulfilment},
        content_type="application/json",
    )


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


def test_a_new_key_makes_a_reservation_and_its_retry_returns_the_same_one():
    variant, customer = VariantFactory(), CustomerFactory()
    headers, key = bearer(customer), str(uuid.uuid4())

    made = post(variant, headers, key=key)
    assert made.status_code == 201
    body = made.json()
    assert made["Location"] == f"/api/v1/reservations/{body['number']}"
    assert body["campaign"] == variant.campaign.slug
    assert body["variant"] == {"id": variant.pk, "label": str(variant)}
    assert (body["fulfilment"], body["status"]) == ("courier", "active")

    again = post(variant, headers, key=key)
    assert again.status_code == 200
    assert again.json() == body
    assert Reservation.objects.filter(customer=customer).count() == 1


def test_the_same_key_with_another_body_is_refused_and_creates_nothing():
    variant = VariantFactory(campaign=CampaignFactory(per_customer_limit=2))
    customer = CustomerFactory()
    other = VariantFactory(campaign=variant.campaign)
    headers, key = bearer(customer), str(uuid.uuid4())
    first = post(variant, headers, key=key).json()

    for response in (
        post(other, headers, key=key),
        post(variant, headers, key=key, fulfilment="dawn"),
    ):
        body = assert_problem(response, 422, "idempotency_key_reused")
        assert first["number"] not in response.content.decode()
        assert "number" not in body
    assert Reservation.objects.filter(customer=customer).count() == 1


def test_a_key_is_the_customers_own():
    variant, key = VariantFactory(), str(uuid.uuid4())
    mine = post(variant, bearer(CustomerFactory()), key=key).json()
    theirs = post(variant, bearer(CustomerFactory()), key=key)
    assert theirs.status_code == 201
    assert theirs.json()["number"] != mine["number"]


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, "idempotency_key_missing"),
        ("", "idempotency_key_invalid"),
        ("not-a-uuid", "idempotency_key_invalid"),
        ("0" * 32, "idempotency_key_invalid"),
        ("\u0661" * 8 + "-0000-0000-0000-000000000000", "idempotency_key_invalid"),
    ],
)
def test_a_missing_or_malformed_key_is_a_400_and_reserves_nothing(key, code):
    variant = VariantFactory()
    assert_problem(post(variant, bearer(CustomerFactory()), key=key), 400, code)
    assert not Reservation.objects.exists()


def test_no_token_is_a_401():
    response = post(VariantFactory(), {}, key=str(uuid.uuid4()))
    assert_problem(response, 401, "not_authenticated")


def test_a_variant_of_another_campaign_and_an_unknown_campaign():
    variant, elsewhere = VariantFactory(), VariantFactory()
    headers = bearer(CustomerFactory())
    body = assert_problem(
        post(elsewhere, headers, key=str(uuid.uuid4()), slug=variant.campaign.slug),
        422,
        "variant_not_in_campaign",
    )
    assert body["title"] == "That model is not part of this campaign."
    assert_problem(post(variant, headers, key=str(uuid.uuid4()), slug="nope"), 404, "not_found")
    assert not Reservation.objects.exists()


def test_domain_refusals_have_stable_codes():
    customer = CustomerFactory()
    headers = bearer(customer)
    closed = VariantFactory(campaign=CampaignFactory(closed=True))
    not_open = VariantFactory(campaign=CampaignFactory(not_open_yet=True))
    full = VariantFactory(campaign=CampaignFactory(per_customer_limit=1))
    ReservationFactory(variant=full, customer=customer)
    plain = VariantFactory()  # offers no festival pickup

    cases = [
        (closed, "courier", "reservations_closed"),
        (not_open, "courier", "reservations_not_open"),
        (full, "courier", "limit_reached"),
        (plain, "festival", "fulfilment_not_offered"),
    ]
    for variant, fulfilment, code in cases:
        body = assert_problem(
            post(variant, headers, key=str(uuid.uuid4()), fulfilment=fulfilment), 409, code
        )
        assert body["detail"]
    assert_problem(
        post(plain, headers, key=str(uuid.uuid4()), fulfilment="pigeon"), 422, "invalid_request"
    )
    assert Reservation.objects.filter(customer=customer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_identical_requests_at_once_make_one_reservation_and_all_name_it():
    variant, customer = VariantFactory(), CustomerFactory()
    headers, key = bearer(customer), str(uuid.uuid4())

    responses = run_at_once([lambda: post(variant, headers, key=key) for _ in range(10)])

    assert Reservation.objects.filter(customer=customer).count() == 1
    number = Reservation.objects.get(customer=customer).number
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert {r.json()["number"] for r in responses} == {number}


def test_a_refusal_speaks_the_accept_language():
    customer = CustomerFactory()
    full = VariantFactory(campaign=CampaignFactory(per_customer_limit=1))
    ReservationFactory(variant=full, customer=customer)
    _token, raw = tokens.issue(customer)
    url = f"/api/v1/campaigns/{full.campaign.slug}/reservations"
    body = {"variant_id": full.pk, "fulfilment": "courier"}
    for language, detail in [
        ("ko", "이 캠페인에서 예약할 수 있는 최대 수량을 이미 예약하셨습니다."),
        ("en", "You already hold as many reservations as this campaign allows."),
    ]:
        headers = {
            "authorization": f"Bearer {raw}",
            "idempotency-key": str(uuid.uuid4()),
            "accept-language": language,
        }
        response = Client(headers=headers).post(url, body, content_type="application/json")
        assert (response.json()["code"], response.json()["detail"]) == ("limit_reached", detail)
