"""The launch embargo, checked by the hand-over and delivery doors: courier parcels leave
from the day before launch, dawn deliveries from 18:00 the evening before, festival pickups
on launch day, and nothing is delivered before launch day (00:00 in Seoul)."""

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment.exceptions import EmbargoActive
from fulfillment.services import moves
from fulfillment.services.embargo import embargo_lifts_at
from orders.models import OrderStatus
from orders.services import Actor
from orders.tests.factories import order_in, publish_festival_draw, staff_user
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db

S = OrderStatus
COURIER = Actor.courier("CJ webhook")


@pytest.mark.parametrize(
    ("fulfilment", "hours_before_launch"), [("courier", 24), ("dawn", 6), ("festival", 0)]
)
def test_hand_over_waits_for_the_embargo(fulfilment, hours_before_launch):
    campaign = CampaignFactory(before_launch=True, with_festival=True)
    publish_festival_draw(campaign)
    reservation = ReservationFactory(
        variant=VariantFactory(campaign=campaign), fulfilment=fulfilment
    )
    order = order_in(S.PREPARING, reservation=reservation)
    lifts_at = embargo_lifts_at(reservation, S.SHIPPED)
    launch = lifts_at + dt.timedelta(hours=hours_before_launch)
    assert timezone.localtime(launch).date() == campaign.launch_date
    assert timezone.localtime(launch).time() == dt.time(0, 0)

    for actor in (COURIER, Actor.staff(staff_user())):
        with pytest.raises(EmbargoActive, match="cannot become “Shipped” before"):
            moves.hand_over(
                order=order,
                actor=actor,
                reason="early",
                courier="CJ",
                tracking_number="1",
                now=lifts_at - dt.timedelta(minutes=1),
            )
    order.refresh_from_db()
    assert order.status == S.PREPARING
    moved = moves.hand_over(
        order=order, actor=COURIER, courier="CJ", tracking_number="1", now=lifts_at
    )
    assert moved.order.status == S.SHIPPED


def test_nothing_is_delivered_before_launch_day():
    campaign = CampaignFactory(before_launch=True)
    order = order_in(
        S.PREPARING, reservation=ReservationFactory(variant=VariantFactory(campaign=campaign))
    )
    launch = dt.datetime.combine(
        campaign.launch_date, dt.time(0, 0), tzinfo=timezone.get_default_timezone()
    )
    moves.hand_over(
        order=order,
        actor=COURIER,
        courier="CJ",
        tracking_number="1",
        now=launch - dt.timedelta(hours=20),
    )
    with pytest.raises(EmbargoActive):
        moves.confirm_delivery(order=order, actor=COURIER, now=launch - dt.timedelta(seconds=1))
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert moves.confirm_delivery(order=order, actor=COURIER, now=launch).order.status == (
        S.DELIVERED
    )
