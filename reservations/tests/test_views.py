"""Customer pages: what each state shows, what the server accepts, and what stays private."""

import re
import uuid

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from reservations import selectors
from reservations.models import Reservation
from tests.pages import text

from .factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db


def reserve_url(campaign):
    return reverse("reservations:reserve", kwargs={"slug": campaign.slug})


def test_campaign_page_shows_who_is_in_line_at_each_step(client):
    variant = VariantFactory(model_name="iPhone 15 Pro", capacity_gb=256, colour="Natural")
    ReservationFactory.create_batch(3, variant=variant)
    choices = {"model": "iPhone 15 Pro", "capacity": "256"}
    page = re.sub(r"<[^>]+>", " ", text(client.get(variant.campaign.get_absolute_url(), choices)))
    assert "iPhone 15 Pro" in page
    assert "Natural ₩1,550,000 3 in line" in " ".join(page.split())


@pytest.mark.parametrize(
    ("traits", "reason"),
    [({"not_open_yet": True}, "open on"), ({"closed": True}, "closed on")],
)
def test_campaign_page_says_plainly_why_reserving_is_not_possible(signed_in, traits, reason):
    campaign = CampaignFactory(**traits)
    VariantFactory(campaign=campaign)
    page = text(signed_in.get(campaign.get_absolute_url()))
    assert reason in page
    assert "Reserve now" not in page


def test_anonymous_visitors_are_asked_to_sign_in(client):
    campaign = VariantFactory().campaign
    page = text(client.get(campaign.get_absolute_url()))
    assert "Sign in with your mobile number to reserve" in page
    assert "Reserve now" not in page


def test_reserving_while_signed_out_sends_to_sign_in_and_creates_nothing(client):
    variant = VariantFactory()
    response = client.post(
        reserve_url(variant.campaign),
        {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": uuid.uuid4()},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin"))
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("variant", "999999", "That model is not part of this campaign."),
        ("variant", "abc", "That model is not part of this campaign."),
    ],
)
def test_bad_reserve_input_gets_a_specific_message_and_changes_nothing(
    signed_in, field, value, message
):
    variant = VariantFactory()
    data = {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": uuid.uuid4()}
    data[field] = value
    response = signed_in.post(reserve_url(variant.campaign), data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Reservation.objects.exists()


def test_fulfilment_the_campaign_does_not_offer_is_refused(signed_in):
    variant = VariantFactory()  # no festival pickup
    data = {"variant": variant.pk, "fulfilment": "festival", "idempotency_key": uuid.uuid4()}
    response = signed_in.post(reserve_url(variant.campaign), data, follow=True)
    assert "This campaign does not offer that way of receiving the phone." in text(response)
    assert not Reservation.objects.exists()


def test_a_variant_of_another_campaign_is_refused_with_a_specific_message(signed_in):
    variant, foreign = VariantFactory(), VariantFactory()
    data = {"variant": foreign.pk, "fulfilment": "courier", "idempotency_key": uuid.uuid4()}
    response = signed_in.post(reserve_url(variant.campaign), data)
    assert response.status_code == 400
    assert "That model is not part of this campaign." in text(response)
    assert not Reservation.objects.exists()


def test_reserving_in_an_unknown_campaign_is_not_found(signed_in):
    variant = VariantFactory()
    data = {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": uuid.uuid4()}
    response = signed_in.post(reverse("reservations:reserve", args=["no-such-campaign"]), data)
    assert response.status_code == 404
    assert not Reservation.objects.exists()


def test_a_tampered_form_key_gets_a_fresh_form_and_changes_nothing(signed_in):
    variant = VariantFactory()
    data = {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": "not-a-uuid"}
    response = signed_in.post(reserve_url(variant.campaign), data, follow=True)
    page = text(response)
    assert "This form is out of date" in page
    assert 'value="not-a-uuid"' not in page
    assert not Reservation.objects.exists()


def test_reserving_over_the_limit_explains_and_keeps_the_first(signed_in, customer):
    variant = VariantFactory()
    ReservationFactory(customer=customer, variant=variant)
    response = signed_in.post(
        reserve_url(variant.campaign),
        {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": uuid.uuid4()},
        follow=True,
    )
    assert "You already hold as many reservations as this campaign allows." in text(response)
    assert Reservation.objects.filter(customer=customer).count() == 1


def test_reserving_in_a_closed_campaign_is_refused(signed_in):
    variant = VariantFactory(campaign=CampaignFactory(closed=True))
    response = signed_in.post(
        reserve_url(variant.campaign),
        {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": uuid.uuid4()},
        follow=True,
    )
    assert "Reservations for this campaign are closed." in text(response)
    assert not Reservation.objects.exists()


def test_standing_uses_thousands_separators():
    reservation = ReservationFactory.build(variant=VariantFactory.build(colour="Blue"))
    rendered = render_to_string(
        "reservations/_standing.html",
        {"standing": selectors.QueueStanding(place=1234, total=5678), "reservation": reservation},
    )
    assert f"#1,234 of 5,678 for {reservation.variant}" in " ".join(rendered.split())


def test_counts_fragment_for_htmx_polling(client):
    variant = VariantFactory()
    ReservationFactory(variant=variant)
    response = client.get(
        variant.campaign.get_absolute_url() + "?part=counts", headers={"HX-Request": "true"}
    )
    body = text(response)
    assert 'id="count-model-1" hx-swap-oob="true">1 in line' in body
    assert "<html" not in body
