"""The development courier simulator: hands over and delivers through the courier service,
respects the launch embargo and holds, and a repeated run with the same clock does nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment import tasks
from fulfillment.models import CourierEvent, CourierEventSource, OrderHold
from fulfillment.services import courier_input, couriers, simulator
from orders.models import Order, OrderStatus, OrderTransition
from orders.tests.factories import order_in, publish_festival_draw, staff_user
from preorder_shop.actors import ActorKind
from preorder_shop.models import OutboxMessage
from reservations.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
S = OrderStatus


def snapshot() -> tuple:
    return (
        CourierEvent.objects.count(),
        OrderTransition.objects.count(),
        OutboxMessage.objects.count(),
        sorted(Order.objects.values_list("pk", "status")),
    )


def status(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def test_the_simulator_hands_over_then_delivers_and_a_repeat_changes_nothing():
    orders = [order_in(S.PREPARING) for _ in range(3)]
    start = timezone.now() + simulator.PACKING_TIME + dt.timedelta(seconds=1)

    first = simulator.run(now=start)

    assert (first.handed_over, first.delivered) == (3, 0)
    for order in orders:
        order.refresh_from_db()
        assert order.status == S.SHIPPED
        assert order.courier in simulator.COURIERS
        assert order.tracking_number == simulator.tracking_number_for(order)
        assert len(order.tracking_number) == 12
        shipped = order.transitions.get(to_status=S.SHIPPED)
        assert (shipped.actor_kind, shipped.actor_label) == (ActorKind.COURIER, order.courier)
        assert OutboxMessage.objects.filter(
            reference=f"order:{order.pk}", template_key="order.shipped"
        ).exists()
    assert set(CourierEvent.objects.values_list("source", flat=True)) == {
        CourierEventSource.SIMULATOR
    }
    after_first = snapshot()

    assert simulator.run(now=start) == simulator.SimulatorRun(handed_over=0, delivered=0)
    assert snapshot() == after_first

    later = start + simulator.TRANSIT_TIME
    second = simulator.run(now=later)
    assert (second.handed_over, second.delivered) == (0, 3)
    assert {status(order) for order in orders} == {S.DELIVERED}
    assert CourierEvent.objects.filter(kind="delivered").count() == 3
    after_second = snapshot()

    assert simulator.run(now=later) == simulator.SimulatorRun(handed_over=0, delivered=0)
    assert snapshot() == after_second


def test_orders_still_packing_or_in_transit_wait():
    order = order_in(S.PREPARING)
    assert simulator.run(now=timezone.now()).handed_over == 0  # just started preparing
    start = timezone.now() + simulator.PACKING_TIME + dt.timedelta(seconds=1)
    simulator.run(now=start)
    assert status(order) == S.SHIPPED
    almost = start + simulator.TRANSIT_TIME - dt.timedelta(seconds=1)
    assert simulator.run(now=almost).delivered == 0
    assert status(order) == S.SHIPPED


def test_a_run_is_bounded_and_goes_in_queue_order():
    orders = [order_in(S.PREPARING) for _ in range(3)]
    by_position = sorted(orders, key=lambda o: o.reservation.position)
    start = timezone.now() + dt.timedelta(minutes=5)

    assert simulator.run(now=start, batch=2).handed_over == 2

    assert [status(o) for o in by_position] == [S.SHIPPED, S.SHIPPED, S.PREPARING]
    assert simulator.run(now=start, batch=2).handed_over == 1
    assert status(by_position[2]) == S.SHIPPED


def test_the_simulator_respects_the_launch_embargo():
    launch = timezone.localdate() + dt.timedelta(days=3)
    eve = launch - dt.timedelta(days=1)
    tz = timezone.get_default_timezone()

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tz)

    not_yet = order_in(S.PREPARING, reservation__variant__campaign__before_launch=True)
    courier = order_in(S.PREPARING, reservation__variant__campaign__launch_date=launch)
    dawn = order_in(
        S.PREPARING,
        reservation__variant__campaign__launch_date=launch,
        reservation__fulfilment="dawn",
    )
    festival_campaign = CampaignFactory(launch_date=launch, with_festival=True)
    publish_festival_draw(festival_campaign)
    festival = order_in(
        S.PREPARING,
        reservation__variant__campaign=festival_campaign,
        reservation__fulfilment="festival",
    )

    # Courier parcels are handed over from the day before launch, not earlier.
    assert simulator.run(now=at(eve, 0) - dt.timedelta(minutes=1)).handed_over == 0
    assert simulator.run(now=at(eve, 10)).handed_over == 1
    assert status(courier) == S.SHIPPED
    assert status(dawn) == S.PREPARING  # dawn parcels only from 18:00 the evening before
    assert status(not_yet) == S.PREPARING
    assert status(festival) == S.PREPARING  # picked up at the festival, never couriered

    assert simulator.run(now=at(eve, 18)).handed_over == 1
    assert status(dawn) == S.SHIPPED

    # In transit long enough, but nothing is delivered before launch day.
    assert simulator.run(now=at(eve, 23, 59)).delivered == 0
    assert {status(courier), status(dawn)} == {S.SHIPPED}
    assert not CourierEvent.objects.filter(kind="delivered").exists()

    assert simulator.run(now=at(launch, 6)).delivered == 2
    assert {status(courier), status(dawn)} == {S.DELIVERED}
    assert status(not_yet) == S.PREPARING


def test_held_orders_and_other_couriers_parcels_are_left_alone():
    held = order_in(S.PREPARING)
    OrderHold.objects.create(order=held, reason="Address check", placed_by=staff_user())
    shipped_by_file = order_in(S.PREPARING)
    couriers.record_courier_event(
        data=courier_input.CourierInput(
            external_id="file-1",
            order_number=shipped_by_file.number,
            courier="한진택배",
            tracking_number="500000000001",
            kind="handed_over",
            occurred_at=timezone.now(),
        ),
        source=CourierEventSource.FILE,
    )

    result = simulator.run(now=timezone.now() + dt.timedelta(hours=2))

    assert result == simulator.SimulatorRun(handed_over=0, delivered=0)
    assert status(held) == S.PREPARING
    assert status(shipped_by_file) == S.SHIPPED


def test_the_beat_task_does_nothing_when_the_simulator_is_off(settings):
    order_in(S.PREPARING)
    settings.COURIER_SIMULATOR = False
    assert tasks.simulate_couriers() == {"handed_over": 0, "delivered": 0}
    assert not CourierEvent.objects.exists()


def test_the_beat_task_runs_the_simulator_when_on(settings):
    order = order_in(S.PREPARING)
    Order.objects.filter(pk=order.pk).update(
        preparing_at=timezone.now() - dt.timedelta(minutes=10)
    )
    settings.COURIER_SIMULATOR = True
    assert tasks.simulate_couriers() == {"handed_over": 1, "delivered": 0}
    assert status(order) == S.SHIPPED
