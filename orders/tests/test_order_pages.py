"""The customer's order pages: reservation buttons, the one draft, autosave, submit, discard,
the order page and the API's status of the same order. Every button matches the state; the
server refuses the rest.
"""

import datetime as dt
import html
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderStatus, OrderTransition
from orders.services import cancel_by_customer, expire_drafts
from orders.tests.api import status_url, token_client
from orders.tests.factories import RatePlanFactory, order_in, publish_festival_draw
from orders.tests.pages import masked
from preorder_shop.identifiers import ORDER_NUMBER
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from reservations.models import Campaign, CancelledBy, Fulfilment, ReservationStatus
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
WRITE, CONTINUE = "Write order form", "Continue order form"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def reservation(customer):
    reservation = ReservationFactory(customer=customer)
    RatePlanFactory(campaign=reservation.campaign)
    return reservation


def page_url(reservation) -> str:
    return reverse("orders:reservation_detail", args=[reservation.number])


def form_url(reservation) -> str:
    return reverse("orders:order_form", args=[reservation.number])


def autosave_url(reservation) -> str:
    return reverse("orders:order_autosave", args=[reservation.number])


def submit_url(reservation) -> str:
    return reverse("orders:order_submit", args=[reservation.number])


def discard_url(reservation) -> str:
    return reverse("orders:order_discard", args=[reservation.number])


def order_url(order) -> str:
    return reverse("orders:order_detail", args=[order.number])


def complete_form(reservation, **overrides) -> dict:
    plan = reservation.campaign.rate_plans.first() or RatePlanFactory(
        campaign=reservation.campaign
    )
    data = {
        "plan": plan.pk,
        "join_type": "new_line",
        "recipient_name": "홍길동",
        "recipient_phone": "010-1234-5678",
        "postcode": "04524",
        "address_line1": "서울특별시 중구 세종대로 110",
        "address_line2": "3층",
        "delivery_note": "문 앞에 놓아 주세요",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(page: str) -> dict[str, list[str]]:
    """Errors shown inside each field's block on the order form, by field name."""
    errors: dict[str, list[str]] = {}
    for block in page.split('<div class="field')[1:]:
        name = re.search(r'name="(\w+)"', block)
        found = re.findall(r'<p class="error" role="alert">([^<]+)</p>', block)
        if name and found and block.startswith(" invalid"):
            errors[name.group(1)] = [html.unescape(error) for error in found]
    return errors


def close_order_window(campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(
        order_closes_at=timezone.now() - dt.timedelta(minutes=1)
    )


def history(order) -> list[tuple[str, str]]:
    return list(
        OrderTransition.objects.filter(order=order)
        .order_by("at", "pk")
        .values_list("from_status", "to_status")
    )


# The reservation page: what it offers follows the state.


def test_active_reservation_in_open_window_offers_write_order_form(signed_in, reservation):
    page = text(signed_in.get(page_url(reservation)))
    assert WRITE in page
    assert CONTINUE not in page
    assert "View order" not in page
    assert f'action="{form_url(reservation)}"' in page  # a POST form, not a link


def test_a_draft_turns_the_button_into_continue(signed_in, reservation):
    order_in(S.DRAFT, reservation=reservation)
    page = text(signed_in.get(page_url(reservation)))
    assert CONTINUE in page
    assert WRITE not in page
    assert f'href="{form_url(reservation)}"' in page
    assert "View order" not in page


@pytest.mark.parametrize("status", [S.RECEIVED, S.PREPARING, S.SHIPPED, S.DELIVERED])
def test_after_submission_only_view_order_remains(signed_in, reservation, status):
    order = order_in(status, reservation=reservation)
    page = text(signed_in.get(page_url(reservation)))
    assert WRITE not in page
    assert CONTINUE not in page
    assert f"View order {order.number}" in page
    assert f'href="{order_url(order)}"' in page
    if status == S.RECEIVED:
        assert "Cancel reservation" in page
    else:
        assert "Cancel reservation" not in page


def test_cancelled_order_leaves_only_view_order(signed_in, reservation):
    order = order_in(S.CANCELLED, reservation=reservation)
    page = text(signed_in.get(page_url(reservation)))
    assert WRITE not in page
    assert CONTINUE not in page
    assert "Cancel reservation" not in page
    assert f"View order {order.number}" in page


def test_window_not_open_yet_shows_when_it_opens_and_no_button(signed_in, reservation):
    Campaign.objects.filter(pk=reservation.campaign_id).update(
        order_opens_at=timezone.now() + dt.timedelta(days=1)
    )
    page = text(signed_in.get(page_url(reservation)))
    assert "You can write your order form from" in page
    assert WRITE not in page
    assert CONTINUE not in page


def test_window_closed_shows_when_it_closed_and_no_button(signed_in, reservation):
    close_order_window(reservation.campaign)
    page = text(signed_in.get(page_url(reservation)))
    assert "The order form window closed on" in page
    assert WRITE not in page
    assert CONTINUE not in page


def test_window_closed_with_a_leftover_draft_offers_no_continue(signed_in, reservation):
    order_in(S.DRAFT, reservation=reservation)
    close_order_window(reservation.campaign)
    page = text(signed_in.get(page_url(reservation)))
    assert "The order form window closed on" in page
    assert WRITE not in page
    assert CONTINUE not in page


# Starting and resuming: one draft per reservation.


def test_write_order_form_creates_one_draft_and_a_second_tab_resumes_it(signed_in, reservation):
    first = signed_in.post(form_url(reservation))
    second = signed_in.post(form_url(reservation))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == form_url(reservation)
    drafts = Order.objects.filter(reservation=reservation)
    assert drafts.count() == 1
    assert drafts.get().status == S.DRAFT
    form_page = signed_in.get(form_url(reservation))
    assert form_page.status_code == 200
    assert "Submit order" in text(form_page)
    assert Order.objects.filter(reservation=reservation).count() == 1


def test_continue_opens_the_same_draft_with_its_saved_answers(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    Order.objects.filter(pk=draft.pk).update(recipient_name="김철수")
    signed_in.post(form_url(reservation))  # "Write order form" from a stale tab
    page = text(signed_in.get(form_url(reservation)))
    assert 'value="김철수"' in page
    assert list(Order.objects.filter(reservation=reservation).values_list("pk", flat=True)) == [
        draft.pk
    ]


def test_order_form_url_without_a_draft_goes_back_to_the_reservation(signed_in, reservation):
    response = signed_in.get(form_url(reservation))
    assert response.status_code == 302
    assert response["Location"] == page_url(reservation)
    assert not Order.objects.exists()


def test_order_form_url_of_a_submitted_order_goes_to_the_order_page(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)
    response = signed_in.get(form_url(reservation))
    assert response.status_code == 302
    assert response["Location"] == order_url(order)
    again = signed_in.post(form_url(reservation), follow=True)
    assert again.redirect_chain[-1][0] == order_url(order)
    assert Order.objects.filter(reservation=reservation).count() == 1


def test_someone_elses_reservation_has_no_order_form(signed_in):
    foreign = ReservationFactory()
    assert signed_in.post(form_url(foreign)).status_code == 404
    assert signed_in.get(form_url(foreign)).status_code == 404
    assert not Order.objects.exists()


def test_not_signed_in_cannot_start_an_order_form(client, reservation):
    response = client.post(form_url(reservation))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin"))
    assert not Order.objects.exists()


# Autosave.


def test_autosave_saves_valid_fields_and_reports_a_bad_postcode(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    response = signed_in.post(
        autosave_url(reservation),
        {
            "recipient_name": "홍길동",
            "recipient_phone": "010-2222-3333",
            "postcode": "12ab",
            "address_line1": "부산광역시 해운대구",
        },
        **HTMX,
    )
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert "Saved at" in body
    assert "A postcode has exactly 5 digits." in body
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    assert draft.recipient_name == "홍길동"
    assert draft.recipient_phone == "+821022223333"
    assert draft.address_line1 == "부산광역시 해운대구"
    assert draft.postcode == ""


def test_autosave_keeps_a_good_postcode_when_a_bad_one_is_typed(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    signed_in.post(autosave_url(reservation), {"postcode": "04524"}, **HTMX)
    signed_in.post(autosave_url(reservation), {"postcode": "0452"}, **HTMX)
    draft.refresh_from_db()
    assert draft.postcode == "04524"


def test_autosave_after_submission_saves_nothing(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)
    before = Order.objects.values().get(pk=order.pk)
    response = signed_in.post(autosave_url(reservation), {"recipient_name": "누군가"}, **HTMX)
    assert "no longer a draft" in text(response)
    assert Order.objects.values().get(pk=order.pk) == before


# Submitting.


def test_submit_with_everything_missing_names_each_missing_field(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    response = signed_in.post(submit_url(reservation), {})
    assert response.status_code == 400
    errors = field_errors(response.content.decode())
    assert set(errors) == {
        "plan",
        "join_type",
        "recipient_name",
        "recipient_phone",
        "postcode",
        "address_line1",
    }
    assert errors["plan"] == ["Choose a rate plan."]
    assert errors["join_type"] == ["Choose how you join."]
    assert errors["recipient_name"] == ["Enter who receives the phone."]
    assert errors["recipient_phone"] == ["Enter the recipient's mobile number for the courier."]
    assert errors["postcode"] == ["Enter the 5-digit postcode."]
    assert errors["address_line1"] == ["Enter the delivery address."]
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    assert draft.number is None


def test_submit_port_in_needs_the_carrier_and_the_number(signed_in, reservation):
    order_in(S.DRAFT, reservation=reservation)
    response = signed_in.post(
        submit_url(reservation), complete_form(reservation, join_type="port_in")
    )
    assert response.status_code == 400
    assert field_errors(response.content.decode()) == {
        "port_in_carrier": ["Choose the carrier you are moving from."],
        "port_in_number": ["Enter the mobile number you are moving."],
    }
    assert Order.objects.get(reservation=reservation).status == S.DRAFT


def test_submit_with_invalid_values_shows_them_and_keeps_the_draft(signed_in, reservation):
    order_in(S.DRAFT, reservation=reservation)
    response = signed_in.post(
        submit_url(reservation),
        complete_form(reservation, postcode="1234", recipient_phone="02-123-4567"),
    )
    assert response.status_code == 400
    errors = field_errors(response.content.decode())
    assert errors["postcode"] == ["A postcode has exactly 5 digits."]
    assert "Korean mobile number" in errors["recipient_phone"][0]
    assert Order.objects.get(reservation=reservation).status == S.DRAFT


def test_festival_pickup_has_no_address_and_submits_without_one_once_drawn(signed_in, customer):
    variant = VariantFactory(campaign=CampaignFactory(with_festival=True))
    reservation = ReservationFactory(
        customer=customer, variant=variant, fulfilment=Fulfilment.FESTIVAL
    )
    plan = RatePlanFactory(campaign=reservation.campaign)
    signed_in.post(form_url(reservation))
    page = signed_in.get(form_url(reservation)).content.decode()
    for name in ["recipient_name", "recipient_phone", "postcode", "address_line1"]:
        assert f'name="{name}"' not in page
    assert "once the result is published" in page

    complete = {"plan": plan.pk, "join_type": "device_change"}
    waiting = signed_in.post(submit_url(reservation), complete)
    assert waiting.status_code == 400
    assert "once the result is published" in waiting.content.decode()
    assert Order.objects.get(reservation=reservation).status == S.DRAFT

    publish_festival_draw(reservation.campaign)
    assert (
        "once the result is published" not in signed_in.get(form_url(reservation)).content.decode()
    )
    missing = signed_in.post(submit_url(reservation), {})
    assert missing.status_code == 400
    assert set(field_errors(missing.content.decode())) == {"plan", "join_type"}

    response = signed_in.post(
        submit_url(reservation), {"plan": plan.pk, "join_type": "device_change"}
    )
    order = Order.objects.get(reservation=reservation)
    assert order.status == S.RECEIVED
    assert response.status_code == 302
    assert response["Location"] == order_url(order)


def test_submit_assigns_an_order_number_and_redirects_to_the_order_page(signed_in, reservation):
    signed_in.post(form_url(reservation))
    response = signed_in.post(submit_url(reservation), complete_form(reservation))

    order = Order.objects.get(reservation=reservation)
    assert order.status == S.RECEIVED
    assert ORDER_NUMBER.is_valid(order.number)
    assert order.recipient_phone == "+821012345678"
    assert order.submitted_at is not None
    assert response.status_code == 302
    assert response["Location"] == order_url(order)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ORDERED
    assert history(order) == [(S.DRAFT, S.RECEIVED)]
    assert OutboxMessage.objects.filter(reference=f"order:{order.pk}").count() == 1

    page = text(signed_in.get(response["Location"]))
    assert f"Order received. Your order number is {order.number}." in page


def test_a_repeated_submit_goes_to_the_same_order_and_creates_nothing(signed_in, reservation):
    signed_in.post(form_url(reservation))
    data = complete_form(reservation)
    first = signed_in.post(submit_url(reservation), data)
    order = Order.objects.get(reservation=reservation)
    snapshot = Order.objects.values().get(pk=order.pk)

    second = signed_in.post(submit_url(reservation), data)

    assert second.status_code == 302
    assert first["Location"] == second["Location"] == order_url(order)
    assert Order.objects.filter(reservation=reservation).count() == 1
    assert Order.objects.values().get(pk=order.pk) == snapshot
    assert history(order) == [(S.DRAFT, S.RECEIVED)]
    assert OutboxMessage.objects.filter(reference=f"order:{order.pk}").count() == 1


def test_submit_without_a_draft_is_refused(signed_in, reservation):
    response = signed_in.post(submit_url(reservation), complete_form(reservation), follow=True)
    assert "There is no order form to submit. Start one first." in text(response)
    assert not Order.objects.exists()


def test_a_plan_of_another_campaign_is_refused(signed_in, reservation):
    order_in(S.DRAFT, reservation=reservation)
    foreign_plan = RatePlanFactory()
    signed_in.post(autosave_url(reservation), {"plan": foreign_plan.pk}, **HTMX)
    response = signed_in.post(
        submit_url(reservation), complete_form(reservation, plan=foreign_plan.pk)
    )
    assert response.status_code == 400
    assert "plan" in field_errors(response.content.decode())
    order = Order.objects.get(reservation=reservation)
    assert (order.status, order.plan_id) == (S.DRAFT, None)


# Discarding.


def test_discard_confirms_keeps_the_reservation_and_allows_a_fresh_draft(signed_in, reservation):
    signed_in.post(form_url(reservation))
    first = Order.objects.get(reservation=reservation)

    response = signed_in.post(discard_url(reservation), {"confirm": "draft"}, follow=True)

    page = text(response)
    assert response.redirect_chain[-1][0] == page_url(reservation)
    assert "Your order form is discarded. Your reservation is still active." in page
    assert WRITE in page
    assert CONTINUE not in page
    first.refresh_from_db()
    assert first.status == S.DISCARDED
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE
    assert history(first) == [(S.DRAFT, S.DISCARDED)]

    signed_in.post(form_url(reservation))
    live = Order.objects.live().get(reservation=reservation)
    assert live.pk != first.pk
    assert live.status == S.DRAFT


def test_discard_of_a_submitted_order_changes_nothing(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)
    signed_in.post(discard_url(reservation), {"confirm": "draft"})
    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert history(order) == [(S.DRAFT, S.RECEIVED)]


def test_cancel_reservation_with_a_draft_discards_it_too(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    response = signed_in.post(
        reverse("orders:reservation_cancel", args=[reservation.number]),
        {"confirm": "draft"},
        follow=True,
    )
    page = text(response)
    assert f"Your reservation {reservation.number} is cancelled." in page
    assert WRITE not in page
    assert CONTINUE not in page
    draft.refresh_from_db()
    reservation.refresh_from_db()
    assert draft.status == S.DISCARDED
    assert reservation.status == ReservationStatus.CANCELLED


def test_drafts_expire_when_the_window_closes_and_the_customer_is_told(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    close_order_window(reservation.campaign)

    assert expire_drafts() == 1

    draft.refresh_from_db()
    assert draft.status == S.EXPIRED
    assert history(draft) == [(S.DRAFT, S.EXPIRED)]
    note = OutboxMessage.objects.get(reference=f"order:{draft.pk}")
    assert note.template_key == "order.expired"
    assert note.recipient == reservation.customer.phone
    page = text(signed_in.get(page_url(reservation)))
    assert "The order form window closed on" in page
    assert CONTINUE not in page
    assert WRITE not in page
    response = signed_in.get(form_url(reservation))
    assert response["Location"] == page_url(reservation)


# The server refuses what the page does not offer.


def test_customer_cancel_of_a_preparing_order_is_refused_and_changes_nothing(
    signed_in, reservation
):
    order = order_in(S.PREPARING, reservation=reservation)
    page = text(signed_in.get(order_url(order)))
    assert "Cancel order" not in page

    response = signed_in.post(reverse("orders:order_cancel", args=[order.number]), follow=True)

    assert "can no longer be cancelled" in text(response)
    order.refresh_from_db()
    reservation.refresh_from_db()
    assert order.status == S.PREPARING
    assert reservation.status == ReservationStatus.ORDERED
    assert history(order) == [(S.DRAFT, S.RECEIVED), (S.RECEIVED, S.PREPARING)]

    refused = signed_in.post(
        reverse("orders:reservation_cancel", args=[reservation.number]), follow=True
    )
    assert "can no longer be cancelled" in text(refused)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ORDERED


def test_write_order_form_after_the_window_closed_is_refused(signed_in, reservation):
    close_order_window(reservation.campaign)
    response = signed_in.post(form_url(reservation), follow=True)
    assert response.redirect_chain[-1][0] == page_url(reservation)
    assert "The order form window for this campaign is closed." in text(response)
    assert not Order.objects.exists()


def test_write_order_form_after_the_window_closed_is_refused_with_a_leftover_draft(
    signed_in, reservation
):
    draft = order_in(S.DRAFT, reservation=reservation)
    close_order_window(reservation.campaign)

    pressed = signed_in.post(form_url(reservation), follow=True)
    bookmarked = signed_in.get(form_url(reservation), follow=True)

    for response in (pressed, bookmarked):
        assert response.redirect_chain[-1][0] == page_url(reservation)
        page = text(response)
        assert "Submit order" not in page
        assert "The order form window for this campaign is closed." in page
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_autosave_after_the_window_closed_saves_nothing_and_says_why(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    close_order_window(reservation.campaign)
    response = signed_in.post(autosave_url(reservation), {"recipient_name": "홍길동"}, **HTMX)
    assert "The order form window for this campaign is closed." in text(response)
    draft.refresh_from_db()
    assert draft.recipient_name == ""


def test_write_order_form_before_the_window_opens_is_refused(signed_in, reservation):
    Campaign.objects.filter(pk=reservation.campaign_id).update(
        order_opens_at=timezone.now() + dt.timedelta(days=1)
    )
    response = signed_in.post(form_url(reservation), follow=True)
    assert "has not opened yet" in text(response)
    assert not Order.objects.exists()


def test_submit_of_a_leftover_draft_after_the_window_closed_is_refused(signed_in, reservation):
    draft = order_in(S.DRAFT, reservation=reservation)
    close_order_window(reservation.campaign)
    response = signed_in.post(submit_url(reservation), complete_form(reservation), follow=True)
    assert "The order form window for this campaign is closed." in text(response)
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    assert draft.number is None
    assert draft.recipient_name == ""


def test_write_order_form_on_a_cancelled_reservation_is_refused(signed_in, reservation):
    signed_in.post(
        reverse("orders:reservation_cancel", args=[reservation.number]), {"confirm": "reservation"}
    )
    page = text(signed_in.get(page_url(reservation)))
    assert WRITE not in page
    assert CONTINUE not in page
    response = signed_in.post(form_url(reservation), follow=True)
    assert "This reservation is no longer active" in text(response)
    assert not Order.objects.exists()


# The order page and its JSON twin.


def test_order_page_shows_timeline_queue_next_step_and_polls(signed_in, customer):
    variant = VariantFactory(model_name="iPhone 15 Pro", capacity_gb=256, colour="Natural")
    ReservationFactory(variant=variant)  # someone ahead in line
    reservation = ReservationFactory(customer=customer, variant=variant)
    order = order_in(S.RECEIVED, reservation=reservation)

    response = signed_in.get(order_url(order))
    assert response.status_code == 200
    raw = response.content.decode()
    page = text(response)
    assert f"Order {order.number}" in page
    assert "Order form started" in page
    assert "Received" in page
    received = OrderTransition.objects.get(order=order, to_status=S.RECEIVED)
    stamps = re.findall(r'<time datetime="([^"]+)">', raw)
    assert stamps == [
        timezone.localtime(order.created_at).isoformat(),
        timezone.localtime(received.at).isoformat(),
    ]
    assert "#2 of 2 for iPhone 15 Pro 256 GB Natural" in page
    assert "We have your order. Phones go out strictly in queue order" in page
    assert "Cancel order" in page
    assert 'hx-trigger="every 25s"' in raw  # orders.polling: a received order
    assert f'hx-get="{order_url(order)}"' in raw


def test_order_page_next_step_follows_the_state(signed_in, reservation):
    order = order_in(S.SHIPPED, reservation=reservation)
    page = text(signed_in.get(order_url(order)))
    assert "On its way with CJ, tracking number 123456789012." in page
    labels = re.findall(
        r"<li><span>([^<]+)</span>", signed_in.get(order_url(order)).content.decode()
    )
    assert labels == ["Order form started", "Received", "Preparing", "Shipped"]
    assert "Cancel order" not in page


def test_order_page_refresh_over_htmx_is_only_the_status_partial(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)
    response = signed_in.get(order_url(order), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "<body" not in body
    assert 'data-testid="order-status"' in body
    assert "Received" in body
    assert 'data-testid="next-step"' in body


def test_order_page_of_someone_else_is_not_found(signed_in):
    foreign = order_in(S.RECEIVED)
    theirs = signed_in.get(order_url(foreign))
    unknown = signed_in.get(reverse("orders:order_detail", args=["12345678901"]))
    assert theirs.status_code == unknown.status_code == 404
    # The same page but for the address itself (the language switch returns to it).
    assert masked(text(theirs)) == masked(text(unknown).replace("12345678901", foreign.number))
    for confirm in ({}, {"confirm": f"order-{foreign.number}"}):
        cancel = signed_in.post(reverse("orders:order_cancel", args=[foreign.number]), confirm)
        assert cancel.status_code == 404
    assert signed_in.get(reverse("orders:order_cancel", args=[foreign.number])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == S.RECEIVED


def at_ms(stamp: str) -> dt.datetime:
    """A timestamp to the millisecond (JSON carries milliseconds, the page microseconds)."""
    moment = dt.datetime.fromisoformat(stamp)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_json_api_reports_the_same_status_and_timeline_as_the_page(
    signed_in, customer, reservation
):
    order = order_in(S.PREPARING, reservation=reservation)

    response = token_client(customer).get(status_url(order.number))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert data["order_number"] == order.number
    assert data["reservation_number"] == reservation.number
    assert data["status"] == "preparing"
    assert data["status_label"] == "Preparing"
    assert data["actions"]["cancel"] is False
    assert data["standing"] == {"place": 1, "total": 1, "total_at": None}
    assert [step["status"] for step in data["timeline"]] == ["draft", "received", "preparing"]
    page = signed_in.get(order_url(order)).content.decode()
    stamps = re.findall(r'<time datetime="([^"]+)">', page)
    assert [at_ms(s) for s in stamps] == [at_ms(s["at"]) for s in data["timeline"]]
    labels = re.findall(r"<li><span>([^<]+)</span>", page)
    assert labels == [s["label"] for s in data["timeline"]]
    assert data["status_label"] in page
    assert html.escape(data["next_step"]) in page


def test_json_api_answers_not_found_alike_for_foreign_and_unknown_numbers(customer):
    foreign = order_in(S.RECEIVED)
    api = token_client(customer)
    theirs = api.get(status_url(foreign.number))
    unknown = api.get(status_url("12345678901"))
    garbage = api.get(status_url("abc"))
    for response in (theirs, unknown, garbage):
        assert response.status_code == 404
        assert json.loads(response.content)["code"] == "not_found"
    assert theirs.content == unknown.content == garbage.content


def test_json_api_wants_a_token(signed_in, customer):
    order = order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))
    response = signed_in.get(status_url(order.number))  # a session cookie is not a token
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_customer_cancels_a_received_order_from_the_order_page(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)

    confirm = {"confirm": f"order-{order.number}"}
    response = signed_in.post(
        reverse("orders:order_cancel", args=[order.number]), confirm, follow=True
    )

    page = text(response)
    assert response.redirect_chain[-1][0] == order_url(order)
    assert f"Your order {order.number} is cancelled." in page
    assert "Cancel order" not in page
    assert "This order is cancelled, and so is its reservation." in page
    order.refresh_from_db()
    reservation.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.closed_at is not None
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == CancelledBy.CUSTOMER
    row = OrderTransition.objects.get(order=order, to_status=S.CANCELLED)
    assert (row.from_status, row.actor_kind, row.actor_user) == (S.RECEIVED, "customer", None)
    notes = OutboxMessage.objects.filter(reference=f"order:{order.pk}")
    assert sorted(notes.values_list("template_key", flat=True)) == [
        "order.cancelled",
        "order.received",
    ]
    cancelled = notes.get(template_key="order.cancelled")
    assert cancelled.recipient == reservation.customer.phone
    assert cancelled.payload["order_number"] == order.number

    again = signed_in.post(
        reverse("orders:order_cancel", args=[order.number]), confirm, follow=True
    )
    assert again.status_code == 200
    assert OrderTransition.objects.filter(order=order).count() == 2
    assert notes.count() == 2
    page = text(signed_in.get(page_url(reservation)))
    assert WRITE not in page
    assert f"View order {order.number}" in page


def test_cancelling_a_reservation_with_a_draft_sends_one_truthful_message(customer):
    customer.language = "en"
    customer.save(update_fields=["language"])
    draft = order_in(S.DRAFT, reservation=ReservationFactory(customer=customer))
    cancel_by_customer(reservation=draft.reservation, customer=customer)

    messages = OutboxMessage.objects.filter(reference=f"order:{draft.pk}")
    assert [m.template_key for m in messages] == ["order.discarded"]
    _subject, body = render(messages.get())
    assert "cancelled" in body
    assert "still active" not in body


def test_notifications_use_the_customers_language(customer):
    customer.language = "en"
    customer.save(update_fields=["language"])
    order = order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))
    message = OutboxMessage.objects.get(reference=f"order:{order.pk}")
    assert message.language == "en"


@pytest.mark.parametrize(
    "path",
    [
        "/my/orders/%00/",
        "/my/orders/1234567890%00/",
        "/my/reservations/%00/",
        "/my/reservations/1234567%00/order/",
        "/my/reservations/abcdefgh/",
        "/my/orders/123456789012/",
    ],
)
def test_a_malformed_number_in_the_url_is_a_404_not_a_500(signed_in, path):
    assert signed_in.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/orders/%00", "/api/v1/orders/1234567890%00"])
def test_a_malformed_number_in_the_api_is_a_404_not_a_500(customer, path):
    assert token_client(customer).get(path).status_code == 404
