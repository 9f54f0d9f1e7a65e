"""Order-form fields that apply only sometimes: the port-in group is always on the page (CSS
hides it unless "keep my number" is chosen), is judged and submitted only for port-in, and
keeps what was typed; the delivery group exists only for delivery ways of receiving."""

import pytest
from django.urls import reverse
from django.utils import translation

from orders.forms import OrderForm
from orders.models import Order, OrderStatus
from orders.tests.factories import RatePlanFactory
from reservations.models import Fulfilment
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

HALF_TYPED = "010-12"  # not a mobile number (yet)


@pytest.fixture
def reservation(customer):
    reservation = ReservationFactory(customer=customer)
    RatePlanFactory(campaign=reservation.campaign, monthly_fee_krw=55_000)
    return reservation


@pytest.fixture
def draft(signed_in, reservation) -> Order:
    signed_in.post(reverse("orders:order_form", args=[reservation.number]))
    return Order.objects.get(reservation=reservation)


def answers(reservation, **overrides) -> dict:
    data = {
        "plan": reservation.campaign.rate_plans.get().pk,
        "join_type": "new_line",
        "recipient_name": "홍길동",
        "recipient_phone": "010-1234-5678",
        "postcode": "04524",
        "address_line1": "서울특별시 중구 세종대로 110",
    }
    return {**data, **overrides}


def submit(client, reservation, data):
    return client.post(reverse("orders:order_submit", args=[reservation.number]), data)


def test_the_port_in_group_is_on_the_page_for_every_join_type(signed_in, reservation, draft):
    page = signed_in.get(reverse("orders:order_form", args=[reservation.number]))
    html = page.content.decode()
    assert 'class="group port-in"' in html
    assert 'name="port_in_carrier"' in html and 'name="port_in_number"' in html
    assert 'class="group delivery"' in html
    assert "orders/orders.css" in html


def test_a_half_typed_port_in_number_does_not_refuse_a_new_line(signed_in, reservation, draft):
    response = submit(
        signed_in,
        reservation,
        answers(reservation, port_in_carrier="kt", port_in_number=HALF_TYPED),
    )
    assert response.status_code == 302, text(response)
    draft.refresh_from_db()
    assert draft.status == OrderStatus.RECEIVED
    assert (draft.port_in_carrier, draft.port_in_number) == ("", "")  # not submitted


def test_a_valid_port_in_number_typed_before_switching_is_not_submitted(
    signed_in, reservation, draft
):
    data = answers(reservation, port_in_carrier="kt", port_in_number="010-5555-6666")
    signed_in.post(reverse("orders:order_autosave", args=[reservation.number]), data)
    draft.refresh_from_db()
    assert draft.port_in_number == "+821055556666"  # the draft keeps it while undecided

    submit(signed_in, reservation, data)

    draft.refresh_from_db()
    assert draft.status == OrderStatus.RECEIVED
    assert (draft.join_type, draft.port_in_number) == ("new_line", "")


def test_for_port_in_the_same_fields_are_judged_and_kept_as_typed(signed_in, reservation, draft):
    data = answers(reservation, join_type="port_in", port_in_carrier="kt")
    data["port_in_number"] = HALF_TYPED
    response = submit(signed_in, reservation, data)
    assert response.status_code == 400
    assert f'value="{HALF_TYPED}"' in response.content.decode()  # kept on the page

    data["port_in_number"] = "010-5555-6666"
    assert submit(signed_in, reservation, data).status_code == 302
    draft.refresh_from_db()
    assert (draft.join_type, draft.port_in_number) == ("port_in", "+821055556666")


def test_port_in_without_its_answers_is_refused_by_the_service(signed_in, reservation, draft):
    response = submit(signed_in, reservation, answers(reservation, join_type="port_in"))
    assert response.status_code == 400
    assert "Enter the mobile number you are moving." in text(response)


def test_festival_pickup_has_no_delivery_group(signed_in, customer):
    variant = VariantFactory(campaign=CampaignFactory(with_festival=True))
    reservation = ReservationFactory(
        customer=customer, variant=variant, fulfilment=Fulfilment.FESTIVAL
    )
    RatePlanFactory(campaign=reservation.campaign)
    url = reverse("orders:order_form", args=[reservation.number])
    signed_in.post(url)
    html = signed_in.get(url).content.decode()
    assert 'class="group port-in"' in html
    assert 'class="group delivery"' not in html
    assert 'name="address_line1"' not in html


def test_the_plan_reads_per_month_in_each_language(reservation):
    form = OrderForm(reservation=reservation)
    with translation.override("en"):
        (english,) = [label for _value, label in form.fields["plan"].choices]
    with translation.override("ko"):
        (korean,) = [label for _value, label in form.fields["plan"].choices]
    assert "₩55,000/month" in english
    assert "월 55,000원" in korean
