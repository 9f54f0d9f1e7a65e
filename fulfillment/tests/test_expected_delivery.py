# ruff: noqa: RUF001 (the texts write a range of days with an en dash, as print does)
"""The expected delivery once a unit is held (services.expected): derived from the launch
date, the way of receiving and the day the unit was held, the same words on the reservation
page, the order page, the order API and the messages, in the reader's language; and a new
message, once, when a hold changes it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fulfillment.services import holds, lottery
from fulfillment.services.allocation import allocate_variant
from fulfillment.services.expected import delivery_day, expected_delivery
from fulfillment.tests.factories import StockLotFactory
from orders.models import OrderStatus
from orders.tests.api import status_url, token_client
from orders.tests.factories import give_unit, order_in, staff_user
from preorder_shop.actors import Actor
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from reservations.models import Campaign, Fulfilment, Reservation
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
LAUNCH = dt.date(timezone.localdate().year + 1, 10, 12)


def launching(day: dt.date = LAUNCH, **kwargs) -> Campaign:
    return CampaignFactory(launch_date=day, **kwargs)


def held(fulfilment: str = Fulfilment.COURIER, campaign: Campaign | None = None) -> Reservation:
    campaign = campaign or launching()
    reservation = ReservationFactory(
        variant=VariantFactory(campaign=campaign),
        fulfilment=fulfilment,
        customer__language="en",  # messages are read in English here
    )
    give_unit(reservation)
    return reservation


def signed_in_as(client, reservation):
    from preorder_shop.customer_session import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = reservation.customer_id
    session.save()
    return client


# The rule.


def test_nothing_is_expected_without_a_held_unit():
    reservation = ReservationFactory(variant=VariantFactory(campaign=launching()))
    assert expected_delivery(reservation) is None


@pytest.mark.parametrize(
    ("fulfilment", "words"),
    [
        (
            Fulfilment.DAWN,
            "Expected delivery: launch day, October 12, dawn delivery before 07:00.",
        ),
        (
            Fulfilment.COURIER,
            "Expected delivery: courier delivery from launch day, October 12 (usually 1–2 days).",
        ),
    ],
)
def test_a_unit_held_before_launch_is_expected_on_launch_day(fulfilment, words):
    expected = expected_delivery(held(fulfilment))
    assert (expected.day, expected.launch_day, expected.on_hold) == (LAUNCH, True, False)
    assert expected.text() == words


def test_a_unit_held_after_launch_leaves_the_next_day_at_the_earliest():
    launch = timezone.localdate() - dt.timedelta(days=3)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert delivery_day(launch=launch, fulfilment=Fulfilment.DAWN, held_on=launch) == (
        launch + dt.timedelta(days=1)
    )
    expected = expected_delivery(held(Fulfilment.COURIER, launching(launch)))
    assert (expected.day, expected.launch_day) == (tomorrow, False)
    assert "launch day" not in expected.text()
    assert expected.text().startswith("Expected delivery: courier delivery from ")


def test_festival_pickup_before_the_draw_says_both_outcomes_and_after_it_the_pickup():
    campaign = launching(LAUNCH, offers_festival_pickup=True, festival_capacity=10)
    reservation = held(Fulfilment.FESTIVAL, campaign)
    assert expected_delivery(reservation).text() == (
        "Expected delivery: festival pickup on October 12 at the venue if you are drawn; "
        "otherwise courier delivery from launch day, October 12 (usually 1–2 days)."
    )
    Campaign.objects.filter(pk=campaign.pk).update(festival_draw_published_at=timezone.now())
    reservation.refresh_from_db()
    assert expected_delivery(reservation).text() == (
        "Expected delivery: festival pickup on October 12 at the venue."
    )


@pytest.mark.parametrize("status", [S.DELIVERED, S.CANCELLED])
def test_a_delivered_or_cancelled_order_expects_nothing(status):
    order = order_in(status)
    order.reservation.refresh_from_db()
    assert expected_delivery(order.reservation) is None


def test_korean_reads_the_date_the_korean_way():
    reservation = held(Fulfilment.DAWN)
    with translation.override("ko"):
        words = expected_delivery(reservation).text()
    assert "10월 12일" in words
    assert "October" not in words


# Every surface says the same words.


def test_reservation_page_order_page_api_and_messages_say_the_same(client):
    order = order_in(
        S.PREPARING,
        reservation__variant=VariantFactory(campaign=launching()),
        reservation__fulfilment=Fulfilment.DAWN,
    )
    reservation = order.reservation
    words = "Expected delivery: launch day, October 12, dawn delivery before 07:00."
    signed_in_as(client, reservation)

    reservation_page = client.get(reverse("orders:reservation_detail", args=[reservation.number]))
    order_page = client.get(reverse("orders:order_detail", args=[order.number]))
    api = token_client(reservation.customer).get(status_url(order.number)).json()

    assert words in text(reservation_page)
    assert words in text(order_page)
    assert api["expected_delivery"] == {
        "expected": True,
        "fulfilment": "dawn",
        "date": LAUNCH.isoformat(),
        "launch_day": True,
        "awaiting_festival_draw": False,
        "on_hold": False,
        "text": words,
    }
    # The message is in the customer's language (Korean here), read by the same function.
    preparing = OutboxMessage.objects.get(idempotency_key=f"order:{order.pk}:preparing")
    assert preparing.language == "ko"
    with translation.override("ko"):
        korean = expected_delivery(reservation).text()
    body = render(preparing)[1]
    assert korean in body.splitlines()
    assert "10월 12일" in korean
    assert "We will let you know at the next step" not in body


def test_the_allocation_message_states_the_expected_delivery_in_the_customers_language():
    variant = VariantFactory(campaign=launching())
    reservation = ReservationFactory(variant=variant, customer__language="ko")
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)

    message = OutboxMessage.objects.get(template_key="allocation.reserved")
    assert message.reference == f"reservation:{reservation.pk}"
    assert "10월 12일" in render(message)[1]


def test_the_api_says_null_while_no_unit_is_held():
    order = order_in(S.RECEIVED, reservation__variant=VariantFactory(campaign=launching()))
    api = token_client(order.reservation.customer).get(status_url(order.number)).json()
    assert api["expected_delivery"] is None
    assert api["status"] == "received"


# A new message when it changes, once.


def delivery_messages(reservation) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            template_key="delivery.changed", reference=f"reservation:{reservation.pk}"
        ).order_by("pk")
    )


def test_a_hold_and_its_release_each_send_one_message():
    ops = staff_user("ops")
    order = order_in(
        S.RECEIVED,
        reservation__variant=VariantFactory(campaign=launching()),
        reservation__customer__language="en",
    )
    give_unit(order.reservation)

    hold = holds.place_hold(order=order, staff_user=ops, reason="Address looks wrong")
    with pytest.raises(holds.AlreadyOnHold):
        holds.place_hold(order=order, staff_user=ops, reason="again")
    [placed] = delivery_messages(order.reservation)
    assert placed.idempotency_key == f"delivery:hold:{hold.pk}:{order.reservation_id}"
    body = render(placed)[1]
    assert "not set while we check your order" in body
    assert "Address looks wrong" not in body  # staff's reason stays with staff

    holds.release_hold(order=order, staff_user=ops)
    with pytest.raises(holds.NotOnHold):
        holds.release_hold(order=order, staff_user=ops)
    placed_again, released = delivery_messages(order.reservation)
    assert placed_again == placed
    assert "courier delivery from launch day, October 12" in render(released)[1]


def test_a_hold_on_an_order_without_a_unit_changes_no_expected_delivery():
    order = order_in(S.RECEIVED)
    holds.place_hold(order=order, staff_user=staff_user("ops"), reason="Check ID")
    assert delivery_messages(order.reservation) == []


def test_the_festival_draw_messages_carry_the_new_expected_delivery():
    campaign = launching(LAUNCH, offers_festival_pickup=True, festival_capacity=1)
    first, second = (held(Fulfilment.FESTIVAL, campaign) for _ in range(2))
    ops = Actor.operator("test-ops")
    lottery.commit_draw(actor=ops, campaign=campaign, seed="5eed" * 16)
    after_close = campaign.reservation_closes_at + dt.timedelta(minutes=1)
    lottery.reveal_draw(actor=ops, campaign=campaign, seed="5eed" * 16, now=after_close)

    won = OutboxMessage.objects.get(template_key="festival.won")
    not_drawn = OutboxMessage.objects.get(template_key="festival.not_drawn")
    assert {won.reference, not_drawn.reference} == {
        f"reservation:{first.pk}",
        f"reservation:{second.pk}",
    }
    assert "Expected delivery: festival pickup on October 12 at the venue." in render(won)[1]
    assert (
        "Expected delivery: courier delivery from launch day, October 12 (usually 1–2 days)."
        in render(not_drawn)[1]
    )
    assert not OutboxMessage.objects.filter(template_key="delivery.changed").exists()
