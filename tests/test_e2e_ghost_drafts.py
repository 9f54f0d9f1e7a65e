"""The ghost-draft story from PRODUCT.md, over real HTTP against a live server.

"An order form left half-done went to the cart; starting again from the reservation page
made a second one; submitting one left the other stuck forever, with no cancel button."
Here: start a form, type, leave; come back and start again (from the page and from a second
tab); submit. One order, no draft left anywhere, and the button is gone.
"""

import re

import httpx
import pytest

from orders.models import Order, OrderStatus
from orders.tests.factories import RatePlanFactory
from preorder_shop import tokens
from reservations.models import Reservation, ReservationStatus
from reservations.tests.factories import ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, PHONE_E164 = "010-3456-7890", "+821034567890"
WRITE, CONTINUE = "Write order form", "Continue order form"


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field on the page"
    return match.group(1)


def csrf(html: str) -> str:
    return field(html, "csrfmiddlewaretoken")


def squash(html: str) -> str:
    return " ".join(html.split())


def sign_in(browser: httpx.Client, next_path: str) -> httpx.Response:
    signin = browser.get("/signin/", params={"next": next_path})
    code_page = browser.post(
        "/signin/",
        data={
            "csrfmiddlewaretoken": csrf(signin.text),
            "phone": PHONE,
            "name": "홍길동",
            "next": next_path,
        },
    )
    code = re.search(r'data-testid="dev-code">(\d{6})<', code_page.text).group(1)
    page = browser.post(
        "/signin/code/", data={"csrfmiddlewaretoken": csrf(code_page.text), "code": code}
    )
    assert page.url.path == next_path
    return page


def test_ghost_draft_story_ends_with_one_order_and_no_draft(live_server, settings):
    settings.OTP_SHOW_CODE_ON_PAGE = True
    variant = VariantFactory(model_name="iPhone 15 Pro", capacity_gb=256, colour="Natural")
    plan = RatePlanFactory(campaign=variant.campaign, name="5G Basic")
    ReservationFactory(variant=variant)  # someone ahead in line
    campaign_path = variant.campaign.get_absolute_url()

    with httpx.Client(base_url=live_server.url, follow_redirects=True, timeout=10) as browser:
        campaign_page = sign_in(browser, campaign_path)

        # Reserve.
        reservation_page = browser.post(
            f"{campaign_path}reserve/",
            data={
                "csrfmiddlewaretoken": csrf(campaign_page.text),
                "variant": variant.pk,
                "fulfilment": "courier",
                "idempotency_key": field(campaign_page.text, "idempotency_key"),
            },
        )
        reservation = Reservation.objects.get(customer__phone=PHONE_E164)
        reservation_path = f"/my/reservations/{reservation.number}/"
        form_path = f"{reservation_path}order/"
        assert reservation_page.url.path == reservation_path
        assert WRITE in reservation_page.text
        assert CONTINUE not in reservation_page.text
        first_tab_token = csrf(reservation_page.text)

        # Press "Write order form": the draft opens.
        form_page = browser.post(form_path, data={"csrfmiddlewaretoken": first_tab_token})
        assert form_page.status_code == 200
        assert form_page.url.path == form_path
        assert "Submit order" in form_page.text
        draft = Order.objects.get(reservation=reservation)
        assert draft.status == OrderStatus.DRAFT

        # Type something: htmx autosaves it.
        saved = browser.post(
            f"{form_path}save/",
            data={
                "csrfmiddlewaretoken": csrf(form_page.text),
                "plan": plan.pk,
                "join_type": "new_line",
                "recipient_name": "홍길동",
                "recipient_phone": "010-9876-1234",
            },
            headers={"HX-Request": "true"},
        )
        assert saved.status_code == 200
        assert "Saved at" in saved.text
        assert "<html" not in saved.text

        # A second tab still shows the reservation page from before: "Write order form" there
        # opens the same draft, with what was typed.
        other_tab = browser.post(form_path, data={"csrfmiddlewaretoken": first_tab_token})
        assert other_tab.url.path == form_path
        assert 'value="홍길동"' in other_tab.text
        assert Order.objects.filter(reservation=reservation).count() == 1

        assert browser.get("/my/reservations/").status_code == 200

    # Close the browser. Later, in a new one: sign in and come back to the reservation page.
    with httpx.Client(base_url=live_server.url, follow_redirects=True, timeout=10) as browser:
        back = sign_in(browser, reservation_path)
        assert CONTINUE in back.text
        assert WRITE not in back.text
        assert f'href="{form_path}"' in back.text
        stale_tab_token = csrf(back.text)

        # "Continue order form" opens the same draft with what was typed.
        resumed = browser.get(form_path)
        assert resumed.url.path == form_path
        assert 'value="홍길동"' in resumed.text
        assert re.search(rf'value="{plan.pk}"[^>]*checked', resumed.text)
        assert re.search(r'value="new_line"[^>]*checked', resumed.text)
        assert list(
            Order.objects.filter(reservation=reservation).values_list("pk", flat=True)
        ) == [draft.pk]

        # "Write order form" again through its POST URL (a stale page): still the same draft.
        second_tab = browser.post(form_path, data={"csrfmiddlewaretoken": stale_tab_token})
        assert second_tab.url.path == form_path
        assert 'value="홍길동"' in second_tab.text
        assert Order.objects.filter(reservation=reservation).count() == 1

        # Submit the complete form.
        order_page = browser.post(
            f"{form_path}submit/",
            data={
                "csrfmiddlewaretoken": csrf(second_tab.text),
                "plan": plan.pk,
                "join_type": "new_line",
                "recipient_name": "홍길동",
                "recipient_phone": "010-9876-1234",
                "postcode": "04524",
                "address_line1": "서울특별시 중구 세종대로 110",
                "address_line2": "3층",
                "delivery_note": "",
            },
        )
        order = Order.objects.get(reservation=reservation)
        assert order.pk == draft.pk
        assert order_page.url.path == f"/my/orders/{order.number}/"
        page = squash(order_page.text)
        assert f"Order received. Your order number is {order.number}." in page
        assert "#2 of 2 for iPhone 15 Pro 256 GB Natural" in page

        # The reservation page now only offers the order.
        final = squash(browser.get(reservation_path).text)
        assert WRITE not in final
        assert CONTINUE not in final
        assert f"View order {order.number}" in final

        # Pressing the stale "Write order form" once more opens the order, not a new draft.
        stale = browser.post(form_path, data={"csrfmiddlewaretoken": stale_tab_token})
        assert stale.url.path == f"/my/orders/{order.number}/"

        mine = squash(browser.get("/my/reservations/").text)
        assert "Order form in progress" not in mine

        # The app asks the API with a token of the same customer's.
        _token, raw = tokens.issue(order.reservation.customer, device="e2e")
        api = browser.get(
            f"/api/v1/orders/{order.number}", headers={"Authorization": f"Bearer {raw}"}
        )
        assert api.status_code == 200
        status = api.json()
        assert status["status"] == "received"
        assert status["order_number"] == order.number
        assert [step["status"] for step in status["timeline"]] == ["draft", "received"]
        assert all(step["at"] for step in status["timeline"])

    orders = Order.objects.filter(reservation__customer__phone=PHONE_E164)
    assert list(orders.values_list("status", flat=True)) == [OrderStatus.RECEIVED]
    assert not orders.filter(status=OrderStatus.DRAFT).exists()
    assert not Order.objects.filter(
        reservation__customer__phone=PHONE_E164, number__isnull=True
    ).exists()
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ORDERED
    assert order.recipient_phone == "+821098761234"
