"""The order form through the API (issue 13): open or resume the one draft, save fields
all-or-nothing with the form's own messages and codes, submit once, discard."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Order, OrderStatus
from preorder_shop import tokens
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Fulfilment, ReservationStatus
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

from .factories import RatePlanFactory, order_in, publish_festival_draw

pytestmark = pytest.mark.django_db

JSON = "application/json"


def api_for(customer) -> Client:
    _token, raw = tokens.issue(customer)
    return Client(headers={"accept-language": "en", "authorization": f"Bearer {raw}"})


def form_url(reservation) -> str:
    return f"/api/v1/reservations/{reservation.number}/order-form"


@pytest.fixture
def reservation():
    reservation = ReservationFactory()
    RatePlanFactory(campaign=reservation.campaign)
    return reservation


@pytest.fixture
def api(reservation) -> Client:
    return api_for(reservation.customer)


def complete(reservation) -> dict:
    return {
        "plan": reservation.campaign.rate_plans.get().pk,
        "join_type": "new_line",
        "recipient_name": "홍길동",
        "recipient_phone": "010-1234-5678",
        "postcode": "04524",
        "address_line1": "서울특별시 중구 세종대로 110",
    }


def test_the_whole_journey_reserve_open_save_submit():
    variant = VariantFactory()
    plan = RatePlanFactory(campaign=variant.campaign)
    api = api_for(CustomerFactory())
    made = api.post(
        f"/api/v1/campaigns/{variant.campaign.slug}/reservations",
        {"variant_id": variant.pk, "fulfilment": "courier"},
        content_type=JSON,
        headers={"idempotency-key": str(uuid.uuid4())},
    )
    assert made.status_code == 201
    number = made.json()["number"]
    assert api.get(made["Location"]).json()["actions"]["write_order"] is True
    url = f"/api/v1/reservations/{number}/order-form"
    assert api.get(url).json()["code"] == "no_draft"

    opened = api.post(url)
    assert opened.status_code == 201
    assert opened["Location"] == url
    draft = opened.json()
    assert draft["values"]["plan"] is None
    assert set(draft["missing"]) == {
        "plan",
        "join_type",
        "recipient_name",
        "recipient_phone",
        "postcode",
        "address_line1",
    }
    assert [o["value"] for o in draft["choices"]["plan"]] == [str(plan.pk)]
    assert draft["choices"]["plan"][0]["label"].startswith(plan.name)
    assert {o["value"] for o in draft["choices"]["join_type"]} == {
        "new_line",
        "port_in",
        "device_change",
    }
    deadline = dt.datetime.fromisoformat(draft["deadline"])
    assert abs(deadline - variant.campaign.order_closes_at) < dt.timedelta(milliseconds=1)
    assert api.post(url).status_code == 200  # resumed, the same one
    assert Order.objects.filter(reservation__number=number).count() == 1

    saved = api.patch(url, {"plan": plan.pk, "join_type": "new_line"}, content_type=JSON)
    assert saved.status_code == 200, saved.content
    assert saved.json()["values"]["plan"] == plan.pk
    assert "plan" not in saved.json()["missing"]
    answers = {k: v for k, v in complete(made_reservation(number)).items() if k != "plan"}
    assert api.patch(url, answers, content_type=JSON).status_code == 200
    assert api.get(url).json()["missing"] == {}
    assert api.get(url).json()["values"]["recipient_phone"] == "+821012345678"

    submitted = api.post(f"{url}/submit")
    assert submitted.status_code == 201, submitted.content
    order_number = submitted.json()["order_number"]
    assert submitted["Location"] == f"/api/v1/orders/{order_number}"
    assert submitted.json()["status"] == "received"
    again = api.post(f"{url}/submit")
    assert again.status_code == 200
    assert again.json()["order_number"] == order_number
    assert Order.objects.filter(reservation__number=number).count() == 1
    for response in (api.get(url), api.post(url), api.patch(url, {}, content_type=JSON)):
        assert response.status_code == 409
        assert response.json()["code"] == "order_submitted"
        assert response.json()["order_number"] == order_number
    detail = api.get(f"/api/v1/reservations/{number}").json()
    assert detail["actions"]["order_number"] == order_number


def made_reservation(number):
    return Order.objects.get(reservation__number=number).reservation


def test_a_save_is_all_or_nothing_with_the_forms_messages_and_codes(api, reservation):
    api.post(form_url(reservation))
    response = api.patch(
        form_url(reservation),
        {"recipient_name": "홍길동", "postcode": "12", "recipient_phone": "12345"},
        content_type=JSON,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_fields"
    assert body["field_errors"] == {
        "postcode": [{"code": "postcode", "message": "A postcode has exactly 5 digits."}],
        "recipient_phone": [
            {
                "code": "invalid_phone",
                "message": body["field_errors"]["recipient_phone"][0]["message"],
            }
        ],
    }
    assert Order.objects.get(reservation=reservation).recipient_name == ""  # nothing saved

    choices = api.patch(
        form_url(reservation), {"join_type": "carrier-pigeon", "plan": 2**40}, content_type=JSON
    ).json()["field_errors"]
    assert choices["join_type"][0]["code"] == "invalid_choice"
    assert choices["plan"][0]["code"] == "invalid_choice"
    long = api.patch(form_url(reservation), {"delivery_note": "x" * 201}, content_type=JSON)
    assert long.json()["field_errors"]["delivery_note"][0]["code"] == "max_length"
    nul = api.patch(form_url(reservation), {"recipient_name": "a\x00b"}, content_type=JSON)
    assert nul.json()["field_errors"]["recipient_name"][0]["code"] == "null_characters_not_allowed"


def test_unknown_fields_are_refused(api, reservation):
    api.post(form_url(reservation))
    response = api.patch(form_url(reservation), {"status": "received"}, content_type=JSON)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_port_in_answers_are_judged_even_while_another_way_of_joining_is_chosen(api, reservation):
    api.post(form_url(reservation))
    refused = api.patch(
        form_url(reservation),
        {"join_type": "new_line", "port_in_number": "010-12"},
        content_type=JSON,
    )
    assert refused.json()["field_errors"]["port_in_number"][0]["code"] == "invalid_phone"
    kept = api.patch(form_url(reservation), {"port_in_number": "010-5555-6666"}, content_type=JSON)
    assert kept.json()["values"]["port_in_number"] == "+821055556666"


def test_a_festival_pickup_form_asks_no_address_and_waits_for_the_draw():
    campaign = CampaignFactory(with_festival=True)
    reservation = ReservationFactory(
        variant=VariantFactory(campaign=campaign), fulfilment=Fulfilment.FESTIVAL
    )
    plan = RatePlanFactory(campaign=campaign)
    api = api_for(reservation.customer)
    draft = api.post(form_url(reservation)).json()
    assert "postcode" not in draft["asks"]
    assert draft["values"]["postcode"] is None
    assert draft["festival_draw_pending"]
    not_asked = api.patch(form_url(reservation), {"postcode": "04524"}, content_type=JSON)
    assert not_asked.json()["field_errors"]["postcode"][0]["code"] == "not_asked"
    api.patch(form_url(reservation), {"plan": plan.pk, "join_type": "new_line"}, content_type=JSON)

    pending = api.post(f"{form_url(reservation)}/submit")
    assert pending.status_code == 409
    assert pending.json()["code"] == "festival_draw_pending"
    publish_festival_draw(campaign)
    assert api.post(f"{form_url(reservation)}/submit").status_code == 201


def test_an_incomplete_submit_says_what_is_missing_per_field(api, reservation):
    api.post(form_url(reservation))
    response = api.post(f"{form_url(reservation)}/submit")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "incomplete_order"
    assert body["field_errors"]["plan"] == [{"code": "required", "message": "Choose a rate plan."}]
    assert Order.objects.get(reservation=reservation).status == OrderStatus.DRAFT


def test_submit_without_a_draft_and_discard(api, reservation):
    nothing = api.post(f"{form_url(reservation)}/submit")
    assert (nothing.status_code, nothing.json()["code"]) == (404, "no_draft")
    assert api.delete(form_url(reservation)).json()["code"] == "no_draft"
    api.post(form_url(reservation))
    assert api.delete(form_url(reservation)).status_code == 204
    assert Order.objects.get(reservation=reservation).status == OrderStatus.DISCARDED
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE
    assert api.delete(form_url(reservation)).status_code == 404
    assert api.get(form_url(reservation)).json()["code"] == "no_draft"
    assert api.post(form_url(reservation)).status_code == 201  # a new one


def test_outside_the_order_window_the_form_is_refused(api, reservation):
    api.post(form_url(reservation))
    reservation.campaign.order_closes_at = timezone.now() - dt.timedelta(minutes=1)
    reservation.campaign.save()
    for response in (
        api.get(form_url(reservation)),
        api.post(form_url(reservation)),
        api.patch(form_url(reservation), {"postcode": "04524"}, content_type=JSON),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "order_window_closed"


def test_a_cancelled_reservation_gets_no_order_form():
    order = order_in(OrderStatus.CANCELLED)
    api = api_for(order.reservation.customer)
    response = api.post(form_url(order.reservation))
    assert (response.status_code, response.json()["code"]) == (409, "reservation_not_active")


def test_another_customers_order_form_is_the_one_404(api, reservation):
    api.post(form_url(reservation))
    stranger = api_for(CustomerFactory())
    for response in (
        stranger.get(form_url(reservation)),
        stranger.post(form_url(reservation)),
        stranger.patch(form_url(reservation), {"postcode": "04524"}, content_type=JSON),
        stranger.post(f"{form_url(reservation)}/submit"),
        stranger.delete(form_url(reservation)),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Order.objects.get(reservation=reservation).status == OrderStatus.DRAFT
