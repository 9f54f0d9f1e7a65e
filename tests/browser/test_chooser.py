"""The campaign page's phone chooser at 360x740 in Korean: with htmx each step swaps in
place; without JavaScript each step is a plain GET and the reserve button a plain POST.
Nothing is preselected, the summary's reserve button stays on screen after every step, and
the page is a fraction of the old 40-row table's ~5,900 px."""

import functools
import re

import pytest
from playwright.sync_api import Page, expect

from reservations.models import Reservation

from .choosing import choose, option, reserve_button
from .conftest import HEIGHT, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, PHONE_E164 = "010-4567-8901", "+821045678901"
# The old page was ~5,900 px tall at 360 px; the chooser with every step open is ~1,700.
MAX_PAGE_HEIGHT = 2_200


def pressed(page: Page):
    return page.locator("#chooser [aria-pressed=true]")


def in_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT


def pick(campaign):
    return campaign.variants.get(
        model_name="iPhone 15 Pro Max", capacity_gb=512, colour="Blue Titanium"
    )


def test_with_htmx_each_step_swaps_in_place_and_reserve_stays_in_reach(
    page, look, taps, campaign, live_server
):
    variant = pick(campaign)
    page.goto(live_server.url + campaign.get_absolute_url())
    sign_in(page, look, taps, phone=PHONE, name="이서연")
    page.wait_for_url(re.compile(re.escape(campaign.get_absolute_url()) + "$"))
    expect(pressed(page)).to_have_count(0)  # nothing preselected
    expect(page.locator("#chooser button[name=capacity]")).to_have_count(0)
    assert in_viewport(page, reserve_button(page))

    # Reserving before choosing says what is missing, and the page stays.
    with page.expect_navigation():
        reserve_button(page).click()
    missing = page.get_by_test_id("summary").get_by_role("alert")
    expect(missing).to_have_text("모델을 선택해 주세요.")
    assert in_viewport(page, missing)
    look(page, "nothing-chosen-refused")

    page.evaluate("window.notReloaded = true")  # a full page load would forget this

    def after(step: str) -> None:
        assert page.evaluate("window.notReloaded === true"), f"{step} reloaded the page"
        assert in_viewport(page, reserve_button(page)), f"reserve off screen after {step}"
        expect(page.get_by_role("alert")).to_have_count(0)  # what was missing is chosen
        look(page, f"chosen-{step}")

    choose(page, taps, variant, "dawn", after_each=after)
    expect(pressed(page)).to_have_count(4)
    assert "fulfilment=dawn" in page.url and "capacity=512" in page.url  # back and reload work
    expect(page.get_by_test_id("summary")).to_contain_text("iPhone 15 Pro Max · 512 GB")
    expect(page.get_by_test_id("summary")).to_contain_text("2,200,000원")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= MAX_PAGE_HEIGHT, f"campaign page {height}px tall"

    # Changing the capacity keeps the colour and the way of receiving.
    taps.click(option(page, "capacity", "1024"))
    expect(option(page, "capacity", "1024")).to_have_attribute("aria-pressed", "true")
    expect(pressed(page)).to_have_count(4)
    with page.expect_navigation():
        reserve_button(page).click()
    reservation = Reservation.objects.get(customer__phone=PHONE_E164)
    assert (reservation.variant.capacity_gb, reservation.variant.colour) == (1024, "Blue Titanium")
    assert reservation.fulfilment == "dawn"
    look(page, "reservation")


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_every_step_is_a_plain_form(page, look, taps, campaign, live_server):
    # axe-core runs on timers, which a page without JavaScript never fires; the same pages
    # are checked by axe in the walk with htmx above.
    look = functools.partial(look, axe=False)
    variant = pick(campaign)
    page.goto(live_server.url + campaign.get_absolute_url())
    look(page, "no-js-anonymous")
    sign_in(page, look, taps, phone=PHONE, name="이서연")
    page.wait_for_url(re.compile(re.escape(campaign.get_absolute_url()) + "$"))
    expect(pressed(page)).to_have_count(0)
    start = taps.count

    def after(step: str) -> None:
        assert in_viewport(page, reserve_button(page)), f"reserve off screen after {step}"
        if step != "fulfilment":  # the new page opens at the next step
            assert page.evaluate("window.scrollY") > 0, f"page load after {step} at the top"
        look(page, f"no-js-{step}")

    choose(page, taps, variant, "courier", after_each=after)
    with page.expect_navigation():
        taps.click(reserve_button(page))
    reservation = Reservation.objects.get(customer__phone=PHONE_E164)
    assert page.url.endswith(f"/my/reservations/{reservation.number}/")
    assert (reservation.variant_id, reservation.fulfilment) == (variant.pk, "courier")
    assert taps.count - start == 5
