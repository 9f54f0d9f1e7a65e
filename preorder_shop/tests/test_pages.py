"""Page panels and page names (preorder_shop.pages): upper apps add to lower apps' pages
without the lower app importing them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import StockLotFactory
from preorder_shop import pages
from reservations.tests.factories import CampaignFactory, VariantFactory
from tests.pages import text


def test_only_known_slots_and_pages_can_be_registered():
    with pytest.raises(ValueError, match="unknown page slot"):
        pages.add_panel("checkout_page", template="x.html", context=lambda **_: {})
    with pytest.raises(ValueError, match="unknown page"):
        pages.name_page("ticket", "support:ticket")


def test_the_reservation_page_is_named_by_the_app_that_owns_it():
    assert pages.page_url("reservation", number="12345674") == reverse(
        "orders:reservation_detail", kwargs={"number": "12345674"}
    )


def test_a_panel_with_nothing_to_show_renders_nothing(settings):
    # A slot whose panels all return None is empty.
    saved = list(pages._panels["order_page"])
    try:
        pages._panels["order_page"][:] = []
        pages.add_panel("order_page", template="missing.html", context=lambda **_: None)
        assert pages.render_panels("order_page", None, order=object()) == ""
    finally:
        pages._panels["order_page"][:] = saved


@pytest.mark.django_db
def test_fulfilment_shows_stock_arrivals_on_the_campaign_page(client):
    campaign = CampaignFactory()
    variant = VariantFactory(campaign=campaign)
    StockLotFactory(variant=variant, quantity=1200)
    StockLotFactory(
        variant=variant, quantity=500, arrives_at=timezone.now() + dt.timedelta(days=3)
    )

    page = text(client.get(campaign.get_absolute_url()))

    assert "Stock arrivals" in page
    assert "1,200 phones have arrived so far." in page
    assert (
        f"The next delivery is expected on {timezone.localdate() + dt.timedelta(days=3):%m/%d/%Y}"
        in page
    )
    later = timezone.localdate() + dt.timedelta(days=3)
    assert f"<td>{variant}</td><td>1,200</td><td>{later:%m/%d/%Y}</td>" in page


@pytest.mark.django_db
def test_no_stock_panel_before_any_lot_is_announced(client):
    campaign = CampaignFactory()
    VariantFactory(campaign=campaign)
    assert "Stock arrivals" not in text(client.get(campaign.get_absolute_url()))
