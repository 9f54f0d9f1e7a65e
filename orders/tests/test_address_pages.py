"""The customer's "Change delivery address" (orders.views.order_address): offered on the
order page while the order is received and delivered by courier, refused there in plain
words otherwise; the form shows the details as they are and reports each field's error
with the order form's message; a foreign number is the order page's 404."""

import pytest
from django.test import Client
from django.urls import reverse

from fulfillment.services import moves
from orders.models import ADDRESS_FIELDS, OrderAddressChange, OrderStatus
from orders.tests.factories import (
    COMPLETE_ANSWERS,
    give_unit,
    order_in,
    publish_festival_draw,
)
from orders.tests.pages import masked
from preorder_shop.actors import Actor
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.models import OutboxMessage
from reservations.models import Fulfilment
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
NEW = {
    "recipient_name": "김영희",
    "recipient_phone": "010-9876-5432",
    "postcode": "06236",
    "address_line1": "서울특별시 강남구 테헤란로 152",
    "address_line2": "12층",
    "delivery_note": "",
}
SUBMITTED = {name: COMPLETE_ANSWERS.get(name, "") for name in ADDRESS_FIELDS}


def order_url(order) -> str:
    return reverse("orders:order_detail", args=[order.number])


def address_url(order) -> str:
    return reverse("orders:order_address", args=[order.number])


def address_of(order) -> dict:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in ADDRESS_FIELDS}


@pytest.fixture
def received(customer):
    return order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))


def test_the_order_page_offers_the_change_and_shows_the_address(signed_in, received):
    page = signed_in.get(order_url(received)).content.decode()
    assert f'href="{address_url(received)}"' in page
    assert SUBMITTED["address_line1"] in page
    assert 'data-testid="address-refusal"' not in page


def test_the_form_shows_the_details_as_they_are_and_a_post_changes_them(signed_in, received):
    form = signed_in.get(address_url(received)).content.decode()
    assert f'value="{SUBMITTED["address_line1"]}"' in form
    assert f'value="{SUBMITTED["postcode"]}"' in form
    assert 'name="csrfmiddlewaretoken"' in form

    response = signed_in.post(address_url(received), NEW, follow=True)

    assert response.redirect_chain == [(order_url(received), 302)]
    assert "The delivery address is changed." in text(response)
    assert NEW["address_line1"] in text(response)
    assert address_of(received) == {**NEW, "recipient_phone": "+821098765432"}
    assert OrderAddressChange.objects.filter(order=received).count() == 1
    assert OutboxMessage.objects.filter(template_key="order.address_changed").count() == 1


def test_the_same_details_again_change_nothing_and_say_so(signed_in, received):
    response = signed_in.post(address_url(received), SUBMITTED, follow=True)
    assert "Nothing changed: that is the delivery address already." in text(response)
    assert not OrderAddressChange.objects.exists()
    assert not OutboxMessage.objects.filter(template_key="order.address_changed").exists()


def test_invalid_details_are_reported_per_field_and_change_nothing(signed_in, received):
    bad = {**NEW, "postcode": "123", "recipient_name": "", "recipient_phone": "12"}

    response = signed_in.post(address_url(received), bad)

    assert response.status_code == 400
    page = text(response)
    assert "A postcode has exactly 5 digits." in page
    assert "Enter who receives the phone." in page
    assert "Enter a Korean mobile number such as 010-1234-5678." in page
    assert f'value="{NEW["address_line1"]}"' in response.content.decode()  # typed, kept
    assert address_of(received) == SUBMITTED
    assert not OrderAddressChange.objects.exists()


def test_once_preparation_starts_the_page_says_why_not_and_the_form_is_refused(
    signed_in, received
):
    give_unit(received.reservation)
    moves.start_preparing(order=received, actor=Actor.worker("pipeline"))

    page = text(signed_in.get(order_url(received)))
    assert "already being prepared, so the delivery address can no longer be changed" in page
    assert address_url(received) not in signed_in.get(order_url(received)).content.decode()

    for response in (
        signed_in.get(address_url(received), follow=True),
        signed_in.post(address_url(received), NEW, follow=True),
    ):
        assert response.redirect_chain == [(order_url(received), 302)]
        assert "already being prepared" in text(response)
    assert address_of(received) == SUBMITTED


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (S.SHIPPED, "already with the courier"),
        (S.DELIVERED, "has been delivered"),
        (S.CANCELLED, "This order is cancelled"),
    ],
)
def test_later_states_say_why_not(signed_in, customer, status, said):
    order = order_in(status, reservation=ReservationFactory(customer=customer))
    assert said in text(signed_in.get(order_url(order)))
    assert said in text(signed_in.get(address_url(order), follow=True))


def test_a_pickup_order_says_it_has_no_delivery_address(signed_in, customer):
    campaign = CampaignFactory(with_festival=True)
    reservation = ReservationFactory(
        customer=customer, variant=VariantFactory(campaign=campaign), fulfilment="festival"
    )
    assert reservation.fulfilment == Fulfilment.FESTIVAL
    publish_festival_draw(campaign)
    order = order_in(S.RECEIVED, reservation=reservation)

    assert "picked up, not delivered" in text(signed_in.get(order_url(order)))
    assert signed_in.post(address_url(order), NEW).status_code == 302
    assert not OrderAddressChange.objects.exists()


def test_someone_elses_order_is_the_same_404_as_an_unknown_number(signed_in):
    foreign = order_in(S.RECEIVED)
    theirs = signed_in.get(address_url(foreign))
    unknown = signed_in.get(reverse("orders:order_address", args=["12345678901"]))
    assert theirs.status_code == unknown.status_code == 404
    assert masked(text(theirs)) == masked(text(unknown).replace("12345678901", foreign.number))
    assert signed_in.post(address_url(foreign), NEW).status_code == 404
    assert address_of(foreign) == SUBMITTED


def test_signed_out_visitors_are_sent_to_sign_in(client, received):
    response = client.get(address_url(received))
    assert response.status_code == 302
    assert address_url(received) not in response["Location"].split("?")[0]
    assert client.post(address_url(received), NEW).status_code == 302
    assert address_of(received) == SUBMITTED


def test_a_post_without_the_csrf_token_is_refused(customer, received):
    client = Client(enforce_csrf_checks=True)
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    assert client.post(address_url(received), NEW).status_code == 403
    assert address_of(received) == SUBMITTED
