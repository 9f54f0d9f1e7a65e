"""Campaigns in the API (issue 13): the campaign page's counts and "can I reserve", as JSON."""

import pytest
from django.test import Client

from preorder_shop import tokens
from preorder_shop.tests.factories import CustomerFactory
from reservations import services
from reservations.models import CancelledBy
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return Client(headers={"accept-language": "en"})


def test_a_campaign_shows_its_variants_live_counts_and_why_not_without_a_token(api):
    variant = VariantFactory(capacity_gb=256)
    other = VariantFactory(campaign=variant.campaign, capacity_gb=512)
    ReservationFactory.create_batch(2, variant=variant)
    body = api.get(f"/api/v1/campaigns/{variant.campaign.slug}").json()
    counts = {v["id"]: v["reserved"] for v in body["variants"]}
    assert counts == {variant.pk: 2, other.pk: 0}
    assert body["reservation_window"] == "open"
    assert body["can_reserve"] == {
        "allowed": False,
        "reason": "Sign in with your mobile number to reserve.",
        "needs_sign_in": True,
    }
    assert {"value": "courier", "label": "Courier delivery"} in body["fulfilment"]
    ReservationFactory(variant=other)
    again = api.get(f"/api/v1/campaigns/{variant.campaign.slug}").json()
    assert {v["id"]: v["reserved"] for v in again["variants"]}[other.pk] == 1


def test_with_a_token_can_reserve_is_the_customers_own(api):
    variant = VariantFactory(campaign=CampaignFactory(per_customer_limit=1))
    customer = CustomerFactory()
    _token, raw = tokens.issue(customer)
    url = f"/api/v1/campaigns/{variant.campaign.slug}"
    headers = {"authorization": f"Bearer {raw}"}
    assert api.get(url, headers=headers).json()["can_reserve"]["allowed"] is True
    ReservationFactory(variant=variant, customer=customer)
    refused = api.get(url, headers=headers).json()["can_reserve"]
    assert refused["allowed"] is False
    assert "the most it allows" in refused["reason"]
    # A dead token is no customer: the public answer.
    assert api.get(url, headers={"authorization": "Bearer nope"}).json()["can_reserve"][
        "needs_sign_in"
    ]


def test_an_unknown_campaign_is_a_404_problem(api):
    response = api.get("/api/v1/campaigns/no-such-campaign")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_the_campaign_list_is_cursor_paginated_newest_first(api):
    made = [CampaignFactory() for _ in range(5)]
    expected = [
        c.slug for c in sorted(made, key=lambda c: (c.reservation_opens_at, c.pk), reverse=True)
    ]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/campaigns", params).json()
        seen += [c["slug"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    for bad in ["x", "1.", ".1", "1.2.3", "9" * 30 + ".1"]:
        response = api.get("/api/v1/campaigns", {"cursor": bad})
        assert response.status_code == 422, bad
        assert response.json()["code"] == "invalid_cursor"


def test_cancelled_reservations_are_not_counted(api):
    variant = VariantFactory()
    ReservationFactory(variant=variant)
    held = ReservationFactory(variant=variant)
    services.cancel_reservation(reservation=held, by=CancelledBy.CUSTOMER)
    body = api.get(f"/api/v1/campaigns/{variant.campaign.slug}").json()
    assert body["variants"][0]["reserved"] == 1
