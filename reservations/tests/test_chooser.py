"""The campaign page's chooser, server side: model, capacity, colour, way of receiving, each
a GET that narrows the choice; nothing preselected; refusals keep what was chosen."""

import datetime as dt
import html
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import StockLotFactory
from reservations.models import Reservation
from reservations.selectors import intake_catalogue

from .factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db

PRESSED = re.compile(r'aria-pressed="true"')


def words(response) -> str:
    """The page's words as a reader meets them, without the markup."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return html.unescape(" ".join(without_tags.split()))


@pytest.fixture
def catalogue():
    """Two models; the Pro in two capacities and two colours, 256 GB dearer."""
    campaign = CampaignFactory(with_festival=True)
    variants = {}
    for capacity, price in ((128, 1_550_000), (256, 1_700_000)):
        for colour in ("Natural Titanium", "Blue Titanium"):
            variants[capacity, colour] = VariantFactory(
                campaign=campaign,
                model_name="iPhone 15 Pro",
                capacity_gb=capacity,
                colour=colour,
                price_krw=price,
            )
    VariantFactory(
        campaign=campaign,
        model_name="iPhone 15",
        capacity_gb=128,
        colour="Pink",
        price_krw=1_250_000,
    )
    return campaign, variants


def page(client, campaign, **choices):
    return client.get(campaign.get_absolute_url(), choices)


def test_nothing_is_preselected_and_only_the_model_step_shows(signed_in, catalogue):
    campaign, _ = catalogue
    response = page(signed_in, campaign)
    body = response.content.decode()
    assert response.status_code == 200
    assert not PRESSED.search(body)
    assert 'name="model" value="iPhone 15 Pro"' in body
    assert 'name="capacity"' not in body
    assert 'name="variant"' not in body  # nothing chosen: the reserve form names no phone
    assert 'name="fulfilment"' not in body
    page_text = words(response)
    assert "Nothing chosen yet" in page_text
    assert "from ₩1,550,000" in page_text  # the Pro's lowest price
    assert "₩1,250,000" in page_text


def test_each_step_narrows_and_shows_price_and_who_is_in_line(signed_in, catalogue):
    campaign, variants = catalogue
    ReservationFactory.create_batch(2, variant=variants[256, "Blue Titanium"])
    ReservationFactory(variant=variants[128, "Blue Titanium"])

    after_model = words(page(signed_in, campaign, model="iPhone 15 Pro"))
    assert "3 in line" in after_model  # the model: every variant of it
    assert "128 GB ₩1,550,000 1 in line" in after_model
    assert "256 GB ₩1,700,000 2 in line" in after_model
    assert "Colour" not in after_model

    after_capacity = words(page(signed_in, campaign, model="iPhone 15 Pro", capacity="256"))
    assert "Blue Titanium ₩1,700,000 2 in line" in after_capacity
    assert "Natural Titanium ₩1,700,000 No one in line yet" in after_capacity

    response = page(
        signed_in, campaign, model="iPhone 15 Pro", capacity="256", colour="Blue Titanium"
    )
    body = response.content.decode()
    assert f'name="variant" value="{variants[256, "Blue Titanium"].pk}"' in body
    assert "swatch-blue-titanium" in body
    assert len(PRESSED.findall(body)) == 3
    # The way of receiving: every way the campaign offers, none chosen.
    for way in ("courier", "dawn", "festival"):
        assert f'name="fulfilment" value="{way}"' in body
    assert 'type="hidden" name="fulfilment"' not in body
    assert "iPhone 15 Pro · 256 GB · Blue Titanium ₩1,700,000" in words(response)


def test_the_way_of_receiving_is_offered_only_as_the_campaign_offers_it(signed_in):
    variant = VariantFactory()  # courier and dawn, no festival
    choose = {"model": variant.model_name, "capacity": variant.capacity_gb}
    body = page(signed_in, variant.campaign, **choose, colour=variant.colour).content.decode()
    assert 'value="courier"' in body
    assert 'value="festival"' not in body
    festival = page(
        signed_in, variant.campaign, **choose, colour=variant.colour, fulfilment="festival"
    )
    assert 'type="hidden" name="fulfilment"' not in festival.content.decode()


def test_a_new_capacity_keeps_the_colour_and_way_that_still_fit(signed_in, catalogue):
    campaign, variants = catalogue
    response = page(
        signed_in,
        campaign,
        model="iPhone 15 Pro",
        capacity="128",
        colour="Natural Titanium",
        fulfilment="dawn",
    )
    body = response.content.decode()
    assert f'name="variant" value="{variants[128, "Natural Titanium"].pk}"' in body
    assert "Dawn delivery on launch morning" in words(response)
    # The capacity step's form carries the other choices, so one tap changes only it.
    capacity_form = body[body.index('id="step-capacity"') :]
    capacity_form = capacity_form[: capacity_form.index("</form>")]
    assert 'name="colour" value="Natural Titanium"' in capacity_form
    assert 'name="fulfilment" value="dawn"' in capacity_form
    assert 'type="hidden" name="capacity"' not in capacity_form
    assert f'action="/c/{campaign.slug}/#step-colour"' in capacity_form


def test_a_choice_that_does_not_fit_is_cleared_with_a_word_and_never_a_500(signed_in, catalogue):
    campaign, _ = catalogue
    response = page(signed_in, campaign, model="iPhone 15", capacity="128", colour="Blue Titanium")
    assert response.status_code == 200
    body = words(response)
    assert "so it was cleared: choose it again" in body
    assert 'name="variant"' not in response.content.decode()
    for junk in (
        {"model": "x" * 5000},
        {"capacity": "\x00"},
        {"model": "iPhone 15 Pro", "capacity": "-1"},
    ):
        assert page(signed_in, campaign, **junk).status_code == 200


def test_the_next_expected_lot_is_shown_on_each_option_labelled_as_expected(signed_in, catalogue):
    campaign, variants = catalogue
    soon = timezone.now() + dt.timedelta(days=3)
    StockLotFactory(variant=variants[256, "Blue Titanium"], arrives_at=soon)
    StockLotFactory(variant=variants[256, "Blue Titanium"], arrives_at=soon + dt.timedelta(days=5))
    StockLotFactory(variant=variants[128, "Blue Titanium"])  # arrived: no longer expected
    when = f"{timezone.localtime(soon):%B} {timezone.localtime(soon).day}"

    body = words(page(signed_in, campaign, model="iPhone 15 Pro"))
    assert f"256 GB ₩1,700,000 No one in line yet Next stock expected {when}" in body
    assert body.count("Next stock expected") == 2  # the Pro, and its 256 GB


def test_the_counts_poll_is_one_query_and_swaps_only_counts(client, catalogue):
    campaign, variants = catalogue
    ReservationFactory(variant=variants[128, "Natural Titanium"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            campaign.get_absolute_url(),
            {"part": "counts", "model": "iPhone 15 Pro"},
            headers={"HX-Request": "true"},
        )
    body = response.content.decode()
    assert len(queries) == 1 + 1  # the campaign, the variants with their counts
    assert "<html" not in body and "<button" not in body
    assert '<span class="option-count" id="count-capacity-1" hx-swap-oob="true">1 in line' in body
    assert 'id="count-model-2"' in body
    assert "HX-Request" in response["Vary"]


def test_a_step_with_htmx_swaps_the_chooser_and_the_summary_only(signed_in, catalogue):
    campaign, _ = catalogue
    response = signed_in.get(
        campaign.get_absolute_url(),
        {"model": "iPhone 15 Pro"},
        headers={"HX-Request": "true", "HX-Target": "chooser"},
    )
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="chooser"') or 'id="chooser"' in body[:400]
    assert 'id="summary" class="summary" hx-swap-oob="true"' in body
    assert 'name="idempotency_key"' in body


def test_reserving_the_chosen_phone(signed_in, customer, catalogue):
    campaign, variants = catalogue
    variant = variants[256, "Blue Titanium"]
    data = {
        "model": "iPhone 15 Pro",
        "capacity": "256",
        "colour": "Blue Titanium",
        "fulfilment": "dawn",
        "variant": variant.pk,
        "idempotency_key": uuid.uuid4(),
    }
    response = signed_in.post(reverse("reservations:reserve", args=[campaign.slug]), data)
    reservation = Reservation.objects.get(customer=customer)
    assert response.status_code == 302
    assert (reservation.variant, reservation.fulfilment) == (variant, "dawn")


@pytest.mark.parametrize(
    ("missing", "message"),
    [("colour", "Choose a colour."), ("fulfilment", "Choose how you want to receive the phone.")],
)
def test_an_incomplete_choice_says_what_is_missing_and_keeps_the_rest(
    signed_in, catalogue, missing, message
):
    campaign, variants = catalogue
    data = {
        "model": "iPhone 15 Pro",
        "capacity": "256",
        "colour": "Blue Titanium",
        "fulfilment": "courier",
        "variant": variants[256, "Blue Titanium"].pk,
        "idempotency_key": uuid.uuid4(),
    }
    del data[missing]
    if missing == "colour":
        del data["variant"]  # the page names a phone only once its colour is chosen
    response = signed_in.post(reverse("reservations:reserve", args=[campaign.slug]), data)
    assert response.status_code == 302
    assert response["Location"].startswith(campaign.get_absolute_url() + "?model=iPhone+15+Pro")
    shown = signed_in.get(response["Location"])
    assert f'<p class="error" role="alert">{message}</p>' in shown.content.decode()
    # What was chosen is kept: model and capacity (and the colour when given) stay pressed.
    assert len(PRESSED.findall(shown.content.decode())) == (2 if missing == "colour" else 3)
    assert not Reservation.objects.exists()


def test_input_no_page_sends_gets_a_400_with_the_reason_beside_the_button(signed_in, catalogue):
    campaign, variants = catalogue
    data = {
        "variant": variants[128, "Blue Titanium"].pk,
        "fulfilment": "by-drone",
        "idempotency_key": uuid.uuid4(),
    }
    response = signed_in.post(reverse("reservations:reserve", args=[campaign.slug]), data)
    assert response.status_code == 400
    body = response.content.decode()
    summary = body[body.index('<div id="summary"') :]
    assert '<p class="error" role="alert">This campaign does not offer that option.</p>' in summary
    assert len(PRESSED.findall(body)) == 3  # the phone is kept
    assert not Reservation.objects.exists()


def test_a_refused_reservation_comes_back_to_the_same_choice(signed_in, customer, catalogue):
    campaign, variants = catalogue
    variant = variants[128, "Natural Titanium"]
    ReservationFactory(customer=customer, variant=variant)  # the campaign's limit: one
    data = {"variant": variant.pk, "fulfilment": "dawn", "idempotency_key": uuid.uuid4()}
    response = signed_in.post(reverse("reservations:reserve", args=[campaign.slug]), data)
    assert response.status_code == 302
    assert response["Location"] == (
        campaign.get_absolute_url()
        + "?model=iPhone+15+Pro&capacity=128&colour=Natural+Titanium&fulfilment=dawn"
    )


def test_a_good_reservation_adds_no_query_for_the_chooser(signed_in, catalogue):
    """Launch-hour intake: the chooser's extra fields cost nothing on the POST path."""
    campaign, variants = catalogue
    variant = variants[128, "Blue Titanium"]
    intake_catalogue.variants(campaign.slug)  # warm, as during launch hour
    plain = {"variant": variant.pk, "fulfilment": "courier"}
    with CaptureQueriesContext(connection) as without_chooser:
        signed_in.post(
            reverse("reservations:reserve", args=[campaign.slug]),
            {**plain, "idempotency_key": uuid.uuid4()},
        )
    Reservation.objects.all().delete()
    with CaptureQueriesContext(connection) as with_chooser:
        signed_in.post(
            reverse("reservations:reserve", args=[campaign.slug]),
            {
                **plain,
                "model": "iPhone 15 Pro",
                "capacity": "128",
                "colour": "Blue Titanium",
                "idempotency_key": uuid.uuid4(),
            },
        )
    assert len(with_chooser) == len(without_chooser)


def test_the_campaign_page_is_public_and_may_be_indexed(client, catalogue):
    campaign, _ = catalogue
    body = page(client, campaign).content.decode()
    assert 'name="robots"' not in body  # base.html's noindex default is overridden
    assert "reservations/chooser.css" in body.split("</head>")[0]
